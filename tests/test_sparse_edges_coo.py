"""Sparse COO tensors off the main road, against torch: uncoalesced accessors, casts, masks, elementwise
products, zero-preserving functions, resizes, the sparse products (smm, hspmm, sspaddmm, addmm),
sparse softmax, spdiags, the invariants switch, gradients through transposes, sparse buffers."""

from __future__ import annotations

import warnings

import pytest
import torch
from sparse_support import assert_dense_close, dense_pair

import ember

warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")

INDICES = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]  # (0, 2) twice: uncoalesced
VALUES = [3.0, -4.0, 5.0, 1.0, 0.5]
SIZE = (3, 3)


def _pair(device, dtype, requires_grad=False, indices=INDICES, values=VALUES, size=SIZE):
    ours = ember.sparse_coo_tensor(indices, values, size, dtype=dtype, device=device, requires_grad=requires_grad)
    theirs = torch.sparse_coo_tensor(
        indices, values, size, dtype=getattr(torch, dtype.name), requires_grad=requires_grad
    )
    return ours, theirs


def _same_sparse(ours, theirs, dtype=ember.float64):
    """Same layout name, size, coalesced flag, indices and values (both coalesced first when the flags differ)."""
    assert str(ours.layout).split(".")[-1] == str(theirs.layout).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert_dense_close(ours, theirs, dtype)


# -- accessors ---------------------------------------------------------------------------------------
def test_indices_and_values_refuse_an_uncoalesced_tensor(device):
    s, ts = _pair(device, ember.float64)
    for name in ("indices", "values"):
        with pytest.raises(RuntimeError) as theirs:
            getattr(ts, name)()
        with pytest.raises(
            RuntimeError, match=r"Cannot get .* on an uncoalesced tensor, please call \.coalesce\(\) first"
        ):
            getattr(s, name)()
        assert str(theirs.value).startswith(f"Cannot get {name} on an uncoalesced tensor")
    assert s._indices().tolist() == ts._indices().tolist()
    c, tc = s.coalesce(), ts.coalesce()
    assert c.indices().tolist() == tc.indices().tolist() and c.values().tolist() == tc.values().tolist()
    assert s._coalesced_(True).is_coalesced() and ts._coalesced_(True).is_coalesced()


@pytest.mark.parametrize("cast", ["half", "bool", "int", "bfloat16", "uint8", "float"])
def test_casts_keep_the_coordinates(device, cast):
    # ember cast the indices along with the values: half() turned coordinate 2049 into 2048
    indices, values = [[2049, 3, 7]], [1.0, 2.0, 0.5]
    if cast == "bfloat16" and device.startswith("opencl"):
        pytest.skip("the OpenCL backend has no bfloat16")
    s = ember.sparse_coo_tensor(indices, values, (3000,), device=device)
    ts = torch.sparse_coo_tensor(indices, values, (3000,))
    if cast == "uint8":
        ours, theirs = s.to(ember.uint8), ts.to(torch.uint8)
    else:
        ours, theirs = getattr(s, cast)(), getattr(ts, cast)()
    assert ours._indices().dtype is ember.int64
    assert ours._indices().tolist() == theirs._indices().tolist()
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.float().to_dense().tolist() == theirs.float().to_dense().tolist()


def test_queries_match_torch(device):
    s, ts = _pair(device, ember.float32)
    for name in ("numel", "nelement", "element_size", "is_floating_point", "is_complex", "is_contiguous", "dense_dim"):
        assert getattr(s, name)() == getattr(ts, name)(), name
    assert s.is_sparse_csr is ts.is_sparse_csr is False
    assert ember.ones(2).is_sparse_csr is torch.ones(2).is_sparse_csr is False
    assert s.is_cuda is False and s.type() == "ember.sparse.FloatTensor" and ts.type() == "torch.sparse.FloatTensor"
    _same_sparse(s.type(ember.float64), ts.type(torch.float64))


