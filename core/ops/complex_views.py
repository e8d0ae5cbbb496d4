"""PyTorch's complex-number API: the parts of a complex tensor as views (``real``, ``imag``,
``view_as_real``, ``view_as_complex``), assembling one (``complex``, ``polar``), its conjugate
(``conj``, ``adjoint``, ``Tensor.H``/``mH``), ``angle`` and ``sgn``; on real tensors the
identity or a transpose where PyTorch's are.

``conj`` is eager: it returns the conjugated values in a new tensor (PyTorch's
``conj_physical``), never a lazy view, so ``is_conj()`` is always ``False`` and
``resolve_conj()`` returns its input. Values are PyTorch's; what differs is that writing into a
conjugate does not reach the tensor it was taken from.

Gradients follow PyTorch's convention: the gradient of a real loss with respect to a complex
tensor is the conjugate Wirtinger derivative, ``dL/dx + i dL/dy``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from .. import dtypes
from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd.function import Function
from ..tensor import Tensor
from ..type_names import type_name
from . import complex_math
from .arithmetic import where
from .dtype_support import TORCH_NAMES, not_implemented
from .movement import broadcast_shapes
from .operands import sum_to, tensor_input, tensor_input_checked
from .out_argument import FOUND_DTYPE_OUT, SCALAR_TYPE_OUT, write_out
from .result_layout import in_operands_layout

__all__ = [
    "real", "imag", "conj", "conj_physical", "resolve_conj", "resolve_neg", "is_conj", "is_neg", "adjoint",
    "view_as_real", "view_as_complex", "complex", "polar", "angle",
]  # fmt: skip

_builtin_complex = complex


class _Real(Function):
    @staticmethod
    def forward(ctx, z):
        ctx.dtype = z.dtype
        return z._view_of(z._backend.xp.real(z._data), lambda base: base.real)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.dtype)


class _Imag(Function):
    @staticmethod
    def forward(ctx, z):
        return z._view_of(z._backend.xp.imag(z._data), lambda base: base.imag)

    @staticmethod
    def backward(ctx, grad):
        return complex(grad.new_zeros(()).expand(grad.shape), grad)


class _Conj(Function):
    @staticmethod
    def forward(ctx, z):
        backend = z._backend
        data = backend.xp.conj(z._data)
        if not data.size:  # PyTorch's lazy conjugate is a view: an empty one keeps the input's strides too
            try:
                data = backend.as_strided(data, tuple(data.shape), z.stride(), 0)
            except NotImplementedError:  # a backend without strided views
                pass
        return z._make(data)

    @staticmethod
    def backward(ctx, grad):
        return grad.conj()


@tensor_input
def real(input: Tensor) -> Tensor:
    """The real part of ``input``: for a complex tensor a view (writes through it reach
    ``input``); a real tensor is its own real part (the same tensor).

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> z = ember.tensor([1 + 2j, 2 - 3j])
        >>> ember.real(z)
        tensor([1., 2.])
        >>> z.real[1] = 5.0
        >>> z
        tensor([1.+2.j, 5.-3.j])
    """
    return _Real.apply(input) if input.dtype.is_complex else input


@tensor_input
def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor, as a view (writes through it reach ``input``).

    Args:
        input (Tensor): a complex tensor.

    Raises:
        RuntimeError: for a real tensor, as PyTorch.

    Example::

        >>> ember.imag(ember.tensor([1 + 2j, -3j]))
        tensor([ 2., -3.])
        >>> ember.imag(ember.tensor([1.0]))
        Traceback (most recent call last):
        RuntimeError: imag is not implemented for tensors with non-complex dtypes.
    """
    if not input.dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _Imag.apply(input)


@tensor_input
def conj(input: Tensor) -> Tensor:
    """The complex conjugate of ``input``, computed eagerly into a new tensor (see the module
    notes); a real tensor is its own conjugate (the same tensor).

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.tensor([1 + 2j, -3j]).conj()
        tensor([1.-2.j, -0.+3.j])
        >>> x = ember.tensor([1.0, -2.0])
        >>> x.conj() is x
        True
    """
    return _Conj.apply(input) if input.dtype.is_complex else input


