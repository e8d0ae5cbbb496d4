"""PyTorch's OpInfo error inputs run against ember: where torch raises, ember must raise the same type.

The sweep runs every ``op.error_inputs("cpu")`` of the OpInfo database whose op resolves in ember (through
:mod:`test_opinfo`'s ``_resolve``) on every test device; a case torch itself does not raise on the CPU (some
are CUDA's only) is left out. Views keep their aliasing in the conversion (an ``out=`` that is an expanded
view or an input must stay one), meta tensors stay meta. The differential tests below it are the cases the
sweep found, each against torch, with the message where ember's is PyTorch's.
"""

from __future__ import annotations

import re
import warnings

import pytest

import ember
import ember.nn.functional as EF

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")  # the OpInfo module needs it
import torch.nn.functional as F  # noqa: E402
from test_opinfo import _resolve, _to_ember  # noqa: E402
from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402

#: OpInfo entries whose ``op`` is not ``ember.<name>`` and that test_opinfo's ADAPTERS do not cover
ERROR_ADAPTERS = {
    "normal/in_place": lambda x, *args, **kwargs: x.normal_(*args, **kwargs),
}

#: (op, error input index) -> why the case is not checked (harness or backend limits, not ember's errors)
KNOWN = {
    **{
        (name, i): "a 65-dimensional tensor: NumPy arrays have at most 64 dimensions"
        for name in ("aminmax", "amax", "amin")
        for i in (1, 2)
    },
    **{
        (name, i): "torch.Tensor.__r*__ called on an int self: a C descriptor refuses it, a Python method does not"
        for name in ("__radd__", "__rmul__", "__rand__", "__ror__", "__rxor__")
        for i in (0, 1)
    },
    # an out= of another shape: PyTorch resizes it in its storage (which then overlaps the index), ember gives
    # it storage of its own (the result is right, in new memory)
    ("gather", 7): "out= resized in place by PyTorch, given new storage by ember",
    ("take", 2): "out= resized in place by PyTorch, given new storage by ember",
}


_NO_SUCH_ARRAYS = re.compile(r"backend does not support dtype")


def _op_name(op):
    return op.name + ("/" + op.variant_test_name if op.variant_test_name else "")


def _callable(name):
    if name in ERROR_ADAPTERS:
        return ERROR_ADAPTERS[name]
    try:
        return _resolve(name)
    except AttributeError:
        return None


#: every OpInfo entry with error inputs whose op ember has
OPS = {_op_name(op): op for op in op_db if op.error_inputs_func is not None and _callable(_op_name(op)) is not None}


