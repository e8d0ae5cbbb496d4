"""``ember.utils._pytree``: nested Python containers (pytrees) as ``torch.utils._pytree`` handles
them, the one implementation that :mod:`ember.func` uses too.

A pytree is a *node* of a registered container type -- ``tuple``, ``list``, ``dict``, named
tuples, ``OrderedDict``, ``defaultdict``, ``deque``, :class:`ember.Size`, and any type given to
:func:`register_pytree_node` -- whose children are pytrees, or a *leaf*: anything else
(``None`` and subclasses of the built-in containers included, as in PyTorch). Flattening gives
the leaves in order and a :class:`TreeSpec`, the structure without them.

Example::

    >>> from ember.utils._pytree import tree_flatten, tree_map, tree_unflatten
    >>> leaves, spec = tree_flatten({"a": [1, 2], "b": (3, None)})
    >>> leaves
    [1, 2, 3, None]
    >>> tree_unflatten([x * 10 for x in leaves[:3]] + [None], spec)
    {'a': [10, 20], 'b': (30, None)}
    >>> tree_map(lambda x: x + 1, [1, (2, 3)])
    [2, (3, 4)]
"""

from __future__ import annotations

import dataclasses
import types
from collections import OrderedDict, defaultdict, deque, namedtuple
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from ..tensor import Size

__all__ = [
    "TreeSpec",
    "LeafSpec",
    "SequenceKey",
    "MappingKey",
    "GetAttrKey",
    "register_pytree_node",
    "tree_is_leaf",
    "tree_flatten",
    "tree_unflatten",
    "tree_iter",
    "tree_leaves",
    "tree_structure",
    "tree_map",
    "tree_map_only",
    "tree_map_",
    "tree_map_only_",
    "tree_all",
    "tree_any",
    "tree_all_only",
    "tree_any_only",
    "tree_flatten_with_path",
    "tree_leaves_with_path",
    "tree_map_with_path",
    "keystr",
    "key_get",
    "is_namedtuple",
    "is_namedtuple_class",
    "is_namedtuple_instance",
]

PyTree = Any
Context = Any
FlattenFn = Callable[[PyTree], tuple[list[Any], Context]]
UnflattenFn = Callable[[Iterable[Any], Context], PyTree]
IsLeaf = Callable[[PyTree], bool] | None


# -- keys: how a child is reached from its parent (for paths) ---------------------------------
@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """The child at position ``idx`` of a sequence: ``[idx]``."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"

    def get(self, sequence: Any) -> Any:
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    """The value of ``key`` in a mapping: ``[key]``."""

    key: Any

    def __str__(self) -> str:
        return f"[{self.key!r}]"

    def get(self, mapping: Any) -> Any:
        return mapping[self.key]


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """The attribute ``name`` of an object: ``.name``."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"

    def get(self, obj: Any) -> Any:
        return getattr(obj, self.name)


# -- the registry of node types --------------------------------------------------------------
class _Node(NamedTuple):
    flatten: FlattenFn
    unflatten: UnflattenFn
    flatten_with_keys: Callable[[PyTree], tuple[list[tuple[Any, Any]], Context]] | None


SUPPORTED_NODES: dict[Any, _Node] = {}


def register_pytree_node(
    cls: type,
    flatten_fn: FlattenFn,
    unflatten_fn: UnflattenFn,
    *,
    serialized_type_name: str | None = None,
    to_dumpable_context: Callable[[Context], Any] | None = None,
    from_dumpable_context: Callable[[Any], Context] | None = None,
    flatten_with_keys_fn: Callable[[PyTree], tuple[list[tuple[Any, Any]], Context]] | None = None,
) -> None:
    """Make ``cls`` a pytree node type.

    Args:
        cls (type): the container type (instances of subclasses stay leaves).
        flatten_fn (callable): ``node -> (children, context)``, ``context`` being what rebuilding
            needs besides the children (hashable and comparable).
        unflatten_fn (callable): ``(children, context) -> node``.
        serialized_type_name, to_dumpable_context, from_dumpable_context: accepted for
            PyTorch compatibility (ember does not serialize tree specs).
        flatten_with_keys_fn (callable, optional): ``node -> ([(key, child), ...], context)``,
            for :func:`tree_flatten_with_path`.

    Example::

        >>> class Pair:
        ...     def __init__(self, first, second):
        ...         self.first, self.second = first, second
        >>> register_pytree_node(Pair, lambda p: ([p.first, p.second], None), lambda c, _: Pair(*c))
        >>> tree_leaves(Pair(1, [2, 3]))
        [1, 2, 3]
    """
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = _Node(flatten_fn, unflatten_fn, flatten_with_keys_fn)


