"""ember.utils.data: datasets, samplers, collation and the DataLoader, against torch.utils.data."""

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
from ember.utils import data as eud


def _ds(device, n=10):
    return eud.TensorDataset(ember.arange(2.0 * n, device=device).reshape(n, 2), ember.arange(n, device=device))


def test_tensor_dataset_and_sequential_loader(device):
    ds = _ds(device)
    assert len(ds) == 10
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3
    batches = list(eud.DataLoader(ds, batch_size=4))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert batches[0][0].device == ember.device(device)
    assert batches[2][1].tolist() == [8, 9]
    assert len(eud.DataLoader(ds, batch_size=4)) == 3
    assert len(eud.DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert [len(b[1]) for b in eud.DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]


def test_shuffle_is_a_permutation_and_seedable(device):
    ds = _ds(device, 23)

    def order(seed):
        loader = eud.DataLoader(ds, batch_size=5, shuffle=True, generator=ember.Generator().manual_seed(seed))
        return [i for _, y in loader for i in y.tolist()]

    a, b, c = order(1), order(1), order(2)
    assert sorted(a) == list(range(23))
    assert a == b and a != c
    # without a generator, the order follows the default generator
    ember.manual_seed(5)
    d = [i for _, y in eud.DataLoader(ds, batch_size=5, shuffle=True) for i in y.tolist()]
    ember.manual_seed(5)
    e = [i for _, y in eud.DataLoader(ds, batch_size=5, shuffle=True) for i in y.tolist()]
    assert d == e and sorted(d) == list(range(23))


def test_shuffle_generator_state_resumes_order():
    ds = list(range(17))
    g = ember.Generator().manual_seed(3)
    loader = eud.DataLoader(ds, batch_size=4, shuffle=True, generator=g)
    list(loader)
    state = g.get_state()
    second = [b.tolist() for b in loader]
    g.set_state(state)
    assert [b.tolist() for b in loader] == second


@pytest.mark.parametrize(
    "sample",
    [
        (1.5, 2, True),
        {"a": 1, "b": [1.0, 2.0]},
        collections.namedtuple("P", "x y")(1, 2.0),
        "text",
        np.array([1, 2], dtype=np.int32),
        np.float32(1.5),
    ],
)
def test_default_collate_matches_torch(sample):
    batch = [sample, sample]
    ours, theirs = eud.default_collate(batch), tud.default_collate(batch)

    def compare(a, b):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, ember.Tensor)
            assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        elif isinstance(b, dict):
            assert type(a) is type(b) and a.keys() == b.keys()
            for k in b:
                compare(a[k], b[k])
        elif isinstance(b, (list, tuple)):
            assert type(a).__name__ == type(b).__name__ and len(a) == len(b)
            for x, y in zip(a, b):
                compare(x, y)
        else:
            assert a == b

    compare(ours, theirs)


def test_default_collate_tensors_and_errors(device):
    out = eud.default_collate([(ember.zeros(2, device=device), 0), (ember.ones(2, device=device), 1)])
    assert out[0].shape == (2, 2) and out[0].device == ember.device(device) and out[1].tolist() == [0, 1]
    with pytest.raises(RuntimeError, match="equal size"):
        eud.default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        eud.default_collate([object(), object()])
    # a tensor sample followed by a number: torch.stack's TypeError, naming the element
    for lib, collate in ((torch, tud.default_collate), (ember, eud.default_collate)):
        with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but got int"):
            collate([lib.tensor(1), 2])


def test_default_convert_and_no_batching():
    ds = [np.array([1.0, 2.0]), np.array([3.0, 4.0])]
    out = list(eud.DataLoader(ds, batch_size=None))
    assert isinstance(out[0], ember.Tensor) and out[1].tolist() == [3.0, 4.0]
    converted = eud.default_convert((np.int64(3), "s"))
    assert isinstance(converted, list) and converted[0].dtype == ember.int64 and converted[1] == "s"


def test_samplers_against_torch():
    data = range(10)
    assert list(eud.SequentialSampler(data)) == list(tud.SequentialSampler(data))
    for bs, drop in [(3, False), (3, True), (5, True)]:
        ours = eud.BatchSampler(eud.SequentialSampler(data), bs, drop)
        theirs = tud.BatchSampler(tud.SequentialSampler(data), bs, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_random_sampler_options():
    g = ember.Generator().manual_seed(0)
    s = eud.RandomSampler(range(5), num_samples=12, generator=g)
    out = list(s)
    assert len(out) == len(s) == 12
    assert sorted(out[:5]) == list(range(5)) and sorted(out[5:10]) == list(range(5))
    s = eud.RandomSampler(range(5), replacement=True, num_samples=70, generator=g)
    out = list(s)
    assert len(out) == 70 and set(out) <= set(range(5))
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        eud.RandomSampler(range(5), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        eud.RandomSampler(range(5), num_samples=0)


def test_subset_random_and_weighted_samplers():
    g = ember.Generator().manual_seed(0)
    idx = [10, 20, 30, 40]
    out = list(eud.SubsetRandomSampler(idx, generator=g))
    assert sorted(out) == idx
    w = eud.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50, generator=g)
    out = list(w)
    assert len(out) == 50 and set(out) == {1, 3}
    out = list(eud.WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False, generator=g))
    assert sorted(out) == [0, 1, 2]
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        eud.WeightedRandomSampler([[1.0]], 1)
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        eud.WeightedRandomSampler([1.0], 1, replacement=None)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        eud.WeightedRandomSampler([1.0], -1)


