"""In-place variants (``add_``, ``mul_``, ``clamp_``, ``fill_``, ``uniform_``, ...).

Each in-place op computes its out-of-place twin and writes the result into the
tensor's storage; the write bumps the version counter and, while recording, becomes
the tensor's new ``grad_fn``. While recording, the twin reads a copy of the old
values so that the graph never sees storage that the write changed.
"""

from __future__ import annotations

import inspect
import math
import warnings
from typing import TYPE_CHECKING

from .. import dtypes
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd import function as autograd_function
from ..autograd import tangents
from ..autograd.function import Function
from ..autograd.grad_mode import grad_state
from ..random import check_probabilities, drawn_in_memory_order, native_generator
from ..tensor import Tensor, _new, writable_data
from ..typeinfo import finfo, iinfo
from .arithmetic import result_type
from .comparison import _TORCH_NAMES
from .conversion import assign_, check_inplace, write_result_
from .dtype_support import (
    C_NAMES,
    FLOAT8,
    TORCH_NAMES,
    check_castable,
    check_random_bound,
    not_implemented,
    refuse_limited,
)
from .movement import broadcast_shapes
from .operands import fill_value_for, invalid_combination, is_scalar, wrap_dim
from .overlap import check_no_internal_overlap, check_no_partial_overlap, has_internal_overlap

if TYPE_CHECKING:
    from types import EllipsisType

    from ..random import Generator
    from ..types import Number

__all__ = []


