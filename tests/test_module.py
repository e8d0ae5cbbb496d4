"""nn.Module and nn.Parameter: registration, traversal, modes, state dicts, moves, hooks, repr, copying."""

from __future__ import annotations

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest
from reference import to_torch

import ember
from ember import nn

torch = pytest.importorskip("torch")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.register_buffer("count", ember.zeros(1))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(3, 4)
        self.act = torch.nn.ReLU()
        self.fc2 = torch.nn.Linear(4, 2)
        self.register_buffer("count", torch.zeros(1))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_parameter_basics():
    data = ember.ones(2, 3)
    p = nn.Parameter(data)
    assert isinstance(p, nn.Parameter) and isinstance(p, ember.Tensor)
    assert p.requires_grad and p.is_leaf
    with ember.no_grad():
        p.add_(1)
    assert float(data.sum()) == 12.0  # shares storage
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert repr(nn.Parameter(ember.tensor([1.0, 2.0]))) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert type(p * 2) is ember.Tensor
    assert nn.Parameter().shape == (0,)
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q._data is not p._data
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is nn.Parameter and r.requires_grad and r.tolist() == p.tolist()
    with pytest.raises(TypeError, match="must be a Tensor"):
        nn.Parameter([1.0])


def test_registration_and_traversal():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_buffers()] == ["count", "scratch"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules(prefix="model")] == ["model", "model.fc1", "model.act", "model.fc2"]
    assert len(list(net.parameters(recurse=False))) == 0
    assert list(net.state_dict()) == list(TorchNet().state_dict())
    # Shared modules and parameters are returned once.
    net.fc3 = net.fc1
    assert len(list(net.modules())) == 4 and len(list(net.parameters())) == 4
    assert len(list(net.named_parameters(remove_duplicate=False))) == 6
    # Reassigning moves names between the registries; deleting removes them.
    with pytest.raises(TypeError, match="cannot assign 'ember.FloatTensor' as child module 'fc3'"):
        net.fc3 = ember.zeros(1)
    net.fc3 = None
    assert net.fc3 is None and len(list(net.modules())) == 4
    del net.fc3
    assert "fc3" not in net._modules
    net.register_parameter("extra", None)
    assert net.extra is None and "extra" not in net.state_dict()
    del net.extra
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nothing'"):
        _ = net.nothing
    assert "fc1" in dir(net) and "count" in dir(net)


