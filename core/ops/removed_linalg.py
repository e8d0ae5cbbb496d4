"""PyTorch's linear-algebra functions removed in its version 1.9 (``matrix_rank``, ``solve``, ``lstsq``,
``eig``, ``symeig``): still names in its namespace, and on the Tensor, that raise a ``RuntimeError`` saying
what replaces them, so that old training code fails with that advice instead of an ``AttributeError``.
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["matrix_rank", "solve", "lstsq", "eig", "symeig"]

_REMOVED = "This function was deprecated since version 1.9 and is now removed."


def _removed(advice: str) -> NoReturn:
    raise RuntimeError(f"{_REMOVED}{advice}")


def matrix_rank(input: Any, tol: Any = None, symmetric: bool = False, *, out: Any = None) -> NoReturn:
    """Removed: raises ``RuntimeError``; use :func:`ember.linalg.matrix_rank` (``symmetric`` is its ``hermitian``).

    Example::

        >>> ember.matrix_rank(ember.eye(2))
        Traceback (most recent call last):
        ...
        RuntimeError: This function was deprecated since version 1.9 and is now removed...
    """
    _removed(
        "\nPlease use the `ember.linalg.matrix_rank` function instead. The parameter 'symmetric' was renamed in "
        "`ember.linalg.matrix_rank()` to 'hermitian'."
    )


def solve(input: Any, A: Any, *, out: Any = None) -> NoReturn:
    """Removed: raises ``RuntimeError``; use :func:`ember.linalg.solve` (arguments reversed: ``solve(A, B)``).

    Example::

        >>> ember.solve(ember.eye(2), ember.eye(2))
        Traceback (most recent call last):
        ...
        RuntimeError: This function was deprecated since version 1.9 and is now removed...
    """
    _removed(
        " `ember.solve` is deprecated in favor of `ember.linalg.solve`. `ember.linalg.solve` has its arguments "
        "reversed and does not return the LU factorization.\n\nTo get the LU factorization see `ember.lu`, which can "
        "be used with `ember.lu_solve` or `ember.lu_unpack`.\nX = ember.solve(B, A).solution should be replaced with:"
        "\nX = ember.linalg.solve(A, B)"
    )


def lstsq(input: Any, A: Any, *, out: Any = None) -> NoReturn:
    """Removed: raises ``RuntimeError``; use :func:`ember.linalg.lstsq` (arguments reversed: ``lstsq(A, B)``).

    Example::

        >>> ember.lstsq(ember.eye(2), ember.eye(2))
        Traceback (most recent call last):
        ...
        RuntimeError: This function was deprecated since version 1.9 and is now removed...
    """
    _removed(
        " `ember.lstsq` is deprecated in favor of `ember.linalg.lstsq`.\n`ember.linalg.lstsq` has reversed arguments "
        "and does not return the QR decomposition in the returned tuple (although it returns other information about "
        "the problem).\n\nTo get the QR decomposition consider using `ember.linalg.qr`.\n\nThe returned solution in "
        "`ember.lstsq` stored the residuals of the solution in the last m - n columns of the returned value whenever "
        "m > n. In ember.linalg.lstsq, the residuals are in the field 'residuals' of the returned named tuple.\n\n"
        "The unpacking of the solution, as in\nX, _ = ember.lstsq(B, A).solution[:A.size(1)]\nshould be replaced "
        "with:\nX = ember.linalg.lstsq(A, B).solution"
    )


def eig(input: Any, eigenvectors: bool = False, *, e: Any = None, v: Any = None) -> NoReturn:
    """Removed: raises ``RuntimeError``; use :func:`ember.linalg.eigvals` or :func:`ember.linalg.eig`.

    Example::

        >>> ember.eig(ember.eye(2))
        Traceback (most recent call last):
        ...
        RuntimeError: This function was deprecated since version 1.9 and is now removed...
    """
    _removed(
        " `ember.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real tensors "
        "mimicking complex tensors.\n\nL, _ = ember.eig(A) should be replaced with:\nL_complex = "
        "ember.linalg.eigvals(A)\n\nand\n\nL, V = ember.eig(A, eigenvectors=True) should be replaced with:\n"
        "L_complex, V_complex = ember.linalg.eig(A)"
    )


def symeig(input: Any, eigenvectors: bool = False, upper: bool = True, *, out: Any = None) -> NoReturn:
    """Removed: raises ``RuntimeError``; use :func:`ember.linalg.eigvalsh` or :func:`ember.linalg.eigh`.

    Example::

        >>> ember.symeig(ember.eye(2))
        Traceback (most recent call last):
        ...
        RuntimeError: This function was deprecated since version 1.9 and is now removed...
    """
    _removed(
        " The default behavior has changed from using the upper triangular portion of the matrix by default to using "
        "the lower triangular portion.\n\nL, _ = ember.symeig(A, upper=upper) should be replaced with:\nL = "
        "ember.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = ember.symeig(A, eigenvectors=True) "
        "should be replaced with:\nL, V = ember.linalg.eigh(A, UPLO='U' if upper else 'L')"
    )
