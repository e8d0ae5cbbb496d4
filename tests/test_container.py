"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict (behaviour and reprs vs torch)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


def _pair(build):
    """The same container built in ember and torch (``build(nn_module)``)."""
    return build(nn), build(torch.nn)


def test_sequential(device):
    seq_e, seq_t = _pair(lambda m: m.Sequential(m.Linear(2, 3), m.ReLU(), m.Linear(3, 1)))
    assert repr(seq_e) == repr(seq_t)
    assert len(seq_e) == 3 and isinstance(seq_e[1], nn.ReLU) and isinstance(seq_e[-1], nn.Linear)
    assert repr(seq_e[1:]) == repr(seq_t[1:]) and isinstance(seq_e[1:], nn.Sequential)
    assert [type(m).__name__ for m in seq_e] == ["Linear", "ReLU", "Linear"]
    seq_e.to(device)
    x = ember.randn(4, 2, device=device)
    np.testing.assert_allclose(seq_e(x).detach().cpu().numpy(), seq_e[2](seq_e[1](seq_e[0](x))).detach().cpu().numpy())
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq_e[3]
    named_e, named_t = _pair(lambda m: m.Sequential(OrderedDict([("fc", m.Linear(2, 2)), ("act", m.Tanh())])))
    assert repr(named_e) == repr(named_t) and isinstance(named_e.fc, nn.Linear)


def test_sequential_mutation():
    seq_e, seq_t = _pair(lambda m: m.Sequential(m.ReLU(), m.Tanh(), m.Sigmoid()))
    for seq, m in ((seq_e, nn), (seq_t, torch.nn)):
        seq[1] = m.ELU()
        del seq[0]
        seq.append(m.Identity())
        seq.insert(1, m.ReLU6())
        seq.extend([m.Softsign()])
        seq.pop(0)
    assert repr(seq_e) == repr(seq_t)
    assert repr(seq_e + seq_e) == repr(seq_t + seq_t)
    assert repr(seq_e * 2) == repr(seq_t * 2)
    seq_e += nn.Sequential(nn.ReLU())
    seq_t += torch.nn.Sequential(torch.nn.ReLU())
    assert repr(seq_e) == repr(seq_t)
    del seq_e[1:3]
    del seq_t[1:3]
    assert repr(seq_e) == repr(seq_t)
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential"):
        seq_e + nn.ReLU()
    with pytest.raises(ValueError, match="Non-positive multiplication factor"):
        seq_e * 0
    assert "0" not in dir(seq_e)


def test_module_list():
    lst_e, lst_t = _pair(lambda m: m.ModuleList([m.Linear(2, 2) for _ in range(3)] + [m.ReLU()]))
    assert repr(lst_e).replace("ember", "torch") == repr(lst_t)
    assert len(lst_e) == 4 and len(list(lst_e.parameters())) == 6
    for lst, m in ((lst_e, nn), (lst_t, torch.nn)):
        lst.append(m.Tanh())
        lst.extend([m.ReLU(), m.ReLU()])
        lst.insert(0, m.Sigmoid())
        lst[1] = m.ELU()
        del lst[2]
        lst += [m.Softsign()]
    assert repr(lst_e) == repr(lst_t)
    assert repr(lst_e[2:5]) == repr(lst_t[2:5]) and isinstance(lst_e[2:5], nn.ModuleList)
    assert repr(lst_e + lst_e) == repr(lst_t + lst_t)
    assert [type(m).__name__ for m in lst_e] == [type(m).__name__ for m in lst_t]
    assert repr(nn.ModuleList()) == "ModuleList()"
    with pytest.raises(IndexError, match="index 20 is out of range"):
        lst_e[20]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        lst_e.extend(3)
    with pytest.raises(NotImplementedError):
        lst_e(1)


