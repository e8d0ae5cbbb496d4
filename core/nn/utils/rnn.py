"""``nn.utils.rnn``: packed variable-length sequences for the recurrent layers.

A :class:`PackedSequence` stores a batch of sequences of different lengths time step by
time step: ``data`` holds, for ``t = 0, 1, ...``, the ``t``-th element of every sequence that
is still running, and ``batch_sizes[t]`` says how many there are. The sequences are kept
sorted by decreasing length; ``sorted_indices``/``unsorted_indices`` remember the order the
caller gave them in. Every function here is differentiable: packing and padding are one
``index_select`` each.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any, Self

from ... import dtypes
from ...ops.creation import full
from ...ops.movement import cat
from ...tensor import Tensor, tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]

_PackedSequenceBase = namedtuple(  # type: ignore[name-match]  # the class below is what users see
    "PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"]
)


class PackedSequence(_PackedSequenceBase):
    r"""Holds the data and list of :attr:`batch_sizes` of a packed sequence.

    All RNN modules accept packed sequences as inputs. Instances should not be created
    manually: use :func:`pack_padded_sequence` or :func:`pack_sequence`.

    Attributes:
        data (Tensor): the packed elements, ``(sum(batch_sizes), *)``.
        batch_sizes (Tensor): int64 CPU tensor, the batch size at each time step.
        sorted_indices (Tensor, optional): how the sequences were reordered by length
            (``None`` when they came sorted).
        unsorted_indices (Tensor, optional): the inverse of ``sorted_indices``.

    Example::

        >>> seqs = [ember.tensor([1.0, 2.0, 3.0]), ember.tensor([4.0, 5.0])]
        >>> packed = nn.utils.rnn.pack_sequence(seqs)
        >>> packed.data
        tensor([1., 4., 2., 5., 3.])
        >>> packed.batch_sizes
        tensor([2, 2, 1])
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | Sequence[int] | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> Self:
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise ValueError("PackedSequence: batch_sizes is required")
        if not isinstance(batch_sizes, Tensor):
            batch_sizes = tensor(list(batch_sizes), dtype=dtypes.int64)
        if batch_sizes.ndim != 1:
            raise ValueError(
                f"PackedSequence: batch_sizes should always be a 1D CPU int64 tensor, got {batch_sizes.ndim}D"
            )
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """A PackedSequence with ``data.to(*args, **kwargs)``; indices follow the device.

        ``batch_sizes`` stays on the CPU, as in PyTorch.
        """
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_indices, unsorted_indices = (
            None if i is None else i.to(device=data.device) for i in (self.sorted_indices, self.unsorted_indices)
        )
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cpu(self) -> Self:
        return self.to("cpu")

    def cuda(self, *args: Any, **kwargs: Any) -> Self:
        return self.to(self.data.cuda(*args, **kwargs).device)

    def double(self) -> Self:
        return self.to(dtype=dtypes.float64)

    def float(self) -> Self:
        return self.to(dtype=dtypes.float32)

    def half(self) -> Self:
        return self.to(dtype=dtypes.float16)

    def long(self) -> Self:
        return self.to(dtype=dtypes.int64)

    def int(self) -> Self:
        return self.to(dtype=dtypes.int32)

    def short(self) -> Self:
        return self.to(dtype=dtypes.int16)

    def char(self) -> Self:
        return self.to(dtype=dtypes.int8)

    def byte(self) -> Self:
        return self.to(dtype=dtypes.uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return self.data.is_pinned()

    def pin_memory(self) -> Self:
        """A PackedSequence whose data and indices are in page-locked memory (needs an accelerator)."""
        pinned = [None if t is None else t.pin_memory() for t in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(self.data.pin_memory(), self.batch_sizes.pin_memory(), *pinned)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a 1-D permutation tensor (``None`` stays ``None``)."""
    if permutation is None:
        return None
    order = permutation.tolist()
    inverse = [0] * len(order)
    for position, index in enumerate(order):
        inverse[index] = position
    return tensor(inverse, dtype=dtypes.int64, device=permutation.device)


def _lengths_list(lengths: Tensor | Sequence[int]) -> list[int]:
    """The lengths as Python ints: PyTorch casts them to a CPU int64 tensor (floats truncated)."""
    ndim = getattr(lengths, "ndim", None)  # a tensor or an array
    ndim = _nesting(lengths) if ndim is None else ndim
    if ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {ndim}D cpu Long tensor")
    return [int(v) for v in (lengths.tolist() if hasattr(lengths, "tolist") else lengths)]


def _nesting(values: Any) -> int:
    """How deep ``values`` nests sequences (a list of numbers: 1)."""
    depth = 0
    while isinstance(values, Sequence) and not isinstance(values, str):
        depth += 1
        if not values:
            break
        values = values[0]
    return depth


def _batch_sizes(sorted_lengths):
    """Batch size at each time step for lengths sorted in decreasing order."""
    sizes, batch = [], len(sorted_lengths)
    for t in range(sorted_lengths[0] if sorted_lengths else 0):
        while batch and sorted_lengths[batch - 1] <= t:
            batch -= 1
        sizes.append(batch)
    return sizes


def _index(values, device):
    return tensor(values, dtype=dtypes.int64, device=device)


def _padded_layout(row, batch, steps, batch_first):
    """``row(t, b)`` for every position of a padded ``(batch, steps)`` (``batch_first``) or
    ``(steps, batch)`` layout, in that order, and the layout's shape."""
    if batch_first:
        return [row(t, b) for b in range(batch) for t in range(steps)], (batch, steps)
    return [row(t, b) for t in range(steps) for b in range(batch)], (steps, batch)


def pack_padded_sequence(
    input: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    r"""Packs a tensor containing padded sequences of variable length.

    :attr:`input` can be of size ``T x B x *`` (``B x T x *`` if :attr:`batch_first`) where
    ``T`` is the length of the longest sequence, ``B`` the batch size and ``*`` any number of
    dimensions (including 0).

    Args:
        input (Tensor): padded batch of variable length sequences.
        lengths (Tensor or list(int)): list of sequence lengths of each batch element.
        batch_first (bool, optional): if ``True``, the input is expected in ``B x T x *``
            format. Default: ``False``.
        enforce_sorted (bool, optional): if ``True``, the input should contain sequences
            sorted by length in a decreasing order; if ``False`` they are sorted here.
            Default: ``True``.

    Returns:
        a :class:`PackedSequence` object

    Example::

        >>> x = ember.randn(4, 3, 5)
        >>> packed = nn.utils.rnn.pack_padded_sequence(x, [4, 2, 1])
        >>> packed.data.shape
        ember.Size([7, 5])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:  # PyTorch's reads the batch's size off a missing dimension
        raise IndexError(f"pack_padded_sequence: input must have at least 2 dimensions, got {input.ndim}")
    lengths = _lengths_list(lengths)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    batch, steps = (input.shape[0], input.shape[1]) if batch_first else (input.shape[1], input.shape[0])
    if len(lengths) != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} (batch_size={batch})"
        )
    if any(n <= 0 for n in lengths):
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability."
            )
        order = list(range(batch))
        sorted_indices = None
    else:
        order = sorted(range(batch), key=lambda b: -lengths[b])
        sorted_indices = _index(order, input.device)
    sorted_lengths = [lengths[b] for b in order]
    if sorted_lengths[0] > steps:
        raise RuntimeError(
            f"pack_padded_sequence: the longest length {sorted_lengths[0]} exceeds the padded sequence length {steps}"
        )
    sizes = _batch_sizes(sorted_lengths)
    if batch_first:
        rows = [order[b] * steps + t for t, size in enumerate(sizes) for b in range(size)]
    else:
        rows = [t * batch + order[b] for t, size in enumerate(sizes) for b in range(size)]
    flat = input.reshape(batch * steps, *input.shape[2:])
    data = flat.index_select(0, _index(rows, input.device))
    return PackedSequence(data, sizes, sorted_indices, invert_permutation(sorted_indices))


def _sorted_lengths(batch_sizes):
    """Lengths (in sorted order) from the batch sizes of a packed sequence."""
    lengths = [0] * (batch_sizes[0] if batch_sizes else 0)
    for size in batch_sizes:
        for b in range(size):
            lengths[b] += 1
    return lengths


def pad_packed_sequence(
    sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0, total_length: int | None = None
) -> tuple[Tensor, Tensor]:
    r"""Pads a packed batch of variable length sequences; the inverse of :func:`pack_padded_sequence`.

    The returned tensor is of size ``T x B x *`` (``B x T x *`` if :attr:`batch_first`),
    where ``T`` is the length of the longest sequence (or :attr:`total_length`) and the
    batch is in the order the sequences were given to the packing function.

    Args:
        sequence (PackedSequence): batch to pad.
        batch_first (bool, optional): if ``True``, the output is in ``B x T x *`` format.
            Default: ``False``.
        padding_value (float, optional): value for padded elements. Default: ``0.0``.
        total_length (int, optional): if not ``None``, pad to this length. Default: ``None``.

    Returns:
        Tuple of the padded tensor and an int64 tensor with the length of each sequence.

    Example::

        >>> packed = nn.utils.rnn.pack_sequence([ember.ones(3, 2), ember.ones(1, 2)])
        >>> padded, lengths = nn.utils.rnn.pad_packed_sequence(packed)
        >>> padded.shape, lengths
        (ember.Size([3, 2, 2]), tensor([3, 1]))
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    sizes = [int(v) for v in sequence.batch_sizes.tolist()]
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {steps}"
            )
        steps = total_length
    batch = sizes[0] if sizes else 0
    sorted_lengths = _sorted_lengths(sizes)
    position = list(range(batch))
    if sequence.unsorted_indices is not None:
        position = [int(v) for v in sequence.unsorted_indices.tolist()]
    offsets, total = [], 0
    for size in sizes:
        offsets.append(total)
        total += size
    pad = total  # the row appended below holds the padding value

    def row(t, b):
        s = position[b]
        return offsets[t] + s if t < sorted_lengths[s] else pad

    rows, shape = _padded_layout(row, batch, steps, batch_first)
    filler = full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, filler], 0).index_select(0, _index(rows, data.device))
    lengths = tensor([sorted_lengths[position[b]] for b in range(batch)], dtype=dtypes.int64)
    return padded.reshape(*shape, *data.shape[1:]), lengths