def is_namedtuple_class(cls: object) -> bool:
    """Whether ``cls`` is a class made by ``collections.namedtuple`` or ``typing.NamedTuple``."""
    return (
        isinstance(cls, type)
        and issubclass(cls, tuple)
        and isinstance(getattr(cls, "_fields", None), tuple)
        and all(isinstance(field, str) for field in cls._fields)  # type: ignore[attr-defined]
        and callable(getattr(cls, "_make", None))
        and callable(getattr(cls, "_asdict", None))
    )


def is_namedtuple_instance(obj: object) -> bool:
    """Whether ``obj`` is a named tuple."""
    return is_namedtuple_class(type(obj))


def is_namedtuple(obj: object) -> bool:
    """Whether ``obj`` is a named tuple or a named-tuple class."""
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def _node_type(tree: PyTree) -> Any:
    """The registry key of ``tree``: its type, or ``namedtuple`` for every named tuple."""
    return namedtuple if is_namedtuple_instance(tree) else type(tree)


def tree_is_leaf(tree: PyTree, is_leaf: IsLeaf = None) -> bool:
    """Whether ``tree`` is a leaf: not of a node type, or one ``is_leaf`` declares a leaf."""
    return (is_leaf is not None and is_leaf(tree)) or _node_type(tree) not in SUPPORTED_NODES


def _sequence_keys(children: list[Any]) -> list[tuple[Any, Any]]:
    return [(SequenceKey(i), child) for i, child in enumerate(children)]


def _register_builtins() -> None:
    def sequence(cls: type) -> None:
        register_pytree_node(
            cls,
            lambda node: (list(node), None),
            lambda children, _: cls(children),
            flatten_with_keys_fn=lambda node: (_sequence_keys(list(node)), None),
        )

    def mapping(cls: type, rebuild: UnflattenFn) -> None:
        register_pytree_node(
            cls,
            lambda node: (list(node.values()), list(node)),
            rebuild,
            flatten_with_keys_fn=lambda node: ([(MappingKey(k), v) for k, v in node.items()], list(node)),
        )

    for cls in (tuple, list, Size):
        sequence(cls)
    mapping(dict, lambda children, keys: dict(zip(keys, children)))
    mapping(OrderedDict, lambda children, keys: OrderedDict(zip(keys, children)))
    register_pytree_node(
        defaultdict,
        lambda node: (list(node.values()), [node.default_factory, list(node)]),
        lambda children, context: defaultdict(context[0], zip(context[1], children)),
        flatten_with_keys_fn=lambda node: (
            [(MappingKey(k), v) for k, v in node.items()],
            [node.default_factory, list(node)],
        ),
    )
    register_pytree_node(
        deque,
        lambda node: (list(node), node.maxlen),
        lambda children, maxlen: deque(children, maxlen=maxlen),
        flatten_with_keys_fn=lambda node: (_sequence_keys(list(node)), node.maxlen),
    )
    register_pytree_node(
        namedtuple,  # type: ignore[arg-type]  # the key of every named tuple; the context is its class
        lambda node: (list(node), type(node)),
        lambda children, cls: cls(*children),
        flatten_with_keys_fn=lambda node: ([(GetAttrKey(f), v) for f, v in zip(node._fields, node)], type(node)),
    )


_register_builtins()


