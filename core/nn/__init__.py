"""``ember.nn``: modules, parameters, the functional forms, initialisation and utilities."""

import importlib as _importlib

from . import functional, grad, init, parallel, utils
from .modules import *
from .parallel import DataParallel
from .parameter import *

# ``from .modules import *`` binds ``attention`` to nn/modules/attention.py (the layers), and ``from .
# import attention`` would keep that binding; ember.nn.attention is the package that chooses attention
# kernels, as torch.nn.attention
attention = _importlib.import_module(f"{__name__}.attention")
