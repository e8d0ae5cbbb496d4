"""Printing as PyTorch prints, checked against PyTorch on every test device: bool tensors,
empty tensors, the ``set_printoptions`` profiles and the named tuples of multi-result ops."""

import pytest

import ember

torch = pytest.importorskip("torch")


def _host(value):
    """``value`` (a tensor or a named tuple of tensors) on the CPU: a device suffix changes where
    PyTorch wraps the line, and PyTorch has no such device to compare with."""
    if isinstance(value, tuple):
        return type(value)(*(t.cpu() for t in value))
    return value.cpu()


def _same_text(render, actual, expected, device):
    """``render(actual)`` (ember's) equals ``render(expected)`` (PyTorch's) up to the module name."""
    if device != "cpu":
        assert f"device='{ember.device(device)}'" in render(actual)
        actual = _host(actual)
    assert render(actual) == render(expected).replace("torch.", "ember.")


BOOLS = {
    "all_true": [True, True],
    "all_false": [False, False, False],
    "mixed": [True, False],
    "one_false": [False],
    "two_d_mixed": [[True, False], [False, False]],
    "two_d_true": [[True, True], [True, True]],
    "three_d": [[[True], [False]], [[True], [True]]],
    "zero_d_true": True,
    "zero_d_false": False,
}


@pytest.mark.parametrize("name", list(BOOLS))
def test_bool_tensors_print_as_pytorch(name, device):
    values = BOOLS[name]
    actual, expected = ember.tensor(values, device=device), torch.tensor(values)
    _same_text(repr, actual, expected, device)
    _same_text(str, actual, expected, device)


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3)])
@pytest.mark.parametrize("dtype", ["bool", "int64", "int32", "float32", "float64"])
def test_empty_tensors_show_every_non_default_dtype(shape, dtype, device):
    actual = ember.zeros(shape, dtype=getattr(ember, dtype), device=device)
    _same_text(repr, actual, torch.zeros(shape, dtype=getattr(torch, dtype)), device)


@pytest.mark.parametrize("case", ["false_in_middle", "true_edges"])
def test_summarized_bool_columns_are_sized_from_the_shown_elements(case, device):
    values = [True] * 2000
    values[1000] = False  # hidden by the summary: PyTorch pads to 4 (True) when every shown value is True
    if case == "true_edges":
        values[0] = False
    _same_text(repr, ember.tensor(values, device=device), torch.tensor(values), device)


@pytest.fixture
def restore_printoptions():
    yield
    ember.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize("profile", ["short", "full", "default"])
@pytest.mark.parametrize("values", ["floats", "long_floats", "ints"])
def test_printoptions_profiles(profile, values, device, dtype, restore_printoptions):
    data = {
        "floats": [[1.23456789, -2.5, 3.0], [1e-3, 4.0, 5.0]],
        "long_floats": [i / 7 for i in range(1200)],
        "ints": list(range(1500)),
    }[values]
    ember.set_printoptions(precision=7, edgeitems=1)  # a profile resets these
    torch.set_printoptions(precision=7, edgeitems=1)
    ember.set_printoptions(profile=profile)
    torch.set_printoptions(profile=profile)
    if values == "ints":
        actual, expected = ember.tensor(data, device=device), torch.tensor(data)
    else:
        actual, expected = (
            ember.tensor(data, dtype=dtype, device=device),
            torch.tensor(data, dtype=getattr(torch, str(dtype).split(".")[-1])),
        )
    _same_text(repr, actual, expected, device)


def test_printoptions_profile_then_explicit_option(device, restore_printoptions):
    ember.set_printoptions(profile="short", precision=3)
    torch.set_printoptions(profile="short", precision=3)
    data = [0.123456, 2.5]
    _same_text(repr, ember.tensor(data, device=device), torch.tensor(data), device)


MULTI_RESULTS = {
    "max": lambda T, x: T.max(x, 1),
    "max_keepdim": lambda T, x: x.max(0, keepdim=True),
    "min": lambda T, x: T.min(x, 0),
    "sort": lambda T, x: T.sort(x, 1, descending=True),
    "topk": lambda T, x: T.topk(x, 2),
    "kthvalue": lambda T, x: T.kthvalue(x, 2, 1),
    "median": lambda T, x: T.median(x, 1),
    "aminmax": lambda T, x: T.aminmax(x),
    "aminmax_dim": lambda T, x: T.aminmax(x, dim=0),
    "cummax": lambda T, x: T.cummax(x, 1),
    "cummin": lambda T, x: T.cummin(x, 0),
    "max_0d": lambda T, x: T.max(x[0, 0], 0),
}


@pytest.mark.parametrize("name", list(MULTI_RESULTS))
def test_named_tuple_results_print_as_pytorch(name, device, dtype):
    data = [[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]]
    fn = MULTI_RESULTS[name]
    actual = fn(ember, ember.tensor(data, dtype=dtype, device=device))
    expected = fn(torch, torch.tensor(data, dtype=getattr(torch, str(dtype).split(".")[-1])))
    _same_text(repr, actual, expected, device)
    _same_text(str, actual, expected, device)


