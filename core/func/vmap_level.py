"""One running :func:`ember.vmap`, and what it knows of the entries it runs: the batching rules it
calls (a custom ``autograd.Function``'s ``vmap`` staticmethod, an operator's
:func:`ember.library.register_vmap` rule), its ``randomness`` handling of random draws, and PyTorch's
refusals of what a loop over the entries cannot do as a batch: values read as Python numbers
(``.item()``, control flow) that depend on the entry, in-place writes into a tensor the entries
share, batch norm updating unmapped running statistics.

:func:`ember.vmap` runs its function once per batch entry. While it does, a :class:`VmapLevel` knows
which batched input each entry's tensors are slices of. A Function or operator with a rule that is
called on such slices gets its rule called on the batched inputs instead, with their ``in_dims``, and
returns the entry's slice of the rule's batched output (the rule runs once per batch for the same
inputs: its output is kept for the other entries). A tensor that the function computed from its
inputs is not known as batched: the rule sees it with ``in_dim=None``, and its output for that entry
is still the right one.
"""

from __future__ import annotations

import inspect
import sys
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any, NamedTuple

from ..autograd import function as autograd_function
from ..autograd.function import RUN_FORWARD, Function
from ..overrides import _WRAPPER_FILENAME
from ..tensor import Tensor
from .pytree import broadcast_prefix, tree_flatten, tree_unflatten

__all__ = ["VmapInfo", "VmapLevel"]

#: ``ember.tensor``, the module (the package's ``ember.tensor`` is the factory function)
tensor_module: Any = sys.modules[Tensor.__module__]

_DOCS = "For more details, please see https://pytorch.org/docs/main/notes/extending.func.html"


class VmapInfo(NamedTuple):
    """What a batching rule is told besides ``in_dims``: the batch size and ``vmap``'s ``randomness``."""

    batch_size: int
    randomness: str


