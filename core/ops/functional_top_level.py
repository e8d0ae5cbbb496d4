"""The functional ops PyTorch also exposes at the top level (``torch.conv2d``, ``torch.layer_norm``,
``torch.kl_div``, ...): ``ember.nn.functional``'s functions, given PyTorch's top-level signature where
it differs from ``torch.nn.functional``'s (argument order of ``batch_norm``/``instance_norm``/``embedding``,
integer ``reduction`` codes, ``max_pool*`` without ``return_indices``, ``adaptive_max_pool1d`` returning
the indices too).

:mod:`ember` imports this module on the first access to one of these names, so that ``import ember``
does not load ``ember.nn``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import cast

from .. import dtypes
from ..amp.state import suspended as _amp_suspended
from ..autograd.grad_mode import grad_state
from ..nn import functional as F
from ..nn.functional.sparse import _embedding_bag, _renorm_
from ..tensor import Tensor
from ..type_names import type_name
from .operands import require_tensors, tensor_input

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "layer_norm",
    "group_norm", "batch_norm", "instance_norm", "dropout", "dropout_", "embedding", "pixel_shuffle",
    "pixel_unshuffle", "prelu", "selu", "selu_", "celu", "celu_", "rrelu", "rrelu_", "threshold", "threshold_",
    "pdist", "pairwise_distance", "cosine_similarity", "kl_div", "binary_cross_entropy_with_logits", "bilinear",
    "ctc_loss", "rms_norm", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d",
    "adaptive_max_pool1d", "channel_shuffle", "convolution", "native_channel_shuffle", "conv_tbc",
    "_grouped_mm", "max_pool1d_with_indices", "grid_sampler", "grid_sampler_2d", "grid_sampler_3d",
    "embedding_bag", "embedding_renorm_", "native_norm",
]  # fmt: skip

# the same functions as ember.nn.functional's: PyTorch's top-level signature is theirs
conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d
pixel_shuffle, pixel_unshuffle, prelu, bilinear, rms_norm = (
    F.pixel_shuffle,
    F.pixel_unshuffle,
    F.prelu,
    F.bilinear,
    F.rms_norm,
)
selu, selu_, celu, celu_, rrelu, rrelu_ = F.selu, F.selu_, F.celu, F.celu_, F.rrelu, F.rrelu_
threshold, threshold_ = F.threshold, F.threshold_
pdist, pairwise_distance, cosine_similarity = F.pdist, F.pairwise_distance, F.cosine_similarity
avg_pool1d, adaptive_avg_pool1d, channel_shuffle = F.avg_pool1d, F.adaptive_avg_pool1d, F.channel_shuffle
native_channel_shuffle = F.channel_shuffle
conv_tbc = F.conv_tbc
_grouped_mm = F.grouped_mm  # PyTorch's name before nn.functional had it, still what MoE code calls

_REDUCTIONS = ("none", "mean", "sum")  # PyTorch's at::Reduction codes 0, 1, 2


def _reduction(op: str, code: object) -> str:
    if not isinstance(code, int) or isinstance(code, bool):
        raise TypeError(f"{op}(): argument 'reduction' must be int, not {type_name(code)}")
    if not 0 <= code < len(_REDUCTIONS):
        raise ValueError(f"{op}(): {code} is not a valid value for reduction (0: none, 1: mean, 2: sum)")
    return _REDUCTIONS[code]


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
    cudnn_enable: bool = True,
) -> Tensor:
    """:func:`ember.nn.functional.layer_norm` with PyTorch's top-level signature (``cudnn_enable`` is ignored).

    Example::

        >>> ember.layer_norm(ember.tensor([[1.0, 2.0, 3.0]]), [3])
        tensor([[-1.2247,  0.0000,  1.2247]])
    """
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
    cudnn_enabled: bool = True,
) -> Tensor:
    """:func:`ember.nn.functional.group_norm` with PyTorch's top-level signature (``cudnn_enabled`` is ignored).

    Example::

        >>> ember.group_norm(ember.tensor([[[1.0], [3.0]]]), 1)
        tensor([[[-1.0000],
                 [ 1.0000]]])
    """
    require_tensors("group_norm", ("input",), input)  # PyTorch's argument parser first (F.group_norm reads input.dim())
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool,
) -> Tensor:
    """:func:`ember.nn.functional.batch_norm` with PyTorch's top-level argument order (weight and bias
    first; every argument required; ``cudnn_enabled`` is ignored).

    Example::

        >>> x = ember.tensor([[1.0], [3.0]])
        >>> ember.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False)
        tensor([[-1.0000],
                [ 1.0000]])
    """
    # PyTorch's argument parser first (F.batch_norm reads input.size() in training)
    require_tensors("batch_norm", ("input",), input)
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    use_input_stats: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool,
) -> Tensor:
    """:func:`ember.nn.functional.instance_norm` with PyTorch's top-level argument order (weight and bias
    first; every argument required; ``cudnn_enabled`` is ignored).

    Example::

        >>> x = ember.tensor([[[1.0, 3.0]]])
        >>> ember.instance_norm(x, None, None, None, None, True, 0.1, 1e-5, False)
        tensor([[[-1.0000,  1.0000]]])
    """
    # PyTorch's argument parser first (F.instance_norm reads input.size())
    require_tensors("instance_norm", ("input",), input)
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """:func:`ember.nn.functional.dropout` with PyTorch's top-level signature (``p`` and ``train`` required).

    Example::

        >>> ember.dropout(ember.ones(3), 0.5, False)
        tensor([1., 1., 1.])
    """
    require_tensors("dropout", ("input",), input)  # PyTorch's argument parser first (the functional checks p first)
    return F.dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place :func:`dropout`: zeroes elements of ``input`` with probability ``p`` when ``train``.

    Example::

        >>> x = ember.ones(3)
        >>> ember.dropout_(x, 0.0, True)
        tensor([1., 1., 1.])
    """
    require_tensors("dropout_", ("input",), input)  # PyTorch's argument parser first (the functional checks p first)
    return F.dropout(input, p, train, inplace=True)


