"""The names FSDP gives what it adds to a module, and the state-dict keys without them."""

from __future__ import annotations

__all__: list[str] = []

#: the attribute under which a unit holds the module it wraps, as PyTorch's
FSDP_WRAPPED_MODULE = "_fsdp_wrapped_module"
FSDP_PREFIX = FSDP_WRAPPED_MODULE + "."
#: the flat parameter a unit registers on its wrapped module (``use_orig_params=False``)
FLAT_PARAM = "_flat_param"


def clean_name(name: str) -> str:
    """``name`` without the wrapping prefixes: the module's own name for a parameter or buffer."""
    return name.replace(FSDP_PREFIX, "")
