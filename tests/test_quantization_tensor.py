"""Quantized tensors and fake quantization against PyTorch: quantize_per_tensor/per_channel,
dequantize, int_repr and the qparams accessors, printing, errors; fake_quantize_per_tensor_affine and
fake_quantize_per_channel_affine values and straight-through gradients. Bit for bit: the rounding
(half to even, the zero point added before or after it as each PyTorch kernel does) is PyTorch's."""

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

QTYPES = [("quint8", 0, 255), ("qint8", -128, 127), ("qint32", -(2**31), 2**31 - 1)]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def _inputs(rng, n, scale):
    """Values on and near the rounding ties of ``scale`` (half steps), and wide random values."""
    ties = (rng.integers(-400, 400, n) * np.float32(scale) / 2).astype(np.float32)
    ties = ties + rng.choice([0, 1e-7, -1e-7], n).astype(np.float32)
    return np.concatenate([ties, (rng.standard_normal(n) * 40).astype(np.float32)]).astype(np.float32)


def _e(array, device, dtype=None):
    t = ember.tensor(array, device=device)
    return t if dtype is None else t.to(dtype)


@pytest.mark.parametrize("qtype,lo,hi", QTYPES + [("quint4x2", 0, 15)])
def test_quantize_per_tensor_bits_as_torch(device, qtype, lo, hi, torch_threads):
    torch_threads(1)
    rng = np.random.default_rng(0)
    for _trial in range(25):
        scale = float(rng.choice([0.1, 0.5, 1 / 3, 0.07, 1e-3, 0.0123456789, 2.0]))
        zp = int(rng.integers(max(lo, -100), min(hi, 200) + 1))
        x = _inputs(rng, int(rng.integers(1, 40)), scale)
        t = torch.quantize_per_tensor(torch.from_numpy(x), scale, zp, getattr(torch, qtype))
        e = ember.quantize_per_tensor(_e(x, device), scale, zp, getattr(ember, qtype))
        assert e.dtype is getattr(ember, qtype) and e.is_quantized
        np.testing.assert_array_equal(e.int_repr().cpu().numpy(), t.int_repr().numpy())
        assert e.int_repr().dtype.name == str(t.int_repr().dtype).split(".")[1]
        np.testing.assert_array_equal(e.dequantize().cpu().numpy(), t.dequantize().numpy())
        assert e.q_scale() == t.q_scale() and e.q_zero_point() == t.q_zero_point()
        assert tuple(e.shape) == tuple(t.shape)


@pytest.mark.parametrize("qtype,lo,hi", QTYPES)
@pytest.mark.parametrize("axis", [0, 1])
def test_quantize_per_channel_bits_as_torch(device, qtype, lo, hi, axis):
    rng = np.random.default_rng(1)
    for _trial in range(15):
        channels = int(rng.integers(1, 5))
        scales = rng.choice([0.1, 0.5, 1 / 3, 0.07, 1e-3, 0.0123456789], channels)
        zps = rng.integers(max(lo, -100), min(hi, 200) + 1, channels)
        x = _inputs(rng, channels * 6, 0.1).reshape(channels, 12)
        x = np.ascontiguousarray(x.T) if axis != 0 else x
        args = (torch.from_numpy(scales), torch.from_numpy(zps), axis, getattr(torch, qtype))
        t = torch.quantize_per_channel(torch.from_numpy(x), *args)
        e = ember.quantize_per_channel(_e(x, device), _e(scales, device), _e(zps, device), axis, getattr(ember, qtype))
        np.testing.assert_array_equal(e.int_repr().cpu().numpy(), t.int_repr().numpy())
        np.testing.assert_array_equal(e.dequantize().cpu().numpy(), t.dequantize().numpy())
        assert e.q_per_channel_axis() == t.q_per_channel_axis()
        assert e.q_per_channel_scales().dtype is ember.float64
        assert e.q_per_channel_zero_points().dtype is ember.int64
        np.testing.assert_array_equal(e.q_per_channel_scales().cpu().numpy(), t.q_per_channel_scales().numpy())
        np.testing.assert_array_equal(
            e.q_per_channel_zero_points().cpu().numpy(), t.q_per_channel_zero_points().numpy()
        )
        assert e.qscheme() is ember.per_channel_affine


@pytest.mark.parametrize("qtype", ["quint8", "qint8"])
@pytest.mark.parametrize("reduce_range", [False, True])
def test_quantize_per_tensor_dynamic_as_torch(device, qtype, reduce_range):
    rng = np.random.default_rng(2)
    cases = [rng.standard_normal(30) * s for s in (1.0, 1e-3, 1e-6, 50.0)]
    cases += [np.abs(rng.standard_normal(10)), -np.abs(rng.standard_normal(10)), np.zeros(4), np.full(3, 2.5)]
    for x in cases:
        x = x.astype(np.float32)
        t = torch.quantize_per_tensor_dynamic(torch.from_numpy(x), getattr(torch, qtype), reduce_range)
        e = ember.quantize_per_tensor_dynamic(_e(x, device), getattr(ember, qtype), reduce_range)
        assert e.q_scale() == t.q_scale() and e.q_zero_point() == t.q_zero_point(), x
        np.testing.assert_array_equal(e.int_repr().cpu().numpy(), t.int_repr().numpy())


