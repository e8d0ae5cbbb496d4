"""Optimizers against torch.optim: same initial parameters, same loss, 20 steps, same parameters."""

from __future__ import annotations

import copy
import importlib

import numpy as np
import pytest
from reference import to_torch

import ember
from ember import nn, optim

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(7)
_X = _rng.standard_normal((6, 4))
_Y = _rng.standard_normal((6, 3))
_W = _rng.standard_normal((4, 3)) * 0.5
_B = _rng.standard_normal(3) * 0.1

VARIANTS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-6, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "eps": 1e-5}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "lambd": 1e-3, "alpha": 0.5, "t0": 5, "weight_decay": 0.1}),
]


def _loss(lib, w, b):
    x, y = lib.tensor(_X), lib.tensor(_Y)
    return (((x @ w + b).tanh() - y) ** 2).sum()


def _params(device=None):
    if device is None:
        return [torch.nn.Parameter(torch.tensor(_W)), torch.nn.Parameter(torch.tensor(_B))]
    return [nn.Parameter(ember.tensor(_W, device=device)), nn.Parameter(ember.tensor(_B, device=device))]


def _run(opt_e, opt_t, pe, pt, steps=20, device="cpu"):
    x, y = ember.tensor(_X, device=device), ember.tensor(_Y, device=device)
    for _ in range(steps):
        opt_e.zero_grad()
        (((x @ pe[0] + pe[1]).tanh() - y) ** 2).sum().backward()
        opt_e.step()
        opt_t.zero_grad()
        _loss(torch, *pt).backward()
        opt_t.step()


def _assert_params(pe, pt, tol=1e-6):
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VARIANTS)])
def test_matches_torch(name, kwargs, device):
    pe, pt = _params(device), _params()
    opt_e = getattr(optim, name)(pe, **kwargs)
    opt_t = getattr(torch.optim, name)(pt, **kwargs)
    _run(opt_e, opt_t, pe, pt, device=device)
    _assert_params(pe, pt)
    # The state has PyTorch's keys, and its tensors PyTorch's values.
    se, st = opt_e.state_dict(), opt_t.state_dict()
    assert se["param_groups"] == st["param_groups"]
    assert set(se["state"]) == set(st["state"])
    for i in st["state"]:
        assert set(se["state"][i]) == set(st["state"][i])
        for key, value in st["state"][i].items():
            ours = se["state"][i][key]  # (a tensor on the device: np.asarray of it raises, as of a cuda tensor)
            np.testing.assert_allclose(np.asarray(ours.cpu()), value.numpy(), rtol=1e-6, atol=1e-6)


def test_float32_close(device):
    pe = [nn.Parameter(ember.tensor(_W, dtype=ember.float32, device=device)) for _ in range(1)]
    pt = [torch.nn.Parameter(torch.tensor(_W, dtype=torch.float32))]
    opt_e, opt_t = optim.Adam(pe, lr=0.01), torch.optim.Adam(pt, lr=0.01)
    for _ in range(5):
        for opt, p in ((opt_e, pe), (opt_t, pt)):
            opt.zero_grad()
            (p[0] ** 2).sum().backward()
            opt.step()
    _assert_params(pe, pt, tol=1e-5)


