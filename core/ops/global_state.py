"""The process-wide settings programs set at start-up, with PyTorch's top-level names:
``set_float32_matmul_precision``, ``use_deterministic_algorithms`` and its debug mode,
``set_num_interop_threads``, ``set_warn_always``, ``set_flush_denormal``, and the top-level
spellings of the anomaly-mode and autocast state (which live in :mod:`ember.autograd.anomaly_mode`
and :mod:`ember.amp`; these functions read and write that state, they keep no copy of it).
"""

from __future__ import annotations

import os
import warnings

from .. import dtypes
from ..amp import autocast_mode
from ..amp.state import state as _autocast_state
from ..autograd import anomaly_mode
from ..type_names import type_name
from . import creation

__all__ = [
    "set_float32_matmul_precision",
    "get_float32_matmul_precision",
    "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled",
    "set_deterministic_debug_mode",
    "get_deterministic_debug_mode",
    "get_num_interop_threads",
    "set_num_interop_threads",
    "set_warn_always",
    "is_warn_always_enabled",
    "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
    "set_anomaly_enabled",
    "set_autocast_enabled",
    "set_autocast_dtype",
    "get_autocast_cpu_dtype",
    "get_autocast_gpu_dtype",
    "is_autocast_cpu_enabled",
    "is_autocast_cache_enabled",
    "set_autocast_cache_enabled",
    "clear_autocast_cache",
    "set_autocast_cpu_enabled",
    "set_autocast_cpu_dtype",
    "set_autocast_gpu_dtype",
    "is_autocast_ipu_enabled",
    "set_autocast_ipu_enabled",
    "get_autocast_ipu_dtype",
    "set_autocast_ipu_dtype",
    "is_autocast_xla_enabled",
    "set_autocast_xla_enabled",
    "get_autocast_xla_dtype",
    "set_autocast_xla_dtype",
    "autocast_increment_nesting",
    "autocast_decrement_nesting",
    "set_flush_denormal",
    "set_default_tensor_type",
]

_MATMUL_PRECISIONS = ("highest", "high", "medium")
_DEBUG_MODES = ("default", "warn", "error")
_state: dict[str, object] = {
    "matmul_precision": "high",  # the reduced precision asked for while TF32 is allowed
    "deterministic": False,
    "warn_only": False,
    "interop_threads": max(os.cpu_count() or 1, 1),
    "warn_always": False,
    "setting_precision": False,
}


_matmul_flags: list = []  # ember.backends.cuda.matmul, once subscribed to


def _flag_set_directly() -> None:
    # PyTorch: setting ``allow_tf32`` itself makes the precision 'high' (or 'highest')
    if not _state["setting_precision"]:
        _state["matmul_precision"] = "high"


def _cuda_matmul():
    if not _matmul_flags:
        from ..backends.cuda import matmul  # ember.backends imports ember: resolved on the first call

        matmul._subscribe(_flag_set_directly)
        _matmul_flags.append(matmul)
    return _matmul_flags[0]


