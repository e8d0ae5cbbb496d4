"""The ATen operators of an exported graph, run with ember's ops: one table, name -> callable.

A node of a ``torch.export`` graph names its operator ``torch.ops.aten.<name>.<overload>`` and
gives each argument under the name of the ATen schema (positional arguments in schema order,
keyword-only ones by name). Every entry below takes its arguments under those names, so a node
is called as ``op(*positional, **keyword_only)``. Most operators are the same-named ember
function (PyTorch's Python API follows the ATen schema); the others have a small adapter here.
An operator the table does not hold raises :class:`NotImplementedError` naming it: an exported
graph never runs a guess.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import operator
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["OpOverload", "get_op", "supported_ops"]

# The device an exported module runs on (that of its inputs): creation operators in the graph
# (``zeros``, ``full``, ``arange``) name the device the program was exported on, a program loaded
# for another device makes them there.
_RUN_DEVICE: contextvars.ContextVar[Any] = contextvars.ContextVar("ember_export_run_device", default=None)


@contextlib.contextmanager
def running_on(device: Any) -> Iterator[None]:
    """Creation operators of the graph run inside this block make their tensors on ``device``."""
    token = _RUN_DEVICE.set(device)
    try:
        yield
    finally:
        _RUN_DEVICE.reset(token)


def _device(device: Any) -> Any:
    run = _RUN_DEVICE.get()
    return run if run is not None else device


class OpOverload:
    """One operator of an exported graph (``torch.ops.aten.linear.default``), callable with ember tensors.

    ``name`` is the qualified name as the archive writes it (``"torch.ops.aten.linear.default"``);
    calling the object runs ember's implementation with the ATen schema's argument names.
    """

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name = name
        self._fn = fn
        parts = name.split(".")
        # how generated code and printed graphs name it: aten.linear.default
        self.__module__ = parts[-3] if len(parts) >= 3 else "aten"
        self.__name__ = "_".join(parts[-2:]) if len(parts) >= 3 else parts[-1]
        self.__qualname__ = self.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> tuple[Any, ...]:
        return get_op, (self.name,)


def _ember() -> Any:
    import ember

    return ember


def _F() -> Any:
    import ember.nn.functional as F

    return F


# --- adapters: each takes the ATen schema's argument names -------------------------------------------


def _factory(fn_name: str) -> Callable[..., Any]:
    def make(
        *args: Any, dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: Any = None, **kw: Any
    ) -> Any:
        kw.pop("memory_format", None)
        kw.pop("requires_grad", None)
        return getattr(_ember(), fn_name)(*args, dtype=dtype, device=_device(device), **kw)

    return make


def _like(fn_name: str) -> Callable[..., Any]:
    def make(self: Any, *args: Any, dtype: Any = None, layout: Any = None, device: Any = None, **kw: Any) -> Any:
        kw.pop("pin_memory", None)
        kw.pop("memory_format", None)
        return getattr(_ember(), fn_name)(self, *args, dtype=dtype, device=device)

    return make


def _scalar_tensor(s: Any, *, dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: Any = None) -> Any:
    ember = _ember()
    return ember.tensor(s, dtype=dtype if dtype is not None else ember.get_default_dtype(), device=_device(device))


def _to_copy(self: Any, *, dtype: Any = None, layout: Any = None, device: Any = None, **kw: Any) -> Any:
    out = self.to(dtype=dtype) if dtype is not None else self
    if device is not None and _RUN_DEVICE.get() is None:
        out = out.to(device)
    return out.clone() if out is self else out


def _to_dtype(self: Any, dtype: Any, non_blocking: bool = False, copy: bool = False, memory_format: Any = None) -> Any:
    out = self.to(dtype)
    return out.clone() if copy and out is self else out


def _to_dtype_layout(self: Any, *, dtype: Any = None, device: Any = None, copy: bool = False, **kw: Any) -> Any:
    out = self if dtype is None else self.to(dtype)
    if device is not None and _RUN_DEVICE.get() is None:
        out = out.to(device)
    return out.clone() if copy and out is self else out


def _to_device(self: Any, device: Any, dtype: Any, non_blocking: bool = False, copy: bool = False, **kw: Any) -> Any:
    return _to_dtype_layout(self, dtype=dtype, device=device, copy=copy)


def _slice(self: Any, dim: int = 0, start: Any = None, end: Any = None, step: int = 1) -> Any:
    index = [slice(None)] * self.dim()
    index[dim] = slice(start, end, step)
    return self[tuple(index)]


def _select(self: Any, dim: int, index: int) -> Any:
    return self.select(dim, index)


def _index(self: Any, indices: list[Any]) -> Any:
    return self[tuple(slice(None) if i is None else i for i in indices)]


def _index_put(self: Any, indices: list[Any], values: Any, accumulate: bool = False) -> Any:
    return _ember().index_put(self, tuple(indices), values, accumulate)


def _addmm(self: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
    return _ember().addmm(self, mat1, mat2, beta=beta, alpha=alpha)


def _expand(self: Any, size: list[int], *, implicit: bool = False) -> Any:
    return self.expand(*size)


def _view(self: Any, size: list[int]) -> Any:
    try:
        return self.view(*size)
    except RuntimeError:
        # PyTorch's graph may view a tensor whose strides differ from ember's (an attention output
        # laid out as PyTorch's kernel lays it): the same values, copied
        return self.reshape(*size)


def _reshape(self: Any, shape: list[int]) -> Any:
    return self.reshape(*shape)


def _view_dtype(self: Any, dtype: Any) -> Any:
    return self.view(dtype)


def _permute(self: Any, dims: list[int]) -> Any:
    return self.permute(*dims)


def _squeeze_dims(self: Any, dim: list[int]) -> Any:
    return self.squeeze(tuple(dim)) if len(dim) else self


def _sum(self: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    ember = _ember()
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return (
            ember.sum(self, dtype=dtype)
            if not keepdim
            else ember.sum(self, tuple(range(self.dim())), True, dtype=dtype)
        )
    return ember.sum(self, tuple(dim), keepdim, dtype=dtype)


def _mean(self: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    ember = _ember()
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return (
            ember.mean(self, dtype=dtype)
            if not keepdim
            else ember.mean(self, tuple(range(self.dim())), True, dtype=dtype)
        )
    return ember.mean(self, tuple(dim), keepdim, dtype=dtype)


def _amax(fn_name: str) -> Callable[..., Any]:
    def reduce(self: Any, dim: Any = (), keepdim: bool = False) -> Any:
        dims = tuple(dim) if dim is not None and len(dim) else tuple(range(self.dim()))
        return getattr(_ember(), fn_name)(self, dims, keepdim)

    return reduce


def _var_correction(fn_name: str) -> Callable[..., Any]:
    def reduce(self: Any, dim: Any = None, *, correction: Any = None, keepdim: bool = False) -> Any:
        dims = tuple(dim) if dim is not None and len(dim) else None
        return getattr(_ember(), fn_name)(
            self, dims, correction=1 if correction is None else correction, keepdim=keepdim
        )

    return reduce


def _any_all(fn_name: str) -> Callable[..., Any]:
    def reduce(self: Any, dim: Any = None, keepdim: bool = False) -> Any:
        fn = getattr(_ember(), fn_name)
        if dim is None:
            return fn(self)
        if isinstance(dim, (list, tuple)):
            if not len(dim):
                return fn(self)
            out = self
            for d in sorted((d % max(self.dim(), 1) for d in dim), reverse=True):
                out = fn(out, d, keepdim)
            return out
        return fn(self, dim, keepdim)

    return reduce


def _var_dim(fn_name: str) -> Callable[..., Any]:
    def reduce(self: Any, dim: Any = None, unbiased: bool = True, keepdim: bool = False) -> Any:
        dims = tuple(dim) if dim is not None and len(dim) else None
        return getattr(_ember(), fn_name)(self, dims, unbiased=unbiased, keepdim=keepdim)

    return reduce


def _vector_norm(self: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    dims = tuple(dim) if dim is not None and len(dim) else None
    return _ember().linalg.vector_norm(self, ord, dims, keepdim, dtype=dtype)


def _norm(self: Any, p: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    return _vector_norm(self, 2 if p is None else p, dim, keepdim, dtype=dtype)


def _native_group_norm(input: Any, weight: Any, bias: Any, N: int, C: int, HxW: int, group: int, eps: float) -> Any:
    return tuple(_ember().native_group_norm(input, weight, bias, N, C, HxW, group, eps))


def _split(self: Any, split_size: Any, dim: int = 0) -> Any:
    return list(_ember().split(self, split_size, dim))


def _unbind(self: Any, dim: int = 0) -> Any:
    return list(_ember().unbind(self, dim))


def _chunk(self: Any, chunks: int, dim: int = 0) -> Any:
    return list(_ember().chunk(self, chunks, dim))


def _convolution(
    input: Any,
    weight: Any,
    bias: Any,
    stride: list[int],
    padding: list[int],
    dilation: list[int],
    transposed: bool,
    output_padding: list[int],
    groups: int,
) -> Any:
    F = _F()
    n = weight.dim() - 2
    if n not in (1, 2, 3):
        raise NotImplementedError(f"aten.convolution: {n}-d convolution is not supported by ember.export")
    if transposed:
        fn = getattr(F, f"conv_transpose{n}d")
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return getattr(F, f"conv{n}d")(input, weight, bias, stride, padding, dilation, groups)


def _conv(n: int, transposed: bool = False) -> Callable[..., Any]:
    if transposed:

        def conv_t(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
            return getattr(_F(), f"conv_transpose{n}d")(
                input, weight, bias, stride, padding, output_padding, groups, dilation
            )

        return conv_t

    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        return getattr(_F(), f"conv{n}d")(input, weight, bias, stride, padding, dilation, groups)

    return conv


def _batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def _bn_no_training(input, weight, bias, running_mean, running_var, momentum, eps):
    out = _F().batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    empty = input.new_zeros((0,))
    return out, empty, empty


def _bn_functional(input, weight, bias, running_mean, running_var, training, momentum, eps):
    # the functional form returns the updated running statistics instead of writing them
    new_mean, new_var = running_mean.clone(), running_var.clone()
    out, save_mean, save_rstd = _ember().native_batch_norm(
        input, weight, bias, new_mean, new_var, training, momentum, eps
    )
    return out, save_mean, save_rstd, new_mean, new_var


def _bn_legit(input, weight, bias, running_mean, running_var, training, momentum, eps):
    return tuple(_ember().native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps))


def _bn_no_stats(input, weight, bias, training, momentum, eps):
    return tuple(_ember().native_batch_norm(input, weight, bias, None, None, training, momentum, eps))


def _layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return _F().layer_norm(input, list(normalized_shape), weight, bias, eps)


def _native_layer_norm(input, normalized_shape, weight, bias, eps):
    return tuple(_ember().native_layer_norm(input, list(normalized_shape), weight, bias, eps))


def _group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return _F().group_norm(input, num_groups, weight, bias, eps)


def _sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, *, scale=None, enable_gqa=False):
    F = _F()
    kw: dict[str, Any] = {"scale": scale}
    if enable_gqa:
        kw["enable_gqa"] = True
    return F.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, **kw)


def _embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return _F().embedding(
        indices, weight, None if padding_idx < 0 else padding_idx, None, 2.0, scale_grad_by_freq, sparse
    )


def _softmax(fn_name: str) -> Callable[..., Any]:
    def run(self, dim, dtype=None):
        return getattr(_F(), fn_name)(self, dim, dtype=dtype)

    return run


def _softmax_internal(fn_name: str) -> Callable[..., Any]:
    def run(self, dim, half_to_float=False):
        return getattr(_F(), fn_name)(self, dim, dtype=_ember().float32 if half_to_float else None)

    return run


def _gelu(self, *, approximate="none"):
    return _F().gelu(self, approximate=approximate)


def _dropout(input, p, train):
    return _F().dropout(input, p, train)


def _native_dropout(input, p, train):
    if not train or p == 0:
        return input.clone(), _ember().ones_like(input, dtype=_ember().bool)
    mask = _ember().rand_like(input, dtype=input.dtype if input.is_floating_point() else None) >= p
    return input * mask / (1 - p), mask


def _pool_stride(kernel_size, stride):
    return kernel_size if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else stride


def _max_pool(n: int, with_indices: bool) -> Callable[..., Any]:
    def pool(self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        fn = getattr(_F(), f"max_pool{n}d")
        return fn(self, kernel_size, _pool_stride(kernel_size, stride), padding, dilation, ceil_mode, with_indices)

    return pool


def _avg_pool(n: int) -> Callable[..., Any]:
    def pool(self, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        fn = getattr(_F(), f"avg_pool{n}d")
        args = [self, kernel_size, _pool_stride(kernel_size, stride), padding, ceil_mode, count_include_pad]
        if n > 1:
            args.append(divisor_override)
        return fn(*args)

    return pool


def _adaptive(name: str) -> Callable[..., Any]:
    def pool(self, output_size):
        return getattr(_F(), name)(self, output_size)

    return pool


def _adaptive_max(n: int) -> Callable[..., Any]:
    def pool(self, output_size):
        return getattr(_F(), f"adaptive_max_pool{n}d")(self, output_size, True)

    return pool


def _hardtanh(self, min_val=-1.0, max_val=1.0):
    return _F().hardtanh(self, min_val, max_val)


def _leaky_relu(self, negative_slope=0.01):
    return _F().leaky_relu(self, negative_slope)


def _elu(self: Any, alpha: float = 1.0, scale: float = 1.0, input_scale: float = 1.0) -> Any:
    # ATen's elu: scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)); selu is (alpha, scale) fixed
    if scale == 1.0 and input_scale == 1.0:
        return _F().elu(self, alpha)
    ember = _ember()
    negative = alpha * (ember.exp(self * input_scale) - 1)
    return scale * ember.where(self > 0, self, negative)


def _einsum(equation: str, tensors: list[Any], *, path: Any = None) -> Any:
    return _ember().einsum(equation, *tensors)


def _softplus(self, beta=1.0, threshold=20.0):
    return _F().softplus(self, beta, threshold)


def _constant_pad_nd(self, pad, value=0):
    return _F().pad(self, list(pad), "constant", value)


def _pad(self, pad, mode="constant", value=None):
    return _F().pad(self, list(pad), mode, value)


def _upsample(mode: str, has_align: bool) -> Callable[..., Any]:
    def up(input, output_size, *rest):
        if has_align:
            align_corners, scale_factors = rest[0], rest[1] if len(rest) > 1 else None
        else:
            align_corners, scale_factors = None, rest[0] if rest else None
        return _F().interpolate(
            input,
            size=list(output_size) if output_size is not None else None,
            scale_factor=list(scale_factors) if scale_factors is not None else None,
            mode=mode,
            align_corners=align_corners,
        )

    return up


def _clone(self, *, memory_format=None):
    return self.clone()


def _contiguous(self, *, memory_format=None):
    return self.contiguous()


def _alias(self):
    return self.view(self.shape)


def _flatten(self, start_dim=0, end_dim=-1):
    return self.flatten(start_dim, end_dim)


def _unflatten(self, dim, sizes):
    return self.unflatten(dim, list(sizes))


def _linear(input, weight, bias=None):
    return _F().linear(input, weight, bias)


def _clamp(self, min=None, max=None):
    return _ember().clamp(self, min, max)


def _where_scalar(condition, self, other):
    return _ember().where(condition, self, other)


def _masked_fill(self, mask, value):
    return self.masked_fill(mask, value)


def _repeat(self, repeats):
    return self.repeat(*repeats)


def _lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    return tuple(
        _ember().lstm(input, list(hx), list(params), has_biases, num_layers, dropout, train, bidirectional, batch_first)
    )


def _gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    return tuple(
        _ember().gru(input, hx, list(params), has_biases, num_layers, dropout, train, bidirectional, batch_first)
    )


def _sym_size(self, dim):
    return self.shape[dim]


def _sym_stride(self, dim):
    return self.stride(dim)


def _sym_numel(self):
    return self.numel()


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


def _unsupported(what: str) -> Any:
    raise NotImplementedError(f"ember.export: {what} is not supported")


def _inplace(method: str) -> Callable[..., Any]:
    """``aten.add_.Tensor``: the tensor method of that name, which writes into ``self`` (a buffer's update)."""

    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        from ..autograd.grad_mode import no_grad

        if getattr(self, "requires_grad", False):
            return getattr(self, method)(*args, **kwargs)
        with no_grad():
            return getattr(self, method)(*args, **kwargs)

    return run


def _copy(self, src, non_blocking=False):
    return src.to(dtype=self.dtype).expand_as(self).clone()


def _method(method: str) -> Callable[..., Any]:
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, method)(*args, **kwargs)

    return run


