"""Portable recurrent kernels: fused per-step cell math and the time loop of one layer.

Layout. A layer runs over *packed* rows: ``x`` is ``(N, input_size)`` where time step ``t``
owns the rows ``offsets[t] : offsets[t] + batch_sizes[t]`` and ``batch_sizes`` does not
increase (a padded ``(T, B, *)`` batch is the special case ``batch_sizes = (B,) * T``). At
step ``t`` only the first ``batch_sizes[t]`` sequences are active, so a sequence's final
state is the state it had when it dropped out (or at the last step).

Cells. ``gx`` is the input-to-hidden part of the gates, ``x_t @ w_ih.T + b_ih``, computed
for every time step at once by the layer; ``w_hh_t`` is ``w_hh`` transposed (``(H, G*H)``)
so that the per-step product is ``h @ w_hh_t``. Gate order is PyTorch's: LSTM ``i, f, g,
o``; GRU ``r, z, n`` with ``n = tanh(gx_n + r * (h @ w_hn.T + b_hn))``.

Each ``*_cell`` returns the new state(s) and an opaque ``saved`` tuple for its
``*_cell_backward``, which returns the gradient with respect to ``gx`` (the gate
pre-activations), the gradient with respect to the hidden-to-hidden pre-activations
(``h @ w_hh.T + b_hh``; the same array as the former except for GRU) and the gradients of
the previous state(s).
"""

from __future__ import annotations

__all__ = ["RnnKernels"]


def _offsets(batch_sizes):
    offsets, total = [], 0
    for size in batch_sizes:
        offsets.append(total)
        total += size
    return offsets


