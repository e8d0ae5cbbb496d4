"""ember.ao.quantization against torch.ao.quantization: the observers' running statistics and
calculate_qparams bit for bit (float32 scales, integer zero points; symmetric, reduce_range,
customized ranges, the eps clamp), FakeQuantize / FusedMovingAvgObsFakeQuantize over training steps
(values, straight-through gradients, buffers, state_dict, printing), the default qconfigs and the stubs."""

import warnings

import numpy as np
import pytest

import ember
import ember.ao.quantization as eq

torch = pytest.importorskip("torch")
import torch.ao.quantization as tq  # noqa: E402


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def _t(name):
    """The torch object named like ember's (dtypes and qschemes)."""
    return getattr(torch, name.name) if hasattr(name, "name") else name


def _same(e, t):
    """ember tensor ``e`` equals torch tensor ``t`` in dtype, shape and bits."""
    assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1], (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.detach().cpu().numpy(), t.detach().numpy())


def _kw(kwargs, lib):
    out = {}
    for k, v in kwargs.items():
        out[k] = getattr(lib, v) if isinstance(v, str) and k in ("dtype", "qscheme") else v
    return out


PER_TENSOR = [
    {},
    {"dtype": "qint8"},
    {"qscheme": "per_tensor_symmetric", "dtype": "qint8"},
    {"qscheme": "per_tensor_symmetric"},
    {"reduce_range": True},
    {"reduce_range": True, "dtype": "qint8"},
    {"reduce_range": True, "dtype": "qint8", "qscheme": "per_tensor_symmetric"},
    {"quant_min": 0, "quant_max": 15},
    {"quant_min": -8, "quant_max": 7, "dtype": "qint8"},
    {"quant_min": 0, "quant_max": 31, "qscheme": "per_tensor_symmetric"},
    {"quant_min": -127, "quant_max": 127, "dtype": "qint8", "qscheme": "per_tensor_symmetric", "eps": 2**-12},
    {"quant_min": 0, "quant_max": 255, "reduce_range": True},
    {"dtype": "qint32"},
    {"eps": 1e-3},
]


def _batches(rng, shape, count=4):
    scales = [1.0, 1e-4, 30.0, 1e-8]
    out = []
    for i in range(count):
        x = rng.standard_normal(shape) * scales[i % len(scales)] + rng.choice([0.0, 2.0, -3.0])
        out.append(x.astype(np.float32))
    out.append(np.abs(out[0]) + 0.5)  # all positive
    out.append(-np.abs(out[1]) - 1e-3)  # all negative
    return out


@pytest.mark.parametrize("kwargs", PER_TENSOR)
@pytest.mark.parametrize("moving", [False, True])
def test_per_tensor_observers_as_torch(device, kwargs, moving):
    rng = np.random.default_rng(0)
    extra = {"averaging_constant": 0.3} if moving else {}
    cls = "MovingAverageMinMaxObserver" if moving else "MinMaxObserver"
    t_obs = getattr(tq, cls)(**_kw(kwargs, torch), **extra)
    e_obs = getattr(eq, cls)(**_kw(kwargs, ember), **extra).to(device)
    assert (e_obs.quant_min, e_obs.quant_max) == (t_obs.quant_min, t_obs.quant_max)
    for x in _batches(rng, (5, 7)):
        t_out = t_obs(torch.from_numpy(x))
        e_out = e_obs(ember.tensor(x, device=device))
        np.testing.assert_array_equal(e_out.cpu().numpy(), t_out.numpy())
        _same(e_obs.min_val, t_obs.min_val)
        _same(e_obs.max_val, t_obs.max_val)
        (es, ez), (ts, tz) = e_obs.calculate_qparams(), t_obs.calculate_qparams()
        _same(es, ts)
        _same(ez, tz)


PER_CHANNEL = [
    {},
    {"dtype": "qint8", "qscheme": "per_channel_symmetric"},
    {"qscheme": "per_channel_symmetric"},
    {"dtype": "qint8"},
    {"reduce_range": True, "dtype": "qint8", "qscheme": "per_channel_symmetric"},
    {"quant_min": -127, "quant_max": 127, "dtype": "qint8", "qscheme": "per_channel_symmetric", "eps": 2**-12},
    {"quant_min": 0, "quant_max": 15},
    {"qscheme": "per_channel_affine_float_qparams"},
]


