"""``ember.nn.attention``: PyTorch's ``torch.nn.attention``, the choice of kernels for
:func:`ember.nn.functional.scaled_dot_product_attention`.

:func:`sdpa_kernel` switches the kernels named by :class:`SDPBackend` on and the others off for
the duration of a block, through the switches of :mod:`ember.backends.cuda`
(``flash_sdp_enabled()`` and the others report them inside the block, as in PyTorch). As
PyTorch's CPU, attention on a device other than CUDA takes the flash kernel where it is on and
takes the inputs, else the math path, and raises where neither is left (``with
sdpa_kernel(SDPBackend.MATH)`` gives the math path's numbers and errors;
``SDPBackend.EFFICIENT_ATTENTION`` alone is refused); on CUDA any kernel left on serves.

Example::

    >>> from ember.nn.attention import SDPBackend, sdpa_kernel
    >>> q = ember.ones(1, 2, 3, 4)
    >>> with sdpa_kernel(SDPBackend.MATH):
    ...     print(ember.backends.cuda.flash_sdp_enabled(), ember.backends.cuda.math_sdp_enabled())
    ...     out = ember.nn.functional.scaled_dot_product_attention(q, q, q)
    False True
    >>> ember.backends.cuda.flash_sdp_enabled()
    True
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.Enum):
    """The kernels of scaled dot-product attention, with PyTorch's names and values.

    As PyTorch's (a C++ enum), a member converts to its value (``int(SDPBackend.MATH)`` is 0, and it
    indexes) but is no int: ``SDPBackend.MATH == 0`` is False, members neither order nor add.
    """

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __str__(self) -> str:  # PyTorch's enum prints its name, an IntEnum its number
        return f"SDPBackend.{self.name}"

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)

    def __hash__(self) -> int:  # PyTorch's members hash as their values
        return hash(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


#: the names PyTorch's torch.nn.attention takes from torch.backends.cuda (not in its __all__ either)
_FROM_CUDA_FLAGS = ("SDPAParams", "can_use_flash_attention", "can_use_efficient_attention")


def __getattr__(name: str) -> object:
    """``SDPAParams``, ``can_use_flash_attention`` and ``can_use_efficient_attention``: the objects of
    :mod:`ember.backends.cuda` (which imports ember, so they are read on first use)."""
    if name in _FROM_CUDA_FLAGS:
        from ...backends import cuda

        return getattr(cuda, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: the switch of :mod:`ember.backends.cuda` that each kernel has
_SWITCHES = {
    SDPBackend.MATH: "math",
    SDPBackend.FLASH_ATTENTION: "flash",
    SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
    SDPBackend.CUDNN_ATTENTION: "cudnn",
}


@contextlib.contextmanager
def sdpa_kernel(backends: list[SDPBackend] | SDPBackend, set_priority: bool = False) -> Iterator[dict[str, object]]:
    """Context manager that allows only ``backends`` for scaled dot-product attention inside the block.

    On leaving the block the switches are as they were before it.

    Args:
        backends (SDPBackend or list of SDPBackend): the kernels allowed.
        set_priority (bool): whether the order of ``backends`` is their priority; accepted for
            PyTorch compatibility (PyTorch's CPU, as ember, tries the flash kernel first
            whatever the order). Default: ``False``

    Raises:
        AssertionError: ``backends`` is neither an :class:`SDPBackend` nor a list of them (as PyTorch).
    """
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(
            "Backend must be an instance of SDPBackend or a list of SDPBackend instances, "
            f"got {type(backends).__name__}"
        )
    allowed = [backends] if isinstance(backends, SDPBackend) else backends
    from ...backends import cuda as switches  # ember.backends imports ember: resolved on use

    previous = {kind: getattr(switches, f"{kind}_sdp_enabled")() for kind in _SWITCHES.values()}
    try:
        for backend, kind in _SWITCHES.items():
            getattr(switches, f"enable_{kind}_sdp")(backend in allowed)
        yield {}
    finally:
        for kind, enabled in previous.items():
            getattr(switches, f"enable_{kind}_sdp")(enabled)
