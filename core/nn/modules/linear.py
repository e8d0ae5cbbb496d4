"""Linear layers: ``nn.Identity``, ``nn.Linear``, ``nn.Bilinear``, ``nn.Flatten``, ``nn.Unflatten``."""

from __future__ import annotations

import math
from typing import Any

from ...autograd.grad_mode import no_grad
from ...layout import contiguous_format
from ...ops.creation import empty, empty_like
from ...tensor import Tensor
from ...unstrided import is_strided
from .. import functional as F
from .. import init
from ..common_types import _device_t, _dtype_t
from ..parameter import Parameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear", "Flatten", "Unflatten"]


def _optional_bias(module, bias, size, device, dtype):
    """Give ``module`` a learnable ``bias`` of ``size`` when ``bias``; otherwise register it as ``None``."""
    if bias:
        module.bias = Parameter(empty(size, device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)


def _reset_kaiming(module, layout_free=False):
    """PyTorch's default for a layer with a fan-in: a Kaiming-uniform weight (``a=sqrt(5)``) and
    a bias uniform in ``±1/sqrt(fan_in)`` (zero when the fan-in is 0). ``layout_free`` (PyTorch's
    convolutions): a weight that is not row-major is drawn row-major and copied in, so that a
    channels-last layer starts from the numbers a row-major one does."""
    if layout_free and not module.weight.is_contiguous():
        drawn = init.kaiming_uniform_(empty_like(module.weight, memory_format=contiguous_format), a=math.sqrt(5))
        with no_grad():
            module.weight.copy_(drawn)
    else:
        init.kaiming_uniform_(module.weight, a=math.sqrt(5))
    if module.bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(module.weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(module.bias, -bound, bound)


class Identity(Module):
    r"""A placeholder that returns its input unchanged; accepts and ignores any arguments.

    Example::

        >>> m = nn.Identity(54, unused_argument1=0.1)
        >>> m(ember.randn(128, 20)).size()
        ember.Size([128, 20])
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    r"""Applies :math:`y = x A^T + b`.

    Args:
        in_features (int): size of each input sample.
        out_features (int): size of each output sample.
        bias (bool): learn an additive bias. Default: ``True``

    Shape:
        - Input: :math:`(*, H_{in})` with :math:`H_{in} = \text{in\_features}`.
        - Output: :math:`(*, H_{out})` with :math:`H_{out} = \text{out\_features}`.

    Attributes:
        weight: :math:`(\text{out\_features}, \text{in\_features})`, initialised from
            :math:`U(-\sqrt{k}, \sqrt{k})`, :math:`k = 1/\text{in\_features}`.
        bias: :math:`(\text{out\_features})`, same initialisation.

    Example::

        >>> m = nn.Linear(20, 30)
        >>> m(ember.randn(128, 20)).size()
        ember.Size([128, 30])
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: _device_t = None, dtype: _dtype_t = None
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in_features), device=device, dtype=dtype))
        _optional_bias(self, bias, (out_features,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_kaiming(self)

    def forward(self, input: Tensor) -> Tensor:
        # the check is on tensors only: a tracer's proxy (ember.fx) has no concrete shape to test
        # (read from the data: a subclass's ``__torch_function__`` sees F.linear only, as PyTorch's does)
        shape = input._data.shape if type(input) is Tensor or is_strided(input) else None
        if shape is not None and (len(shape) == 0 or shape[-1] != self.in_features):
            got = shape[-1] if shape else "a 0-d tensor"
            raise RuntimeError(
                f"Linear: expected input with {self.in_features} features (in_features), got {got} "
                f"(input shape {list(shape)})"
            )
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    """The output projection of :class:`MultiheadAttention` (PyTorch's class name, for printing and for
    ``torch.load``'s ``safe_globals`` lists, which name it as ``nn.modules.linear.NonDynamicallyQuantizableLinear``)."""


class Bilinear(Module):
    r"""Applies :math:`y = x_1^T A x_2 + b`.

    Args:
        in1_features (int): size of each first input sample.
        in2_features (int): size of each second input sample.
        out_features (int): size of each output sample.
        bias (bool): learn an additive bias. Default: ``True``

    Shape:
        - Input1: :math:`(*, H_{in1})`; Input2: :math:`(*, H_{in2})`; Output: :math:`(*, H_{out})`.

    Example::

        >>> m = nn.Bilinear(20, 30, 40)
        >>> m(ember.randn(128, 20), ember.randn(128, 30)).size()
        ember.Size([128, 40])
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in1_features, in2_features), device=device, dtype=dtype))
        _optional_bias(self, bias, (out_features,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.in1_features <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features={self.in1_features})")
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Flatten(Module):
    r"""Flattens dimensions ``start_dim`` to ``end_dim`` into one.

    Args:
        start_dim (int): Default: 1
        end_dim (int): Default: -1
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    r"""Expands dimension ``dim`` into ``unflattened_size``.

    Args:
        dim (int): the dimension to unflatten.
        unflattened_size (tuple of int): the new sizes (one may be -1).
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(isinstance(s, int) for s in unflattened_size):
            raise TypeError(
                f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}"
            )
        self.dim = dim
        self.unflattened_size = unflattened_size  # kept as given: its repr shows a list or a Size as such

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