# -- conversions -------------------------------------------------------------------------------------
def test_to_sparse_arguments(device):
    x = ember.tensor([[1.0, 0.0], [0.0, 2.0]], device=device)
    tx = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    _same_sparse(x.to_sparse_coo(), tx.to_sparse_coo())
    _same_sparse(x.to_sparse(layout=ember.sparse_coo), tx.to_sparse(layout=torch.sparse_coo))
    for bad in (0, 3):
        with pytest.raises(RuntimeError) as theirs:
            tx.to_sparse(bad)
        with pytest.raises(RuntimeError, match="dense_to_sparse: sparse_dim argument must be in"):
            x.to_sparse(bad)
        assert str(theirs.value).startswith("dense_to_sparse: sparse_dim argument must be in")
    zero_d = ember.tensor(2.5, device=device).to_sparse()
    tzero_d = torch.tensor(2.5).to_sparse()
    assert zero_d._nnz() == tzero_d._nnz() == 1 and zero_d.to_dense().item() == tzero_d.to_dense().item() == 2.5
    assert zero_d.shape == () and zero_d.coalesce()._nnz() == 1
    s = x.to_sparse()
    assert s.to_sparse() is s and s.to_sparse_coo() is s and s.to_sparse(2) is s
    with pytest.raises(RuntimeError, match="conversion from Sparse to Sparse with sparse_dim argument"):
        s.to_sparse(1)
    with pytest.raises(RuntimeError, match="conversion from Sparse to Sparse with sparse_dim argument"):
        tx.to_sparse().to_sparse(1)


def test_sparse_coo_tensor_edges(device):
    empty = ember.sparse_coo_tensor(size=(2, 3), device=device)
    tempty = torch.sparse_coo_tensor(size=(2, 3))
    assert empty._nnz() == tempty._nnz() == 0 and empty.dtype is ember.float32 and empty.is_coalesced()
    assert empty.to_dense().tolist() == tempty.to_dense().tolist()
    with pytest.raises(RuntimeError, match="found negative index -1 for dim 0"):
        ember.sparse_coo_tensor([[-1, 0]], [1.0, 2.0], (2,), device=device)
    with pytest.raises(RuntimeError, match="found negative index -1 for dim 0"):
        torch.sparse_coo_tensor([[-1, 0]], [1.0, 2.0], (2,), check_invariants=True)


# -- sparse_mask -------------------------------------------------------------------------------------
def test_sparse_mask(device, dtype):
    d, td = dense_pair(device, dtype, 3, 3)
    s, ts = _pair(device, dtype)
    for mask, tmask in ((s, ts), (s.coalesce(), ts.coalesce())):
        ours, theirs = d.sparse_mask(mask), td.sparse_mask(tmask)
        assert ours.is_coalesced() == theirs.is_coalesced() and ours._nnz() == theirs._nnz()
        _same_sparse(ours, theirs, dtype)
    _same_sparse(s.sparse_mask(s.coalesce()), ts.sparse_mask(ts.coalesce()), dtype)
    with pytest.raises(RuntimeError) as theirs:
        td[:2].sparse_mask(ts.coalesce())
    with pytest.raises(
        RuntimeError, match=r"sparse_mask\(\): operands have incompatible sizes; self has size \[2, 3\]"
    ):
        d[:2].sparse_mask(s.coalesce())
    assert "operands have incompatible sizes" in str(theirs.value)


def test_sparse_mask_gradient(device):
    d, td = dense_pair(device, ember.float64, 3, 3, requires_grad=True)
    s, ts = _pair(device, ember.float64)
    w, tw = dense_pair(device, ember.float64, 3, 3, seed=1)
    (d.sparse_mask(s.coalesce()).to_dense() * w).sum().backward()
    (td.sparse_mask(ts.coalesce()).to_dense() * tw).sum().backward()
    assert_dense_close(d.grad, td.grad)


