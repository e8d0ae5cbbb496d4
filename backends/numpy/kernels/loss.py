"""NumPy overrides of the loss kernels.

``nll_loss_backward`` writes the one nonzero per row into a zeroed ``(N, C)`` array
instead of building the one-hot matrix by a broadcast comparison, a cast and a product
(three passes over ``N * C`` for a language model's vocabulary-wide rows).

``cross_entropy`` keeps no log-probabilities: it takes each row's log-sum-exp
``max + log(sum(exp(x - max)))`` by cache-sized blocks of rows (the exponentials go into one
scratch block and are summed there; ``log(sum(exp(x)))``, one pass fewer, where the rows' maxima
are within :data:`_EXP_RANGE` of 0), and the losses from the logits at the targets; the
backward rebuilds ``softmax = exp(x - lse)`` block by block, writing
``coeff * (softmax * Q - q)`` into its one output, then subtracts the one nonzero of the
target's one-hot part per row in place; where the block's log-sum-exps lie in ``[0, 60]`` it
writes ``exp(x) * (coeff * Q * exp(-lse))`` instead, one pass fewer. Against keeping
``log_softmax(x)`` (N, C) for the backward, the forward writes nothing of the logits' size (nor
keeps it): the LSTM language model's 560x5000 float32 logits in its training step, one thread,
shared machine, medians of 31 alternating steps in one process: forward 4.24 -> 2.43 ms,
backward 2.63 -> 2.51 ms, the step 82.1 -> 81.5 ms.

Where oneDNN and Numba are both installed, float32 logits of at least
:data:`~ember.backends.numpy.onednn.exponential.MIN_ELEMENTS` elements take those exponentials on
the OpenMP team that has just computed them (oneDNN's ``exp``, then a compiled loop of float64 row
sums, or of the gradient's row scaling): the team's threads are awake there, where ember's Python
pool steps aside (the same 560x5000 logits, 2 threads: forward 1.55 -> 0.85 ms, backward 1.31 ->
0.80 ms, in isolation; in the training step, which ran them on one thread, 2.3 -> 1.5 and 2.5 ->
1.1 ms). A row whose sum of ``exp(x)`` leaves ``[1e-20, 1e30]`` (a NaN, logits far from 0) sends
the whole batch to the blocks above.
"""

from __future__ import annotations

import numpy as np

from ember.threads import get_num_threads

from .. import loops
from ..onednn import exponential
from ..parallel import after_openmp_team
from . import softmax as _softmax
from .softmax import _BLAS_DTYPES, _by_row_blocks

__all__ = ["NumpyLossKernels"]


#: rows whose maxima lie within +-this take their log-sum-exp without the shift by the maximum:
#: ``exp`` of every element stays finite (float32 overflows above 88.7), the row's largest term is
#: a normal number (above 1e-26) and the sum of up to 10**12 of them cannot overflow
_EXP_RANGE = 60


class _RowLogSumExp:
    """What :meth:`NumpyLossKernels.cross_entropy` keeps for its backward: the logits ``x`` (N, C)
    and each row's log-sum-exp ``lse`` (N,), so that ``log_softmax(x) = x - lse[:, None]``."""

    __slots__ = ("x", "lse")

    def __init__(self, x, lse):
        self.x, self.lse = x, lse


def _row_sums(block, ones):
    """The sums of ``block``'s rows: a matrix-vector product with ``ones`` where BLAS takes the
    dtype (faster than NumPy's row reduction), else the reduction."""
    return np.matmul(block, ones) if ones is not None else np.add.reduce(block, axis=1)


def _log_sum_exp_into(rows, out, ones):
    """Each row's log-sum-exp of the 2-d ``rows``, written into ``out`` (the row sums by :func:`_row_sums`)."""
    top = np.maximum.reduce(rows, axis=1)
    if np.minimum.reduce(top) >= -_EXP_RANGE and np.maximum.reduce(top) <= _EXP_RANGE:
        np.log(_row_sums(np.exp(rows), ones), out=out)  # no shift needed: one pass fewer
        return
    scratch = np.subtract(rows, top[:, None])
    np.exp(scratch, out=scratch)
    np.log(_row_sums(scratch, ones), out=out)
    out += top