def _check_sequences(name, sequences):
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError(f"{name}: received an empty list of sequences")
    for s in sequences:
        if not isinstance(s, Tensor):
            raise TypeError(f"{name}: expected a list of Tensors, got {type(s).__name__}")
        if s.ndim < 1:  # PyTorch's pack_sequence reads the length off a missing dimension
            error = IndexError if name == "pack_sequence" else RuntimeError
            raise error(f"{name}: every sequence must have at least 1 dimension (got a 0-d tensor)")
        if s.shape[1:] != sequences[0].shape[1:]:
            raise RuntimeError(
                f"{name}: all sequences must have the same trailing dimensions, got {list(sequences[0].shape)} "
                f"and {list(s.shape)}"
            )
    return sequences


def pad_sequence(
    sequences: Tensor | Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    r"""Pads a list of variable length tensors with :attr:`padding_value`.

    Stacks sequences of shape ``L_i x *`` into ``T x B x *`` (``B x T x *`` if
    :attr:`batch_first`), ``T`` being the longest length.

    Args:
        sequences (list[Tensor]): list of variable length sequences.
        batch_first (bool, optional): output in ``B x T x *`` format. Default: ``False``.
        padding_value (float, optional): value for padded elements. Default: ``0.0``.
        padding_side (str, optional): ``'right'`` or ``'left'``. Default: ``'right'``.

    Example::

        >>> a, b, c = ember.ones(25, 300), ember.ones(22, 300), ember.ones(15, 300)
        >>> nn.utils.rnn.pad_sequence([a, b, c]).size()
        ember.Size([25, 3, 300])
    """
    sequences = _check_sequences("pad_sequence", sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    lengths = [s.shape[0] for s in sequences]
    steps, batch = max(lengths), len(sequences)
    starts, total = [], 0
    for n in lengths:
        starts.append(total)
        total += n
    first = sequences[0]
    filler = full((1, *first.shape[1:]), padding_value, dtype=first.dtype, device=first.device)

    def row(t, b):
        shift = steps - lengths[b] if padding_side == "left" else 0
        k = t - shift
        return starts[b] + k if 0 <= k < lengths[b] else total

    rows, shape = _padded_layout(row, batch, steps, batch_first)
    # PyTorch copies every sequence into a tensor of the first one's dtype
    pieces = [s if s.dtype is first.dtype else s.to(first.dtype) for s in sequences]
    padded = cat([*pieces, filler], 0).index_select(0, _index(rows, first.device))
    return padded.reshape(*shape, *first.shape[1:])


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    r"""Unpads a padded tensor into a list of variable length tensors (inverse of :func:`pad_sequence`).

    Args:
        padded_sequences (Tensor): padded sequences, ``T x B x *`` (``B x T x *`` if
            :attr:`batch_first`).
        lengths (Tensor or list(int)): length of each sequence.
        batch_first (bool, optional): input in ``B x T x *`` format. Default: ``False``.

    Returns:
        a list of Tensors
    """
    lengths = _lengths_list(lengths)
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b, :n] for b, n in enumerate(lengths)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    r"""Packs a list of variable length tensors.

    Equivalent to :func:`pad_sequence` followed by :func:`pack_padded_sequence`.

    Args:
        sequences (list[Tensor]): sequences of shape ``L_i x *``, in decreasing length
            unless :attr:`enforce_sorted` is ``False``.
        enforce_sorted (bool, optional): require decreasing lengths. Default: ``True``.

    Returns:
        a :class:`PackedSequence` object

    Example::

        >>> a, b, c = ember.tensor([1, 2, 3]), ember.tensor([4, 5]), ember.tensor([6])
        >>> nn.utils.rnn.pack_sequence([a, b, c]).batch_sizes
        tensor([3, 2, 1])
    """
    sequences = _check_sequences("pack_sequence", sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    r"""Unpacks a :class:`PackedSequence` into a list of variable length tensors (inverse of :func:`pack_sequence`).

    Args:
        packed_sequences (PackedSequence): a packed batch.

    Returns:
        a list of Tensors
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
