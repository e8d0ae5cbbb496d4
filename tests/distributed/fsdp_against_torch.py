"""FullyShardedDataParallel against torch.distributed.fsdp (gloo, CPU): the same model, weights, data
shards and optimizer in both libraries, under ``mpiexec -n 2`` with ``EMBER_TEST_TORCH_PORT`` set (see
``tests/test_fsdp.py``). Each check prints ``ok``/``FAIL`` like the other scripts of this folder."""

from __future__ import annotations

import copy
import functools
import math
import warnings

import numpy as np
from common import run_against_torch
from point_to_point_and_groups import Raised, attempt, same

import ember
import ember.distributed as edist
import ember.distributed.fsdp as efsdp
import ember.distributed.fsdp.wrap as ewrap

try:
    import torch
    import torch.distributed as tdist
    import torch.distributed.fsdp as tfsdp
    import torch.distributed.fsdp.wrap as twrap
except ImportError:  # the test file skips without torch
    torch = tdist = tfsdp = twrap = None

warnings.filterwarnings("ignore")  # torch's FSDP warns about deprecated spellings on every call
STEPS = 3
LIBS = ((ember, efsdp, ewrap), (torch, tfsdp, twrap)) if torch is not None else ()


def _block_class(T):
    class Block(T.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.norm = T.nn.LayerNorm(n)
            self.ff = T.nn.Linear(n, n)

        def forward(self, x):
            return x + T.tanh(self.ff(self.norm(x)))

    return Block


BLOCKS = {}


def build(T, kind):
    if kind == "mlp":
        return T.nn.Sequential(T.nn.Linear(6, 16), T.nn.Tanh(), T.nn.Linear(16, 3))
    if kind == "nested":
        return T.nn.Sequential(
            T.nn.Linear(6, 7), T.nn.Tanh(), T.nn.Sequential(T.nn.Linear(7, 5), T.nn.ReLU(), T.nn.Linear(5, 3))
        )
    if kind == "blocks":
        block = BLOCKS.setdefault(T.__name__, _block_class(T))
        return T.nn.Sequential(T.nn.Linear(6, 8), block(8), block(8), T.nn.Linear(8, 3))
    if kind == "transformer":
        layer = functools.partial(T.nn.TransformerEncoderLayer, 6, 2, dim_feedforward=12, dropout=0.0, batch_first=True)
        return T.nn.Sequential(T.nn.Linear(6, 6), layer(), layer(), T.nn.Flatten(), T.nn.Linear(12, 3))
    if kind == "batchnorm":
        return T.nn.Sequential(T.nn.Linear(6, 8), T.nn.BatchNorm1d(8), T.nn.Tanh(), T.nn.Linear(8, 3))
    raise ValueError(kind)


def models(kind="mlp", seed=0):
    torch.manual_seed(seed)
    reference = build(torch, kind)
    model = build(ember, kind)
    model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    return model, reference


def policy(lib, name):
    T, _, wrap = lib
    if name is None:
        return None
    if name == "module":
        return wrap.ModuleWrapPolicy({T.nn.Linear})
    if name == "size":
        return functools.partial(wrap.size_based_auto_wrap_policy, min_num_params=20)
    if name == "transformer":
        return functools.partial(wrap.transformer_auto_wrap_policy, transformer_layer_cls={BLOCKS[T.__name__]})
    if name == "encoder_layer":
        return functools.partial(
            wrap.transformer_auto_wrap_policy, transformer_layer_cls={T.nn.TransformerEncoderLayer}
        )
    if name == "always":
        return wrap.always_wrap_policy
    raise ValueError(name)


def wrapped(kind="mlp", wrap_policy=None, seed=0, **options):
    """Both libraries' FSDP over the same model: ``(ember's, torch's)``."""
    model, reference = models(kind, seed)
    built = []
    for lib, m in zip(LIBS, (model, reference)):
        T, F, _ = lib
        kwargs = dict(options)
        for key in ("sharding_strategy", "backward_prefetch"):
            if key in kwargs:
                kwargs[key] = getattr(F, type(kwargs[key]).__name__)[kwargs[key].name]
        if "mixed_precision" in kwargs:
            mp = kwargs["mixed_precision"]
            kwargs["mixed_precision"] = F.MixedPrecision(
                **{k: None if v is None else getattr(T, v) for k, v in mp.items()}
            )
        if T is torch:
            kwargs["device_id"] = torch.device("cpu")
        built.append(F.FullyShardedDataParallel(m, auto_wrap_policy=policy(lib, wrap_policy), **kwargs))
    return built


def batch(step, n_in=6, n_out=3, kind=None):
    rank = edist.get_rank()
    shape = (4, 2, n_in) if kind == "transformer" else (4, n_in)
    x = np.random.RandomState(100 * step + rank).randn(*shape).astype(np.float32)
    return x, np.random.RandomState(7 + step).randn(4, n_out).astype(np.float32)


def train(pair, optimizer="Adam", steps=STEPS, clip=None, no_sync_steps=0, kind=None, **opt_kwargs):
    """``steps`` optimizer steps on both; returns each step's clip norms ``[(ember's, torch's)]``."""
    opt_kwargs = opt_kwargs or {"lr": 0.01}
    optimizers = [getattr(T.optim, optimizer)(m.parameters(), **opt_kwargs) for (T, _, _), m in zip(LIBS, pair)]
    norms = []
    for step in range(steps):
        row = []
        for (T, _, _), m, opt in zip(LIBS, pair, optimizers):
            opt.zero_grad()
            for micro in range(no_sync_steps):
                x, y = batch(50 + 10 * step + micro)
                with m.no_sync():
                    T.nn.functional.mse_loss(m(T.tensor(x)).float(), T.tensor(y)).backward()
            x, y = batch(step, kind=kind)
            T.nn.functional.mse_loss(m(T.tensor(x)).float(), T.tensor(y)).backward()
            if clip is not None:
                row.append(m.clip_grad_norm_(*clip))
            opt.step()
        norms.append(row)
    return norms


def same_names(pair):
    ours = [(n, tuple(p.shape), str(p.dtype).split(".")[-1]) for n, p in pair[0].named_parameters()]
    theirs = [(n, tuple(p.shape), str(p.dtype).split(".")[-1]) for n, p in pair[1].named_parameters()]
    assert ours == theirs, f"parameters: ember {ours}, torch {theirs}"


def same_local(pair, tol=1e-6):
    """This rank's shards (the optimizer's parameters) alike, by name, shape and value."""
    same_names(pair)
    for (name, p), q in zip(pair[0].named_parameters(), pair[1].parameters()):
        same(p.detach(), q.detach(), f"parameter {name}", tol)


def same_full(pair, tol=1e-6):
    """The full state dicts alike: keys in order, dtypes, shapes, values."""
    ours, theirs = pair[0].state_dict(), pair[1].state_dict()
    assert list(ours) == list(theirs), f"keys: ember {list(ours)}, torch {list(theirs)}"
    for key in ours:
        same(ours[key], theirs[key], f"state_dict[{key!r}]", tol)


def trains_alike(kind="mlp", wrap_policy=None, optimizer="Adam", tol=1e-6, opt_kwargs=None, **options):
    def check():
        pair = wrapped(kind, wrap_policy, **options)
        assert str(pair[0]).replace("ember.", "") == str(pair[1]).replace("torch.", ""), (str(pair[0]), str(pair[1]))
        same_local(pair)
        train(pair, optimizer, kind=kind, **(opt_kwargs or {}))
        same_local(pair, tol)
        same_full(pair, tol)

    return check


def check_mixed_precision(param, reduce, buffer=None, kind="mlp", tol=2e-2):
    """torch's FSDP skips the reduce-scatter with a param_dtype on CPU (its SGD then fails on an unsharded
    gradient), so the reference is what FSDP's mixed precision computes, written out with plain torch: a
    ``param_dtype`` copy of the float32 model runs forward and backward, its gradients are cast to
    ``reduce_dtype``, divided by the world size and summed over the ranks, and the float32 model steps."""

    def check():
        model, master = models(kind)
        mp = efsdp.MixedPrecision(
            param_dtype=getattr(ember, param),
            reduce_dtype=None if reduce is None else getattr(ember, reduce),
            buffer_dtype=None if buffer is None else getattr(ember, buffer),
        )
        ours = efsdp.FullyShardedDataParallel(model, mixed_precision=mp)
        pd, rd = getattr(torch, param), getattr(torch, reduce or param)
        opt_e = ember.optim.SGD(ours.parameters(), lr=0.1)
        opt_t = torch.optim.SGD(master.parameters(), lr=0.1)
        for step in range(STEPS):
            x, y = batch(step)
            opt_e.zero_grad()
            out_e = ours(ember.tensor(x))
            ember.nn.functional.mse_loss(out_e.float(), ember.tensor(y)).backward()
            opt_e.step()
            low = copy.deepcopy(master)
            for p in low.parameters():
                p.data = p.data.to(pd)
            if buffer is not None:
                for b in low.buffers():
                    if b.is_floating_point():
                        b.data = b.data.to(getattr(torch, buffer))
            out_t = low(torch.tensor(x).to(pd))
            torch.nn.functional.mse_loss(out_t.float(), torch.tensor(y)).backward()
            world = tdist.get_world_size()
            pre = 1
            while world % pre == 0 and world / pre > pre:
                pre *= 2
            for p, q in zip(master.parameters(), low.parameters()):
                g = q.grad.to(rd) / pre  # FSDP divides by this before the sum, by the rest after it
                tdist.all_reduce(g)
                if world / pre > 1:
                    g = g / (world / pre)
                p.grad = g.to(p.dtype)
            opt_t.step()
            for b, c in zip(master.buffers(), low.buffers()):
                b.data = c.data.to(b.dtype)
            same(out_e.detach(), out_t.detach(), f"step {step}'s output in {param}", tol)
            assert str(ours.module[0].weight.dtype) == f"ember.{param}" or ours.module[0].weight.device.type == "meta"
        same_full((ours, master), tol)
        grads = [p.grad for p in ours.parameters()]
        assert all(str(g.dtype) == "ember.float32" for g in grads), [g.dtype for g in grads]

    return check


def check_clip(norm_type, max_norm=0.05, **options):
    def check():
        pair = wrapped(**options)
        norms = train(pair, "SGD", clip=(max_norm, norm_type), lr=0.5)
        for step, (ours, theirs) in enumerate(norms):
            same(ours, theirs, f"total norm of step {step}", 1e-5)
        same_full(pair, 1e-5)

    return check


def check_no_sync():
    pair = wrapped()
    train(pair, "SGD", no_sync_steps=2, lr=0.1)
    same_full(pair)


def check_state_dict_config():
    pair = wrapped("nested", "module")
    train(pair, "SGD", lr=0.1)
    results = []
    for (_, F, _), m in zip(LIBS, pair):
        # torch's offload_to_cpu=True fails on CPU tensors in 2.13 ("setStorage ... out of bounds")
        config = F.FullStateDictConfig(offload_to_cpu=F is efsdp, rank0_only=True)
        with F.FullyShardedDataParallel.state_dict_type(m, F.StateDictType.FULL_STATE_DICT, config):
            results.append(m.state_dict())
    assert list(results[0]) == list(results[1]), (list(results[0]), list(results[1]))
    if edist.get_rank() == 0:
        assert list(results[0]) == ["0.weight", "0.bias", "2.0.weight", "2.0.bias", "2.2.weight", "2.2.bias"]
    else:
        assert len(results[0]) == 0
    for key in results[0]:
        same(results[0][key], results[1][key], f"state_dict[{key!r}]", 1e-6)
    # the default state dict type is back after the context
    same_full(pair)


def check_buffers_in_state_dict():
    pair = wrapped("batchnorm", "module")
    train(pair, "SGD", lr=0.1)
    same_full(pair)


def check_load_state_dict():
    pair = wrapped("nested", "size")
    other, reference = models("nested", seed=1)
    full = reference.state_dict()
    for (T, _, _), m in zip(LIBS, pair):
        state = full if T is torch else {k: ember.tensor(v.numpy()) for k, v in full.items()}
        result = m.load_state_dict(state)
        assert list(result.missing_keys) == [] and list(result.unexpected_keys) == [], result
    same_full(pair)
    same_local(pair)
    train(pair, "Adam", lr=0.01)
    same_full(pair)
    # a missing and an unexpected key: the same error, named by the original keys
    outcomes = []
    for m in pair:
        state = dict(m.state_dict())
        del state["0.bias"]
        state["extra"] = state["0.weight"]
        outcomes.append(attempt(lambda m=m, state=state: m.load_state_dict(state)))
    assert isinstance(outcomes[0], Raised) and isinstance(outcomes[1], Raised), outcomes
    assert outcomes[0].type == outcomes[1].type == "RuntimeError", outcomes
    for fragment in ('Missing key(s) in state_dict: "0.bias"', 'Unexpected key(s) in state_dict: "extra"'):
        assert fragment in outcomes[0].text and fragment in outcomes[1].text, (outcomes, fragment)


def check_summon_full_params():
    for use_orig_params in (False, True):
        pair = wrapped("nested", "module", use_orig_params=use_orig_params)
        train(pair, "SGD", lr=0.1)
        inside = []
        for (_, F, _), m in zip(LIBS, pair):
            with F.FullyShardedDataParallel.summon_full_params(m):
                inside.append([(n, p.detach().clone()) for n, p in m.named_parameters()])
                for p in m.parameters():
                    p.data.mul_(2.0)  # written back to the shards on leaving
        assert [n for n, _ in inside[0]] == [n for n, _ in inside[1]], (inside[0], inside[1])
        for (name, a), (_, b) in zip(*inside):
            same(a, b, f"summoned {name}", 1e-6)
        same_local(pair, 1e-6)
        same_full(pair, 1e-6)


def check_summon_with_grads():
    pair = wrapped("nested", "size", use_orig_params=True)
    x, y = batch(0)
    for (T, _, _), m in zip(LIBS, pair):
        T.nn.functional.mse_loss(m(T.tensor(x)), T.tensor(y)).backward()
    inside = []
    for (_, F, _), m in zip(LIBS, pair):
        with F.FullyShardedDataParallel.summon_full_params(m, with_grads=True):
            inside.append([(n, p.grad.clone()) for n, p in m.named_parameters()])
    assert [n for n, _ in inside[0]] == [n for n, _ in inside[1]]
    for (name, a), (_, b) in zip(*inside):
        same(a, b, f"summoned gradient of {name}", 1e-6)
    flat = wrapped("nested", "size")
    outcomes = [
        attempt(lambda F=F, m=m: F.FullyShardedDataParallel.summon_full_params(m, with_grads=True).__enter__())
        for (_, F, _), m in zip(LIBS, flat)
    ]
    same(outcomes[0], outcomes[1], "with_grads=True without use_orig_params")
    assert outcomes[0].text == outcomes[1].text, outcomes


def check_apply_init():
    """model.apply(init) after wrapping sets the whole parameters (each unit gathered around it)."""
    pair = wrapped("nested", "module")

    def init(T):
        def fn(m):
            if isinstance(m, T.nn.Linear):
                with T.no_grad():
                    m.weight.copy_(T.arange(m.weight.numel(), dtype=T.float32).reshape(m.weight.shape) / 10)
                    m.bias.fill_(0.5)

        return fn

    for (T, _, _), m in zip(LIBS, pair):
        assert m.apply(init(T)) is m
    same_full(pair, 0.0)
    assert float(pair[0].state_dict()["2.2.bias"][0]) == 0.5
    same_local(pair, 0.0)


def check_sync_module_states():
    """torch's FSDP refuses CPU modules with sync_module_states=True (it broadcasts on the GPU); ember's
    takes rank 0's states and then trains as torch's FSDP built from rank 0's model."""
    model = models("nested", seed=edist.get_rank())[0]
    ours = efsdp.FullyShardedDataParallel(model, auto_wrap_policy=policy(LIBS[0], "module"), sync_module_states=True)
    theirs = wrapped("nested", "module", seed=0)[1]
    pair = (ours, theirs)
    same_full(pair, 0.0)
    train(pair, "SGD", lr=0.1)
    same_full(pair)


def check_all_reduce_of_computed_scalar():
    """A 0-d tensor an op gave (held as a NumPy scalar by the numpy backend) all-reduces in place."""
    ours = ember.linalg.vector_norm(ember.ones(3) * (edist.get_rank() + 1)) ** 2.0
    theirs = torch.linalg.vector_norm(torch.ones(3) * (edist.get_rank() + 1)) ** 2.0
    edist.all_reduce(ours)
    tdist.all_reduce(theirs)
    same(ours, theirs, "all_reduce of a computed 0-d tensor")


def check_optim_state_dict(use_orig_params):
    def check():
        pair = wrapped("nested", "module", use_orig_params=use_orig_params)
        optimizers = []
        for (T, _, _), m in zip(LIBS, pair):
            params = list(m.parameters())
            optimizers.append(T.optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}], lr=0.01))
        for step in range(STEPS):
            x, y = batch(step)
            for (T, _, _), m, opt in zip(LIBS, pair, optimizers):
                opt.zero_grad()
                T.nn.functional.mse_loss(m(T.tensor(x)), T.tensor(y)).backward()
                opt.step()
        full = []
        for (_, F, _), m, opt in zip(LIBS, pair, optimizers):
            FSDP = F.FullyShardedDataParallel
            config = F.FullOptimStateDictConfig(offload_to_cpu=F is efsdp)  # torch's offload fails on CPU
            with FSDP.state_dict_type(m, F.StateDictType.FULL_STATE_DICT, F.FullStateDictConfig(), config):
                full.append(FSDP.optim_state_dict(m, opt))
        ours, theirs = full
        assert ours["param_groups"] == theirs["param_groups"], (ours["param_groups"], theirs["param_groups"])
        assert sorted(ours["state"]) == sorted(theirs["state"]), (sorted(ours["state"]), sorted(theirs["state"]))
        for name in theirs["state"]:
            assert sorted(ours["state"][name]) == sorted(theirs["state"][name]), name
            for key in theirs["state"][name]:
                same(ours["state"][name][key], theirs["state"][name][key], f"state[{name!r}][{key!r}]", 1e-6)
        # a fresh model and optimizer on every rank take the saved model and optimizer state and train alike
        model_states = [m.state_dict() for m in pair]
        fresh = wrapped("nested", "module", seed=5, use_orig_params=use_orig_params)
        fresh_opts = []
        for (T, F, _), m, state, osd in zip(LIBS, fresh, model_states, full):
            m.load_state_dict(state)
            params = list(m.parameters())
            opt = T.optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}], lr=0.01)
            opt.load_state_dict(F.FullyShardedDataParallel.optim_state_dict_to_load(m, opt, osd))
            fresh_opts.append(opt)
        for step in range(2):
            x, y = batch(10 + step)
            for (T, _, _), m, opt in zip(LIBS, fresh, fresh_opts):
                opt.zero_grad()
                T.nn.functional.mse_loss(m(T.tensor(x)), T.tensor(y)).backward()
                opt.step()
        same_local(fresh, 1e-6)
        same_full(fresh, 1e-6)

    return check


