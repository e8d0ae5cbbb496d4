"""How the functions of ``ember`` and ``ember.nn.functional`` run on nested tensors (``__torch_function__``).

A function with a nested-tensor method of the same name (``ember.relu``, ``ember.add``, ``F.relu``,
``ember.transpose``) calls that method; the layers' functions (``linear``, ``layer_norm``, ``rms_norm``,
the activations, ``dropout``) run on the values; ``scaled_dot_product_attention`` pads each batch of
queries, keys and values, attends with the padding masked, and packs the result again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..nn import functional as F
from ..ops.creation import arange
from ..tensor import Tensor, tensor
from .nested_tensor import NestedTensor, _pad, _unpad, _values_of

#: the functions of ember.nn.functional that act on each element (with the element's own arguments):
#: they run on the values
_ON_VALUES = (
    "relu", "relu6", "gelu", "silu", "mish", "elu", "selu", "celu", "leaky_relu", "hardtanh", "hardswish",
    "hardsigmoid", "softplus", "sigmoid", "tanh", "logsigmoid", "softsign", "tanhshrink", "threshold",
    "dropout", "alpha_dropout", "feature_alpha_dropout",
)  # fmt: skip


def _linear(input: NestedTensor, weight: Tensor, bias: Tensor | None = None) -> NestedTensor:
    if input._ragged_idx == input.dim() - 1:
        raise RuntimeError(f"linear(): the last dimension of a nested tensor of shape {tuple(input.shape)} is ragged")
    return input._like(F.linear(input._values, weight, bias))


def _over_trailing_dims(name: str) -> Callable[..., NestedTensor]:
    """A normalization of ``ember.nn.functional`` (``layer_norm``, ``rms_norm``) over a nested tensor's
    trailing ``normalized_shape``, which must leave out the ragged dimension: it runs on the values."""

    def run(input: NestedTensor, normalized_shape: Any, *args: Any, **kwargs: Any) -> NestedTensor:
        count = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
        if input._ragged_idx >= input.dim() - count:
            raise RuntimeError(
                f"{name}(): normalizing over the ragged dimension of a nested tensor of shape "
                f"{tuple(input.shape)} is not supported"
            )
        return input._like(getattr(F, name)(input._values, normalized_shape, *args, **kwargs))

    return run


def _softmax(name: str) -> Callable[..., NestedTensor]:
    def run(input: NestedTensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> NestedTensor:
        if dim is None:
            raise RuntimeError(f"{name}(): a nested tensor needs an explicit dim")
        return getattr(input, name)(dim, dtype=dtype)

    return run


def _scaled_dot_product_attention(
    query: NestedTensor,
    key: NestedTensor,
    value: NestedTensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    *,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> NestedTensor:
    """Attention of nested ``(B, H, j, E)`` queries, keys and values (each batch with its own length): the
    keys beyond a batch's length are masked out (with ``is_causal``, those after the query too)."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, NestedTensor) or t.dim() != 4 or t._ragged_idx != 2:
            raise RuntimeError(
                f"scaled_dot_product_attention(): expected {name} to be a nested tensor of shape (B, H, j, E) "
                f"(a nested (B, j, H, E) transposed), got {tuple(t.shape)}"
            )
    if attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention(): attn_mask is not supported with nested tensors")
    if key._structure is not value._structure:
        raise RuntimeError("scaled_dot_product_attention(): key and value must have the same ragged structure")
    q, k, v = (_pad(t._values, t._structure, 0.0).transpose(1, 2) for t in (query, key, value))  # (B, H, L, E)
    device = q.device
    positions = arange(k.shape[2], device=device)
    valid = positions < tensor(key._structure.lengths(), device=device).reshape(-1, 1)  # (B, Lk)
    mask = valid[:, None, None, :]
    if is_causal:  # each query sees the keys up to its own position
        rows = arange(q.shape[2], device=device).reshape(-1, 1)
        mask = mask & (positions.reshape(1, -1) <= rows)
    out = F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, dropout_p=dropout_p, scale=scale, enable_gqa=enable_gqa
    )
    return query._like(_unpad(out.transpose(1, 2), query._structure))


def _where(condition: Any, input: Any, other: Any) -> NestedTensor:
    like = next(a for a in (condition, input, other) if isinstance(a, NestedTensor))
    from ..ops.arithmetic import where

    return like._like(where(*(_values_of(a, like, "where") for a in (condition, input, other))))


def _cat(tensors: Any, dim: int = 0) -> NestedTensor:
    from ..ops.movement import cat

    first = tensors[0]
    if not isinstance(first, NestedTensor):
        raise RuntimeError("cat(): expected every tensor to be nested")
    return first._like(cat([_values_of(t, first, "cat") for t in tensors], first._inner(dim, "cat")))


_HANDLERS: dict[Any, Callable[..., Any]] = {
    F.linear: _linear,
    F.layer_norm: _over_trailing_dims("layer_norm"),
    F.rms_norm: _over_trailing_dims("rms_norm"),
    F.softmax: _softmax("softmax"),
    F.log_softmax: _softmax("log_softmax"),
    F.scaled_dot_product_attention: _scaled_dot_product_attention,
}
_BY_NAME = {"where": _where, "cat": _cat, "concat": _cat, "concatenate": _cat}


def torch_function(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Run ``func`` (a function of ember or ember.nn.functional) on arguments among which is a nested tensor."""
    handler = _HANDLERS.get(func)
    if handler is not None:
        return handler(*args, **kwargs)
    name = getattr(func, "__name__", "")
    if name in _BY_NAME:
        return _BY_NAME[name](*args, **kwargs)
    module = getattr(func, "__module__", "") or ""
    if module.startswith("ember.nn.functional") and name in _ON_VALUES and args and isinstance(args[0], NestedTensor):
        return args[0]._like(func(args[0]._values, *args[1:], **kwargs))
    if args and isinstance(args[0], NestedTensor) and callable(getattr(NestedTensor, name, None)):
        return getattr(args[0], name)(*args[1:], **kwargs)
    if len(args) >= 2 and isinstance(args[1], NestedTensor) and name in _REFLECTED:
        return args[1]._binary(name, args[0], reflected=True)
    raise NotImplementedError(f"ember.nested: {name or func!r} does not support nested tensors")


_REFLECTED = frozenset(("add", "sub", "mul", "div", "pow", "remainder", "maximum", "minimum", "atan2", "eq", "ne"))
