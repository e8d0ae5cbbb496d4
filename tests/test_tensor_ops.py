"""Differential tests of the tensor ops against PyTorch: outputs and input gradients.

Each entry is ``(id, fn, inputs)`` where ``fn(T, *tensors)`` is written once against the
module ``T`` (``ember`` or ``torch``), so the same expression runs on both.
"""

import numpy as np
import pytest
from reference import check, randn

import ember

torch = pytest.importorskip("torch")


def pos(*shape):
    return randn(*shape, low=0.5, high=2.0)


def unit(*shape):
    return randn(*shape, low=-0.9, high=0.9)


def distinct(*shape):
    """Values without ties (so max/sort/topk gradients are unambiguous)."""
    n = int(np.prod(shape))
    return (np.random.default_rng(n).permutation(n).reshape(shape) - n / 2) / 3.0


IDX = np.array([[0, 2, 1], [1, 0, 0]], dtype=np.int64)

# fmt: off
ELEMENTWISE = [
    ("add", lambda T, a, b: a + b, [randn(3, 4), randn(4)]),
    ("add_alpha", lambda T, a, b: T.add(a, b, alpha=2.5), [randn(3, 4), randn(3, 1)]),
    ("radd", lambda T, a: 2 + a, [randn(3)]),
    ("sub", lambda T, a, b: a - b, [randn(2, 1, 3), randn(4, 1)]),
    ("rsub", lambda T, a: 1.5 - a, [randn(3)]),
    ("mul", lambda T, a, b: a * b, [randn(3, 4), randn(3, 4)]),
    ("mul_scalar", lambda T, a: a * 3, [randn(3)]),
    ("div", lambda T, a, b: a / b, [randn(3, 4), pos(4)]),
    ("rdiv", lambda T, a: 2 / a, [pos(3)]),
    ("div_floor", lambda T, a, b: T.div(a, b, rounding_mode="floor"), [randn(5) * 3, pos(5)]),
    ("div_trunc", lambda T, a, b: T.div(a, b, rounding_mode="trunc"), [randn(5) * 3, pos(5)]),
    ("floordiv", lambda T, a: a // 0.7, [randn(5)], {"grad": False}),
    ("remainder", lambda T, a, b: T.remainder(a, b), [randn(6) * 3, pos(6)]),
    ("fmod", lambda T, a, b: T.fmod(a, b), [randn(6) * 3, pos(6)]),
    ("mod_scalar", lambda T, a: a % 0.75, [randn(6)]),
    ("pow_tensor", lambda T, a, b: a ** b, [pos(3, 2), randn(3, 2)]),
    ("pow_scalar", lambda T, a: a ** 3, [randn(4)]),
    ("pow_float", lambda T, a: a.pow(2.5), [pos(4)]),
    ("pow_neg", lambda T, a: a.pow(-2), [pos(4)]),
    ("pow_zero", lambda T, a: a.pow(0), [randn(4)]),
    ("rpow", lambda T, a: 2 ** a, [randn(4)]),
    ("neg", lambda T, a: -a, [randn(3)]),
    ("abs", lambda T, a: a.abs(), [randn(3, 2)]),
    ("sign", lambda T, a: a.sign(), [randn(5)]),
    ("exp", lambda T, a: a.exp(), [randn(3)]),
    ("expm1", lambda T, a: a.expm1(), [randn(3)]),
    ("log", lambda T, a: a.log(), [pos(3)]),
    ("log1p", lambda T, a: a.log1p(), [pos(3)]),
    ("log2", lambda T, a: a.log2(), [pos(3)]),
    ("log10", lambda T, a: a.log10(), [pos(3)]),
    ("sqrt", lambda T, a: a.sqrt(), [pos(3)]),
    ("rsqrt", lambda T, a: a.rsqrt(), [pos(3)]),
    ("square", lambda T, a: a.square(), [randn(3)]),
    ("reciprocal", lambda T, a: a.reciprocal(), [pos(3)]),
    ("sin", lambda T, a: a.sin(), [randn(3)]),
    ("cos", lambda T, a: a.cos(), [randn(3)]),
    ("tan", lambda T, a: a.tan(), [unit(3)]),
    ("asin", lambda T, a: a.asin(), [unit(3)]),
    ("acos", lambda T, a: a.acos(), [unit(3)]),
    ("atan", lambda T, a: a.atan(), [randn(3)]),
    ("atan2", lambda T, a, b: T.atan2(a, b), [randn(4), randn(4)]),
    ("sinh", lambda T, a: a.sinh(), [randn(3)]),
    ("cosh", lambda T, a: a.cosh(), [randn(3)]),
    ("tanh", lambda T, a: a.tanh(), [randn(3)]),
    ("sigmoid", lambda T, a: a.sigmoid(), [randn(3) * 5]),
    ("erf", lambda T, a: a.erf(), [randn(3)]),
    ("floor", lambda T, a: a.floor(), [randn(5) * 3]),
    ("ceil", lambda T, a: a.ceil(), [randn(5) * 3]),
    ("round", lambda T, a: a.round(), [np.array([0.5, 1.5, 2.5, -0.5, 1.2, -1.7])]),
    ("round_decimals", lambda T, a: T.round(a, decimals=2), [randn(5)]),
    ("trunc", lambda T, a: a.trunc(), [randn(5) * 3]),
    ("frac", lambda T, a: a.frac(), [randn(5) * 3]),
    ("clamp", lambda T, a: a.clamp(-0.5, 0.5), [randn(6)]),
    ("clamp_min", lambda T, a: a.clamp(min=0.1), [randn(6)]),
    ("clamp_max", lambda T, a: T.clamp(a, max=0.1), [randn(6)]),
    ("clamp_tensor", lambda T, a, lo, hi: a.clamp(lo, hi), [randn(6), randn(6) - 1, randn(6) + 1]),
    ("clip", lambda T, a: a.clip(-0.2, 0.3), [randn(6)]),
    ("maximum", lambda T, a, b: T.maximum(a, b), [randn(3, 4), randn(4)]),
    ("minimum", lambda T, a, b: T.minimum(a, b), [randn(3, 4), randn(4)]),
    ("max_binary", lambda T, a, b: T.max(a, b), [randn(3, 4), randn(3, 4)]),
    ("min_binary", lambda T, a, b: T.min(a, b), [randn(3, 4), randn(3, 4)]),
    ("maximum_ties", lambda T, a, b: T.maximum(a, b), [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])]),
    ("where", lambda T, a, b: T.where(a > 0, a, b), [randn(3, 4), randn(4)]),
    ("where_scalar", lambda T, a: T.where(a > 0, a, 0.0), [randn(3, 4)]),
    ("lerp", lambda T, a, b: T.lerp(a, b, 0.3), [randn(4), randn(4)]),
    ("addcmul", lambda T, a, b, c: T.addcmul(a, b, c, value=0.5), [randn(4), randn(4), randn(4)]),
    ("addcdiv", lambda T, a, b, c: T.addcdiv(a, b, c, value=0.5), [randn(4), randn(4), pos(4)]),
    ("chain", lambda T, a, b: ((a * b).exp() + a.sin() / (1 + b * b)).tanh(), [randn(3, 2), randn(3, 2)]),
]

