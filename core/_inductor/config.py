"""``torch._inductor.config`` for ember: the settings PyTorch programs commonly set or read, with
PyTorch's defaults. ember generates no kernels from graphs, so they steer nothing.

Example::

    >>> import ember._inductor.config as config
    >>> config.coordinate_descent_tuning = True
    >>> with config.patch({"triton.cudagraphs": False}):
    ...     config.triton.cudagraphs
    False
    >>> config.coordinate_descent_tuning = False
"""

from .._torch_compiler_settings import INDUCTOR as _TORCH_SETTINGS
from ..config_module import copier, install, patcher

debug = False
coordinate_descent_tuning = False
coordinate_descent_check_all_directions = False
epilogue_fusion = True
max_autotune = False
max_autotune_gemm = False
max_autotune_pointwise = False
freezing = False
fx_graph_cache = True
fallback_random = False
force_fuse_int_mm_with_mul = False
cpp_wrapper = False
aggressive_fusion = False
benchmark_kernel = False


class triton:
    """Settings of the Triton code generator."""

    cudagraphs = False
    cudagraph_trees = True
    unique_kernel_names = True


patch = patcher(__name__)
get_config_copy = copier(__name__)
install(__name__, _TORCH_SETTINGS)
