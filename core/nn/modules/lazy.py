"""Lazy modules: layers whose input size is read from their first input (``LazyLinear``,
``LazyConv1d``..., ``LazyBatchNorm1d``..., ``LazyInstanceNorm1d``...).

Until that first forward their parameters and buffers are :class:`~ember.nn.UninitializedParameter`
and :class:`~ember.nn.UninitializedBuffer`; a forward pre-hook then shapes them, initialises them as
the ordinary layer does, and the module becomes that layer (``LazyLinear`` becomes ``Linear``).
Loading a state dict with shaped tensors shapes them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import dtypes
from ...autograd import no_grad
from ...tensor import Tensor, tensor
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear

if TYPE_CHECKING:  # what the mixins are mixed into, for checkers
    from .batchnorm import _NormBase
    from .conv import _ConvNd
    from .module import Module

    _ModuleBase = Module
    _ConvBase = _ConvNd
    _NormBaseClass = _NormBase
else:
    _ModuleBase = _ConvBase = _NormBaseClass = object

__all__ = [
    "LazyModuleMixin", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
    "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
    "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
]  # fmt: skip


class LazyModuleMixin(_ModuleBase):
    """The lazy-module machinery: a forward pre-hook that calls :meth:`initialize_parameters` with
    the first input, then turns the module into ``cls_to_become``; a load-state-dict pre-hook that
    shapes uninitialized tensors from the state dict's.

    Example::

        >>> m = nn.LazyLinear(3)
        >>> m.has_uninitialized_params()
        True
        >>> m(ember.ones(2, 5)).shape, type(m).__name__, m.weight.shape
        (ember.Size([2, 3]), 'Linear', ember.Size([3, 5]))
    """

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._load_hook = self.register_load_state_dict_pre_hook(LazyModuleMixin._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(LazyModuleMixin._infer_parameters)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer still waits for its shape."""
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Shape the uninitialized tensors from the first input (each lazy layer defines it)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def _infer_parameters(self, args: tuple[Any, ...]) -> None:
        self.initialize_parameters(*args)
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        self._initialize_hook.remove()
        self._load_hook.remove()
        del self._initialize_hook
        del self._load_hook
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        for name, value in (*self._parameters.items(), *self._buffers.items()):
            key = prefix + name
            if is_lazy(value) and key in state_dict and not is_lazy(state_dict[key]):
                with no_grad():
                    value.materialize(state_dict[key].shape)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars or is_lazy(param) else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars or is_lazy(buf) else buf.detach()

    def _apply(self, fn, recurse=True):
        lazy = {name: buf for name, buf in self._buffers.items() if is_lazy(buf)}
        super()._apply(fn, recurse)
        for name, buf in lazy.items():  # a move keeps a placeholder a placeholder, on its new device
            buf._become(self._buffers[name])
            self._buffers[name] = buf
        return self


class LazyLinear(LazyModuleMixin, Linear):
    """:class:`Linear` whose ``in_features`` is the last size of its first input.

    Args:
        out_features (int): size of each output sample.
        bias (bool): learn an additive bias. Default: ``True``.

    Example::

        >>> m = nn.LazyLinear(4)
        >>> m(ember.ones(2, 3)).shape
        ember.Size([2, 4])
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        if not self.has_uninitialized_params():  # shaped by load_state_dict
            self.in_features = self.weight.shape[1]
        else:
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


class _LazyConvXdMixin(LazyModuleMixin, _ConvBase):
    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _lazy_init(self, bias: bool, device: Any, dtype: Any) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        unbatched = input.dim() == len(self.kernel_size) + 1
        self.in_channels = input.shape[0] if unbatched else input.shape[1]
        if not self.has_uninitialized_params():  # shaped by load_state_dict
            return
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        with no_grad():
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


def _init_lazy_transposed(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                          bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
    LazyModuleMixin.__init__(
        self, 0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode
    )
    self.out_channels = out_channels
    self._lazy_init(bias, device, dtype)


def _init_lazy_conv(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                    padding_mode="zeros", device=None, dtype=None):  # fmt: skip
    LazyModuleMixin.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode)
    self.out_channels = out_channels
    self._lazy_init(bias, device, dtype)


def _lazy_conv(base: type[_ConvNd], transposed: bool) -> type:
    nd = base._nd
    __init__ = _init_lazy_transposed if transposed else _init_lazy_conv
    name = f"Lazy{base.__name__}"
    doc = f""":class:`{base.__name__}` whose ``in_channels`` is read from its first input (``input.shape[1]``,
    or ``shape[0]`` unbatched); it then becomes a :class:`{base.__name__}`.

    Args:
        out_channels (int): channels the convolution produces; the rest as :class:`{base.__name__}`'s.

    Example::

        >>> m = nn.{name}(4, 3)
        >>> m(ember.ones(1, 2{", 5" * nd})).shape[1]
        4
    """
    return type(name, (_LazyConvXdMixin, base), {"__init__": __init__, "cls_to_become": base, "__doc__": doc,
                                                   "__module__": __name__})  # fmt: skip


LazyConv1d, LazyConv2d, LazyConv3d = (_lazy_conv(c, False) for c in (Conv1d, Conv2d, Conv3d))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _lazy_conv(c, True) for c in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)
)


class _LazyNormBase(LazyModuleMixin, _NormBaseClass):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *,
                 bias=True):  # fmt: skip
        LazyModuleMixin.__init__(self, 0, eps, momentum, False, False, device, dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=dtypes.int64, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        unbatched = input.dim() == getattr(self, "no_batch_dim", -1)
        self.num_features = input.shape[0] if unbatched else input.shape[1]
        if not self.has_uninitialized_params():  # shaped by load_state_dict
            return
        with no_grad():
            for name in ("weight", "bias", "running_mean", "running_var"):
                value = getattr(self, name)
                if is_lazy(value):
                    value.materialize((self.num_features,))
            self.reset_parameters()


def _lazy_norm(base: type) -> type:
    name = f"Lazy{base.__name__}"
    doc = f""":class:`{base.__name__}` whose ``num_features`` is read from its first input (``input.shape[1]``);
    it then becomes a :class:`{base.__name__}`.

    Args:
        eps, momentum, affine, track_running_stats, bias: as :class:`{base.__name__}`'s (``affine`` and
            ``track_running_stats`` default to ``True``).

    Example::

        >>> m = nn.{name}()
        >>> m(ember.randn(4, 3{", 5" * int(base.__name__[-2])})).shape[1], m.num_features
        (3, 3)
    """
    return type(name, (_LazyNormBase, base), {"cls_to_become": base, "__doc__": doc, "__module__": __name__})


LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d = (_lazy_norm(c) for c in (BatchNorm1d, BatchNorm2d, BatchNorm3d))
LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d = (
    _lazy_norm(c) for c in (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d)
)
