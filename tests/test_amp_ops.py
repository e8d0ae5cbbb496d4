"""Autocast on cpu against PyTorch 2.13, op by op: for every op of ember's cpu policy table (and the
ops PyTorch's CPU autocast leaves alone, which must stay in their input's dtype), under
``autocast("cpu", bfloat16)`` and ``autocast("cpu", float16)``, with float32, bfloat16 and float64
inputs: the output dtype, the values (at the autocast dtype's tolerance), an error of the same type
where PyTorch refuses, and the gradients, which come back in each input's own dtype.

The ``restricted`` backend (a NumPy wrapper with only the declared primitives) follows the cpu
table (its ``autocast_device_type``), so the same cases run there under ``autocast("restricted")``.
OpenCL is left out: it has no bfloat16, and no policy table of its own that a PyTorch device
type could be checked against (PyTorch has no OpenCL autocast).
"""

from __future__ import annotations

import numpy as np
import pytest
from complex_support import holds_complex
from reference import torch

import ember
import ember.nn.functional as F
from ember.amp import policy as P

pytest.importorskip("ml_dtypes")
TF = torch.nn.functional

# the autocast dtype -> (rtol, atol), atol taken times max(1, the largest |value| torch gives)
TOL = {"bfloat16": (3e-2, 3e-2), "float16": (4e-3, 4e-3)}
GRAD_TOL = {"bfloat16": (6e-2, 6e-2), "float16": (1e-2, 1e-2)}


class Fl:
    """A floating input of ``shape``: standard normal, or uniform in [low, high)."""

    def __init__(self, *shape, low=None, high=None, grad=True, float32=False):
        self.shape, self.low, self.high, self.grad, self.float32 = shape, low, high, grad, float32

    def draw(self, rng):
        if self.low is None:
            return rng.standard_normal(self.shape).astype(np.float32)
        return rng.uniform(self.low, self.high, self.shape).astype(np.float32)


def ints(*values):
    return np.array(values, dtype=np.int64)