# -- the structure ---------------------------------------------------------------------------
class TreeSpec:
    """The structure of a pytree without its leaves.

    Attributes:
        type: the node's type (``None`` for a leaf; ``collections.namedtuple`` for named tuples).
        context: what rebuilding the node needs besides its children (a dict's keys, a named
            tuple's class).
        children_specs (list[TreeSpec]): the structures of the children.
        num_leaves, num_nodes, num_children (int): counts of the subtree.

    Example::

        >>> spec = tree_structure([1, (2, 3)])
        >>> spec
        TreeSpec(list, None, [*,
          TreeSpec(tuple, None, [*,
            *])])
        >>> spec.num_leaves, spec.num_nodes, spec.num_children
        (3, 5, 2)
        >>> spec.unflatten(["a", "b", "c"])
        ['a', ('b', 'c')]
    """

    def __init__(self, type: Any, context: Context, children_specs: list[TreeSpec]) -> None:
        self.type = type
        self.context = context
        self.children_specs = list(children_specs)
        self.num_children = len(self.children_specs)
        if type is None and not self.children_specs:
            self.num_leaves, self.num_nodes = 1, 1
        else:
            self.num_leaves = sum(child.num_leaves for child in self.children_specs)
            self.num_nodes = 1 + sum(child.num_nodes for child in self.children_specs)

    def is_leaf(self) -> bool:
        """Whether this is the structure of a single leaf."""
        return self.num_nodes == 1 and self.num_leaves == 1

    def children(self) -> list[TreeSpec]:
        """The structures of the children."""
        return list(self.children_specs)

    def child(self, index: int) -> TreeSpec:
        """The structure of child ``index``."""
        return self.children_specs[index]

    def unflatten(self, leaves: Iterable[Any]) -> PyTree:
        """The pytree of this structure holding ``leaves`` (see :func:`tree_unflatten`)."""
        return tree_unflatten(leaves, self)

    def flatten_up_to(self, tree: PyTree) -> list[Any]:
        """The subtrees of ``tree`` at this structure's leaves; ``tree`` must have this structure
        down to them (ValueError naming the first difference)."""
        subtrees: list[Any] = []
        self._flatten_up_to(tree, subtrees)
        return subtrees

    def _flatten_up_to(self, tree: PyTree, subtrees: list[Any]) -> None:
        if self.is_leaf():
            subtrees.append(tree)
            return
        node_type = _node_type(tree)
        if node_type is not self.type:
            raise ValueError(f"Node type mismatch; expected {self.type!r}, but got {node_type!r}.")
        children, context = SUPPORTED_NODES[node_type].flatten(tree)
        if len(children) != self.num_children:
            raise ValueError(f"Node arity mismatch; expected {self.num_children}, but got {len(children)}.")
        if context != self.context:
            raise ValueError(f"Node context mismatch for custom node type {self.type!r}.")
        for spec, child in zip(self.children_specs, children):
            spec._flatten_up_to(child, subtrees)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TreeSpec)
            and self.type is other.type
            and self.context == other.context
            and self.children_specs == other.children_specs
        )

    def __hash__(self) -> int:
        return hash((self.type, self.num_nodes, self.num_leaves))

    def __repr__(self) -> str:
        return self._repr(0)

    def _repr(self, indent: int) -> str:
        if self.is_leaf():
            return "*"
        inner = indent + 2
        children = (",\n" + " " * inner).join(child._repr(inner) for child in self.children_specs)
        return f"TreeSpec({self.type.__name__}, {self.context}, [{children}])"


class LeafSpec(TreeSpec):
    """The structure of a single leaf (printed ``*``)."""

    def __init__(self) -> None:
        super().__init__(None, None, [])


_LEAF = LeafSpec()


# -- flattening and rebuilding ---------------------------------------------------------------
def tree_flatten(tree: PyTree, is_leaf: IsLeaf = None) -> tuple[list[Any], TreeSpec]:
    """``(leaves, spec)``: the leaves of ``tree`` in order and its structure.

    Args:
        tree: the pytree.
        is_leaf (callable, optional): a predicate that stops the descent at the nodes it is true for.

    Example::

        >>> tree_flatten((1, [2, 3]))
        ([1, 2, 3], TreeSpec(tuple, None, [*,
          TreeSpec(list, None, [*,
            *])]))
    """
    leaves: list[Any] = []

    def walk(node: PyTree) -> TreeSpec:
        if tree_is_leaf(node, is_leaf):
            leaves.append(node)
            return _LEAF
        node_type = _node_type(node)
        children, context = SUPPORTED_NODES[node_type].flatten(node)
        return TreeSpec(node_type, context, [walk(child) for child in children])

    return leaves, walk(tree)


def tree_unflatten(leaves: Iterable[Any], treespec: TreeSpec) -> PyTree:
    """The pytree of structure ``treespec`` holding ``leaves`` (the inverse of :func:`tree_flatten`).

    Example::

        >>> tree_unflatten([1, 2], tree_structure({"x": 0, "y": 0}))
        {'x': 1, 'y': 2}
    """
    if not isinstance(treespec, TreeSpec):
        raise TypeError(
            f"tree_unflatten(leaves, treespec): Expected `treespec` to be an instance of TreeSpec but got item "
            f"of type {type(treespec)}."
        )
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(
            f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers to a pytree "
            f"that holds {treespec.num_leaves} items ({treespec})."
        )
    items = iter(leaves)

    def build(spec: TreeSpec) -> PyTree:
        if spec.is_leaf():
            return next(items)
        return SUPPORTED_NODES[spec.type].unflatten([build(child) for child in spec.children_specs], spec.context)

    return build(treespec)