def test_param_groups_and_state_dict_round_trip(device):
    pe, pt = _params(device), _params()
    groups_e = [{"params": [pe[0]]}, {"params": [pe[1]], "lr": 0.001}]
    groups_t = [{"params": [pt[0]]}, {"params": [pt[1]], "lr": 0.001}]
    opt_e = optim.SGD(groups_e, lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD(groups_t, lr=0.1, momentum=0.9)
    _run(opt_e, opt_t, pe, pt, steps=5, device=device)
    state = opt_e.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"] == opt_t.state_dict()["param_groups"]
    # A fresh optimizer loaded from the state dict continues exactly like the original.
    pe2 = [nn.Parameter(p.detach().clone()) for p in pe]
    opt_e2 = optim.SGD([{"params": [pe2[0]]}, {"params": [pe2[1]], "lr": 0.001}], lr=0.1, momentum=0.9)
    opt_e2.load_state_dict(copy.deepcopy(state))
    _run(opt_e, opt_t, pe, pt, steps=5, device=device)
    _run(opt_e2, torch.optim.SGD(_params(), lr=0.1), pe2, _params(), steps=5, device=device)
    _assert_params(pe, pt)
    _assert_params(pe2, [to_torch(p) for p in pe], tol=1e-12)


def test_adam_state_dict_round_trip_continues(device):
    pe, pt = _params(device), _params()
    opt_e, opt_t = optim.Adam(pe, lr=0.01, amsgrad=True), torch.optim.Adam(pt, lr=0.01, amsgrad=True)
    _run(opt_e, opt_t, pe, pt, steps=3, device=device)
    pe2 = [nn.Parameter(p.detach().clone()) for p in pe]
    opt_e2 = optim.Adam(pe2, lr=0.5, amsgrad=True)
    opt_e2.load_state_dict(opt_e.state_dict())
    assert opt_e2.param_groups[0]["lr"] == 0.01
    _run(opt_e2, opt_t, pe2, pt, steps=4, device=device)
    _assert_params(pe2, pt)


def test_add_param_group_and_errors():
    p = _params()
    w, b = nn.Parameter(ember.tensor(_W)), nn.Parameter(ember.tensor(_B))
    opt = optim.SGD([w], lr=0.1)
    opt.add_param_group({"params": b, "momentum": 0.5})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["momentum"] == 0.5
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(w)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {w}}])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.Adam([w], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid rho value"):
        optim.Adadelta([w], rho=1.5)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(optim.SGD([w]).state_dict())
    assert repr(optim.SGD([w], lr=0.1)) == repr(torch.optim.SGD(p, lr=0.1))


def test_zero_grad():
    w = nn.Parameter(ember.tensor(_W))
    opt = optim.SGD([w], lr=0.1)
    (w**2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and float(w.grad.abs().sum()) == 0
    opt.zero_grad()
    assert w.grad is None


def test_step_closure_returns_loss():
    w = nn.Parameter(ember.tensor(_W))
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == pytest.approx(float((_W**2).sum()))


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(line_search_fn, device):
    pe, pt = _params(device), _params()
    kwargs = {"lr": 0.5, "max_iter": 10, "history_size": 5, "line_search_fn": line_search_fn}
    opt_e, opt_t = optim.LBFGS(pe, **kwargs), torch.optim.LBFGS(pt, **kwargs)
    x, y = ember.tensor(_X, device=device), ember.tensor(_Y, device=device)

    def closure_e():
        opt_e.zero_grad()
        loss = (((x @ pe[0] + pe[1]).tanh() - y) ** 2).sum()
        loss.backward()
        return loss

    def closure_t():
        opt_t.zero_grad()
        loss = _loss(torch, *pt)
        loss.backward()
        return loss

    for _ in range(3):
        le, lt = opt_e.step(closure_e), opt_t.step(closure_t)
        assert float(le) == pytest.approx(lt.item(), rel=1e-6)
    _assert_params(pe, pt)
    assert opt_e.state[pe[0]]["func_evals"] == opt_t.state[pt[0]]["func_evals"]
    assert opt_e.state[pe[0]]["n_iter"] == opt_t.state[pt[0]]["n_iter"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_float32_arithmetic_as_torch(line_search_fn):
    """PyTorch keeps ys, ro, al, H_diag, gtd and the line search's steps as 0-d tensors of the
    parameters' dtype: in float32 the search takes torch's path (it took 24 evaluations for torch's 13
    when ember computed them as Python floats), and the state holds tensors. On the CPU only: a
    float32 search this long also follows each reduction's rounding, which other backends order
    differently."""
    start = np.random.default_rng(0).standard_normal(7).astype(np.float32)

    def run(lib, dev):
        p = lib.nn.Parameter(lib.tensor(start, device=dev))
        opt = lib.optim.LBFGS([p], max_iter=20, history_size=5, line_search_fn=line_search_fn)

        def closure():
            opt.zero_grad()
            loss = ((p - 1) ** 4).sum() + (p[1:] * p[:-1]).sum() + (p**2).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        return p, opt.state[p]

    (pe, state_e), (pt, state_t) = run(ember, "cpu"), run(torch, "cpu")
    assert state_e["func_evals"] == state_t["func_evals"] and state_e["n_iter"] == state_t["n_iter"]
    np.testing.assert_allclose(pe.detach().cpu().numpy(), pt.detach().numpy(), rtol=1e-6, atol=1e-7)
    assert isinstance(state_e["H_diag"], ember.Tensor) and state_e["H_diag"].dtype is ember.float32
    assert all(isinstance(r, ember.Tensor) for r in state_e["ro"])


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_complex_parameters_as_torch(line_search_fn):
    """torch's LBFGS treats a complex parameter as the real view of its parts (its flat gradient
    has two entries per element); ember's raised NotImplementedError ('gt' of complex). On the CPU
    only: complex tensors are the cpu backend's."""
    rng = np.random.default_rng(3)
    start = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    target = rng.standard_normal(5) + 1j * rng.standard_normal(5)

    def run(lib, dev):
        p = lib.nn.Parameter(lib.tensor(start, device=dev))
        real = lib.nn.Parameter(lib.tensor(start.real.copy(), device=dev))
        opt = lib.optim.LBFGS([p, real], lr=0.5, max_iter=6, line_search_fn=line_search_fn)
        goal = lib.tensor(target, device=dev)

        def closure():
            opt.zero_grad()
            loss = ((p - goal).abs() ** 2).sum() + (p.real * real).sum() + (real**2).sum()
            loss.backward()
            return loss

        for _ in range(2):
            opt.step(closure)
        return p.detach().cpu().numpy(), real.detach().cpu().numpy(), opt.state[p]["func_evals"]

    (pe, re, evals_e), (pt, rt, evals_t) = run(ember, "cpu"), run(torch, "cpu")
    np.testing.assert_allclose(pe, pt, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(re, rt, rtol=1e-9, atol=1e-12)
    assert evals_e == evals_t


def test_lbfgs_rejects_groups():
    w, b = nn.Parameter(ember.tensor(_W)), nn.Parameter(ember.tensor(_B))
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": [w]}, {"params": [b]}])


def test_dense_only_optimizers_reject_sparse_and_sparse_adam_rejects_dense():
    w = nn.Parameter(ember.tensor(_W))
    (w**2).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        optim.SparseAdam([w]).step()


SPARSE_VARIANTS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "maximize": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("SparseAdam", {"lr": 0.1}),
    ("SparseAdam", {"lr": 0.1, "maximize": True}),
]


@pytest.mark.parametrize("name,kwargs", SPARSE_VARIANTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SPARSE_VARIANTS)])
def test_sparse_gradients_match_torch(name, kwargs, device):
    weight = _rng.standard_normal((6, 3))
    idx = [[0, 2, 2], [5, 0, 1]]
    emb_e = nn.Embedding(6, 3, sparse=True).to(device)
    emb_t = torch.nn.Embedding(6, 3, sparse=True).double()
    with ember.no_grad():
        emb_e.weight.copy_(ember.tensor(weight, device=device))
    emb_t.weight.data = torch.tensor(weight)
    emb_e.double()
    opt_e = getattr(optim, name)(emb_e.parameters(), **kwargs)
    opt_t = getattr(torch.optim, name)(emb_t.parameters(), **kwargs)
    for _ in range(5):
        opt_e.zero_grad()
        (emb_e(ember.tensor(idx, device=device)) ** 3).sum().backward()
        assert emb_e.weight.grad.is_sparse
        opt_e.step()
        opt_t.zero_grad()
        (emb_t(torch.tensor(idx)) ** 3).sum().backward()
        opt_t.step()
    _assert_params([emb_e.weight], [emb_t.weight])


@pytest.mark.parametrize("name,kwargs", SPARSE_VARIANTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SPARSE_VARIANTS)])
@pytest.mark.parametrize("sparse_dim", [2, 3])
def test_gradients_sparse_in_several_dims_match_torch(name, kwargs, sparse_dim, device):
    """A gradient sparse in its first two or three dimensions (``dense.to_sparse()``) updates the elements
    it holds; ember's optimizers indexed rows and raised ('Index tensor must have the same number of
    dimensions', 'The size of tensor a (3) must match ...')."""
    start = _rng.standard_normal((4, 3, 2))
    grad = _rng.standard_normal((4, 3, 2)) * (_rng.random((4, 3, 1)) < 0.5)
    results = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        p = lib.tensor(start, device=dev, requires_grad=True)
        opt = getattr(lib.optim, name)([p], **kwargs)
        for i in range(3):
            p.grad = lib.tensor(grad * (i + 1), device=dev).to_sparse(sparse_dim)
            opt.step()
        results.append(p.detach().cpu().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)