# (print options, values) printed by both: line wrapping, summaries, number formats
LAYOUTS = {
    "wide_rows": ({}, lambda T: (T.arange(60.0) / 7).reshape(2, 30)),
    "summarized_3d": ({}, lambda T: T.arange(3000.0).reshape(10, 10, 30)),
    "summarized_wide_ints": ({}, lambda T: T.arange(5000).reshape(50, 100)),
    "wide_sci_2d": ({"linewidth": 40}, lambda T: T.arange(30.0).reshape(2, 15) * 1e-6),
    "narrow_line": ({"linewidth": 10}, lambda T: T.arange(5.0) / 3),
    "no_edge_items_1d": ({"edgeitems": 0, "threshold": 5}, lambda T: T.arange(10.0)),
    "no_edge_items_2d": ({"edgeitems": 0, "threshold": 5}, lambda T: T.arange(20.0).reshape(4, 5)),
    "one_edge_item_3d": ({"edgeitems": 1, "threshold": 5}, lambda T: T.arange(60.0).reshape(3, 4, 5)),
    "forced_sci": ({"sci_mode": True}, lambda T: T.tensor([1.5, 2.0])),
    "forced_sci_integral": ({"sci_mode": True}, lambda T: T.tensor([1.0, 2.0])),
    "forced_sci_zeros": ({"sci_mode": True}, lambda T: T.tensor([0.0, 0.0])),
    "forbidden_sci": ({"sci_mode": False}, lambda T: T.tensor([1e-8, 1.5])),
    "precision_0": ({"precision": 0}, lambda T: T.tensor([1.5, 2.25])),
    "mixed_magnitudes": ({}, lambda T: T.tensor([[1e-8, 1.0], [100.0, 3.5]])),
    "nonfinite": ({}, lambda T: T.tensor([float("nan"), 1.5, float("inf"), -float("inf")])),
    "nonfinite_sci": ({}, lambda T: T.tensor([float("-inf"), 1e-9])),
    "negative_zero": ({}, lambda T: T.tensor([-0.0, 1.5])),
    "huge_ints": ({}, lambda T: T.tensor([-(2**63), 2**63 - 1])),
    "complex_rows": ({}, lambda T: T.tensor([[1 + 2j, 3.5 - 1e-3j]] * 20)),
    "complex_sci": ({}, lambda T: T.tensor([1e20 + 1j, 1j])),
    "complex_summarized": ({}, lambda T: T.tensor([2000 * [1 + 1j]])),
    "half": ({}, lambda T: T.tensor([65504.0, 1.0]).half()),
    "bfloat16": ({}, lambda T: T.tensor([1 / 3, 2.0]).bfloat16()),
    "grad_fn_after_wrap": ({"linewidth": 30}, lambda T: T.arange(10.0).requires_grad_() * 2),
    "second_suffix_after_wrap": ({"linewidth": 50}, lambda T: T.arange(6.0, dtype=T.float64).requires_grad_() * 2),
    "suffixes_after_wrap": ({}, lambda T: T.arange(40.0).reshape(2, 20).requires_grad_().mul(2).double()),
    "dtype_after_wrap": ({"linewidth": 30}, lambda T: T.arange(10, dtype=T.int32)),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_layouts_print_as_pytorch(name, device, restore_printoptions):
    options, build = LAYOUTS[name]
    ember.set_printoptions(**options)
    torch.set_printoptions(**options)
    actual, expected = build(ember), build(torch)
    if actual.grad_fn is None and device != "cpu":
        try:
            actual = actual.to(device)
        except TypeError:  # the backend does not hold the dtype
            pytest.skip(f"{device} has no {actual.dtype}")
    else:  # a device move would print another grad_fn
        device = "cpu"
    _same_text(repr, actual, expected, device)
    _same_text(str, actual, expected, device)


SPARSE = {
    "matrix": lambda T, d: T.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2), device=d),
    "ints": lambda T, d: T.sparse_coo_tensor([[0, 1], [1, 0]], [1, 2], (2, 2), dtype=T.int32, device=d),
    "empty": lambda T, d: T.sparse_coo_tensor(T.zeros(2, 0, dtype=T.int64), T.zeros(0), (2, 2), device=d),
    "dense_values": lambda T, d: T.sparse_coo_tensor([[0, 1]], [[1.0, 2.0], [3.0, 4.0]], (3, 2), device=d),
    "requires_grad": lambda T, d: T.sparse_coo_tensor([[0], [1]], [1.5], (2, 2), requires_grad=True, device=d),
    "wrapped_indices": lambda T, d: T.sparse_coo_tensor([list(range(30))] * 2, T.arange(30.0) / 7, (30, 30), device=d),
}