def embedding(
    weight: Tensor, indices: Tensor, padding_idx: int = -1, scale_grad_by_freq: bool = False, sparse: bool = False
) -> Tensor:
    """Rows of ``weight`` picked by ``indices``: :func:`ember.nn.functional.embedding` with PyTorch's
    top-level signature (the weight first; ``padding_idx=-1`` means none).

    Example::

        >>> w = ember.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
        >>> ember.embedding(w, ember.tensor([2, 0]))
        tensor([[4., 5.],
                [0., 1.]])
    """
    padding = None if padding_idx == -1 else padding_idx
    return F.embedding(indices, weight, padding, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


_BAG_MODES = ("sum", "mean", "max")  # PyTorch's EmbeddingBagMode codes 0, 1, 2


def embedding_bag(
    weight: Tensor,
    indices: Tensor,
    offsets: Tensor,
    scale_grad_by_freq: bool = False,
    mode: int = 0,
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """:func:`ember.nn.functional.embedding_bag` with PyTorch's top-level signature (the weight first,
    ``offsets`` required, ``mode`` a code: 0 sum, 1 mean, 2 max; no ``max_norm``), returning ATen's four
    results ``(output, offset2bag, bag_size, max_indices)`` as PyTorch's CPU kernels give them:

    - ``offset2bag``: the bag of each index, ``(N,)``; empty in sum mode for a float32/float16/bfloat16
      weight with unit column stride and no ``padding_idx`` (PyTorch's fast path computes none);
    - ``bag_size``: the number of indices counted in each bag (``padding_idx`` left out), ``(B,)``; zeros in
      sum mode;
    - ``max_indices``: in max mode the row of ``weight`` each maximum came from, ``(B, D)`` (0 for an empty
      bag); ``bag_size`` in mean mode; zeros in sum mode.

    The three are int32 when ``indices`` and ``offsets`` both are, int64 otherwise, and carry no gradient.
    In max mode ``sparse`` and ``scale_grad_by_freq`` are ignored: the gradient is dense and unscaled.

    Example::

        >>> w = ember.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        >>> out, offset2bag, bag_size, max_indices = ember.embedding_bag(
        ...     w, ember.tensor([0, 2, 1]), ember.tensor([0, 2]), mode=2)
        >>> out
        tensor([[5., 6.],
                [3., 4.]])
        >>> offset2bag, bag_size, max_indices
        (tensor([0, 0, 1]), tensor([2, 1]), tensor([[2, 2],
                [1, 1]]))
    """
    if not isinstance(mode, int) or isinstance(mode, bool):
        raise TypeError(f"embedding_bag(): argument 'mode' (position 5) must be int, not {type_name(mode)}")
    if not isinstance(offsets, Tensor):
        raise TypeError(f"embedding_bag(): argument 'offsets' (position 3) must be Tensor, not {type_name(offsets)}")
    if isinstance(weight, Tensor) and weight.ndim != 2:
        raise RuntimeError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if offsets.ndim != 1:
        raise RuntimeError(f"offsets has to be a 1D Tensor, but got Tensor of dimension {offsets.ndim}")
    if not 0 <= mode < len(_BAG_MODES):
        raise RuntimeError("`mode` must be sum, mean, or max.")
    if isinstance(indices, Tensor) and indices.ndim != 1:  # ATen reads the indices flat
        indices = indices.reshape(-1)
    if per_sample_weights is not None:
        if mode != 0:
            raise RuntimeError("embedding_bag: per_sample_weights only supported with mode='sum'")
        if per_sample_weights.numel() != indices.numel():
            raise RuntimeError(
                f"embedding_bag: expected per_sample_weights of {indices.numel()} elements (one per index), "
                f"got {per_sample_weights.numel()}"
            )
        if per_sample_weights.dtype is not weight.dtype:
            raise RuntimeError(
                f"embedding_bag: expected per_sample_weights of weight's dtype {weight.dtype}, "
                f"got {per_sample_weights.dtype}"
            )
        per_sample_weights = per_sample_weights.reshape(-1)
    name = _BAG_MODES[mode]
    dense = name == "max"  # PyTorch's max mode has a dense, unscaled gradient whatever is asked
    out, bag, keep, num_bags, max_rows = _embedding_bag(
        indices, weight, offsets, None, 2, scale_grad_by_freq and not dense, name, sparse and not dense,
        per_sample_weights, include_last_offset, padding_idx,
    )  # fmt: skip
    index_dtype = dtypes.int32 if indices.dtype is offsets.dtype is dtypes.int32 else dtypes.int64
    if name == "sum":
        bag_size = bag.new_zeros((num_bags,))
        max_indices = bag_size.clone()
        fast = weight.dtype in (dtypes.float32, dtypes.float16, dtypes.bfloat16) and padding_idx is None
        if fast and weight.device.type != "cuda" and weight.stride(1) == 1:
            bag = bag[:0]  # PyTorch's fast CPU sum computes no offset2bag
    else:
        bag_size = bag.new_zeros((num_bags,)).index_add(0, bag, keep.long()) if num_bags else bag.new_zeros((0,))
        if max_rows is None:  # (max mode with no bag at all)
            max_rows = bag.new_zeros((0, weight.shape[1])) if name == "max" else bag_size
        max_indices = max_rows.clone()
    return out, bag.to(index_dtype), bag_size.to(index_dtype), max_indices.to(index_dtype)


def embedding_renorm_(input: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> Tensor:
    """Rescales in place the rows of the embedding table ``input`` named by ``indices`` whose ``norm_type``-norm
    exceeds ``max_norm`` to that norm (each by ``max_norm / (norm + 1e-7)``), as :func:`ember.nn.functional.embedding`
    does with ``max_norm``; returns ``input``.

    Args:
        input (Tensor): the table, :math:`(V, D)`.
        indices (Tensor): int64/int32 row indices, any shape.
        max_norm (float): the largest norm kept.
        norm_type (float): the p of the p-norm.

    Example::

        >>> w = ember.tensor([[3.0, 4.0], [0.6, 0.8]])
        >>> ember.embedding_renorm_(w, ember.tensor([0, 1]), 1.0, 2.0)
        tensor([[0.6000, 0.8000],
                [0.6000, 0.8000]])
    """
    if isinstance(input, Tensor) and input.ndim != 2:
        raise RuntimeError(
            f"Expected 2-dimensional tensor, but got {input.ndim}-dimensional tensor for argument #1 'self' "
            "(while checking arguments for embedding_renorm_)"
        )
    if isinstance(indices, Tensor) and indices.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(
            "Expected tensor for argument #2 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {indices.dtype} instead (while checking arguments for embedding_renorm_)"
        )
    if grad_state.enabled and input.requires_grad and input.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if indices.numel() and not indices.is_meta:
        low, high = int(indices.min().item()), int(indices.max().item())
        if low < 0 or high >= input.shape[0]:
            bad = low if low < 0 else high
            raise IndexError(f"embedding_renorm_: index {bad} out of range for a table of {input.shape[0]} rows")
    _renorm_(input, indices.long(), max_norm, norm_type)
    return input


@tensor_input
def native_norm(
    input: Tensor,
    p: float = 2,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    dtype: dtypes.dtype | None = None,
) -> Tensor:
    """The ``p``-norm of a sparse tensor's values (ATen's ``native_norm``, which PyTorch implements for sparse
    tensors only: a dense tensor raises ``NotImplementedError``, as there; use :func:`ember.linalg.vector_norm`).

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 2]], [3.0, 4.0], (3,))
        >>> ember.native_norm(s)
        tensor(5.)
    """
    if not getattr(input, "is_sparse", False):
        raise NotImplementedError(
            "native_norm: implemented for sparse COO tensors only (as PyTorch's); got a strided tensor, "
            "use ember.linalg.vector_norm"
        )
    values = input.coalesce().values()
    if dim is not None or keepdim:
        raise NotImplementedError("native_norm: ember computes the norm of all of a sparse tensor's values only")
    out = values.norm(p) if dtype is None else values.to(dtype).norm(p)
    return out


def kl_div(input: Tensor, target: Tensor, reduction: int = 0, *, log_target: bool = False) -> Tensor:
    """:func:`ember.nn.functional.kl_div` with PyTorch's top-level signature: ``reduction`` is a code,
    0 (none, the default as PyTorch's binding applies it), 1 (mean) or 2 (sum).

    Example::

        >>> ember.kl_div(ember.tensor([-1.0, -2.0]), ember.tensor([0.5, 0.5]), 2)
        tensor(0.8069)
    """
    mode = _reduction("kl_div", reduction)
    if mode != "mean":
        return F.kl_div(input, target, reduction=mode, log_target=log_target)
    with warnings.catch_warnings():  # PyTorch warns about 'mean' in nn.functional only
        warnings.simplefilter("ignore", UserWarning)
        return F.kl_div(input, target, reduction=mode, log_target=log_target)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    pos_weight: Tensor | None = None,
    reduction: int = 0,
) -> Tensor:
    """:func:`ember.nn.functional.binary_cross_entropy_with_logits` with PyTorch's top-level signature:
    ``pos_weight`` fourth and ``reduction`` a code, 0 (none, the default as PyTorch's binding applies it),
    1 (mean) or 2 (sum).

    Example::

        >>> ember.binary_cross_entropy_with_logits(ember.tensor([0.0, 0.0]), ember.tensor([1.0, 0.0]))
        tensor([0.6931, 0.6931])
    """
    name = "binary_cross_entropy_with_logits"
    require_tensors(name, ("input", "target"), input, target)  # PyTorch's argument parser first (F reads sizes)
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(name, reduction), pos_weight=pos_weight
    )


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: int = 0,
    zero_infinity: bool = False,
) -> Tensor:
    """:func:`ember.nn.functional.ctc_loss` with PyTorch's top-level signature: ``reduction`` is a code,
    0 (none, the default as PyTorch's binding applies it), 1 (mean) or 2 (sum).

    Example::

        >>> log_probs = ember.full((2, 1, 2), 0.5).log()
        >>> ember.ctc_loss(log_probs, ember.tensor([[1]]), [2], [1])
        tensor([0.2877])
    """
    return F.ctc_loss(
        log_probs, targets, input_lengths, target_lengths, blank, _reduction("ctc_loss", reduction), zero_infinity
    )


