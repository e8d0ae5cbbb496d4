"""Bad input raises the error PyTorch raises (type and message), naming the op, shapes, dtypes, devices."""

import pytest

import ember

torch = pytest.importorskip("torch")

# fmt: off
CASES = [
    ("broadcast", lambda T, d: T.ones(2, 3, device=d) + T.ones(4, device=d), RuntimeError, None),
    ("broadcast_mul", lambda T, d: T.ones(2, 3, device=d) * T.ones(2, device=d), RuntimeError, None),
    ("matmul_shapes", lambda T, d: T.ones(2, 3, device=d) @ T.ones(2, 3, device=d), RuntimeError, None),
    ("mm_1d", lambda T, d: T.mm(T.ones(3, device=d), T.ones(3, 2, device=d)), RuntimeError, None),
    ("bmm_2d", lambda T, d: T.bmm(T.ones(2, 3, device=d), T.ones(3, 2, device=d)), RuntimeError, None),
    ("dot_len", lambda T, d: T.dot(T.ones(3, device=d), T.ones(2, device=d)), RuntimeError, None),
    ("view_numel", lambda T, d: T.ones(2, 3, device=d).view(4), RuntimeError, "shape '\\[4\\]' is invalid for input of size 6"),
    ("reshape_two_infer", lambda T, d: T.ones(6, device=d).reshape(-1, -1), RuntimeError, "only one dimension can be inferred"),
    ("cat_shapes", lambda T, d: T.cat([T.ones(2, 3, device=d), T.ones(2, 2, device=d)]), RuntimeError, None),
    ("cat_empty", lambda T, d: T.cat([]), (RuntimeError, ValueError), None),
    ("stack_shapes", lambda T, d: T.stack([T.ones(2, device=d), T.ones(3, device=d)]), RuntimeError, None),
    ("permute_len", lambda T, d: T.ones(2, 3, device=d).permute(0), RuntimeError, None),
    ("expand_bad", lambda T, d: T.ones(2, 3, device=d).expand(3, 3), RuntimeError, None),
    ("dim_range", lambda T, d: T.ones(2, 3, device=d).sum(2), IndexError, "Dimension out of range"),
    ("dim_range_neg", lambda T, d: T.ones(2, 3, device=d).softmax(-3) if hasattr(T.ones(1), "softmax") else T.ones(2, 3, device=d).sum(-3), IndexError, "Dimension out of range"),
    ("index_range", lambda T, d: T.ones(2, 3, device=d)[2], IndexError, "out of range|out of bounds"),
    ("index_too_many", lambda T, d: T.ones(2, device=d)[0, 0], IndexError, "too many indices"),
    ("gather_range", lambda T, d: T.ones(2, 3, device=d).gather(1, T.tensor([[5]], device=d)), (RuntimeError, IndexError), "out of bounds|out of range"),
    ("index_select_range", lambda T, d: T.ones(2, 3, device=d).index_select(0, T.tensor([3], device=d)), (RuntimeError, IndexError), "out of range|out of bounds"),
    ("gather_float_index", lambda T, d: T.ones(2, 3, device=d).gather(1, T.ones(2, 1, device=d)), RuntimeError, "int64|Long"),
    ("neg_bool", lambda T, d: -T.tensor([True], device=d), RuntimeError, "Negation, the `-` operator, on a bool tensor"),
    ("sub_bool", lambda T, d: T.tensor([True], device=d) - T.tensor([False], device=d), RuntimeError, "Subtraction, the `-` operator, with two bool"),
    ("int_neg_pow", lambda T, d: T.tensor([2], device=d) ** -1, RuntimeError, "Integers to negative integer powers are not allowed"),
    ("int_requires_grad", lambda T, d: T.tensor([1, 2], device=d, requires_grad=True), RuntimeError, "only Tensors of floating point dtype can require gradients"),
    ("bitwise_float", lambda T, d: T.ones(2, device=d) & T.ones(2, device=d), RuntimeError, None),
    ("item_many", lambda T, d: T.ones(2, device=d).item(), RuntimeError, "cannot be converted to Scalar"),
    ("bool_ambiguous", lambda T, d: bool(T.ones(2, device=d)), RuntimeError, "ambiguous"),
    ("inplace_broadcast", lambda T, d: T.ones(3, device=d).add_(T.ones(2, 3, device=d)), RuntimeError, None),
    ("inplace_downcast", lambda T, d: T.ones(3, dtype=T.int64, device=d).mul_(1.5), RuntimeError, "can't be cast"),
    ("where_cond", lambda T, d: T.where(T.ones(2, device=d), T.ones(2, device=d), T.ones(2, device=d)), RuntimeError, "condition"),
    ("clamp_none", lambda T, d: T.clamp(T.ones(2, device=d)), RuntimeError, "At least one of 'min' or 'max'"),
    ("squeeze_dim", lambda T, d: T.ones(2, device=d).unsqueeze(3), IndexError, "Dimension out of range"),
    ("arange_step", lambda T, d: T.arange(0, 5, 0, device=d), RuntimeError, None),
    ("zeros_neg", lambda T, d: T.zeros(-1, device=d), RuntimeError, "negative"),
    ("randint_range", lambda T, d: T.randint(5, 2, (3,), device=d), RuntimeError, None),
    ("split_zero", lambda T, d: T.ones(4, device=d).chunk(0), RuntimeError, None),
    ("t_3d", lambda T, d: T.ones(2, 2, 2, device=d).t(), RuntimeError, "t\\(\\) expects a tensor with <= 2 dimensions"),
    ("numpy_requires_grad", lambda T, d: T.ones(2, requires_grad=True).numpy(), RuntimeError, "requires grad"),
    ("tensor_bad_data", lambda T, d: T.tensor([[1, 2], [3]]), (ValueError, TypeError), None),
    ("len_0d", lambda T, d: len(T.tensor(1.0)), TypeError, "len\\(\\) of a 0-d tensor"),
    ("backward_int", lambda T, d: T.tensor([1.0]).long().sum().backward(), RuntimeError, "does not require grad"),
    ("amax_empty_no_dim", lambda T, d: T.zeros(0, 3, device=d).amax(), RuntimeError, "Expected reduction dim to be specified"),
    ("amin_empty_no_dim", lambda T, d: T.zeros(0, 3, device=d).amin(), RuntimeError, "Expected reduction dim to be specified"),
    ("amax_empty_dim", lambda T, d: T.zeros(0, 3, device=d).amax(0), IndexError, "Expected reduction dim 0 to have non-zero size"),
    ("nanmean_int_input", lambda T, d: T.ones(3, dtype=T.int64, device=d).nanmean(dtype=T.float32), RuntimeError, "expected input to have floating point"),
    ("nanmean_int_dtype", lambda T, d: T.ones(3, device=d).nanmean(dtype=T.int64), RuntimeError, "Optional dtype must be either a floating point"),
    ("movedim_repeated_source", lambda T, d: T.zeros(2, 3, 4, device=d).movedim((0, 0), (1, 2)), RuntimeError, "repeated dim in `source`"),
    ("movedim_repeated_destination", lambda T, d: T.zeros(2, 3, 4, device=d).movedim((0, 1), (2, -1)), RuntimeError, "repeated dim in `destination`"),
    ("movedim_lengths", lambda T, d: T.zeros(2, 3, 4, device=d).movedim((0, 1), (1,)), RuntimeError, "should contain the same number of dims"),
    ("squeeze_repeated_dim", lambda T, d: T.zeros(1, 2, 1, device=d).squeeze((0, -3)), RuntimeError, "appears multiple times"),
    ("mT_1d", lambda T, d: T.zeros(3, device=d).mT, RuntimeError, "only supported on matrices or batches of matrices"),
    ("index_copy_negative_index", lambda T, d: T.zeros(3, 4, device=d).index_copy(0, T.tensor([-1], device=d), T.ones(1, 4, device=d)), IndexError, "index_copy_\\(\\): index -1 is out of bounds for dimension 0 with size 3"),
    ("index_copy_index_too_large", lambda T, d: T.zeros(3, 4, device=d).index_copy(1, T.tensor([4], device=d), T.ones(3, 1, device=d)), IndexError, "index 4 is out of bounds for dimension 1 with size 4"),
    ("fill_uint8_overflow", lambda T, d: T.zeros(3, dtype=T.uint8, device=d).fill_(256), RuntimeError, "value cannot be converted to type uint8_t without overflow"),
    ("fill_int8_float_overflow", lambda T, d: T.zeros(3, dtype=T.int8, device=d).fill_(127.5), RuntimeError, "value cannot be converted to type int8_t without overflow"),
    ("masked_fill_uint8_negative_float", lambda T, d: T.zeros(3, dtype=T.uint8, device=d).masked_fill(T.ones(3, dtype=T.bool, device=d), -0.5), RuntimeError, "without overflow"),
    ("full_like_int8_overflow", lambda T, d: T.full_like(T.zeros(3, dtype=T.int8, device=d), 300), RuntimeError, "without overflow"),
    ("full_int32_overflow", lambda T, d: T.full((2,), 2**31, dtype=T.int32, device=d), RuntimeError, "without overflow"),
    ("full_float32_overflow", lambda T, d: T.full((2,), 1e39, device=d), RuntimeError, "value cannot be converted to type float without overflow"),
    ("fill_float32_overflow", lambda T, d: T.zeros(2, device=d).fill_(-1e300), RuntimeError, "value cannot be converted to type float without overflow"),
    ("masked_fill_float32_overflow", lambda T, d: T.zeros(2, device=d).masked_fill(T.ones(2, dtype=T.bool, device=d), 1e39), RuntimeError, "value cannot be converted to type float without overflow"),
    ("clamp_float32_overflow", lambda T, d: T.zeros(2, device=d).clamp(max=1e39), RuntimeError, "value cannot be converted to type float without overflow"),
    ("fill_half_overflow", lambda T, d: T.zeros(2, dtype=T.float16, device=d).fill_(65520.0), RuntimeError, "value cannot be converted to type c10::Half without overflow"),
    ("clamp_half_overflow", lambda T, d: T.zeros(2, dtype=T.float16, device=d).clamp(70000), RuntimeError, "value cannot be converted to type c10::Half without overflow"),
    ("where_uint8_overflow", lambda T, d: T.where(T.ones(2, dtype=T.bool, device=d), 300, T.zeros(2, dtype=T.uint8, device=d)), RuntimeError, "value cannot be converted to type uint8_t without overflow"),
    ("where_int8_beyond_2_53", lambda T, d: T.where(T.ones(2, dtype=T.bool, device=d), T.zeros(2, dtype=T.int8, device=d), 2**53 + 1), RuntimeError, "value cannot be converted to type int8_t without overflow"),
    ("masked_fill_int8_0d_uint8", lambda T, d: T.zeros(3, dtype=T.int8, device=d).masked_fill(T.ones(3, dtype=T.bool, device=d), T.tensor(200, dtype=T.uint8)), RuntimeError, "value cannot be converted to type int8_t without overflow"),
    ("bitwise_int_float_number", lambda T, d: T.ones(3, dtype=T.int64, device=d) & 2.5, NotImplementedError, "not implemented for 'Float'"),
]
# fmt: on


