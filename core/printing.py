"""Tensors printed as PyTorch prints them (``repr`` and ``str``): the values laid out by the rules
of ``set_printoptions`` (one format for all the elements shown, so many a line, summaries with
``...``), then the suffixes: ``tensor([1., 2.], dtype=ember.float64, requires_grad=True)``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import dtypes
from .tensor import Tensor

__all__ = ["tensor_repr", "sparse_coo_repr", "sparse_repr", "quantized_repr", "set_printoptions"]

_options: dict[str, Any] = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
#: ``set_printoptions(profile=...)`` presets, as PyTorch's
_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": float("inf"), "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print (same meaning as in PyTorch).

    Args:
        precision (int, optional): the number of digits after the decimal point. Default: 4.
        threshold (int, optional): the number of elements above which the printout is summarized. Default: 1000.
        edgeitems (int, optional): the number of items shown at each end of a summarized dimension. Default: 3.
        linewidth (int, optional): the number of characters per line. Default: 80.
        profile (str, optional): a preset applied before the other arguments: ``'default'``,
            ``'short'`` (precision 2, 2 edge items) or ``'full'`` (never summarized).
        sci_mode (bool, optional): force (``True``) or forbid (``False``) scientific notation; chosen automatically when
            ``None``.

    Example::

        >>> ember.set_printoptions(precision=2)
        >>> ember.tensor([1.23456, 2.0])
        tensor([1.23, 2.00])
        >>> ember.set_printoptions(precision=4)
        >>> ember.tensor([1.23456, 2.0])
        tensor([1.2346, 2.0000])
    """
    if profile is not None:
        _options.update(_PROFILES.get(profile, {}))  # PyTorch ignores an unknown profile too
    for key, value in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if value is not None:
            _options[key] = value
    _options["sci_mode"] = sci_mode


class _ElementFormat:
    """How every element of one real tensor prints, as PyTorch chooses it from the elements shown:
    integers as they are; floats integral (``1.``), fixed (``1.5000``) or scientific
    (``1.5000e+10``) from their nonzero finite values; each right-aligned to the widest of those."""

    def __init__(self, array):
        self.floating = array.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        values = array.ravel().tolist()
        if not self.floating:
            self.width = max((len(str(v)) for v in values), default=1)
            return
        nonzero = [v for v in values if v != 0 and math.isfinite(v)]
        if not nonzero:
            return
        magnitudes = [abs(v) for v in nonzero]
        low, high = min(magnitudes), max(magnitudes)
        self.int_mode = all(v == math.ceil(v) for v in nonzero)
        sci = _options["sci_mode"]
        self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4 if sci is None else sci
        # the width comes from the values alone: integral floats gain their ".", a nan or an inf
        # wider than the rest is not accounted for
        self.width = max(len(self._text(v)) for v in nonzero)

    def _text(self, value: Any) -> str:
        precision = _options["precision"]
        if self.sci_mode:
            return f"{value:.{precision}e}"
        if self.int_mode:
            return f"{value:.0f}" + ("." if math.isfinite(value) else "")
        return f"{value:.{precision}f}"

    def __call__(self, value: Any) -> str:
        return (self._text(value) if self.floating else str(value)).rjust(self.width)


class _ComplexFormat:
    """PyTorch's complex elements: the real parts formatted as a float tensor of them, each
    followed by its imaginary part, formatted as the imaginary parts' tensor but not padded."""

    def __init__(self, array):
        self.real, self.imag = _ElementFormat(array.real), _ElementFormat(array.imag)
        self.width = self.real.width + self.imag.width + 1

    def __call__(self, value: Any) -> str:
        imag_text = (self.imag(value.imag) + "j").lstrip()
        sign = "" if imag_text[0] in "+-" else "+"
        return self.real(value.real) + sign + imag_text


def _summarized(array):
    """The elements a summarized printout shows: PyTorch sizes the columns from these alone."""
    k = _options["edgeitems"]
    if array.ndim > 1 and not k:
        return array[(slice(0, 0),) * array.ndim]
    for axis, n in enumerate(array.shape):
        if n > 2 * k:
            array = np.concatenate([array.take(range(k), axis), array.take(range(n - k, n), axis)], axis)
    return array