def set_float32_matmul_precision(precision: str) -> None:
    """Sets the internal precision of float32 matrix products.

    ``'highest'`` computes them in float32; ``'high'`` and ``'medium'`` let CUDA devices use
    TF32 tensor cores. As in PyTorch this is the same setting as
    ``ember.backends.cuda.matmul.allow_tf32``: ``'high'`` or ``'medium'`` sets it to ``True``,
    ``'highest'`` to ``False`` (and setting the flag changes what
    :func:`get_float32_matmul_precision` reports). CPU, restricted and OpenCL products are
    always computed in float32.

    Args:
        precision (str): ``'highest'``, ``'high'`` or ``'medium'``; another string warns and
            changes nothing, as in PyTorch.

    Example::

        >>> ember.set_float32_matmul_precision("high")
        >>> ember.backends.cuda.matmul.allow_tf32
        True
        >>> ember.set_float32_matmul_precision("highest")
        >>> ember.get_float32_matmul_precision()
        'highest'
    """
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _MATMUL_PRECISIONS:
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            "set_float32_matmul_precision call has no effect.",
            stacklevel=2,
        )
        return
    matmul = _cuda_matmul()
    _state["setting_precision"] = True
    try:
        matmul.allow_tf32 = precision != "highest"
    finally:
        _state["setting_precision"] = False
    if precision != "highest":
        _state["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """The current float32 matrix-product precision: ``'highest'``, ``'high'`` or ``'medium'``.

    ``'highest'`` while ``ember.backends.cuda.matmul.allow_tf32`` is off, otherwise the reduced
    precision last asked for (``'high'`` when the flag was set directly).

    Example::

        >>> ember.get_float32_matmul_precision()
        'highest'
    """
    if not _cuda_matmul().allow_tf32:
        return "highest"
    return str(_state["matmul_precision"])


def _flag(op: str, name: str, value: object, position: int) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be bool, not {type_name(value)}")
    return value


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Asks for deterministic algorithms (the same results from the same inputs on every run).

    ember's CPU, restricted and OpenCL kernels are deterministic; the setting is recorded for
    programs that read it back (:func:`are_deterministic_algorithms_enabled`) and for
    :func:`get_deterministic_debug_mode`.

    Args:
        mode (bool): on or off.
        warn_only (bool, optional): with ``mode`` on, warn instead of raising for an operation
            without a deterministic implementation. Default: ``False``.

    Example::

        >>> ember.use_deterministic_algorithms(True)
        >>> ember.are_deterministic_algorithms_enabled()
        True
        >>> ember.use_deterministic_algorithms(False)
    """
    _state["deterministic"] = _flag("_set_deterministic_algorithms", "mode", mode, 1)
    _state["warn_only"] = _flag("_set_deterministic_algorithms", "warn_only", warn_only, 2)


def are_deterministic_algorithms_enabled() -> bool:
    """True while :func:`use_deterministic_algorithms` is on.

    Example::

        >>> ember.are_deterministic_algorithms_enabled()
        False
    """
    return bool(_state["deterministic"])


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """True while :func:`use_deterministic_algorithms` is on with ``warn_only=True``.

    Example::

        >>> ember.is_deterministic_algorithms_warn_only_enabled()
        False
    """
    return bool(_state["warn_only"])


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """Sets the deterministic-algorithms mode by name: ``'default'`` (0, off), ``'warn'`` (1, on
    with ``warn_only``) or ``'error'`` (2, on).

    Args:
        debug_mode (str or int): the mode's name or number.

    Example::

        >>> ember.set_deterministic_debug_mode("warn")
        >>> ember.get_deterministic_debug_mode()
        1
        >>> ember.set_deterministic_debug_mode(0)
    """
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got {debug_mode}"
            )
        code = _DEBUG_MODES.index(debug_mode)
    elif isinstance(debug_mode, int):
        if not 0 <= debug_mode <= 2:
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
        code = int(debug_mode)
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    use_deterministic_algorithms(code != 0, warn_only=code == 1)


