"""Non-linear activation layers (``nn.ReLU``, ``nn.Softmax``, ...): thin wrappers of :mod:`ember.nn.functional`."""

from __future__ import annotations

import warnings
from collections.abc import Callable

from ...ops.creation import full
from ...tensor import Tensor
from .. import functional as F
from ..common_types import _device_t, _dtype_t
from ..parameter import Parameter
from .attention import MultiheadAttention  # noqa: F401 (PyTorch defines it in nn.modules.activation)
from .module import Module

__all__ = [
    "Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid", "Tanh", "SiLU", "Mish",
    "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU", "Hardshrink", "LeakyReLU", "LogSigmoid", "Softplus",
    "Softshrink", "PReLU", "Softsign", "Tanhshrink", "Softmin", "Softmax", "Softmax2d", "LogSoftmax",
]  # fmt: skip


def _inplace_repr(inplace):
    return ", inplace=True" if inplace else ""


class Threshold(Module):
    r"""Thresholds each element: :math:`y = x` if :math:`x > \text{threshold}`, else ``value``.

    Args:
        threshold (float): the value to threshold at.
        value (float): the value to replace with.
        inplace (bool): do the operation in-place. Default: ``False``

    Shape:
        - Input: :math:`(*)`; Output: same shape.

    Example::

        >>> m = nn.Threshold(0.1, 20)
        >>> output = m(ember.randn(2))
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_repr(self.inplace)}"


class _Inplace(Module):
    """An activation whose only option is ``inplace``."""

    _fn: Callable[..., Tensor] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _Plain(Module):
    """An activation without options."""

    _fn: Callable[..., Tensor] = None  # type: ignore[assignment]  # set by every concrete subclass

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input)


class ReLU(_Inplace):
    r"""Rectified linear unit, element-wise: :math:`\max(0, x)`.

    Args:
        inplace (bool): do the operation in-place. Default: ``False``

    Shape:
        - Input: :math:`(*)`; Output: same shape.

    Example::

        >>> m = nn.ReLU()
        >>> output = m(ember.randn(2))
    """

    _fn = staticmethod(F.relu)


class ReLU6(_Inplace):
    r""":math:`\min(\max(0, x), 6)`, element-wise.

    Args:
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.relu6)


class SELU(_Inplace):
    r"""SELU: :math:`\text{scale} (\max(0,x) + \min(0, \alpha (e^x - 1)))`, :math:`\alpha \approx 1.6733`, :math:`\text{scale} \approx 1.0507`.

    Args:
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.selu)


class SiLU(_Inplace):
    r"""SiLU (swish): :math:`x \sigma(x)`.

    Args:
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.silu)


class Mish(_Inplace):
    r"""Mish: :math:`x \tanh(\text{softplus}(x))`.

    Args:
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.mish)


class Hardsigmoid(_Inplace):
    r"""Hard sigmoid: :math:`\text{relu6}(x + 3) / 6`.

    Args:
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.hardsigmoid)

    def extra_repr(self) -> str:
        return ""  # PyTorch prints Hardsigmoid() even in place


class Hardswish(_Inplace):
    r"""Hard swish: :math:`x \, \text{relu6}(x + 3) / 6`.

    Args:
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.hardswish)

    def extra_repr(self) -> str:
        return ""  # PyTorch prints Hardswish() even in place


class Sigmoid(_Plain):
    r""":math:`1 / (1 + e^{-x})`, element-wise."""

    _fn = staticmethod(F.sigmoid)


class Tanh(_Plain):
    r""":math:`\tanh(x)`, element-wise."""

    _fn = staticmethod(F.tanh)


class LogSigmoid(_Plain):
    r""":math:`\log(1 / (1 + e^{-x}))`, element-wise."""

    _fn = staticmethod(F.logsigmoid)


class Softsign(_Plain):
    r""":math:`x / (1 + |x|)`, element-wise."""

    _fn = staticmethod(F.softsign)


class Tanhshrink(_Plain):
    r""":math:`x - \tanh(x)`, element-wise."""

    _fn = staticmethod(F.tanhshrink)


class RReLU(Module):
    r"""Randomized leaky ReLU: negative slopes drawn from :math:`U(\text{lower}, \text{upper})` in
    training, :math:`(\text{lower} + \text{upper}) / 2` in evaluation.

    Args:
        lower (float): Default: 1/8
        upper (float): Default: 1/3
        inplace (bool): do the operation in-place. Default: ``False``
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}{_inplace_repr(self.inplace)}"


