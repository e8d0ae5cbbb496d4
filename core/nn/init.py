"""``nn.init``: weight initialisation schemes, each filling a tensor in place under ``no_grad``.

The in-place functions end in ``_`` (``xavier_uniform_``); the seed's names without the
underscore (``xavier_uniform``) still work and warn, as in PyTorch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops.creation import eye as _eye
from ..ops.creation import randperm
from ..tensor import tensor as _tensor

if TYPE_CHECKING:
    from ..random import Generator
    from ..tensor import Tensor

_P = ParamSpec("_P")
_R = TypeVar("_R")

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "sparse_",
    "uniform",
    "normal",
    "constant",
    "eye",
    "dirac",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "sparse",
]

_LINEAR_FNS = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended gain for a nonlinearity.

    ================= ====================================================
    nonlinearity      gain
    ================= ====================================================
    Linear / Identity :math:`1`
    Conv{1,2,3}D      :math:`1`
    Sigmoid           :math:`1`
    Tanh              :math:`\frac{5}{3}`
    ReLU              :math:`\sqrt{2}`
    Leaky Relu        :math:`\sqrt{\frac{2}{1 + \text{negative\_slope}^2}}`
    SELU              :math:`\frac{3}{4}`
    ================= ====================================================

    Args:
        nonlinearity: the non-linear function (``nn.functional`` name).
        param: optional parameter of the function (``leaky_relu``'s negative slope,
            default 0.01).

    Example::

        >>> nn.init.calculate_gain("leaky_relu", 0.2)
        1.3867504905630728
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight: dims 1 and 0 times the receptive field (dims 2+)."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.size(1) * receptive, tensor.size(0) * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid = ["fan_in", "fan_out"]
    if mode not in valid:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    r"""Fill ``tensor`` with values drawn from :math:`\mathcal{U}(a, b)`.

    Args:
        tensor: an n-dimensional tensor.
        a: the lower bound. Default: 0.
        b: the upper bound. Default: 1.
        generator: the generator to sample from. Default: the global one.

    Example::

        >>> w = ember.empty(3, 5)
        >>> nn.init.uniform_(w).shape
        ember.Size([3, 5])
    """
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    r"""Fill ``tensor`` with values drawn from :math:`\mathcal{N}(\text{mean}, \text{std}^2)`.

    Args:
        tensor: an n-dimensional tensor.
        mean: the mean. Default: 0.
        std: the standard deviation. Default: 1.
        generator: the generator to sample from. Default: the global one.
    """
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator | None = None,
) -> Tensor:
    r"""Fill ``tensor`` with values from :math:`\mathcal{N}(\text{mean}, \text{std}^2)` truncated to
    :math:`[a, b]`, by rejection as PyTorch samples it (so the same seed gives PyTorch's values):

    * where more than 30% of the normal's mass lies in :math:`[a, b]`, normal samples are drawn
      and those outside the bounds drawn again until none is;
    * otherwise uniform candidates in :math:`[a, b]` are kept with the probability of their density
      relative to its peak in :math:`[a, b]`, the others drawn again.

    Args:
        tensor: an n-dimensional tensor.
        mean: the mean of the normal distribution. Default: 0.
        std: its standard deviation. Default: 1.
        a: the minimum cutoff value. Default: -2.
        b: the maximum cutoff value. Default: 2.
        generator: the generator to sample from. Default: the global one.

    Example::

        >>> w = nn.init.trunc_normal_(ember.empty(3, 5), std=0.02, a=-0.04, b=0.04)
        >>> bool((w.abs() <= 0.04).all())
        True
    """

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    if tensor.is_meta:  # no values to draw, nor to test against the bounds
        return tensor
    with no_grad():
        if norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3:
            _normal_within_(tensor, mean, std, a, b, generator)
        else:
            _uniform_by_density_(tensor, mean, std, a, b, generator)
        return tensor


def _normal_within_(tensor: Tensor, mean: float, std: float, a: float, b: float, generator: Generator | None) -> None:
    """Normal samples, those outside ``[a, b]`` (the bounds in the tensor's dtype) drawn again."""
    low, high = tensor.new_tensor(a, device="cpu").item(), tensor.new_tensor(b, device="cpu").item()
    tensor.normal_(mean, std, generator=generator)
    outside = (tensor < low) | (tensor > high)
    while outside.any():
        tensor.copy_(tensor.where(~outside, tensor.new_empty(tensor.shape).normal_(mean, std, generator=generator)))
        outside = (tensor < low) | (tensor > high)


def _uniform_by_density_(
    tensor: Tensor, mean: float, std: float, a: float, b: float, generator: Generator | None
) -> None:
    """Uniform candidates in ``[a, b]`` kept where ``log(u) <= log(density / peak density)``."""
    peak = max(a, min(mean, b))
    log_peak = -0.5 * ((peak - mean) / std) ** 2

    def log_relative_density(x: Tensor) -> Tensor:
        return (x - mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)

    tensor.uniform_(a, b, generator=generator)
    pending = tensor.new_empty(tensor.shape).uniform_(generator=generator).log_() > log_relative_density(tensor.clone())
    while pending.any():
        candidates = tensor.new_empty(tensor.shape).uniform_(a, b, generator=generator)
        tensor.copy_(tensor.where(~pending, candidates))
        rejected = tensor.new_empty(tensor.shape).uniform_(generator=generator).log_() > log_relative_density(
            candidates
        )
        pending = pending & rejected


def constant_(tensor: Tensor, val: float) -> Tensor:
    r"""Fill ``tensor`` with the value ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    r"""Fill ``tensor`` with ones."""
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    r"""Fill ``tensor`` with zeros."""
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    r"""Fill the 2-dimensional ``tensor`` with the identity matrix (identity of the inputs in Linear)."""
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        rows, cols = tensor.shape
        return tensor.copy_(_eye(rows, cols, dtype=tensor.dtype, device=tensor.device))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    r"""Fill the {3, 4, 5}-dimensional ``tensor`` with the Dirac delta function.

    Preserves the identity of the inputs in convolutional layers, as many input channels
    as possible; with ``groups > 1`` each group of output channels does so.

    Args:
        tensor: a {3, 4, 5}-dimensional tensor.
        groups: number of groups in the conv layer. Default: 1.
    """
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.size()
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    centre = tuple(s // 2 for s in sizes[2:])
    with no_grad():
        tensor.zero_()
        for g in range(groups):
            for d in range(min(out_per_group, sizes[1])):
                tensor[(g * out_per_group + d, d, *centre)] = 1
    return tensor


def _xavier_std(tensor: Tensor, gain: float) -> float:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    r"""Fill ``tensor`` from :math:`\mathcal{U}(-a, a)` with
    :math:`a = \text{gain} \times \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}` (Glorot & Bengio, 2010).

    Args:
        tensor: an n-dimensional tensor (n >= 2).
        gain: an optional scaling factor. Default: 1.
        generator: the generator to sample from. Default: the global one.
    """
    std = _xavier_std(tensor, gain)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    r"""Fill ``tensor`` from :math:`\mathcal{N}(0, \text{std}^2)` with
    :math:`\text{std} = \text{gain} \times \sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}}`.

    Args:
        tensor: an n-dimensional tensor (n >= 2).
        gain: an optional scaling factor. Default: 1.
        generator: the generator to sample from. Default: the global one.
    """
    std = _xavier_std(tensor, gain)
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    r"""Fill ``tensor`` from :math:`\mathcal{U}(-\text{bound}, \text{bound})` with
    :math:`\text{bound} = \text{gain} \times \sqrt{\frac{3}{\text{fan\_mode}}}` (He et al., 2015).

    Args:
        tensor: an n-dimensional tensor (n >= 2).
        a: the negative slope of the rectifier after this layer (``leaky_relu`` only). Default: 0.
        mode: ``'fan_in'`` (preserves the forward variance) or ``'fan_out'`` (the backward). Default: ``'fan_in'``.
        nonlinearity: the non-linear function (``nn.functional`` name). Default: ``'leaky_relu'``.
        generator: the generator to sample from. Default: the global one.
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    r"""Fill ``tensor`` from :math:`\mathcal{N}(0, \text{std}^2)` with
    :math:`\text{std} = \frac{\text{gain}}{\sqrt{\text{fan\_mode}}}` (He et al., 2015).

    Args: as :func:`kaiming_uniform_`.
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Generator | None = None) -> Tensor:
    r"""Fill ``tensor`` with a (semi) orthogonal matrix (Saxe et al., 2013).

    Dimensions after the first are flattened. The QR decomposition of a Gaussian matrix
    runs on the host; the signs are corrected with the diagonal of R, as in PyTorch.

    Args:
        tensor: an n-dimensional tensor (n >= 2).
        gain: an optional scaling factor. Default: 1.
        generator: the generator to sample from. Default: the global one.
    """
    if tensor.ndimension() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0 or tensor.is_meta:  # nothing to fill
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    with no_grad():
        sample = tensor.new_empty((rows, cols)).normal_(0, 1, generator=generator)
        flat = np.asarray(sample._backend.to_host(sample._data), dtype=np.float64)
        if rows < cols:
            flat = flat.T
        q: Any
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        q = _tensor(np.ascontiguousarray(q), dtype=tensor.dtype, device=tensor.device)
        tensor.copy_(q.reshape(tensor.shape))
        tensor.mul_(gain)
    return tensor


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Generator | None = None) -> Tensor:
    r"""Fill the 2-dimensional ``tensor`` as a sparse matrix: in each column a fraction
    ``sparsity`` of the entries is zero, the rest are drawn from :math:`\mathcal{N}(0, \text{std}^2)`
    (Martens, 2010).

    Args:
        tensor: a 2-dimensional tensor.
        sparsity: the fraction of elements in each column to be set to zero.
        std: the standard deviation of the non-zero values. Default: 0.01.
        generator: the generator to sample from. Default: the global one.
    """
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        for col in range(cols):
            zero_rows = randperm(rows, generator=generator, device=tensor.device)[:num_zeros]
            tensor[zero_rows, col] = 0
    return tensor


def _make_deprecate(meth: Callable[_P, _R]) -> Callable[_P, _R]:
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.", FutureWarning, stacklevel=2
        )
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"{old_name}(...): deprecated, use :func:`{new_name}`."
    deprecated_init.__name__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
