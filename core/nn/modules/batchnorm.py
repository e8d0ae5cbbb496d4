"""Batch normalization layers (and the base class shared with instance normalization)."""

from __future__ import annotations

from typing import Any

from ... import dtypes
from ...ops.creation import ones, zeros
from ...tensor import Tensor, tensor
from .. import functional as F
from ..common_types import _device_t, _dtype_t
from .module import Module
from .normalization import _affine_parameters, _reset_affine

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _NormBase(Module):
    """Parameters (``weight``, ``bias``) and running statistics shared by batch and instance norm."""

    _version = 2  # version 2 added the num_batches_tracked buffer (PyTorch's numbering)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: _device_t = None,
        dtype: _dtype_t = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, affine, num_features, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, **factory))
            self.register_buffer("running_var", ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # a state_dict older than num_batches_tracked (or one without metadata) may lack it: keep ours
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (
                    self.num_batches_tracked if self.num_batches_tracked is not None else tensor(0, dtype=dtypes.int64)
                )
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def reset_running_stats(self) -> None:
        """Running mean to 0, running variance to 1, ``num_batches_tracked`` to 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics; weight to 1 and bias to 0."""
        self.reset_running_stats()
        _reset_affine(self, self.affine)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    expected_dims: tuple[int, ...] = ()

    def _check_input_dim(self, input):
        if input.dim() not in self.expected_dims:
            expected = " or ".join(f"{d}D" for d in self.expected_dims)
            raise ValueError(f"expected {expected} input (got {input.dim()}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )


_ARGS = r"""
    Args:
        num_features: :math:`C` from an expected input of size :math:`{shape}`.
        eps: a value added to the denominator for numerical stability. Default: 1e-5
        momentum: the value used for the running_mean and running_var computation. Can be
            set to ``None`` for cumulative moving average (i.e. simple average). Default: 0.1
        affine: a boolean value that when set to ``True``, this module has learnable affine
            parameters. Default: ``True``
        track_running_stats: a boolean value that when set to ``True``, this module tracks
            the running mean and variance, and when set to ``False``, this module does not
            track such statistics and always uses batch statistics. Default: ``True``
        bias: learn the additive bias too (with ``affine``). Default: ``True``
"""


class BatchNorm1d(_BatchNorm):
    __doc__ = (
        r"""Applies Batch Normalization over a 2D or 3D input.

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} * \gamma + \beta

    Mean and (biased) variance are computed per channel over the mini-batch in training,
    where the running estimates are updated with ``momentum`` (the running variance from
    the unbiased batch variance); evaluation normalises with the running estimates.
    """
        + _ARGS.format(shape="(N, C, L)")
        + r"""
    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, L)`
        - Output: same shape as input

    Example::

        >>> m = nn.BatchNorm1d(100)
        >>> m(ember.randn(20, 100)).shape
        ember.Size([20, 100])
    """
    )

    expected_dims = (2, 3)


def _spatial_doc(nd, spatial, options, example):
    """The docstring of ``BatchNorm{nd}d`` (2 or 3 spatial dims): ``spatial`` names them;
    the example builds the module with ``options`` and runs it on ``ember.randn(*example)``."""
    shape = f"(N, C, {spatial})"
    return (
        f"""Applies Batch Normalization over a {nd + 2}D input (a mini-batch of {nd}D inputs with channels).

    See :class:`BatchNorm1d` for the computation.
    """
        + _ARGS.format(shape=shape)
        + f"""
    Shape:
        - Input: :math:`{shape}`
        - Output: same shape as input

    Example::

        >>> m = nn.BatchNorm{nd}d(100{options})
        >>> m(ember.randn{example}).shape
        ember.Size({list(example)})
    """
    )


class BatchNorm2d(_BatchNorm):
    __doc__ = _spatial_doc(2, "H, W", ", affine=False", (20, 100, 35, 45))

    expected_dims = (4,)


class BatchNorm3d(_BatchNorm):
    __doc__ = _spatial_doc(3, "D, H, W", "", (2, 100, 3, 4, 5))

    expected_dims = (5,)