def test_qdtypes_and_qschemes_as_torch():
    for name in ("qint8", "quint8", "qint32", "quint4x2", "quint2x4"):
        e, t = getattr(ember, name), getattr(torch, name)
        assert repr(e) == repr(t).replace("torch", "ember")
        assert e.itemsize == t.itemsize and e.is_floating_point == t.is_floating_point is False
        assert e.is_complex is False
    for name in (
        "per_tensor_affine",
        "per_channel_affine",
        "per_tensor_symmetric",
        "per_channel_symmetric",
        "per_channel_affine_float_qparams",
    ):
        assert repr(getattr(ember, name)) == repr(getattr(torch, name)).replace("torch", "ember")
        assert isinstance(getattr(ember, name), ember.qscheme)
    with pytest.raises(RuntimeError, match="promoteTypes with quantized numbers.*QInt8 Float"):
        ember.promote_types(ember.qint8, ember.float32)
    with pytest.raises(RuntimeError, match="promoteTypes with quantized numbers"):
        torch.promote_types(torch.qint8, torch.float32)


def _repr_as_torch(e, t):
    assert repr(e) == repr(t).replace("torch.", "ember.")


def test_quantized_repr_as_torch():
    x = [-1.0, 0.0, 0.25, 0.5, 1.5, 2.5, 100.0]
    for qtype in ("quint8", "qint8", "qint32", "quint4x2"):
        e = ember.quantize_per_tensor(ember.tensor(x), 0.5, 3, getattr(ember, qtype))
        _repr_as_torch(e, torch.quantize_per_tensor(torch.tensor(x), 0.5, 3, getattr(torch, qtype)))
    for scale in (0.1, 1 / 3):
        e = ember.quantize_per_tensor(ember.tensor([[0.3, 7.0]]), scale, 0, ember.qint8)
        _repr_as_torch(e, torch.quantize_per_tensor(torch.tensor([[0.3, 7.0]]), scale, 0, torch.qint8))
    _repr_as_torch(
        ember.quantize_per_tensor(ember.tensor(1.5), 0.5, 3, ember.quint8),
        torch.quantize_per_tensor(torch.tensor(1.5), 0.5, 3, torch.quint8),
    )
    _repr_as_torch(
        ember.quantize_per_tensor(ember.zeros(0, 3), 0.5, 3, ember.quint8),
        torch.quantize_per_tensor(torch.zeros(0, 3), 0.5, 3, torch.quint8),
    )
    xc = [[0.3, -0.5, 0.77], [1.0, 2.0, 3.0]]
    _repr_as_torch(
        ember.quantize_per_channel(ember.tensor(xc), ember.tensor([0.1, 0.2]), ember.tensor([0, 1]), 0, ember.qint8),
        torch.quantize_per_channel(torch.tensor(xc), torch.tensor([0.1, 0.2]), torch.tensor([0, 1]), 0, torch.qint8),
    )
    xd = ember.quantize_per_tensor_dynamic(ember.tensor([-1.0, 0.0, 0.26, 100.0]), ember.quint8, False)
    td = torch.quantize_per_tensor_dynamic(torch.tensor([-1.0, 0.0, 0.26, 100.0]), torch.quint8, False)
    _repr_as_torch(xd, td)


def test_quantized_views_as_torch(device):
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    t = torch.quantize_per_tensor(torch.from_numpy(x), 0.05, 2, torch.quint8)
    e = ember.quantize_per_tensor(_e(x, device), 0.05, 2, ember.quint8)
    for f in (
        lambda q: q.transpose(0, 2),
        lambda q: q.permute(2, 0, 1),
        lambda q: q.reshape(6, 4),
        lambda q: q.view(-1),
        lambda q: q[1],
        lambda q: q[:, 1:, ::2],
        lambda q: q.flatten(1),
        lambda q: q.unsqueeze(1),
        lambda q: q.clone(),
        lambda q: q.contiguous(),
    ):
        te, tt = f(e), f(t)
        assert te.is_quantized and tt.is_quantized
        assert tuple(te.shape) == tuple(tt.shape) and te.stride() == tt.stride()
        np.testing.assert_array_equal(te.int_repr().cpu().numpy(), tt.int_repr().numpy())
        assert te.q_scale() == tt.q_scale() and te.q_zero_point() == tt.q_zero_point()
    tc = torch.quantize_per_channel(
        torch.from_numpy(x), torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0, 1, 2]), 1, torch.qint8
    )
    ec = ember.quantize_per_channel(
        _e(x, device), _e(np.array([0.1, 0.2, 0.3]), device), _e(np.array([0, 1, 2]), device), 1, ember.qint8
    )
    for f in (lambda q: q.unsqueeze(0), lambda q: q.unsqueeze(-1), lambda q: q.clone(), lambda q: q[1]):
        te, tt = f(ec), f(tc)
        assert te.q_per_channel_axis() == tt.q_per_channel_axis()
        np.testing.assert_array_equal(te.int_repr().cpu().numpy(), tt.int_repr().numpy())
    for f in (lambda q: q.transpose(0, 1), lambda q: q.permute(2, 1, 0), lambda q: q[0].t()):
        _both_raise(
            RuntimeError,
            "Setting strides is possible only on uniformly quantized tensor",
            lambda f=f: f(ec),
            lambda f=f: f(tc),
        )


