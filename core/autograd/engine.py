"""The backward engine: runs the graph's nodes in dependency order and routes gradients."""

from __future__ import annotations

import bisect
import heapq
import threading
import warnings
from collections.abc import Sequence
from numbers import Number
from typing import Any, overload

from .. import overrides
from ..layout import contiguous_format
from ..ops.movement import format_copy
from ..ops.overlap import check_no_internal_overlap
from ..strides import is_dense
from ..tensor import NODE_PREHOOK, Tensor, retained_gradient
from ..tensor import tensor as new_tensor
from ..type_names import type_name
from ..unstrided import is_strided
from . import function
from .anomaly_state import check_nan, warn_forward_traceback
from .anomaly_state import state as anomaly
from .function import AccumulateGrad, run_formula
from .grad_mode import grad_state
from .gradient_edge import GradientEdge, edge_meta
from .hook_results import checked_hook_result, checked_hook_results
from .validation import validated_gradients

__all__ = ["run_backward", "grad", "backward", "tensor_backward"]


class _GraphTask:
    """The backward pass running on this thread: which nodes it reaches (for multi-gradient hooks)."""

    __slots__ = ("dependencies", "roots", "needed")

    def __init__(self, dependencies, roots, needed):
        self.dependencies, self.roots, self.needed = dependencies, roots, needed

    def will_execute(self, node):
        """Whether ``node`` runs (or, an input of ``autograd.grad``, is reached) in this pass."""
        if self.needed is not None:
            return node in self.needed
        return node in self.dependencies or any(node is root for root in self.roots)


class _CurrentTask(threading.local):
    task: _GraphTask | None = None


_current = _CurrentTask()


def current_graph_task():
    """The backward pass running on this thread (``None`` outside one)."""
    return _current.task


def _nodes_reaching(roots, targets):
    """The nodes reachable from ``roots`` from which one of ``targets`` is reachable (targets included)."""
    parents = {}
    stack = [node for node in roots if node is not None]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for child, _ in node._edges:
            if child is not None:
                parents.setdefault(child, []).append(node)
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
    needed = {node for node in targets if node in seen}
    stack = list(needed)
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in needed:
                needed.add(parent)
                stack.append(parent)
    return needed


def _collect_dependencies(roots, needed=None):
    """Count, for every node reachable from ``roots`` (through ``needed`` ones only, when given), how
    many edges point at it."""
    dependencies = {}
    roots = {node for node in roots if node is not None and (needed is None or node in needed)}
    stack = list(roots)  # a node that made several roots is visited once
    visit, count_of = stack.append, dependencies.get
    while stack:
        for child, _ in stack.pop()._edges:
            if child is None or (needed is not None and child not in needed):
                continue
            count = count_of(child)
            if count is None:  # first edge to it: visit it once
                dependencies[child] = 1
                if child not in roots:
                    visit(child)
            else:
                dependencies[child] = count + 1
    return dependencies


