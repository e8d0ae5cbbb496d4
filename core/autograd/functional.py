"""``autograd.functional``: Jacobians, Hessians and their products with vectors, of a function.

Each builds the function's graph once (on detached copies of the inputs, or on views of them
with ``create_graph=True``) and differentiates it with :func:`ember.autograd.grad`; the
forward-mode products (:func:`jvp`, :func:`hvp`) use the double-backward trick, as PyTorch's.
``vectorize=True`` and ``strategy="forward-mode"`` (which needs it) are accepted: ember has no
``vmap``, so the Jacobian is assembled one row at a time, with the same result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ops.movement import stack
from ..tensor import Tensor
from .engine import grad as _autograd_grad
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from .tangents import computed_off_graph, cotangent_for

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]

_STRICT_NONE = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when using "
    "the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
    "strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. "
    "This is not allowed in strict mode as it prevents from using the double backward trick to replace forward mode AD.",
}

_STRICT_NO_GRAD = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs must be computed in "
    "a differentiable manner from the input when running in strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the user-provided "
    "function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function with respect to "
    "input {i} is independent of the input. This is not allowed in strict mode. You should ensure that your function "
    "is twice differentiable and that the jacobian depends on the inputs (this would be violated by a linear function "
    "for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is independent of the input. This "
    "is not allowed in strict mode. You should ensure that your function is thrice differentiable and that the hessian "
    "depends on the inputs.",
}


def _as_tuple(value, arg_name, fn_name):
    """``(was_tuple, value as a tuple)``, checking that it holds tensors only."""
    is_tuple = isinstance(value, tuple)
    items = tuple(value) if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {i} has type" if is_tuple else f"the given {arg_name} has type"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but {where} "
                f"{type(item)}."
            )
    return is_tuple, items


def _unpack(value, is_tuple):
    """Undo :func:`_as_tuple` (``is_tuple`` a pair for nested results)."""
    if isinstance(is_tuple, tuple):
        if not is_tuple[1]:
            value = tuple(v[0] for v in value)
        return value if is_tuple[0] else value[0]
    return value if is_tuple else value[0]


def _prepare(inputs, create_graph, need_graph=True):
    """The tensors to differentiate with respect to: views of the inputs (``create_graph``, keeping
    the user's graph) or detached copies."""
    return tuple(
        t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph) for t in inputs
    )


def _finish(tensors, create_graph):
    if tensors and isinstance(tensors[0], Tensor):
        return tensors if create_graph else tuple(t.detach() for t in tensors)
    return tuple(_finish(t, create_graph) for t in tensors)


def _check(tensors, kind, strict):
    if strict:
        for i, t in enumerate(tensors):
            if t is None:
                raise RuntimeError(_STRICT_NONE["back"].format(i=i))
            if not t.requires_grad:
                raise RuntimeError(_STRICT_NO_GRAD[kind].format(i=i))


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """Gradients of the outputs that require grad (``None`` for inputs they do not reach)."""
    grad_outputs = (None,) * len(outputs) if grad_outputs is None else grad_outputs
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _autograd_grad(
        [o for o, _ in pairs],
        list(inputs),
        [g for _, g in pairs],
        retain_graph=retain_graph,
        create_graph=create_graph,
        allow_unused=True,
    )


def _zeros_for_none(grads, refs, strict, create_graph, stage):
    result = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT_NONE[stage].format(i=i))
            g = ref.new_zeros(ref.shape)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. This is not allowed in "
                "strict mode when create_graph=True."
            )
        result.append(g)
    return tuple(result)


def _vector(v, like, like_is_tuple, create_graph, fn_name):
    _, v = _as_tuple(v, "v", fn_name)
    v = _prepare(v, create_graph, need_graph=False)
    if len(v) != len(like):
        if like_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            prefix = f"Entry {i} in " if like_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.size()} but got {a.size()}.")
    return v


def _input_vector(v, inputs, is_inputs_tuple, create_graph, fn_name):
    if v is not None:
        return _vector(v, inputs, is_inputs_tuple, create_graph, fn_name)
    if len(inputs) != 1 or inputs[0].nelement() != 1:
        raise RuntimeError(
            "The vector v can only be None if the input to the user-provided function is a single Tensor with a "
            "single element."
        )
    return None


def _scalar_output(func, inputs, strict, fn_name):
    raw = func(*inputs)
    is_tuple, outputs = _as_tuple(raw, "outputs of the user-provided function", fn_name)
    _check(outputs, "outputs", strict)
    if is_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")
    return outputs


