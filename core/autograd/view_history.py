"""A view's autograd history, kept in step with its base's when the storage is written in place.

A view shares its base's storage and version counter. An in-place op on the base (or on another
view of it) gives the base a new history, which a view made earlier must take up: its gradient has
to flow through the write. As in PyTorch, the view remembers the version its history was set at
(``Tensor._view_version``); when the counter has moved on, the next read of its history (an op it
enters, ``grad_fn``, ``requires_grad``, ``is_leaf``, ``backward``) replays the view on its base
(``Tensor._view_replay``) and takes the replayed view's history.

Example::

    >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
    >>> c = x.clone()
    >>> v = c[0]
    >>> _ = c.mul_(2)
    >>> v.backward()
    >>> x.grad
    tensor([2., 0.])
"""

from __future__ import annotations

from typing import Any

from .. import tensor as _tensor
from ..tensor import Tensor
from .grad_mode import grad_state
from .named_nodes import named_node

__all__ = [
    "refresh_view_history",
    "check_view_writable",
    "rebase_refusal",
    "current_replay",
    "mark_reshaped_in_place",
    "MULTI_OUTPUT_VIEW",
]

# a view made without recording, of a base that requires grad: in the mode ``view._view_of_requiring_grad`` names
_AMBIGUOUS = (
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving "
    "both the view and the inplace either both inside the {block} block (if you don't want the inplace to be "
    "tracked) or both outside (if you want the inplace to be tracked)."
)
_NO_GRAD_VIEW = "A view was created in {mode} and {what} {normal}. " + _AMBIGUOUS
_VIEW_OF_NO_GRAD_VIEW = "{origin} is a view of a view which was created in {mode} and {what} {normal}. " + _AMBIGUOUS
#: the words of those messages for a view made under no_grad (True) and under inference_mode
_MODE_WORDS = {
    True: {"mode": "no_grad mode", "normal": "with grad mode enabled", "block": "no_grad"},
    "inference": {"mode": "inference mode", "normal": "in normal mode", "block": "inference_mode"},
}
# the refusals are formatted with ``origin`` ("Output 0 of Split"), ``what`` ("is being modified inplace") and
# ``head``, PyTorch's first sentence for the view ("Output 0 of Split is a view and is being modified inplace")
_CUSTOM_FUNCTION_VIEW = (
    "{head}. This view was created inside a custom Function (or because an input was "
    "returned as-is) and the autograd logic to handle view+inplace would override the custom backward associated "
    "with the custom Function, leading to incorrect gradients. This behavior is forbidden. You can fix this by "
    "cloning the output of the custom Function."
)
MULTI_OUTPUT_VIEW = (
    "{head}. This view is the output of a function that returns multiple views. Such "
    "functions do not allow the output views to be modified inplace. You should replace the inplace operation by "
    "an out-of-place one."
)


def rebase_refusal(view: Tensor) -> str | None:
    """PyTorch's refusal (a message to format with ``origin``, ``what`` and ``head``) to rebuild the history
    of ``view``, or of a view made of it: one that a user's ``Function`` returned, or a view of one, whose
    history cannot be rebuilt from its base's without bypassing the custom backward; one of the views a
    multi-output op returned (``split``, ``unbind``, which set it); a view of a view made under ``no_grad`` or
    ``inference_mode``. None for any other view."""
    refusal = getattr(view, "_rebase_refusal", None)
    if refusal is not None:
        return refusal
    if _made_without_grad(view):
        words = _MODE_WORDS[view._view_of_requiring_grad]
        return _VIEW_OF_NO_GRAD_VIEW.format(origin="{origin}", what="{what}", head="{head}", **words)
    node = view._grad_fn
    function = getattr(type(node), "_function", None)
    if function is None or not function._validates_gradients:
        return None
    return MULTI_OUTPUT_VIEW if len(node._output_meta) > 1 else _CUSTOM_FUNCTION_VIEW


def _check_rebase_allowed(view: Tensor, what: str) -> None:
    refusal = rebase_refusal(view)
    if refusal is None:
        return
    node = view._grad_fn
    if node is None:  # a view with no history (of a base that does not require grad): PyTorch's words for it
        raise RuntimeError(refusal.format(head=f"A view was created in no_grad mode and {what} with grad mode enabled"))
    function = getattr(type(node), "_function", None)
    if function is not None and function._validates_gradients:
        name = function.__name__
    else:  # a view op's node, named as PyTorch names the op ("IndexBackward0": "Index")
        name = node.name().removesuffix("0").removesuffix("Backward")
    origin = f"Output {view._output_nr} of {name}"
    raise RuntimeError(refusal.format(origin=origin, what=what, head=f"{origin} is a view and {what}"))


