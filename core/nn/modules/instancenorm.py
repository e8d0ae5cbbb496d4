"""Instance normalization layers."""

from __future__ import annotations

import warnings

from ...tensor import Tensor
from .. import functional as F
from ..common_types import _device_t, _dtype_t
from .batchnorm import _NormBase

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_NormBase):
    no_batch_dim = 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: _device_t = None,
        dtype: _dtype_t = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        # before version 1 (PyTorch 0.4.0) instance norm tracked running stats by default; a state_dict
        # without metadata that holds them, for a module that tracks none, gets PyTorch's explanation
        if local_metadata.get("version", None) is None and not self.track_running_stats:
            stale = [prefix + name for name in ("running_mean", "running_var") if prefix + name in state_dict]
            if stale:
                name = type(self).__name__
                keys = " and ".join(f'"{key}"' for key in stale)
                error_msgs.append(
                    f"Unexpected running stats buffer(s) {keys} for {name} with track_running_stats=False. "
                    "If state_dict is a checkpoint saved before 0.4.0, "
                    f"this may be expected because {name} does not track running stats by default since 0.4.0. "
                    "Please remove these keys from state_dict. If the running stats are actually needed, instead "
                    f"set track_running_stats=True in {name} to enable them. See the documentation of {name} for "
                    "details."
                )
                for key in stale:
                    del state_dict[key]
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def _check_input_dim(self, input):
        n = self.no_batch_dim
        if input.dim() not in (n, n + 1):
            raise ValueError(f"expected {n}D or {n + 1}D input (got {input.dim()}D input)")

    def _apply_instance_norm(self, input):
        return F.instance_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        feature_dim = input.dim() - self.no_batch_dim
        if input.size(feature_dim) != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={feature_dim} to match num_features ({self.num_features}), "
                    f"but got: {input.size(feature_dim)}."
                )
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can silence this warning by "
                "not passing in num_features, which is not used because affine=False",
                stacklevel=2,
            )
        if input.dim() == self.no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


_DOC = r"""Applies Instance Normalization over a {dims}D (unbatched) or {batched}D (batched) input.

    .. math:: y = \frac{{x - \mathrm{{E}}[x]}}{{\sqrt{{\mathrm{{Var}}[x] + \epsilon}}}} * \gamma + \beta

    Mean and (biased) variance are computed per channel of each sample separately. With
    ``track_running_stats=True`` running estimates are kept in training and used in
    evaluation; by default (``False``) sample statistics are used in both.

    Args:
        num_features: :math:`C` from an expected input of size :math:`{shape}`.
        eps: a value added to the denominator for numerical stability. Default: 1e-5
        momentum: the value used for the running_mean and running_var computation. Default: 0.1
        affine: learnable per-channel affine parameters, initialized to ones and zeros.
            Default: ``False``
        track_running_stats: keep running estimates of the mean and variance. Default: ``False``
        bias: learn the additive bias too (with ``affine``). Default: ``True``

    Shape:
        - Input: :math:`{shape}` or :math:`{unbatched}`
        - Output: same shape as input

    Example::

        >>> m = nn.{name}(3, affine=True)
        >>> m(ember.randn{example}).shape
        ember.Size({result})
"""


def _doc(nd):
    """The docstring of ``InstanceNorm{nd}d``."""
    spatial = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
    example = {1: (2, 3, 5), 2: (2, 3, 4, 5), 3: (2, 3, 2, 3, 4)}[nd]
    return _DOC.format(
        dims=nd + 1, batched=nd + 2, shape=f"(N, C, {spatial})", unbatched=f"(C, {spatial})",
        name=f"InstanceNorm{nd}d", example=str(example), result=str(list(example)),
    )  # fmt: skip


class InstanceNorm1d(_InstanceNorm):
    __doc__ = _doc(1)
    no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    __doc__ = _doc(2)
    no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    __doc__ = _doc(3)
    no_batch_dim = 4
