"""``repr`` of tensors in PyTorch's style: ``tensor([1., 2.], requires_grad=True)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes

__all__ = ["tensor_repr", "set_printoptions"]

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


def _float_format(finite):
    """The format of one element: integral values as ``1.``, else fixed or scientific (PyTorch's choice)."""
    precision = _options["precision"]
    nonzero = np.abs(finite[finite != 0])
    sci = _options["sci_mode"]
    if sci is None:
        sci = bool(nonzero.size) and (
            nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1e8 or nonzero.min() < 1e-4
        )
    if sci and nonzero.size:
        return lambda v: f"{v:.{precision}e}" if np.isfinite(v) else str(v)
    if np.all(finite == np.ceil(finite)):
        return lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)
    return lambda v: f"{v:.{precision}f}" if np.isfinite(v) else str(v)


def _format_floats(array):
    finite = array[np.isfinite(array)]
    fmt = _float_format(finite)
    # every element is right-aligned to the widest nonzero finite one, as PyTorch prints (a wider
    # inf/nan or -0. is not padded)
    width = max((len(fmt(v)) for v in finite[finite != 0].flat), default=0)
    return {"float_kind": lambda v: fmt(v).rjust(width)}


def _format_complex(array):
    """PyTorch's complex elements: the real parts aligned as a float tensor of them, each
    followed by its imaginary part, formatted as the imaginary parts' tensor but not padded."""
    real = _format_floats(array.real)["float_kind"]
    imag = _format_floats(array.imag)["float_kind"]

    def element(v):
        imag_text = (imag(v.imag) + "j").lstrip()
        return real(v.real) + (imag_text if imag_text[0] in "+-" else "+" + imag_text)

    return {"complex_kind": element}


def _summarized(array):
    """The elements a summarized printout shows: PyTorch sizes the columns from these alone."""
    if array.size <= _options["threshold"]:
        return array
    k = _options["edgeitems"]
    for axis, n in enumerate(array.shape):
        if n > 2 * k:
            array = np.concatenate([array.take(range(k), axis), array.take(range(n - k, n), axis)], axis)
    return array


def _format_bools(array):
    # PyTorch pads to the widest shown value: ``[True, True]`` but ``[ True, False]``
    width = 5 if not array.all() else 4
    return {"bool": lambda v: str(v).rjust(width)}


def tensor_repr(t):
    if t._device.type == "meta":  # no values to show: PyTorch's "..." and the size
        extras = [f"device='{t._device}'", f"size={tuple(t.shape)}"]
        if t.dtype is not dtypes.get_default_dtype():
            extras.append(f"dtype={t.dtype!r}")
        return _with_extras(t, "tensor(", "...", extras)
    array = t._backend.to_host(t._data)
    if t.dtype is dtypes.bfloat16:  # printed through float32, which holds every bfloat16 value
        array = array.astype(np.float32)
    prefix = "tensor("
    if array.dtype.kind == "f":
        formatter = _format_floats(_summarized(array).astype(np.float64))
    elif array.dtype.kind == "c":
        formatter = _format_complex(_summarized(array).astype(np.complex128))
    elif array.dtype.kind == "b":
        formatter = _format_bools(_summarized(array))
    else:
        formatter = None
    if array.size == 0 and array.ndim == 1:
        body = "[]"
    else:
        body = np.array2string(
            array,
            separator=", ",
            prefix=prefix,
            formatter=formatter,
            threshold=_options["threshold"],
            edgeitems=_options["edgeitems"],
            max_line_width=_options["linewidth"],
        )
        if array.size > _options["threshold"]:  # PyTorch's summary in a row is an element " ..."
            body = body.replace(", ..., ", ",  ..., ")
    extras = []
    if t._device.type != "cpu":
        extras.append(f"device='{t._device}'")
    dt = t.dtype
    # an empty tensor shows every dtype but the default one (no element says int or bool)
    default_shown = dt is dtypes.get_default_dtype() or (
        array.size != 0 and (dt is dtypes.int64 or dt is dtypes.bool or dt is dtypes.default_complex_dtype())
    )
    if array.size == 0 and array.ndim != 1:
        extras.append(f"size={tuple(array.shape)}")
    if not default_shown:
        extras.append(f"dtype={dt!r}")
    return _with_extras(t, prefix, body, extras)


def _with_extras(t, prefix, body, extras):
    """``prefix + body`` closed with the ``extras`` and the autograd ones, wrapped as PyTorch wraps them."""
    try:
        grad_fn = t.grad_fn
    except RuntimeError:  # a view whose history cannot be rebuilt after a write into its base
        extras.append("grad_fn=<Invalid>")
    else:
        if grad_fn is not None:
            extras.append(f"grad_fn=<{type(grad_fn).__name__}>")
        elif t._requires_grad:
            extras.append("requires_grad=True")
    from .autograd.tangents import tangent_of  # the layers above printing

    tangent = tangent_of(t)
    if tangent is not None:
        extras.append(f"tangent={tangent!r}")
    text = prefix + body
    for extra in extras:  # on a new line where the last one would run past the line width, as PyTorch
        if len(text) - text.rfind("\n") + 1 + len(extra) + 2 > _options["linewidth"]:
            text += ",\n" + " " * len(prefix) + extra
        else:
            text += ", " + extra
    return text + ")"
