"""Activation checkpointing (``utils.checkpoint``): keep a segment's inputs, not its
intermediate activations, and recompute the segment during backward.

Both variants of PyTorch are provided:

* ``use_reentrant=True`` -- PyTorch's ``CheckpointFunction``: the segment runs without a graph;
  backward recomputes it and runs a nested backward, which accumulates the gradients of the
  parameters it uses into their ``.grad`` and returns those of the tensor arguments.
* ``use_reentrant=False`` -- the segment runs once with a graph, only to learn which leaf tensors
  (parameters) it reads; the graph is dropped at once and the outputs are tied, through one node,
  to the tensor arguments and those leaves. Backward recomputes the segment and differentiates it
  with respect to exactly those tensors, so ``autograd.grad`` works through it and keyword
  arguments are accepted. (PyTorch gets the same contract from saved-tensor hooks; the peak
  memory of one segment is the same, released before the next segment runs.)

With ``preserve_rng_state=True`` the default generators of the CPU and of the arguments'
devices are saved before the forward and restored for the recomputation (and put back after it),
so dropout inside the segment draws the same mask twice. The autocast state of the forward is
restored for the recomputation too.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..amp.state import restored as _autocast_restored
from ..amp.state import snapshot as _autocast_snapshot
from ..autograd.engine import backward as _backward
from ..autograd.engine import run_backward
from ..autograd.function import AccumulateGrad, Function
from ..autograd.grad_mode import enable_grad, grad_state, no_grad
from ..device import device as _device
from ..tensor import Tensor, backend_for_device

__all__ = ["checkpoint", "checkpoint_sequential", "detach_variable", "noop_context_fn"]


_ContextFn = Callable[[], tuple[contextlib.AbstractContextManager, contextlib.AbstractContextManager]]


def noop_context_fn() -> tuple[contextlib.AbstractContextManager, contextlib.AbstractContextManager]:
    """The default ``context_fn`` of :func:`checkpoint`: two null contexts (forward, recomputation).

    Example::

        >>> forward_ctx, recompute_ctx = ember.utils.checkpoint.noop_context_fn()
    """
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """``inputs`` with each tensor detached, keeping its ``requires_grad``.

    Example::

        >>> x = ember.ones(2, requires_grad=True) * 2
        >>> (y,) = ember.utils.checkpoint.detach_variable((x,))
        >>> y.is_leaf, y.requires_grad
        (True, True)
    """
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    return tuple(x.detach().requires_grad_(x.requires_grad) if isinstance(x, Tensor) else x for x in inputs)


class _RNGState:
    """The default generators' states of the CPU and of ``tensors``' devices, to replay a forward."""

    def __init__(self, tensors: Iterable[Tensor]) -> None:
        devices = {_device("cpu")} | {t.device for t in tensors}
        self._generators = [backend_for_device(d).generator(d.index or 0) for d in devices]
        self._states = [g.get_state() for g in self._generators]

    @contextlib.contextmanager
    def replay(self) -> Iterator[None]:
        """Run the block from the saved states; the generators continue as before afterwards."""
        current = [g.get_state() for g in self._generators]
        for generator, state in zip(self._generators, self._states):
            generator.set_state(state)
        try:
            yield
        finally:
            for generator, state in zip(self._generators, current):
                generator.set_state(state)


class _Segment:
    """What the recomputation needs: the function, its arguments, the RNG and autocast state."""

    # set by the non-reentrant variant: the forward's outputs (until the tying node takes them)
    # and the leaf tensors the segment reads
    outputs: tuple[Any, ...]
    leaves: list[Tensor]

    def __init__(
        self,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        preserve_rng_state: bool,
        context_fn: _ContextFn,
    ) -> None:
        self.function = function
        self.args = args
        self.kwargs = kwargs
        tensors = [a for a in args if isinstance(a, Tensor)]
        self.rng = _RNGState(tensors) if preserve_rng_state else None
        self.autocast = _autocast_snapshot()
        self.context_fn = context_fn

    def run(self, args: tuple[Any, ...], recompute: bool) -> Any:
        """Run the function on ``args`` with a graph (under the forward's RNG and autocast state
        when ``recompute``)."""
        replay = self.rng.replay() if recompute and self.rng is not None else contextlib.nullcontext()
        context = self.context_fn()[1 if recompute else 0]
        # the forward's autocast settings, entered as a region is (PyTorch re-enters autocast there)
        region = _autocast_restored(self.autocast) if recompute else contextlib.nullcontext()
        with region, replay, context, enable_grad():
            return self.function(*args, **self.kwargs)


def _outputs(result: Tensor | Iterable[Any]) -> tuple[Any, ...]:
    return (result,) if isinstance(result, Tensor) else tuple(result)


class _ReentrantCheckpoint(Function):
    @staticmethod
    def forward(ctx: Any, segment: _Segment, *args: Any) -> Any:
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn(
                "None of the inputs have requires_grad=True. Gradients will be None", UserWarning, stacklevel=4
            )
        ctx.segment = segment
        with no_grad():
            return segment.function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
        segment = ctx.segment
        inputs = detach_variable(tuple(segment.args))
        outputs = _outputs(segment.run(inputs, recompute=True))
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        _backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, *(x.grad if isinstance(x, Tensor) else None for x in inputs))


def _leaves(outputs: Iterable[Tensor], arguments: Iterable[Any]) -> list[Tensor]:
    """The leaf tensors requiring grad that ``outputs``' graph reads, other than ``arguments``.

    The walk goes through non-leaf tensors made before the segment (read from the function's
    closure) down to their leaves: the recomputed graph reaches them through the same nodes.
    """
    own = {id(a) for a in arguments}
    seen, leaves = set(), []
    stack = [o.grad_fn for o in outputs]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            # the property is attached after AccumulateGrad's class body, out of mypy's sight
            leaf = node.variable  # type: ignore[attr-defined]
            if leaf is not None and id(leaf) not in own:
                leaves.append(leaf)
        else:
            stack.extend(child for child, _ in node._edges)
    return leaves


class _Checkpoint(Function):
    """One node from the segment's outputs to its tensor arguments and the leaves it reads."""

    @staticmethod
    def forward(ctx: Any, segment: _Segment, *tensors: Tensor) -> tuple[Any, ...]:
        ctx.segment = segment
        outputs, segment.outputs = segment.outputs, ()  # the forward's graph is dropped here
        return tuple(o.detach() if isinstance(o, Tensor) else o for o in outputs)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
        segment = ctx.segment
        create_graph = grad_state.enabled
        # a double backward needs the gradients' graph to reach the arguments themselves, so the
        # recomputation reads them (not detached copies) when it builds one
        arguments = tuple(segment.args) if create_graph else detach_variable(tuple(segment.args))
        outputs = _outputs(segment.run(arguments, recompute=True))
        tensors = [a for a in arguments if isinstance(a, Tensor)] + segment.leaves
        needed = ctx.needs_input_grad[1:]
        wanted = [t for t, need in zip(tensors, needed) if need]
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
        found = iter(
            run_backward([o for o, _ in pairs], [g for _, g in pairs], True, create_graph, wanted, allow_unused=True)
            if pairs and wanted
            else [None] * len(wanted)
        )
        return (None, *(next(found) if need else None for need in needed))


