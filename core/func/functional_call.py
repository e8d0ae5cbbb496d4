"""``ember.func.functional_call`` and ``stack_module_state``: modules as functions of their tensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..nn.modules.module import Module
from ..nn.utils.stateless import call_with
from ..ops.movement import stack
from ..tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]


def functional_call(
    module: Module,
    parameter_and_buffer_dicts: dict[str, Tensor] | Sequence[dict[str, Tensor]],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    r"""Call ``module`` with the given tensors in place of its parameters and buffers.

    The tensors go in by dotted name (``"0.weight"`` for a submodule's) for the duration of the call;
    names not given keep the module's own. The module's tensors are restored afterwards, also when
    the call raises. This makes a module a function of its parameters, for :func:`ember.func.grad`,
    :func:`ember.func.vmap` (per-sample gradients, ensembles with :func:`stack_module_state`) and
    the other transforms.

    Args:
        module (nn.Module): the module to call.
        parameter_and_buffer_dicts (dict or sequence of dicts): the tensors by dotted name; several
            dicts (parameters, buffers) must not share a name.
        args (Any or tuple): positional arguments; a non-tuple is the one argument. Default: ``None``.
        kwargs (dict): keyword arguments. Default: ``None``.
        tie_weights (bool): where the module ties tensors (one tensor under several names), a value
            given for one name serves them all; values for two tied names must be the same tensor.
            Default: ``True``.
        strict (bool): the names must be exactly the module's parameters and buffers, else a
            ``RuntimeError`` lists the missing and unexpected keys. Default: ``False``.

    Returns:
        What ``module`` returns.

    Example::

        >>> from ember.func import functional_call, grad
        >>> m = nn.Linear(2, 1)
        >>> params = {"weight": ember.tensor([[1.0, 1.0]]), "bias": ember.tensor([0.5])}
        >>> x = ember.tensor([1.0, 2.0])
        >>> functional_call(m, params, (x,))
        tensor([3.5000])
        >>> grad(lambda p: functional_call(m, p, (x,)).sum())(params)["weight"]
        tensor([[1., 2.]])
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        tensors = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        counts: dict[str, int] = {}
        for d in parameter_and_buffer_dicts:
            for key in d:
                counts[key] = counts.get(key, 0) + 1
        repeated = [key for key, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        tensors = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(
            "Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
            f"{type(parameter_and_buffer_dicts)}"
        )
    return call_with(module, tensors, args, kwargs, tie_weights=tie_weights, strict=strict)


def _stacked_leaf(tensors: list[Tensor], name: str) -> Tensor:
    needs = [t.requires_grad for t in tensors]
    if any(needs) and not all(needs):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = stack([t.detach() for t in tensors])
    return result.requires_grad_(True) if all(needs) else result


def stack_module_state(models: Sequence[Module]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    r"""The parameters and buffers of several models of one architecture, stacked along a new
    leading dimension, for an ensemble run with :func:`ember.func.vmap` and :func:`functional_call`.

    The stacked parameters are new leaves (requiring grad where the models' do); the models are
    left as they are.

    Args:
        models (sequence of nn.Module): models of the same class, all in training or all in eval mode.

    Returns:
        ``(params, buffers)``: dicts from dotted names to stacked tensors.

    Example::

        >>> from ember.func import functional_call, stack_module_state
        >>> models = [nn.Linear(3, 2) for _ in range(4)]
        >>> params, buffers = stack_module_state(models)
        >>> params["weight"].shape
        ember.Size([4, 2, 3])
        >>> base = models[0]
        >>> def run(p, b, x):
        ...     return functional_call(base, (p, b), (x,))
        >>> ember.vmap(run, in_dims=(0, 0, None))(params, buffers, ember.randn(5, 3)).shape
        ember.Size([4, 5, 2])
    """
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: _stacked_leaf([p[k] for p in all_params], k) for k in all_params[0]}
    buffers = {k: _stacked_leaf([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers
