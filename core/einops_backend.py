"""ember's backend for `einops <https://einops.rocks>`_: ``rearrange``, ``reduce``, ``repeat``,
``pack``/``unpack``, ``einsum``, ``parse_shape`` and ``asnumpy`` take ember tensors as they take
PyTorch's, on every device, with autograd.

einops picks a backend among the subclasses of its ``AbstractBackend`` whose ``framework_name``
is an imported module. This module defines ember's; :func:`ember.einops_support.watch` imports it
as soon as einops is imported (before or after ember), so a program written for
``import torch`` runs unchanged with ``import ember as torch``.

einops' layer modules for PyTorch (``einops.layers.torch``) subclass ``torch.nn.Module``; the
same layers as ember modules are :class:`Rearrange`, :class:`Reduce` and :class:`EinMix` here
(also what einops' ``get_backend(x).layers()`` returns for an ember tensor).

Example::

    >>> import ember
    >>> from einops import rearrange, reduce
    >>> x = ember.arange(24.0).reshape(2, 3, 4)
    >>> rearrange(x, "b c (h w) -> b h w c", h=2).shape
    ember.Size([2, 2, 2, 3])
    >>> reduce(x, "b c n -> b", "max")
    tensor([11., 23.])
"""

from __future__ import annotations

import sys

from einops._backends import AbstractBackend
from einops.layers import RearrangeMixin, ReduceMixin
from einops.layers._einmix import _EinmixMixin

import ember

from .nn.modules.module import Module
from .nn.parameter import Parameter

_FLOATING = (ember.float16, ember.bfloat16, ember.float32, ember.float64)


class EmberBackend(AbstractBackend):
    """einops' operations expressed with ember's: the same calls einops makes on PyTorch's tensors
    (``permute``, ``expand``, ``amax`` over several dims, ...), so results, dtypes and gradients are
    PyTorch's."""

    framework_name = "ember"

    def is_appropriate_type(self, tensor):
        return isinstance(tensor, ember.Tensor)

    def from_numpy(self, x):
        tensor = ember.from_numpy(x)
        if self.is_float_type(tensor):
            tensor.requires_grad_(True)
        return tensor

    def to_numpy(self, x):
        return x.detach().cpu().numpy()

    def arange(self, start, stop):
        return ember.arange(start, stop, dtype=ember.int64)

    def reduce(self, x, operation, reduced_axes):
        if operation in ("min", "max"):  # amin/amax: several dims at once, ties share the gradient
            return getattr(x, "a" + operation)(dim=reduced_axes)
        if operation in ("sum", "mean"):
            return getattr(x, operation)(dim=reduced_axes)
        if operation in ("any", "all", "prod"):  # one dim per call: the last first keeps the others' positions
            for axis in sorted(reduced_axes, reverse=True):
                x = getattr(x, operation)(dim=axis)
            return x
        raise NotImplementedError(f"einops: unknown reduction {operation!r}")

    def transpose(self, x, axes):
        return x.permute(axes)

    def stack_on_zeroth_dimension(self, tensors):
        return ember.stack(tensors)

    def add_axes(self, x, n_axes, pos2len):
        sizes = [-1] * n_axes
        for position, length in pos2len.items():
            x = x.unsqueeze(position)
            sizes[position] = length
        return x.expand(sizes)  # a broadcast view, as PyTorch's backend gives

    def tile(self, x, repeats):
        return x.repeat(repeats)

    def concat(self, tensors, axis):
        return ember.cat(tensors, dim=axis)

    def add_axis(self, x, new_position):
        return x.unsqueeze(new_position)

    def is_float_type(self, x):
        return x.dtype in _FLOATING

    def layers(self):
        return sys.modules[__name__]

    def einsum(self, pattern, *x):
        return ember.einsum(pattern, *x)


class Rearrange(RearrangeMixin, Module):
    """einops' ``Rearrange`` layer as an ember module: ``rearrange(input, pattern, **axes_lengths)``.

    Args:
        pattern (str): the rearrangement, e.g. ``"b c h w -> b (c h w)"``.
        **axes_lengths: sizes of axes the pattern cannot infer.

    Example::

        >>> layer = Rearrange("b c (h p) -> b h (p c)", p=2)
        >>> layer(ember.zeros(3, 5, 8)).shape
        ember.Size([3, 4, 10])
    """

    def forward(self, input):
        return self._apply_recipe(input)


class Reduce(ReduceMixin, Module):
    """einops' ``Reduce`` layer as an ember module: ``reduce(input, pattern, reduction, **axes_lengths)``.

    Args:
        pattern (str): the reduction, e.g. ``"b c h w -> b c"``.
        reduction (str): ``"mean"``, ``"sum"``, ``"max"``, ``"min"`` or ``"prod"``.
        **axes_lengths: sizes of axes the pattern cannot infer.

    Example::

        >>> pool = Reduce("b c (h 2) (w 2) -> b c h w", "max")
        >>> pool(ember.zeros(1, 3, 4, 6)).shape
        ember.Size([1, 3, 2, 3])
    """

    def forward(self, input):
        return self._apply_recipe(input)


class EinMix(_EinmixMixin, Module):
    """einops' ``EinMix`` layer as an ember module: a linear map written as an einsum pattern, with
    its weight (and bias) drawn uniformly from ``[-bound, bound]`` as einops does for PyTorch.

    Args:
        pattern (str): input and output axes, e.g. ``"b t c -> b t h"``.
        weight_shape (str): the weight's axes, e.g. ``"c h"``.
        bias_shape (str, optional): the bias's axes (``None``: no bias).
        **axes_lengths: sizes of the axes the pattern introduces.

    Example::

        >>> mix = EinMix("b t c -> b t h", weight_shape="c h", bias_shape="h", c=4, h=6)
        >>> mix(ember.zeros(2, 3, 4)).shape
        ember.Size([2, 3, 6])
    """

    def _create_parameters(self, weight_shape, weight_bound, bias_shape, bias_bound):
        self.weight = Parameter(ember.zeros(weight_shape).uniform_(-weight_bound, weight_bound))
        self.bias = None
        if bias_shape is not None:
            self.bias = Parameter(ember.zeros(bias_shape).uniform_(-bias_bound, bias_bound))

    def _create_rearrange_layers(
        self, pre_reshape_pattern, pre_reshape_lengths, post_reshape_pattern, post_reshape_lengths
    ):
        self.pre_rearrange = None
        if pre_reshape_pattern is not None:
            self.pre_rearrange = Rearrange(pre_reshape_pattern, **pre_reshape_lengths)
        self.post_rearrange = None
        if post_reshape_pattern is not None:
            self.post_rearrange = Rearrange(post_reshape_pattern, **post_reshape_lengths)

    def forward(self, input):
        if self.pre_rearrange is not None:
            input = self.pre_rearrange(input)
        result = ember.einsum(self.einsum_pattern, input, self.weight)
        if self.bias is not None:
            result = result + self.bias
        if self.post_rearrange is not None:
            result = self.post_rearrange(result)
        return result
