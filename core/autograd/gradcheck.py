"""Finite-difference checks of gradients: ``gradcheck`` and ``gradgradcheck``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..ops.creation import randn
from ..tensor import Tensor, _new, tensor
from . import forward_ad
from .engine import grad as autograd_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when analytical and numerical gradients disagree."""


def _as_tuple(x: Any) -> tuple[Any, ...]:
    """A tuple of the inputs (or outputs): a list is read as its elements, as PyTorch does."""
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _differentiable_outputs(outputs):
    return [o for o in outputs if o is not None and o.requires_grad]


def _real_coordinates(values: Any) -> np.ndarray:
    """A tensor's values (or a NumPy array) as float64 real coordinates, a complex number giving two:
    its real and imaginary parts, side by side, as PyTorch's gradcheck sees a complex tensor."""
    array = values.detach().to("cpu").numpy() if isinstance(values, Tensor) else np.asarray(values)
    if np.iscomplexobj(array):
        array = np.stack([array.real, array.imag], axis=-1)
    return np.asarray(array, dtype=np.float64).reshape(-1)


def _unit_steps(dtype: Any) -> tuple[complex, ...]:
    """The directions of one element's real coordinates: 1, and i for a complex dtype."""
    return (1, 1j) if dtype.is_complex else (1,)


def _numerical_jacobians(fn, inputs, index, eps):
    """d(outputs)/d(inputs[index]) by central differences, one column per real coordinate of the input
    (two for a complex element) and one row per real coordinate of the outputs."""
    x = inputs[index]
    backend = x._backend
    host = np.array(backend.to_host(x._data), dtype=np.complex128 if x.dtype.is_complex else np.float64, copy=True)
    flat = host.reshape(-1)
    columns = []
    for i, step in ((i, step) for i in range(flat.size) for step in _unit_steps(x.dtype)):
        values = []
        for delta in (eps * step, -eps * step):
            original = flat[i]
            flat[i] = original + delta
            perturbed = _new(backend.from_host(host.astype(x.dtype.name), x._device.index), backend, x._device)
            perturbed.requires_grad_(x.requires_grad)
            flat[i] = original
            args = list(inputs)
            args[index] = perturbed
            outs = _as_tuple(fn(*args))
            values.append([_real_coordinates(o) for o in outs if o is not None])
        columns.append([(p - m) / (2 * eps) for p, m in zip(*values)])
    # columns[i][k] is d output_k / d x_i; stack into one (out_k.size, x.size) matrix per output
    return [
        np.stack([col[k] for col in columns], axis=1) if columns else None
        for k in range(len(columns[0]) if columns else 0)
    ]


def _analytical_jacobians(outputs, inputs, index):
    """The rows of backward mode: the gradient for a seed 1 (and i, for a complex output) on each output
    element, which (conjugate Wirtinger convention) is the gradient of that element's real (imaginary)
    part: d/dx_re + i d/dx_im."""
    x = inputs[index]
    width = x.numel() * len(_unit_steps(x.dtype))
    jacobians = []
    for out in outputs:
        rows = []
        for j, step in ((j, step) for j in range(out.numel()) for step in _unit_steps(out.dtype)):
            if not out.requires_grad:
                rows.append(np.zeros(width))
                continue
            seed = np.zeros(out.numel(), dtype=np.complex128 if out.dtype.is_complex else np.float64)
            seed[j] = step
            g = tensor(seed.reshape(tuple(out.shape)), dtype=out.dtype, device=out.device)
            (gx,) = autograd_grad([out], [x], [g], retain_graph=True, allow_unused=True)
            rows.append(np.zeros(width) if gx is None else _real_coordinates(gx))
        jacobians.append(np.stack(rows) if rows else np.zeros((0, width)))
    return jacobians


def _forward_jacobians(fn, inputs, index):
    """d(outputs)/d(inputs[index]) by forward mode: one column per input element, from dual tensors."""
    x = inputs[index]
    columns = []
    for i, step in ((i, step) for i in range(x.numel()) for step in _unit_steps(x.dtype)):
        seed = np.zeros(x.numel(), dtype=np.complex128 if x.dtype.is_complex else np.float64)
        seed[i] = step
        with forward_ad.dual_level():
            args = list(inputs)
            args[index] = forward_ad.make_dual(  # still requiring grad: func may differentiate (gradgradcheck)
                x.detach().requires_grad_(), tensor(seed.reshape(tuple(x.shape)), dtype=x.dtype, device=x.device)
            )
            column = []
            for out in _as_tuple(fn(*args)):
                tangent = forward_ad.unpack_dual(out).tangent
                height = out.numel() * len(_unit_steps(out.dtype))
                column.append(np.zeros(height) if tangent is None else _real_coordinates(tangent))
        columns.append(column)
    return [np.stack([col[k] for col in columns], axis=1) for k in range(len(columns[0]) if columns else 0)]


