"""Optimizers against PyTorch's own optimizer database (``torch.testing._internal.common_optimizers``):
every configuration of every OptimizerInfo whose optimizer ember has, with the flags PyTorch's tests add
(``foreach``, ``fused``, ``differentiable``), on parameters of several shapes (a 0-d one, a complex one
where the optimizer takes complex parameters), with identical gradients; the parameters after each step,
the state (keys, types, dtypes, shapes, values) and the state dict (its groups, a torch state dict loaded
into ember and ember's loaded into torch) compared. Then the smaller cases that were wrong."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from reference import torch

import ember

common_optimizers = pytest.importorskip("torch.testing._internal.common_optimizers")

_INFOS = [info for info in common_optimizers.optim_db if hasattr(ember.optim, info.optim_cls.__name__)]


def _configurations():
    cases = []
    for info in _INFOS:
        name = info.optim_cls.__name__
        inputs = common_optimizers._get_optim_inputs_including_global_cliquey_kwargs("cpu", torch.float64, info)
        for i, optim_input in enumerate(inputs):
            cases.append(pytest.param(info, optim_input.kwargs, id=f"{name}-{i}-{optim_input.desc}"))
    return cases


def _to_ember(value, device=None):
    if isinstance(value, torch.Tensor):
        return ember.tensor(value.detach().numpy().copy(), device=device)
    if isinstance(value, (tuple, list)):
        return type(value)(_to_ember(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to_ember(v, device) for k, v in value.items()}
    return value


def _to_torch(value):
    if isinstance(value, ember.Tensor):
        return torch.tensor(value.detach().cpu().numpy())
    if isinstance(value, (tuple, list)):
        return type(value)(_to_torch(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_torch(v) for k, v in value.items()}
    return value


def _params(rng, dtype, with_complex, differentiable, shapes=((3, 4), (5,), ())):
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    if with_complex:
        ctype = np.complex128 if dtype == np.float64 else np.complex64
        arrays.append((rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype(ctype))
    tp = [torch.tensor(a, requires_grad=True) for a in arrays]
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in arrays]
    if differentiable:  # PyTorch's differentiable step runs on non-leaf parameters
        tp, ep = [t.clone() for t in tp], [e.clone() for e in ep]
    return tp, ep


def _assert_same(expected, got, rtol, atol, what):
    if isinstance(expected, torch.Tensor):
        assert isinstance(got, ember.Tensor), f"{what}: torch keeps a tensor, ember a {type(got).__name__}"
        assert str(got.dtype) == str(expected.dtype).replace("torch", "ember"), f"{what}: dtype"
        assert tuple(got.shape) == tuple(expected.shape), f"{what}: shape"
        np.testing.assert_allclose(got.detach().cpu().numpy(), expected.detach().numpy(), rtol, atol, err_msg=what)
    elif isinstance(expected, (list, tuple)):
        assert type(got) is type(expected) and len(got) == len(expected), what
        for i, (e, g) in enumerate(zip(expected, got)):
            _assert_same(e, g, rtol, atol, f"{what}[{i}]")
    elif isinstance(expected, float):
        assert type(got) is float, f"{what}: torch keeps a float, ember a {type(got).__name__}"
        np.testing.assert_allclose(got, expected, rtol, atol, err_msg=what)
    else:
        assert got == expected and type(got) is type(expected), f"{what}: {got!r} != {expected!r}"


def _assert_states(topt, eopt, tparams, eparams, rtol, atol):
    for i, (t, e) in enumerate(zip(tparams, eparams)):
        expected, got = topt.state.get(t, {}), eopt.state.get(e, {})
        assert list(got) == list(expected), f"state[{i}] keys"
        for key in expected:
            _assert_same(expected[key], got[key], rtol, atol, f"state[{i}][{key!r}]")


def _tolerances(name, kwargs, dtype):
    if name == "LBFGS":  # the two-loop recursion on an ill-conditioned history: rounding grows
        return (1e-6, 1e-7) if dtype == np.float64 else (1e-3, 1e-4)
    if dtype == np.float32:
        return 1e-6, 1e-7
    if kwargs.get("differentiable") and name in ("Adam", "AdamW"):
        # PyTorch's differentiable Adam takes beta ** step of the float32 step tensor: its float32 pow is
        # not NumPy's in the last place (0.9 ** 4: 0.65609992 against 0.65609998), a relative 1e-7 in the
        # bias correction
        return 1e-6, 1e-9
    return 1e-10, 1e-12


def _refused_alike(torch_call, ember_call):
    """Run both; where PyTorch raises, ember must raise the same type (then True: nothing more to run)."""
    try:
        torch_call()
    except Exception as exc:  # noqa: BLE001 - any refusal of PyTorch's is the reference
        with pytest.raises(type(exc)):
            ember_call()
        return True
    ember_call()
    return False


def _steps(info, kwargs, dtype, steps=4):
    name = info.optim_cls.__name__
    rng = np.random.default_rng(0)
    differentiable = bool(kwargs.get("differentiable"))
    # PyTorch's fused SGD checks only its first parameter and fails in the kernel on a later complex one
    # (NotImplementedError) where ember refuses any complex one (RuntimeError, PyTorch's own refusal of an
    # all-complex group): fused steps run on real parameters, as PyTorch's tests run them
    with_complex = info.supports_complex and not kwargs.get("fused")
    shapes = ((3, 4), (4, 2)) if name == "Muon" else ((3, 4), (5,), ())  # Muon takes matrices only
    tp, ep = _params(rng, dtype, with_complex, differentiable, shapes)
    if name == "LBFGS":
        # twenty iterations a step down to a converged, ill-conditioned history (the curvature pairs are
        # differences of nearly equal gradients): a last-place difference of a dot product grows from step
        # to step, and in float32 where the search stops turns on losses equal to the last place
        # (tolerance_change 1e-9): two steps in float64, one in float32 (its parameters only, loosely)
        steps = 2 if dtype == np.float64 else 1
    made = []
    if _refused_alike(
        lambda: made.append(info.optim_cls(tp, **copy.deepcopy(kwargs))),
        lambda: made.append(getattr(ember.optim, name)(ep, **_to_ember(kwargs))),
    ):
        return None
    topt, eopt = made
    rtol, atol = _tolerances(name, kwargs, dtype)
    for _ in range(steps):
        if name == "LBFGS":
            targets = [rng.standard_normal(t.shape).astype(t.detach().numpy().dtype) for t in tp]

            def closure(lib, params, optimizer, targets=targets):
                optimizer.zero_grad()
                loss = sum(
                    ((p - lib.tensor(w)).abs() ** 2).sum() + 0.1 * (p.abs() ** 4).sum() for p, w in zip(params, targets)
                )
                loss.backward()
                return loss

            if _refused_alike(
                lambda: topt.step(lambda: closure(torch, tp, topt)), lambda: eopt.step(lambda: closure(ember, ep, eopt))
            ):
                return None
        else:
            for t, e in zip(tp, ep):
                shape = tuple(t.shape)
                g = rng.standard_normal(shape)
                if t.is_complex():
                    g = g + 1j * rng.standard_normal(shape)
                g = g.astype(t.detach().numpy().dtype)
                if name == "SparseAdam":
                    if g.ndim:
                        g[0] = 0
                    t.grad, e.grad = torch.tensor(g).to_sparse(), ember.tensor(g).to_sparse()
                else:
                    t.grad, e.grad = torch.tensor(g), ember.tensor(g.copy())
            if _refused_alike(topt.step, eopt.step):
                return None
        for i, (t, e) in enumerate(zip(tp, ep)):
            np.testing.assert_allclose(
                e.detach().numpy(), t.detach().numpy(), rtol, atol, err_msg=f"{name} parameter {i}"
            )
    return topt, eopt, tp, ep, rtol, atol


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("info, kwargs", _configurations())
def test_steps_state_and_state_dict_as_torch(info, kwargs, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ran = _steps(info, kwargs, dtype)
        if ran is None:
            return  # refused by both alike
        topt, eopt, tp, ep, rtol, atol = ran
        if info.optim_cls.__name__ == "LBFGS" and dtype == np.float32:
            return  # the histories' lengths may differ (see _steps)
        _assert_states(topt, eopt, tp, ep, rtol, atol)
        if kwargs.get("differentiable"):
            return  # the state holds non-leaf tensors: no state dict copies
        tsd, esd = topt.state_dict(), eopt.state_dict()
        assert list(esd) == list(tsd) and list(esd["state"]) == list(tsd["state"])
        for tgroup, egroup in zip(tsd["param_groups"], esd["param_groups"]):
            assert list(egroup) == list(tgroup)
            for key in tgroup:
                _assert_same(tgroup[key], egroup[key], 0, 0, f"param_groups[{key!r}]")
        # a torch state dict loaded into ember, ember's loaded into torch: the state torch's loading gives
        name = info.optim_cls.__name__
        tp2 = [t.detach().clone().requires_grad_() for t in tp]
        ep2 = [ember.tensor(t.detach().numpy().copy(), requires_grad=True) for t in tp]
        expected = info.optim_cls(tp2, **copy.deepcopy(kwargs))
        expected.load_state_dict(copy.deepcopy(tsd))
        loaded = getattr(ember.optim, name)(ep2, **_to_ember(kwargs))
        loaded.load_state_dict(_to_ember(copy.deepcopy(tsd)))
        _assert_states(expected, loaded, tp2, ep2, rtol, atol)
        tp3 = [t.detach().clone().requires_grad_() for t in tp]
        back = info.optim_cls(tp3, **copy.deepcopy(kwargs))
        back.load_state_dict(_to_torch(loaded.state_dict()))
        for t, t2 in zip(tp3, tp2):
            for key, value in back.state.get(t, {}).items():
                if isinstance(value, torch.Tensor):
                    w = expected.state[t2][key]
                    assert value.dtype == w.dtype and value.shape == w.shape, key
                    np.testing.assert_allclose(value.numpy(), w.numpy(), rtol, atol)


def _error_cases():
    cases = []
    for info in _INFOS:
        for i, error_input in enumerate(info.optim_error_inputs_func(device="cpu", dtype=torch.float32)):
            if error_input.error_type is not UserWarning:
                desc = error_input.optimizer_error_input.desc
                cases.append(pytest.param(info, i, id=f"{info.optim_cls.__name__}-{i}-{desc}"))
    return cases


def _to_ember_inputs(value, memo):
    """The error input's parameters and options in ember: one ember tensor per torch tensor, its
    gradient (dense or sparse) carried over."""
    if isinstance(value, torch.Tensor):
        if id(value) not in memo:
            dense = value.to_dense() if value.is_sparse else value
            converted = ember.tensor(dense.detach().numpy().copy(), requires_grad=value.requires_grad)
            if value.is_sparse:
                converted = converted.detach().to_sparse()
            if value.grad is not None:
                g = value.grad
                converted.grad = (
                    ember.tensor(g.to_dense().numpy()).to_sparse() if g.is_sparse else ember.tensor(g.numpy())
                )
            memo[id(value)] = converted
        return memo[id(value)]
    if isinstance(value, (tuple, list)):
        return type(value)(_to_ember_inputs(v, memo) for v in value)
    if isinstance(value, dict):
        return {k: _to_ember_inputs(v, memo) for k, v in value.items()}
    return value


@pytest.mark.parametrize("info, index", _error_cases())
def test_errors_as_torch(info, index):
    """Each ErrorOptimizerInput: the same exception type at the same moment (construction or step), the
    message PyTorch's test expects."""
    error_input = info.optim_error_inputs_func(device="cpu", dtype=torch.float32)[index]
    case = error_input.optimizer_error_input
    memo = {}
    params, kwargs = _to_ember_inputs(case.params, memo), _to_ember_inputs(case.kwargs, memo)
    cls = getattr(ember.optim, info.optim_cls.__name__)
    if error_input.error_on == common_optimizers.OptimizerErrorEnum.CONSTRUCTION_ERROR:
        with pytest.raises(error_input.error_type, match=error_input.error_regex):
            cls(params, **kwargs)
    else:
        optimizer = cls(params, **kwargs)
        with pytest.raises(error_input.error_type, match=error_input.error_regex):
            optimizer.step()