COMPARISONS = [
    ("eq", lambda T, a, b: a == b), ("ne", lambda T, a, b: a != b), ("lt", lambda T, a, b: a < b),
    ("le", lambda T, a, b: a <= b), ("gt", lambda T, a, b: a > b), ("ge", lambda T, a, b: a >= b),
    ("logical_and", lambda T, a, b: T.logical_and(a > 0, b > 0)),
    ("logical_or", lambda T, a, b: T.logical_or(a > 0, b > 0)),
    ("logical_xor", lambda T, a, b: T.logical_xor(a > 0, b > 0)),
    ("logical_not", lambda T, a, b: T.logical_not(a > b)),
    ("and", lambda T, a, b: (a > 0) & (b > 0)), ("or", lambda T, a, b: (a > 0) | (b > 0)),
    ("invert", lambda T, a, b: ~(a > b)),
    ("isnan", lambda T, a, b: T.isnan(a / b)), ("isinf", lambda T, a, b: T.isinf(a / b)),
    ("isfinite", lambda T, a, b: T.isfinite(a / b)),
]

REDUCTIONS = [
    ("sum", lambda T, a: a.sum(), [randn(3, 4)]),
    ("sum_dim", lambda T, a: a.sum(1), [randn(3, 4)]),
    ("sum_dims_keep", lambda T, a: a.sum((0, 2), keepdim=True), [randn(2, 3, 4)]),
    ("sum_neg", lambda T, a: T.sum(a, -1), [randn(2, 3)]),
    ("mean", lambda T, a: a.mean(), [randn(3, 4)]),
    ("mean_dim", lambda T, a: a.mean(0, keepdim=True), [randn(3, 4)]),
    ("prod", lambda T, a: a.prod(), [randn(3, 2)]),
    ("prod_dim", lambda T, a: a.prod(1), [randn(3, 4)]),
    ("prod_zero", lambda T, a: a.prod(1), [np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]])]),
    ("max", lambda T, a: a.max(), [distinct(3, 4)]),
    ("min", lambda T, a: a.min(), [distinct(3, 4)]),
    ("max_dim", lambda T, a: tuple(a.max(1)), [distinct(3, 4)]),
    ("min_dim_keep", lambda T, a: tuple(a.min(0, keepdim=True)), [distinct(3, 4)]),
    ("max_ties", lambda T, a: a.max(), [np.array([1.0, 3.0, 3.0])]),
    ("amax", lambda T, a: a.amax(1), [distinct(3, 4)]),
    ("amin", lambda T, a: a.amin((0, 1)), [distinct(3, 4)]),
    ("argmax", lambda T, a: a.argmax(), [distinct(3, 4)]),
    ("argmax_dim", lambda T, a: a.argmax(1), [distinct(3, 4)]),
    ("argmin_dim", lambda T, a: T.argmin(a, 0, keepdim=True), [distinct(3, 4)]),
    ("var", lambda T, a: a.var(), [randn(3, 4)]),
    ("var_dim", lambda T, a: a.var(1, unbiased=False), [randn(3, 4)]),
    ("var_correction", lambda T, a: T.var(a, 0, correction=0, keepdim=True), [randn(3, 4)]),
    ("std", lambda T, a: a.std(), [randn(3, 4)]),
    ("std_dim", lambda T, a: a.std(0), [randn(3, 4)]),
    ("norm", lambda T, a: a.norm(), [randn(3, 4)]),
    ("norm_p1", lambda T, a: a.norm(1), [randn(3, 4)]),
    ("norm_p3_dim", lambda T, a: a.norm(3, dim=1), [randn(3, 4)]),
    ("norm_inf", lambda T, a: a.norm(float("inf")), [distinct(3, 4)]),
    ("logsumexp", lambda T, a: a.logsumexp(1), [randn(3, 4) * 10]),
    ("logsumexp_keep", lambda T, a: T.logsumexp(a, (0, 1), keepdim=True), [randn(3, 4)]),
    ("cumsum", lambda T, a: a.cumsum(1), [randn(3, 4)]),
    ("cumsum0", lambda T, a: T.cumsum(a, dim=0), [randn(3, 4)]),
    ("all", lambda T, a: (a > -5).all(), [randn(3, 4)]),
    ("any_dim", lambda T, a: (a > 0).any(1), [randn(3, 4)]),
    ("all_dim", lambda T, a: T.all(a > 0, 0), [randn(3, 4)]),
    ("sum_bool", lambda T, a: (a > 0).sum(), [randn(3, 4)]),
    ("sum_bool_dim", lambda T, a: (a > 0).sum(1), [randn(3, 4)]),
    ("mean_int_dtype", lambda T, a: T.mean(a, dtype=T.float64), [randn(3, 4)]),
]

