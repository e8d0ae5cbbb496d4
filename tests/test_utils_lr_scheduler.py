"""CosineAnnealingWarmRestarts, CyclicLR, SequentialLR and ChainedScheduler against torch's:
the same learning rates (and momenta) over N steps, and state_dict round trips that resume the sequence."""

from __future__ import annotations

import pytest

import ember
from ember import nn, optim

torch = pytest.importorskip("torch")


def _optimizers(device, name="SGD", **options):
    pe = [nn.Parameter(ember.zeros(2, device=device)), nn.Parameter(ember.zeros(3, device=device))]
    pt = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    groups = lambda ps: [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.05}]  # noqa: E731
    return getattr(optim, name)(groups(pe), **options), getattr(torch.optim, name)(groups(pt), **options)


def _build(lib, opt, kind):
    sched = lib.optim.lr_scheduler
    if kind == "warm_restarts":
        return sched.CosineAnnealingWarmRestarts(opt, T_0=3, eta_min=0.001)
    if kind == "warm_restarts_mult":
        return sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    if kind == "cyclic":
        return sched.CyclicLR(opt, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=3, step_size_down=2)
    if kind == "cyclic2":
        return sched.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=2, mode="triangular2")
    if kind == "cyclic_exp":
        return sched.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=2, mode="exp_range", gamma=0.9)
    if kind == "cyclic_fn":
        return sched.CyclicLR(
            opt, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 0.5**x, scale_mode="iterations", cycle_momentum=False
        )
    if kind == "sequential":
        warm = sched.LinearLR(opt, start_factor=0.1, total_iters=3)
        decay = sched.StepLR(opt, step_size=2, gamma=0.5)
        cosine = sched.CosineAnnealingLR(opt, T_max=4)
        return sched.SequentialLR(opt, [warm, decay, cosine], milestones=[3, 7])
    if kind == "chained":
        return sched.ChainedScheduler([sched.ConstantLR(opt, factor=0.5, total_iters=3), sched.ExponentialLR(opt, 0.9)])
    raise AssertionError(kind)


KINDS = [
    "warm_restarts",
    "warm_restarts_mult",
    "cyclic",
    "cyclic2",
    "cyclic_exp",
    "cyclic_fn",
    "sequential",
    "chained",
]


def _trace(opt, sched, steps):
    rows = []
    for _ in range(steps):
        opt.step()
        sched.step()
        rows.extend(
            [float(x) for x in sched.get_last_lr()]
            + [g.get("momentum", g.get("betas", (0,))[0]) for g in opt.param_groups]
        )
    return rows


@pytest.mark.parametrize("kind", KINDS)
def test_learning_rates_match_torch(device, kind):
    opt_e, opt_t = _optimizers(device, momentum=0.9)
    sched_e, sched_t = _build(ember, opt_e, kind), _build(torch, opt_t, kind)
    assert sched_e.get_last_lr() == pytest.approx(sched_t.get_last_lr(), rel=1e-12)
    assert _trace(opt_e, sched_e, 15) == pytest.approx(_trace(opt_t, sched_t, 15), rel=1e-12, abs=1e-15)


def test_cyclic_cycles_adam_beta1():
    opt_e, opt_t = _optimizers("cpu", "Adam")
    sched_e = ember.optim.lr_scheduler.CyclicLR(opt_e, 0.001, 0.01, step_size_up=2)
    sched_t = torch.optim.lr_scheduler.CyclicLR(opt_t, 0.001, 0.01, step_size_up=2)
    assert _trace(opt_e, sched_e, 6) == pytest.approx(_trace(opt_t, sched_t, 6))
    assert opt_e.param_groups[0]["betas"] == pytest.approx(opt_t.param_groups[0]["betas"])


def test_warm_restarts_fractional_epochs():
    opt_e, opt_t = _optimizers("cpu")
    sched_e, sched_t = _build(ember, opt_e, "warm_restarts_mult"), _build(torch, opt_t, "warm_restarts_mult")
    for epoch in [0.5, 1.25, 2.0, 3.7, 6.0, 6.5, 15.0, 1.0]:
        sched_e.step(epoch)
        sched_t.step(epoch)
        assert sched_e.get_last_lr() == pytest.approx(sched_t.get_last_lr(), rel=1e-12)
        assert (sched_e.T_cur, sched_e.T_i, sched_e.last_epoch) == (sched_t.T_cur, sched_t.T_i, sched_t.last_epoch)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        sched_e.step(-1)


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_round_trip(kind):
    opt_e, opt_t = _optimizers("cpu", momentum=0.9)
    sched_e, sched_t = _build(ember, opt_e, kind), _build(torch, opt_t, kind)
    _trace(opt_e, sched_e, 5)
    _trace(opt_t, sched_t, 5)
    state = sched_e.state_dict()
    # the same entries as torch's (``_get_lr_called_within_step`` included: the flag of get_lr's warning)
    assert set(state) == set(sched_t.state_dict())
    opt_r, _ = _optimizers("cpu", momentum=0.9)
    restored = _build(ember, opt_r, kind)
    restored.load_state_dict(state)
    opt_r.load_state_dict(opt_e.state_dict())
    assert _trace(opt_r, restored, 8) == pytest.approx(_trace(opt_t, sched_t, 8), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0),
        lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
        lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
        lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, 0.1, 1.0, mode="bogus"),
        lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, [0.1], 1.0),
        lambda lib, o: lib.optim.lr_scheduler.SequentialLR(o, [], milestones=[]),
        lambda lib, o: lib.optim.lr_scheduler.SequentialLR(o, [lib.optim.lr_scheduler.StepLR(o, 2)], milestones=[1]),
        lambda lib, o: lib.optim.lr_scheduler.SequentialLR(o, [lib.optim.lr_scheduler.ReduceLROnPlateau(o)], []),
        lambda lib, o: lib.optim.lr_scheduler.ChainedScheduler([]),
    ],
)
def test_errors_match_torch(make):
    opt_e, opt_t = _optimizers("cpu", momentum=0.9)
    with pytest.raises(Exception) as expected:
        make(torch, opt_t)
    with pytest.raises(type(expected.value)) as got:
        make(ember, opt_e)
    assert str(got.value) == str(expected.value)


def test_cyclic_needs_momentum():
    opt_e, opt_t = _optimizers("cpu", "Adagrad")
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        torch.optim.lr_scheduler.CyclicLR(opt_t, 0.1, 1.0)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        ember.optim.lr_scheduler.CyclicLR(opt_e, 0.1, 1.0)


def test_members_must_share_the_optimizer():
    opt_a, _ = _optimizers("cpu")
    opt_b, _ = _optimizers("cpu")
    members = [ember.optim.lr_scheduler.StepLR(opt_a, 2), ember.optim.lr_scheduler.StepLR(opt_b, 2)]
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        ember.optim.lr_scheduler.ChainedScheduler(members)
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        ember.optim.lr_scheduler.SequentialLR(opt_a, members, milestones=[3])
