"""``Tensor.view(dtype)``: a tensor's memory read, bit for bit, as another dtype.

The result shares the input's storage and version counter, as PyTorch's does, but it is no view in
autograd's sense: it never requires grad, has no ``grad_fn`` and no ``_base`` (PyTorch declares the op
not differentiable). The backend makes the aliasing array (:meth:`ember.backend.Backend.bitcast`); this
module applies PyTorch's rules on the sizes, strides and offset first.
"""

from __future__ import annotations

from .. import dtypes
from ..tensor import Tensor, _new, writable_data
from ..type_names import type_name
from .dtype_support import TORCH_NAMES

__all__ = ["view_dtype"]


def view_dtype(input: Tensor, dtype: dtypes.dtype) -> Tensor:
    """``input``'s memory seen as ``dtype``, without a copy: writes through either reach the other.

    Where the element sizes are equal the result has ``input``'s shape; otherwise its last dimension
    grows or shrinks by their ratio, which needs that dimension's stride to be 1, and, for a larger
    element, the last size, the storage offset and the other strides to be divisible by the ratio.

    Args:
        input (Tensor): the tensor whose memory to reinterpret.
        dtype (ember.dtype): the element type to read it as.

    Example::

        >>> x = ember.tensor([1.0, -2.0])
        >>> x.view(ember.int32)
        tensor([ 1065353216, -1073741824], dtype=ember.int32)
        >>> x.view(ember.uint8).shape
        ember.Size([8])
        >>> x.view(ember.float64).shape
        ember.Size([1])
    """
    if not isinstance(dtype, dtypes.dtype):
        raise TypeError(f"view(): argument 'dtype' must be torch.dtype, not {type_name(dtype)}")
    backend, data = input._backend, writable_data(input)
    old, new = input.dtype.itemsize, dtype.itemsize
    if old != new:
        _check_layout(input, dtype, backend.layout(data))
    native = backend.native_dtype(dtype)
    try:
        result = backend.bitcast(data, native)
    except NotImplementedError as e:
        raise RuntimeError(str(e)) from None
    return _new(result, backend, input._device, False, input._version_counter)


def _check_layout(input: Tensor, dtype: dtypes.dtype, layout: tuple[tuple[int, ...], int]) -> None:
    """PyTorch's checks, in its order, for a view as ``dtype`` of another element size."""
    what = f"view {TORCH_NAMES[input.dtype]} as {TORCH_NAMES[dtype]} (different element sizes)"
    if input.ndim == 0:
        raise RuntimeError(f"self.dim() cannot be 0 to {what}")
    strides, offset = layout
    old, new = input.dtype.itemsize, dtype.itemsize
    if new > old:
        ratio = new // old
        size = input.shape[-1]
        if size % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} to {what}, but got {size}")
        if offset % ratio:
            raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} to {what}, but got {offset}")
        for i, stride in enumerate(strides[:-1]):
            if stride % ratio:
                raise RuntimeError(f"self.stride({i}) must be divisible by {ratio} to {what}, but got {stride}")
    if strides[-1] != 1:
        raise RuntimeError(f"self.stride(-1) must be 1 to {what}, but got {strides[-1]}")