@pytest.mark.parametrize("kwargs", PER_CHANNEL)
@pytest.mark.parametrize("moving", [False, True])
@pytest.mark.parametrize("ch_axis", [0, 1, -1])
def test_per_channel_observers_as_torch(device, kwargs, moving, ch_axis):
    rng = np.random.default_rng(1)
    extra = {"averaging_constant": 0.25} if moving else {}
    cls = "MovingAveragePerChannelMinMaxObserver" if moving else "PerChannelMinMaxObserver"
    t_obs = getattr(tq, cls)(ch_axis=ch_axis, **_kw(kwargs, torch), **extra)
    e_obs = getattr(eq, cls)(ch_axis=ch_axis, **_kw(kwargs, ember), **extra).to(device)
    for x in _batches(rng, (3, 4, 5)):
        t_obs(torch.from_numpy(x))
        e_obs(ember.tensor(x, device=device))
        _same(e_obs.min_val, t_obs.min_val)
        _same(e_obs.max_val, t_obs.max_val)
        (es, ez), (ts, tz) = e_obs.calculate_qparams(), t_obs.calculate_qparams()
        _same(es, ts)
        _same(ez, tz)


def test_observer_qparams_edge_ranges_as_torch():
    """calculate_qparams straight from chosen ranges: zero-width, tiny (the eps clamp), huge, one-sided."""
    ranges = [(0.0, 0.0), (1e-12, 1e-12), (-1e-9, 1e-9), (-3.0, -1.0), (2.0, 5.0), (-1e30, 1e30), (-0.5, 127.3)]
    for kwargs in PER_TENSOR:
        t_obs, e_obs = tq.MinMaxObserver(**_kw(kwargs, torch)), eq.MinMaxObserver(**_kw(kwargs, ember))
        for lo, hi in ranges:
            ts, tz = t_obs._calculate_qparams(torch.tensor(lo), torch.tensor(hi))
            es, ez = e_obs._calculate_qparams(ember.tensor(lo), ember.tensor(hi))
            _same(es, ts)
            _same(ez, tz)
    lo, hi = zip(*ranges, strict=True)
    for kwargs in PER_CHANNEL:
        t_obs, e_obs = (
            tq.PerChannelMinMaxObserver(**_kw(kwargs, torch)),
            eq.PerChannelMinMaxObserver(**_kw(kwargs, ember)),
        )
        ts, tz = t_obs._calculate_qparams(torch.tensor(lo), torch.tensor(hi))
        es, ez = e_obs._calculate_qparams(ember.tensor(lo), ember.tensor(hi))
        _same(es, ts)
        _same(ez, tz)


def test_observer_before_any_input_as_torch():
    for name in ("MinMaxObserver", "PerChannelMinMaxObserver"):
        (ts, tz), (es, ez) = getattr(tq, name)().calculate_qparams(), getattr(eq, name)().calculate_qparams()
        _same(es, ts)
        _same(ez, tz)
    with pytest.warns(UserWarning, match="must run observer before calling calculate_qparams"):
        eq.MinMaxObserver().calculate_qparams()
    t_obs, e_obs = tq.MinMaxObserver(), eq.MinMaxObserver()
    t_obs(torch.zeros(0))
    e_obs(ember.zeros(0))
    _same(e_obs.min_val, t_obs.min_val)


