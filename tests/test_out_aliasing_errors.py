"""``out=`` that shares memory with an operand, against PyTorch, op by op: the ops whose PyTorch kernels
refuse a partial overlap of ``out`` with an input (or any overlap, the very elements included, where
they read elements in another order than they write them) raise its RuntimeError, and the aliasing
PyTorch accepts (``out`` the very elements of an input, or of an operand it does not check) gives its
result."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_MESSAGE = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
    "memory location. Please clone() the tensor before performing the operation."
)


def _long(t, n):
    return t.empty(n, dtype=t.long)


#: programs on ``t`` (ember or torch) and ``x``, a 1-D floating tensor of 30 elements (``i`` its int64 twin)
#: on the device, both fresh for each program; they return what to compare
CASES = {
    # cat, stack: any overlap with an input
    "cat_out_holds_input": lambda t, x, i: t.cat([x[:3], x[3:6]], out=x[:6]),
    "stack_out_is_input": lambda t, x, i: t.stack([x[:3]], out=x[:3].view(1, 3)),
    "stack_partial": lambda t, x, i: t.stack([x[:3], x[3:6]], out=x[2:8].view(2, 3)),
    "stack_disjoint": lambda t, x, i: (t.stack([x[:3], x[3:6]], out=x[6:12].view(2, 3)), x)[1],
    # the gathering ops: any overlap with the input, and with the index (not gather's)
    "take_out_is_input": lambda t, x, i: t.take(x[:8], t.arange(7, -1, -1).to(x.device), out=x[:8]),
    "take_out_is_index": lambda t, x, i: t.take(t.arange(5).to(x.device), i[:3], out=i[:3]),
    "gather_out_is_input": lambda t, x, i: t.gather(x[:8], 0, t.arange(7, -1, -1).to(x.device), out=x[:8]),
    "gather_out_is_index": lambda t, x, i: (t.gather(t.arange(5).to(x.device), 0, i[:3], out=i[:3]), i)[1],
    "index_select_partial": lambda t, x, i: t.index_select(x[:8], 0, t.arange(7, -1, -1).to(x.device), out=x[2:10]),
    "index_select_index_partial": lambda t, x, i: t.index_select(t.arange(5).to(x.device), 0, i[:3], out=i[1:4]),
    "masked_select_out_is_input": lambda t, x, i: t.masked_select(x[:8], x[:8] > -1, out=x[:8]),
    # kthvalue: the values only
    "kthvalue_values_are_input": lambda t, x, i: t.kthvalue(x[:1], 1, 0, True, out=(x[:1], _long(t, 1).to(x.device))),
    "kthvalue_indices_partial": lambda t, x, i: (
        t.kthvalue(i[:9].view(3, 3), 2, 1, out=(_long(t, 3).to(x.device), i[:3])),
        i,
    )[1],
    # sort: the values only, and the very elements of the input are fine
    "sort_values_partial": lambda t, x, i: t.sort(x[:8], out=(x[1:9], _long(t, 8).to(x.device))),
    "sort_values_are_input": lambda t, x, i: (t.sort(x[:8], out=(x[:8], _long(t, 8).to(x.device))), x)[1],
    "sort_indices_partial": lambda t, x, i: (t.sort(i[:3], out=(_long(t, 3).to(x.device), i[1:4])), i)[1],
    "msort_partial": lambda t, x, i: t.msort(x[:8], out=x[1:9]),
    "topk_partial": lambda t, x, i: t.topk(x[:8], 3, out=(x[1:4], _long(t, 3).to(x.device))),
    "topk_values_are_input": lambda t, x, i: (t.topk(x[:3], 3, out=(x[:3], _long(t, 3).to(x.device))), x)[1],
    # scans: a partial overlap only
    "cumsum_partial": lambda t, x, i: t.cumsum(x[:8], 0, out=x[1:9]),
    "cumsum_out_is_input": lambda t, x, i: t.cumsum(x[:8], 0, out=x[:8]),
    "cumprod_partial": lambda t, x, i: t.cumprod(x[:8], 0, out=x[1:9]),
    "logcumsumexp_partial": lambda t, x, i: t.logcumsumexp(x[:8], 0, out=x[1:9]),
    # products: the added input checked (partially), the factors of kron and outer too
    "addmm_input_partial": lambda t, x, i: t.addmm(
        x[:4].view(2, 2), x[:4].view(2, 2), x[:4].view(2, 2), out=x[1:5].view(2, 2)
    ),
    "addmm_out_is_input": lambda t, x, i: t.addmm(
        x[:4].view(2, 2), t.ones(2, 2).to(x), t.ones(2, 2).to(x), out=x[:4].view(2, 2)
    ),
    "addmv_input_partial": lambda t, x, i: t.addmv(x[:2], t.ones(2, 2).to(x), t.ones(2).to(x), out=x[1:3]),
    "baddbmm_input_partial": lambda t, x, i: t.baddbmm(
        x[:8].view(2, 2, 2), t.ones(2, 2, 2).to(x), t.ones(2, 2, 2).to(x), out=x[1:9].view(2, 2, 2)
    ),
    "kron_other_partial": lambda t, x, i: t.kron(t.ones(1).to(x), x[:4], out=x[1:5]),
    "kron_out_is_input": lambda t, x, i: t.kron(x[:4], t.ones(1).to(x), out=x[:4]),
    "outer_vec2_partial": lambda t, x, i: t.outer(t.ones(1).to(x), x[:3], out=x[1:4].view(1, 3)),
    "outer_column_is_input": lambda t, x, i: t.outer(x[:3], t.ones(1).to(x), out=x[:3].view(3, 1)),
    # cross: any overlap with either operand
    "cross_out_is_other": lambda t, x, i: t.linalg.cross(t.ones(3).to(x), x[:3], out=x[:3]),
    "cross_input_partial": lambda t, x, i: t.cross(x[:3], t.ones(3).to(x), dim=0, out=x[1:4]),
    "cross_disjoint": lambda t, x, i: (t.linalg.cross(t.ones(3).to(x), x[:3], out=x[3:6]), x)[1],
    # index_add, index_copy, scatter, index_reduce: the input partially, the source and index any overlap
    "index_add_input_partial": lambda t, x, i: t.index_add(
        x[:8], 0, t.arange(4).to(x.device), t.ones(4).to(x), out=x[1:9]
    ),
    "index_add_out_is_input": lambda t, x, i: t.index_add(
        x[:4], 0, t.arange(2).to(x.device), t.ones(2).to(x), out=x[:4]
    ),
    "index_add_out_is_source": lambda t, x, i: t.index_add(
        t.zeros(2).to(x), 0, t.arange(2).to(x.device), x[:2], out=x[:2]
    ),
    "index_copy_source_partial": lambda t, x, i: t.index_copy(
        t.zeros(4).to(x), 0, t.arange(2).to(x.device), x[:2], out=x[1:5]
    ),
    "scatter_out_is_src": lambda t, x, i: t.scatter(t.zeros(2).to(x), 0, t.arange(2).to(x.device), x[:2], out=x[:2]),
    "scatter_index_partial": lambda t, x, i: t.scatter(
        t.zeros(4, dtype=t.long).to(x.device), 0, i[:2], t.ones(2, dtype=t.long).to(x.device), out=i[1:5]
    ),
    "scatter_value_input_partial": lambda t, x, i: t.scatter(x[:4], 0, t.arange(2).to(x.device), value=1.0, out=x[1:5]),
    "scatter_out_is_input": lambda t, x, i: t.scatter(x[:4], 0, t.arange(2).to(x.device), t.ones(2).to(x), out=x[:4]),
    "scatter_add_input_partial": lambda t, x, i: t.scatter_add(
        x[:4], 0, t.arange(2).to(x.device), t.ones(2).to(x), out=x[1:5]
    ),
    "index_reduce_out_is_source": lambda t, x, i: t.index_reduce(
        t.zeros(2).to(x), 0, t.arange(2).to(x.device), x[:2], "prod", out=x[:2]
    ),
    "index_reduce_input_partial": lambda t, x, i: t.index_reduce(
        x[:8], 0, t.arange(4).to(x.device), t.ones(4).to(x), "prod", out=x[1:9]
    ),
    # nonzero: any overlap
    "nonzero_out_is_input": lambda t, x, i: t.nonzero(i[:4], out=i[:4]),
    # max, min, median, nanmedian, mode, aminmax along a dim: a partial overlap, compared with the dim kept
    "max_dim_partial": lambda t, x, i: t.max(x[:6].view(3, 2), 1, out=(x[:3], _long(t, 3).to(x.device))),
    "max_dim_shifted": lambda t, x, i: t.max(x[:3].view(3, 1), 1, out=(x[1:4], _long(t, 3).to(x.device))),
    "max_dim_values_are_input": lambda t, x, i: (t.max(x[:3].view(3, 1), 1, out=(x[:3], _long(t, 3).to(x.device))), x)[
        1
    ],
    "max_all_partial": lambda t, x, i: (t.max(x[:4], out=x[1:2].view(())), x)[1],
    "min_dim_partial": lambda t, x, i: t.min(x[:6].view(3, 2), 1, out=(x[:3], _long(t, 3).to(x.device))),
    "median_dim_partial": lambda t, x, i: t.median(x[:6].view(3, 2), 1, out=(x[:3], _long(t, 3).to(x.device))),
    "nanmedian_dim_partial": lambda t, x, i: t.nanmedian(x[:6].view(3, 2), 1, out=(x[:3], _long(t, 3).to(x.device))),
    "mode_dim_partial": lambda t, x, i: t.mode(x[:6].view(3, 2), 1, out=(x[:3], _long(t, 3).to(x.device))),
    "mode_values_are_input": lambda t, x, i: (t.mode(x[:3].view(1, 3), 0, out=(x[:3], _long(t, 3).to(x.device))), x)[1],
    "aminmax_dim_partial": lambda t, x, i: t.aminmax(x[:6].view(3, 2), dim=1, out=(x[:3], t.empty(3).to(x))),
    "aminmax_all_partial": lambda t, x, i: (t.aminmax(x[:4], out=(x[1:2].view(()), t.empty(()).to(x))), x)[1],
    # the element-wise ops: the very elements are fine
    "add_out_is_input": lambda t, x, i: t.add(x, 1, out=x),
    "where_out_is_input": lambda t, x, i: t.where(x > 3, x, -x, out=x),
}


def _values(result):
    if isinstance(result, tuple):
        return [np.asarray(r.cpu().numpy() if hasattr(r, "cpu") else r) for r in result]
    return [np.asarray(result.cpu().numpy() if hasattr(result, "cpu") else result)]


@pytest.mark.filterwarnings("ignore:index_reduce")
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_out_aliasing_follows_torch(device, dtype_name, name):
    case = CASES[name]
    if dtype_name == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    tdtype, edtype = getattr(torch, dtype_name), getattr(ember, dtype_name)
    try:
        expected = case(torch, torch.arange(30, dtype=tdtype), torch.arange(30))
    except RuntimeError as exc:
        assert str(exc) == _MESSAGE
        with pytest.raises(RuntimeError) as info:
            case(ember, ember.arange(30, dtype=edtype, device=device), ember.arange(30, device=device))
        assert str(info.value) == _MESSAGE
        return
    got = case(ember, ember.arange(30, dtype=edtype, device=device), ember.arange(30, device=device))
    for g, e in zip(_values(got), _values(expected), strict=True):
        np.testing.assert_allclose(g, e.numpy() if hasattr(e, "numpy") else e, rtol=1e-6)
