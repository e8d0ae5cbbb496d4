"""Forward-mode automatic differentiation with dual tensors, as PyTorch's ``torch.autograd.forward_ad``.

Inside a :class:`dual_level`, :func:`make_dual` pairs a tensor (the primal) with a tangent of its
shape; every op on dual tensors gives a result whose tangent is the Jacobian-vector product
:math:`J\\,t` of the op, and :func:`unpack_dual` reads it. Tangents are computed as each op runs,
whatever the grad mode (``no_grad`` keeps them, ``inference_mode`` turns them off, as PyTorch's),
and they leave with the level: after it exits, ``unpack_dual`` gives no tangent.

ember writes no forward formula per op. Each op's backward is linear in its gradient ``u``, so
differentiating ``backward(u)`` against the input tangents gives the output tangent (the
double-backward trick, as :func:`ember.func.jvp`): the values are forward mode's, at the cost of
two small backward passes per op. Ops that make views apply themselves to the tangent, so a view's
tangent is the view of the tangent and an in-place op through it updates the base's tangent, as
in PyTorch. A custom :class:`~ember.autograd.Function` gives its own rule with a static
``jvp(ctx, *tangents)``, reading what ``forward`` kept with ``ctx.save_for_forward``.

Example::

    >>> import ember.autograd.forward_ad as fwAD
    >>> x = ember.tensor([0.0, 1.0])
    >>> with fwAD.dual_level():
    ...     dual = fwAD.make_dual(x, ember.ones(2))
    ...     out = dual.sin() * 2
    ...     fwAD.unpack_dual(out).tangent
    tensor([2.0000, 1.0806])
    >>> print(fwAD.unpack_dual(out).tangent)
    None
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple, cast

from ..tensor import Tensor
from ..type_names import type_name
from . import function
from . import tangents as dual
from .engine import grad as _autograd_grad
from .grad_mode import enable_grad, grad_state
from .tangents import (
    DualLevel,
    check_floating,
    check_tangent_size,
    computed_off_graph,
    cotangent_for,
    in_layout,
    live,
    suspended,
    write_into,
)

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]


class UnpackedDualTensor(NamedTuple):
    """What :func:`unpack_dual` returns: the ``primal`` and its ``tangent`` (None for a tensor that is not dual)."""

    primal: Any
    tangent: Tensor | None


def _current(level: int | None, op: str) -> DualLevel:
    if dual.current is None:
        if level is None:
            raise RuntimeError(
                "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first."
            )
        raise RuntimeError(f"Invalid level given to {op}")
    if level is not None and level != 0:
        raise RuntimeError(f"Invalid level given to {op}")
    return dual.current


def enter_dual_level() -> int:
    """Enter a new forward-mode level and return its index (0: one level at a time, as PyTorch).

    Prefer the :class:`dual_level` context manager. Raises ``RuntimeError`` inside a level.

    Example::

        >>> import ember.autograd.forward_ad as fwAD
        >>> fwAD.enter_dual_level()
        0
        >>> fwAD.exit_dual_level()
    """
    if dual.current is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    dual.open_level()
    function.connect_forward_ad(_Rule)
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Exit the level entered last: every dual tensor made in it loses its tangent.

    Args:
        level (int, optional): the index :func:`enter_dual_level` returned. Default: the current level.

    Example::

        >>> import ember.autograd.forward_ad as fwAD
        >>> fwAD.enter_dual_level()
        0
        >>> fwAD.exit_dual_level(level=0)
    """
    current = -1 if dual.current is None else 0
    if level is None:
        level = current
    if level != current:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. This is not supported."
        )
    if current < 0:
        raise RuntimeError("Dual level must be a positive number.")
    function.connect_forward_ad(None)
    dual.close_level()