def test_registration_errors():
    net = Net()
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        net.register_buffer("training", ember.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        net.register_parameter("a.b", nn.Parameter(ember.zeros(1)))
    with pytest.raises(TypeError, match="cannot assign 'ember.FloatTensor' object to parameter 'p'"):
        net.register_parameter("p", ember.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'ember.FloatTensor' as parameter 'fc1_w'"):
        net.register_parameter("fc1_w", None)
        net.fc1_w = ember.zeros(1)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'fc1'"):
        net.fc1 = 3
    with pytest.raises(TypeError, match="is not a Module subclass"):
        net.add_module("x", 3)
    with pytest.raises(TypeError, match="buffer 'count'"):
        net.count = 3
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        nn.Module(foo=1)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_get_submodule_parameter_buffer():
    net = nn.Sequential(OrderedDict(inner=Net()))
    assert net.get_submodule("inner.fc1") is net.inner.fc1
    assert net.get_parameter("inner.fc2.bias") is net.inner.fc2.bias
    assert net.get_buffer("inner.count") is net.inner.count
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("inner.nope")
    with pytest.raises(AttributeError, match="is not an nn.Module"):
        net.get_submodule("inner.count")


def test_train_eval_requires_grad_zero_grad_apply():
    net = Net()
    assert net.training and net.fc1.training
    assert net.eval() is net and not net.fc1.training
    net.train()
    assert net.fc2.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train(1)
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    net(ember.randn(2, 3)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Linear", "Net"]


def test_state_dict_and_load(device):
    net = Net().to(device)
    tnet = TorchNet()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict) and list(sd) == list(tnet.state_dict())
    assert not sd["fc1.weight"].requires_grad
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight
    assert list(net.state_dict(prefix="m.")) == ["m." + k for k in sd]
    other = Net().to(device)
    result = other.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(other.fc1.weight.detach().cpu().numpy(), net.fc1.weight.detach().cpu().numpy())
    # The parameters keep their identity (copy_) unless assign=True.
    weight = other.fc1.weight
    other.load_state_dict(sd)
    assert other.fc1.weight is weight
    other.load_state_dict(sd, assign=True)
    assert other.fc1.weight is not weight and isinstance(other.fc1.weight, nn.Parameter)


def test_load_state_dict_reports_all_errors_together():
    net = nn.Linear(3, 2)
    tnet = torch.nn.Linear(3, 2)
    bad_e = {"weight": ember.zeros(5, 5), "extra": ember.zeros(1)}
    bad_t = {"weight": torch.zeros(5, 5), "extra": torch.zeros(1)}
    with pytest.raises(RuntimeError) as err_e:
        net.load_state_dict(bad_e)
    with pytest.raises(RuntimeError) as err_t:
        tnet.load_state_dict(bad_t)
    assert str(err_e.value).replace("ember.Size", "torch.Size") == str(err_t.value)
    # strict=False still reports the keys (as PyTorch does), without raising.
    result = net.load_state_dict({"bias": ember.zeros(2), "extra": ember.zeros(1)}, strict=False)
    expected = tnet.load_state_dict({"bias": torch.zeros(2), "extra": torch.zeros(1)}, strict=False)
    assert result == (["weight"], ["extra"]) and tuple(result) == tuple(expected)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        net.load_state_dict([1])


def test_moves_and_casts_keep_parameter_identity(device):
    net = Net()
    weight = net.fc1.weight
    net(ember.randn(2, 3)).sum().backward()
    net.double()
    assert net.fc1.weight is weight and weight.dtype == ember.float64 and weight.grad.dtype == ember.float64
    assert net.count.dtype == ember.float64
    net.to(device)
    dev = ember.device(device)
    assert net.fc1.weight is weight and weight.device == dev and weight.grad.device == dev
    assert net.count.device == dev
    net.to(ember.float32)
    assert weight.dtype == ember.float32
    net.float().half()
    assert weight.dtype == ember.float16
    net.type(ember.float64)
    assert weight.dtype == ember.float64
    net.cpu()
    assert weight.device.type == "cpu"
    with pytest.raises(TypeError, match="only accepts floating point"):
        net.to(ember.int64)


def test_forward_hooks():
    net = Net()
    calls = []
    h1 = net.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = net.register_forward_hook(lambda m, args, out: out + 1)
    h3 = net.register_forward_pre_hook(lambda m, args: calls.append("first"), prepend=True)
    h4 = net.register_forward_hook(lambda m, args, kwargs, out: calls.append(kwargs), with_kwargs=True)
    x = ember.randn(2, 3)
    out = net(x)  # the pre-hook zeroes the input, the forward hook adds one
    expected = net.forward(ember.zeros(2, 3)) + 1
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    assert calls == ["first", {}]
    for h in (h1, h2, h3, h4):
        h.remove()
    h1.remove()
    np.testing.assert_allclose(net(x).detach().numpy(), net.forward(x).detach().numpy())
    with net.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 0,), kwargs), with_kwargs=True):
        np.testing.assert_allclose(net(x).detach().numpy(), net.forward(ember.zeros(2, 3)).detach().numpy())
    assert not net._forward_pre_hooks and not net._forward_pre_hooks_with_kwargs


def test_forward_hook_always_called():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    seen = []
    m = Boom()
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(1)
    assert seen == [None]


def _torch_copy(net):
    tnet = TorchNet()
    for (_, pe), (_, pt) in zip(net.named_parameters(), tnet.named_parameters()):
        pt.data = to_torch(pe)
    return tnet


def test_full_backward_hooks_match_torch():
    net = Net().double()
    tnet = _torch_copy(net).double()
    records = {"e": [], "t": []}
    for key, module in (("e", net.fc2), ("t", tnet.fc2)):
        module.register_full_backward_pre_hook(lambda m, go, k=key: records[k].append(("pre", [go[0].shape])))
        module.register_full_backward_hook(
            lambda m, gi, go, k=key: records[k].append(("post", gi[0].detach().numpy().copy(), go[0].numpy().copy()))
        )
    x = np.random.default_rng(0).standard_normal((5, 3))
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    net(xe).pow(2).sum().backward()
    tnet(xt).pow(2).sum().backward()
    (pe, se), (pt, st) = records["e"], records["t"]
    assert pe[0] == "pre" and list(pe[1][0]) == list(pt[1][0])
    np.testing.assert_allclose(se[1], st[1], rtol=1e-10)
    np.testing.assert_allclose(se[2], st[2], rtol=1e-10)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


def test_full_backward_hook_can_replace_grad_input():
    lin = nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = ember.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    assert float(x.grad.abs().sum()) == 0
    assert lin.weight.grad is not None and float(lin.weight.grad.abs().sum()) > 0