class NumpyLossKernels:
    """Faster NumPy versions of portable loss kernels."""

    def _picks(self, target, weight, ignore_index, dtype):
        """``(safe, w, valid)``: the class indices with the ignored ones as 0, each row's weight (0 where
        ignored) and the mask of the rows not ignored; where no row is ignored (the common case, answered by
        one count), ``target`` itself, the weights picked without a mask, and None."""
        valid = target != ignore_index
        if np.count_nonzero(valid) == valid.size:
            return target, valid.astype(dtype) if weight is None else weight[target], None  # (ones, cast in C)
        safe = target * valid  # int64 times bool: the ignored indices become 0
        return safe, valid.astype(dtype) if weight is None else weight[safe] * valid, valid

    def nll_loss(self, x, target, weight, ignore_index):
        safe, w, valid = self._picks(target, weight, ignore_index, x.dtype)
        picked = x[np.arange(x.shape[0]), safe]  # a fresh array: negated and weighted in place
        np.negative(picked, out=picked)
        if valid is not None or weight is not None:  # (a product by the weights of ones is the identity)
            np.multiply(picked, w, out=picked)
        if valid is not None:
            np.putmask(picked, target == ignore_index, 0)  # an ignored row is 0, even where x[n, 0] is -inf
        return picked, w

    def nll_loss_backward(self, coeff, target, weight, ignore_index, num_classes):
        safe, w, valid = self._picks(target, weight, ignore_index, coeff.dtype)
        out = np.zeros((target.shape[0], num_classes), dtype=coeff.dtype)
        picked = -(coeff * w)
        out[np.arange(target.shape[0]), safe] = picked if valid is None else np.where(valid, picked, 0)  # ignored: 0
        return out

    def cross_entropy(self, x, target, weight, ignore_index, label_smoothing):
        if x.size == 0:
            return super().cross_entropy(x, target, weight, ignore_index, label_smoothing)
        n, num_classes = x.shape
        lse = _team_log_sum_exp(x)
        if lse is None:
            lse = self._log_sum_exp(x)
        safe, w, valid = self._picks(target, weight, ignore_index, x.dtype)
        losses = np.subtract(lse, x[np.arange(n), safe])  # -log_softmax(x) at the targets
        if valid is not None or weight is not None:  # (a product by the weights of ones is the identity)
            np.multiply(losses, w, out=losses)
        if valid is not None:
            np.putmask(losses, np.logical_not(valid), 0)  # an ignored row is 0, even where x[n, 0] is -inf
        if label_smoothing > 0:  # -sum_c weight_c log_softmax(x)_c, zero where ignored
            blas = x.dtype in _BLAS_DTYPES and x.nbytes > _softmax.BLOCK_BYTES  # as in the log-sum-exp's blocks
            ones = np.ones(num_classes, dtype=x.dtype) if blas else None
            total = num_classes if weight is None else np.sum(weight)
            smooth = np.multiply(lse, total)
            smooth -= _row_sums(x, ones) if weight is None else np.matmul(x, weight)
            if valid is not None:
                np.putmask(smooth, np.logical_not(valid), 0)
            losses *= 1 - label_smoothing
            losses += smooth * (label_smoothing / num_classes)
        return _RowLogSumExp(x, lse), losses, w

    def _log_sum_exp(self, x):
        """Each row's log-sum-exp, by NumPy ufuncs on cache-sized blocks of rows."""
        n, num_classes = x.shape
        lse = np.empty(n, dtype=x.dtype)
        if x.nbytes <= _softmax.BLOCK_BYTES:  # a few rows: one block, NumPy's row sums
            if np.minimum.reduce(x, axis=None) >= -_EXP_RANGE and np.maximum.reduce(x, axis=None) <= _EXP_RANGE:
                # every element in the range, so every row's maximum: no shift, and no row maxima to
                # check (NumPy's row reduction costs ~0.1 us a row; NaN fails the test)
                np.log(_row_sums(np.exp(x), None), out=lse)
            else:
                _log_sum_exp_into(x, lse, None)
            return lse
        ones = np.ones(num_classes, dtype=x.dtype) if x.dtype in _BLAS_DTYPES else None
        _by_row_blocks(x, lambda lo, hi: _log_sum_exp_into(x[lo:hi], lse[lo:hi], ones))
        return lse

    def cross_entropy_backward(self, coeff, saved, target, weight, ignore_index, label_smoothing):
        if not isinstance(saved, _RowLogSumExp):  # the portable forward's log-probabilities
            return super().cross_entropy_backward(coeff, saved, target, weight, ignore_index, label_smoothing)
        x, lse = saved.x, saved.lse
        n, num_classes = x.shape
        safe, w, valid = self._picks(target, weight, ignore_index, x.dtype)
        picked = coeff * w * (1 - label_smoothing)  # the target class's share of the weights
        if valid is not None:  # ignored rows selected to 0, as PyTorch's kernel skips them (inf * 0)
            picked = np.where(valid, picked, 0)
        total = picked
        if label_smoothing > 0:
            smooth = coeff * (label_smoothing / num_classes)
            smooth = np.where(target != ignore_index if valid is None else valid, smooth, 0)  # a row each
            total = picked + smooth * (num_classes if weight is None else np.sum(weight))
            spread = smooth[:, None] if weight is None else np.multiply.outer(smooth, weight)
        out = _team_scaled_softmax(x, lse, total)
        if out is not None:
            if label_smoothing > 0:
                np.subtract(out, spread, out=out)
            out[np.arange(n), safe] -= picked
            return out
        out = np.empty(x.shape, dtype=x.dtype)

        def block(lo, hi):
            part, row_lse = out[lo:hi], lse[lo:hi]
            if np.minimum.reduce(row_lse) >= 0 and np.maximum.reduce(row_lse) <= _EXP_RANGE:
                # exp(x) * (total * exp(-lse)): one pass fewer; with 0 <= lse no term underflows that
                # exp(x - lse) would keep, and exp(-lse) is a normal number
                np.exp(x[lo:hi], out=part)
                np.multiply(part, (total[lo:hi] * np.exp(-row_lse))[:, None], out=part)
            else:
                np.subtract(x[lo:hi], row_lse[:, None], out=part)  # log_softmax(x)
                np.exp(part, out=part)
                np.multiply(part, total[lo:hi, None], out=part)
            if label_smoothing > 0:
                np.subtract(part, spread[lo:hi], out=part)

        if out.nbytes <= _softmax.BLOCK_BYTES:  # a few rows: one block, no split over the threads
            block(0, n)
        else:
            _by_row_blocks(out, block)
        out[np.arange(n), safe] -= picked
        return out