def _accumulate(buffer, index, grad):
    current = buffer[index]
    buffer[index] = grad if current is None else current + grad


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None, allow_unused=False):
    """Back-propagate ``grad_tensors`` from ``tensors``.

    With ``inputs=None`` gradients accumulate into the ``.grad`` of the leaves; otherwise
    the gradients with respect to ``inputs`` are returned (``autograd.grad``) and no
    ``.grad`` is touched.
    """
    roots = []
    for i, (tensor, grad) in enumerate(zip(tensors, grad_tensors)):
        if isinstance(tensor, GradientEdge):
            roots.append(((tensor.node, tensor.output_nr), grad))
            continue
        if not tensor.requires_grad:  # a view reads its base's history first (view_history)
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        roots.append((tensor._gradient_edge(), grad))

    capture = results = None
    if inputs is not None:
        capture = {}
        for i, tensor in enumerate(inputs):
            if isinstance(tensor, GradientEdge):
                capture.setdefault((tensor.node, tensor.output_nr), []).append(i)
                continue
            if not isinstance(tensor, Tensor):
                raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type_name(tensor)}")
            if not tensor.requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            capture.setdefault(tensor._gradient_edge(), []).append(i)
        results = [None] * len(inputs)

    # the gradients the caller passed, which it holds: a leaf's ``.grad`` is never one of them (_first_gradient)
    held = _Held()
    for _, grad in roots:
        if is_strided(grad):
            held.reserve(grad)
    root_nodes = [edge[0] for edge, _ in roots]
    # autograd.grad runs only the nodes on a path to an input, as PyTorch's engine does
    needed = None if capture is None else _nodes_reaching(root_nodes, {node for node, _ in capture})
    dependencies = _collect_dependencies(root_nodes, needed)
    buffers = {}
    for (node, nr), grad in roots:
        buffer = buffers.get(node)
        if buffer is None:
            buffer = buffers[node] = [None] * _num_outputs(node)
        _accumulate(buffer, nr, grad)

    # (-sequence number, node): the newest node runs first; sequence numbers are unique,
    # so the heap never compares nodes
    ready = []
    for node in set(root_nodes):
        if dependencies.get(node, 0) == 0 and (needed is None or node in needed):
            heapq.heappush(ready, (-node._sequence_nr, node))

    previous = grad_state.enabled
    grad_state.enabled = bool(create_graph)
    nan_check = anomaly["enabled"] and anomaly["check_nan"]  # whenever the nodes were recorded, as PyTorch's
    pop, push = heapq.heappop, heapq.heappush
    outer_task = _current.task
    _current.task = _GraphTask(dependencies, root_nodes, needed)
    node = None
    try:
        while ready:
            node = pop(ready)[1]
            grads = buffers.pop(node, None) or [None] * _num_outputs(node)
            pre_hooks = node._pre_hooks
            if pre_hooks or capture is not None:  # (one test for the common node, with neither)
                grads = _hooked_and_captured(node, pre_hooks, grads, held, capture, needed, results)
            if type(node) is AccumulateGrad:
                if capture is None:
                    _accumulate_into_leaf(node._variable(), grads[0], create_graph, held)
                    if node._post_hooks:  # after the accumulation, with no gradient to pass on (PyTorch's)
                        for hook in node._post_hooks:
                            hook((), tuple(grads))
                continue
            edges = node._edges
            validates = node._function._validates_gradients
            narrowed = None
            if needed is not None:
                if not any(child in needed for child, _ in edges):
                    continue  # an input's own node, with no input below it: captured, not run
                if not validates:
                    # ember's ops compute only the gradients on a path to an input (PyTorch's
                    # should_compute_output); a user's Function keeps the flags of its forward
                    narrowed = node.needs_input_grad
                    node.needs_input_grad = tuple(flag and child in needed for flag, (child, _) in zip(narrowed, edges))
            if node.materialize_grads:
                for g in grads:
                    if g is None:
                        grads = _materialize(node, grads)
                        break
            subclassed = overrides.overloading_among(grads)
            if narrowed is None and not subclassed:
                grad_inputs = run_formula(node, grads)
            else:
                outer_formulas = function.subclass_gradients
                function.subclass_gradients = outer_formulas or subclassed
                try:
                    grad_inputs = run_formula(node, grads)
                finally:
                    function.subclass_gradients = outer_formulas
                    if narrowed is not None:
                        node.needs_input_grad = narrowed
            if not isinstance(grad_inputs, tuple):
                grad_inputs = (grad_inputs,)
            if len(grad_inputs) < len(edges):
                _too_few_gradients(node, grad_inputs)
            if validates:
                grad_inputs = validated_gradients(node, grad_inputs)
                # a user's backward may return a tensor it keeps: no leaf takes it as its own
                for g in grad_inputs:
                    if is_strided(g):
                        held.reserve(g)
            if node._post_hooks:
                # hooks see None for the inputs that need no gradient
                grad_inputs = tuple(
                    grad if needed else None for grad, needed in zip(grad_inputs, node.needs_input_grad)
                )
                for hook in node._post_hooks:
                    new = hook(grad_inputs, tuple(grads))
                    if new is not None:
                        new = tuple(checked_hook_results(hook, grad_inputs, new))
                        _hold_replaced(held, grad_inputs, new)
                        grad_inputs = new
            if nan_check:  # after the post-hooks, as PyTorch's
                check_nan(node, grad_inputs)
            if not retain_graph:
                node._saved = None
            # an input that needs no gradient has no edge (child None): its gradient is dropped
            for (child, nr), grad in zip(edges, grad_inputs):
                if child is None or (needed is not None and child not in needed):
                    continue
                if grad is not None:  # _accumulate(buffer, nr, grad), inlined
                    buffer = buffers.get(child)
                    if buffer is None:
                        meta = child._output_meta  # _num_outputs(child), inlined
                        buffer = buffers[child] = [None] * (len(meta) if meta else 1)
                        buffer[nr] = grad
                    else:
                        current = buffer[nr]
                        buffer[nr] = grad if current is None else current + grad
                remaining = dependencies[child] - 1
                dependencies[child] = remaining
                if remaining == 0:
                    push(ready, (-child._sequence_nr, child))
    except Exception:
        if anomaly["enabled"] and node is not None:
            warn_forward_traceback(node)
        raise
    finally:
        grad_state.enabled = previous
        _current.task = outer_task

    if capture is not None:
        for index, grad in enumerate(results):
            if grad is None and not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {index} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
        return tuple(results)
    return None


