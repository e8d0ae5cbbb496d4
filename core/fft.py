"""``ember.fft``: discrete Fourier transforms with PyTorch's ``torch.fft`` names, arguments
(``n``/``s``, ``dim``, ``norm``), output dtypes and gradients.

The transforms run on the backend's ``xp.fft`` (the array API's fft extension, which NumPy and
CuPy have); a backend without complex dtypes (OpenCL) refuses them with a TypeError naming the
dtype. Results keep PyTorch's precision: float32 input gives complex64 (NumPy computes in
double precision and the result is cast back), float64 gives complex128, integers take the
default floating type.

``norm`` scales the forward transforms (``fft``, ``rfft``, ``hfft`` and their n-dimensional
forms) by 1 (``"backward"``, the default), ``1/sqrt(n)`` (``"ortho"``) or ``1/n``
(``"forward"``); the inverse transforms by the complementary factor. Gradients follow
PyTorch's convention for complex numbers (the conjugate Wirtinger derivative): the gradient of
a transform is its adjoint, the transform in the other direction with the dual ``norm``.

Example::

    >>> x = ember.tensor([1.0, 2.0, 3.0, 4.0])
    >>> X = ember.fft.rfft(x)
    >>> X
    tensor([10.+0.j, -2.+2.j, -2.+0.j])
    >>> ember.fft.irfft(X, n=4)
    tensor([1., 2., 3., 4.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import dtypes
from .amp.policy import cast_inputs
from .amp.state import state as _amp
from .amp.state import suspended as _amp_suspended
from .autograd.function import Function
from .nn.functional.padding import pad as _pad
from .ops.creation import arange
from .ops.dtype_support import TORCH_NAMES, not_implemented
from .ops.movement import cat, ordered_copy, roll
from .ops.operands import wrap_dim
from .ops.out_argument import check_out_type, creation_placement, write_out
from .tensor import Tensor
from .type_names import type_name

if TYPE_CHECKING:
    from .types import Device

__all__ = [
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft",
    "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
    "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn",
    "fftfreq", "rfftfreq", "fftshift", "ifftshift",
]  # fmt: skip

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}

_Sizes = Sequence[int] | None
_Dims = int | Sequence[int] | None


# -- argument checks ------------------------------------------------------------------------
def _norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _DUAL:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _axes_and_sizes(
    input: Tensor, s: _Sizes, dim: _Dims, default_dims: tuple[int, ...] | None
) -> tuple[tuple[int, ...], list[int]]:
    """PyTorch's reading of ``s`` and ``dim``: the axes to transform and the length of each
    (``-1`` in ``s``: the input's). Without ``dim``, the last ``len(s)`` axes, or
    ``default_dims`` (None: every axis)."""
    ndim = input.ndim
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        dims = tuple(range(ndim - len(s), ndim))
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions.")
    else:
        dims = tuple(range(ndim)) if default_dims is None else default_dims
    if ndim == 0 and dims:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    axes = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError("FFT dims must be unique")
    sizes = [input.shape[a] if s is None or s[i] == -1 else int(s[i]) for i, a in enumerate(axes)]
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return axes, sizes


def _checked_type(op: str, input: Tensor) -> dtypes.dtype:
    """The floating or complex type ``input`` is transformed in, checked to be one PyTorch's
    CPU transforms take and one the backend holds in complex form."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{op}(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    d = input.dtype
    if d._category < 2:
        d = dtypes.get_default_dtype()
    if d in dtypes.narrow_float:
        raise RuntimeError(f"Unsupported dtype {TORCH_NAMES[d]}")
    input._backend.native_dtype(d.to_complex())  # TypeError where the backend has no complex dtypes
    return d


def _autocast(op: str, input: Tensor) -> Tensor:
    """``input`` as autocast's policy for ``fft_<op>`` casts it (16-bit to float32 on cpu)."""
    return cast_inputs(f"fft_{op}", input)[0] if _amp.active and isinstance(input, Tensor) else input


def _complex_input(op: str, input: Tensor) -> Tensor:
    input = _autocast(op, input)
    d = _checked_type(op, input)
    return input if input.dtype is d.to_complex() else input.to(d.to_complex())


def _real_input(op: str, input: Tensor) -> Tensor:
    input = _autocast(op, input)
    d = _checked_type(op, input)
    if d.is_complex:
        raise RuntimeError(f"{op} expects a real input tensor, but got {TORCH_NAMES[d]}")
    return input if input.dtype is d else input.to(d)


def _fitted(t: Tensor, axes: tuple[int, ...], sizes: Sequence[int]) -> Tensor:
    """``t`` fitted to ``sizes`` along ``axes`` before a transform, as PyTorch's ``resize_fft_input``: cut to a
    narrowed view, then zero-padded by one ``constant_pad_nd``, so that the gradient goes through PyTorch's
    nodes and comes out in their layouts."""
    pad = [0] * (2 * t.ndim)
    for a, n in zip(axes, sizes):
        if t.shape[a] > n:
            t = t.narrow(a, 0, n)
        elif t.shape[a] < n:
            pad[2 * (t.ndim - 1 - a) + 1] = n - t.shape[a]
    return _pad(t, pad) if any(pad) else t


# -- the layout of a result ------------------------------------------------------------------------
def _pass_order(strides: tuple[int, ...], axes: tuple[int, ...], real: bool) -> tuple[int, ...]:
    """The order (outermost first) in which PyTorch's CPU transform lays out the result of one pass over
    ``axes`` of an input with ``strides``: the other dims first, by stride, largest first, then the
    transformed ones, by stride too (a real transform keeps its last axis last)."""
    by_stride = lambda d: -strides[d]  # noqa: E731 - a sort key
    others = sorted((d for d in range(len(strides)) if d not in axes), key=by_stride)
    moved = axes[:-1] if real else axes
    return tuple(others + sorted(moved, key=by_stride) + ([axes[-1]] if real else []))


def _result_order(input: Tensor, axes: tuple[int, ...], real: bool) -> tuple[int, ...] | None:
    """The order in which PyTorch lays out a transform of ``input`` over ``axes`` (``real``: to or from a real
    signal; a gradient's transform too); None where that is row-major."""
    order = _pass_order(tuple(input.stride()), axes, real)
    return None if order == tuple(range(input.ndim)) else order


def _laid_out(backend, data, native, order):
    """The transform's result ``data`` in ``native`` dtype, laid out in ``order`` (None: row-major; the
    library's transform of a strided input may keep its layout)."""
    if order is None and backend.is_contiguous(data):
        return backend.xp.astype(data, native, copy=False)
    return ordered_copy(backend, data, native, order)


# -- the three kinds of transform, each with its adjoint as its gradient -----------------------
class _C2C(Function):
    """Complex to complex, forward (``fftn``) or inverse (``ifftn``), of an input fitted to the transform."""

    @staticmethod
    def forward(ctx, z, axes, norm, inverse, order=None):
        ctx.axes, ctx.norm, ctx.inverse = axes, norm, inverse
        xp = z._backend.xp
        transform = xp.fft.ifftn if inverse else xp.fft.fftn
        return z._make(_laid_out(z._backend, transform(z._data, axes=axes, norm=norm), z._data.dtype, order))

    @staticmethod
    def backward(ctx, grad):
        g = _C2C.apply(grad, ctx.axes, _DUAL[ctx.norm], not ctx.inverse, _result_order(grad, ctx.axes, False))
        return g, None, None, None, None


class _R2C(Function):
    """Real to the complex half spectrum (``rfftn``: the last axis keeps ``n // 2 + 1`` entries), of an input
    fitted to the transform."""

    @staticmethod
    def forward(ctx, x, axes, norm, order=None):
        ctx.axes, ctx.norm, ctx.length = axes, norm, x._data.shape[axes[-1]]
        backend = x._backend
        native = backend.native_dtype(x.dtype.to_complex())
        return x._make(_laid_out(backend, backend.xp.fft.rfftn(x._data, axes=axes, norm=norm), native, order))

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's fft_r2c_backward: the adjoint of "the first n // 2 + 1 entries of the full transform": the
        # missing entries are zeros (one constant_pad_nd), then the inverse transform with the dual norm, whose
        # real part is the gradient
        last = ctx.axes[-1]
        full = _fitted(grad, (last,), (ctx.length,))
        return (
            _C2C.apply(full, ctx.axes, _DUAL[ctx.norm], True, _result_order(full, ctx.axes, False)).real,
            None,
            None,
            None,
        )


class _C2R(Function):
    """The complex half spectrum to real (``irfftn``: the last axis gives ``n`` real entries), of an input
    fitted to the transform (``n // 2 + 1`` entries in the last axis)."""

    @staticmethod
    def forward(ctx, z, axes, n, norm, order=None):
        ctx.axes, ctx.norm, ctx.n = axes, norm, n
        backend = z._backend
        native = backend.native_dtype(z.dtype.to_real())
        sizes = [z._data.shape[a] for a in axes[:-1]] + [n]
        return z._make(_laid_out(backend, backend.xp.fft.irfftn(z._data, s=sizes, axes=axes, norm=norm), native, order))

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's fft_c2r_backward: the real transform of the gradient with the dual norm, the
        # entries that stand for two (a value and its mirrored conjugate) counted twice
        g = _R2C.apply(grad, ctx.axes, _DUAL[ctx.norm], _result_order(grad, ctx.axes, True))
        last = ctx.axes[-1]
        half = g.shape[last]
        doubled = ctx.n - half
        if doubled > 0:
            weights = [1.0] + [2.0] * doubled + [1.0] * (half - 1 - doubled)
            shape = [1] * g.ndim
            shape[last] = half
            g = g * g.new_tensor(weights, dtype=g.dtype.to_real()).reshape(shape)
        return g, None, None, None, None


def _c2c(
    op: str, input: Tensor, s: _Sizes, dim: _Dims, norm: str | None, inverse: bool, default_dims=None, one_dim=False
) -> Tensor:
    """The complex-to-complex transform; ``one_dim`` (fft, ifft): a real input fitted before its cast, as
    PyTorch's, which gives it the real-to-complex transform (its n-dimensional transforms cast first)."""
    x = _autocast(op, input)
    d = _checked_type(op, x)
    axes, sizes = _axes_and_sizes(x, s, dim, default_dims)
    if one_dim:
        x = _fitted(x, axes, sizes)
    z = x if x.dtype is d.to_complex() else x.to(d.to_complex())
    if not one_dim:
        z = _fitted(z, axes, sizes)
    return _C2C.apply(z, axes, _norm(norm), inverse, _result_order(z, axes, False))


def _r2c(op: str, input: Tensor, s: _Sizes, dim: _Dims, norm: str | None, default_dims=None, split=False) -> Tensor:
    """The real-to-complex transform; ``split``: as PyTorch's ihfftn, the last axis first, then the others
    (complex to complex)."""
    x = _real_input(op, input)
    axes, sizes = _axes_and_sizes(x, s, dim, default_dims)
    x = _fitted(x, axes, sizes)
    first = axes[-1:] if split else axes
    half = _R2C.apply(x, first, _norm(norm), _result_order(x, first, True))
    if first == axes:
        return half
    return _C2C.apply(half, axes[:-1], _norm(norm), False, _result_order(half, axes[:-1], False))


def _c2r(op: str, input: Tensor, s: _Sizes, dim: _Dims, norm: str | None, default_dims=None, split=False) -> Tensor:
    """The complex-to-real transform; ``split``: as PyTorch's hfftn, all but the last axis first (complex to
    complex), then the last."""
    z = _complex_input(op, input)
    axes, sizes = _axes_and_sizes(z, s, dim, default_dims)
    if s is None or s[-1] == -1:  # the length of a real signal whose half spectrum has m entries
        sizes[-1] = 2 * (z.shape[axes[-1]] - 1)
        if sizes[-1] < 1:
            raise RuntimeError(f"Invalid number of data points ({sizes[-1]}) specified")
    z = _fitted(z, axes, [*sizes[:-1], sizes[-1] // 2 + 1])
    last = axes[-1:] if split else axes
    if last != axes:
        z = _C2C.apply(z, axes[:-1], _norm(norm), True, _result_order(z, axes[:-1], False))
    return _C2R.apply(z, last, sizes[-1], _norm(norm), _result_order(z, last, True))


def _write_out(op: str, result: Tensor, out: Tensor) -> Tensor:
    """:func:`~ember.ops.out_argument.write_out` with the rule of PyTorch's transforms: a complex result goes
    into a complex ``out`` and a real one into a real floating ``out``, of either precision."""
    check_out_type(op, out)
    if result.dtype.is_complex != out.dtype.is_complex or out.dtype._category < 2:
        kind = "a complex" if result.dtype.is_complex else "a floating point"
        raise RuntimeError(f"{op} expects {kind} output tensor, but got {TORCH_NAMES[out.dtype]}")
    return write_out(op, result, out)


def _one(n: int | None) -> list[int] | None:
    return None if n is None else [n]


# -- one dimension ---------------------------------------------------------------------------------
def fft(
    input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The one-dimensional discrete Fourier transform of ``input`` along ``dim``.

    .. math::
        X_k = \\sum_{j=0}^{n-1} x_j e^{-2 \\pi i jk / n}

    Args:
        input (Tensor): the input, real or complex (real input is transformed as complex).
        n (int, optional): the signal length: ``input`` is zero-padded or cut to it. Default: its length.
        dim (int, optional): the dimension to transform. Default: ``-1``.
        norm (str, optional): ``"backward"`` (no scaling), ``"ortho"`` (``1/sqrt(n)``) or
            ``"forward"`` (``1/n``). Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.fft(ember.tensor([1.0, 0.0, -1.0, 0.0]))
        tensor([0.+0.j, 2.+0.j, 0.+0.j, 2.+0.j])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("fft", fft(input, n, dim, norm), out)
    return _c2c("fft", input, _one(n), dim, norm, False, one_dim=True)


def ifft(
    input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The inverse of :func:`fft` along ``dim`` (scaled by ``1/n`` with the default ``norm``).

    Args:
        input (Tensor): the input, real or complex.
        n (int, optional): the signal length: ``input`` is zero-padded or cut to it. Default: its length.
        dim (int, optional): the dimension to transform. Default: ``-1``.
        norm (str, optional): ``"backward"`` (``1/n``), ``"ortho"`` (``1/sqrt(n)``) or ``"forward"``
            (no scaling). Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.ifft(ember.tensor([0j, 2, 0, 2]))
        tensor([ 1.+0.j,  0.+0.j, -1.+0.j,  0.+0.j])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("ifft", ifft(input, n, dim, norm), out)
    return _c2c("ifft", input, _one(n), dim, norm, True, one_dim=True)


def rfft(
    input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The Fourier transform of a real ``input``: the ``n // 2 + 1`` non-negative frequencies
    (the others are their complex conjugates).

    Args:
        input (Tensor): a real input.
        n (int, optional): the signal length: ``input`` is zero-padded or cut to it. Default: its length.
        dim (int, optional): the dimension to transform. Default: ``-1``.
        norm (str, optional): as for :func:`fft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Raises:
        RuntimeError: for a complex input.

    Example::

        >>> ember.fft.rfft(ember.tensor([1.0, 0.0, -1.0, 0.0]))
        tensor([0.+0.j, 2.+0.j, 0.+0.j])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("rfft", rfft(input, n, dim, norm), out)
    return _r2c("rfft", input, _one(n), dim, norm)


def irfft(
    input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The inverse of :func:`rfft`: the real signal of length ``n`` whose non-negative
    frequencies are ``input`` (the imaginary parts of the zero and Nyquist frequencies are ignored).

    Args:
        input (Tensor): the half spectrum, complex (or real).
        n (int, optional): the output length. Default: ``2 * (input.size(dim) - 1)``.
        dim (int, optional): the dimension to transform. Default: ``-1``.
        norm (str, optional): as for :func:`ifft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.irfft(ember.tensor([0j, 2, 0]))
        tensor([ 1.,  0., -1.,  0.])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("irfft", irfft(input, n, dim, norm), out)
    return _c2r("irfft", input, _one(n), dim, norm)


def hfft(
    input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The Fourier transform of a Hermitian-symmetric signal given by its first half ``input``:
    a real result of length ``n``.

    Args:
        input (Tensor): the first half of the signal, complex (or real).
        n (int, optional): the output length. Default: ``2 * (input.size(dim) - 1)``.
        dim (int, optional): the dimension to transform. Default: ``-1``.
        norm (str, optional): as for :func:`fft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.hfft(ember.tensor([1.0, 0.5, 0.0]))
        tensor([2., 1., 0., 1.])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("hfft", hfft(input, n, dim, norm), out)
    return _c2r("hfft", _complex_input("hfft", input).conj(), _one(n), dim, _DUAL[_norm(norm)])


def ihfft(
    input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The inverse of :func:`hfft`: the first ``n // 2 + 1`` entries of the inverse transform of a real ``input``.

    Args:
        input (Tensor): a real input.
        n (int, optional): the signal length: ``input`` is zero-padded or cut to it. Default: its length.
        dim (int, optional): the dimension to transform. Default: ``-1``.
        norm (str, optional): as for :func:`ifft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.ihfft(ember.tensor([2.0, 1.0, 0.0, 1.0]))
        tensor([1.0000-0.j, 0.5000-0.j, 0.0000-0.j])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("ihfft", ihfft(input, n, dim, norm), out)
    return _r2c("ihfft", input, _one(n), dim, _DUAL[_norm(norm)]).conj()


# -- two and n dimensions ----------------------------------------------------------------------
def fftn(
    input: Tensor, s: _Sizes = None, dim: _Dims = None, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The n-dimensional Fourier transform over ``dim`` (every dimension, or the last ``len(s)``).

    Args:
        input (Tensor): the input, real or complex.
        s (sequence of ints, optional): the signal length in each transformed dimension (``-1``:
            the input's). Default: the input's.
        dim (sequence of ints, optional): the dimensions to transform. Default: all (or the last ``len(s)``).
        norm (str, optional): as for :func:`fft`, with ``n`` the product of the lengths. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.fftn(ember.tensor([[1.0, 0.0], [0.0, 0.0]]))
        tensor([[1.+0.j, 1.+0.j],
                [1.+0.j, 1.+0.j]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("fftn", fftn(input, s, dim, norm), out)
    return _c2c("fftn", input, s, dim, norm, False)


def ifftn(
    input: Tensor, s: _Sizes = None, dim: _Dims = None, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The inverse of :func:`fftn`.

    Args:
        input (Tensor): the input, real or complex.
        s (sequence of ints, optional): the signal length in each transformed dimension. Default: the input's.
        dim (sequence of ints, optional): the dimensions to transform. Default: all (or the last ``len(s)``).
        norm (str, optional): as for :func:`ifft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.ifftn(ember.ones(2, 2))
        tensor([[1.+0.j, 0.+0.j],
                [0.+0.j, 0.+0.j]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("ifftn", ifftn(input, s, dim, norm), out)
    return _c2c("ifftn", input, s, dim, norm, True)


def rfftn(
    input: Tensor, s: _Sizes = None, dim: _Dims = None, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The n-dimensional Fourier transform of a real ``input``, keeping ``n // 2 + 1``
    frequencies of the last transformed dimension.

    Args:
        input (Tensor): a real input.
        s (sequence of ints, optional): the signal length in each transformed dimension. Default: the input's.
        dim (sequence of ints, optional): the dimensions to transform. Default: all (or the last ``len(s)``).
        norm (str, optional): as for :func:`fft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.rfftn(ember.ones(2, 4)).shape
        ember.Size([2, 3])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("rfftn", rfftn(input, s, dim, norm), out)
    return _r2c("rfftn", input, s, dim, norm)


def irfftn(
    input: Tensor, s: _Sizes = None, dim: _Dims = None, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The inverse of :func:`rfftn`: a real result, ``2 * (m - 1)`` long in the last transformed
    dimension unless ``s`` says otherwise.

    Args:
        input (Tensor): the half spectrum, complex (or real).
        s (sequence of ints, optional): the output length in each transformed dimension.
        dim (sequence of ints, optional): the dimensions to transform. Default: all (or the last ``len(s)``).
        norm (str, optional): as for :func:`ifft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.irfftn(ember.fft.rfftn(ember.ones(2, 4))).shape
        ember.Size([2, 4])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("irfftn", irfftn(input, s, dim, norm), out)
    return _c2r("irfftn", input, s, dim, norm)


def hfftn(
    input: Tensor, s: _Sizes = None, dim: _Dims = None, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The n-dimensional :func:`hfft`: a real result from the first half (in the last
    transformed dimension) of a Hermitian-symmetric signal.

    Args:
        input (Tensor): the half signal, complex (or real).
        s (sequence of ints, optional): the output length in each transformed dimension.
        dim (sequence of ints, optional): the dimensions to transform. Default: all (or the last ``len(s)``).
        norm (str, optional): as for :func:`fft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.hfftn(ember.ones(2, 3)).shape
        ember.Size([2, 4])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("hfftn", hfftn(input, s, dim, norm), out)
    return _c2r("hfftn", _complex_input("hfftn", input).conj(), s, dim, _DUAL[_norm(norm)], split=True)


def ihfftn(
    input: Tensor, s: _Sizes = None, dim: _Dims = None, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The inverse of :func:`hfftn` on a real ``input``.

    Args:
        input (Tensor): a real input.
        s (sequence of ints, optional): the signal length in each transformed dimension. Default: the input's.
        dim (sequence of ints, optional): the dimensions to transform. Default: all (or the last ``len(s)``).
        norm (str, optional): as for :func:`ifft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.ihfftn(ember.ones(2, 4)).shape
        ember.Size([2, 3])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("ihfftn", ihfftn(input, s, dim, norm), out)
    return _r2c("ihfftn", input, s, dim, _DUAL[_norm(norm)], split=True).conj()


_LAST_TWO = (-2, -1)


def fft2(
    input: Tensor, s: _Sizes = None, dim: _Dims = _LAST_TWO, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """:func:`fftn` over the last two dimensions.

    Args:
        input (Tensor): the input, real or complex.
        s (sequence of ints, optional): the signal lengths. Default: the input's.
        dim (sequence of ints, optional): the two dimensions. Default: ``(-2, -1)``.
        norm (str, optional): as for :func:`fft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.fft2(ember.eye(2))
        tensor([[2.+0.j, 0.+0.j],
                [0.+0.j, 2.+0.j]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("fft2", fft2(input, s, dim, norm), out)
    return _c2c("fft2", input, s, dim, norm, False)


def ifft2(
    input: Tensor, s: _Sizes = None, dim: _Dims = _LAST_TWO, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """:func:`ifftn` over the last two dimensions.

    Args:
        input (Tensor): the input, real or complex.
        s (sequence of ints, optional): the signal lengths. Default: the input's.
        dim (sequence of ints, optional): the two dimensions. Default: ``(-2, -1)``.
        norm (str, optional): as for :func:`ifft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.ifft2(ember.fft.fft2(ember.eye(2))).real
        tensor([[1., 0.],
                [0., 1.]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("ifft2", ifft2(input, s, dim, norm), out)
    return _c2c("ifft2", input, s, dim, norm, True)


def rfft2(
    input: Tensor, s: _Sizes = None, dim: _Dims = _LAST_TWO, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """:func:`rfftn` over the last two dimensions.

    Args:
        input (Tensor): a real input.
        s (sequence of ints, optional): the signal lengths. Default: the input's.
        dim (sequence of ints, optional): the two dimensions. Default: ``(-2, -1)``.
        norm (str, optional): as for :func:`fft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.rfft2(ember.ones(3, 4)).shape
        ember.Size([3, 3])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("rfft2", rfft2(input, s, dim, norm), out)
    return _r2c("rfft2", input, s, dim, norm)


def irfft2(
    input: Tensor, s: _Sizes = None, dim: _Dims = _LAST_TWO, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """:func:`irfftn` over the last two dimensions.

    Args:
        input (Tensor): the half spectrum, complex (or real).
        s (sequence of ints, optional): the output lengths.
        dim (sequence of ints, optional): the two dimensions. Default: ``(-2, -1)``.
        norm (str, optional): as for :func:`ifft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.irfft2(ember.fft.rfft2(ember.ones(3, 4)), s=(3, 4))
        tensor([[1., 1., 1., 1.],
                [1., 1., 1., 1.],
                [1., 1., 1., 1.]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("irfft2", irfft2(input, s, dim, norm), out)
    return _c2r("irfft2", input, s, dim, norm)


def hfft2(
    input: Tensor, s: _Sizes = None, dim: _Dims = _LAST_TWO, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """:func:`hfftn` over the last two dimensions.

    Args:
        input (Tensor): the half signal, complex (or real).
        s (sequence of ints, optional): the output lengths.
        dim (sequence of ints, optional): the two dimensions. Default: ``(-2, -1)``.
        norm (str, optional): as for :func:`fft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.hfft2(ember.ones(2, 3)).shape
        ember.Size([2, 4])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("hfft2", hfft2(input, s, dim, norm), out)
    return hfftn(input, s, dim, norm)


def ihfft2(
    input: Tensor, s: _Sizes = None, dim: _Dims = _LAST_TWO, norm: str | None = None, *, out: Tensor | None = None
) -> Tensor:
    """:func:`ihfftn` over the last two dimensions.

    Args:
        input (Tensor): a real input.
        s (sequence of ints, optional): the signal lengths. Default: the input's.
        dim (sequence of ints, optional): the two dimensions. Default: ``(-2, -1)``.
        norm (str, optional): as for :func:`ifft`. Default: ``"backward"``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.fft.ihfft2(ember.ones(2, 4)).shape
        ember.Size([2, 3])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return _write_out("ihfft2", ihfft2(input, s, dim, norm), out)
    return ihfftn(input, s, dim, norm)


# -- frequencies and shifts ----------------------------------------------------------------------
def _frequency_type(op: str, dtype: dtypes.dtype | None) -> dtypes.dtype:
    d = dtypes.get_default_dtype() if dtype is None else dtype
    if d._category < 2:
        raise RuntimeError(f"{op} requires a floating point or complex dtype")
    if d.is_complex:  # PyTorch accepts the type, then its arange refuses it
        not_implemented("arange_cpu", d)
    return d


def _frequencies(values: Tensor, requires_grad: bool) -> Tensor:
    return values.requires_grad_() if requires_grad else values


def fftfreq(
    n: int,
    d: float = 1.0,
    *,
    out: Tensor | None = None,
    dtype: dtypes.dtype | None = None,
    layout: object = None,
    device: Device = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """The frequencies of the entries of an ``n``-point :func:`fft`, in cycles per unit of the
    sample spacing ``d``: ``[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n)``.

    Args:
        n (int): the signal length.
        d (float, optional): the sample spacing. Default: ``1.0``.
        out (Tensor, optional): the output tensor, whose dtype the result takes. Default: ``None``.
        dtype (ember.dtype, optional): a floating type (a complex one raises PyTorch's
            ``NotImplementedError``). Default: the default dtype.
        layout (ember.layout, optional): ``ember.strided`` only (accepted for PyTorch compatibility).
        device (ember.device, optional): the device of the result.
        requires_grad (bool, optional): whether autograd records operations on the result. Default: ``False``.
        pin_memory (bool, optional): accepted for PyTorch compatibility. Default: ``False``.

    Example::

        >>> ember.fft.fftfreq(5)
        tensor([ 0.0000,  0.2000,  0.4000, -0.4000, -0.2000])
    """
    if out is not None:
        dtype, device = creation_placement("fft_fftfreq", dtype, device, out)
        return _frequencies(write_out("fft_fftfreq", fftfreq(n, d, dtype=dtype, device=device), out), requires_grad)
    t = _frequency_type("fftfreq", dtype)
    steps = cat([arange((n + 1) // 2, dtype=t, device=device), arange(-(n // 2), 0, dtype=t, device=device)])
    return _frequencies(steps * (1.0 / (n * d)), requires_grad)


def rfftfreq(
    n: int,
    d: float = 1.0,
    *,
    out: Tensor | None = None,
    dtype: dtypes.dtype | None = None,
    layout: object = None,
    device: Device = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """The frequencies of the entries of an ``n``-point :func:`rfft`: ``[0, 1, ..., n // 2] / (d * n)``.

    Args:
        n (int): the signal length.
        d (float, optional): the sample spacing. Default: ``1.0``.
        out (Tensor, optional): the output tensor, whose dtype the result takes. Default: ``None``.
        dtype (ember.dtype, optional): a floating type, as for :func:`fftfreq`. Default: the default dtype.
        layout (ember.layout, optional): ``ember.strided`` only (accepted for PyTorch compatibility).
        device (ember.device, optional): the device of the result.
        requires_grad (bool, optional): whether autograd records operations on the result. Default: ``False``.
        pin_memory (bool, optional): accepted for PyTorch compatibility. Default: ``False``.

    Example::

        >>> ember.fft.rfftfreq(5, d=0.1)
        tensor([0., 2., 4.])
    """
    if out is not None:
        dtype, device = creation_placement("fft_rfftfreq", dtype, device, out)
        return _frequencies(write_out("fft_rfftfreq", rfftfreq(n, d, dtype=dtype, device=device), out), requires_grad)
    t = _frequency_type("rfftfreq", dtype)
    return _frequencies(arange(n // 2 + 1, dtype=t, device=device) * (1.0 / (n * d)), requires_grad)


def _shift(input: Tensor, dim: _Dims, inverse: bool) -> Tensor:
    dims = tuple(range(input.ndim)) if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return input.clone()
    sizes = [input.shape[d] for d in dims]
    shifts = [(n + 1) // 2 if inverse else n // 2 for n in sizes]
    return roll(input, shifts, dims)


def fftshift(input: Tensor, dim: _Dims = None) -> Tensor:
    """``input`` with the zero frequency moved to the middle of each dimension in ``dim``
    (a roll by ``n // 2``).

    Args:
        input (Tensor): a tensor in FFT order.
        dim (int or sequence of ints, optional): the dimensions to shift. Default: all.

    Example::

        >>> ember.fft.fftshift(ember.fft.fftfreq(5))
        tensor([-0.4000, -0.2000,  0.0000,  0.2000,  0.4000])
    """
    return _shift(input, dim, inverse=False)


def ifftshift(input: Tensor, dim: _Dims = None) -> Tensor:
    """The inverse of :func:`fftshift` (a roll by ``-(n // 2)``).

    Args:
        input (Tensor): a tensor in centred order.
        dim (int or sequence of ints, optional): the dimensions to shift. Default: all.

    Example::

        >>> ember.fft.ifftshift(ember.fft.fftshift(ember.arange(5)))
        tensor([0, 1, 2, 3, 4])
    """
    return _shift(input, dim, inverse=True)