LINALG = [
    ("matmul", lambda T, a, b: a @ b, [randn(3, 4), randn(4, 2)]),
    ("matmul_batched", lambda T, a, b: T.matmul(a, b), [randn(2, 3, 4), randn(4, 2)]),
    ("matmul_broadcast", lambda T, a, b: a @ b, [randn(2, 1, 3, 4), randn(3, 4, 2)]),
    ("matmul_vec", lambda T, a, b: a @ b, [randn(3, 4), randn(4)]),
    ("matmul_vecmat", lambda T, a, b: a @ b, [randn(3), randn(3, 4)]),
    ("matmul_vv", lambda T, a, b: a @ b, [randn(3), randn(3)]),
    ("mm", lambda T, a, b: T.mm(a, b), [randn(3, 4), randn(4, 2)]),
    ("bmm", lambda T, a, b: a.bmm(b), [randn(2, 3, 4), randn(2, 4, 2)]),
    ("mv", lambda T, a, b: a.mv(b), [randn(3, 4), randn(4)]),
    ("dot", lambda T, a, b: T.dot(a, b), [randn(4), randn(4)]),
    ("addmm", lambda T, c, a, b: T.addmm(c, a, b, beta=0.5, alpha=2), [randn(2), randn(3, 4), randn(4, 2)]),
    ("outer", lambda T, a, b: T.outer(a, b), [randn(3), randn(2)]),
]

MOVEMENT = [
    ("view", lambda T, a: a.view(4, 3), [randn(3, 4)]),
    ("view_infer", lambda T, a: a.view(-1, 2), [randn(3, 4)]),
    ("reshape", lambda T, a: a.reshape(2, 6), [randn(3, 4)]),
    ("reshape_tuple", lambda T, a: T.reshape(a, (-1,)), [randn(3, 4)]),
    ("permute", lambda T, a: a.permute(2, 0, 1), [randn(2, 3, 4)]),
    ("transpose", lambda T, a: a.transpose(0, 2), [randn(2, 3, 4)]),
    ("t", lambda T, a: a.t(), [randn(2, 3)]),
    ("T", lambda T, a: a.T, [randn(2, 3)]),
    ("squeeze", lambda T, a: a.squeeze(), [randn(1, 3, 1)]),
    ("squeeze_dim", lambda T, a: a.squeeze(2), [randn(1, 3, 1)]),
    ("unsqueeze", lambda T, a: a.unsqueeze(-1), [randn(2, 3)]),
    ("expand", lambda T, a: a.expand(2, 3, 4), [randn(3, 1)]),
    ("expand_keep", lambda T, a: a.expand(-1, 4), [randn(3, 1)]),
    ("repeat", lambda T, a: a.repeat(2, 1, 3), [randn(2, 3)]),
    ("tile_method_ints", lambda T, a: a.tile(2, 1, 3), [randn(2, 3)]),
    ("tile_method_int", lambda T, a: a.tile(2), [randn(2, 3)]),
    ("tile_tuple", lambda T, a: T.tile(a, (2,)), [randn(2, 3)]),
    ("stack_mixed_dtypes", lambda T, a: T.stack([a, a.double()], 2), [randn(2, 3)]),
    ("flatten", lambda T, a: a.flatten(), [randn(2, 3, 4)]),
    ("flatten_range", lambda T, a: T.flatten(a, 1, 2), [randn(2, 3, 4)]),
    ("contiguous", lambda T, a: a.t().contiguous(), [randn(2, 3)]),
    ("flip", lambda T, a: a.flip(0, 1), [randn(2, 3)]),
    ("cat", lambda T, a, b: T.cat([a, b], 1), [randn(2, 3), randn(2, 2)]),
    ("cat_neg", lambda T, a, b: T.cat((a, b), dim=-1), [randn(2, 3), randn(2, 1)]),
    ("stack", lambda T, a, b: T.stack([a, b], 1), [randn(2, 3), randn(2, 3)]),
    ("split", lambda T, a: a.split(2, 1), [randn(2, 5)]),
    ("split_sections", lambda T, a: T.split(a, [1, 4], dim=1), [randn(2, 5)]),
    ("chunk", lambda T, a: a.chunk(3, 1), [randn(2, 5)]),
    ("narrow", lambda T, a: a.narrow(1, 1, 2), [randn(2, 5)]),
    ("unbind", lambda T, a: a.unbind(1), [randn(2, 3)]),
    ("movedim", lambda T, a: T.movedim(a, 0, 2), [randn(2, 3, 4)]),
    ("roll", lambda T, a: T.roll(a, 1, 1), [randn(2, 3)]),
]