def check_sharded_grad_scaler():
    """An inf in rank 1's shard only: every rank skips that step and backs the scale off."""
    from torch.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler as TorchScaler

    from ember.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler as EmberScaler

    pair = wrapped()
    optimizers = [T.optim.SGD(m.parameters(), lr=0.1) for (T, _, _), m in zip(LIBS, pair)]
    scalers = [
        EmberScaler("cpu", init_scale=256.0, growth_interval=2),
        TorchScaler("cpu", init_scale=256.0, growth_interval=2),
    ]
    for step in range(4):
        x, y = batch(step)
        for (T, _, _), m, opt, scaler in zip(LIBS, pair, optimizers, scalers):
            opt.zero_grad()
            scaler.scale(T.nn.functional.mse_loss(m(T.tensor(x)), T.tensor(y))).backward()
            if step == 1 and edist.get_rank() == 1:
                for p in m.parameters():
                    p.grad.data[0] = float("inf")
            scaler.step(opt)
            scaler.update()
        assert scalers[0].get_scale() == scalers[1].get_scale(), (step, scalers[0].get_scale(), scalers[1].get_scale())
        same_local(pair, 1e-6)
    assert scalers[0].get_scale() == 256.0, scalers[0].get_scale()  # halved at step 1, doubled after 2 clean ones