def test_observer_errors_as_torch():
    cases = [
        (NotImplementedError, "only support", lambda L, M: M.MinMaxObserver(qscheme=L.per_channel_affine)),
        (NotImplementedError, "only support", lambda L, M: M.PerChannelMinMaxObserver(qscheme=L.per_tensor_affine)),
        (
            NotImplementedError,
            "Cannot reduce range for symmetric",
            lambda L, M: M.MinMaxObserver(qscheme=L.per_tensor_symmetric, reduce_range=True),
        ),
        (AssertionError, "must include 0", lambda L, M: M.MinMaxObserver(quant_min=1, quant_max=5)),
        (AssertionError, "strictly less", lambda L, M: M.MinMaxObserver(quant_min=0, quant_max=0)),
        (
            AssertionError,
            "maximum bit range",
            lambda L, M: M.MinMaxObserver(dtype=L.qint8, quant_min=-200, quant_max=200),
        ),
        (AssertionError, "only works for", lambda L, M: M.MinMaxObserver(dtype=L.float32)),
        (AssertionError, "quant_min must be less than or equal", lambda L, M: M.FakeQuantize(quant_min=5, quant_max=1)),
        (AssertionError, "quant_max out of bound", lambda L, M: M.FakeQuantize(quant_min=0, quant_max=300)),
        (AssertionError, "quant_min out of bound", lambda L, M: M.FakeQuantize(quant_min=-1, quant_max=255)),
        (
            ValueError,
            "QConfig received observer instance",
            lambda L, M: M.QConfig(M.MinMaxObserver(), M.MinMaxObserver),
        ),
        (AssertionError, "not supported. backend must be one of", lambda L, M: M.get_default_qat_qconfig("tpu")),
    ]
    for exc, match, make in cases:
        with pytest.raises(exc, match=match):
            make(torch, tq)
        with pytest.raises(exc, match=match):
            make(ember, eq)
    t_obs, e_obs = tq.MinMaxObserver(), eq.MinMaxObserver()
    with pytest.raises(AssertionError, match="should be less than max"):
        t_obs._calculate_qparams(torch.tensor(2.0), torch.tensor(1.0))
    with pytest.raises(AssertionError, match="should be less than max"):
        e_obs._calculate_qparams(ember.tensor(2.0), ember.tensor(1.0))


FAKE_QUANTS = [
    "default_fake_quant",
    "default_weight_fake_quant",
    "default_per_channel_weight_fake_quant",
    "default_embedding_fake_quant",
    "default_fused_act_fake_quant",
    "default_fused_wt_fake_quant",
    "default_fused_per_channel_wt_fake_quant",
    "fused_wt_fake_quant_range_neg_127_to_127",
    "fused_per_channel_wt_fake_quant_range_neg_127_to_127",
]


@pytest.mark.parametrize("name", FAKE_QUANTS)
def test_fake_quantize_training_steps_as_torch(device, name):
    rng = np.random.default_rng(2)
    t_fq, e_fq = getattr(tq, name)(), getattr(eq, name)().to(device)
    assert type(e_fq).__name__ == type(t_fq).__name__
    for step, x in enumerate(_batches(rng, (4, 6), count=5)):
        if step == 3:  # observation off: the qparams stay
            t_fq.disable_observer()
            e_fq.disable_observer()
        if step == 5:
            t_fq.apply(tq.disable_fake_quant)
            e_fq.apply(eq.disable_fake_quant)
        tx = torch.from_numpy(x).requires_grad_()
        ex = ember.tensor(x, device=device, requires_grad=True)
        ty, ey = t_fq(tx), e_fq(ex)
        _same(ey, ty)
        g = rng.standard_normal(x.shape).astype(np.float32)
        ty.backward(torch.from_numpy(g))
        ey.backward(ember.tensor(g, device=device))
        _same(ex.grad, tx.grad)
        _same(e_fq.scale, t_fq.scale)
        _same(e_fq.zero_point, t_fq.zero_point)
    _same(e_fq.fake_quant_enabled, t_fq.fake_quant_enabled)
    _same(e_fq.observer_enabled, t_fq.observer_enabled)
    assert list(e_fq.state_dict()) == list(t_fq.state_dict())
    for key, value in t_fq.state_dict().items():
        _same(e_fq.state_dict()[key], value)


@pytest.mark.parametrize("name", ["default_fake_quant", "default_per_channel_weight_fake_quant"])
def test_fake_quantize_state_dict_round_trip(name):
    rng = np.random.default_rng(3)
    t_src, e_src = getattr(tq, name)(), getattr(eq, name)()
    x = rng.standard_normal((3, 5)).astype(np.float32)
    t_src(torch.from_numpy(x))
    e_src(ember.tensor(x))
    t_dst, e_dst = getattr(tq, name)(), getattr(eq, name)()
    t_dst.load_state_dict(t_src.state_dict())
    e_dst.load_state_dict(e_src.state_dict())
    for key, value in t_dst.state_dict().items():
        _same(e_dst.state_dict()[key], value)


def test_fake_quantize_repr_as_torch():
    rng = np.random.default_rng(4)
    for name in ("default_fake_quant", "default_per_channel_weight_fake_quant", "default_fused_act_fake_quant"):
        t_fq, e_fq = getattr(tq, name)(), getattr(eq, name)()
        x = rng.standard_normal((2, 3)).astype(np.float32)
        t_fq(torch.from_numpy(x))
        e_fq(ember.tensor(x))
        assert repr(e_fq) == repr(t_fq).replace("torch.", "ember.")
    assert repr(eq.MinMaxObserver()) == repr(tq.MinMaxObserver())