def _max_pool(pool: Callable[..., Tensor | tuple[Tensor, Tensor]]) -> Callable[..., Tensor]:
    def op(
        input: Tensor,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = (),
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        ceil_mode: bool = False,
    ) -> Tensor:
        # without return_indices, F's max_pool returns the output alone
        out = pool(input, kernel_size, stride if stride not in ((), []) else None, padding, dilation, ceil_mode)
        return cast(Tensor, out)

    return op


max_pool1d, max_pool2d, max_pool3d = _max_pool(F.max_pool1d), _max_pool(F.max_pool2d), _max_pool(F.max_pool3d)
for _nd, _op in ((1, max_pool1d), (2, max_pool2d), (3, max_pool3d)):
    _op.__name__ = _op.__qualname__ = f"max_pool{_nd}d"
    _op.__doc__ = f""":func:`ember.nn.functional.max_pool{_nd}d` with PyTorch's top-level signature: the output
    only (``max_pool{_nd}d_with_indices`` gives the indices too); an empty ``stride`` means ``kernel_size``.

    Example::

        >>> ember.max_pool{_nd}d(ember.zeros(1, 1{", 4" * _nd}), 2).shape
        ember.Size([1, 1{", 2" * _nd}])
    """


def max_pool1d_with_indices(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = (),
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
) -> tuple[Tensor, Tensor]:
    """:func:`ember.nn.functional.max_pool1d_with_indices` with PyTorch's top-level signature (no
    ``return_indices``; an empty ``stride`` means ``kernel_size``): returns ``(output, indices)``.

    Example::

        >>> ember.max_pool1d_with_indices(ember.tensor([[1.0, 5.0, 2.0, 4.0]]), 2)
        (tensor([[5., 4.]]), tensor([[1, 3]]))
    """
    # F's annotations are 1-tuples; its kernel, as torch's, takes any sequence of one int
    return F.max_pool1d_with_indices(
        input,
        kernel_size,  # type: ignore[arg-type]
        stride if stride not in ((), []) else None,  # type: ignore[arg-type]
        padding,  # type: ignore[arg-type]
        dilation,  # type: ignore[arg-type]
        ceil_mode,
    )