def test_duplicate_parameters_warn_as_torch():
    for info in _INFOS:
        p = ember.zeros(2, 2, requires_grad=True)
        with pytest.warns(UserWarning, match="a parameter group with duplicate parameters"):
            getattr(ember.optim, info.optim_cls.__name__)([p, p], lr=0.01)


# --- the smaller cases that were wrong ---------------------------------------------------------------

_COMPLEX = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "ASGD", "NAdam", "RAdam", "Rprop"]


@pytest.mark.parametrize("name", _COMPLEX)
def test_state_of_a_complex_parameter_is_complex_as_torch(name):
    """PyTorch updates a complex parameter through its real view but keeps its state complex, shaped like
    the parameter (its state_dict holds complex buffers); ember kept the real view's (2, 3, 2) float
    buffers, so a state dict saved by one did not load into the other."""
    options = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
    value = np.array([[1 + 2j, -0.5 + 1j, 3 - 1j], [0.25 - 2j, 2 + 0.5j, -1 - 1j]])
    tp, ep = torch.tensor(value, requires_grad=True), ember.tensor(value, requires_grad=True)
    topt = getattr(torch.optim, name)([tp], lr=0.1, **options)
    eopt = getattr(ember.optim, name)([ep], lr=0.1, **options)
    for k in range(3):
        g = value * (k + 1) - 0.5j
        tp.grad, ep.grad = torch.tensor(g), ember.tensor(g)
        topt.step()
        eopt.step()
    np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=1e-12)
    _assert_states(topt, eopt, [tp], [ep], 1e-12, 1e-14)
    # torch's state dict loads into ember, and both go on alike
    ep2 = ember.tensor(tp.detach().numpy(), requires_grad=True)
    eopt2 = getattr(ember.optim, name)([ep2], lr=0.1, **options)
    eopt2.load_state_dict(_to_ember(topt.state_dict()))
    g = value - 1j
    tp.grad, ep2.grad = torch.tensor(g), ember.tensor(g)
    topt.step()
    eopt2.step()
    np.testing.assert_allclose(ep2.detach().numpy(), tp.detach().numpy(), rtol=1e-12)
    _assert_states(topt, eopt2, [tp], [ep2], 1e-12, 1e-14)