def _hooked_and_captured(node, pre_hooks, grads, held, capture, needed, results):
    """``grads``, the gradients of ``node``'s outputs, through its pre-hooks, and recorded in ``results``
    where ``autograd.grad`` captures them (``capture``: (node, output_nr) -> indices of ``results``)."""
    if pre_hooks:  # the tensor hooks (and retain_grad's) first: autograd.grad captures what they give
        grads = _run_pre_hooks(node, pre_hooks, grads, held, tensor_hooks=True)
    if capture is not None:
        if type(node) is AccumulateGrad and grads[0] is not None and (node, 0) in capture:
            leaf = node._variable()  # an input leaf's hooks see (and may replace) its gradient
            if leaf is not None:
                grads = [_run_leaf_hooks(leaf, grads[0])]
        for nr in range(len(grads)):
            for i in capture.get((node, nr), ()):
                results[i] = grads[nr]
    # the node's own pre-hooks run only where the node runs: not at a node that autograd.grad
    # captures at only (an input's own node, an AccumulateGrad), as PyTorch's
    if pre_hooks and (
        needed is None or (type(node) is not AccumulateGrad and any(child in needed for child, _ in node._edges))
    ):
        grads = _run_pre_hooks(node, pre_hooks, grads, held, tensor_hooks=False)
    return grads


def _num_outputs(node):
    meta = node._output_meta  # None on AccumulateGrad
    return len(meta) if meta else 1


def _materialize(node, grads):
    """``grads`` with zeros, shaped as the node's outputs, for the outputs that got no gradient
    (``None`` stays for an output that is not a tensor, as PyTorch passes it)."""
    meta = node._output_meta
    return [g if g is not None or meta[i] is None else Tensor._zeros_from_meta(meta[i]) for i, g in enumerate(grads)]


def _too_few_gradients(node, result):
    raise RuntimeError(
        f"function {node.name()} returned an incorrect number of gradients "
        f"(expected {len(node._edges)}, got {len(result)})"
    )


def _run_leaf_hooks(leaf, grad):
    """``grad`` through the hooks registered on the leaf (each may replace it)."""
    if leaf._hooks:
        for hook in leaf._hooks:
            new = checked_hook_result(hook, grad, hook(grad))
            if new is not None:
                grad = new
    return grad


def _run_pre_hooks(node, hooks, grads, held, tensor_hooks):
    """``grads`` through ``node``'s tensor hooks and retain_grad's (``tensor_hooks``), or through its own
    pre-hooks, which come after them in ``hooks``; each may replace them."""
    for hook in hooks:
        if (getattr(hook, "_prehook_rank", NODE_PREHOOK) == NODE_PREHOOK) is tensor_hooks:
            continue
        new = hook(tuple(grads))  # PyTorch's hooks see tuples
        if new is not None:
            new = checked_hook_results(hook, grads, new)
            _hold_replaced(held, grads, new)
            grads = new
    return grads


def _hold_replaced(held, grads, new):
    """Reserve in ``held`` the gradients a hook returned in place of ``grads``: the hook may keep them
    (PyTorch's ``AccumulateGrad`` takes a gradient only where nothing else refers to it)."""
    for old, grad in zip(grads, new):
        if grad is not old and is_strided(grad):
            held.reserve(grad)


def _accumulate_into_leaf(leaf, grad, create_graph, held):
    if grad is None or leaf is None:  # a leaf nobody holds any more needs no gradient
        return
    if leaf._hooks:
        hooked = _run_leaf_hooks(leaf, grad)
        _hold_replaced(held, (grad,), (hooked,))
        grad = hooked
    _accumulate_hooked(leaf, grad, create_graph, held)


