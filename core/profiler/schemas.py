"""The inputs the profiler records of an op (``record_shapes``): the arguments of PyTorch's schema of the op.

PyTorch records an op's inputs as its schema lists them: every argument, in order, those the caller left
out at their defaults (``aten::sum`` of ``x.sum()``: ``self`` and ``dtype``; ``aten::conv2d``: seven).
ember's Functions take arguments of their own (the axes worked out, a NumPy dtype, the dimensions a
backward puts back), so the profiler does not record those: for an op with a schema here, it binds the
call to the schema instead. A public call (``F.conv2d(x, w, padding=1)``) is bound by position and
keyword, the overload being the first that takes the arguments given; a Function's arguments fill the
schema's tensor arguments in order (its other arguments, numbers and lists, record no shape). An op
without a schema here records the arguments it was given.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ..tensor import Tensor

__all__ = ["call_inputs", "function_inputs"]


class _Argument(NamedTuple):
    name: str
    tensor: bool  # a tensor (its shape is recorded), not a list of them
    listed: bool  # a list (``int[]``): positional arguments past the schema's are one value of it
    keyword_only: bool


#: ATen op -> the argument lists of its overloads, as ``torch.ops.aten.<op>.<overload>._schema`` writes them
_SCHEMAS: dict[str, tuple[str, ...]] = {
    "aten::sum": (
        "Tensor self, *, ScalarType? dtype=None",
        "Tensor self, int[1]? dim, bool keepdim=False, *, ScalarType? dtype=None",
    ),
    "aten::mean": (
        "Tensor self, *, ScalarType? dtype=None",
        "Tensor self, int[1]? dim, bool keepdim=False, *, ScalarType? dtype=None",
    ),
    "aten::amax": ("Tensor self, int[1] dim=[], bool keepdim=False",),
    "aten::amin": ("Tensor self, int[1] dim=[], bool keepdim=False",),
    "aten::max": ("Tensor self",),
    "aten::min": ("Tensor self",),
    "aten::median": ("Tensor self",),
    "aten::nanmedian": ("Tensor self",),
    "aten::add": ("Tensor self, Tensor other, *, Scalar alpha=1",),
    "aten::sub": ("Tensor self, Tensor other, *, Scalar alpha=1",),
    "aten::mul": ("Tensor self, Tensor other",),
    "aten::div": ("Tensor self, Tensor other",),
    "aten::mm": ("Tensor self, Tensor mat2",),
    "aten::bmm": ("Tensor self, Tensor mat2",),
    "aten::mv": ("Tensor self, Tensor vec",),
    "aten::dot": ("Tensor self, Tensor tensor",),
    "aten::matmul": ("Tensor self, Tensor other",),
    "aten::addmm": ("Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=1",),
    "aten::linear": ("Tensor input, Tensor weight, Tensor? bias=None",),
    **{
        f"aten::conv{n}d": (
            f"Tensor input, Tensor weight, Tensor? bias=None, SymInt[{n}] stride=1, SymInt[{n}] padding=0, "
            f"SymInt[{n}] dilation=1, SymInt groups=1",
        )
        for n in (1, 2, 3)
    },
    "aten::convolution": (
        "Tensor input, Tensor weight, Tensor? bias, SymInt[] stride, SymInt[] padding, SymInt[] dilation, "
        "bool transposed, SymInt[] output_padding, SymInt groups",
    ),
    "aten::_convolution": (
        "Tensor input, Tensor weight, Tensor? bias, SymInt[] stride, SymInt[] padding, SymInt[] dilation, "
        "bool transposed, SymInt[] output_padding, SymInt groups, bool benchmark, bool deterministic, "
        "bool cudnn_enabled, bool allow_tf32",
    ),
    "aten::relu": ("Tensor self",),
    "aten::clamp_min": ("Tensor self, Scalar min",),
    "aten::softmax": ("Tensor self, int dim, ScalarType? dtype=None",),
    "aten::_softmax": ("Tensor self, int dim, bool half_to_float",),
    "aten::log_softmax": ("Tensor self, int dim, ScalarType? dtype=None",),
    "aten::_log_softmax": ("Tensor self, int dim, bool half_to_float",),
    "aten::view": ("Tensor(a) self, SymInt[] size",),
    "aten::reshape": ("Tensor(a) self, SymInt[] shape",),
    "aten::_unsafe_view": ("Tensor self, SymInt[] size",),
    "aten::clone": ("Tensor self, *, MemoryFormat? memory_format=None",),
    "aten::t": ("Tensor(a) self",),
    "aten::transpose": ("Tensor(a) self, int dim0, int dim1",),
    "aten::unsqueeze": ("Tensor(a) self, int dim",),
    "aten::squeeze": ("Tensor(a) self", "Tensor(a) self, int dim", "Tensor(a) self, int[] dim"),
    "aten::flatten": ("Tensor(a) self, int start_dim=0, int end_dim=-1",),
}

#: the Functions whose op is not the first overload of its name -> the overload's position in ``_SCHEMAS``
_OVERLOAD_OF: dict[str, int] = {"_SumDims": 1, "_MeanDims": 1, "_SqueezeDim": 1, "_SqueezeDims": 2}

_SPLIT = re.compile(r",\s*(?![^\[]*\])")  # the commas between arguments, not those inside a default list
#: ATen op -> its overloads, parsed (filled on first use)
_parsed: dict[str, tuple[tuple[_Argument, ...], ...] | None] = {}


def _parse(arguments: str) -> tuple[_Argument, ...]:
    parsed, keyword_only = [], False
    for part in _SPLIT.split(arguments):
        if part == "*":
            keyword_only = True
            continue
        kind, name = part.split("=")[0].split()
        parsed.append(_Argument(name, kind.startswith("Tensor") and "[]" not in kind, "[" in kind, keyword_only))
    return tuple(parsed)


def _overloads(name: str) -> tuple[tuple[_Argument, ...], ...] | None:
    """The parsed overloads of the op ``name`` (an in-place ``aten::add_`` takes ``aten::add``'s), or None."""
    if name not in _parsed:
        schemas = _SCHEMAS.get(name) or _SCHEMAS.get(name[:-1] if name.endswith("_") else "")
        _parsed[name] = None if schemas is None else tuple(_parse(schema) for schema in schemas)
    return _parsed[name]


def function_inputs(name: str, cls: type, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The inputs recorded for the event ``name`` of ``cls.apply(*args)``: the schema's, its tensor arguments
    taken by the tensors among ``args`` in order; ``args`` where the op has no schema here.

    Example::

        >>> from ember.profiler.schemas import function_inputs
        >>> from ember.ops.reduction import _Sum
        >>> x = ember.ones(2, 3)
        >>> [getattr(v, "shape", None) for v in function_inputs("aten::sum", _Sum, (x, (0, 1), False, None, ()))]
        [ember.Size([2, 3]), None]
    """
    overloads = _overloads(name)
    if overloads is None:
        return args
    tensors = iter([arg for arg in args if isinstance(arg, Tensor)])
    schema = overloads[_OVERLOAD_OF.get(cls.__name__, 0)]
    return tuple(next(tensors, None) if argument.tensor else None for argument in schema)


def call_inputs(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The inputs recorded for the public call ``fn(*args, **kwargs)`` recorded as ``name``: its arguments bound
    to the first overload of the schema that takes them, the others at their defaults (recorded as no shape);
    ``args`` where the op has no schema here.

    Example::

        >>> from ember.profiler.schemas import call_inputs
        >>> len(call_inputs("aten::conv2d", (ember.ones(1, 1, 3, 3), ember.ones(1, 1, 1, 1)), {"padding": 1}))
        7
        >>> len(call_inputs("aten::reshape", (ember.ones(4), 2, 2), {}))
        2
    """
    for schema in _overloads(name) or ():
        positional = [argument for argument in schema if not argument.keyword_only]
        names = {argument.name for argument in schema}
        if (len(args) > len(positional) and not positional[-1].listed) or not names.issuperset(kwargs):
            continue
        if len(args) > len(positional):  # sizes given one by one (``x.reshape(2, 2)``): one list
            args = (*args[: len(positional) - 1], args[len(positional) - 1 :])
        given = dict(zip((argument.name for argument in positional), args), **kwargs)
        return tuple(given.get(argument.name) for argument in schema)
    return args
