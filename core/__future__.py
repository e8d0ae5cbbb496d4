"""``ember.__future__``: switches for behaviour that changes how :class:`~ember.nn.Module` converts and
loads its parameters, as PyTorch's ``torch.__future__``.

By default a conversion (``module.double()``, ``module.to(device)``, ``module.to_empty(...)``) changes each
parameter in place (``param.data = converted``), so the parameter objects an optimizer holds stay valid.
:func:`set_overwrite_module_params_on_conversion` makes the module hold new :class:`~ember.nn.Parameter`
objects instead; :func:`set_swap_module_params_on_conversion` swaps the converted tensors into the existing
objects with :func:`ember.utils.swap_tensors` (for conversions and for ``load_state_dict`` alike).
"""

from __future__ import annotations

__all__ = [
    "get_overwrite_module_params_on_conversion",
    "get_swap_module_params_on_conversion",
    "set_overwrite_module_params_on_conversion",
    "set_swap_module_params_on_conversion",
]

_overwrite_module_params_on_conversion = False
_swap_module_params_on_conversion = False


def set_overwrite_module_params_on_conversion(value: bool) -> None:
    """Whether converting a module (``module.double()``, ``.to(...)``, ``.cpu()``, ``.to_empty(...)``)
    gives it new :class:`~ember.nn.Parameter` objects instead of changing the existing ones in place.

    Args:
        value (bool): assign new parameters (``True``) or change them in place (``False``, the default).

    Example::

        >>> model = nn.Linear(2, 2)
        >>> weight = model.weight
        >>> ember.__future__.set_overwrite_module_params_on_conversion(True)
        >>> model.double().weight is weight
        False
        >>> ember.__future__.set_overwrite_module_params_on_conversion(False)
    """
    global _overwrite_module_params_on_conversion
    _overwrite_module_params_on_conversion = value


def get_overwrite_module_params_on_conversion() -> bool:
    """Whether module conversions assign new parameters (:func:`set_overwrite_module_params_on_conversion`);
    ``False`` by default.

    Example::

        >>> ember.__future__.get_overwrite_module_params_on_conversion()
        False
    """
    return _overwrite_module_params_on_conversion


def set_swap_module_params_on_conversion(value: bool) -> None:
    """Whether module conversions, and ``load_state_dict``, swap the new tensors into the existing
    parameter and gradient objects with :func:`ember.utils.swap_tensors` (the objects keep their identity
    while taking the new tensor's dtype, device and memory), instead of setting ``.data`` or copying.
    This takes precedence over :func:`set_overwrite_module_params_on_conversion`.

    Args:
        value (bool): swap (``True``) or not (``False``, the default).

    Example::

        >>> model = nn.Linear(2, 2)
        >>> weight = model.weight
        >>> ember.__future__.set_swap_module_params_on_conversion(True)
        >>> model.double().weight is weight, weight.dtype
        (True, ember.float64)
        >>> ember.__future__.set_swap_module_params_on_conversion(False)
    """
    global _swap_module_params_on_conversion
    _swap_module_params_on_conversion = value


def get_swap_module_params_on_conversion() -> bool:
    """Whether module conversions and ``load_state_dict`` swap tensors
    (:func:`set_swap_module_params_on_conversion`); ``False`` by default.

    Example::

        >>> ember.__future__.get_swap_module_params_on_conversion()
        False
    """
    return _swap_module_params_on_conversion