# -- docstrings of the generated in-place variants: name -> (ember.tensor arguments, call arguments, output)
_GENERATED_DOCS = {
    "add": ("[1.0, 2.0, 4.0]", "10, alpha=2", "tensor([21., 22., 24.])"),
    "sub": ("[1.0, 2.0, 4.0]", "1", "tensor([0., 1., 3.])"),
    "mul": ("[1.0, 2.0, 4.0]", "0.5", "tensor([0.5000, 1.0000, 2.0000])"),
    "div": ("[1.0, 2.0, 4.0]", "2", "tensor([0.5000, 1.0000, 2.0000])"),
    "pow": ("[1.0, 2.0, 4.0]", "2", "tensor([ 1.,  4., 16.])"),
    "remainder": ("[-3.0, 2.0, 5.0]", "2", "tensor([1., 0., 1.])"),
    "fmod": ("[-3.0, 2.0, 5.0]", "2", "tensor([-1.,  0.,  1.])"),
    "floor_divide": ("[-3.0, 2.0, 5.0]", "2", "tensor([-2.,  1.,  2.])"),
    "neg": ("[1.0, 2.0, 4.0]", "", "tensor([-1., -2., -4.])"),
    "abs": ("[-1.0, 2.0, -3.0]", "", "tensor([1., 2., 3.])"),
    "sign": ("[-1.5, 0.0, 2.0]", "", "tensor([-1.,  0.,  1.])"),
    "exp": ("[0.0, 1.0, 2.0]", "", "tensor([1.0000, 2.7183, 7.3891])"),
    "expm1": ("[0.0, 0.5, 1.0]", "", "tensor([0.0000, 0.6487, 1.7183])"),
    "log": ("[1.0, 2.0, 4.0]", "", "tensor([0.0000, 0.6931, 1.3863])"),
    "log1p": ("[0.0, 0.5, 1.0]", "", "tensor([0.0000, 0.4055, 0.6931])"),
    "log2": ("[1.0, 2.0, 4.0]", "", "tensor([0., 1., 2.])"),
    "log10": ("[1.0, 10.0, 100.0]", "", "tensor([0., 1., 2.])"),
    "sqrt": ("[1.0, 2.0, 4.0]", "", "tensor([1.0000, 1.4142, 2.0000])"),
    "rsqrt": ("[1.0, 2.0, 4.0]", "", "tensor([1.0000, 0.7071, 0.5000])"),
    "square": ("[1.0, 2.0, 4.0]", "", "tensor([ 1.,  4., 16.])"),
    "reciprocal": ("[1.0, 2.0, 4.0]", "", "tensor([1.0000, 0.5000, 0.2500])"),
    "sin": ("[0.0, 0.5, 1.0]", "", "tensor([0.0000, 0.4794, 0.8415])"),
    "cos": ("[0.0, 0.5, 1.0]", "", "tensor([1.0000, 0.8776, 0.5403])"),
    "tan": ("[0.0, 0.5, 1.0]", "", "tensor([0.0000, 0.5463, 1.5574])"),
    "asin": ("[0.0, 0.5, 1.0]", "", "tensor([0.0000, 0.5236, 1.5708])"),
    "acos": ("[0.0, 0.5, 1.0]", "", "tensor([1.5708, 1.0472, 0.0000])"),
    "atan": ("[0.0, 0.5, 1.0]", "", "tensor([0.0000, 0.4636, 0.7854])"),
    "atan2": ("[0.0, 0.5, 1.0]", "ember.tensor([1.0, -1.0, 1.0])", "tensor([0.0000, 2.6779, 0.7854])"),
    "sinh": ("[0.0, 0.5, 1.0]", "", "tensor([0.0000, 0.5211, 1.1752])"),
    "cosh": ("[0.0, 0.5, 1.0]", "", "tensor([1.0000, 1.1276, 1.5431])"),
    "tanh": ("[0.0, 0.5, 1.0]", "", "tensor([0.0000, 0.4621, 0.7616])"),
    "sigmoid": ("[0.0, 2.0, -2.0]", "", "tensor([0.5000, 0.8808, 0.1192])"),
    "erf": ("[0.0, 0.5, 1.0]", "", "tensor([0.0000, 0.5205, 0.8427])"),
    "floor": ("[1.5, -1.5, 2.0]", "", "tensor([ 1., -2.,  2.])"),
    "ceil": ("[1.5, -1.5, 2.0]", "", "tensor([ 2., -1.,  2.])"),
    "round": ("[0.5, 1.5, 2.7]", "", "tensor([0., 2., 3.])"),
    "trunc": ("[1.7, -1.7, 2.0]", "", "tensor([ 1., -1.,  2.])"),
    "frac": ("[1.5, -2.25, 3.0]", "", "tensor([ 0.5000, -0.2500,  0.0000])"),
    "clamp": ("[-2.0, 0.5, 3.0]", "-1.0, 1.0", "tensor([-1.0000,  0.5000,  1.0000])"),
    "clip": ("[-2.0, 0.5, 3.0]", "min=0.0", "tensor([0.0000, 0.5000, 3.0000])"),
    "clamp_min": ("[-2.0, 0.5, 3.0]", "0.0", "tensor([0.0000, 0.5000, 3.0000])"),
    "clamp_max": ("[-2.0, 0.5, 3.0]", "1.0", "tensor([-2.0000,  0.5000,  1.0000])"),
    "maximum": ("[1.0, 2.0, 4.0]", "ember.tensor([3.0, 1.0, 5.0])", "tensor([3., 2., 5.])"),
    "minimum": ("[1.0, 2.0, 4.0]", "ember.tensor([3.0, 1.0, 5.0])", "tensor([1., 1., 4.])"),
    "masked_fill": ("[1.0, 2.0, 4.0]", "ember.tensor([True, False, True]), 0.0", "tensor([0., 2., 0.])"),
    "index_add": ("[1.0, 2.0, 4.0]", "0, ember.tensor([0, 0]), ember.tensor([10.0, 20.0])", "tensor([31.,  2.,  4.])"),
    "index_fill": ("[1.0, 2.0, 4.0]", "0, ember.tensor([1]), -1.0", "tensor([ 1., -1.,  4.])"),
    "scatter": ("[1.0, 2.0, 4.0]", "0, ember.tensor([2, 0]), ember.tensor([7.0, 8.0])", "tensor([8., 2., 7.])"),
    "scatter_add": ("[1.0, 2.0, 4.0]", "0, ember.tensor([2, 2]), ember.tensor([7.0, 8.0])", "tensor([ 1.,  2., 19.])"),
    "index_put": ("[1.0, 2.0, 4.0]", "(ember.tensor([0, 2]),), ember.tensor([9.0, 9.0])", "tensor([9., 2., 9.])"),
    "lerp": ("[1.0, 2.0, 4.0]", "ember.tensor([3.0, 4.0, 6.0]), 0.5", "tensor([2., 3., 5.])"),
    "addcmul": (
        "[1.0, 2.0, 4.0]",
        "ember.tensor([1.0, 2.0, 3.0]), ember.tensor([2.0, 2.0, 2.0]), value=0.5",
        "tensor([2., 4., 7.])",
    ),
    "addcdiv": (
        "[1.0, 2.0, 4.0]",
        "ember.tensor([1.0, 2.0, 3.0]), ember.tensor([2.0, 2.0, 2.0]), value=2",
        "tensor([2., 4., 7.])",
    ),
    "logical_not": ("[1.0, 0.0, 2.0]", "", "tensor([0., 1., 0.])"),
    "logical_and": ("[1.0, 0.0, 2.0]", "ember.tensor([1.0, 1.0, 0.0])", "tensor([1., 0., 0.])"),
    "logical_or": ("[1.0, 0.0, 0.0]", "ember.tensor([0.0, 1.0, 0.0])", "tensor([1., 1., 0.])"),
    "logical_xor": ("[1.0, 0.0, 2.0]", "ember.tensor([1.0, 1.0, 0.0])", "tensor([0., 1., 1.])"),
    "eq": ("[1.0, 2.0, 4.0]", "2.0", "tensor([0., 1., 0.])"),
    "ne": ("[1.0, 2.0, 4.0]", "2.0", "tensor([1., 0., 1.])"),
    "lt": ("[1.0, 2.0, 4.0]", "2.0", "tensor([1., 0., 0.])"),
    "le": ("[1.0, 2.0, 4.0]", "2.0", "tensor([1., 1., 0.])"),
    "gt": ("[1.0, 2.0, 4.0]", "2.0", "tensor([0., 0., 1.])"),
    "ge": ("[1.0, 2.0, 4.0]", "2.0", "tensor([0., 1., 1.])"),
    "nan_to_num": ("[ember.nan, 1.0, ember.inf]", "posinf=100.0", "tensor([  0.,   1., 100.])"),
    "float_power": ("[1.0, 2.0, 4.0], dtype=ember.float64", "2", "tensor([ 1.,  4., 16.], dtype=ember.float64)"),
    "bitwise_not": ("[0, 5, -3]", "", "tensor([-1, -6,  2])"),
    "bitwise_left_shift": ("[1, 5, -3]", "2", "tensor([  4,  20, -12])"),
    "bitwise_right_shift": ("[1, 5, -3]", "1", "tensor([ 0,  2, -2])"),
    "tril": ("[[1.0, 2.0], [3.0, 4.0]]", "", "tensor([[1., 0.],\n        [3., 4.]])"),
    "triu": ("[[1.0, 2.0], [3.0, 4.0]]", "", "tensor([[1., 2.],\n        [0., 4.]])"),
    "cumsum": ("[1.0, 2.0, 4.0]", "0", "tensor([1., 3., 7.])"),
    "cumprod": ("[1.0, 2.0, 4.0]", "0", "tensor([1., 2., 8.])"),
    "acosh": ("[1.0, 2.0, 4.0]", "", "tensor([0.0000, 1.3170, 2.0634])"),
    "asinh": ("[0.0, 0.5, 1.0]", "", "tensor([0.0000, 0.4812, 0.8814])"),
    "atanh": ("[0.0, 0.5, -0.5]", "", "tensor([ 0.0000,  0.5493, -0.5493])"),
    "exp2": ("[0.0, 1.0, 3.0]", "", "tensor([1., 2., 8.])"),
    "erfc": ("[0.0, 0.5, 1.0]", "", "tensor([1.0000, 0.4795, 0.1573])"),
    "logit": ("[0.25, 0.5, 0.75]", "", "tensor([-1.0986,  0.0000,  1.0986])"),
    "sinc": ("[0.0, 0.5, 1.5]", "", "tensor([ 1.0000,  0.6366, -0.2122])"),
    "deg2rad": ("[0.0, 90.0, 180.0]", "", "tensor([0.0000, 1.5708, 3.1416])"),
    "rad2deg": ("[0.0, 1.0, 2.0]", "", "tensor([  0.0000,  57.2958, 114.5916])"),
    "heaviside": ("[-1.0, 0.0, 2.0]", "ember.tensor([0.5])", "tensor([0.0000, 0.5000, 1.0000])"),
    "copysign": ("[1.0, 2.0, 4.0]", "-1.0", "tensor([-1., -2., -4.])"),
    "hypot": ("[3.0, 5.0, 8.0]", "ember.tensor([4.0, 12.0, 15.0])", "tensor([ 5., 13., 17.])"),
    "xlogy": ("[0.0, 1.0, 2.0]", "ember.tensor([5.0, 1.0, 4.0])", "tensor([0.0000, 0.0000, 2.7726])"),
    "sgn": ("[-1.5, 0.0, 2.0]", "", "tensor([-1.,  0.,  1.])"),
    "fix": ("[1.7, -1.7, 2.0]", "", "tensor([ 1., -1.,  2.])"),
    "renorm": ("[[3.0, 4.0], [0.3, 0.4]]", "2, 0, 1.0", "tensor([[0.6000, 0.8000],\n        [0.3000, 0.4000]])"),
    "erfinv": ("[0.0, 0.5]", "", "tensor([0.0000, 0.4769])"),
    "lgamma": ("[0.5, 4.0]", "", "tensor([0.5724, 1.7918])"),
    "digamma": ("[1.0, 0.5]", "", "tensor([-0.5772, -1.9635])"),
    "polygamma": ("[1.0, 2.0]", "1", "tensor([1.6449, 0.6449])"),
    "i0": ("[0.0, 1.0]", "", "tensor([1.0000, 1.2661])"),
    "gcd": ("[4, 6]", "ember.tensor([6, 9])", "tensor([2, 3])"),
    "lcm": ("[4, 6]", "ember.tensor([6, 9])", "tensor([12, 18])"),
    "ldexp": ("[1.0, 3.0]", "ember.tensor([3, -1])", "tensor([8.0000, 1.5000])"),
    "scatter_reduce": (
        "[1.0, 2.0, 3.0]",
        "0, ember.tensor([0, 0]), ember.tensor([5.0, 7.0]), 'amax'",
        "tensor([7., 2., 3.])",
    ),
    "index_reduce": (
        "[[1.0, 1.0], [1.0, 1.0]]",
        "0, ember.tensor([0, 0]), ember.tensor([[2.0, 3.0], [4.0, 5.0]]), 'prod'",
        "tensor([[ 8., 15.],\n        [ 1.,  1.]])",
    ),
    "addbmm": ("[[0.0, 0.0]]", "ember.ones(2, 1, 3), ember.ones(2, 3, 2)", "tensor([[6., 6.]])"),
    "addmm": ("[[0.0, 0.0]]", "ember.ones(1, 3), ember.ones(3, 2)", "tensor([[3., 3.]])"),
    "addmv": ("[0.0, 0.0]", "ember.ones(2, 3), ember.ones(3)", "tensor([3., 3.])"),
    "addr": (
        "[[0.0, 0.0], [0.0, 0.0]]",
        "ember.tensor([1.0, 2.0]), ember.tensor([1.0, 3.0])",
        "tensor([[1., 3.],\n        [2., 6.]])",
    ),
    "baddbmm": ("[[[0.0, 0.0]]]", "ember.ones(1, 1, 3), ember.ones(1, 3, 2)", "tensor([[[3., 3.]]])"),
    "masked_scatter": (
        "[0.0, 0.0, 0.0]",
        "ember.tensor([True, False, True]), ember.tensor([1.0, 2.0])",
        "tensor([1., 0., 2.])",
    ),
    "nextafter": (
        "[1.0, 0.0], dtype=ember.float64",
        "ember.tensor([2.0, 1.0], dtype=ember.float64)",
        "tensor([ 1.0000e+00, 4.9407e-324], dtype=ember.float64)",
    ),
    "mvlgamma": ("[2.5, 3.0]", "2", "tensor([0.8570, 1.5502])"),
    "bitwise_and": ("[12, 10]", "ember.tensor([10, 6])", "tensor([8, 2])"),
    "bitwise_or": ("[12, 10]", "ember.tensor([10, 6])", "tensor([14, 14])"),
    "bitwise_xor": ("[12, 10]", "ember.tensor([10, 6])", "tensor([ 6, 12])"),
    "index_copy": ("[0.0, 0.0, 0.0]", "0, ember.tensor([2, 0]), ember.tensor([1.0, 2.0])", "tensor([2., 0., 1.])"),
    "igamma": ("[1.0, 2.0]", "ember.tensor([0.5, 3.0])", "tensor([0.3935, 0.8009])"),
    "igammac": ("[1.0, 2.0]", "ember.tensor([0.5, 3.0])", "tensor([0.6065, 0.1991])"),
    "conj_physical": ("[1 + 2j]", "", "tensor([1.-2.j])"),
}


