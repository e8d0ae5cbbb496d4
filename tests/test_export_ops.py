"""The operator table of ``ember.export`` against ``torch.ops.aten``: each ATen operator called with the same
arguments (positional as the schema orders them, keyword-only by name) on ember and on PyTorch gives the same
values and dtypes -- the table adapts ember's API to the ATen schema, and a wrong adaptation would be a silent
wrong answer in every loaded program."""

import numpy as np
import pytest

import ember
from ember.export._aten import get_op, supported_ops

torch = pytest.importorskip("torch")

R = np.random.default_rng(0)
A = R.standard_normal((3, 4)).astype(np.float32)
B = R.standard_normal((3, 4)).astype(np.float32)
M = R.standard_normal((4, 5)).astype(np.float32)
BM = R.standard_normal((2, 3, 4)).astype(np.float32)
BN = R.standard_normal((2, 4, 5)).astype(np.float32)
IMG = R.standard_normal((2, 3, 6, 6)).astype(np.float32)
W = R.standard_normal((4, 3, 3, 3)).astype(np.float32)
IDX = np.array([[0, 2], [1, 1], [3, 0]], dtype=np.int64)
INT = np.arange(-5, 7, dtype=np.int64).reshape(3, 4)
MASK = A > 0


class T:
    """A tensor argument, made on each side from the same array."""

    def __init__(self, array):
        self.array = array


def _side(value, lib):
    if isinstance(value, T):
        return lib.tensor(value.array.copy()) if lib is torch else ember.tensor(value.array.copy())
    if isinstance(value, list):
        return [_side(v, lib) for v in value]
    if isinstance(value, str) and value.startswith("dtype:"):
        return getattr(lib, value[6:])
    return value


