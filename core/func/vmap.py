"""``ember.vmap``: map a function over a dimension of its inputs.

ember has no batching interpreter: :func:`vmap` calls the function once per batch entry, on
slices of the mapped inputs, and stacks the results. The values, gradients, composition with the
other transforms and errors are PyTorch's; the cost is a Python loop over the batch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..ops.movement import stack
from ..tensor import Tensor
from .pytree import TreeSpec, broadcast_prefix, tree_flatten, tree_unflatten
from .vmap_level import VmapLevel

__all__ = ["vmap", "check_randomness"]

_RANDOMNESS = ("error", "different", "same")


def check_randomness(randomness: str) -> None:
    """PyTorch's check of the ``randomness`` argument of :func:`vmap` and ``jacfwd``."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")


def _name(func: Any) -> str:
    return getattr(func, "__name__", repr(func))


def _mapped_inputs(name: str, in_dims: Any, args: tuple[Any, ...]) -> tuple[list[Any], TreeSpec, list[Any], int]:
    """``(leaves, spec, dims, batch_size)``: the flat inputs, their in_dims (normalised) and the batch size."""
    if not args:
        raise ValueError(
            f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are trying to vmap "
            "over a function with no inputs. The latter is unsupported."
        )
    where = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
    if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
        raise ValueError(
            f"{where}: expected `in_dims` to be int or a (potentially nested) tuple matching the structure of "
            f"inputs, got: {type(in_dims)}."
        )
    leaves, spec = tree_flatten(args)
    dims = broadcast_prefix(in_dims, args)
    if dims is None:
        raise ValueError(
            f"{where}: in_dims is not compatible with the structure of `inputs`. in_dims has structure "
            f"{tree_flatten(in_dims)[1]} but inputs has structure {spec}."
        )
    sizes = []
    for i, (leaf, dim) in enumerate(zip(leaves, dims)):
        if dim is None:
            continue
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise ValueError(
                f"{where}: Got in_dim={dim} for an input but in_dim must be either an integer dimension or None."
            )
        if not isinstance(leaf, Tensor):
            raise ValueError(
                f"{where}: Got in_dim={dim} for an input but the input is of type {type(leaf)}. We cannot vmap over "
                "non-Tensor arguments, please use None as the respective in_dim"
            )
        ndim = leaf.dim()
        if not -ndim <= dim < ndim:
            raise ValueError(
                f"{where}: Got in_dim={dim} for some input, but that input is a Tensor of dimensionality {ndim} so "
                f"expected in_dim to satisfy -{ndim} <= in_dim < {ndim}."
            )
        dims[i] = dim % ndim
        sizes.append(leaf.shape[dim])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if len(set(sizes)) > 1:
        raise ValueError(
            f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes {sizes} for the "
            "mapped dimension"
        )
    return leaves, spec, dims, sizes[0]


def _entry(level: VmapLevel, leaf: Any, dim: int | None, index: int | None) -> Any:
    if dim is None:
        return leaf
    if index is None:  # an empty batch: a stand-in entry, to learn the output's structure and shapes
        return leaf.new_zeros(leaf.shape[:dim] + leaf.shape[dim + 1 :])
    return level.entry(leaf, dim, index)


def _run(
    func: Callable[..., Any],
    kwargs: dict[str, Any],
    randomness: str,
    leaves: list[Any],
    spec: TreeSpec,
    dims: list[Any],
    batch_size: int,
) -> list[Any]:
    """``func``'s results, one per batch entry (one for a stand-in entry when the batch is empty)."""
    results = []
    with VmapLevel(batch_size, randomness) as level:
        for index in range(batch_size) if batch_size else [None]:
            entry = tree_unflatten([_entry(level, t, d, index) for t, d in zip(leaves, dims)], spec)
            results.append(func(*entry, **kwargs))
    return results


def _check_out_dims(name: str, out_dims: Any) -> None:
    leaves = tree_flatten(out_dims)[0]
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in leaves):
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python collection of ints "
            "representing where in the outputs the vmapped dimension should appear."
        )