# name -> (fn(module namespace, functional namespace, *inputs), inputs, category on cpu).
# The category is what ember's cpu table says; the test checks PyTorch agrees with it.
CASES = {
    # lower precision
    "conv1d": (lambda m, f, x, w, b: f.conv1d(x, w, b), [Fl(2, 3, 8), Fl(4, 3, 3), Fl(4)], "conv1d"),
    "conv2d": (lambda m, f, x, w: f.conv2d(x, w, padding=1), [Fl(2, 3, 5, 5), Fl(4, 3, 3, 3)], "conv2d"),
    "conv3d": (lambda m, f, x, w: f.conv3d(x, w), [Fl(1, 2, 4, 4, 4), Fl(3, 2, 2, 2, 2)], "conv3d"),
    "conv_transpose1d": (lambda m, f, x, w: f.conv_transpose1d(x, w), [Fl(2, 3, 6), Fl(3, 4, 3)], "conv_transpose1d"),
    "conv_transpose2d": (
        lambda m, f, x, w, b: f.conv_transpose2d(x, w, b, stride=2),
        [Fl(2, 3, 4, 4), Fl(3, 4, 3, 3), Fl(4)],
        "conv_transpose2d",
    ),
    "conv_transpose3d": (
        lambda m, f, x, w: f.conv_transpose3d(x, w),
        [Fl(1, 2, 3, 3, 3), Fl(2, 3, 2, 2, 2)],
        "conv_transpose3d",
    ),
    "mm": (lambda m, f, a, b: m.mm(a, b), [Fl(4, 6), Fl(6, 3)], "mm"),
    "bmm": (lambda m, f, a, b: m.bmm(a, b), [Fl(2, 4, 6), Fl(2, 6, 3)], "bmm"),
    "matmul": (lambda m, f, a, b: m.matmul(a, b), [Fl(2, 4, 6), Fl(6, 3)], "matmul"),
    "matmul_vector": (lambda m, f, a, b: a @ b, [Fl(4, 6), Fl(6)], "matmul"),
    "addmm": (lambda m, f, c, a, b: m.addmm(c, a, b, beta=0.5), [Fl(3), Fl(4, 6), Fl(6, 3)], "addmm"),
    "baddbmm": (lambda m, f, c, a, b: m.baddbmm(c, a, b), [Fl(2, 4, 3), Fl(2, 4, 6), Fl(2, 6, 3)], "baddbmm"),
    "addbmm": (lambda m, f, c, a, b: m.addbmm(c, a, b, alpha=0.5), [Fl(4, 3), Fl(2, 4, 6), Fl(2, 6, 3)], "addbmm"),
    "linalg_vecdot": (lambda m, f, a, b: m.linalg.vecdot(a, b), [Fl(4, 6), Fl(4, 6)], "linalg_vecdot"),
    "linear": (lambda m, f, x, w, b: f.linear(x, w, b), [Fl(4, 6), Fl(3, 6), Fl(3)], "linear"),
    "prelu": (lambda m, f, x, w: f.prelu(x, w), [Fl(2, 3, 4), Fl(3, low=0.1, high=0.5)], "prelu"),
    "sdpa": (
        lambda m, f, q, k, v: f.scaled_dot_product_attention(q, k, v, is_causal=True),
        [Fl(2, 4, 8), Fl(2, 4, 8), Fl(2, 4, 8)],
        "scaled_dot_product_attention",
    ),
    "multi_head_attention_forward": (
        lambda m, f, x, w, b, ow, ob: f.multi_head_attention_forward(
            x, x, x, 8, 2, w, b, None, None, False, 0.0, ow, ob, need_weights=False
        )[0],
        [Fl(3, 2, 8), Fl(24, 8), Fl(24), Fl(8, 8), Fl(8)],
        "scaled_dot_product_attention",
    ),
    # einsum reaches bmm inside PyTorch, so it runs in lower precision there too
    "einsum": (lambda m, f, a, b: m.einsum("ij,jk->ik", a, b), [Fl(4, 6), Fl(6, 3)], "matmul"),
    # float32
    "mse_loss": (lambda m, f, x, y: f.mse_loss(x, y), [Fl(4, 5), Fl(4, 5)], "mse_loss"),
    "l1_loss": (lambda m, f, x, y: f.l1_loss(x, y, reduction="sum"), [Fl(4, 5), Fl(4, 5)], "l1_loss"),
    "smooth_l1_loss": (lambda m, f, x, y: f.smooth_l1_loss(x, y), [Fl(4, 5), Fl(4, 5)], "smooth_l1_loss"),
    "huber_loss": (lambda m, f, x, y: f.huber_loss(x, y, delta=0.5), [Fl(4, 5), Fl(4, 5)], "huber_loss"),
    "soft_margin_loss": (
        lambda m, f, x, y: f.soft_margin_loss(x, y.sign()),
        [Fl(4, 5), Fl(4, 5, grad=False)],
        "soft_margin_loss",
    ),
    "poisson_nll_loss": (
        lambda m, f, x, y: f.poisson_nll_loss(x, y),
        [Fl(4, 5), Fl(4, 5, low=0, high=3)],
        "poisson_nll_loss",
    ),
    "kl_div": (
        lambda m, f, x, y: f.kl_div(x, y, reduction="batchmean"),
        [Fl(4, 5), Fl(4, 5, low=0.1, high=1)],
        "kl_div",
    ),
    "binary_cross_entropy": (
        lambda m, f, x, y: f.binary_cross_entropy(x, y),
        [Fl(4, 5, low=0.05, high=0.95), Fl(4, 5, low=0, high=1)],
        "binary_cross_entropy",
    ),
    "binary_cross_entropy_with_logits": (
        lambda m, f, x, y, w: f.binary_cross_entropy_with_logits(x, y, pos_weight=w),
        [Fl(4, 5), Fl(4, 5, low=0, high=1), Fl(5, low=0.5, high=2, grad=False)],
        "binary_cross_entropy_with_logits",
    ),
    "margin_ranking_loss": (
        lambda m, f, a, b, y: f.margin_ranking_loss(a, b, y.sign(), margin=0.1),
        [Fl(6), Fl(6), Fl(6)],
        "margin_ranking_loss",
    ),
    "hinge_embedding_loss": (
        lambda m, f, x, y: f.hinge_embedding_loss(x, y),
        [Fl(4, 5), np.sign(np.arange(20).reshape(4, 5) % 3 - 0.5).astype(np.int64)],
        "hinge_embedding_loss",
    ),
    "cosine_embedding_loss": (
        lambda m, f, a, b, y: f.cosine_embedding_loss(a, b, y),
        [Fl(3, 5), Fl(3, 5), ints(1, -1, 1)],
        "cosine_embedding_loss",
    ),
    "triplet_margin_loss": (
        lambda m, f, a, p, n: f.triplet_margin_loss(a, p, n),
        [Fl(4, 5), Fl(4, 5), Fl(4, 5)],
        "triplet_margin_loss",
    ),
    "multi_margin_loss": (
        lambda m, f, x, y: f.multi_margin_loss(x, y),
        [Fl(4, 5), ints(0, 4, 2, 1)],
        "multi_margin_loss",
    ),
    "multilabel_margin_loss": (
        lambda m, f, x, y: f.multilabel_margin_loss(x, y),
        [Fl(2, 4), np.array([[3, 0, -1, 1], [1, 2, 3, -1]], dtype=np.int64)],
        "multilabel_margin_loss",
    ),
    "nll_loss": (lambda m, f, x, y: f.nll_loss(x, y), [Fl(4, 5), ints(0, 4, 2, 1)], "nll_loss"),
    "nll_loss_2d": (
        lambda m, f, x, y, w: f.nll_loss(x, y, weight=w),
        [
            Fl(2, 3, 2, 2),
            np.array([[[0, 1], [2, 1]], [[2, 2], [0, 1]]], dtype=np.int64),
            Fl(3, low=0.5, high=1.5, grad=False),
        ],
        "nll_loss",
    ),
    "cross_entropy": (
        lambda m, f, x, y: f.cross_entropy(x, y, label_smoothing=0.1),
        [Fl(4, 5), ints(0, 4, 2, 1)],
        "cross_entropy",
    ),
    "cross_entropy_probs": (
        lambda m, f, x, y: f.cross_entropy(x, y.softmax(-1)),
        [Fl(4, 5), Fl(4, 5)],
        "cross_entropy",
    ),
    "ctc_loss": (
        lambda m, f, x, y, n, k: f.ctc_loss(x.log_softmax(2), y, n, k),
        [Fl(6, 2, 4), np.array([[1, 2], [1, 3]], dtype=np.int64), ints(6, 5), ints(2, 2)],
        "ctc_loss",
    ),
    "avg_pool3d": (lambda m, f, x: f.avg_pool3d(x, 2), [Fl(1, 2, 4, 4, 4)], "avg_pool3d"),
    "max_pool3d": (lambda m, f, x: f.max_pool3d(x, 2), [Fl(1, 2, 4, 4, 4)], "max_pool3d"),
    "adaptive_avg_pool3d": (lambda m, f, x: f.adaptive_avg_pool3d(x, 2), [Fl(1, 2, 4, 4, 4)], "adaptive_avg_pool3d"),
    "adaptive_max_pool3d": (lambda m, f, x: f.adaptive_max_pool3d(x, 2), [Fl(1, 2, 4, 4, 4)], "adaptive_max_pool3d"),
    "max_unpool2d": (
        lambda m, f, x, i: f.max_unpool2d(x, i, 2),
        [Fl(1, 2, 2, 2), np.array([[[[5, 7], [13, 15]], [[0, 3], [9, 14]]]], dtype=np.int64)],
        "max_unpool2d",
    ),
    "max_unpool3d": (
        lambda m, f, x, i: f.max_unpool3d(x, i, 2),
        [Fl(1, 1, 1, 1, 2), np.array([[[[[2, 7]]]]], dtype=np.int64)],
        "max_unpool3d",
    ),
    "fractional_max_pool2d": (
        lambda m, f, x, s: f.fractional_max_pool2d(x, 2, output_size=3, _random_samples=s),
        [Fl(1, 2, 6, 6), Fl(1, 2, 2, low=0, high=1, grad=False)],
        "fractional_max_pool2d",
    ),
    "fractional_max_pool3d": (
        lambda m, f, x, s: f.fractional_max_pool3d(x, 2, output_size=2, _random_samples=s),
        [Fl(1, 2, 5, 5, 5), Fl(1, 2, 3, low=0, high=1, grad=False)],
        "fractional_max_pool3d",
    ),
    "reflection_pad1d": (lambda m, f, x: f.pad(x, (2, 1), mode="reflect"), [Fl(1, 2, 5)], "reflection_pad1d"),
    "reflection_pad2d": (lambda m, f, x: f.pad(x, (2, 1, 1, 2), mode="reflect"), [Fl(1, 2, 4, 4)], "reflection_pad2d"),
    "replication_pad1d": (lambda m, f, x: f.pad(x, (2, 1), mode="replicate"), [Fl(1, 2, 5)], "replication_pad1d"),
    "replication_pad2d": (lambda m, f, x: f.pad(x, (1, 2, 2, 1), mode="replicate"), [Fl(2, 4, 4)], "replication_pad2d"),
    "replication_pad3d": (
        lambda m, f, x: f.pad(x, (1, 1, 2, 1, 0, 1), mode="replicate"),
        [Fl(1, 2, 3, 3, 3)],
        "replication_pad3d",
    ),
    "grid_sample": (
        lambda m, f, x, g: f.grid_sample(x, g, align_corners=False),
        [Fl(1, 2, 4, 4), Fl(1, 3, 3, 2, low=-1, high=1)],
        "grid_sampler",
    ),
    "prod": (lambda m, f, x: m.prod(x, 1), [Fl(4, 5, low=0.5, high=1.5)], "prod"),
    "prod_all": (lambda m, f, x: x.prod(), [Fl(4, 5, low=0.5, high=1.5)], "prod"),
    "trace": (lambda m, f, x: m.trace(x), [Fl(4, 4)], "trace"),
    # the spectral and linear-algebra ops of PyTorch's cpu float32 list (16-bit inputs are computed
    # in float32, where outside a region they are refused); outputs taken real where they are complex
    "fft_fft": (lambda m, f, x: m.fft.fft(x).real, [Fl(3, 8)], "fft_fft"),
    "fft_rfft": (lambda m, f, x: m.fft.rfft(x).abs(), [Fl(3, 8)], "fft_rfft"),
    "fft_irfft": (lambda m, f, x: m.fft.irfft(x, n=6), [Fl(3, 4)], "fft_irfft"),
    "fft_fft2": (lambda m, f, x: m.fft.fft2(x).imag, [Fl(3, 4, 4)], "fft_fft2"),
    "fft_irfftn": (lambda m, f, x: m.fft.irfftn(x), [Fl(3, 4)], "fft_irfftn"),
    "fft_hfft": (lambda m, f, x: m.fft.hfft(x), [Fl(3, 5)], "fft_hfft"),
    "fft_ihfft": (lambda m, f, x: m.fft.ihfft(x).abs(), [Fl(3, 6)], "fft_ihfft"),
    "linalg_inv": (lambda m, f, a: m.linalg.inv(_well_conditioned(m, a)), [Fl(4, 4)], "linalg_inv"),
    "linalg_inv_ex": (lambda m, f, a: m.linalg.inv_ex(_well_conditioned(m, a)).inverse, [Fl(4, 4)], "linalg_inv_ex"),
    "inverse": (lambda m, f, a: m.inverse(_well_conditioned(m, a)), [Fl(4, 4)], "inverse"),
    "linalg_solve": (
        lambda m, f, a, b: m.linalg.solve(_well_conditioned(m, a), b),
        [Fl(4, 4), Fl(4, 2)],
        "linalg_solve",
    ),
    "linalg_tensorinv": (
        lambda m, f, a: m.linalg.tensorinv(_well_conditioned(m, a).reshape(4, 2, 2), ind=1),
        [Fl(4, 4)],
        "linalg_tensorinv",
    ),
    "linalg_tensorsolve": (
        lambda m, f, a, b: m.linalg.tensorsolve(_well_conditioned(m, a), b),
        [Fl(4, 4), Fl(4)],
        "linalg_tensorsolve",
    ),
    "linalg_cond": (lambda m, f, a: m.linalg.cond(_well_conditioned(m, a)), [Fl(4, 4)], "linalg_cond"),
    "linalg_matrix_rank": (lambda m, f, a: m.linalg.matrix_rank(a).float(), [Fl(4, 3)], "linalg_matrix_rank"),
    "linalg_cholesky": (lambda m, f, a: m.linalg.cholesky(_positive_definite(m, a)), [Fl(4, 4)], "linalg_cholesky"),
    "linalg_cholesky_ex": (
        lambda m, f, a: m.linalg.cholesky_ex(_positive_definite(m, a)).L,
        [Fl(4, 4)],
        "linalg_cholesky_ex",
    ),
    "cholesky": (lambda m, f, a: m.cholesky(_positive_definite(m, a)), [Fl(4, 4)], "cholesky"),
    "cholesky_solve": (
        lambda m, f, b, a: m.cholesky_solve(b, _well_conditioned(m, a).tril()),
        [Fl(4, 2), Fl(4, 4)],
        "cholesky_solve",
    ),
    "cholesky_inverse": (
        lambda m, f, a: m.cholesky_inverse(_well_conditioned(m, a).tril()),
        [Fl(4, 4)],
        "cholesky_inverse",
    ),
    "triangular_solve": (
        lambda m, f, b, a: m.triangular_solve(b, _well_conditioned(m, a).triu()).solution,
        [Fl(4, 2), Fl(4, 4)],
        "triangular_solve",
    ),
    "lu_solve": (
        lambda m, f, b, a: m.lu_solve(b, *m.linalg.lu_factor(_well_conditioned(m, a).float())),
        [Fl(4, 2), Fl(4, 4)],
        "lu_solve",
    ),
    "linalg_qr": (lambda m, f, a: m.linalg.qr(a).R.abs(), [Fl(4, 3)], "linalg_qr"),
    "qr": (lambda m, f, a: m.qr(a).R.abs(), [Fl(4, 3)], "qr"),
    "linalg_svd": (lambda m, f, a: m.linalg.svd(a).S, [Fl(4, 3)], "linalg_svd"),
    "svd": (lambda m, f, a: m.svd(a).S, [Fl(4, 3)], "svd"),
    "linalg_svdvals": (lambda m, f, a: m.linalg.svdvals(a), [Fl(4, 3)], "linalg_svdvals"),
    "pinverse": (lambda m, f, a: m.pinverse(a), [Fl(4, 3)], "pinverse"),
    "linalg_lstsq": (lambda m, f, a, b: m.linalg.lstsq(a, b).solution, [Fl(5, 3), Fl(5, 2)], "linalg_lstsq"),
    "linalg_eigh": (lambda m, f, a: m.linalg.eigh(_positive_definite(m, a)).eigenvalues, [Fl(4, 4)], "linalg_eigh"),
    "linalg_eigvalsh": (lambda m, f, a: m.linalg.eigvalsh(_positive_definite(m, a)), [Fl(4, 4)], "linalg_eigvalsh"),
    "linalg_eig": (lambda m, f, a: m.linalg.eig(a).eigenvalues.abs().sort().values, [Fl(4, 4)], "linalg_eig"),
    "linalg_eigvals": (lambda m, f, a: m.linalg.eigvals(a).abs().sort().values, [Fl(4, 4)], "linalg_eigvals"),
    "linalg_householder_product": (
        lambda m, f, a, tau: m.linalg.householder_product(a, tau),
        [Fl(4, 3), Fl(2, low=0.5, high=1.5)],
        "linalg_householder_product",
    ),
    "geqrf": (lambda m, f, a: m.geqrf(a)[0], [Fl(4, 3, grad=False)], "geqrf"),
    "orgqr": (lambda m, f, a, tau: m.orgqr(a, tau), [Fl(4, 3), Fl(2, low=0.5, high=1.5)], "orgqr"),
    "ormqr": (
        lambda m, f, a, tau, b: m.ormqr(a, tau, b),
        [Fl(4, 3, grad=False), Fl(2, low=0.5, high=1.5, grad=False), Fl(4, 2, grad=False)],
        "ormqr",
    ),
    "quantile": (lambda m, f, x: m.quantile(x, 0.3, dim=1), [Fl(4, 5)], "quantile"),
    "nanquantile": (lambda m, f, x: m.nanquantile(x, 0.7), [Fl(4, 5)], "nanquantile"),
    "cdist": (lambda m, f, a, b: m.cdist(a, b), [Fl(4, 3), Fl(5, 3)], "cdist"),
    "view_as_complex": (lambda m, f, x: m.view_as_complex(x).abs(), [Fl(4, 2)], "view_as_complex"),
    "polar": (lambda m, f, r, theta: m.polar(r, theta).imag, [Fl(4, low=0.5, high=2), Fl(4)], "polar"),
    # promote (with one float32 operand from outside the region)
    "cat": (lambda m, f, a, b: m.cat([a, b.float()]), [Fl(3), Fl(3)], "cat"),
    "cat_same": (lambda m, f, a, b: m.cat([a, b], 1), [Fl(2, 3), Fl(2, 2)], "cat"),
    "stack": (lambda m, f, a, b: m.stack([a.float(), b]), [Fl(3), Fl(3)], "stack"),
    "index_copy": (
        lambda m, f, a, i, b: a.float().index_copy(0, i, b),
        [Fl(4, 3), ints(2, 0), Fl(2, 3)],
        "index_copy",
    ),
    # PyTorch's cpu autocast leaves these alone (cuda's table lists most of them)
    "mv": (lambda m, f, a, b: m.mv(a, b), [Fl(4, 6), Fl(6)], "mv"),
    "addmv": (lambda m, f, c, a, b: m.addmv(c, a, b), [Fl(4), Fl(4, 6), Fl(6)], "addmv"),
    "addr": (lambda m, f, c, a, b: m.addr(c, a, b), [Fl(4, 6), Fl(4), Fl(6)], "addr"),
    "dot": (lambda m, f, a, b: m.dot(a, b), [Fl(6), Fl(6)], "dot"),
    "layer_norm": (lambda m, f, x, w, b: f.layer_norm(x, (5,), w, b), [Fl(4, 5), Fl(5), Fl(5)], "layer_norm"),
    "group_norm": (lambda m, f, x, w: f.group_norm(x, 2, w), [Fl(2, 4, 3), Fl(4)], "group_norm"),
    "rms_norm": (lambda m, f, x: f.rms_norm(x, (5,)), [Fl(4, 5)], "rms_norm"),
    # a 16-bit input with float32 parameters (a LayerNorm module after a lower-precision op)
    # gives the input's dtype on cpu; float64 with float32 parameters is refused
    "layer_norm_float32_params": (
        lambda m, f, x, w, b: f.layer_norm(x, (5,), w, b),
        [Fl(4, 5), Fl(5, float32=True), Fl(5, float32=True)],
        "layer_norm",
    ),
    "group_norm_float32_params": (
        lambda m, f, x, w, b: f.group_norm(x, 2, w, b),
        [Fl(2, 4, 3), Fl(4, float32=True), Fl(4, float32=True)],
        "group_norm",
    ),
    "rms_norm_float32_params": (
        lambda m, f, x, w: f.rms_norm(x, (5,), w),
        [Fl(4, 5), Fl(5, float32=True)],
        "rms_norm",
    ),
    "batch_norm_float32_params": (
        lambda m, f, x, w, b: f.batch_norm(x, None, None, w, b, training=True),
        [Fl(4, 3), Fl(3, float32=True), Fl(3, float32=True)],
        "batch_norm",
    ),
    "pow": (lambda m, f, x: m.pow(x, 2), [Fl(4, 5)], "pow"),
    "logsumexp": (lambda m, f, x: m.logsumexp(x, 1), [Fl(4, 5)], "logsumexp"),
    "norm": (lambda m, f, x: m.norm(x), [Fl(4, 5)], "norm"),
    "cosine_similarity": (lambda m, f, a, b: f.cosine_similarity(a, b), [Fl(4, 5), Fl(4, 5)], "cosine_similarity"),
    "softplus": (lambda m, f, x: f.softplus(x), [Fl(4, 5)], "softplus"),
    "exp": (lambda m, f, x: x.exp(), [Fl(4, 5)], "exp"),
    "softmax": (lambda m, f, x: f.softmax(x, -1), [Fl(4, 5)], "softmax"),
    "log_softmax": (lambda m, f, x: f.log_softmax(x, 0), [Fl(4, 5)], "log_softmax"),
    "sum": (lambda m, f, x: x.sum(1), [Fl(4, 5)], "sum"),
    "cumsum": (lambda m, f, x: x.cumsum(0), [Fl(4, 5)], "cumsum"),
    "interpolate": (
        lambda m, f, x: f.interpolate(x, scale_factor=2, mode="bilinear"),
        [Fl(1, 2, 3, 3)],
        "interpolate",
    ),
    "avg_pool2d": (lambda m, f, x: f.avg_pool2d(x, 2), [Fl(1, 2, 4, 4)], "avg_pool2d"),
    "reflection_pad3d": (
        lambda m, f, x: f.pad(x, (1, 1, 1, 1, 1, 1), mode="reflect"),
        [Fl(1, 1, 3, 3, 3)],
        "reflection_pad3d",
    ),
    "circular_pad": (lambda m, f, x: f.pad(x, (2, 1), mode="circular"), [Fl(1, 2, 5)], "circular_pad"),
    "gaussian_nll_loss": (
        lambda m, f, x, y, v: f.gaussian_nll_loss(x, y, v),
        [Fl(4, 5), Fl(4, 5), Fl(4, 5, low=0.5, high=2)],
        "gaussian_nll_loss",
    ),
    "batch_norm": (
        lambda m, f, x, w: f.batch_norm(x, None, None, w, training=True),
        [Fl(4, 3), Fl(3)],
        "batch_norm",
    ),
    "relu": (lambda m, f, x: f.relu(x), [Fl(4, 5)], "relu"),
    # composites: PyTorch's reach mm (lower precision) or not, whatever ember's bodies use inside
    "bilinear": (lambda m, f, a, b, w: f.bilinear(a, b, w), [Fl(3, 4), Fl(3, 2), Fl(5, 4, 2)], "bilinear"),
    "inner_1d": (lambda m, f, a, b: m.inner(a, b), [Fl(6), Fl(6)], "dot"),
    "inner_2d": (lambda m, f, a, b: m.inner(a, b), [Fl(3, 6), Fl(4, 6)], "matmul"),
    "tensordot": (lambda m, f, a, b: m.tensordot(a, b, dims=1), [Fl(3, 6), Fl(6, 2)], "matmul"),
    "affine_grid": (lambda m, f, t: f.affine_grid(t, [1, 1, 3, 3], align_corners=False), [Fl(1, 2, 3)], "matmul"),
    "unfold": (lambda m, f, x: f.unfold(x, 2), [Fl(1, 2, 3, 4)], "im2col"),
    "fold": (lambda m, f, x: f.fold(x, (3, 4), 2), [Fl(1, 8, 6)], "col2im"),
    "outer": (lambda m, f, a, b: m.outer(a, b), [Fl(3), Fl(4)], "outer"),
}