class RnnKernels:
    """Portable default recurrent kernels, written against ``self.xp`` only."""

    # -- elementwise helpers ---------------------------------------------------------------
    def _sigmoid(self, x):
        # 0.5 * (1 + tanh(x / 2)): one transcendental and no overflow for large |x|.
        return self.xp.tanh(x * 0.5) * 0.5 + 0.5

    def _step_weight(self, w):
        """``w`` transposed, as the right operand of the per-step products ``h @ w.T``."""
        return self.xp.permute_dims(w, (1, 0))

    def _hidden_product(self, h, w_hh_t, b_hh):
        gh = self.xp.matmul(h, w_hh_t)
        return gh if b_hh is None else gh + b_hh

    # -- cells -----------------------------------------------------------------------------
    def rnn_cell(self, gx, h, w_hh_t, b_hh, nonlinearity="tanh"):
        """Elman step: ``h' = act(gx + h @ w_hh_t + b_hh)``; returns ``(h', saved)``."""
        pre = gx + self._hidden_product(h, w_hh_t, b_hh)
        h_new = self.xp.tanh(pre) if nonlinearity == "tanh" else self.xp.maximum(pre, 0)
        return h_new, (h_new,)

    def rnn_cell_backward(self, grad_h, saved, w_hh, nonlinearity="tanh"):
        """Returns ``(grad_gx, grad_gh, grad_h_prev)`` for :meth:`rnn_cell`."""
        (h_new,) = saved
        if nonlinearity == "tanh":
            grad_pre = grad_h * (1 - h_new * h_new)
        else:
            grad_pre = grad_h * self.xp.astype(h_new > 0, grad_h.dtype)
        return grad_pre, grad_pre, self.xp.matmul(grad_pre, w_hh)

    def lstm_cell(self, gx, h, c, w_hh_t, b_hh):
        """LSTM step; returns ``(h', c', saved)``."""
        xp = self.xp
        gates = gx + self._hidden_product(h, w_hh_t, b_hh)
        n = gates.shape[1] // 4
        i = self._sigmoid(gates[:, :n])
        f = self._sigmoid(gates[:, n : 2 * n])
        g = xp.tanh(gates[:, 2 * n : 3 * n])
        o = self._sigmoid(gates[:, 3 * n :])
        c_new = f * c + i * g
        tanh_c = xp.tanh(c_new)
        return o * tanh_c, c_new, (i, f, g, o, c, tanh_c)

    def lstm_cell_backward(self, grad_h, grad_c, saved, w_hh):
        """Returns ``(grad_gx, grad_gh, grad_h_prev, grad_c_prev)`` for :meth:`lstm_cell`."""
        xp = self.xp
        i, f, g, o, c, tanh_c = saved
        grad_c = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
        grad_gates = xp.concat(
            [
                grad_c * g * i * (1 - i),
                grad_c * c * f * (1 - f),
                grad_c * i * (1 - g * g),
                grad_h * tanh_c * o * (1 - o),
            ],
            axis=1,
        )
        return grad_gates, grad_gates, xp.matmul(grad_gates, w_hh), grad_c * f

    def gru_cell(self, gx, h, w_hh_t, b_hh):
        """GRU step; returns ``(h', saved)``."""
        xp = self.xp
        gh = self._hidden_product(h, w_hh_t, b_hh)
        n3 = gh.shape[1] // 3
        r = self._sigmoid(gx[:, :n3] + gh[:, :n3])
        z = self._sigmoid(gx[:, n3 : 2 * n3] + gh[:, n3 : 2 * n3])
        gh_n = gh[:, 2 * n3 :]
        n = xp.tanh(gx[:, 2 * n3 :] + r * gh_n)
        return n + z * (h - n), (r, z, n, gh_n, h)

    def gru_cell_backward(self, grad_h, saved, w_hh):
        """Returns ``(grad_gx, grad_gh, grad_h_prev)`` for :meth:`gru_cell`."""
        xp = self.xp
        r, z, n, gh_n, h = saved
        grad_n = grad_h * (1 - z) * (1 - n * n)
        grad_r = grad_n * gh_n * r * (1 - r)
        grad_z = grad_h * (h - n) * z * (1 - z)
        grad_gx = xp.concat([grad_r, grad_z, grad_n], axis=1)
        grad_gh = xp.concat([grad_r, grad_z, grad_n * r], axis=1)
        return grad_gx, grad_gh, grad_h * z + xp.matmul(grad_gh, w_hh)

    # -- one layer, one direction ----------------------------------------------------------
    def rnn_layer(self, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse, nonlinearity="tanh", w_hr=None):
        """Run one direction of one layer over packed rows.

        Args:
            mode: ``"RNN"``, ``"LSTM"`` or ``"GRU"``.
            x: ``(N, input_size)`` packed rows; h0 (and c0 for LSTM): ``(B, H)``.
            batch_sizes: a non-increasing sequence of Python ints summing to ``N``.
            reverse: run from the last time step to the first.
            w_hr: LSTM projection ``(P, H)``: the hidden state is ``(o * tanh(c)) @ w_hr.T``
                (so ``h0`` is ``(B, P)`` and ``c0`` is ``(B, H)``).

        Returns:
            ``(output, h_n, c_n, state)``: ``output`` is ``(N, H)``, ``c_n`` is ``None``
            unless LSTM, ``state`` is what :meth:`rnn_layer_backward` needs.
        """
        xp = self.xp
        gx = xp.matmul(x, xp.permute_dims(w_ih, (1, 0)))
        lstm = mode == "LSTM"
        if b_hh is not None and mode != "GRU":  # both biases added to every step's input part at once
            b_ih = b_hh if b_ih is None else b_ih + b_hh
            b_hh = None
        if b_ih is not None:
            gx = gx + b_ih
        w_hh_t = self._step_weight(w_hh)
        offsets = _offsets(batch_sizes)
        steps = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
        rows, hidden = x.shape[0], h0.shape[1]
        out = xp.empty((rows, hidden), dtype=x.dtype)
        h_prev = xp.empty((rows, hidden), dtype=x.dtype)
        w_hr_t = None if w_hr is None else self._step_weight(w_hr)
        h_full = None if w_hr is None else xp.empty((rows, w_hr.shape[1]), dtype=x.dtype)
        h_n = xp.empty(h0.shape, dtype=x.dtype)
        c_n = xp.empty(c0.shape, dtype=x.dtype) if lstm else None
        first = batch_sizes[steps[0]] if len(batch_sizes) else 0
        h = h0[:first]
        c = c0[:first] if lstm else None
        saved = [None] * len(batch_sizes)
        for t in steps:
            size, start = batch_sizes[t], offsets[t]
            active = h.shape[0]
            if size < active:  # sequences that ended: their state is final
                h_n[size:active] = h[size:active]
                h = h[:size]
                if lstm:
                    c_n[size:active] = c[size:active]
                    c = c[:size]
            elif size > active:  # (reverse) sequences that start: their initial state
                h = xp.concat([h, h0[active:size]], axis=0)
                if lstm:
                    c = xp.concat([c, c0[active:size]], axis=0)
            end = start + size
            h_prev[start:end] = h
            if lstm:
                h, c, s = self.lstm_cell(gx[start:end], h, c, w_hh_t, b_hh)
                if w_hr_t is not None:
                    h_full[start:end] = h
                    h = xp.matmul(h, w_hr_t)
            elif mode == "GRU":
                h, s = self.gru_cell(gx[start:end], h, w_hh_t, b_hh)
            else:
                h, s = self.rnn_cell(gx[start:end], h, w_hh_t, b_hh, nonlinearity)
            saved[t] = s
            out[start:end] = h
        active = h.shape[0]
        h_n[:active] = h
        if lstm:
            c_n[:active] = c
        return out, h_n, c_n, (h_prev, saved, h_full)

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
        """Back-propagate through time for :meth:`rnn_layer`.

        Returns ``(grad_x, grad_h0, grad_c0, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh,
        grad_w_hr)`` (``grad_x`` is ``None`` when ``needs_input_grad`` is false, ``grad_c0``
        unless LSTM, ``grad_w_hr`` without projection).
        """
        xp = self.xp
        h_prev = state[0]
        grad_gx, grad_gh, grad_h0, grad_c0, grad_w_hr = self._through_time(
            mode, grad_out, grad_h_n, grad_c_n, x, w_hh, batch_sizes, reverse, state, nonlinearity, w_hr
        )
        return (
            xp.matmul(grad_gx, w_ih) if needs_input_grad else None,
            grad_h0,
            grad_c0,
            xp.matmul(xp.permute_dims(grad_gx, (1, 0)), x),
            xp.matmul(xp.permute_dims(grad_gh, (1, 0)), h_prev),
            xp.sum(grad_gx, axis=0),
            xp.sum(grad_gh, axis=0),  # b_ih and b_hh get arrays of their own
            grad_w_hr,
        )

    def _through_time(
        self, mode, grad_out, grad_h_n, grad_c_n, x, w_hh, batch_sizes, reverse, state, nonlinearity, w_hr
    ):
        """The time loop of :meth:`rnn_layer_backward`: ``(grad_gx, grad_gh, grad_h0, grad_c0,
        grad_w_hr)``, the gradients of every row's input and hidden gate pre-activations (one
        array for both unless GRU), of the initial states and of the projection. The weight
        gradients are made from them once, in :meth:`rnn_layer_backward`; ``x`` is there for
        overrides that choose by it."""
        xp = self.xp
        _, saved, h_full = state
        grad_proj = None if w_hr is None else xp.empty(grad_out.shape, dtype=grad_out.dtype)
        lstm, gru = mode == "LSTM", mode == "GRU"
        offsets = _offsets(batch_sizes)
        steps = range(len(batch_sizes)) if reverse else range(len(batch_sizes) - 1, -1, -1)
        rows = grad_out.shape[0]
        gate_rows = w_hh.shape[0]
        grad_gx_all = xp.empty((rows, gate_rows), dtype=grad_out.dtype)
        grad_gh_all = xp.empty((rows, gate_rows), dtype=grad_out.dtype) if gru else grad_gx_all
        grad_h0 = xp.empty(grad_h_n.shape, dtype=grad_out.dtype)
        grad_c0 = xp.empty(grad_c_n.shape, dtype=grad_out.dtype) if lstm else None
        first = batch_sizes[steps[0]] if len(batch_sizes) else 0
        gh = grad_h_n[:first]
        gc = grad_c_n[:first] if lstm else None
        for t in steps:
            size, start = batch_sizes[t], offsets[t]
            active = gh.shape[0]
            if size > active:  # going back in time, sequences that ended here join
                gh = xp.concat([gh, grad_h_n[active:size]], axis=0)
                if lstm:
                    gc = xp.concat([gc, grad_c_n[active:size]], axis=0)
            elif size < active:  # (reverse) sequences that started here are done
                grad_h0[size:active] = gh[size:active]
                gh = gh[:size]
                if lstm:
                    grad_c0[size:active] = gc[size:active]
                    gc = gc[:size]
            end = start + size
            gh = gh + grad_out[start:end]
            if grad_proj is not None:
                grad_proj[start:end] = gh
                gh = xp.matmul(gh, w_hr)
            if lstm:
                ggx, ggh, gh, gc = self.lstm_cell_backward(gh, gc, saved[t], w_hh)
            elif gru:
                ggx, ggh, gh = self.gru_cell_backward(gh, saved[t], w_hh)
            else:
                ggx, ggh, gh = self.rnn_cell_backward(gh, saved[t], w_hh, nonlinearity)
            grad_gx_all[start:end] = ggx
            if gru:
                grad_gh_all[start:end] = ggh
        active = gh.shape[0]
        grad_h0[:active] = gh
        if lstm:
            grad_c0[:active] = gc
        grad_w_hr = None if w_hr is None else xp.matmul(xp.permute_dims(grad_proj, (1, 0)), h_full)
        return grad_gx_all, grad_gh_all, grad_h0, grad_c0, grad_w_hr
