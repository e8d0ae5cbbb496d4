"""Differences from PyTorch found by the round-9 public programs (tests/test_public_programs_9.py), each
checked against torch on its own."""

from __future__ import annotations

import numpy as np
import pytest
from test_fused_multiply_add import _exact
from test_reduced_precision import _holds

import ember
from ember.ops._std_select import follows_cpu_kernels

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
BASE = RNG.standard_normal((7, 64)) * 0.06
OTHER = RNG.standard_normal((7, 64))

PAIRS = [
    ("float64", "bfloat16"),
    ("float32", "bfloat16"),
    ("float32", "float16"),
    ("float64", "float32"),
    ("float32", "float64"),
    ("bfloat16", "float32"),
    ("float32", "int64"),
]


def _pair(lib, base_dtype, other_dtype, device="cpu"):
    base = lib.tensor(BASE, dtype=getattr(lib, base_dtype), device=device)
    other = lib.tensor(OTHER * (7 if other_dtype == "int64" else 1), device=device).to(getattr(lib, other_dtype))
    return base, other


def _bits(t):
    return t.detach().cpu().float().numpy() if t.dtype in (torch.bfloat16, ember.bfloat16) else t.detach().cpu().numpy()


@pytest.mark.parametrize("base_dtype, other_dtype", PAIRS)
@pytest.mark.parametrize("call", ["add", "sub", "add_", "sub_", "method", "addcmul", "addcmul_"])
def test_add_with_alpha_of_mixed_dtypes_rounds_once_as_torch(device, base_dtype, other_dtype, call):
    """``param.add_(bfloat16_update, alpha=-lr)`` (Muon, mixed-precision optimizers): PyTorch casts both
    operands to the result type and computes ``input + alpha * other`` as one fused multiply-add; ember
    rounded the product first (a unit in the last place in a third of the elements)."""
    backend = ember.backends.get_backend(device)
    if "float64" in (base_dtype, other_dtype) and not backend.supports_float64:
        pytest.skip(f"{device} has no float64")
    for narrow in {"bfloat16", "float16"} & {base_dtype, other_dtype}:
        if not _holds(device, narrow):
            pytest.skip(f"{device} cannot hold {narrow}")

    def run(lib, dev):
        base, other = _pair(lib, base_dtype, other_dtype, dev)
        if call == "add":
            return lib.add(base, other, alpha=-0.064)
        if call == "sub":
            return lib.sub(base, other, alpha=0.3)
        if call == "method":
            return base.add(other[:1], alpha=1.7)  # broadcast
        if call == "addcmul":
            return lib.addcmul(base, other, other.flip(0), value=0.3)
        if call == "addcmul_":
            return base.addcmul_(other, other, value=-0.01)
        getattr(base, call)(other, alpha=-0.064 if call == "add_" else 0.3)
        return base

    expected, actual = run(torch, "cpu"), run(ember, device)
    assert str(actual.dtype).rpartition(".")[2] == str(expected.dtype).rpartition(".")[2]
    computed_in = "float64" if "float64" in (base_dtype, other_dtype) else "float32"
    if _exact(device, computed_in):
        np.testing.assert_array_equal(_bits(actual), _bits(expected))
    else:  # a fused multiply-add of this type is PyTorch's within rounding there (test_fused_multiply_add)
        wide = computed_in == "float64"
        np.testing.assert_allclose(
            _bits(actual), _bits(expected), rtol=1e-14 if wide else 1e-6, atol=1e-16 if wide else 1e-7
        )


@pytest.mark.parametrize(
    "base_dtype, other_dtype", [("float32", "float64"), ("float64", "float32"), ("float32", "bfloat16")]
)
def test_add_with_alpha_of_mixed_dtypes_gives_gradients_in_each_dtype_as_torch(base_dtype, other_dtype):
    results = []
    for lib in (torch, ember):
        base, other = _pair(lib, base_dtype, other_dtype)
        base.requires_grad_()
        other.requires_grad_()
        out = lib.sub(base, other, alpha=0.5)
        (out * out).sum().backward()
        results.append([out, base.grad, other.grad])
    for expected, actual in zip(*results):
        assert str(actual.dtype).rpartition(".")[2] == str(expected.dtype).rpartition(".")[2]
        np.testing.assert_allclose(_bits(actual), _bits(expected), rtol=1e-6, atol=1e-7)


def _tied(dtype, shape, seed=1):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 5, shape).astype(np.float64)
    if dtype in ("float32", "float64", "bfloat16"):
        values[rng.random(shape) < 0.05] = np.nan
        values[rng.random(shape) < 0.05] = -0.0
    return values