def test_adagrad_complex_sum_starts_at_the_value_in_both_parts():
    p = ember.zeros(2, dtype=ember.complex128, requires_grad=True)
    state = ember.optim.Adagrad([p], initial_accumulator_value=0.5).state[p]["sum"]
    expected = torch.optim.Adagrad(
        [torch.zeros(2, dtype=torch.complex128, requires_grad=True)], initial_accumulator_value=0.5
    )
    assert state.dtype == ember.complex128
    np.testing.assert_array_equal(state.numpy(), next(iter(expected.state.values()))["sum"].numpy())


_DIFFERENTIABLE = [
    ("Adadelta", {}),
    ("Adadelta", {"weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr_decay": 0.5, "weight_decay": 0.1, "initial_accumulator_value": 0.1}),
    ("Adamax", {}),
    ("Adamax", {"weight_decay": 0.1, "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"t0": 1, "weight_decay": 0.1}),
    ("NAdam", {}),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {}),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True, "momentum": 0.1, "weight_decay": 0.1}),
    ("Rprop", {}),
    ("Rprop", {"maximize": True}),
]


def _differentiable_step(lib, name, options, dtype, p0, grad, weights, warm_up, device=None):
    """One ``differentiable=True`` step from a state that ``warm_up`` plain steps made (its buffers then
    leaves that require grad), then the gradient of a weighted sum of the new parameter and buffers in
    the parameter, the gradient and the buffers before the step (as PyTorch's gradcheck of the step)."""
    place = {} if lib is torch else {"device": device}
    dt = getattr(lib, dtype)
    q = lib.tensor(p0, dtype=dt, requires_grad=True, **place)
    plain = getattr(lib.optim, name)([q], **options)
    for g in warm_up:
        q.grad = lib.tensor(g, dtype=dt, **place)
        plain.step()
    leaves, state = {}, {}
    for key, value in plain.state[q].items():
        if isinstance(value, lib.Tensor) and value.dim() > 0:
            leaves[key] = value.detach().clone().requires_grad_(True)
            state[key] = leaves[key].clone()
        else:
            state[key] = value.clone() if isinstance(value, lib.Tensor) else value
    start = lib.tensor(p0, dtype=dt, requires_grad=True, **place)
    g = lib.tensor(grad, dtype=dt, requires_grad=True, **place)
    p = start.clone()
    p.grad = g
    optimizer = getattr(lib.optim, name)([p], differentiable=True, **options)
    optimizer.state[p] = state
    optimizer.step()
    outputs = [p] + [state[k] for k in leaves]
    loss = sum((x * lib.tensor(weights[: x.numel()].reshape(tuple(x.shape)), dtype=dt, **place)).sum() for x in outputs)
    grads = lib.autograd.grad(loss, [start, g, *leaves.values()], allow_unused=True)
    return [x.detach().cpu().numpy() for x in outputs] + [None if d is None else d.cpu().numpy() for d in grads]


