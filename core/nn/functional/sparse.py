"""Sparse layers, functional forms: ``F.embedding``, ``F.embedding_bag``, ``F.one_hot``."""

from __future__ import annotations

import numbers

from ... import dtypes
from ...autograd import function as autograd_function
from ...autograd.function import Function, differentiable_backward
from ...autograd.grad_mode import no_grad
from ...ops.arithmetic import where
from ...ops.creation import arange
from ...ops.dtype_support import FLOATING_AND_HALF, TORCH_NAMES
from ...ops.operands import check_same_device, named_node, read_before_checked, require_tensors, type_name
from ...sparse import SparseCOOTensor
from ...tensor import Tensor

__all__ = ["embedding", "embedding_bag", "one_hot"]


class _Embedding(Function):
    """Row lookup; the weight gradient skips ``padding_idx``, may scale by frequency, may be sparse."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq, sparse):
        xp = weight._backend.xp
        flat = xp.reshape(indices._data, (-1,))
        rows = xp.take(weight._data, flat, axis=0)
        ctx.save_for_backward(indices)
        ctx.options = (weight.shape[0], padding_idx, scale_grad_by_freq, sparse)
        return weight._make(xp.reshape(rows, tuple(indices.shape) + (weight.shape[1],)))

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        num, padding_idx, scale_grad_by_freq, sparse = ctx.options
        flat = indices.reshape(-1)
        g = grad.reshape((-1, grad.shape[-1]))
        if padding_idx is not None:
            g = g * (flat != padding_idx).to(g.dtype).unsqueeze(1)
        if scale_grad_by_freq:
            if sparse:  # PyTorch's sparse gradient kernel has no frequency scaling
                raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
            counts = g.detach().new_zeros((num,)).index_add(0, flat, g.detach().new_ones(flat.shape))
            g = g / counts[flat].unsqueeze(1)
        if sparse:
            if padding_idx is not None:  # like PyTorch, padding entries are left out of the sparse gradient
                kept = flat != padding_idx
                flat, g = flat[kept], g[kept]
            return SparseCOOTensor(flat.unsqueeze(0), g, (num, grad.shape[-1])), None, None, None, None
        if differentiable_backward():  # create_graph: a differentiable index_add
            return g.new_zeros((num, grad.shape[-1])).index_add(0, flat, g), None, None, None, None
        return g._make(g._backend.kernels.embedding_backward(g._data, flat._data, num)), None, None, None, None


def _check_indices(name, input, weight):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type_name(input)}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): argument 'weight' must be Tensor, not {type_name(weight)}")
    check_same_device(name, weight, input)
    if input.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {input.dtype} instead (while checking arguments for {name})"
        )
    if weight.ndim != 2:
        if name == "embedding_bag":  # its Python wrapper checks first, with a ValueError
            raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
        raise RuntimeError(f"'weight' must be 2-D, got {weight.ndim}-D")
    if input.numel():
        n = weight.shape[0]
        error, message = _OUT_OF_RANGE[name]
        input._backend.check_indices(name, input._data, n, None, error, message.replace("{n}", str(n)))
    return input.long()


#: op -> PyTorch's exception and message for an index outside the embedding table ({n}: its size)
_OUT_OF_RANGE = {
    "embedding": (IndexError, "index out of range in self"),
    "embedding_bag": (
        RuntimeError,
        "embedding_bag: input takes value {value} which is not in the valid range [0, {n})",
    ),
}


def _normalize_padding_idx(padding_idx, num_embeddings, op=None):
    """``padding_idx`` counted from the start; ``op`` names the functional form, which also checks its
    type (and, for ``embedding_bag``, its range with PyTorch's RuntimeError instead of an assertion)."""
    if padding_idx is None:
        return None
    if op is not None and not isinstance(padding_idx, numbers.Integral):
        raise TypeError(f"{op}(): argument 'padding_idx' must be int, not {type_name(padding_idx)}")
    if op == "embedding_bag" and not -num_embeddings <= padding_idx < num_embeddings:
        raise RuntimeError(
            f"padding_idx must be within the number of embeddings, -{num_embeddings} through "
            f"{num_embeddings - 1}, but got {padding_idx}"
        )
    if padding_idx > 0:
        assert padding_idx < num_embeddings, "Padding_idx must be within num_embeddings"
    elif padding_idx < 0:
        assert padding_idx >= -num_embeddings, "Padding_idx must be within num_embeddings"
        padding_idx += num_embeddings
    return padding_idx


def _renorm_(weight, indices, max_norm, norm_type):
    """Rescale (in place, without grad) the rows of ``weight`` named by ``indices`` to norm <= ``max_norm``."""
    with no_grad():
        flat = indices.reshape(-1)
        rows = weight[flat]
        norms = rows.norm(norm_type, 1, keepdim=True)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).to(weight.dtype)
        weight[flat] = rows * scale


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    r"""Looks up the rows of ``weight`` named by the indices in ``input``.

    Args:
        input (LongTensor): indices, any shape.
        weight (Tensor): the table :math:`(V, D)`.
        padding_idx (int, optional): this row gets no gradient (negative counts from the end). Default: ``None``
        max_norm (float, optional): rows looked up are first renormalised in place to this norm. Default: ``None``
        norm_type (float): the p of the p-norm for ``max_norm``. Default: 2
        scale_grad_by_freq (bool): divide gradients by the index frequency in the batch. Default: ``False``
        sparse (bool): the gradient of ``weight`` is a sparse COO tensor. Default: ``False``

    Shape:
        - Output: :math:`(*, D)`.

    Example::

        >>> F.embedding(ember.tensor([[1, 2], [3, 0]]), ember.randn(10, 3)).shape
        ember.Size([2, 2, 3])
    """
    if padding_idx:  # PyTorch's Python functional reads weight.size() for a nonzero padding_idx first
        read_before_checked(weight, "size")
    require_tensors("embedding", ("weight", "indices"), weight, input)  # the op PyTorch calls: weight first
    input = _check_indices("embedding", input, weight)
    padding_idx = _normalize_padding_idx(padding_idx, weight.shape[0], "embedding")
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return _Embedding.apply(weight, input, padding_idx, scale_grad_by_freq, sparse)


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    r"""Sums, means or maxes of bags of embeddings, without materialising each bag.

    Args:
        input (LongTensor): :math:`(B, N)` fixed-size bags, or :math:`(N)` with ``offsets``.
        weight (Tensor): the table :math:`(V, D)`.
        offsets (LongTensor, optional): :math:`(B)` start of each bag in a 1-D ``input``.
        max_norm (float, optional): renormalise looked-up rows to this norm. Default: ``None``
        norm_type (float): the p of the p-norm for ``max_norm``. Default: 2
        scale_grad_by_freq (bool): scale gradients by index frequency (not with ``'max'``). Default: ``False``
        mode (str): ``'sum'`` | ``'mean'`` | ``'max'``. Default: ``'mean'``
        sparse (bool): sparse gradient of ``weight`` (not with ``'max'``). Default: ``False``
        per_sample_weights (Tensor, optional): weights of each index (``'sum'`` only), shape of ``input``.
        include_last_offset (bool): ``offsets`` has B+1 entries, the last being the end. Default: ``False``
        padding_idx (int, optional): entries equal to it are left out of their bag. Default: ``None``

    Shape:
        - Output: :math:`(B, D)`; empty bags give zeros.

    See :class:`~ember.nn.EmbeddingBag` for details.

    Examples::

        >>> weight = ember.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
        >>> input = ember.tensor([0, 2, 1, 3])
        >>> offsets = ember.tensor([0, 3])  # bags [0, 2, 1] and [3]
        >>> F.embedding_bag(input, weight, offsets)
        tensor([[3., 4.],
                [7., 8.]])
        >>> F.embedding_bag(input, weight, offsets, mode='max')
        tensor([[5., 6.],
                [7., 8.]])
        >>> F.embedding_bag(ember.tensor([[0, 1], [2, 3]]), weight, mode='sum')  # 2-D input: fixed-size bags
        tensor([[ 4.,  6.],
                [12., 14.]])
    """
    return _embedding_bag(
        input, weight, offsets, max_norm, norm_type, scale_grad_by_freq, mode, sparse, per_sample_weights,
        include_last_offset, padding_idx,
    )[0]  # fmt: skip


