"""The per-op fast paths of the CPU round (add/sub with ``alpha``, the in-place twins, the checks of a
scalar factor or fill value, ``result_type`` of two tensors of one type) against PyTorch: the cases
each fast path takes and the ones next to it that it must leave to the general path (other dtypes,
broadcast and strided operands, Python and NumPy numbers, bools, out-of-range values)."""

from __future__ import annotations

import numpy as np
import pytest
from against_torch import laid_out

import ember

torch = pytest.importorskip("torch")


def _pair(device, dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3
    name = getattr(dtype, "name", dtype)  # the dtype fixture's ember dtype, or a name
    return ember.tensor(x, device=device).to(getattr(ember, name)), torch.tensor(x).to(getattr(torch, name))


def _same(e, t, exact=True):
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    got, want = e.detach().cpu().float().numpy(), t.detach().float().numpy()
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


_LAYOUTS = {
    "same shape": ((5, 7), (5, 7), None),
    "broadcast row": ((5, 7), (7,), None),
    "broadcast both": ((5, 1), (1, 7), None),
    "0-d other": ((5, 7), (), None),
    "0-d input": ((), (5, 7), None),
    "transposed other": ((5, 7), (7, 5), "t"),
    "strided": ((5, 14), (5, 14), "step"),
    "one element": ((1,), (1,), None),
}


@pytest.mark.parametrize("op", ["add", "sub"])
@pytest.mark.parametrize("alpha", [2, -0.5, 1e-3, 0.0])
@pytest.mark.parametrize("layout", sorted(_LAYOUTS))
def test_alpha_matches_torch_bit_for_bit(device, dtype, op, alpha, layout):
    sa, sb, how = _LAYOUTS[layout]
    ea, ta = _pair(device, dtype, sa, 1)
    eb, tb = _pair(device, dtype, sb, 2)
    eb, tb = laid_out(eb, how), laid_out(tb, how)
    if how == "step":
        ea, ta = ea[:, ::2], ta[:, ::2]
    exact = device == "cpu"  # the compiled fused multiply-add; elsewhere within rounding
    _same(getattr(ember, op)(ea, eb, alpha=alpha), getattr(torch, op)(ta, tb, alpha=alpha), exact)
    if np.broadcast_shapes(tuple(ea.shape), tuple(eb.shape)) == tuple(ea.shape):  # the in-place twin
        _same(getattr(ea.clone(), op + "_")(eb, alpha=alpha), getattr(ta.clone(), op + "_")(tb, alpha=alpha), exact)


@pytest.mark.parametrize("op", ["add", "sub"])
def test_alpha_gradients(device, dtype, op):
    ea, ta = _pair(device, dtype, (3, 4), 1)
    eb, tb = _pair(device, dtype, (4,), 2)
    for t in (ea, eb, ta, tb):
        t.requires_grad_(True)
    getattr(ember, op)(ea, eb, alpha=-1.5).pow(2).sum().backward()
    getattr(torch, op)(ta, tb, alpha=-1.5).pow(2).sum().backward()
    _same(ea.grad, ta.grad, exact=False)
    _same(eb.grad, tb.grad, exact=False)


_FACTORS = [2, -3, 0.25, True, False, 300, 1e5, 1e39, float("inf"), float("nan"), 2j, np.float32(0.5), np.int64(2)]


@pytest.mark.parametrize("dtype_name", ["float32", "float64", "float16", "bfloat16", "int64", "uint8", "bool"])
@pytest.mark.parametrize("alpha", _FACTORS, ids=repr)
def test_alpha_checks_as_torch(dtype_name, alpha):
    """The factor's checks (its type against the result's, its range) and the result, for every
    kind of Python and NumPy number; a float or int factor with a floating result takes the fast path."""
    e = ember.tensor([1, 0, 2]).to(getattr(ember, dtype_name))
    t = torch.tensor([1, 0, 2]).to(getattr(torch, dtype_name))
    try:
        want = torch.add(t, t, alpha=alpha)
    except Exception as exc:  # noqa: BLE001 - the same type is expected from ember
        with pytest.raises(type(exc)):
            ember.add(e, e, alpha=alpha)
        return
    got = ember.add(e, e, alpha=alpha)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.float().numpy(), want.float().numpy())


