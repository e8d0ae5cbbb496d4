"""``autograd.Function``: an operation with a forward and a backward, recorded in the graph.

Every differentiable op in ember is a ``Function``. ``forward`` runs with recording
off and may use tensor ops freely; ``backward`` is written with differentiable
tensor ops too, so that ``create_graph=True`` gives higher derivatives for free.
Where no graph of the backward is recorded, an op's ``_native_backward`` (when it has
one) computes the same gradients on the native arrays instead (:func:`run_formula`).

Example::

    >>> class Square(ember.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * grad
    >>> x = ember.tensor([3.0], requires_grad=True)
    >>> Square.apply(x).backward()
    >>> x.grad
    tensor([6.])
"""

from __future__ import annotations

import functools
import inspect
import itertools
import re
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..tensor import NODE_PREHOOK, Tensor, _InferenceVersion, _ListHandle, _new
from ..unstrided import is_strided
from .anomaly_state import is_anomaly_enabled
from .grad_mode import grad_state
from .view_history import refresh_view_history

__all__ = [
    "Function", "Node", "AccumulateGrad", "FunctionCtx", "FunctionMeta", "InplaceFunction", "once_differentiable",
]  # fmt: skip

_F = TypeVar("_F", bound=Callable[..., Any])

_sequence = itertools.count()


#: ``ember.ops.conversion.rebase_view``, which records a write into a view on its base: the ops build
#: on this module, so they hand it down once, at import (:func:`connect_rebase_view`)
_rebase_view: Callable[..., Any] | None = None


def connect_rebase_view(rebase_view: Callable[..., Any]) -> None:
    """Connect ``ember.ops.conversion.rebase_view`` (used for the dirty outputs that are views)."""
    global _rebase_view
    _rebase_view = rebase_view


#: the forward-mode rule in force, which gives the outputs of an op on dual tensors their tangents:
#: ``rule.prepare(cls, ctx, args)`` before ``forward`` (the input tangents, or None; with tangents,
#: forward mode is suspended until ``forward`` returns: its own ops compute none), then
#: ``rule.propagate(cls, ctx, args, kwargs, outputs, tangents)``; ``rule.alias_tangent(source, alias)``
#: when a saved output is read back for backward. Set by ``ember.autograd.forward_ad`` while a dual
#: level is, None otherwise (one global read per op)
tangent_rule: Any = None


def connect_forward_ad(rule: Any) -> None:
    """Set :data:`tangent_rule` (``ember.autograd.forward_ad`` does, on entering and leaving a level)."""
    global tangent_rule
    tangent_rule = rule


#: whether the node whose backward runs was handed the gradient of a tensor subclass that overrides
#: ``__torch_function__`` (a MaskedTensor): set by the engine around that backward, whose formula then computes
#: with tensor ops, which the subclass's handler sees, as PyTorch's formulas compute on the subclass
subclass_gradients = False


def differentiable_backward() -> bool:
    """Whether a backward formula must compute with tensor ops rather than on native arrays: when it
    builds a graph (``create_graph``), inside a dual level, where forward mode over backward mode
    reads the tangents of the gradients it gives, or on a gradient of a tensor subclass with its own
    ``__torch_function__`` (:data:`subclass_gradients`)."""
    return grad_state.enabled or tangent_rule is not None or subclass_gradients


def run_formula(node: Any, grads: Any) -> Any:
    """What ``node``'s backward gives for ``grads`` (one per output of its op): the engine's call of a
    node. Its Function's :attr:`~Function._native_backward` computes it where no graph of the backward is
    recorded (not :func:`differentiable_backward`) and it takes the case (:func:`native_gradients`), its
    ``backward`` otherwise."""
    function = node._function
    formula = function._native_backward
    # (differentiable_backward(), inlined: one call less per node)
    if formula is not None and not (grad_state.enabled or tangent_rule is not None or subclass_gradients):
        gradients = native_gradients(node, formula, grads)
        if gradients is not NotImplemented:
            return gradients
    return function.backward(node, *grads)


