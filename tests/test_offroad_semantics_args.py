"""Off the main road, differential against PyTorch: argument forms PyTorch's parser refuses (``keepdim``
without ``dim``), softplus with ``beta=0`` and its double backward, and the compiler entry points'
checks (``backend=``, ``mode=``, unknown configuration settings)."""

from __future__ import annotations

import importlib

import pytest

import ember

torch = pytest.importorskip("torch")


# -- reductions: keepdim belongs to the overload with a dim -----------------------------------------
KEEPDIM_CALLS = {
    "fn keepdim=True": lambda lib, name, x: getattr(lib, name)(x, keepdim=True),
    "fn keepdim=False": lambda lib, name, x: getattr(lib, name)(x, keepdim=False),
    "method keepdim=True": lambda lib, name, x: getattr(x, name)(keepdim=True),
    "method keepdim=False": lambda lib, name, x: getattr(x, name)(keepdim=False),
}


@pytest.mark.parametrize("call", sorted(KEEPDIM_CALLS))
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_keepdim_without_dim_is_refused_as_pytorch(name, call):
    for lib in (torch, ember):
        with pytest.raises(TypeError, match=rf"{name}\(\) received an invalid combination of arguments"):
            KEEPDIM_CALLS[call](lib, name, lib.ones(2, 3))


ACCEPTED = {
    "None, True": lambda f, x: f(x, None, True),
    "dim=None, keepdim=True": lambda f, x: f(x, dim=None, keepdim=True),
    "dim=(), keepdim=True": lambda f, x: f(x, dim=(), keepdim=True),
    "dim=[0, -1], keepdim=True": lambda f, x: f(x, dim=[0, -1], keepdim=True),
    "axis=None, keepdims=True": lambda f, x: f(x, axis=None, keepdims=True),
    "axis=1, keepdim=True": lambda f, x: f(x, axis=1, keepdim=True),
    "dtype": lambda f, x: f(x, dtype=x.dtype),
    "plain": lambda f, x: f(x),
}


@pytest.mark.parametrize(
    "name, call",
    [
        (name, call)
        for name in ("sum", "mean", "nansum", "amax", "std")
        for call in sorted(ACCEPTED)
        if call != "dtype" or name not in ("amax", "std")  # they take no dtype
    ],
)
def test_reductions_with_dim_none_keep_their_dims(device, dtype, name, call):
    values = [[1.0, -2.0, 3.5], [0.25, 5.0, -6.0]]
    expected = ACCEPTED[call](
        getattr(torch, name), torch.tensor(values, dtype=getattr(torch, str(dtype).split(".")[-1]))
    )
    got = ACCEPTED[call](getattr(ember, name), ember.tensor(values, dtype=dtype, device=device))
    assert tuple(got.shape) == tuple(expected.shape)
    assert got.dtype == dtype
    assert got.cpu().reshape(-1).tolist() == pytest.approx(expected.reshape(-1).tolist(), rel=1e-6)


def test_sparse_sum_keepdim_with_dim_none():
    for lib in (torch, ember):
        x = lib.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
        assert lib.sum(x, dim=None, keepdim=True).tolist() == [[5.0]]
        with pytest.raises(TypeError, match="sum"):
            lib.sum(x, keepdim=True)


# -- softplus ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta, threshold", [(0, 20), (0.0, 20), (1, 20), (2.0, 5), (0.5, 1), (-1.0, 20), (-2.0, 3)])
def test_softplus_value_gradient_and_double_backward(device, dtype, beta, threshold):
    name = str(dtype).split(".")[-1]
    values = [float(v) / 4 for v in range(-120, 121, 7)] + [20.0, -20.0, 10.0, -10.0]
    results = {}
    for lib, dev, dt in ((torch, "cpu", getattr(torch, name)), (ember, device, dtype)):
        x = lib.tensor(values, dtype=dt, device=dev, requires_grad=True)
        y = lib.nn.functional.softplus(x, beta, threshold)
        w = lib.linspace(-1, 1, len(values), dtype=dt, device=dev)
        (g,) = lib.autograd.grad((y * w).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * w).sum(), x)
        results[lib] = [t.detach().cpu().tolist() for t in (y, g, gg)] + [type(y.grad_fn).__name__]
    rel = 1e-12 if dtype is ember.float64 else 2e-6
    for got, expected in zip(results[ember][:3], results[torch][:3]):
        assert got == pytest.approx(expected, rel=rel, abs=rel * 1e-3, nan_ok=True)
    assert results[ember][3] == results[torch][3] == "SoftplusBackward0"


def test_softplus_beta_zero_gradient_is_half_not_nan():
    for lib in (torch, ember):
        x = lib.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        y = lib.nn.functional.softplus(x, beta=0)
        y.sum().backward()
        assert y.tolist() == [float("inf")] * 3
        assert x.grad.tolist() == [0.5, 0.5, 0.5]


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_softplus_16_bit_gradients(name):
    values = [float(v) / 2 for v in range(-40, 41, 3)]
    grads = {}
    for lib in (torch, ember):
        x = lib.tensor(values, dtype=getattr(lib, name), requires_grad=True)
        y = lib.nn.functional.softplus(x, -1.0)
        (g,) = lib.autograd.grad(y.sum(), x)
        grads[lib] = (y.tolist(), g.tolist(), g.dtype == getattr(lib, name))
    assert grads[ember][2] and grads[torch][2]
    assert grads[ember][0] == pytest.approx(grads[torch][0], rel=1e-2)
    assert grads[ember][1] == pytest.approx(grads[torch][1], rel=1e-2)