def _well_conditioned(m, a):
    """``a`` plus 4 on the diagonal, in ``a``'s own dtype (an identity of another dtype would promote it)."""
    return a + 4 * m.eye(a.shape[-1], dtype=a.dtype, device=a.device)


def _positive_definite(m, a):
    return _well_conditioned(m, a.tril() @ a.tril().mT)


_EXPECTED = {P.LOWER: "lower", P.FP32: "float32", P.PROMOTE: "promote", None: "input"}


def _inputs(spec, input_dtype, device, seed):
    """ember and torch inputs from the same arrays: floating ones in ``input_dtype``."""
    rng = np.random.default_rng(seed)
    e_in, t_in = [], []
    for s in spec:
        if isinstance(s, Fl):
            a, name = s.draw(rng), "float32" if s.float32 else input_dtype
            t = torch.tensor(a).to(getattr(torch, name)).requires_grad_(s.grad)
            e = ember.tensor(t.detach().double().numpy(), device=device).to(getattr(ember, name))
            e.requires_grad_(s.grad)
        else:
            t, e = torch.tensor(s), ember.tensor(s, device=device)
        e_in.append(e)
        t_in.append(t)
    return e_in, t_in


def _name(dtype):
    return str(dtype).replace("torch.", "").replace("ember.", "")


