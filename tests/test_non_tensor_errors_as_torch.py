"""Errors for a non-tensor argument (a list, a NumPy array, a float, a NumPy scalar) of the functional
forms, in PyTorch's words: the AttributeError (or TypeError) Python raises where PyTorch's Python functional
reads an attribute of the input first (``F.mse_loss``: ``target.size()``), else its argument parser's TypeError
naming the op PyTorch calls ("nll_loss_nd(): argument 'input' (position 1) must be Tensor, not list") and
the type as Python names it ("numpy.float64"); the dropouts check ``p`` before the input's type. Compared with
PyTorch by type and message."""

from __future__ import annotations

import numpy as np
import pytest
from against_torch import same_error

import ember

torch = pytest.importorskip("torch")

#: the non-tensor first arguments: each builds a fresh value (NumPy arrays are handed to both libraries)
BAD = {
    "list": lambda: [[[1.0, 2.0], [3.0, 4.0]]],
    "ndarray": lambda: np.ones((1, 2, 2), dtype=np.float32),
    "float": lambda: 1.5,
    "numpy.float64": lambda: np.float64(1.5),
}


def _ones(lib, device, *shape, dtype=None):
    """Ones of ``shape`` on ``device`` (ember) or the CPU (PyTorch)."""
    return lib.ones(*shape, dtype=dtype or lib.float32, device=device if lib is ember else "cpu")


def _zeros_long(lib, device, *shape):
    return lib.zeros(*shape, dtype=lib.int64, device=device if lib is ember else "cpu")


