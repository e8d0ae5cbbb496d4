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
