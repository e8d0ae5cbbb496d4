"""``ember.nn``: modules, parameters, the functional forms, initialisation and utilities."""

from . import functional, init, parallel, utils
from .modules import *
from .parallel import DataParallel
from .parameter import *