def test_quantized_tensor_surface_as_torch():
    t = torch.quantize_per_tensor(torch.ones(2, 3), 0.5, 3, torch.quint8)
    e = ember.quantize_per_tensor(ember.ones(2, 3), 0.5, 3, ember.quint8)
    for name in ("requires_grad", "is_leaf", "grad_fn", "ndim", "is_sparse"):
        assert getattr(e, name) == getattr(t, name), name
    assert e.layout is ember.strided and e.dim() == 2 and e.numel() == 6 and e.element_size() == 1
    assert ember.dequantize(e).dtype is ember.float32
    assert [d.dtype for d in ember.dequantize([e, e])] == [ember.float32] * 2
    d = ember.tensor([1.0, 2.0])
    assert d.is_quantized is False and torch.tensor([1.0]).is_quantized is False
    assert d.double().dequantize().dtype is ember.float32
    assert torch.tensor([1.0]).double().dequantize().dtype is torch.float32
    for name in ("int_repr", "q_scale", "q_zero_point", "q_per_channel_scales", "qscheme"):
        with pytest.raises(NotImplementedError, match=f"aten::{name}"):
            getattr(torch.tensor([1.0]), name)()
        with pytest.raises(NotImplementedError, match=f"aten::{name}"):
            getattr(d, name)()
    qs = ember.quantize_per_tensor(
        [ember.ones(2), ember.zeros(3)], ember.tensor([0.5, 1.0]), ember.tensor([3, 4]), ember.quint8
    )
    ts = torch.quantize_per_tensor(
        [torch.ones(2), torch.zeros(3)], torch.tensor([0.5, 1.0]), torch.tensor([3, 4]), torch.quint8
    )
    assert [(q.q_scale(), q.q_zero_point()) for q in qs] == [(q.q_scale(), q.q_zero_point()) for q in ts]
    e2 = ember.quantize_per_tensor(ember.ones(2), ember.tensor(0.5), ember.tensor(3), ember.quint8)
    t2 = torch.quantize_per_tensor(torch.ones(2), torch.tensor(0.5), torch.tensor(3), torch.quint8)
    assert (e2.q_scale(), e2.q_zero_point()) == (t2.q_scale(), t2.q_zero_point())


def _both_raise(exc, match, fe, ft):
    with pytest.raises(exc, match=match):
        ft()
    with pytest.raises(exc, match=match):
        fe()


def test_quantize_errors_as_torch():
    x, tx = ember.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    _both_raise(
        RuntimeError,
        "Quantize only works on Float Tensor, got Long",
        lambda: ember.quantize_per_tensor(ember.tensor([1, 2]), 0.1, 0, ember.qint8),
        lambda: torch.quantize_per_tensor(torch.tensor([1, 2]), 0.1, 0, torch.qint8),
    )
    for name in ("float64", "float16", "bfloat16"):
        _both_raise(
            RuntimeError,
            "Quantize only works on Float Tensor",
            lambda name=name: ember.quantize_per_tensor(x.to(getattr(ember, name)), 0.1, 0, ember.qint8),
            lambda name=name: torch.quantize_per_tensor(tx.to(getattr(torch, name)), 0.1, 0, torch.qint8),
        )
    for name, scalar in (("float32", "Float"), ("int8", "Char")):
        _both_raise(
            RuntimeError,
            f"ScalarType {scalar} is not supported in new_qtensor",
            lambda name=name: ember.quantize_per_tensor(x, 0.1, 0, getattr(ember, name)),
            lambda name=name: torch.quantize_per_tensor(tx, 0.1, 0, getattr(torch, name)),
        )
    _both_raise(
        RuntimeError,
        "zero_point 300 is above upper bound",
        lambda: ember.quantize_per_tensor(x, 0.1, 300, ember.quint8),
        lambda: torch.quantize_per_tensor(tx, 0.1, 300, torch.quint8),
    )
    _both_raise(
        RuntimeError,
        "zero_point -1 is below lower bound",
        lambda: ember.quantize_per_tensor(x, 0.1, -1, ember.quint8),
        lambda: torch.quantize_per_tensor(tx, 0.1, -1, torch.quint8),
    )
    m, tm = ember.ones(2, 3), torch.ones(2, 3)
    _both_raise(
        RuntimeError,
        "number of elements in scales and zero_points must match",
        lambda: ember.quantize_per_channel(m, ember.tensor([0.1, 0.2, 0.3]), ember.tensor([0, 1]), 0, ember.qint8),
        lambda: torch.quantize_per_channel(tm, torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0, 1]), 0, torch.qint8),
    )
    _both_raise(
        RuntimeError,
        "Channel axis out of range",
        lambda: ember.quantize_per_channel(m, ember.tensor([0.1, 0.2]), ember.tensor([0, 1]), 2, ember.qint8),
        lambda: torch.quantize_per_channel(tm, torch.tensor([0.1, 0.2]), torch.tensor([0, 1]), 2, torch.qint8),
    )
    _both_raise(
        RuntimeError,
        r"Channel axis out of range.*Got: -1",
        lambda: ember.quantize_per_channel(m, ember.tensor([0.1, 0.2]), ember.tensor([0, 1]), -1, ember.qint8),
        lambda: torch.quantize_per_channel(tm, torch.tensor([0.1, 0.2]), torch.tensor([0, 1]), -1, torch.qint8),
    )
    _both_raise(
        RuntimeError,
        "QInt32 ?not supported",
        lambda: ember.quantize_per_tensor_dynamic(x, ember.qint32, False),
        lambda: torch.quantize_per_tensor_dynamic(tx, torch.qint32, False),
    )
    q = ember.quantize_per_tensor(x, 0.1, 0, ember.qint8)
    qc = ember.quantize_per_channel(m, ember.tensor([0.1, 0.2]), ember.tensor([0, 1]), 0, ember.qint8)
    tq = torch.quantize_per_tensor(tx, 0.1, 0, torch.qint8)
    tqc = torch.quantize_per_channel(tm, torch.tensor([0.1, 0.2]), torch.tensor([0, 1]), 0, torch.qint8)
    _both_raise(RuntimeError, "kPerChannelAffine", lambda: q.q_per_channel_scales(), lambda: tq.q_per_channel_scales())
    _both_raise(RuntimeError, "kPerTensorAffine", lambda: qc.q_scale(), lambda: tqc.q_scale())