def native_gradients(node: Any, formula: Callable[..., Any], grads: Any) -> Any:
    """What ``node``'s backward gives for ``grads``, computed by ``formula``, its Function's
    :attr:`~Function._native_backward`. ``formula(node, *grads)`` computes on the gradients' native arrays
    with the kernels the forward uses and returns one native array, tensor or None per ``forward``
    argument; each array is wrapped once here, as a tensor on the gradients' device. It may return
    ``NotImplemented`` for a case it leaves to ``backward`` (a dtype, a broadcast, a tensor subclass among
    the saved tensors), and so does this function where a gradient is of a tensor subclass or none is
    given."""
    if len(grads) == 1:  # (most ops have one output)
        like = grads[0]
        if type(like) is not Tensor:  # None, or a tensor subclass
            return NotImplemented
        results = formula(node, like)
    else:
        like = None
        for grad in grads:
            if grad is not None:
                if type(grad) is not Tensor:
                    return NotImplemented
                like = grad
        if like is None:
            return NotImplemented
        results = formula(node, *grads)
    if results is NotImplemented:
        return results
    backend, device = like._backend, like._device
    if len(results) == 1:  # (a unary op's: no list to build)
        result = results[0]
        return results if result is None or isinstance(result, Tensor) else (_new(result, backend, device),)
    return tuple(
        [
            result if result is None or isinstance(result, Tensor) else _new(result, backend, device)
            for result in results
        ]
    )


def node_output(node: Any, data: Any, like: Tensor, output_nr: int = 0) -> Tensor | None:
    """Output ``output_nr`` of ``node`` (its storage ``data``, on ``like``'s device), as a tensor whose
    ``grad_fn`` is ``node``: what a backward formula that records its own graph (``create_graph``)
    passes to an op to give its result an edge to that output. PyTorch's formulas of piecewise-linear
    ops read the tensors they saved, so their gradients stay in the graph (with a zero second
    derivative) even where the formula uses them as a mask only. None for a node that is in no graph
    (one that forward mode differentiates)."""
    if not hasattr(node, "_edges"):
        return None
    return like._make(data)._alias_with_grad_fn(node, output_nr, True)


_NO_EDGE = (None, 0)
#: the edge of a forward argument that is not a tensor: an edge to no node, which
#: ``Node.next_functions`` leaves out (PyTorch's nodes have inputs for tensors only)
NOT_A_TENSOR = cast(tuple[None, int], tuple([None, 0]))  # its own object: compared by identity


class Node:
    """A vertex of the backward graph.

    Attributes:
        next_functions: one ``(node, output_nr)`` pair per tensor the forward took (``(None, 0)`` for
            one that needs no gradient), as PyTorch lists them.
    """

    __slots__ = ("_edges", "_sequence_nr", "_metadata", "__weakref__")
    #: one ``(node, output_nr)`` pair per forward argument (:data:`NOT_A_TENSOR` for the others):
    #: aligned with what ``backward`` returns, the engine's view of the graph
    _edges: tuple[tuple[Node | None, int], ...]
    _sequence_nr: int
    _pre_hooks: list[Callable[..., Any]] | None
    _post_hooks: list[Callable[..., Any]] | None
    _metadata: dict[Any, Any]

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple[tuple[Node | None, int], ...]:
        return tuple(edge for edge in self._edges if edge is not NOT_A_TENSOR)

    def register_prehook(self, hook: Callable[..., Any]) -> _ListHandle:
        """Run ``hook(grad_outputs)`` before this node's backward; it may return new grads.

        The hooks of the tensors this node made (:meth:`Tensor.register_hook`) run first, then
        :meth:`Tensor.retain_grad`'s, then these in the order they were registered (as PyTorch)."""
        return self._insert_prehook(hook, NODE_PREHOOK)

    def _insert_prehook(self, hook: Callable[..., Any], rank: int) -> _ListHandle:
        """Register ``hook`` after every pre-hook of ``rank`` or below and before the higher ranks."""
        if self._pre_hooks is None:  # the subclasses hold the hook lists (a slot, or their __dict__)
            self._pre_hooks = []  # type: ignore[misc]
        hooks = self._pre_hooks
        at = len(hooks)
        while at and getattr(hooks[at - 1], "_prehook_rank", NODE_PREHOOK) > rank:
            at -= 1
        hooks.insert(at, hook)
        return _ListHandle(hooks, hook)

    def register_hook(self, hook: Callable[..., Any]) -> _ListHandle:
        """Run ``hook(grad_inputs, grad_outputs)`` after this node's backward."""
        if self._post_hooks is None:
            self._post_hooks = []  # type: ignore[misc]
        self._post_hooks.append(hook)
        return _ListHandle(self._post_hooks, hook)

    def __repr__(self) -> str:
        # PyTorch's nodes of its own ops are C++ classes (no module shown); a user's Function's node
        # is a Python class of torch.autograd.function
        function = getattr(self, "_function", None)
        module = "ember.autograd.function." if function is not None and function._validates_gradients else ""
        return f"<{module}{type(self).__name__} object at {id(self):#x}>"

    @property
    def metadata(self) -> dict[Any, Any]:
        """A dict, empty at first, for whatever the user keeps about this node.

        Example::

            >>> y = ember.tensor([1.0], requires_grad=True) * 2
            >>> y.grad_fn.metadata["tag"] = "scale"
            >>> y.grad_fn.metadata
            {'tag': 'scale'}
        """
        try:
            return self._metadata
        except AttributeError:
            self._metadata = {}
            return self._metadata