_INTERPOLATION_MODES = ("bilinear", "nearest", "bicubic")  # PyTorch's GridSamplerInterpolation codes 0, 1, 2
_PADDING_MODES = ("zeros", "border", "reflection")  # its GridSamplerPadding codes 0, 1, 2


def _grid_sampler_mode(name: str, position: int, code: object, modes: tuple[str, ...]) -> str:
    if not isinstance(code, int) or isinstance(code, bool):
        raise TypeError(f"grid_sampler(): argument '{name}' (position {position}) must be int, not {type_name(code)}")
    if not 0 <= code < len(modes):
        codes = ", ".join(f"{i}: {mode}" for i, mode in enumerate(modes))
        raise RuntimeError(f"grid_sampler(): {name} {code} is not one of the codes ({codes})")
    return modes[code]


def grid_sampler(
    input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int, align_corners: bool
) -> Tensor:
    """:func:`ember.nn.functional.grid_sample` with PyTorch's top-level signature: the modes given by their
    integer codes (``interpolation_mode``: 0 bilinear, 1 nearest, 2 bicubic; ``padding_mode``: 0 zeros,
    1 border, 2 reflection) and ``align_corners`` required.

    Args:
        input (Tensor): :math:`(N, C, H_{in}, W_{in})` or :math:`(N, C, D_{in}, H_{in}, W_{in})`.
        grid (Tensor): :math:`(N, H_{out}, W_{out}, 2)` or :math:`(N, D_{out}, H_{out}, W_{out}, 3)`.
        interpolation_mode (int): the interpolation's code.
        padding_mode (int): the padding's code.
        align_corners (bool): whether -1 and 1 are the centres (``True``) or the outer edges of the corner pixels.

    Example::

        >>> x = ember.arange(4.0).reshape(1, 1, 2, 2)
        >>> ember.grid_sampler(x, ember.zeros(1, 1, 1, 2), 0, 0, False)
        tensor([[[[1.5000]]]])
    """
    mode = _grid_sampler_mode("interpolation_mode", 3, interpolation_mode, _INTERPOLATION_MODES)
    padding = _grid_sampler_mode("padding_mode", 4, padding_mode, _PADDING_MODES)
    return F.grid_sample(input, grid, mode, padding, bool(align_corners))


