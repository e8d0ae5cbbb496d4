"""Sparse (COO and compressed) and nested tensors are ember.Tensor instances, as PyTorch's are, and behave
as PyTorch's where that changes what a program sees: isinstance, layout queries, the routes of the ops that
take dense or sparse operands, the dense-only ops' errors (type and message), and results, dtypes and
gradients of the ops ember supports on sparse tensors (float32 and float64), against torch."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from sparse_support import assert_dense_close, dense_pair

import ember

warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors")

DENSE = [[0.0, 0.0, 4.0, 1.0], [4.0, 0.0, 5.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, -1.0]]
LAYOUTS = ("coo", "csr", "csc", "bsr", "bsc")
DTYPES = [ember.float32, ember.float64]


def _sparse(lib, layout, dtype=None, device="cpu"):
    dtype = getattr(lib, (dtype or ember.float32).name)
    x = lib.tensor(DENSE, dtype=dtype, device=device)
    if layout == "coo":
        return x.to_sparse()
    if layout in ("bsr", "bsc"):
        return getattr(x, f"to_sparse_{layout}")((2, 2))
    return getattr(x, f"to_sparse_{layout}")()


def _nested(lib, device="cpu"):
    parts = [lib.ones(2, 3, device=device), lib.ones(1, 3, device=device)]
    return lib.nested.nested_tensor(parts, layout=lib.jagged)


def _outcome(fn):
    """What ``fn()`` gives: ``("ok", value)`` or ``("error", type name, first line of the message)``."""
    try:
        value = fn()
    except Exception as error:  # noqa: BLE001 - the outcome is compared with torch's
        return ("error", type(error).__name__, str(error).split("\n")[0])
    return ("ok", value)


# -- 1. they are Tensors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS)
def test_sparse_tensor_is_a_tensor(device, layout):
    ours, theirs = _sparse(ember, layout, device=device), _sparse(torch, layout)
    assert isinstance(ours, ember.Tensor) and isinstance(theirs, torch.Tensor)
    assert ember.is_tensor(ours) and torch.is_tensor(theirs)
    assert ours.layout.name == str(theirs.layout).split(".")[1]
    assert (ours.is_sparse, ours.is_sparse_csr, ours.is_nested) == (
        theirs.is_sparse,
        theirs.is_sparse_csr,
        theirs.is_nested,
    )


def test_nested_tensor_is_a_tensor(device):
    ours, theirs = _nested(ember, device), _nested(torch)
    assert isinstance(ours, ember.Tensor) and isinstance(theirs, torch.Tensor)
    assert ember.is_tensor(ours)
    assert ours.layout is ember.jagged and theirs.layout is torch.jagged
    assert (ours.is_sparse, ours.is_sparse_csr, ours.is_nested) == (
        theirs.is_sparse,
        theirs.is_sparse_csr,
        theirs.is_nested,
    )


def test_strided_nested_tensor_is_a_tensor():
    ours = ember.nested.nested_tensor([ember.ones(2), ember.ones(3)])
    theirs = torch.nested.nested_tensor([torch.ones(2), torch.ones(3)])
    assert isinstance(ours, ember.Tensor) and isinstance(theirs, torch.Tensor)
    assert ours.layout is ember.strided and theirs.layout is torch.strided
    assert (ours.is_sparse, ours.is_nested) == (theirs.is_sparse, theirs.is_nested)
    assert repr(ours) == repr(theirs).replace("torch", "ember")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sparse_repr_as_torch(layout):
    ours, theirs = _sparse(ember, layout), _sparse(torch, layout)
    assert repr(ours) == repr(theirs).replace("torch.", "ember.")


# -- the dense-only ops on a sparse tensor: PyTorch's errors --------------------------------------------------
REFUSED = {
    "stride": lambda t: t.stride(),
    "data_ptr": lambda t: t.data_ptr(),
    "tolist": lambda t: t.tolist(),
    "storage_offset": lambda t: t.storage_offset(),
    "untyped_storage": lambda t: t.untyped_storage(),
    "numpy": lambda t: t.numpy(),
    "expand": lambda t: t.expand(4, 4),
    "reshape": lambda t: t.reshape(16),
    "flatten": lambda t: t.flatten(),
    "is_contiguous": lambda t: t.is_contiguous(),
    "item": lambda t: t.item(),
    "bool": lambda t: bool(t),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", sorted(REFUSED))
def test_dense_only_op_on_sparse_as_torch(device, layout, op):
    ours = _outcome(lambda: REFUSED[op](_sparse(ember, layout, device=device)))
    theirs = _outcome(lambda: REFUSED[op](_sparse(torch, layout)))
    assert ours == theirs


@pytest.mark.parametrize("layout", LAYOUTS)
def test_view_on_sparse_is_not_implemented_as_torch(layout):
    with pytest.raises(NotImplementedError) as theirs:
        _sparse(torch, layout).view(16)
    with pytest.raises(NotImplementedError) as ours:
        _sparse(ember, layout).view(16)
    backend = "SparseCPU" if layout == "coo" else "SparseCsrCPU"
    prefix = f"Could not run 'aten::view' with arguments from the '{backend}' backend"
    assert str(theirs.value).startswith(prefix) and str(ours.value).startswith(prefix)


def test_contiguous_of_coo_refused_as_torch():
    ours = _outcome(lambda: _sparse(ember, "coo").contiguous())
    assert ours == _outcome(lambda: _sparse(torch, "coo").contiguous())


def test_one_element_sparse_item_as_torch():
    assert ember.ones(1, 1).to_sparse().item() == torch.ones(1, 1).to_sparse().item() == 1.0


@pytest.mark.parametrize("op", ["numpy", "tolist", "bool"])
def test_dense_only_op_on_nested_as_torch(op):
    ours = _outcome(lambda: REFUSED[op](_nested(ember)))
    assert ours == _outcome(lambda: REFUSED[op](_nested(torch)))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sparse_copies_and_pickles(layout):
    s = _sparse(ember, layout, ember.float64)
    for other in (copy.copy(s), copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert type(other) is type(s) and other.layout is s.layout
        assert other.to_dense().tolist() == DENSE


# -- the ops that take dense or sparse operands route a sparse one to its own implementation ----------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_plus_sparse_is_dense_as_torch(device, dtype):
    d, td = dense_pair(device, dtype, 4, 4)
    s, ts = _sparse(ember, "coo", dtype, device), _sparse(torch, "coo", dtype)
    for ours, theirs in ((d + s, td + ts), (ember.add(d, s, alpha=2), torch.add(td, ts, alpha=2)), (d - s, td - ts)):
        assert ours.layout is ember.strided and theirs.layout is torch.strided
        assert_dense_close(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_dense_times_sparse_is_sparse_as_torch(device, dtype, layout):
    d, td = dense_pair(device, dtype, 4, 4)
    s, ts = _sparse(ember, layout, dtype, device), _sparse(torch, layout, dtype)
    for ours, theirs in ((d * s, td * ts), (s * d, ts * td), (ember.mul(d, s), torch.mul(td, ts))):
        assert ours.layout.name == str(theirs.layout).split(".")[1]
        assert_dense_close(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_dense_matmul_sparse_as_torch(device, dtype, layout):
    d, td = dense_pair(device, dtype, 3, 4)
    s, ts = _sparse(ember, layout, dtype, device), _sparse(torch, layout, dtype)
    assert_dense_close(d @ s, td @ ts, dtype)
    assert_dense_close(ember.mm(d, s), torch.mm(td, ts), dtype)
    assert_dense_close(s @ d.t(), ts @ td.t(), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cat_and_stack_of_sparse_as_torch(device, dtype):
    s, ts = _sparse(ember, "coo", dtype, device), _sparse(torch, "coo", dtype)
    for ours, theirs in ((ember.cat([s, s]), torch.cat([ts, ts])), (ember.stack([s, s]), torch.stack([ts, ts]))):
        assert ours.layout is ember.sparse_coo and theirs.layout is torch.sparse_coo
        assert_dense_close(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_of_sparse_input_and_grad_as_torch(device, dtype):
    s, ts = _sparse(ember, "coo", dtype, device), _sparse(torch, "coo", dtype)
    w, tw = dense_pair(device, dtype, 3, 4, requires_grad=True)
    ours, theirs = ember.nn.functional.linear(s, w), torch.nn.functional.linear(ts, tw)
    assert_dense_close(ours, theirs, dtype)
    ours.sum().backward()
    theirs.sum().backward()
    assert_dense_close(w.grad, tw.grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_of_sparse_leaf_through_dense_sum_as_torch(device, dtype):
    s = _sparse(ember, "coo", dtype, device).coalesce().requires_grad_()
    ts = _sparse(torch, "coo", dtype).coalesce().requires_grad_()
    d, td = dense_pair(device, dtype, 4, 4)
    ((d + s) * d).sum().backward()
    ((td + ts) * td).sum().backward()
    assert_dense_close(s.grad, ts.grad, dtype)


def test_nested_ops_route_to_nested(device):
    nt = _nested(ember, device)
    tnt = _nested(torch)
    for ours, theirs in ((nt * 2, tnt * 2), (nt + nt, tnt + tnt), (ember.relu(nt), torch.relu(tnt))):
        assert ours.is_nested and theirs.is_nested
        for a, b in zip(ours.unbind(), theirs.unbind()):
            assert a.tolist() == b.tolist()


# -- 2. the ops of torch's OpInfo database that support sparse inputs, called as functions -------------------
SWEEP = [[0.0, -0.5, 0.25, 0.0], [0.75, 0.0, -0.9, 0.0], [0.0, 0.0, 0.0, 0.0]]
SPARSE_FUNCTIONS = (
    "abs", "asin", "asinh", "atan", "atanh", "ceil", "positive", "conj", "conj_physical", "deg2rad", "frac", "floor",
    "log1p", "neg", "rad2deg", "round", "sin", "sinh", "sign", "sgn", "signbit", "tan", "tanh", "trunc", "expm1",
    "sqrt", "isinf", "isposinf", "isneginf", "isnan", "erf", "erfinv", "sum", "nan_to_num", "relu",
)  # fmt: skip


def _sweep_input(lib, layout, dtype, device="cpu"):
    x = lib.tensor(SWEEP, dtype=getattr(lib, dtype.name), device=device)
    return x.to_sparse() if layout == "coo" else x.to_sparse_csr()


def _call(lib, name, x, form):
    if form == "method":
        return getattr(x, name)()
    return lib.nn.functional.relu(x) if name == "relu" else getattr(lib, name)(x)


def _assert_same_result(ours, theirs, dtype):
    layout = str(theirs.layout).split(".")[1]
    assert ours.layout.name == layout and ours.dtype.name == str(theirs.dtype).split(".")[1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    if layout == "sparse_coo":
        assert (ours.is_coalesced(), ours._nnz()) == (theirs.is_coalesced(), theirs._nnz())
    elif layout != "strided":
        assert ours._nnz() == theirs._nnz()
    a = np.asarray(ours.to_dense().cpu().numpy())
    b = theirs.to_dense().numpy()
    if b.dtype == np.bool_:
        assert a.tolist() == b.tolist()
    else:
        tol = 1e-12 if dtype is ember.float64 else 1e-5
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["coo", "csr"])
@pytest.mark.parametrize("form", ["function", "method"])
@pytest.mark.parametrize("name", SPARSE_FUNCTIONS)
def test_sparse_op_as_torch(device, name, form, layout, dtype):
    theirs = _outcome(lambda: _call(torch, name, _sweep_input(torch, layout, dtype), form))
    if theirs[0] == "error":
        ours = _outcome(lambda: _call(ember, name, _sweep_input(ember, layout, dtype, device), form))
        if layout == "csr" and name == "nan_to_num":
            pytest.skip("ember's CSR tensors take nan_to_num, which PyTorch's refuse")
        assert ours[:2] == theirs[:2]
        return
    ours = _call(ember, name, _sweep_input(ember, layout, dtype, device), form)
    _assert_same_result(ours, theirs[1], dtype)


@pytest.mark.parametrize("name", ["exp", "cos", "sigmoid"])
def test_op_without_a_sparse_kernel_raises_as_torch(device, name):
    ours = _outcome(lambda: getattr(ember, name)(_sweep_input(ember, "coo", ember.float32, device)))
    theirs = _outcome(lambda: getattr(torch, name)(_sweep_input(torch, "coo", ember.float32)))
    assert ours[:2] == theirs[:2] == ("error", "NotImplementedError")
    prefix = f"Could not run 'aten::{name}' with arguments from the 'Sparse"  # then the device's key: CPU here
    assert ours[2].startswith(prefix) and theirs[2].startswith(prefix + "CPU' backend")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["abs", "neg", "relu"])  # (torch has no sparse cos or tanh backward)
def test_grad_through_sparse_function_as_torch(device, name, dtype):
    s = _sweep_input(ember, "coo", dtype, device).coalesce().requires_grad_()
    ts = _sweep_input(torch, "coo", dtype).coalesce().requires_grad_()
    _call(ember, name, s, "function").to_dense().sum().backward()
    _call(torch, name, ts, "function").to_dense().sum().backward()
    assert s.grad.layout is ember.sparse_coo and ts.grad.layout is torch.sparse_coo
    assert_dense_close(s.grad, ts.grad, dtype)


def test_dense_copy_from_sparse_refused_as_torch():
    with pytest.raises(RuntimeError) as theirs:
        torch.zeros(4, 4).copy_(_sparse(torch, "coo"))
    with pytest.raises(RuntimeError) as ours:
        ember.zeros(4, 4).copy_(_sparse(ember, "coo"))
    assert str(ours.value) == str(theirs.value).replace("torch.", "ember.")