def get_deterministic_debug_mode() -> int:
    """The deterministic-algorithms mode as a number: 0 off, 1 warn only, 2 on.

    Example::

        >>> ember.get_deterministic_debug_mode()
        0
    """
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def _positive_count(op: str, num: object) -> int:
    if isinstance(num, bool) or not isinstance(num, int):
        raise RuntimeError(f"{op} expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError(f"{op} expects a positive integer")
    return num


def get_num_interop_threads() -> int:
    """The number of threads for inter-op parallelism.

    ember runs each op on the calling thread and has no inter-op pool; the count is the one
    PyTorch would start with (the machine's cores) or the last one set.

    Example::

        >>> ember.get_num_interop_threads() >= 1
        True
    """
    return int(_state["interop_threads"])  # type: ignore[call-overload]  # always an int


def set_num_interop_threads(num: int) -> None:
    """Sets the number of threads for inter-op parallelism (see :func:`get_num_interop_threads`).

    Args:
        num (int): a positive thread count.

    Example::

        >>> before = ember.get_num_interop_threads()
        >>> ember.set_num_interop_threads(2)
        >>> ember.get_num_interop_threads()
        2
        >>> ember.set_num_interop_threads(before)
    """
    _state["interop_threads"] = _positive_count("set_num_interop_threads", num)


def set_warn_always(b: bool) -> None:
    """Asks for warnings that are shown once per process to be shown every time (PyTorch's
    ``TORCH_WARN_ONCE``); read back with :func:`is_warn_always_enabled`.

    Args:
        b (bool): on or off.

    Example::

        >>> ember.set_warn_always(True)
        >>> ember.is_warn_always_enabled()
        True
        >>> ember.set_warn_always(False)
    """
    _state["warn_always"] = _flag("_set_warnAlways", "b", b, 1)


def is_warn_always_enabled() -> bool:
    """True while :func:`set_warn_always` is on.

    Example::

        >>> ember.is_warn_always_enabled()
        False
    """
    return bool(_state["warn_always"])


def is_anomaly_enabled() -> bool:
    """Whether autograd anomaly detection is on (:class:`ember.autograd.detect_anomaly`).

    Example::

        >>> ember.is_anomaly_enabled()
        False
    """
    return anomaly_mode.is_anomaly_enabled()


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks the backward results for NaN.

    Example::

        >>> ember.is_anomaly_check_nan_enabled()
        True
    """
    return anomaly_mode.is_anomaly_check_nan_enabled()


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turns autograd anomaly detection on or off (the state of
    :class:`ember.autograd.set_detect_anomaly`, without restoring it later).

    Args:
        enabled (bool): on or off.
        check_nan (bool, optional): check the backward results for NaN. Default: ``True``.

    Example::

        >>> ember.set_anomaly_enabled(True, False)
        >>> ember.is_anomaly_enabled(), ember.is_anomaly_check_nan_enabled()
        (True, False)
        >>> ember.set_anomaly_enabled(False)
    """
    anomaly_mode._set(
        _flag("set_anomaly_enabled", "enabled", enabled, 1), _flag("set_anomaly_enabled", "check_nan", check_nan, 2)
    )


def set_autocast_enabled(device_type: str | bool, enabled: bool | None = None) -> None:
    """Turns autocast on or off for ``device_type`` outside a :class:`ember.autocast` region
    (with its :func:`ember.get_autocast_dtype`); ``set_autocast_enabled(enabled)`` alone is
    PyTorch's older spelling for ``'cuda'``.

    Args:
        device_type (str): the device type, ``'cpu'`` or ``'cuda'``.
        enabled (bool): on or off.

    Example::

        >>> ember.set_autocast_enabled("cpu", True)
        >>> ember.is_autocast_enabled("cpu")
        True
        >>> ember.set_autocast_enabled("cpu", False)
    """
    if enabled is None:
        device_type, enabled = "cuda", device_type  # type: ignore[assignment]  # the one-argument form
    if not isinstance(device_type, str):
        raise TypeError(
            f"set_autocast_enabled(): argument 'device_type' (position 1) must be str, not {type_name(device_type)}"
        )
    on = _flag("set_autocast_enabled", "enabled", enabled, 2)
    device_type = autocast_mode._device_type(device_type)
    if on:
        _autocast_state.dtypes[device_type] = autocast_mode.get_autocast_dtype(device_type)
    else:
        _autocast_state.dtypes.pop(device_type, None)
    _autocast_state.active = bool(_autocast_state.dtypes)


def set_autocast_dtype(device_type: str, dtype: dtypes.dtype) -> None:
    """Sets the lower-precision dtype autocast uses for ``device_type`` (by regions that do not
    name one, and at once if autocast is on for it).

    Args:
        device_type (str): the device type, ``'cpu'`` or ``'cuda'``.
        dtype (ember.dtype): the dtype.

    Example::

        >>> ember.set_autocast_dtype("cpu", ember.float16)
        >>> ember.get_autocast_dtype("cpu")
        ember.float16
        >>> ember.set_autocast_dtype("cpu", ember.bfloat16)
    """
    if not isinstance(device_type, str):
        raise TypeError(
            f"set_autocast_dtype(): argument 'device_type' (position 1) must be str, not {type_name(device_type)}"
        )
    if not isinstance(dtype, dtypes.dtype):
        raise TypeError(
            f"set_autocast_dtype(): argument 'dtype' (position 2) must be torch.dtype, not {type_name(dtype)}"
        )
    device_type = autocast_mode._device_type(device_type)
    _autocast_state.fast_dtypes[device_type] = dtype  # a region restores it on exit, as PyTorch's
    if device_type in _autocast_state.dtypes:
        _autocast_state.dtypes[device_type] = dtype


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"ember.{old}() is deprecated. Please use ember.{new} instead.", DeprecationWarning, stacklevel=3)


def get_autocast_cpu_dtype() -> dtypes.dtype:
    """Deprecated spelling of ``get_autocast_dtype('cpu')``.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.get_autocast_cpu_dtype()
        ember.bfloat16
    """
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')")
    return autocast_mode.get_autocast_dtype("cpu")


