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


#: op -> (error input indices, why ember's message does not match the OpInfo's regex) (the type does)
MESSAGES_DIFFER = {
    **{
        name: ((i,), "out= of another dtype: ember's write_out names the dtypes its own way")
        for name, i in (("amax", 5), ("amin", 5), ("aminmax", 3), ("complex", 2), ("multinomial", 2))
    },
    **{
        name: ((1,), "a float steps: ember names the argument ('must be int, not float'), not the overloads")
        for name in ("linspace", "linspace/tensor_overload", "logspace", "logspace/tensor_overload")
    },
    "narrow_copy": ((1,), "PyTorch's message is an internal assertion's"),
    **{
        f"nn.functional.adaptive_max_pool{nd}d": (
            (1 if nd == 1 else 2,),
            "a negative output size: PyTorch's message is the empty() it makes, ember's avg_pool's check",
        )
        for nd in (1, 2, 3)
    },  # fmt: skip
    **{  # inputs with several errors: PyTorch checks the padding or stride before the input's shape
        "nn.functional.avg_pool2d": ((0, 1, 2, 3), "the input's shape is checked first"),
        "nn.functional.avg_pool3d": ((0, 1, 2, 3, 5), "the input's shape is checked first"),
        "nn.functional.max_pool1d": ((0, 12), "PyTorch's max_pool1d says 'padding must be non-negative' here"),
        "nn.functional.max_pool2d": ((0, 1, 2, 3), "the input's shape is checked first"),
        "nn.functional.max_pool3d": ((0, 1, 2, 3, 4, 5), "the input's shape is checked first"),
        "nn.functional.conv1d": ((2, 3, 5), "the weight and channels are checked before the stride and padding"),
        "nn.functional.conv2d": ((2, 3, 5), "the weight and channels are checked before the stride and padding"),
        "nn.functional.conv3d": ((5,), "the weight and channels are checked before the stride and padding"),
    },
}


def _message_matches(name, i, error, exc):
    """Whether ember's message matches the OpInfo's regex (with ``torch.`` dtypes and layouts read as ember's)."""
    if i in MESSAGES_DIFFER.get(name, ((), ""))[0]:
        return True
    message = str(exc)
    return bool(
        re.search(error.error_regex, message) or re.search(error.error_regex.replace("torch.", "ember."), message)
    )


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
                assert _message_matches(name, i, error, exc), (i, error.error_regex, str(exc))
            else:
                raise AssertionError(f"{name} error input {i}: ember returned a value, torch raised {expected!r}")
        checked += 1
    if not checked:
        pytest.skip(
            f"no error input of {name} to check here (torch raises none on the CPU, or the device has no arrays of their dtype)"
        )


def _method_name(op):
    name = getattr(op.method_variant, "__name__", "<lambda>")
    return op.name if name == "<lambda>" else name  # (a method wrapped to seed the generator: multinomial)


#: every OpInfo entry with error inputs and a Tensor method, which ember's Tensor has
METHODS = {
    _op_name(op): op
    for op in op_db
    if op.error_inputs_func is not None
    and op.method_variant is not None
    and hasattr(ember.Tensor, _method_name(op))
    and _op_name(op) not in ERROR_ADAPTERS
}