class VmapLevel:
    """One running :func:`ember.vmap`, entered with ``with``: the slices it hands its function, the
    rules' outputs, the generators' states, the values read and the tensors written so far.

    Args:
        batch_size: the size of the mapped dimension.
        randomness: ``vmap``'s ``randomness``.
        maps_inputs: whether the function's inputs are mapped; ``jacfwd``'s level maps only its
            tangents, so the checks of mapped values (batch norm, ``one_hot``) do not apply there.
    """

    __slots__ = (
        "info", "maps_inputs", "outer", "index", "_slices", "_outputs", "_first_states", "_replayed", "_reads",
        "_read", "_written",
    )  # fmt: skip

    def __init__(self, batch_size: int, randomness: str, maps_inputs: bool = True) -> None:
        self.info = VmapInfo(batch_size, randomness)
        self.maps_inputs = maps_inputs
        self.outer: VmapLevel | None = None
        self.index = 0
        self._slices: dict[int, tuple[Tensor, Tensor, int]] = {}  # id(slice) -> (slice, batched, dim)
        self._outputs: list[tuple[Callable[..., Any], list[Any], Any]] = []  # (rule, key, output)
        self._first_states: list[tuple[Any, Any]] = []  # (generator, its state before the first draw)
        self._replayed: list[Any] = []  # the generators this entry has drawn from
        self._reads: list[Any] = []  # the values the function read as Python numbers in the first entry
        self._read = 0  # how many it has read in this entry
        self._written: dict[int, tuple[weakref.ref[Tensor], int]] = {}  # id -> (tensor, entry) of in-place writes

    def __enter__(self) -> VmapLevel:
        self.outer = autograd_function.vmap_level
        autograd_function.connect_vmap_level(self)
        tensor_module.scalar_read_hook = _scalar_read
        return self

    def __exit__(self, *exc: Any) -> None:
        autograd_function.connect_vmap_level(self.outer)
        if self.outer is None:
            tensor_module.scalar_read_hook = None

    def entry(self, batched: Tensor, dim: int, index: int) -> Tensor:
        """Entry ``index`` of ``batched`` along ``dim``, known as its slice while the entry runs."""
        if index != self.index:
            self.index = index
            self._slices.clear()
            self._replayed.clear()
            self._read = 0
        piece = batched.select(dim, index)
        self._slices[id(piece)] = (piece, batched, dim)
        return piece

    def random_draw(self, generator: Any) -> None:
        """A random op is about to draw from the backend ``generator``: it raises where this level or an
        enclosing one has ``randomness="error"``; where a level has ``"same"``, each of its entries
        draws from the state the generator had when its first entry first drew from it."""
        level: VmapLevel | None = self
        while level is not None:
            if level.info.randomness == "error":
                raise RuntimeError(
                    "vmap: called random operation while in randomness error mode. Please either use the 'same' "
                    "or 'different' randomness flags on vmap or perform the randomness operation out of vmap"
                )
            level = level.outer
        level = self
        while level is not None:
            if level.info.randomness == "same":
                level._replay(generator)
            level = level.outer

    def _replay(self, generator: Any) -> None:
        if any(g is generator for g in self._replayed):
            return
        self._replayed.append(generator)
        for known, state in self._first_states:
            if known is generator:
                generator.set_state(state)
                return
        self._first_states.append((generator, generator.get_state()))

    def read_scalar(self, tensor: Tensor, value: Any, use: str) -> None:
        """PyTorch's refusal of a mapped value read as a Python number (``.item()``, ``float()``, an
        ``if`` on a tensor; ``use`` "item" or "control flow") or as Python lists (``tolist()``, "data"): ember knows a tensor as mapped when it is an entry of a mapped input, or
        when the same read gives another value in another entry (a read whose value is the same in
        every entry passes, where PyTorch refuses a mapped one)."""
        mapped = self._is_mapped(tensor)
        level: VmapLevel | None = self
        while level is not None and not mapped:
            mapped = level._varies(value)
            level = level.outer
        if not mapped:
            return
        if use == "data":
            raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")
        if use == "item":
            raise RuntimeError(
                "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling .item() "
                "on a Tensor, please try to rewrite what you're doing with other operations. If error is occurring "
                "somewhere inside PyTorch internals, please file a bug report."
            )
        raise RuntimeError(
            "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. We don't "
            "support that yet, please file an issue at https://github.com/pytorch/pytorch/issues ."
        )

    def _varies(self, value: Any) -> bool:
        """Whether the entry's next read, ``value``, differs from the first entry's read at that place."""
        position, self._read = self._read, self._read + 1
        if self.index == 0:
            self._reads.append(value)
            return False
        if position >= len(self._reads):
            return False
        first = self._reads[position]
        return first != value and repr(first) != repr(value)  # NaN equals NaN here

    def check_inplace(self, tensor: Tensor) -> None:
        """PyTorch's refusal of an in-place op on a tensor that is not mapped while the function runs:
        ember knows one when an earlier entry wrote into the same tensor (each entry's write would land
        in it: PyTorch writes once, or refuses a mapped operand)."""
        if self._is_mapped(tensor):
            return
        seen = self._written.get(id(tensor))
        if seen is not None and seen[0]() is tensor and seen[1] != self.index:
            raise RuntimeError(
                "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor `other` "
                "in extra_args that has more elements than `self`. This happened due to `other` being vmapped over "
                "but `self` not being vmapped over in a vmap. Please try to use out-of-place operators instead of "
                "inplace arithmetic. If said operator is being called inside the PyTorch framework, please file a "
                "bug report instead."
            )
        self._written[id(tensor)] = (weakref.ref(tensor), self.index)

    def check_running_stats(self, *stats: Tensor | None) -> None:
        """PyTorch's refusal of a batch norm in training that would update running statistics that are
        not batched (each entry's update would land in the same tensors): every statistic must be an
        entry's slice of a mapped input (``stack_module_state``'s buffers)."""
        if self.mapping() and not all(self._is_mapped(t) for t in stats):
            raise RuntimeError(
                "Batch norm got a batched tensor as input while the running_mean or running_var, which will be "
                "updated in place, were not batched.\nIf you are using a module and do not need eval mode, please "
                "set `track_running_stats` to be False.If you are using a prebuilt module and do not need eval "
                "mode, please see the functorch website for resources on how to patch your module to work with vmap"
            )

    def unwrap(self, tensor: Tensor, recurse: bool) -> Tensor:
        """The mapped input ``tensor`` is an entry of (of the outermost level's input with ``recurse``),
        or ``tensor`` itself."""
        level: VmapLevel | None = self
        while level is not None:
            source, dim = level._batched(tensor)
            if dim is None:
                break
            tensor = source
            level = level.outer if recurse else None
        return tensor

    def mapping(self) -> bool:
        """Whether this level or an enclosing one maps its function's inputs (a ``vmap``'s does)."""
        level: VmapLevel | None = self
        while level is not None:
            if level.maps_inputs:
                return True
            level = level.outer
        return False

    def maps_any(self, values: Any) -> bool:
        """Whether a tensor in the pytree ``values`` is an entry of a mapped input."""
        return any(self._is_mapped(v) for v in tree_flatten(list(values))[0])

    def _is_mapped(self, value: Any) -> bool:
        level: VmapLevel | None = self
        while level is not None:
            if level._batched(value)[1] is not None:
                return True
            level = level.outer
        return False

    def _batched(self, value: Any) -> tuple[Any, int | None]:
        known = self._slices.get(id(value)) if isinstance(value, Tensor) else None
        if known is None or known[0] is not value:
            return value, None
        return known[1], known[2]

    def apply_function(self, function: type[Function], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``function.apply(*args, **kwargs)`` for this entry: by its ``vmap`` staticmethod, or
        :data:`RUN_FORWARD` where ``forward`` runs as usual (PyTorch's checks first)."""
        name = function.__name__
        if function._vmap_runs_forward:
            return RUN_FORWARD
        if not function._uses_setup_context:
            raise RuntimeError(
                "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, ...), it "
                f"must override the setup_context staticmethod. {_DOCS}"
            )
        overridden = function.vmap is not Function.vmap
        if function.generate_vmap_rule:
            if overridden:
                raise RuntimeError(
                    f"You tried to vmap over {name}, but it has both generate_vmap_rule=True and an overridden vmap "
                    "staticmethod. Please set generate_vmap_rule=False or delete the overridden vmap staticmethod "
                    f"to avoid ambiguity. {_DOCS}"
                )
            return RUN_FORWARD
        if not overridden:
            raise RuntimeError(
                f"You tried to vmap over {name}, but it does not have vmap support. Please override and implement "
                f"the vmap staticmethod or set generate_vmap_rule=True. {_DOCS}"
            )
        if any(isinstance(v, Tensor) for v in tree_flatten(kwargs)[0]):
            raise NotImplementedError(
                "Run vmap on autograd.Function with kwarg-only Tensor args. Please do not pass kwarg-only Tensors to "
                f"autograd.Function. Got: {kwargs}"
            )
        bound = inspect.signature(function.forward).bind(*args, **kwargs)
        bound.apply_defaults()  # the rule sees every argument of forward, as setup_context does
        return self.apply_rule(function.vmap, bound.args, bound.kwargs)

    def apply_rule(self, rule: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """This entry's output of the op whose batching rule is ``rule`` (called as
        ``rule(info, in_dims, *args, **kwargs)``), or :data:`RUN_FORWARD` when no argument is batched."""
        flat, spec = tree_flatten(args)
        pairs = [self._batched(v) for v in flat]
        if all(dim is None for _, dim in pairs):
            return RUN_FORWARD
        key = [(v, d, v._version if isinstance(v, Tensor) else None) for v, d in pairs]
        key += [(v, None, None) for v in tree_flatten(kwargs)[0]]
        output = self._kept_output(rule, key)
        if output is None:
            batched_args = tree_unflatten([v for v, _ in pairs], spec)
            in_dims = tree_unflatten([d for _, d in pairs], spec)
            autograd_function.connect_vmap_level(self.outer)  # the rule's own calls are not batched here
            try:
                result = rule(self.info, in_dims, *batched_args, **kwargs)
            finally:
                autograd_function.connect_vmap_level(self)
            output = _checked_rule_output(result)
            self._outputs.append((rule, key, output))
        leaves, dims, out_spec = output
        return tree_unflatten(
            [leaf if dim is None else leaf.select(dim, self.index) for leaf, dim in zip(leaves, dims)], out_spec
        )

    def _kept_output(self, rule: Callable[..., Any], key: list[Any]) -> Any:
        for kept_rule, kept_key, output in self._outputs:
            if kept_rule is rule and len(kept_key) == len(key):
                if all(a[0] is b[0] and a[1:] == b[1:] for a, b in zip(kept_key, key)):
                    return output
        return None


def _checked_rule_output(result: Any) -> tuple[list[Any], list[Any], Any]:
    """``(leaves, out_dims, spec)`` of what a batching rule returned: PyTorch's checks."""
    base = (
        "Expected the vmap staticmethod to have two returns, an output and out_dims with pytree structure "
        "compatible with the output. "
    )
    if not isinstance(result, tuple):
        raise RuntimeError(base + f"Got a {type(result)} instead")
    if len(result) != 2:
        raise RuntimeError(base + f"Got {len(result)} returns instead")
    output, out_dims = result
    leaves, spec = tree_flatten(output)
    dims = broadcast_prefix(out_dims, output)
    if dims is None:
        raise RuntimeError(
            "The autograd.Function's vmap staticmethod returned an incompatible (output, out_dims) tuple. "
            f"Expected out_dims={out_dims} to be compatible with the structure of `output`. out_dims has structure "
            f"{tree_flatten(out_dims)[1]} but output has structure {spec}. {_DOCS}"
        )
    return leaves, dims, spec


def _scalar_read(tensor: Tensor, value: Any, use: str) -> None:
    """``ember.tensor.scalar_read_hook`` while a vmap runs: the reads of the user's code (not ember's own
    ops, which read values where PyTorch's kernels do) go to the innermost level."""
    level = autograd_function.vmap_level
    if level is None:  # a batching rule is running, outside every level
        return
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and (
        frame.f_globals.get("__name__") == "ember.tensor" or frame.f_code.co_filename == _WRAPPER_FILENAME
    ):  # the tensor's own code, and the protocol's checking wrapper of the method the user called
        frame = frame.f_back
    if frame is not None and str(frame.f_globals.get("__name__", "")).startswith("ember."):
        return
    level.read_scalar(tensor, value, use)