@pytest.mark.parametrize("warm_up", [0, 2])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, options", _DIFFERENTIABLE, ids=[f"{n}-{i}" for i, (n, _) in enumerate(_DIFFERENTIABLE)])
def test_differentiable_step_as_torch(name, options, dtype, warm_up, device):
    """PyTorch takes ``differentiable=True`` for all these (the step recorded by autograd); ember refused
    it with NotImplementedError for every optimizer but SGD, Adam and AdamW."""
    rng = np.random.default_rng(len(name) + warm_up)
    p0, grad, weights = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal(6)
    if name == "Rprop":
        grad[0, 0] = 0  # the sign test at zero
    warm = [rng.standard_normal((2, 3)) for _ in range(warm_up)]
    expected = _differentiable_step(torch, name, options, dtype, p0, grad, weights, warm)
    got = _differentiable_step(ember, name, options, dtype, p0, grad, weights, warm, device)
    tol = 1e-12 if dtype == "float64" else 2e-6
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert (g is None) == (e is None)
        if e is not None:
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


@pytest.mark.parametrize("name, options", [("SparseAdam", {}), ("SGD", {"lr": 0.1}), ("Adagrad", {})])
def test_sparse_gradient_of_a_0d_parameter_as_torch(name, options):
    """``tensor(x).to_sparse()`` has no sparse dimension: ember's row update indexed its missing first
    index (IndexError); PyTorch updates the parameter."""
    tp, ep = torch.tensor(1.5, requires_grad=True), ember.tensor(1.5, requires_grad=True)
    topt = getattr(torch.optim, name)([tp], **options)
    eopt = getattr(ember.optim, name)([ep], **options)
    for value in (0.5, -0.25):
        tp.grad, ep.grad = torch.tensor(value).to_sparse(), ember.tensor(value).to_sparse()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            topt.step()
        eopt.step()
        assert ep.item() == tp.item()


