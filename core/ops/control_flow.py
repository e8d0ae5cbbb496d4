"""PyTorch's structured control flow, ``cond`` and ``while_loop``, run eagerly.

PyTorch runs them through its compiler so that ``torch.export`` can keep both branches of a
``cond`` and the body of a ``while_loop`` in one graph; its eager result is that of the plain
Python ``if`` or ``while``. ember runs eagerly, so these are that ``if`` and that ``while``, with the
checks PyTorch makes on what it is given (the predicate, the operands, and that each iteration
carries values of the same shape and dtype on, as its compiled form must). What ember does not
check: that the branch *not* taken would return values of the same shapes and dtypes (PyTorch
traces both branches; ember runs only the one taken).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

from .. import dtypes
from ..tensor import Tensor
from ..utils._pytree import tree_leaves
from .overlap import shares_base

__all__ = ["cond", "while_loop"]


def _check_no_aliasing(op: str, operands: Sequence[Any], outputs: Any) -> None:
    """Refuse a branch or body that returns one of its operands, or a view of one, as PyTorch refuses it."""
    inputs = [leaf for leaf in tree_leaves(operands) if isinstance(leaf, Tensor)]
    for output in tree_leaves(outputs):
        if isinstance(output, Tensor) and any(shares_base(output, t) for t in inputs):
            raise RuntimeError(
                f"{op}: Encountered aliasing during higher order op tracing: an output of the branch or body is "
                "an input or a view of one. Return a clone() instead."
            )


def cond(
    pred: bool | int | float | Tensor,
    true_fn: Callable[..., Any],
    false_fn: Callable[..., Any],
    operands: tuple[Any, ...] | list[Any] = (),
) -> Any:
    """``true_fn(*operands)`` if ``pred`` is true, else ``false_fn(*operands)``.

    Args:
        pred (bool or Tensor): the condition: a Python value, or a tensor of one element.
        true_fn (Callable): the branch taken when ``pred`` is true.
        false_fn (Callable): the branch taken otherwise.
        operands (tuple or list): the branch's arguments, possibly nested in dicts, lists and tuples of
            tensors. Default: ``()``.

    Returns:
        What the branch taken returns (gradients flow through it as through any call). A branch may not
        return one of ``operands`` or a view of one (``RuntimeError``, as in PyTorch).

    Example::

        >>> x = ember.tensor([1.0, 2.0])
        >>> ember.cond(x.sum() > 2, lambda t: t * 10, lambda t: t - 1, (x,))
        tensor([10., 20.])
    """
    if isinstance(pred, (bool, int, float)):  # a Python constant picks its branch, unchecked, as in PyTorch
        return true_fn(*operands) if pred else false_fn(*operands)
    if not isinstance(pred, Tensor):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("Expect both branches to be callable.")
    if not isinstance(operands, (tuple, list)) or not builtins.all(
        isinstance(leaf, Tensor) for leaf in tree_leaves(operands)
    ):
        raise RuntimeError(
            "Expect operands to be a tuple of possibly nested dict/list/tuple that only consists of tensor leaves, "
            f"but got {operands}."
        )
    outputs = true_fn(*operands) if bool(pred) else false_fn(*operands)
    _check_no_aliasing("cond", operands, outputs)
    return outputs


def _metadata(value: Any) -> tuple[Any, ...]:
    if isinstance(value, Tensor):
        return ("tensor", tuple(value.shape), value.dtype, value.device)
    return ("int",)


def while_loop(
    cond_fn: Callable[..., Any], body_fn: Callable[..., Any], carried_inputs: tuple[Any, ...] | list[Any]
) -> Any:
    """Apply ``body_fn`` to the carried values while ``cond_fn`` of them is true; return the last values.

    ``while_loop(cond_fn, body_fn, carried_inputs)`` is::

        values = carried_inputs
        while cond_fn(*values):
            values = body_fn(*values)
        return values

    with PyTorch's checks: ``cond_fn`` returns a Python bool or a one-element bool tensor, and
    ``body_fn`` returns as many values as it is given, each a tensor of the shape, dtype and device
    of the one it replaces (or an int for an int), none of them an input or a view of one.

    Args:
        cond_fn (Callable): the loop's condition.
        body_fn (Callable): one iteration.
        carried_inputs (tuple or list): the values carried from iteration to iteration (tensors or ints,
            possibly nested in dicts, lists and tuples).

    Example::

        >>> ember.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2), (ember.tensor(0), ember.ones(2)))
        (tensor(3), tensor([8., 8.]))
    """
    if not callable(cond_fn) or not callable(body_fn):
        raise RuntimeError("Expect cond_fn and body_fn to be callable.")
    leaves = tree_leaves(carried_inputs)
    wrong = [leaf for leaf in leaves if not isinstance(leaf, (Tensor, int))]
    if wrong:  # PyTorch's check of a subgraph's arguments is an assertion
        raise AssertionError(
            f"{wrong} can only be of (Tensor, int) but got {tuple(type(leaf) for leaf in wrong)}: while_loop carries "
            "tensors and ints only"
        )
    expected = [_metadata(leaf) for leaf in leaves]
    values, result = carried_inputs, carried_inputs
    while True:
        go = cond_fn(*values)
        if isinstance(go, Tensor):
            if go.numel() != 1 or go.dtype is not dtypes.bool:
                raise RuntimeError(
                    "while_loop: unsupported cond_fn return type: expected a bool or a one-element bool tensor, "
                    f"got a tensor of shape {list(go.shape)} and dtype {go.dtype}"
                )
        elif not isinstance(go, bool):
            raise RuntimeError(f"while_loop: unsupported cond_fn return type {type(go).__name__}")
        if not bool(go):
            return result
        outputs = body_fn(*values)
        new_leaves = tree_leaves(outputs) if isinstance(outputs, (tuple, list, dict)) else [outputs]
        if len(new_leaves) != len(leaves):
            raise RuntimeError(
                "Expected body_fn_output and carried_inputs to have same number of outputs but got "
                f"{len(new_leaves)} and {len(leaves)}"
            )
        for i, (new, want) in enumerate(zip(new_leaves, expected, strict=True)):
            if _metadata(new) != want:
                raise RuntimeError(
                    "Expected body_fn_output and carried_inputs to have same metadata but found: "
                    f"pair[{i}] differ: {_metadata(new)[1:]} vs {want[1:]}"
                )
        _check_no_aliasing("while_loop", values, outputs)
        # a body of one carried value may return it bare; it is carried (and returned) as given
        values, result = (outputs if isinstance(outputs, (tuple, list)) else (outputs,)), outputs
