"""The Tensor's flags and methods for the device kinds, layouts and features ember has no backend for, as
PyTorch builds without them answer: ``is_xla``, ``is_ipu``, ``is_mtia``, ``is_maia``, ``is_vulkan`` are
whether the tensor is on such a device (never, unless a plugin registers the device type), ``is_nested``
and ``is_mkldnn`` are ``False`` (ember has no nested or MKL-DNN layout), ``name`` is ``None`` (no named
tensors), ``is_distributed()`` is ``False``; ``xpu()``, ``ipu()``, ``mtia()`` move a tensor where a plugin
serves the device type and raise PyTorch's errors otherwise; ``record_stream`` and ``to_padded_tensor``
raise on the tensors PyTorch refuses them for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..device import device as _device
from ..tensor import Tensor
from ..type_names import type_name

__all__ = [
    "is_nested", "is_xla", "is_ipu", "is_mtia", "is_maia", "is_vulkan", "is_mkldnn", "name",
    "is_distributed", "xpu", "ipu", "mtia", "record_stream", "to_padded_tensor", "module_load", "chalf",
    "smm", "sspaddmm",
]  # fmt: skip


def _on(kind: str) -> property:
    def flag(self: Tensor) -> bool:
        return self.device.type == kind

    flag.__name__ = f"is_{kind}"
    flag.__doc__ = f"""True if the tensor is on a(n) {kind} device (never, unless a plugin serves the device type).

    Example::

        >>> ember.tensor([1.0]).is_{kind}
        False
    """
    return property(flag)


is_xla: property = _on("xla")
is_ipu: property = _on("ipu")
is_mtia: property = _on("mtia")
is_maia: property = _on("maia")
is_vulkan: property = _on("vulkan")


def _never(doc: str) -> property:
    def flag(self: Tensor) -> bool:
        return False

    flag.__doc__ = doc
    return property(flag)


is_nested: property = _never(
    """True for a nested (jagged) tensor: ``False`` for every ember tensor (ember has no nested layout).

    Example::

        >>> ember.tensor([1.0]).is_nested
        False
    """
)
is_mkldnn: property = _never(
    """True for a tensor in MKL-DNN's opaque layout: ``False`` for every ember tensor.

    Example::

        >>> ember.tensor([1.0]).is_mkldnn
        False
    """
)


def _name(self: Tensor) -> None:
    """The tensor's name in a traced graph (PyTorch's ``Tensor.name``): ``None`` outside one, as always in ember.

    Example::

        >>> ember.tensor([1.0]).name is None
        True
    """
    return None


name: property = property(_name)


def is_distributed(input: Tensor) -> bool:
    """Whether ``input`` is spread over several processes: ``False`` (ember has no distributed tensor type;
    :mod:`ember.distributed`'s collectives work on ordinary tensors), as PyTorch answers for every tensor.

    Args:
        input (Tensor): the tensor.

    Example::

        >>> ember.is_distributed(ember.ones(2))
        False
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"is_distributed(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    return False


def _served(kind: str) -> bool:
    from ..plugin import backend_registry  # the plugin host imports the ops: resolved at the call

    return kind in backend_registry().device_types()


def _mover(kind: str, unlinked: type[Exception], message: str) -> Callable[..., Tensor]:
    def mover(self: Tensor, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Tensor:
        if not _served(kind):
            if device is None:
                raise unlinked(message)
            raise RuntimeError("Cannot access accelerator device when none is available.")
        dev = _device(kind) if device is None else _device(kind, device) if isinstance(device, int) else _device(device)
        if dev.type != kind:
            raise RuntimeError(f"Invalid device, must be {kind} device, got {dev}")
        if memory_format is None:
            return self.to(dev, non_blocking=non_blocking)
        return self.to(dev, non_blocking=non_blocking, memory_format=memory_format)

    mover.__name__ = mover.__qualname__ = kind
    mover.__doc__ = f"""This tensor on {kind} device ``device`` (default: the current one), where a plugin serves the
    {kind} device type; without one it raises as PyTorch built without {kind} does ({unlinked.__name__}, or
    RuntimeError when a device is named).

    Args:
        device (int, str or ember.device, optional): the {kind} device. Default: the current one.
        non_blocking (bool): copy asynchronously where the backend can. Default: ``False``.
        memory_format (ember.memory_format, optional): as for :meth:`Tensor.to`.

    Example::

        >>> try:
        ...     ember.ones(2).{kind}()
        ... except {unlinked.__name__}:
        ...     print("no {kind} backend")
        no {kind} backend
    """
    return mover


xpu: Callable[..., Tensor] = _mover(
    "xpu", AssertionError, "Torch not compiled with XPU enabled (ember has no xpu backend)"
)
ipu: Callable[..., Tensor] = _mover(
    "ipu", RuntimeError, "PyTorch is not linked with support for ipu devices (ember has no ipu backend)"
)
mtia: Callable[..., Tensor] = _mover(
    "mtia", AssertionError, "Torch not compiled with MTIA enabled (ember has no mtia backend)"
)


def record_stream(self: Tensor, stream: Any) -> None:
    """Marks the tensor as used by ``stream``, so that its memory is not reused before the work queued there
    completes. PyTorch has it for CUDA tensors only: on a tensor of another device it raises
    ``NotImplementedError``, as here; ember's CUDA backend does not implement it yet and raises the same.

    Args:
        stream (Stream): the stream that uses the tensor.

    Example::

        >>> try:
        ...     ember.ones(2).record_stream(ember.Stream("cpu"))
        ... except NotImplementedError:
        ...     print("CUDA tensors only")
        CUDA tensors only
    """
    raise NotImplementedError(
        f"record_stream: not available for a tensor on {self.device.type}"
        + (" (ember's CUDA backend does not implement it)" if self.device.type == "cuda" else " (CUDA tensors only)")
    )


def to_padded_tensor(self: Tensor, padding: float, output_size: Any = None) -> Tensor:
    """A nested tensor's components padded to one dense tensor; PyTorch has it for nested tensors only, and
    ember has none: every ember tensor is strided, for which it raises ``NotImplementedError`` as PyTorch does.

    Args:
        padding (float): the value of the padding.
        output_size (sequence of int, optional): the padded shape.

    Example::

        >>> try:
        ...     ember.ones(2).to_padded_tensor(0.0)
        ... except NotImplementedError:
        ...     print("nested tensors only")
        nested tensors only
    """
    raise NotImplementedError(
        "to_padded_tensor: expected a nested tensor, got a strided one (ember has no nested tensors)"
    )


def module_load(self: Tensor, other: Tensor, assign: bool = False) -> Tensor:
    """How ``other`` (a state_dict's value) is turned into the tensor that replaces ``self`` (a parameter or
    buffer) when a module loads it by swapping: ``other.detach()`` with ``assign``, else
    ``self.copy_(other).detach()``. A Tensor subclass overrides it to change the conversion.

    Args:
        other (Tensor): the state_dict's value for ``self``'s key.
        assign (bool): the ``assign`` of :meth:`~ember.nn.Module.load_state_dict`. Default: ``False``.

    Example::

        >>> p = ember.zeros(2)
        >>> p.module_load(ember.ones(2))
        tensor([1., 1.])
        >>> p
        tensor([1., 1.])
    """
    if assign:
        return other.detach()
    return self.copy_(other).detach()


def chalf(self: Tensor, memory_format: Any = None) -> Tensor:
    """``self.to(torch.complex32)`` in PyTorch; ember has no complex32 (ComplexHalf) dtype, which PyTorch
    itself calls experimental with few ops, so this raises ``RuntimeError`` rather than give another dtype:
    use :meth:`cfloat` (complex64).

    Example::

        >>> try:
        ...     ember.ones(2).chalf()
        ... except RuntimeError:
        ...     print("no complex32")
        no complex32
    """
    raise RuntimeError("chalf: ember has no complex32 (ComplexHalf) dtype; use cfloat() for complex64")


def smm(self: Tensor, mat2: Tensor) -> Tensor:
    """:func:`ember.smm` for a sparse ``self``; a strided tensor raises ``RuntimeError``, as in PyTorch (the sparse
    COO tensor's own method does the product).

    Example::

        >>> try:
        ...     ember.ones(2, 2).smm(ember.ones(2, 2))
        ... except RuntimeError:
        ...     print("sparse only")
        sparse only
    """
    raise RuntimeError("tensor.sspaddmm(...) can only be called on sparse tensors")


def sspaddmm(self: Tensor, mat1: Any, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """:func:`ember.sspaddmm` for a sparse ``self``; a strided tensor raises ``RuntimeError``, as in PyTorch.

    Example::

        >>> try:
        ...     ember.ones(2, 2).sspaddmm(ember.ones(2, 2), ember.ones(2, 2))
        ... except RuntimeError:
        ...     print("sparse only")
        sparse only
    """
    raise RuntimeError(f"sspaddmm: expected a sparse COO self, got a strided tensor of size {list(self.shape)}")