INDEXING = [
    ("getitem_int", lambda T, a: a[1], [randn(3, 4)]),
    ("getitem_slice", lambda T, a: a[1:, ::2], [randn(3, 4)]),
    ("getitem_neg", lambda T, a: a[-1, -2], [randn(3, 4)]),
    ("getitem_none_ellipsis", lambda T, a: a[None, ..., 1], [randn(3, 4)]),
    ("getitem_list", lambda T, a: a[[0, 2, 0]], [randn(3, 4)]),
    ("getitem_tensor_idx", lambda T, a, i: a[i], [randn(3, 4), IDX]),
    ("getitem_two_adv", lambda T, a, i: a[i, i], [randn(3, 4), IDX]),
    ("getitem_adv_slice", lambda T, a: a[:, [3, 1, 1]], [randn(3, 4)]),
    ("getitem_mask", lambda T, a: a[a > 0], [randn(3, 4)]),
    ("getitem_row_mask", lambda T, a: a[a[:, 0] > 0], [randn(5, 2)]),
    ("getitem_python_true", lambda T, a: a[True], [randn(3, 4)]),
    ("getitem_python_false", lambda T, a: a[False, None], [randn(3, 4)]),
    ("getitem_python_bool_mid", lambda T, a: a[0, True, 1:], [randn(3, 4)]),
    ("getitem_python_bool_adv", lambda T, a: a[[2, 0], True], [randn(3, 4)]),
    ("getitem_list_of_lists_is_a_tuple", lambda T, a: _legacy(lambda: a[[[0, 1], [2, 0]]]), [randn(3, 4)]),
    ("getitem_list_with_slice_is_a_tuple", lambda T, a: _legacy(lambda: a[[slice(None), 1]]), [randn(3, 4)]),
    ("getitem_list_with_none_is_a_tuple", lambda T, a: _legacy(lambda: a[[None, 2]]), [randn(3, 4)]),
    ("getitem_list_of_ints_is_one_index", lambda T, a: a[[2, 0, 2]], [randn(3, 4)]),
    ("gather", lambda T, a, i: a.gather(1, i), [randn(2, 3), IDX]),
    ("gather0", lambda T, a, i: T.gather(a, 0, i), [randn(3, 3), IDX]),
    ("scatter", lambda T, a, i, s: a.scatter(1, i[:, :1], s), [randn(2, 3), IDX, randn(2, 1)]),
    ("scatter_value", lambda T, a, i: a.scatter(1, i, 2.5), [randn(2, 3), IDX]),
    ("scatter_add", lambda T, a, i, s: a.scatter_add(1, i, s), [randn(2, 3), IDX, randn(2, 3)]),
    ("index_select", lambda T, a, i: a.index_select(1, i[0]), [randn(2, 3), IDX]),
    ("index_add", lambda T, a, i, s: a.index_add(0, i[1], s), [randn(2, 3), IDX, randn(3, 3)]),
    ("index_add_alpha", lambda T, a, i, s: T.index_add(a, 1, i[0], s, alpha=2), [randn(2, 3), IDX, randn(2, 3)]),
    ("masked_fill", lambda T, a: a.masked_fill(a > 0, -1.0), [randn(3, 4)]),
    ("masked_fill_bcast", lambda T, a, b: a.masked_fill(b > 0, 2.0), [randn(3, 4), randn(4)]),
    ("masked_select", lambda T, a: a.masked_select(a < 0), [randn(3, 4)]),
    ("nonzero", lambda T, a: (a > 0).nonzero(), [randn(3, 4)]),
    ("nonzero_tuple", lambda T, a: T.nonzero(a > 0, as_tuple=True), [randn(3, 4)]),
    ("where_one_arg", lambda T, a: T.where(a > 0), [randn(3, 4)]),
    ("sort", lambda T, a: tuple(a.sort(1)), [distinct(3, 4)]),
    ("sort_desc", lambda T, a: tuple(T.sort(a, 0, descending=True)), [distinct(3, 4)]),
    ("argsort", lambda T, a: a.argsort(1), [distinct(3, 4)]),
    ("topk", lambda T, a: tuple(a.topk(2)), [distinct(3, 4)]),
    ("topk_smallest", lambda T, a: tuple(T.topk(a, 2, dim=0, largest=False)), [distinct(3, 4)]),
    ("kthvalue", lambda T, a: tuple(a.kthvalue(2, 1)), [distinct(3, 4)]),
]