def test_quantize_warns_deprecation_as_torch():
    import ember.quantized as eq

    eq._warned[0] = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.quantize_per_tensor(ember.ones(2), 0.1, 0, ember.qint8)
        ember.quantize_per_tensor(ember.ones(2), 0.1, 0, ember.qint8)
    assert len(caught) == 1 and issubclass(caught[0].category, UserWarning)
    assert "deprecated" in str(caught[0].message)


# -- fake quantization ---------------------------------------------------------------------


FLOATS = ["float32", "float64", "float16", "bfloat16"]


def _skip_unheld(device, name):
    try:
        ember.zeros(1, dtype=getattr(ember, name), device=device) + 1
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"{device} has no {name}: {exc}")


@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("qrange", [(0, 255), (-128, 127), (0, 15), (-(2**31), 2**31 - 1), (3, 3)])
@pytest.mark.parametrize("tensor_qparams", [False, True])
def test_fake_quantize_per_tensor_as_torch(device, name, qrange, tensor_qparams):
    _skip_unheld(device, name)
    rng = np.random.default_rng(3)
    qmin, qmax = qrange
    for _trial in range(6):
        scale = float(rng.choice([0.1, 0.5, 1 / 3, 0.07, 0.0123456789]))
        zp = int(rng.integers(max(qmin, -100), min(qmax, 200) + 1))
        x = _inputs(rng, 20, scale).astype(np.float64)
        tx = torch.from_numpy(x).to(getattr(torch, name)).requires_grad_()
        ex = _e(x, device, getattr(ember, name)).requires_grad_()
        if tensor_qparams:
            targs = (torch.tensor(scale), torch.tensor(zp, dtype=torch.int32))
            eargs = (ember.tensor(scale, device=device), ember.tensor(zp, dtype=ember.int32, device=device))
        else:
            targs = eargs = (scale, zp)
        t = torch.fake_quantize_per_tensor_affine(tx, *targs, qmin, qmax)
        e = ember.fake_quantize_per_tensor_affine(ex, *eargs, qmin, qmax)
        assert e.dtype is getattr(ember, name)
        np.testing.assert_array_equal(e.detach().float().cpu().numpy(), t.detach().float().numpy())
        g = rng.standard_normal(x.shape)
        t.backward(torch.from_numpy(g).to(t.dtype))
        e.backward(_e(g, device, e.dtype))
        np.testing.assert_array_equal(ex.grad.float().cpu().numpy(), tx.grad.float().numpy())


