"""ember.utils.data off the main road: dataset combinators' errors and the collate engine
(``collate``, ``default_collate_fn_map``, container types kept as PyTorch keeps them), against
torch.utils.data."""

from __future__ import annotations

import collections
import enum
import importlib
import types
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
from ember.utils import data as eud

LIBS = [(torch, tud), (ember, eud)]


def _described(value):
    """A library-neutral description of a collated value: containers by type name, tensors by
    dtype, shape and values, a defaultdict with its factory."""
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return ("tensor", str(value.dtype).split(".")[-1], tuple(value.shape), value.tolist())
    if isinstance(value, collections.abc.Mapping):
        factory = getattr(value, "default_factory", None)
        extra = getattr(value, "tag", None)
        return (type(value).__name__, factory, extra, {k: _described(v) for k, v in value.items()})
    if isinstance(value, (list, tuple, collections.UserList)):
        return (type(value).__name__, [_described(v) for v in value])
    return (type(value).__name__, value)


class _Stream:
    """Mixed into each library's IterableDataset."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def _stream(data, n):
    return type("Stream", (_Stream, data.IterableDataset), {})(n)


# -- dataset combinators ------------------------------------------------------------------
@pytest.mark.parametrize(
    "make", [lambda data: data.ConcatDataset([]), lambda data: data.ConcatDataset([_stream(data, 2)])]
)
def test_concat_dataset_refusals_are_torchs_assertions(make):
    with pytest.raises(AssertionError) as theirs:
        make(tud)
    with pytest.raises(AssertionError) as ours:
        make(eud)
    assert str(ours.value) == str(theirs.value)


def test_map_dataset_plus_stream_is_torchs_assertion():
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        eud.TensorDataset(ember.zeros(2)) + _stream(eud, 2)


def test_concat_dataset_old_attribute_name_warns_like_torch():
    for _, data in LIBS:
        concat = data.ConcatDataset([[1, 2], [3]])
        with pytest.warns(FutureWarning, match="`cummulative_sizes` attribute is renamed to `cumulative_sizes`"):
            assert concat.cummulative_sizes == [2, 3]


def test_concat_dataset_negative_indices_and_empty_members_like_torch():
    def items(data):
        concat = data.ConcatDataset([[], [0, 1], [], [2, 3, 4]])
        return concat.cumulative_sizes, [concat[i] for i in range(-5, 5)]

    assert items(eud) == items(tud)


# -- the collate engine -------------------------------------------------------------------
def _collate_module(data):
    return importlib.import_module(data.__name__ + "._utils.collate")


def test_collate_module_is_at_torchs_path():
    ours, theirs = _collate_module(eud), _collate_module(tud)
    names = [n for n in dir(theirs) if n.startswith(("collate", "default_collate", "default_convert"))]
    assert names and all(hasattr(ours, n) for n in names)
    assert ours.default_collate is eud.default_collate and ours.default_convert is eud.default_convert
    assert eud._utils.collate is ours


class Point:
    def __init__(self, x):
        self.x = x


def _tens(batch, *, collate_fn_map=None):
    return [p.x * 10 for p in batch]


def test_extending_default_collate_fn_map_steers_default_collate_and_the_loader():
    results = []
    for _, data in LIBS:
        module = _collate_module(data)
        module.default_collate_fn_map[Point] = _tens
        try:
            samples = [{"p": Point(1), "n": 1}, {"p": Point(2), "n": 2}]
            batch = next(iter(data.DataLoader(samples, batch_size=2)))
            results.append((_described(data.default_collate(samples)), _described(batch)))
        finally:
            del module.default_collate_fn_map[Point]
    assert results[1] == results[0]
    assert results[1][0][3]["p"] == ("list", [("int", 10), ("int", 20)])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        eud.default_collate([Point(1)])  # the entry is gone again


class _Base:
    pass


class _Derived(_Base):
    pass


@pytest.mark.parametrize(
    "batch,table",
    [
        ([Point(1), Point(2)], {Point: _tens}),
        ([(Point(1), 3), (Point(2), 4)], "default+point"),  # tuples: a list of collated positions
        ([1, 2], {Point: _tens}),  # no entry for int: not a container either
        ([(1, 2), (3, 4)], None),  # no table: containers only, then the refusal
        (
            [_Derived(), _Derived()],
            {_Base: lambda b, *, collate_fn_map: "base", _Derived: lambda b, *, collate_fn_map: "exact"},
        ),
        (
            [_Derived(), _Derived()],
            {_Base: lambda b, *, collate_fn_map: "base", object: lambda b, *, collate_fn_map: "object"},
        ),
    ],
)
def test_collate_with_a_table_like_torch(batch, table):
    outcomes = []
    for lib, data in LIBS:
        module = _collate_module(data)
        fn_map = {**module.default_collate_fn_map, Point: _tens} if table == "default+point" else table
        try:
            outcomes.append(("ok", _described(module.collate(batch, collate_fn_map=fn_map))))
        except Exception as exc:  # noqa: BLE001 - the refusal itself is compared
            outcomes.append((type(exc).__name__, str(exc).replace(lib.__name__, "LIB")))
    assert outcomes[1] == outcomes[0]


def test_collate_tensor_fn_in_a_custom_table(device):
    ours = _collate_module(eud).collate(
        [ember.ones(2, device=device), ember.zeros(2, device=device)],
        collate_fn_map={ember.Tensor: _collate_module(eud).collate_tensor_fn},
    )
    theirs = _collate_module(tud).collate(
        [torch.ones(2), torch.zeros(2)], collate_fn_map={torch.Tensor: _collate_module(tud).collate_tensor_fn}
    )
    assert ours.device == ember.device(device) and ours.tolist() == theirs.tolist()


class _TaggedDict(dict):
    """A dict whose copy keeps an attribute: PyTorch copies mutable mappings instead of rebuilding them."""

    tag = None

    def __copy__(self):
        clone = _TaggedDict(self)
        clone.tag = self.tag
        return clone


def _tagged(**items):
    d = _TaggedDict(items)
    d.tag = "kept"
    return d


class _Seq(collections.abc.Sequence):
    """An immutable sequence type whose constructor takes a list."""

    def __init__(self, items):
        self.items = list(items)

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)

    def __eq__(self, other):
        return isinstance(other, _Seq) and self.items == other.items


class _Color(enum.IntEnum):
    RED = 1
    GREEN = 2


def _proxy(**items):
    return types.MappingProxyType(items)


SAMPLES = {
    "defaultdict": lambda lib: [collections.defaultdict(list, a=1), collections.defaultdict(list, a=2)],
    "tagged dict": lambda lib: [_tagged(a=1.5), _tagged(a=2.5)],
    "UserList": lambda lib: [collections.UserList([1, 2.0]), collections.UserList([3, 4.0])],
    "numpy str scalars": lambda lib: [np.str_("a"), np.str_("b")],
    "numpy bytes scalars": lambda lib: [np.bytes_(b"a"), np.bytes_(b"b")],
    "numpy str array": lambda lib: [np.array(["a"]), np.array(["b"])],
    "numpy object array": lambda lib: [np.array([1], dtype=object), np.array([2], dtype=object)],
    "memmap-like subclass": lambda lib: [
        np.zeros(2, np.float32).view(np.memmap),
        np.ones(2, np.float32).view(np.memmap),
    ],
    "IntEnum": lambda lib: [_Color.RED, _Color.GREEN],
    "numpy float32 then float": lambda lib: [np.float32(1.5), 2.5],  # float32, as torch.as_tensor infers
    "numpy int32 then float": lambda lib: [np.int32(1), 2.5],
    "numpy int8 then float16": lambda lib: [np.int8(1), np.float16(2)],
    "bool then int": lambda lib: [True, 2],
    "int then float": lambda lib: [1, 2.5],
    "nested": lambda lib: [{"x": (lib.zeros(1), [1, "a"])}, {"x": (lib.ones(1), [2, "b"])}],
    "mapping proxy": lambda lib: [_proxy(a=1), _proxy(a=2)],
    "unequal lists": lambda lib: [[1, 2], [3]],
    "tensors of unequal shapes": lambda lib: [lib.ones(2), lib.ones(3)],
}


def _outcome(fn):
    try:
        return ("ok", _described(fn()))
    except Exception as exc:  # noqa: BLE001 - the refusal itself is compared
        return (type(exc).__name__, str(exc).split(" (")[0])


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_default_collate_keeps_torchs_types(name):
    make = SAMPLES[name]
    assert _outcome(lambda: eud.default_collate(make(ember))) == _outcome(lambda: tud.default_collate(make(torch)))


@pytest.mark.parametrize("name", sorted(set(SAMPLES) - {"numpy bytes scalars"}))  # PyTorch fails on np.bytes_
def test_default_convert_keeps_torchs_types(name):
    make = SAMPLES[name]
    assert _outcome(lambda: eud.default_convert(make(ember))) == _outcome(lambda: tud.default_convert(make(torch)))


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: _Seq([np.int8(1), np.zeros(1)]),
        lambda lib: collections.defaultdict(int, a=np.zeros(1)),
        lambda lib: range(3),
        lambda lib: (np.int64(1), np.zeros(1)),
        lambda lib: np.str_("a"),
    ],
)
def test_default_convert_of_one_sample_like_torch(make):
    ours, theirs = eud.default_convert(make(ember)), tud.default_convert(make(torch))
    if isinstance(theirs, _Seq):
        assert isinstance(ours, _Seq)
        ours, theirs = ours.items, theirs.items
    assert _described(ours) == _described(theirs)


def test_default_collate_in_a_loader_keeps_a_defaultdict(device):
    samples = [collections.defaultdict(list, x=ember.full((2,), float(i), device=device)) for i in range(3)]
    batch = next(iter(eud.DataLoader(samples, batch_size=3)))
    assert type(batch) is collections.defaultdict and batch.default_factory is list
    assert batch["x"].device == ember.device(device) and batch["x"].tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]


def test_no_warning_from_default_collate():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eud.default_collate([{"a": np.float32(1)}, {"a": np.float32(2)}])


# -- generic classes ------------------------------------------------------------------------
GENERIC = [
    "Dataset",
    "IterableDataset",
    "Sampler",
    "DataLoader",
    "Subset",
    "ConcatDataset",
    "ChainDataset",
    "StackDataset",
    "TensorDataset",
    "BatchSampler",
    "RandomSampler",
    "DistributedSampler",
]


@pytest.mark.parametrize("name", GENERIC)
def test_classes_are_generic_like_torchs(name):
    """``Dataset[T]`` and friends in annotations and base-class lists, as typed PyTorch programs write them."""
    theirs, ours = getattr(tud, name), getattr(eud, name)
    assert [str(p) for p in ours.__parameters__] == [str(p) for p in theirs.__parameters__]
    assert type(ours).__name__ == type(theirs).__name__  # an IterableDataset is an abc.Iterable
    if theirs.__parameters__:
        assert ours[int] is not None


def test_a_typed_dataset_subclass_loads(device):
    class Squares(eud.Dataset[tuple[ember.Tensor, int]]):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return ember.full((2,), float(i * i), device=device), i

    class Stream(eud.IterableDataset[int]):
        def __iter__(self):
            return iter(range(3))

    class Evens(eud.Sampler[int]):
        def __iter__(self):
            return iter([0, 2])

        def __len__(self):
            return 2

    loader: eud.DataLoader[tuple[ember.Tensor, int]] = eud.DataLoader(Squares(), batch_size=2, sampler=Evens())
    ((x, i),) = list(loader)
    assert x.device == ember.device(device) and x.tolist() == [[0.0, 0.0], [4.0, 4.0]] and i.tolist() == [0, 2]
    assert isinstance(Stream(), collections.abc.Iterable) and list(eud.DataLoader(Stream(), batch_size=None)) == [
        0,
        1,
        2,
    ]


def test_an_iterable_dataset_without_iter_cannot_be_made_like_torch():
    errors = []
    for _, data in LIBS:
        with pytest.raises(TypeError) as info:
            type("NoIter", (data.IterableDataset,), {})()
        errors.append(str(info.value))
    assert errors[1] == errors[0] == "Can't instantiate abstract class NoIter with abstract method __iter__"