def test_batch_sampler_errors_match_torch():
    for args in [(0, False), (2, 1)]:
        with pytest.raises(ValueError) as theirs:
            tud.BatchSampler(range(3), *args)
        with pytest.raises(ValueError) as ours:
            eud.BatchSampler(range(3), *args)
        assert str(ours.value) == str(theirs.value)


def test_dataloader_with_samplers():
    ds = list(range(10))
    loader = eud.DataLoader(ds, batch_size=3, sampler=eud.SequentialSampler(ds))
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    loader = eud.DataLoader(ds, batch_sampler=[[1, 2], [5]])
    assert [b.tolist() for b in loader] == [[1, 2], [5]] and len(loader) == 2
    loader = eud.DataLoader(ds, batch_size=2, collate_fn=lambda b: sum(b))
    assert list(loader) == [1, 5, 9, 13, 17]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(shuffle=True, sampler=[0, 1]),
        dict(batch_sampler=[[0]], batch_size=2),
        dict(batch_sampler=[[0]], drop_last=True),
        dict(batch_size=None, drop_last=True),
        dict(num_workers=-1),
        dict(timeout=-1),
        dict(persistent_workers=True),
    ],
)
def test_dataloader_bad_arguments_match_torch(kwargs):
    with pytest.raises(ValueError) as theirs:
        tud.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(ValueError) as ours:
        eud.DataLoader(list(range(4)), **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_dataloader_frozen_attributes():
    loader = eud.DataLoader([1, 2])
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3


class _Stream(eud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_iterable_dataset():
    assert [b.tolist() for b in eud.DataLoader(_Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in eud.DataLoader(_Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert [b.tolist() for b in eud.DataLoader(_Stream(6), batch_size=3)] == [[0, 1, 2], [3, 4, 5]]
    assert len(eud.DataLoader(_Stream(7), batch_size=3)) == 3
    assert [b for b in eud.DataLoader(_Stream(2), batch_size=None)] == [0, 1]
    assert list(_Stream(2) + _Stream(3)) == [0, 1, 0, 1, 2]
    for name, value in [("shuffle", True), ("sampler", [0]), ("batch_sampler", [[0]])]:
        message = f"DataLoader with IterableDataset: expected unspecified {name} option, but got {name}="
        with pytest.raises(ValueError, match=message):
            eud.DataLoader(_Stream(2), **{name: value})


def test_random_split_lengths_and_fractions():
    g = ember.Generator().manual_seed(0)
    parts = eud.random_split(range(10), [3, 7], generator=g)
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    for fractions in ([0.8, 0.2], [0.33, 0.33, 0.34], [0.5, 0.5]):
        ours = eud.random_split(range(11), fractions, generator=g)
        theirs = tud.random_split(range(11), fractions, generator=torch.Generator().manual_seed(0))
        assert [len(p) for p in ours] == [len(p) for p in theirs]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        eud.random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        eud.random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        eud.random_split(range(2), [0.9, 0.1])


def test_subset_and_concat():
    sub = eud.Subset(list(range(10, 20)), [3, 1])
    assert len(sub) == 2 and sub[0] == 13
    assert [b.tolist() for b in eud.DataLoader(sub, batch_size=2)] == [[13, 11]]
    cat = eud.ConcatDataset([[0, 1, 2], [3, 4]])
    assert len(cat) == 5 and [cat[i] for i in range(5)] == [0, 1, 2, 3, 4] and cat[-1] == 4
    assert cat.cumulative_sizes == [3, 5]
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        cat[-6]
    with pytest.raises(IndexError):
        cat[5]
    with pytest.raises(AssertionError, match="should not be an empty iterable"):  # PyTorch's assertions
        eud.ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        eud.ConcatDataset([_Stream(2)])
    joined = eud.TensorDataset(ember.zeros(2)) + eud.TensorDataset(ember.ones(3))
    assert isinstance(joined, eud.ConcatDataset) and len(joined) == 5


def test_tensor_dataset_of_mismatched_tensors_is_torchs_assertion():
    torch = pytest.importorskip("torch")
    for module in (torch, ember):
        with pytest.raises(AssertionError, match="Size mismatch between tensors"):
            module.utils.data.TensorDataset(module.ones(3), module.ones(4))
        module.utils.data.TensorDataset()  # no tensors: accepted, as PyTorch's