@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("zp_type", ["int32", "float32", "float16"])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_fake_quantize_per_channel_as_torch(device, name, zp_type, axis):
    _skip_unheld(device, name)
    rng = np.random.default_rng(4)
    for _trial in range(5):
        x = _inputs(rng, 30, 0.1).reshape(3, 4, 5).astype(np.float64)
        channels = x.shape[axis]
        scales = rng.choice([0.1, 0.5, 1 / 3, 0.07, 0.0123456789], channels).astype(np.float32)
        zps = rng.integers(-50, 50, channels).astype(np.float64)
        if zp_type != "int32":
            zps = zps + rng.choice([0, 0.3, 0.5, -0.25], channels)
        tx = torch.from_numpy(x).to(getattr(torch, name)).requires_grad_()
        ex = _e(x, device, getattr(ember, name)).requires_grad_()
        tz, ez = torch.from_numpy(zps).to(getattr(torch, zp_type)), _e(zps, device, getattr(ember, zp_type))
        t = torch.fake_quantize_per_channel_affine(tx, torch.from_numpy(scales), tz, axis, -128, 127)
        e = ember.fake_quantize_per_channel_affine(ex, _e(scales, device), ez, axis, -128, 127)
        assert e.dtype is getattr(ember, name)
        np.testing.assert_array_equal(e.detach().float().cpu().numpy(), t.detach().float().numpy())
        g = rng.standard_normal(x.shape)
        t.backward(torch.from_numpy(g).to(t.dtype))
        e.backward(_e(g, device, e.dtype))
        np.testing.assert_array_equal(ex.grad.float().cpu().numpy(), tx.grad.float().numpy())


def test_fake_quantize_gradcheck(device, dtype):
    x = ember.tensor([0.31, -0.72, 5.0, -6.0, 0.05], dtype=dtype, device=device, requires_grad=True)
    y = ember.fake_quantize_per_tensor_affine(x, 0.1, 0, -20, 20)
    (g,) = ember.autograd.grad(y.sum(), x)
    assert g.tolist() == [1.0, 1.0, 0.0, 0.0, 1.0]


def test_fake_quantize_errors_as_torch():
    x, tx = ember.tensor([0.3, 1.0]), torch.tensor([0.3, 1.0])
    _both_raise(
        RuntimeError,
        "`quant_min` should be less than or",
        lambda: ember.fake_quantize_per_tensor_affine(x, 0.5, 3, 10, 5),
        lambda: torch.fake_quantize_per_tensor_affine(tx, 0.5, 3, 10, 5),
    )
    for zp in (300, -3):
        _both_raise(
            RuntimeError,
            "`zero_point` must be between `quant_min` and `quant_max`",
            lambda zp=zp: ember.fake_quantize_per_tensor_affine(x, 0.5, zp, 0, 255),
            lambda zp=zp: torch.fake_quantize_per_tensor_affine(tx, 0.5, zp, 0, 255),
        )
    _both_raise(
        NotImplementedError,
        "not implemented for 'Long'",
        lambda: ember.fake_quantize_per_tensor_affine(ember.tensor([1, 2]), 0.5, 3, 0, 255),
        lambda: torch.fake_quantize_per_tensor_affine(torch.tensor([1, 2]), 0.5, 3, 0, 255),
    )
    m, tm = ember.ones(2, 3), torch.ones(2, 3)
    sc, tsc = ember.tensor([0.1, 0.2]), torch.tensor([0.1, 0.2])
    zp, tzp = ember.tensor([0, 1], dtype=ember.int32), torch.tensor([0, 1], dtype=torch.int32)
    cases = [
        (
            RuntimeError,
            "Zero-point must be Int32, Float or Half, found Long",
            (m, sc, zp.long(), 0),
            (tm, tsc, tzp.long(), 0),
        ),
        (
            RuntimeError,
            "Scale must be Float or BFloat16, found Double",
            (m, sc.double(), zp, 0),
            (tm, tsc.double(), tzp, 0),
        ),
        (RuntimeError, "Scale must be Float or BFloat16, found Half", (m, sc.half(), zp, 0), (tm, tsc.half(), tzp, 0)),
        (RuntimeError, "not consistent with input tensor", (m, sc, zp, 1), (tm, tsc, tzp, 1)),
        (IndexError, "Dimension out of range", (m, sc, zp, 2), (tm, tsc, tzp, 2)),
        (IndexError, "Dimension out of range", (m, sc, zp, -3), (tm, tsc, tzp, -3)),
        (RuntimeError, "not consistent with input tensor", (m, sc, zp, -1), (tm, tsc, tzp, -1)),
        (RuntimeError, "`axis` must be between 0 and number of dimensions", (m, sc, zp, -2), (tm, tsc, tzp, -2)),
        (RuntimeError, "need to have the same dimensions", (m, sc, zp[:1], 0), (tm, tsc, tzp[:1], 0)),
    ]
    for exc, match, eargs, targs in cases:
        _both_raise(
            exc,
            match,
            lambda eargs=eargs: ember.fake_quantize_per_channel_affine(*eargs, -128, 127),
            lambda targs=targs: torch.fake_quantize_per_channel_affine(*targs, -128, 127),
        )
    _both_raise(
        RuntimeError,
        "`quant_min` should be less than or",
        lambda: ember.fake_quantize_per_channel_affine(m, sc, zp, 0, 127, -128),
        lambda: torch.fake_quantize_per_channel_affine(tm, tsc, tzp, 0, 127, -128),
    )
    _both_raise(
        RuntimeError,
        "`zero_point` must be between",
        lambda: ember.fake_quantize_per_channel_affine(m, sc, ember.tensor([0, 200], dtype=ember.int32), 0, -128, 127),
        lambda: torch.fake_quantize_per_channel_affine(
            tm, tsc, torch.tensor([0, 200], dtype=torch.int32), 0, -128, 127
        ),
    )


