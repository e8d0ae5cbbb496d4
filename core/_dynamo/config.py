"""``torch._dynamo.config`` for ember: the settings PyTorch programs commonly set or read, with
PyTorch's defaults. ember compiles nothing (see :mod:`ember.compiler`), so they steer nothing.

Example::

    >>> import ember._dynamo
    >>> ember._dynamo.config.cache_size_limit = 64
    >>> ember._dynamo.config.get_config_copy()["cache_size_limit"]
    64
    >>> ember._dynamo.config.cache_size_limit = 8
"""

from .._torch_compiler_settings import DYNAMO as _TORCH_SETTINGS
from ..config_module import copier, install, patcher

suppress_errors = False
verbose = False
cache_size_limit = 8
recompile_limit = 8
accumulated_cache_size_limit = 256
accumulated_recompile_limit = 256
capture_scalar_outputs = False
capture_dynamic_output_shape_ops = False
optimize_ddp = True
automatic_dynamic_shapes = True
assume_static_by_default = True
dynamic_shapes = True
specialize_int = False
force_parameter_static_shapes = True
guard_nn_modules = True
error_on_recompile = False
inline_inbuilt_nn_modules = True
compiled_autograd = False

patch = patcher(__name__)
get_config_copy = copier(__name__)
install(__name__, _TORCH_SETTINGS)