def conj_physical(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The complex conjugate, materialised (the same as :func:`conj` in ember); for a real
    tensor, the tensor itself.

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.conj_physical(ember.tensor([1 + 2j]))
        tensor([1.-2.j])
        >>> x = ember.tensor([1.0, -2.0])
        >>> ember.conj_physical(x) is x
        True
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("conj_physical", conj(input), out, exact_dtype=FOUND_DTYPE_OUT)
    return conj(input)


@tensor_input_checked
def resolve_conj(input: Tensor) -> Tensor:
    """``input`` with a lazy conjugation carried out; ember's conjugates are eager, so the same tensor.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> x = ember.tensor([1 + 1j]).conj()
        >>> x.resolve_conj() is x
        True
    """
    return input


@tensor_input_checked
def resolve_neg(input: Tensor) -> Tensor:
    """``input`` with a lazy negation carried out; ember keeps none (the same tensor).

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> x = ember.tensor([1.0])
        >>> x.resolve_neg() is x
        True
    """
    return input


@tensor_input_checked
def is_conj(input: Tensor) -> bool:
    """Whether ``input`` carries a lazy conjugation: never in ember, whose conjugates are eager.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.is_conj(ember.tensor([1 + 1j]).conj())
        False
    """
    return False


@tensor_input_checked
def is_neg(input: Tensor) -> bool:
    """Whether ``input`` carries a lazy negation: never in ember.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.is_neg(ember.tensor([1.0]))
        False
    """
    return False


class _ViewAsReal(Function):
    @staticmethod
    def forward(ctx, z):
        backend = z._backend
        native = backend.native_dtype(z.dtype.to_real())
        return z._view_of(backend.view_as_real(z._data, native), view_as_real)

    @staticmethod
    def backward(ctx, grad):
        return view_as_complex(grad.contiguous())


class _ViewAsComplex(Function):
    @staticmethod
    def forward(ctx, x):
        backend = x._backend
        native = backend.native_dtype(x.dtype.to_complex())
        return x._view_of(backend.view_as_complex(x._data, native), view_as_complex)

    @staticmethod
    def backward(ctx, grad):
        return view_as_real(grad)


@tensor_input
def view_as_real(input: Tensor) -> Tensor:
    """A real view of the complex ``input``: a last dimension of size 2 holds each element's real
    and imaginary parts (writes through it reach ``input``).

    Args:
        input (Tensor): a complex tensor.

    Raises:
        RuntimeError: for a real tensor.

    Example::

        >>> ember.view_as_real(ember.tensor([1 + 2j, 2 - 3j]))
        tensor([[ 1.,  2.],
                [ 2., -3.]])
    """
    if not input.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _ViewAsReal.apply(input)


@tensor_input
def view_as_complex(input: Tensor) -> Tensor:
    """A complex view of ``input``, whose last dimension (size 2, stride 1) holds real and
    imaginary parts: the inverse of :func:`view_as_real`. As in PyTorch, every other stride and
    the storage offset must be even.

    Args:
        input (Tensor): a float32 or float64 tensor of shape ``(..., 2)``.

    Raises:
        RuntimeError: for another dtype, a last dimension that is not of size 2 and stride 1, or
            odd strides or offset (PyTorch's messages).
        TypeError: for float16, whose complex type (complex32) ember does not have.

    Example::

        >>> x = ember.tensor([[1.0, 2.0], [0.0, -3.0]])
        >>> ember.view_as_complex(x)
        tensor([1.+2.j, 0.-3.j])
    """
    if _amp.active:
        return autocast_call("view_as_complex", view_as_complex, input)
    d = input.dtype
    if d is dtypes.float16:
        d.to_complex()  # raises: no complex32
    if d is not dtypes.float32 and d is not dtypes.float64:
        raise RuntimeError(
            "view_as_complex is only supported for half, float and double tensors, but got a tensor of "
            f"scalar type: {TORCH_NAMES[d]}"
        )
    if input.ndim == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    strides, offset = input.stride(), input.storage_offset()
    if strides[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s in strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if offset % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return _ViewAsComplex.apply(input)


def _check_parts(op: str, first: Tensor, second: Tensor, kernel: str | None = None) -> None:
    """PyTorch's checks of ``complex``/``polar`` operands: two tensors of one floating type
    (``kernel``: the op's kernel, which has no float16 instance where ember has no complex32)."""
    for t in (first, second):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument must be Tensor, not {type_name(t)}")
    if first.dtype not in _PART_TYPES or second.dtype not in _PART_TYPES:
        raise RuntimeError(
            "Expected both inputs to be Half, Float or Double tensors but got "
            f"{TORCH_NAMES[first.dtype]} and {TORCH_NAMES[second.dtype]}"
        )
    if first.dtype is not second.dtype:
        raise RuntimeError(
            f"Expected object of scalar type {TORCH_NAMES[first.dtype]} but got scalar type "
            f"{TORCH_NAMES[second.dtype]} for second argument"
        )
    if kernel is not None and first.dtype is dtypes.float16:
        not_implemented(kernel, first.dtype)
    first.dtype.to_complex()  # raises for float16: no complex32


_PART_TYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


class _Complex(Function):
    @staticmethod
    def forward(ctx, re, im):
        ctx.shapes = re._data.shape, im._data.shape
        backend = re._backend
        xp = backend.xp
        shape = tuple(broadcast_shapes(re._data.shape, im._data.shape))
        parts = xp.stack([xp.broadcast_to(re._data, shape), xp.broadcast_to(im._data, shape)], axis=-1)
        native = backend.view_as_complex(parts, backend.native_dtype(re.dtype.to_complex()))
        if not (backend.is_contiguous(re._data) and backend.is_contiguous(im._data)):  # laid out as one element-wise op
            native = in_operands_layout(backend, native, (re._data, im._data))
        return re._make(native)

    @staticmethod
    def backward(ctx, grad):
        re_shape, im_shape = ctx.shapes
        return sum_to(real(grad), re_shape), sum_to(imag(grad), im_shape)


def complex(real: Tensor, imag: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A001 - PyTorch's name
    """The complex tensor ``real + i * imag``, broadcasting the two parts.

    Args:
        real (Tensor): the real parts, float32 or float64.
        imag (Tensor): the imaginary parts, of the same dtype as ``real``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.complex(ember.tensor([1.0, 2.0]), ember.tensor([3.0, -4.0]))
        tensor([1.+3.j, 2.-4.j])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("complex", complex(real, imag), out, exact_dtype=SCALAR_TYPE_OUT)
    _check_parts("complex", real, imag)
    return _Complex.apply(real, imag)


def polar(abs: Tensor, angle: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002 - PyTorch's argument names
    """The complex tensor with absolute values ``abs`` and angles ``angle``:
    ``abs * cos(angle) + i * abs * sin(angle)``.

    Args:
        abs (Tensor): the absolute values, float32 or float64.
        angle (Tensor): the angles in radians, of the same dtype as ``abs``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.polar(ember.tensor([1.0, 2.0]), ember.tensor([0.0, math.pi / 2]))
        tensor([ 1.0000e+00+0.j, -8.7423e-08+2.j])
    """
    if _amp.active and out is None:
        return autocast_call("polar", polar, abs, angle)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("polar", polar(abs, angle), out, exact_dtype=SCALAR_TYPE_OUT)
    _check_parts("polar", abs, angle, "polar_cpu")
    r, theta = abs.detach(), angle.detach()
    result = complex(r * theta.cos(), r * theta.sin())
    return _Polar.apply(abs, angle, result._data)


class _Polar(Function):
    """The node of ``polar(abs, angle)`` (its values computed already: the native array ``values``, ``z``):
    PyTorch's gradients, ``Re(conj(g) sgn(z))`` for ``abs`` (so -1 times the radial one at a negative ``abs``,
    0 at 0) and ``Re(conj(g) i z)`` for ``angle``."""

    _backward_name = "PolarBackward0"

    @staticmethod
    def forward(ctx, abs, angle, values):  # noqa: A002 - PyTorch's argument names
        z = abs._make(values)
        ctx.save_for_backward(z)
        ctx.save_for_forward(angle, z)
        ctx.shapes = tuple(abs.shape), tuple(angle.shape)
        return z

    @staticmethod
    def jvp(ctx, d_abs, d_angle, _):
        # PyTorch's forward formula: e^(i angle) d_abs + i z d_angle (e^(i angle), not sgn(z), at a negative abs)
        angle, z = ctx.saved_tensors
        return complex(d_abs * angle.cos(), d_abs * angle.sin()) + z * 1j * d_angle

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        g_conj = g.conj()
        g_abs, g_angle = (g_conj * z.sgn()).real, (g_conj * (z * 1j)).real
        return sum_to(g_abs, ctx.shapes[0]), sum_to(g_angle, ctx.shapes[1]), None


class _Angle(Function):
    @staticmethod
    def forward(ctx, x):
        xp = x._backend.xp
        data = x._data
        if x.dtype.is_complex:
            ctx.save_for_backward(x)
            return x._make(xp.atan2(xp.imag(data), xp.real(data)))
        ctx.save_for_backward(None)
        ctx.shape = data.shape
        # PyTorch's angle of a real number: pi below zero, else 0 (also at inf and -0.0); NaN stays
        # NaN. The constants are arrays of the input's type, so that bfloat16 stays bfloat16.
        pi, zero = xp.asarray(math.pi, dtype=data.dtype), xp.zeros((), dtype=data.dtype)
        return x._make(xp.where(xp.isnan(data), data, xp.where(data < 0, pi, zero)))

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        if z is None:
            return grad.new_zeros(ctx.shape)
        # d angle = (x dy - y dx) / |z|^2: the gradient g * i z / |z|^2, 0 at z = 0
        zero = z == 0
        safe = where(zero, z.new_ones(()), z)
        return where(zero, z.new_zeros(()), grad * safe * _builtin_complex(0, 1) / safe.abs().square())


class _ComplexSgn(Function):
    """``z / |z|`` (0 at 0) of a complex tensor."""

    @staticmethod
    def forward(ctx, z):
        backend = z._backend
        xp = backend.xp
        data = z._data
        magnitude = xp.abs(data)
        zero = magnitude == 0
        ctx.save_for_backward(z)
        # each part divided by |z|, as PyTorch's vectorized kernel: sgn(inf+0j) is nan+0j, and a subnormal
        # z keeps its direction (NumPy's complex division by |z| + 0j gave inf+nanj for 1e-320+0j)
        safe = xp.where(zero, 1, magnitude)
        parts = complex_math.from_parts(backend, xp.divide(xp.real(data), safe), xp.divide(xp.imag(data), safe))
        s = xp.where(zero, 0, parts)
        ctx.sgn = z._make(s)
        return z._make(s)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        # the sign again as an op of z (not the forward's raw result), so that double backward sees it vary with z
        s = _ComplexSgn.apply(z) if z.requires_grad else ctx.sgn
        # ds = (dz - s Re(conj(s) dz)) / |z|: the gradient (g - Re(g conj(s)) s) / |z|, 0 at z = 0
        magnitude = z.abs()
        zero = magnitude == 0
        tangent = grad - real(grad * s.conj()) * s
        return where(zero, grad.new_zeros(()), tangent / where(zero, magnitude.new_ones(()), magnitude))


def complex_sgn(input: Tensor) -> Tensor:
    """``input / |input|`` (0 where ``input`` is 0) of a complex tensor: :func:`ember.sgn`'s complex case."""
    return _ComplexSgn.apply(input)


@tensor_input
def angle(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The angle (argument) of each element in radians: ``atan2(imag, real)`` for complex tensors,
    ``pi`` for negative and ``0`` for other real numbers; a real dtype (integers give the default
    floating type).

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.angle(ember.tensor([1j, -1 + 0j, 1 + 1j]))
        tensor([1.5708, 3.1416, 0.7854])
        >>> ember.angle(ember.tensor([-2.0, 0.0, 3.0]))
        tensor([3.1416, 0.0000, 0.0000])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("angle", angle(input), out)
    if input.dtype._category < 2:
        input = input.to(dtypes.get_default_dtype())
    return _Angle.apply(input)


def _matrices(name: str, input: Tensor) -> bool:
    """Whether ``input`` is a 0-d tensor, whose conjugate transposes PyTorch deprecates: they are then
    its conjugate (the tensor itself when real), with a warning. Other tensors below 2-D raise."""
    if input.ndim == 0:
        warnings.warn(
            f"{name if name.endswith('()') else 'Tensor.' + name} is deprecated on 0-D tensors. Consider using x.conj().",
            UserWarning,
            stacklevel=3,
        )
        return True
    if input.ndim < 2:
        raise RuntimeError(
            f"tensor.{name} is only supported on matrices or batches of matrices. Got {input.ndim}-D tensor."
        )
    return False


@tensor_input
def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (a view); for a real tensor, the transpose.

    Args:
        input (Tensor): a matrix or a batch of matrices.

    Example::

        >>> ember.adjoint(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor([[1., 3.],
                [2., 4.]])
    """
    if _matrices("adjoint()", input):
        return conj(input)
    return conj(input.transpose(-2, -1))


def _mH(self: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (a view); for a real tensor, ``mT``.

    Example::

        >>> ember.zeros(2, 3, 4).mH.shape
        ember.Size([2, 4, 3])
    """
    if _matrices("mH", self):
        return conj(self)
    return conj(self.transpose(-2, -1))


def _H(self: Tensor) -> Tensor:
    """The conjugate transpose of a matrix (a view); for a real matrix, ``t()``.

    Example::

        >>> ember.zeros(2, 3).H.shape
        ember.Size([3, 2])
    """
    if self.ndim == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().", UserWarning, stacklevel=2)
        return conj(self)
    if self.ndim != 2:
        hint = " For batches of matrices, consider using tensor.mH" if self.ndim > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor.{hint}")
    return conj(self.transpose(0, 1))


def _real_property(self: Tensor) -> Tensor:
    """The real part, a view for a complex tensor; a real tensor is its own real part (the same tensor).

    Example::

        >>> x = ember.tensor([1.0])
        >>> x.real is x
        True
        >>> ember.tensor([1 + 2j]).real
        tensor([1.])
    """
    return real(self)


def _imag_property(self: Tensor) -> Tensor:
    """The imaginary part of a complex tensor, a view; PyTorch's error for a real tensor.

    Example::

        >>> ember.tensor([1 + 2j]).imag
        tensor([2.])
        >>> ember.tensor([1.0]).imag
        Traceback (most recent call last):
        RuntimeError: imag is not implemented for tensors with non-complex dtypes.
    """
    return imag(self)


def _write_part(part: Tensor, value: Any) -> None:
    """``tensor.real = value`` / ``tensor.imag = value``: ``value`` (a tensor broadcast to the part, or a
    number) copied into the part's view, so into the tensor."""
    if isinstance(value, Tensor):
        part.copy_(value)
    else:
        part.fill_(value)


def _set_real(self: Tensor, value: Any) -> None:
    _write_part(real(self), value)


def _set_imag(self: Tensor, value: Any) -> None:
    _write_part(imag(self), value)


H = property(_H)
mH = property(_mH)
real_property = property(_real_property, _set_real)
imag_property = property(_imag_property, _set_imag)