def _top(fn_name: str) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        return getattr(_ember(), fn_name)(*args, **kwargs)

    run.__name__ = fn_name
    return run


def _functional(fn_name: str) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        return getattr(_F(), fn_name)(*args, **kwargs)

    run.__name__ = fn_name
    return run


# --- the table ---------------------------------------------------------------------------------------

# ember functions whose positional arguments follow the ATen schema of every overload listed
_SAME_NAMED = {
    "abs": "default",
    "acos": "default",
    "asin": "default",
    "atan": "default",
    "atan2": "default",
    "ceil": "default",
    "cos": "default",
    "cosh": "default",
    "erf": "default",
    "exp": "default",
    "expm1": "default",
    "floor": "default",
    "log": "default",
    "log1p": "default",
    "log2": "default",
    "neg": "default",
    "reciprocal": "default",
    "relu": "default",
    "round": "default",
    "rsqrt": "default",
    "sigmoid": "default",
    "sign": "default",
    "sin": "default",
    "sinh": "default",
    "sqrt": "default",
    "square": "default",
    "tan": "default",
    "tanh": "default",
    "trunc": "default",
    "logical_not": "default",
    "logical_and": "default",
    "logical_or": "default",
    "logical_xor": "default",
    "bitwise_not": "default",
    "isnan": "default",
    "isinf": "default",
    "maximum": "default",
    "minimum": "default",
    "mm": "default",
    "bmm": "default",
    "matmul": "default",
    "dot": "default",
    "baddbmm": "default",
    "addmm": "default",
    "tril": "default",
    "triu": "default",
    "flip": "default",
    "roll": "default",
    "cumsum": "default",
    "cat": "default",
    "stack": "default",
    "narrow": "default",
    "index_select": "default",
    "gather": "default",
    "transpose": "int",
    "unsqueeze": "default",
    "t": "default",
    "squeeze": "dim",
    "argmax": "default",
    "argmin": "default",
    "outer": "default",
    "topk": "default",
    "sort": "default",
    "prod": "dim_int",
    "logsumexp": "default",
    "silu": None,
    "mish": None,
    "hardswish": None,
    "hardsigmoid": None,
    "relu6": None,
}