class AccumulateGrad(Node):
    """The sink of the graph for a leaf tensor: adds the incoming gradient into ``leaf.grad``."""

    __slots__ = ("_variable", "_pre_hooks", "_post_hooks")
    _output_meta = None  # one output, whose shape the leaf gives
    #: PyTorch's (UINT64_MAX): the engine runs a sink as soon as it is ready, before any other node
    _sequence_nr = 2**64 - 1

    def __init__(self, variable: Tensor) -> None:
        self._variable = weakref.ref(variable)  # the leaf holds this node; no reference cycle
        self._edges = ()
        self._pre_hooks = None
        self._post_hooks = None

    def __lt__(self, other: object) -> bool:
        # the engine's ready heap orders (priority, node) pairs: sinks tie on priority, and a tie is no
        # order (as in PyTorch's std::priority_queue), so the heap's own moves decide which runs first
        return False

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # PyTorch's name, of a node its C++ core defines


AccumulateGrad.variable = property(  # type: ignore[attr-defined]
    lambda self: self._variable(), doc="The leaf tensor (None once it is freed)."
)


class FunctionCtx(Node):
    """The ``ctx`` passed to ``forward``/``backward``; it is also the output's ``grad_fn``.

    Store anything on it as attributes; save tensors with :meth:`save_for_backward`.
    """

    __slots__ = ("needs_input_grad", "__dict__")
    needs_input_grad: tuple[bool, ...]
    _function: Any = None
    _name: str = "FunctionCtx"  # what name() gives: the class name, or PyTorch's "torch::autograd::CopySlices"
    # the defaults, as class attributes: making a node (once per recorded op) runs no Python __init__
    _saved: tuple[Any, ...] | None = ()
    _output_meta: Any = None
    _dirty: tuple[Tensor, ...] = ()
    _non_differentiable: tuple[Tensor, ...] = ()
    materialize_grads: bool = True
    _pre_hooks: list[Callable[..., Any]] | None = None
    _post_hooks: list[Callable[..., Any]] | None = None

    if TYPE_CHECKING:
        # anything may be stored on ctx (``ctx.scale = 2``): its ``__dict__`` slot
        def __setattr__(self, name: str, value: Any) -> None: ...

    def __getattr__(self, name: str) -> Any:
        # reached only for a name not set: PyTorch's readers of what the node saved (``_saved_self``,
        # ``_saved_result``, ...), which an op declares in its Function's ``_saved_attributes``
        reader = getattr(self._function, "_saved_attributes", {}).get(name) if name.startswith("_saved_") else None
        if reader is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        return reader(self)

    def name(self) -> str:
        return self._name

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for backward; they are checked against in-place changes when read."""
        self._saved = tensors

    def save_for_forward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for ``jvp`` (forward mode), where ``ctx.saved_tensors`` gives them."""
        self._saved_for_forward = tensors

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Declare inputs that ``forward`` modified in place (and returns)."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Declare outputs that carry no gradient (indices, masks)."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """If False, ``backward`` receives ``None`` for outputs that got no gradient."""
        self.materialize_grads = value

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if you need to "
                "access saved tensors after calling backward."
            )
        # (the entry's type looked up in a set: no isinstance call per entry)
        return tuple([entry.unpack(self) if type(entry) in _SAVED_ENTRIES else entry for entry in saved])

    def apply(self, *grads: Any) -> tuple[Any, ...]:
        """Run this node's backward on ``grads`` (one per forward output)."""
        result = run_formula(self, grads)
        if not isinstance(result, tuple):
            result = (result,)
        return result