# -- elementwise -------------------------------------------------------------------------------------
def test_sub_and_products(device, dtype):
    s, ts = _pair(device, dtype)
    c, tc = s.coalesce(), ts.coalesce()
    d, td = dense_pair(device, dtype, 3, 3)
    row, trow = dense_pair(device, dtype, 3, seed=2)
    cases = [
        (lambda a, b, x, y: a - b, "s - c"),
        (lambda a, b, x, y: a.sub(b, alpha=2), "sub alpha"),
        (lambda a, b, x, y: a * x, "sparse * dense"),
        (lambda a, b, x, y: x * a, "dense * sparse"),
        (lambda a, b, x, y: a.mul(y), "broadcast row"),
        (lambda a, b, x, y: a * b, "sparse * sparse"),
        (lambda a, b, x, y: b * b, "coalesced * coalesced"),
        (lambda a, b, x, y: a // 2, "floor division"),
        (lambda a, b, x, y: a.div(2, rounding_mode="trunc"), "trunc division"),
        (lambda a, b, x, y: a.pow(3), "pow"),
        (lambda a, b, x, y: a**2, "**"),
        (lambda a, b, x, y: a / (x[0, 0] * 0 + 4), "0-d divisor"),
    ]
    for fn, name in cases:
        ours, theirs = fn(s, c, d, row), fn(ts, tc, td, trow)
        _same_sparse(ours, theirs, dtype)
        if name in ("coalesced * coalesced", "floor division", "pow", "s - c", "sparse * dense"):
            assert ours.is_coalesced() == theirs.is_coalesced(), name
    assert_dense_close(td - ts, d - s, dtype)


def test_elementwise_errors(device):
    s, ts = _pair(device, ember.float64)
    d = ember.ones(3, 3, dtype=ember.float64, device=device)
    with pytest.raises(
        RuntimeError, match=r"Sparse division requires a scalar or zero-dim dense tensor divisor \(got shape \[3, 3\]"
    ):
        s / d
    with pytest.raises(RuntimeError, match="Sparse division requires a scalar or zero-dim dense tensor divisor"):
        ts / torch.ones(3, 3, dtype=torch.float64)
    message = "pow: cannot raise to zeroth power on sparse tensor; it would make the result tensor dense"
    with pytest.raises(RuntimeError, match=message):
        s.pow(0)
    with pytest.raises(RuntimeError, match=message):
        ts.pow(0)
    with pytest.raises(RuntimeError, match="abs_ requires coalesced input"):
        s.abs_()
    with pytest.raises(RuntimeError, match="abs_ requires coalesced input"):
        ts.abs_()


UNARY = [
    "abs", "neg", "sqrt", "square", "sin", "sinh", "tan", "tanh", "asin", "asinh", "atan", "atanh", "relu", "sign",
    "sgn", "floor", "ceil", "round", "trunc", "frac", "log1p", "expm1", "erf", "erfinv", "deg2rad", "rad2deg", "isnan",
    "isinf", "isposinf", "isneginf", "signbit", "nan_to_num", "positive", "conj_physical",
]  # fmt: skip


@pytest.mark.parametrize("name", UNARY)
def test_zero_preserving_functions(device, dtype, name):
    values = [0.3, -0.4, 0.5, 0.1, -0.25]
    s, ts = _pair(device, dtype, values=values)
    ours, theirs = getattr(s, name)(), getattr(ts, name)()
    assert ours.is_coalesced() == theirs.is_coalesced() and ours._nnz() == theirs._nnz()
    _same_sparse(ours, theirs, dtype)
    if name not in ("isnan", "isinf", "isposinf", "isneginf", "signbit", "positive", "conj_physical"):
        c, tc = s.coalesce(), ts.coalesce()
        try:
            getattr(tc, name + "_")()
        except NotImplementedError:  # PyTorch has no sparse kernel for this in-place form (square_)
            return
        assert getattr(c, name + "_")() is c
        _same_sparse(c, tc, dtype)


def test_zero_preserving_function_gradient(device):
    # PyTorch has no sparse tanh backward: the reference differentiates its coalesced values densely
    s, ts = _pair(device, ember.float64, requires_grad=True, values=[0.3, -0.4, 0.5, 0.1, -0.25])
    w, tw = dense_pair(device, ember.float64, 3, 3)
    (s.tanh().to_dense() * w).sum().backward()
    tc = ts.detach().coalesce()
    values = tc.values().requires_grad_()
    (torch.sparse_coo_tensor(tc.indices(), values.tanh(), tc.shape).to_dense() * tw).sum().backward()
    assert s.grad.is_coalesced() and s.grad.indices().tolist() == tc.indices().tolist()
    assert_dense_close(s.grad.values(), values.grad)


def test_in_place_arithmetic(device):
    s, ts = _pair(device, ember.float64)
    c, tc = s.coalesce(), ts.coalesce()
    for ours, theirs in (
        (s.mul_(2), ts.mul_(2)),
        (s.add_(c), ts.add_(tc)),
        (s.sub_(c, alpha=0.5), ts.sub_(tc, alpha=0.5)),
    ):
        _same_sparse(ours, theirs)
    assert s.mul_(3) is s


# -- resizes -----------------------------------------------------------------------------------------
def test_sparse_resize(device):
    s, ts = _pair(device, ember.float64)
    _same_sparse(s.sparse_resize_((4, 5), 2, 0), ts.sparse_resize_((4, 5), 2, 0))
    messages = {
        ((2, 5), 2, 0): r"shrinking the size of sparse dimensions \(from \[4, 5\] to \[2, 5\]\) on a non-empty sparse",
        ((4, 5, 2), 2, 1): r"changing the number of dense dimensions \(from 0 to 1\) on a non-empty sparse",
        ((20,), 1, 0): r"changing the number of sparse dimensions \(from 2 to 1\) on a non-empty sparse",
        ((4, 5), 1, 0): r"'len\(size\) == sparse_dim \+ dense_dim' is not satisfied: len\(size\) = 2, sparse_dim = 1",
    }
    for args, message in messages.items():
        with pytest.raises(RuntimeError, match=message):
            ts.sparse_resize_(*args)
        with pytest.raises(RuntimeError, match=message):
            s.sparse_resize_(*args)
    _same_sparse(s.sparse_resize_and_clear_((2, 2, 3), 2, 1), ts.sparse_resize_and_clear_((2, 2, 3), 2, 1))
    assert s._nnz() == 0 and s.dense_dim() == ts.dense_dim() == 1
    _same_sparse(s.sparse_resize_((1, 5, 3), 1, 2), ts.sparse_resize_((1, 5, 3), 1, 2))


# -- products ----------------------------------------------------------------------------------------
def test_sparse_products(device, dtype):
    s, ts = _pair(device, dtype)
    m, tm = dense_pair(device, dtype, 3, 2)
    v, tv = dense_pair(device, dtype, 3, seed=3)
    a, ta = dense_pair(device, dtype, 3, 2, seed=4)
    _same_sparse(ember.smm(s, m), torch.smm(ts, tm), dtype)
    _same_sparse(s.smm(m), ts.smm(tm), dtype)
    h, th = ember.hspmm(s, m), torch.hspmm(ts, tm)
    assert h.sparse_dim() == th.sparse_dim() == 1 and h._indices().tolist() == th._indices().tolist()
    _same_sparse(h, th, dtype)
    assert_dense_close(ember.dsmm(s, m), torch.dsmm(ts, tm), dtype)
    assert_dense_close(
        ember.sparse.addmm(a, s, m, beta=0.5, alpha=2), torch.sparse.addmm(ta, ts, tm, beta=0.5, alpha=2), dtype
    )
    assert_dense_close(s.mm(m), ts.mm(tm), dtype)
    assert_dense_close(s.matmul(m), ts.matmul(tm), dtype)
    assert_dense_close(s.mv(v), ts.mv(tv), dtype)
    assert_dense_close(ember.mv(s, v), torch.mv(ts, tv), dtype)
    assert_dense_close(ember.mm(m.t(), s), torch.mm(tm.t(), ts), dtype)
    c, tc = s.coalesce(), ts.coalesce()
    sq, tsq = dense_pair(device, dtype, 3, 3, seed=5)
    ours, theirs = ember.sspaddmm(c, s, sq, beta=2, alpha=3), torch.sspaddmm(tc, ts, tsq, beta=2, alpha=3)
    assert ours._nnz() == theirs._nnz() and ours._indices().tolist() == theirs._indices().tolist()
    _same_sparse(ours, theirs, dtype)


def test_sparse_product_errors(device):
    s, ts = _pair(device, ember.float64)
    bad, tbad = ember.ones(2, 3, dtype=ember.float64, device=device), torch.ones(2, 3, dtype=torch.float64)
    message = r"addmm: Argument #3 \(dense\): Expected dim 0 size 2, got 3"
    with pytest.raises(RuntimeError, match=message):
        torch.mm(tbad, torch.ones(2, 3, dtype=torch.float64).to_sparse())
    with pytest.raises(RuntimeError, match=message):
        ember.mm(bad, ember.ones(2, 3, dtype=ember.float64, device=device).to_sparse())
    with pytest.raises(RuntimeError, match="sspaddmm: Argument #1: Expected dim 1 size 2, got 3"):
        torch.sspaddmm(ts.coalesce(), ts, tbad.t())
    with pytest.raises(RuntimeError, match="sspaddmm: Argument #1: Expected dim 1 size 2, got 3"):
        ember.sspaddmm(s.coalesce(), s, bad.t())


@pytest.mark.parametrize("how", ["s.t() @ d", "d @ s.t()", "s.t().t() @ d", "d @ s", "mm(s.t(), d)"])
def test_dense_gradient_through_a_transpose(device, how):
    # ember gave the transpose (a new tensor sharing the values) the gradient and s.grad stayed None
    fns = {
        "s.t() @ d": lambda s, d, lib: s.t() @ d,
        "d @ s.t()": lambda s, d, lib: d.t() @ s.t(),
        "s.t().t() @ d": lambda s, d, lib: s.t().t() @ d,
        "d @ s": lambda s, d, lib: d.t() @ s,
        "mm(s.t(), d)": lambda s, d, lib: lib.mm(s.t(), d),
    }
    s, ts = _pair(device, ember.float64, requires_grad=True)
    d, td = dense_pair(device, ember.float64, 3, 3)
    fns[how](s, d, ember).sum().backward()
    fns[how](ts, td, torch).sum().backward()
    assert s.grad is not None and s.grad.layout is ember.strided and ts.grad.layout is torch.strided
    assert_dense_close(s.grad, ts.grad)


# -- softmax -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sparse_softmax(device, dtype, fn, dim):
    s, ts = _pair(device, dtype, requires_grad=True)
    ours, theirs = getattr(ember.sparse, fn)(s, dim), getattr(torch.sparse, fn)(ts, dim)
    assert ours.is_coalesced() and theirs.is_coalesced()
    assert ours._indices().tolist() == theirs._indices().tolist()
    _same_sparse(ours, theirs, dtype)
    if dtype is ember.float64:
        if dim < 0:  # PyTorch's backward does not wrap a negative dim (its gradient is wrong): that of dim 1
            theirs = getattr(torch.sparse, fn)(ts, dim + 2)
        w, tw = dense_pair(device, dtype, 3, 3)
        (ours.to_dense() * w).sum().backward()
        (theirs.to_dense() * tw).sum().backward()
        _same_sparse(s.grad, ts.grad, dtype)


def test_sparse_softmax_hybrid_and_dtype(device):
    indices, values = [[0, 2, 0]], [[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]]
    s, ts = _pair(device, ember.float64, indices=indices, values=values, size=(3, 2))
    for dim in (0, 1):
        _same_sparse(ember.sparse.softmax(s, dim), torch.sparse.softmax(ts, dim))
        _same_sparse(ember.sparse.log_softmax(s, dim), torch.sparse.log_softmax(ts, dim))
    ours = ember.sparse.softmax(s, 0, dtype=ember.float32)
    theirs = torch.sparse.softmax(ts, 0, dtype=torch.float32)
    assert ours.dtype is ember.float32
    _same_sparse(ours, theirs, ember.float32)


# -- spdiags -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "offsets, shape", [([0, -1], (3, 3)), ([1, -1], (2, 3)), ([0, 1], (3, 4)), ([2, -2], (4, 3)), ([-1], (3, 3))]
)
def test_spdiags(device, offsets, shape):
    diagonals = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]][: len(offsets)]
    ours = ember.sparse.spdiags(ember.tensor(diagonals, device=device), ember.tensor(offsets, device=device), shape)
    theirs = torch.sparse.spdiags(torch.tensor(diagonals), torch.tensor(offsets), shape)
    assert ours._indices().tolist() == theirs._indices().tolist()
    assert ours._values().tolist() == theirs._values().tolist()
    _same_sparse(ours, theirs)
    for layout in ("sparse_csr", "sparse_csc"):
        ours = ember.sparse.spdiags(
            ember.tensor(diagonals, device=device), ember.tensor(offsets, device=device), shape, getattr(ember, layout)
        )
        theirs = torch.sparse.spdiags(torch.tensor(diagonals), torch.tensor(offsets), shape, getattr(torch, layout))
        _same_sparse(ours, theirs)


