"""``QuantStub``, ``DeQuantStub`` and ``QuantWrapper``: the places where a float model's tensors are to be
quantized and dequantized; before conversion (ember has none) they pass their input on unchanged."""

from __future__ import annotations

from typing import Any

from ...nn.modules.module import Module
from ...tensor import Tensor

__all__ = ["QuantStub", "DeQuantStub", "QuantWrapper"]


class QuantStub(Module):
    """Marks where a tensor is to be quantized; the identity before conversion.

    Args:
        qconfig (QConfig, optional): the quantization configuration here (else the parent module's).

    Example::

        >>> from ember.ao.quantization import QuantStub
        >>> QuantStub()(ember.tensor([1.5]))
        tensor([1.5000])
    """

    def __init__(self, qconfig: Any = None) -> None:
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x: Tensor) -> Tensor:
        return x


class DeQuantStub(Module):
    """Marks where a tensor is to be dequantized; the identity before conversion.

    Args:
        qconfig (QConfig, optional): the quantization configuration here (else the parent module's).
    """

    def __init__(self, qconfig: Any = None) -> None:
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x: Tensor) -> Tensor:
        return x


class QuantWrapper(Module):
    """``module`` between a :class:`QuantStub` and a :class:`DeQuantStub` (with ``module``'s qconfig).

    Example::

        >>> from ember.ao.quantization import QuantWrapper
        >>> w = QuantWrapper(ember.nn.Identity())
        >>> [name for name, _ in w.named_children()]
        ['quant', 'dequant', 'module']
    """

    def __init__(self, module: Module) -> None:
        super().__init__()
        qconfig = getattr(module, "qconfig", None)
        self.add_module("quant", QuantStub(qconfig))
        self.add_module("dequant", DeQuantStub(qconfig))
        self.add_module("module", module)
        self.train(module.training)

    def forward(self, X: Tensor) -> Tensor:
        return self.dequant(self.module(self.quant(X)))