_FILLS = [1.5, -1, 255, -129, 1e5, 1e39, float("inf"), float("nan"), True, 1 + 2j]
_FILL_CASES = [
    (d, v)
    for d in ("float32", "float16", "bfloat16", "int8", "uint8", "int64", "bool")
    for v in _FILLS
    if not (d == "bool" and isinstance(v, complex))  # ember refuses it, PyTorch stores True: reported apart
]


@pytest.mark.parametrize(("dtype_name", "value"), _FILL_CASES, ids=repr)
def test_fill_values_as_torch(dtype_name, value):
    """``full``/``fill_``/``masked_fill`` with Python numbers: the range checks and stored values."""
    calls = [
        lambda L, d: L.full((2,), value, dtype=d),
        lambda L, d: L.zeros(2, dtype=d).fill_(value),
        lambda L, d: L.zeros(2, dtype=d).masked_fill(L.tensor([True, False]), value),
    ]
    for call in calls:
        try:
            want = call(torch, getattr(torch, dtype_name))
        except Exception as exc:  # noqa: BLE001 - the same type is expected from ember
            with pytest.raises(type(exc)):
                call(ember, getattr(ember, dtype_name))
            continue
        got = call(ember, getattr(ember, dtype_name))
        np.testing.assert_array_equal(got.float().numpy(), want.float().numpy())


@pytest.mark.parametrize(
    "pair", [("float32", "float32"), ("int32", "int32"), ("float16", "float16"), ("int64", "float32")]
)
@pytest.mark.parametrize("ndims", [(0, 0), (0, 1), (1, 1)])
def test_result_type_of_tensors(pair, ndims):
    shapes = [() if n == 0 else (2,) for n in ndims]
    e = [ember.zeros(s, dtype=getattr(ember, d)) for s, d in zip(shapes, pair)]
    t = [torch.zeros(s, dtype=getattr(torch, d)) for s, d in zip(shapes, pair)]
    assert str(ember.result_type(*e)).split(".")[-1] == str(torch.result_type(*t)).split(".")[-1]


def _numpy_fma():
    from ember.backends.numpy import loops
    from ember.backends.numpy.kernels.arithmetic import fused_multiply_add

    if loops.serial() is None:
        pytest.skip("Numba is not installed: no compiled fused multiply-add")  # (a CI leg without it)
    return fused_multiply_add


@pytest.mark.parametrize("kind", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "broadcast"])
def test_numpy_fused_multiply_add_scales(kind, layout):
    """A NumPy scalar or 0-d array scale of the arrays' type runs as a number (it took the array path,
    broadcast to the arrays' size): the same values as a full array of it; another type's 0-d scale
    is left to the caller (None), as before."""
    fma = _numpy_fma()
    rng = np.random.default_rng(3)
    x, y = (rng.standard_normal((6, 5)).astype(kind) for _ in range(2))
    if layout == "transposed":
        x, y = rng.standard_normal((5, 6)).astype(kind).T, y
    elif layout == "broadcast":
        y = y[:1]
    reference = fma(x, np.full(np.broadcast_shapes(x.shape, y.shape), 0.3, dtype=kind), y)
    for scale in (kind(0.3), np.array(0.3, dtype=kind), 0.3):
        np.testing.assert_array_equal(fma(x, scale, y), reference)
        out = np.empty(reference.shape, dtype=kind)
        assert fma(x, scale, y, out) is out
        np.testing.assert_array_equal(out, reference)
    other = np.float64 if kind is np.float32 else np.float32
    assert fma(x, np.array(0.3, dtype=other), y) is None