INPLACE = [
    ("add_", lambda T, a, b: (a * 1).add_(b), [randn(3, 4), randn(4)]),
    ("add_alpha_", lambda T, a, b: (a * 1).add_(b, alpha=-2), [randn(3, 4), randn(4)]),
    ("sub_", lambda T, a, b: (a * 1).sub_(b), [randn(3, 4), randn(4)]),
    ("mul_", lambda T, a, b: (a * 1).mul_(b), [randn(3, 4), randn(4)]),
    ("div_", lambda T, a, b: (a * 1).div_(b), [randn(3, 4), pos(4)]),
    ("iadd", lambda T, a, b: _iadd(a * 1, b), [randn(3), randn(3)]),
    ("pow_", lambda T, a: (a * 1).pow_(2), [randn(3)]),
    ("clamp_", lambda T, a: (a * 1).clamp_(-0.5, 0.5), [randn(6)]),
    ("exp_", lambda T, a: (a * 1).exp_(), [randn(3)]),
    ("tanh_", lambda T, a: (a * 1).tanh_(), [randn(3)]),
    ("sigmoid_", lambda T, a: (a * 2).sigmoid_() * a, [randn(3)]),
    ("zero_", lambda T, a: (a * 1).zero_() + a, [randn(3)]),
    ("fill_", lambda T, a: (a * 1).fill_(2.0) * a, [randn(3)]),
    ("copy_", lambda T, a, b: (a * 1).copy_(b) * a, [randn(2, 3), randn(3)]),
    ("masked_fill_", lambda T, a: (a * 1).masked_fill_(a > 0, 0.5), [randn(3, 4)]),
    ("setitem", lambda T, a, b: _setitem(a * 1, (slice(None), 1), b), [randn(3, 4), randn(3)]),
    ("setitem_mask", lambda T, a: _setitem(a * 1, a > 0, 0.0), [randn(3, 4)]),
    ("setitem_adv", lambda T, a, b: _setitem(a * 1, [0, 2], b), [randn(3, 4), randn(4)]),
    ("setitem_python_bool", lambda T, a, b: _setitem(_setitem(a * 1, (0, True), b), False, 7.0), [randn(3, 4), randn(4)]),
    ("view_inplace", lambda T, a: _view_inplace(a * 1), [randn(3, 4)]),
    ("scatter_add_", lambda T, a, i, s: (a * 1).scatter_add_(1, i, s), [randn(2, 3), IDX, randn(2, 3)]),
    ("index_add_", lambda T, a, i, s: (a * 1).index_add_(0, i[1], s), [randn(2, 3), IDX, randn(3, 3)]),
]
# fmt: on


def _legacy(index):
    """``index()`` under the non-tuple-sequence warning both libraries give."""
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        return index()


def _iadd(a, b):
    a += b
    return a


def _setitem(a, key, value):
    a[key] = value
    return a


def _view_inplace(a):
    v = a[1]
    v.mul_(3)
    return a


def _run(fn, inputs, device, dtype, **kwargs):
    check(lambda *xs: fn(ember, *xs), lambda *xs: fn(torch, *xs), inputs, device=device, dtype=dtype, **kwargs)


def _params(table):
    return [pytest.param(fn, inputs, *rest, id=name) for name, fn, inputs, *rest in table]


@pytest.mark.parametrize("fn,inputs,kwargs", _params([e if len(e) == 4 else (*e, {}) for e in ELEMENTWISE]))
def test_elementwise(fn, inputs, kwargs, device, dtype):
    _run(fn, inputs, device, dtype, **kwargs)


