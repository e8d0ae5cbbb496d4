"""``ember.utils._pytree`` against ``torch.utils._pytree``: leaves, structures, paths, errors."""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque, namedtuple

import pytest

import ember
from ember.utils import _pytree as pytree

torch = pytest.importorskip("torch")
torch_pytree = pytest.importorskip("torch.utils._pytree")

Point = namedtuple("Point", "x y")

TREES = [
    1,
    None,
    [1, 2, 3],
    (1, [2, (3, None)], {"b": 4, "a": 5}),
    {"z": [1], "y": (2, 3)},
    OrderedDict(b=1, a=[2, 3]),
    defaultdict(int, a=1, b=(2,)),
    deque([1, [2, 3]], maxlen=4),
    Point(1, y=[2, 3]),
    [[], (), {}],
]


@pytest.mark.parametrize("tree", TREES, ids=repr)
def test_flatten_matches_torch(tree):
    leaves, spec = pytree.tree_flatten(tree)
    expected_leaves, expected_spec = torch_pytree.tree_flatten(tree)
    assert leaves == expected_leaves
    assert repr(spec) == repr(expected_spec)
    assert (spec.num_leaves, spec.num_nodes, spec.num_children, spec.is_leaf()) == (
        expected_spec.num_leaves,
        expected_spec.num_nodes,
        len(expected_spec.children()),
        expected_spec.is_leaf(),
    )
    rebuilt = pytree.tree_unflatten(leaves, spec)
    assert rebuilt == tree and type(rebuilt) is type(tree)
    assert pytree.tree_structure(tree) == spec and pytree.tree_leaves(tree) == leaves


@pytest.mark.parametrize("tree", TREES[2:], ids=repr)
def test_paths_match_torch(tree):
    pairs, _ = pytree.tree_flatten_with_path(tree)
    expected, _ = torch_pytree.tree_flatten_with_path(tree)
    assert [(pytree.keystr(p), leaf) for p, leaf in pairs] == [(torch_pytree.keystr(p), leaf) for p, leaf in expected]
    for path, leaf in pairs:
        assert pytree.key_get(tree, path) == leaf


def test_tree_map_variants_match_torch():
    tree = {"a": [1, 2.5], "b": ("s", 3)}
    for lib in (pytree, torch_pytree):
        assert lib.tree_map(lambda x, y: (x, y), [1, (2, 3)], [[9], ("p", "q")]) == [(1, [9]), ((2, "p"), (3, "q"))]
        assert lib.tree_map_only(int, lambda x: -x, tree) == {"a": [-1, 2.5], "b": ("s", -3)}
        assert lib.tree_map_only((int, float), lambda x: 0, tree) == {"a": [0, 0], "b": ("s", 0)}
        assert lib.tree_all(lambda x: x is not None, tree) and not lib.tree_any(lambda x: x is None, tree)
        assert lib.tree_any_only(str, lambda x: x == "s", tree) and lib.tree_all_only(int, lambda x: x > 0, tree)
        assert lib.tree_leaves([1, (2, 3)], is_leaf=lambda x: isinstance(x, tuple)) == [1, (2, 3)]
        assert lib.tree_map_with_path(lambda p, x, keystr=lib.keystr: keystr(p), {"k": [0]}) == {"k": ["['k'][0]"]}


def test_tensors_and_sizes_flatten_as_in_torch():
    tree = {"w": ember.ones(2), "shape": ember.ones(2, 3).shape}
    leaves, spec = pytree.tree_flatten(tree)
    expected_leaves, expected_spec = torch_pytree.tree_flatten({"w": torch.ones(2), "shape": torch.ones(2, 3).shape})
    assert repr(spec) == repr(expected_spec) and leaves[1:] == expected_leaves[1:] == [2, 3]
    rebuilt = pytree.tree_unflatten(leaves, spec)
    assert rebuilt["shape"] == (2, 3) and isinstance(rebuilt["shape"], ember.Size)


def test_register_pytree_node_and_errors():
    class Box:
        def __init__(self, items):
            self.items = items

    pytree.register_pytree_node(
        Box,
        lambda b: (list(b.items), None),
        lambda children, _: Box(list(children)),
        flatten_with_keys_fn=lambda b: ([(pytree.SequenceKey(i), x) for i, x in enumerate(b.items)], None),
    )
    assert pytree.tree_leaves([Box([1, 2]), 3]) == [1, 2, 3]
    assert pytree.tree_map(lambda x: x * 2, Box([1, 2])).items == [2, 4]
    assert pytree.keystr(pytree.tree_leaves_with_path(Box([7]))[0][0]) == "[0]"
    with pytest.raises(ValueError, match="already registered"):
        pytree.register_pytree_node(Box, lambda b: ([], None), lambda c, _: Box([]))
    for lib in (pytree, torch_pytree):
        with pytest.raises(ValueError, match="Node arity mismatch; expected 2, but got 3"):
            lib.tree_map(lambda x, y: x, [1, 2], [1, 2, 3])
        with pytest.raises(ValueError, match="has length 1 but the spec refers to a pytree that holds 2 items"):
            lib.tree_unflatten([1], lib.tree_structure([1, 2]))
        with pytest.raises(TypeError, match="Expected `treespec` to be an instance of"):
            lib.tree_unflatten([1], [1])


def test_leaf_spec():
    assert repr(pytree.LeafSpec()) == "*" and pytree.LeafSpec() == pytree.tree_structure(1)
    assert pytree.tree_structure(1).is_leaf() and isinstance(pytree.LeafSpec(), pytree.TreeSpec)


def test_in_place_maps_and_union_types_match_torch():
    tree = [1, ("a", 2.5), {"k": 3}]
    for lib in (pytree, torch_pytree):
        seen, seen_only = [], []
        assert lib.tree_map_(seen.append, tree) is tree
        assert lib.tree_map_only_(int | float, seen_only.append, tree) is tree
        assert (seen, seen_only) == ([1, "a", 2.5, 3], [1, 2.5, 3])
        assert lib.tree_map_only(int | str, lambda x: x * 2, tree) == [2, ("aa", 2.5), {"k": 6}]
