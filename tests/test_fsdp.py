"""ember.distributed.fsdp (FullyShardedDataParallel) against torch.distributed.fsdp.

Two and three ranks: ``tests/distributed/fsdp_against_torch.py`` runs under ``mpiexec -n 2`` and ``-n 3``; every rank builds the
same model in both libraries, wraps it in each library's FSDP (torch's over gloo on the CPU) and compares
the shards, the training (FULL_SHARD, SHARD_GRAD_OP, NO_SHARD, flat and original parameters, auto-wrap
policies, mixed precision, gradient clipping, no_sync), the full state dicts, summon_full_params and the
errors. Every check it prints is one test here.

In this process: the names, the wrap policies, the configuration types, the error without a process
group, and a world of one on every test device against torch's FSDP in a gloo world of one.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest
from test_distributed_collectives2 import _One, rank_tests

import ember
import ember.distributed as dist
import ember.distributed.fsdp as efsdp
import ember.distributed.fsdp.wrap as ewrap
from ember.distributed import CommunicatorRegistry

torch = pytest.importorskip("torch")
tdist = pytest.importorskip("torch.distributed")
tfsdp = pytest.importorskip("torch.distributed.fsdp")
twrap = pytest.importorskip("torch.distributed.fsdp.wrap")

globals().update(rank_tests("fsdp_against_torch.py"))


# -- in this process ---------------------------------------------------------------------------------
def test_names_match_torch():
    for name in efsdp.__all__:
        assert hasattr(tfsdp, name), name
    for name in ("FullyShardedDataParallel", "ShardingStrategy", "MixedPrecision", "CPUOffload", "StateDictType"):
        assert name in efsdp.__all__
    for enum in ("ShardingStrategy", "StateDictType", "BackwardPrefetch"):
        assert [m.name for m in getattr(efsdp, enum)] == [m.name for m in getattr(tfsdp, enum)], enum
    for cls in (
        "MixedPrecision",
        "CPUOffload",
        "FullStateDictConfig",
        "ShardedStateDictConfig",
        "FullOptimStateDictConfig",
    ):
        ours = [(f.name, f.default) for f in dataclasses.fields(getattr(efsdp, cls)) if not f.name.startswith("_")]
        theirs = [(f.name, f.default) for f in dataclasses.fields(getattr(tfsdp, cls)) if not f.name.startswith("_")]
        assert ours == theirs, cls
    for name in ewrap.__all__:
        assert hasattr(twrap, name), name
    assert efsdp.FullStateDictConfig(offload_to_cpu=True, rank0_only=True) == efsdp.FullStateDictConfig(True, True)


def _block(T):
    class Block(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.ff = T.nn.Linear(4, 4)

    return Block


@pytest.mark.parametrize("numel", [0, 19, 20, 10**8])
def test_wrap_policies_match_torch(numel):
    eblock, tblock = _block(ember), _block(torch)
    modules = [
        (ember.nn.Linear(3, 4), torch.nn.Linear(3, 4)),
        (ember.nn.ModuleList([ember.nn.ReLU()]), torch.nn.ModuleList([torch.nn.ReLU()])),
        (ember.nn.MultiheadAttention(4, 2), torch.nn.MultiheadAttention(4, 2)),
        (eblock(), tblock()),
        (ember.nn.ReLU(), torch.nn.ReLU()),
    ]
    policies = [
        (ewrap.always_wrap_policy, twrap.always_wrap_policy),
        (ewrap.ModuleWrapPolicy({ember.nn.Linear}), twrap.ModuleWrapPolicy({torch.nn.Linear})),
        (
            functools.partial(ewrap.transformer_auto_wrap_policy, transformer_layer_cls={eblock}),
            functools.partial(twrap.transformer_auto_wrap_policy, transformer_layer_cls={tblock}),
        ),
        (
            functools.partial(ewrap.size_based_auto_wrap_policy, min_num_params=20),
            functools.partial(twrap.size_based_auto_wrap_policy, min_num_params=20),
        ),
        (ewrap.size_based_auto_wrap_policy, twrap.size_based_auto_wrap_policy),
        (
            functools.partial(ewrap.lambda_auto_wrap_policy, lambda_fn=lambda m: "Linear" in type(m).__name__),
            functools.partial(twrap.lambda_auto_wrap_policy, lambda_fn=lambda m: "Linear" in type(m).__name__),
        ),
    ]
    for ep, tp in policies:
        for em, tm in modules:
            for recurse in (True, False):
                ours = ep(module=em, recurse=recurse, nonwrapped_numel=numel)
                theirs = tp(module=tm, recurse=recurse, nonwrapped_numel=numel)
                assert ours == theirs, (ep, type(em).__name__, recurse)


def test_not_initialized_is_torchs_error():
    with pytest.raises(ValueError) as theirs:
        tfsdp.FullyShardedDataParallel(torch.nn.Linear(2, 2), device_id=torch.device("cpu"))
    with pytest.raises(ValueError) as ours:
        efsdp.FullyShardedDataParallel(ember.nn.Linear(2, 2))
    assert str(ours.value) == str(theirs.value)
    assert "Default process group has not been initialized" in str(ours.value)


@pytest.fixture
def worlds_of_one(monkeypatch, tmp_path):
    """An ember world of one and a torch gloo world of one, in this process."""
    from ember import plugin

    registry = CommunicatorRegistry()
    registry.register_communicator("one", _One)
    monkeypatch.setattr(plugin, "communicator_registry", lambda: registry)
    dist.init_process_group("one")
    tdist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    yield
    tdist.destroy_process_group()
    dist.destroy_process_group()


def _pair(device, use_orig_params=False, wrap=False, **kwargs):
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    model = ember.nn.Sequential(ember.nn.Linear(5, 7), ember.nn.Tanh(), ember.nn.Linear(7, 3))
    model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    model.to(device)
    ours = efsdp.FullyShardedDataParallel(
        model,
        use_orig_params=use_orig_params,
        auto_wrap_policy=ewrap.ModuleWrapPolicy({ember.nn.Linear}) if wrap else None,
        device_id=ember.device(device),
        **kwargs,
    )
    theirs = tfsdp.FullyShardedDataParallel(
        reference,
        use_orig_params=use_orig_params,
        auto_wrap_policy=twrap.ModuleWrapPolicy({torch.nn.Linear}) if wrap else None,
        device_id=torch.device("cpu"),
        **kwargs,
    )
    return ours, theirs


def _close(a, b, tol=1e-5):
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("use_orig_params", [False, True])
@pytest.mark.parametrize("wrap", [False, True])
def test_world_of_one_against_torch(worlds_of_one, device, use_orig_params, wrap):
    ours, theirs = _pair(device, use_orig_params, wrap)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    assert repr(ours).replace("ember.", "") == repr(theirs).replace("torch.", "")
    opts = [ember.optim.Adam(ours.parameters(), lr=0.01), torch.optim.Adam(theirs.parameters(), lr=0.01)]
    rng = np.random.RandomState(0)
    for _ in range(3):
        x = rng.randn(4, 5).astype(np.float32)
        for T, m, opt, dev in ((ember, ours, opts[0], device), (torch, theirs, opts[1], "cpu")):
            opt.zero_grad()
            m(T.tensor(x, device=dev)).pow(2).mean().backward()
            norm = m.clip_grad_norm_(0.1)
            opt.step()
            if T is ember:
                ours_norm = norm
        _close(ours_norm, norm)
    for (_, p), q in zip(ours.named_parameters(), theirs.parameters()):
        _close(p, q)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for key in ours_sd:
        _close(ours_sd[key], theirs_sd[key])
        assert str(ours_sd[key].device) == device
    with (
        efsdp.FullyShardedDataParallel.summon_full_params(ours),
        tfsdp.FullyShardedDataParallel.summon_full_params(theirs),
    ):
        names = [n for n, _ in ours.named_parameters()]
        assert names == [n for n, _ in theirs.named_parameters()] == list(ours_sd)
        ours.module[0].weight.data.zero_()
        assert isinstance(ours.module[0].weight, ember.nn.Parameter)
    assert float(ours.state_dict()["0.weight"].abs().sum()) == 0.0
    ours.load_state_dict(ours_sd)
    _close(ours.state_dict()["0.weight"], theirs_sd["0.weight"])
    # outside forward the modules still answer their parameters' shapes (Linear's repr reads .bias)
    assert tuple(ours.module[0].weight.shape) == (7, 5)


def test_world_of_one_options(worlds_of_one):
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    for strategy in (efsdp.ShardingStrategy.HYBRID_SHARD, efsdp.ShardingStrategy._HYBRID_SHARD_ZERO2):
        with pytest.raises(NotImplementedError, match=strategy.name):
            efsdp.FullyShardedDataParallel(model, sharding_strategy=strategy)
    fsdp = efsdp.FullyShardedDataParallel(
        model,
        cpu_offload=efsdp.CPUOffload(offload_params=True),
        backward_prefetch=efsdp.BackwardPrefetch.BACKWARD_POST,
        forward_prefetch=True,
        limit_all_gathers=False,
        sync_module_states=True,
        mixed_precision=efsdp.MixedPrecision(param_dtype=ember.float64, buffer_dtype=ember.float64),
    )
    assert fsdp.check_is_root()
    out = fsdp(ember.randn(6, 3))
    assert out.dtype == ember.float64  # the root's inputs are cast to param_dtype
    out.sum().backward()
    assert [p.grad.dtype for p in fsdp.parameters()] == [ember.float32]
    state = fsdp.state_dict()
    assert state["1.running_mean"].dtype == ember.float32  # buffers back in their own dtype
    assert list(state) == list(ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4)).state_dict())
    with pytest.raises(NotImplementedError, match="writeback=True and rank0_only=True"):
        with efsdp.FullyShardedDataParallel.summon_full_params(fsdp, rank0_only=True):
            pass
    with efsdp.FullyShardedDataParallel.state_dict_type(fsdp, efsdp.StateDictType.SHARDED_STATE_DICT):
        with pytest.raises(NotImplementedError, match="SHARDED_STATE_DICT"):
            fsdp.state_dict()
    assert (
        efsdp.FullyShardedDataParallel.get_state_dict_type(fsdp).state_dict_type is efsdp.StateDictType.FULL_STATE_DICT
    )
    with pytest.raises(RuntimeError, match="Expected state_dict_config of type"):
        efsdp.FullyShardedDataParallel.set_state_dict_type(
            fsdp, efsdp.StateDictType.FULL_STATE_DICT, efsdp.ShardedStateDictConfig()
        )
    assert math.isfinite(float(fsdp.clip_grad_norm_(1.0)))
    assert fsdp.module is fsdp._fsdp_wrapped_module and fsdp[0] is model[0]


@pytest.mark.parametrize("module", ["ember.distributed.fsdp.api", "ember.distributed.fsdp.wrap"])
def test_docstring_examples_run(module):
    """docs/test_doctests.py skips ember.distributed (several processes); these two modules' examples run in one."""
    import doctest
    import importlib

    mod = importlib.import_module(module)
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [t for t in finder.find(mod, globs={"ember": ember, "nn": ember.nn}) if t.examples]
    assert tests
    for test in tests:
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} of {runner.tries} examples failed"