def recorded_node(function: Any, edges: tuple[Any, ...], needs: tuple[bool, ...], meta: tuple[Any, ...]) -> Any:
    """A node of ``function``'s op, recorded without running the op: what ``function.apply`` would have made of
    arguments with the gradient ``edges`` (:data:`NOT_A_TENSOR` for a non-tensor), which of them ``needs`` a
    gradient, and the one output's ``meta`` ``(backend, device, shape, dtype)``. The caller sets the attributes
    the op's ``backward`` reads; a composite op (``F.linear``) computed by one kernel attaches its ops' nodes
    so."""
    node = function._backward_cls()
    node._edges = edges
    node.needs_input_grad = needs
    node._sequence_nr = next(_sequence)
    node._output_meta = (meta,)
    return node


class SavedTensor:
    """A tensor held for backward, with the version it had when saved (or, under
    :class:`ember.autograd.graph.saved_tensors_hooks`, what the pack hook made of it)."""

    __slots__ = ("tensor", "version", "output_nr", "data", "requires_grad")

    def __init__(self, tensor, output_nr=None):
        version = tensor._version_counter
        if type(version) is _InferenceVersion:
            raise RuntimeError(
                "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
                "inference mode in computation tracked by autograd. To work around this, you can make a "
                "clone to get a normal tensor and use it in autograd, or use `ember.no_grad()` instead "
                "of `ember.inference_mode()`."
            )
        self.version = version.value
        self.output_nr = output_nr
        if output_nr is None:
            self.tensor = tensor
        else:
            # An output of the node itself: keep its storage, not the tensor, so that the
            # node and its output do not hold each other alive.
            self.tensor = None
            self.data = tensor
            self.requires_grad = tensor._requires_grad

    def unpack(self, node):
        output_nr = self.output_nr
        if output_nr is None:  # an input: itself, named by the node that made its values now in the error
            tensor = self.tensor
            if tensor._version_counter.value != self.version:
                raise modified_after_saved(tensor, self.version)
            return tensor
        tensor = self.data
        if tensor._version_counter.value != self.version:
            raise modified_after_saved(tensor, self.version, node, output_nr)
        alias = tensor._alias_with_grad_fn(node, output_nr, self.requires_grad)
        if tangent_rule is not None:  # backward inside a dual level (forward over reverse): the output's tangent
            tangent_rule.alias_tangent(tensor, alias)
        return alias


def modified_after_saved(tensor: Tensor, version: int, node: Node | None = None, output_nr: int = 0) -> RuntimeError:
    """PyTorch's error for ``tensor``, saved for backward at ``version`` and written in place since: it names
    ``tensor``'s node (``node``, the reader, for a saved output; by default the node that made its current
    values), as PyTorch does ("which is output 0 of Add"), and none for a leaf."""
    if node is None:
        node, output_nr = tensor.grad_fn, tensor._output_nr
    # PyTorch's short name of the node: "MulBackward0" is "Mul", "FillBackward2" "Fill2"
    short = None if node is None else _BACKWARD_SUFFIX.sub(lambda m: m[1].removeprefix("0"), node.name())
    made = "" if short is None else f", which is output {output_nr} of {short},"
    hint = (
        "the backtrace further above shows the operation that failed to compute its gradient. The variable in "
        "question was changed in there or anywhere later. Good luck!"
        if is_anomaly_enabled()
        else "enable anomaly detection to find the operation that failed to compute its gradient, with "
        "ember.autograd.set_detect_anomaly(True, check_nan=False)."
    )
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{tensor.type()} {list(tensor.shape)}]{made} is at version {tensor._version_counter.value}; expected "
        f"version {version} instead. Hint: {hint}"
    )


_BACKWARD_SUFFIX = re.compile(r"Backward(\d*)$")


#: the innermost ``ember.vmap`` running its function (an ``ember.func.batching_rules.VmapLevel``), which
#: calls a user's Function's ``vmap`` staticmethod: ``vmap_level.apply_function(cls, args, kwargs)`` gives
#: the outputs, or :data:`RUN_FORWARD` where ``forward`` runs as usual; None outside vmap (one global read
#: per op)
vmap_level: Any = None

#: what a batching rule returns where the op is to run as it does outside vmap
RUN_FORWARD: Any = object()