def test_sparse_adam_tensor_lr_rounds_the_step_size_as_torch():
    """With ``lr`` a float32 tensor, PyTorch's step size is a float32 tensor (``lr * sqrt(bc2) / bc1``);
    ember computed it in double precision: float64 parameters then differed by 2e-11."""
    value = np.array([[0.5, -1.0], [0.0, 0.0], [2.0, 0.25]])
    tp, ep = (
        torch.ones(3, 2, dtype=torch.float64, requires_grad=True),
        ember.ones(3, 2, dtype=ember.float64, requires_grad=True),
    )
    topt = torch.optim.SparseAdam([tp], lr=torch.tensor(0.001))
    eopt = ember.optim.SparseAdam([ep], lr=ember.tensor(0.001))
    for k in range(3):
        tp.grad, ep.grad = torch.tensor(value * (k + 1)).to_sparse(), ember.tensor(value * (k + 1)).to_sparse()
        topt.step()
        eopt.step()
    np.testing.assert_array_equal(ep.detach().numpy(), tp.detach().numpy())


def test_fused_refuses_a_complex_parameter_at_step_as_torch():
    for name in ("SGD", "Adam", "AdamW", "Adagrad"):
        for lib in (torch, ember):
            p = lib.zeros(2, dtype=lib.complex64, requires_grad=True)
            optimizer = getattr(lib.optim, name)([p], lr=0.1, fused=True)
            p.grad = lib.ones(2, dtype=lib.complex64)
            with pytest.raises(RuntimeError, match="fused"):
                optimizer.step()


def test_sparse_adam_refuses_sparse_parameters_with_torchs_message():
    """ember refused them as no Tensor (TypeError) before SparseAdam's own check."""
    for params in (
        [ember.zeros(3), ember.zeros(2).to_sparse()],
        [{"params": [ember.zeros(3)]}, {"params": [ember.zeros(2).to_sparse()]}],
    ):
        with pytest.raises(
            ValueError, match=r"Sparse params at indices \[\[\d, \d\]\]: SparseAdam requires dense parameter tensors"
        ):
            ember.optim.SparseAdam(params)
    ember.optim.SparseAdam(p for p in [ember.zeros(3, requires_grad=True)])  # a generator still works


