"""``ember.autocast``: mixed precision regions with PyTorch's per-op policy.

Inside an autocast region for a device type, the ops that PyTorch runs in lower precision
(matrix products, linear, convolutions, scaled dot-product attention) cast their floating
operands to the region's dtype, and the ops that PyTorch runs in float32 (the losses) cast
to float32; every other op runs in the dtype of its inputs, with the usual promotion.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, Literal, Self, TypeVar

from .. import dtypes
from .policy import POLICY, follow
from .state import state

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype"]

# PyTorch's default autocast dtype of each device type (bfloat16 for the others)
_DEFAULT = {
    "cpu": dtypes.bfloat16,
    "cuda": dtypes.float16,
    "xpu": dtypes.float16,
    "mps": dtypes.float16,
    "ipu": dtypes.float16,
    "mtia": dtypes.float16,
    "privateuseone": dtypes.float16,
}
_ALLOWED = {"cpu": (dtypes.bfloat16, dtypes.float16), "cuda": (dtypes.bfloat16, dtypes.float16)}


class autocast:  # noqa: N801 - the public name mirrors torch.autocast
    r"""A context manager (and decorator) that runs the ops of its region in mixed precision.

    Args:
        device_type (str): ``'cpu'`` or ``'cuda'``; another registered device type follows the
            table its backend names in ``autocast_device_type`` (``'restricted'`` follows ``'cpu'``);
            on one with no table autocast warns and is disabled.
        dtype (ember.dtype, optional): the lower-precision type. Default: the device type's
            current :func:`get_autocast_dtype` (that of an enclosing region, else ``bfloat16`` on
            cpu, ``float16`` on cuda).
        enabled (bool): whether autocast is on in the region. Default: ``True``
        cache_enabled (bool, optional): whether the casts of float32 leaf tensors that require
            grad (the weights) are cached inside the region, each weight cast once until the
            outermost region exits. Default: :func:`ember.is_autocast_cache_enabled` (``True``)

    Examples::

        >>> lin = ember.nn.Linear(4, 3)
        >>> with ember.autocast("cpu", dtype=ember.bfloat16):
        ...     y = lin(ember.randn(2, 4))
        ...     loss = ember.nn.functional.mse_loss(y, ember.zeros(2, 3))
        >>> y.dtype, loss.dtype
        (ember.bfloat16, ember.float32)
    """

    def __init__(
        self,
        device_type: str,
        dtype: dtypes.dtype | None = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device_type
        device_type = self._type = _device_type(device_type)  # "cpu:0" is a cpu region, as PyTorch's
        self.fast_dtype = dtypes.as_dtype(dtype) if dtype is not None else get_autocast_dtype(device_type)
        self._cache_enabled = state.cache_enabled if cache_enabled is None else bool(cache_enabled)
        enabled = bool(enabled)
        if enabled and self.device == "cuda":  # PyTorch asks for CUDA where the string is "cuda" alone
            from ..cuda.availability import is_available, is_bf16_supported

            if not is_available():
                warnings.warn("CUDA is not available. Disabling autocast.", stacklevel=2)
                enabled = False
            elif self.fast_dtype is dtypes.bfloat16 and not is_bf16_supported():
                raise RuntimeError("Current CUDA Device does not support bfloat16. Please switch dtype to float16.")
        allowed = _ALLOWED.get(device_type)
        if enabled and allowed is not None and self.fast_dtype not in allowed:
            name = device_type.upper()
            warnings.warn(
                f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                f"{name} Autocast only supports dtypes of {', '.join(repr(d) for d in allowed)} currently.",
                stacklevel=2,
            )
            enabled = False
        if enabled and device_type not in POLICY and not _follow_backend_table(device_type):
            warnings.warn(
                f"ember has no autocast policy for device type '{device_type}'. Disabling autocast.",
                stacklevel=2,
            )
            enabled = False
        self._enabled = enabled
        self._saved: Any = None

    def __enter__(self) -> Self:
        self._saved = (state.active, dict(state.dtypes), dict(state.fast_dtypes), state.cache_enabled)
        if self._enabled:
            state.dtypes[self._type] = self.fast_dtype
        else:
            state.dtypes.pop(self._type, None)
        state.fast_dtypes[self._type] = self.fast_dtype
        state.cache_enabled = self._cache_enabled
        state.nesting += 1
        state.active = bool(state.dtypes)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        state.nesting -= 1
        if state.nesting == 0:  # the outermost region: its weight casts are dropped
            state.cache.clear()
        state.active, state.dtypes, state.fast_dtypes, state.cache_enabled = self._saved
        return False

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature


#: device types that need no parsing (the others are device strings: "cpu:0", or PyTorch's error)
_PLAIN_TYPES = frozenset({"cpu", "cuda", "mps", "xpu", "xla", "hpu", "mtia", "opencl", "restricted"})


def _device_type(name: str) -> str:
    """The device type of the device string ``name`` (``'cuda:0'`` -> ``'cuda'``), with
    :class:`ember.device`'s errors for a string that names none (``'gpu'``, ``'cuda:x'``), as PyTorch."""
    if name in _PLAIN_TYPES or not isinstance(name, str):
        return name
    from ..device import device

    return device(name).type


def _follow_backend_table(device_type: str) -> bool:
    """Give ``device_type`` the policy table its backend names (``Backend.autocast_device_type``);
    whether it has one."""
    from ..backend import get_backend

    try:
        table = get_backend(device_type).autocast_device_type
    except RuntimeError:  # no backend serves it
        return False
    return table is not None and follow(device_type, table)


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether an autocast region is on for ``device_type``.

    Args:
        device_type (str): the device type, ``'cpu'`` or ``'cuda'``. Default: ``'cuda'``.

    Example::

        >>> ember.is_autocast_enabled('cpu')
        False
        >>> with ember.autocast('cpu'):
        ...     print(ember.is_autocast_enabled('cpu'))
        ...
        True
    """
    return _device_type(device_type) in state.dtypes


def get_autocast_dtype(device_type: str) -> dtypes.dtype:
    """The lower-precision dtype autocast uses for ``device_type``: the innermost region's (whether it
    is enabled or not) or :func:`ember.set_autocast_dtype`'s, else the device type's default.

    Args:
        device_type (str): the device type, ``'cpu'`` or ``'cuda'``.

    Example::

        >>> ember.get_autocast_dtype('cpu')
        ember.bfloat16
        >>> with ember.autocast('cpu', dtype=ember.float16):
        ...     print(ember.get_autocast_dtype('cpu'))
        ...
        ember.float16
    """
    device_type = _device_type(device_type)
    dtype = state.fast_dtypes.get(device_type)
    return dtype if dtype is not None else _DEFAULT.get(device_type, dtypes.bfloat16)


def is_autocast_available(device_type: str) -> bool:
    """Whether :class:`~ember.amp.autocast` has a policy for ``device_type``.

    Args:
        device_type (str): ``'cpu'``, ``'cuda'``, or another registered device type.

    Example::

        >>> ember.amp.is_autocast_available("cpu")
        True
    """
    device_type = _device_type(device_type)
    return device_type in POLICY or _follow_backend_table(device_type)
