"""``ember.func.jvp`` and ``linearize``: Jacobian-vector products by the double-backward trick.

ember has no forward-mode autograd. With the output's graph recorded, the vector-Jacobian product
``g(u) = u^T J`` is linear in the cotangent ``u``; differentiating ``g`` with respect to ``u``
against a tangent ``t`` gives ``J t``. The values equal forward mode's; the cost is a backward pass
with a graph plus one more per product, and every op on the way needs a differentiable backward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..autograd.functional import _grad
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..autograd.tangents import check_tangent_size, computed_off_graph, cotangent_for
from ..tensor import Tensor
from .argnums import split_aux
from .level import Level, check_primal, check_tensor, detach_tree, flat_outputs
from .pytree import tree_flatten, tree_unflatten

__all__ = ["jvp", "linearize"]

_JVP_API = "jvp(f, primals, tangents)"


class _Linearization:
    """``func``'s output at the primals with the graph of its vector-Jacobian product, ready to
    multiply tangents by the Jacobian (:meth:`__call__`)."""

    def __init__(self, func: Callable[..., Any], primals: tuple[Any, ...], has_aux: bool, api: str) -> None:
        leaves, self.spec = tree_flatten(primals)
        for leaf in leaves:
            check_primal(leaf)
        self.primals = leaves
        self.level = Level(leaves)
        with enable_grad():
            output, aux = split_aux(func(*tree_unflatten(self.level.inputs, self.spec)), has_aux, api)
            self.outputs, self.out_spec = flat_outputs(output, api)
            self.attached = self.level.attached(self.outputs)
            differentiable = [o.requires_grad for o in self.outputs]
            self.cotangents = [cotangent_for(o, d) for o, d in zip(self.outputs, differentiable)]
            self.vjp = _grad(self.outputs, self.level.inputs, self.cotangents, create_graph=True)
        if any(computed_off_graph(g) for g in self.vjp):
            raise NotImplementedError(
                f"{api}: Trying to use forward AD with an op whose backward is not differentiable (computed "
                "off the graph), so J t would come out zero"
            )
        self.output, self.aux = (output, aux) if self.attached else (detach_tree(output), detach_tree(aux))

    def check(self, tangents: list[Any]) -> list[Tensor]:
        """The tangents cast to the primals' dtypes, their shapes checked."""
        result = []
        for primal, tangent in zip(self.primals, tangents):
            check_tangent_size(primal, check_tensor(tangent))
            result.append(tangent if tangent.dtype is primal.dtype else tangent.to(primal.dtype))
        return result

    def __call__(self, tangents: list[Tensor], strict: bool = False) -> Any:
        """``J t`` for the flat ``tangents``, shaped as the output."""
        create_graph = is_grad_enabled() and (self.attached or any(t.requires_grad for t in tangents))
        wrt = [c for c in self.cotangents if c.requires_grad]
        found = iter(_grad(self.vjp, wrt, tangents, create_graph=create_graph, retain_graph=True))
        result = []
        for cotangent, out in zip(self.cotangents, self.outputs):
            product = next(found) if cotangent.requires_grad else None
            if product is None:
                if strict:
                    raise RuntimeError(
                        "jvp(f, primals, tangents, strict=True): The output of f is independent of the inputs. "
                        "This is not allowed with strict=True."
                    )
                product = out.new_zeros(out.shape)
            result.append(product)
        return tree_unflatten(result, self.out_spec)


def jvp(
    func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False
) -> tuple[Any, ...]:
    r"""The Jacobian-vector product: ``func(*primals)`` and :math:`J\,t` for the ``tangents``.

    ember computes it by the double-backward trick (see :mod:`ember.func.forward`): the values
    are forward mode's, the cost two backward passes, and it composes with the other transforms
    (``grad`` of a ``jvp`` gives second derivatives).

    Args:
        func (function): takes the primals, returns a tensor or a pytree of tensors (or a pair
            ``(output, aux)`` with ``has_aux=True``).
        primals (tuple): the point, a tuple of tensors or pytrees, as ``func(*primals)`` takes it.
        tangents (tuple): the direction, with the structure and shapes of ``primals``.
        strict (bool): raise if an output does not depend on the inputs. Default: ``False``.
        has_aux (bool): ``func`` returns an auxiliary object, returned third. Default: ``False``.

    Returns:
        ``(output, jvp_out)``, or ``(output, jvp_out, aux)``.

    Example::

        >>> from ember.func import jvp
        >>> x = ember.tensor([1.0, 2.0])
        >>> out, tangent = jvp(lambda x: x**3, (x,), (ember.ones(2),))
        >>> tangent
        tensor([ 3., 12.])
    """
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP_API}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    primal_spec, tangent_spec = tree_flatten(primals)[1], tree_flatten(tangents)[1]
    if primal_spec != tangent_spec:
        raise RuntimeError(
            f"{_JVP_API}: Expected primals and tangents to have the same python structure. For example, if primals "
            f"is a tuple of 3 tensors, tangents also must be. Got primals with structure {primal_spec} and tangents "
            f"with structure {tangent_spec}"
        )
    if not tree_flatten(primals)[0]:
        raise RuntimeError(f"{_JVP_API}: Expected primals to contain at least one Tensor.")
    for what, tree in (("primals", primals), ("tangents", tangents)):
        for leaf in tree_flatten(tree)[0]:
            if not isinstance(leaf, Tensor):
                raise RuntimeError(f"{_JVP_API}: Expected {what} to only contain Tensors, got {type(leaf)}")
    linear = _Linearization(func, primals, has_aux, _JVP_API)
    product = linear(linear.check(tree_flatten(tangents)[0]), strict)
    return (linear.output, product, linear.aux) if has_aux else (linear.output, product)


def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    r"""``func(*primals)`` and a function ``jvp_fn(*tangents)`` giving :math:`J\,t` at the primals.

    ``func``'s graph is recorded once; each ``jvp_fn`` call is one backward pass through the
    graph of its vector-Jacobian product (the double-backward trick, as :func:`jvp`).

    Args:
        func (function): takes the primals, returns a tensor or a pytree of tensors.
        *primals: the point: tensors or pytrees of tensors.

    Returns:
        ``(output, jvp_fn)``.

    Example::

        >>> from ember.func import linearize
        >>> out, jvp_fn = linearize(lambda x: x.sin(), ember.tensor([0.0, 1.0]))
        >>> jvp_fn(ember.ones(2))
        tensor([1.0000, 0.5403])
    """
    linear = _Linearization(func, primals, False, "linearize(f, *primals)")

    def jvp_fn(*tangents: Any) -> Any:
        flat, spec = tree_flatten(tangents)
        if spec != linear.spec:
            raise RuntimeError(f"Expected the tangents {spec} to have the same argspec as the primals {linear.spec}")
        for i, (tangent, primal) in enumerate(zip(flat, linear.primals)):
            for what in ("shape", "device", "dtype"):
                if getattr(check_tensor(tangent), what) != getattr(primal, what):
                    raise RuntimeError(
                        f"tangent:{i} with {what} {getattr(tangent, what)} in flattened pytree doesn't match the "
                        f"{what} {getattr(primal, what)} of the corresponding primal."
                    )
        return linear(flat)

    return linear.output, jvp_fn
