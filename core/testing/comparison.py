"""``testing.assert_close``: PyTorch's closeness assertion for tensors, scalars and containers of them."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import dtypes
from ..tensor import Tensor, tensor

__all__ = ["assert_close", "assert_allclose"]

# PyTorch's default (rtol, atol) per dtype; every other dtype compares exactly
_TOLERANCES = {
    dtypes.float16: (1e-3, 1e-5),
    dtypes.bfloat16: (1.6e-2, 1e-5),
    dtypes.float32: (1.3e-6, 1e-5),
    dtypes.float64: (1e-7, 1e-7),
}


class _Mismatch(Exception):
    """A failed comparison: the exception type to raise and its message."""

    def __init__(self, kind: type[Exception], message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message
        self.path = ""  # where in nested containers: "[0]['a']"


def _tolerances(rtol, atol, *dtype_list):
    if (rtol is None) != (atol is None):
        raise _Mismatch(
            ValueError,
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {'rtol' if rtol is None else 'atol'}.",
        )
    if rtol is not None:
        return rtol, atol
    pairs = [_TOLERANCES.get(d, (0.0, 0.0)) for d in dtype_list]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _diff_line(kind, diff, index, tol):
    line = (
        f"{kind.title()} difference: {diff}"
        if index is None
        else f"Greatest {kind} difference: {diff} at index {index}"
    )
    return line + (f" (up to {tol} allowed)" if tol > 0 else "")


def _message(identifier, equality, extra, abs_diff, abs_index, atol, rel_diff, rel_index, rtol):
    lines = [f"{identifier} are not {'equal' if equality else 'close'}!", "", extra]
    lines += [_diff_line("absolute", abs_diff, abs_index, atol), _diff_line("relative", rel_diff, rel_index, rtol)]
    return "\n".join(lines)


def _close_mask(a, e, rtol, atol, equal_nan):
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(a - e) <= atol + rtol * np.abs(e)
        close |= a == e  # infinities of the same sign
    if equal_nan:
        close |= np.isnan(a) & np.isnan(e)
    return close


def _host(t: Tensor) -> np.ndarray:
    value = t.detach().cpu()
    if value.dtype in dtypes.narrow_float:
        value = value.float()
    return np.asarray(value.numpy())


def _compare_scalars(actual, expected, rtol, atol, equal_nan):
    a, e = complex(actual) if isinstance(actual, complex) else actual, expected
    if isinstance(a, bool) or isinstance(e, bool):
        if a != e:
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        return
    if rtol is None and atol is None:
        floating = isinstance(a, (float, complex)) or isinstance(e, (float, complex))
        rtol, atol = _TOLERANCES[dtypes.float64] if floating else (0.0, 0.0)
    if bool(_close_mask(np.asarray(a), np.asarray(e), rtol, atol, equal_nan)):
        return
    abs_diff = abs(a - e)
    rel_diff = float("inf") if e == 0 else abs_diff / abs(e)
    message = _message(
        "Scalars", rtol == 0 and atol == 0, f"Expected {expected} but got {actual}.", abs_diff, None, atol, rel_diff,
        None, rtol,
    )  # fmt: skip
    raise _Mismatch(AssertionError, message)


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_device, check_dtype):
    for attr, check in (("shape", True), ("device", check_device), ("dtype", check_dtype)):
        a, e = getattr(actual, attr), getattr(expected, attr)
        if check and a != e:
            raise _Mismatch(AssertionError, f"The values for attribute '{attr}' do not match: {a} != {e}.")
    rtol, atol = _tolerances(rtol, atol, actual.dtype, expected.dtype)
    if actual.is_meta and expected.is_meta:  # no values: the attributes are all there is to compare (PyTorch)
        return
    if actual.dtype != expected.dtype:
        common = dtypes.promote_types(actual.dtype, expected.dtype)
        actual, expected = actual.to(common), expected.to(common)
    a, e = _host(actual), _host(expected)
    if not (actual.dtype.is_floating_point or actual.dtype.is_complex):
        a, e = a.astype(np.int64), e.astype(np.int64)
    matches = _close_mask(a, e, rtol, atol, equal_nan)
    if matches.all():
        return
    if actual.dim() == 0:
        _compare_scalars(a.item(), e.item(), rtol, atol, equal_nan)
        return
    # the differences in the compared dtype, as PyTorch reports them (integers as int64)
    actual, expected = actual.detach().cpu(), expected.detach().cpu()
    if not (actual.dtype.is_floating_point or actual.dtype.is_complex):
        actual, expected = actual.to(dtypes.int64), expected.to(dtypes.int64)
    flat_matches = matches.reshape(-1)
    abs_diff = (actual - expected).abs()
    rel_diff = _host(abs_diff / expected.abs()).reshape(-1).copy()
    abs_diff = _host(abs_diff).reshape(-1).copy()
    abs_diff[flat_matches] = 0
    rel_diff[flat_matches] = 0
    total = matches.size
    wrong = total - int(flat_matches.sum())
    abs_at, rel_at = int(np.argmax(abs_diff)), int(np.argmax(rel_diff))
    message = _message(
        "Tensor-likes",
        rtol == 0 and atol == 0,
        f"Mismatched elements: {wrong} / {total} ({wrong / total:.1%})",
        abs_diff[abs_at].item(),
        tuple(int(i) for i in np.unravel_index(abs_at, matches.shape)),
        atol,
        rel_diff[rel_at].item(),
        tuple(int(i) for i in np.unravel_index(rel_at, matches.shape)),
        rtol,
    )
    raise _Mismatch(AssertionError, message)


_SCALARS = (bool, int, float, complex)


def _compare(actual, expected, options):
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        return _compare_tensors(actual, expected, *options)
    if isinstance(actual, _SCALARS) and isinstance(expected, _SCALARS) and type(actual) is type(expected):
        rtol, atol, equal_nan = options[:3]
        if (rtol is None) != (atol is None):
            _tolerances(rtol, atol)
        return _compare_scalars(actual, expected, rtol, atol, equal_nan)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
            raise _Mismatch(
                AssertionError,
                "The keys of the mappings do not match:\n"
                + (f"Missing keys in the actual mapping: {missing}\n" if missing else "")
                + (f"Extra keys in the actual mapping: {extra}\n" if extra else ""),
            )
        for key in expected:
            _compare_item(actual[key], expected[key], options, key)
        return None
    if (
        isinstance(actual, Sequence)
        and isinstance(expected, Sequence)
        and not isinstance(actual, str)
        and not isinstance(expected, str)
    ):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare_item(a, e, options, i)
        return None
    raise _Mismatch(
        TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}."
    )


def _compare_item(actual, expected, options, key):
    try:
        _compare(actual, expected, options)
    except _Mismatch as failure:
        failure.path = f"[{key!r}]" + failure.path
        raise


def assert_close(
    actual: Any,
    expected: Any,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: str | Callable[[str], str] | None = None,
) -> None:
    r"""Assert that ``actual`` and ``expected`` are close: :math:`|a - e| \le atol + rtol \cdot |e|`
    elementwise, with PyTorch's default tolerances per dtype (float32: ``rtol=1.3e-6, atol=1e-5``;
    float64: ``1e-7, 1e-7``; float16: ``1e-3, 1e-5``; bfloat16: ``1.6e-2, 1e-5``; exact otherwise)
    and PyTorch's messages.

    Tensors must agree in shape, and (unless switched off) device and dtype; Python scalars,
    sequences and mappings of them are compared item by item.

    Args:
        actual, expected: tensors, Python scalars, or sequences/mappings of them.
        allow_subclasses (bool): accepted (ember has one tensor class).
        rtol, atol (float, optional): the tolerances; give both or neither.
        equal_nan (bool): NaN equals NaN. Default: ``False``.
        check_device (bool): require the same device. Default: ``True``.
        check_dtype (bool): require the same dtype (else both are promoted). Default: ``True``.
        check_layout, check_stride (bool): accepted (ember tensors are strided and expose no strides).
        msg (str or callable): replaces the message, or maps the generated one to the message.

    Raises:
        AssertionError: the inputs are not close (or differ in an attribute checked).
        ValueError: only one of ``rtol`` and ``atol`` was given.
        TypeError: the inputs are not of comparable types.

    Example::

        >>> ember.testing.assert_close(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-7]))
        >>> ember.testing.assert_close(ember.tensor([1.0]), ember.tensor([1.5]))
        Traceback (most recent call last):
        ...
        AssertionError: Tensor-likes are not close!
        <BLANKLINE>
        Mismatched elements: 1 / 1 (100.0%)
        Greatest absolute difference: 0.5 at index (0,) (up to 1e-05 allowed)
        Greatest relative difference: 0.3333333432674408 at index (0,) (up to 1.3e-06 allowed)
    """
    try:
        _compare(actual, expected, (rtol, atol, equal_nan, check_device, check_dtype))
    except _Mismatch as failure:
        message = failure.message
        if failure.kind is AssertionError and failure.path:
            message += f"\n\nThe failure occurred for item {failure.path}"
        if msg is not None:
            message = msg(message) if callable(msg) else msg
        raise failure.kind(message) from None


# assert_allclose's own defaults, which predate assert_close's
_ALLCLOSE_TOLERANCES = {dtypes.float16: (1e-3, 1e-3), dtypes.float32: (1e-4, 1e-5), dtypes.float64: (1e-5, 1e-8)}


def assert_allclose(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = True,
    msg: str = "",
) -> None:
    """The deprecated form of :func:`assert_close` (a ``FutureWarning``), kept for the tests that
    still call it: non-tensor inputs become tensors (``expected`` in ``actual``'s dtype), dtypes
    need not agree, NaNs compare equal, and the default tolerances are its own (float32:
    ``rtol=1e-4, atol=1e-5``; float64: ``1e-5, 1e-8``; float16: ``1e-3, 1e-3``; exact otherwise).

    Args:
        actual, expected: tensors, or data :func:`ember.tensor` takes.
        rtol, atol (float, optional): the tolerances; give both or neither.
        equal_nan (bool): NaN equals NaN. Default: ``True``.
        msg (str): replaces the message when not empty. Default: ``""``.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     ember.testing.assert_allclose(ember.tensor([1.0, 2.0]), [1.0, 2.00001])
    """
    warnings.warn(
        "`ember.testing.assert_allclose()` is deprecated since PyTorch 1.12 and will be removed in a future "
        "release. Please use `ember.testing.assert_close()` instead.",
        FutureWarning,
        stacklevel=2,
    )
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        pairs = [_ALLCLOSE_TOLERANCES.get(d, (0.0, 0.0)) for d in (actual.dtype, expected.dtype)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(
        actual,
        expected,
        rtol=rtol,
        atol=atol,
        equal_nan=equal_nan,
        check_device=True,
        check_dtype=False,
        msg=msg or None,
    )
