"""ember.testing (assert_close, make_tensor), ember.amp.custom_fwd/custom_bwd/is_autocast_available
and ember.utils.data.ChainDataset/StackDataset against torch's: the same results, exception types
and messages."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.testing import assert_close, make_tensor
from ember.utils.data import ChainDataset, DataLoader, IterableDataset, StackDataset, TensorDataset

torch = pytest.importorskip("torch")


def _t(values, lib, dtype="float32", device="cpu"):
    if lib is torch:
        return torch.tensor(values, dtype=getattr(torch, dtype))
    if dtype == "bfloat16":  # ember.tensor(list, dtype=bfloat16) is not supported: made in float32 and cast
        return ember.tensor(values, device=device).to(ember.bfloat16)
    return ember.tensor(values, dtype=getattr(ember, dtype), device=device)


def _ember_spelling(message):
    return message.replace("torch.", "ember.")


CASES = [
    lambda lib, d: (_t([1.0, 2.0, 3.0], lib, device=d), _t([1.0, 2.5, 3.0], lib, device=d), {}),
    lambda lib, d: (_t([1, 2, 3], lib, "int64", d), _t([1, 4, 3], lib, "int64", d), {}),
    lambda lib, d: (_t([1.0, 2.0], lib, device=d), _t([1.0, 2.0, 3.0], lib, device=d), {}),
    lambda lib, d: (_t([1.0, 2.0], lib, device=d), _t([1.0, 2.0], lib, "float64", d), {}),
    lambda lib, d: (_t([1.0, 2.0], lib, device=d), _t([1.0, 2.0 + 1e-6], lib, "float64", d), {"check_dtype": False}),
    lambda lib, d: (_t([1.0, 2.0], lib, device=d), _t([1.0, 2.1], lib, "float64", d), {"check_dtype": False}),
    lambda lib, d: (1.0, 1.1, {}),
    lambda lib, d: (1, 2, {}),
    lambda lib, d: ([_t(1.0, lib, device=d)], [_t(2.0, lib, device=d)], {}),
    lambda lib, d: ({"a": _t(1.0, lib, device=d)}, {"a": _t(2.0, lib, device=d)}, {}),
    lambda lib, d: (_t([1.0], lib, device=d), 1.0, {}),
    lambda lib, d: (_t([1.0], lib, device=d), _t([1.0], lib, device=d), {"rtol": 1e-3}),
    lambda lib, d: (_t([float("nan")], lib, device=d), _t([float("nan")], lib, device=d), {}),
    lambda lib, d: (
        _t([float("nan"), 1.0], lib, device=d),
        _t([float("nan"), 1.0], lib, device=d),
        {"equal_nan": True},
    ),
    lambda lib, d: (_t([True], lib, "bool", d), _t([False], lib, "bool", d), {}),
    lambda lib, d: ([1, 2], [1], {}),
    lambda lib, d: (_t([1.0, 2.0], lib, device=d), _t([1.0, 3.0], lib, device=d), {"msg": "custom"}),
    lambda lib, d: (_t([[1.0, 2.0], [3, 4]], lib, device=d), _t([[1.0, 2.0], [3, 5]], lib, device=d), {}),
    lambda lib, d: (_t(1.0, lib, device=d), _t(2.0, lib, device=d), {}),
    lambda lib, d: (_t([1.0, float("inf")], lib, device=d), _t([1.0, 3.0], lib, device=d), {}),
    lambda lib, d: (_t([1.0, 2.0], lib, "float16", d), _t([1.0, 2.001], lib, "float16", d), {}),
    lambda lib, d: (_t([1.0, 2.0], lib, "bfloat16", d), _t([1.0, 2.0625], lib, "bfloat16", d), {}),
    lambda lib, d: (_t([1.0, 2.0], lib, device=d), _t([1.0, 2.05], lib, device=d), {"rtol": 0.1, "atol": 0.0}),
    lambda lib, d: (_t([0.0, 2.0], lib, device=d), _t([1.0, 2.0], lib, device=d), {"msg": lambda m: "wrapped: " + m}),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_assert_close_matches_torch(device, case):
    actual_t, expected_t, kwargs = CASES[case](torch, None)
    try:
        actual_e, expected_e, _ = CASES[case](ember, device)
    except TypeError as exc:  # bfloat16 on OpenCL
        pytest.skip(f"{device}: {exc}")
    try:
        torch.testing.assert_close(actual_t, expected_t, **kwargs)
    except Exception as exc:  # noqa: BLE001 - whichever torch raises, ember must raise the same
        with pytest.raises(type(exc)) as got:
            assert_close(actual_e, expected_e, **kwargs)
        message = str(got.value).replace("<class 'ember.tensor.Tensor'>", "<class 'torch.Tensor'>")
        assert message == str(exc).replace("torch.", "ember.").replace(
            "<class 'ember.Tensor'>", "<class 'torch.Tensor'>"
        )
    else:
        assert_close(actual_e, expected_e, **kwargs)


def test_assert_close_device_check():
    a, b = ember.tensor([1.0]), ember.tensor([1.0], device="restricted")
    with pytest.raises(AssertionError, match="The values for attribute 'device' do not match: cpu != restricted"):
        assert_close(a, b)
    assert_close(a, b, check_device=False)


@pytest.mark.parametrize(
    "actual, expected, kwargs",
    [
        ([1.0, 2.0], [1.0, 2.0001], {}),  # float32's rtol 1e-4 passes it (assert_close's would not)
        ([1.0, 2.0], [1.0, 2.01], {}),
        ([1.0, float("nan")], [1.0, float("nan")], {}),  # NaNs equal by default
        ([1.0, float("nan")], [1.0, float("nan")], {"equal_nan": False}),
        ([1, 2], [1.0, 2.0], {}),  # expected in actual's dtype
        ([1.0], [1.5], {"rtol": 0.5, "atol": 0.0}),
        ([1.0], [1.5], {"rtol": 0.5}),  # one tolerance alone: ValueError
        ([1.0], [2.0], {"msg": "custom"}),
    ],
)
def test_deprecated_assert_allclose_matches_torch(actual, expected, kwargs):
    results = []
    for module in (torch, ember):
        first = module.tensor(actual, dtype=module.float32) if isinstance(actual[0], float) else actual
        with pytest.warns(FutureWarning, match="assert_allclose"):
            try:
                module.testing.assert_allclose(first, expected, **kwargs)
                results.append(None)
            except (AssertionError, ValueError) as exc:
                results.append((type(exc), str(exc) if kwargs.get("msg") else None))
    assert results[0] == results[1]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "uint8", "bool", "float16"])
def test_make_tensor_ranges(device, dtype):
    t = make_tensor(4, 5, dtype=getattr(ember, dtype), device=device)
    assert t.shape == (4, 5) and t.dtype == getattr(ember, dtype) and t.device == ember.device(device)
    values = t.cpu().numpy().astype(np.float64)
    low, high = {"uint8": (0, 10), "bool": (0, 1)}.get(dtype, (-9, 10 if "int" in dtype else 9))
    assert values.min() >= low and values.max() <= high
    t = make_tensor((3, 4), dtype=getattr(ember, dtype), device=device, low=1, high=3, exclude_zero=True)
    assert (t.cpu().numpy().astype(np.float64) != 0).all()
    t = make_tensor([2, 6], dtype=getattr(ember, dtype), device=device, noncontiguous=True)
    assert t.shape == (2, 6)


def test_make_tensor_options_and_errors():
    t = make_tensor(3, dtype=ember.float64, device="cpu", requires_grad=True)
    assert t.requires_grad and t.is_leaf
    calls = [
        lambda lib: lib.testing.make_tensor(2, dtype=lib.float32, device="cpu", low=2, high=1),
        lambda lib: lib.testing.make_tensor(2, dtype=lib.float32, device="cpu", low=float("nan")),
        lambda lib: lib.testing.make_tensor(2, dtype=lib.int64, device="cpu", requires_grad=True),
        lambda lib: lib.testing.make_tensor(2, dtype=lib.uint8, device="cpu", low=-5, high=-1),
    ]
    for call in calls:
        with pytest.raises(ValueError) as expected:
            call(torch)
        with pytest.raises(ValueError) as got:
            call(ember)
        assert str(got.value) == _ember_spelling(str(expected.value))


def _square(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        @lib.amp.custom_fwd(device_type="cpu", cast_inputs=lib.float32)
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.inside = lib.is_autocast_enabled("cpu")
            return x @ x.t()

        @staticmethod
        @lib.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            ctx.backward_autocast = lib.is_autocast_enabled("cpu")
            return (grad + grad.t()) @ x

    return Square


def _plain(lib):
    class Plain(lib.autograd.Function):
        @staticmethod
        @lib.amp.custom_fwd(device_type="cpu")
        def forward(ctx, x):
            return x @ x.t()

        @staticmethod
        @lib.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            ctx.backward_autocast = lib.is_autocast_enabled("cpu")
            # float32, the input's dtype: PyTorch's engine casts a Function's gradient to its input's
            # dtype, ember's does not
            return (grad @ grad).float()

    return Plain


def test_custom_fwd_bwd_match_torch():
    x = np.arange(4.0).reshape(2, 2) / 4
    seen = []
    for lib in (torch, ember):
        square = _square(lib)
        leaf = lib.tensor(x, dtype=lib.float32, requires_grad=True)
        with lib.autocast("cpu"):
            # autocast is off inside: the matmul stays float32 (a bfloat16 input would be cast to float32, but
            # its float32 gradient would then need the dtype cast PyTorch's engine does and ember's lacks)
            out = square.apply(leaf)
        out.sum().backward()
        node = out.grad_fn
        seen.append((out.dtype, leaf.grad.dtype, bool(node.inside), bool(node.backward_autocast)))
        np.testing.assert_allclose(leaf.grad.numpy(), 2 * np.ones((2, 2)) @ x, rtol=1e-6)
        with lib.autocast("cpu"):
            plain_out = _plain(lib).apply(lib.ones(2, 2, requires_grad=True))
        plain_out.sum().backward()
        seen.append((plain_out.dtype, bool(plain_out.grad_fn.backward_autocast)))
        # outside autocast, cast_inputs does nothing
        outside = square.apply(lib.ones(2, 2, dtype=lib.float64))
        seen.append(outside.dtype)
    half = len(seen) // 2
    assert [str(s).replace("torch.", "ember.") for s in seen[:half]] == [str(s) for s in seen[half:]]


def test_custom_fwd_arguments_and_availability():
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`, got: `<class 'int'>`"):
            lib.amp.custom_fwd(device_type=1)
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            lib.amp.custom_bwd(lambda ctx, g: g, device_type=None)
        assert lib.amp.is_autocast_available("cpu") and lib.amp.is_autocast_available("cuda")
    assert ember.amp.is_autocast_available("restricted")  # follows the CPU table


class _Stream(IterableDataset):
    def __init__(self, start, n):
        self.start, self.n = start, n

    def __iter__(self):
        return iter(range(self.start, self.start + self.n))

    def __len__(self):
        return self.n


class _TorchStream(torch.utils.data.IterableDataset):
    def __init__(self, start, n):
        self.start, self.n = start, n

    def __iter__(self):
        return iter(range(self.start, self.start + self.n))

    def __len__(self):
        return self.n


def test_chain_dataset_matches_torch():
    chain_e = ChainDataset([_Stream(0, 3), _Stream(10, 2)])
    chain_t = torch.utils.data.ChainDataset([_TorchStream(0, 3), _TorchStream(10, 2)])
    assert list(chain_e) == list(chain_t) and len(chain_e) == len(chain_t) == 5
    batches = [b.tolist() for b in DataLoader(chain_e, batch_size=2)]
    assert batches == [b.tolist() for b in torch.utils.data.DataLoader(chain_t, batch_size=2)]
    for chain in (ChainDataset([_Stream(0, 1), [1, 2]]), torch.utils.data.ChainDataset([_TorchStream(0, 1), [1, 2]])):
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            list(chain)
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            len(chain)


def test_stack_dataset_matches_torch():
    data = np.arange(12.0).reshape(6, 2)
    te = TensorDataset(ember.tensor(data))
    tt = torch.utils.data.TensorDataset(torch.tensor(data))
    labels = list(range(6))
    se, st = StackDataset(te, labels), torch.utils.data.StackDataset(tt, labels)
    assert len(se) == len(st) == 6
    assert se[2][0][0].tolist() == st[2][0][0].tolist() and se[2][1] == st[2][1]
    de, dt = StackDataset(x=te, y=labels), torch.utils.data.StackDataset(x=tt, y=labels)
    assert de[4]["y"] == dt[4]["y"] and de[4]["x"][0].tolist() == dt[4]["x"][0].tolist()
    assert [s[1] for s in se.__getitems__([0, 5])] == [s[1] for s in st.__getitems__([0, 5])]
    assert [s["y"] for s in de.__getitems__([1, 3])] == [s["y"] for s in dt.__getitems__([1, 3])]
    loaded_e = [b["y"].tolist() for b in DataLoader(de, batch_size=4)]
    loaded_t = [b["y"].tolist() for b in torch.utils.data.DataLoader(dt, batch_size=4)]
    assert loaded_e == loaded_t
    for args, kwargs in [((te,), {"y": labels}), ((), {}), ((te, [1, 2]), {})]:
        torch_args = tuple(tt if a is te else a for a in args)
        torch_kwargs = {k: tt if v is te else v for k, v in kwargs.items()}
        with pytest.raises(ValueError) as expected:
            torch.utils.data.StackDataset(*torch_args, **torch_kwargs)
        with pytest.raises(ValueError) as got:
            StackDataset(*args, **kwargs)
        assert str(got.value) == str(expected.value)