def _host_numbers(t):
    return t.detach().cpu().float().numpy() if t.is_floating_point() else t.detach().cpu().numpy()


def _assert_a_valid_choice(x, dim, values, indices, expected_values, ordered=True):
    """Off the host backends ember keeps its stable order among equal elements (PyTorch's accelerator
    kernels have orders of their own, and its CPU kernels are not the reference there): the values are
    PyTorch's (per row as a set where not ``ordered``) and the indices point at them."""
    if indices.dim() < x.dim():
        values, indices, expected_values = values.unsqueeze(dim), indices.unsqueeze(dim), expected_values.unsqueeze(dim)
    np.testing.assert_array_equal(_host_numbers(x.gather(dim, indices)), _host_numbers(values))
    if not ordered:
        values, expected_values = values.sort(dim).values, expected_values.sort(dim).values
    np.testing.assert_array_equal(_host_numbers(values), _host_numbers(expected_values))  # -0.0 and 0.0 tie


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "int64"])
@pytest.mark.parametrize(
    "n, k, dim",
    [(7, 3, -1), (64, 1, -1), (200, 3, -1), (200, 150, -1), (40, 40, -1), (30, 6, 0), (2000, 20, -1)],
)
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("sorted", [True, False])
def test_topk_takes_and_orders_equal_elements_as_torch(device, dtype, n, k, dim, largest, sorted):  # noqa: A002
    """build-nanogpt samples from ``topk`` of bfloat16 probabilities under autocast, where many are equal:
    PyTorch's CPU kernel selects with ``std::partial_sort`` (``64 * k <= n``) or ``std::nth_element`` (then
    ``std::sort`` of the first ``k - 1``), neither stable; ember's stable sort took other tokens among the
    equal ones, and the sampled text differed."""
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    if dtype == "bfloat16" and not _holds(device, "bfloat16"):
        pytest.skip(f"{device} cannot hold bfloat16")
    shape = (n, 4) if dim == 0 else (3, n)
    values = _tied(dtype, shape)
    expected = torch.topk(torch.tensor(values).to(getattr(torch, dtype)), k, dim, largest, sorted)
    x = ember.tensor(values, device=device).to(getattr(ember, dtype))
    actual = ember.topk(x, k, dim, largest, sorted)
    if not follows_cpu_kernels(x):
        _assert_a_valid_choice(x, dim, actual.values, actual.indices, expected.values, ordered=sorted)
        return
    assert actual.indices.tolist() == expected.indices.tolist()
    np.testing.assert_array_equal(_bits(actual.values), _bits(expected.values))


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize(
    "shape, k, dim", [((100,), 5, 0), ((100,), 60, 0), ((10,), 3, 0), ((4, 30), 7, 1), ((30, 4), 7, 0)]
)
def test_unsorted_topk_returns_torchs_order(device, shape, k, dim, largest):
    """``sorted=False`` with ``64 * k > n``: PyTorch returns the ``k`` elements in the order
    ``std::nth_element`` leaves them, distinct values or not; ember returned them sorted."""
    values = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    expected = torch.topk(torch.tensor(values), k, dim, largest, sorted=False)
    x = ember.tensor(values, device=device, requires_grad=True)
    actual = ember.topk(x, k, dim, largest, sorted=False)
    if not follows_cpu_kernels(x):
        _assert_a_valid_choice(x, dim, actual.values, actual.indices, expected.values, ordered=False)
        return
    assert actual.indices.tolist() == expected.indices.tolist()
    np.testing.assert_array_equal(actual.values.detach().cpu().numpy(), expected.values.numpy())
    actual.values.sum().backward()
    assert x.grad.sum().item() == expected.values.numel()


def test_topk_of_tied_values_passes_gradients_to_torchs_choice():
    values = _tied("float32", (2, 100), seed=3)
    grads = []
    for lib in (torch, ember):
        x = lib.tensor(values, dtype=lib.float32, requires_grad=True)
        top = lib.topk(lib.nan_to_num(x, nan=9.0), 5)
        (top.values * lib.arange(1.0, 6.0)).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "int64", "bool"])