def test_atan2_gradient_as_torch_at_the_origin_and_to_the_last_unit(device, dtype):
    """PyTorch multiplies by the reciprocal of a^2 + b^2 (dividing rounds a quarter of float32
    gradients a unit apart) and gives 0 where it is 0 (the origin, or underflow); ember gave NaN there."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(2000), rng.standard_normal(2000)
    a[:4], b[:4] = [0.0, 1e-30, 0.0, -0.0], [0.0, 0.0, -0.0, -0.0]
    upstream = rng.standard_normal(2000)
    grads = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        x, y = (lib.tensor(v, dtype=getattr(lib, dtype.name), device=dev, requires_grad=True) for v in (a, b))
        lib.atan2(x, y).backward(lib.tensor(upstream, dtype=getattr(lib, dtype.name), device=dev))
        grads.append([x.grad.cpu().numpy(), y.grad.cpu().numpy()])
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)


def test_division_gradient_of_the_divisor_rounds_as_torch(device, dtype):
    """PyTorch's div_tensor_other_backward computes -g * (a / b / b); ember's -g * a / (b * b) was a unit
    apart in 46% of float32 elements."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(2000), np.abs(rng.standard_normal(2000)) + 0.1
    check(lambda x, y: x / y, lambda x, y: x / y, [a, b], device=device, dtype=dtype, rtol=0, atol=0)


def test_power_gradients_multiply_in_torchs_order(device, dtype):
    """PyTorch's pow_backward is g * (e * x^(e-1)) (ember's (g * e) * x^(e-1) was a unit apart in 37% of
    float32 elements of x ** 3), and pow_backward_self gives 0 where a tensor exponent is 0."""
    x = np.random.default_rng(0).standard_normal(2000)
    check(lambda t: t**3, lambda t: t**3, [x], device=device, dtype=dtype, rtol=0, atol=0)
    grads = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        a = lib.tensor([0.0, 0.0, 2.0], dtype=getattr(lib, dtype.name), device=dev, requires_grad=True)
        b = lib.tensor([0.0, -1.0, 0.0], dtype=getattr(lib, dtype.name), device=dev, requires_grad=True)
        (a**b).sum().backward()
        grads.append([a.grad.cpu().numpy(), b.grad.cpu().numpy()])
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("fn", [pytest.param(fn, id=name) for name, fn in COMPARISONS])
def test_comparisons(fn, device, dtype):
    a, b = randn(3, 4), randn(3, 4)
    a[0, 0] = b[0, 0]
    b[1, 1] = 0.0
    _run(fn, [a, b], device, dtype, grad=False)


@pytest.mark.parametrize("fn,inputs", _params(REDUCTIONS))
def test_reductions(fn, inputs, device, dtype):
    _run(fn, inputs, device, dtype)


@pytest.mark.parametrize("fn,inputs", _params(LINALG))
def test_linalg(fn, inputs, device, dtype):
    _run(fn, inputs, device, dtype)


@pytest.mark.parametrize("fn,inputs", _params(MOVEMENT))
def test_movement(fn, inputs, device, dtype):
    _run(fn, inputs, device, dtype)


@pytest.mark.parametrize("fn,inputs", _params(INDEXING))
def test_indexing(fn, inputs, device, dtype):
    _run(fn, inputs, device, dtype)


@pytest.mark.parametrize("fn,inputs", _params(INPLACE))
def test_inplace(fn, inputs, device, dtype):
    _run(fn, inputs, device, dtype)