# the binary operators and their ATen overloads (each the same-named ember function)
_BINARY: dict[str, tuple[str, ...]] = {
    "add": ("Tensor", "Scalar"),
    "sub": ("Tensor", "Scalar"),
    "mul": ("Tensor", "Scalar"),
    "div": ("Tensor", "Scalar", "Tensor_mode", "Scalar_mode"),
    "remainder": ("Tensor", "Scalar", "Scalar_Tensor"),
    "fmod": ("Tensor", "Scalar"),
    "pow": ("Tensor_Tensor", "Tensor_Scalar", "Scalar"),
    "floor_divide": ("default", "Scalar"),
    "bitwise_and": ("Tensor", "Scalar", "Scalar_Tensor"),
    "bitwise_or": ("Tensor", "Scalar", "Scalar_Tensor"),
    "bitwise_xor": ("Tensor", "Scalar", "Scalar_Tensor"),
    **{name: ("Tensor", "Scalar") for name in ("eq", "ne", "lt", "le", "gt", "ge")},
}
_BINARY_INPLACE = ("add", "sub", "mul", "div", "remainder", "fmod", "pow", "eq", "ne", "lt", "le", "gt", "ge")


def _rsub(self: Any, other: Any, alpha: Any = 1) -> Any:
    return _ember().rsub(self, other, alpha=alpha)