def test_choose_qparams_optimized_as_torch():
    rng = np.random.default_rng(5)
    for _trial in range(25):
        x = (rng.standard_normal(int(rng.integers(5, 200))) * 3).astype(np.float32)
        x[0] = rng.choice([40.0, -40.0, 10.0])
        bits, ratio = int(rng.choice([2, 4, 8])), float(rng.choice([0.16, 0.5, 0.9]))
        n_bins, numel = int(rng.choice([50, 200])), int(rng.integers(1, x.size + 1))
        t = torch.choose_qparams_optimized(torch.from_numpy(x), numel, n_bins, ratio, bits)
        e = ember.choose_qparams_optimized(ember.tensor(x), numel, n_bins, ratio, bits)
        assert [v.item() for v in e] == [v.item() for v in t]
        assert [v.dtype for v in e] == [ember.float32] * 2 and tuple(e[0].shape) == (1,)
    x, tx = ember.ones(10), torch.ones(10)
    _both_raise(
        RuntimeError,
        "numel is out of the bound of input tensor",
        lambda: ember.choose_qparams_optimized(x, 11, 200, 0.16, 8),
        lambda: torch.choose_qparams_optimized(tx, 11, 200, 0.16, 8),
    )
    _both_raise(
        RuntimeError,
        "expected scalar type Float but found Double",
        lambda: ember.choose_qparams_optimized(x.double(), 10, 200, 0.16, 8),
        lambda: torch.choose_qparams_optimized(tx.double(), 10, 200, 0.16, 8),
    )


NONFINITE = [float("nan"), float("inf"), float("-inf"), 1e30, -1e30, 0.5, -0.26]


@pytest.mark.parametrize("qtype", ["quint8", "qint8", "qint32", "quint4x2"])
def test_quantize_nonfinite_as_torch(device, qtype):
    t = torch.quantize_per_tensor(torch.tensor(NONFINITE), 0.1, 3, getattr(torch, qtype))
    e = ember.quantize_per_tensor(ember.tensor(NONFINITE, device=device), 0.1, 3, getattr(ember, qtype))
    np.testing.assert_array_equal(e.int_repr().cpu().numpy(), t.int_repr().numpy())
    if qtype != "quint4x2":
        args = (torch.tensor([0.1]), torch.tensor([3]), 0, getattr(torch, qtype))
        t = torch.quantize_per_channel(torch.tensor([NONFINITE]), *args)
        e = ember.quantize_per_channel(
            ember.tensor([NONFINITE], device=device),
            ember.tensor([0.1], device=device),
            ember.tensor([3], device=device),
            0,
            getattr(ember, qtype),
        )
        np.testing.assert_array_equal(e.int_repr().cpu().numpy(), t.int_repr().numpy())


@pytest.mark.parametrize("zp_type", ["int32", "float32"])
def test_fake_quantize_nonfinite_as_torch(device, zp_type):
    tx = torch.tensor(NONFINITE, requires_grad=True)
    ex = ember.tensor(NONFINITE, device=device, requires_grad=True)
    t = torch.fake_quantize_per_tensor_affine(tx, 0.1, 3, 0, 255)
    e = ember.fake_quantize_per_tensor_affine(ex, 0.1, 3, 0, 255)
    np.testing.assert_array_equal(e.detach().cpu().numpy(), t.detach().numpy())
    t.sum().backward()
    e.sum().backward()
    np.testing.assert_array_equal(ex.grad.cpu().numpy(), tx.grad.numpy())
    tx2 = torch.tensor([NONFINITE], requires_grad=True)
    ex2 = ember.tensor([NONFINITE], device=device, requires_grad=True)
    tz = torch.tensor([3], dtype=getattr(torch, zp_type))
    ez = ember.tensor([3], dtype=getattr(ember, zp_type), device=device)
    t = torch.fake_quantize_per_channel_affine(tx2, torch.tensor([0.1]), tz, 0, 0, 255)
    e = ember.fake_quantize_per_channel_affine(ex2, ember.tensor([0.1], device=device), ez, 0, 0, 255)
    np.testing.assert_array_equal(e.detach().cpu().numpy(), t.detach().numpy())
    t.sum().backward()
    e.sum().backward()
    np.testing.assert_array_equal(ex2.grad.cpu().numpy(), tx2.grad.numpy())


