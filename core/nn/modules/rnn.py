"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

How it runs. For each layer and direction, one autograd Function (:class:`_RecurrentLayer`)
computes the input-to-hidden products of all time steps in one matrix product and then
loops over time calling the backend's fused cell kernel (``lstm_cell``, ``gru_cell``,
``rnn_cell`` in :mod:`ember.kernels.rnn`); its backward loops back through time calling the
matching ``*_cell_backward`` kernels and finishes with one matrix product per weight.
Padded and packed inputs share one code path: a padded ``(T, B, *)`` batch is a packed batch
whose batch sizes are all ``B``.

Higher derivatives. The fused backward works on raw arrays, so when a graph of the backward
is requested (``create_graph=True``) it instead re-runs the layer as a composite of per-step
tensor ops (:func:`_composite_layer`) and differentiates that, which records a graph and
gives double backward at the cost of speed. Forward mode (while a dual level is open) runs the
composite form in place of the fused Function, so that each step's ops carry the tangents.
"""

from __future__ import annotations

import math
import numbers
import warnings
import weakref
from typing import Any

from ... import autograd, dtypes
from ...amp.policy import cast_inputs
from ...amp.state import cast_to
from ...amp.state import state as _amp
from ...amp.state import suspended as _amp_suspended
from ...autograd import function as autograd_function
from ...autograd.function import Function
from ...autograd.grad_mode import grad_state
from ...ops.creation import empty, zeros
from ...ops.movement import cat, stack
from ...ops.operands import check_same_device
from ...tensor import Tensor
from .. import init
from ..common_types import _device_t, _dtype_t
from ..functional.activation import relu
from ..functional.dropout import dropout as _dropout
from ..functional.linear import linear as _linear
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _data(t):
    return None if t is None else t._data


#: the autocast policy entry of each mode's layer (GRU has none: PyTorch's cpu GRU keeps its dtype)
_AUTOCAST_OP = {"LSTM": "mkldnn_rnn_layer", "RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu"}


def _kernel_mode(mode):
    return ("RNN", mode[4:].lower()) if mode.startswith("RNN_") else (mode, "tanh")


class _RecurrentLayer(Function):
    """One direction of one recurrent layer over packed rows (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse):
        kind, nonlinearity = _kernel_mode(mode)
        out, h_n, c_n, state = x._backend.kernels.rnn_layer(
            kind,
            x._data,
            h0._data,
            _data(c0),
            w_ih._data,
            w_hh._data,
            _data(b_ih),
            _data(b_hh),
            batch_sizes,
            reverse,
            nonlinearity,
            _data(w_hr),
        )
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
        ctx.state = state
        ctx.config = (mode, batch_sizes, reverse)
        if c_n is None:
            return x._make(out), x._make(h_n)
        return x._make(out), x._make(h_n), x._make(c_n)

    @staticmethod
    def backward(ctx, grad_out, grad_h_n, grad_c_n=None):
        inputs = ctx.saved_tensors
        if grad_state.enabled:  # create_graph=True: differentiate the composite form instead
            return _composite_backward(ctx, inputs, (grad_out, grad_h_n, grad_c_n))
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = inputs
        mode, batch_sizes, reverse = ctx.config
        kind, nonlinearity = _kernel_mode(mode)
        grads = x._backend.kernels.rnn_layer_backward(
            kind,
            grad_out._data,
            grad_h_n._data,
            _data(grad_c_n),
            x._data,
            w_ih._data,
            w_hh._data,
            batch_sizes,
            reverse,
            ctx.state,
            nonlinearity,
            ctx.needs_input_grad[0],
            _data(w_hr),
        )
        gx, gh0, gc0, gw_ih, gw_hh, gb_ih, gb_hh, gw_hr = (None if g is None else x._make(g) for g in grads)
        if b_ih is None:
            gb_ih = gb_hh = None
        return gx, gh0, gc0, gw_ih, gw_hh, gb_ih, gb_hh, gw_hr, None, None, None