def _accumulate_hooked(leaf, grad, create_graph, held):
    """``AccumulateGrad`` on a gradient that went through the leaf's hooks: into ``leaf.grad``, then the
    post-accumulate-grad hooks."""
    if not create_graph:
        grad = grad.detach()
    dense = is_strided(grad)  # else sparse: no native array
    leaf_data = leaf._data
    if (grad._data.shape if dense else grad.shape) != leaf_data.shape:
        raise RuntimeError(
            f"Function AccumulateGrad returned an invalid gradient - got {list(grad.shape)} "
            f"but expected shape compatible with {list(leaf.shape)}"
        )
    current = leaf._grad
    if current is None:
        as_is = False  # what the checks of the ``grad`` setter would let through
        if dense:
            grad = _first_gradient(leaf_data, grad, leaf._backend, held, create_graph)
            as_is = grad._data.dtype == leaf_data.dtype and grad._device is leaf._device
        if as_is and not hasattr(leaf, "_grad_dtype"):
            leaf._grad = grad
        else:
            wanted = getattr(leaf, "_grad_dtype", leaf.dtype)  # the leaf's grad_dtype: None takes any
            if wanted is not None and grad.dtype is not wanted:
                grad = grad.to(wanted)
            leaf.grad = grad
    elif grad.is_sparse or current.is_sparse:
        # sparse + sparse concatenates coordinates; dense + sparse (the order PyTorch allows) is dense
        leaf.grad = grad + current if current.is_sparse else current + grad
    elif create_graph or type(current) is not Tensor:
        # a subclass's sum is its own (a MaskedTensor keeps its data apart from its storage): out of place, as
        # PyTorch's for tensor subclasses
        leaf.grad = current + grad
    else:
        # PyTorch's ``grad += new_grad``: the sum goes into the memory of ``.grad``, so that views of
        # it (or a flat buffer it views) see the sum
        if current._base is not None:
            check_no_internal_overlap(current)
        data = current._data
        total = current._backend.kernels.accumulate_grad(data, grad._data)
        if total is not data:
            current._data = total
        current._version_counter.value += 1
    if leaf._post_accumulate_hooks:
        for hook in leaf._post_accumulate_hooks:
            if hook(leaf) is not None:
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def _first_gradient(leaf_data, grad, leaf_backend, held, create_graph):
    """The tensor that becomes a leaf's first ``.grad``, as PyTorch's ``AccumulateGrad`` chooses it.

    ``grad`` itself where it is laid out as the leaf, nothing else holds it and no ``.grad`` taken in
    this pass shares an element with it (no graph to build); otherwise a copy in the leaf's layout
    (differentiable under ``create_graph``). So no ``.grad`` is the gradient the caller passed to
    ``backward``, aliases another one (``a + b`` hands both the same gradient) or elements of itself
    (the broadcast gradient of ``sum``); the disjoint views of one gradient that ``stack``'s or ``cat``'s
    backward hands its inputs are their ``.grad``, as PyTorch's are.

    Args:
        leaf_data: the leaf's native array.
        grad: its gradient, a dense tensor of the leaf's shape.
        leaf_backend: the leaf's backend.
        held: the :class:`_Held` of this backward pass; a taken gradient is added.
        create_graph: whether the backward pass builds a graph of the gradients.
    """
    backend, data = grad._backend, grad._data
    if backend is not leaf_backend:  # the ``grad`` setter's device error follows
        return grad
    is_contiguous = backend.is_contiguous
    contiguous = is_contiguous(data)
    # the gradient layout contract: a dense leaf's strides (but for a size-1 dimension's), else contiguous;
    # a leaf without elements counts as dense, and as contiguous whatever its strides
    leaf_strides = None
    if leaf_data.size and is_contiguous(leaf_data):  # (the common leaf: no strides to read)
        if contiguous and not create_graph and held.take(grad):
            return grad
    else:
        strides = backend.strides(leaf_data)
        if not leaf_data.size or is_dense(leaf_data.shape, strides):
            leaf_strides = strides
        if not create_graph and (contiguous if leaf_strides is None else _same_strides(backend, data, leaf_strides)):
            if held.take(grad):
                return grad
    # a copy takes a dense leaf's strides exactly, a size-1 dimension's too (PyTorch's clone_obey_contract)
    if (
        leaf_strides is None
        and 1 in leaf_data.shape
        and is_contiguous(leaf_data)
        and not backend.is_row_major(leaf_data)
    ):
        leaf_strides = backend.strides(leaf_data)
    if leaf_strides is not None:
        return grad.new_empty_strided(leaf_data.shape, leaf_strides).copy_(grad)
    memory_format = None if contiguous and backend.is_row_major(data) else contiguous_format
    if create_graph or type(grad) is not Tensor or function.tangent_rule is not None:
        return grad.clone(memory_format=memory_format)
    return grad._make(format_copy(grad, data.dtype, memory_format))  # clone's copy, without its node


