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

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

from ..tensor import Tensor
from .engine import current_graph_task
from .function import Node, gradient_edge
from .grad_mode import grad_state
from .gradient_edge import GradientEdge, get_gradient_edge

__all__ = [
    "Node",
    "GradientEdge",
    "get_gradient_edge",
    "saved_tensors_hooks",
    "save_on_cpu",
    "disable_saved_tensors_hooks",
    "register_multi_grad_hook",
    "increment_version",
    "allow_mutation_on_saved_tensors",
]


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
    """Within this context, entering :class:`saved_tensors_hooks` raises ``RuntimeError(error_message)``;
    entering this context while such hooks are in force raises it too.

    Args:
        error_message (str): the message of that error.

    Example::

        >>> with ember.autograd.graph.disable_saved_tensors_hooks("not here"):
        ...     pass
    """

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        if grad_state.saved_tensors_hooks:
            raise RuntimeError(self.error_message)
        self._previous = grad_state.saved_tensors_hooks_disabled
        grad_state.saved_tensors_hooks_disabled = self.error_message

    def __exit__(self, *exc: object) -> Literal[False]:
        grad_state.saved_tensors_hooks_disabled = self._previous
        return False


class _AllowMutationOnSavedContext:
    """What :func:`allow_mutation_on_saved_tensors` yields: whether its context is still open."""

    def __init__(self) -> None:
        self.open = True


_mutation_context: _AllowMutationOnSavedContext | None = None


@contextlib.contextmanager
def allow_mutation_on_saved_tensors() -> Iterator[_AllowMutationOnSavedContext]:
    """Within this context, a tensor saved for backward may be modified in place afterwards: backward
    reads the values it had when it was saved (ember keeps a copy of each, as it is saved).

    Backward through the graph must run inside the same context; contexts do not nest.

    Example::

        >>> with ember.autograd.graph.allow_mutation_on_saved_tensors():
        ...     a = ember.ones(3, requires_grad=True)
        ...     b = a.clone()
        ...     out = (b**2).sum()
        ...     _ = b.sin_()
        ...     out.backward()
        >>> a.grad
        tensor([2., 2., 2.])
    """
    global _mutation_context
    if _mutation_context is not None:
        raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
    context = _mutation_context = _AllowMutationOnSavedContext()

    def unpack(saved: Tensor) -> Tensor:
        if not context.open:
            raise AssertionError(
                "Trying to backward outside of the 'allow_mutation_on_saved_tensors' context in which the graph "
                "was originally recorded."
            )
        return saved

    try:
        with saved_tensors_hooks(lambda tensor: tensor.detach().clone(), unpack):
            yield context
    finally:
        context.open = False
        _mutation_context = None


def increment_version(tensor: Tensor | Iterable[Tensor]) -> None:
    """Count an in-place change of ``tensor`` (or of each tensor of an iterable) that ember did not see,
    such as one a kernel of the user's own made through the tensor's memory, so that backward refuses
    the saved tensors it invalidated. A tensor made under ``inference_mode`` has no version to count.

    Args:
        tensor (Tensor or iterable of Tensor): the tensor(s) changed.

    Example::

        >>> x = ember.ones(2)
        >>> ember.autograd.graph.increment_version(x)
        >>> x._version
        1
    """
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        if not t.is_inference():
            t._version_counter.value += 1


class _MultiHandle:
    """Removes the tensor hooks of one :func:`register_multi_grad_hook`."""

    def __init__(self, handles: list[Any]) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def register_multi_grad_hook(tensors: Sequence[Tensor], fn: Callable[..., None], *, mode: str = "all") -> _MultiHandle:
    """Call ``fn`` once per backward pass with the gradients of several tensors.

    With ``mode="all"``, ``fn(grads)`` runs once the gradients of all the ``tensors`` that this pass
    reaches are computed, with ``None`` for the others. With ``mode="any"``, ``fn(grad)`` runs once,
    with the first of their gradients computed.

    Args:
        tensors (sequence of Tensor): the tensors to watch.
        fn (callable): ``fn(grads)`` (``"all"``) or ``fn(grad)`` (``"any"``).
        mode (str): ``"all"`` or ``"any"``. Default: ``"all"``

    Returns:
        A handle whose ``remove()`` unregisters the hook.

    Example::

        >>> x, y = ember.ones(2, requires_grad=True), ember.ones(1, requires_grad=True)
        >>> handle = ember.autograd.graph.register_multi_grad_hook((x, y), lambda gs: print(gs[1]))
        >>> (x * 2).sum().backward()
        None
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    passes: dict[int, Any] = {}  # id of a running backward pass -> (its task, grads, how many to come) or True

    def hook_for(index: int) -> Callable[[Tensor], None]:
        def hook(grad: Tensor) -> None:
            task = current_graph_task()
            key = id(task)
            if mode == "any":
                if passes.get(key, (None,))[0] is not task:
                    passes.clear()  # a new pass: the ones before it are over
                    passes[key] = (task,)
                    fn(grad)
                return
            entry = passes.get(key)
            if entry is None or entry[0] is not task:
                waiting = sum(
                    1
                    for t in tensors
                    if t.requires_grad and task is not None and task.will_execute(gradient_edge(t)[0])
                )
                passes.clear()
                entry = passes[key] = [task, [None] * len(tensors), waiting]
            entry[1][index] = grad
            entry[2] -= 1
            if entry[2] <= 0:
                del passes[key]
                fn(tuple(entry[1]))

        return hook

    return _MultiHandle([t.register_hook(hook_for(i)) for i, t in enumerate(tensors) if t.requires_grad])