def _composite_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse, amp=False, strided=False):
    """:class:`_RecurrentLayer`'s forward written with differentiable per-step tensor ops (with ``amp``, those of
    PyTorch's cpu LSTM and GRU cells inside an autocast region: see :func:`_autocast_gates`; ``strided``: the
    layer's input was a strided 3-D tensor, whose linear op PyTorch runs as a product, then the bias added)."""
    if amp and strided:
        gx = _linear(x, w_ih)
        gx = gx if b_ih is None else gx + b_ih.to(gx.dtype)
    elif amp:
        gx = _linear(x, w_ih, b_ih)
    else:
        gx = x.matmul(w_ih.t())
        if b_ih is not None:
            gx = gx + b_ih
    w_hh_t = w_hh.t()
    steps = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    offsets = [sum(batch_sizes[:t]) for t in range(len(batch_sizes))]
    h = h0[: batch_sizes[steps[0]]]
    c = c0[: batch_sizes[steps[0]]] if c0 is not None else None
    ended_h, ended_c, outputs = [], [], [None] * len(batch_sizes)
    for t in steps:
        size = batch_sizes[t]
        active = h.shape[0]
        if size < active:
            ended_h.insert(0, h[size:active])
            h = h[:size]
            if c is not None:
                ended_c.insert(0, c[size:active])
                c = c[:size]
        elif size > active:
            h = cat([h, h0[active:size]], 0)
            if c is not None:
                c = cat([c, c0[active:size]], 0)
        gh = h.matmul(w_hh_t)
        if b_hh is not None:
            gh = gh + b_hh
        g_in = gx[offsets[t] : offsets[t] + size]
        if amp:
            h, c = _autocast_gates(mode, g_in, h, c, w_hh, b_hh)
            if w_hr is not None:  # ATen's matmul_hr
                h = h.matmul(w_hr.t())
        elif mode == "LSTM":
            i, f, g, o = (g_in + gh).chunk(4, 1)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            if w_hr is not None:
                h = h.matmul(w_hr.t())
        elif mode == "GRU":
            xr, xz, xn = g_in.chunk(3, 1)
            hr, hz, hn = gh.chunk(3, 1)
            r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
            n = (xn + r * hn).tanh()
            h = n + z * (h - n)
        else:
            pre = g_in + gh
            h = pre.tanh() if mode == "RNN_TANH" else relu(pre)
        outputs[t] = h
    result = (cat(outputs, 0), cat([h, *ended_h], 0))
    return result + (cat([c, *ended_c], 0),) if c is not None else result


def _autocast_gates(mode, g_in, h, c, w_hh, b_hh):
    """One step of a cell from the input's gate pre-activations ``g_in``, op by op in the order of ATen's cpu
    ``SimpleCell``, ``LSTMCell`` and ``GRUCell`` (inside an autocast region, or in float16/bfloat16): the linear
    ops give gates in the region's (or the weights') dtype, and the gate arithmetic runs in those, rounding after
    each op, promoted only where it meets a state of another dtype. Returns ``(h', c')`` (``c'`` None but for
    LSTM)."""
    gh = _linear(h, w_hh, b_hh)
    if mode.startswith("RNN"):
        pre = gh + g_in
        return (pre.tanh() if mode == "RNN_TANH" else relu(pre)), None
    if mode == "LSTM":
        i, f, g, o = (gh + g_in).chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c
    xr, xz, xn = g_in.chunk(3, 1)
    hr, hz, hn = gh.chunk(3, 1)
    r, z = (hr + xr).sigmoid(), (hz + xz).sigmoid()
    n = (xn + hn * r).tanh()
    return (h - n) * z + n, None


def _recurrent_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse):
    """One direction of one layer: the fused Function, or under forward mode its composite form."""
    if autograd_function.tangent_rule is not None:
        return _composite_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse)
    return _RecurrentLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, batch_sizes, reverse)


def _composite_backward(ctx, inputs, grad_outputs):
    outputs = _composite_layer(*inputs, *ctx.config)
    wanted = [i for i, need in enumerate(ctx.needs_input_grad[: len(inputs)]) if need]
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if g is not None and o.requires_grad]
    grads = autograd.grad(
        [o for o, _ in pairs],
        [inputs[i] for i in wanted],
        [g for _, g in pairs],
        create_graph=True,
        allow_unused=True,
    )
    result = [None] * len(ctx.needs_input_grad)
    for i, g in zip(wanted, grads):
        result[i] = g
    return tuple(result)


