"""``ember.nn``: modules, parameters, the functional forms, initialisation and utilities."""

from . import functional, init, utils
from .modules import *
from .parameter import *
