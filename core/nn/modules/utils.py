"""Helpers that programs import from ``torch.nn.modules.utils``: the argument-to-tuple helpers of
layers (``_pair(3) == (3, 3)``) and :func:`consume_prefix_in_state_dict_if_present`, which lets a
plain model load a state_dict saved from a ``DataParallel``/``DistributedDataParallel`` one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# importable from here, as from torch.nn.modules.utils (custom layers take _pair from there)
from ..functional.conv import _ntuple, _pair, _single, _triple  # noqa: F401

__all__ = ["consume_prefix_in_state_dict_if_present"]

_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t: Sequence[Any], n: int) -> tuple[Any, ...]:
    """``t`` reversed, each item repeated ``n`` times: a layer's padding as :func:`ember.nn.functional.pad` takes it."""
    return tuple(item for item in reversed(t) for _ in range(n))


def _list_with_default(out_size: Any, defaults: list[int]) -> Any:
    """``out_size`` (an int, or a list whose ``None`` items take the matching trailing ``defaults``)."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [d if v is None else v for v, d in zip(out_size, defaults[-len(out_size) :])]


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Remove ``prefix`` from the keys of ``state_dict`` that start with it, in place (and from the
    keys of its ``_metadata``, where the wrapped model's own entry ``"module"`` becomes ``""``).

    A state_dict saved from a ``DataParallel`` or ``DistributedDataParallel`` model names every
    entry ``"module.<name>"``: after ``consume_prefix_in_state_dict_if_present(state_dict,
    "module.")`` the model it wraps loads it.

    Args:
        state_dict (dict): the state_dict to change.
        prefix (str): the prefix to remove, e.g. ``"module."``.

    Example::

        >>> from ember.nn.modules.utils import consume_prefix_in_state_dict_if_present
        >>> state = {"module.weight": ember.ones(2), "head.bias": ember.zeros(1)}
        >>> consume_prefix_in_state_dict_if_present(state, "module.")
        >>> sorted(state)
        ['head.bias', 'weight']
    """
    for key in [key for key in state_dict if key.startswith(prefix)]:
        state_dict[key[len(prefix) :]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is None:
        return
    bare = prefix.replace(".", "")
    for key in [key for key in metadata if key and (key == bare or key.startswith(prefix))]:
        metadata[key[len(prefix) :]] = metadata.pop(key)
