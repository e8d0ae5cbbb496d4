"""Every optimizer's ``defaults`` (and so each param group) has PyTorch's keys in PyTorch's order."""

import pytest

import ember

torch = pytest.importorskip("torch")

NAMES = ["SGD", "Adam", "AdamW", "Adamax", "Adagrad", "Adadelta", "RMSprop", "ASGD", "NAdam", "RAdam", "Rprop"]
NAMES += ["SparseAdam", "LBFGS"]


@pytest.mark.parametrize("name", [n for n in NAMES if hasattr(ember.optim, n)])
def test_defaults_keys_in_pytorch_order(name):
    ours = getattr(ember.optim, name)([ember.nn.Parameter(ember.zeros(2))])
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))])
    assert list(ours.defaults) == list(theirs.defaults)
    assert list(ours.param_groups[0]) == list(theirs.param_groups[0])
