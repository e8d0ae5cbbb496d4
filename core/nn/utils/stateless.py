"""``nn.utils.stateless``: run a module with other tensors in place of its parameters and buffers.

:func:`reparametrize_module` is the mechanism behind :func:`ember.func.functional_call` (and the
deprecated :func:`functional_call` of this module): the given tensors go into the module's
``_parameters``/``_buffers`` under their dotted names for the duration of a ``with`` block, and the
module's own tensors come back afterwards, also when the block raises.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

from ...tensor import Tensor
from ..modules.module import Module

__all__ = ["functional_call"]

_MISSING: Any = object()


def _untie(module: Module, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    """``tensors`` with a value for every name of a tied tensor one of whose names was given."""
    names_of: dict[int, set[str]] = {}
    for named in (module.named_parameters(remove_duplicate=False), module.named_buffers(remove_duplicate=False)):
        for name, tensor in named:
            names_of.setdefault(id(tensor), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    untied = dict(tensors)
    for name in [n for n in tensors if n in tied]:
        given = [n for n in tied[name] if n in tensors]
        if len(given) > 1 and len({id(tensors[n]) for n in given}) != 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(tied[name])}, which are tied. Consider using "
                "tie_weights=False"
            )
        for other in tied[name]:
            untied[other] = tensors[name]
    return untied


def _check_keys(module: Module, tensors: dict[str, Tensor]) -> None:
    valid = {name for name, _ in module.named_parameters(remove_duplicate=False)}
    valid |= {name for name, _ in module.named_buffers(remove_duplicate=False)}
    errors = []
    unexpected, missing = sorted(set(tensors) - valid), sorted(valid - set(tensors))
    if unexpected:
        errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if errors:
        raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(errors))


def _swap(module: Module, name: str, tensor: Any) -> Any:
    """Put ``tensor`` (or, given ``_MISSING``, nothing) at the dotted ``name``; return what was there."""
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of ember.Tensor")
    prefix, _, attr = name.rpartition(".")
    owner = module.get_submodule(prefix)
    for table in (owner._parameters, owner._buffers):
        if attr in table:
            original = table[attr]
            if tensor is _MISSING:
                del table[attr]
            else:
                table[attr] = tensor
            return original
    original = getattr(owner, attr, _MISSING)
    if original is not _MISSING and original is not None and not isinstance(original, Tensor):
        raise TypeError(f"attribute `{attr}`: {original} is not an instance of ember.Tensor")
    if tensor is not _MISSING:
        setattr(owner, attr, tensor)
    elif hasattr(owner, attr):
        delattr(owner, attr)
    return original


@contextlib.contextmanager
def reparametrize_module(
    module: Module, tensors: dict[str, Tensor], tie_weights: bool = False, strict: bool = False
) -> Iterator[None]:
    """Within the block, ``module`` holds ``tensors`` (by dotted name) in place of its own parameters
    and buffers; afterwards its own come back, and ``tensors`` is updated with what the module held
    at the end under the same names (a buffer the forward replaced)."""
    untied = _untie(module, tensors) if tie_weights else tensors
    if strict:
        _check_keys(module, untied)
    originals: dict[str, Any] = {}
    try:
        for name, tensor in untied.items():
            originals[name] = _swap(module, name, tensor)
        yield
    finally:
        final = {name: _swap(module, name, original) for name, original in originals.items()}
        tensors.update({name: final[name] for name in tensors if name in final})


def call_with(
    module: Module,
    tensors: dict[str, Tensor],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """``module(*args, **kwargs)`` with ``tensors`` in place of its parameters and buffers."""
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with reparametrize_module(module, tensors, tie_weights=tie_weights, strict=strict):
        return module(*args, **(kwargs or {}))


def functional_call(
    module: Module,
    parameters_and_buffers: dict[str, Tensor],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    r"""Call ``module`` with ``parameters_and_buffers`` in place of its parameters and buffers.

    Deprecated, as in PyTorch 2 (a ``FutureWarning``): use :func:`ember.func.functional_call`, which
    this is, for one dict.

    Args:
        module (nn.Module): the module to call.
        parameters_and_buffers (dict of str to Tensor): the tensors, by dotted name.
        args (Any or tuple): positional arguments (a non-tuple is one argument). Default: ``None``.
        kwargs (dict): keyword arguments. Default: ``None``.
        tie_weights (bool): a value given for one of several tied names serves them all.
            Default: ``True``.
        strict (bool): the names must be exactly the module's parameters and buffers. Default: ``False``.

    Returns:
        What ``module`` returns.

    Example::

        >>> import warnings
        >>> m = nn.Linear(2, 1)
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     out = nn.utils.stateless.functional_call(
        ...         m, {"weight": ember.ones(1, 2), "bias": ember.zeros(1)}, (ember.tensor([1.0, 2.0]),))
        >>> out
        tensor([3.])
    """
    warnings.warn(
        "`ember.nn.utils.stateless.functional_call` is deprecated, as PyTorch 2.0 deprecates its own. Please use "
        "`ember.func.functional_call` instead which is a drop-in replacement.",
        FutureWarning,
        stacklevel=2,
    )
    return call_with(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
