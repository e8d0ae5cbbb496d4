"""Automatic differentiation: the graph, ``backward``, ``grad``, ``Function`` and checks."""

from __future__ import annotations

from .engine import run_backward
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Function",
    "FunctionCtx",
    "Variable",
    "backward",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "once_differentiable",
]


def _as_list(x):
    if x is None:
        return None
    return [x] if not isinstance(x, (list, tuple)) else list(x)


def _default_grads(outputs, grad_outputs):
    grads = _as_list(grad_outputs) or [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(
            f"grad requires one gradient per output: got {len(grads)} gradients for {len(outputs)} outputs"
        )
    result = []
    for out, g in zip(outputs, grads):
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = out.new_ones(out.shape)
        elif g.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[0] has a shape of {list(g.shape)} and output[0] "
                f"has a shape of {list(out.shape)}."
            )
        result.append(g)
    return result


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    allow_unused=None,
    materialize_grads=False,
):
    """The gradients of ``outputs`` with respect to ``inputs`` (no ``.grad`` is touched).

    Args:
        outputs: tensor(s) to differentiate.
        inputs: tensor(s) to differentiate with respect to.
        grad_outputs: the vector(s) in the vector-Jacobian product; ones for scalars.
        retain_graph: keep the graph. Default: ``create_graph``.
        create_graph: record the backward for higher derivatives. Default: False.
        allow_unused: return None for inputs the outputs do not depend on instead of raising.

    Example::

        >>> x = ember.tensor(3.0, requires_grad=True)
        >>> (g,) = ember.autograd.grad(x ** 3, x)
        >>> g
        tensor(27.)
    """
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grads = _default_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(
        outputs, grads, retain_graph, create_graph, inputs=inputs, allow_unused=bool(allow_unused or materialize_grads)
    )
    if materialize_grads:
        result = tuple(g if g is not None else x.new_zeros(x.shape) for g, x in zip(result, inputs))
    return result


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad`` (see :meth:`Tensor.backward`)."""
    tensors = _as_list(tensors)
    grads = _default_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        for t, g in zip(tensors, grads):
            t.backward(g, retain_graph=True, create_graph=create_graph, inputs=inputs)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 - the seed's spelling
    """The seed's ``Variable(tensor, requires_grad=...)``: returns a tensor sharing ``data``'s storage.

    Tensors carry ``requires_grad`` themselves; this keeps classic code running.
    """
    from ..tensor import Tensor, tensor

    t = data.detach() if isinstance(data, Tensor) else tensor(data)
    if requires_grad:
        t.requires_grad_(True)
    return t