@pytest.mark.parametrize("grad", [False, True])
def test_inplace_twins_as_torch(device, grad):
    """The in-place twins' checks and recording after the per-call trims: a broadcast that does not fit
    the target, an operand requiring grad given by keyword (not recorded, as before), partial overlap,
    and the recorded history of a write."""
    results = []
    for L in (ember, torch):
        where = {"device": device} if L is ember else {}
        base = L.tensor([[1.0, 2.0], [3.0, 4.0]], **where)
        other = L.tensor([0.5, -1.0], **where).requires_grad_(grad)
        x = base.clone().requires_grad_(grad)
        y = x * 1 if grad else x
        y.add_(other, alpha=2).mul_(3.0).sub_(other)
        if grad:
            y.sum().backward()
            results.append((y.detach(), x.grad, other.grad))
        else:
            results.append((y,))
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            L.zeros(2, **where).add_(L.ones(2, 2, **where))
        z = L.arange(4.0, **where)
        with pytest.raises(RuntimeError, match="partially overlap|unsupported operation"):
            z[1:].add_(z[:-1])
    for e, t in zip(*results):
        _same(e, t)


_SHAPE_CALLS = {
    "view ints": lambda x: x.view(4, 6),
    "view -1": lambda x: x.view(-1, 3),
    "view tuple": lambda x: x.view((2, 12)),
    "view list": lambda x: x.view([24]),
    "view Size": lambda x: x.view(x.shape),
    "view empty tuple of one": lambda x: x[:1, :1].reshape(()),
    "reshape ints": lambda x: x.reshape(3, 8),
    "reshape tuple": lambda x: x.reshape((6, -1)),
    "permute ints": lambda x: x.permute(1, 0),
    "permute list": lambda x: x.permute([1, 0]),
    "flip tuple": lambda x: x.flip((0,)),
    "repeat ints": lambda x: x.repeat(2, 1),
    "tile tuple": lambda x: x.tile((1, 2)),
}


@pytest.mark.parametrize("call", sorted(_SHAPE_CALLS))
def test_shape_arguments_as_torch(device, call):
    e = ember.arange(24.0, device=device).reshape(4, 6)
    t = torch.arange(24.0).reshape(4, 6)
    _same(_SHAPE_CALLS[call](e), _SHAPE_CALLS[call](t))
    assert e.numel() == 24 and e[:0].numel() == 0 and ember.tensor(1.0).numel() == 1


@pytest.mark.parametrize("bad", [(2.0, 12), (True, 24), ((2, 12.0),), ([2, None],), (None,)], ids=repr)
def test_shape_argument_errors_as_torch(bad):
    e, t = ember.zeros(24), torch.zeros(24)
    with pytest.raises(TypeError) as expected:
        t.view(*bad)
    with pytest.raises(type(expected.value)):
        e.view(*bad)


@pytest.mark.parametrize("dtype_name", ["float32", "float64", "float16", "int64", "uint8", "bool"])
@pytest.mark.parametrize(("shape", "dim"), [((64, 8), 1), ((8, 64), 0), ((3, 5, 7), 1), ((4, 64), -1), ((6,), 0)])
def test_mode_of_short_rows_as_torch(device, dtype_name, shape, dim):
    """``mode`` along short rows (the NumPy backend's few-call path): values, indices and the gradient,
    with ties (small integers), against PyTorch's CPU kernel; NaN rows in floating types on the host."""
    rng = np.random.default_rng(7)
    data = rng.integers(0, 4, shape).astype(np.float64)
    if dtype_name.startswith("float") and device.split(":")[0] in ("cpu", "restricted"):
        data[rng.random(shape) < 0.05] = np.nan  # (a row's NaN mode follows PyTorch's CPU kernel on host backends)
    e = ember.tensor(data, device=device).to(getattr(ember, dtype_name))
    t = torch.tensor(data).to(getattr(torch, dtype_name))
    got, want = e.mode(dim), t.mode(dim)
    _same(got.values, want.values)
    if device == "cpu":  # PyTorch's CPU kernel's position among ties (elsewhere a valid one)
        _same(got.indices, want.indices)
    else:
        picked = e.to("cpu").gather(dim % e.ndim, got.indices.to("cpu").unsqueeze(dim % e.ndim)).squeeze(dim % e.ndim)
        _same(picked, want.values)
    if dtype_name in ("float32", "float64"):
        e.requires_grad_(True)
        t.requires_grad_(True)
        e.mode(dim, keepdim=True).values.sum().backward()
        t.mode(dim, keepdim=True).values.sum().backward()
        if device == "cpu":
            _same(e.grad, t.grad)