_TENSOR_LR = [
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {}),
    ("Adagrad", {"lr_decay": 0.3}),
    ("Adagrad", {"lr_decay": 0.3, "fused": True}),
    ("Adamax", {}),
    ("NAdam", {}),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adafactor", {"weight_decay": 0.1}),
    ("Muon", {}),
    ("Muon", {"weight_decay": 0.1, "adjust_lr_fn": "match_rms_adamw"}),
]


@pytest.mark.parametrize("name, options", _TENSOR_LR, ids=[f"{n}-{i}" for i, (n, _) in enumerate(_TENSOR_LR)])
def test_tensor_lr_factors_round_as_torch(name, options):
    """PyTorch keeps a 0-d tensor lr a tensor in its updates, so ``lr / bias_correction``,
    ``1 - lr * weight_decay`` and the like are float32 tensors when lr is one: ember took lr's value
    and computed them in double precision, float64 parameters then 1e-8 (relatively) off."""
    rng = np.random.default_rng(3)
    start = rng.standard_normal((4, 3))
    tp, ep = torch.tensor(start, requires_grad=True), ember.tensor(start, requires_grad=True)
    topt = getattr(torch.optim, name)([tp], lr=torch.tensor(0.0123), **options)
    eopt = getattr(ember.optim, name)([ep], lr=ember.tensor(0.0123), **options)
    for _ in range(4):
        g = rng.standard_normal((4, 3))
        tp.grad, ep.grad = torch.tensor(g), ember.tensor(g)
        topt.step()
        eopt.step()
    np.testing.assert_array_equal(ep.detach().numpy(), tp.detach().numpy())


def test_muon_match_rms_adamw_learning_rate_as_torch():
    """PyTorch scales lr by ``0.2 * sqrt(max(rows, cols))`` computed first; ember's ``lr * 0.2 * sqrt(n)``
    rounded differently (0.0123 and sqrt(7): 0.006508548225218894 against 0.006508548225218893)."""
    rng = np.random.default_rng(4)
    start = rng.standard_normal((7, 3))
    tp, ep = torch.tensor(start, requires_grad=True), ember.tensor(start, requires_grad=True)
    topt = torch.optim.Muon([tp], lr=0.0123, adjust_lr_fn="match_rms_adamw")
    eopt = ember.optim.Muon([ep], lr=0.0123, adjust_lr_fn="match_rms_adamw")
    for _ in range(3):
        g = rng.standard_normal((7, 3))
        tp.grad, ep.grad = torch.tensor(g), ember.tensor(g)
        topt.step()
        eopt.step()
    np.testing.assert_array_equal(ep.detach().numpy(), tp.detach().numpy())


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adagrad"])
def test_fused_step_is_float32_under_a_float64_default_as_torch(name):
    """PyTorch keeps a fused optimizer's ``step`` in float32 whatever the default dtype, and makes a
    loaded ``step`` float32 when the saved group is fused or capturable; ember kept float64 under
    ``set_default_dtype(float64)`` and loaded ``step`` as it was saved."""
    got = []
    for lib in (torch, ember):
        previous = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            p = lib.zeros(2, requires_grad=True)
            fused = getattr(lib.optim, name)([p], lr=0.1, fused=True)
            p.grad = lib.ones(2)
            fused.step()
            plain = getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], lr=0.1)
            plain.param_groups[0]["params"][0].grad = lib.ones(2)
            plain.step()
            saved = plain.state_dict()  # a float64 step, its group marked fused as if saved so
            saved["param_groups"][0]["fused"] = True
            q = lib.zeros(2, requires_grad=True)
            loaded = getattr(lib.optim, name)([q], lr=0.1, fused=True)
            loaded.load_state_dict(saved)
            got.append([str(fused.state[p]["step"].dtype), str(loaded.state[q]["step"].dtype)])
        finally:
            lib.set_default_dtype(previous)
    assert got[1] == [s.replace("torch", "ember") for s in got[0]] == ["ember.float32", "ember.float32"]


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adadelta", "Adamax", "ASGD", "NAdam", "RAdam", "RMSprop", "Rprop"])
def test_capturable_step_off_a_capturing_device_raises_as_torch(name, device):
    """PyTorch takes ``capturable=True`` when the optimizer is made and refuses the step of a parameter on
    the CPU (AssertionError naming the tensors); ember ran the step, the option ignored."""
    p = torch.zeros(2, requires_grad=True)
    optimizer = getattr(torch.optim, name)([p], capturable=True)
    p.grad = torch.ones(2)
    with pytest.raises(AssertionError) as expected:
        optimizer.step()
    message = str(expected.value).split(" must be")[0]
    q = ember.zeros(2, requires_grad=True, device=device)
    optimizer = getattr(ember.optim, name)([q], capturable=True)
    q.grad = ember.ones(2, device=device)
    with pytest.raises(AssertionError, match=message + " must be on supported devices"):
        optimizer.step()
    np.testing.assert_array_equal(q.detach().cpu().numpy(), [0.0, 0.0])  # nothing updated