def test_module_dict():
    d_e, d_t = _pair(lambda m: m.ModuleDict({"b": m.ReLU(), "a": m.Linear(2, 2)}))
    assert repr(d_e) == repr(d_t)
    assert list(d_e.keys()) == ["b", "a"] and "a" in d_e and len(d_e) == 2
    d_e["c"] = nn.Tanh()
    d_e.update([("d", nn.ELU())])
    d_e.update(nn.ModuleDict({"e": nn.ReLU()}))
    assert list(d_e) == ["b", "a", "c", "d", "e"]
    assert isinstance(d_e.pop("c"), nn.Tanh) and "c" not in d_e
    del d_e["d"]
    assert [k for k, _ in d_e.items()] == ["b", "a", "e"] and len(list(d_e.values())) == 3
    d_e.clear()
    assert len(d_e) == 0
    with pytest.raises(ValueError, match="has length 1; 2 is required"):
        d_e.update([("x",)])
    with pytest.raises(TypeError, match="should be called with an iterable"):
        d_e.update(3)


def test_parameter_list():
    pl = nn.ParameterList([ember.zeros(2, 3), nn.Parameter(ember.ones(1))])
    tl = torch.nn.ParameterList([torch.zeros(2, 3), torch.nn.Parameter(torch.ones(1))])
    assert repr(pl).replace("ember", "torch") == repr(tl)
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    assert len(list(pl.parameters())) == 2 and [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pl.append(ember.zeros(4))
    pl.extend([ember.zeros(5)])
    pl += [ember.zeros(6)]
    pl[0] = ember.ones(2)
    assert [p.shape[0] for p in pl] == [2, 1, 4, 5, 6] and isinstance(pl[0], nn.Parameter)
    assert len(pl[1:3]) == 2 and pl[-1].shape == (6,)
    with pytest.raises(IndexError):
        pl[9]
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable"):
        pl.extend(ember.zeros(2))
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        pl()


def test_parameter_dict():
    pd = nn.ParameterDict({"b": ember.zeros(2), "a": nn.Parameter(ember.ones(3))})
    td = torch.nn.ParameterDict({"b": torch.zeros(2), "a": torch.nn.Parameter(torch.ones(3))})
    assert repr(pd).replace("ember", "torch") == repr(td)
    assert list(pd.keys()) == list(td.keys()) == ["a", "b"]  # plain dicts are inserted sorted
    assert isinstance(pd["b"], nn.Parameter) and "a" in pd and len(pd) == 2
    pd["c"] = ember.zeros(1)
    assert pd.get("zz") is None and pd.get("c") is pd["c"]
    assert pd.setdefault("d", ember.ones(1)) is pd["d"]
    assert list(reversed(pd)) == ["d", "c", "b", "a"]
    key, value = pd.popitem()
    assert key == "d" and "d" not in pd and isinstance(value, nn.Parameter)
    assert isinstance(pd.pop("c"), nn.Parameter)
    copy = pd.copy()
    assert list(copy.keys()) == ["a", "b"] and copy["a"] is pd["a"]
    merged = pd | nn.ParameterDict({"z": ember.zeros(1)})
    assert list(merged.keys()) == ["a", "b", "z"]
    assert sorted(pd.fromkeys(["x", "y"]).keys()) == ["x", "y"]
    assert [n for n, _ in pd.named_parameters()] == ["a", "b"]
    pd.clear()
    assert len(pd) == 0
    with pytest.raises(TypeError, match="not a string"):
        pd[1] = ember.zeros(1)
    with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
        pd(1)


def test_containers_in_state_dict():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
            self.heads = nn.ModuleDict({"x": nn.Linear(2, 1)})
            self.scales = nn.ParameterList([ember.ones(2)])
            self.offsets = nn.ParameterDict({"o": ember.zeros(2)})

    keys = list(Model().state_dict())
    assert keys == [
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
        "heads.x.weight",
        "heads.x.bias",
        "scales.0",
        "offsets.o",
    ]
