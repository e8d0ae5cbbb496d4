"""DistributedSampler: PyTorch's index arithmetic, shuffling by seed and epoch, errors."""

from __future__ import annotations

import pytest
import torch.utils.data as tdata

from ember.utils.data import DataLoader, DistributedSampler


@pytest.mark.parametrize("n", [1, 5, 7, 8, 10])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_matches_torch_without_shuffle(n, replicas, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = tdata.DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) == len(list(ours))
        assert ours.total_size == theirs.total_size


def test_padding_longer_than_dataset_matches_torch():
    data = [0, 1]
    for rank in range(5):
        assert list(DistributedSampler(data, 5, rank, shuffle=False)) == list(
            tdata.DistributedSampler(data, 5, rank, shuffle=False)
        )


@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffle_partitions_one_permutation(drop_last):
    n, replicas = 11, 3
    shares = [list(DistributedSampler(range(n), replicas, r, seed=7, drop_last=drop_last)) for r in range(replicas)]
    merged = [i for share in shares for i in share]
    assert len({len(s) for s in shares}) == 1
    if drop_last:
        assert len(merged) == len(set(merged)) == 9
    else:
        assert set(merged) == set(range(n)) and len(merged) == 12


def test_seed_and_epoch():
    a = DistributedSampler(range(20), 2, 0, seed=1)
    b = DistributedSampler(range(20), 2, 0, seed=1)
    assert list(a) == list(b)  # same seed, same epoch: same order on every rank
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first and sorted(a) != sorted(first) or list(a) != first
    b.set_epoch(1)
    assert list(a) == list(b)
    assert list(DistributedSampler(range(20), 2, 0, seed=2)) != first


def test_with_dataloader():
    sampler = DistributedSampler(list(range(10)), num_replicas=2, rank=1, shuffle=False)
    batches = [b.tolist() for b in DataLoader(list(range(10)), batch_size=2, sampler=sampler)]
    assert batches == [[1, 3], [5, 7], [9]]


def test_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), num_replicas=2, rank=-1)
    with pytest.raises(ValueError, match="num_replicas should be a positive integer"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