def _build() -> dict[str, Callable[..., Any]]:
    table: dict[str, Callable[..., Any]] = {}
    for name, overload in _SAME_NAMED.items():
        fn = _functional(name) if overload is None else _top(name)
        table[f"{name}.{overload or 'default'}"] = fn
    for name, overloads in _BINARY.items():
        for overload in overloads:
            table[f"{name}.{overload}"] = _top(name)
    for name in _BINARY_INPLACE:
        for overload in ("Tensor", "Scalar"):
            table[f"{name}_.{overload}"] = _inplace(f"{name}_")
    table["rsub.Tensor"] = table["rsub.Scalar"] = _rsub
    table.update(
        {
            "squeeze.default": _method("squeeze"),
            "squeeze.dims": _squeeze_dims,
            "max.default": _top("max"),
            "min.default": _top("min"),
            "max.dim": lambda self, dim, keepdim=False: tuple(_ember().max(self, dim, keepdim)),
            "min.dim": lambda self, dim, keepdim=False: tuple(_ember().min(self, dim, keepdim)),
            "sort.default": lambda self, dim=-1, descending=False: tuple(_ember().sort(self, dim, descending)),
            "topk.default": lambda self, k, dim=-1, largest=True, sorted=True: tuple(
                _ember().topk(self, k, dim, largest, sorted)
            ),
            "where.self": _top("where"),
            "where.ScalarOther": _where_scalar,
            "where.ScalarSelf": _where_scalar,
            "where.Scalar": _where_scalar,
            "clamp.default": _clamp,
            "clamp.Tensor": _clamp,
            "clamp_min.default": lambda self, min: _ember().clamp(self, min=min),
            "clamp_max.default": lambda self, max: _ember().clamp(self, max=max),
            "clamp_.default": _inplace("clamp_"),
            "linear.default": _linear,
            "addmm.default": _addmm,
            "sum.default": _sum,
            "sum.dim_IntList": _sum,
            "mean.default": _mean,
            "mean.dim": _mean,
            "amax.default": _amax("amax"),
            "amin.default": _amax("amin"),
            "var.correction": _var_correction("var"),
            "std.correction": _var_correction("std"),
            "var.dim": _var_dim("var"),
            "std.dim": _var_dim("std"),
            "var.default": lambda self, unbiased=True: _ember().var(self, unbiased=unbiased),
            "std.default": lambda self, unbiased=True: _ember().std(self, unbiased=unbiased),
            "linalg_vector_norm.default": _vector_norm,
            "norm.ScalarOpt_dim": _norm,
            "norm.Scalar": lambda self, p=2: _vector_norm(self, p),
            "native_group_norm.default": _native_group_norm,
            "any.default": _any_all("any"),
            "any.dim": _any_all("any"),
            "any.dims": _any_all("any"),
            "all.default": _any_all("all"),
            "all.dim": _any_all("all"),
            "all.dims": _any_all("all"),
            "prod.default": _top("prod"),
            "cumsum.default": _top("cumsum"),
            # shapes and views
            "view.default": _view,
            "_unsafe_view.default": _view,
            "view.dtype": _view_dtype,
            "reshape.default": _reshape,
            "expand.default": _expand,
            "expand_as.default": _method("expand_as"),
            "permute.default": _permute,
            "slice.Tensor": _slice,
            "select.int": _select,
            "index.Tensor": _index,
            "index_put.default": _index_put,
            "flatten.using_ints": _flatten,
            "unflatten.int": _unflatten,
            "split.Tensor": _split,
            "split_with_sizes.default": _split,
            "unbind.int": _unbind,
            "chunk.default": _chunk,
            "repeat.default": _repeat,
            "contiguous.default": _contiguous,
            "clone.default": _clone,
            "alias.default": _alias,
            "detach.default": _method("detach"),
            "detach_.default": _method("detach_"),
            "item.default": _method("item"),
            "_local_scalar_dense.default": _method("item"),
            "lift_fresh_copy.default": _clone,
            "masked_fill.Scalar": _masked_fill,
            "masked_fill.Tensor": _masked_fill,
            "_to_copy.default": _to_copy,
            "to.dtype": _to_dtype,
            "to.dtype_layout": _to_dtype_layout,
            "to.device": _to_device,
            "type_as.default": _method("type_as"),
            "copy.default": _copy,
            "copy_.default": _inplace("copy_"),
            "fill_.Scalar": _inplace("fill_"),
            "zero_.default": _inplace("zero_"),
            # creation
            "zeros.default": _factory("zeros"),
            "ones.default": _factory("ones"),
            "empty.memory_format": _factory("zeros"),
            "full.default": _factory("full"),
            "arange.default": _factory("arange"),
            "arange.start": _factory("arange"),
            "arange.start_step": _factory("arange"),
            "scalar_tensor.default": _scalar_tensor,
            "zeros_like.default": _like("zeros_like"),
            "ones_like.default": _like("ones_like"),
            "empty_like.default": _like("zeros_like"),
            "full_like.default": _like("full_like"),
            # nn
            "conv1d.default": _conv(1),
            "conv2d.default": _conv(2),
            "conv3d.default": _conv(3),
            "conv1d.padding": _conv(1),
            "conv2d.padding": _conv(2),
            "conv3d.padding": _conv(3),
            "conv_transpose1d.default": _conv(1, True),
            "conv_transpose2d.input": _conv(2, True),
            "conv_transpose3d.input": _conv(3, True),
            "convolution.default": _convolution,
            "batch_norm.default": _batch_norm,
            "_native_batch_norm_legit_no_training.default": _bn_no_training,
            "_native_batch_norm_legit_functional.default": _bn_functional,
            "_native_batch_norm_legit.default": _bn_legit,
            "_native_batch_norm_legit.no_stats": _bn_no_stats,
            "native_batch_norm.default": _bn_legit,
            "layer_norm.default": _layer_norm,
            "native_layer_norm.default": _native_layer_norm,
            "group_norm.default": _group_norm,
            "scaled_dot_product_attention.default": _sdpa,
            "embedding.default": _embedding,
            "softmax.int": _softmax("softmax"),
            "log_softmax.int": _softmax("log_softmax"),
            "_softmax.default": _softmax_internal("softmax"),
            "_log_softmax.default": _softmax_internal("log_softmax"),
            "gelu.default": _gelu,
            "hardtanh.default": _hardtanh,
            "leaky_relu.default": _leaky_relu,
            "elu.default": _elu,
            "einsum.default": _einsum,
            "softplus.default": _softplus,
            "dropout.default": _dropout,
            "native_dropout.default": _native_dropout,
            "max_pool1d.default": _max_pool(1, False),
            "max_pool2d.default": _max_pool(2, False),
            "max_pool3d.default": _max_pool(3, False),
            "max_pool2d_with_indices.default": _max_pool(2, True),
            "max_pool3d_with_indices.default": _max_pool(3, True),
            "avg_pool1d.default": _avg_pool(1),
            "avg_pool2d.default": _avg_pool(2),
            "avg_pool3d.default": _avg_pool(3),
            "adaptive_avg_pool1d.default": _adaptive("adaptive_avg_pool1d"),
            "adaptive_avg_pool2d.default": _adaptive("adaptive_avg_pool2d"),
            "_adaptive_avg_pool2d.default": _adaptive("adaptive_avg_pool2d"),
            "adaptive_avg_pool3d.default": _adaptive("adaptive_avg_pool3d"),
            "adaptive_max_pool1d.default": _adaptive_max(1),
            "adaptive_max_pool2d.default": _adaptive_max(2),
            "constant_pad_nd.default": _constant_pad_nd,
            "pad.default": _pad,
            "upsample_nearest2d.vec": _upsample("nearest", False),
            "upsample_bilinear2d.vec": _upsample("bilinear", True),
            "lstm.input": _lstm,
            "gru.input": _gru,
            # symbolic sizes and checks
            "sym_size.int": _sym_size,
            "sym_stride.int": _sym_stride,
            "sym_numel.default": _sym_numel,
            "_assert_tensor_metadata.default": _noop,
            "_assert_scalar.default": _noop,
            "sym_constrain_range_for_size.default": _noop,
            "sym_constrain_range.default": _noop,
            "_assert_async.msg": _noop,
        }
    )
    table["relu_.default"] = _inplace("relu_")
    table["silu.default"] = _functional("silu")
    return {f"torch.ops.aten.{k}": v for k, v in table.items()}


