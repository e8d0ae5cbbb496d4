"""NumPy overrides of the recurrent kernels.

The per-step hidden products ``h @ w_hh.T`` take the transposed weight as a C-contiguous
copy made once per layer call: OpenBLAS runs a short ``(B, H) @ (H, 4H)`` product about 1.7x
slower on a transposed (Fortran-order) view (B=16, H=256, float32, one thread: about 590 us
against 340 us), and the copy costs one pass over the weight per layer instead of one slow
product per time step.

The LSTM cell works in the hidden product's fresh ``(B, 4H)`` buffer: the input part is added
into it, and the four gate activations are one ``tanh`` over the whole buffer between two
per-column affine maps (``sigmoid(x) = tanh(x / 2) / 2 + 1/2`` on the ``i, f, o`` columns, the
identity on ``g``: the portable cell's formula, value for value), four ufunc calls instead of
ten. Its backward writes the four gate gradients into the columns of one buffer, with no
temporaries and no concatenation. The kernel table runs with NumPy's floating-point warnings
off already, so the cells call the namespace's raw ``matmul`` (T=35, B=16, H=256 float32, one thread, forward and backward
of the cells: portable 25.9 ms, these 24.6 ms, min of 11 alternating rounds; the products
are most of it).

An LSTM layer whose steps all have the same batch size (a padded batch, the common case) goes
through :meth:`NumpyRnnKernels.rnn_layer` whole instead of cell by cell: the gates of every step
live in one ``(N, 4H)`` buffer, the input part and the 1/2 scale of the sigmoid gates applied to
all steps at once (the scale folded into a copy of the hidden weight: a power of two, so the
values are the cell path's, bit for bit where its products are whole); the backward builds each step's gate factors for all
steps before its time loop, which is left with five ufuncs and one product a step. The per-step
products go by blocks that OpenBLAS runs on its unpacked small-matrix GEMM (:mod:`.small_gemm`):
the forward's as ``(w_hh * scale) @ h.T`` by 128-row blocks of the weight (views: no transposed
copy), the backward's by 32-column blocks of ``w_hh`` (B=16, H=256, one thread: these widths
beat the widest blocks that fit, 240 and 48; forward about 105 us whole, 80 us in blocks,
PyTorch 85 us; backward 105 against 85 us, PyTorch 57 us). The small-matrix GEMM runs on one
thread, which with two threads on a busy machine is faster still than OpenBLAS's threaded
product. Where oneDNN is installed (the ``onednn`` extra), the per-step products are its matmul
primitive instead (:class:`~ember.backends.numpy.onednn.gemm.StepProduct`: 16 x 256 @ 256 x 1024,
one thread, 60 us against the blocks' 80 us, measured with ``dnnl_sgemm``, which the primitive
replaced), the forward's added into the step's gates inside the product. The LM step (2 x 256,
35 x 16, vocabulary 5000, one thread, thread CPU time on a shared machine, with the embedding and
log-softmax changes of the same session): 1.32-1.35x -> 1.19-1.22x PyTorch's time.

Where oneDNN is installed and ``ember.backends.mkldnn.enabled``, a float32 layer of that kind goes
through oneDNN's LSTM primitives instead, forward and backward (:mod:`..onednn.lstm`, PyTorch's CPU
path): the time loop runs inside oneDNN on its OpenMP team, and the values are PyTorch's bit for
bit on one thread. So does a bfloat16 one (a cpu autocast region's) on an AVX-512 CPU, where
PyTorch takes that path for bfloat16: its outputs and gradients are PyTorch's bit for bit, on one
thread and two (the portable per-step form is a unit off on about half of them). Two LSTM layers of the LM step, forward and backward: 38.1 -> 31.7 ms on one
thread, 25.3 -> 17.7 ms on two.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ember.backends import mkldnn
from ember.backends.cpu import get_cpu_capability
from ember.dtypes import native_dtype_name
from ember.threads import get_num_threads

from ..namespace import _matmul
from ..onednn import gemm, lstm
from ..parallel import after_openmp_team
from .small_gemm import block_width

__all__ = ["NumpyRnnKernels"]

#: the dtypes of the whole-layer LSTM path (products written into buffers with ``out=``)
_LAYER_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class _LstmLayerState:
    """What :meth:`NumpyRnnKernels.rnn_layer`'s LSTM path keeps for its backward: every step's
    activated gates ``(N, 4H)``, cell states and their tanh ``(N, H)``, the hidden state each step
    started from ``(N, H)`` and the initial cell state."""

    __slots__ = ("gates", "c", "tanh_c", "h_prev", "c0")

    def __init__(self, gates, c, tanh_c, h_prev, c0):
        self.gates, self.c, self.tanh_c, self.h_prev, self.c0 = gates, c, tanh_c, h_prev, c0


class _OnednnLstmState:
    """What :meth:`NumpyRnnKernels.rnn_layer`'s oneDNN path keeps for its backward: the plan, the
    OpenMP thread count it runs on, and the forward's arrays (:meth:`.lstm.LstmPlan.backward`'s ``saved``)."""

    __slots__ = ("plan", "threads", "saved")

    def __init__(self, plan, threads, saved):
        self.plan, self.threads, self.saved = plan, threads, saved


def _onednn_dtype(arrays):
    """The dtype of an LSTM layer's ``arrays`` where oneDNN's primitive takes them as PyTorch's CPU LSTM
    does: all float32, or all bfloat16 on a CPU where PyTorch runs bfloat16 through oneDNN (AVX-512 F,
    BW, VL and DQ: its ``mkldnn_bf16_device_check``); else None."""
    kinds = {a.dtype for a in arrays}
    if len(kinds) != 1:
        return None
    (kind,) = kinds
    if kind == np.float32 or (native_dtype_name(kind) == "bfloat16" and get_cpu_capability() == "AVX512"):
        return kind
    return None


def _onednn_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse):
    """``(output, h_n, c_n, state)`` of an LSTM layer through oneDNN's primitive (PyTorch's CPU path),
    or None where it does not take the case: oneDNN missing or off, not all float32 (or bfloat16, see
    :func:`_onednn_dtype`), an empty size. A bfloat16 layer's bias is its two added in bfloat16, as
    PyTorch adds them."""
    arrays = [a for a in (x, h0, c0, w_ih, w_hh, b_ih, b_hh) if a is not None]
    kind = _onednn_dtype(arrays)
    if not mkldnn.enabled or kind is None or not all(a.size for a in arrays):
        return None
    threads, batch, hidden = get_num_threads(), batch_sizes[0], h0.shape[1]
    plan = lstm.plan(len(batch_sizes), batch, x.shape[1], hidden, reverse, threads, kind)
    if plan is None:
        return None
    contiguous = np.ascontiguousarray
    if b_ih is None and b_hh is None:
        bias = np.zeros(4 * hidden, dtype=kind)
    else:
        bias = b_ih + b_hh if b_ih is not None and b_hh is not None else contiguous(b_hh if b_ih is None else b_ih)
    saved = (contiguous(x), contiguous(h0), contiguous(c0), contiguous(w_ih), contiguous(w_hh), bias)
    # the results stay the backward's (it reads them): the caller gets copies it may change
    results = (np.empty((x.shape[0], hidden), kind), *(np.empty((batch, hidden), kind) for _ in "hc"))
    workspace = plan.workspace()
    with plan.lib.on_threads(threads):
        plan.forward(*saved, *results, workspace)
    if threads > 1:
        after_openmp_team()
    return (*(r.copy() for r in results), _OnednnLstmState(plan, threads, saved + results + (workspace,)))


def _onednn_layer_backward(state, grad_out, grad_h_n, grad_c_n, needs_input_grad):
    """:meth:`NumpyRnnKernels.rnn_layer_backward`'s results for a layer that ran through oneDNN: the
    primitive's float32 gradients, in the forward's dtype (a bfloat16 layer's rounded once, as
    PyTorch's autograd casts its ``mkldnn_rnn_layer_backward``'s to its inputs' dtype)."""
    x, h0, c0, w_ih, w_hh, bias = state.saved[:6]
    if grad_c_n is None:
        grad_c_n = np.zeros(c0.shape, np.float32)
    grads = tuple(np.ascontiguousarray(g, dtype=np.float32) for g in (grad_out, grad_h_n, grad_c_n))
    results = tuple(np.empty(a.shape, np.float32) for a in (x, h0, c0, w_ih, w_hh, bias))
    with state.plan.lib.on_threads(state.threads):
        state.plan.backward(state.saved, grads, results)
    if state.threads > 1:
        after_openmp_team()
    if x.dtype != np.float32:
        results = tuple(r.astype(x.dtype) for r in results)
    grad_x, grad_h0, grad_c0, grad_w_ih, grad_w_hh, grad_bias = results
    return (
        grad_x if needs_input_grad else None,
        grad_h0,
        grad_c0,
        grad_w_ih,
        grad_w_hh,
        grad_bias,
        grad_bias.copy(),  # b_ih and b_hh get arrays of their own
        None,
    )


def _input_part(x, w_ih, bias, scale):
    """``(x @ w_ih.T + bias) * scale``, every step's input part of the gates in one new buffer. Where
    oneDNN takes the product, ``x @ (w_ih * scale).T`` with ``bias * scale`` added inside the product
    (``scale`` holds powers of two: the same values, two passes over the buffer fewer)."""
    if bias is not None and x.ndim == 2 and x.dtype == np.float32 and gemm.takes(*x.shape, w_ih.shape[0], x.dtype):
        gates = gemm.matmul(x, np.multiply(w_ih, scale[:, None]).T, bias=np.multiply(bias, scale))
        if gates is not None:
            return gates
    gates = _matmul(x, w_ih.T)
    if bias is not None:
        gates += bias
    gates *= scale
    return gates


def _hidden_product(w_s, hidden, batch):
    """``((h, g) -> g += h @ w_s.T, threads)`` for a step's ``(batch, hidden)`` state and ``(batch, 4 *
    hidden)`` gates, and the context the time loop runs in: through oneDNN where it takes the product
    (added inside the GEMM), else as ``(w_s @ h.T).T`` by blocks of ``w_s``'s rows (views: no copy)
    that OpenBLAS's small-matrix GEMM takes, then added."""
    product = gemm.step_product(w_s.T, batch, accumulate=True)
    if product is not None:
        return product, product.threads()
    width = block_width(w_s.shape[0], hidden, batch)
    w_blocks = [(slice(lo, lo + width), w_s[lo : lo + width]) for lo in range(0, w_s.shape[0], width)]
    transposed = np.empty((w_s.shape[0], batch), dtype=w_s.dtype)

    def blocks(h, g):
        h_t = np.ascontiguousarray(h.T)
        for rows_w, block in w_blocks:
            np.matmul(block, h_t, out=transposed[rows_w])
        g += transposed.T

    return blocks, contextlib.nullcontext()


def _hidden_grad_product(w_hh, hidden, batch):
    """``(g -> g @ w_hh, threads)`` for a step's ``(batch, 4 * hidden)`` gate gradients (a new array),
    and the context the time loop runs in: through oneDNN where it takes the product, else by column
    blocks of ``w_hh`` that OpenBLAS's small-matrix GEMM takes."""
    product = gemm.step_product(w_hh, batch)
    if product is not None:
        return lambda g: product(g, np.empty((batch, hidden), dtype=g.dtype)), product.threads()
    width = block_width(hidden, 4 * hidden, batch)
    w_blocks = [
        (slice(lo, lo + width), np.ascontiguousarray(w_hh[:, lo : lo + width])) for lo in range(0, hidden, width)
    ]

    def blocks(g):
        out = np.empty((g.shape[0], hidden), dtype=g.dtype)
        for columns, block in w_blocks:
            np.matmul(g, block, out=out[:, columns])
        return out

    return blocks, contextlib.nullcontext()


class NumpyRnnKernels:
    """Faster NumPy versions of portable rnn kernels (see the module docstring)."""

    def _step_weight(self, w):
        return np.ascontiguousarray(w.T)

    def _gate_maps(self, hidden, dtype):
        """``(scale, shift)`` over the ``4 * hidden`` gate columns: 1/2 and 1/2 on ``i, f, o``, 1 and 0 on ``g``."""
        maps = self.__dict__.setdefault("_lstm_gate_maps", {})
        key = (hidden, dtype)
        if key not in maps:
            scale = np.full(4 * hidden, 0.5, dtype=dtype)
            shift = np.full(4 * hidden, 0.5, dtype=dtype)
            scale[2 * hidden : 3 * hidden], shift[2 * hidden : 3 * hidden] = 1, 0
            maps[key] = scale, shift
        return maps[key]

    def lstm_cell(self, gx, h, c, w_hh_t, b_hh):
        gates = _matmul(h, w_hh_t)  # a fresh buffer: everything below happens in it
        gates += gx
        if b_hh is not None:
            gates += b_hh
        n = gates.shape[1] // 4
        scale, shift = self._gate_maps(n, gates.dtype)
        np.multiply(gates, scale, out=gates)
        np.tanh(gates, out=gates)
        np.multiply(gates, scale, out=gates)
        np.add(gates, shift, out=gates)
        i, f, g, o = gates[:, :n], gates[:, n : 2 * n], gates[:, 2 * n : 3 * n], gates[:, 3 * n :]
        c_new = f * c
        c_new += i * g
        tanh_c = np.tanh(c_new)
        return o * tanh_c, c_new, (i, f, g, o, c, tanh_c)

    def lstm_cell_backward(self, grad_h, grad_c, saved, w_hh):
        i, f, g, o, c, tanh_c = saved
        n = i.shape[1]
        grad_gates = np.empty((i.shape[0], 4 * n), dtype=i.dtype)
        gi, gf, gg, go = (grad_gates[:, k * n : (k + 1) * n] for k in range(4))
        gc = np.multiply(tanh_c, tanh_c)  # grad_c + grad_h * o * (1 - tanh_c^2)
        np.subtract(1, gc, out=gc)
        gc *= o
        gc *= grad_h
        gc += grad_c
        for out, act, other in ((gi, i, g), (gf, f, c), (go, o, None)):  # sigmoid gates: act (1 - act) ...
            np.subtract(1, act, out=out)
            out *= act
            out *= tanh_c if other is None else other
            out *= grad_h if other is None else gc
        np.multiply(g, g, out=gg)  # gc * i * (1 - g^2)
        np.subtract(1, gg, out=gg)
        gg *= i
        gg *= gc
        return grad_gates, grad_gates, _matmul(grad_gates, w_hh), np.multiply(gc, f)

    # -- a whole LSTM layer over equal-sized steps -----------------------------------------
    def rnn_layer(self, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, nonlinearity="tanh", w_hr=None):
        whole_layer = mode == "LSTM" and w_hr is None and len(batch_sizes) > 0 and batch_sizes[0] == batch_sizes[-1]
        through_onednn = _onednn_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse) if whole_layer else None
        if through_onednn is not None:
            return through_onednn
        if not self._lstm_layer_path(mode, x, batch_sizes, w_hr):
            return super().rnn_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, nonlinearity, w_hr)
        rows, hidden, batch = x.shape[0], h0.shape[1], batch_sizes[0]
        scale, shift = self._gate_maps(hidden, x.dtype)
        # the gates of every step in one buffer: the input part of all steps at once, scaled by
        # ``scale`` (1/2 on i, f, o: exact) so that one tanh per step gives every activation
        bias = b_ih if b_hh is None else (b_hh if b_ih is None else b_ih + b_hh)
        gates = _input_part(x, w_ih, bias, scale)
        # the scaled hidden part, h @ (w_hh * scale).T
        w_s = np.multiply(w_hh, scale[:, None])
        add_hidden_part, threads = _hidden_product(w_s, hidden, batch)
        c_all, tanh_all, out = (np.empty((rows, hidden), dtype=x.dtype) for _ in range(3))
        both = np.empty((batch, hidden), dtype=x.dtype)
        h, c = h0, c0
        with threads:  # oneDNN's thread count set once around the time loop
            for t in range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes)):
                rows_t = slice(t * batch, (t + 1) * batch)
                g = gates[rows_t]
                add_hidden_part(h, g)
                np.tanh(g, out=g)
                g *= scale
                g += shift
                c = np.multiply(g[:, hidden : 2 * hidden], c, out=c_all[rows_t])  # f * c + i * g
                np.multiply(g[:, :hidden], g[:, 2 * hidden : 3 * hidden], out=both)
                c += both
                np.tanh(c, out=tanh_all[rows_t])
                h = np.multiply(g[:, 3 * hidden :], tanh_all[rows_t], out=out[rows_t])
        last = slice(0, batch) if reverse else slice(rows - batch, rows)
        h_prev = np.concatenate((out[batch:], h0) if reverse else (h0, out[:-batch]))
        return out, out[last].copy(), c_all[last].copy(), _LstmLayerState(gates, c_all, tanh_all, h_prev, c0)

    def _lstm_layer_path(self, mode, x, batch_sizes, w_hr):
        """Whether :meth:`rnn_layer` takes the whole-layer LSTM path: no projection, float32 or
        float64, every step of the same batch size (a padded batch)."""
        return (
            mode == "LSTM"
            and w_hr is None
            and x.dtype in _LAYER_DTYPES
            and len(batch_sizes) > 0
            and batch_sizes[0] == batch_sizes[-1]
        )

    def rnn_layer_backward(
        self,
        mode,
        grad_out,
        grad_h_n,
        grad_c_n,
        x,
        w_ih,
        w_hh,
        batch_sizes,
        reverse,
        state,
        nonlinearity="tanh",
        needs_input_grad=True,
        w_hr=None,
    ):
        if isinstance(state, _OnednnLstmState):
            return _onednn_layer_backward(state, grad_out, grad_h_n, grad_c_n, needs_input_grad)
        if not isinstance(state, _LstmLayerState):
            return super().rnn_layer_backward(
                mode,
                grad_out,
                grad_h_n,
                grad_c_n,
                x,
                w_ih,
                w_hh,
                batch_sizes,
                reverse,
                state,
                nonlinearity,
                needs_input_grad,
                w_hr,
            )
        gates, c_all, tanh_all = state.gates, state.c, state.tanh_c
        rows, hidden, batch = grad_out.shape[0], grad_h_n.shape[1], batch_sizes[0]
        i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
        # every step's gate gradients but the factor that the time loop brings (grad_c or grad_h),
        # built over all steps at once, operation by operation as lstm_cell_backward builds them
        grad_gates = np.subtract(1, gates)  # the sigmoid gates: act (1 - act) ...
        grad_gates *= gates
        gi, gf, gg, go = (grad_gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
        gi *= g
        if reverse:  # f times the previous cell state
            gf[:-batch] *= c_all[batch:]
            gf[-batch:] *= state.c0
        else:
            gf[batch:] *= c_all[:-batch]
            gf[:batch] *= state.c0
        go *= tanh_all
        np.multiply(g, g, out=gg)  # i (1 - g^2)
        np.subtract(1, gg, out=gg)
        gg *= i
        cell = np.multiply(tanh_all, tanh_all)  # o (1 - tanh(c)^2): the path from h to c
        np.subtract(1, cell, out=cell)
        cell *= o
        by_gate = grad_gates.reshape(rows, 4, hidden)
        hidden_grad, threads = _hidden_grad_product(w_hh, hidden, batch)
        gh, gc = grad_h_n, grad_c_n
        with threads:
            for t in range(len(batch_sizes)) if reverse else range(len(batch_sizes) - 1, -1, -1):
                rows_t = slice(t * batch, (t + 1) * batch)
                gh = gh + grad_out[rows_t]
                gc_t = np.multiply(cell[rows_t], gh)
                gc_t += gc
                by_gate[rows_t, :3] *= gc_t[:, None]
                go[rows_t] *= gh
                gc = np.multiply(gc_t, f[rows_t])
                gh = hidden_grad(grad_gates[rows_t])
        grad_b = grad_gates.sum(axis=0)
        return (
            _matmul(grad_gates, w_ih) if needs_input_grad else None,
            gh,
            gc,
            _matmul(grad_gates.T, x),
            _matmul(grad_gates.T, state.h_prev),
            grad_b,
            grad_b.copy(),  # b_ih and b_hh get arrays of their own
            None,
        )