def _generated_doc(name):
    """The docstring of the generated in-place variant of ``name``, with an example from ``_GENERATED_DOCS``."""
    values, args, output = _GENERATED_DOCS[name]
    output = output.replace("\n", "\n    ")
    return (
        f"In-place version of :meth:`~Tensor.{name}`: writes the result into this tensor and returns it.\n\n"
        f"Takes the arguments of :meth:`~Tensor.{name}` after ``input``, which is this tensor; the result must keep "
        f"its shape and a dtype it can hold.\n\nExample::\n\n    >>> x = ember.tensor({values})\n"
        f"    >>> x.{name}_({args})\n    {output}\n"
    )


#: in-place twins whose result must already have the tensor's dtype (PyTorch casts no result of theirs)
_EXACT_RESULT_DTYPE = frozenset({"float_power"})
#: in-place ops whose refusal of a number's result type names the target's C type, as PyTorch's ("long int")
_C_NAMED_TARGET = frozenset({"clamp", "clip", "clamp_min", "clamp_max"})


def _raise_output_error(name, self, args, exc):
    """On the error path of an in-place twin whose out-of-place op refused its operands' dtypes:
    PyTorch checks the result against ``self`` before it looks for a kernel, so raise its error for
    a broadcast shape other than ``self``'s or a result dtype ``self`` cannot hold; else ``exc``."""
    other = args[0] if args else None
    if isinstance(other, Tensor):
        shape = broadcast_shapes(self.shape, other.shape)
        if tuple(shape) != tuple(self.shape):
            raise RuntimeError(
                f"{name}_: output with shape {list(self.shape)} doesn't match the broadcast shape {list(shape)}"
            ) from exc
    if isinstance(other, Tensor) or is_scalar(other):
        check_castable(result_type(self, other), self.dtype)
    raise exc


