"""ember.utils.swap_tensors and ember.__future__'s module-conversion switches, against torch: what a module
holds after ``.double()``/``.float()``/``load_state_dict`` with the switches off, with overwrite and with
swap (identities, dtypes, classes, gradients), and swap_tensors' own results and refusals."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

LIBS = {"torch": torch, "ember": ember}


@pytest.fixture(params=sorted(LIBS))
def lib(request):
    lib = LIBS[request.param]
    yield lib
    lib.__future__.set_swap_module_params_on_conversion(False)
    lib.__future__.set_overwrite_module_params_on_conversion(False)


def _trained(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(lib.ones(4, 3)).sum().backward()
    opt.step()
    return model, opt


def _observe(lib, switch):
    """What a model's first weight and its gradient are after .double(), then .float()."""
    model, _ = _trained(lib)
    weight, grad = model[0].weight, model[0].weight.grad
    if switch:
        getattr(lib.__future__, f"set_{switch}_module_params_on_conversion")(True)
    seen = []
    for convert in ("double", "float"):
        getattr(model, convert)()
        now = model[0].weight
        seen.append(
            (
                now is weight,
                now.grad is grad,
                str(now.dtype).split(".")[1],
                str(now.grad.dtype).split(".")[1],
                str(grad.dtype).split(".")[1],
                type(now).__name__,
                type(now.grad).__name__,
                now.requires_grad,
                str(model[1].running_mean.dtype).split(".")[1],
            )
        )
    return seen


@pytest.mark.parametrize("switch", [None, "overwrite", "swap"])
def test_module_conversion_follows_the_switches_as_torch(switch):
    try:
        assert _observe(ember, switch) == _observe(torch, switch)
    finally:
        for lib in LIBS.values():
            lib.__future__.set_swap_module_params_on_conversion(False)
            lib.__future__.set_overwrite_module_params_on_conversion(False)


def test_switches_default_off_and_read_back(lib):
    f = lib.__future__
    assert f.get_swap_module_params_on_conversion() is False
    assert f.get_overwrite_module_params_on_conversion() is False
    f.set_swap_module_params_on_conversion(True)
    assert f.get_swap_module_params_on_conversion() is True


def _load_observed(lib, assign):
    model, _ = _trained(lib)
    weight = model[0].weight
    lib.__future__.set_swap_module_params_on_conversion(True)
    state = {k: v.double() * 2 for k, v in model.state_dict().items()}
    model.load_state_dict(state, assign=assign)
    after = model[0].weight
    out = [after is weight, str(after.dtype).split(".")[1], type(after).__name__, after.requires_grad]
    out.append(after.detach().numpy().tolist())
    out.append(str(model[1].running_var.dtype).split(".")[1])
    state["0.weight"] = state["0.weight"][:1]
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    out.append(str(error.value).split(":")[0])
    return out


@pytest.mark.parametrize("assign", [False, True])
def test_load_state_dict_swaps_as_torch(assign):
    try:
        assert _load_observed(ember, assign) == _load_observed(torch, assign)
    finally:
        for lib in LIBS.values():
            lib.__future__.set_swap_module_params_on_conversion(False)


def test_load_state_dict_refuses_a_module_load_that_returns_an_input(lib):
    class Returns(lib.Tensor):
        def module_load(self, other, assign=False):
            return other

    module = lib.nn.Linear(2, 2)
    module.register_buffer("extra", lib.zeros(2).as_subclass(Returns))
    lib.__future__.set_swap_module_params_on_conversion(True)
    state = module.state_dict()
    with pytest.raises(RuntimeError, match="module_load returned one of self or other"):
        module.load_state_dict({**state, "extra": lib.ones(2)})


def test_swap_tensors_exchanges_everything_as_torch(lib):
    a = lib.ones(2)
    a.tag = "a"
    b = lib.nn.Parameter(lib.zeros(3, dtype=lib.float64))
    b.tag = "b"
    lib.utils.swap_tensors(a, b)
    assert type(a).__name__ == "Parameter" and type(b) is lib.Tensor
    assert a.dtype == lib.float64 and a.shape == (3,) and a.requires_grad and not b.requires_grad
    assert (a.tag, b.tag) == ("b", "a")
    np.testing.assert_array_equal(a.detach().numpy(), np.zeros(3))
    np.testing.assert_array_equal(b.numpy(), np.ones(2))


def test_a_graph_recorded_before_a_swap_refuses_to_back_propagate_as_torch(lib):
    x = lib.ones(2, requires_grad=True)
    y = (x * 3).sum()
    lib.utils.swap_tensors(x, lib.zeros(2))
    with pytest.raises(RuntimeError, match="AccumulateGrad node that was poisoned by swap_tensors"):
        y.backward()
    z = lib.zeros(2, requires_grad=True)
    other = lib.ones(3, requires_grad=True)
    lib.utils.swap_tensors(z, other)
    (z * 2).sum().backward()  # a graph recorded after the swap feeds it
    np.testing.assert_array_equal(z.grad.numpy(), [2.0, 2.0, 2.0])


def test_swap_tensors_refuses_a_weakly_referenced_tensor_as_torch(lib):
    a = lib.ones(2)
    ref = weakref.ref(a)
    with pytest.raises(RuntimeError, match="Cannot swap t1 because it has weakref associated with it"):
        lib.utils.swap_tensors(a, lib.zeros(2))
    with pytest.raises(RuntimeError, match="Cannot swap t2 because it has weakref associated with it"):
        lib.utils.swap_tensors(lib.zeros(2), a)
    assert ref() is a
