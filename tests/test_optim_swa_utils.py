"""``ember.optim.swa_utils`` against ``torch.optim.swa_utils``: the averaged weights (SWA and EMA,
per-parameter and list functions, with and without buffers), SWALR's learning rates,
``update_bn``'s statistics, state dicts and errors."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _model(T, dtype, batch_norm=False):
    layers = [T.nn.Linear(3, 4), T.nn.Tanh(), T.nn.Linear(4, 2)]
    if batch_norm:
        layers.insert(1, T.nn.BatchNorm1d(4))
    return T.nn.Sequential(*layers).to(getattr(T, dtype))


def _pair(dtype, batch_norm=False):
    torch.manual_seed(0)
    t_model = _model(torch, dtype, batch_norm)
    e_model = _model(ember, dtype, batch_norm)
    e_model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_model.state_dict().items()})
    return e_model, t_model


def _train_and_average(T, model, make_averaged, dtype, steps=5):
    rng = np.random.default_rng(1)
    averaged = make_averaged(T, model)
    opt = T.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        x = T.tensor(rng.standard_normal((6, 3)), dtype=getattr(T, dtype))
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        averaged.update_parameters(model)
    return averaged


AVERAGES = {
    "swa": lambda T, m: T.optim.swa_utils.AveragedModel(m),
    "swa_list": lambda T, m: T.optim.swa_utils.AveragedModel(m, multi_avg_fn=T.optim.swa_utils.get_swa_multi_avg_fn()),
    "ema_list": lambda T, m: T.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=T.optim.swa_utils.get_ema_multi_avg_fn(0.9)
    ),
    "ema": lambda T, m: T.optim.swa_utils.AveragedModel(m, avg_fn=T.optim.swa_utils.get_ema_avg_fn(0.75)),
    "swa_buffers": lambda T, m: T.optim.swa_utils.AveragedModel(m, use_buffers=True),
    "ema_buffers": lambda T, m: T.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=T.optim.swa_utils.get_ema_multi_avg_fn(0.5), use_buffers=True
    ),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", sorted(AVERAGES))
def test_averaged_model_as_torch(kind, dtype):
    batch_norm = kind.endswith("buffers") or kind == "swa"
    e_model, t_model = _pair(dtype, batch_norm)
    e_avg = _train_and_average(ember, e_model, AVERAGES[kind], dtype)
    t_avg = _train_and_average(torch, t_model, AVERAGES[kind], dtype)
    e_state, t_state = e_avg.state_dict(), t_avg.state_dict()
    assert list(e_state) == list(t_state)
    for key, t_value in t_state.items():
        e_value = e_state[key].numpy()
        assert str(e_value.dtype) == str(t_value.numpy().dtype), key
        tol = 1e-12 if dtype == "float64" else 1e-6
        np.testing.assert_allclose(e_value, t_value.numpy(), rtol=tol, atol=tol, err_msg=key)
    assert int(e_avg.n_averaged) == int(t_avg.n_averaged) == 5
    x = np.ones((2, 3))
    e_avg.eval(), t_avg.eval()
    e_out = e_avg(ember.tensor(x, dtype=getattr(ember, dtype))).detach().numpy()
    t_out = t_avg(torch.tensor(x, dtype=getattr(torch, dtype))).detach().numpy()
    np.testing.assert_allclose(e_out, t_out, rtol=1e-6)


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4])
def test_swalr_rates_as_torch(strategy, anneal_epochs):
    rates = []
    for T in (torch, ember):
        params = [T.nn.Parameter(T.zeros(1)), T.nn.Parameter(T.zeros(1))]
        opt = T.optim.SGD([{"params": params[:1], "lr": 1.0}, {"params": params[1:], "lr": 0.5}], lr=1.0)
        sched = T.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.2], anneal_epochs=anneal_epochs, anneal_strategy=strategy)
        seen = [sched.get_last_lr()]
        for _ in range(6):
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr())
        state = sched.state_dict()
        assert "anneal_func" not in state and "optimizer" not in state
        sched.load_state_dict(state)
        opt.step()
        sched.step()
        seen.append(sched.get_last_lr())
        rates.append(seen)
    np.testing.assert_allclose(np.array(rates[1]), np.array(rates[0]), rtol=1e-15)


def test_update_bn_as_torch():
    stats = []
    weights = None
    for T in (torch, ember):
        rng = np.random.default_rng(2)
        model = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.BatchNorm1d(4, momentum=0.3), T.nn.ReLU())
        if weights is None:
            weights = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        else:
            model.load_state_dict({k: T.tensor(v) for k, v in weights.items()})
        model.eval()
        batches = [(T.tensor(rng.standard_normal((5, 3)), dtype=T.float32), 0) for _ in range(3)]
        T.optim.swa_utils.update_bn(batches, model)
        bn = model[1]
        stats.append((bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(), int(bn.num_batches_tracked)))
        assert bn.momentum == 0.3 and not model.training
    for got, expected in zip(stats[1], stats[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_update_bn_without_batch_norm_leaves_the_model_alone():
    model = ember.nn.Linear(2, 2)
    ember.optim.swa_utils.update_bn([ember.ones(1, 2)], model)  # no batch norm: not even run
    assert model.training


ERRORS = [
    (lambda T: T.optim.swa_utils.get_ema_multi_avg_fn(1.5), ValueError),
    (lambda T: T.optim.swa_utils.get_ema_avg_fn(-0.1), ValueError),
    (
        lambda T: T.optim.swa_utils.AveragedModel(
            T.nn.Linear(1, 1), avg_fn=T.optim.swa_utils.get_swa_avg_fn(), multi_avg_fn=lambda *a: None
        ),
        AssertionError,
    ),
    (lambda T: T.optim.swa_utils.SWALR(T.optim.SGD(T.nn.Linear(1, 1).parameters(), lr=1), 0.1, -1), ValueError),
    (
        lambda T: T.optim.swa_utils.SWALR(T.optim.SGD(T.nn.Linear(1, 1).parameters(), lr=1), 0.1, anneal_strategy="x"),
        ValueError,
    ),
    (lambda T: T.optim.swa_utils.SWALR(T.optim.SGD(T.nn.Linear(1, 1).parameters(), lr=1), [0.1, 0.2]), ValueError),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_as_torch(case):
    call, error = ERRORS[case]
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error):
        call(ember)


def test_averaged_model_on_a_device(device):
    model = ember.nn.Linear(3, 2)
    averaged = ember.optim.swa_utils.AveragedModel(model, device=device)
    assert averaged.n_averaged.device == ember.device(device)
    averaged.update_parameters(model)
    with ember.no_grad():
        model.weight.add_(3.0)
    averaged.update_parameters(model)
    expected = model.weight.detach().numpy() - 1.5
    np.testing.assert_allclose(averaged.module.weight.detach().cpu().numpy(), expected, rtol=1e-6)