def test_sparse_gradient_errors():
    emb = nn.Embedding(4, 2, sparse=True)
    emb(ember.tensor([1, 2])).sum().backward()
    for opt in (optim.Adam(emb.parameters()), optim.RMSprop(emb.parameters()), optim.Adamax(emb.parameters())):
        with pytest.raises(RuntimeError, match="does not support sparse gradients"):
            opt.step()
    with pytest.raises(RuntimeError, match="weight_decay"):
        optim.Adagrad(emb.parameters(), weight_decay=0.1).step()


def _hook_log(T):
    """The calls of every kind of optimizer hook, in order, with what the step hooks receive."""
    module = importlib.import_module(T.__name__ + ".optim.optimizer")
    log = []
    p = T.nn.Parameter(T.ones(2))
    p.grad = T.ones(2)
    opt = T.optim.SGD([p], lr=0.1)
    own = opt.register_step_pre_hook(lambda o, args, kwargs: log.append(("pre", len(args), args[0] is o, kwargs)))
    opt.register_step_post_hook(lambda o, args, kwargs: log.append(("post", len(args), kwargs)))
    global_pre = module.register_optimizer_step_pre_hook(lambda o, args, kwargs: log.append("global pre"))
    global_post = module.register_optimizer_step_post_hook(lambda o, args, kwargs: log.append("global post"))
    opt.register_state_dict_pre_hook(lambda o: log.append("state_dict pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: log.append(("load pre", sorted(sd))))
    opt.register_load_state_dict_post_hook(lambda o: log.append("load post 1"))
    opt.register_load_state_dict_post_hook(lambda o: log.append("load post 0"), prepend=True)
    try:
        opt.step()
        opt.load_state_dict(opt.state_dict())
        own.remove()
        global_pre.remove()
        opt.step(closure=None)
        log.append(p.tolist())
        opt.register_step_pre_hook(lambda o, args, kwargs: 5)
        with pytest.raises(RuntimeError, match="must return None or a tuple of"):
            opt.step()
    finally:
        global_pre.remove()
        global_post.remove()
    return log


def test_optimizer_hooks_as_torch():
    assert _hook_log(ember) == _hook_log(torch)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"])
def test_betas_as_tensors_match_torch(name, device):
    # torch takes the betas as 0-d tensors (Adam and AdamW also 1-element ones, made 0-d); on float32
    # parameters the updates agree
    shape = (1,) if name.startswith("Adam") and name != "Adamax" else ()
    pe = [nn.Parameter(ember.tensor(_W, dtype=ember.float32, device=device))]
    pt = [torch.nn.Parameter(torch.tensor(_W, dtype=torch.float32))]
    opt_e = getattr(optim, name)(pe, lr=0.01, betas=(ember.full(shape, 0.8), ember.tensor(0.9)))
    opt_t = getattr(torch.optim, name)(pt, lr=0.01, betas=(torch.full(shape, 0.8), torch.tensor(0.9)))
    for _ in range(6):
        for opt, p in ((opt_e, pe), (opt_t, pt)):
            opt.zero_grad()
            (p[0] ** 3).sum().backward()
            opt.step()
    np.testing.assert_allclose(pe[0].detach().cpu().numpy(), pt[0].detach().numpy(), rtol=2e-6, atol=1e-7)
    assert opt_e.param_groups[0]["betas"][0].shape == opt_t.param_groups[0]["betas"][0].shape == ()


def test_adam_betas_checks_as_torch():
    for lib in (ember, torch):
        p = [lib.ones(1, requires_grad=True)]
        with pytest.raises(ValueError, match="betas must be either both floats or both Tensors"):
            lib.optim.Adam(p, betas=(0, 0.99))
        with pytest.raises(ValueError, match="betas must be either both floats or both Tensors"):
            lib.optim.AdamW(p, betas=(0.9, lib.tensor(0.99)))
        with pytest.raises(ValueError, match=r"betas\[0\] as a Tensor is not supported for capturable=False"):
            lib.optim.Adam(p, betas=(lib.tensor(0.9), lib.tensor(0.99)), foreach=True)


def test_asgd_eta_after_loading_into_float64_parameters_as_torch():
    """Loading casts ASGD's eta and mu to float64 parameters' dtype; torch still rounds each new eta to
    float32 (a tensor of the scalar dtype copied in), where ember filled the full double (1e-9 drifts)."""
    results = []
    for lib in (ember, torch):
        p = lib.tensor(_W.ravel()[:5], requires_grad=True)
        first = lib.optim.ASGD([p], lr=0.1, lambd=0.01)
        p.grad = lib.ones(5, dtype=lib.float64)
        first.step()
        loaded = lib.optim.ASGD([p], lr=0.1, lambd=0.01)
        loaded.load_state_dict(first.state_dict())
        etas = []
        for _ in range(4):
            p.grad = lib.full((5,), 0.5, dtype=lib.float64)
            loaded.step()
            etas.append(loaded.state[p]["eta"].item())
        results.append((etas, str(loaded.state[p]["eta"].dtype).split(".")[-1], p.detach().numpy()))
    (etas_e, dtype_e, pe), (etas_t, dtype_t, pt) = results
    assert etas_e == etas_t and dtype_e == dtype_t == "float64"
    np.testing.assert_array_equal(pe, pt)