def checkpoint(
    function: Callable[..., Any],
    *args: Any,
    use_reentrant: bool | None = None,
    context_fn: Callable[[], tuple[Any, Any]] = noop_context_fn,
    determinism_check: str = "default",
    debug: bool = False,
    preserve_rng_state: bool = True,
    **kwargs: Any,
) -> Any:
    r"""Run ``function(*args, **kwargs)`` without keeping its intermediate activations;
    backward recomputes them.

    Args:
        function: the segment to run (a module or any callable).
        *args: its arguments.
        use_reentrant (bool): PyTorch's two variants (see the module's notes). Pass it
            explicitly: ``None`` warns, as PyTorch's, and means ``True``.
        context_fn: returns two context managers, entered around the forward and around the
            recomputation (``use_reentrant=False`` only).
        determinism_check (str): ``"default"`` or ``"none"`` (accepted; ember recomputes exactly).
        debug (bool): accepted (``use_reentrant=False`` only).
        preserve_rng_state (bool): replay the default generators' states in the recomputation,
            so random ops (dropout) draw the same values. Default: ``True``.
        **kwargs: keyword arguments of ``function`` (``use_reentrant=False`` only).

    Returns:
        ``function``'s output (a tensor or a tuple).

    Example::

        >>> layer = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> x = ember.randn(3, 4, requires_grad=True)
        >>> y = ember.utils.checkpoint.checkpoint(layer, x, use_reentrant=False)
        >>> y.sum().backward()
        >>> x.grad.shape
        ember.Size([3, 4])
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch "
            "2.9, calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass use_reentrant=True. "
            "Refer to docs for more details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return _ReentrantCheckpoint.apply(_Segment(function, args, {}, preserve_rng_state, context_fn), *args)
    if not grad_state.enabled:  # no graph to save memory on
        with context_fn()[0]:
            return function(*args, **kwargs)
    segment = _Segment(function, args, kwargs, preserve_rng_state, context_fn)
    arguments = detach_variable(tuple(args))
    result = segment.run(arguments, recompute=False)
    outputs = _outputs(result)
    segment.outputs = outputs
    segment.leaves = _leaves([o for o in outputs if isinstance(o, Tensor) and o.requires_grad], arguments)
    tied = _Checkpoint.apply(segment, *(a for a in args if isinstance(a, Tensor)), *segment.leaves)
    return tied[0] if isinstance(result, Tensor) else type(result)(tied)


def checkpoint_sequential(
    functions: Any, segments: int, input: Tensor, use_reentrant: bool | None = None, **kwargs: Any
) -> Any:
    r"""Run a sequential model in ``segments`` chunks, checkpointing all but the last.

    Args:
        functions: an :class:`~ember.nn.Sequential` or a list of modules/functions run in order.
        segments (int): the number of chunks.
        input (Tensor): the input of the first function.
        use_reentrant (bool): as in :func:`checkpoint` (``None`` warns and means ``True``).
        preserve_rng_state (bool): as in :func:`checkpoint`. Default: ``True``.

    Example::

        >>> model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU())
        >>> x = ember.randn(2, 4, requires_grad=True)
        >>> out = ember.utils.checkpoint.checkpoint_sequential(model, 2, x, use_reentrant=False)
        >>> out.sum().backward()
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed explicitly. "
            "In version 2.9 we will raise an exception if use_reentrant is not passed. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass use_reentrant=True. "
            "Refer to docs for more details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run(start: int, end: int) -> Callable[[Tensor], Tensor]:
        def forward(x: Tensor) -> Tensor:
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
