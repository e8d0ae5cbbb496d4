"""What changed where max/min/median/nanmedian came to share one front (``_with_dim_overloads``) and median and
nanmedian one body (``_median_of``), against PyTorch: nanmedian refuses the dtypes PyTorch has no median kernel
for, the all-elements overloads of median and nanmedian take no ``out=``; the results, gradients and nodes of
the four ops, and of amax/amin, as PyTorch's."""

import pytest
from against_torch import same_error

import ember

torch = pytest.importorskip("torch")


def _on(lib, device):
    """``device`` for ember, PyTorch's CPU for torch."""
    return device if lib is ember else "cpu"


@pytest.mark.parametrize("name", ["median", "nanmedian"])
@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64"])
@pytest.mark.parametrize("with_dim", [False, True])
def test_median_refuses_limited_dtypes(device, name, dtype, with_dim):
    try:
        ember.backends.get_backend(device).native_dtype(getattr(ember, dtype))
    except TypeError as exc:  # (the opencl backend has no unsigned types wider than a byte)
        pytest.skip(str(exc))

    def call(lib, device):
        x = lib.ones(3, device=_on(lib, device), dtype=getattr(lib, dtype))
        return getattr(lib, name)(x, 0) if with_dim else getattr(lib, name)(x)

    same_error(call, device)


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_all_elements_takes_no_out(device, name):
    same_error(
        lambda lib, device: getattr(lib, name)(
            lib.ones(3, device=_on(lib, device)), out=lib.zeros((), device=_on(lib, device))
        ),
        device,
    )


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_of_all_elements_takes_out(device, name):
    got, expected = ember.zeros((), dtype=ember.float64, device=device), torch.zeros((), dtype=torch.float64)
    getattr(ember, name)(ember.tensor([1.0, 3.0, 2.0], device=device), out=got)
    getattr(torch, name)(torch.tensor([1.0, 3.0, 2.0]), out=expected)
    assert got.dtype == ember.float64 and got.item() == expected.item()


VALUES = [[1.0, 4.0, float("nan"), 4.0], [2.0, 2.0, 0.5, -1.0], [3.0, 3.0, 3.0, 7.0]]
CALLS = [
    ("max", ()), ("max", (1,)), ("max", (0, True)), ("min", ()), ("min", (-1,)), ("min", (1, True)),
    ("median", ()), ("median", (1,)), ("median", (0, True)), ("nanmedian", ()), ("nanmedian", (1,)),
    ("nanmedian", (0, True)), ("amax", ()), ("amax", ((0, 1),)), ("amax", (1, True)), ("amin", ()),
    ("amin", (0,)), ("amin", (-1, True)),
]  # fmt: skip


@pytest.mark.parametrize("name,args", CALLS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_results_gradients_and_nodes(device, name, args, dtype):
    results = {}
    for lib in (ember, torch):
        kwargs = {"device": device} if lib is ember else {}
        if lib is ember and dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
            pytest.skip(f"{device} has no float64")
        x = lib.tensor(VALUES, dtype=getattr(lib, dtype), requires_grad=True, **kwargs)
        out = getattr(lib, name)(x, *args)
        values = out if isinstance(out, lib.Tensor) else out[0]
        indices = None if isinstance(out, lib.Tensor) else out[1].tolist()
        values.nan_to_num().sum().backward()
        results[lib] = (values.tolist(), indices, x.grad.tolist(), type(values.grad_fn).__name__, str(values.dtype))
    got, expected = results[ember], results[torch]
    assert str(got[:4]) == str(expected[:4])  # NaNs compare by their spelling
    assert got[4].split(".")[1] == expected[4].split(".")[1]


@pytest.mark.parametrize("name", ["amax", "amin", "median", "nanmedian", "max", "min"])
def test_errors(device, name):
    same_error(lambda lib, device: getattr(lib, name)(lib.ones(2, 0, device=_on(lib, device)), 1), device)
    same_error(lambda lib, device: getattr(lib, name)([1.0, 2.0], 0), device)


@pytest.mark.parametrize("name", ["amax", "amin", "median", "nanmedian", "max", "min"])
def test_complex_refused(name):
    same_error(lambda lib: getattr(lib, name)(lib.ones(2, dtype=lib.complex64), 0))


def _profiled_cases(T):
    F = T.nn.functional
    x, y, w, b = T.ones(2, 3), T.ones(3, 4), T.ones(5, 3), T.ones(5)
    image, kernel, bias = T.ones(1, 2, 5, 5), T.ones(3, 2, 3, 3), T.ones(3)
    return {
        "sum()": lambda: x.sum(),
        "sum(dim)": lambda: x.sum(1),
        "sum(dims, keepdim)": lambda: T.sum(x, (0, 1), True),
        "sum(dtype)": lambda: x.sum(dtype=T.float64),
        "mean()": lambda: x.mean(),
        "mean(dim)": lambda: x.mean(1),
        "add": lambda: x + x,
        "add(alpha)": lambda: T.add(x, x, alpha=2),
        "add number": lambda: x + 1,
        "add_": lambda: x.clone().add_(x),
        "mm": lambda: T.mm(x, y),
        "matmul": lambda: x @ y,
        "conv2d": lambda: F.conv2d(image, kernel),
        "conv2d(bias, padding)": lambda: F.conv2d(image, kernel, bias, padding=1),
        "conv2d(keywords)": lambda: F.conv2d(input=image, weight=kernel, stride=2),
        "linear": lambda: F.linear(x, w, b),
        "linear without bias": lambda: F.linear(x, w),
        "amax": lambda: T.amax(x, 1),
        "max()": lambda: x.max(),
        "median()": lambda: x.median(),
        "relu": lambda: F.relu(x),
        "softmax": lambda: F.softmax(x, 1),
        "view": lambda: x.view(3, 2),
        "reshape(sizes)": lambda: x.t().reshape(2, 3),
        "squeeze(dim)": lambda: x.unsqueeze(0).squeeze(0),
        "squeeze()": lambda: x.unsqueeze(0).squeeze(),
    }


@pytest.mark.parametrize("case", list(_profiled_cases(ember)))
def test_profiler_records_the_inputs_of_torchs_schema(case):
    """Each event ember records for the op has the input shapes of PyTorch's event of that name (each records
    events of its own inside: PyTorch its kernels', ember the flattening of median's input)."""
    recorded = {}
    for T in (ember, torch):
        fn = _profiled_cases(T)[case]
        with T.profiler.profile(record_shapes=True) as prof:
            fn()
        recorded[T] = {}
        for average in prof.key_averages(group_by_input_shape=True):
            recorded[T].setdefault(average.key, average.input_shapes)
    compared = [name for name in recorded[ember] if name in recorded[torch] and (case, name) != ("mm", "aten::matmul")]
    assert compared  # (ember's torch.mm also records the aten::matmul its Function is named by, PyTorch's does not)
    for name in compared:
        if name in ("aten::ones", "aten::clone", "aten::to", "aten::_to_copy"):  # made outside the op measured
            continue
        assert recorded[ember][name] == recorded[torch][name], name