def test_full_backward_hook_without_input_grad():
    lin = nn.Linear(3, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    # PyTorch warns that the hook fires on the outputs' gradients, pointing at the backward() call
    with pytest.warns(
        UserWarning,
        match="Full backward hook is firing when gradients are computed with respect to "
        "module outputs since no inputs require gradients",
    ) as record:
        lin(ember.randn(4, 3)).sum().backward()
    assert seen == [((None,), ember.Size([4, 2]))]
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lin(ember.randn(4, 3, requires_grad=True)).sum().backward()


def test_backward_pre_hook_can_replace_grad_output():
    lin = nn.Linear(3, 2)
    lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    x = ember.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.ones((4, 2)) @ lin.weight.detach().numpy(), rtol=1e-6)


def test_legacy_backward_hook_and_mixing_error():
    lin = nn.Linear(3, 2)
    seen = []
    lin.register_backward_hook(lambda m, gi, go: seen.append(len(go)))
    lin(ember.randn(4, 3, requires_grad=True)).sum().backward()
    assert seen == [1]
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
        lin.register_full_backward_hook(lambda m, gi, go: None)


def test_global_forward_hook():
    seen = []
    handle = nn.modules.module.register_module_forward_hook(lambda m, a, o: seen.append(type(m).__name__))
    try:
        nn.Linear(2, 2)(ember.randn(1, 2))
    finally:
        handle.remove()
    nn.Linear(2, 2)(ember.randn(1, 2))
    assert seen == ["Linear"]


def test_state_dict_hooks():
    net = nn.Linear(2, 2)
    net.register_state_dict_post_hook(lambda m, sd, prefix, meta: sd.__setitem__(prefix + "tag", ember.zeros(1)))
    assert "tag" in net.state_dict()
    seen = []
    net.register_load_state_dict_post_hook(lambda m, keys: seen.append(list(keys.unexpected_keys)))
    net.load_state_dict({"weight": ember.zeros(2, 2), "bias": ember.zeros(2)})
    assert seen == [[]]


def test_extra_state():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.value = 1

        def get_extra_state(self):
            return {"value": self.value}

        def set_extra_state(self, state):
            self.value = state["value"]

    m = WithExtra()
    m.value = 5
    sd = m.state_dict()
    assert sd["_extra_state"] == {"value": 5}
    other = WithExtra()
    other.load_state_dict(sd)
    assert other.value == 5
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        other.load_state_dict({})


def test_repr_matches_torch():
    assert repr(Net()) == repr(TorchNet()).replace("TorchNet", "Net")
    nested_e = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    nested_t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(3, 1)))
    assert repr(nested_e) == repr(nested_t)

    class Multi(nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Multi()) == "Multi(\n  a=1\n  b=2\n)"
    assert repr(nn.Module()) == "Module()"


def test_deepcopy_and_pickle():
    net = Net()
    net.shared = net.fc1
    clone = copy.deepcopy(net)
    assert clone.fc1 is clone.shared and clone.fc1 is not net.fc1
    assert isinstance(clone.fc1.weight, nn.Parameter)
    x = ember.randn(2, 3)
    np.testing.assert_array_equal(clone(x).detach().numpy(), net(x).detach().numpy())
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored(x).detach().numpy(), net(x).detach().numpy())
    assert list(restored.state_dict()) == list(net.state_dict())
    state = net.__dict__.copy()
    del state["_forward_hooks_always_called"]
    blank = Net.__new__(Net)
    blank.__setstate__(state)
    assert blank._forward_hooks_always_called == OrderedDict()


def test_to_empty_matches_torch():
    """Module.to_empty (missing before): every parameter and buffer replaced by an uninitialized tensor
    of its shape and dtype, the Parameter objects kept, as PyTorch's."""
    shapes = []
    for lib in (ember, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3)).double()
        weight = model[0].weight
        assert model.to_empty(device="cpu") is model and model[0].weight is weight
        shapes.append([(k, tuple(v.shape), str(v.dtype).split(".")[-1]) for k, v in model.state_dict().items()])
        assert model[0].weight.requires_grad
        model.to_empty(device="cpu", recurse=False)
    assert shapes[0] == shapes[1]


def test_module_compile_in_place():
    """Module.compile (missing before) returns None and leaves the module running eagerly, checking
    its arguments as ember.compile does."""
    model = nn.Linear(2, 2)
    x = ember.ones(1, 2)
    expected = model(x)
    assert model.compile(mode="reduce-overhead") is None and type(model) is nn.Linear
    assert ember.equal(model(x), expected)
    with pytest.raises(RuntimeError, match="Unrecognized mode=bogus"):
        model.compile(mode="bogus")
    with pytest.raises(RuntimeError):
        torch.nn.Linear(2, 2).compile(mode="bogus")