class _Held:
    """What a leaf's first ``.grad`` may not be in one backward pass, as PyTorch's ``AccumulateGrad`` steals a
    gradient only where nothing else refers to it: the gradient tensors that others hold (the caller's, the
    ones hooks returned, a user Function's), and the memory of the gradients the leaves took so far, so that
    no two ``.grad`` share an element (a dense gradient spans its storage from its offset on,
    :meth:`ember.backend.Backend.layout`, in the memory :meth:`~ember.backend.Backend.memory_owner` names)."""

    __slots__ = ("reserved", "taken")

    def __init__(self):
        self.reserved = {}  # id of a native array -> that array, of the tensors others hold (or their detach())
        # id(owner) -> the one native array taken of that memory, or [begins, ends] of the spans taken
        self.taken = {}

    def reserve(self, tensor):
        """Reserve ``tensor``: no leaf takes it (nor a tensor over its very array, its ``detach()``) as its
        ``.grad``."""
        data = tensor._data
        self.reserved[id(data)] = data

    def take(self, grad):
        """Whether a leaf may take the dense ``grad`` as its ``.grad`` (it is then recorded as taken)."""
        backend, data = grad._backend, grad._data
        if id(data) in self.reserved:
            return False
        key = id(backend.memory_owner(data))
        taken = self.taken
        first = taken.get(key)
        if first is None:  # the first of its memory (which it keeps alive): its span is read only if another comes
            taken[key] = data
            return True
        if type(first) is not list:  # -> [begins, ends] of the spans taken, sorted, the spans being disjoint
            begin, end = _span(backend, first)
            first = taken[key] = [[begin], [end]]
        begins, ends = first
        begin, end = _span(backend, data)
        at = bisect.bisect_right(begins, begin)
        if (at and ends[at - 1] > begin) or (at < len(begins) and begins[at] < end):
            return False
        begins.insert(at, begin)
        ends.insert(at, end)
        return True


def _span(backend, data):
    """The bytes of its storage that the dense native array ``data`` covers, ``(begin, end)``."""
    itemsize = data.dtype.itemsize
    begin = backend.storage_offset(data) * itemsize
    size = 1
    for n in data.shape:
        size *= n
    return begin, begin + size * itemsize


def _same_strides(backend, data, strides):
    """Whether ``data`` steps as ``strides`` along each dimension of more than one element."""
    return all(n == 1 or a == b for n, a, b in zip(data.shape, backend.strides(data), strides))


def reset_grads(tensors, set_to_none):
    """Reset the ``.grad`` of each of ``tensors``: to ``None``, or detached and zero-filled in place.

    The one body behind ``Module.zero_grad`` and ``Optimizer.zero_grad``.
    """
    for p in tensors:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            if p.grad.grad_fn is not None:
                p.grad.detach_()
            else:
                p.grad.requires_grad_(False)
            p.grad.zero_()


def _as_list(x):
    """A tensor (or a sparse one), a :class:`GradientEdge` (itself a tuple) or any other iterable of them (a
    list, a tuple, ``model.parameters()``, ``params.values()``), as a list; a number raises PyTorch's TypeError
    (its ``tuple(x)``'s)."""
    if x is None:
        return None
    if isinstance(x, (list, tuple)) and not isinstance(x, GradientEdge):
        return list(x)
    if isinstance(x, Number):
        raise TypeError(f"'{type_name(x)}' object is not iterable")
    if isinstance(x, (Tensor, GradientEdge)) or getattr(x, "is_sparse", False) or not hasattr(x, "__iter__"):
        return [x]
    return list(x)  # PyTorch takes tuple() of any other iterable