def test_spdiags_errors():
    with pytest.raises(RuntimeError, match="Offset tensor contains duplicate values"):
        torch.sparse.spdiags(torch.ones(2, 3), torch.tensor([1, 1]), (3, 3))
    with pytest.raises(RuntimeError, match="Offset tensor contains duplicate values"):
        ember.sparse.spdiags(ember.ones(2, 3), ember.tensor([1, 1]), (3, 3))
    with pytest.raises(RuntimeError, match="Offsets tensor must be one-dimensional"):
        ember.sparse.spdiags(ember.ones(2, 3), ember.tensor([[1, 0]]), (3, 3))


# -- invariants switch ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_check_sparse_tensor_invariants(lib):
    switch = lib.sparse.check_sparse_tensor_invariants
    assert not switch.is_enabled()
    unsorted = ([[1, 0]], [1.0, 2.0], (2,))
    lib.sparse_coo_tensor(*unsorted, is_coalesced=True)  # trusted
    with switch():
        assert switch.is_enabled()
        with pytest.raises(RuntimeError, match="cannot set is_coalesced to true if indices correspond to uncoalesced"):
            lib.sparse_coo_tensor(*unsorted, is_coalesced=True)
        with switch(False):
            assert not switch.is_enabled()
    assert not switch.is_enabled()

    @switch()
    def make():
        return lib.sparse_coo_tensor(*unsorted, is_coalesced=True)

    with pytest.raises(RuntimeError, match="uncoalesced COO tensor"):
        make()
    switch.enable()
    try:
        assert switch.is_enabled()
    finally:
        switch.disable()
    assert not switch.is_enabled()


