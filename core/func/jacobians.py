"""``ember.func.jacrev``, ``jacfwd`` and ``hessian``: Jacobians of a function, row by row."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..autograd.functional import _grad, _stack
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from .argnums import normalize_argnums, replace, select, split_aux
from .level import Level, check_primal, detach_tree, flat_outputs
from .pytree import tree_flatten, tree_unflatten
from .vmap import check_randomness
from .vmap_level import VmapLevel

__all__ = ["jacrev", "jacfwd", "hessian"]


def _check_real(api: str, what: str, tensors: list[Any]) -> None:
    """Refuse complex ``inputs`` or ``outputs`` of a Jacobian, as PyTorch's ``jacrev`` and ``jacfwd`` do."""
    for index, tensor in enumerate(tensors):
        if isinstance(tensor, Tensor) and tensor.is_complex():
            raise RuntimeError(
                f"{api}: Expected all {what} to be real but received complex tensor at flattened input idx: {index}"
            )


def _jacobian(
    func: Callable[..., Any],
    argnums: Any,
    has_aux: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    forward: bool = False,
) -> tuple[Any, Any]:
    """``(jacobian, aux)``: one backward pass per output element; each block is shaped
    ``output.shape + input.shape``, nested as output pytree of (differentiated) input pytrees. The
    blocks have the inputs' dtypes (reverse mode's), or with ``forward`` the outputs' (forward mode's:
    a tangent has its output's dtype). Complex inputs and outputs are refused, as PyTorch's are."""
    argnums = normalize_argnums(argnums, len(args))
    leaves, spec = tree_flatten(select(args, argnums))
    api = "jacfwd" if forward else "jacrev"
    _check_real(api, "inputs", leaves)
    level = Level(leaves)
    inputs = level.inputs
    with enable_grad():
        result = func(*replace(args, argnums, tree_unflatten(inputs, spec)), **kwargs)
        output, aux = split_aux(result, has_aux, "vjp(f, *primals)")
        outputs, out_spec = flat_outputs(output, "vjp(f, *primals)", differentiable=not forward)
        _check_real(api, "outputs", outputs)
        attached = level.attached(outputs)
        jacobians = []
        for out in outputs:
            rows: list[list[Tensor]] = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(out.numel() if out.requires_grad else 0):
                found = _grad((flat[j],), inputs, retain_graph=True, create_graph=attached)
                for row, g, inp in zip(rows, found, inputs):
                    row.append(inp.new_zeros(inp.shape) if g is None else g)
            blocks = [
                (_stack(row, inp) if out.requires_grad else inp.new_zeros((out.numel(), *inp.shape))).reshape(
                    (*out.shape, *inp.shape)
                )
                for row, inp in zip(rows, inputs)
            ]
            if forward:
                blocks = [b if b.dtype is out.dtype else b.to(out.dtype) for b in blocks]
            jacobians.append(tree_unflatten(blocks, spec))
    if not attached:
        aux = detach_tree(aux)
    return tree_unflatten(jacobians, out_spec), aux


def jacrev(
    func: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
    _preallocate_and_copy: bool = False,
) -> Callable:
    r"""The Jacobian of ``func`` with respect to the arguments ``argnums``, by reverse mode.

    Each output tensor gets a Jacobian block of shape ``output.shape + input.shape`` (for every
    differentiated input, with the input's pytree structure; a tuple of them for a tuple
    ``argnums``). ember records ``func``'s graph once and runs one backward pass per output
    element; ``chunk_size`` is checked and otherwise has no effect (PyTorch batches rows with
    ``vmap``). Composes with the other transforms (``jacrev(jacrev(f))`` is the Hessian).

    Args:
        func (function): takes tensors (or pytrees of them), returns a tensor or a pytree of tensors
            (or a pair ``(output, aux)`` with ``has_aux=True``).
        argnums (int or tuple of ints): the positional arguments to differentiate. Default: ``0``.
        has_aux (bool): ``func`` returns an auxiliary object; the result is then
            ``(jacobian, aux)``. Default: ``False``.
        chunk_size (int, optional): rows per batch in PyTorch; must be positive. Default: ``None``.

    Returns:
        A function with ``func``'s arguments that returns the Jacobian.

    Example::

        >>> from ember.func import jacrev
        >>> jacrev(lambda x: x**2)(ember.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        jacobian, aux = _jacobian(func, argnums, has_aux, args, kwargs)
        return (jacobian, aux) if has_aux else jacobian

    return wrapper


def jacfwd(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *, randomness: str = "error"
) -> Callable:
    r"""The Jacobian of ``func`` with respect to the arguments ``argnums``, as PyTorch's forward-mode
    ``jacfwd`` returns it.

    ember has no forward-mode autograd, so the same Jacobian is assembled by rows in reverse mode
    (:func:`jacrev`'s computation): the values and the structure are ``jacfwd``'s; the cost is one
    backward pass per output element rather than one forward pass per input element.

    Args:
        func (function): takes tensors (or pytrees of them), returns a tensor or a pytree of tensors
            (or a pair ``(output, aux)`` with ``has_aux=True``).
        argnums (int or tuple of ints): the positional arguments to differentiate. Default: ``0``.
        has_aux (bool): ``func`` returns an auxiliary object; the result is then
            ``(jacobian, aux)``. Default: ``False``.
        randomness (str): ``"error"`` (a random draw in ``func`` raises), ``"different"`` or ``"same"``;
            ``func`` runs once, so every row sees the same random draws. Default: ``"error"``.

    Returns:
        A function with ``func``'s arguments that returns the Jacobian.

    Example::

        >>> from ember.func import jacfwd
        >>> jacfwd(lambda x: x.sin())(ember.tensor([0.0, 1.0]))
        tensor([[1.0000, 0.0000],
                [0.0000, 0.5403]])
    """
    check_randomness(randomness)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        primals = []
        if isinstance(argnums, (int, tuple)):
            primals = [check_primal(p) for p in tree_flatten(select(args, normalize_argnums(argnums, len(args))))[0]]
        # PyTorch maps the forward products over the inputs' elements: vmap's checks of random draws
        # and custom Functions apply
        with VmapLevel(sum(p.numel() for p in primals), randomness, maps_inputs=False):
            jacobian, aux = _jacobian(func, argnums, has_aux, args, kwargs, forward=True)
        return (jacobian, aux) if has_aux else jacobian

    return wrapper


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable:
    r"""The Hessian of ``func`` with respect to the arguments ``argnums``: ``jacfwd(jacrev(func))``.

    For a scalar ``func`` of an ``(n,)`` input the result has shape ``(n, n)``; in general
    ``output.shape + input.shape + input.shape``.

    Args:
        func (function): takes tensors, returns a tensor or a pytree of tensors.
        argnums (int or tuple of ints): the positional arguments to differentiate. Default: ``0``.

    Returns:
        A function with ``func``'s arguments that returns the Hessian.

    Example::

        >>> from ember.func import hessian
        >>> hessian(lambda x: (x**3).sum())(ember.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)
