"""Differential test driven by PyTorch's own OpInfo database: for a curated list of ops, the
first few of PyTorch's sample inputs run through ember and torch on every test device, in
float64 and float32; outputs and input gradients must agree, and an input torch accepts must
not be rejected.

The samples are PyTorch's (``op.sample_inputs``), so they include the edge shapes its own
test suite uses (0-d tensors, empty tensors, broadcasting, negative dims, keyword variants).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")  # the OpInfo module needs it
from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402

SAMPLES_PER_OP = 4

#: OpInfo names (with the variant after a dot-free "/") checked against ember.
OPS = [
    # unary
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "deg2rad",
    "erf", "erfc", "exp", "exp2", "expm1", "floor", "frac", "log", "log10", "log1p", "log2",
    "logit", "neg", "positive", "rad2deg", "reciprocal", "round", "rsqrt", "sgn", "sigmoid", "sign",
    "signbit", "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc", "nan_to_num",
    # binary
    "add", "sub", "mul", "div/no_rounding_mode", "div/trunc_rounding", "div/floor_rounding",
    "true_divide", "floor_divide", "remainder", "fmod", "pow", "atan2", "maximum", "minimum", "fmax",
    "fmin", "logaddexp", "logaddexp2", "hypot", "xlogy", "copysign", "heaviside", "rsub", "lerp",
    "addcmul", "addcdiv", "clamp", "clamp_min", "clamp_max", "where", "eq", "ne", "lt", "le", "gt",
    "ge", "logical_and", "logical_or", "logical_xor", "logical_not", "float_power",
    # reductions and scans
    "sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "std", "var", "logsumexp", "cumsum",
    "cumprod", "logcumsumexp", "all", "any", "count_nonzero", "nansum", "std_mean", "var_mean",
    # shape and indexing
    "diff", "repeat_interleave", "ravel", "flatten", "flip", "fliplr", "flipud", "roll", "rot90", "t",
    "transpose", "permute", "reshape", "view", "squeeze", "unsqueeze", "expand", "repeat", "tile",
    "cat", "stack", "hstack", "vstack", "dstack", "chunk", "narrow", "movedim", "tril", "triu",
    "diag", "diagonal", "trace", "gather", "index_select", "take_along_dim", "masked_fill",
    "masked_select", "msort", "cartesian_prod", "bucketize", "searchsorted",
    # linear algebra
    "matmul", "mm", "bmm", "mv", "dot", "outer", "addmm", "addmv", "addr", "kron", "tensordot",
    # more reductions, comparisons and scans
    "addmm/decomposed", "baddbmm", "vdot", "inner", "allclose", "isclose", "equal", "cross",
    "cummax", "cummin", "kthvalue", "median", "topk", "sort", "argsort", "unique", "aminmax",
    "max/reduction_with_dim", "max/reduction_no_dim", "min/reduction_with_dim", "min/reduction_no_dim",
    "max/binary", "min/binary", "nanmean", "std/unbiased", "var/unbiased", "norm", "norm/fro",
    "norm/inf", "isfinite", "isinf", "isnan", "nonzero", "argwhere", "softmax", "softmax/with_dtype",
    "log_softmax", "log_softmax/with_dtype", "round/decimals_0", "round/decimals_3",
    "round/decimals_neg_3",
    # more shape, indexing and creation
    "arange", "linspace", "linspace/tensor_overload", "logspace", "logspace/tensor_overload",
    "zeros", "ones", "full", "eye", "zeros_like", "ones_like", "full_like", "clone", "contiguous",
    "broadcast_to", "broadcast_shapes", "broadcast_tensors", "expand_as", "reshape_as", "view_as",
    "diag_embed", "masked_scatter", "meshgrid/variadic_tensors", "meshgrid/list_of_tensors",
    "split", "split/list_args", "select", "tensor_split", "hsplit", "vsplit", "dsplit", "unbind",
    "squeeze/multiple", "atleast_1d", "atleast_2d", "atleast_3d", "unflatten", "column_stack",
    "index_fill", "index_copy", "index_add", "index_put", "take", "scatter", "scatter_add",
    # nn.functional
    "nn.functional.relu", "nn.functional.relu6", "nn.functional.leaky_relu", "nn.functional.elu",
    "nn.functional.celu", "nn.functional.selu", "nn.functional.prelu", "nn.functional.glu",
    "nn.functional.gelu", "nn.functional.silu", "nn.functional.mish", "nn.functional.hardswish",
    "nn.functional.hardsigmoid", "nn.functional.hardtanh", "nn.functional.hardshrink",
    "nn.functional.softshrink", "nn.functional.tanhshrink", "nn.functional.threshold",
    "nn.functional.logsigmoid", "nn.functional.softsign", "nn.functional.softplus",
    "nn.functional.softmin", "nn.functional.softmin/with_dtype", "nn.functional.normalize",
    "nn.functional.cosine_similarity", "nn.functional.pairwise_distance", "nn.functional.pdist",
    "nn.functional.linear", "nn.functional.bilinear", "nn.functional.conv1d", "nn.functional.conv2d",
    "nn.functional.conv3d", "nn.functional.conv_transpose1d", "nn.functional.group_norm",
    "nn.functional.instance_norm", "nn.functional.layer_norm", "nn.functional.rms_norm",
    "nn.functional.local_response_norm", "nn.functional.adaptive_avg_pool2d",
    "nn.functional.adaptive_max_pool1d", "nn.functional.adaptive_max_pool2d",
    "nn.functional.adaptive_max_pool3d", "nn.functional.avg_pool1d", "nn.functional.avg_pool2d",
    "nn.functional.avg_pool3d", "nn.functional.max_pool1d", "nn.functional.max_pool2d",
    "nn.functional.max_pool3d", "nn.functional.max_unpool1d", "nn.functional.max_unpool1d/grad",
    "nn.functional.max_unpool2d", "nn.functional.max_unpool2d/grad", "nn.functional.max_unpool3d",
    "nn.functional.max_unpool3d/grad", "nn.functional.pad/constant", "nn.functional.pad/reflect",
    "nn.functional.pad/replicate", "nn.functional.pad/replicate_negative", "nn.functional.pad/circular",
    "nn.functional.interpolate/nearest", "nn.functional.interpolate/nearest-exact",
    "nn.functional.interpolate/linear", "nn.functional.interpolate/bilinear",
    "nn.functional.interpolate/bicubic", "nn.functional.interpolate/trilinear",
    "nn.functional.upsample_bilinear", "nn.functional.upsample_nearest", "nn.functional.grid_sample",
    "nn.functional.pixel_shuffle", "nn.functional.pixel_unshuffle",
    # losses
    "nn.functional.cross_entropy", "nn.functional.nll_loss", "nn.functional.binary_cross_entropy",
    "nn.functional.binary_cross_entropy_with_logits", "nn.functional.mse_loss", "nn.functional.l1_loss",
    "nn.functional.smooth_l1_loss", "nn.functional.huber_loss", "nn.functional.kl_div",
    "nn.functional.soft_margin_loss", "nn.functional.margin_ranking_loss",
    "nn.functional.multilabel_soft_margin_loss", "nn.functional.triplet_margin_loss",
    "nn.functional.cosine_embedding_loss", "nn.functional.hinge_embedding_loss",
    "nn.functional.gaussian_nll_loss", "nn.functional.poisson_nll_loss", "nn.functional.ctc_loss",
    "var_mean/unbiased", "std_mean/unbiased", "nn.functional.conv_transpose2d",
    "nn.functional.conv_transpose3d", "nn.functional.embedding", "nn.functional.embedding_bag",
    "nn.functional.adaptive_avg_pool1d", "nn.functional.adaptive_avg_pool3d", "nn.functional.unfold",
    "nn.functional.interpolate/area", "nn.functional.feature_alpha_dropout/without_train",
    "einsum", "bool", "double", "float", "half", "int", "long", "short",
    # linalg norms
    "norm/nuc", "linalg.norm", "linalg.norm/subgradients_at_zero", "linalg.matrix_norm", "linalg.vector_norm",
    "linalg.svdvals",
    # widened: indexing, conversion, bitwise, reflected operators, methods, more nn.functional
    "__getitem__", "to", "item", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "nn.functional.batch_norm", "nn.functional.batch_norm/without_cudnn", "nn.functional.one_hot", "T", "mT",
    "new_zeros", "new_ones", "new_full", "__radd__", "__rmul__", "__rsub__", "__rpow__", "__rmod__",
    "__rmatmul__", "__rand__", "__ror__", "__rxor__", "nn.functional.scaled_dot_product_attention",
    "nn.functional.multi_margin_loss", "nn.functional.multilabel_margin_loss", "zero_", "unfold",
    "sum_to_size", "byte", "char", "bfloat16", "triu_indices", "tril_indices", "bincount",
    "nn.functional.triplet_margin_with_distance_loss", "nn.functional.linear_cross_entropy",
    "nn.functional.linear_cross_entropy/chunked", "nn.functional.linear_cross_entropy/chunked_none",
    # from the whole-database sweep (tests/test_opinfo_sweep.py has the cases it found)
    "cov", "corrcoef", "trapezoid", "trapz", "cumulative_trapezoid", "combinations", "gradient",
    "polygamma/polygamma_n_0", "polygamma/polygamma_n_1", "special.polygamma/special_polygamma_n_0", "cdouble",
    "cfloat", "linalg.pinv/singular", "linalg.lstsq/grad_oriented", "H", "mH",
]  # fmt: skip

#: (op, device type) -> reason: samples known to differ, kept short and explained.
KNOWN = {
    ("bfloat16", "opencl"): "the OpenCL backend has no bfloat16 arrays",
    **{  # the complex conversions: backends without complex arrays
        (name, device): f"the {device} backend has no complex arrays"
        for name in ("cdouble", "cfloat")
        for device in ("restricted", "opencl")
    },
    # the samples' tensor indices move to the device with the input; torch reads them from the CPU only
    ("tensor_split", "restricted"): "tensor_split's tensor indices must be on the CPU, as in PyTorch",
    ("tensor_split", "opencl"): "tensor_split's tensor indices must be on the CPU, as in PyTorch",
}


def _skip_known(name, device):
    reason = KNOWN.get((name, str(device).split(":")[0]))
    if reason:
        pytest.skip(reason)


#: op -> which of its samples are deterministic enough to compare (random ones are left out).
SAMPLE_FILTERS = {
    "nn.functional.scaled_dot_product_attention": lambda sample: not sample.kwargs.get("dropout_p"),
}


def _find(name):
    base, _, variant = name.partition("/")
    for op in op_db:
        if op.name == base and op.variant_test_name == variant:
            return op
    raise LookupError(name)


def _method(name):
    """``x.<name>(*args, **kwargs)``."""
    return lambda x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


#: OpInfo entries whose ``op`` orders the arguments differently from ``ember.<name>``.
ADAPTERS = {
    "where": lambda input, condition, other: input.where(condition, other),
    "nn.functional.embedding": lambda weight, idx, **kw: ember.nn.functional.embedding(idx, weight, **kw),
    "nn.functional.embedding_bag": lambda weight, idx, **kw: ember.nn.functional.embedding_bag(idx, weight, **kw),
    "einsum": lambda tensors, equation: ember.einsum(equation, tensors),
    **{  # the Tensor conversion methods (``x.double()``), whose names ember also gives its dtypes
        name: _method(name) for name in ("bfloat16", "bool", "double", "float", "half", "int", "long", "short")
    },
    **{  # Tensor methods and operators with no ``ember.<name>`` function
        name: _method(name)
        for name in (
            "__getitem__",
            "to",
            "item",
            "new_zeros",
            "new_ones",
            "new_full",
            "zero_",
            "unfold",
            "sum_to_size",
            "byte",
            "char",
            "__radd__",
            "__rmul__",
            "__rsub__",
            "__rpow__",
            "__rmod__",
            "__rmatmul__",
            "__rand__",
            "__ror__",
            "__rxor__",
        )
    },  # fmt: skip
    "zero_": lambda x: x.clone().zero_(),  # the OpInfo's op zeroes a clone
    # OpInfo ops whose argument order (or composition) is their own
    "polygamma": lambda x, n, **kwargs: ember.polygamma(n, x, **kwargs),
    "special.polygamma": lambda x, n, **kwargs: ember.special.polygamma(n, x, **kwargs),
    "cdouble": _method("cdouble"),
    "cfloat": _method("cfloat"),
    "linalg.pinv/singular": lambda a, b, **kwargs: ember.linalg.pinv(a @ b.mT, **kwargs),
    "linalg.lstsq/grad_oriented": lambda a, b, driver: ember.linalg.lstsq(a, b, driver=driver)[:2],
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "H": lambda x: x.H,
    "mH": lambda x: x.mH,
}


def _resolve(name):
    if name in ADAPTERS:  # one variant's own op
        return ADAPTERS[name]
    base = name.partition("/")[0]
    if base in ADAPTERS:
        return ADAPTERS[base]
    target = ember
    for part in base.split("."):
        target = getattr(target, part)
    return target


_TORCH_TO_EMBER = {}


def _to_ember(value, device, dtype_map):
    if isinstance(value, torch.Tensor):
        data = value.detach().cpu().resolve_conj().resolve_neg()  # a conjugate view reads as its values
        # NumPy has no bfloat16: its values go through float32 (exactly)
        data = data.float().numpy() if value.dtype == torch.bfloat16 else data.numpy()
        t = ember.tensor(data, dtype=getattr(ember, str(value.dtype).split(".")[-1]), device=device)
        if value.requires_grad:
            t.requires_grad_(True)
        dtype_map[id(value)] = t
        return t
    if isinstance(value, (torch.dtype, torch.memory_format)):
        return getattr(ember, str(value).split(".")[-1])
    if isinstance(value, torch.nn.PairwiseDistance):  # a module argument (distance_function=)
        return ember.nn.PairwiseDistance(value.norm, value.eps, value.keepdim)
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, list):
        return [_to_ember(v, device, dtype_map) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_ember(v, device, dtype_map) for v in value)
    if isinstance(value, dict):
        return {k: _to_ember(v, device, dtype_map) for k, v in value.items()}
    return value


def _flatten(result):
    if isinstance(result, (tuple, list)):
        return [x for r in result for x in _flatten(r)]
    return [result]


def _compare(actual, expected, dtype):
    rtol, atol = (1e-7, 1e-9) if dtype == "float64" else (2e-4, 2e-5)
    a, e = _flatten(actual), _flatten(expected)
    assert len(a) == len(e), (len(a), len(e))
    for x, y in zip(a, e):
        if isinstance(y, torch.Tensor):
            assert isinstance(x, ember.Tensor), type(x)
            assert tuple(x.shape) == tuple(y.shape), (x.shape, y.shape)
            assert str(x.dtype).split(".")[-1] == str(y.dtype).split(".")[-1], (x.dtype, y.dtype)
            if not (y.dtype.is_floating_point or y.dtype.is_complex):  # integers and bool: exact
                np.testing.assert_array_equal(x.cpu().numpy(), y.numpy())
                continue
            np.testing.assert_allclose(
                x.detach().float().cpu().numpy().astype(np.float64) if y.dtype == torch.bfloat16 else
                x.detach().cpu().numpy().astype(np.float64),
                y.detach().to(torch.float64).numpy(),
                rtol=rtol,
                atol=atol,
                equal_nan=True,
            )  # fmt: skip
        else:
            assert x == y or (x != x and y != y), (x, y)


def _torch_gradients(op, sample, ups, cast=None):
    """The output and input gradients of one sample in torch (its tensors cast to ``cast`` first)."""

    def convert(value):
        if isinstance(value, torch.Tensor) and cast is not None and value.dtype.is_floating_point:
            return value.detach().to(cast).requires_grad_(value.requires_grad)
        if isinstance(value, (list, tuple)):
            return type(value)(convert(v) for v in value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return value

    input, args, kwargs = convert(sample.input), convert(sample.args), convert(sample.kwargs)
    expected = op.op(input, *args, **kwargs)
    outs = [t for t in _flatten(expected) if isinstance(t, torch.Tensor) and t.requires_grad]
    leaves = [
        t
        for t in _flatten([input, *args]) + _flatten(list(kwargs.values()))
        if isinstance(t, torch.Tensor) and t.requires_grad
    ]
    if not outs or not leaves:
        return expected, leaves, None
    grads = torch.autograd.grad(
        outs, leaves, [torch.tensor(u, dtype=t.dtype) for u, t in zip(ups, outs)], allow_unused=True
    )
    return expected, leaves, [None if g is None or g._is_zerotensor() else g for g in grads]


def _samples(op, name, tdtype, requires_grad=False, count=SAMPLES_PER_OP):
    """The first ``count`` (deterministic) samples, generated lazily (some ops have hundreds)."""
    keep = SAMPLE_FILTERS.get(name, bool)
    generated = op.sample_inputs("cpu", tdtype, requires_grad=requires_grad)
    return list(itertools.islice((s for s in generated if keep(s)), count))


@pytest.mark.parametrize("name", OPS, ids=[n.replace("/", "-") for n in OPS])
def test_opinfo_samples_match_torch(device, dtype, name):
    _skip_known(name, device)
    op = _find(name)
    fn = _resolve(name)
    tdtype = getattr(torch, dtype.name)
    if tdtype not in op.supported_dtypes("cpu"):
        pytest.skip(f"torch has no {dtype.name} {name}")
    differentiable = op.supports_autograd
    samples = _samples(op, name, tdtype, requires_grad=differentiable)
    rng = np.random.default_rng(0)
    for sample in samples:
        expected = op.op(sample.input, *sample.args, **sample.kwargs)
        leaves = {}
        e_input = _to_ember(sample.input, device, leaves)
        e_args = _to_ember(sample.args, device, leaves)
        e_kwargs = _to_ember(sample.kwargs, device, leaves)
        actual = fn(e_input, *e_args, **e_kwargs)
        _compare(actual, expected, dtype.name)
        if not differentiable:
            continue
        flat_expected = _flatten(expected)
        grad_outputs = [i for i, t in enumerate(flat_expected) if isinstance(t, torch.Tensor) and t.requires_grad]
        ups = [rng.standard_normal(tuple(flat_expected[i].shape)) for i in grad_outputs]
        _, torch_leaves, t_grads = _torch_gradients(op, sample, ups)
        if t_grads is None:
            continue
        outs_e = [_flatten(actual)[i] for i in grad_outputs]
        e_grads = ember.autograd.grad(
            outs_e,
            [
                leaves[id(t)]
                for t in _flatten([sample.input, *sample.args]) + _flatten(list(sample.kwargs.values()))
                if isinstance(t, torch.Tensor) and t.requires_grad
            ],
            [ember.tensor(u, dtype=a.dtype, device=a.device) for u, a in zip(ups, outs_e)],
            allow_unused=True,
        )
        precise = None
        for k, (ge, gt) in enumerate(zip(e_grads, t_grads)):
            if gt is None:
                assert ge is None or not bool((ge != 0).any()), "ember has a gradient where torch has none"
                continue
            if ge is None:
                assert not bool((gt != 0).any()), "ember has no gradient where torch has one"
                continue
            try:
                _compare(ge, gt, dtype.name)
            except AssertionError:
                if dtype.name != "float32":
                    raise
                # torch's own float32 gradient can be the less accurate one: ember's must then
                # be at least as close as torch's to the float64 gradient of the same sample
                if precise is None:
                    precise = _torch_gradients(op, sample, ups, cast=torch.float64)[2]
                exact = precise[k].numpy()
                ember_error = np.max(np.abs(ge.detach().cpu().numpy() - exact))
                torch_error = np.max(np.abs(gt.detach().numpy().astype(np.float64) - exact))
                assert ember_error <= torch_error, (ember_error, torch_error)


#: the integer and bool dtypes checked (forward only): exact values, PyTorch's result dtypes
#: (int32 and uint8 sums, products and contractions are checked in test_semantics_integers.py)
INTEGER_DTYPES = ["int64", "bool"]
INTEGER_SAMPLES_PER_OP = 2  # forward only; the first samples hold the edge shapes

#: (op, dtype) -> what differs: integer inputs ember refuses or computes in floating point
INTEGER_KNOWN: dict[tuple[str, str], str] = {}

#: ops whose index outputs are unspecified among equal values (ties abound in small integers):
#: their values are compared, not their indices; argsort gives nothing but indices
TIED_INDICES = {"sort": 1, "topk": 1, "kthvalue": 1, "argsort": 0}


@pytest.mark.parametrize("int_dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("name", OPS, ids=[n.replace("/", "-") for n in OPS])
def test_opinfo_integer_samples_match_torch(device, int_dtype, name):
    _skip_known(name, device)
    op = _find(name)
    fn = _resolve(name)
    tdtype = getattr(torch, int_dtype)
    if tdtype not in op.supported_dtypes("cpu"):
        pytest.skip(f"torch has no {int_dtype} {name}")
    if (name, int_dtype) in INTEGER_KNOWN:
        pytest.xfail(INTEGER_KNOWN[name, int_dtype])
    if TIED_INDICES.get(name) == 0:
        pytest.skip(f"{name} of integers: the order among equal values is unspecified")
    samples = _samples(op, name, tdtype, count=INTEGER_SAMPLES_PER_OP)
    for sample in samples:
        expected = op.op(sample.input, *sample.args, **sample.kwargs)
        leaves = {}
        actual = fn(
            _to_ember(sample.input, device, leaves), *_to_ember(sample.args, device, leaves),
            **_to_ember(sample.kwargs, device, leaves),
        )  # fmt: skip
        if name in TIED_INDICES:
            actual, expected = _flatten(actual)[: TIED_INDICES[name]], _flatten(expected)[: TIED_INDICES[name]]
        _compare(actual, expected, "float32")  # a float result of integers is float32