def test_sgd_loads_torchs_sparse_momentum_buffer():
    """After sparse gradients PyTorch's SGD keeps its momentum buffer sparse; loaded into ember, the step
    failed (AttributeError: 'SparseCOOTensor' object has no attribute '_data'). It is held dense now:
    the same values."""
    g = np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]])
    tp = torch.ones(3, 2, requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.1, momentum=0.9)
    for _ in range(2):
        tp.grad = torch.tensor(g, dtype=torch.float32).to_sparse()
        topt.step()
    saved = topt.state_dict()
    buffer = saved["state"][0]["momentum_buffer"]
    assert buffer.is_sparse
    ep = ember.tensor(tp.detach().numpy(), requires_grad=True)
    eopt = ember.optim.SGD([ep], lr=0.1, momentum=0.9)
    converted = ember.sparse_coo_tensor(
        ember.tensor(buffer._indices().numpy()), ember.tensor(buffer._values().numpy()), tuple(buffer.shape)
    )
    eopt.load_state_dict({"state": {0: {"momentum_buffer": converted}}, "param_groups": saved["param_groups"]})
    for k in range(2):
        tp.grad = torch.tensor(g * (k + 1), dtype=torch.float32).to_sparse()
        ep.grad = ember.tensor(g * (k + 1), dtype=ember.float32).to_sparse()
        topt.step()
        eopt.step()
        np.testing.assert_array_equal(ep.detach().numpy(), tp.detach().numpy())


@pytest.mark.parametrize("options", [{}, {"weight_decay": 0.1, "maximize": True}, {"t0": 1}])
def test_asgd_foreach_step_as_torch(options):
    """PyTorch's foreach ASGD has its own arithmetic: eta from the float32 step tensor (float32
    arithmetic, where the per-parameter step takes the step as a Python number), param - eta * (grad +
    lambd * param), ax + mu * (param - ax); ember ran the per-parameter step: 1e-9 (relatively) apart
    after two steps in float64. (Three steps here: from the fourth, float32 ``**`` differs from
    PyTorch's in the last place at a near-tie, 1.0000040531 ** 0.75.)"""
    rng = np.random.default_rng(5)
    start = rng.standard_normal((3, 4))
    tp, ep = torch.tensor(start, requires_grad=True), ember.tensor(start, requires_grad=True)
    topt = torch.optim.ASGD([tp], lr=0.01, foreach=True, **options)
    eopt = ember.optim.ASGD([ep], lr=0.01, foreach=True, **options)
    for _ in range(3):
        g = rng.standard_normal((3, 4))
        tp.grad, ep.grad = torch.tensor(g), ember.tensor(g)
        topt.step()
        eopt.step()
        np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=1e-15, atol=1e-15)
    _assert_states(topt, eopt, [tp], [ep], 1e-15, 1e-15)


def test_messages_worded_as_torch():
    """add_param_group of a non-dict names its class as PyTorch does (``<class 'list'>``); a scheduler
    resumed without ``initial_lr`` gives PyTorch's whole KeyError text (its two likely causes)."""
    for lib in (torch, ember):
        optimizer = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        with pytest.raises(TypeError, match=r"^param_group must be a dict, but got <class 'list'>$"):
            optimizer.add_param_group([lib.zeros(1, requires_grad=True)])
        with pytest.raises(KeyError) as raised:
            lib.optim.lr_scheduler.StepLR(optimizer, 3, last_epoch=5)
        assert raised.value.args[0].endswith(
            "2. You're using last_epoch >= 0 for a fresh training run (not recommended)"
        )
