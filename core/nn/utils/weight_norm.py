"""Weight normalisation: ``weight_norm`` splits a weight into a magnitude ``g`` and a direction ``v``."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, TypeVar

from ...ops.weight_norms import norm_except_dim
from ...tensor import Tensor
from ..parameter import Parameter

if TYPE_CHECKING:
    from ..modules.module import Module

_M = TypeVar("_M", bound="Module")

__all__ = ["weight_norm", "remove_weight_norm"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim``, shaped to broadcast against ``v``
    (the whole-tensor norm, a scalar, when ``dim == -1``): :func:`ember.norm_except_dim`.
    """
    return norm_except_dim(v, 2, dim)


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if not isinstance(weight, Tensor):
            raise TypeError(f"weight_norm: {type(module).__name__}.{name} is not a tensor")
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: _M, name: str = "weight", dim: int | None = 0) -> _M:
    r"""Apply weight normalization to a parameter of ``module``:
    :math:`\mathbf{w} = g \dfrac{\mathbf{v}}{\|\mathbf{v}\|}`.

    The parameter ``name`` is replaced by ``name + '_g'`` (the magnitude) and
    ``name + '_v'`` (the direction); a forward pre-hook recomputes ``name`` from them
    before every forward. The norm is taken over every dimension but ``dim``
    (over the whole tensor with ``dim=None``).

    Args:
        module (Module): containing module.
        name (str, optional): name of the weight parameter. Default: ``'weight'``.
        dim (int, optional): dimension over which to compute the norm. Default: 0.

    Returns:
        The original module with the weight norm hook.

    Deprecated (a ``FutureWarning``, as in PyTorch): use :func:`ember.nn.utils.parametrizations.weight_norm`.

    Example::

        >>> m = nn.utils.weight_norm(nn.Linear(20, 40), name="weight")
        >>> m.weight_g.size()
        ember.Size([40, 1])
        >>> m.weight_v.size()
        ember.Size([40, 20])
    """
    warnings.warn(
        "`ember.nn.utils.weight_norm` is deprecated in favor of `ember.nn.utils.parametrizations.weight_norm`.",
        FutureWarning,
        stacklevel=2,
    )
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: _M, name: str = "weight") -> _M:
    r"""Remove the weight normalization reparameterization from a module.

    Args:
        module (Module): containing module.
        name (str, optional): name of the weight parameter. Default: ``'weight'``.
    """
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
