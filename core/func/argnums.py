"""``argnums`` of the ``torch.func`` transforms: which positional arguments are differentiated."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .pytree import tree_flatten

__all__ = ["normalize_argnums", "select", "replace", "split_aux"]


def normalize_argnums(argnums: Any, num_args: int) -> int | tuple[int, ...]:
    """``argnums`` checked as PyTorch does against ``num_args`` positional inputs, negatives made positive."""
    if isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in argnums):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        result = tuple(_one(a, num_args) for a in argnums)
        if len(set(result)) != len(result):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        return result
    if not isinstance(argnums, int) or isinstance(argnums, bool):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    return _one(argnums, num_args)


def _one(argnum: int, num_args: int) -> int:
    if not -num_args <= argnum < num_args:
        raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")
    return argnum % num_args


def select(args: tuple[Any, ...], argnums: int | tuple[int, ...]) -> Any:
    """The differentiated arguments: one (``argnums`` an int) or a tuple of them."""
    if isinstance(argnums, int):
        return args[argnums]
    return tuple(args[i] for i in argnums)


def replace(args: tuple[Any, ...], argnums: int | tuple[int, ...], values: Any) -> tuple[Any, ...]:
    """``args`` with the differentiated ones replaced by ``values`` (shaped as :func:`select` gives)."""
    result = list(args)
    if isinstance(argnums, int):
        result[argnums] = values
    else:
        for i, value in zip(argnums, values):
            result[i] = value
    return tuple(result)


def split_aux(result: Any, has_aux: bool, api: str) -> tuple[Any, Any]:
    """``(output, aux)`` of a function called by a transform (``aux`` is ``None`` without ``has_aux``)."""
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    for leaf in tree_flatten(result[1])[0]:
        if not isinstance(leaf, Tensor):  # PyTorch unwraps aux from its transform's level: tensors only
            raise RuntimeError(f"Expected tensors, got unsupported type {type(leaf)}")
    return result