def _same(values: list[Any]) -> bool:
    first = values[0]
    if all(v is first for v in values):
        return True
    if isinstance(first, Tensor):
        return all(isinstance(v, Tensor) and v.shape == first.shape and bool((v == first).all().item()) for v in values)
    return all(v == first for v in values)


def _combine(name: str, out_dims: Any, results: list[Any], batch_size: int) -> Any:
    """The per-entry results stacked along their ``out_dims``."""
    first = results[0]
    leaves, spec = tree_flatten(first)
    if isinstance(first, Tensor) and isinstance(out_dims, tuple) and len(out_dims) == 1:
        out_dims = out_dims[0]
    dims = broadcast_prefix(out_dims, first)
    if dims is None:
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the structure of "
            f"`outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but outputs has structure {spec}."
        )
    flat = [tree_flatten(r)[0] for r in results]
    combined = []
    for k, dim in enumerate(dims):
        values = [entry[k] for entry in flat]
        if dim is None:
            if batch_size and not _same(values):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
            combined.append(values[0])
            continue
        if not isinstance(values[0], Tensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(values[0])}. Did you mean to "
                "set out_dims= to None for output?"
            )
        stacked = stack(values, dim=dim)
        combined.append(stacked if batch_size else stacked.narrow(dim % stacked.dim(), 0, 0))
    return tree_unflatten(combined, spec)


def vmap(
    func: Callable[..., Any],
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable:
    r"""Vectorizing map: ``vmap(func)(x)`` applies ``func`` to every slice of ``x`` along ``in_dims``
    and stacks the results along ``out_dims``.

    ``func`` sees each batch entry without the mapped dimension. Inputs and outputs may be pytrees
    (tuples, lists, dicts) of tensors; ``in_dims``/``out_dims`` are an int, ``None`` (not mapped) or
    a pytree matching a prefix of them. Keyword arguments are passed unmapped. ``vmap`` nests and
    composes with :func:`ember.func.grad` (``vmap(grad(f))`` gives per-sample gradients).

    ember runs ``func`` once per batch entry in a Python loop and stacks the outputs (it has no
    batching interpreter): the results are PyTorch's, the speed is a loop's. A mapped value read as a
    Python number (``.item()``, ``float()``, an ``if`` on a tensor) raises as in PyTorch when it is an
    entry of a mapped input or differs between entries (one that is the same in every entry passes,
    where PyTorch refuses it). An output with ``out_dims=None`` must be the same for every entry
    (checked by value: an output that depends on the batch only in ways that cancel is accepted,
    where PyTorch refuses it). ``randomness``:
    ``"error"`` raises when ``func`` draws random numbers, ``"same"`` replays the same draws for every
    entry, ``"different"`` lets them differ. A custom ``autograd.Function`` needs a ``vmap`` staticmethod (called on the batched
    inputs) or ``generate_vmap_rule=True``, as in PyTorch. ``chunk_size`` is checked and has no other
    effect.

    Args:
        func (function): takes tensors (or pytrees of them), returns tensors (or pytrees of them).
        in_dims (int, None or tuple): the mapped dimension of each input. Default: ``0``.
        out_dims (int, None or tuple): where the mapped dimension goes in each output. Default: ``0``.
        randomness (str): ``"error"``, ``"different"`` or ``"same"``. Default: ``"error"``.
        chunk_size (int, optional): entries per batch in PyTorch; must be positive. Default: ``None``.

    Returns:
        A function with ``func``'s arguments.

    Example::

        >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.vmap(ember.dot)(x, x)
        tensor([ 5., 25.])
        >>> ember.vmap(lambda row, w: row * w, in_dims=(1, None))(x, 10.0)
        tensor([[10., 30.],
                [20., 40.]])
    """
    check_randomness(randomness)
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        name = _name(func)
        leaves, spec, dims, batch_size = _mapped_inputs(name, in_dims, args)
        _check_out_dims(name, out_dims)
        results = _run(func, kwargs, randomness, leaves, spec, dims, batch_size)
        return _combine(name, out_dims, results, batch_size)

    return wrapped
