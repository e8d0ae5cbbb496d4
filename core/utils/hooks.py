"""Hook handles: :class:`RemovableHandle`, what ``register_*_hook`` methods return (modules,
optimizers), as ``torch.utils.hooks``; and :func:`unserializable_hook` / :func:`warn_if_has_hooks`, which
say which tensor hooks pickling drops."""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from ..tensor import warn_dropped_hooks

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks"]


class RemovableHandle:
    """A handle that removes a hook from the dictionary (or dictionaries) it was added to.

    Usable as a context manager: the hook is removed on exit.
    """

    _next_id = itertools.count()

    def __init__(
        self, hooks_dict: dict[int, Any], *, extra_dict: dict[int, Any] | Iterable[dict[int, Any]] | None = None
    ) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._next_id)
        if extra_dict is None:
            extra_dict = ()
        elif isinstance(extra_dict, dict):
            extra_dict = (extra_dict,)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        """Remove the hook; removing twice is harmless."""
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        hooks, self.id, extra = state
        self.hooks_dict_ref = weakref.ref(OrderedDict() if hooks is None else hooks)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra if d is not None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def unserializable_hook(f: Any) -> Any:
    """Mark ``f``, a tensor hook, as one that pickling a tensor is expected to drop: :func:`warn_if_has_hooks`
    (run when a tensor with hooks is pickled) then does not warn about it, as ``torch.utils.hooks.unserializable_hook``.

    Example::

        >>> import pickle, warnings
        >>> @ember.utils.hooks.unserializable_hook
        ... def hook(grad):
        ...     return grad
        >>> x = ember.ones(2, requires_grad=True)
        >>> _ = x.register_hook(hook)
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("error")
        ...     pickle.loads(pickle.dumps(x))
        tensor([1., 1.], requires_grad=True)
    """
    f.__torch_unserializable__ = True
    return f


def warn_if_has_hooks(tensor: Any) -> None:
    """Warn (``UserWarning``) for each backward hook of leaf ``tensor`` that pickling it drops, unless the hook
    is marked with :func:`unserializable_hook`; as ``torch.utils.hooks.warn_if_has_hooks``, which pickling a
    tensor runs.

    Example::

        >>> import warnings
        >>> x = ember.ones(2, requires_grad=True)
        >>> _ = x.register_hook(lambda grad: grad * 2)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     ember.utils.hooks.warn_if_has_hooks(x)
        >>> "will not be serialized" in str(caught[0].message)
        True
    """
    warn_dropped_hooks(tensor, stacklevel=3)