# -- buffers and files ---------------------------------------------------------------------------------
def test_sparse_buffer_in_a_module(tmp_path):
    def module(lib):
        class Graph(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("adj", lib.sparse_coo_tensor([[0, 1, 2], [1, 0, 2]], [1.0, 2.0, 3.0], (3, 3)))

            def forward(self, x):
                return self.adj @ x

        return Graph()

    ours, theirs = module(ember).double(), module(torch).double()
    assert ours.adj.dtype is ember.float64 and theirs.adj.dtype is torch.float64
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["adj"]
    ember.save(ours.state_dict(), tmp_path / "graph.pt")
    loaded = torch.load(tmp_path / "graph.pt")
    assert loaded["adj"].layout is torch.sparse_coo and torch.equal(loaded["adj"].to_dense(), theirs.adj.to_dense())
    other = module(ember)
    other.adj = ember.sparse_coo_tensor([[0], [0]], [7.0], (3, 3))
    other.load_state_dict(ember.load(tmp_path / "graph.pt"))
    assert other.adj.to_dense().tolist() == theirs.adj.to_dense().tolist() and other.adj.dtype is ember.float32
    x = ember.ones(3, 1)
    assert other(x).tolist() == module(torch)(torch.ones(3, 1)).tolist()


# -- factories ---------------------------------------------------------------------------------------
def test_sparse_factories(device):
    # ember gave zeros_like/empty_like of a sparse tensor a dense result and refused zeros(layout=sparse_coo)
    s = ember.sparse_coo_tensor([[0, 2]], [[1.0, 2.0], [3.0, 4.0]], (3, 2), dtype=ember.float64, device=device)
    ts = torch.sparse_coo_tensor([[0, 2]], [[1.0, 2.0], [3.0, 4.0]], (3, 2), dtype=torch.float64)
    pairs = [
        (ember.zeros_like(s), torch.zeros_like(ts)),
        (ember.empty_like(s), torch.empty_like(ts)),
        (ember.zeros_like(s, dtype=ember.float32), torch.zeros_like(ts, dtype=torch.float32)),
        (ember.zeros(2, 3, layout=ember.sparse_coo, device=device), torch.zeros(2, 3, layout=torch.sparse_coo)),
        (ember.empty((2, 3), layout=ember.sparse_coo, dtype=ember.float64, device=device), torch.empty((2, 3), layout=torch.sparse_coo, dtype=torch.float64)),
    ]  # fmt: skip
    for ours, theirs in pairs:
        assert ours._nnz() == theirs._nnz() == 0 and ours.is_coalesced() == theirs.is_coalesced()
        assert ours.sparse_dim() == theirs.sparse_dim() and ours.dense_dim() == theirs.dense_dim()
        _same_sparse(ours, theirs)


# -- shape ---------------------------------------------------------------------------------------------
HYBRID = ([[0, 2]], [[1.0, 2.0], [3.0, 4.0]], (3, 2))

SHAPE_OPS = {
    "cat 0": lambda s, h, lib, ix: lib.cat([s, s]),
    "cat 1": lambda s, h, lib, ix: lib.cat([s, s.coalesce()], 1),
    "cat hybrid dense dim": lambda s, h, lib, ix: lib.cat([h, h], 1),
    "cat hybrid sparse dim": lambda s, h, lib, ix: lib.cat([h, h], 0),
    "stack 0": lambda s, h, lib, ix: lib.stack([s.coalesce(), s.coalesce()]),
    "stack 2": lambda s, h, lib, ix: lib.stack([s, s], 2),
    "stack hybrid": lambda s, h, lib, ix: lib.stack([h, h], 2),
    "unsqueeze 0": lambda s, h, lib, ix: s.unsqueeze(0),
    "unsqueeze -1": lambda s, h, lib, ix: lib.unsqueeze(s, -1),
    "unsqueeze hybrid 1": lambda s, h, lib, ix: h.unsqueeze(1),
    "unsqueeze hybrid 2": lambda s, h, lib, ix: h.unsqueeze(2),
    "permute": lambda s, h, lib, ix: lib.permute(s, (1, 0)),
    "permute tuple": lambda s, h, lib, ix: s.permute((1, 0)),
    "index_select 0": lambda s, h, lib, ix: lib.index_select(s, 0, ix([1, 1, 2])),
    "index_select 1": lambda s, h, lib, ix: s.index_select(1, ix([2, 0, 2])),
    "index_select dense dim": lambda s, h, lib, ix: h.index_select(1, ix([1])),
    "index_select hybrid": lambda s, h, lib, ix: h.index_select(0, ix([2, 2, 0])),
    "narrow_copy sparse": lambda s, h, lib, ix: s.narrow_copy(1, 1, 2),
    "narrow_copy dense": lambda s, h, lib, ix: h.narrow_copy(1, 1, 1),
    "ember.narrow_copy": lambda s, h, lib, ix: lib.narrow_copy(s, 1, 0, 2),
}


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_operations(device, dtype, name):
    s, ts = _pair(device, dtype)
    h, th = _pair(device, dtype, indices=HYBRID[0], values=HYBRID[1], size=HYBRID[2])
    ours = SHAPE_OPS[name](s, h, ember, lambda i: ember.tensor(i, device=device))
    theirs = SHAPE_OPS[name](ts, th, torch, torch.tensor)
    assert ours.sparse_dim() == theirs.sparse_dim() and ours.dense_dim() == theirs.dense_dim()
    _same_sparse(ours, theirs, dtype)


def test_shape_operation_gradients(device):
    s, ts = _pair(device, ember.float64, requires_grad=True)
    w, tw = dense_pair(device, ember.float64, 3, 6)
    (ember.cat([s, s * 2], 1).to_dense() * w).sum().backward()
    # PyTorch has no backward through a sparse cat: the dense gradient at the stored coordinates
    td = ts.detach().to_dense().requires_grad_()
    (torch.cat([td, td * 2], 1) * tw).sum().backward()
    mask = ts.detach().coalesce().to_dense() != 0
    assert_dense_close(s.grad, td.grad * mask)


def test_shape_operation_errors(device):
    s, ts = _pair(device, ember.float64)
    cases = [
        (lambda x, lib: lib.cat([x, lib.sparse_coo_tensor([[0]], [1.0], (3,), dtype=x.dtype, device=x.device)]), RuntimeError, "All tensors must have the same shape: "),
        (lambda x, lib: x.index_select(0, lib.tensor([3], device=x.device)), IndexError, r"index_select\(\): index contains 3 that is out of range for tensor of size \[3, 3\] at dimension 0"),
        (lambda x, lib: x.index_select(0, lib.tensor([1.0], device=x.device)), IndexError, r"index_select\(\) argument index must be 1-D strided \(non-sparse\) long-tensor."),
        (lambda x, lib: x.narrow_copy(1, 2, 2), RuntimeError, r"Invalid range to narrow. range\(start, start\+length\) must be a subset of range\(0, 3\)."),
        (lambda x, lib: lib.sparse_coo_tensor(*HYBRID, device=x.device).permute(1, 0), RuntimeError, "permute\\(sparse_coo\\): transpositions between sparse and dense dimensions are not allowed."),
    ]  # fmt: skip
    for fn, kind, message in cases:
        with pytest.raises(kind, match=message):
            fn(ts, torch)
        with pytest.raises(kind, match=message):
            fn(s, ember)


def test_t_of_other_than_a_matrix(device):
    h, th = _pair(device, ember.float32, indices=HYBRID[0], values=HYBRID[1], size=HYBRID[2])
    message = r"t\(\) expects a tensor with <= 2 sparse and 0 dense dimensions, but got 1 sparse and 1 dense dimensions"
    with pytest.raises(RuntimeError, match=message):
        th.t()
    with pytest.raises(RuntimeError, match=message):
        h.t()
    vector, tvector = ember.zeros(3, device=device).to_sparse(), torch.zeros(3).to_sparse()
    _same_sparse(vector.t(), tvector.t(), ember.float32)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype_name, torch_name", [("int64", "Long"), ("float16", "Half"), ("int32", "Int")])
def test_sparse_softmax_refuses_what_torch_refuses(fn, dtype_name, torch_name):
    # ember raised RuntimeError "... for 'Int64'" and computed float16; PyTorch's CPU kernels refuse both
    s = ember.sparse_coo_tensor([[0, 1]], ember.tensor([1, 2], dtype=getattr(ember, dtype_name)), (2,))
    ts = torch.sparse_coo_tensor([[0, 1]], torch.tensor([1, 2], dtype=getattr(torch, dtype_name)), (2,))
    message = f"\"{fn}\" not implemented for '{torch_name}'"
    with pytest.raises(NotImplementedError, match=message):
        getattr(torch.sparse, fn)(ts, 0)
    with pytest.raises(NotImplementedError, match=message):
        getattr(ember.sparse, fn)(s, 0)


def test_indices_of_other_dtypes_are_converted(device):
    # ember refused float indices ("indices must be an int64 tensor"); PyTorch truncates them to int64
    for values in ([[0.7, 1.2]], [[True, False]]):
        s = ember.sparse_coo_tensor(ember.tensor(values, device=device), [1.0, 2.0], (3,), device=device)
        ts = torch.sparse_coo_tensor(torch.tensor(values), [1.0, 2.0], (3,))
        assert s._indices().dtype is ember.int64 and s._indices().tolist() == ts._indices().tolist()
        _same_sparse(s, ts, ember.float32)


# -- Python protocols and indexing --------------------------------------------------------------------
INDEXING = [
    "s[0]",
    "s[1]",
    "s[-1]",
    "s[:, 2]",
    "s[1, 2]",
    "h[2]",
    "h[:, 1]",
    "h[0, 0]",
    "s.select(1, 2)",
    "h.select(1, 0)",
]


@pytest.mark.parametrize("expr", INDEXING)
def test_indexing(device, dtype, expr):
    # ember's sparse tensors were not subscriptable and had no select
    s, ts = _pair(device, dtype)
    h, th = _pair(device, dtype, indices=HYBRID[0], values=HYBRID[1], size=HYBRID[2])
    ours, theirs = eval(expr, {"s": s, "h": h}), eval(expr, {"s": ts, "h": th})
    if theirs.layout is torch.strided:  # every sparse dimension indexed away: dense, as PyTorch's
        assert isinstance(ours, ember.Tensor)
        assert_dense_close(ours, theirs, dtype)
        return
    assert ours.sparse_dim() == theirs.sparse_dim() and ours.dense_dim() == theirs.dense_dim()
    _same_sparse(ours, theirs, dtype)


def test_slicing_beyond_torch(device):
    # PyTorch cannot slice a sparse tensor (no as_strided); ember narrows it: checked against the dense slice
    s, ts = _pair(device, ember.float64)
    assert_dense_close(s[0:2], ts.to_dense()[0:2])
    assert_dense_close(s[:, 1:3], ts.to_dense()[:, 1:3])
    with pytest.raises(NotImplementedError, match="slices of step 1 only"):
        s[::2]


def test_python_protocols(device):
    s, ts = _pair(device, ember.float32)
    assert len(s) == len(ts) == 3
    assert s.get_device() == ts.get_device() == -1 or device != "cpu"
    assert s.data.layout is ember.sparse_coo and not s.data.requires_grad
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(ts.coalesce())
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(s)
    one, tone = ember.sparse_coo_tensor([[0]], [2.0], (1,), device=device), torch.sparse_coo_tensor([[0]], [2.0], (1,))
    assert bool(one) is bool(tone) is True


def test_linear_of_a_sparse_input(device, dtype):
    # F.linear(sparse, weight) raised TypeError
    s, ts = _pair(device, dtype)
    w, tw = dense_pair(device, dtype, 4, 3)
    b, tb = dense_pair(device, dtype, 4, seed=1)
    assert_dense_close(ember.nn.functional.linear(s, w), torch.nn.functional.linear(ts, tw), dtype)
    assert_dense_close(ember.nn.functional.linear(s, w, b), torch.nn.functional.linear(ts, tw, tb), dtype)
    csr, tcsr = s.to_dense().to_sparse_csr(), ts.to_dense().to_sparse_csr()
    assert_dense_close(ember.nn.functional.linear(csr, w, b), torch.nn.functional.linear(tcsr, tw, tb), dtype)


@pytest.mark.parametrize(
    "name",
    ["is_coalesced", "coalesce", "indices", "values", "crow_indices", "col_indices", "ccol_indices", "row_indices"],
)
def test_sparse_accessors_of_a_dense_tensor(device, name):
    # ember raised AttributeError; PyTorch a RuntimeError naming the layout it expected
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch.ones(2, 2), name)()
    with pytest.raises(RuntimeError, match=f"^{str(theirs.value)}$"):
        getattr(ember.ones(2, 2, device=device), name)()