def _fill_masked(self, mask, value):
    self[mask.expand(self.shape)] = value


def _fill_index(self, dim, index, value):
    self[(slice(None),) * wrap_dim(dim, self.ndim) + (index,)] = value


def _put_index(self, indices, values, accumulate=False):
    if accumulate:  # PyTorch adds every write into the shared memory; refused here rather than summed otherwise
        check_no_internal_overlap(self)
    self[tuple(indices)] = values


#: the in-place ops PyTorch still lets write into a tensor whose elements alias each other (an expanded
#: one), with a deprecation warning: they store into the selected elements only, one value per element
_ALIASED_WRITES = {"masked_fill": _fill_masked, "index_fill": _fill_index, "index_put": _put_index}


def _write_aliased(name, write, self, args, kwargs):
    """``self.{name}_(*args, **kwargs)`` into an expanded ``self``, through ``self[key] = value``."""
    warnings.warn(
        f"Use of {name}_ on expanded tensors is deprecated. Please clone() the tensor before performing this "
        "operation. This also applies to advanced indexing e.g. tensor[mask] = scalar",
        UserWarning,
        stacklevel=3,
    )
    write(self, *args, **kwargs)
    return self


def _any_requires_grad(args):
    """Whether a tensor among ``args`` requires grad (a plain loop: the in-place ops' per-call test)."""
    for a in args:
        if isinstance(a, Tensor) and a.requires_grad:
            return True
    return False