def tree_iter(tree: PyTree, is_leaf: IsLeaf = None) -> Iterator[Any]:
    """An iterator over the leaves of ``tree``.

    Example::

        >>> list(tree_iter([1, {"a": 2}]))
        [1, 2]
    """
    return iter(tree_flatten(tree, is_leaf)[0])


def tree_leaves(tree: PyTree, is_leaf: IsLeaf = None) -> list[Any]:
    """The leaves of ``tree`` in order.

    Example::

        >>> tree_leaves([1, (2, None), {"a": 3}])
        [1, 2, None, 3]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: PyTree, is_leaf: IsLeaf = None) -> TreeSpec:
    """The structure of ``tree``.

    Example::

        >>> tree_structure((1, 2))
        TreeSpec(tuple, None, [*,
          *])
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func: Callable[..., Any], tree: PyTree, *rests: PyTree, is_leaf: IsLeaf = None) -> PyTree:
    """``tree`` with each leaf replaced by ``func(leaf, *leaves of rests there)``; each of ``rests``
    has ``tree``'s structure (or a deeper one: its subtrees at ``tree``'s leaves are passed).

    Example::

        >>> tree_map(lambda x, y: x + y, [1, (2, 3)], [10, (20, 30)])
        [11, (22, 33)]
    """
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec.flatten_up_to(rest) for rest in rests]
    return spec.unflatten(map(func, leaves, *others))


def _type_test(type_or_types_or_pred: Any) -> Callable[[Any], bool]:
    """The leaf test of the ``*_only`` functions: a type, a tuple or union of types, or a predicate."""
    if isinstance(type_or_types_or_pred, (type, types.UnionType)) or (
        isinstance(type_or_types_or_pred, tuple) and all(isinstance(t, type) for t in type_or_types_or_pred)
    ):
        return lambda x: isinstance(x, type_or_types_or_pred)
    if callable(type_or_types_or_pred):
        return type_or_types_or_pred
    raise TypeError("Argument must be a type, a tuple of types, or a callable.")


def tree_map_only(
    type_or_types_or_pred: Any, func: Callable[[Any], Any], tree: PyTree, is_leaf: IsLeaf = None
) -> PyTree:
    """``tree`` with ``func`` applied to the leaves of the given type(s) (or passing a predicate),
    the other leaves kept.

    Example::

        >>> tree_map_only(int, lambda x: x * 2, [1, "a", (2.5, 3)])
        [2, 'a', (2.5, 6)]
    """
    test = _type_test(type_or_types_or_pred)
    return tree_map(lambda x: func(x) if test(x) else x, tree, is_leaf=is_leaf)


def tree_map_(func: Callable[..., Any], tree: PyTree, *rests: PyTree, is_leaf: IsLeaf = None) -> PyTree:
    """Calls ``func(leaf, *leaves of rests there)`` for each leaf of ``tree`` (for its side
    effects, an in-place update of each tensor for example) and returns ``tree``.

    Example::

        >>> seen = []
        >>> tree_map_(seen.append, [1, (2, 3)])
        [1, (2, 3)]
        >>> seen
        [1, 2, 3]
    """
    leaves, spec = tree_flatten(tree, is_leaf)
    for args in zip(leaves, *(spec.flatten_up_to(rest) for rest in rests)):
        func(*args)
    return tree


def tree_map_only_(
    type_or_types_or_pred: Any, func: Callable[[Any], Any], tree: PyTree, is_leaf: IsLeaf = None
) -> PyTree:
    """:func:`tree_map_` on the leaves of the given type(s) (or passing a predicate) only.

    Example::

        >>> seen = []
        >>> tree_map_only_(int, seen.append, [1, "a", 2.5])
        [1, 'a', 2.5]
        >>> seen
        [1]
    """
    test = _type_test(type_or_types_or_pred)
    return tree_map_(lambda x: func(x) if test(x) else None, tree, is_leaf=is_leaf)