CASES = [
    ("add.Tensor", (T(A), T(B)), {"alpha": 2}),
    ("add.Tensor", (T(A), 1.5), {}),
    ("sub.Tensor", (T(A), T(B)), {"alpha": 0.5}),
    ("rsub.Scalar", (T(A), 2.0), {}),
    ("rsub.Scalar", (T(A), 2.0, 3), {}),
    ("mul.Scalar", (T(A), 3), {}),
    ("div.Tensor_mode", (T(A), T(B)), {"rounding_mode": "floor"}),
    ("div.Tensor_mode", (T(INT), 3), {"rounding_mode": "trunc"}),
    ("div.Tensor", (T(INT), 4), {}),
    ("pow.Tensor_Scalar", (T(A), 2), {}),
    ("pow.Scalar", (2.0, T(A)), {}),
    ("remainder.Scalar", (T(INT), 3), {}),
    ("remainder.Scalar_Tensor", (7, T(INT[INT != 0])), {}),
    ("floor_divide.default", (T(INT), T(np.full((3, 4), 3, np.int64))), {}),
    ("eq.Scalar", (T(INT), 1), {}),
    ("lt.Tensor", (T(A), T(B)), {}),
    ("where.self", (T(MASK), T(A), T(B)), {}),
    ("where.ScalarOther", (T(MASK), T(A), 0.0), {}),
    ("clamp.default", (T(A), -0.5, 0.5), {}),
    ("clamp.default", (T(A), None, 0.1), {}),
    ("clamp_min.default", (T(A), 0.0), {}),
    ("sum.dim_IntList", (T(A), [1], True), {}),
    ("sum.dim_IntList", (T(A), []), {}),
    ("sum.dim_IntList", (T(INT), None), {}),
    ("sum.default", (T(MASK),), {}),
    ("mean.dim", (T(A), [0, 1]), {}),
    ("mean.dim", (T(A), [-1], True), {"dtype": "dtype:float64"}),
    ("amax.default", (T(A), [1]), {}),
    ("amin.default", (T(A),), {}),
    ("var.correction", (T(A), [1]), {"correction": 0, "keepdim": True}),
    ("var.correction", (T(A),), {}),
    ("std.correction", (T(A), [0]), {"correction": 2}),
    ("var.dim", (T(A), [1], False), {}),
    ("any.dim", (T(MASK), 1), {}),
    ("any.dims", (T(MASK), [0, 1]), {}),
    ("all.default", (T(MASK),), {}),
    ("argmax.default", (T(A), 1, True), {}),
    ("argmin.default", (T(A),), {}),
    ("max.dim", (T(A), 1), {}),
    ("min.dim", (T(A), 0, True), {}),
    ("prod.dim_int", (T(A), 1), {}),
    ("cumsum.default", (T(A), 1), {}),
    ("logsumexp.default", (T(A), [1], True), {}),
    ("linalg_vector_norm.default", (T(A), 2, [1]), {}),
    ("linalg_vector_norm.default", (T(A), 1), {}),
    ("view.default", (T(A), [2, 6]), {}),
    ("reshape.default", (T(A), [-1]), {}),
    ("expand.default", (T(A[:1]), [5, 3, 4]), {}),
    ("permute.default", (T(BM), [2, 0, 1]), {}),
    ("slice.Tensor", (T(A), 1, 1, 4, 2), {}),
    ("slice.Tensor", (T(A), 0, -2), {}),
    ("slice.Tensor", (T(A), 1, 0, 9223372036854775807), {}),
    ("select.int", (T(A), 1, -1), {}),
    ("index.Tensor", (T(A), [None, T(np.array([0, 3]))]), {}),
    ("index.Tensor", (T(A), [T(MASK)]), {}),
    ("index_select.default", (T(A), 1, T(np.array([3, 0]))), {}),
    ("gather.default", (T(A), 1, T(IDX)), {}),
    ("flatten.using_ints", (T(BM), 1), {}),
    ("unflatten.int", (T(A), 1, [2, 2]), {}),
    ("squeeze.dims", (T(A[None, :, None]), [0, 2]), {}),
    ("unsqueeze.default", (T(A), -1), {}),
    ("transpose.int", (T(BM), 0, 2), {}),
    ("t.default", (T(A),), {}),
    ("cat.default", ([T(A), T(B)], 1), {}),
    ("stack.default", ([T(A), T(B)],), {}),
    ("split.Tensor", (T(A), 3, 1), {}),
    ("split_with_sizes.default", (T(A), [1, 3], 1), {}),
    ("chunk.default", (T(A), 2, 1), {}),
    ("unbind.int", (T(A), 1), {}),
    ("narrow.default", (T(A), 1, 1, 2), {}),
    ("roll.default", (T(A), [1], [1]), {}),
    ("flip.default", (T(A), [0, 1]), {}),
    ("tril.default", (T(A), 1), {}),
    ("repeat.default", (T(A), [2, 1]), {}),
    ("masked_fill.Scalar", (T(A), T(MASK), -1.0), {}),
    ("topk.default", (T(A), 2), {}),
    ("sort.default", (T(A), 1, True), {}),
    ("addmm.default", (T(M[0]), T(A), T(M)), {"beta": 0.5, "alpha": 2}),
    ("mm.default", (T(A), T(M)), {}),
    ("bmm.default", (T(BM), T(BN)), {}),
    ("baddbmm.default", (T(np.zeros((2, 3, 5), np.float32)), T(BM), T(BN)), {"alpha": 0.5}),
    ("linear.default", (T(A), T(M.T.copy())), {}),
    ("einsum.default", ("ij,jk->ik", [T(A), T(M)]), {}),
    ("einsum.default", ("bij,bjk->bik", [T(BM), T(BN)]), {"path": [0, 1]}),
    ("full.default", ([2, 3], 1.5), {}),
    ("full.default", ([2, 3], 7), {}),
    ("zeros.default", ([2],), {"dtype": "dtype:int32"}),
    ("arange.start_step", (1, 10, 3), {}),
    ("arange.default", (5.0,), {}),
    ("scalar_tensor.default", (float("-inf"),), {}),
    ("full_like.default", (T(A), 2), {}),
    ("ones_like.default", (T(INT),), {"dtype": "dtype:float64"}),
    ("_to_copy.default", (T(A),), {"dtype": "dtype:float16"}),
    ("to.dtype", (T(A), "dtype:int64"), {}),
    ("clone.default", (T(A),), {}),
    ("softmax.int", (T(A), 1), {}),
    ("_softmax.default", (T(A), 0, False), {}),
    ("_log_softmax.default", (T(A), 1, False), {}),
    ("log_softmax.int", (T(A), 1, "dtype:float64"), {}),
    ("gelu.default", (T(A),), {"approximate": "tanh"}),
    ("hardtanh.default", (T(A), 0.0, 6.0), {}),
    ("leaky_relu.default", (T(A), 0.2), {}),
    ("elu.default", (T(A), 1.6732632423543772, 1.0507009873554805), {}),
    ("elu.default", (T(A), 0.5, 2.0, 0.25), {}),
    ("elu.default", (T(A), 0.7), {}),
    ("softplus.default", (T(A), 2.0, 1.0), {}),
    ("silu.default", (T(A),), {}),
    ("hardswish.default", (T(A),), {}),
    ("conv2d.default", (T(IMG), T(W), None, [2, 1], [1, 0]), {}),
    ("conv2d.padding", (T(IMG), T(W), None, [1, 1], "same"), {}),
    ("convolution.default", (T(IMG), T(W), T(M[0, :4].copy()), [1, 1], [1, 1], [1, 1], False, [0, 0], 1), {}),
    (
        "convolution.default",
        (T(IMG[:, :, :4, :4].copy()), T(W.transpose(1, 0, 2, 3).copy()), None, [2, 2], [1, 1], [1, 1], True, [1, 1], 1),
        {},
    ),
    ("max_pool2d.default", (T(IMG), [3, 3], [2, 2], [1, 1]), {}),
    ("max_pool2d_with_indices.default", (T(IMG), [2, 2]), {}),
    ("avg_pool2d.default", (T(IMG), [3, 3], [1, 1], [1, 1], True, False), {}),
    ("adaptive_avg_pool2d.default", (T(IMG), [2, 3]), {}),
    ("constant_pad_nd.default", (T(IMG), [1, 2, 0, 1], 0.5), {}),
    ("layer_norm.default", (T(A), [4]), {}),
    ("native_layer_norm.default", (T(A), [4], T(M[:, 0].copy()), None, 1e-5), {}),
    ("group_norm.default", (T(IMG), 3), {}),
    ("embedding.default", (T(M), T(IDX)), {}),
    (
        "_native_batch_norm_legit_no_training.default",
        (T(IMG), None, None, T(np.zeros(3, np.float32)), T(np.ones(3, np.float32)), 0.1, 1e-5),
        {},
    ),
    (
        "_native_batch_norm_legit_functional.default",
        (T(IMG), None, None, T(np.zeros(3, np.float32)), T(np.ones(3, np.float32)), True, 0.1, 1e-5),
        {},
    ),
    ("scaled_dot_product_attention.default", (T(BM), T(BM), T(BM)), {"scale": 0.3}),
    ("scaled_dot_product_attention.default", (T(BM), T(BM), T(BM), None, 0.0, True), {}),
    ("sym_size.int", (T(A), 1), {}),
    ("dropout.default", (T(A), 0.5, False), {}),
]