#: the in-place twins whose refusal of a keyword PyTorch's argument parser gives with their signatures
_SIGNATURES = {
    "div": ("Tensor other", "Tensor other, *, str rounding_mode", "Number other, *, str rounding_mode"),
}


def _keywords_taken(method):
    """The keywords the in-place twin of ``method`` takes: the out-of-place method's own less ``out`` (an in-place
    method writes into ``self``, and PyTorch's take no ``out``) and NumPy's ``axis``/``keepdims`` for ``dim``/``keepdim``, as
    PyTorch's argument parser; None where ``method`` takes any (``**kwargs``)."""
    parameters = list(inspect.signature(method).parameters.values())[1:]
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {"out"}
    for name, numpy_name in (("dim", "axis"), ("keepdim", "keepdims")):  # NumPy's names, which PyTorch takes
        if name in names:
            names.add(numpy_name)
    return frozenset(names)


def _keyword_refused(name, args, kwargs, taken):
    """PyTorch's TypeError for ``self.name_(*args, **kwargs)`` with a keyword outside ``taken``, in the in-place
    method's name (``x.add_(y, out=None)``: "add_() got an unexpected keyword argument 'out'")."""
    if name in _SIGNATURES:
        return invalid_combination(name + "_", args, kwargs, _SIGNATURES[name])
    refused = next(keyword for keyword in kwargs if keyword not in taken)
    return TypeError(f"{name}_() got an unexpected keyword argument '{refused}'")


def _inplace(name):
    out_of_place = getattr(Tensor, name)
    aliased_write = _ALIASED_WRITES.get(name)
    taken = _keywords_taken(out_of_place)

    def method(self, *args, **kwargs):
        if kwargs and taken is not None and not kwargs.keys() <= taken:
            raise _keyword_refused(name, args, kwargs, taken)
        if autograd_function.vmap_level is not None:  # under ember.vmap: a write into a tensor every entry shares
            autograd_function.vmap_level.check_inplace(self)
        if aliased_write is not None and has_internal_overlap(self) and not (grad_state.enabled and self.requires_grad):
            return _write_aliased(name, aliased_write, self, args, kwargs)
        for operand in args:
            if isinstance(operand, Tensor):
                check_no_partial_overlap(self, operand)
        if kwargs:
            for operand in kwargs.values():
                if isinstance(operand, Tensor):
                    check_no_partial_overlap(self, operand)
        recording = grad_state.enabled and (self.requires_grad or _any_requires_grad(args))
        try:
            if recording:
                check_inplace(self)
            copy = self.clone() if recording else self  # the graph must not see the storage the write changes
            if _amp.active:  # PyTorch's autocast casts no in-place overload: addmm_ runs in self's dtype
                with _amp_suspended():
                    result = out_of_place(copy, *args, **kwargs)
            else:
                result = out_of_place(copy, *args, **kwargs)
        except NotImplementedError as exc:  # a dtype the op refuses; PyTorch checks the output first
            _raise_output_error(name, self, args, exc)
        if result.dtype is not self.dtype:
            if name in _EXACT_RESULT_DTYPE:
                raise RuntimeError(
                    f"the base given to {name}_ has dtype {TORCH_NAMES[self.dtype]} but the operation's result "
                    f"requires dtype {TORCH_NAMES[result.dtype]}"
                )
            if name in _C_NAMED_TARGET and result.dtype._category > self.dtype._category and self.dtype in C_NAMES:
                if not any(isinstance(a, Tensor) for a in (*args, *kwargs.values())):
                    raise RuntimeError(
                        f"result type {TORCH_NAMES[result.dtype]} can't be cast to the desired output type "
                        f"{C_NAMES[self.dtype]}"
                    )
            check_castable(result.dtype, self.dtype)
            if self.dtype.is_complex and result.dtype.is_floating_point:  # abs_: a real result
                raise RuntimeError(f"In-place {name} is not supported for complex tensors.")
        if result._data.shape != self._data.shape and tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(
                f"{name}_: output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}"
            )
        return write_result_(self, result, copy) if recording else assign_(self, result)

    method.__name__ = method.__qualname__ = name + "_"
    method.__code__ = method.__code__.replace(co_name=name + "_", co_qualname=name + "_")  # (called_op's frames)
    method.__doc__ = _generated_doc(name)
    return method


