"""Auto-wrap policies of :class:`~ember.distributed.fsdp.FullyShardedDataParallel`, as
``torch.distributed.fsdp.wrap``: which submodules become FSDP units of their own.

A policy is called as ``policy(module=..., recurse=..., nonwrapped_numel=...)``: with
``recurse=True`` it answers whether to look inside ``module`` for units; with ``recurse=False``,
whether ``module`` itself (holding ``nonwrapped_numel`` parameters not in a unit yet) becomes one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ...nn.modules.activation import MultiheadAttention
from ...nn.modules.container import ModuleDict, ModuleList
from ...nn.modules.module import Module

__all__ = [
    "ModuleWrapPolicy",
    "always_wrap_policy",
    "lambda_auto_wrap_policy",
    "size_based_auto_wrap_policy",
    "transformer_auto_wrap_policy",
]

#: modules whose children :func:`size_based_auto_wrap_policy` never wraps apart
FORCE_LEAF_MODULES: set[type[Module]] = {MultiheadAttention}
#: containers that :func:`size_based_auto_wrap_policy` never wraps themselves
EXCLUDE_WRAP_MODULES: set[type[Module]] = {ModuleList, ModuleDict}


def always_wrap_policy(module: Module, recurse: bool, nonwrapped_numel: int) -> bool:
    """Wrap every submodule (each one an FSDP unit).

    Example::

        >>> from ember.distributed.fsdp.wrap import always_wrap_policy
        >>> always_wrap_policy(nn.Linear(2, 2), recurse=False, nonwrapped_numel=6)
        True
    """
    return True


def _module_wrap_policy(module: Module, recurse: bool, nonwrapped_numel: int, module_classes: set[type]) -> bool:
    if recurse:
        return True
    return isinstance(module, tuple(module_classes))


class ModuleWrapPolicy:
    """Wrap every submodule that is an instance of one of ``module_classes``.

    Args:
        module_classes (iterable of type): the module classes to make units of.

    Example::

        >>> from ember.distributed.fsdp.wrap import ModuleWrapPolicy
        >>> policy = ModuleWrapPolicy({nn.Linear})
        >>> policy(nn.Linear(2, 2), recurse=False, nonwrapped_numel=6), policy(nn.ReLU(), False, 0)
        (True, False)
    """

    def __init__(self, module_classes: Iterable[type[Module]]) -> None:
        module_classes_set = set(module_classes)
        self._module_classes = module_classes_set
        self._module_classes_str = str(module_classes_set)

    def __call__(self, module: Module, recurse: bool, *args: Any, **kwargs: Any) -> bool:
        return _module_wrap_policy(module, recurse, nonwrapped_numel=-1, module_classes=self._module_classes)

    def __repr__(self) -> str:
        return super().__repr__() + f"({self._module_classes_str})"


def transformer_auto_wrap_policy(
    module: Module, recurse: bool, nonwrapped_numel: int, transformer_layer_cls: set[type[Module]]
) -> bool:
    """Wrap every submodule that is an instance of one of ``transformer_layer_cls`` (use it
    through ``functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={Block})``).

    Example::

        >>> import functools
        >>> from ember.distributed.fsdp.wrap import transformer_auto_wrap_policy
        >>> policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={nn.TransformerEncoderLayer})
        >>> policy(nn.TransformerEncoderLayer(8, 2), recurse=False, nonwrapped_numel=0)
        True
    """
    return _module_wrap_policy(module, recurse, nonwrapped_numel, set(transformer_layer_cls))


def lambda_auto_wrap_policy(
    module: Module, recurse: bool, nonwrapped_numel: int, lambda_fn: Callable[[Module], bool]
) -> bool:
    """Wrap every submodule for which ``lambda_fn(module)`` is true.

    Example::

        >>> import functools
        >>> from ember.distributed.fsdp.wrap import lambda_auto_wrap_policy
        >>> policy = functools.partial(lambda_auto_wrap_policy, lambda_fn=lambda m: isinstance(m, nn.Conv2d))
        >>> policy(nn.Conv2d(1, 1, 3), recurse=False, nonwrapped_numel=10)
        True
    """
    if recurse:
        return True
    return bool(lambda_fn(module))


def size_based_auto_wrap_policy(
    module: Module,
    recurse: bool,
    nonwrapped_numel: int,
    min_num_params: int = int(1e8),
    force_leaf_modules: set[type[Module]] | None = None,
    exclude_wrap_modules: set[type[Module]] | None = None,
) -> bool:
    """Wrap a submodule once it holds at least ``min_num_params`` parameters not in a unit yet
    (use it through ``functools.partial(size_based_auto_wrap_policy, min_num_params=...)``).

    Args:
        min_num_params (int): the size that makes a unit. Default: ``1e8``.
        force_leaf_modules (set of type, optional): modules whose children are not looked into.
            Default: ``{nn.MultiheadAttention}``.
        exclude_wrap_modules (set of type, optional): modules never wrapped themselves.
            Default: ``{nn.ModuleList, nn.ModuleDict}``.

    Example::

        >>> import functools
        >>> from ember.distributed.fsdp.wrap import size_based_auto_wrap_policy
        >>> policy = functools.partial(size_based_auto_wrap_policy, min_num_params=20)
        >>> policy(nn.Linear(5, 7), recurse=False, nonwrapped_numel=42), policy(nn.Linear(3, 1), False, 4)
        (True, False)
    """
    leaves: set[type[Module]] = set(FORCE_LEAF_MODULES if force_leaf_modules is None else force_leaf_modules)
    excluded: set[type[Module]] = set(EXCLUDE_WRAP_MODULES if exclude_wrap_modules is None else exclude_wrap_modules)
    is_large = nonwrapped_numel >= min_num_params
    if recurse:
        return is_large and not isinstance(module, tuple(leaves))
    return is_large and not isinstance(module, tuple(excluded))


# the old name
default_auto_wrap_policy = size_based_auto_wrap_policy