class _Converter:
    """torch values to ember on ``device``, keeping which tensors are views of which (an ``as_strided`` view of
    the converted base) and which are one tensor (converted once)."""

    def __init__(self, device):
        self.device = device
        self.seen = {}

    def __call__(self, value):
        if isinstance(value, torch.Tensor):
            if value.layout != torch.strided:
                pytest.skip("a sparse operand: ember's sparse ops are checked elsewhere")
            if id(value) not in self.seen:
                self.seen[id(value)] = (value, self._tensor(value))  # (the torch tensor kept alive with its id)
            return self.seen[id(value)][1]
        if isinstance(value, torch.device):
            return self.device if value.type == "cpu" else value.type
        if isinstance(value, torch.layout):
            return getattr(ember, str(value).split(".")[-1])
        if isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
            return type(value)(self(v) for v in value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        return _to_ember(value, self.device, {})

    def _tensor(self, t):
        dtype = getattr(ember, str(t.dtype).split(".")[-1])
        if t.device.type == "meta":
            return ember.empty(tuple(t.shape), dtype=dtype, device="meta")
        if t._base is not None:
            return ember.as_strided(self(t._base), tuple(t.shape), t.stride(), t.storage_offset())
        return _to_ember(t, self.device, {})


def _convert(sample, device):
    convert = _Converter(device)
    try:
        return convert(sample.input), convert(sample.args), convert(sample.kwargs)
    except TypeError as exc:  # a dtype the device has no arrays of (complex on OpenCL)
        if _NO_SUCH_ARRAYS.search(str(exc)):
            return None
        raise


def _torch_error(op, sample):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            op.op(sample.input, *sample.args, **sample.kwargs)
    except Exception as exc:  # noqa: BLE001 - any error: its type is compared
        return exc
    return None


@pytest.mark.parametrize("name", sorted(OPS), ids=[n.replace("/", "-") for n in sorted(OPS)])
def test_opinfo_error_inputs_raise_like_torch(device, name):
    op, fn = OPS[name], _callable(name)
    checked = 0
    for i, error in enumerate(op.error_inputs("cpu")):
        if (name, i) in KNOWN:
            continue
        sample = error.sample_input
        converted = _convert(sample, device)  # before torch runs: its out= may be resized by the call
        expected = _torch_error(op, sample)
        if not isinstance(expected, error.error_type):  # torch on the CPU does not raise this one
            continue
        if converted is None:
            continue
        input, args, kwargs = converted
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fn(input, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - its type is compared
                if _NO_SUCH_ARRAYS.search(str(exc)) and not isinstance(exc, error.error_type):
                    continue  # a backend without the dtype the op computes in (complex): refused before the checks
                assert isinstance(exc, error.error_type), (i, type(exc), exc, expected)
            else:
                raise AssertionError(f"{name} error input {i}: ember returned a value, torch raised {expected!r}")
        checked += 1
    if not checked:
        pytest.skip(
            f"no error input of {name} to check here (torch raises none on the CPU, or the device has no arrays of their dtype)"
        )


def _raises_like_torch(call, match=None):
    """Run ``call(torch)`` and ``call(ember)``: both must raise one type, and the messages match ``match``
    (torch's and ember's both) where given."""
    try:
        call(torch)
    except Exception as exc:  # noqa: BLE001
        expected = exc
    else:
        raise AssertionError("torch does not raise")
    with pytest.raises(type(expected)) as info:
        call(ember)
    if match is not None:
        assert re.search(match, str(expected)), str(expected)
        assert re.search(match, str(info.value)), str(info.value)
    return info.value


def _both(call):
    """``call(torch)`` and ``call(ember)`` give the same shape."""
    expected, actual = call(torch), call(ember)
    assert tuple(actual.shape) == tuple(expected.shape)
    return expected, actual


# -- silent answers where torch raises --------------------------------------------------------


@pytest.mark.parametrize("fn", ["cross", "linalg_cross"])
def test_cross_needs_length_3_in_both_inputs_before_broadcasting(device, fn):
    # ember broadcast a (5, 1) other against (5, 3) and returned a (5, 3) product; PyTorch refuses it
    def call(lib):
        a, b = lib.ones(5, 3, device="cpu" if lib is torch else device), lib.ones(5, 1)
        if lib is ember:
            b = b.to(device)
        return lib.linalg.cross(a, b) if fn == "linalg_cross" else lib.cross(a, b, dim=-1)

    _raises_like_torch(call, r"linalg.cross: inputs dimension -1 must have length 3. Got 3 and 1")
    # dim left out: the first dimension of size 3 of the input; the other's size there counts too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _raises_like_torch(lambda lib: lib.cross(lib.ones(5, 3), lib.ones(5, 1)), r"must have length 3. Got 3 and 1")
        _both(lambda lib: lib.cross(lib.ones(3, 1), lib.ones(3, 5)))  # still broadcasts outside dim


@pytest.mark.parametrize("weights", ["fweights", "aweights"])
def test_cov_refuses_negative_weights(device, weights):
    # ember returned a covariance with the negative weight; PyTorch refuses it
    def call(lib):
        w = lib.tensor([1, -1, 2]) if weights == "fweights" else lib.tensor([1.0, -1.0, 2.0])
        x = lib.arange(6.0).reshape(2, 3)
        if lib is ember:
            x, w = x.to(device), w.to(device)
        return lib.cov(x, **{weights: w})

    _raises_like_torch(call, rf"cov\(\): {weights} cannot be negative")


@pytest.mark.parametrize("which", [0, 1])
def test_cat_refuses_an_out_that_is_one_of_its_inputs(device, which):
    # ember wrote the concatenation into an input given as out; PyTorch refuses the aliasing (even whole)
    def call(lib):
        a, b = lib.zeros(0), lib.ones(4, 6)
        if lib is ember:
            a, b = a.to(device), b.to(device)
        return lib.cat((a, b), dim=0, out=(a, b)[which])

    _raises_like_torch(call, "unsupported operation: some elements of the input tensor and the written-to tensor")


def test_kthvalue_refuses_its_input_as_out(device):
    # ember wrote the k-th value into the input given as out's values; PyTorch refuses it
    def call(lib):
        x = lib.arange(10.0)
        if lib is ember:
            x = x.to(device)
        return lib.kthvalue(x, 5, out=(x, lib.empty((), dtype=lib.int64, device=x.device)))

    _raises_like_torch(call, "unsupported operation: some elements of the input tensor and the written-to tensor")


def test_masked_select_refuses_its_mask_as_out(device):
    # ember wrote the selection into the mask given as out; PyTorch refuses it
    def call(lib):
        x, mask = lib.ones(6, dtype=lib.bool), lib.tensor([True, False, True, True, False, True])
        if lib is ember:
            x, mask = x.to(device), mask.to(device)
        return lib.masked_select(x, mask, out=mask)

    _raises_like_torch(call, "unsupported operation: some elements of the input tensor and the written-to tensor")


@pytest.mark.parametrize("fn", ["adaptive_avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool3d"])
@pytest.mark.parametrize("size", [(2,), [2]])
def test_adaptive_pool_refuses_a_shorter_output_size(device, fn, size):
    # ember repeated a one-element output_size over the dims and pooled; PyTorch refuses it
    nd = int(fn[-2])
    shape = (2, 3, 4, 5)[: nd + 1]

    def call(lib):
        x = lib.ones(shape)
        if lib is ember:
            x = x.to(device)
        return getattr((F if lib is torch else EF), fn)(x, size)

    _raises_like_torch(call, rf"{fn}.*output_size.*must be {nd}")
    # an int is still one size for every dimension
    _both(lambda lib: getattr((F if lib is torch else EF), fn)(lib.ones(shape), 2))


@pytest.mark.parametrize("fn", ["adaptive_avg_pool1d", "adaptive_max_pool1d"])
def test_adaptive_pool1d_needs_one_output_size(fn):
    _raises_like_torch(
        lambda lib: getattr((F if lib is torch else EF), fn)(lib.ones(2, 3, 4), ()),
        r"'output_size' should contain one int",
    )


@pytest.mark.parametrize("fn", ["multi_margin_loss", "multilabel_margin_loss"])
def test_margin_losses_refuse_an_input_with_no_class(device, fn):
    # ember returned a loss for a (5, 0) input (multilabel) or raised "target out of range" (multi); PyTorch
    # refuses the input first
    def call(lib):
        x = lib.ones(5, 0)
        t = lib.zeros(5, dtype=lib.int64) if fn == "multi_margin_loss" else lib.zeros(5, 0, dtype=lib.int64)
        if lib is ember:
            x, t = x.to(device), t.to(device)
        return getattr((F if lib is torch else EF), fn)(x, t)

    _raises_like_torch(call, r"Expected non-empty vector or matrix with optional 0-dim batch size, but got: \[5, 0\]")
    _both(
        lambda lib: getattr((F if lib is torch else EF), fn)(
            lib.ones(0, 3),
            lib.zeros(0, dtype=lib.int64) if fn == "multi_margin_loss" else lib.zeros(0, 3, dtype=lib.int64),
        )
    )  # an empty batch is fine


# -- another exception type than torch's --------------------------------------------------------


@pytest.mark.parametrize(
    "fn", ["adaptive_avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]
)
def test_adaptive_pool_output_size_longer_than_the_input_is_a_value_error(fn):
    # ember raised RuntimeError (the input's dimensions); PyTorch's Python check raises ValueError first
    nd = int(fn[-2])
    _raises_like_torch(
        lambda lib: getattr((F if lib is torch else EF), fn)(lib.ones((2,) * nd), (1,) * nd),
        rf"Input dimension should be at least {nd + 1}",
    )


@pytest.mark.parametrize("weight_shape", [(), (1, 4)])
def test_multi_margin_loss_weight_must_be_1d_value_error(device, weight_shape):
    # ember raised RuntimeError (a float target, or the weight's size); PyTorch checks the weight's dims first
    def call(lib):
        x, t, w = lib.ones(5, 4), lib.zeros(5), lib.ones(weight_shape)  # (a float target, as the OpInfo's)
        if lib is ember:
            x, t, w = x.to(device), t.to(device), w.to(device)
        return (F if lib is torch else EF).multi_margin_loss(x, t, weight=w)

    _raises_like_torch(call, "weight must be one-dimensional")


@pytest.mark.parametrize(
    "x_shape, t_shape, kwargs, match",
    [
        (
            (5, 4),
            (5, 4),
            {},
            r"target tensor should be 1-D with size equal to.*Expected target size \[5\].*but got \[5, 4\]",
        ),
        ((5, 4), (5,), {"weight": (5,)}, r"inconsistent weight size, expected 4 but got \[5\]"),
        ((0,), (5,), {}, r"Expected non-empty vector or matrix with optional 0-dim batch size, but got: \[0\]"),
    ],
)
def test_multi_margin_loss_checks_shapes_before_the_target_dtype(device, x_shape, t_shape, kwargs, match):
    # ember said "expected scalar type Long" (the OpInfo's float target) where PyTorch names the wrong shape
    def call(lib):
        x, t = lib.ones(x_shape), lib.zeros(t_shape)
        kw = {k: lib.ones(v) for k, v in kwargs.items()}
        if lib is ember:
            x, t, kw = x.to(device), t.to(device), {k: v.to(device) for k, v in kw.items()}
        return (F if lib is torch else EF).multi_margin_loss(x, t, **kw)

    _raises_like_torch(call, match)


@pytest.mark.parametrize("target_shape", [(4,), ()])
def test_multilabel_margin_loss_checks_shapes_before_the_target_dtype(device, target_shape):
    def call(lib):
        x, t = lib.ones(5, 4), lib.zeros(target_shape)
        if lib is ember:
            x, t = x.to(device), t.to(device)
        return (F if lib is torch else EF).multilabel_margin_loss(x, t)

    _raises_like_torch(call, r"inconsistent target size: \[4?\] for input of size: \[5, 4\]")


def test_narrow_copy_errors():
    # ember raised IndexError for a dim past the last (PyTorch's narrow_copy: RuntimeError) and narrow's
    # message for a negative length
    _raises_like_torch(lambda lib: lib.narrow_copy(lib.ones(10, 5, 20), 3, 0, 0))
    _raises_like_torch(lambda lib: lib.ones(10, 5, 20).narrow_copy(3, 0, 0))
    _raises_like_torch(
        lambda lib: lib.narrow_copy(lib.ones(10), 0, 0, -1),
        r"start \(0\) \+ length \(-1\) exceeds dimension size \(10\)\.",
    )
    _raises_like_torch(lambda lib: lib.narrow_copy(lib.ones(10, 5, 20), -4, 0, 0), r"Dimension out of range")
    _raises_like_torch(lambda lib: lib.narrow_copy(lib.ones(()), 0, 0, 1), r"narrow\(\) cannot be applied to a 0-dim")


@pytest.mark.parametrize(
    "size, layout", [((2,), (3,)), ((2, 3), (-1, 0)), ((2, 3), (1, 5)), ((2, 3), (0, -2)), ((2, 3), (5, 5))]
)
def test_empty_permuted_dimension_out_of_range_is_a_runtime_error(size, layout):
    # ember raised IndexError (and "Duplicate dim" before the range for (5, 5)); PyTorch: RuntimeError, in order
    err = _raises_like_torch(
        lambda lib: lib.empty_permuted(size, layout), r"Dimension out of range \(expected to be between 0 and"
    )
    assert (
        str(err).split("  NB")[0]
        == str(_raises_like_torch(lambda lib: lib.empty_permuted(size, layout))).split("  NB")[0]
    )


def test_empty_permuted_duplicate_dim():
    _raises_like_torch(lambda lib: lib.empty_permuted((2, 3), (0, 0)), "Duplicate dim not allowed")


# -- valid input ember refused ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn, kwargs",
    [
        ("conv2d", {"stride": (2,)}),
        ("conv2d", {"dilation": (2,)}),
        ("conv2d", {"padding": [1]}),
        ("conv3d", {"stride": (1,), "padding": (1,), "dilation": (1,)}),
        ("conv_transpose2d", {"stride": (2,), "output_padding": (1,)}),
        ("conv_transpose3d", {"padding": (1,), "dilation": [2]}),
    ],
)
def test_conv_takes_one_value_in_a_list_for_every_dimension(device, dtype, fn, kwargs):
    # ember raised "expected stride to be a single integer value or a list of 3 values, got (1,)"; PyTorch
    # repeats a one-element list over the spatial dimensions
    nd = int(fn[-2])
    x = torch.randn((1, 2) + (5,) * nd, dtype=getattr(torch, dtype.name))
    w = torch.randn((2, 2) + (3,) * nd, dtype=x.dtype)
    expected = getattr(F, fn)(x, w, **kwargs)
    actual = getattr(EF, fn)(_to_ember(x, device, {}), _to_ember(w, device, {}), **kwargs)
    assert tuple(actual.shape) == tuple(expected.shape)
    tol = 1e-10 if dtype.name == "float64" else 1e-4
    assert float((actual.cpu() - _to_ember(expected, "cpu", {})).abs().max()) <= tol


def test_conv_refuses_a_list_of_another_length():
    _raises_like_torch(
        lambda lib: (F if lib is torch else EF).conv2d(lib.ones(1, 1, 4, 4), lib.ones(1, 1, 2, 2), stride=(1, 1, 1))
    )