def _sym_ops() -> dict[str, Callable[..., Any]]:
    """The Python-level operators on symbolic sizes (``_operator.mul``, ``torch.sym_max``)."""
    table: dict[str, Callable[..., Any]] = {}
    for name in ("add", "sub", "mul", "floordiv", "truediv", "mod", "pow", "neg", "eq", "ne", "lt", "le", "gt", "ge"):
        table[f"_operator.{name}"] = table[f"operator.{name}"] = getattr(operator, name)
    table["_operator.getitem"] = table["operator.getitem"] = operator.getitem
    table.update(
        {
            "_operator.and_": operator.and_,
            "_operator.or_": operator.or_,
            "_operator.not_": operator.not_,
            "torch.sym_max": max,
            "torch.sym_min": min,
            "torch.sym_float": float,
            "torch.sym_int": int,
            "torch.sym_not": operator.not_,
            "torch.sym_sqrt": math.sqrt,
            "math.ceil": math.ceil,
            "math.floor": math.floor,
            "math.trunc": math.trunc,
            "builtins.round": round,
            "torch._sym_sqrt": math.sqrt,
        }
    )
    return table


_TABLE: dict[str, OpOverload] | None = None


def _table() -> dict[str, OpOverload]:
    global _TABLE
    if _TABLE is None:
        raw = _build()
        raw.update(_sym_ops())
        _TABLE = {name: OpOverload(name, fn) for name, fn in raw.items()}
    return _TABLE


def supported_ops() -> list[str]:
    """The qualified names of the operators an exported graph may hold (``torch.ops.aten.linear.default``)."""
    return sorted(_table())


def get_op(name: str) -> OpOverload:
    """The operator ``name`` (``"torch.ops.aten.linear.default"``) of an exported graph.

    Raises:
        NotImplementedError: ember has no implementation of that operator.
    """
    op = _table().get(name)
    if op is None:
        raise NotImplementedError(
            f"ember.export: the operator {name} of the exported graph is not supported by ember "
            f"(ember.export.supported_ops() lists those it runs)"
        )
    return op