def test_qconfigs_as_torch():
    for backend in ("x86", "fbgemm", "qnnpack", "onednn"):
        for version in (0, 1):
            tqc, eqc = tq.get_default_qat_qconfig(backend, version), eq.get_default_qat_qconfig(backend, version)
            for part in ("activation", "weight"):
                t_mod, e_mod = getattr(tqc, part)(), getattr(eqc, part)()
                assert type(e_mod).__name__ == type(t_mod).__name__
                assert (e_mod.quant_min, e_mod.quant_max) == (t_mod.quant_min, t_mod.quant_max)
                assert repr(e_mod.qscheme) == repr(t_mod.qscheme).replace("torch", "ember")
                assert repr(e_mod.dtype) == repr(t_mod.dtype).replace("torch", "ember")
                assert type(e_mod.activation_post_process).__name__ == type(t_mod.activation_post_process).__name__
    for name in ("default_qat_qconfig", "default_qconfig", "default_per_channel_qconfig"):
        tqc, eqc = getattr(tq, name), getattr(eq, name)
        assert type(eqc.activation()).__name__ == type(tqc.activation()).__name__
        assert type(eqc.weight()).__name__ == type(tqc.weight()).__name__
    made = eq.MinMaxObserver.with_args(dtype=ember.qint8).with_args(reduce_range=True)
    assert made().dtype is ember.qint8 and made().reduce_range is True and made() is not made()


def test_stubs_and_wrapper_as_torch():
    x = [[1.5, -2.0]]
    for cls in ("QuantStub", "DeQuantStub"):
        e, t = getattr(eq, cls)(eq.default_qat_qconfig), getattr(tq, cls)(tq.default_qat_qconfig)
        assert e(ember.tensor(x)).tolist() == t(torch.tensor(x)).tolist()
        assert hasattr(e, "qconfig") and hasattr(t, "qconfig")
        assert not hasattr(getattr(eq, cls)(), "qconfig")
    inner = ember.nn.Linear(2, 2)
    inner.qconfig = eq.default_qat_qconfig
    inner.eval()
    w = eq.QuantWrapper(inner)
    assert [n for n, _ in w.named_children()] == ["quant", "dequant", "module"]
    assert w.quant.qconfig is eq.default_qat_qconfig and w.training is False
    assert w(ember.tensor(x)).tolist() == inner(ember.tensor(x)).tolist()


def test_qat_model_trains_as_torch():
    """A small model with fake-quantized weights and activations, three SGD steps, same numbers."""
    rng = np.random.default_rng(5)
    w = rng.standard_normal((4, 3)).astype(np.float32) * 0.5
    xs = [rng.standard_normal((8, 3)).astype(np.float32) for _ in range(3)]

    def run(lib, q):
        act, wfq = q.default_fake_quant(), q.default_per_channel_weight_fake_quant()
        weight = lib.tensor(w, requires_grad=True)
        opt = lib.optim.SGD([weight], lr=0.1)
        losses = []
        for x in xs:
            opt.zero_grad()
            y = act(lib.tensor(x)) @ wfq(weight).t()
            loss = (y * y).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, weight.detach().numpy()

    t_losses, t_w = run(torch, tq)
    e_losses, e_w = run(ember, eq)
    assert e_losses == pytest.approx(t_losses, rel=1e-6)
    np.testing.assert_allclose(e_w, t_w, rtol=1e-6, atol=1e-7)


DEFAULT_OBSERVERS = [
    "default_observer",
    "default_weight_observer",
    "default_per_channel_weight_observer",
    "default_float_qparams_observer",
    "default_histogram_observer",
    "weight_observer_range_neg_127_to_127",
    "per_channel_weight_observer_range_neg_127_to_127",
]