def run_layers(
    mode: str,
    data: Tensor,
    batch_sizes: tuple[int, ...],
    h0: Tensor,
    c0: Tensor | None,
    weights: list[tuple[Any, ...]],
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    train: bool,
    strided: bool = False,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """A stack of recurrent layers over packed rows ``data`` (``batch_sizes`` as a PackedSequence's), from the
    initial states ``h0`` (and ``c0`` for ``"LSTM"``), ``(num_layers * directions, B, *)``; ``weights`` holds
    ``(w_ih, w_hh, b_ih, b_hh, w_hr)`` per layer and direction (``None`` for an absent bias or projection).
    ``dropout`` is applied to the outputs of every layer but the last when ``train``. ``strided``: ``data`` are
    the rows of a time-major 3-D input that was not contiguous (as a ``batch_first`` one). Returns
    ``(output, h_n, c_n)`` (``c_n`` ``None`` unless LSTM). What :class:`RNNBase` and ``ember.lstm``, ``ember.gru``,
    ``ember.rnn_tanh``, ``ember.rnn_relu`` run."""
    directions = 2 if bidirectional else 1
    lstm = mode == "LSTM"
    projected = lstm and weights[0][4] is not None
    name = "RNN" if mode.startswith("RNN") else mode
    # an LSTM with projections is made of linear ops in PyTorch (no mkldnn layer): lower precision too
    autocast_op = _AUTOCAST_OP.get(mode) if _amp.active else None
    if lstm and autocast_op and not projected and _amp.dtypes.get(data.device.type) is dtypes.float16:
        raise RuntimeError(
            f"{name}: float16 autocast on {data.device.type} is not supported "
            "(mkldnn_rnn_layer has no float16 kernel; PyTorch fails to create its LSTM forward primitive)"
        )
    h_n, c_n = [], []
    layer_input = data
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            k = layer * directions + direction
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[k]
            operands = (layer_input, h0[k], c0[k] if c0 is not None else None, w_ih, w_hh, b_ih, b_hh, w_hr)
            if autocast_op and not projected:
                operands = tuple(cast_inputs(autocast_op, *operands))
            elif _amp.active:  # PyTorch's GRU and projected LSTM: linear ops whose gate arithmetic promotes
                operands = tuple(cast_to(operands, _gate_dtype(c0 if c0 is not None else h0)))  # with the state
            reduced = operands[0].dtype in (dtypes.float16, dtypes.bfloat16)  # PyTorch's op-by-op roundings
            if (_amp.active and not (autocast_op and not projected)) or (reduced and (projected or not lstm)):
                first = strided and layer == 0
                result = _composite_layer(*operands, mode, batch_sizes, direction == 1, amp=True, strided=first)
            else:
                result = _recurrent_layer(*operands, mode, batch_sizes, direction == 1)
            outputs.append(result[0])
            h_n.append(result[1])
            if lstm:  # a projected LSTM keeps its cell state in the dtype it was given, as PyTorch's
                c_n.append(result[2].to(_gate_dtype(c0)) if autocast_op and projected else result[2])  # type: ignore[arg-type]
        with _amp_suspended():  # inner steps, not the user's cat and stack (PyTorch's layers cast nothing there)
            layer_input = outputs[0] if directions == 1 else cat(outputs, 1)
        if dropout and train and layer < num_layers - 1:
            layer_input = _dropout(layer_input, dropout, training=True)
    with _amp_suspended():
        return layer_input, stack(h_n), stack(c_n) if lstm else None


def _param(shape, device, dtype):
    return Parameter(empty(*shape, device=device, dtype=dtype))


class RNNBase(Module):
    r"""Base class of :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    Holds the parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (``_reverse`` suffixed for the backward direction, plus
    ``weight_hr_l{k}`` for an LSTM with projections) with PyTorch's names and shapes, so a
    PyTorch ``state_dict`` loads unchanged.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=2,
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes: dict[str, tuple[int, ...]] = {
                    f"weight_ih_l{layer}{suffix}": (gate_size, layer_input),
                    f"weight_hh_l{layer}{suffix}": (gate_size, real_hidden),
                }
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate_size,)
                if proj_size > 0:
                    shapes[f"weight_hr_l{layer}{suffix}"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    setattr(self, name, _param(shape, device, dtype))
                self._all_weights.append(list(shapes))
        self.reset_parameters()
        self._init_flat_weights()

    def reset_parameters(self) -> None:
        """Draw every parameter from :math:`\\mathcal{U}(-k, k)`, :math:`k = 1/\\sqrt{hidden\\_size}`."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """Kept for API parity: ember keeps no flat weight buffer, so this does nothing."""

    @property
    def _flat_weights_names(self) -> list[str]:
        """The parameter names of every layer and direction in one list, in PyTorch's order."""
        return [name for names in self._all_weights for name in names]

    @property
    def _flat_weights(self) -> list[Tensor | None]:
        """The weights that ``ember.lstm`` and its siblings take, in :attr:`_flat_weights_names` order:
        a list kept as PyTorch keeps it. It is rebuilt from the attributes when the module is built,
        moved or cast, and at a forward where one of them is no longer the tensor listed (a
        reassigned or parametrized weight: each rebuild evaluates a parametrization as PyTorch's
        ``hasattr``/``getattr`` do, so side effects such as spectral norm's power iteration and
        random draws happen as often); assigning a named weight replaces its entry, and a list
        assigned to it (as weight-drop wrappers do) is used until then."""
        flat = self.__dict__.get("_flat_weights_list")
        if flat is None:
            return [getattr(self, name, None) for name in self._flat_weights_names]
        return flat

    @_flat_weights.setter
    def _flat_weights(self, value: list[Tensor | None]) -> None:
        self.__dict__["_flat_weights_list"] = value

    def _init_flat_weights(self) -> None:
        flat = [getattr(self, name) if hasattr(self, name) else None for name in self._flat_weights_names]
        self.__dict__["_flat_weights_list"] = flat
        self.__dict__["_flat_weight_refs"] = [None if w is None else weakref.ref(w) for w in flat]

    def _weights_have_changed(self) -> bool:
        refs = self.__dict__.get("_flat_weight_refs")
        if refs is None or "_flat_weights_list" not in self.__dict__:
            return True
        for ref, name in zip(refs, self._flat_weights_names):
            weight = getattr(self, name) if hasattr(self, name) else None
            if weight is not None and ref is not None and ref() is not weight:
                return True
        return False

    def _update_flat_weights(self) -> None:
        if self._weights_have_changed():
            self._init_flat_weights()

    def __setattr__(self, name: str, value: Any) -> None:
        flat = self.__dict__.get("_flat_weights_list")
        if flat is not None and name in self._flat_weights_names:
            index = self._flat_weights_names.index(name)
            if index < len(flat):
                flat[index] = value
        super().__setattr__(name, value)

    def _apply(self, fn, recurse=True):
        result = super()._apply(fn, recurse)
        self._init_flat_weights()
        return result

    def __getstate__(self) -> dict[str, Any]:
        # weak references do not pickle: the list is rebuilt at the next forward
        state = self.__dict__.copy()
        state.pop("_flat_weight_refs", None)
        return state

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters as one list per layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # -- checks ---------------------------------------------------------------------------
    def _name(self):
        return "RNN" if self.mode.startswith("RNN") else self.mode

    def _check_input(self, input, batch_sizes):
        weight = self._flat_weights[0]  # (the listed one: a parametrization is not evaluated again)
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._name()}: input must be a Tensor or PackedSequence, got {type(input).__name__}")
        if input.dtype is not weight.dtype and not _amp.active:  # autocast casts it, as in PyTorch
            raise ValueError(
                f"{'' if self._name() == 'RNN' else self._name() + ': '}RNN input dtype ({input.dtype}) does not match "
                f"weight dtype ({weight.dtype}). Convert "
                f"input: input.to({weight.dtype}), or convert model: model.to({input.dtype})"
            )
        if input.device != weight.device:
            raise RuntimeError(
                f"{self._name()}: Input and parameter tensors are not at the same device, found input tensor at "
                f"{input.device} and parameter tensor at {weight.device}"
            )
        expected = 2 if batch_sizes is not None else 3
        if input.ndim != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.ndim}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )

    def _expected_hidden_size(self, batch, cell=False):
        directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 and not cell else self.hidden_size
        return (self.num_layers * directions, batch, size)

    def _check_hidden(self, hx, expected, msg="Expected hidden size {}, got {}"):
        if not isinstance(hx, Tensor):
            raise TypeError(f"{self._name()}: hidden state must be a Tensor, got {type(hx).__name__}")
        weight = self._flat_weights[0]  # (the listed one: a parametrization is not evaluated again)
        if hx.device != weight.device:
            raise RuntimeError(
                f"{self._name()}: Input and hidden tensors are not at the same device, found input tensor at "
                f"{weight.device} and hidden tensor at {hx.device}"
            )
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.shape)))
        if hx.dtype is not weight.dtype and not _amp.active:  # PyTorch's kernels refuse it (autocast casts it)
            raise RuntimeError(
                f"{self._name()}: hidden state dtype ({hx.dtype}) does not match weight dtype ({weight.dtype})"
            )

    # -- PyTorch's checking helpers (user subclasses call and override them) ------------------
    def check_input(self, input: Tensor, batch_sizes: Tensor | None) -> None:
        """Check ``input``'s dtype, device, rank (2 when packed, else 3) and feature size, as PyTorch's
        ``RNNBase``."""
        self._check_input(input, batch_sizes)

    def _mini_batch(self, input: Tensor, batch_sizes: Tensor | None) -> int:
        if batch_sizes is not None:
            return int(batch_sizes[0])
        return input.shape[0] if self.batch_first else input.shape[1]

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple[int, int, int]:
        """``(num_layers * directions, batch, proj_size or hidden_size)``: the hidden state ``input`` needs."""
        return self._expected_hidden_size(self._mini_batch(input, batch_sizes))

    def check_hidden_size(
        self, hx: Tensor, expected_hidden_size: tuple[int, ...], msg: str = "Expected hidden size {}, got {}"
    ) -> None:
        """Raise ``RuntimeError(msg.format(expected, actual))`` unless ``hx`` has the expected size."""
        if tuple(hx.shape) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.shape)))

    def check_forward_args(self, input: Tensor, hidden: Any, batch_sizes: Tensor | None) -> None:
        """:meth:`check_input`, then the size of the hidden state(s) (``(h, c)`` for an LSTM)."""
        self.check_input(input, batch_sizes)
        if self.mode != "LSTM":
            self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))
            return
        self.check_hidden_size(
            hidden[0], self.get_expected_hidden_size(input, batch_sizes), "Expected hidden[0] size {}, got {}"
        )
        self.check_hidden_size(
            hidden[1], self.get_expected_cell_size(input, batch_sizes), "Expected hidden[1] size {}, got {}"
        )

    def permute_hidden(self, hx: Any, permutation: Tensor | None) -> Any:
        """The hidden state(s) with their batch reordered by ``permutation`` (unchanged when ``None``)."""
        if permutation is None:
            return hx
        if self.mode == "LSTM":
            return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)
        return hx.index_select(1, permutation)

    # -- running ----------------------------------------------------------------------------
    def _initial(self, input, batch, cell=False):
        shape = self._expected_hidden_size(batch, cell)
        return zeros(*shape, dtype=input.dtype, device=input.device)

    def _layer_weights(self):
        """``(w_ih, w_hh, b_ih, b_hh, w_hr)`` of each layer and direction, in PyTorch's order."""
        weights, flat = [], iter(self._flat_weights)
        for names in self._all_weights:
            group = [next(flat, None) for _ in names]
            b_ih, b_hh = (group[2], group[3]) if self.bias else (None, None)
            weights.append((group[0], group[1], b_ih, b_hh, group[-1] if self.proj_size else None))
        return weights

    def _run(self, data, batch_sizes, h0, c0, strided=False):
        """All layers over packed rows ``data`` (``strided`` as :func:`run_layers`'); returns ``(output, h_n, c_n)``."""
        return run_layers(
            self.mode,
            data,
            batch_sizes,
            h0,
            c0,
            self._layer_weights(),
            self.num_layers,
            self.bidirectional,
            self.dropout,
            self.training,
            strided,
        )

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        self._update_flat_weights()
        lstm = self.mode == "LSTM"
        name = self._name()
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = tuple(int(b) for b in batch_sizes_t.tolist())
            batch = batch_sizes[0]
            self._check_input(data, batch_sizes)
            batched = True
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: input must be a Tensor or PackedSequence, got {type(input).__name__}")
            if input.ndim not in (2, 3):
                what = "tensor " if name == "RNN" else ""  # PyTorch's wording differs by class
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D {what}instead")
            batched = input.ndim == 3
            sorted_indices = unsorted_indices = None
            if not batched:
                input = input.unsqueeze(0 if self.batch_first else 1)
            if hx is not None:
                hs = (hx[0], hx[1]) if lstm else (hx,)  # PyTorch indexes an LSTM's pair
                want = 3 if batched else 2
                if any(h.ndim != want for h in hs):
                    dims = ", ".join(f"{h.ndim}-D" for h in hs)
                    what = "hx and cx" if lstm else "hx"
                    kind = "batched 3-D" if batched else "unbatched 2-D"
                    got = f"({dims}) tensors" if lstm else f"{dims} tensor"
                    raise RuntimeError(f"For {kind} input, {what} should also be {want}-D but got {got}")
                if not batched:  # (an LSTM's hx[0] and hx[1], whatever else hx holds, as PyTorch)
                    hx = tuple(h.unsqueeze(1) for h in hs) if lstm else hx.unsqueeze(1)
            self._check_input(input, None)
            if self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.shape[0], input.shape[1]
            if steps == 0:
                raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN")
            batch_sizes = (batch,) * steps
            if lstm and not self.proj_size and _amp.active and input.is_leaf and input.is_contiguous():
                # PyTorch's LSTM layers take this very tensor, and autocast's cache casts a float32 leaf
                # that requires grad once for all of them (a bidirectional layer's two directions add
                # their input gradients in the region's dtype): cast it before taking its rows
                (input,) = cast_inputs(_AUTOCAST_OP["LSTM"], input)
            data = input.reshape(steps * batch, input.shape[2])
            strided = not input.is_contiguous()
        if hx is None:
            h0 = self._initial(data, batch)
            c0 = self._initial(data, batch, cell=True) if lstm else None
        else:
            if lstm and isinstance(hx, Tensor) and sorted_indices is None:  # (PyTorch's permutation of a packed
                # input's state takes hx[0] and hx[1])
                raise TypeError(f"{name}: hx must be a tuple of two Tensors (h_0, c_0), got a Tensor")
            if lstm and len(hx) != 2:
                raise RuntimeError(f"{name}: lstm expects two hidden states (h_0, c_0), got {len(hx)}")
            h0, c0 = hx if lstm else (hx, None)
            if sorted_indices is not None:
                h0 = h0.index_select(1, sorted_indices)
                c0 = c0.index_select(1, sorted_indices) if lstm else None  # type: ignore[union-attr]  # a tensor when lstm
            if lstm:
                self._check_hidden(h0, self._expected_hidden_size(batch), "Expected hidden[0] size {}, got {}")
                self._check_hidden(c0, self._expected_hidden_size(batch, True), "Expected hidden[1] size {}, got {}")
            else:
                self._check_hidden(h0, self._expected_hidden_size(batch))
        output, h_n, c_n = self._run(data, batch_sizes, h0, c0, not packed and strided)
        if unsorted_indices is not None:
            h_n = h_n.index_select(1, unsorted_indices)
            c_n = c_n.index_select(1, unsorted_indices) if lstm else None
        if packed:
            output = PackedSequence(output, batch_sizes_t, sorted_indices, unsorted_indices)
        else:
            output = output.reshape(len(batch_sizes), batch, output.shape[1])
            if self.batch_first:
                output = output.transpose(0, 1)
            if not batched:
                output = output.squeeze(0 if self.batch_first else 1)
                h_n = h_n.squeeze(1)
                c_n = c_n.squeeze(1) if lstm else None
        return (output, (h_n, c_n)) if lstm else (output, h_n)