def _row_text(row, indent, summarize, element):
    """One innermost row: as many elements a line as fit in the line width (a summary's " ..."
    takes an element's place), continuation lines indented under the first element."""
    k = _options["edgeitems"]
    if summarize and not k:
        texts = ["..."]
    elif summarize and len(row) > 2 * k:
        texts = [element(v) for v in row[:k].tolist()] + [" ..."] + [element(v) for v in row[-k:].tolist()]
    else:
        texts = [element(v) for v in row.tolist()]
    per_line = max(1, (_options["linewidth"] - indent) // (element.width + 2))
    lines = [", ".join(texts[i : i + per_line]) for i in range(0, len(texts), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_text(array, indent, summarize, element):
    """``array`` as nested brackets, a blank line between blocks for every dimension above a row."""
    if array.ndim == 0:
        return element(array.item())
    if array.ndim == 1:
        return _row_text(array, indent, summarize, element)
    k, n = _options["edgeitems"], array.shape[0]
    if summarize and n > 2 * k:
        slices = [_nested_text(array[i], indent + 1, summarize, element) for i in range(k)]
        slices += ["..."] + [_nested_text(array[i], indent + 1, summarize, element) for i in range(n - k, n)]
    else:
        slices = [_nested_text(sub, indent + 1, summarize, element) for sub in array]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _values_text(array, indent):
    """The bracketed values of a non-empty ``array`` printed after ``indent`` characters."""
    summarize = array.size > _options["threshold"]
    shown = _summarized(array) if summarize else array
    element = _ComplexFormat(shown) if array.dtype.kind == "c" else _ElementFormat(shown)
    return _nested_text(array, indent, summarize, element)


def _host_values(t):
    """``t``'s elements as a host array; bfloat16 and the float8 types through float32, which holds
    every one of their values."""
    array = t._backend.to_host(t._data)
    return array.astype(np.float32) if t.dtype is dtypes.bfloat16 or t.dtype in dtypes.float8_dtypes else array


def _default_dtype_shown(dt: dtypes.dtype) -> bool:
    """The dtypes the printed elements already tell (no ``dtype=`` suffix) when there are any."""
    return dt in (dtypes.get_default_dtype(), dtypes.default_complex_dtype(), dtypes.int64, dtypes.bool)


def _prefix(t: Tensor) -> str:
    """``tensor(`` for a Tensor and the classes that print as one (``_printed_as_tensor`` in their own
    body: Parameter, Buffer), a subclass's name otherwise, as PyTorch prints ``MyTensor([1., 2.])``."""
    cls = type(t)
    return "tensor(" if cls is Tensor or "_printed_as_tensor" in vars(cls) else f"{cls.__name__}("


def tensor_repr(t: Tensor, *, tensor_contents: str | None = None) -> str:
    """``t`` as PyTorch prints it; ``tensor_contents`` (a subclass's) in place of its values, with the
    suffixes that go with them."""
    text = _tensor_text(t, tensor_contents)
    # a tensor subclass's instance made an nn.Parameter (its ``_is_param`` flag) says so, as PyTorch's
    return f"Parameter({text})" if getattr(t, "__dict__", {}).get("_is_param") else text


def _tensor_text(t: Tensor, tensor_contents: str | None) -> str:
    prefix = _prefix(t)
    if t._device.type == "meta":  # no values to show: PyTorch's "..." and the size
        extras = [f"device='{t._device}'", f"size={tuple(t.shape)}"]
        if t.dtype is not dtypes.get_default_dtype():
            extras.append(f"dtype={t.dtype!r}")
        return _with_extras(t, prefix, "..." if tensor_contents is None else tensor_contents, extras)
    extras = []
    if t._device.type != "cpu":
        extras.append(f"device='{t._device}'")
    dt, shape = t.dtype, tuple(t.shape)
    empty = 0 in shape
    if empty:
        if len(shape) != 1:
            extras.append(f"size={shape}")
        default_shown = dt is dtypes.get_default_dtype()  # no element says int or bool
    else:
        if not _options["edgeitems"]:
            extras.append(f"size={shape}")
        default_shown = _default_dtype_shown(dt)
    if not default_shown:
        extras.append(f"dtype={dt!r}")
    if tensor_contents is None:
        tensor_contents = "[]" if empty else _values_text(_host_values(t), len(prefix))
    return _with_extras(t, prefix, tensor_contents, extras)


def sparse_coo_repr(s: Any) -> str:
    """A sparse COO tensor as PyTorch prints it: its indices and values (their values only, aligned
    under their own opening bracket), then its size, nnz, dtype and layout on a line of their own."""
    return sparse_repr(s, (("indices", s._indices()), ("values", s._values())), s._nnz())


def sparse_repr(s: Any, parts: Any, nnz: int) -> str:
    """A sparse tensor as PyTorch prints it: its named ``parts`` (their values only, aligned under
    their own opening bracket), then its size, nnz, dtype and layout: on a line of their own for
    the COO layout, after the values for the compressed ones."""
    prefix = "tensor("
    texts = []
    for name, part in parts:
        part_prefix = f"{name}=tensor("
        array = _host_values(part)
        if array.size:
            texts.append(part_prefix + _values_text(array, len(prefix) + len(part_prefix)) + ")")
        else:  # an empty part shows its size, whatever its dimensions
            texts.append(f"{part_prefix}[], size={tuple(array.shape)})")
    extras = [] if s.device.type == "cpu" else [f"device='{s.device}'"]
    extras += [f"size={tuple(s.shape)}", f"nnz={nnz}"]
    if not _default_dtype_shown(s.dtype):
        extras.append(f"dtype={s.dtype!r}")
    extras.append(f"layout={s.layout!r}")
    body = (",\n" + " " * len(prefix)).join(texts)
    return _with_extras(s, prefix, body, extras, first_on_new_line=s.layout.name == "sparse_coo")


def quantized_repr(q: Any) -> str:
    """A quantized tensor as PyTorch prints it: its dequantized values, then its size, dtype,
    quantization scheme and parameters (per channel: the scales and zero points as tensors, and the axis)."""
    prefix = "tensor("
    values = q.dequantize()
    array = _host_values(values)
    if array.size == 0:
        body = "[]"
    else:
        body = _values_text(array, len(prefix))
    extras = [] if q.device.type == "cpu" else [f"device='{q.device}'"]
    extras += [f"size={tuple(q.shape)}", f"dtype={q.dtype!r}", f"quantization_scheme={q.qscheme()!r}"]
    if q.qscheme().name.startswith("per_tensor"):
        extras += [f"scale={q.q_scale()!r}", f"zero_point={q.q_zero_point()!r}"]
    else:
        extras += [
            f"scale={q.q_per_channel_scales()!r}",
            f"zero_point={q.q_per_channel_zero_points()!r}",
            f"axis={q.q_per_channel_axis()}",
        ]
    return _with_extras(q, prefix, body, extras)


def _with_extras(t, prefix, body, extras, first_on_new_line=False):
    """``prefix + body`` closed with the ``extras`` and the autograd ones, wrapped as PyTorch wraps them
    (a sparse tensor's first one on a line of its own)."""
    try:
        grad_fn = t.grad_fn
    except RuntimeError:  # a view whose history cannot be rebuilt after a write into its base
        extras.append("grad_fn=<Invalid>")
    else:
        if grad_fn is not None:
            extras.append(f"grad_fn=<{type(grad_fn).__name__}>")
        elif t.requires_grad:
            extras.append("requires_grad=True")
    from .autograd.tangents import tangent_of  # the layers above printing

    tangent = tangent_of(t)
    if tangent is not None:
        extras.append(f"tangent={tangent!r}")
    text = prefix + body
    # PyTorch's count of the last line: two over on the values' line, exact after a wrap
    line_length = len(text) - text.rfind("\n") + 1
    for extra in extras:  # on a new line where the last one would run past the line width
        if first_on_new_line or line_length + len(extra) + 2 > _options["linewidth"]:
            first_on_new_line = False
            text += ",\n" + " " * len(prefix) + extra
            line_length = len(prefix) + len(extra)
        else:
            text += ", " + extra
            line_length += len(extra) + 2
    return text + ")"