def _write(self, data, *, one_value=False):
    """Store freshly made native ``data`` (no autograd) into ``self`` (see :func:`assign_` for ``one_value``);
    where ``self`` has a history, the write is recorded, the old values getting a zero gradient (PyTorch's
    ``NormalBackward0`` and the other samplers' nodes)."""
    if grad_state.enabled and self.requires_grad:
        return assign_(self, _new(data, self._backend, self._device), one_value=one_value)
    if self._base is not None and not one_value:
        check_no_internal_overlap(self)
    writable_data(self)[...] = data
    self._version_counter.value += 1
    if autograd_function.tangent_rule is not None:  # values that carry no tangent
        tangents.write_tangent(self)
    return self


class _Fill(Function):
    """``fill_`` with a number, recorded: the old values get a zero gradient (PyTorch's FillBackward2)."""

    _backward_name = "FillBackward2"

    @staticmethod
    def forward(ctx, target, value):
        writable_data(target)[...] = value
        ctx.mark_dirty(target)
        return target

    @staticmethod
    def backward(ctx, grad):
        return grad.new_zeros(grad.shape), None


class _Zero(_Fill):
    """``zero_``, recorded (PyTorch's ZeroBackward0)."""

    _backward_name = "ZeroBackward0"


def _fill_number(self, value, node):
    """Write the number ``value`` everywhere in ``self``; recorded as ``node`` (a tensor that is no view) or,
    for a view, on its base."""
    if grad_state.enabled and self._requires_grad:
        check_inplace(self)
        if self._base is not None and self._view_replay is not None:  # recorded on the base (CopySlices)
            return assign_(self, self.new_full((), value), one_value=True, number=True)
        node.apply(self, value if node is _Zero else fill_value_for(value, self.dtype))
        if autograd_function.tangent_rule is not None:  # values that carry no tangent
            tangents.write_tangent(self)
        return self
    if node is not _Zero:  # zero is every type's value (float8_e8m0fnu's smallest, 2**-127, as PyTorch's memset)
        value = fill_value_for(value, self.dtype)
    return _write(self, self._backend.xp.full(self._data.shape, value, dtype=self._data.dtype), one_value=True)


def fill_(self: Tensor, value: Tensor | Number) -> Tensor:
    """Set every element to ``value``.

    Args:
        value (Number or 0-d Tensor): the value to write.

    Example::

        >>> x = ember.zeros(2, 2)
        >>> x.fill_(1.5)
        tensor([[1.5000, 1.5000],
                [1.5000, 1.5000]])
    """
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions."
            )
        return assign_(self, value, one_value=True)
    return _fill_number(self, value, _Fill)


def zero_(self: Tensor) -> Tensor:
    """Set every element to zero.

    Example::

        >>> x = ember.tensor([1.0, 2.0])
        >>> x.zero_()
        tensor([0., 0.])
    """
    return _fill_number(self, 0, _Zero)


def _sample_(self, name, draw, generator, draw_part=None):
    """Fill ``self`` with ``draw(generator, shape, native dtype, xp)``; a complex tensor, where
    ``draw_part`` is given, with its real and imaginary parts drawn by it, each on its own."""
    backend = self._backend
    gen = native_generator(generator, backend, self._device.index)
    native = self._data.dtype
    if self.dtype.is_complex and draw_part is not None:
        real = backend.native_dtype(self.dtype.to_real())
        parts = drawn_in_memory_order(self, lambda shape: draw_part(gen, shape, real, backend.xp), trailing=(2,))
        return _write(self, backend.view_as_complex(parts, native))
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{_TORCH_NAMES[self.dtype.name]}'")
    return _write(self, drawn_in_memory_order(self, lambda shape: draw(gen, shape, native, backend.xp)))


def _require(ok, message):
    if not ok:
        raise RuntimeError(message)


