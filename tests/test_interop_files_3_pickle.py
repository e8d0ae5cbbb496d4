"""Plain pickle and copy.deepcopy of tensors and parameters, against PyTorch: attributes set on a
Parameter travel with it through pickle (torch's _rebuild_parameter_with_state), a leaf's backward hooks
are dropped with torch's warning (silenced by unserializable_hook), deepcopy keeps views and refuses
non-leaves with torch's error."""

import copy
import pickle
import warnings

import pytest

import ember

torch = pytest.importorskip("torch")

LIBS = [torch, ember]


def _roundtrip(obj):
    return pickle.loads(pickle.dumps(obj))


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_parameter_attributes_travel_through_pickle(lib):
    p = lib.nn.Parameter(lib.ones(2), requires_grad=False)
    p.tag = "bar"
    p.groups = [1, 2]
    back = _roundtrip(p)
    assert type(back) is lib.nn.Parameter and back.requires_grad is False
    assert back.tag == "bar" and back.groups == [1, 2]
    assert back.tolist() == [1.0, 1.0]
    copied = copy.deepcopy(p)  # deepcopy of a Parameter: torch's drops them (a new Parameter of its data)
    assert not hasattr(copied, "tag")


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
@pytest.mark.parametrize("kind", ["tensor", "parameter"])
def test_pickling_drops_hooks_with_torchs_warning(lib, kind):
    x = lib.ones(2, requires_grad=True) if kind == "tensor" else lib.nn.Parameter(lib.ones(2))
    x.register_hook(lambda grad: grad * 2)
    if kind == "tensor":
        with pytest.warns(UserWarning, match=r"backward hook .* on tensor will not be serialized.*unserializable_hook"):
            back = _roundtrip(x)
    else:  # a Parameter's are dropped without a word, in PyTorch
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            back = _roundtrip(x)
    back.sum().backward()
    assert back.grad.tolist() == [1.0, 1.0]  # no hook on the copy
    quiet = lib.ones(2, requires_grad=True)
    quiet.register_hook(lib.utils.hooks.unserializable_hook(lambda grad: grad))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _roundtrip(quiet)
        copy.deepcopy(quiet)


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_deepcopy_keeps_views_and_refuses_non_leaves(lib):
    a = lib.arange(6.0).reshape(2, 3)
    base, row, transposed = copy.deepcopy([a, a[1], a.t()])
    base[1, 0] = 100.0
    assert row.tolist() == [100.0, 4.0, 5.0] and transposed.stride() == (1, 3)
    base, row = _roundtrip([a, a[1]])  # plain pickle: each tensor its own memory, in both
    base[1, 0] = 100.0
    assert row.tolist() == [3.0, 4.0, 5.0]
    leaf = lib.ones(2, requires_grad=True)
    leaf.grad = lib.full((2,), 3.0)
    copied = copy.deepcopy(leaf)
    assert copied.is_leaf and copied.requires_grad and copied.grad.tolist() == [3.0, 3.0]
    with pytest.raises(
        RuntimeError,
        match=r"Only Tensors created explicitly by the user \(graph leaves\) support the deepcopy protocol",
    ):
        copy.deepcopy(leaf * 2)