class RNN(RNNBase):
    r"""Applies a multi-layer Elman RNN with :math:`\tanh` or :math:`\text{ReLU}` non-linearity.

    For each element in the input sequence, each layer computes

    .. math::
        h_t = \tanh(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh})

    Args:
        input_size: The number of expected features in the input `x`
        hidden_size: The number of features in the hidden state `h`
        num_layers: Number of recurrent layers. Default: 1
        nonlinearity: The non-linearity to use. Can be either ``'tanh'`` or ``'relu'``.
            Default: ``'tanh'``
        bias: If ``False``, then the layer does not use bias weights `b_ih` and `b_hh`.
            Default: ``True``
        batch_first: If ``True``, then the input and output tensors are provided as
            `(batch, seq, feature)` instead of `(seq, batch, feature)`. Default: ``False``
        dropout: If non-zero, introduces a `Dropout` layer on the outputs of each RNN
            layer except the last layer (training only). Default: 0
        bidirectional: If ``True``, becomes a bidirectional RNN. Default: ``False``

    Inputs: input, h_0
        * **input**: `(L, H_in)`, `(L, N, H_in)` (`(N, L, H_in)` with ``batch_first``) or a
          :class:`~ember.nn.utils.rnn.PackedSequence`.
        * **h_0**: `(D * num_layers, H_out)` or `(D * num_layers, N, H_out)`; zeros if omitted.

    Outputs: output, h_n
        * **output**: `(L, D * H_out)`, `(L, N, D * H_out)` (batch first: `(N, L, D * H_out)`),
          or a PackedSequence when the input was one.
        * **h_n**: `(D * num_layers, N, H_out)`: the final hidden state of each sequence.

    Example::

        >>> rnn = nn.RNN(10, 20, 2)
        >>> input = ember.randn(5, 3, 10)
        >>> h0 = ember.randn(2, 3, 20)
        >>> output, hn = rnn(input, h0)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    r"""Applies a multi-layer long short-term memory (LSTM) RNN to an input sequence.

    .. math::
        \begin{array}{ll}
        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
        f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t = o_t \odot \tanh(c_t)
        \end{array}

    Args:
        input_size: The number of expected features in the input `x`
        hidden_size: The number of features in the hidden state `h`
        num_layers: Number of recurrent layers. Default: 1
        bias: If ``False``, the layer does not use bias weights. Default: ``True``
        batch_first: If ``True``, input and output are `(batch, seq, feature)`. Default: ``False``
        dropout: dropout probability on the outputs of every layer but the last. Default: 0
        bidirectional: If ``True``, becomes a bidirectional LSTM. Default: ``False``
        proj_size: If ``> 0``, uses LSTM with projections of that size: the hidden state
            is ``h_t = W_{hr} (o_t \odot \tanh(c_t))``. Default: 0

    Inputs: input, (h_0, c_0)
        * **input**: `(L, H_in)`, `(L, N, H_in)` (`(N, L, H_in)` with ``batch_first``) or a
          PackedSequence.
        * **h_0**, **c_0**: `(D * num_layers, N, H)` (or without `N` for unbatched input);
          zeros if omitted.

    Outputs: output, (h_n, c_n)
        * **output**: `(L, N, D * H)` (or a PackedSequence), **h_n**, **c_n**:
          `(D * num_layers, N, H)`, the final states of each sequence.

    Example::

        >>> rnn = nn.LSTM(10, 20, 2)
        >>> input = ember.randn(5, 3, 10)
        >>> h0 = ember.randn(2, 3, 20)
        >>> c0 = ember.randn(2, 3, 20)
        >>> output, (hn, cn) = rnn(input, (h0, c0))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple[int, int, int]:
        """``(num_layers * directions, batch, hidden_size)``: the cell state ``input`` needs."""
        return self._expected_hidden_size(self._mini_batch(input, batch_sizes), cell=True)