def check_full_optim_state_dict():
    """The older API: full_optim_state_dict (rank 0 only), scatter_full_optim_state_dict and
    shard_full_optim_state_dict without the optimizer."""
    pair = wrapped("nested", "module")
    optimizers = [T.optim.Adam(m.parameters(), lr=0.01) for (T, _, _), m in zip(LIBS, pair)]
    for step in range(STEPS):
        x, y = batch(step)
        for (T, _, _), m, opt in zip(LIBS, pair, optimizers):
            opt.zero_grad()
            T.nn.functional.mse_loss(m(T.tensor(x)), T.tensor(y)).backward()
            opt.step()
    full = [F.FullyShardedDataParallel.full_optim_state_dict(m, o) for (_, F, _), m, o in zip(LIBS, pair, optimizers)]
    if edist.get_rank() == 0:
        assert full[0]["param_groups"] == full[1]["param_groups"]
        assert sorted(full[0]["state"]) == sorted(full[1]["state"])
        for name, values in full[1]["state"].items():
            for key, value in values.items():
                same(full[0]["state"][name][key], value, f"state[{name!r}][{key!r}]", 1e-6)
    else:
        assert full[0] == {} and full[1] == {}, (full[0], full[1])
    fresh = wrapped("nested", "module", seed=5)
    for m, state in zip(fresh, [m.state_dict() for m in pair]):
        m.load_state_dict(state)
    fresh_opts = [T.optim.Adam(m.parameters(), lr=0.01) for (T, _, _), m in zip(LIBS, fresh)]
    for (_, F, _), m, opt, osd in zip(LIBS, fresh, fresh_opts, full):
        local = F.FullyShardedDataParallel.scatter_full_optim_state_dict(osd or None, m)
        opt.load_state_dict(local)
    ours_local = efsdp.FullyShardedDataParallel.shard_full_optim_state_dict(
        efsdp.FullyShardedDataParallel.full_optim_state_dict(pair[0], optimizers[0], rank0_only=False), fresh[0]
    )
    assert sorted(ours_local["state"]) == sorted(fresh_opts[0].state_dict()["state"])
    for step in range(2):
        x, y = batch(10 + step)
        for (T, _, _), m, opt in zip(LIBS, fresh, fresh_opts):
            opt.zero_grad()
            T.nn.functional.mse_loss(m(T.tensor(x)), T.tensor(y)).backward()
            opt.step()
    same_full(fresh, 1e-6)


