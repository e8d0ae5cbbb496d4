"""``ember.func.grad``, ``grad_and_value`` and ``vjp``: reverse-mode transforms of a function."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..autograd.functional import _grad
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..tensor import Tensor
from .argnums import normalize_argnums, replace, select, split_aux
from .level import Level, detach_tree, flat_outputs
from .pytree import tree_flatten, tree_unflatten, treespec_pprint

__all__ = ["grad", "grad_and_value", "vjp"]

_GRAD_API = "grad_and_value(f)(*args)"


def _zeros_for_unused(grads: Any, inputs: list[Tensor]) -> list[Tensor]:
    return [inp.new_zeros(inp.shape) if g is None else g for g, inp in zip(grads, inputs)]


def _grad_and_value(
    func: Callable[..., Any], argnums: Any, has_aux: bool, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any]:
    argnums = normalize_argnums(argnums, len(args))
    leaves, spec = tree_flatten(select(args, argnums))
    level = Level(leaves)
    with enable_grad():
        result = func(*replace(args, argnums, tree_unflatten(level.inputs, spec)), **kwargs)
        output, aux = split_aux(result, has_aux, _GRAD_API)
        if not isinstance(output, Tensor):
            raise RuntimeError(f"{_GRAD_API}: Expected f(*args) to return a Tensor, got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError(
                f"{_GRAD_API}: Expected f(*args) to return a scalar Tensor, got tensor with {output.dim()} dims. "
                "Maybe you wanted to use the vjp or jacrev APIs instead?"
            )
        attached = level.attached([output])
        grads = _grad((output,), level.inputs, create_graph=attached)
    grads = tree_unflatten(_zeros_for_unused(grads, level.inputs), spec)
    if not attached:
        output, aux = output.detach(), detach_tree(aux)
    return (grads, (output, aux)) if has_aux else (grads, output)


def grad_and_value(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    r"""The gradient of ``func`` with respect to the arguments ``argnums``, and ``func``'s value.

    Like :func:`grad`, but the returned function gives ``(gradient, value)``, or
    ``(gradient, (value, aux))`` with ``has_aux=True``: the forward pass is run once for both.

    Args:
        func (function): takes tensors (or pytrees of them) and returns a scalar tensor, or a pair
            ``(scalar, aux)`` with ``has_aux=True``.
        argnums (int or tuple of ints): the positional arguments to differentiate. Default: ``0``.
        has_aux (bool): ``func`` returns an auxiliary object, passed through detached. Default: ``False``.

    Returns:
        A function with ``func``'s arguments.

    Example::

        >>> from ember.func import grad_and_value
        >>> g, value = grad_and_value(lambda x: (x**2).sum())(ember.tensor([1.0, 2.0]))
        >>> g, value
        (tensor([2., 4.]), tensor(5.))
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _grad_and_value(func, argnums, has_aux, args, kwargs)

    return wrapper


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    r"""The gradient transform: ``grad(func)(x)`` is :math:`\nabla_x \text{func}(x)`.

    ``func`` must return a scalar tensor. The result has the structure of the differentiated
    argument (a pytree of tensors), or a tuple of them for a tuple ``argnums``. Transforms compose:
    ``grad(grad(f))`` is the second derivative, ``vmap(grad(f))`` gives per-sample gradients, and
    the result stays differentiable by ``ember.autograd`` with respect to tensors outside that
    require grad (inputs, closed-over parameters). Inputs that ``func`` does not use get zero
    gradients. Built on ember's reverse-mode autograd: each call records ``func``'s graph once.

    Args:
        func (function): takes tensors (or pytrees of them) and returns a scalar tensor, or a pair
            ``(scalar, aux)`` with ``has_aux=True``.
        argnums (int or tuple of ints): the positional arguments to differentiate. Default: ``0``.
        has_aux (bool): ``func`` returns an auxiliary object too; the returned function then gives
            ``(gradient, aux)``. Default: ``False``.

    Returns:
        A function with ``func``'s arguments that returns the gradient.

    Example::

        >>> from ember.func import grad
        >>> x = ember.tensor([0.0, 1.0])
        >>> grad(lambda x: x.sin().sum())(x)
        tensor([1.0000, 0.5403])
        >>> grad(grad(lambda x: x.sin()))(ember.tensor(0.5))  # second derivative
        tensor(-0.4794)
        >>> grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(x, ember.tensor([3.0, 4.0]))
        (tensor([3., 4.]), tensor([0., 1.]))
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        grads, value = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    r"""The vector-Jacobian product: runs ``func(*primals)`` and returns its output with a function
    that multiplies cotangents by the Jacobian, :math:`v \mapsto v^\top J`.

    ``vjp_fn(cotangents)`` takes tensors with the structure and shapes of the output and returns a
    tuple with one gradient per primal (zeros where the output does not depend on it). It can be
    called several times.

    Args:
        func (function): takes the primals and returns a tensor or a pytree of tensors (or a pair
            ``(output, aux)`` with ``has_aux=True``).
        *primals: the point: tensors or pytrees of tensors.
        has_aux (bool): ``func`` returns an auxiliary object, returned third. Default: ``False``.

    Returns:
        ``(output, vjp_fn)``, or ``(output, vjp_fn, aux)``.

    Example::

        >>> from ember.func import vjp
        >>> out, vjp_fn = vjp(lambda x: x**2, ember.tensor([1.0, 2.0]))
        >>> vjp_fn(ember.ones(2))
        (tensor([2., 4.]),)
    """
    leaves, spec = tree_flatten(primals)
    level = Level(leaves)
    with enable_grad():
        output, aux = split_aux(func(*tree_unflatten(level.inputs, spec)), has_aux, "vjp(f, *primals)")
    outputs, out_spec = flat_outputs(output, "vjp(f, *primals)", differentiable=True)
    attached = level.attached(outputs)

    def vjp_fn(cotangents: Any, *, retain_graph: bool = True, create_graph: bool | None = None) -> tuple[Any, ...]:
        vectors, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of outputs to the "
                f"function. cotangents: {treespec_pprint(ct_spec)}, primal output: {treespec_pprint(out_spec)}"
            )
        vectors = [v if v.dtype is o.dtype else v.to(o.dtype) for v, o in zip(vectors, outputs)]
        if create_graph is None:
            create_graph = is_grad_enabled() and (attached or any(v.requires_grad for v in vectors))
        grads = _grad(outputs, level.inputs, vectors, create_graph=create_graph, retain_graph=retain_graph)
        return tree_unflatten(_zeros_for_unused(grads, level.inputs), spec)

    if not attached:
        output, aux = detach_tree(output), detach_tree(aux)
    return (output, vjp_fn, aux) if has_aux else (output, vjp_fn)
