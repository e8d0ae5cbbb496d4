"""PyTorch's complex-number API on real tensors, where it is the identity or a transpose: ``real``
(the tensor itself), ``imag`` (an error, as in PyTorch), ``conj``/``conj_physical``/``resolve_conj``/
``resolve_neg`` (the tensor itself), ``is_conj``/``is_neg`` (``False``), and the conjugate
transposes ``adjoint``, ``Tensor.H`` and ``Tensor.mH`` (the transposes ``t()`` and ``mT``).

ember has no complex dtypes, so every tensor is real and these never copy.
"""

from __future__ import annotations

from ..tensor import Tensor
from .out_argument import write_out

__all__ = ["real", "imag", "conj", "conj_physical", "resolve_conj", "resolve_neg", "is_conj", "is_neg", "adjoint"]


def real(input: Tensor) -> Tensor:
    """The real part of ``input``: a real tensor is its own real part (the same tensor).

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> x = ember.tensor([1.0, 2.0])
        >>> ember.real(x) is x
        True
    """
    return input


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor; ember's tensors are real, so this raises
    PyTorch's error for a real tensor.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.imag(ember.tensor([1.0]))
        Traceback (most recent call last):
        RuntimeError: imag is not implemented for tensors with non-complex dtypes.
    """
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def conj(input: Tensor) -> Tensor:
    """The complex conjugate of ``input``: a real tensor is its own conjugate (the same tensor).

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> x = ember.tensor([1.0, -2.0])
        >>> x.conj() is x
        True
    """
    return input


def conj_physical(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The complex conjugate, materialised; for a real tensor, the tensor itself.

    Args:
        input (Tensor): the input tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.tensor([1.0, -2.0])
        >>> ember.conj_physical(x) is x
        True
    """
    if out is not None:
        return write_out("conj_physical", conj_physical(input), out, exact_dtype=True)
    return input


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` with a lazy conjugation carried out; a real tensor has none (the same tensor).

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> x = ember.tensor([1.0])
        >>> x.resolve_conj() is x
        True
    """
    return input


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


def is_conj(input: Tensor) -> bool:
    """Whether ``input`` carries a lazy conjugation: never for a real tensor.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.is_conj(ember.tensor([1.0]))
        False
    """
    return False


def is_neg(input: Tensor) -> bool:
    """Whether ``input`` carries a lazy negation: never in ember.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.is_neg(ember.tensor([1.0]))
        False
    """
    return False


def _matrices(name: str, input: Tensor) -> None:
    if input.ndim < 2:
        raise RuntimeError(
            f"tensor.{name} is only supported on matrices or batches of matrices. Got {input.ndim}-D tensor."
        )


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (a view); for a real tensor, the transpose.

    Args:
        input (Tensor): a matrix or a batch of matrices.

    Example::

        >>> ember.adjoint(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor([[1., 3.],
                [2., 4.]])
    """
    _matrices("adjoint()", input)
    return input.transpose(-2, -1)


def _mH(self: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (a view); for a real tensor, ``mT``.

    Example::

        >>> ember.zeros(2, 3, 4).mH.shape
        ember.Size([2, 4, 3])
    """
    _matrices("mH", self)
    return self.transpose(-2, -1)


def _H(self: Tensor) -> Tensor:
    """The conjugate transpose of a matrix (a view); for a real matrix, ``t()``.

    Example::

        >>> ember.zeros(2, 3).H.shape
        ember.Size([3, 2])
    """
    if self.ndim != 2:
        hint = " For batches of matrices, consider using tensor.mH" if self.ndim > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor.{hint}")
    return self.transpose(0, 1)


def _real_property(self: Tensor) -> Tensor:
    """The real part: a real tensor is its own real part (the same tensor).

    Example::

        >>> x = ember.tensor([1.0])
        >>> x.real is x
        True
    """
    return self


def _imag_property(self: Tensor) -> Tensor:
    """The imaginary part of a complex tensor; ember's tensors are real, so this raises PyTorch's error.

    Example::

        >>> ember.tensor([1.0]).imag
        Traceback (most recent call last):
        RuntimeError: imag is not implemented for tensors with non-complex dtypes.
    """
    return imag(self)


H = property(_H)
mH = property(_mH)
real_property = property(_real_property)
imag_property = property(_imag_property)