@pytest.mark.parametrize("fn,exc,match", [pytest.param(fn, e, m, id=n) for n, fn, e, m in CASES])
def test_error(fn, exc, match, device):
    with pytest.raises(exc) as torch_error:
        fn(torch, "cpu")
    with pytest.raises(exc, match=match) as ember_error:
        fn(ember, device)
        if device.startswith("cuda"):  # index checks run on the GPU and report at the next sync, as in PyTorch
            ember.cuda.synchronize()
    assert type(ember_error.value) is type(torch_error.value) or isinstance(ember_error.value, exc)


def test_mixed_devices_never_copy():
    a = ember.ones(2, device="cpu")
    b = ember.ones(2, device="restricted")
    for op in (
        lambda: a + b,
        lambda: b * a,
        lambda: a @ b,
        lambda: ember.cat([a, b]),
        lambda: ember.where(a > 0, a, b),
        lambda: a.gather(0, ember.zeros(1, dtype=ember.int64, device="restricted")),
        lambda: ember.maximum(a, b),
        lambda: a.add_(b),
        lambda: a.masked_fill(b > 0, 1.0),
        lambda: ember.stack([a, b]),
    ):
        with pytest.raises(RuntimeError) as info:
            op()
        message = str(info.value)
        assert "cpu" in message and "restricted" in message, message
    assert a.tolist() == [1.0, 1.0]


def test_unknown_device_type():
    with pytest.raises(RuntimeError, match="unknown device type"):
        ember.ones(2, device="nosuchdevice")
    with pytest.raises(RuntimeError, match="does not exist"):
        ember.ones(2, device="cpu:3")


def test_grad_of_integer_tensor():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    n = x.long()
    assert not n.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.autograd.grad(n.sum(), x)


def test_bad_argument_types():
    x = ember.ones(2)
    with pytest.raises(TypeError):
        x + "a"
    with pytest.raises(TypeError):
        ember.exp([1.0])
    with pytest.raises(TypeError):
        x.sum(dim="a")
    with pytest.raises(TypeError):
        ember.zeros(2, dtype="notadtype")