@pytest.mark.parametrize("name", sorted(METHODS), ids=[n.replace("/", "-") for n in sorted(METHODS)])
def test_opinfo_error_inputs_raise_like_torch_as_methods(device, name):
    # the same error inputs through the Tensor method (``x.amax(...)``), where torch's method raises
    op = METHODS[name]
    method = _method_name(op)
    checked = 0
    for i, error in enumerate(op.error_inputs("cpu")):
        sample = error.sample_input
        if (name, i) in KNOWN or not isinstance(sample.input, torch.Tensor):
            continue
        converted = _convert(sample, device)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                op.method_variant(sample.input, *sample.args, **sample.kwargs)
        except Exception as exc:  # noqa: BLE001
            expected = exc
        else:
            continue
        if converted is None or not isinstance(expected, error.error_type):
            continue
        input, args, kwargs = converted
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                getattr(input, method)(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - its type is compared
                if _NO_SUCH_ARRAYS.search(str(exc)) and not isinstance(exc, error.error_type):
                    continue
                assert isinstance(exc, error.error_type), (i, type(exc), exc, expected)
            else:
                raise AssertionError(
                    f"{name} error input {i}: ember's method returned a value, torch's raised {expected!r}"
                )
        checked += 1
    if not checked:
        pytest.skip(f"no error input of {name} to check here")


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


# -- second round: silent answers and messages ------------------------------------------------------------


@pytest.mark.parametrize("lambd", [float("inf"), 1e39, float("nan"), -0.5])
def test_softshrink_lambda_out_of_the_dtype_range(device, lambd):
    # ember returned zeros for lambd=inf or 1e39 and NaNs for lambd=nan; PyTorch refuses a lambda outside [0, max]
    def call(lib):
        x = lib.ones(3)
        return (F if lib is torch else EF).softshrink(x if lib is torch else x.to(device), lambd)

    _raises_like_torch(call, r"lambda must be in range \[0, 3.40282e\+38\] for input dtype Float, but found")


def test_softshrink_lambda_message_names_a_16_bit_dtype():
    _raises_like_torch(
        lambda lib: (F if lib is torch else EF).softshrink(lib.ones(3, dtype=lib.float16), 70000.0),
        r"^lambda must be in range \[0, 65504\] for input dtype Half, but found 70000$",
    )


@pytest.mark.parametrize("fn", ["hsplit", "vsplit", "dsplit"])
@pytest.mark.parametrize("sections", ["abc", 1.5, [1.5], None, (1, "a"), True, [True], "tensor"])
def test_directional_split_refuses_what_is_not_ints(fn, sections):
    # ember split by a bool (as 1), a list of bools and a 1-d tensor, and raised Python's own TypeErrors for the
    # rest ("'<' not supported between instances of 'str' and 'int'"); PyTorch refuses them all
    def call(lib):
        arg = lib.tensor([1, 2]) if sections == "tensor" else sections
        return getattr(lib, fn)(lib.ones(4, 4, 4), arg)

    _raises_like_torch(call, rf"^{fn}\(\)(:| received an invalid combination of arguments)")


@pytest.mark.parametrize("sections", ["np2", "np4", "t2", "np_list", "t_list"])
def test_directional_split_takes_numpy_and_0d_integers(sections):
    # an integer that is not a Python int: ember skipped the divisibility check (hsplit(x, np.int64(3)) of a size
    # of 4 split unevenly); PyTorch reads it as the int it is
    import numpy as np

    def arg(lib):
        return {
            "np2": np.int64(3),
            "np4": np.int64(4),
            "t2": lib.tensor(3),
            "np_list": [np.int64(1)],
            "t_list": [lib.tensor(1)],
        }[sections]

    if sections in ("np2", "t2"):
        _raises_like_torch(lambda lib: lib.hsplit(lib.ones(4, 4), arg(lib)), "is not divisible by the split_size 3")
    else:
        expected, actual = torch.hsplit(torch.ones(4, 4), arg(torch)), ember.hsplit(ember.ones(4, 4), arg(ember))
        assert [tuple(t.shape) for t in actual] == [tuple(t.shape) for t in expected]


@pytest.mark.parametrize("dims", [0, -1, (0,)])
def test_roll_of_a_0d_tensor_along_a_dim(dims):
    # ember raised IndexError "tuple index out of range"; PyTorch names the dimension
    shifts = (1,) if isinstance(dims, tuple) else 1
    _raises_like_torch(
        lambda lib: lib.roll(lib.tensor(1.0), shifts, dims),
        r"^Dimension specified as (0|-1) but tensor has no dimensions$",
    )
    assert float(ember.roll(ember.tensor(1.0), 1)) == float(torch.roll(torch.tensor(1.0), 1))


@pytest.mark.parametrize("fn", ["broadcast_tensors", "l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"])
def test_broadcast_tensors_message_is_the_element_wise_ops(device, fn):
    # ember's broadcast_tensors (and the losses through it) said "shape mismatch: objects cannot be broadcast to a
    # single shape ([[5, 4], [5]])", broadcast_shapes' message; PyTorch's is its element-wise ops'
    def call(lib):
        a, b = lib.ones(5, 4), lib.ones(5)
        if lib is ember:
            a, b = a.to(device), b.to(device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fn == "broadcast_tensors":
                return lib.broadcast_tensors(a, b)
            return getattr(F if lib is torch else EF, fn)(a, b)

    _raises_like_torch(
        call, r"^The size of tensor a \(4\) must match the size of tensor b \(5\) at non-singleton dimension 1$"
    )
    _raises_like_torch(
        lambda lib: lib.broadcast_tensors(lib.ones(5, 4), lib.ones(4), lib.ones(3)),
        r"^The size of tensor a \(4\) must match the size of tensor b \(3\) at non-singleton dimension 1$",
    )


@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": -2}])
def test_aminmax_of_an_empty_dimension_names_aminmax(device, kwargs):
    # ember's message named amin ("amin(): Expected reduction dim to be specified for input.numel() == 0")
    def call(lib):
        x = lib.ones(5, 0, 5)
        return lib.aminmax(x if lib is torch else x.to(device), **kwargs)

    _raises_like_torch(
        call, r"^aminmax(\(\): cannot compute aminmax over an empty dimension|: Expected reduction dim 1)"
    )


@pytest.mark.parametrize("fn", ["dot", "vdot"])
@pytest.mark.parametrize(
    "shapes, match",
    [
        (((3,), (3,)), r"^dot : expected both vectors to have same dtype, but found Float and Half$"),
        (((3,), (4,)), r"^dot : expected both vectors to have same dtype, but found Float and Half$"),
        (((3, 1), (3,)), r"^1D tensors expected, but got 2D and 1D tensors$"),
        (((), ()), r"^1D tensors expected, but got 0D and 0D tensors$"),
    ],
)
def test_dot_checks_dims_then_dtypes(device, fn, shapes, match):
    # ember said "dot: expected m1 and m2 to have the same dtype, but got: ember.float32 != ember.float16" (mm's)
    def call(lib):
        a, b = lib.ones(shapes[0]), lib.ones(shapes[1], dtype=lib.float16 if shapes[0] else lib.float32)
        if lib is ember:
            a, b = a.to(device), b.to(device)
        return getattr(lib, fn)(a, b)

    _raises_like_torch(call, match)


@pytest.mark.parametrize("fn", ["layer_norm", "rms_norm"])
@pytest.mark.parametrize(
    "normalized_shape, params, match",
    [
        ((), {}, r"^Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, "
                 r"but got normalized_shape = \[\]$"),
        ((2, 3), {"weight": (2,)}, r"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                                   r"\[2\] and normalized_shape = \[2, 3\]$"),
        ((4,), {"weight": (2,)}, r"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                                 r"\[2\] and normalized_shape = \[4\]$"),
        ((2, 3), {"bias": (2,)}, r"Expected bias to be of same shape as normalized_shape, but got bias of shape "
                                 r"\[2\] and normalized_shape = \[2, 3\]$"),
    ],
)  # fmt: skip
def test_norm_checks_normalized_shape_then_parameters_then_input(device, fn, normalized_shape, params, match):
    # ember checked the input's shape first ("Given normalized_shape=[], expected input with shape [*, ]") and
    # said "expected weight of shape [2, 3], but got [2]"
    if fn == "rms_norm" and "bias" in params:
        pytest.skip("rms_norm has no bias")

    def call(lib):
        x = lib.ones(1, 2, 3)
        kw = {k: lib.ones(v) for k, v in params.items()}
        if lib is ember:
            x, kw = x.to(device), {k: v.to(device) for k, v in kw.items()}
        return getattr(F if lib is torch else EF, fn)(x, normalized_shape, **kw)

    _raises_like_torch(call, match)


def test_gradient_spacing_messages(device):
    # ember's message for a spacing list as long as neither dim nor the input's dims, given dim, and for spacing
    # coordinates on another device ("Expected all tensors to be on the same device ... (when checking argument
    # for mul)") were not PyTorch's
    _raises_like_torch(
        lambda lib: lib.gradient(lib.ones(3, 3), spacing=[0.1], dim=(1, 0)),
        r"^torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim arguments to have the "
        r"same length, but got a spacing argument of length 1 and a dim argument of length 2\.$",
    )

    def call(lib):
        x = lib.ones(3, 3)
        if lib is ember:
            x = x.to(device)
        return lib.gradient(x, spacing=[lib.arange(3.0, device=x.device), lib.arange(3.0, device="meta")], dim=(0, 1))

    _raises_like_torch(call, r"^torch.gradient expected each tensor to be on the same device, but got devices")


def test_histogramdd_bin_counts_of_another_length():
    # ember said "expected 6 sequences of bin edges" for bin counts; PyTorch has one message for counts and one for
    # edges
    _raises_like_torch(
        lambda lib: lib.histogramdd(lib.ones(5, 6), [1, 1, 1, 1, 1]),
        r"^histogramdd: The size of bins must be equal to the innermost dimension of the input\.$",
    )
    _raises_like_torch(
        lambda lib: lib.histogramdd(lib.ones(5, 6), [lib.arange(3.0)] * 5),
        r"^torch.histogramdd: expected 6 sequences of bin edges for a 6-dimensional histogram but got 5$",
    )


def test_mean_message_names_the_dtype_argument():
    _raises_like_torch(
        lambda lib: lib.mean(lib.ones(3, 4), dtype=lib.int64),
        r"^mean\(\): could not infer output dtype. Optional dtype must be either a floating point or complex dtype. "
        r"Got: Long$",
    )
    _raises_like_torch(lambda lib: lib.mean(lib.arange(3)), r"Input dtype must be either a floating point")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"stride": 0}, r"^max_pool1d\(\) stride must be greater than zero, but got 0$"),
        ({"stride": -1}, r"^max_pool1d\(\) stride must be greater than zero, but got -1$"),
        ({"dilation": 0}, r"^max_pool1d\(\) dilation must be greater than zero, but got 0$"),
        ({"padding": -1}, r"^max_pool1d\(\) padding must be non-negative, but got -1$"),
        ({"dilation": 3, "stride": 1}, r"^max_pool1d\(\) Invalid computed output size: -1$"),
    ],
)
def test_max_pool1d_messages(kwargs, match):
    # ember said "stride should not be zero", "dilation must be greater than zero, but got (0,)", "pad should be at
    # most half of effective kernel size" and "Given input size: (2x2). Calculated output size ..."
    size = 2 if "dilation" in kwargs and kwargs["dilation"] == 3 else 4
    _raises_like_torch(lambda lib: (F if lib is torch else EF).max_pool1d(lib.ones(1, 2, size), 2, **kwargs), match)