@pytest.mark.parametrize("name", DEFAULT_OBSERVERS + FAKE_QUANTS + ["default_histogram_fake_quant"])
def test_default_constructors_as_torch(name):
    import torch.ao.quantization.observer as tobs

    import ember.ao.quantization.observer as eobs

    t_make = getattr(tq, name, None) or getattr(tobs, name)
    e_make = getattr(eq, name, None) or getattr(eobs, name)
    t_mod, e_mod = t_make(), e_make()
    assert type(e_mod).__name__ == type(t_mod).__name__
    t_obs = getattr(t_mod, "activation_post_process", t_mod)
    e_obs = getattr(e_mod, "activation_post_process", e_mod)
    assert type(e_obs).__name__ == type(t_obs).__name__
    for attr in ("quant_min", "quant_max", "reduce_range", "has_customized_qrange", "averaging_constant", "ch_axis"):
        assert getattr(e_obs, attr, None) == getattr(t_obs, attr, None), attr
    assert repr(e_obs.dtype) == repr(t_obs.dtype).replace("torch", "ember")
    assert repr(e_obs.qscheme) == repr(t_obs.qscheme).replace("torch", "ember")
    assert e_obs.eps.tolist() == t_obs.eps.tolist()


HISTOGRAM_CASES = [
    {"bins": 64},
    {"bins": 256, "dtype": "qint8"},
    {"bins": 128, "qscheme": "per_tensor_symmetric", "dtype": "qint8"},
    {"reduce_range": True},
    {"bins": 32, "quant_min": 0, "quant_max": 15},
]


@pytest.mark.parametrize("kwargs", HISTOGRAM_CASES)
def test_histogram_observer_as_torch(device, kwargs):
    rng = np.random.default_rng(7)
    t_obs = tq.HistogramObserver(**_kw(kwargs, torch))
    e_obs = eq.HistogramObserver(**_kw(kwargs, ember)).to(device)
    batches = [np.full(5, 0.75, dtype=np.float32)]  # one value first: the old mass sits at one point
    batches += [(rng.standard_normal(150) * (1 + i)).astype(np.float32) for i in range(3)]
    batches[2][0] = 30.0  # an outlier the search drops
    batches.append(np.array([1.0, np.inf, -2.0], dtype=np.float32))  # infinities ignored
    for x in batches:
        t_obs(torch.from_numpy(x))
        e_obs(ember.tensor(x, device=device))
        _same(e_obs.histogram, t_obs.histogram)
        _same(e_obs.min_val, t_obs.min_val)
        _same(e_obs.max_val, t_obs.max_val)
        (es, ez), (ts, tz) = e_obs.calculate_qparams(), t_obs.calculate_qparams()
        _same(es, ts)
        _same(ez, tz)
    assert list(e_obs.state_dict()) == list(t_obs.state_dict())
    with pytest.warns(UserWarning, match="inf detected in input tensor"):
        eq.HistogramObserver()(ember.tensor([float("inf")]))


def test_default_qconfigs_as_torch():
    for backend in ("x86", "fbgemm", "qnnpack", "onednn"):
        tqc, eqc = tq.get_default_qconfig(backend), eq.get_default_qconfig(backend)
        for part in ("activation", "weight"):
            t_mod, e_mod = getattr(tqc, part)(), getattr(eqc, part)()
            assert type(e_mod).__name__ == type(t_mod).__name__
            assert (e_mod.quant_min, e_mod.quant_max, e_mod.eps.tolist()) == (
                t_mod.quant_min,
                t_mod.quant_max,
                t_mod.eps.tolist(),
            )


@pytest.mark.parametrize("per_row,symmetric", [(False, False), (False, True), (True, False), (True, True)])
def test_fused_moving_avg_obs_fake_quant_function_as_torch(device, per_row, symmetric):
    rng = np.random.default_rng(8)
    qmin, qmax = (-128, 127) if symmetric else (0, 255)
    state = {}
    for L, dev in ((torch, "cpu"), (ember, device)):

        def empty_or(v, L=L, dev=dev):
            return L.tensor([], device=dev) if per_row else L.tensor(v, device=dev)

        state[L] = [
            empty_or(float("inf")),
            empty_or(float("-inf")),
            L.tensor([1.0], device=dev),
            L.tensor([0], dtype=L.int32, device=dev),
        ]
    for step in range(5):
        x = (rng.standard_normal((3, 8)) * (step + 1)).astype(np.float32)
        on = [1, 1] if step != 3 else [0, 1]  # observer off at step 3
        if step == 4:
            on = [1, 0]  # fake quantization off: a copy of the input
        outs = {}
        for L, dev in ((torch, "cpu"), (ember, device)):
            lo, hi, sc, zp = state[L]
            switches = [L.tensor([v], device=dev) for v in on]
            outs[L] = L.fused_moving_avg_obs_fake_quant(
                L.tensor(x, device=dev), *switches, lo, hi, sc, zp, 0.3, qmin, qmax, 0, per_row, symmetric
            )
        _same(outs[ember], outs[torch])
        for e, t in zip(state[ember], state[torch], strict=True):
            _same(e, t)