@pytest.mark.parametrize("shape, dim", [((3, 7), -1), ((2, 40), -1), ((300,), 0), ((25, 3), 0), ((8000,), 0)])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("call", ["sort", "argsort", "stable"])
def test_sort_orders_equal_elements_as_torch(device, dtype, shape, dim, descending, call):
    """Llama's ``sample_top_p`` sorts bfloat16 probabilities (many equal) and samples in that order:
    PyTorch's CPU ``sort(stable=False)`` runs ``std::sort`` (not stable; a radix sort, stable, for a long
    1-D integer tensor ascending), ember's stable sort ordered equal elements by position."""
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    if dtype == "bfloat16" and not _holds(device, "bfloat16"):
        pytest.skip(f"{device} cannot hold bfloat16")
    values = _tied("float32" if dtype == "bfloat16" else dtype, shape, seed=2)
    if dtype == "bool":
        values = values > 2

    def run(lib, dev):
        x = lib.tensor(values, device=dev).to(getattr(lib, dtype))
        if call == "argsort":
            return [x.argsort(dim, descending=descending)]
        result = lib.sort(x, dim=dim, descending=descending, stable=call == "stable")
        return [result.indices, result.values]

    expected, actual = run(torch, "cpu"), run(ember, device)
    x = ember.tensor(values, device=device).to(getattr(ember, dtype))
    if call != "stable" and not follows_cpu_kernels(x):
        sorted_values = actual[1] if call == "sort" else x.gather(dim, actual[0])
        want = torch.tensor(values).to(getattr(torch, dtype)).sort(dim, descending).values
        _assert_a_valid_choice(x, dim, sorted_values, actual[0], want)
        return
    for want, got in zip(expected, actual):
        np.testing.assert_array_equal(_bits(got), _bits(want))


@pytest.mark.parametrize("dtype, descending", [("int64", False), ("int64", True), ("float32", False)])
def test_long_sorts_with_ties_are_valid_and_follow_torch_where_it_is_stable(device, dtype, descending):
    """Beyond ``TIED_ELEMENTS_LIMIT`` ember keeps its stable order (working out ``std::sort``'s on the host
    would take seconds): the values are PyTorch's and the indices sort the input; a long 1-D integer
    tensor in ascending order is PyTorch's radix sort, stable, so the indices are PyTorch's too."""
    values = _tied(dtype, (40000,), seed=4)
    expected = torch.sort(torch.tensor(values).to(getattr(torch, dtype)), descending=descending)
    x = ember.tensor(values, device=device).to(getattr(ember, dtype))
    actual = ember.sort(x, descending=descending)
    np.testing.assert_array_equal(actual.values.cpu().numpy(), expected.values.numpy())  # -0.0 and 0.0 tie
    np.testing.assert_array_equal(x[actual.indices].cpu().numpy(), expected.values.numpy())
    assert sorted(actual.indices.tolist()) == list(range(40000))
    if dtype == "int64" and not descending:
        np.testing.assert_array_equal(_bits(actual.indices), _bits(expected.indices))


def test_sort_of_an_expanded_dimension_keeps_the_positions_as_torch():
    expected = torch.tensor([1.0]).expand(5).sort(descending=True).indices
    assert ember.tensor([1.0]).expand(5).sort(descending=True).indices.tolist() == expected.tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("shape, dim", [((4, 9), -1), ((3, 120), 1), ((50, 2), 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue_and_mode_give_torchs_position_among_equal_elements(device, dtype, shape, dim, keepdim):
    """PyTorch's CPU ``kthvalue`` finds the element by TH's quickselect and ``mode`` sorts with ``std::sort``;
    neither is stable, and of equal elements they return another position than the first or last."""
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    values = np.random.default_rng(4).integers(0, 4, shape).astype(np.float64)
    n = shape[dim]
    x = ember.tensor(values, device=device).to(getattr(ember, dtype))
    source = torch.tensor(values).to(getattr(torch, dtype))
    results = [(torch.kthvalue(source, k, dim, keepdim), ember.kthvalue(x, k, dim, keepdim)) for k in {1, n // 2, n}]
    results.append((torch.mode(source, dim, keepdim), ember.mode(x, dim, keepdim)))
    for expected, actual in results:
        if follows_cpu_kernels(x):
            assert actual.indices.tolist() == expected.indices.tolist()
            assert actual.values.tolist() == expected.values.tolist()
        else:
            _assert_a_valid_choice(
                x, dim, actual.values, actual.indices, ember.tensor(expected.values.numpy()).to(x.device)
            )


def test_kthvalue_with_nan_among_equal_elements_as_torch():
    values = np.array([[np.nan, 1.0, np.nan, 1.0, 0.0, np.nan, 1.0] * 3])
    for k in range(1, 22):
        expected = torch.kthvalue(torch.tensor(values), k)
        actual = ember.kthvalue(ember.tensor(values), k)
        assert actual.indices.tolist() == expected.indices.tolist(), k