def vjp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    r"""The vector-Jacobian product :math:`v^\top J` of ``func`` at ``inputs``.

    Args:
        func (function): takes tensors, returns a tensor or a tuple of tensors.
        inputs (Tensor or tuple of Tensors): the point.
        v (Tensor or tuple of Tensors): the vector, shaped like the outputs; may be omitted
            when ``func`` returns one single-element tensor.
        create_graph (bool): make the result differentiable. Default: ``False``.
        strict (bool): raise where an output does not depend on an input instead of
            returning zeros. Default: ``False``.

    Returns:
        ``(func_output, vjp)``, ``vjp`` shaped like ``inputs``.

    Example::

        >>> x = ember.tensor([1.0, 2.0])
        >>> out, g = ember.autograd.functional.vjp(lambda x: x**2, x, ember.ones(2))
        >>> g
        tensor([2., 4.])
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        _check(outputs, "outputs", strict)
        if v is not None:
            v = _vector(v, outputs, is_outputs_tuple, create_graph, "vjp")
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single Tensor with a single "
                "element."
            )
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        result = _zeros_for_none(_grad(outputs, inputs, v, create_graph), inputs, strict, create_graph, "back")
    return _unpack(_finish(outputs, create_graph), is_outputs_tuple), _unpack(
        _finish(result, create_graph), is_inputs_tuple
    )


def jvp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    r"""The Jacobian-vector product :math:`J v` of ``func`` at ``inputs`` (by the double-backward trick).

    Args:
        func (function): takes tensors, returns a tensor or a tuple of tensors.
        inputs (Tensor or tuple of Tensors): the point.
        v (Tensor or tuple of Tensors): the vector, shaped like ``inputs``; may be omitted when
            the input is one single-element tensor.
        create_graph (bool): make the result differentiable. Default: ``False``.
        strict (bool): raise where an output does not depend on an input. Default: ``False``.

    Returns:
        ``(func_output, jvp)``, ``jvp`` shaped like the outputs.

    Example::

        >>> x = ember.tensor([1.0, 2.0])
        >>> out, t = ember.autograd.functional.jvp(lambda x: x**2, x, ember.tensor([1.0, 0.0]))
        >>> t
        tensor([2., 0.])
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph)
        v = _input_vector(v, inputs, is_inputs_tuple, create_graph, "jvp")
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
        _check(outputs, "outputs", strict)
        grad_outputs = tuple(cotangent_for(o) for o in outputs)
        grad_inputs = _grad(outputs, inputs, grad_outputs, create_graph=True)
        _check(grad_inputs, "grad_inputs", strict)
        if any(computed_off_graph(g) for g in grad_inputs):  # its derivative in grad_outputs would be zero
            raise RuntimeError("jvp: the derivative of an op's backward is not implemented (computed off the graph)")
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        found = _grad(grad_inputs, grad_outputs, v, create_graph)
        result = _zeros_for_none(found, outputs, strict, create_graph, "back_trick")
    return _unpack(_finish(outputs, create_graph), is_outputs_tuple), _unpack(
        _finish(result, create_graph), is_outputs_tuple
    )