def check_errors():
    pair = wrapped("nested", "module")
    x, _ = batch(0)
    for (T, _, _), m in zip(LIBS, pair):
        m(T.tensor(x)).sum().backward()
    inner = [m._fsdp_wrapped_module[0] for m in pair]
    outcomes = [attempt(lambda u=u: u.clip_grad_norm_(1.0)) for u in inner]
    same(outcomes[0], outcomes[1], "clip_grad_norm_ on an inner unit")
    assert "root" in outcomes[0].text, outcomes
    outcomes = [
        attempt(
            lambda F=F, m=m: F.FullyShardedDataParallel.summon_full_params(
                m, writeback=True, rank0_only=True
            ).__enter__()
        )
        for (_, F, _), m in zip(LIBS, pair)
    ]
    same(outcomes[0], outcomes[1], "summon_full_params(writeback=True, rank0_only=True)")
    assert outcomes[0].text == outcomes[1].text, outcomes
    outcomes = []
    for T, F, _ in LIBS:
        kwargs = {"device_id": torch.device("cpu")} if T is torch else {}
        layers = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.Linear(2, 2, dtype=T.float64))
        outcomes.append(attempt(lambda F=F, layers=layers, kwargs=kwargs: F.FullyShardedDataParallel(layers, **kwargs)))
    same(outcomes[0], outcomes[1], "mixed dtypes in one unit")
    assert "uniform dtype" in outcomes[0].text, outcomes


