"""``ember.amp.GradScaler``: loss scaling for low-precision training, as PyTorch spells it.

The scale is a float32 one-element tensor created on the device of the first output scaled and
the growth tracker an int32 one, both updated by the ops PyTorch's scaler uses
(:func:`ember._amp_foreach_non_finite_check_and_unscale_`, :func:`ember._amp_update_scale_`), so that
the scales, the unscaled gradients and a checkpoint's values are PyTorch's, rounding included.
"""

from __future__ import annotations

import warnings
from collections import abc, defaultdict
from enum import Enum
from typing import TYPE_CHECKING, Any, overload

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .scaler_ops import _amp_foreach_non_finite_check_and_unscale_, _amp_update_scale_

if TYPE_CHECKING:
    from ..optim.optimizer import Optimizer

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    r"""Scales the loss so that small gradients survive low precision, and unscales them
    before the optimizer step; skips steps whose gradients hold inf or NaN.

    Each :meth:`update` multiplies the scale by ``backoff_factor`` if the step was skipped,
    and by ``growth_factor`` after ``growth_interval`` consecutive good steps. The scale is kept
    as a float32 tensor, as PyTorch keeps it (a growth that would overflow float32 is not taken).

    Args:
        device (str): the device type of the gradients. Default: ``"cuda"``
        init_scale (float): the initial scale. Default: ``2.0**16``
        growth_factor (float): factor applied after ``growth_interval`` good steps. Default: 2.0
        backoff_factor (float): factor applied after a step with inf/NaN gradients. Default: 0.5
        growth_interval (int): good steps between growths. Default: 2000
        enabled (bool): with ``False``, every method is a pass-through. Default: ``True``

    Raises:
        AssertionError: if enabled with ``growth_factor <= 1`` or ``backoff_factor >= 1``.

    Examples::

        >>> model = ember.nn.Linear(4, 1)
        >>> opt = ember.optim.SGD(model.parameters(), lr=0.1)
        >>> scaler = ember.amp.GradScaler("cpu")
        >>> with ember.autocast("cpu"):
        ...     loss = model(ember.randn(8, 4)).float().pow(2).mean()
        >>> scaler.scale(loss).backward()
        >>> scaler.step(opt)
        >>> scaler.update()
        >>> scaler.get_scale()
        65536.0
    """

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device
        self._enabled = enabled
        if enabled and device == "cuda":
            from ..cuda.availability import is_available

            if not is_available():
                warnings.warn(
                    "ember.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.", stacklevel=2
                )
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = init_scale
        self._scale: Tensor | None = None  # created by the first scale(), on its output's device
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._growth_tracker: Tensor | None = None
        self._per_optimizer_states: dict[int, dict[str, Any]] = defaultdict(_refresh_per_optimizer_state)

    def _check_scale_growth_tracker(self, funcname: str) -> tuple[Tensor, Tensor]:
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self, device: Any) -> None:
        from ..ops.creation import full

        self._scale = full((), self._init_scale, dtype=dtypes.float32, device=device)
        self._growth_tracker = full((), self._init_growth_tracker, dtype=dtypes.int32, device=device)

    def is_enabled(self) -> bool:
        """Whether this scaler scales."""
        return self._enabled

    @overload
    def scale(self, outputs: Tensor) -> Tensor: ...
    @overload
    def scale(self, outputs: list[Tensor]) -> list[Tensor]: ...
    @overload
    def scale(self, outputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]: ...
    @overload
    def scale(self, outputs: abc.Iterable[Tensor]) -> abc.Iterable[Tensor]: ...
    def scale(self, outputs: Any) -> Any:
        """``outputs`` multiplied by the scale (a float32 0-d tensor, so a 16-bit or float64 output
        keeps its dtype): a tensor, or a list/tuple (of the same type) or other iterable (a lazy
        ``map``) of them, nested.

        Raises:
            ValueError: for an output that is neither a tensor nor an iterable of them.
        """
        if not self._enabled:
            return outputs
        per_device: dict[Any, Tensor] = {}

        def apply_scale(val: Any) -> Any:
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker(val.device)
                assert self._scale is not None
                scale = per_device.get(val.device)
                if scale is None:
                    scale = per_device[val.device] = self._scale.to(device=val.device)
                return val * scale
            if isinstance(val, abc.Iterable):
                iterable = map(apply_scale, val)
                return type(val)(iterable) if isinstance(val, (list, tuple)) else iterable
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def _unscale_grads_(
        self, optimizer: Optimizer, inv_scale: Tensor, found_inf: Tensor, allow_fp16: bool
    ) -> dict[Any, Tensor]:
        """Unscale ``optimizer``'s gradients by ``inv_scale``, one call of the op per device and dtype;
        the found-inf flag of each device."""
        from ..ops.creation import zeros

        groups: dict[Any, dict[Any, list[Tensor]]] = defaultdict(lambda: defaultdict(list))
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if not isinstance(param, Tensor):
                        raise AssertionError(f"expected param to be ember.Tensor, got {type(param).__name__}")
                    if param.grad is None:
                        continue
                    if not allow_fp16 and param.grad.dtype is dtypes.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    if getattr(param.grad, "is_sparse", False):
                        # duplicate indices of float16 values may overflow once summed: check the summed ones
                        if param.grad.dtype is dtypes.float16:
                            param.grad = param.grad.coalesce()
                        to_unscale = param.grad._values()
                    else:
                        to_unscale = param.grad
                    groups[to_unscale.device][to_unscale.dtype].append(to_unscale)
            found: dict[Any, Tensor] = {}
            for device, per_dtype in groups.items():
                flag = found_inf if device == found_inf.device else zeros((), dtype=dtypes.float32, device=device)
                found[device] = flag
                inv = inv_scale.to(device=device)
                for grads in per_dtype.values():
                    _amp_foreach_non_finite_check_and_unscale_(grads, flag, inv)
        return found

    def unscale_(self, optimizer: Optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale (in place) and record whether any is inf/NaN.

        Call it at most once per optimizer between :meth:`update` calls (e.g. before clipping).
        The gradients are multiplied by the float32 reciprocal of the scale (computed in float64);
        a sparse gradient's values are unscaled.

        Raises:
            RuntimeError: when called twice for ``optimizer`` since :meth:`update`, or after :meth:`step`.
            ValueError: for a float16 gradient.
            AssertionError: before any :meth:`scale`.
        """
        if not self._enabled:
            return
        scale, _ = self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        from ..ops.creation import zeros

        inv_scale = scale.double().reciprocal().float()
        found_inf = zeros((), dtype=dtypes.float32, device=scale.device)
        found = self._unscale_grads_(optimizer, inv_scale, found_inf, self._unscales_float16)
        state["found_inf_per_device"] = self._combined_found_inf(found, found_inf)
        state["stage"] = OptState.UNSCALED

    #: whether float16 gradients may be unscaled (PyTorch's GradScaler refuses them: they are the
    #: half-precision weights' own gradients, which a scaler cannot protect)
    _unscales_float16 = False

    def _combined_found_inf(self, found: dict[Any, Tensor], found_inf: Tensor) -> dict[Any, Tensor]:
        """The found-inf flags per device that :meth:`step` reads (``found_inf`` is the zero flag a
        device without gradients would have): this scaler's own."""
        return found

    def step(self, optimizer: Optimizer, *args: Any, **kwargs: Any) -> Any:
        """Unscale (unless :meth:`unscale_` already did) and run ``optimizer.step`` unless a
        gradient is inf/NaN; returns what ``optimizer.step`` returned, or None when skipped.

        Raises:
            RuntimeError: with a ``closure``, or when called twice since :meth:`update`.
            AssertionError: before any :meth:`scale`, or when ``optimizer`` has no gradient at all.
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not sum(v.item() for v in state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Update the scale from the steps since the last update (see :func:`ember._amp_update_scale_`),
        or set it to ``new_scale`` (a float, or a one-element tensor on the scaler's device type that
        does not require grad; its value is copied).

        Raises:
            AssertionError: before any :meth:`scale`, with no step or unscale since the last update,
                or for a ``new_scale`` tensor of another device type, size, or that requires grad.
        """
        if not self._enabled:
            return
        scale, growth_tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.fill_(new_scale)
            else:
                reason = (
                    "new_scale should be a float or a 1-element ember.cuda.FloatTensor or ember.FloatTensor "
                    "with requires_grad=False."
                )
                if not isinstance(new_scale, Tensor):
                    raise AttributeError(f"'{type(new_scale).__name__}' object has no attribute 'device'")
                if new_scale.device.type != self._device:
                    raise AssertionError(reason)
                if new_scale.numel() != 1:
                    raise AssertionError(reason)
                if new_scale.requires_grad:
                    raise AssertionError(reason)
                with no_grad():
                    scale.copy_(new_scale)
        else:
            found_infs = [
                found_inf.to(device=scale.device)
                for state in self._per_optimizer_states.values()
                for found_inf in state["found_inf_per_device"].values()
            ]
            if len(found_infs) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            combined = found_infs[0]
            for other in found_infs[1:]:
                combined = combined + other
            _amp_update_scale_(
                scale, growth_tracker, combined, self._growth_factor, self._backoff_factor, self._growth_interval
            )
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _get_scale_async(self) -> Tensor | None:
        return self._scale

    def get_scale(self) -> float:
        """The current scale (``init_scale`` as given before the first :meth:`scale`; 1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self) -> float:
        """The scale growth factor."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the scale growth factor."""
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        """The scale backoff factor."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the scale backoff factor."""
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        """The number of good steps between growths."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set the number of good steps between growths."""
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else int(self._growth_tracker.item())

    def state_dict(self) -> dict[str, Any]:
        """The scale, the growth settings and the growth tracker, under PyTorch's keys (empty when
        disabled), so that a checkpoint round-trips between the two."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._get_growth_tracker(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` (a no-op when disabled).

        Raises:
            RuntimeError: for an empty dict (saved from a disabled scaler).
            KeyError: for a missing key.
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler."
            )
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError(
                    "A GradScaler instance may only be pickled at the beginning "
                    "of an iteration, or at the end after scaler.update()."
                )
            # the unpickled scaler creates its tensors again on its first scale()
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _found_inf_per_device(self, optimizer: Optimizer) -> dict[Any, Tensor]:
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]