QAT_LAYERS = [("Linear", (5, 3), (4, 5)), ("Conv1d", (2, 3, 2), (2, 2, 7)), ("Conv2d", (2, 3, 3), (1, 2, 6, 6))]


@pytest.mark.parametrize("name,args,shape", QAT_LAYERS)
@pytest.mark.parametrize("qconfig", ["default_qat_qconfig", "per_channel"])
def test_qat_layers_as_torch(device, name, args, shape, qconfig):
    import torch.ao.nn.qat as tqat

    import ember.ao.nn.qat as eqat

    rng = np.random.default_rng(9)
    if qconfig == "per_channel":
        tqc, eqc = tq.get_default_qat_qconfig("fbgemm", 0), eq.get_default_qat_qconfig("fbgemm", 0)
    else:
        tqc, eqc = tq.default_qat_qconfig, eq.default_qat_qconfig
    t = getattr(tqat, name)(*args, qconfig=tqc)
    e = getattr(eqat, name)(*args, qconfig=eqc)
    e.load_state_dict({k: ember.tensor(v.detach().clone().numpy()) for k, v in t.state_dict().items()})
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t).replace("torch.", "ember.")
    e = e.to(device)
    for _step in range(2):
        x = rng.standard_normal(shape).astype(np.float32)
        yt, ye = t(torch.from_numpy(x)), e(ember.tensor(x, device=device))
        np.testing.assert_allclose(ye.detach().cpu().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
        _same(e.weight_fake_quant.scale, t.weight_fake_quant.scale)
        _same(e.weight_fake_quant.zero_point, t.weight_fake_quant.zero_point)
        _same(e.weight_fake_quant(e.weight), t.weight_fake_quant(t.weight))
        yt.sum().backward()
        ye.sum().backward()
        np.testing.assert_allclose(e.weight.grad.cpu().numpy(), t.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(AssertionError, match="qconfig must be provided for QAT module"):
        getattr(tqat, name)(*args)
    with pytest.raises(AssertionError, match="qconfig must be provided for QAT module"):
        getattr(eqat, name)(*args)
    float_layer = getattr(ember.nn, name)(*args)
    with pytest.raises(AssertionError, match="Input float module must have qconfig defined"):
        getattr(eqat, name).from_float(float_layer)
    float_layer.qconfig = eqc
    qat = getattr(eqat, name).from_float(float_layer)
    assert qat.weight is float_layer.weight and type(qat).__name__ == name
    back = qat.to_float()
    assert type(back) is getattr(ember.nn, name) and back.weight.tolist() == qat.weight.tolist()


@pytest.mark.parametrize(
    "name",
    [
        "default_fixed_qparams_range_neg1to1_fake_quant",
        "default_fixed_qparams_range_0to1_fake_quant",
        "default_symmetric_fixed_qparams_fake_quant",
        "default_affine_fixed_qparams_fake_quant",
    ],
)
def test_fixed_qparams_fake_quant_as_torch(device, name):
    rng = np.random.default_rng(10)
    t_fq, e_fq = getattr(tq, name)(), getattr(eq, name)()
    assert repr(e_fq) == repr(t_fq).replace("torch.", "ember.")
    assert list(e_fq.state_dict()) == list(t_fq.state_dict())
    e_fq = e_fq.to(device)
    x = (rng.standard_normal((3, 5)) * 2).astype(np.float32)
    tx, ex = torch.from_numpy(x).requires_grad_(), ember.tensor(x, device=device, requires_grad=True)
    ty, ey = t_fq(tx), e_fq(ex)
    _same(ey, ty)
    ty.sum().backward()
    ey.sum().backward()
    _same(ex.grad, tx.grad)
    (es, ez), (ts, tz) = e_fq.calculate_qparams(), t_fq.calculate_qparams()
    _same(es, ts)
    _same(ez, tz)
    with pytest.raises(AssertionError, match="observer must be a FixedQParamsObserver"):
        tq.FixedQParamsFakeQuantize(tq.MinMaxObserver)
    with pytest.raises(AssertionError, match="observer must be a FixedQParamsObserver"):
        eq.FixedQParamsFakeQuantize(eq.MinMaxObserver)
