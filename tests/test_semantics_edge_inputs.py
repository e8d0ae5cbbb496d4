"""0-d, 1-d and empty inputs of the losses and normalisations, checked against PyTorch: the same
result (value, shape, gradient) or the same exception type and message."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402


def _functional(T):
    return TF if T is torch else F


#: name -> (function of (module, make), where make(values, dtype=None) builds a tensor)
CASES = {
    "multi_margin_0d": lambda T, mk, r: _functional(T).multi_margin_loss(mk(0.5), mk(0, "int64"), reduction=r),
    "multi_margin_0d_target_1": lambda T, mk, r: _functional(T).multi_margin_loss(
        mk(0.5), mk([0], "int64"), reduction=r
    ),
    "multi_margin_1d_0d_target": lambda T, mk, r: _functional(T).multi_margin_loss(
        mk([0.5, 0.1, 0.9]), mk(2, "int64"), reduction=r
    ),
    "multi_margin_1d_1_target": lambda T, mk, r: _functional(T).multi_margin_loss(
        mk([0.5, 0.1, 0.9]), mk([1], "int64"), p=2, reduction=r
    ),
    "multi_margin_1_class": lambda T, mk, r: _functional(T).multi_margin_loss(mk([0.5]), mk(0, "int64"), reduction=r),
    "multi_margin_target_out_of_range": lambda T, mk, r: _functional(T).multi_margin_loss(
        mk(0.5), mk(1, "int64"), reduction=r
    ),
    "multi_margin_empty_1d": lambda T, mk, r: _functional(T).multi_margin_loss(mk([]), mk(0, "int64"), reduction=r),
    "multilabel_margin_0d": lambda T, mk, r: _functional(T).multilabel_margin_loss(
        mk(0.5), mk(0, "int64"), reduction=r
    ),
    "multilabel_margin_0d_padding": lambda T, mk, r: _functional(T).multilabel_margin_loss(
        mk(0.5), mk(-1, "int64"), reduction=r
    ),
    "multilabel_margin_0d_target_1": lambda T, mk, r: _functional(T).multilabel_margin_loss(
        mk(0.5), mk([0], "int64"), reduction=r
    ),
    "multilabel_margin_1_target_0d": lambda T, mk, r: _functional(T).multilabel_margin_loss(
        mk([0.5]), mk(0, "int64"), reduction=r
    ),
    "multilabel_margin_1d": lambda T, mk, r: _functional(T).multilabel_margin_loss(
        mk([0.5, 0.1, 0.9]), mk([2, 0, -1], "int64"), reduction=r
    ),
    "multilabel_margin_target_out_of_range": lambda T, mk, r: _functional(T).multilabel_margin_loss(
        mk(0.5), mk(1, "int64"), reduction=r
    ),
    "multilabel_margin_empty_1d": lambda T, mk, r: _functional(T).multilabel_margin_loss(
        mk([]), mk([], "int64"), reduction=r
    ),
    "multilabel_margin_wrong_target": lambda T, mk, r: _functional(T).multilabel_margin_loss(
        mk([0.5, 0.1]), mk([0], "int64"), reduction=r
    ),
}


def _run(fn, T, device, dtype, reduction):
    leaves = []

    def make(values, kind=None):
        if T is torch:
            t = torch.tensor(values, dtype=getattr(torch, kind or dtype))
        else:
            t = ember.tensor(values, dtype=getattr(ember, kind or dtype), device=device)
        if kind is None:
            t.requires_grad_(True)
            leaves.append(t)
        return t

    try:
        out = fn(T, make, reduction)
    except Exception as error:  # noqa: BLE001 - the exception itself is compared
        return error, None
    out.sum().backward()
    return out, [leaf.grad for leaf in leaves]


def _numpy(t):
    return t.detach().cpu().numpy() if isinstance(t, ember.Tensor) else t.detach().numpy()


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", list(CASES))
def test_losses_of_small_inputs_match_pytorch(name, reduction, device, dtype):
    expected, t_grads = _run(CASES[name], torch, device, dtype.name, reduction)
    actual, e_grads = _run(CASES[name], ember, device, dtype.name, reduction)
    if isinstance(expected, Exception):
        assert type(actual) is type(expected), (actual, expected)
        assert str(expected).split(" (")[0] in str(actual)
        return
    assert not isinstance(actual, Exception), actual
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_allclose(_numpy(actual), _numpy(expected), rtol=1e-6, atol=1e-7)
    for ge, gt in zip(e_grads, t_grads):
        np.testing.assert_allclose(_numpy(ge), _numpy(gt), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("training", [False, True])
def test_batch_norm_of_an_empty_1d_input_is_an_empty_copy(device, training, affine):
    """PyTorch returns a copy of an empty 1-D input (for any running statistics) and keeps the graph."""
    x = ember.zeros(0, device=device, requires_grad=True)
    stats = (ember.zeros(3, device=device), ember.ones(3, device=device))
    params = (ember.ones(3, device=device), ember.zeros(3, device=device)) if affine else (None, None)
    y = F.batch_norm(x, *stats, *params, training=training)
    t = TF.batch_norm(
        torch.zeros(0), torch.zeros(3), torch.ones(3), *((torch.ones(3), torch.zeros(3)) if affine else ()),
        training=training,
    )  # fmt: skip
    assert tuple(y.shape) == tuple(t.shape) == (0,)
    assert y.dtype == ember.float32
    y.sum().backward()
    assert tuple(x.grad.shape) == (0,)
    assert stats[0].tolist() == [0.0] * 3 and stats[1].tolist() == [1.0] * 3


def test_batch_norm_of_a_1d_input_is_refused_as_in_pytorch(device):
    x = ember.ones(3, device=device)
    with pytest.raises(RuntimeError, match="batch_norm"):
        F.batch_norm(x, ember.zeros(3, device=device), ember.ones(3, device=device))
    with pytest.raises(RuntimeError):
        TF.batch_norm(torch.ones(3), torch.zeros(3), torch.ones(3))