def connect_vmap_level(level: Any) -> None:
    """Set :data:`vmap_level` (``ember.vmap`` does, on entering and leaving a level)."""
    global vmap_level
    vmap_level = level


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        # a user's Function has its gradients checked and cast as PyTorch's engine does; ember's own
        # return exact ones (see ember.autograd.validation); one of ember's that stands for a Python Function of
        # PyTorch's (nn.Module's backward-hook Function) says so itself, ``_validates_gradients = True``
        cls._validates_gradients = attrs.get("_validates_gradients", not cls.__module__.startswith("ember."))
        # the node class, named as PyTorch names it: "MulBackward0" for its own ops (ember's _Mul),
        # "MyFunctionBackward" for a user's Function; an op of ember's whose PyTorch name does not follow
        # from the class name sets its own, ``_backward_name = "SumBackward1"`` (not inherited); a node that
        # PyTorch's C++ core defines has its namespace in name() only ("torch::autograd::CopySlices")
        if cls._validates_gradients:
            node_name = name + "Backward"
        else:
            node_name = attrs.get("_backward_name") or name.lstrip("_") + "Backward0"
        attributes = {"_function": cls, "__slots__": (), "_name": node_name}
        # an op whose node behaves otherwise (a subclass of FunctionCtx) names it, ``_node_base`` (not inherited)
        node_base = attrs.get("_node_base", FunctionCtx)
        cls._backward_cls = type(node_name.rpartition("::")[2], (node_base,), attributes)
        # the new style: forward(*args) without ctx, then setup_context(ctx, inputs, output)
        cls._uses_setup_context = any("setup_context" in vars(k) for k in cls.__mro__ if k.__module__ != __name__)
        # PyTorch's other name of backward: a Function may define vjp instead
        if "vjp" in attrs and "backward" not in attrs and cls.__module__ != __name__:
            cls.backward = attrs["vjp"]