def _ids():
    return [f"{i}-{name}" for i, (name, _, _) in enumerate(CASES)]


def _compare(ours, theirs, name):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), name
        for a, b in zip(ours, theirs):
            _compare(a, b, name)
        return
    if not isinstance(theirs, torch.Tensor):
        assert ours == theirs, name
        return
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], name
    assert tuple(ours.shape) == tuple(theirs.shape), name
    if theirs.numel() == 0:
        return
    expected = theirs.detach().float().numpy() if theirs.dtype == torch.float16 else theirs.detach().numpy()
    got = ours.detach().float().numpy() if ours.dtype is ember.float16 else ours.detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("case", CASES, ids=_ids())
def test_op_matches_torch_aten(case):
    name, args, kwargs = case
    overload = name.split(".")
    theirs = getattr(getattr(torch.ops.aten, overload[0]), overload[1])(
        *_side(list(args), torch), **{k: _side(v, torch) for k, v in kwargs.items()}
    )
    ours = get_op(f"torch.ops.aten.{name}")(
        *_side(list(args), ember), **{k: _side(v, ember) for k, v in kwargs.items()}
    )
    if name.startswith("_native_batch_norm_legit") or name == "native_layer_norm.default":
        ours, theirs = ours[:1], theirs[:1]  # the saved statistics' layout differs where PyTorch leaves them empty
    _compare(ours, theirs, name)


def test_inplace_op_writes_into_its_argument():
    x = ember.zeros(2, dtype=ember.int64)
    get_op("torch.ops.aten.add_.Tensor")(x, 1)
    assert x.tolist() == [1, 1]


def test_functional_batch_norm_returns_the_new_statistics_and_leaves_the_old():
    rm, rv = ember.zeros(3), ember.ones(3)
    x = ember.tensor(IMG)
    out = get_op("torch.ops.aten._native_batch_norm_legit_functional.default")(x, None, None, rm, rv, True, 0.1, 1e-5)
    t_rm, t_rv = torch.zeros(3), torch.ones(3)
    ref = torch.ops.aten._native_batch_norm_legit_functional.default(
        torch.tensor(IMG), None, None, t_rm, t_rv, True, 0.1, 1e-5
    )
    assert ember.equal(rm, ember.zeros(3)) and ember.equal(rv, ember.ones(3))
    for a, b in zip(out[3:], ref[3:]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_unknown_op_is_named():
    with pytest.raises(NotImplementedError, match=r"torch\.ops\.aten\.fft_fft\.default"):
        get_op("torch.ops.aten.fft_fft.default")
    assert "torch.ops.aten.linear.default" in supported_ops()


def test_every_table_entry_is_a_real_aten_operator():
    """No entry names an operator PyTorch does not have (a typo would never be reached by a real graph)."""
    missing = []
    for qualified in supported_ops():
        if not qualified.startswith("torch.ops.aten."):
            continue
        name, overload = qualified[len("torch.ops.aten.") :].rsplit(".", 1)
        packet = getattr(torch.ops.aten, name, None)
        if packet is None or overload not in packet.overloads():
            missing.append(qualified)
    assert not missing, missing