def gradcheck(
    func: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Compare the gradients autograd computes for ``func`` with central finite differences.

    Args:
        func: a function of tensors returning a tensor or a tuple of tensors.
        inputs: a tensor or tuple of tensors; those with ``requires_grad`` are checked
            (use float64 for meaningful results). At least one must require grad.
        eps: perturbation size. Default: 1e-6.
        atol, rtol: tolerances. Defaults: 1e-5, 1e-3.
        raise_exception: raise :class:`GradcheckError` on mismatch instead of returning False.
        check_forward_ad: check the Jacobians forward mode (:mod:`ember.autograd.forward_ad`)
            gives. Default: ``False``.
        check_backward_ad: check the Jacobians backward mode gives. Default: ``True``.
        nondet_tol, check_undefined_grad, check_grad_dtypes, check_batched_grad, check_batched_forward_grad, fast_mode, masked: PyTorch's further checks and modes,
            accepted for its programs; ember's check is the full (slow mode) Jacobian comparison.

    Returns:
        True if every gradient matches.

    Example::

        >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        >>> ember.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
        True
        >>> ember.autograd.gradcheck(lambda t: t.sin(), (x,), check_forward_ad=True)
        True
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    inputs = _as_tuple(inputs)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them have requires_grad=True."
        )

    def floating(*args: Any) -> tuple[Tensor, ...]:
        """The outputs the Jacobians are of: the floating-point and complex tensors ``func`` returns."""
        return tuple(
            o
            for o in _as_tuple(func(*args))
            if isinstance(o, Tensor) and (o.dtype.is_floating_point or o.dtype.is_complex)
        )

    checked = floating(*inputs)
    for index, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            continue
        numerical = _numerical_jacobians(floating, inputs, index, eps)
        modes = []
        if check_backward_ad:
            modes.append(("Jacobian mismatch", _analytical_jacobians(checked, inputs, index)))
        if check_forward_ad:
            modes.append(("Jacobian computed with forward mode mismatch", _forward_jacobians(floating, inputs, index)))
        for what, analytical in modes:
            for k, (a, n) in enumerate(zip(analytical, numerical)):
                if not np.allclose(a, n, atol=atol, rtol=rtol, equal_nan=True):
                    message = f"{what} for output {k} with respect to input {index},\nnumerical:{n}\nanalytical:{a}\n"
                    if raise_exception:
                        raise GradcheckError(message)
                    return False
    return True


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """Check second derivatives: :func:`gradcheck` applied to the gradient of ``func``.

    Args:
        func, inputs: as for :func:`gradcheck`.
        grad_outputs: the vectors the first backward is taken against; random when None.
        check_fwd_over_rev: check forward mode through the gradient's graph. Default: ``False``.
        check_rev_over_rev: check backward mode through the gradient's graph. Default: ``True``.
        gen_non_contig_grad_outputs, nondet_tol, check_undefined_grad, check_grad_dtypes, check_batched_grad, fast_mode, masked: as for
            :func:`gradcheck`, accepted for PyTorch's programs.

    Example::

        >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        >>> ember.autograd.gradgradcheck(lambda t: t.sin() * t, (x,), check_fwd_over_rev=True)
        True
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    inputs = _as_tuple(inputs)
    outputs = _as_tuple(func(*inputs))
    if grad_outputs is None:
        grad_outputs = tuple(
            randn(o.shape, dtype=o.dtype, device=o.device).requires_grad_() for o in outputs if o.requires_grad
        )
    n_in = len(inputs)

    def first_grads(*args):
        xs, gs = args[:n_in], args[n_in:]
        outs = _differentiable_outputs(_as_tuple(func(*xs)))
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        grads = autograd_grad(outs, wrt, list(gs), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        first_grads,
        inputs + tuple(grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
    )