def _team_exp(x, out):
    """``exp(x)`` into ``out`` on oneDNN's OpenMP team (:mod:`..onednn.exponential`), for ``x`` that
    :func:`exponential.takes <..onednn.exponential.takes>`; False where oneDNN has no plan for it."""
    threads = get_num_threads()
    plan = exponential.plan(x.size, threads)
    if plan is None:
        return False
    with plan.lib.on_threads(threads):
        plan(x.reshape(-1), out.reshape(-1))
    if threads > 1:
        after_openmp_team()
    return True


def _team_log_sum_exp(x):
    """Each row's log-sum-exp as ``log(sum(exp(x)))`` on the OpenMP team (oneDNN's exponentials, the
    compiled loops' float64 row sums), where both serve ``x``; None where they do not, or where a row's
    sum leaves ``[1e-20, 1e30]`` (a NaN, an overflow, or a largest term too near the subnormals: the
    caller shifts by the maximum instead). Inside that range no term overflowed and the largest one is a
    normal number (at least ``1e-20 / C``), beside which the subnormal terms weigh nothing."""
    compiled = loops.get() if exponential.takes(x) else None
    if compiled is None:
        return None
    scratch = np.empty(x.shape, dtype=x.dtype)
    if not _team_exp(x, scratch):
        return None
    sums = np.empty(x.shape[0])
    loops.launch(compiled.row_sums, scratch, sums)
    if not (np.minimum.reduce(sums) >= 1e-20 and np.maximum.reduce(sums) <= 1e30):  # NaN: False
        return None
    return np.log(sums).astype(x.dtype)


def _team_scaled_softmax(x, lse, total):
    """``softmax(x) * total[:, None]`` as ``exp(x) * (total * exp(-lse))`` on the OpenMP team, where the
    compiled loops and oneDNN serve ``x`` and every log-sum-exp lies in ``[0, _EXP_RANGE]``; else None."""
    compiled = loops.get() if exponential.takes(x) else None
    if compiled is None:
        return None
    if not (np.minimum.reduce(lse) >= 0 and np.maximum.reduce(lse) <= _EXP_RANGE):
        return None
    out = np.empty(x.shape, dtype=x.dtype)
    if not _team_exp(x, out):
        return None
    loops.launch(compiled.scale_rows, out, np.ascontiguousarray(total * np.exp(-lse), dtype=x.dtype))
    return out