#: op -> call(lib, bad, device) with ``bad`` as the first argument and tensors for the others
FIRST = {
    "adaptive_avg_pool1d": lambda L, x, d: L.nn.functional.adaptive_avg_pool1d(x, 1),
    "adaptive_avg_pool2d": lambda L, x, d: L.nn.functional.adaptive_avg_pool2d(x, 1),
    "adaptive_avg_pool3d": lambda L, x, d: L.nn.functional.adaptive_avg_pool3d(x, 1),
    "adaptive_max_pool1d": lambda L, x, d: L.nn.functional.adaptive_max_pool1d(x, 1),
    "adaptive_max_pool2d": lambda L, x, d: L.nn.functional.adaptive_max_pool2d(x, 1),
    "adaptive_max_pool3d": lambda L, x, d: L.nn.functional.adaptive_max_pool3d(x, 1, return_indices=True),
    "affine_grid": lambda L, x, d: L.nn.functional.affine_grid(x, [1, 1, 2, 2], align_corners=False),
    "avg_pool1d": lambda L, x, d: L.nn.functional.avg_pool1d(x, 1),
    "avg_pool2d": lambda L, x, d: L.nn.functional.avg_pool2d(x, 1),
    "avg_pool3d": lambda L, x, d: L.nn.functional.avg_pool3d(x, 1),
    "batch_norm_training": lambda L, x, d: L.nn.functional.batch_norm(x, None, None, training=True),
    "batch_norm_eval": lambda L, x, d: L.nn.functional.batch_norm(x, _ones(L, d, 2), _ones(L, d, 2)),
    "binary_cross_entropy": lambda L, x, d: L.nn.functional.binary_cross_entropy(x, _ones(L, d, 1, 2, 2)),
    "binary_cross_entropy_with_logits": lambda L, x, d: L.nn.functional.binary_cross_entropy_with_logits(
        x, _ones(L, d, 1, 2, 2)
    ),
    "celu_": lambda L, x, d: L.nn.functional.celu_(x),
    "elu_inplace": lambda L, x, d: L.nn.functional.elu(x, inplace=True),
    "hardtanh_": lambda L, x, d: L.nn.functional.hardtanh_(x),
    "channel_shuffle": lambda L, x, d: L.nn.functional.channel_shuffle(x, 1),
    "conv_tbc": lambda L, x, d: L.nn.functional.conv_tbc(x, _ones(L, d, 1, 2, 2), _ones(L, d, 2)),
    "conv_transpose2d": lambda L, x, d: L.nn.functional.conv_transpose2d(x, _ones(L, d, 1, 1, 1, 1)),
    "cross_entropy": lambda L, x, d: L.nn.functional.cross_entropy(x, _zeros_long(L, d, 1, 2)),
    "embedding_indices": lambda L, x, d: L.nn.functional.embedding(x, _ones(L, d, 3, 2)),
    "fold": lambda L, x, d: L.nn.functional.fold(x, (2, 2), 1),
    "fractional_max_pool2d": lambda L, x, d: L.nn.functional.fractional_max_pool2d(x, 1, output_size=1),
    "gaussian_nll_loss": lambda L, x, d: L.nn.functional.gaussian_nll_loss(
        x, _ones(L, d, 1, 2, 2), _ones(L, d, 1, 2, 2)
    ),
    "grid_sample": lambda L, x, d: L.nn.functional.grid_sample(x, _ones(L, d, 1, 2, 2, 2), align_corners=False),
    "gumbel_softmax": lambda L, x, d: L.nn.functional.gumbel_softmax(x),
    "huber_loss": lambda L, x, d: L.nn.functional.huber_loss(x, _ones(L, d, 1, 2, 2)),
    "l1_loss": lambda L, x, d: L.nn.functional.l1_loss(x, _ones(L, d, 1, 2, 2)),
    "log_softmax": lambda L, x, d: L.nn.functional.log_softmax(x, 0),
    "logsigmoid": lambda L, x, d: L.nn.functional.logsigmoid(x),
    "max_pool1d": lambda L, x, d: L.nn.functional.max_pool1d(x, 1),
    "max_pool2d": lambda L, x, d: L.nn.functional.max_pool2d(x, 1),
    "max_pool2d_return_indices": lambda L, x, d: L.nn.functional.max_pool2d(x, 1, return_indices=True),
    "max_pool2d_with_indices": lambda L, x, d: L.nn.functional.max_pool2d_with_indices(x, 1),
    "max_pool3d": lambda L, x, d: L.nn.functional.max_pool3d(x, 1),
    "max_pool3d_with_indices": lambda L, x, d: L.nn.functional.max_pool3d_with_indices(x, 1),
    "max_unpool2d": lambda L, x, d: L.nn.functional.max_unpool2d(x, _zeros_long(L, d, 1, 2, 2), 1),
    "mse_loss": lambda L, x, d: L.nn.functional.mse_loss(x, _ones(L, d, 1, 2, 2)),
    "multilabel_soft_margin_loss": lambda L, x, d: L.nn.functional.multilabel_soft_margin_loss(x, _ones(L, d, 1, 2, 2)),
    "nll_loss": lambda L, x, d: L.nn.functional.nll_loss(x, _zeros_long(L, d, 1, 2)),
    "one_hot": lambda L, x, d: L.nn.functional.one_hot(x),
    "pad": lambda L, x, d: L.nn.functional.pad(x, (1, 1)),
    "pixel_shuffle": lambda L, x, d: L.nn.functional.pixel_shuffle(x, 1),
    "pixel_unshuffle": lambda L, x, d: L.nn.functional.pixel_unshuffle(x, 1),
    "sigmoid": lambda L, x, d: L.nn.functional.sigmoid(x),
    "smooth_l1_loss": lambda L, x, d: L.nn.functional.smooth_l1_loss(x, _ones(L, d, 1, 2, 2)),
    "softmin": lambda L, x, d: L.nn.functional.softmin(x, 0),
    "softsign": lambda L, x, d: L.nn.functional.softsign(x),
    "tanh": lambda L, x, d: L.nn.functional.tanh(x),
    "tanhshrink": lambda L, x, d: L.nn.functional.tanhshrink(x),
    "unfold": lambda L, x, d: L.nn.functional.unfold(x, 1),
    # the top-level forms keep their argument parser's TypeError
    "top_level_adaptive_avg_pool1d": lambda L, x, d: L.adaptive_avg_pool1d(x, 1),
    "top_level_batch_norm": lambda L, x, d: L.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False),
    "top_level_binary_cross_entropy_with_logits": lambda L, x, d: L.binary_cross_entropy_with_logits(
        x, _ones(L, d, 1, 2, 2)
    ),
    "top_level_log_softmax": lambda L, x, d: L.log_softmax(x, 0),
    "top_level_max_pool2d": lambda L, x, d: L.max_pool2d(x, 1),
    "top_level_pixel_shuffle": lambda L, x, d: L.pixel_shuffle(x, 1),
}