def test_sparse_and_dense_dims_of_a_dense_tensor(device):
    assert ember.ones(2, 3, device=device).sparse_dim() == torch.ones(2, 3).sparse_dim() == 0
    assert ember.ones(2, 3, device=device).dense_dim() == torch.ones(2, 3).dense_dim() == 2


def test_dense_methods_a_sparse_tensor_lacks_raise_not_implemented(device):
    # ember raised AttributeError; PyTorch a NotImplementedError (no sparse kernel). hasattr stays False.
    s, ts = _pair(device, ember.float64)
    csr = ember.ones(2, 2, device=device).to_sparse_csr()
    for name in ("mean", "max", "amax", "clamp"):
        with pytest.raises(NotImplementedError):
            getattr(ts, name)()
        with pytest.raises(NotImplementedError, match=f"Could not run 'aten::{name}'"):
            getattr(s, name)()
        with pytest.raises(NotImplementedError, match=f"Could not run 'aten::{name}'"):
            getattr(csr, name)()
        assert not hasattr(s, name) and not hasattr(csr, name)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_method'"):
        s.no_such_method()


def test_dsmm_of_dense_matrices(device):
    a, ta = dense_pair(device, ember.float64, 3, 4)
    b, tb = dense_pair(device, ember.float64, 4, 2, seed=1)
    assert_dense_close(ember.dsmm(a, b), torch.dsmm(ta, tb))
