"""Dropout layers: masks and scaling, eval identity, feature dropout, alpha dropout statistics, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import Variable


def _np(t):
    return t.detach().cpu().numpy()


def test_dropout_mask_and_scale(device, dtype):
    x = ember.ones(2000, device=device, dtype=dtype, requires_grad=True)
    y = F.dropout(x, 0.25, training=True)
    values = _np(y)
    assert np.all(np.isclose(values, 0) | np.isclose(values, 1 / 0.75))
    assert abs((values == 0).mean() - 0.25) < 0.05
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), values, rtol=1e-6)


@pytest.mark.parametrize(
    "cls", [nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout]
)
def test_eval_and_p0_are_identity(cls, device):
    x = ember.randn(2, 3, 4, 4, 2, device=device) if cls is nn.Dropout3d else ember.randn(2, 3, 4, 4, device=device)
    if cls is nn.Dropout1d:
        x = ember.randn(2, 3, 4, device=device)
    m = cls(0.5)
    m.eval()
    assert m(x) is x
    assert cls(0.0)(x) is x
    assert repr(m) == f"{cls.__name__}(p=0.5, inplace=False)"


@pytest.mark.parametrize("fn,shape", [(F.dropout1d, (4, 6, 50)), (F.dropout2d, (4, 6, 5, 5)), (F.dropout3d, (4, 6, 2, 3, 4)),
                                      (F.dropout1d, (6, 50)), (F.dropout3d, (6, 2, 3, 4))])  # fmt: skip
def test_feature_dropout_zeroes_whole_channels(fn, shape, device):
    x = ember.ones(*shape, device=device)
    y = _np(fn(x, 0.5, training=True))
    channel_axes = 2 if len(shape) in (3, 4) and fn is not F.dropout3d or len(shape) == 5 else 1
    flat = y.reshape(y.shape[:channel_axes] + (-1,))
    assert np.all((flat == 0).all(-1) | (flat == 2).all(-1))


def test_p1_zeroes(device):
    x = ember.randn(3, 4, device=device)
    assert not np.any(_np(F.dropout(x, 1.0, training=True)))


def test_alpha_dropout_keeps_mean_and_variance(device):
    x = ember.randn(200000, device=device)
    for p in (0.2, 0.5):
        y = _np(F.alpha_dropout(x, p, training=True))
        assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    y = _np(F.feature_alpha_dropout(ember.randn(1000, 200, 3, device=device), 0.3, training=True))
    assert abs(y.mean()) < 0.03 and abs(y.std() - 1) < 0.03


def test_inplace(device):
    leaf = ember.ones(100, device=device, requires_grad=True)
    x = leaf * 1.0
    version = x._version
    assert F.dropout(x, 0.5, training=True, inplace=True) is x
    assert x._version > version
    x.sum().backward()
    assert set(np.unique(_np(leaf.grad))) <= {0.0, 2.0}


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_p(p, device):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="dropout probability"):
        F.dropout(ember.randn(2, device=device), p)
    with pytest.raises(ValueError, match="dropout probability"):
        F.alpha_dropout(ember.randn(2, device=device), p, training=True)


def test_dropout1d_rejects_bad_rank(device):
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(ember.randn(2, 3, 4, 5, device=device), 0.5)
    with pytest.warns(UserWarning, match="dropout2d"):
        F.dropout2d(ember.randn(2, 3, 4, device=device), 0.5)


def test_seed_examples():
    m = nn.Dropout(p=0.2)
    assert m(Variable(ember.randn(20, 16))).shape == (20, 16)
    m = nn.Dropout2d(p=0.2)
    assert m(Variable(ember.randn(20, 16, 32, 32))).shape == (20, 16, 32, 32)
    m = nn.Dropout3d(p=0.2)
    assert m(Variable(ember.randn(20, 16, 4, 32, 32))).shape == (20, 16, 4, 32, 32)
    m = nn.AlphaDropout(p=0.2)
    assert m(Variable(ember.randn(20, 16))).shape == (20, 16)


@pytest.mark.parametrize("name", ["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d"])
@pytest.mark.parametrize("dtype_name", ["int64", "bool", "uint8"])
def test_integer_input_matches_torch(name, dtype_name, device):
    """An integer or bool input in training: p=0 and p=1 keep its dtype (p=1 gives zeros), any other p
    raises PyTorch's RuntimeError (ember once returned float32)."""
    torch = pytest.importorskip("torch")
    x = np.ones((2, 3, 4), dtype=dtype_name)
    for p in (0.0, 1.0):
        out = getattr(F, name)(ember.tensor(x, device=device), p, True)
        ref = getattr(torch.nn.functional, name)(torch.tensor(x), p, True)
        assert out.dtype.name == dtype_name == str(ref.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(out.cpu().numpy(), ref.numpy())
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, name)(torch.tensor(x), 0.5, True)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type"):
        getattr(F, name)(ember.tensor(x, device=device), 0.5, True)