def test_quantize_per_channel_float_zero_points_as_torch(device):
    rng = np.random.default_rng(6)
    for _trial in range(10):
        x = (rng.integers(-300, 300, (3, 20)) * 0.05).astype(np.float32)
        sc = rng.choice([0.1, 1 / 3, 0.07], 3)
        zp = (rng.integers(0, 100, 3) + rng.choice([0, 0.5, 0.3, 0.7], 3)).astype(np.float32)
        t = torch.quantize_per_channel(torch.from_numpy(x), torch.from_numpy(sc), torch.from_numpy(zp), 0, torch.quint8)
        e = ember.quantize_per_channel(_e(x, device), _e(sc, device), _e(zp, device), 0, ember.quint8)
        assert e.qscheme() is ember.per_channel_affine_float_qparams
        assert repr(t.qscheme()) == "torch.per_channel_affine_float_qparams"
        np.testing.assert_array_equal(e.int_repr().cpu().numpy(), t.int_repr().numpy())
        np.testing.assert_array_equal(e.dequantize().cpu().numpy(), t.dequantize().numpy())
        _same_params = e.q_per_channel_zero_points(), t.q_per_channel_zero_points()
        assert _same_params[0].dtype is ember.float32 and _same_params[1].dtype == torch.float32
        np.testing.assert_array_equal(_same_params[0].cpu().numpy(), _same_params[1].numpy())


def test_quantize_argument_errors_as_torch():
    x, tx = ember.tensor([0.3]), torch.tensor([0.3])
    _both_raise(
        RuntimeError,
        "quantize_tensor_per_channel_affine expects a Float Tensor, got Half",
        lambda: ember.quantize_per_channel(x.half(), ember.tensor([0.1]), ember.tensor([3]), 0, ember.quint8),
        lambda: torch.quantize_per_channel(tx.half(), torch.tensor([0.1]), torch.tensor([3]), 0, torch.quint8),
    )
    for zp, word in ((300, "above upper"), (-1, "below lower")):
        _both_raise(
            RuntimeError,
            f"quantize_tensor_per_channel_affine zero_point {zp} is {word} bound",
            lambda zp=zp: ember.quantize_per_channel(x, ember.tensor([0.1]), ember.tensor([zp]), 0, ember.quint8),
            lambda zp=zp: torch.quantize_per_channel(tx, torch.tensor([0.1]), torch.tensor([zp]), 0, torch.quint8),
        )
    _both_raise(
        TypeError,
        "quantize_per_tensor",
        lambda: ember.quantize_per_tensor(x, 0.1, 3.7, ember.quint8),
        lambda: torch.quantize_per_tensor(tx, 0.1, 3.7, torch.quint8),
    )
    _both_raise(
        TypeError,
        "fake_quantize_per_tensor_affine",
        lambda: ember.fake_quantize_per_tensor_affine(x, 0.1, 3.7, 0, 255),
        lambda: torch.fake_quantize_per_tensor_affine(tx, 0.1, 3.7, 0, 255),
    )
    _both_raise(
        RuntimeError,
        "a Tensor with 2 elements cannot be converted to Scalar",
        lambda: ember.fake_quantize_per_tensor_affine(x, ember.tensor([0.1, 0.2]), ember.tensor([3, 3]), 0, 255),
        lambda: torch.fake_quantize_per_tensor_affine(tx, torch.tensor([0.1, 0.2]), torch.tensor([3, 3]), 0, 255),
    )


def test_quantized_eq_equal_pickle_and_grad_fn_as_torch():
    import copy
    import pickle

    e1, e2 = (ember.quantize_per_tensor(ember.tensor(v), 0.1, 3, ember.quint8) for v in ([0.3, 0.5], [0.3, 0.6]))
    t1, t2 = (torch.quantize_per_tensor(torch.tensor(v), 0.1, 3, torch.quint8) for v in ([0.3, 0.5], [0.3, 0.6]))
    assert (e1 == e2).tolist() == (t1 == t2).tolist() and (e1 != e2).tolist() == (t1 != t2).tolist()
    assert (e1.equal(e1), e1.equal(e2)) == (torch.equal(t1, t1), torch.equal(t1, t2))
    for q in (
        e1,
        ember.quantize_per_channel(ember.ones(2, 2), ember.tensor([0.1, 0.2]), ember.tensor([0, 1]), 1, ember.qint8),
    ):
        for back in (pickle.loads(pickle.dumps(q)), copy.deepcopy(q)):
            assert back.equal(q) and back.qscheme() is q.qscheme()
    x, tx = ember.tensor([0.3], requires_grad=True), torch.tensor([0.3], requires_grad=True)
    cases = [
        (lambda L, v: L.fake_quantize_per_tensor_affine(v, 0.1, 0, 0, 255)),
        (lambda L, v: L.fake_quantize_per_tensor_affine(v, L.tensor([0.1]), L.tensor([0], dtype=L.int32), 0, 255)),
        (lambda L, v: L.fake_quantize_per_channel_affine(v, L.tensor([0.1]), L.tensor([0], dtype=L.int32), 0, 0, 255)),
    ]
    for f in cases:
        assert type(f(ember, x).grad_fn).__name__ == type(f(torch, tx).grad_fn).__name__
    with pytest.raises(RuntimeError, match="load_scalar"):
        e1.tolist()
    with pytest.raises(TypeError, match="unsupported ScalarType QUInt8"):
        e1.numpy()
    import importlib

    assert (
        importlib.import_module("ember.quantization").QuantStub
        is importlib.import_module("ember.ao.quantization").QuantStub
    )
    assert torch.quantization.QuantStub is torch.ao.quantization.QuantStub