@pytest.mark.parametrize("fn", ["avg_pool1d", "max_pool2d", "avg_pool2d", "max_pool3d", "avg_pool3d"])
def test_pool_negative_padding_and_stride_messages(fn):
    nd = int(fn[-2])
    x = (1, 2) + (4,) * nd
    _raises_like_torch(
        lambda lib: getattr(F if lib is torch else EF, fn)(lib.ones(x), 2, padding=-1),
        r"pad must be non-negative, but got pad: -1$",
    )
    _raises_like_torch(
        lambda lib: getattr(F if lib is torch else EF, fn)(lib.ones(x), 2, stride=-1),
        r"stride should be greater than zero",
    )
    _raises_like_torch(
        lambda lib: getattr(F if lib is torch else EF, fn)(lib.ones(x), 2, stride=0), r"^stride should not be zero$"
    )


def test_pool_input_shape_message_allows_an_empty_batch():
    _raises_like_torch(
        lambda lib: (F if lib is torch else EF).max_pool2d(lib.ones(1, 0, 10), 2),
        r"Expected 3D or 4D \(batch mode\) tensor with optional 0 dim batch size for input",
    )


@pytest.mark.parametrize("fn", ["triplet_margin_loss", "triplet_margin_with_distance_loss"])
def test_triplet_margin_message(fn):
    _raises_like_torch(
        lambda lib: getattr(F if lib is torch else EF, fn)(lib.ones(3, 2), lib.ones(3, 2), lib.ones(3, 2), margin=-1.0),
        r"margin must be greater than 0, got -1.0$",
    )