class Function(metaclass=_FunctionMeta):
    """Base class for operations with a custom backward.

    Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` as
    static methods and are called through :meth:`apply`. ``backward`` returns one
    gradient (or ``None``) per ``forward`` argument.
    """

    #: an op's node's ``_saved_*`` attributes, as PyTorch names them: name -> ``reader(ctx)``
    _saved_attributes: dict[str, Callable[[Any], Any]] = {}
    #: the edge of an argument that is not a tensor: none (:data:`NOT_A_TENSOR`), or, for an op that PyTorch
    #: runs with a Python number as a tensor (``x * 2`` is ``mul(x, tensor(2))``: add, sub, mul, div), an edge
    #: to no node, which ``next_functions`` shows as ``(None, 0)``
    _non_tensor_edge: tuple[None, int] = NOT_A_TENSOR
    #: the backward formula on native arrays, for the backward passes that record no graph of their own
    #: (:func:`run_formula`, the engine's call of a node, runs it in place of ``backward``): ``(ctx, *grads) ->``
    #: one native array, tensor or None per ``forward`` argument, or ``NotImplemented`` to run ``backward``.
    #: It must give the bits and the layout that ``backward`` gives (it runs the forward's kernels); None:
    #: ``backward`` always runs. The hot formulas have one (mul, add, sub, mse_loss, stack, the views), which spares
    #: them the dispatch and the node bookkeeping of the tensor operations ``backward`` is written with
    _native_backward: Callable[..., Any] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # the legacy style, ``MyFunction()(x)``: PyTorch warns here and refuses the call
        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are all static, so you "
            "should invoke them on the class itself. Instantiating an autograd function will raise an error in a "
            "future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style autograd "
            "function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses must implement forward")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it with "
            "backward mode AD."
        )

    @staticmethod
    def vjp(ctx: Any, *grad_outputs: Any) -> Any:
        """PyTorch's other name of :meth:`backward`: a subclass may define either."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it with "
            "backward mode AD."
        )

    #: PyTorch's switch for a vmap rule generated from ``forward``: :func:`ember.func.vmap` runs ``forward``
    #: once per batch entry (without it, and without a :meth:`vmap` staticmethod, vmap refuses the Function)
    generate_vmap_rule: bool = False
    #: whether ember.vmap runs ``forward`` once per entry without PyTorch's checks (an operator's own Function)
    _vmap_runs_forward: bool = False

    @staticmethod
    def vmap(info: Any, in_dims: Any, *args: Any) -> Any:
        """The batching rule of the Function, for :func:`ember.func.vmap`: ``args`` with a batch dimension
        (``in_dims``, one int or None per argument; ``info.batch_size``, ``info.randomness``) to
        ``(outputs, out_dims)``. A subclass overrides it, or sets ``generate_vmap_rule = True``, to be vmapped.

        Example::

            >>> class Double(ember.autograd.Function):
            ...     @staticmethod
            ...     def forward(x):
            ...         return x * 2
            ...     @staticmethod
            ...     def setup_context(ctx, inputs, output):
            ...         pass
            ...     @staticmethod
            ...     def backward(ctx, grad):
            ...         return grad * 2
            ...     @staticmethod
            ...     def vmap(info, in_dims, x):
            ...         return x * 2, in_dims[0]
            >>> ember.vmap(Double.apply)(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
            tensor([[2., 4.],
                    [6., 8.]])
        """
        raise NotImplementedError(
            "To use autograd.Function with vmap, you must either override the vmap staticmethod or set "
            "generate_vmap_rule=True."
        )

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        """Forward mode's rule: the tangent of each output of ``forward`` from the tangents of its
        inputs (one per argument of ``forward``: zeros for a tensor that carries none, None for
        the others). ``ctx.saved_tensors`` gives what ``forward`` kept with ``ctx.save_for_forward``;
        an input that ``forward`` modified in place has its tangent modified in place and returned.

        Example::

            >>> import ember.autograd.forward_ad as fwAD
            >>> class Cube(ember.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         ctx.save_for_forward(x)
            ...         return x**3
            ...     @staticmethod
            ...     def backward(ctx, grad):
            ...         raise NotImplementedError
            ...     @staticmethod
            ...     def jvp(ctx, tangent):
            ...         (x,) = ctx.saved_tensors
            ...         return 3 * x**2 * tangent
            >>> with fwAD.dual_level():
            ...     x = fwAD.make_dual(ember.tensor([2.0]), ember.tensor([1.0]))
            ...     fwAD.unpack_dual(Cube.apply(x)).tangent
            tensor([12.])
        """
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> Any:
        """Fill ``ctx`` for a ``forward`` that takes no ``ctx`` (PyTorch's new style).

        A subclass that defines it has ``forward(*args)`` called without ``ctx``, then
        ``setup_context(ctx, inputs, output)``, where ``inputs`` holds every argument of ``forward``
        positionally (keyword arguments and defaults bound) and ``output`` what ``forward`` returned.
        """
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        # the per-op path: plain loops and slot reads only (see benchmarks/bench_overhead.py)
        if vmap_level is not None and cls._validates_gradients:  # a user's Function under ember.vmap
            outputs = vmap_level.apply_function(cls, args, kwargs)
            if outputs is not RUN_FORWARD:
                return outputs
        ctx = cls._backward_cls()
        state = grad_state
        enabled = state.enabled
        tensor_cls = Tensor
        record = False
        # A view whose storage was written in place since its history was set takes up its base's
        # new history before it is read here (one slot read for a tensor that is no view): the
        # first loop for those it passes that do not require grad (a write may have given them
        # grad), the second for all
        if enabled:
            for a in args:
                if isinstance(a, tensor_cls):
                    if a._requires_grad:
                        record = True
                        break
                    seen = a._view_version
                    if seen is not None and seen != a._version_counter.value:
                        refresh_view_history(a)
                        if a._requires_grad:
                            record = True
                            break
        if record:
            needs = []
            edges = []
            for a in args:
                if not isinstance(a, tensor_cls):
                    needs.append(False)
                    edges.append(cls._non_tensor_edge)
                    continue
                seen = a._view_version
                if seen is not None and seen != a._version_counter.value:
                    refresh_view_history(a)
                if a._requires_grad:
                    needs.append(True)
                    # gradient_edge(a), inlined: a non-leaf's node, or a leaf's sink once it has one
                    node = a._grad_fn
                    if node is not None:
                        edges.append((node, a._output_nr))
                    elif a._accumulator is not None:
                        edges.append((a._accumulator, 0))
                    else:
                        edges.append(gradient_edge(a))
                else:
                    needs.append(False)
                    edges.append(_NO_EDGE)
            ctx.needs_input_grad = tuple(needs)
            ctx._edges = tuple(edges)
            ctx._sequence_nr = next(_sequence)
        else:
            ctx.needs_input_grad = (False,) * len(args)
        rule = tangent_rule
        tangents = None if rule is None else rule.prepare(cls, ctx, args)
        if enabled:  # forward runs without recording (already so under no_grad and in backward)
            state.enabled = False
        try:
            if cls._uses_setup_context:
                outputs = _forward_then_setup_context(cls, ctx, args, kwargs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs) if kwargs else cls.forward(ctx, *args)
            if cls._validates_gradients:  # a user's Function: still with recording off
                outputs = _checked_user_outputs(args, outputs, ctx, record)
        finally:
            state.enabled = enabled
            if tangents is not None:  # prepare suspended forward mode for forward's own ops
                connect_forward_ad(rule)
        dirty = ctx._dirty
        if dirty:
            for tensor in dirty:
                tensor._version_counter.value += 1
        if not record:
            if tangents is not None:
                rule.propagate(cls, ctx, args, kwargs, outputs, tangents)
            ctx._saved = ()
            return outputs
        if type(outputs) is tensor_cls and not ctx._non_differentiable:
            # the common case: one differentiable output
            data = outputs._data
            backend = outputs._backend
            ctx._output_meta = ((backend, outputs._device, data.shape, data.dtype),)
            if backend._ember[data.dtype]._differentiable:
                outputs._grad_fn = ctx
                outputs._output_nr = 0
                outputs._requires_grad = True
            if ctx._saved:
                _wrap_saved(ctx, (outputs,))
            if dirty:
                _rebase_dirty_views(ctx, (outputs,))
        else:
            _attach(ctx, outputs)
            if dirty:
                _rebase_dirty_views(ctx, outputs if isinstance(outputs, tuple) else (outputs,))
        if tangents is not None:
            rule.propagate(cls, ctx, args, kwargs, outputs, tangents)
        return outputs


def _checked_user_outputs(args, outputs, ctx, record):
    """What a user's ``forward`` returned, checked and aliased as PyTorch's ``_wrap_outputs`` does: each input
    marked dirty must be returned, and may not be a leaf that requires grad when the op is recorded; an input
    returned as it is (not marked dirty) becomes a new alias of it, a view when the op is recorded (which then
    takes the op's history, not the input), so that the input itself is left as it was; when the op is not
    recorded, one that requires grad is returned detached, dirty or not."""
    single = not isinstance(outputs, tuple)
    outs = (outputs,) if single else outputs
    dirty = ctx._dirty
    for tensor in dirty:
        if not any(tensor is out for out in outs):
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not returned as output. The inputs "
                "that are modified inplace must all be outputs of the Function."
            )
        if record and tensor._requires_grad and tensor._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
    if not any(isinstance(out, Tensor) and any(out is a for a in args) for out in outs):
        return outputs
    aliased = tuple(
        (out.view_as(out) if record else out.detach())
        if isinstance(out, Tensor)
        and any(out is a for a in args)
        and (not any(out is t for t in dirty) or (not record and out._requires_grad))
        else out
        for out in outs
    )
    return aliased[0] if single else aliased


#: PyTorch's public name of the metaclass of :class:`Function`
FunctionMeta = _FunctionMeta


class InplaceFunction(Function):
    """A :class:`Function` whose instances carry an ``inplace`` flag, kept for older code (PyTorch keeps it for
    backward compatibility; use :class:`Function`).

    Example::

        >>> class Double(ember.autograd.function.InplaceFunction):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         return x * 2
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         return grad * 2
        >>> Double(inplace=True).inplace, Double.apply(ember.ones(2))
        (True, tensor([2., 2.]))
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


def saved_reader(index: int) -> Callable[[Any], Any]:
    """The reader of the ``index``-th tensor a node saved, for a Function's ``_saved_attributes``."""
    return lambda ctx: ctx.saved_tensors[index]


def _forward_then_setup_context(cls, ctx, args, kwargs):
    bound = inspect.signature(cls.forward).bind(*args, **kwargs)
    bound.apply_defaults()
    inputs = bound.args
    outputs = cls.forward(*inputs)
    cls.setup_context(ctx, inputs, outputs)
    return outputs


def _attach(ctx, outputs):
    """Make ``ctx`` the grad_fn of each differentiable output and rewrite saved outputs."""
    single = not isinstance(outputs, tuple)
    outs = (outputs,) if single else outputs
    non_diff = ctx._non_differentiable
    ctx._output_meta = tuple(out._meta() if isinstance(out, Tensor) else None for out in outs)
    for i, out in enumerate(outs):
        if not isinstance(out, Tensor):
            continue
        if any(out is t for t in non_diff) or not out.dtype._differentiable:
            continue
        out._set_grad_fn(ctx, i)
    if ctx._saved:
        _wrap_saved(ctx, outs)
    return outputs


def _rebase_dirty_views(ctx, outs):
    """A dirty output that is a view of another tensor: the write is recorded on its base, whose
    history then runs through ``ctx`` (PyTorch's ``CopySlices``), and the view reads its new history
    from the base. A dirty output that retains its gradient retains it at its new node."""
    for out in outs:
        if isinstance(out, Tensor) and out._grad_fn is ctx and any(out is t for t in ctx._dirty):
            if out._base is not None and out._view_replay is not None:  # recording is on again here
                _rebase_view(out, out._alias_with_grad_fn(ctx, out._output_nr, True), written=True)
            else:
                out._move_retained_grad()


class _HookedSavedTensor:
    """A saved tensor kept as the innermost ``saved_tensors_hooks``'s pack hook made it; unpacked by its
    unpack hook and given the saved tensor's place in the graph. As in PyTorch, the version is not checked."""

    __slots__ = ("packed", "unpack_hook", "output_nr", "grad_fn", "requires_grad", "accumulator")

    def __init__(self, tensor, output_nr=None):
        pack, self.unpack_hook = grad_state.saved_tensors_hooks[-1]
        self.output_nr = output_nr
        self.requires_grad = tensor._requires_grad
        self.grad_fn = None if output_nr is not None else tensor.grad_fn  # an output's node is the reader
        self.accumulator = None
        if output_nr is None:
            self.output_nr = tensor._output_nr
            if tensor._requires_grad and tensor.grad_fn is None:
                self.accumulator = gradient_edge(tensor)[0]  # an unpacked leaf still feeds the leaf's .grad
        self.packed = pack(tensor)

    def unpack(self, node):
        value = self.unpack_hook(self.packed)
        if not isinstance(value, Tensor):
            raise TypeError(
                f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type {type(value).__name__}"
            )
        grad_fn = node if self.grad_fn is None and self.accumulator is None and self.requires_grad else self.grad_fn
        out = value._alias_with_grad_fn(grad_fn, self.output_nr, self.requires_grad)
        if self.accumulator is not None:
            out._accumulator = self.accumulator
        return out


#: the types of the entries of ``FunctionCtx._saved`` that stand for a saved tensor (:meth:`FunctionCtx.saved_tensors`
#: unpacks them; the others, None and sparse tensors, are given as they are)
_SAVED_ENTRIES = frozenset({SavedTensor, _HookedSavedTensor})


def _wrap_saved(ctx, outs):
    """Turn the tensors ``ctx`` saved into :class:`SavedTensor` entries (outputs by storage)."""
    entries = []
    saved_cls = _HookedSavedTensor if grad_state.saved_tensors_hooks else SavedTensor
    for i, t in enumerate(ctx._saved):
        if t is None:
            entries.append(None)
            continue
        if not is_strided(t):
            if getattr(t, "is_sparse", False):  # a sparse COO tensor, kept as it is (pyGAT's spmm saves its adjacency)
                entries.append(t)
                continue
            raise TypeError(
                f"save_for_backward can only save variables, but argument {i} is of type {type(t).__name__}"
            )
        for nr, out in enumerate(outs):
            if out is t and t._grad_fn is ctx:
                entries.append(saved_cls(t._storage_alias(), nr))
                break
        else:
            entries.append(saved_cls(t))
    ctx._saved = tuple(entries)


def once_differentiable(fn: _F) -> _F:
    """Decorator for a ``backward`` that cannot itself be differentiated.

    ``backward`` runs without recording; when a graph is being built (``create_graph``) and a
    gradient it received requires grad, the gradients it returns require grad too, and
    differentiating through them raises ``RuntimeError`` (as PyTorch does, rather than giving a
    silently wrong higher derivative).
    """

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        previous = grad_state.enabled
        grad_state.enabled = False
        try:
            outputs = fn(ctx, *args)
        finally:
            grad_state.enabled = previous
        if not previous or not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        fakes = [
            o.detach().requires_grad_() if isinstance(o, Tensor) else o for o in ((outputs,) if single else outputs)
        ]
        errors = _DelayedError.apply(*fakes)
        return errors[0] if single else errors

    return wrapper  # type: ignore[return-value]


class _DelayedError(Function):
    """The node behind the gradients a ``once_differentiable`` backward returned under ``create_graph``."""

    @staticmethod
    def forward(ctx, *tensors):
        return tuple(t.detach() if isinstance(t, Tensor) else t for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def gradient_edge(tensor):
    """``Tensor._gradient_edge``: the ``(node, input_nr)`` a gradient for ``tensor`` flows into.

    A non-leaf's is its ``grad_fn``; a leaf owns its :class:`AccumulateGrad` sink, made once (not
    per op) on first use, and the sink refers back to it weakly.
    """
    if tensor.grad_fn is not None:
        return (tensor.grad_fn, tensor._output_nr)
    if getattr(tensor, "_view_of_requiring_grad", False):  # a view made under no_grad: no gradient reaches it
        return _NO_EDGE
    node = tensor._accumulator
    if node is None:
        node = tensor._accumulator = AccumulateGrad(tensor)
    return (node, 0)