def jacobian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    r"""The Jacobian of ``func`` at ``inputs``.

    Args:
        func (function): takes tensors, returns a tensor or a tuple of tensors.
        inputs (Tensor or tuple of Tensors): the point.
        create_graph (bool): make the result differentiable. Default: ``False``.
        strict (bool): raise where an output does not depend on an input. Default: ``False``.
        vectorize (bool): accepted (PyTorch batches the rows with ``vmap``; ember computes them
            one at a time, with the same result). Default: ``False``.
        strategy (str): ``"reverse-mode"`` or ``"forward-mode"`` (which, as in PyTorch, needs
            ``vectorize=True``). Default: ``"reverse-mode"``.

    Returns:
        A tensor of shape ``output.shape + input.shape``; a tuple over inputs (or outputs), or a
        tuple of tuples (``[output][input]``) when both are tuples.

    Example::

        >>> ember.autograd.functional.jacobian(lambda x: x**2, ember.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has more outputs '
            'than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                'torch.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-mode"` are not '
                'supported together (yet). Please either set `create_graph=False` or `strategy="reverse-mode"`.'
            )
        if strict:
            raise RuntimeError(
                'torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not supported '
                'together (yet). Please either set `strict=False` or `strategy="reverse-mode"`.'
            )
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian isonly implemented for "
                "`vectorize=True`."
            )
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
        _check(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported together. "
                "Please either set `strict=False` or `vectorize=False`."
            )
        jacobian = []
        for i, out in enumerate(outputs):
            rows: list[list[Tensor]] = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(out.nelement()):
                found = _grad((flat[j],), inputs, retain_graph=True, create_graph=create_graph)
                for k, (g, inp) in enumerate(zip(found, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of input {k}. This is not "
                                "allowed in strict mode."
                            )
                        g = inp.new_zeros(inp.shape)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(
                            f"The jacobian of the user-provided function is independent of input {i}. This is not "
                            "allowed in strict mode when create_graph=True."
                        )
                    rows[k].append(g)
            jacobian.append(
                tuple(_stack(r, inp).reshape(tuple(out.shape) + tuple(inp.shape)) for r, inp in zip(rows, inputs))
            )
        return _unpack(_finish(tuple(jacobian), create_graph), (is_outputs_tuple, is_inputs_tuple))


def _stack(rows, like):
    return stack(rows) if rows else like.new_zeros((0, *like.shape))


def hessian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    r"""The Hessian of the scalar function ``func`` at ``inputs``.

    Args:
        func (function): takes tensors, returns a tensor with a single element.
        inputs (Tensor or tuple of Tensors): the point.
        create_graph (bool): make the result differentiable. Default: ``False``.
        strict (bool): raise where the Hessian does not depend on an input. Default: ``False``.
        vectorize (bool): as in :func:`jacobian`. Default: ``False``.
        outer_jacobian_strategy (str): as ``strategy`` in :func:`jacobian`. Default: ``"reverse-mode"``.

    Returns:
        A tensor of shape ``input.shape + input.shape``, or a tuple of tuples
        (``[input_i][input_j]``) for tuple inputs.

    Example::

        >>> ember.autograd.functional.hessian(lambda x: (x**3).sum(), ember.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp):
        return _scalar_output(func, inp, strict, "hessian")[0].squeeze()

    def gradient(*inp):
        jac = jacobian(single_output, inp, create_graph=True)
        _check(jac, "jacobian", strict)
        return jac

    result = jacobian(
        gradient,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _unpack(result, (is_inputs_tuple, is_inputs_tuple))


def _gradient_at(func, inputs, v, create_graph, strict, fn_name):
    """``(is_inputs_tuple, inputs, v, outputs, jac)``: the gradient of the scalar ``func`` with a graph."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _prepare(inputs, create_graph)
    v = _input_vector(v, inputs, is_inputs_tuple, create_graph, fn_name)
    outputs = _scalar_output(func, inputs, strict, fn_name)
    jac = _grad(outputs, inputs, create_graph=True)
    _check(jac, "jacobian", strict)
    return is_inputs_tuple, inputs, v, outputs, jac


def vhp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    r"""The vector-Hessian product :math:`v^\top H` of the scalar function ``func`` at ``inputs``.

    Args:
        func (function): takes tensors, returns a tensor with a single element.
        inputs (Tensor or tuple of Tensors): the point.
        v (Tensor or tuple of Tensors): the vector, shaped like ``inputs``.
        create_graph (bool): make the result differentiable. Default: ``False``.
        strict (bool): raise where the Hessian does not depend on an input. Default: ``False``.

    Returns:
        ``(func_output, vhp)``.

    Example::

        >>> out, p = ember.autograd.functional.vhp(lambda x: (x**3).sum(), ember.tensor([1.0, 2.0]), ember.ones(2))
        >>> p
        tensor([ 6., 12.])
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, jac = _gradient_at(func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        result = _zeros_for_none(_grad(jac, inputs, v, create_graph), inputs, strict, create_graph, "double_back")
    return _unpack(_finish(outputs, create_graph), False), _unpack(_finish(result, create_graph), is_inputs_tuple)


def hvp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    r"""The Hessian-vector product :math:`H v` of the scalar function ``func`` at ``inputs``
    (by the double-backward trick, as PyTorch's).

    Args:
        func (function): takes tensors, returns a tensor with a single element.
        inputs (Tensor or tuple of Tensors): the point.
        v (Tensor or tuple of Tensors): the vector, shaped like ``inputs``.
        create_graph (bool): make the result differentiable. Default: ``False``.
        strict (bool): raise where the Hessian does not depend on an input. Default: ``False``.

    Returns:
        ``(func_output, hvp)``.

    Example::

        >>> out, p = ember.autograd.functional.hvp(lambda x: (x**3).sum(), ember.tensor([1.0, 2.0]), ember.ones(2))
        >>> p
        tensor([ 6., 12.])
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, jac = _gradient_at(func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(cotangent_for(t) for t in inputs)
        double_back = _grad(jac, inputs, grad_jac, create_graph=True)
        _check(jac, "hessian", strict)
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        found = _grad(double_back, grad_jac, v, create_graph)
        result = _zeros_for_none(found, inputs, strict, create_graph, "double_back_trick")
    return _unpack(_finish(outputs, create_graph), False), _unpack(_finish(result, create_graph), is_inputs_tuple)