#: the cases whose results (or inner steps) are complex
_COMPLEX_RESULTS = {
    "fft_fft", "fft_fft2", "fft_hfft", "fft_ihfft", "fft_irfft", "fft_irfftn", "fft_rfft", "linalg_eig",
    "linalg_eigvals", "polar", "view_as_complex",
}  # fmt: skip


@pytest.mark.parametrize("input_dtype", ["float32", "bfloat16", "float64"])
@pytest.mark.parametrize("fast", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_cpu_autocast_op_matches_torch(device, case, fast, input_dtype):
    backend = ember.backends.get_backend(device)
    if "cpu" not in (backend.device_type, backend.autocast_device_type):
        pytest.skip(f"{device} does not follow the cpu policy table (PyTorch has no autocast of its kind to compare)")
    ember_type = backend.device_type
    fn, spec, op = CASES[case]
    if case in _COMPLEX_RESULTS and not holds_complex(device):
        pytest.skip(f"{device} has no complex dtypes ({case} computes in them)")
    seed = sorted(CASES).index(case)
    e_in, t_in = _inputs(spec, input_dtype, device, seed)
    try:
        with torch.autocast("cpu", dtype=getattr(torch, fast)):
            expected = fn(torch, TF, *t_in)
    except (RuntimeError, NotImplementedError) as exc:  # PyTorch refuses: ember raises the same type
        with pytest.raises(type(exc)), ember.autocast(ember_type, dtype=getattr(ember, fast)):
            fn(ember, F, *e_in)
        return
    with ember.autocast(ember_type, dtype=getattr(ember, fast)):
        got = fn(ember, F, *e_in)
    # the table's category is the one PyTorch acts on
    category = _EXPECTED[P.policy(op, "cpu")]
    if input_dtype != "float64" and category in ("lower", "float32"):
        assert _name(expected.dtype) == (fast if category == "lower" else "float32"), (case, expected.dtype)
    elif category == "input" and input_dtype != "float64":
        assert _name(expected.dtype) == input_dtype, (case, expected.dtype)
    assert _name(got.dtype) == _name(expected.dtype), (case, got.dtype, expected.dtype)
    # 16-bit rounding errors scale with the size of the values summed, so atol with the output's
    rtol, atol = TOL["bfloat16" if "bfloat16" in (fast, input_dtype) else fast]
    scale = max(1.0, float(expected.detach().double().abs().max())) if expected.numel() else 1.0
    np.testing.assert_allclose(
        got.detach().double().cpu().numpy(),
        expected.detach().double().numpy(),
        rtol=rtol,
        atol=atol * scale,
        err_msg=case,
    )

    # gradients: back in each input's own dtype, with torch's values
    if not expected.requires_grad:
        return
    upstream = np.random.default_rng(seed + 1000).standard_normal(tuple(expected.shape)).astype(np.float32)
    (expected.double() * torch.tensor(upstream, dtype=torch.float64)).sum().backward()
    (got.double() * ember.tensor(upstream, dtype=ember.float64, device=device)).sum().backward()
    rtol, atol = GRAD_TOL["bfloat16" if "bfloat16" in (fast, input_dtype) else fast]
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        if not (isinstance(t, torch.Tensor) and t.requires_grad) or t.grad is None:
            continue
        assert e.grad is not None, f"{case}: no gradient for input {i}"
        assert _name(e.grad.dtype) == _name(t.grad.dtype) == _name(t.dtype), (case, i, e.grad.dtype)
        scale = max(1.0, float(t.grad.abs().max()))
        np.testing.assert_allclose(
            e.grad.double().cpu().numpy(),
            t.grad.double().numpy(),
            rtol=rtol,
            atol=atol * scale,
            err_msg=f"{case}: gradient of input {i}",
        )