# -- integer and bool inputs ---------------------------------------------------------------
INTS = np.array([[3, -2, 0], [7, 5, -4]], dtype=np.int64)
INT_OPS = [
    ("add", lambda T, a: a + 2),
    ("mul", lambda T, a: a * a),
    ("truediv", lambda T, a: a / 2),
    ("floordiv", lambda T, a: a // 3),
    ("floordiv_neg", lambda T, a: T.div(a, -3, rounding_mode="floor")),
    ("remainder", lambda T, a: a % 3),
    ("fmod", lambda T, a: T.fmod(a, 3)),
    ("pow_int", lambda T, a: a**2),
    ("pow_float", lambda T, a: a**0.5),
    ("rpow", lambda T, a: 2 ** a.abs()),
    ("abs", lambda T, a: a.abs()),
    ("neg", lambda T, a: -a),
    ("sign", lambda T, a: a.sign()),
    ("exp", lambda T, a: a.exp()),
    ("sqrt", lambda T, a: a.abs().sqrt()),
    ("sum", lambda T, a: a.sum(0)),
    ("prod", lambda T, a: a.prod()),
    ("mean_float", lambda T, a: a.float().mean()),
    ("max", lambda T, a: a.max()),
    ("cumsum", lambda T, a: a.cumsum(1)),
    ("clamp", lambda T, a: a.clamp(-1, 4)),
    ("clamp_float", lambda T, a: a.clamp(min=0.5)),
    ("floor", lambda T, a: a.floor()),
    ("round", lambda T, a: a.round()),
    ("bitand", lambda T, a: a & 6),
    ("bitor", lambda T, a: a | 1),
    ("bitxor", lambda T, a: a ^ a.flip(0)),
    ("invert", lambda T, a: ~a),
    ("matmul", lambda T, a: a @ a.t()),
    ("int_plus_float", lambda T, a: a + 1.5),
    ("int_times_float_tensor", lambda T, a: a * T.ones_like(a[0], dtype=T.float32)),
    ("bool_sum", lambda T, a: (a > 0).sum()),
    ("bool_add", lambda T, a: (a > 0) + (a > 1)),
    ("bool_mul_int", lambda T, a: (a > 0) * 3),
    ("uint8", lambda T, a: a.abs().to(T.uint8) + 250),
    ("int32_div", lambda T, a: a.int() / a.int().abs().clamp(min=1)),
    ("iand_writes_through_view", lambda T, a: _augmented(a, lambda v: v.__iand__(6))),
    ("ior_writes_through_view", lambda T, a: _augmented(a, lambda v: v.__ior__(a[1:].flip(0)))),
    ("ixor_writes_through_view", lambda T, a: _augmented(a, lambda v: v.__ixor__(3))),
    ("iand_bool_writes_through_view", lambda T, a: _augmented(a > 0, lambda v: v.__iand__(a[1:] < 5))),
]


def _augmented(a, operator):
    """``view op= other`` on a view of a copy of ``a``, as Python runs it: the result is stored back
    into the view's name; returns the copy, which sees the write where the operator is in place."""
    base = a.clone()
    view = base[1:]
    stored = operator(view)
    assert stored is view  # an in-place operator returns the tensor it changed
    return base


@pytest.mark.parametrize("fn", [pytest.param(fn, id=name) for name, fn in INT_OPS])
def test_integer_ops(fn, device):
    e = fn(ember, ember.tensor(INTS, device=device))
    t = fn(torch, torch.tensor(INTS))
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(e.cpu().numpy(), t.numpy(), rtol=1e-6)


# -- gradcheck -----------------------------------------------------------------------------
GRADCHECK = [
    lambda a, b: (a * b + a / (b * b + 1)).sum(),
    lambda a, b: (a @ b.t()).tanh(),
    lambda a, b: a.pow(2).max(1)[0] + b.logsumexp(1),
    lambda a, b: ember.cat([a, b], 0).sort(0)[0].cumsum(1),
    lambda a, b: a.var(1) + b.std(0).sum() + a.norm(),
    lambda a, b: a[:, [0, 2]].sigmoid() * b[1:, 1:].exp(),
    lambda a, b: ember.where(a > b, a.sin(), b.erf()),
]


@pytest.mark.parametrize("i", range(len(GRADCHECK)))
def test_gradcheck(i, device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip("no float64")
    a = ember.tensor(randn(2, 3), device=device, requires_grad=True)
    b = ember.tensor(randn(2, 3), device=device, requires_grad=True)
    assert ember.autograd.gradcheck(GRADCHECK[i], (a, b))
    assert ember.autograd.gradgradcheck(GRADCHECK[i], (a, b))


def _view_setitem(a):
    v = a[:, 1:]
    v[0] = 0.0
    v.t()[1].mul_(a[:, 0] * 2)
    return a


def _view_of_view(a, b):
    v = a.view(2, 6)[1].view(3, 2)
    v.add_(b)
    return a, v


@pytest.mark.parametrize(
    "fn,inputs",
    [
        pytest.param(lambda T, a: _view_setitem(a * 1), [randn(3, 4)], id="setitem_on_view"),
        pytest.param(lambda T, a, b: _view_of_view(a * 1, b), [randn(3, 4), randn(3, 2)], id="view_of_view"),
        pytest.param(
            lambda T, a, b: _view_of_view(T.zeros(3, 4, dtype=a.dtype, device=a.device), b),
            [randn(3, 4), randn(3, 2)],
            id="into_plain_buffer",
        ),
    ],
)
def test_inplace_on_views(fn, inputs, device, dtype):
    _run(fn, inputs, device, dtype)


def test_float32_formulas_in_pytorchs_order(device):
    """``number / x`` is ``x.reciprocal() * number`` and addcdiv is ``input + value * t1 / t2``, as
    PyTorch computes them, so float32 results agree bit for bit; lerp takes PyTorch's formula from
    the nearer end (weight 1 gives ``end`` exactly, ember's ``input + w * (end - input)`` did not)."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(5000).astype(np.float32), rng.standard_normal(5000).astype(np.float32)
    ta, tb = torch.tensor(a), torch.tensor(b)
    ea, eb = ember.tensor(a, device=device), ember.tensor(b, device=device)
    np.testing.assert_array_equal((0.3 / ea).cpu().numpy(), (0.3 / ta).numpy())
    np.testing.assert_array_equal(
        ember.addcdiv(ea, ea, eb.abs() + 1, value=0.7).cpu().numpy(),
        torch.addcdiv(ta, ta, tb.abs() + 1, value=0.7).numpy(),
    )
    for weight in (0.3, 0.7, 1.0, -0.2):
        expected = torch.lerp(ta, tb, weight).numpy()
        np.testing.assert_allclose(ember.lerp(ea, eb, weight).cpu().numpy(), expected, rtol=2e-7, atol=1e-7)
    np.testing.assert_array_equal(ember.lerp(ea, eb, 1.0).cpu().numpy(), b)
    np.testing.assert_array_equal(ember.lerp(ea, eb, ember.ones(5000, device=device)).cpu().numpy(), b)


_ZERO_DIM_WRITES = [
    ("iadd", lambda T, t: t.__iadd__(2)),
    ("iadd_tensor", lambda T, t: t.__iadd__(T.tensor(2.5))),
    ("mul_", lambda T, t: t.mul_(3)),
    ("clamp_", lambda T, t: t.clamp_(0.0, 1.0)),
    ("fill_", lambda T, t: t.fill_(4.0)),
    ("zero_", lambda T, t: t.zero_()),
    ("copy_", lambda T, t: t.copy_(T.tensor(5.0))),
    ("setitem", lambda T, t: t.__setitem__((), 6.0)),
]


@pytest.mark.parametrize("name,write", _ZERO_DIM_WRITES, ids=[n for n, _ in _ZERO_DIM_WRITES])
def test_in_place_on_a_computed_0d_tensor_matches_torch(device, name, write):
    # a metric accumulated as a tensor: ``self.sum = 0`` then ``self.sum += acc * n``, twice
    def run(T, dev):
        acc = T.tensor([75.0], device=dev)[0]
        total = 0 + acc * 4  # a 0-d result of arithmetic
        total += acc * 4
        write(T, total)
        grad_in = T.tensor(1.5, device=dev, requires_grad=True)
        recorded = grad_in * 2
        write(T, recorded)
        recorded.sum().backward()
        return float(total), float(recorded.detach()), float(grad_in.grad if grad_in.grad is not None else 0.0)

    assert run(ember, device) == pytest.approx(run(torch, "cpu"))


_ZERO_DIM_VIEWS = [
    ("view", lambda T, t: t.view(1)),
    ("view_0d", lambda T, t: t.view(())),
    ("reshape", lambda T, t: t.reshape(1, 1)),
    ("flatten", lambda T, t: t.flatten()),
    ("unsqueeze", lambda T, t: t.unsqueeze(0)),
    ("squeeze", lambda T, t: t.squeeze()),
    ("permute", lambda T, t: t.permute(())),
    ("t", lambda T, t: t.t()),
    ("expand_1", lambda T, t: t.expand(1, 1)),
    ("index_none", lambda T, t: t[None]),
    ("index_ellipsis", lambda T, t: t[...]),
    ("as_strided", lambda T, t: t.as_strided((1,), (1,))),
    ("unfold", lambda T, t: t.unfold(0, 1, 1)),
    ("diagonal_of_expand", lambda T, t: t.expand(1, 1).diagonal()),
    ("detach", lambda T, t: t.detach()),
    ("data", lambda T, t: t.data),
    ("view_as", lambda T, t: t.view_as(T.zeros(1, 1))),
    ("atleast_2d", lambda T, t: T.atleast_2d(t)),
]


@pytest.mark.parametrize("name,make_view", _ZERO_DIM_VIEWS, ids=[n for n, _ in _ZERO_DIM_VIEWS])
def test_views_of_a_computed_0d_tensor_share_its_memory(device, name, make_view):
    # a 0-d result of arithmetic is a tensor like any other: a view of it writes through, both ways
    def run(T, dev):
        t = T.tensor(3.0, device=dev) * 2
        v = make_view(T, t)
        v.add_(1)
        t.mul_(10)
        return float(t), v.tolist()

    assert run(ember, device) == run(torch, "cpu")


@pytest.mark.parametrize("exponent", [2, 3, 3.0, -0.5, -1, -2.0])
def test_pow_by_a_small_number_rounds_as_pytorch(exponent, device, dtype):
    # PyTorch computes x ** 3 as x * x * x (rounded twice), x ** -2 as 1 / (x * x), x ** -0.5 as
    # 1 / sqrt(x): a third of float32 cubes differed in the last bit (minGPT's NewGELU cubes)
    values = np.abs(np.random.default_rng(0).standard_normal(1000)) + 0.01
    expected = torch.tensor(values, dtype=getattr(torch, dtype.name)).pow(exponent).numpy()
    actual = ember.tensor(values, dtype=dtype, device=device).pow(exponent).cpu().numpy()
    if device == "cpu":
        np.testing.assert_array_equal(actual, expected)
    else:  # a device's division and square root may round differently
        np.testing.assert_allclose(actual, expected, rtol=4 * np.finfo(expected.dtype).eps)


@pytest.mark.parametrize("exponent", [3, 3.0, -2])
def test_bfloat16_pow_by_three_or_minus_two_rounds_each_step(exponent):
    # PyTorch's bfloat16 fast path multiplies in bfloat16: x ** 3 is round(round(x * x) * x), the
    # NewGELU cube of a bfloat16 activation under autocast
    values = np.abs(np.random.default_rng(0).standard_normal(1000)) + 0.01
    for dtype in ("bfloat16", "float16"):
        expected = torch.tensor(values).to(getattr(torch, dtype)).pow(exponent).float().numpy()
        actual = ember.tensor(values).to(getattr(ember, dtype)).pow(exponent).float().numpy()
        np.testing.assert_array_equal(actual, expected)
