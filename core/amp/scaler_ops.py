"""The two ops :class:`~ember.amp.GradScaler` is made of, as PyTorch exposes them at its top level:
``_amp_foreach_non_finite_check_and_unscale_`` and ``_amp_update_scale_``.

Both work in place on tensors (the scale a float32 one-element tensor, the growth tracker an int32
one), written with ember's own ops so that they run on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

__all__ = ["_amp_foreach_non_finite_check_and_unscale_", "_amp_update_scale_"]

_TORCH_NAMES = {
    dtypes.int64: "Long",
    dtypes.int32: "Int",
    dtypes.int16: "Short",
    dtypes.int8: "Char",
    dtypes.uint8: "Byte",
    dtypes.bool: "Bool",
    dtypes.complex64: "ComplexFloat",
    dtypes.complex128: "ComplexDouble",
}


def _check_one_element(t: Tensor, name: str, dtype: dtypes.dtype, kind: str) -> None:
    if t.numel() != 1:
        raise RuntimeError(f"{name} must be a 1-element tensor.")
    if t.dtype is not dtype:
        raise RuntimeError(f"{name} must be {kind} tensor.")


def _amp_foreach_non_finite_check_and_unscale_(self: Sequence[Tensor], found_inf: Tensor, inv_scale: Tensor) -> None:
    r"""Multiply each tensor of ``self`` by ``inv_scale`` in place, and set ``found_inf`` to 1.0 if
    any of them held an inf or NaN before (``found_inf`` is left as it was otherwise).

    The check looks at the values before they are multiplied, as PyTorch's does: a finite value
    that the multiplication takes past the dtype's range does not count.

    Args:
        self (sequence of Tensor): floating tensors (gradients), unscaled in place.
        found_inf (Tensor): a one-element float32 tensor, the flag.
        inv_scale (Tensor): a one-element float32 tensor, the factor.

    Example::

        >>> grads = [ember.tensor([2.0, 4.0]), ember.tensor([float("inf")])]
        >>> found_inf = ember.zeros(())
        >>> ember._amp_foreach_non_finite_check_and_unscale_(grads, found_inf, ember.tensor(0.5))
        >>> grads[0], found_inf
        (tensor([1., 2.]), tensor(1.))
    """
    _check_one_element(inv_scale, "inv_scale", dtypes.float32, "a float")
    _check_one_element(found_inf, "found_inf", dtypes.float32, "a float")
    with no_grad():
        for t in self:
            if getattr(t, "is_sparse", False):
                raise NotImplementedError(
                    "Could not run 'aten::_amp_foreach_non_finite_check_and_unscale_' with arguments from the "
                    "'SparseCPU' backend: unscale the sparse tensor's _values() instead."
                )
            if not t.dtype.is_floating_point:
                name = _TORCH_NAMES.get(t.dtype, str(t.dtype).replace("ember.", ""))
                raise NotImplementedError(
                    f"\"_amp_foreach_non_finite_check_and_unscale_cpu\" not implemented for '{name}'"
                )
            if t.numel() == 0:
                continue
            non_finite = t.isfinite().logical_not().any()
            found_inf.copy_(found_inf.masked_fill(non_finite, 1.0))
            t.mul_(inv_scale)


def _amp_update_scale_(
    self: Tensor,
    growth_tracker: Tensor,
    found_inf: Tensor,
    scale_growth_factor: float,
    scale_backoff_factor: float,
    growth_interval: int,
) -> Tensor:
    r"""Update the loss scale ``self`` and the count of good steps ``growth_tracker`` in place, as
    :meth:`GradScaler.update <ember.amp.GradScaler.update>` does after each step.

    If ``found_inf`` is nonzero, the scale is multiplied by ``scale_backoff_factor`` and the
    tracker reset to 0. Otherwise the tracker counts one more good step; when it reaches
    ``growth_interval`` the scale is multiplied by ``scale_growth_factor`` (unless that overflows
    float32, when the scale is kept) and the tracker reset. The products are rounded to float32.

    Args:
        self (Tensor): the scale, a one-element float32 tensor.
        growth_tracker (Tensor): a one-element int32 tensor.
        found_inf (Tensor): a one-element float32 tensor, nonzero if the step was skipped.
        scale_growth_factor (float): the growth factor.
        scale_backoff_factor (float): the backoff factor.
        growth_interval (int): good steps between growths.

    Returns:
        ``self``.

    Example::

        >>> scale, tracker = ember.tensor(1024.0), ember.tensor(0, dtype=ember.int32)
        >>> ember._amp_update_scale_(scale, tracker, ember.tensor(1.0), 2.0, 0.5, 100)
        tensor(512.)
    """
    _check_one_element(self, "current_scale", dtypes.float32, "a float")
    _check_one_element(growth_tracker, "growth_tracker", dtypes.int32, "an int")
    _check_one_element(found_inf, "found_inf", dtypes.float32, "a float")
    scale = float(self.item())
    tracker = int(growth_tracker.item())
    with no_grad(), np.errstate(over="ignore"):
        if found_inf.item() != 0:  # NaN counts, as C's truth value of it does
            self.fill_(float(np.float32(scale * scale_backoff_factor)))
            growth_tracker.fill_(0)
        elif tracker + 1 == growth_interval:
            grown = np.float32(scale * scale_growth_factor)
            if np.isfinite(grown):
                self.fill_(float(grown))
            growth_tracker.fill_(0)
        else:
            growth_tracker.fill_(tracker + 1)
    return self