def _embedding_bag(*args):
    """:func:`embedding_bag`'s output with what ``ember.embedding_bag`` returns beside it: the bag of each
    entry (int64, ``(N,)``), whether it counts in its bag (bool, ``(N,)``), the number of bags, and in
    ``'max'`` mode the row of ``weight`` each maximum came from (int64, ``(B, D)``; 0 for an empty bag). The
    output's node is named as PyTorch's one node for the op."""
    out, *rest = _bags(*args)
    return (named_node(out, "EmbeddingBagBackward0"), *rest)


def _bags(
    input, weight, offsets, max_norm, norm_type, scale_grad_by_freq, mode, sparse, per_sample_weights,
    include_last_offset, padding_idx,
):  # fmt: skip
    """:func:`_embedding_bag`'s results, computed from an embedding lookup."""
    if isinstance(weight, Tensor) and weight.dtype not in FLOATING_AND_HALF:
        raise RuntimeError(
            "Expected tensor for argument #1 'weight' to have one of the following scalar types: Half, BFloat16, "
            f"Float, Double; but got {weight.dtype} instead (while checking arguments for embedding_bag)"
        )
    input = _check_indices("embedding_bag", input, weight)
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
                f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub."
            )
        if per_sample_weights.shape != input.shape:
            raise ValueError(
                f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) is not None, then it "
                f"must have the same shape as the input ({list(input.shape)})"
            )
        if per_sample_weights.dtype is not weight.dtype:
            raise RuntimeError(
                "Expected tensor for argument #1 'weight' to have the same type as tensor for argument #1 "
                f"'per_sample_weights'; but type torch.{TORCH_NAMES[weight.dtype]}Tensor does not equal "
                f"torch.{TORCH_NAMES[per_sample_weights.dtype]}Tensor (while checking arguments for embedding_bag)"
            )
    if mode == "max" and (scale_grad_by_freq or sparse):
        raise ValueError(
            f"max mode does not support {'scaling the gradient by the frequency' if scale_grad_by_freq else 'sparse weights'}"
        )
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length "
                f"sequences. However, found offsets of type {type(offsets)}"
            )
        bags, length = input.shape
        offsets = arange(0, bags * length, length, device=input.device) if length else input.new_zeros((bags,))
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
        include_last_offset = False
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        if offsets.dtype not in (dtypes.int64, dtypes.int32):  # PyTorch checks them as its 'indices' too
            raise RuntimeError(
                "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
                f"but got {offsets.dtype} instead (while checking arguments for embedding_bag)"
            )
        offsets = offsets.long()
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    n = input.shape[0]
    end = n
    if include_last_offset and offsets.shape[0] == 0:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    if offsets.shape[0] and not offsets.is_meta:  # PyTorch's checks, on the offsets as given
        first, last = int(offsets[0].item()), int(offsets[-1].item())
        if first != 0:
            raise RuntimeError(
                "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
                f"However, got {first}"
            )
        if last > n:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of {last}")
        if bool((offsets[1:] < offsets[:-1]).any()):  # a bag would end before it starts
            raise RuntimeError(f"embedding_bag: offsets have to be non-decreasing, got {offsets.tolist()}")
    if include_last_offset:
        end = n if offsets.is_meta else int(offsets[-1].item())
        offsets = offsets[:-1]
    num_bags = offsets.shape[0]
    padding_idx = _normalize_padding_idx(padding_idx, weight.shape[0], "embedding_bag")
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    rows = _Embedding.apply(weight, input, padding_idx, scale_grad_by_freq, sparse)  # (n, D)
    if num_bags == 0:  # (include_last_offset with one offset: no bag, whatever the input holds)
        return rows[:0], input.new_zeros((n,)), input.new_zeros((n,), dtype=dtypes.bool), 0, None
    # bag of each entry: how many offsets (after the first) are at or before it
    starts = offsets[1:].clamp(max=n)  # an offset past the input starts a bag that holds no entry: it marks slot n
    marks = input.new_zeros((n + 1,)).index_add(0, starts, input.new_ones(starts.shape))[:n]
    bag = marks.cumsum(0)
    keep = arange(n, device=input.device) < end  # entries past the last offset belong to no bag
    if padding_idx is not None:
        keep = keep.logical_and(input != padding_idx)
    dim = weight.shape[1]
    if mode == "max" and n:  # (no entry at all: every bag is empty, the zeros of the sum below)
        member = (bag.unsqueeze(0) == arange(num_bags, device=input.device).unsqueeze(1)).logical_and(keep.unsqueeze(0))
        # PyTorch's kernels start from a bag's first entry and move to a later one only when it is greater:
        # a NaN first entry stays, a later NaN is passed over, and of equal maxima the first is kept
        nan = rows.isnan()
        valid = member.unsqueeze(-1).logical_and(nan.logical_not().unsqueeze(0))
        filled = where(valid, rows.unsqueeze(0), float("-inf")).to(rows.dtype)
        top = filled.max(1)  # the first maximum of each bag takes the gradient (PyTorch's max_indices)
        filled_bag = member.any(1, keepdim=True)
        first = member.long().argmax(1)  # each bag's first entry (0 for an empty bag: selected away below)
        # (a maximum of -inf: every number of the bag is -inf, and the first entry is the one kept)
        use_first = filled_bag.logical_and(nan[first].logical_or(top.values == float("-inf")))
        values = where(use_first, rows[first], top.values).to(rows.dtype)
        out = where(filled_bag, values, 0.0).to(rows.dtype)
        positions = where(use_first, first.unsqueeze(1), top.indices)
        return out, bag, keep, num_bags, where(filled_bag, input[positions], 0)
    narrow = weight.dtype if weight.dtype in dtypes.narrow_float else None
    if narrow is not None:  # PyTorch sums 16-bit rows and their weights in float32
        rows = rows.float()
        per_sample_weights = None if per_sample_weights is None else per_sample_weights.float()
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    # the entries left out are selected away, so an inf/NaN upstream does not reach them (as in PyTorch)
    kept = where(keep.unsqueeze(1), rows, 0.0).to(rows.dtype)
    out = rows.new_zeros((num_bags, dim)).index_add(0, bag, kept)
    max_rows = input.new_zeros((num_bags, dim)) if mode == "max" else None  # (no entry: every bag empty)
    if narrow is not None and weight.device.type != "cuda":
        # PyTorch's CPU kernels (FBGEMM's) round the sums once, then divide the means in the 16-bit type
        out = _RoundedHalfAway.apply(out) if narrow is dtypes.bfloat16 else out.to(narrow)
    if mode == "mean":
        counts = out.detach().new_zeros((num_bags,)).index_add(0, bag, keep.to(out.dtype))
        out = out / counts.clamp(min=1).unsqueeze(1)
    # (CUDA's: the means in float32, rounded once)
    return (out if narrow is None else out.to(narrow)), bag, keep, num_bags, max_rows


