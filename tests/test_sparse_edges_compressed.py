"""The compressed sparse layouts (CSR, CSC, BSR, BSC), against torch: constructors and their invariant
errors, conversions, parts, printing, products and their gradients, arithmetic, sampled_addmm, files."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sparse_support import assert_dense_close, dense_pair

import ember

warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")

DENSE = [[0.0, 0.0, 4.0, 1.0], [4.0, 0.0, 5.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, -1.0]]
LAYOUTS = ["csr", "csc", "bsr", "bsc"]
BLOCK = {"csr": None, "csc": None, "bsr": (2, 2), "bsc": (1, 2)}
PARTS = {
    "csr": ("crow_indices", "col_indices"),
    "bsr": ("crow_indices", "col_indices"),
    "csc": ("ccol_indices", "row_indices"),
    "bsc": ("ccol_indices", "row_indices"),
}


def _lib_dtype(lib, dtype):
    return getattr(lib, dtype.name)


def _convert(x, layout):
    block = BLOCK[layout]
    return getattr(x, f"to_sparse_{layout}")(*(() if block is None else (block,)))


def _pair(device, dtype, layout, dense=DENSE):
    ours = _convert(ember.tensor(dense, dtype=dtype, device=device), layout)
    theirs = _convert(torch.tensor(dense, dtype=_lib_dtype(torch, dtype)), layout)
    return ours, theirs


def _same(ours, theirs, dtype=ember.float64):
    """Same layout, size, dtype, parts and values."""
    layout = str(theirs.layout).split(".")[-1]
    assert str(ours.layout).split(".")[-1] == layout
    assert tuple(ours.shape) == tuple(theirs.shape) and ours._nnz() == theirs._nnz()
    if layout != "sparse_coo":
        for part in PARTS[layout[len("sparse_") :]]:
            assert getattr(ours, part)().tolist() == getattr(theirs, part)().tolist(), part
        assert_dense_close(ours.values(), theirs.values(), dtype)
    assert_dense_close(ours, theirs, dtype)


# -- layouts and conversions ---------------------------------------------------------------------------
def test_layouts_exist():
    for name in ("sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc"):
        assert repr(getattr(ember, name)) == repr(getattr(torch, name)).replace("torch", "ember")
    assert ember.ones(2).is_sparse_csr is False


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dense_to_compressed(device, dtype, layout):
    ours, theirs = _pair(device, dtype, layout)
    _same(ours, theirs, dtype)
    assert ours.is_sparse is theirs.is_sparse is False
    assert ours.is_sparse_csr == theirs.is_sparse_csr == (layout == "csr")
    assert ours.sparse_dim() == theirs.sparse_dim() and ours.dense_dim() == theirs.dense_dim()
    assert ours.dtype is dtype and ours.numel() == theirs.numel()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_to_coo_and_between_layouts(device, layout):
    ours, theirs = _pair(device, ember.float64, layout)
    _same(ours.to_sparse(), theirs.to_sparse())
    _same(ours.to_sparse_coo().coalesce(), theirs.to_sparse_coo().coalesce())
    if layout in ("csr", "csc"):
        for target in ("csr", "csc"):
            _same(_convert(ours, target), _convert(theirs, target))
        _same(ours.to_sparse_bsr((2, 2)), theirs.to_sparse_bsr((2, 2)))
        coo, tcoo = ember.tensor(DENSE, device=device).to_sparse(), torch.tensor(DENSE).to_sparse()
        _same(_convert(coo, layout), _convert(tcoo, layout), ember.float32)
    else:
        message = f"sparse_compressed_to_sparse_csr: expected SparseCsr or SparseCsc layout but got Sparse{layout.capitalize()}"
        with pytest.raises(RuntimeError, match=message):
            theirs.to_sparse_csr()
        with pytest.raises(RuntimeError, match=message):
            ours.to_sparse_csr()
    assert _convert(ours, layout) is ours


def test_conversion_errors(device):
    x, tx = ember.ones(2, 3, device=device), torch.ones(2, 3)
    cases = [
        (lambda t: t.to_sparse_bsr((3, 2)), r"dense_to_sparse_bsr: tensor sparse size \(2,3\) must be divisible by given blocksize \(3,2\)"),
        (lambda t: t.to_sparse_bsr((2,)), "dense_to_sparse_bsr: blocksize needs to be a tuple of size 2, but got 1"),
        (lambda t: t.to_sparse_csr(dense_dim=1), r"dense_to_sparse_csr: dense_dim argument must be in \[0,0\] range, but 1 is given"),
        (lambda t: t.to_sparse().unsqueeze(0).to_sparse_csr() if isinstance(t, torch.Tensor) else t.to_sparse(1).to_sparse_csr(), "conversion from Sparse to SparseCsr for input tensors with sparse_dim"),
    ]  # fmt: skip
    for fn, message in cases:
        with pytest.raises(RuntimeError, match=message):
            fn(tx)
        with pytest.raises(RuntimeError, match=message):
            fn(x)


# -- constructors ---------------------------------------------------------------------------------------
CONSTRUCTED = [
    ("sparse_csr_tensor", [0, 1, 3], [2, 0, 2], [4.0, 4.0, 5.0], (2, 3)),
    ("sparse_csr_tensor", [0, 1, 3], [2, 0, 2], [4.0, 4.0, 5.0], None),
    ("sparse_csr_tensor", [0, 0, 0], [], [], (2, 3)),
    ("sparse_csc_tensor", [0, 1, 1, 3], [1, 0, 1], [4.0, 4.0, 5.0], (2, 3)),
    ("sparse_csc_tensor", [0, 1, 1, 3], [1, 0, 1], [4.0, 4.0, 5.0], None),
    ("sparse_bsr_tensor", [0, 1, 2], [0, 1], [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]], (4, 4)),
    ("sparse_bsr_tensor", [0, 1, 2], [0, 1], [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]], None),
    ("sparse_bsc_tensor", [0, 1, 2], [1, 0], [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]], (4, 4)),
]


@pytest.mark.parametrize("case", CONSTRUCTED, ids=lambda c: f"{c[0]}-{c[4]}-{len(c[2])}")
def test_constructors(device, dtype, case):
    name, compressed, plain, values, size = case
    args = [compressed, plain]
    ours = getattr(ember, name)(
        *(ember.tensor(a, dtype=ember.int64, device=device) for a in args),
        ember.tensor(values, dtype=dtype, device=device),
        size,
    )
    theirs = getattr(torch, name)(
        *(torch.tensor(a, dtype=torch.int64) for a in args),
        torch.tensor(values, dtype=_lib_dtype(torch, dtype)),
        *(() if size is None else (size,)),
    )
    _same(ours, theirs, dtype)
    general = ember.sparse_compressed_tensor(
        *(ember.tensor(a, dtype=ember.int64, device=device) for a in args),
        ember.tensor(values, dtype=dtype, device=device),
        size,
        layout=ours.layout,
    )
    _same(general, theirs, dtype)


def test_int32_indices_and_keywords(device):
    crow, col = [0, 1, 3], [2, 0, 2]
    ours = ember.sparse_csr_tensor(
        ember.tensor(crow, dtype=ember.int32), ember.tensor(col, dtype=ember.int32), [4.0, 4.0, 5.0], (2, 3),
        dtype=ember.float64, device=device, requires_grad=True,
    )  # fmt: skip
    theirs = torch.sparse_csr_tensor(
        torch.tensor(crow, dtype=torch.int32), torch.tensor(col, dtype=torch.int32), [4.0, 4.0, 5.0], (2, 3),
        dtype=torch.float64, requires_grad=True,
    )  # fmt: skip
    assert ours.crow_indices().dtype is ember.int32 and theirs.crow_indices().dtype is torch.int32
    assert ours.requires_grad and ours.is_leaf
    _same(ours, theirs)
    with pytest.raises(
        RuntimeError, match="sparse_compressed_tensor expected sparse compressed tensor layout but got none"
    ):
        ember.sparse_compressed_tensor([0, 1], [0], [1.0], (1, 1))
    with pytest.raises(
        RuntimeError, match="sparse_compressed_tensor expected sparse compressed tensor layout but got Sparse"
    ):
        ember.sparse_compressed_tensor([0, 1], [0], [1.0], (1, 1), layout=ember.sparse_coo)


T = torch.tensor
INVALID = [
    ("csr", ([1, 1, 3], [2, 0, 2], [4.0, 4.0, 5.0], (2, 3)), r"`crow_indices\[..., 0\] == 0` is not satisfied."),
    ("csr", ([0, 1, 2], [2, 0, 2], [4.0, 4.0, 5.0], (2, 3)), r"`crow_indices\[..., -1\] == nnz` is not satisfied."),
    ("csr", ([0, 2, 1, 3], [2, 0, 2], [4.0, 4.0, 5.0], (3, 3)), "are sorted and distinct along the last dimension"),
    ("csr", ([0, 2, 1, 3], [0, 2, 1], [4.0, 4.0, 5.0], (3, 3)), r"`0 <= crow_indices\[..., 1:\] - crow_indices\[..., :-1\] <= ncols`"),
    ("csr", ([0, 3, 3], [0, 1, 1], [4.0, 4.0, 5.0], (2, 2)), r"`0 <= crow_indices\[..., 1:\] - crow_indices\[..., :-1\] <= ncols`"),
    ("csr", ([0, 1, 3], [2, 0, 3], [4.0, 4.0, 5.0], (2, 3)), "`0 <= col_indices < ncols` is not satisfied."),
    ("csr", ([0, 1, 3], [2, -1, 0], [4.0, 4.0, 5.0], (2, 3)), "`0 <= col_indices < ncols` is not satisfied."),
    ("csr", ([0, 1, 3], [2, 2, 0], [4.0, 4.0, 5.0], (2, 3)), r"`col_indices\[..., crow_indices\[..., i - 1\]:crow_indices\[..., i\]\] for all i = 1, ..., nrows are sorted and distinct"),
    ("csr", ([0, 1, 4], [2, 0, 2, 1], [4.0, 4.0, 5.0, 1.0], (2, 3)), "are sorted and distinct along the last dimension"),
    ("csr", ([0, 1, 3], [2, 0, 2], [4.0, 4.0], (2, 3)), r"col_indices.shape\[-1\] must be equal to nnz \(=2\) as defined by values.shape\[0\], but got 3"),
    ("csr", ([0, 1, 3], [2, 0, 2], [4.0, 4.0, 5.0], (3, 3)), r"crow_indices.shape\[-1\] must be equal to the number of rows \+ 1 \(=4\), but got 3"),
    ("csr", ([0, 1, 3], [2, 0, 2], [4.0, 4.0, 5.0], (2, 3, 4)), r"tensor dimensionality must be sum of batch, base, and dense dimensionalities \(=0 \+ 2 \+ 0\) but got 3"),
    ("csr", ([0, 1, 3], [[2, 0, 2]], [4.0, 4.0, 5.0], (2, 3)), "crow_indices and col_indices dimensionalities must be equal but got 1 and 2, respectively"),
    ("csr", (0, [2, 0, 2], [4.0, 4.0, 5.0], (2, 3)), "crow_indices must have dimensionality >= 1 but got 0"),
    ("csc", ([0, 1, 1, 3], [1, 0, 2], [4.0, 4.0, 5.0], (2, 3)), "`0 <= row_indices < nrows` is not satisfied."),
    ("csc", ([0, 1, 1, 3], [1, 1, 0], [4.0, 4.0, 5.0], (2, 3)), r"`row_indices\[..., ccol_indices\[..., i - 1\]:ccol_indices\[..., i\]\] for all i = 1, ..., ncols are sorted"),
    ("bsr", ([0, 1, 2], [0, 1], [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]], (4, 5)), r"tensor shape\[1\] \(=5\) must be divisible with blocksize\[1\] \(=2\) as defined by values shape"),
    ("bsr", ([0, 1, 2], [0, 2], [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]], (4, 4)), "`0 <= col_indices < ncols` is not satisfied."),
    ("bsr", ([0, 1, 2], [0, 1], [[1.0, 2.0], [3.0, 4.0]], (4, 4)), r"values must have dimensionality > sum of batch and block dimensionalities \(=0 \+ 2\) but got 2"),
]  # fmt: skip


@pytest.mark.parametrize("case", INVALID, ids=lambda c: f"{c[0]}-{c[2][:30]}")
def test_invariant_errors(case):
    layout, (compressed, plain, values, size), message = case
    with pytest.raises(RuntimeError, match=message):
        getattr(torch, f"sparse_{layout}_tensor")(T(compressed), T(plain), T(values), size, check_invariants=True)
    with pytest.raises(RuntimeError, match=message):
        getattr(ember, f"sparse_{layout}_tensor")(
            ember.tensor(compressed), ember.tensor(plain), ember.tensor(values), size
        )


def test_index_dtype_errors():
    message = "crow_indices and col_indices must have the same dtype, bot got Int and Long, respectively"
    with pytest.raises(RuntimeError, match=message):
        torch.sparse_csr_tensor(T([0, 1], dtype=torch.int32), T([0]), T([1.0]), (1, 1), check_invariants=True)
    with pytest.raises(RuntimeError, match=message):
        ember.sparse_csr_tensor(ember.tensor([0, 1], dtype=ember.int32), ember.tensor([0]), ember.tensor([1.0]), (1, 1))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_parts_of_the_other_layouts_are_refused(layout):
    ours, theirs = _pair("cpu", ember.float32, layout)
    wrong = ("ccol_indices", "row_indices") if layout in ("csr", "bsr") else ("crow_indices", "col_indices")
    for name in (*wrong, "indices"):
        with pytest.raises(RuntimeError) as expected:
            getattr(theirs, name)()
        with pytest.raises(RuntimeError, match=str(expected.value).replace("(", r"\(").replace(")", r"\)")):
            getattr(ours, name)()


# -- printing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS)
def test_printing_matches_torch(layout):
    for dtype in (ember.float32, ember.float64):
        ours, theirs = _pair("cpu", dtype, layout)
        assert repr(ours) == repr(theirs).replace("torch", "ember")
    ours = ember.sparse_csr_tensor([0, 1, 3], [2, 0, 2], [4.0, 4.0, 5.0], (2, 3), requires_grad=True)
    theirs = torch.sparse_csr_tensor([0, 1, 3], [2, 0, 2], [4.0, 4.0, 5.0], (2, 3), requires_grad=True)
    assert repr(ours) == repr(theirs).replace("torch", "ember")
    empty = ember.sparse_csr_tensor([0, 0, 0], ember.tensor([], dtype=ember.int64), [], (2, 3))
    tempty = torch.sparse_csr_tensor([0, 0, 0], torch.tensor([], dtype=torch.int64), [], (2, 3))
    assert repr(empty) == repr(tempty).replace("torch", "ember")


# -- products -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["csr", "csc", "bsr"])
def test_products(device, dtype, layout):
    s, ts = _pair(device, dtype, layout)
    m, tm = dense_pair(device, dtype, 4, 3)
    v, tv = dense_pair(device, dtype, 4, seed=1)
    a, ta = dense_pair(device, dtype, 4, 3, seed=2)
    assert_dense_close(s @ m, ts @ tm, dtype)
    assert_dense_close(ember.mm(s, m), torch.mm(ts, tm), dtype)
    assert_dense_close(ember.matmul(s, m), torch.matmul(ts, tm), dtype)
    assert_dense_close(s.matmul(m), ts.matmul(tm), dtype)
    assert_dense_close(s @ v, ts @ tv, dtype)
    assert_dense_close(ember.addmm(a, s, m, beta=0.5, alpha=2), torch.addmm(ta, ts, tm, beta=0.5, alpha=2), dtype)
    if layout == "csr":
        assert_dense_close(ember.mv(s, v), torch.mv(ts, tv), dtype)
        assert_dense_close(ember.sparse.mm(s, m), torch.sparse.mm(ts, tm), dtype)
        assert_dense_close(ember.sparse.addmm(a, s, m), torch.sparse.addmm(ta, ts, tm), dtype)
        assert_dense_close(m.t() @ s, tm.t() @ ts, dtype)
        assert_dense_close(ember.mm(m.t(), s), torch.mm(tm.t(), ts), dtype)


def test_bsc_product_is_refused_as_in_torch(device):
    s, ts = _pair(device, ember.float32, "bsc")
    message = "addmm: computation on CPU is not implemented for Strided \\+ SparseBsc @ Strided"
    with pytest.raises(RuntimeError, match=message):
        ts @ torch.ones(4, 2)
    if device == "cpu":
        with pytest.raises(RuntimeError, match=message):
            s @ ember.ones(4, 2)


@pytest.mark.parametrize("layout", ["csr", "csc"])
@pytest.mark.parametrize("how", ["@", "mm", "addmm", "dense @", "sparse.mm", "to_dense", "values", "* dense"])
def test_gradients(device, layout, how):
    fns = {
        "@": lambda s, m, w, lib: s @ m,
        "mm": lambda s, m, w, lib: lib.mm(s, m),
        "addmm": lambda s, m, w, lib: lib.addmm(w[:, :3], s, m),
        "dense @": lambda s, m, w, lib: m.t() @ s.t(),
        "sparse.mm": lambda s, m, w, lib: lib.sparse.mm(s, m) * w[:, :3],
        "to_dense": lambda s, m, w, lib: s.to_dense() * w,
        "values": lambda s, m, w, lib: s.values() * 3,
        "* dense": lambda s, m, w, lib: (s * w).to_dense(),
    }
    if layout == "csc" and how == "* dense":  # PyTorch multiplies a compressed tensor by a tensor in CSR only
        s = _convert(ember.tensor(DENSE, dtype=ember.float64, device=device), layout)
        with pytest.raises(RuntimeError, match="Expected result Tensor to be of format CSR"):
            s * dense_pair(device, ember.float64, 4, 4, seed=3)[0]
        return
    if layout == "csc" and how in ("sparse.mm", "to_dense", "values"):
        # PyTorch refuses these for CSC (no backward, or no contiguity check); ember's CSC gradient is
        # checked against PyTorch's CSR one at the same elements
        theirs = torch.tensor(DENSE, dtype=torch.float64).to_sparse_csr().requires_grad_()
    else:
        theirs = _convert(torch.tensor(DENSE, dtype=torch.float64), layout).requires_grad_()
    ours = _convert(ember.tensor(DENSE, dtype=ember.float64, device=device), layout).requires_grad_()
    m, tm = dense_pair(device, ember.float64, 4, 3, requires_grad=True)
    w, tw = dense_pair(device, ember.float64, 4, 4, seed=3)
    fns[how](ours, m, w, ember).sum().backward()
    fns[how](theirs, tm, tw, torch).sum().backward()
    grad, tgrad = ours.grad, theirs.grad
    assert grad is not None
    if tgrad.layout is torch.strided:
        assert grad.layout is ember.strided
        assert_dense_close(grad, tgrad)
    else:
        assert grad.layout is ours.layout
        assert_dense_close(grad, tgrad)
    if tm.grad is not None:
        assert_dense_close(m.grad, tm.grad)


# -- arithmetic -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["csr", "csc", "bsr"])
def test_arithmetic(device, dtype, layout):
    s, ts = _pair(device, dtype, layout)
    d, td = dense_pair(device, dtype, 4, 4)
    _same(s * 2, ts * 2, dtype)
    _same(2.5 * s, 2.5 * ts, dtype)
    _same(-s, -ts, dtype)
    _same(s.neg(), ts.neg(), dtype)
    _same(s.abs(), ts.abs(), dtype)
    _same(s.sin(), ts.sin(), dtype)
    if layout != "bsr":  # PyTorch fails an internal assert for BSR + dense
        assert_dense_close(d + s, td + ts, dtype)
        assert_dense_close(s + d, ts + td, dtype)
    else:
        assert_dense_close(d + s, td + ts.to_dense(), dtype)
    assert_dense_close(s.sum(), ts.sum(), dtype)
    _same(s.to(ember.float64), ts.to(torch.float64))
    if layout == "csr":
        _same(s * d, ts * td, dtype)
    if layout == "bsr":
        message = "empty_sparse_compressed expected sparse compressed \\(non-block\\) tensor layout but got SparseBsr"
        with pytest.raises(RuntimeError, match=message):
            ts * td
        with pytest.raises(RuntimeError, match=message):
            s * d
    other = [[0.0, 1.0, 4.0, 0.0], [0.0, 0.0, 5.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    o, to = _pair(device, dtype, layout, dense=other)
    if layout == "csr":
        _same(s + o, ts + to, dtype)
        _same(s.add(o, alpha=2), ts.add(to, alpha=2), dtype)
    if layout == "bsr":  # PyTorch's BSR + BSR fails in MKL: against the dense sum
        assert_dense_close(s + o, ts.to_dense() + to.to_dense(), dtype)
        assert (s + o).layout is ember.sparse_bsr and (s + o).values().shape[1:] == (2, 2)


def test_arithmetic_errors(device):
    s, ts = _pair(device, ember.float32, "csr")
    cases = [
        (lambda x, lib: x / 2, "unsupported tensor layout: SparseCsr"),
        (lambda x, lib: x - x, "unsupported tensor layout: SparseCsr"),
        (lambda x, lib: x * lib.ones(4), r"sparse_mask\(\): operands have incompatible sizes; self has size \[4\] but mask has size \[4, 4\]"),
        (lambda x, lib: x.pow(0), "unsupported tensor layout: SparseCsr"),
    ]  # fmt: skip
    for fn, message in cases:
        with pytest.raises(RuntimeError, match=message):
            fn(ts, torch)
        with pytest.raises(RuntimeError, match=message):
            fn(s, ember)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_transpose(device, layout):
    s, ts = _pair(device, ember.float64, layout)
    _same(s.t(), ts.t())
    _same(s.transpose(0, 1), ts.transpose(0, 1))
    _same(s.t().t(), ts.t().t())


# -- sampled_addmm --------------------------------------------------------------------------------------
def test_sampled_addmm(device, dtype):
    s, ts = _pair(device, dtype, "csr")
    a, ta = dense_pair(device, dtype, 4, 5)
    b, tb = dense_pair(device, dtype, 5, 4, seed=1)
    _same(ember.sparse.sampled_addmm(s, a, b), torch.sparse.sampled_addmm(ts, ta, tb), dtype)
    _same(
        ember.sparse.sampled_addmm(s, a, b, beta=0.5, alpha=2),
        torch.sparse.sampled_addmm(ts, ta, tb, beta=0.5, alpha=2),
        dtype,
    )
    with pytest.raises(RuntimeError, match=r"sampled_addmm: self.shape\[-1\] must match mat2.shape\[-1\]"):
        torch.sparse.sampled_addmm(ts, ta, tb[:, :3])
    with pytest.raises(RuntimeError, match=r"sampled_addmm: self.shape\[-1\] must match mat2.shape\[-1\]"):
        ember.sparse.sampled_addmm(s, a, b[:, :3])
    c, tc = _pair(device, dtype, "csc")
    message = "sampled_addmm: Expected result to have sparse csr layout, but got SparseCsc"
    with pytest.raises(RuntimeError, match=message):
        torch.sparse.sampled_addmm(tc, ta, tb)
    with pytest.raises(RuntimeError, match=message):
        ember.sparse.sampled_addmm(c, a, b)


def test_sampled_addmm_gradient(device):
    s, ts = _pair(device, ember.float64, "csr")
    s.requires_grad_()
    ts.requires_grad_()
    a, ta = dense_pair(device, ember.float64, 4, 5, requires_grad=True)
    b, tb = dense_pair(device, ember.float64, 5, 4, seed=1, requires_grad=True)
    w, tw = dense_pair(device, ember.float64, 4, 4, seed=2)
    (ember.sparse.sampled_addmm(s, a, b, beta=0.5).to_dense() * w).sum().backward()
    (torch.sparse.sampled_addmm(ts, ta, tb, beta=0.5).to_dense() * tw).sum().backward()
    assert_dense_close(a.grad, ta.grad)
    assert_dense_close(b.grad, tb.grad)
    assert_dense_close(s.grad, ts.grad)


# -- files --------------------------------------------------------------------------------------------
def test_save_and_load_with_torch(tmp_path):
    ours = {layout: _convert(ember.tensor(DENSE), layout) for layout in LAYOUTS}
    ember.save(ours, tmp_path / "ours.pt")
    for weights_only in (True, False):
        loaded = torch.load(tmp_path / "ours.pt", weights_only=weights_only)
        for layout in LAYOUTS:
            _same(ours[layout], loaded[layout], ember.float32)
    theirs = {layout: _convert(torch.tensor(DENSE), layout) for layout in LAYOUTS}
    theirs["layout"] = torch.sparse_bsc
    torch.save(theirs, tmp_path / "theirs.pt")
    loaded = ember.load(tmp_path / "theirs.pt")
    assert loaded["layout"] is ember.sparse_bsc
    for layout in LAYOUTS:
        _same(loaded[layout], theirs[layout], ember.float32)


def test_compressed_buffer_in_a_module():
    class Holder(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("m", ember.tensor(DENSE).to_sparse_csr())

    holder = Holder().double()
    assert holder.m.dtype is ember.float64 and holder.m.layout is ember.sparse_csr
    other = Holder()
    other.load_state_dict(holder.state_dict())
    assert other.m.dtype is ember.float32 and other.m.to_dense().tolist() == DENSE


def test_hybrid_compressed(device):
    values = np.arange(12.0).reshape(2, 3, 2) * (np.arange(6).reshape(2, 3, 1) % 2)
    x, tx = ember.tensor(values, device=device), torch.tensor(values)
    ours, theirs = x.to_sparse_csr(dense_dim=1), tx.to_sparse_csr(dense_dim=1)
    _same(ours, theirs)
    assert ours.dense_dim() == theirs.dense_dim() == 1
    _same(ours.to_sparse_csc(), theirs.to_sparse_csc())
    _same(ours * 2, theirs * 2)
    _same(x.to_sparse_bsr((1, 3), dense_dim=1), tx.to_sparse_bsr((1, 3), dense_dim=1))
    _same(x.to_sparse_bsc((2, 1), dense_dim=1), tx.to_sparse_bsc((2, 1), dense_dim=1))
    message = r"t\(\) expects a tensor with <= 2 dimensions, but self is 3D"
    with pytest.raises(RuntimeError, match=message):
        theirs.t()
    with pytest.raises(RuntimeError, match=message):
        ours.t()


def test_empty_compressed(device):
    for shape in ((3, 4), (0, 3)):
        for layout in ("csr", "csc"):
            x, tx = ember.zeros(*shape, device=device), torch.zeros(*shape)
            _same(_convert(x, layout), _convert(tx, layout), ember.float32)
    z, tz = ember.zeros(3, 4, device=device).to_sparse_csr(), torch.zeros(3, 4).to_sparse_csr()
    assert_dense_close(z @ ember.ones(4, 2, device=device), tz @ torch.ones(4, 2), ember.float32)
    _same(z.to_sparse_bsr((3, 2)), tz.to_sparse_bsr((3, 2)), ember.float32)


@pytest.mark.parametrize("how", ["sparse.mm", "@"])
def test_autograd_grad_of_a_compressed_input(device, how):
    # ember.autograd.grad(out, [csr]) failed with an AttributeError
    ours, theirs = _pair(device, ember.float64, "csr")
    ours.requires_grad_()
    theirs.requires_grad_()
    m, tm = dense_pair(device, ember.float64, 4, 2)
    product = (lambda s, x, lib: lib.sparse.mm(s, x)) if how == "sparse.mm" else (lambda s, x, lib: s @ x)
    (grad,) = ember.autograd.grad(product(ours, m, ember).sum(), [ours])
    (tgrad,) = torch.autograd.grad(product(theirs, tm, torch).sum(), [theirs])
    assert str(grad.layout).split(".")[-1] == str(tgrad.layout).split(".")[-1]
    assert_dense_close(grad, tgrad)


def test_sum_over_a_dimension(device):
    ours, theirs = _pair(device, ember.float64, "csr")
    for dim in (0, 1, (0, 1)):
        _same(ours.sum(dim, keepdim=True), theirs.sum(dim, keepdim=True))
    message = "reduction operations on CSR tensors with keepdim=False is unsupported"
    with pytest.raises(RuntimeError, match=message):
        theirs.sum(0)
    with pytest.raises(RuntimeError, match=message):
        ours.sum(0)
    assert_dense_close(ours.sum(), theirs.sum())


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin"])
def test_sparse_mm_reduce(device, dtype, reduce):
    # ember.sparse.mm took no reduce argument
    ours, theirs = _pair(device, dtype, "csr")
    m, tm = dense_pair(device, dtype, 4, 3, requires_grad=True)
    if dtype is ember.float64:
        ours.requires_grad_()
        theirs.requires_grad_()
    out, tout = ember.sparse.mm(ours, m, reduce), torch.sparse.mm(theirs, tm, reduce)
    assert_dense_close(out, tout, dtype)
    if dtype is ember.float64:
        out.sum().backward()
        tout.sum().backward()
        assert_dense_close(m.grad, tm.grad)
        _same(ours.grad, theirs.grad)


def test_sparse_mm_reduce_errors(device):
    ours, theirs = _pair(device, ember.float32, "csr")
    m, tm = ember.ones(4, 2, device=device), torch.ones(4, 2)
    message = "sparse_mm_reduce: reduce type of prod has not been enabled."
    with pytest.raises(RuntimeError, match=message):
        torch.sparse.mm(theirs, tm, "prod")
    with pytest.raises(RuntimeError, match=message):
        ember.sparse.mm(ours, m, "prod")
    with pytest.raises(NotImplementedError, match="_sparse_mm_reduce_impl"):
        torch.sparse.mm(theirs.to_sparse(), tm, "mean")
    with pytest.raises(NotImplementedError, match="_sparse_mm_reduce_impl"):
        ember.sparse.mm(ours.to_sparse(), m, "mean")


@pytest.mark.parametrize("make", ["csr", "bsc", "dense"])
def test_sparse_sum_refuses_other_layouts(make):
    def build(lib):
        x = lib.ones(2, 2)
        return x if make == "dense" else _convert(x, make) if make != "bsc" else x.to_sparse_bsc((1, 1))

    with pytest.raises(RuntimeError) as theirs:
        torch.sparse.sum(build(torch))
    assert str(theirs.value).startswith("coalesce expected sparse coordinate tensor layout but got")
    with pytest.raises(RuntimeError, match=f"^{str(theirs.value)}$"):
        ember.sparse.sum(build(ember))


@pytest.mark.parametrize("layout", ["csc", "bsr", "bsc"])
@pytest.mark.parametrize("other", ["same layout", "dense"])
def test_product_by_a_tensor_refused_outside_csr_as_torch(device, layout, other):
    """ember multiplied CSC, BSR and BSC tensors by a tensor (of their layout, or dense); PyTorch does so in
    CSR only and refuses the rest (a number still scales any layout)."""
    blocks = {"bsr": 2, "bsc": 2}.get(layout)

    def make(lib, dev):
        a = lib.eye(4, device=dev) if lib is ember else lib.eye(4)
        s = getattr(a, f"to_sparse_{layout}")(*(() if blocks is None else (blocks,)))
        return s, (s if other == "same layout" else a)

    messages = []
    for lib, dev in ((torch, "cpu"), (ember, device)):
        s, t = make(lib, dev)
        with pytest.raises(RuntimeError) as info:
            s * t
        messages.append(str(info.value))
        assert (s * 2).layout is s.layout
    assert messages[1] == messages[0]