def checks(world_size=2):
    S = efsdp.ShardingStrategy
    cases = {}
    for strategy in ("FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD"):
        for orig in (False, True):
            suffix = "_orig_params" if orig else ""
            cases[f"{strategy.lower()}{suffix}"] = trains_alike(sharding_strategy=S[strategy], use_orig_params=orig)
    cases.update(
        {
            "sgd_momentum_nested_size_policy": trains_alike(
                "nested", "size", "SGD", opt_kwargs={"lr": 0.1, "momentum": 0.9}
            ),
            "module_wrap_policy": trains_alike("nested", "module"),
            "module_wrap_policy_orig_params": trains_alike("nested", "module", "AdamW", use_orig_params=True),
            "transformer_wrap_policy": trains_alike("blocks", "transformer"),
            # SGD: the key bias's gradient is zero up to rounding, which Adam would blow up to +-lr steps
            "transformer_encoder_layers": trains_alike(
                "transformer", "encoder_layer", "SGD", tol=1e-5, opt_kwargs={"lr": 0.1, "momentum": 0.9}
            ),
            "transformer_encoder_layers_orig_params": trains_alike(
                "transformer", "encoder_layer", "SGD", tol=1e-5, opt_kwargs={"lr": 0.1}, use_orig_params=True
            ),
            "always_wrap_policy_shard_grad_op": trains_alike("blocks", "always", sharding_strategy=S.SHARD_GRAD_OP),
            "module_wrap_policy_no_shard": trains_alike("nested", "module", sharding_strategy=S.NO_SHARD),
            "mixed_precision_bfloat16_float32": check_mixed_precision("bfloat16", "float32"),
            "mixed_precision_float16": check_mixed_precision("float16", None, tol=5e-3),
            "mixed_precision_buffers": check_mixed_precision("bfloat16", "float32", "bfloat16", kind="batchnorm"),
            "clip_grad_norm_2": check_clip(2.0),
            "clip_grad_norm_inf": check_clip(math.inf),
            "clip_grad_norm_1_nested": check_clip(1.0, kind="nested", wrap_policy="module"),
            "clip_grad_norm_no_shard": check_clip(2.0, sharding_strategy=S.NO_SHARD),
            "clip_grad_norm_orig_params": check_clip(2.0, kind="nested", wrap_policy="size", use_orig_params=True),
            "no_sync": check_no_sync,
            "state_dict_rank0_only": check_state_dict_config,
            "state_dict_buffers": check_buffers_in_state_dict,
            "load_state_dict": check_load_state_dict,
            "summon_full_params": check_summon_full_params,
            "summon_full_params_with_grads": check_summon_with_grads,
            "apply_init": check_apply_init,
            "sync_module_states": check_sync_module_states,
            "optim_state_dict": check_optim_state_dict(False),
            "optim_state_dict_orig_params": check_optim_state_dict(True),
            "sharded_grad_scaler": check_sharded_grad_scaler,
            "full_optim_state_dict": check_full_optim_state_dict,
            "errors": check_errors,
            "all_reduce_of_computed_scalar": check_all_reduce_of_computed_scalar,
        }
    )
    return cases


if __name__ == "__main__":
    run_against_torch(checks)