def _made_without_grad_error(view: Tensor, what: str) -> RuntimeError:
    return RuntimeError(_NO_GRAD_VIEW.format(what=what, **_MODE_WORDS[view._view_of_requiring_grad]))


def _made_without_grad(view: Tensor) -> bool:
    """Whether ``view`` was made of a base that required grad while recording was off (no history)."""
    return view._grad_fn is None and getattr(view, "_view_of_requiring_grad", False)


def mark_reshaped_in_place(base: Tensor) -> None:
    """Note that ``base``, a tensor that is no view, took another shape, strides or offset over its storage
    in place (``t_``, ``unsqueeze_``, ``as_strided_`` ...): the replays of the views made of it before then
    (:func:`current_replay`) expect the old layout."""
    base._reshaped_in_place = True


def current_replay(view: Tensor) -> Any:
    """``view._view_replay``, which makes the view anew of its base; where the base was reshaped in place
    since (:func:`mark_reshaped_in_place`) and the replay no longer reaches the view's elements, a replay
    of the view's own storage positions (``as_strided``, as PyTorch replays views), which the view keeps."""
    replay, base = view._view_replay, view._base
    if not getattr(base, "_reshaped_in_place", False) or view.dtype != base.dtype:  # (.real, .imag: no positions)
        return replay
    backend = view._backend
    data = _tensor.writable_data(view)
    geometry = (tuple(data.shape), *backend.layout(data))
    previous = grad_state.enabled
    grad_state.enabled = False
    try:
        region = _tensor.writable_data(replay(base))  # a replay that reshapes may copy: other memory
        same_memory = backend.memory_owner(region) is backend.memory_owner(data)
        if same_memory and (tuple(region.shape), *backend.layout(region)) == geometry:
            return replay
    except (RuntimeError, ValueError, IndexError):  # the replay refuses the base's new shape
        pass
    finally:
        grad_state.enabled = previous
    shape, strides, offset = geometry

    def storage_replay(base: Tensor) -> Tensor:
        return base.as_strided(shape, strides, offset)

    view._view_replay = storage_replay
    return storage_replay


def as_strided_node(fresh: Tensor) -> Tensor:
    """``fresh``, a view replayed on its base after an in-place write, with its node named as PyTorch's
    (which regenerates such a view with ``as_strided``: "AsStridedBackward0"; a view that changes the dtype,
    ``view_as_real``/``view_as_complex``, keeps its own node, as PyTorch replays it with its own function)."""
    node = fresh._grad_fn
    if node is None or type(node).__name__ in ("ViewAsRealBackward0", "ViewAsComplexBackward0"):
        return fresh
    return named_node(fresh, "AsStridedBackward0")


def refresh_view_history(view: Tensor) -> None:
    """Give ``view``, whose storage was written in place since its history was set, the history of
    the same view made of its base now.

    Raises ``RuntimeError`` (PyTorch's errors) for a view made under ``no_grad`` of a base that
    requires grad, whose history is ambiguous, and for a view a custom ``Function`` returned, whose
    replay would bypass the custom backward.
    """
    base = view._base
    if base._requires_grad:
        what = "its base or another view of its base has been modified inplace"
        if _made_without_grad(view):
            raise _made_without_grad_error(view, what)
        _check_rebase_allowed(view, what)
        previous = grad_state.enabled
        grad_state.enabled = True  # the history is read whatever the grad mode
        try:
            fresh = as_strided_node(current_replay(view)(base))
        finally:
            grad_state.enabled = previous
        view._grad_fn, view._output_nr, view._requires_grad = fresh._grad_fn, fresh._output_nr, True
    view._view_version = view._version_counter.value
    if base._requires_grad:
        view._move_retained_grad()


def check_view_writable(view: Tensor) -> None:
    """Refuse a recorded in-place write into a view made under ``no_grad`` (or ``inference_mode``) of a base
    that requires grad, and into a view whose history cannot be rebuilt (see :func:`rebase_refusal`)."""
    if view._view_version is not None and _made_without_grad(view):
        raise _made_without_grad_error(view, "is being modified inplace")
    _check_rebase_allowed(view, "is being modified inplace")


_tensor.refresh_view_history = refresh_view_history
_tensor.rebase_refusal = rebase_refusal
