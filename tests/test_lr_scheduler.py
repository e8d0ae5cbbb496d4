"""Learning-rate schedulers: the same lr sequences as torch.optim.lr_scheduler."""

from __future__ import annotations

import warnings

import pytest

import ember
from ember import nn, optim
from ember.optim import lr_scheduler

torch = pytest.importorskip("torch")

SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 0.9, "total_iters": 6}),
    ("PolynomialLR", {"total_iters": 8, "power": 2.0}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1 / (1 + epoch)}),
    ("MultiplicativeLR", {"lr_lambda": lambda epoch: 0.95}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 15}),
    ("OneCycleLR", {"max_lr": [1.0, 0.5], "total_steps": 15, "anneal_strategy": "linear", "three_phase": True}),
]


def _optimizers(opt="SGD"):
    pe = [nn.Parameter(ember.zeros(2)), nn.Parameter(ember.zeros(3))]
    pt = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    kwargs = {"lr": 0.1, "momentum": 0.9} if opt == "SGD" else {"lr": 0.1}
    groups = lambda p: [{"params": [p[0]]}, {"params": [p[1]], "lr": 0.05}]  # noqa: E731
    return getattr(optim, opt)(groups(pe), **kwargs), getattr(torch.optim, opt)(groups(pt), **kwargs)


@pytest.mark.parametrize("name,kwargs", SCHEDULERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULERS)])
def test_lr_sequence_matches_torch(name, kwargs):
    opt_e, opt_t = _optimizers()
    se = getattr(lr_scheduler, name)(opt_e, **kwargs)
    st = getattr(torch.optim.lr_scheduler, name)(opt_t, **kwargs)
    assert se.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12)
    for _ in range(14):
        opt_e.step()
        opt_t.step()
        se.step()
        st.step()
        assert se.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12)
        assert [g["lr"] for g in opt_e.param_groups] == pytest.approx([g["lr"] for g in opt_t.param_groups])
        assert [g["momentum"] for g in opt_e.param_groups] == pytest.approx([g["momentum"] for g in opt_t.param_groups])


def test_one_cycle_cycles_adam_beta1():
    opt_e, opt_t = _optimizers("Adam")
    se = lr_scheduler.OneCycleLR(opt_e, max_lr=0.1, total_steps=10)
    st = torch.optim.lr_scheduler.OneCycleLR(opt_t, max_lr=0.1, total_steps=10)
    for _ in range(9):
        se.step()
        st.step()
        assert opt_e.param_groups[0]["betas"] == pytest.approx(opt_t.param_groups[0]["betas"])
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        se.step()
        se.step()


def test_chained_schedulers_match_torch():
    opt_e, opt_t = _optimizers()
    se = [lr_scheduler.ExponentialLR(opt_e, 0.9), lr_scheduler.StepLR(opt_e, 2, 0.5)]
    st = [torch.optim.lr_scheduler.ExponentialLR(opt_t, 0.9), torch.optim.lr_scheduler.StepLR(opt_t, 2, 0.5)]
    for _ in range(7):
        for s in se + st:
            s.step()
        assert [g["lr"] for g in opt_e.param_groups] == pytest.approx([g["lr"] for g in opt_t.param_groups])


@pytest.mark.parametrize("mode,threshold_mode", [("min", "rel"), ("max", "abs")])
def test_reduce_lr_on_plateau_matches_torch(mode, threshold_mode):
    opt_e, opt_t = _optimizers()
    kwargs = {
        "mode": mode,
        "factor": 0.5,
        "patience": 2,
        "cooldown": 1,
        "threshold_mode": threshold_mode,
        "min_lr": 0.01,
    }
    se = lr_scheduler.ReduceLROnPlateau(opt_e, **kwargs)
    st = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_t, **kwargs)
    for metric in [5, 4, 4, 4, 4, 3.9999, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2]:
        se.step(metric)
        st.step(metric)
        assert se.get_last_lr() == pytest.approx(st.get_last_lr())
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt_e, factor=1.0)


def test_state_dict_round_trip():
    opt_e, _ = _optimizers()
    sched = lr_scheduler.CosineAnnealingLR(opt_e, T_max=10)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    opt2, _ = _optimizers()
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(state)
    for group, lr in zip(opt2.param_groups, sched.get_last_lr()):
        group["lr"] = lr
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr())


def test_lambda_state_dict_keeps_callable_objects():
    class Factor:
        def __init__(self):
            self.k = 0.5

        def __call__(self, epoch):
            return self.k**epoch

    opt_e, _ = _optimizers()
    sched = lr_scheduler.LambdaLR(opt_e, [Factor(), lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"k": 0.5}, None]
    state["lr_lambdas"][0]["k"] = 0.25
    sched.load_state_dict(state)
    assert sched.lr_lambdas[0].k == 0.25


def test_errors():
    opt_e, _ = _optimizers()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), 2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt_e, 2, last_epoch=3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(opt_e, [lambda e: 1.0])
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(opt_e, max_lr=0.1)


def _warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message).split(".")[0] for w in caught]


@pytest.mark.parametrize("optimizer_first", [True, False])
@pytest.mark.parametrize(
    "name,kwargs", [("StepLR", {"step_size": 2}), ("OneCycleLR", {"max_lr": 1.0, "total_steps": 9})]
)
def test_step_order_and_get_lr_warnings_match_torch(optimizer_first, name, kwargs):
    """PyTorch warns when the first ``scheduler.step()`` comes before any ``optimizer.step()`` and when
    ``get_lr()`` is called outside a step (ember once stayed silent)."""
    caught = []
    for lib, opt in zip((optim, torch.optim), _optimizers()):
        sched = getattr(lib.lr_scheduler, name)(opt, **kwargs)

        def steps(opt=opt, sched=sched):
            if optimizer_first:
                opt.step()
            sched.step()
            opt.step()
            sched.step()
            sched.get_lr()

        caught.append(_warnings(steps))
    assert caught[0] == caught[1]
    assert any(m.startswith("To get the last learning rate") for m in caught[0])
    assert any(m.startswith("Detected call of `lr_scheduler") for m in caught[0]) != optimizer_first


def test_state_dict_keys_match_torch():
    keys = []
    for lib, opt in zip((optim, torch.optim), _optimizers()):
        sched = lib.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
        opt.step()
        sched.step()
        keys.append(sorted(sched.state_dict()))
    assert keys[0] == keys[1]