@pytest.mark.filterwarnings("ignore:Sparse invariant checks")
@pytest.mark.parametrize("name", list(SPARSE))
def test_sparse_coo_tensors_print_as_pytorch(name, device):
    """The indices and values are aligned under their own brackets, empty ones show their size, and
    the size, nnz, dtype and layout go on a line of their own."""
    actual = SPARSE[name](ember, device)
    text = repr(actual)
    if device != "cpu":
        assert f"device='{ember.device(device)}'" in text
        actual = SPARSE[name](ember, "cpu")
    assert repr(actual) == repr(SPARSE[name](torch, "cpu")).replace("torch.", "ember.")


SIZE_ARITHMETIC = {
    "size_plus_tuple": lambda S: S + (4,),
    "tuple_plus_size": lambda S: (4,) + S,
    "size_plus_size": lambda S: S + S,
    "size_times_int": lambda S: S * 2,
    "int_times_size": lambda S: 2 * S,
    "size_times_zero": lambda S: S * 0,
}


@pytest.mark.parametrize("name", list(SIZE_ARITHMETIC))
def test_size_arithmetic_prints_a_size(name):
    actual = SIZE_ARITHMETIC[name](ember.Size([2, 3]))
    expected = SIZE_ARITHMETIC[name](torch.Size([2, 3]))
    assert repr(actual) == repr(expected).replace("torch.", "ember.")


def test_size_concatenates_only_tuples():
    with pytest.raises(TypeError):
        ember.Size([2]) + [3]
    with pytest.raises(TypeError):
        [3] + ember.Size([2])


def _tagged(base):
    """A user's subclass of ``base``, named the same for ember and PyTorch."""

    class Tagged(base):
        pass

    return Tagged


def test_tensor_subclass_prints_its_name():
    for values in ([1.0, 2.0], [[1, 2], [3, 4]]):
        actual = ember.tensor(values).as_subclass(_tagged(ember.Tensor))
        expected = torch.tensor(values).as_subclass(_tagged(torch.Tensor))
        assert repr(actual) == repr(expected)
    actual = ember.tensor([1.0, 2.0], requires_grad=True).as_subclass(_tagged(ember.Tensor))
    expected = torch.tensor([1.0, 2.0], requires_grad=True).as_subclass(_tagged(torch.Tensor))
    assert repr(actual) == repr(expected)  # an alias of the tensor: grad_fn=<AliasBackward0>


def test_parameter_subclass_prints_inside_parameter():
    actual = _tagged(ember.nn.Parameter)(ember.tensor([1.0, 2.0]))
    assert repr(actual) == repr(_tagged(torch.nn.Parameter)(torch.tensor([1.0, 2.0])))
    assert repr(ember.nn.Parameter(ember.zeros(2))) == repr(torch.nn.Parameter(torch.zeros(2)))
    assert repr(ember.nn.Buffer(ember.zeros(2))) == repr(torch.nn.Buffer(torch.zeros(2)))


STORAGES = {
    "untyped": lambda T, d: T.tensor([1.0, 2.0], device=d).untyped_storage(),
    "untyped_empty": lambda T, d: T.zeros(0, device=d).untyped_storage(),
    "typed_float": lambda T, d: T.tensor([1.5, -2.0], device=d).storage(),
    "typed_int": lambda T, d: T.tensor([[1, 2], [3, 4]], dtype=T.int32, device=d).storage(),
    "typed_bool": lambda T, d: T.tensor([True, False], device=d).storage(),
}


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
@pytest.mark.parametrize("name", list(STORAGES))
def test_storages_print_as_pytorch(name, device):
    """Each element on a line of its own, then the storage's type, device and size."""
    expected = repr(STORAGES[name](torch, "cpu")).replace("torch.", "ember.")
    expected = expected.replace("device=cpu", f"device={ember.device(device)}")
    assert repr(STORAGES[name](ember, device)) == expected
    meta = STORAGES[name](ember, "meta")
    assert repr(meta) == repr(STORAGES[name](torch, "meta")).replace("torch.", "ember.")


def _node_text(T):
    """The repr of a user Function's node and of a built-in op's, addresses left out."""

    class Double(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = T.ones(2, requires_grad=True)
    nodes = (Double.apply(x).grad_fn, (x * 2).grad_fn)
    return [repr(node).rsplit(" at ", 1)[0] for node in nodes]


def test_autograd_nodes_print_as_pytorch():
    """A user Function's node is a Python class of the autograd.function module; a built-in op's is not."""
    assert _node_text(ember) == [text.replace("torch.", "ember.") for text in _node_text(torch)]


CONTENTS = {
    "values": lambda T: T.tensor([1.0, 2.0]),
    "requires_grad": lambda T: T.tensor([1.0, 2.0], requires_grad=True),
    "empty_int32": lambda T: T.zeros(0, 2, dtype=T.int32),
    "meta": lambda T: T.zeros(2, device="meta"),
}


@pytest.mark.parametrize("name", list(CONTENTS))
def test_repr_with_a_subclass_s_contents(name):
    """``Tensor.__repr__(tensor_contents=...)``: a subclass's text in place of the values, the suffixes kept."""
    actual = CONTENTS[name](ember).__repr__(tensor_contents="[a, b]")
    assert actual == CONTENTS[name](torch).__repr__(tensor_contents="[a, b]").replace("torch.", "ember.")
