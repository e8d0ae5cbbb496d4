"""Normalization layers: LayerNorm, GroupNorm, LocalResponseNorm, RMSNorm, CrossMapLRN2d."""

from __future__ import annotations

from ...ops.creation import empty
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..common_types import _device_t, _dtype_t, _shape_t
from ..functional.normalization import _normalized_shape
from ..parameter import Parameter
from .linear import _optional_bias
from .module import Module

__all__ = ["LayerNorm", "GroupNorm", "LocalResponseNorm", "RMSNorm", "CrossMapLRN2d"]


def _affine_parameters(module, enabled, shape, bias, device, dtype):
    """Give ``module`` a learnable ``weight`` and (with ``bias``) ``bias`` of ``shape`` when ``enabled``;
    otherwise both are registered as ``None``. :func:`_reset_affine` initialises them."""
    factory = {"device": device, "dtype": dtype}
    if enabled:
        module.weight = Parameter(empty(shape, **factory))
        _optional_bias(module, bias, shape, device, dtype)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module, enabled):
    """Weight to 1 and bias to 0, where ``enabled`` and present."""
    if enabled:
        init.ones_(module.weight)
        if module.bias is not None:
            init.zeros_(module.bias)


class LayerNorm(Module):
    r"""Applies Layer Normalization over the trailing dimensions given by ``normalized_shape``.

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} * \gamma + \beta

    Args:
        normalized_shape (int or list or ember.Size): the trailing shape to normalise over.
        eps: a value added to the denominator for numerical stability. Default: 1e-5
        elementwise_affine: learnable per-element weight (ones) and bias (zeros).
            Default: ``True``
        bias: also learn the additive bias (with ``elementwise_affine``). Default: ``True``

    Shape:
        - Input: :math:`(N, *)`
        - Output: :math:`(N, *)` (same shape as input)

    Example::

        >>> m = nn.LayerNorm([5, 10])
        >>> m(ember.randn(20, 5, 10)).shape
        ember.Size([20, 5, 10])
    """

    def __init__(
        self,
        normalized_shape: _shape_t,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, elementwise_affine, self.normalized_shape, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight to 1 and bias to 0."""
        _reset_affine(self, self.elementwise_affine)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    r"""Applies Root Mean Square Layer Normalization over the trailing dimensions ``normalized_shape``.

    .. math:: y = \frac{x}{\sqrt{\mathrm{E}[x^2] + \epsilon}} * \gamma

    Args:
        normalized_shape (int or list or ember.Size): the trailing shape to normalise over.
        eps: added to the mean square. Default: ``None`` (``ember.finfo(x.dtype).eps``)
        elementwise_affine: a learnable per-element scale (ones). Default: ``True``

    Shape:
        - Input: :math:`(N, *)`
        - Output: :math:`(N, *)` (same shape as input)

    Examples::

        >>> m = nn.RMSNorm([2, 3])
        >>> m(ember.randn(2, 2, 3)).shape
        ember.Size([2, 2, 3])
    """

    def __init__(
        self,
        normalized_shape: _shape_t,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight to 1."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    r"""Applies Group Normalization: channels split into ``num_groups`` groups, each standardised per sample.

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} * \gamma + \beta

    Args:
        num_groups (int): number of groups to separate the channels into.
        num_channels (int): number of channels expected in input; divisible by ``num_groups``.
        eps: a value added to the denominator for numerical stability. Default: 1e-5
        affine: learnable per-channel weight (ones) and bias (zeros). Default: ``True``
        bias: learn the additive bias too (with ``affine``). Default: ``True``

    Shape:
        - Input: :math:`(N, C, *)` where :math:`C = \text{num\_channels}`
        - Output: :math:`(N, C, *)` (same shape as input)

    Example::

        >>> m = nn.GroupNorm(3, 6)
        >>> m(ember.randn(20, 6, 10, 10)).shape
        ember.Size([20, 6, 10, 10])
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: _device_t = None,
        dtype: _dtype_t = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, affine, num_channels, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight to 1 and bias to 0."""
        _reset_affine(self, self.affine)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"


class LocalResponseNorm(Module):
    r"""Applies local response normalization over channels (dimension 1).

    .. math:: b_{c} = a_{c}\left(k + \frac{\alpha}{n} \sum_{c'=\max(0, c-n/2)}^{\min(N-1,c+n/2)}a_{c'}^2\right)^{-\beta}

    Args:
        size: amount of neighbouring channels used for normalization.
        alpha: multiplicative factor. Default: 0.0001
        beta: exponent. Default: 0.75
        k: additive factor. Default: 1

    Shape:
        - Input: :math:`(N, C, *)`
        - Output: :math:`(N, C, *)` (same shape as input)

    Example::

        >>> lrn = nn.LocalResponseNorm(2)
        >>> lrn(ember.randn(32, 5, 24, 24)).shape
        ember.Size([32, 5, 24, 24])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class CrossMapLRN2d(LocalResponseNorm):
    r"""Local response normalization across the channels of a 4-D input, PyTorch's legacy form.

    :math:`b_c = a_c \left(k + \frac{\alpha}{n} \sum_{c'} a_{c'}^2\right)^{-\beta}`, the sum over a
    window of neighbouring channels computed as PyTorch's ``CrossMapLRN2d`` computes it (its
    forward and backward windows included), so that results match PyTorch's exactly.

    Args:
        size: number of neighbouring channels.
        alpha: multiplicative factor. Default: 0.0001
        beta: exponent. Default: 0.75
        k: additive factor. Default: 1

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H, W)`

    Examples::

        >>> m = nn.CrossMapLRN2d(3)
        >>> m(ember.randn(2, 4, 5, 5)).shape
        ember.Size([2, 4, 5, 5])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__(size, alpha, beta, k)

    def forward(self, input: Tensor) -> Tensor:
        return F.cross_map_lrn2d(input, self.size, self.alpha, self.beta, self.k)