class Hardtanh(Module):
    r"""HardTanh: clamps to ``[min_val, max_val]``.

    Args:
        min_val (float): Default: -1
        max_val (float): Default: 1
        inplace (bool): do the operation in-place. Default: ``False``
        min_value, max_value: deprecated spellings of ``min_val``/``max_val``.

    Example::

        >>> m = nn.Hardtanh(-2, 2)
        >>> output = m(ember.randn(2))
    """

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ) -> None:
        super().__init__()
        if min_value is not None:
            warnings.warn(
                "keyword argument `min_value` is deprecated and rename to `min_val`", FutureWarning, stacklevel=2
            )
            min_val = min_value
        if max_value is not None:
            warnings.warn(
                "keyword argument `max_value` is deprecated and rename to `max_val`", FutureWarning, stacklevel=2
            )
            max_val = max_value
        if max_val <= min_val:  # PyTorch's assertion (the functional form raises ValueError)
            raise AssertionError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_repr(self.inplace)}"


class ELU(Module):
    r"""ELU: :math:`\max(0,x) + \min(0, \alpha (e^x - 1))`.

    Args:
        alpha (float): Default: 1.0
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.elu)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_repr(self.inplace)}"


class CELU(ELU):
    r"""CELU: :math:`\max(0,x) + \min(0, \alpha (e^{x/\alpha} - 1))`.

    Args:
        alpha (float): Default: 1.0
        inplace (bool): do the operation in-place. Default: ``False``
    """

    _fn = staticmethod(F.celu)


class GLU(Module):
    r"""Gated linear unit :math:`a \otimes \sigma(b)` of the halves of the input along ``dim``.

    Args:
        dim (int): the dimension to split. Default: -1
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GELU(Module):
    r"""GELU: :math:`x \Phi(x)`, or its tanh approximation.

    Args:
        approximate (str): ``'none'`` | ``'tanh'``. Default: ``'none'``
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Hardshrink(Module):
    r"""Hard shrinkage: ``x`` where :math:`|x| > \lambda`, else 0.

    Args:
        lambd (float): Default: 0.5
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    r"""Soft shrinkage: :math:`x \mp \lambda` outside :math:`[-\lambda, \lambda]`, else 0.

    Args:
        lambd (float): Default: 0.5
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)


class LeakyReLU(Module):
    r""":math:`\max(0, x) + \text{negative\_slope} \min(0, x)`.

    Args:
        negative_slope (float): Default: 1e-2
        inplace (bool): do the operation in-place. Default: ``False``

    Example::

        >>> m = nn.LeakyReLU(0.1)
        >>> output = m(ember.randn(2))
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_repr(self.inplace)}"


class Softplus(Module):
    r""":math:`\frac{1}{\beta} \log(1 + e^{\beta x})`, linear above ``threshold``.

    Args:
        beta (float): Default: 1
        threshold (float): Default: 20
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class PReLU(Module):
    r""":math:`\max(0,x) + a \min(0,x)` with learnable :math:`a` (one, or one per channel).

    Args:
        num_parameters (int): number of :math:`a` to learn (1 or the channel count). Default: 1
        init (float): initial value of :math:`a`. Default: 0.25

    Attributes:
        weight (Tensor): the slopes, shape ``(num_parameters)``.

    Example::

        >>> m = nn.PReLU()
        >>> output = m(ember.randn(2))
    """

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: _device_t = None, dtype: _dtype_t = None
    ) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(full((num_parameters,), float(init), device=device, dtype=dtype))

    def reset_parameters(self) -> None:
        self.weight.data.fill_(self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class _SoftmaxBase(Module):
    _fn: Callable[..., Tensor] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(_SoftmaxBase):
    r"""Softmin along ``dim``: :math:`\exp(-x_i) / \sum_j \exp(-x_j)`.

    Args:
        dim (int): the dimension whose slices sum to 1. Default: ``None`` (implicit, with a warning)
    """

    _fn = staticmethod(F.softmin)


class Softmax(_SoftmaxBase):
    r"""Softmax along ``dim``: :math:`\exp(x_i) / \sum_j \exp(x_j)`.

    Args:
        dim (int): the dimension whose slices sum to 1. Default: ``None`` (implicit, with a warning)

    Example::

        >>> m = nn.Softmax(dim=1)
        >>> output = m(ember.randn(2, 3))
    """

    _fn = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxBase):
    r""":math:`\log(\text{softmax}(x))` along ``dim``.

    Args:
        dim (int): the dimension. Default: ``None`` (implicit, with a warning)
    """

    _fn = staticmethod(F.log_softmax)


class Softmax2d(Module):
    r"""Softmax over the channels of a :math:`(N, C, H, W)` or :math:`(C, H, W)` input at each location."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3, _stacklevel=5)