def _grid_sampler_nd(nd: int) -> Callable[..., Tensor]:
    def op(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int, align_corners: bool) -> Tensor:
        for tensor in (input, grid):
            if isinstance(tensor, Tensor) and tensor.ndim != nd + 2:
                raise RuntimeError(
                    f"grid_sampler(): expected {nd + 2}D input and grid with same number of dimensions, but got "
                    f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
                )
        return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)

    op.__name__ = op.__qualname__ = f"grid_sampler_{nd}d"
    op.__doc__ = f""":func:`grid_sampler` for {nd + 2}-D ``input`` and ``grid`` only.

    Example::

        >>> ember.grid_sampler_{nd}d(ember.ones(1, 1{", 2" * nd}), ember.zeros(1{", 1" * nd}, {nd}), 0, 0, True)
        tensor({"[" * (nd + 2)}1.{"]" * (nd + 2)})
    """
    return op


grid_sampler_2d, grid_sampler_3d = _grid_sampler_nd(2), _grid_sampler_nd(3)


def adaptive_max_pool1d(input: Tensor, output_size: int | Sequence[int]) -> tuple[Tensor, Tensor]:
    """:func:`ember.nn.functional.adaptive_max_pool1d` with PyTorch's top-level signature: returns
    ``(output, indices)``.

    Example::

        >>> ember.adaptive_max_pool1d(ember.tensor([[[1.0, 5.0, 2.0, 4.0]]]), 2)
        (tensor([[[5., 4.]]]), tensor([[[1, 3]]]))
    """
    # F's annotation is a 1-tuple; its kernel, as torch's, takes any sequence of one int
    return F.adaptive_max_pool1d_with_indices(input, output_size)  # type: ignore[arg-type]


