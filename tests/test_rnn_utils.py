"""``nn.utils.rnn``: packing and padding, differential against PyTorch (values and gradients)."""

from __future__ import annotations

import numpy as np
import pytest
from reference import check, randn

import ember
from ember.nn.utils import rnn as er

torch = pytest.importorskip("torch")
from torch.nn.utils import rnn as tr  # noqa: E402


def _packed(p):
    return [p.data, p.batch_sizes] + [i for i in (p.sorted_indices, p.unsorted_indices) if i is not None]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([4, 3, 1], True), ([2, 4, 1], False), ([4, 4, 2], True)])
def test_pack_padded_sequence(batch_first, lengths, enforce_sorted, device, dtype):
    shape = (3, 4, 2) if batch_first else (4, 3, 2)
    check(
        lambda x: _packed(er.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)),
        lambda x: _packed(tr.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)),
        [randn(*shape)],
        device=device,
        dtype=dtype,
    )


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("total_length", [None, 6])
def test_pad_packed_round_trip(batch_first, enforce_sorted, total_length, device, dtype):
    lengths = [4, 2, 1] if enforce_sorted else [1, 4, 2]

    def run(mod, x):
        packed = mod.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        return mod.pad_packed_sequence(packed, batch_first, padding_value=-2.0, total_length=total_length)

    check(lambda x: run(er, x), lambda x: run(tr, x), [randn(4, 3, 2)], device=device, dtype=dtype)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side, device, dtype):
    check(
        lambda a, b, c: er.pad_sequence([a, b, c], batch_first, 1.5, padding_side),
        lambda a, b, c: tr.pad_sequence([a, b, c], batch_first, 1.5, padding_side),
        [randn(2, 3), randn(4, 3), randn(1, 3)],
        device=device,
        dtype=dtype,
    )


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_unpack_sequence(enforce_sorted, device, dtype):
    shapes = [(4, 2), (3, 2), (1, 2)] if enforce_sorted else [(3, 2), (4, 2), (1, 2)]
    check(
        lambda *s: _packed(er.pack_sequence(list(s), enforce_sorted)),
        lambda *s: _packed(tr.pack_sequence(list(s), enforce_sorted)),
        [randn(*s) for s in shapes],
        device=device,
        dtype=dtype,
    )
    check(
        lambda *s: er.unpack_sequence(er.pack_sequence(list(s), enforce_sorted)),
        lambda *s: tr.unpack_sequence(tr.pack_sequence(list(s), enforce_sorted)),
        [randn(*s) for s in shapes],
        device=device,
        dtype=dtype,
    )


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence(batch_first, device, dtype):
    lengths = [3, 1, 2]
    # torch transposes its argument in place, so both sides get a non-leaf copy
    check(
        lambda x: er.unpad_sequence(x * 1, ember.tensor(lengths), batch_first),
        lambda x: tr.unpad_sequence(x * 1, torch.tensor(lengths), batch_first),
        [randn(3, 3, 2)],
        device=device,
        dtype=dtype,
    )


def test_packed_sequence_container(device):
    seqs = [ember.tensor([1.0, 2.0, 3.0], device=device), ember.tensor([4.0, 5.0], device=device)]
    packed = er.pack_sequence(seqs)
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert data.tolist() == [1.0, 4.0, 2.0, 5.0, 3.0]
    assert batch_sizes.tolist() == [2, 2, 1] and batch_sizes.dtype is ember.int64
    assert str(batch_sizes.device) == "cpu"
    assert sorted_indices is None and unsorted_indices is None
    moved = packed.to(ember.float64)
    assert moved.data.dtype is ember.float64 and moved.batch_sizes is packed.batch_sizes
    assert packed.to(ember.float32) is packed
    unsorted = er.pack_sequence([seqs[1], seqs[0]], enforce_sorted=False)
    assert unsorted.sorted_indices.tolist() == [1, 0] and unsorted.unsorted_indices.tolist() == [1, 0]
    assert unsorted.double().unsorted_indices.tolist() == [1, 0]


def test_errors():
    x = ember.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order when `enforce_sorted`"):
        er.pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match=r"Expected `len\(lengths\)` to be equal to batch_size, but got 2"):
        er.pack_padded_sequence(x, [4, 2])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        er.pack_padded_sequence(x, [4, 2, 0])
    packed = er.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="Expected total_length to be at least the length of the longest"):
        er.pad_packed_sequence(packed, total_length=3)
    with pytest.raises(TypeError, match="expected a PackedSequence"):
        er.pad_packed_sequence(x)
    with pytest.raises(RuntimeError, match="same trailing dimensions"):
        er.pad_sequence([ember.randn(2, 3), ember.randn(2, 4)])


def test_gradcheck_pack_pad(device):
    x = ember.tensor(randn(3, 3, 2), device=device, requires_grad=True)

    def fn(t):
        packed = er.pack_padded_sequence(t, [1, 3, 2], enforce_sorted=False)
        return er.pad_packed_sequence(packed, batch_first=True)[0] * 2

    assert ember.autograd.gradcheck(fn, (x,))
    assert np.all(er.pad_packed_sequence(er.pack_padded_sequence(x, [3, 2, 1]))[0][2, 1:].detach().cpu().numpy() == 0)