@pytest.mark.parametrize("fn", ["scatter", "scatter_add"])
def test_scatter_index_dims_message_names_self(fn):
    _raises_like_torch(
        lambda lib: getattr(lib, fn)(lib.ones(2, 2), 1, lib.zeros(2, dtype=lib.int64), lib.ones(2, 2)),
        r"^Index tensor must have the same number of dimensions as self tensor$",
    )
    _raises_like_torch(
        lambda lib: lib.gather(lib.ones(2, 2), 1, lib.zeros(2, dtype=lib.int64)),
        r"^Index tensor must have the same number of dimensions as input tensor$",
    )


# -- sparse error inputs (the compressed layouts ember has) ------------------------------------------------

_SPARSE_LAYOUTS = ("sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc")


def _ember_sparse(t):
    """The ember copy of a torch sparse compressed tensor (its values through dense, its blocks kept)."""
    if not isinstance(t, torch.Tensor):
        return t
    dense = ember.tensor(t.to_dense().numpy())
    layout = str(t.layout).split(".")[-1]
    if layout in ("sparse_bsr", "sparse_bsc"):
        return getattr(dense, "to_" + layout)(tuple(t.values().shape[1:3]), dense_dim=t.dense_dim())
    return getattr(dense, "to_" + layout)(dense_dim=t.dense_dim())