def get_autocast_gpu_dtype() -> dtypes.dtype:
    """Deprecated spelling of ``get_autocast_dtype('cuda')``.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.get_autocast_gpu_dtype()
        ember.float16
    """
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')")
    return autocast_mode.get_autocast_dtype("cuda")


def is_autocast_cpu_enabled() -> bool:
    """Deprecated spelling of ``is_autocast_enabled('cpu')``.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.is_autocast_cpu_enabled()
        False
    """
    _deprecated("is_autocast_cpu_enabled", "is_autocast_enabled('cpu')")
    return autocast_mode.is_autocast_enabled("cpu")


def is_autocast_cache_enabled() -> bool:
    """Whether autocast caches the lower-precision copies of weights (float32 leaf tensors that
    require grad) inside a region, each cast once until the outermost region exits. Default: on.

    Example::

        >>> ember.is_autocast_cache_enabled()
        True
    """
    return _autocast_state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Sets :func:`is_autocast_cache_enabled`.

    Args:
        enabled (bool): on or off.

    Example::

        >>> ember.set_autocast_cache_enabled(False)
        >>> ember.is_autocast_cache_enabled()
        False
        >>> ember.set_autocast_cache_enabled(True)
    """
    _autocast_state.cache_enabled = _flag("set_autocast_cache_enabled", "enabled", enabled, 1)


def clear_autocast_cache() -> None:
    """Empties autocast's weight-cast cache (the outermost region's exit does it too): the weights
    are cast again at their next use.

    Example::

        >>> ember.clear_autocast_cache()
    """
    _autocast_state.cache.clear()


def _deprecated_setter(old: str, new: str) -> None:
    warnings.warn(f"ember.{old} is deprecated. Please use ember.{new} instead.", DeprecationWarning, stacklevel=3)


def _legacy_enabled(value: object) -> bool:
    if not isinstance(value, bool):  # PyTorch's message for its one-device setters
        raise TypeError(f"enabled must be a bool (got {type(value).__name__})")
    return value


def _legacy_dtype(value: object) -> dtypes.dtype:
    if not isinstance(value, dtypes.dtype):
        raise TypeError(f"dtype must be an ember.dtype (got {type(value).__name__})")
    return value


def set_autocast_cpu_enabled(enabled: bool) -> None:
    """Deprecated spelling of ``set_autocast_enabled('cpu', enabled)``.

    Args:
        enabled (bool): on or off.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.set_autocast_cpu_enabled(True)
        ...     print(ember.is_autocast_enabled("cpu"))
        ...     ember.set_autocast_cpu_enabled(False)
        True
    """
    on = _legacy_enabled(enabled)  # checked before the warning, as PyTorch's
    _deprecated_setter("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", on)


def set_autocast_cpu_dtype(dtype: dtypes.dtype) -> None:
    """Deprecated spelling of ``set_autocast_dtype('cpu', dtype)``: what :func:`ember.get_autocast_dtype`
    gives for ``'cpu'`` afterwards.

    Args:
        dtype (ember.dtype): the dtype.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.set_autocast_cpu_dtype(ember.float16)
        ...     print(ember.get_autocast_dtype("cpu"))
        ...     ember.set_autocast_cpu_dtype(ember.bfloat16)
        ember.float16
    """
    dtype = _legacy_dtype(dtype)
    _deprecated_setter("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def set_autocast_gpu_dtype(dtype: dtypes.dtype) -> None:
    """Deprecated spelling of ``set_autocast_dtype('cuda', dtype)``.

    Args:
        dtype (ember.dtype): the dtype.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.set_autocast_gpu_dtype(ember.bfloat16)
        ...     print(ember.get_autocast_dtype("cuda"))
        ...     ember.set_autocast_gpu_dtype(ember.float16)
        ember.bfloat16
    """
    dtype = _legacy_dtype(dtype)
    _deprecated_setter("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


def _legacy_device_functions(device_type: str) -> tuple:
    """PyTorch's deprecated one-device autocast functions for ``device_type`` (``'ipu'``, ``'xla'``)."""

    def is_enabled() -> bool:
        _deprecated(f"is_autocast_{device_type}_enabled", f"is_autocast_enabled('{device_type}')")
        return autocast_mode.is_autocast_enabled(device_type)

    def set_enabled(enabled: bool) -> None:
        enabled = _legacy_enabled(enabled)
        _deprecated_setter(
            f"set_autocast_{device_type}_enabled(enabled)", f"set_autocast_enabled('{device_type}', enabled)"
        )
        set_autocast_enabled(device_type, enabled)

    def get_dtype() -> dtypes.dtype:
        _deprecated(f"get_autocast_{device_type}_dtype", f"get_autocast_dtype('{device_type}')")
        return autocast_mode.get_autocast_dtype(device_type)

    def set_dtype(dtype: dtypes.dtype) -> None:
        dtype = _legacy_dtype(dtype)
        _deprecated_setter(f"set_autocast_{device_type}_dtype(dtype)", f"set_autocast_dtype('{device_type}', dtype)")
        set_autocast_dtype(device_type, dtype)

    functions = (is_enabled, set_enabled, get_dtype, set_dtype)
    names = (f"is_autocast_{device_type}_enabled", f"set_autocast_{device_type}_enabled")
    names += (f"get_autocast_{device_type}_dtype", f"set_autocast_{device_type}_dtype")
    modern = ("is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype", "set_autocast_dtype")
    for function, name, new in zip(functions, names, modern):
        function.__name__ = function.__qualname__ = name
        function.__doc__ = f"""Deprecated spelling of ``{new}('{device_type}', ...)`` (ember has no {device_type} backend:
    the setting is kept, as PyTorch keeps it without one).

    Example::

        >>> callable(ember.{name})
        True
    """
    return functions


