"""QR factorization in LAPACK's compact Householder form: ``geqrf`` computes it, ``orgqr`` forms ``Q`` from it
(:func:`ember.linalg.householder_product`), ``ormqr`` multiplies a matrix by ``Q`` without forming it.

``geqrf`` stores :math:`R` on and above the diagonal of ``a`` and, below it, the vectors :math:`v_i` of the
reflections :math:`H_i = I - \\tau_i v_i v_i^H` (each with an implicit 1 on the diagonal), with
:math:`Q = H_1 H_2 \\cdots H_k`; each reflection is LAPACK's ``larfg`` (:math:`\\beta = -\\mathrm{sign}(
\\mathrm{Re}\\,\\alpha) \\lVert (\\alpha, x) \\rVert`, :math:`\\tau = (\\beta - \\alpha)/\\beta`, :math:`v = x /
(\\alpha - \\beta)`; :math:`\\tau = 0` for a column already reduced), so the factors are LAPACK's, as PyTorch's.
"""

from __future__ import annotations

from typing import Any

from .. import return_types
from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ..type_names import type_name
from .arithmetic import where
from .creation import arange
from .dtype_support import FLOATING, not_implemented
from .linalg_common import lapack_strided
from .linalg_functions import linalg_householder_product
from .movement import stack
from .out_argument import write_out

__all__ = ["geqrf", "orgqr", "ormqr"]


def geqrf(input: Tensor, *, out: Any = None) -> return_types.geqrf:
    """The QR factorization of ``input`` in LAPACK's compact form (see the module docstring): ``(a, tau)``,
    ``a`` holding :math:`R` and the reflectors, ``tau`` ``(*, min(m, n))`` their scales. Not differentiable.

    Args:
        input (Tensor): :math:`(*, m, n)`, floating point.
        out (tuple of Tensors, optional): the output tensors, resized and returned. Default: ``None``.

    Example::

        >>> a, tau = ember.geqrf(ember.tensor([[3.0, 1.0], [4.0, 2.0]]))
        >>> a
        tensor([[-5.0000, -2.2000],
                [ 0.5000,  0.4000]])
        >>> tau
        tensor([1.6000, 0.0000])
        >>> ember.orgqr(a, tau) @ a.triu()
        tensor([[3.0000, 1.0000],
                [4.0000, 2.0000]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("geqrf", geqrf(input), out, exact_dtype=True)
    if _amp.active:
        return autocast_call("geqrf", geqrf, input)
    if not isinstance(input, Tensor):
        raise TypeError(f"geqrf(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    if input.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if input.dtype not in FLOATING and not input.dtype.is_complex:
        not_implemented("geqrf_cpu", input.dtype)
    m, n = input.shape[-2:]
    with no_grad():
        a = input.clone()
        taus = []
        rows = arange(m, device=input.device)
        for k in range(min(m, n)):
            alpha = a[..., k, k]
            below = (rows > k).to(a.dtype)
            x = a[..., :, k] * below
            xnorm = x.abs().square().sum(-1).sqrt()
            reduced = xnorm == 0
            if a.is_complex():
                reduced = reduced & (alpha.imag == 0)
                real = alpha.real
            else:
                real = alpha
            norm = (alpha.abs().square() + xnorm.square()).sqrt()
            beta = -norm.copysign(real)
            tau = where(reduced, 0.0, (beta - alpha) / where(reduced, 1.0, beta))
            scale = where(reduced, 1.0, 1.0 / where(reduced, 1.0, alpha - beta))
            v = x * scale.unsqueeze(-1) + (rows == k).to(a.dtype)  # the reflector, 1 on the diagonal
            # H^H = I - conj(tau) v v^H on the columns right of k
            trailing = a[..., :, k + 1 :]
            product = (v.conj().unsqueeze(-2) @ trailing).squeeze(-2)
            a[..., :, k + 1 :] = trailing - tau.conj()[..., None, None] * v.unsqueeze(-1) * product.unsqueeze(-2)
            a[..., :, k] = where(rows > k, v, a[..., :, k])
            a[..., k, k] = where(reduced, alpha, beta)
            taus.append(tau)
        tau = stack(taus, dim=-1) if taus else a.new_zeros((*input.shape[:-2], 0))
    return return_types.geqrf(lapack_strided(a), tau)  # column-major, as LAPACK's geqrf leaves PyTorch's


def orgqr(input: Tensor, tau: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The first ``n`` columns of :math:`Q` from :func:`geqrf`'s ``(a, tau)``: :func:`ember.linalg.householder_product`
    (``out``: the output tensor, resized and returned).

    Example::

        >>> a, tau = ember.geqrf(ember.tensor([[0.0, 2.0], [1.0, 0.0]]))
        >>> ember.orgqr(a, tau)
        tensor([[ 0., -1.],
                [-1.,  0.]])
    """
    if _amp.active and out is None:
        return autocast_call("orgqr", orgqr, input, tau)
    return linalg_householder_product(input, tau, out=out)


