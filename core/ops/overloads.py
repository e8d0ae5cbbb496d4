"""PyTorch's overloads of the ops that have several, as its argument parser prints them.

A call that none of an op's overloads takes (a keyword none of them has: ``sum(x, foo=1)``), or that
more than one takes by its number of arguments and its keywords where its first argument is no tensor
(``std([1.0])``), fails with PyTorch's TypeError "std() received an invalid combination of arguments -
got (list), but expected one of:", which lists them (:func:`ember.ops.operands.tensor_input`,
:func:`ember.ops.operands.invalid_combination`). PyTorch hides the overloads that take dimension names.
"""

from __future__ import annotations

__all__ = ["SIGNATURES", "TORCH_NAMES"]

_EXTREMUM = (
    "Tensor input, *, Tensor out = None",
    "Tensor input, Tensor other, *, Tensor out = None",
    "Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None",
)
_STATISTIC = (
    "Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False, *, Tensor out = None",
    "Tensor input, tuple of ints dim = None, *, Number correction = None, bool keepdim = False, Tensor out = None",
    "Tensor input, bool unbiased = True",
)
_STATISTIC_AND_MEAN = (
    "Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False",
    "Tensor input, tuple of ints dim = None, *, Number correction = None, bool keepdim = False",
    "Tensor input, bool unbiased = True",
)
_TEST = (
    "Tensor input, *, Tensor out = None",
    "Tensor input, tuple of ints dim = None, bool keepdim = False, *, Tensor out = None",
    "Tensor input, int dim, bool keepdim = False, *, Tensor out = None",
)

#: op name -> its overloads, each as PyTorch prints it (``"Tensor input, int dim, bool keepdim = False"``); an op
#: of one signature that its error names otherwise than ember's parameters (``to_dlpack``'s ``data``) has that one
SIGNATURES: dict[str, tuple[str, ...]] = {
    "sum": (
        "Tensor input, *, torch.dtype dtype = None",
        "Tensor input, tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None, Tensor out = None",
    ),
    "mean": (
        "Tensor input, *, torch.dtype dtype = None, Tensor out = None",
        "Tensor input, tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None, Tensor out = None",
    ),
    "prod": (
        "Tensor input, *, torch.dtype dtype = None",
        "Tensor input, int dim, bool keepdim = False, *, torch.dtype dtype = None, Tensor out = None",
    ),
    "max": _EXTREMUM,
    "min": _EXTREMUM,
    "count_nonzero": ("Tensor input, int dim = None", "Tensor input, tuple of ints dim"),
    "std": _STATISTIC,
    "var": _STATISTIC,
    "std_mean": _STATISTIC_AND_MEAN,
    "var_mean": _STATISTIC_AND_MEAN,
    "all": _TEST,
    "any": _TEST,
    "squeeze": ("Tensor input", "Tensor input, int dim", "Tensor input, tuple of ints dim"),
    "bernoulli": (
        "Tensor input, *, torch.Generator generator = None, Tensor out = None",
        "Tensor input, float p, *, torch.Generator generator = None",
    ),
    "repeat_interleave": (
        "Tensor input, Tensor repeats, int dim = None, *, int output_size = None",
        "Tensor repeats, *, int output_size = None",
        "Tensor input, int repeats, int dim = None, *, int output_size = None",
    ),
    "where": (
        "Tensor condition",
        "Tensor condition, Tensor input, Tensor other, *, Tensor out = None",
        "Tensor condition, Number self, Tensor other",
        "Tensor condition, Tensor input, Number other",
        "Tensor condition, Number self, Number other",
    ),
    "normal": (
        "Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None",
        "Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None",
        "float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None",
        "float mean, float std, tuple of ints size, *, torch.Generator generator = None, Tensor out = None, "
        "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
        "bool requires_grad = False",
    ),
    "view_copy": (
        "Tensor input, torch.dtype dtype, *, Tensor out = None",
        "Tensor input, tuple of ints size, *, Tensor out = None",
    ),
    "to_dlpack": ("Tensor data",),
}

#: ember's op -> the name PyTorch's errors give it, where that is the name of the op its Python function calls
TORCH_NAMES = {"unique": "_unique2", "to_dlpack": "_to_dlpack"}