def _keyword_from(op, value, default, keywords):
    """PyTorch's bound ``from``, a Python keyword and so given as ``**{"from": v}``, in place of ``value``."""
    for name in keywords:
        if name != "from":
            raise TypeError(f"{op}() got an unexpected keyword argument '{name}'")
    if value != default:
        raise TypeError(f"{op}() got multiple values for argument 'from'")
    return keywords["from"]


def uniform_(
    self: Tensor, from_: float = 0.0, to: float = 1.0, *, generator: Generator | None = None, **from_keyword: float
) -> Tensor:
    """Fill with samples from U[from, to) (for a complex tensor: its real and imaginary parts, each).

    .. math::
        out_i ~ U(from, to)

    Args:
        from_ (float): the lower bound, included; PyTorch's keyword ``from`` too (``**{"from": -1.0}``). Default: ``0.0``.
        to (float): the upper bound, excluded. Default: ``1.0``.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.empty(3).uniform_(-1.0, 1.0)
        tensor([-0.0075,  0.5364, -0.8230])
    """
    refuse_limited("check_uniform_bounds", self)
    if not (self.dtype.is_floating_point or self.dtype.is_complex):  # PyTorch checks the dtype first here
        not_implemented("check_uniform_bounds", self.dtype)
    a = _keyword_from("uniform_", from_, 0.0, from_keyword) if from_keyword else from_
    _require(a <= to, f"uniform_ expects to return a [from, to) range, but found from={a} > to={to}")

    def draw(g, s, d, xp):
        return g.uniform_range(s, d, a, to)

    return _sample_(self, "uniform_", draw, generator, draw_part=draw)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill with samples from N(mean, std^2) (for a complex tensor, as PyTorch: its real and
    imaginary parts from N(mean, std^2 / 2), each).

    .. math::
        out_i ~ N(mean, std^2)

    Args:
        mean (float): the mean. Default: ``0.0``.
        std (float): the standard deviation. Default: ``1.0``.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.empty(3).normal_(mean=10.0, std=0.1)
        tensor([10.1541,  9.9707,  9.7821])
    """
    refuse_limited("normal_kernel_cpu", self)
    _require(std >= 0.0, f"normal expects std >= 0.0, but found std {std:g}")
    part_std = std / math.sqrt(2.0)
    # PyTorch's CPU kernel draws a tensor that is not row-major element by element, in memory order
    sampler = "normal_scaled" if self.is_contiguous() else "normal_scaled_serially"
    return _sample_(
        self,
        "normal_kernel_cpu",
        lambda g, s, d, xp: getattr(g, sampler)(s, d, mean, std),
        generator,
        draw_part=lambda g, s, d, xp: getattr(g, sampler)(s, d, mean, part_std),
    )


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill with samples from the exponential distribution with rate ``lambd``.

    .. math::
        p(x) = lambd * e^{-lambd * x}

    Args:
        lambd (float): the rate, greater than 0. Default: ``1.0``.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.empty(3).exponential_(2.0)
        tensor([1.7542, 0.6152, 0.3075])
    """
    _require(lambd > 0.0, f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    wide = self._backend.native_dtype(dtypes.float64 if self._backend.supports_float64 else dtypes.float32)

    def draw(g, s, d, xp):  # as PyTorch: the sample in float64, rounded to the dtype
        sampled = g.exponential(s, d, lambd)
        return sampled if sampled is not None else xp.astype((-1.0 / lambd) * xp.log1p(-g.uniform(s, wide)), d)

    if not self.dtype.is_floating_point:  # (complex included)
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a floating point but "
            f"you specified {TORCH_NAMES[self.dtype]}"
        )
    return _sample_(self, "exponential_", draw, generator)