def ormqr(
    input: Tensor, tau: Tensor, other: Tensor, left: bool = True, transpose: bool = False, *, out: Tensor | None = None
) -> Tensor:
    """``other`` multiplied by :math:`Q` (or :math:`Q^H` when ``transpose``) from :func:`geqrf`'s ``(input,
    tau)``, on the left (:math:`Q C`) or on the right (:math:`C Q`), one reflection at a time (``Q`` is not
    formed). Differentiable.

    Args:
        input (Tensor): the reflectors, :math:`(*, mn, k)`, ``mn`` the size of ``other`` that ``Q`` multiplies.
        tau (Tensor): their scales, :math:`(*, \\min(mn, k))`.
        other (Tensor): :math:`(*, m, n)`.
        left (bool): :math:`Q C` rather than :math:`C Q`. Default: ``True``
        transpose (bool): use :math:`Q^H`. Default: ``False``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> A = ember.tensor([[3.0, 1.0], [4.0, 2.0]])
        >>> a, tau = ember.geqrf(A)
        >>> ember.ormqr(a, tau, A, transpose=True)  # Q^T A = R
        tensor([[-5.0000, -2.2000],
                [ 0.0000,  0.4000]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("ormqr", ormqr(input, tau, other, left, transpose), out, exact_dtype=True)
    if _amp.active:
        return autocast_call("ormqr", ormqr, input, tau, other, left, transpose)
    op = "torch.ormqr"
    for name, value in (("input", input), ("tau", tau), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"ormqr(): argument '{name}' must be Tensor, not {type_name(value)}")
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    if other.ndim < 2:
        raise RuntimeError(f"{op}: other must have at least 2 dimensions.")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"{op}: other.shape[{side}] must be equal to input.shape[-2]")
    if tau.ndim != input.ndim - 1:
        raise RuntimeError(
            f"{op}: Expected tau to have one dimension less than input, but got tau.ndim equal to {tau.ndim} and "
            f"input.ndim is equal to {input.ndim}"
        )
    k = tau.shape[-1]
    if k != min(other.shape[side], input.shape[-1]):
        raise RuntimeError(f"{op}: tau.shape[-1] must be equal to min(other.shape[{side}], input.shape[-1])")
    if input.dtype not in FLOATING and not input.dtype.is_complex:
        not_implemented("ormqr_cpu", input.dtype)
    rows = arange(input.shape[-2], device=input.device).unsqueeze(-1)
    # Q C = H_1 (H_2 (... H_k C)); Q^H C = H_k^H (... H_1^H C); C Q = ((C H_1) H_2) ...; C Q^H = ((C H_k^H) ...)
    order = range(k - 1, -1, -1) if left != transpose else range(k)
    result = other
    for i in order:
        v = where(rows > i, input[..., :, i : i + 1], (rows == i).to(input.dtype))  # (*, mn, 1)
        scale = tau[..., i, None, None]
        scale = scale.conj() if transpose else scale
        if left:
            result = result - (scale * v) @ (v.mH @ result)
        else:
            result = result - (result @ v) @ (scale * v.mH)
    return lapack_strided(result)  # column-major, as LAPACK's ormqr leaves PyTorch's