SPARSE_OPS = {
    _op_name(op): op
    for op in op_db
    if getattr(op, "error_inputs_sparse_func", None) is not None and _callable(_op_name(op))
}


#: (op, layout) -> what ember does where PyTorch raises (a known difference, kept visible as a strict xfail)


@pytest.mark.parametrize("layout", _SPARSE_LAYOUTS)
@pytest.mark.parametrize("name", sorted(SPARSE_OPS))
def test_opinfo_sparse_error_inputs_raise_like_torch(name, layout):
    # ember summed over a dimension of CSC/BSR/BSC (and ember.sum itself failed on any sparse tensor with
    # "'SparseCompressedTensor' object has no attribute '_data'"); PyTorch sums over a dimension of CSR only
    op, fn = SPARSE_OPS[name], _callable(name)
    checked = 0
    for error in op.error_inputs_sparse("cpu", getattr(torch, layout)):
        sample = error.sample_input
        try:
            input, args = _ember_sparse(sample.input), [_ember_sparse(a) for a in sample.args]
        except NotImplementedError:  # batch dimensions: ember's compressed tensors have none
            continue
        expected = _torch_error(op, sample)
        if not isinstance(expected, error.error_type):
            continue
        with pytest.raises(error.error_type) as info:
            fn(input, *args, **sample.kwargs)
        assert re.search(error.error_regex, str(info.value)), (error.error_regex, str(info.value))
        checked += 1
    if not checked:
        pytest.skip(f"no sparse error input of {name} in {layout} to check")


@pytest.mark.parametrize("layout", ["sparse_coo", "sparse_csr"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"dtype": "float64"},
        {"dim": 0},
        {"dim": 1, "keepdim": True},
        {"dim": (0, 1), "keepdim": True},
        {"dim": -1, "keepdim": True},
    ],
)
def test_sum_of_a_sparse_tensor(layout, kwargs):
    # ember.sum(sparse) failed with AttributeError "... has no attribute '_data'"; PyTorch sums it (a COO over a
    # dim gives a COO, with keepdim too, over every dim a dense tensor; a CSR keeps its layout with keepdim=True
    # and refuses keepdim=False)
    x = torch.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    t_kwargs = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    e_kwargs = {k: getattr(ember, v) if k == "dtype" else v for k, v in kwargs.items()}
    to = "to_sparse" if layout == "sparse_coo" else "to_" + layout
    if layout == "sparse_csr" and "dim" in kwargs and not kwargs.get("keepdim"):
        _raises_like_torch(
            lambda lib: lib.sum(getattr(lib.tensor(x.numpy()), to)(), **(t_kwargs if lib is torch else e_kwargs))
        )
        return
    expected = torch.sum(getattr(x, to)(), **t_kwargs)
    actual = ember.sum(getattr(ember.tensor(x.numpy()), to)(), **e_kwargs)
    assert str(actual.layout).split(".")[-1] == str(expected.layout).split(".")[-1]
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    dense = expected.to_dense() if expected.layout != torch.strided else expected
    actual_dense = actual.to_dense() if actual.layout != ember.strided else actual
    assert actual_dense.tolist() == dense.tolist()