def _checked_grad_output(i, output, grad):
    """The gradient given for ``output`` (the ``i``-th root of a backward pass, a tensor or a
    :class:`GradientEdge`) after PyTorch's checks (``output``'s shape, device, and complex or not), cast to
    ``output``'s dtype as PyTorch's engine casts the gradients it starts from."""
    if isinstance(output, GradientEdge):
        _, device, shape, _ = edge_meta(output)
    else:
        device, shape = output._device, output.shape
    if grad.shape != shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{i}] has a shape of {grad.shape} and output[{i}] has a shape of {shape}."
        )
    dtype = _output_dtype(output)
    if dtype.is_complex != grad.dtype.is_complex:
        raise RuntimeError(
            "For complex Tensors, both grad_output and output are required to have the same dtype. Mismatch in "
            f"dtype: grad_output[{i}] has a dtype of {grad.dtype} and output[{i}] has a dtype of {dtype}."
        )
    if grad._device != device:
        raise RuntimeError(f"invalid gradient at index {i} - expected device {device} but got {grad._device}")
    return grad if grad.dtype is dtype else grad.to(dtype)


def _output_dtype(output):
    """The dtype of ``output``, a tensor or a :class:`GradientEdge`."""
    if isinstance(output, GradientEdge):
        backend, _, _, native = edge_meta(output)
        return backend.ember_dtype(native)
    return output.dtype


def _implicit_grad(output):
    """The gradient of a one-element real ``output`` (a tensor or a :class:`GradientEdge`) when none is
    given: one."""
    if isinstance(output, GradientEdge):
        meta = edge_meta(output)
        template = Tensor._zeros_from_meta(meta)
    else:
        template = output
    if template.numel() != 1:
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    if template.dtype.is_complex:
        raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {template.dtype}")
    return template.new_ones(template.shape)