def tree_all(pred: Callable[[Any], bool], tree: PyTree, is_leaf: IsLeaf = None) -> bool:
    """Whether ``pred`` holds for every leaf of ``tree``.

    Example::

        >>> tree_all(lambda x: x > 0, [1, (2, 3)])
        True
    """
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred: Callable[[Any], bool], tree: PyTree, is_leaf: IsLeaf = None) -> bool:
    """Whether ``pred`` holds for some leaf of ``tree``.

    Example::

        >>> tree_any(lambda x: x is None, [1, (None, 3)])
        True
    """
    return any(map(pred, tree_iter(tree, is_leaf)))


def tree_all_only(type_or_types: Any, pred: Callable[[Any], bool], tree: PyTree, is_leaf: IsLeaf = None) -> bool:
    """Whether ``pred`` holds for every leaf of the given type(s).

    Example::

        >>> tree_all_only(int, lambda x: x > 0, [1, "a", 2])
        True
    """
    test = _type_test(type_or_types)
    return all(pred(x) for x in tree_iter(tree, is_leaf) if test(x))


def tree_any_only(type_or_types: Any, pred: Callable[[Any], bool], tree: PyTree, is_leaf: IsLeaf = None) -> bool:
    """Whether ``pred`` holds for some leaf of the given type(s).

    Example::

        >>> tree_any_only(str, lambda x: x == "a", [1, "a", 2])
        True
    """
    test = _type_test(type_or_types)
    return any(pred(x) for x in tree_iter(tree, is_leaf) if test(x))


# -- paths -----------------------------------------------------------------------------------
KeyPath = tuple[Any, ...]


def tree_flatten_with_path(tree: PyTree, is_leaf: IsLeaf = None) -> tuple[list[tuple[KeyPath, Any]], TreeSpec]:
    """``([(path, leaf), ...], spec)``: each leaf with the keys that lead to it from the root.

    Example::

        >>> pairs, _ = tree_flatten_with_path({"a": [1, 2]})
        >>> [(keystr(path), leaf) for path, leaf in pairs]
        [("['a'][0]", 1), ("['a'][1]", 2)]
    """
    pairs: list[tuple[KeyPath, Any]] = []

    def walk(node: PyTree, path: KeyPath) -> None:
        if tree_is_leaf(node, is_leaf):
            pairs.append((path, node))
            return
        node_type = _node_type(node)
        flatten_with_keys = SUPPORTED_NODES[node_type].flatten_with_keys
        if flatten_with_keys is None:
            raise ValueError(
                f"Did not find a flatten_with_keys_fn for type: {node_type}. Please pass a flatten_with_keys_fn "
                "argument to register_pytree_node."
            )
        for key, child in flatten_with_keys(node)[0]:
            walk(child, (*path, key))

    walk(tree, ())
    return pairs, tree_structure(tree, is_leaf)


def tree_leaves_with_path(tree: PyTree, is_leaf: IsLeaf = None) -> list[tuple[KeyPath, Any]]:
    """``[(path, leaf), ...]`` for the leaves of ``tree`` (see :func:`tree_flatten_with_path`).

    Example::

        >>> tree_leaves_with_path((1, 2))
        [((SequenceKey(idx=0),), 1), ((SequenceKey(idx=1),), 2)]
    """
    return tree_flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(func: Callable[..., Any], tree: PyTree, *rests: PyTree, is_leaf: IsLeaf = None) -> PyTree:
    """``tree`` with each leaf replaced by ``func(path, leaf, *leaves of rests there)``.

    Example::

        >>> tree_map_with_path(lambda path, x: keystr(path), {"a": 1})
        {'a': "['a']"}
    """
    pairs, spec = tree_flatten_with_path(tree, is_leaf)
    others = [spec.flatten_up_to(rest) for rest in rests]
    return spec.unflatten(func(path, leaf, *more) for (path, leaf), *more in zip(pairs, *others))


def keystr(kp: KeyPath) -> str:
    """A path as Python source spells the access: ``['a'][0].field``.

    Example::

        >>> keystr((MappingKey("a"), SequenceKey(0)))
        "['a'][0]"
    """
    return "".join(str(key) for key in kp)


def key_get(obj: Any, kp: KeyPath) -> Any:
    """The subtree of ``obj`` at path ``kp``.

    Example::

        >>> key_get({"a": [1, 2]}, (MappingKey("a"), SequenceKey(1)))
        2
    """
    for key in kp:
        obj = key.get(obj)
    return obj