_CONVOLUTIONS: dict[tuple[bool, int], Callable[..., Tensor]] = {
    (False, 3): F.conv1d, (False, 4): F.conv2d, (False, 5): F.conv3d,
    (True, 3): F.conv_transpose1d, (True, 4): F.conv_transpose2d, (True, 5): F.conv_transpose3d,
}  # fmt: skip


def convolution(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    transposed: bool,
    output_padding: Sequence[int],
    groups: int,
) -> Tensor:
    """The convolution (``transposed``: the transposed one) of as many spatial dimensions as ``weight`` has
    beyond its first two: :func:`ember.nn.functional.conv2d`, :func:`~ember.nn.functional.conv_transpose2d`
    and their 1-d and 3-d siblings, with ATen's single signature (``output_padding`` is used only when
    ``transposed``).

    Example::

        >>> x = ember.arange(4.0).reshape(1, 1, 4)
        >>> ember.convolution(x, ember.ones(1, 1, 2), None, [1], [0], [1], False, [0], 1)
        tensor([[[1., 3., 5.]]])
    """
    if weight.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    conv = _CONVOLUTIONS.get((bool(transposed), weight.ndim))
    if conv is None:
        raise RuntimeError(
            f"convolution: expected a weight of 3, 4 or 5 dimensions (1, 2 or 3 spatial), got {weight.ndim}"
        )
    with _amp_suspended():  # PyTorch's autocast lists conv1d/2d/3d and the transposed ones, not convolution
        if transposed:
            return conv(input, weight, bias, stride, padding, output_padding, groups, dilation)
        return conv(input, weight, bias, stride, padding, dilation, groups)