def _default_grads(outputs, grad_outputs):
    grads = _as_list(grad_outputs) or [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
    result = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g is None:
            g = _implicit_grad(out)
        elif not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
        else:
            g = _checked_grad_output(i, out, g)
        result.append(g)
    return result


@overload
def grad(
    outputs: Tensor | GradientEdge | Sequence[Tensor | GradientEdge],
    inputs: Tensor | GradientEdge | Sequence[Tensor | GradientEdge],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]: ...


@overload
def grad(
    outputs: Tensor | GradientEdge | Sequence[Tensor | GradientEdge],
    inputs: dict[str, Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> dict[str, Tensor | None]: ...


def grad(
    outputs: Tensor | GradientEdge | Sequence[Tensor | GradientEdge],
    inputs: Tensor | GradientEdge | Sequence[Tensor | GradientEdge] | dict[str, Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...] | dict[str, Tensor | None]:
    """The gradients of ``outputs`` with respect to ``inputs`` (no ``.grad`` is touched).

    Args:
        outputs: tensor(s) to differentiate, or the :class:`~ember.autograd.graph.GradientEdge` of each.
        inputs: tensor(s) to differentiate with respect to, or their
            :class:`~ember.autograd.graph.GradientEdge`; a dict of tensors gives a dict of their
            gradients under the same keys.
        grad_outputs: the vector(s) in the vector-Jacobian product; ones for scalars.
        retain_graph: keep the graph. Default: ``create_graph``.
        create_graph: record the backward for higher derivatives. Default: False.
        only_inputs: deprecated and ignored (a FutureWarning when False), as in PyTorch. Default: True.
        allow_unused: return None for inputs the outputs do not depend on instead of raising.
        is_grads_batched: the first dimension of each of ``grad_outputs`` is a batch of vectors; each
            gradient gets that dimension in front (one vector-Jacobian product per vector). Default: False.
        materialize_grads: return zeros instead of None for unused inputs. Default: False.

    Example::

        >>> x = ember.tensor(3.0, requires_grad=True)
        >>> (g,) = ember.autograd.grad(x ** 3, x)
        >>> g
        tensor(27.)
    """
    if not only_inputs:
        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
            "gradient for other parts of the graph, please use ember.autograd.backward.",
            FutureWarning,
            stacklevel=2,
        )
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False."
        )
    if isinstance(inputs, dict) and type(inputs) is not dict:
        raise TypeError(
            f"`inputs` argument to `grad()` must be a dict, not {type(inputs).__name__}. Other Mapping types are "
            "not supported."
        )
    if isinstance(inputs, dict):
        grads = _grad(outputs, list(inputs.values()), grad_outputs, retain_graph, create_graph, allow_unused,
                      is_grads_batched, materialize_grads)  # fmt: skip
        return dict(zip(inputs, grads))
    return _grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, is_grads_batched,
                 materialize_grads)  # fmt: skip


def _grad(
    outputs: Tensor | GradientEdge | Sequence[Tensor | GradientEdge],
    inputs: Tensor | GradientEdge | Sequence[Tensor | GradientEdge],
    grad_outputs: Tensor | Sequence[Tensor | None] | None,
    retain_graph: bool | None,
    create_graph: bool,
    allow_unused: bool | None,
    is_grads_batched: bool,
    materialize_grads: bool,
) -> tuple[Tensor | None, ...]:
    """:func:`grad` for a tensor or a sequence of tensors as ``inputs``."""
    outputs = _as_list(outputs)
    inputs_list: list[Any] = _as_list(inputs)  # tensors and GradientEdges
    if not inputs_list:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        return _batched_grad(
            outputs, inputs_list, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads
        )
    grads = _default_grads(outputs, grad_outputs)
    if any(_sparse_input(x) for x in inputs_list):
        return _grad_of_sparse_inputs(
            outputs, grads, inputs_list, retain_graph, create_graph, allow_unused, materialize_grads
        )
    result = run_backward(
        outputs,
        grads,
        retain_graph,
        create_graph,
        inputs=inputs_list,
        allow_unused=bool(allow_unused or materialize_grads),
    )
    if materialize_grads:
        if any(g is None and isinstance(x, GradientEdge) for g, x in zip(result, inputs_list)):
            raise RuntimeError("materialize_grads cannot be used when the given input is a GradientEdge")
        result = tuple(
            g if g is not None else x.new_zeros(x.shape).requires_grad_(create_graph)
            for g, x in zip(result, inputs_list)
        )
    return result


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """``grad`` with ``is_grads_batched``: one backward per vector of the batch, the results stacked."""
    from ..ops.movement import stack  # the ops build on this module

    vectors = _as_list(grad_outputs)
    if vectors is None:
        vectors = [None] * len(outputs)
    if len(vectors) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(vectors)} gradients")
    for i, (out, g) in enumerate(zip(outputs, vectors)):
        if g is None and out.ndim:  # the implicit gradient (PyTorch's vmap then finds no batch dimension)
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if g is None:
            raise ValueError(
                "vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some input, but that input is a Tensor of "
                "dimensionality 0 so expected in_dim to satisfy 0 <= in_dim < 0."
            )
        if tuple(g.shape[1:]) != tuple(out.shape):
            shape = g.shape
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch "
                "dimension. The sizes of the remaining dimensions are expected to match the shape of corresponding "
                f"output, but a mismatch was detected: grad_output[{i}] has a shape of {shape} and output[{i}] has "
                f"a shape of {out.shape}. If you only want some tensors in `grad_output` to be "
                "considered batched, consider using vmap."
            )
    sizes = [g.shape[0] for g in vectors]
    if any(n != sizes[0] for n in sizes):
        raise ValueError(
            f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes {sizes} for the "
            "mapped dimension"
        )
    size = sizes[0]
    rows = [
        grad(outputs, inputs, [g[b] for g in vectors], retain_graph or b < size - 1, create_graph,
             allow_unused=allow_unused, materialize_grads=materialize_grads)
        for b in range(size)
    ]  # fmt: skip
    return tuple(None if column[0] is None else stack(list(column)) for column in zip(*rows))


def _sparse_input(x):
    """Whether the ``grad`` input ``x`` is a sparse tensor (COO or compressed): one differentiated
    through the dense leaves its gradient collects in."""
    return not isinstance(x, GradientEdge) and hasattr(x, "_grad_leaves")


