"""PyTorch's top-level forms of ember's nn computations that programs call directly: the recurrent cells
(``torch.lstm_cell``, ...), against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from reference import check, randn

import ember

torch = pytest.importorskip("torch")

CELLS = {"lstm_cell": 4, "gru_cell": 3, "rnn_tanh_cell": 1, "rnn_relu_cell": 1}


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("biases", ["both", "none", "b_hh only"])
def test_recurrent_cells(device, dtype, name, biases):
    # ember had none of them (AttributeError)
    gates, n, features, hidden = CELLS[name], 3, 4, 5
    arrays = [randn(n, features), randn(n, hidden), randn(n, hidden)]
    arrays += [randn(gates * hidden, features), randn(gates * hidden, hidden)]
    arrays += [randn(gates * hidden), randn(gates * hidden)]

    def call(lib):
        def run(x, h, c, w_ih, w_hh, b_ih, b_hh):
            bias = {"both": (b_ih, b_hh), "none": (), "b_hh only": (None, b_hh)}[biases]
            state = (h, c) if name == "lstm_cell" else h
            return getattr(lib, name)(x, state, w_ih, w_hh, *bias)

        return run

    check(call(ember), call(torch), arrays, device=device, dtype=dtype)


def test_recurrent_cell_errors():
    for lib in (ember, torch):
        x, h, w_ih, w_hh = lib.ones(3, 4), lib.ones(3, 5), lib.ones(20, 4), lib.ones(20, 5)
        with pytest.raises(RuntimeError, match="^lstm_cell expects two hidden states$"):
            lib.lstm_cell(x, (h,), w_ih, w_hh)
        with pytest.raises(RuntimeError, match="^input has inconsistent input_size: got 3 expected 4$"):
            lib.lstm_cell(lib.ones(3, 3), (h, h), w_ih, w_hh)
        with pytest.raises(RuntimeError, match="^Input batch size 3 doesn't match hidden1 batch size 2$"):
            lib.lstm_cell(x, (h, h[:2]), w_ih, w_hh)
        with pytest.raises(RuntimeError, match="^hidden0 has inconsistent hidden_size: got 4, expected 5$"):
            lib.gru_cell(x, lib.ones(3, 4), lib.ones(15, 4), lib.ones(15, 5))


@pytest.mark.parametrize("affine", [True, False])
def test_native_layer_norm_and_group_norm(device, dtype, affine):
    # ember had neither (AttributeError); the statistics carry no gradient, as PyTorch's
    x, w, b = randn(2, 6, 5), randn(6, 5), randn(6, 5)
    extra = [w, b] if affine else [None, None]
    check(lambda x, w, b: ember.native_layer_norm(x, [6, 5], w, b, 1e-5),
          lambda x, w, b: torch.native_layer_norm(x, [6, 5], w, b, 1e-5), [x, *extra], device=device, dtype=dtype)  # fmt: skip
    check(lambda x, w, b: ember.native_layer_norm(x, (5,), w, b, 1e-3),
          lambda x, w, b: torch.native_layer_norm(x, (5,), w, b, 1e-3),
          [x, *([w[0], b[0]] if affine else extra)], device=device, dtype=dtype)  # fmt: skip
    extra = [w[:, 0], b[:, 0]] if affine else [None, None]
    check(lambda x, w, b: ember.native_group_norm(x, w, b, 2, 6, 5, 3, 1e-5),
          lambda x, w, b: torch.native_group_norm(x, w, b, 2, 6, 5, 3, 1e-5), [x, *extra], device=device, dtype=dtype)  # fmt: skip
    out = ember.native_layer_norm(ember.tensor(x, device=device, requires_grad=True), [5], None, None, 1e-5)
    assert [t.requires_grad for t in out] == [True, False, False]
    out = ember.native_group_norm(ember.tensor(x, device=device, requires_grad=True), None, None, 2, 6, 5, 3, 1e-5)
    assert [t.requires_grad for t in out] == [True, True, True]


@pytest.mark.parametrize("training", [True, False])
def test_native_batch_norm(device, dtype, training):
    # ember had none (AttributeError): the batch's mean and inverse deviation returned in training, empty
    # tensors outside it; the running statistics updated as batch_norm does
    stats = {}
    for lib, dev in ((ember, device), (torch, "cpu")):
        mean = lib.tensor([0.5, -1.0, 0.0], dtype=getattr(lib, str(dtype).split(".")[-1]), device=dev)
        stats[lib] = (mean, mean.abs() + 1)

    def call(lib):
        return lambda x, w, b: lib.native_batch_norm(x, w, b, *stats[lib], training, 0.2, 1e-5)

    check(call(ember), call(torch), [randn(4, 3, 5), randn(3), randn(3)], device=device, dtype=dtype)
    for e, t in zip(stats[ember], stats[torch]):
        assert e.cpu().tolist() == pytest.approx(t.tolist(), rel=1e-5)


def test_native_dropout_and_feature_dropouts():
    # ember had none of them (AttributeError); with one seed they drop what PyTorch drops (on the CPU, whose
    # stream PyTorch's is)
    found = []
    for lib, dev in ((ember, "cpu"), (torch, "cpu")):
        x = lib.arange(1.0, 25.0, device=dev).reshape(2, 3, 4).requires_grad_()
        lib.manual_seed(3)
        out, mask = lib.native_dropout(x, 0.3, True)
        out.sum().backward()
        kept = lib.native_dropout(x, 0.3, False)
        lib.manual_seed(3)
        features = lib.feature_dropout(x, 0.5, True)
        y = x.detach().clone()
        lib.manual_seed(3)
        lib.feature_dropout_(y, 0.5, True)
        z = x.detach().clone()
        lib.manual_seed(3)
        lib.feature_alpha_dropout_(z, 0.5, True)
        w = x.detach().clone()
        lib.manual_seed(3)
        lib.alpha_dropout_(w, 0.5, True)
        tensors = (out, mask, x.grad, *kept, features, y, z, w, lib.native_dropout(x, 1.0, True)[0])
        found.append(([np.asarray(t.detach().cpu().tolist()) for t in tensors], kept[0].requires_grad))
    assert found[0][1] == found[1][1]
    for got, expected in zip(found[0][0], found[1][0]):
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_convolution_and_native_channel_shuffle(device, dtype):
    # ember had neither (AttributeError): torch.convolution is each conv and transposed conv by weight's rank
    cases = [
        (randn(2, 4, 7), randn(6, 2, 3), False, [2], [1], [1], [0], 2),
        (randn(1, 2, 5, 6), randn(3, 2, 3, 2), False, [1, 2], [1, 0], [2, 1], [0, 0], 1),
        (randn(1, 2, 3, 4, 3), randn(2, 2, 2, 2, 2), False, [1, 1, 1], [0, 1, 0], [1, 1, 1], [0, 0, 0], 1),
        (randn(2, 4, 5), randn(4, 3, 3), True, [2], [1], [1], [1], 2),
        (randn(1, 2, 4, 3), randn(2, 3, 3, 3), True, [2, 1], [1, 1], [1, 2], [1, 0], 1),
    ]
    for x, w, transposed, stride, padding, dilation, output_padding, groups in cases:

        def call(lib, t=transposed, s=stride, p=padding, d=dilation, o=output_padding, g=groups):
            return lambda a, k, b: lib.convolution(a, k, b, s, p, d, t, o, g)

        bias = randn(w.shape[1] * groups if transposed else w.shape[0])
        check(call(ember), call(torch), [x, w, bias], device=device, dtype=dtype)
    check(
        lambda x: ember.native_channel_shuffle(x, 3),
        lambda x: torch.native_channel_shuffle(x, 3),
        [randn(2, 6, 2)],
        device=device,
        dtype=dtype,
        grad=False,
    )  # fmt: skip  (PyTorch has no derivative for it)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="^weight should have at least three dimensions$"):
            lib.convolution(lib.ones(1, 1, 4), lib.ones(1, 1), None, [1], [0], [1], False, [0], 1)


def test_native_dropout_applies_the_mask_it_returns(device, dtype):
    x = ember.tensor(randn(3, 5), dtype=dtype, device=device, requires_grad=True)
    out, mask = ember.native_dropout(x, 0.4, None)  # None: training
    out.sum().backward()
    scaled = mask.to(dtype) / 0.6
    np.testing.assert_allclose(out.detach().cpu().numpy(), (x * scaled).detach().cpu().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.cpu().numpy(), scaled.cpu().numpy(), rtol=1e-6)
    assert mask.dtype is ember.bool and 0 < int(mask.sum()) < 15
