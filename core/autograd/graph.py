"""``ember.autograd.graph``: the backward graph's :class:`Node` and the hooks on the tensors it
saves (PyTorch's ``torch.autograd.graph``): :class:`saved_tensors_hooks`, :class:`save_on_cpu`,
:class:`disable_saved_tensors_hooks`.

Example::

    >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
    >>> with ember.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t * 2):
    ...     y = x * x
    >>> y.sum().backward()
    >>> x.grad
    tensor([4., 8.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ..tensor import Tensor
from .function import Node
from .grad_mode import grad_state

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Within this context, each tensor an operation saves for backward is handed to
    ``pack_hook`` and only what it returns is kept; backward reads the tensor back through
    ``unpack_hook``, which must return a tensor with the saved tensor's values.

    The innermost context wins. As in PyTorch, a tensor changed in place after it was packed is not
    detected.

    Args:
        pack_hook (callable): ``pack_hook(tensor) -> Any``, called when a tensor is saved.
        unpack_hook (callable): ``unpack_hook(packed) -> Tensor``, called when backward reads it.

    Example::

        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> with ember.autograd.graph.saved_tensors_hooks(lambda t: t.tolist(), ember.tensor):
        ...     y = x.exp()
        >>> y.sum().backward()
        >>> x.grad
        tensor([2.7183, 7.3891])
    """

    def __init__(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        message = grad_state.saved_tensors_hooks_disabled
        if message is not None:
            raise RuntimeError(message)
        grad_state.saved_tensors_hooks = (*grad_state.saved_tensors_hooks, (self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        grad_state.saved_tensors_hooks = grad_state.saved_tensors_hooks[:-1]
        return False


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Keep the tensors saved for backward on the CPU, copying them back to their device when
    backward reads them.

    Args:
        pin_memory (bool): copy into page-locked memory (accepted; the copy is a plain one where the
            device has none). Default: ``False``
        device_type (str): the device type this applies to (accepted for PyTorch compatibility).
            Default: ``"cuda"``

    Example::

        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> with ember.autograd.graph.save_on_cpu():
        ...     y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 4.])
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(tensor: Tensor) -> tuple[Any, Tensor]:
            return tensor.device, tensor.detach().to("cpu", copy=tensor.device.type != "cpu")

        def unpack(packed: tuple[Any, Tensor]) -> Tensor:
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Within this context, entering :class:`saved_tensors_hooks` raises ``RuntimeError(error_message)``.

    Args:
        error_message (str): the message of that error.

    Example::

        >>> with ember.autograd.graph.disable_saved_tensors_hooks("not here"):
        ...     pass
    """

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        self._previous = grad_state.saved_tensors_hooks_disabled
        grad_state.saved_tensors_hooks_disabled = self.error_message

    def __exit__(self, *exc: object) -> Literal[False]:
        grad_state.saved_tensors_hooks_disabled = self._previous
        return False