#: a non-tensor second argument
SECOND = {
    "mse_loss_target": lambda L, x, d: L.nn.functional.mse_loss(_ones(L, d, 1, 2, 2), x),
    "l1_loss_target": lambda L, x, d: L.nn.functional.l1_loss(_ones(L, d, 1, 2, 2), x),
    "cross_entropy_target": lambda L, x, d: L.nn.functional.cross_entropy(_ones(L, d, 2, 2), x),
    "nll_loss_target": lambda L, x, d: L.nn.functional.nll_loss(_ones(L, d, 2, 2), x),
    "grid_sample_grid": lambda L, x, d: L.nn.functional.grid_sample(_ones(L, d, 1, 1, 2, 2), x, align_corners=False),
    "embedding_weight": lambda L, x, d: L.nn.functional.embedding(_zeros_long(L, d, 2), x),
    "embedding_weight_padding_idx": lambda L, x, d: L.nn.functional.embedding(_zeros_long(L, d, 2), x, padding_idx=1),
    "maximum_other": lambda L, x, d: L.maximum(_ones(L, d, 2), x),
}

#: the dropouts with a probability out of range: the functional forms check it before the input's type,
#: the top-level forms (PyTorch's argument parser) the input's type first
DROPOUTS = {
    "dropout": lambda L, x, p: L.nn.functional.dropout(x, p),
    "dropout1d": lambda L, x, p: L.nn.functional.dropout1d(x, p),
    "dropout2d": lambda L, x, p: L.nn.functional.dropout2d(x, p),
    "dropout3d": lambda L, x, p: L.nn.functional.dropout3d(x, p),
    "alpha_dropout": lambda L, x, p: L.nn.functional.alpha_dropout(x, p, True),
    "feature_alpha_dropout": lambda L, x, p: L.nn.functional.feature_alpha_dropout(x, p, True),
    "top_level_dropout": lambda L, x, p: L.dropout(x, p, True),
    "top_level_dropout_": lambda L, x, p: L.dropout_(x, p, True),
    "top_level_alpha_dropout": lambda L, x, p: L.alpha_dropout(x, p, True),
    "top_level_alpha_dropout_": lambda L, x, p: L.alpha_dropout_(x, p, True),
    "top_level_feature_alpha_dropout": lambda L, x, p: L.feature_alpha_dropout(x, p, True),
    "top_level_feature_alpha_dropout_": lambda L, x, p: L.feature_alpha_dropout_(x, p, True),
    "top_level_feature_dropout": lambda L, x, p: L.feature_dropout(x, p, True),
    "top_level_native_dropout": lambda L, x, p: L.native_dropout(x, p, True),
}


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("op", list(FIRST))
def test_non_tensor_input(op, bad, device):
    same_error(lambda lib: FIRST[op](lib, BAD[bad](), device))


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("op", list(SECOND))
def test_non_tensor_second_argument(op, bad, device):
    same_error(lambda lib: SECOND[op](lib, BAD[bad](), device))


@pytest.mark.parametrize("p", [2.0, -0.5, 0.5])
@pytest.mark.parametrize("bad", ["list", "ndarray"])
@pytest.mark.parametrize("op", list(DROPOUTS))
def test_dropout_checks_p_then_input(op, bad, p):
    same_error(lambda lib: DROPOUTS[op](lib, BAD[bad](), p))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout2d"])
def test_dropout_p_out_of_range_on_a_tensor(op, dtype, device):
    same_error(lambda lib: DROPOUTS[op](lib, _ones(lib, device, 1, 2, 2, dtype=getattr(lib, dtype)), 2.0))


@pytest.mark.parametrize(
    "scalar", [np.float64(1.5), np.float32(1.5), np.int64(2), np.bool_(True)], ids=lambda s: type(s).__name__
)
def test_numpy_scalar_named_as_python_names_it(scalar, device):
    same_error(lambda lib: lib.maximum(_ones(lib, device, 2), scalar))
    same_error(lambda lib: lib.nn.functional.pad(scalar, (1, 1)))
