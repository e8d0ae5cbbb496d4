"""The backward engine: runs the graph's nodes in dependency order and routes gradients."""

from __future__ import annotations

import heapq

from . import function
from .function import AccumulateGrad
from .grad_mode import grad_state

__all__ = ["run_backward"]


def _collect_dependencies(roots):
    """Count, for every node reachable from ``roots``, how many edges point at it."""
    dependencies = {}
    stack = [node for node in roots if node is not None]
    roots = set(stack)
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is not None:
                count = dependencies.get(child, 0)
                dependencies[child] = count + 1
                if count == 0 and child not in roots:  # first edge to it: visit it once
                    stack.append(child)
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
    for tensor, grad in zip(tensors, grad_tensors):
        if not tensor._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        roots.append((tensor._gradient_edge(), grad))

    capture = None
    if inputs is not None:
        capture = {}
        for i, tensor in enumerate(inputs):
            if not tensor._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            capture.setdefault(tensor._gradient_edge(), []).append(i)
        results = [None] * len(inputs)

    root_nodes = [edge[0] for edge, _ in roots]
    dependencies = _collect_dependencies(root_nodes)
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
        if dependencies.get(node, 0) == 0:
            heapq.heappush(ready, (-node._sequence_nr, node))

    previous = grad_state.enabled
    grad_state.enabled = bool(create_graph)
    pop, push = heapq.heappop, heapq.heappush
    try:
        while ready:
            node = pop(ready)[1]
            grads = buffers.pop(node, None) or [None] * _num_outputs(node)
            if node._pre_hooks:
                for hook in node._pre_hooks:
                    new = hook(grads)
                    if new is not None:
                        grads = list(new)
            if capture is not None:
                for nr in range(len(grads)):
                    for i in capture.get((node, nr), ()):
                        results[i] = grads[nr]
            if isinstance(node, AccumulateGrad):
                if capture is None:
                    _accumulate_into_leaf(node._variable(), grads[0], create_graph)
                continue
            grad_inputs = _call_backward(node, grads)
            if node._post_hooks:
                # hooks see None for the inputs that need no gradient
                grad_inputs = [grad if needed else None for grad, needed in zip(grad_inputs, node.needs_input_grad)]
                for hook in node._post_hooks:
                    new = hook(grad_inputs, grads)
                    if new is not None:
                        grad_inputs = tuple(new)
            if not retain_graph:
                node._saved = None
            # an input that needs no gradient has no edge (child None): its gradient is dropped
            for (child, nr), grad in zip(node.next_functions, grad_inputs):
                if child is None:
                    continue
                if grad is not None:
                    buffer = buffers.get(child)
                    if buffer is None:
                        buffer = buffers[child] = [None] * _num_outputs(child)
                    _accumulate(buffer, nr, grad)
                remaining = dependencies[child] - 1
                dependencies[child] = remaining
                if remaining == 0:
                    push(ready, (-child._sequence_nr, child))
    finally:
        grad_state.enabled = previous

    if capture is not None:
        for grad in results:
            if grad is None and not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
        return tuple(results)
    return None


def _num_outputs(node):
    meta = getattr(node, "_output_meta", None)
    return len(meta) if meta else 1


def _call_backward(node, grads):
    if node.materialize_grads:
        for g in grads:
            if g is None:
                meta = node._output_meta
                grads = [
                    g if g is not None else function._Tensor._zeros_from_meta(meta[i]) for i, g in enumerate(grads)
                ]
                break
    result = node.apply(*grads)
    expected = len(node.next_functions)
    if len(result) < expected:
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients (expected {expected}, got {len(result)})"
        )
    return result


def _accumulate_into_leaf(leaf, grad, create_graph):
    if grad is None or leaf is None:  # a leaf nobody holds any more needs no gradient
        return
    if leaf._hooks:
        for hook in leaf._hooks:
            new = hook(grad)
            if new is not None:
                grad = new
    if not create_graph:
        grad = grad.detach()
    if grad.shape != leaf._data.shape:  # grad may be sparse (no native array)
        raise RuntimeError(
            f"Function AccumulateGrad returned an invalid gradient - got {list(grad.shape)} "
            f"but expected shape compatible with {list(leaf.shape)}"
        )
    current = leaf.grad
    if current is None:
        leaf.grad = grad
    elif grad.is_sparse or current.is_sparse:
        # sparse + sparse concatenates coordinates; sparse + dense gives a dense sum
        leaf.grad = grad + current if grad.is_sparse else current + grad
    elif create_graph:
        leaf.grad = current + grad
    else:
        # Rebind rather than add in place: the first gradient may share storage with a
        # tensor the caller still holds.
        current._data = current._data + grad._data
        current._version.value += 1
    if leaf._post_accumulate_hooks:
        for hook in leaf._post_accumulate_hooks:
            hook(leaf)