@pytest.mark.filterwarnings("ignore")
def test_mixed_precision_leaves_batch_norm_in_float32(worlds_of_one):
    """With an auto_wrap_policy, batch norm gets a unit of its own without mixed precision: float32
    parameters and inputs, its output cast back to the inputs' dtype (as PyTorch's FSDP)."""
    torch.manual_seed(0)
    reference = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    )
    model = ember.nn.Sequential(ember.nn.Linear(6, 8), ember.nn.BatchNorm1d(8), ember.nn.Tanh(), ember.nn.Linear(8, 3))
    model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    ours = efsdp.FullyShardedDataParallel(
        model,
        auto_wrap_policy=ewrap.ModuleWrapPolicy({ember.nn.Linear}),
        mixed_precision=efsdp.MixedPrecision(param_dtype=ember.bfloat16),
    )
    theirs = tfsdp.FullyShardedDataParallel(
        reference,
        auto_wrap_policy=twrap.ModuleWrapPolicy({torch.nn.Linear}),
        mixed_precision=tfsdp.MixedPrecision(param_dtype=torch.bfloat16),
        device_id=torch.device("cpu"),
    )
    assert repr(ours).replace("ember.", "") == repr(theirs).replace("torch.", "")
    assert ours.module[1].mixed_precision.param_dtype is None
    x = np.random.RandomState(0).randn(5, 6).astype(np.float32)
    seen = []
    ours.module[1].module.register_forward_hook(lambda m, args, out: seen.append((args[0].dtype, m.weight.dtype)))
    out_e, out_t = ours(ember.tensor(x)), theirs(torch.tensor(x))
    assert seen == [(ember.float32, ember.float32)]
    assert out_e.dtype == ember.bfloat16 and out_t.dtype == torch.bfloat16
    np.testing.assert_allclose(out_e.float().detach().numpy(), out_t.float().detach().numpy(), rtol=2e-2, atol=2e-2)
    out_e.float().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == ember.float32 for p in ours.parameters())


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("use_orig_params", [False, True])
def test_world_of_one_dtype_conversion_after_wrapping(worlds_of_one, use_orig_params):
    """``model.double()`` after wrapping converts the shards in place; forward, gradients and the
    state dict follow, as in torch's FSDP."""
    ours, theirs = _pair("cpu", use_orig_params)
    ours.double()
    theirs.double()
    x = np.random.RandomState(1).randn(4, 5)
    out_e, out_t = ours(ember.tensor(x)), theirs(torch.tensor(x))
    assert out_e.dtype == ember.float64 and out_t.dtype == torch.float64
    _close(out_e, out_t, 1e-12)
    out_e.sum().backward()
    out_t.sum().backward()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert p.grad.dtype == ember.float64
        _close(p.grad, q.grad, 1e-12)
    assert all(v.dtype == ember.float64 for v in ours.state_dict().values())