class _RoundedHalfAway(Function):
    """float32 to bfloat16 rounding half away from zero (FBGEMM's conversion of its float32 bag sums:
    ``(bits + 0x8000) >> 16``; NaN stays NaN), where a plain cast rounds half to even; the gradient
    passes as float32."""

    @staticmethod
    def forward(ctx, x):
        bits = (x.view(dtypes.int32).to(dtypes.int64) + 0x8000) >> 16
        return where(x.isnan(), x.to(dtypes.bfloat16), bits.to(dtypes.int16).view(dtypes.bfloat16))

    @staticmethod
    def backward(ctx, grad):
        return grad.float()


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    r"""One-hot encoding of int64 class indices: shape ``tensor.shape + (num_classes,)``, int64.

    Args:
        tensor (LongTensor): class indices.
        num_classes (int): number of classes; -1 infers ``max + 1``. Default: -1

    Shape:
        - Input: :math:`(*)`
        - Output: :math:`(*, \text{num\_classes})`

    Examples::

        >>> F.one_hot(ember.tensor([0, 2, 1]))
        tensor([[1, 0, 0],
                [0, 0, 1],
                [0, 1, 0]])
        >>> F.one_hot(ember.tensor([[1], [0]]), num_classes=4)
        tensor([[[0, 1, 0, 0]],
        <BLANKLINE>
                [[1, 0, 0, 0]]])
    """
    require_tensors("one_hot", ("input",), tensor)
    if not isinstance(num_classes, (numbers.Integral, Tensor)) or isinstance(num_classes, bool):
        raise TypeError(f"one_hot(): argument 'num_classes' (position 2) must be int, not {type_name(num_classes)}")
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    level = autograd_function.vmap_level
    if num_classes == -1 and level is not None and level.mapping():  # the class count would vary per entry
        raise RuntimeError(
            "When vmap-ing ember.nn.functional.one_hot, please provide an explicit positive num_classes argument."
        )
    if not tensor.numel() and num_classes <= 0:  # (PyTorch's message, for 0 classes too)
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = int(tensor.max().item()) + 1
    if (
        tensor.numel()
        and not tensor.is_meta
        and (int(tensor.min().item()) < 0 or int(tensor.max().item()) >= num_classes)
    ):
        raise RuntimeError(
            "Class values must be smaller than num_classes."
            if int(tensor.min().item()) >= 0
            else "Class values must be non-negative."
        )
    return (tensor.unsqueeze(-1) == arange(num_classes, device=tensor.device)).long()