def bernoulli_(self: Tensor, p: float | Tensor = 0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill with 0/1 samples that are 1 with probability ``p`` (a number or a tensor).

    Args:
        p (float or Tensor): the probability of 1, for every element or per element. Default: ``0.5``.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.empty(4).bernoulli_(0.5)
        tensor([0., 0., 1., 0.])
        >>> ember.empty(3).bernoulli_(ember.tensor([0.0, 1.0, 1.0]))
        tensor([0., 1., 1.])
    """
    check_probabilities("bernoulli_", p)
    backend = self._backend
    gen = native_generator(generator, backend, self._device.index)
    # as PyTorch: a draw per element against a tensor of probabilities, float64 for float64 ones and
    # float32 for the others; a float64 draw against one probability
    if isinstance(p, Tensor):
        wide = dtypes.float64 if p.dtype is dtypes.float64 and backend.supports_float64 else dtypes.float32
        probs = backend.xp.astype(p._data, backend.native_dtype(wide))
    else:
        probs = p
        wide = dtypes.float64 if backend.supports_float64 else dtypes.float32
    u = drawn_in_memory_order(self, lambda shape: gen.uniform(shape, backend.native_dtype(wide)))
    return _write(self, backend.xp.astype(u < probs, self._data.dtype))


def _random_top(dtype):
    """The highest value ``random_`` draws for ``dtype`` when no ``to`` bounds it: the largest integer
    below which a floating dtype holds every integer (``2**24`` for float32), an integer dtype's maximum."""
    if dtype.is_floating_point:
        return 2 ** (1 - round(math.log2(finfo(dtype).eps)))
    return 1 if dtype is dtypes.bool else min(iinfo(dtype).max, 2**63 - 1)  # drawn as int64


def random_(
    self: Tensor,
    from_: int = 0,
    to: int | None | EllipsisType = ...,
    *,
    generator: Generator | None = None,
    **from_keyword: int,
) -> Tensor:
    """Fill with integers uniform in ``[from_, to)`` (``[0, from_)`` with one argument, ``[from_, top]`` with
    ``to=None``, where ``top`` is the dtype's largest integer, ``2**24`` for float32).

    Args:
        from_ (int): the lowest value, included (the upper bound when ``to`` is omitted); PyTorch's keyword
            ``from`` too (``**{"from": 2}``). Default: ``0``.
        to (int, optional): one above the highest value; ``None``: up to the dtype's top.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.empty(4, dtype=ember.int64).random_(0, 10)
        tensor([4, 9, 3, 0])
        >>> ember.zeros(3).random_(5)
        tensor([3., 4., 2.])
    """
    if from_keyword:
        from_ = _keyword_from("random_", from_, 0, from_keyword)
        if to is ...:
            raise TypeError("random_() missing the argument 'to' that goes with 'from'")
    unbounded = to is ... and from_ == 0  # random_(): PyTorch's sampler of the dtype's whole range
    if unbounded:
        refuse_limited("random_kernel_cpu", self)
        if self.dtype.is_complex:
            not_implemented("random_kernel_cpu", self.dtype)
    else:  # PyTorch samples a range into uint16/32/64, into no float8 type
        refuse_limited("random_update_from_to", self, among=FLOAT8)
    if to is ...:
        from_, top = 0, from_
        if unbounded:
            top = _random_top(self.dtype) + 1
        else:
            check_random_bound("to - 1", top - 1, self.dtype)
    elif to is None:
        if self.dtype.is_complex:
            raise RuntimeError("random_from_to_impl handles only integral, floating-point and boolean types")
        check_random_bound("from", from_, self.dtype)
        top = _random_top(self.dtype) + 1
    else:
        check_random_bound("from", from_, self.dtype)
        check_random_bound("to - 1", to - 1, self.dtype)
        top = to
    _require(from_ < top, f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={top}")
    backend = self._backend
    gen = native_generator(generator, backend, self._device.index)
    int64 = backend.native_dtype(dtypes.int64)

    def draw(shape):
        return gen.whole_range_integers(top, shape, int64) if unbounded else gen.integers(from_, top, shape, int64)

    return _write(self, backend.xp.astype(drawn_in_memory_order(self, draw), self._data.dtype))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Generator | None = None) -> Tensor:
    """Fill with samples whose logarithm is N(mean, std^2).

    .. math::
        log(out_i) ~ N(mean, std^2)

    Args:
        mean (float): the mean of the logarithm. Default: ``1.0``.
        std (float): the standard deviation of the logarithm. Default: ``2.0``.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.empty(3).log_normal_(0.0, 0.25)
        tensor([1.4700, 0.9293, 0.5800])
    """
    _require(std > 0.0, f"log_normal_ expects std > 0.0, but found std={std}")

    def draw(g, s, d, xp):
        sampled = g.log_normal(s, d, mean, std)
        return sampled if sampled is not None else xp.exp(g.normal(s, d) * std + mean)

    return _sample_(self, "log_normal_cpu", draw, generator)


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill with samples from the Cauchy distribution.

    .. math::
        p(x) = 1 / (pi * sigma * (1 + ((x - median) / sigma)^2))

    Args:
        median (float): the location. Default: ``0.0``.
        sigma (float): the scale, greater than 0. Default: ``1.0``.
        generator (ember.Generator, optional): the pseudorandom number generator to sample from.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.empty(3).cauchy_()
        tensor([10.5977,  0.7648, -0.1283])
    """
    _require(sigma > 0.0, f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")

    def draw(g, s, d, xp):
        sampled = g.cauchy(s, d, median, sigma)
        return sampled if sampled is not None else median + sigma * xp.tan(math.pi * (g.uniform(s, d) - 0.5))

    if not self.dtype.is_floating_point:  # (complex included)
        raise RuntimeError(
            "Cauchy distribution is a continuous probability distribution. dtype must be a floating point but you "
            f"specified {C_NAMES[self.dtype]}"
        )
    return _sample_(self, "cauchy_", draw, generator)