# -- compile ----------------------------------------------------------------------------------------
def test_compile_refuses_an_unknown_backend_as_pytorch():
    for lib in (torch, ember):
        exc = importlib.import_module(f"{lib.__name__}._dynamo.exc")
        model = lib.nn.Linear(2, 2)
        with pytest.raises(exc.InvalidBackend, match=r"Invalid backend: 'nope', see `\w+._dynamo.list_backends\(\)`"):
            lib.compile(model, backend="nope")
        with pytest.raises(exc.InvalidBackend, match="Invalid backend: 'nope'"):
            lib.compile(model, backend="nope", mode="bad")  # the backend is checked first
        decorate = lib.compile(backend="nope")  # the decorator checks when applied
        with pytest.raises(exc.InvalidBackend, match="Invalid backend: 'nope'"):
            decorate(model)
        assert issubclass(exc.InvalidBackend, RuntimeError)
        for backend in ("eager", "aot_eager", "inductor", "cudagraphs"):
            assert lib.compile(model, backend=backend)(lib.ones(1, 2)).shape == (1, 2)


def test_compile_checks_mode_for_the_inductor_only():
    for lib in (torch, ember):
        model = lib.nn.Linear(2, 2)
        for mode in ("default", "lite", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs", None):
            lib.compile(model, mode=mode)
        with pytest.raises(RuntimeError, match="Unrecognized mode=bad, should be one of: default, lite, "):
            lib.compile(model, mode="bad")
        lib.compile(model, mode="bad", backend="eager")
        with pytest.raises(RuntimeError, match="Either mode or options can be specified"):
            lib.compile(model, mode="default", options={}, backend="eager")


def test_list_backends():
    for exclude in (("debug", "experimental"), None, ("debug",), ("experimental",)):
        assert ember._dynamo.list_backends(exclude) == torch._dynamo.list_backends(exclude)
        assert ember.compiler.list_backends(exclude) == torch.compiler.list_backends(exclude)
    assert ember._dynamo.list_backends() == torch._dynamo.list_backends()


@pytest.mark.parametrize("module", ["_dynamo.config", "_inductor.config"])
def test_config_refuses_an_unknown_setting(module):
    for lib in (torch, ember):
        config = importlib.import_module(f"{lib.__name__}.{module}")
        with pytest.raises(AttributeError, match=rf"{lib.__name__}.{module}.not_a_real_name does not exist"):
            config.not_a_real_name = 1
        with pytest.raises(AttributeError, match=rf"{lib.__name__}.{module}.not_a_real_name does not exist"):
            config.not_a_real_name  # noqa: B018
        with pytest.raises(AttributeError, match="not_a_real_name does not exist"):
            with config.patch(not_a_real_name=1):
                pass
        assert not hasattr(config, "not_a_real_name")


def test_config_accepts_pytorch_settings_it_does_not_list():
    # settings of PyTorch's that ember's modules do not name are kept, as an assignment to PyTorch's works
    for lib, module, name in ((ember, "_dynamo.config", "allow_rnn"), (ember, "_inductor.config", "shape_padding")):
        config = importlib.import_module(f"{lib.__name__}.{module}")
        previous = getattr(config, name, None)
        setattr(config, name, True)
        assert getattr(config, name) is True
        setattr(config, name, previous)
    ember._dynamo.config.cache_size_limit = 8  # its own settings as ever


# -- a Python number beyond a 16-bit type's range -----------------------------------------------------
@pytest.mark.parametrize("name", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_16_bit_op_with_a_number_out_of_range_says_nothing(device, name, op):
    import warnings

    try:
        ember.backends.get_backend(device).native_dtype(getattr(ember, name))
    except TypeError as exc:
        pytest.skip(str(exc))  # the device holds no such type
    values = (1e5, -1e5, 65504.0, 65519.0, 65520.0, 70000, 3e38, 3.4e38, 1e39, float("nan"), float("inf"), 0.1)
    for value in values:
        expected = getattr(torch, op)(torch.tensor([1.5, -2.0], dtype=getattr(torch, name)), value)
        x = ember.tensor([1.5, -2.0], dtype=getattr(ember, name), device=device)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # NumPy's "overflow encountered in cast" leaked to the user
            got = getattr(ember, op)(x, value)
        assert str(got.cpu().tolist()) == str(expected.tolist()), value


# -- an ember tensor among PyTorch's operands, or a PyTorch tensor among ember's ---------------------
MIXED = {
    "ember + torch": lambda e, t: e + t,
    "torch + ember": lambda e, t: t + e,
    "ember.add(e, t)": lambda e, t: ember.add(e, t),
    "torch.add(t, e)": lambda e, t: torch.add(t, e),
    "torch.sin(e)": lambda e, t: torch.sin(e),
    "ember * torch": lambda e, t: e * t,
    "torch F.relu(e)": lambda e, t: torch.nn.functional.relu(e),
}


@pytest.mark.parametrize("case", sorted(MIXED))
def test_mixing_ember_and_torch_tensors_raises_type_error(case):
    # ember gave RecursionError: each side's dispatch handed the call back to the other for ever
    with pytest.raises(TypeError):
        MIXED[case](ember.ones(2), torch.ones(2))


def test_comparing_ember_and_torch_tensors_ends():
    e, t = ember.ones(2), torch.ones(2)
    assert (e == t) is False and (t == e) is False  # neither side compares with the other: identity