def _grad_of_sparse_inputs(outputs, grads, inputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """:func:`grad` where some inputs are sparse tensors (COO or compressed): each is differentiated through the
    dense leaves its gradient collects in (``SparseCOOTensor._grad_leaves``) and its gradient
    assembled from theirs, as its ``.grad`` is."""
    groups = [x._grad_leaves() if _sparse_input(x) else [x] for x in inputs]
    flat = run_backward(
        outputs, grads, retain_graph, create_graph, inputs=[t for g in groups for t in g], allow_unused=True
    )
    result, start = [], 0
    for i, (x, group) in enumerate(zip(inputs, groups)):
        part, start = flat[start : start + len(group)], start + len(group)
        g = x._gradient(*part, materialize=materialize_grads) if _sparse_input(x) else part[0]
        if g is None and materialize_grads:
            g = x.new_zeros(x.shape)
        if g is None and not (allow_unused or materialize_grads):
            raise RuntimeError(
                f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior."
            )
        result.append(g)
    return tuple(result)


def backward(
    tensors: Tensor | GradientEdge | Sequence[Tensor | GradientEdge],
    grad_tensors: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    grad_variables: Tensor | Sequence[Tensor | None] | None = None,
    inputs: Tensor | GradientEdge | Sequence[Tensor | GradientEdge] | dict[str, Tensor] | None = None,
) -> None:
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad`` (see :meth:`Tensor.backward`);
    ``grad_variables`` is the deprecated name of ``grad_tensors``, and ``inputs`` may be a dict of tensors."""
    if grad_variables is not None:
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.", FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError(
                "`grad_tensors` and `grad_variables` (deprecated) arguments both passed to `backward()`. Please "
                "only use `grad_tensors`."
            )
        grad_tensors = grad_variables
    tensors = _as_list(tensors)
    grads = _default_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        _accumulate_into_inputs(tensors, grads, inputs, retain_graph, create_graph)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def _accumulate_into_inputs(outputs, grads, inputs, retain_graph, create_graph):
    """``backward(..., inputs=inputs)``: add the gradients of ``outputs`` into the ``.grad`` of each of
    ``inputs`` only (of the leaf an ``AccumulateGrad`` edge feeds; none for another node's edge); ``inputs`` may
    be a dict of them."""
    if isinstance(inputs, dict) and type(inputs) is not dict:
        raise TypeError(
            f"`inputs` argument to `backward()` must be a dict, not {type(inputs).__name__}. Other Mapping types are "
            "not supported."
        )
    inputs = list(inputs.values()) if isinstance(inputs, dict) else _as_list(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    results = grad(outputs, inputs, grads, retain_graph, create_graph, allow_unused=True)
    # a leaf's gradient (through its hooks already) is accumulated as AccumulateGrad does (into the memory of
    # its .grad, then its post-accumulate-grad hooks), a non-leaf's as retain_grad does
    held = _Held()
    for g in grads:
        if is_strided(g):
            held.reserve(g)
    accumulated = set()  # a tensor named twice gets its gradient once, as PyTorch's
    for target, g in zip(inputs, results):
        if isinstance(target, GradientEdge):
            target = target.node.variable if isinstance(target.node, AccumulateGrad) else None
        if g is None or target is None or id(target) in accumulated:
            continue
        accumulated.add(id(target))
        if target.grad_fn is None:
            _accumulate_hooked(target, g, create_graph, held)
        else:
            g = g if create_graph else g.detach()
            target._grad = retained_gradient(g) if target._grad is None else target._grad + g


def tensor_backward(
    self: Tensor,
    gradient: Tensor | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | GradientEdge | Sequence[Tensor | GradientEdge] | dict[str, Tensor] | None = None,
) -> None:
    """Accumulate the gradient of this tensor into the ``.grad`` of the graph's leaves.

    Args:
        gradient (Tensor, optional): the gradient with respect to this tensor; may be omitted when it has one element.
        retain_graph (bool, optional): keep the graph for another backward pass; ``create_graph`` when ``None``.
        create_graph (bool): record the backward pass itself, for higher-order gradients. Default: ``False``.
        inputs (sequence of Tensors, optional): accumulate only into these leaves' ``.grad`` (or those of
            the leaves whose :class:`~ember.autograd.graph.GradientEdge` is given); all leaves when ``None``.

    Example::

        >>> x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4., 6.])
        >>> y = x * 2
        >>> y.backward(ember.tensor([1.0, 0.0, 0.5]))
        >>> x.grad
        tensor([4., 4., 7.])
    """
    shape = self._data.shape
    if gradient is None:
        if self.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if self.dtype.is_complex:
            raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {self.dtype}")
        gradient = self._make(self._backend.xp.ones(shape, dtype=self._data.dtype))
    else:
        if not isinstance(gradient, Tensor):
            gradient = new_tensor(gradient, dtype=self.dtype, device=self._device)
        gradient = _checked_grad_output(0, self, gradient)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        _accumulate_into_inputs([self], [gradient], inputs, retain_graph, create_graph)
        return
    run_backward([self], [gradient], retain_graph, create_graph)