class dual_level:  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) for a forward-mode level: :func:`enter_dual_level` on entry,
    :func:`exit_dual_level` on exit. ``with`` gives the level's index.

    Example::

        >>> import ember.autograd.forward_ad as fwAD
        >>> with fwAD.dual_level() as level:
        ...     x = fwAD.make_dual(ember.tensor([2.0]), ember.tensor([1.0]))
        ...     fwAD.unpack_dual(x**3)
        UnpackedDualTensor(primal=tensor([8.]), tangent=tensor([12.]))
        >>> level
        0
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: object) -> Literal[False]:
        exit_dual_level()
        return False

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return fn(*args, **kwargs)

        return wrapper


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` that carries ``tangent`` as its forward-mode gradient.

    The result's ``requires_grad`` and ``grad_fn`` are those of a view of ``tensor``: forward mode
    leaves backward mode as it is, and both run on the same tensors. ``tangent`` is kept as given
    when it has ``tensor``'s strides, else copied into them.

    Args:
        tensor (Tensor): the primal, floating point or complex.
        tangent (Tensor): the direction, of ``tensor``'s shape; it keeps its own floating dtype (as
            PyTorch), and the results of ops get tangents of their own dtypes.
        level (int, optional): the level's index. Default: the current level.

    Example::

        >>> import ember.autograd.forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     x = fwAD.make_dual(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 0.0]))
        ...     fwAD.unpack_dual(x.exp()).tangent
        tensor([2.7183, 0.0000])
    """
    current = _current(level, "_make_dual")
    for value, what in ((tensor, "primal"), (tangent, "tangent")):
        if not isinstance(value, Tensor):
            raise TypeError(f"_make_dual(): argument '{what}' must be Tensor, not {type_name(value)}")
        check_floating(value, what)
    if current.tangent(tensor) is not None:
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at the same level 0 is not "
            "supported."
        )
    if current.tangent(tangent) is not None:
        raise RuntimeError(
            "Setting a forward grad that itself has a forward gradient at the same level0 is not supported."
        )
    check_tangent_size(tensor, tangent)
    if tangent.dtype.is_complex and not tensor.dtype.is_complex:
        raise NotImplementedError(
            f"make_dual: a tangent of dtype {tangent.dtype} for a primal of dtype {tensor.dtype} is not supported "
            "by ember; give the primal a complex dtype"
        )
    dual = tensor.view(tensor.shape)
    current.set(dual, in_layout(tensor, tangent))
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """The primal and the tangent of ``tensor`` at the level: ``(tensor, None)`` outside one.

    Inside a level the primal is a view of ``tensor`` that carries no tangent, and the tangent is
    None for a tensor that is not dual.

    Args:
        tensor (Tensor): a dual tensor, or any tensor.
        level (int, optional): the level's index. Default: the current level.

    Example::

        >>> import ember.autograd.forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     x = fwAD.make_dual(ember.tensor([3.0]), ember.tensor([2.0]))
        ...     primal, tangent = fwAD.unpack_dual(x * x)
        >>> primal, tangent
        (tensor([9.]), tensor([12.]))
    """
    if level is None and dual.current is None:
        return UnpackedDualTensor(tensor, None)
    current = _current(level, "_fw_primal")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not {type_name(tensor)}")
    with suspended():
        primal = tensor.view(tensor.shape)
    current.set(primal, None)  # a view that carries no tangent
    return UnpackedDualTensor(primal, current.tangent(tensor))


# -- propagation: called by Function.apply (per op) and by the in-place writes ---------------------


class _Rule:
    """What ``Function.apply`` calls while a level is in force (see ``function.tangent_rule``)."""

    @staticmethod
    def prepare(cls: Any, ctx: Any, args: tuple[Any, ...]) -> list[Tensor | None] | None:
        """The tangents of the op's inputs, or None when none is dual. ember's own ops then save
        for backward what the dual inputs' gradients need: their tangents come from it."""
        level = live()
        if level is None:
            return None
        tangents = [level.tangent(a) if isinstance(a, Tensor) else None for a in args]
        if not any(t is not None for t in tangents):
            return None
        if not cls._validates_gradients:
            ctx.needs_input_grad = tuple(n or t is not None for n, t in zip(ctx.needs_input_grad, tangents))
        function.connect_forward_ad(None)  # until forward returns (Function.apply connects it again)
        return tangents

    @staticmethod
    def propagate(
        cls: Any, ctx: Any, args: tuple[Any, ...], kwargs: dict[str, Any], outputs: Any, tangents: list[Tensor | None]
    ) -> None:
        """Give the differentiable outputs of the op their tangents."""
        level = live()
        assert level is not None
        # a user's Function, or one of ember's whose backward does not serve (linalg.eig's refuses a cotangent
        # that depends on the eigenvectors' phases): its jvp gives the rule
        custom = cls._validates_gradients or "jvp" in vars(cls)
        if ctx._dirty and not custom:
            return  # ember's own in-place writes record their tangents where they are called (write_tangent)
        if ctx._name == "NotImplemented" and not custom:  # PyTorch's node of an op without derivatives
            raise NotImplementedError(
                f"Trying to use forward AD with {cls.__name__.lstrip('_')} that does not support it."
            )
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        with suspended():
            results: Sequence[Any] | None
            if custom:
                results = _custom_jvp(level, cls, ctx, args, tangents, outs)
            else:
                results = _view_of_tangent(cls, args, kwargs, tangents, outs)
                if results is None:
                    results = _by_double_backward(ctx, args, tangents, outs)
            for out, tangent in zip(outs, results):
                if tangent is not None and not any(out is a for a in args):
                    check_tangent_size(out, tangent)
                    level.set(out, in_layout(out, tangent))
            for entry in ctx._saved:  # an output saved for backward is held as an alias of it: its tangent too
                if isinstance(entry, function.SavedTensor) and entry.output_nr is not None:
                    level.set(entry.data, level.tangent(outs[entry.output_nr]))

    @staticmethod
    def alias_tangent(source: Tensor, alias: Tensor) -> None:
        """``alias``, made of ``source`` (a saved output read back for backward), has its tangent."""
        level = live()
        tangent = None if level is None else level.tangent(source)
        if tangent is not None:
            cast(DualLevel, level).set(alias, tangent)


def _differentiable(ctx: Any, out: Any) -> bool:
    return (
        isinstance(out, Tensor)
        and (out.dtype.is_floating_point or out.dtype.is_complex)
        and not any(out is n for n in ctx._non_differentiable)
    )


def _view_of_tangent(
    cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], tangents: list[Tensor | None], outs: Sequence[Any]
) -> Sequence[Any] | None:
    """The tangents of an op whose outputs view its one dual input: the op applied to the tangent, so
    that they are views of it (an in-place op on the view then updates the input's tangent)."""
    duals = [i for i, t in enumerate(tangents) if t is not None]
    if len(duals) != 1:
        return None
    source = args[duals[0]]
    if not all(
        isinstance(o, Tensor) and o._base is not None and o._version_counter is source._version_counter for o in outs
    ):
        return None
    replaced = list(args)
    replaced[duals[0]] = tangents[duals[0]]
    retarget = getattr(cls, "retarget", None)  # an op whose arguments carry its input's native view
    results = cls.apply(*(retarget(tuple(replaced)) if retarget is not None else replaced), **kwargs)
    return results if isinstance(results, tuple) else (results,)


def _by_double_backward(
    ctx: Any, args: tuple[Any, ...], tangents: list[Tensor | None], outs: Sequence[Any]
) -> list[Tensor | None]:
    """``J t`` for each output: ``backward(u)`` is linear in ``u``, and its gradient with respect to
    ``u`` against the input tangents is the Jacobian times the tangents."""
    differentiable = [_differentiable(ctx, o) for o in outs]
    with enable_grad():
        cotangents = [cotangent_for(o, d) if isinstance(o, Tensor) else None for o, d in zip(outs, differentiable)]
        grads = ctx.apply(*cotangents)
    if any(differentiable):
        _check_recorded(ctx, grads, tangents)
    pairs = [(g, t) for g, t in zip(grads, tangents) if t is not None and isinstance(g, Tensor) and g.requires_grad]
    wrt = [cast(Tensor, c) for c, d in zip(cotangents, differentiable) if d]
    products: Sequence[Tensor | None] = [None] * len(wrt)
    if pairs and wrt:
        create_graph = grad_state.enabled and (
            any(isinstance(a, Tensor) and a.requires_grad for a in args) or any(t.requires_grad for _, t in pairs)
        )
        products = _autograd_grad(
            [g for g, _ in pairs],
            wrt,
            [t if t.dtype is g.dtype else t.to(g.dtype) for g, t in pairs],  # a tangent kept in its own dtype
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    found = iter(products)
    results: list[Tensor | None] = []
    for out, d in zip(outs, differentiable):
        product = next(found) if d else None
        if d and product is None:
            product = out.new_zeros(out.shape)
        elif product is not None and any(product._version_counter is t._version_counter for _, t in pairs):
            # an op whose backward passes the gradient on (clone, a copying reshape): the output, no view of its
            # input, gets a tangent of its own, or an in-place op on the output would write the input's
            product = product.clone()
        results.append(product)
    return results


def _check_recorded(ctx: Any, grads: Sequence[Any], tangents: list[Tensor | None]) -> None:
    """Refuse an op whose backward is not differentiable in its cotangent (see ``computed_off_graph``),
    with PyTorch's error for an op without a forward formula."""
    for grad, tangent in zip(grads, tangents):
        if tangent is not None and computed_off_graph(grad):
            raise NotImplementedError(f"Trying to use forward AD with {ctx.name()} that does not support it.")


def _custom_jvp(
    level: DualLevel, cls: Any, ctx: Any, args: tuple[Any, ...], tangents: list[Tensor | None], outs: Sequence[Any]
) -> list[Tensor | None]:
    """The tangents a user's Function gives with its ``jvp``: zeros stand for the tangents of tensor
    inputs that are not dual, ``ctx.saved_tensors`` reads what ``save_for_forward`` kept."""
    given = [
        t if t is not None else (a.new_zeros(a.shape) if isinstance(a, Tensor) else None)
        for a, t in zip(args, tangents)
    ]
    saved = ctx._saved
    ctx._saved = ctx.__dict__.get("_saved_for_forward", ())
    try:
        results = cls.jvp(ctx, *given)
    finally:
        ctx._saved = saved
    results = results if isinstance(results, tuple) else (results,)
    if len(results) != len(outs):
        raise RuntimeError(
            f"Function's jvp returned an invalid number of forward gradients (expected {len(outs)} but got "
            f"{len(results)})"
        )
    for out, tangent in zip(outs, results):
        if any(out is d for d in ctx._dirty):
            index = next(i for i, a in enumerate(args) if a is out)
            if tangent is not given[index]:
                raise RuntimeError(
                    "An inplace custom Function is not modifying the forward mode gradients inplace. If the forward "
                    "is modifying an input inplace, then the jvp function must modify the corresponding gradient "
                    "inplace."
                )
            if tangents[index] is None:  # the zeros given to it, now written: the input's tangent
                write_into(level, out, tangent)
    return [r if _differentiable(ctx, o) else None for o, r in zip(outs, results)]
