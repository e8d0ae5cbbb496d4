"""PyTorch's semantics off the main road, checked against PyTorch on every test device:
exact integer division, true views, device checks, input validation, NaN propagation."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

INT_DTYPES = ["int64", "int32", "uint8"]


def _pair(values, dtype, device):
    return ember.tensor(values, dtype=getattr(ember, dtype), device=device), torch.tensor(
        values, dtype=getattr(torch, dtype)
    )


def _same(actual, expected):
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())


INTEGER_DIVISIONS = [
    ("floordiv", lambda T, a, b: a // b),
    ("mod", lambda T, a, b: a % b),
    ("remainder", lambda T, a, b: T.remainder(a, b)),
    ("fmod", lambda T, a, b: T.fmod(a, b)),
    ("div_floor", lambda T, a, b: T.div(a, b, rounding_mode="floor")),
    ("div_trunc", lambda T, a, b: T.div(a, b, rounding_mode="trunc")),
]


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name,fn", INTEGER_DIVISIONS, ids=[n for n, _ in INTEGER_DIVISIONS])
def test_integer_division_is_exact(device, dtype, name, fn):
    big = [123456789, -7, 7, 0, -9, 9, 2**31 - 3, 1] if dtype != "uint8" else [250, 7, 7, 0, 9, 9, 255, 1]
    div = [10, -10, 3, 5, -2, 2, 7, -3] if dtype != "uint8" else [10, 10, 3, 5, 2, 2, 7, 3]
    if dtype == "int32":
        big[0] = 2**31 - 1
    a, ta = _pair(big, dtype, device)
    b, tb = _pair(div, dtype, device)
    _same(fn(ember, a, b), fn(torch, ta, tb))
    _same(fn(ember, a, 3), fn(torch, ta, 3))


@pytest.mark.parametrize("name,fn", INTEGER_DIVISIONS, ids=[n for n, _ in INTEGER_DIVISIONS])
def test_integer_division_by_zero_raises(device, name, fn):
    a, ta = _pair([5, -3], "int64", device)
    b, tb = _pair([1, 0], "int64", device)
    for other, tother in ((b, tb), (0, 0)):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(torch, ta, tother)
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(ember, a, other)


@pytest.mark.parametrize("name,fn", INTEGER_DIVISIONS, ids=[n for n, _ in INTEGER_DIVISIONS])
def test_float_division_modes_match_torch(device, name, fn):
    values, divisors = [1.0, -7.5, 7.25, 0.0, 3.0], [0.1, 2.0, -3.0, 0.0, 0.0]
    a, ta = _pair(values, "float64", device) if device.split(":")[0] != "opencl" else _pair(values, "float32", device)
    b, tb = (ember.tensor(divisors, dtype=a.dtype, device=device), torch.tensor(divisors, dtype=ta.dtype))
    np.testing.assert_allclose(fn(ember, a, b).cpu().numpy(), fn(torch, ta, tb).numpy(), rtol=1e-6)


def test_view_shares_storage_or_raises(device):
    shared = ember.arange(6.0, device=device).reshape(2, 3)
    shared.view(3, 2)[0, 0] = 100.0
    assert shared[0, 0].item() == 100.0
    base = ember.arange(6.0, device=device).reshape(2, 3)
    tb = torch.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        tb.t().view(-1)
    if not device.startswith("opencl"):  # the opencl reshape primitive copies where it cannot view
        with pytest.raises(RuntimeError, match=r"Use \.reshape\(\.\.\.\) instead"):
            base.t().view(-1)
    assert base.t().view(3, 2, 1).shape == tb.t().view(3, 2, 1).shape
    assert base.t().reshape(-1).tolist() == tb.t().reshape(-1).tolist()


def test_relu_and_threshold_propagate_nan(device):
    values = [float("nan"), 0.0, -1.0, 2.0]
    for op in (lambda T, x: T.relu(x), lambda T, x: T.nn.functional.threshold(x, 0.0, 5.0)):
        x = ember.tensor(values, device=device, requires_grad=True)
        tx = torch.tensor(values, requires_grad=True)
        y, ty = op(ember, x), op(torch, tx)
        np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_array_equal(x.grad.cpu().numpy(), tx.grad.numpy())


def test_tensor_where_takes_self_as_input(device):
    x, c, y = ([1.0, 2.0], [True, False], [9.0, 8.0])
    out = ember.tensor(x, device=device).where(ember.tensor(c, device=device), ember.tensor(y, device=device))
    assert out.tolist() == torch.tensor(x).where(torch.tensor(c), torch.tensor(y)).tolist()


def test_clamp_with_broadcasting_bounds_has_input_shaped_gradients(device):
    grads = []
    for T, dev in ((ember, device), (torch, "cpu")):
        x = T.tensor([1.0, 5.0], device=dev, requires_grad=True)
        low = T.tensor([[2.0], [0.0], [6.0]], device=dev, requires_grad=True)
        high = T.tensor([[5.5], [4.0]], device=dev, requires_grad=True)
        T.clamp(x, low).sum().backward()
        T.clamp(x, max=high).sum().backward()
        grads.append([np.asarray(t.grad.tolist()) for t in (x, low, high)])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


GRAD_ASSIGNMENTS = [
    ("shape", lambda T, dev: T.zeros(3, device=dev), RuntimeError),
    ("dtype", lambda T, dev: T.zeros(2, dtype=T.float64, device=dev), RuntimeError),
    ("int", lambda T, dev: T.zeros(2, dtype=T.int64, device=dev), RuntimeError),
    ("list", lambda T, dev: [1.0, 2.0], TypeError),
    ("number", lambda T, dev: 3.0, TypeError),
]


@pytest.mark.parametrize("name,make,error", GRAD_ASSIGNMENTS, ids=[g[0] for g in GRAD_ASSIGNMENTS])
def test_grad_assignment_is_validated(device, name, make, error):
    if name == "dtype" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    tp = torch.zeros(2, requires_grad=True)
    with pytest.raises(error):
        tp.grad = make(torch, "cpu")
    p = ember.zeros(2, device=device, requires_grad=True)
    with pytest.raises(error, match="grad"):
        p.grad = make(ember, device)
    p.grad = ember.ones(2, device=device)
    p.grad = None
    assert p.grad is None


@pytest.mark.parametrize(
    "values",
    [[1e38, -1e38, 1e38], [3e38, -3e38], [1e20, 1e20 + 1e13], [2.0, 2.0]],
    ids=["big", "over", "offset", "flat"],
)
def test_std_var_do_not_overflow(device, values):
    x, tx = ember.tensor(values, device=device), torch.tensor(values)
    np.testing.assert_allclose(x.std().item(), tx.std().item(), rtol=1e-5)
    np.testing.assert_allclose(x.var().item(), tx.var().item(), rtol=1e-5)


def test_std_gradient_at_zero_deviation_is_zero(device):
    grads = []
    for T, dev in ((ember, device), (torch, "cpu")):
        x = T.tensor([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], device=dev, requires_grad=True)
        x.std(1).sum().backward()
        grads.append(np.asarray(x.grad.tolist()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5)


def _outcome(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the outcome is the exception's type
        return type(exc)
    return None


DISTRIBUTIONS = [
    ("bernoulli_above_1", lambda T, d: T.bernoulli(T.tensor([1.5], device=d))),
    ("bernoulli_below_0", lambda T, d: T.bernoulli(T.tensor([-0.1], device=d))),
    ("bernoulli_nan", lambda T, d: T.bernoulli(T.tensor([float("nan")], device=d))),
    ("bernoulli_p", lambda T, d: T.bernoulli(T.zeros(2, device=d), p=1.5)),
    ("bernoulli_int", lambda T, d: T.bernoulli(T.tensor([1], device=d))),
    ("bernoulli_ok", lambda T, d: T.bernoulli(T.tensor([0.0, 1.0], device=d))),
    ("bernoulli_inplace", lambda T, d: T.zeros(2, device=d).bernoulli_(1.5)),
    ("bernoulli_inplace_tensor", lambda T, d: T.zeros(2, device=d).bernoulli_(T.tensor([2.0, 0.0], device=d))),
    ("normal_negative_std", lambda T, d: T.normal(0.0, -1.0, size=(2,), device=d)),
    ("normal_tensor_std", lambda T, d: T.normal(T.zeros(2, device=d), T.tensor([1.0, -1.0], device=d))),
    ("normal_tensor_mean", lambda T, d: T.normal(T.zeros(2, device=d), -1.0)),
    ("normal_zero_std", lambda T, d: T.zeros(2, device=d).normal_(0, 0)),
    ("normal_inplace", lambda T, d: T.zeros(2, device=d).normal_(0, -1)),
    ("uniform_reversed", lambda T, d: T.zeros(2, device=d).uniform_(2, 1)),
    ("exponential_negative", lambda T, d: T.zeros(2, device=d).exponential_(-1)),
    ("exponential_zero", lambda T, d: T.zeros(2, device=d).exponential_(0)),
    ("log_normal", lambda T, d: T.zeros(2, device=d).log_normal_(0, -1)),
    ("cauchy", lambda T, d: T.zeros(2, device=d).cauchy_(0, 0)),
    ("random_reversed", lambda T, d: T.zeros(2, device=d).random_(5, 2)),
    ("randint_reversed", lambda T, d: T.randint(5, 2, (2,), device=d)),
    ("multinomial_nan", lambda T, d: T.multinomial(T.tensor([float("nan"), 1.0], device=d), 1)),
    ("multinomial_inf", lambda T, d: T.multinomial(T.tensor([float("inf"), 1.0], device=d), 1)),
    ("multinomial_zero_samples", lambda T, d: T.multinomial(T.tensor([1.0, 1.0], device=d), 0)),
    ("uniform_int", lambda T, d: T.zeros(2, dtype=T.int64, device=d).uniform_()),
    ("normal_int", lambda T, d: T.zeros(2, dtype=T.int64, device=d).normal_()),
]


@pytest.mark.parametrize("name,fn", DISTRIBUTIONS, ids=[n for n, _ in DISTRIBUTIONS])
def test_distribution_parameters_are_validated_as_torch(device, name, fn):
    expected = _outcome(lambda: fn(torch, "cpu"))
    assert _outcome(lambda: fn(ember, device)) is expected


def _run_without_cpu_devices(code):
    """Run ``code`` in a fresh interpreter whose environment does not set ``EMBER_CPU_DEVICES``."""
    env = {k: v for k, v in os.environ.items() if k != "EMBER_CPU_DEVICES"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_numpy_error_state_is_left_to_the_user():
    code = (
        "import warnings, numpy as np, ember\n"
        "before = np.geterr()\n"
        "x = ember.tensor([0.0, -1.0])\n"
        "(x.log(), x.sqrt(), x / 0)\n"
        "assert np.geterr() == before == {'divide': 'warn', 'over': 'warn', 'under': 'ignore', 'invalid': 'warn'}\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    np.log(np.zeros(1))\n"
        "assert any('divide by zero' in str(w.message) for w in caught), caught\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    (x.log(), x.sqrt(), x / 0, ember.tensor([1e38]) * 1e38)\n"
        "assert not caught, [str(w.message) for w in caught]\n"
    )
    _run_without_cpu_devices(code)


def test_cpu_devices_exist_without_environment():
    code = (
        "import ember\n"
        "from ember import nn\n"
        "m = nn.Linear(3, 2)\n"
        "x = ember.randn(4, 3)\n"
        "dp = nn.DataParallel(m, device_ids=['cpu:0', 'cpu:1'])\n"
        "y = dp(x)\n"
        "assert (y - m(x)).abs().max().item() < 1e-6\n"
        "y.sum().backward()\n"
        "assert m.weight.grad.shape == m.weight.shape\n"
        "assert ember.zeros(2, device='cpu:1').device == ember.device('cpu', 1)\n"
    )
    _run_without_cpu_devices(code)


def _two_devices(device):
    """The test device and a second one: ``cpu:1`` beside a cpu device, ``cpu`` beside any other."""
    return ("cpu", "cpu:1") if device.split(":")[0] == "cpu" else (device, "cpu")


F = ember.nn.functional
nn = ember.nn

MIXED_DEVICES = [
    ("mse_loss", lambda a, b: F.mse_loss(ember.zeros(3, device=a), ember.zeros(3, device=b))),
    ("l1_loss", lambda a, b: F.l1_loss(ember.zeros(3, device=a), ember.zeros(3, device=b))),
    (
        "cross_entropy",
        lambda a, b: F.cross_entropy(ember.zeros(2, 3, device=a), ember.zeros(2, dtype=ember.int64, device=b)),
    ),
    ("nll_loss", lambda a, b: F.nll_loss(ember.zeros(2, 3, device=a), ember.zeros(2, dtype=ember.int64, device=b))),
    (
        "cross_entropy_weight",
        lambda a, b: F.cross_entropy(
            ember.zeros(2, 3, device=a), ember.zeros(2, dtype=ember.int64, device=a), weight=ember.ones(3, device=b)
        ),
    ),
    ("bce", lambda a, b: F.binary_cross_entropy(ember.full((3,), 0.5, device=a), ember.zeros(3, device=b))),
    ("bce_logits", lambda a, b: F.binary_cross_entropy_with_logits(ember.zeros(3, device=a), ember.zeros(3, device=b))),
    ("kl_div", lambda a, b: F.kl_div(ember.zeros(3, device=a), ember.zeros(3, device=b), reduction="sum")),
    ("huber", lambda a, b: F.huber_loss(ember.zeros(3, device=a), ember.zeros(3, device=b))),
    (
        "multi_margin",
        lambda a, b: F.multi_margin_loss(ember.ones(2, 3, device=a), ember.zeros(2, dtype=ember.int64, device=b)),
    ),
    ("embedding", lambda a, b: nn.Embedding(4, 2).to(a)(ember.zeros(2, dtype=ember.int64, device=b))),
    ("embedding_bag", lambda a, b: nn.EmbeddingBag(4, 2).to(a)(ember.zeros(2, 3, dtype=ember.int64, device=b))),
    ("linear", lambda a, b: nn.Linear(3, 2).to(a)(ember.zeros(2, 3, device=b))),
    ("batch_norm", lambda a, b: nn.BatchNorm1d(3).to(a)(ember.zeros(2, 3, device=b))),
    ("lstm_input", lambda a, b: nn.LSTM(3, 2).to(a)(ember.zeros(4, 1, 3, device=b))),
    (
        "lstm_hidden",
        lambda a, b: nn.LSTM(3, 2).to(a)(
            ember.zeros(4, 1, 3, device=a), (ember.zeros(1, 1, 2, device=b), ember.zeros(1, 1, 2, device=a))
        ),
    ),
    ("gru_hidden", lambda a, b: nn.GRU(3, 2).to(a)(ember.zeros(4, 1, 3, device=a), ember.zeros(1, 1, 2, device=b))),
    ("lstm_cell", lambda a, b: nn.LSTMCell(3, 2).to(a)(ember.zeros(1, 3, device=b))),
    ("gru_cell_hidden", lambda a, b: nn.GRUCell(3, 2).to(a)(ember.zeros(1, 3, device=a), ember.zeros(1, 2, device=b))),
    ("rnn_cell", lambda a, b: nn.RNNCell(3, 2).to(a)(ember.zeros(1, 3, device=b))),
    ("matmul", lambda a, b: ember.zeros(2, 2, device=a) @ ember.zeros(2, 2, device=b)),
    ("cat", lambda a, b: ember.cat([ember.zeros(2, device=a), ember.zeros(2, device=b)])),
    ("gather", lambda a, b: ember.zeros(3, device=a).gather(0, ember.zeros(1, dtype=ember.int64, device=b))),
    (
        "scatter",
        lambda a, b: ember.zeros(3, device=a).scatter(
            0, ember.zeros(1, dtype=ember.int64, device=a), ember.ones(1, device=b)
        ),
    ),
    (
        "index_add",
        lambda a, b: ember.zeros(3, device=a).index_add(
            0, ember.zeros(1, dtype=ember.int64, device=a), ember.ones(1, device=b)
        ),
    ),
    (
        "index_fill",
        lambda a, b: ember.zeros(3, device=a).index_fill(0, ember.zeros(1, dtype=ember.int64, device=b), 1.0),
    ),
    ("clamp", lambda a, b: ember.clamp(ember.zeros(2, device=a), ember.zeros(2, device=b))),
    (
        "where",
        lambda a, b: ember.where(
            ember.ones(2, dtype=ember.bool, device=a), ember.zeros(2, device=a), ember.zeros(2, device=b)
        ),
    ),
    ("add_", lambda a, b: ember.zeros(3, device=a).add_(ember.ones(3, device=b))),
    ("grad", lambda a, b: setattr(ember.zeros(3, device=a, requires_grad=True), "grad", ember.ones(3, device=b))),
]


@pytest.mark.parametrize("name,fn", MIXED_DEVICES, ids=[n for n, _ in MIXED_DEVICES])
def test_mixing_devices_raises_naming_both(device, name, fn):
    a, b = _two_devices(device)
    with pytest.raises(RuntimeError) as info:
        fn(a, b)
    message = str(info.value)
    assert str(ember.device(a)) in message and str(ember.device(b)) in message, message


def test_optimizers_step_parameters_on_several_devices(device):
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "ASGD"):
        params = [ember.nn.Parameter(ember.ones(3, device=d)) for d in _two_devices(device)]
        opt = getattr(ember.optim, name)(params, lr=0.1)
        for _ in range(2):
            for p in params:
                p.grad = ember.ones(3, device=p.device)
            opt.step()
        assert [p.device for p in params] == [ember.device(d) for d in _two_devices(device)]
        np.testing.assert_allclose(params[0].detach().cpu().numpy(), params[1].detach().cpu().numpy(), rtol=1e-6)


RNN_EDGES = [
    ("lstm_zero_steps", lambda T, d: T.nn.LSTM(3, 2).to(d)(T.zeros(0, 1, 3, device=d))),
    ("lstm_batch_first_zero_steps", lambda T, d: T.nn.LSTM(3, 2, batch_first=True).to(d)(T.zeros(1, 0, 3, device=d))),
    ("gru_zero_steps", lambda T, d: T.nn.GRU(3, 2).to(d)(T.zeros(0, 1, 3, device=d))),
    ("lstm_zero_batch", lambda T, d: T.nn.LSTM(3, 2).to(d)(T.zeros(4, 0, 3, device=d))),
    ("lstm_cell_zero_batch", lambda T, d: T.nn.LSTMCell(3, 2).to(d)(T.zeros(0, 3, device=d))),
    ("batch_norm_empty", lambda T, d: T.nn.BatchNorm1d(3).to(d)(T.zeros(0, 3, device=d))),
    ("batch_norm_one", lambda T, d: T.nn.BatchNorm1d(3).to(d)(T.zeros(1, 3, device=d))),
    ("batch_norm_empty_3d", lambda T, d: T.nn.BatchNorm1d(3).to(d)(T.zeros(0, 3, 4, device=d))),
    ("batch_norm2d_empty", lambda T, d: T.nn.BatchNorm2d(3).to(d)(T.zeros(0, 3, 2, 2, device=d))),
    ("group_norm_empty", lambda T, d: T.nn.GroupNorm(1, 3).to(d)(T.zeros(0, 3, 2, device=d))),
    ("instance_norm_one", lambda T, d: T.nn.InstanceNorm1d(3).to(d)(T.zeros(2, 3, 1, device=d))),
]


def _shapes(result):
    if isinstance(result, tuple):
        return tuple(_shapes(r) for r in result)
    return tuple(result.shape)


@pytest.mark.parametrize("name,fn", RNN_EDGES, ids=[n for n, _ in RNN_EDGES])
def test_empty_and_degenerate_batches_as_torch(device, name, fn):
    try:
        expected = _shapes(fn(torch, "cpu"))
    except Exception as exc:  # noqa: BLE001 - compare the exception type
        with pytest.raises(type(exc)):
            fn(ember, device)
        return
    assert _shapes(fn(ember, device)) == expected


def test_batch_norm_on_an_empty_batch_keeps_running_statistics(device):
    bn = nn.BatchNorm1d(3).to(device)
    bn.running_mean.fill_(1.0)
    x = ember.zeros(0, 3, device=device, requires_grad=True)
    bn(x).sum().backward()
    assert bn.running_mean.tolist() == [1.0, 1.0, 1.0] and bn.running_var.tolist() == [1.0, 1.0, 1.0]
    assert x.grad.shape == (0, 3) and bn.weight.grad.tolist() == [0.0, 0.0, 0.0]


PROMOTIONS = [
    ("tensor_neg_0d", lambda T, u, S: u + S(-1)),
    ("neg_0d_first", lambda T, u, S: S(-1) + u),
    ("scalar_neg", lambda T, u, S: u + (-1)),
    ("scalar_big", lambda T, u, S: u + 300),
    ("mul_neg", lambda T, u, S: u * (-1)),
    ("lt_neg_scalar", lambda T, u, S: u < -1),
    ("eq_neg_scalar", lambda T, u, S: u == -56),
    ("lt_neg_0d", lambda T, u, S: u < S(-1)),
    ("maximum_neg_0d", lambda T, u, S: T.maximum(u, S(-1))),
    ("float_0d", lambda T, u, S: u + S(-1.5)),
    ("int32_big", lambda T, u, S: u.to(T.int32) + 2**40),
    ("int32_min", lambda T, u, S: u.to(T.int32) * (-(2**31) - 1)),
    ("int64_overflow", lambda T, u, S: u.long() + 2**70),
]


@pytest.mark.parametrize("name,fn", PROMOTIONS, ids=[n for n, _ in PROMOTIONS])
def test_integer_scalar_promotion_as_torch(device, name, fn):
    u, tu = _pair([200, 3], "uint8", device)
    scalar = lambda v: ember.tensor(v, device=device)  # noqa: E731 - a 0-d tensor on the test device
    expected = _outcome(lambda: fn(torch, tu, torch.tensor))
    if expected is not None:
        assert _outcome(lambda: fn(ember, u, scalar)) is expected
        return
    _same(fn(ember, u, scalar), fn(torch, tu, torch.tensor))


EDGE_INPUTS = [
    ("softmax_empty_dim", lambda T, d: T.softmax(T.zeros(2, 0, device=d), 1)),
    ("log_softmax_empty_dim", lambda T, d: T.log_softmax(T.zeros(2, 0, device=d), 1)),
    ("softmax_empty_batch", lambda T, d: T.softmax(T.zeros(0, 3, device=d), 1)),
    ("erf_0d", lambda T, d: T.erf(T.tensor(0.5, device=d))),
    ("gelu_0d", lambda T, d: T.nn.functional.gelu(T.tensor(0.5, device=d))),
    ("unique_dim0", lambda T, d: T.unique(T.tensor([[2.0, 1], [1, 5], [2, 1], [1, 0]], device=d), dim=0)),
    (
        "unique_dim1_all",
        lambda T, d: T.unique(
            T.tensor([[1, 2, 1], [3, 4, 3]], device=d), dim=1, return_inverse=True, return_counts=True
        ),
    ),
    ("unique_dim_zero_size", lambda T, d: T.unique(T.zeros(2, 0, device=d), dim=0)),
    ("flip_dims_keyword", lambda T, d: T.flip(T.tensor([[1, 2], [3, 4]], device=d), dims=(0,))),
    (
        "tensordot_size_1",
        lambda T, d: T.tensordot(T.ones(1, 1, 1, device=d), T.ones(2, 1, 2, device=d), dims=([0, 1], [2, 0])),
    ),
    ("gather_0d", lambda T, d: T.tensor(5.0, device=d).gather(0, T.tensor(0, device=d))),
    ("scatter_0d", lambda T, d: T.tensor(5.0, device=d).scatter(0, T.tensor(0, device=d), T.tensor(3.0, device=d))),
    (
        "scatter_add_0d",
        lambda T, d: T.tensor(5.0, device=d).scatter_add(0, T.tensor(0, device=d), T.tensor(3.0, device=d)),
    ),
    ("index_select_0d", lambda T, d: T.tensor(5.0, device=d).index_select(0, T.tensor([0], device=d))),
    ("index_select_0d_out_of_range", lambda T, d: T.tensor(5.0, device=d).index_select(0, T.tensor([1], device=d))),
    (
        "index_add_0d",
        lambda T, d: T.tensor(5.0, device=d).index_add(0, T.tensor([0], device=d), T.tensor(2.0, device=d)),
    ),
    (
        "index_add_0d_1d_source",
        lambda T, d: T.tensor(5.0, device=d).index_add(0, T.tensor([0], device=d), T.tensor([2.0], device=d)),
    ),
    ("index_fill_0d", lambda T, d: T.tensor(5.0, device=d).index_fill(0, T.tensor([0], device=d), 7.0)),
    (
        "index_copy_0d",
        lambda T, d: T.tensor(5.0, device=d).index_copy(0, T.tensor([0], device=d), T.tensor([3.0], device=d)),
    ),
    ("kthvalue_0d", lambda T, d: T.tensor(5.0, device=d).kthvalue(1, 0)),
    ("kthvalue_0d_k2", lambda T, d: T.tensor(5.0, device=d).kthvalue(2, 0)),
]


def _values(result):
    if isinstance(result, (tuple, list)):
        return [_values(r) for r in result]
    return (tuple(result.shape), result.tolist())


@pytest.mark.parametrize("name,fn", EDGE_INPUTS, ids=[n for n, _ in EDGE_INPUTS])
def test_edge_inputs_as_torch(device, name, fn):
    expected_error = _outcome(lambda: fn(torch, "cpu"))
    if expected_error is not None:
        assert _outcome(lambda: fn(ember, device)) is expected_error
        return
    actual, expected = _values(fn(ember, device)), _values(fn(torch, "cpu"))
    assert str(actual) == str(expected) or np.allclose(np.asarray(actual[1], dtype=float), expected[1]), (
        actual,
        expected,
    )


def test_norm_p0_stays_in_the_graph(device):
    grads = []
    for T, dev in ((ember, device), (torch, "cpu")):
        x = T.tensor([1.0, 0.0, 2.0], device=dev, requires_grad=True)
        n = x.norm(p=0)
        assert n.requires_grad and n.item() == 2.0
        n.backward(retain_graph=True)
        (g,) = T.autograd.grad(n + x.sum(), x)
        grads.append((x.grad, g.tolist()))  # the count contributes no gradient: x.grad stays None (ember gave zeros)
    assert grads[0] == grads[1] == (None, [1.0, 1.0, 1.0])
