"""The graphed callables of :func:`ember.cuda.make_graphed_callables`: forward and backward as captured graphs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .autograd import grad as autograd_grad
from .autograd.function import Function
from .autograd.grad_mode import no_grad
from .tensor import Tensor

if TYPE_CHECKING:
    from .graphs import GraphPool

__all__ = ["graph_callable"]


def _as_tuple(outputs: Any) -> tuple[Any, ...]:
    return outputs if isinstance(outputs, tuple) else (outputs,)


def graph_callable(
    fn: Callable[..., Any],
    sample_args: tuple[Tensor, ...],
    num_warmup_iters: int,
    allow_unused_input: bool,
    pool: GraphPool | None,
    cuda: ModuleType,
) -> Callable[..., Any]:
    """``fn`` (a function or a Module) with its forward and backward captured; see ``make_graphed_callables``.

    ``cuda`` is the device's stream and graph API (:mod:`ember.cuda`, which calls this):
    ``Stream``, ``current_stream``, ``stream``, ``CUDAGraph`` and ``graph``.
    """
    # deferred: nn is the layer above; importing ember.cuda must not load ember.nn
    from .nn.modules.module import Module

    for arg in sample_args:
        if not isinstance(arg, Tensor):
            raise TypeError(f"make_graphed_callables: sample arguments must be tensors, got {type(arg).__name__}")
    module = fn if isinstance(fn, Module) else None
    params = tuple(p for p in module.parameters() if p.requires_grad) if module is not None else ()
    inputs = sample_args + params
    differentiable = tuple(t for t in inputs if t.requires_grad)

    def backward_of(outputs: Sequence[Tensor], grad_outputs: Sequence[Tensor | None]) -> tuple[Tensor | None, ...]:
        live = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
        if not live or not differentiable:
            return ()
        return autograd_grad(
            [o for o, _ in live],
            differentiable,
            grad_outputs=[g for _, g in live],
            allow_unused=allow_unused_input,
        )

    side = cuda.Stream()
    side.wait_stream(cuda.current_stream())
    with cuda.stream(side):
        for _ in range(num_warmup_iters):
            outputs = _as_tuple(fn(*sample_args))
            backward_of(outputs, [o.detach().new_ones(o.shape) if o.requires_grad else None for o in outputs])
    cuda.current_stream().wait_stream(side)

    forward_graph = cuda.CUDAGraph()
    with cuda.graph(forward_graph, pool=pool):
        static_outputs = _as_tuple(fn(*sample_args))
    static_grad_outputs = tuple(o.detach().new_empty(o.shape) if o.requires_grad else None for o in static_outputs)
    backward_graph = cuda.CUDAGraph()
    with cuda.graph(backward_graph, pool=pool):
        grads = backward_of(static_outputs, static_grad_outputs)
    by_input = dict(zip(map(id, differentiable), grads))
    static_grad_inputs = tuple(by_input.get(id(t)) for t in inputs)
    # The memory the graphs read, fixed at capture: a parameter whose storage is later
    # rebound (``p.data = ...``) must be copied back into it, as an argument is.
    static_inputs = tuple(t.detach() for t in inputs)

    class Graphed(Function):
        @staticmethod
        def forward(ctx: Any, *args: Tensor) -> tuple[Tensor, ...]:
            with no_grad():
                for static, arg in zip(static_inputs, args):
                    if static._data is not arg._data:
                        static.copy_(arg)
            forward_graph.replay()
            return tuple(o.detach() for o in static_outputs)  # fresh tensors aliasing the static outputs

        @staticmethod
        def backward(ctx: Any, *grad_outputs: Tensor | None) -> tuple[Tensor | None, ...]:
            with no_grad():
                for static, g in zip(static_grad_outputs, grad_outputs):
                    if static is not None:
                        static.copy_(g) if g is not None else static.zero_()
            backward_graph.replay()
            # Copies, not the static buffers: autograd stores a leaf's first gradient as its
            # ``.grad``, which the next replay would overwrite (PyTorch's AccumulateGrad
            # clones a gradient that other references share, to the same effect).
            return tuple(None if g is None else g.detach().clone() for g in static_grad_inputs)

    def graphed(*args: Tensor) -> Any:
        if len(args) != len(sample_args):
            raise TypeError(f"graphed callable: expected {len(sample_args)} tensor arguments, got {len(args)}")
        outputs = Graphed.apply(*args, *params)
        return outputs[0] if len(outputs) == 1 else outputs

    if module is None:
        return graphed
    eager_forward = module.forward
    training = module.training

    def forward(*args: Tensor) -> Any:
        return graphed(*args) if module.training == training else eager_forward(*args)

    module.forward = forward
    return module