class GRU(RNNBase):
    r"""Applies a multi-layer gated recurrent unit (GRU) RNN to an input sequence.

    .. math::
        \begin{array}{ll}
        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}
        \end{array}

    Args:
        input_size: The number of expected features in the input `x`
        hidden_size: The number of features in the hidden state `h`
        num_layers: Number of recurrent layers. Default: 1
        bias: If ``False``, the layer does not use bias weights. Default: ``True``
        batch_first: If ``True``, input and output are `(batch, seq, feature)`. Default: ``False``
        dropout: dropout probability on the outputs of every layer but the last. Default: 0
        bidirectional: If ``True``, becomes a bidirectional GRU. Default: ``False``

    Inputs: input, h_0 — as for :class:`RNN`. Outputs: output, h_n — as for :class:`RNN`.

    Example::

        >>> rnn = nn.GRU(10, 20, 2)
        >>> input = ember.randn(5, 3, 10)
        >>> h0 = ember.randn(2, 3, 20)
        >>> output, hn = rnn(input, h0)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    """Base class of the single-step cells: parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = _param((num_chunks * hidden_size, input_size), device, dtype)
        self.weight_hh = _param((num_chunks * hidden_size, hidden_size), device, dtype)
        if bias:
            self.bias_ih = _param((num_chunks * hidden_size,), device, dtype)
            self.bias_hh = _param((num_chunks * hidden_size,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()  # type: ignore[misc]  # RNNBase's initialisation, on the same attributes

    reset_parameters = RNNBase.reset_parameters

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def _step(self, mode, input, states, names):
        """Validate, run one time step through :class:`_RecurrentLayer`; returns the new state(s)."""
        cell = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{cell}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{cell}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.dtype is not self.weight_ih.dtype and not _amp.active:  # PyTorch's matmul refuses it
            raise RuntimeError(
                f"{cell}: input dtype ({input.dtype}) does not match weight dtype ({self.weight_ih.dtype})"
            )
        check_same_device(cell, self.weight_ih, input)
        check_cell_input(input, self.input_size)
        batch = input.shape[0]
        full = []
        for k, (state, name) in enumerate(zip(states, names)):
            if state is None:
                state = zeros(batch, self.hidden_size, dtype=input.dtype, device=input.device)
            else:
                if not isinstance(state, Tensor):
                    raise TypeError(f"{cell}: {name} must be a Tensor, got {type(state).__name__}")
                check_same_device(cell, input, state)
                if state.ndim not in (1, 2):
                    raise ValueError(f"{cell}: Expected {name} to be 1D or 2D, got {state.ndim}D instead")
                if not batched:
                    state = state.unsqueeze(0)
                check_cell_hidden(k, state, batch, self.hidden_size)
                if state.dtype is not input.dtype and not _amp.active and k == 0:  # an LSTM's c promotes
                    raise RuntimeError(
                        f"{cell}: {name} dtype ({state.dtype}) does not match input dtype ({input.dtype})"
                    )
            full.append(state)
        operands = (input, full[0], full[1] if len(full) > 1 else None, self.weight_ih, self.weight_hh, self.bias_ih,
                    self.bias_hh)  # fmt: skip
        if _amp.active:
            operands = autocast_cell_operands(mode, operands, full[-1])
        result = cell_step(mode, *operands)
        return tuple(r if batched else r.squeeze(0) for r in result)


def autocast_cell_operands(mode: str, operands: tuple[Any, ...], last_state: Tensor) -> list[Any]:
    """The operands of one step of a cell (``mode`` as :func:`cell_step`'s) inside an autocast region.

    PyTorch's cpu cells are linear ops: an Elman cell's result is in the region's dtype, a GRU or LSTM
    cell's in the type its gate arithmetic promotes the (lower-precision) gates and its last state to:
    the state's dtype, or float32 where the state is another 16-bit type than the region's."""
    if mode.startswith("RNN"):
        return cast_inputs(_AUTOCAST_OP[mode], *operands)
    return cast_to(operands, _gate_dtype(last_state))


def _gate_dtype(state: Tensor) -> dtypes.dtype:
    """The dtype PyTorch's gate arithmetic gives inside an autocast region: the region's dtype (of the
    linear ops' gates) promoted with the ``state``'s (float32 for another 16-bit type)."""
    lower = _amp.dtypes.get(state.device.type)
    return state.dtype if lower is None else dtypes.promote_types(lower, state.dtype)


def check_cell_input(input: Tensor, input_size: int) -> None:
    """PyTorch's check of the input ``(N, input_size)`` of one step of a cell."""
    if input.shape[1] != input_size:
        raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {input_size}")


def check_cell_hidden(k: int, state: Tensor, batch: int, hidden_size: int) -> None:
    """PyTorch's check of the ``k``-th hidden state ``(batch, hidden_size)`` of one step of a cell."""
    if state.shape[0] != batch:
        raise RuntimeError(f"Input batch size {batch} doesn't match hidden{k} batch size {state.shape[0]}")
    if state.shape[1] != hidden_size:
        raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {state.shape[1]}, expected {hidden_size}")


def cell_step(
    mode: str,
    input: Tensor,
    h: Tensor,
    c: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
) -> tuple[Tensor, ...]:
    """One time step of a cell (``mode`` ``"RNN_TANH"``, ``"RNN_RELU"``, ``"LSTM"`` or ``"GRU"``) on a batch
    ``input`` ``(N, input_size)`` from the state ``h`` (and ``c`` for LSTM), each ``(N, hidden_size)``: the new
    state, ``(h',)`` or ``(h', c')``. A bias given alone is paired with zeros."""
    if b_ih is None and b_hh is not None:
        b_ih = zeros(b_hh.shape, dtype=b_hh.dtype, device=b_hh.device)
    elif b_hh is None and b_ih is not None:
        b_hh = zeros(b_ih.shape, dtype=b_ih.dtype, device=b_ih.device)
    reduced = input.dtype in (dtypes.float16, dtypes.bfloat16)  # PyTorch's cells round after each op there
    if (_amp.active and mode in ("LSTM", "GRU")) or reduced:  # linear ops in the region's dtype, as PyTorch's
        return _composite_layer(input, h, c, w_ih, w_hh, b_ih, b_hh, None, mode, (input.shape[0],), False, amp=True)[1:]
    if c is not None and c.dtype is not input.dtype:  # PyTorch's gate arithmetic promotes to the cell state's
        return _composite_layer(input, h, c, w_ih, w_hh, b_ih, b_hh, None, mode, (input.shape[0],), False)[1:]
    return _recurrent_layer(input, h, c, w_ih, w_hh, b_ih, b_hh, None, mode, (input.shape[0],), False)[1:]


class RNNCell(RNNCellBase):
    r"""An Elman RNN cell with tanh or ReLU non-linearity: :math:`h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})`.

    Args:
        input_size: The number of expected features in the input `x`
        hidden_size: The number of features in the hidden state `h`
        bias: If ``False``, the cell does not use bias weights. Default: ``True``
        nonlinearity: ``'tanh'`` or ``'relu'``. Default: ``'tanh'``

    Shape:
        - input: `(N, H_in)` or `(H_in)`; hidden: `(N, H_out)` or `(H_out)`, zeros if omitted.
        - output: `(N, H_out)` or `(H_out)`, the next hidden state.

    Example::

        >>> rnn = nn.RNNCell(10, 20)
        >>> input = ember.randn(6, 3, 10)
        >>> hx = ember.randn(3, 20)
        >>> output = []
        >>> for i in range(6):
        ...     hx = rnn(input[i], hx)
        ...     output.append(hx)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return self._step(mode, input, (hx,), ("hidden",))[0]


class LSTMCell(RNNCellBase):
    r"""A long short-term memory (LSTM) cell (gate order ``i, f, g, o`` as in :class:`LSTM`).

    Args:
        input_size: The number of expected features in the input `x`
        hidden_size: The number of features in the hidden state `h`
        bias: If ``False``, the cell does not use bias weights. Default: ``True``

    Shape:
        - input: `(N, H_in)` or `(H_in)`; (h_0, c_0): each `(N, H_out)` or `(H_out)`, zeros
          if omitted.
        - output: (h_1, c_1), each `(N, H_out)` or `(H_out)`.

    Example::

        >>> rnn = nn.LSTMCell(10, 20)
        >>> input = ember.randn(6, 3, 10)
        >>> hx, cx = ember.randn(3, 20), ember.randn(3, 20)
        >>> output = []
        >>> for i in range(6):
        ...     hx, cx = rnn(input[i], (hx, cx))
        ...     output.append(hx)
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: _device_t = None, dtype: _dtype_t = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if isinstance(hx, Tensor) and input.ndim != 1:  # PyTorch unpacks a tensor only for an unbatched input
            raise TypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not Tensor")
        if hx is not None:
            if input.ndim == 1:  # PyTorch indexes hx[0] and hx[1] of an unbatched input's state
                if len(hx) < 2:
                    raise IndexError(
                        f"LSTMCell: hx must hold two hidden states (h, c), got {len(hx)}: tuple index out of range"
                    )
                hx = (hx[0], hx[1])
            elif len(hx) != 2:
                raise RuntimeError(f"LSTMCell: lstm_cell expects two hidden states (h, c), got {len(hx)}")
        return self._step("LSTM", input, (None, None) if hx is None else tuple(hx), ("hx[0]", "hx[1]"))


class GRUCell(RNNCellBase):
    r"""A gated recurrent unit (GRU) cell (gate order ``r, z, n`` as in :class:`GRU`).

    Args:
        input_size: The number of expected features in the input `x`
        hidden_size: The number of features in the hidden state `h`
        bias: If ``False``, the cell does not use bias weights. Default: ``True``

    Shape:
        - input: `(N, H_in)` or `(H_in)`; hidden: `(N, H_out)` or `(H_out)`, zeros if omitted.
        - output: `(N, H_out)` or `(H_out)`.

    Example::

        >>> rnn = nn.GRUCell(10, 20)
        >>> input = ember.randn(6, 3, 10)
        >>> hx = ember.randn(3, 20)
        >>> output = []
        >>> for i in range(6):
        ...     hx = rnn(input[i], hx)
        ...     output.append(hx)
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: _device_t = None, dtype: _dtype_t = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step("GRU", input, (hx,), ("hidden",))[0]
