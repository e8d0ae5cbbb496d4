"""The names the profiler gives ember's operations: PyTorch's ``aten::`` names.

Every ember op runs as an :class:`ember.autograd.Function`; the profiler names the event of a
Function by the ATen operator PyTorch runs for it, so that a script that picks events by name
(``"aten::mm"``, ``"aten::conv2d"``) reads the same out of ember's profile. Where PyTorch runs a
composite op that calls a kernel op (``aten::linear`` calling ``aten::addmm``), the event is
nested the same way. A Function with no entry here is named from its class (``_Add`` ->
``aten::add``, ``Log1p`` -> ``aten::log1p``), in the ``ember::`` namespace for the building
blocks PyTorch has no op for (``ember::normalize`` inside ``aten::layer_norm``); a user's own
``Function`` gets no event of its own (PyTorch records the ops inside it), nor do ember's
internal helper nodes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["op_event_names"]

Names = tuple[str, ...]


def _matmul_names(args: tuple[Any, ...]) -> Names:
    a, b = args[0], args[1]
    kernel = {(2, 2): "aten::mm", (2, 1): "aten::mv", (1, 1): "aten::dot", (3, 3): "aten::bmm"}.get((a.ndim, b.ndim))
    return ("aten::matmul",) if kernel is None else ("aten::matmul", kernel)


def _linear_names(args: tuple[Any, ...]) -> Names:
    bias, x = args[0], args[1]
    if x.ndim == 2:
        return ("aten::linear", "aten::mm" if bias is None else "aten::addmm")
    return ("aten::linear", "aten::matmul")


def _conv_names(args: tuple[Any, ...]) -> Names:
    return (f"aten::conv{args[1].ndim - 2}d", "aten::convolution", "aten::_convolution")


def _avg_pool_names(args: tuple[Any, ...]) -> Names:
    return (f"aten::avg_pool{len(args[1])}d",)


def _fixed(*names: str) -> Callable[[tuple[Any, ...]], Names]:
    return lambda args: names


#: Function class name -> the names of its events (outermost first), from its arguments
_NAMED: dict[str, Callable[[tuple[Any, ...]], Names]] = {
    "_Matmul": _matmul_names,
    "_Mm": _matmul_names,
    "_Bmm": _matmul_names,
    "_Linear": _linear_names,
    "_LinearAddmm": _fixed("aten::addmm"),
    "_LinearMm": _fixed("aten::mm"),
    "_ResultView": _fixed("aten::_unsafe_view"),
    "_Conv": _conv_names,
    "_AvgPool": _avg_pool_names,
    "_ConvBackwardInput": _fixed("aten::convolution_backward"),
    "_ConvBackwardWeight": _fixed("aten::convolution_backward"),
    "_Relu": _fixed("aten::relu", "aten::clamp_min"),
    # the backward of relu/threshold (slope 0) and of leaky_relu/rrelu, as PyTorch's formulas call them
    "_SelectedGrad": lambda args: ("aten::threshold_backward",) if args[3] == 0.0 else ("aten::leaky_relu_backward",),
    "_SumDims": _fixed("aten::sum"),
    "_MeanDims": _fixed("aten::mean"),
    "_AddScaled": _fixed("aten::add"),
    "_Softmax": _fixed("aten::softmax", "aten::_softmax"),
    "_LogSoftmax": _fixed("aten::log_softmax", "aten::_log_softmax"),
    "_SoftmaxGrad": _fixed("aten::_softmax_backward_data"),
    "_LogSoftmaxGrad": _fixed("aten::_log_softmax_backward_data"),
    "_Cast": _fixed("aten::to", "aten::_to_copy"),
    "_Move": _fixed("aten::to", "aten::_to_copy"),
    "_Assign": _fixed("aten::copy_"),
    "_CopySlices": _fixed("aten::copy_"),
    "_SetItem": _fixed("aten::index_put_"),
    "_IndexPut": _fixed("aten::index_put_"),
    "_View": _fixed("aten::view"),
    "_SqueezeDim": _fixed("aten::squeeze"),
    "_SqueezeDims": _fixed("aten::squeeze"),
    "_UnsafeView": _fixed("aten::reshape", "aten::clone", "aten::_unsafe_view"),
    "_Contiguous": _fixed("aten::contiguous", "aten::clone"),
    "_RPow": _fixed("aten::pow"),
    "_RSub": _fixed("aten::rsub"),
    "_TruncDiv": _fixed("aten::div"),
    "_IntTruncDiv": _fixed("aten::div"),
    "_RoundedDiv": _fixed("aten::div"),
    "_FloorDiv": _fixed("aten::floor_divide"),
    "_RemainderTensor": _fixed("aten::remainder"),
    "_MaskedFillTensor": _fixed("aten::masked_fill"),
    "_FmodTensor": _fixed("aten::fmod"),
    "_ClampMinTensor": _fixed("aten::clamp_min"),
    "_ClampMaxTensor": _fixed("aten::clamp_max"),
    "_LerpTensor": _fixed("aten::lerp"),
    "_XLogYScalarSelf": _fixed("aten::xlogy"),
    "_XLogYScalarOther": _fixed("aten::xlogy"),
    "_XLog1PYScalarSelf": _fixed("aten::special_xlog1py"),
    "_XLog1PYScalarOther": _fixed("aten::special_xlog1py"),
    "_IndexAccumulate": _fixed("aten::index_put_"),
    "_AllMax": _fixed("aten::max"),
    "_AllMin": _fixed("aten::min"),
    "_Variance": _fixed("aten::var"),
    "_PNorm": _fixed("aten::linalg_vector_norm"),
    "_NLLLoss": _fixed("aten::nll_loss", "aten::nll_loss_forward"),
    "_NLLLossGrad": _fixed("aten::nll_loss_backward"),
    "_CrossEntropy": _fixed("aten::cross_entropy_loss"),
    "_BatchNorm": _fixed("aten::batch_norm"),
    "_Attention": _fixed("aten::scaled_dot_product_attention"),
    "_FusedAttention": _fixed("aten::scaled_dot_product_attention"),
    "_Cholesky": _fixed("aten::linalg_cholesky"),
    "_Svd": _fixed("aten::linalg_svd"),
    "_Eigh": _fixed("aten::linalg_eigh"),
    "_Qr": _fixed("aten::linalg_qr"),
    "_Det": _fixed("aten::linalg_det"),
    "_Inv": _fixed("aten::linalg_inv"),
    "_Solve": _fixed("aten::linalg_solve"),
    "_Slogdet": _fixed("aten::linalg_slogdet"),
    "_Pinv": _fixed("aten::linalg_pinv"),
    "_MatrixExp": _fixed("aten::linalg_matrix_exp"),
    "_SolveTriangular": _fixed("aten::linalg_solve_triangular"),
    "_Svdvals": _fixed("aten::linalg_svdvals"),
    "_LogAddExp": _fixed("aten::logaddexp"),
    "_XLogY": _fixed("aten::xlogy"),
    "_XLog1PY": _fixed("aten::special_xlog1py"),
    "_LogCumSumExp": _fixed("aten::logcumsumexp"),
    "_GammaInc": _fixed("aten::igamma"),
    "_GammaIncC": _fixed("aten::igammac"),
    "_Zeta": _fixed("aten::special_zeta"),
    "_LuFactor": _fixed("aten::linalg_lu_factor"),
    "_ConstantPad": _fixed("aten::constant_pad_nd"),
    "_MultiLabelMargin": _fixed("aten::multilabel_margin_loss"),
    "_MultiMargin": _fixed("aten::multi_margin_loss"),
    "Bessel_j0": _fixed("aten::special_bessel_j0"),
    "Bessel_j1": _fixed("aten::special_bessel_j1"),
    "Erfcx": _fixed("aten::special_erfcx"),
    "Log_ndtr": _fixed("aten::special_log_ndtr"),
    "Ndtri": _fixed("aten::special_ndtri"),
    "Entr": _fixed("aten::special_entr"),
    "I0e": _fixed("aten::special_i0e"),
    "I1": _fixed("aten::special_i1"),
    "I1e": _fixed("aten::special_i1e"),
}

#: ember's internal nodes that are no operator of their own (the ops inside them are recorded)
_UNRECORDED = frozenset({"_DelayedError", "BackwardHookFunction", "_Checkpoint", "_ReentrantCheckpoint", "_Pin"})
#: ember's building blocks that PyTorch has no ATen op for: named ``ember::<name>`` (module, class name)
_EMBER_ONLY = frozenset(
    {
        ("ember.nn.functional.normalization", "_Normalize"),
        ("ember.nn.functional.normalization", "_GroupScale"),
        ("ember.nn.functional.normalization", "_CrossMapLRN2d"),
        ("ember.nn.functional.padding", "_TakeAxis"),
        ("ember.nn.functional.padding", "_TakeAxisBackward"),
        ("ember.nn.functional.padding", "_IndexPad"),
        ("ember.nn.functional.padding", "_IndexPadBackward"),
        ("ember.nn.functional.pooling", "_ToPlane"),
        ("ember.nn.functional.pooling", "_MaxByIndex"),
        ("ember.nn.functional.pooling", "_Average"),
        ("ember.nn.functional.pooling", "_Gather"),
        ("ember.nn.functional.pooling", "_ScatterAdd"),
        ("ember.nn.functional.pooling", "_AvgPoolBackward"),
        ("ember.nn.functional.pooling", "_Unpool"),
        ("ember.nn.functional.activation", "_SoftmaxKernel"),
        ("ember.ops.arithmetic", "_Unary"),
        ("ember.ops.arithmetic", "_Pointwise"),
        ("ember.ops.arithmetic", "_Binary"),
        ("ember.ops.arithmetic", "_KernelBinary"),
        ("ember.ops.arithmetic", "_Extremum"),
        ("ember.nn.functional.vision", "_GatherPoints"),
        ("ember.nn.functional.vision", "_GatherPointsBackward"),
        ("ember.nn.modules.rnn", "_RecurrentLayer"),
        ("ember.ops.reduction", "_Extremum"),
        ("ember.ops.special_functions", "_InFloat64Binary"),
        ("ember.sparse", "_DenseGradProduct"),
    }
)

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NO_EVENT: Names = ()
#: Function class -> its names, or a function of the arguments that gives them (filled on first use)
_cache: dict[type, Names | Callable[[tuple[Any, ...]], Names]] = {}


def _names_of(cls: type) -> Names | Callable[[tuple[Any, ...]], Names]:
    if not cls.__module__.startswith("ember.") or cls.__name__ in _UNRECORDED:
        return _NO_EVENT
    named = _NAMED.get(cls.__name__)
    if named is not None:
        return named
    namespace = "ember::" if (cls.__module__, cls.__name__) in _EMBER_ONLY else "aten::"
    return (namespace + _WORD_BOUNDARY.sub("_", cls.__name__.lstrip("_")).lower(),)


def op_event_names(cls: type, args: tuple[Any, ...]) -> Names:
    """The names of the events for ``cls.apply(*args)``, outermost first (none: no event).

    Example::

        >>> from ember.profiler.op_names import op_event_names
        >>> from ember.ops.arithmetic import _Add
        >>> from ember.ops.linalg import _Matmul
        >>> op_event_names(_Add, ())
        ('aten::add',)
        >>> op_event_names(_Matmul, (ember.ones(2, 3), ember.ones(3, 4)))
        ('aten::matmul', 'aten::mm')
    """
    names = _cache.get(cls)
    if names is None:
        names = _cache[cls] = _names_of(cls)
    return names if type(names) is tuple else names(args)  # type: ignore[operator]