is_autocast_ipu_enabled, set_autocast_ipu_enabled, get_autocast_ipu_dtype, set_autocast_ipu_dtype = (
    _legacy_device_functions("ipu")
)
is_autocast_xla_enabled, set_autocast_xla_enabled, get_autocast_xla_dtype, set_autocast_xla_dtype = (
    _legacy_device_functions("xla")
)


def autocast_increment_nesting() -> int:
    """Counts one more autocast region entered (what :class:`ember.autocast` does on entry); returns the
    count. Code that manages autocast by hand pairs it with :func:`autocast_decrement_nesting` and
    empties the weight-cast cache (:func:`clear_autocast_cache`) when the count is back to 0.

    Example::

        >>> ember.autocast_increment_nesting()
        1
        >>> ember.autocast_decrement_nesting()
        0
    """
    _autocast_state.nesting += 1
    return _autocast_state.nesting


def autocast_decrement_nesting() -> int:
    """Counts one autocast region left; returns the count (it goes below 0 unchecked, as PyTorch's).

    Example::

        >>> with ember.autocast("cpu"):
        ...     print(ember.autocast_decrement_nesting(), ember.autocast_increment_nesting())
        0 1
    """
    _autocast_state.nesting -= 1
    return _autocast_state.nesting


def set_flush_denormal(mode: bool) -> bool:
    """Asks the CPU to flush denormal floating-point numbers to zero; returns whether it could.

    ember's CPU arithmetic runs in NumPy, which offers no control of the processor's
    flush-to-zero mode, so this returns ``False`` for either mode (PyTorch's answer on a CPU
    without the feature) and denormals keep their values.

    Args:
        mode (bool): flush (``True``) or keep denormals (``False``).

    Example::

        >>> ember.set_flush_denormal(True)
        False
    """
    _flag("set_flush_denormal", "mode", mode, 1)
    return False


def set_default_tensor_type(t: type | str) -> None:
    """Set the default floating dtype, and the default device (``cpu``, or ``cuda`` for a CUDA
    type), from a legacy tensor type. Deprecated, as in PyTorch: use :func:`set_default_dtype`
    and :func:`set_default_device`.

    Args:
        t (type or str): a floating legacy type (``ember.DoubleTensor``) or its name
            (``'torch.cuda.FloatTensor'``).

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.set_default_tensor_type(ember.DoubleTensor)
        >>> ember.tensor([1.5]).dtype
        ember.float64
        >>> ember.set_default_dtype(ember.float32)
    """
    warnings.warn(
        "set_default_tensor_type() is deprecated as of PyTorch 2.1, please use set_default_dtype() and "
        "set_default_device() as alternatives.",
        UserWarning,
        stacklevel=2,
    )
    dtype, cuda_type = creation.legacy_type(t)
    if not dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    if cuda_type:
        from .. import cuda  # ember.cuda is imported on first use

        if not cuda.is_available():
            raise TypeError(f"type {getattr(t, '__name__', t)} not available: ember has no CUDA device")
    creation.set_default_device("cuda" if cuda_type else None)
    dtypes.set_default_dtype(dtype)