@pytest.mark.parametrize("name", ["qint8", "quint8", "qint32", "quint4x2", "quint2x4"])
def test_iinfo_of_quantized_dtypes_as_torch(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (e.bits, e.min, e.max) == (t.bits, t.min, t.max)


def test_fake_quantize_refuses_qparams_requiring_grad_as_torch():
    x, tx = ember.tensor([0.3, 0.7]), torch.tensor([0.3, 0.7])
    s, ts = ember.tensor([0.1], requires_grad=True), torch.tensor([0.1], requires_grad=True)
    z, tz = ember.tensor([0], dtype=ember.int32), torch.tensor([0], dtype=torch.int32)
    _both_raise(
        RuntimeError,
        "is not differentiable with respect to argument 'scale'",
        lambda: ember.fake_quantize_per_tensor_affine(x, s, z, 0, 255),
        lambda: torch.fake_quantize_per_tensor_affine(tx, ts, tz, 0, 255),
    )
    _both_raise(
        RuntimeError,
        "is not differentiable with respect to argument 'scale'",
        lambda: ember.fake_quantize_per_channel_affine(x.reshape(1, 2), s, z, 0, 0, 255),
        lambda: torch.fake_quantize_per_channel_affine(tx.reshape(1, 2), ts, tz, 0, 0, 255),
    )
    with ember.no_grad():
        ember.fake_quantize_per_tensor_affine(x, s, z, 0, 255)
    with torch.no_grad():
        torch.fake_quantize_per_tensor_affine(tx, ts, tz, 0, 255)


@pytest.mark.parametrize("grad_factor", [1.0, 0.5])
def test_fake_quantize_learnable_per_tensor_as_torch(device, grad_factor):
    rng = np.random.default_rng(11)
    for _trial in range(10):
        x = (rng.standard_normal(40) * 2).astype(np.float32)
        sc, zp = np.float32(rng.choice([0.1, 0.05, 1 / 3])), np.float32(rng.uniform(0, 20))
        g = rng.standard_normal(40).astype(np.float32)
        got = {}
        for L, dev in ((torch, "cpu"), (ember, device)):
            xx = L.tensor(x, requires_grad=True, device=dev)
            s, z = L.tensor([sc], requires_grad=True, device=dev), L.tensor([zp], requires_grad=True, device=dev)
            y = L._fake_quantize_learnable_per_tensor_affine(xx, s, z, 0, 20, grad_factor)
            y.backward(L.tensor(g, device=dev))
            got[L] = [v.detach().cpu().numpy() for v in (y, xx.grad, s.grad, z.grad)]
            assert type(y.grad_fn).__name__ == "FakeQuantizeLearnablePerTensorAffineBackward0"
        for e, t in zip(got[ember][:2], got[torch][:2], strict=True):
            np.testing.assert_array_equal(e, t)
        for e, t in zip(got[ember][2:], got[torch][2:], strict=True):  # sums: float32, another order
            assert e.shape == t.shape == (1,)
            np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)
    _both_raise(
        RuntimeError,
        "`quant_min` should be less than or",
        lambda: ember._fake_quantize_learnable_per_tensor_affine(ember.ones(2), ember.ones(1), ember.ones(1), 5, 1),
        lambda: torch._fake_quantize_learnable_per_tensor_affine(torch.ones(2), torch.ones(1), torch.ones(1), 5, 1),
    )


@pytest.mark.parametrize("axis", [0, 1])
def test_fake_quantize_learnable_per_channel_as_torch(device, axis):
    rng = np.random.default_rng(12)
    for _trial in range(8):
        x = (rng.standard_normal((3, 7)) * 2).astype(np.float32)
        channels = x.shape[axis]
        sc = rng.choice([0.1, 0.05, 1 / 3], channels).astype(np.float32)
        zp = rng.uniform(0, 20, channels).astype(np.float32)
        g = rng.standard_normal((3, 7)).astype(np.float32)
        got = {}
        for L, dev in ((torch, "cpu"), (ember, device)):
            xx = L.tensor(x, requires_grad=True, device=dev)
            s, z = L.tensor(sc, requires_grad=True, device=dev), L.tensor(zp, requires_grad=True, device=dev)
            y = L._fake_quantize_learnable_per_channel_affine(xx, s, z, axis, 0, 20, 0.5)
            y.backward(L.tensor(g, device=dev))
            got[L] = [v.detach().cpu().numpy() for v in (y, xx.grad, s.grad, z.grad)]
            assert type(y.grad_fn).__name__ == "FakeQuantizeLearnablePerChannelAffineBackward0"
        for e, t in zip(got[ember][:2], got[torch][:2], strict=True):
            np.testing.assert_array_equal(e, t)
        for e, t in zip(got[ember][2:], got[torch][2:], strict=True):  # sums: float32, another order
            assert e.shape == t.shape == (channels,)
            np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)
