"""Bad input raises the error PyTorch raises (type and message), naming the op, shapes, dtypes, devices."""

import warnings

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
    ("cat_empty", lambda T, d: T.cat([]), ValueError, "torch.cat\\(\\): expected a non-empty list of Tensors"),
    ("stack_shapes", lambda T, d: T.stack([T.ones(2, device=d), T.ones(3, device=d)]), RuntimeError, None),
    ("permute_len", lambda T, d: T.ones(2, 3, device=d).permute(0), RuntimeError, None),
    ("expand_bad", lambda T, d: T.ones(2, 3, device=d).expand(3, 3), RuntimeError, None),
    ("dim_range", lambda T, d: T.ones(2, 3, device=d).sum(2), IndexError, "Dimension out of range"),
    ("dim_range_neg", lambda T, d: T.ones(2, 3, device=d).softmax(-3) if hasattr(T.ones(1), "softmax") else T.ones(2, 3, device=d).sum(-3), IndexError, "Dimension out of range"),
    ("index_range", lambda T, d: T.ones(2, 3, device=d)[2], IndexError, "out of range|out of bounds"),
    ("index_too_many", lambda T, d: T.ones(2, device=d)[0, 0], IndexError, "too many indices"),
    ("gather_range", lambda T, d: T.ones(2, 3, device=d).gather(1, T.tensor([[5]], device=d)), (RuntimeError, IndexError), "out of bounds|out of range"),
    ("index_select_range", lambda T, d: T.ones(2, 3, device=d).index_select(0, T.tensor([3], device=d)), (RuntimeError, IndexError), "out of range|out of bounds"),
    ("index_select_uint8_index", lambda T, d: T.ones(2, 3, device=d).index_select(0, T.tensor([1, 0], dtype=T.uint8, device=d)), RuntimeError, "Expected dtype int32 or int64 for index"),
    ("index_select_int16_index", lambda T, d: T.ones(2, 3, device=d).index_select(0, T.tensor([1], dtype=T.int16, device=d)), RuntimeError, "Expected dtype int32 or int64 for index"),
    ("gather_float_index", lambda T, d: T.ones(2, 3, device=d).gather(1, T.ones(2, 1, device=d)), RuntimeError, "int64|Long"),
    ("neg_bool", lambda T, d: -T.tensor([True], device=d), RuntimeError, "Negation, the `-` operator, on a bool tensor"),
    ("sub_bool", lambda T, d: T.tensor([True], device=d) - T.tensor([False], device=d), RuntimeError, "Subtraction, the `-` operator, with two bool"),
    ("int_neg_pow", lambda T, d: T.tensor([2], device=d) ** -1, RuntimeError, "Integers to negative integer powers are not allowed"),
    ("int_requires_grad", lambda T, d: T.tensor([1, 2], device=d, requires_grad=True), RuntimeError, "Only Tensors of floating point and complex dtype can require gradients"),
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
    ("broadcast_eq", lambda T, d: T.eq(T.ones(2, 3, device=d), T.ones(4, device=d)), RuntimeError, "The size of tensor a \\(3\\) must match the size of tensor b \\(4\\) at non-singleton dimension 1"),
    ("broadcast_lt_inplace", lambda T, d: T.ones(3, device=d).lt_(T.ones(4, device=d)), RuntimeError, "The size of tensor a \\(3\\) must match the size of tensor b \\(4\\)"),
    ("broadcast_fmax", lambda T, d: T.fmax(T.ones(2, 3, device=d), T.ones(4, device=d)), RuntimeError, "The size of tensor a \\(3\\) must match"),
    ("broadcast_logical_and", lambda T, d: T.logical_and(T.ones(2, 3, device=d), T.ones(4, device=d)), RuntimeError, "The size of tensor a \\(3\\) must match"),
    ("broadcast_bitwise_and", lambda T, d: T.ones(2, 3, dtype=T.int64, device=d) & T.ones(4, dtype=T.int64, device=d), RuntimeError, "The size of tensor a \\(3\\) must match"),
    ("broadcast_matmul_batch", lambda T, d: T.ones(2, 2, 3, device=d) @ T.ones(3, 3, 4, device=d), RuntimeError, "The size of tensor a \\(2\\) must match the size of tensor b \\(3\\) at non-singleton dimension 0"),
    ("arange_infinite_end", lambda T, d: T.arange(0, float("inf"), device=d), RuntimeError, "unsupported range: 0 -> inf"),
    ("arange_nan_end", lambda T, d: T.arange(0, float("nan"), device=d), RuntimeError, "unsupported range: 0 -> nan"),
    ("cat_of_a_tensor", lambda T, d: T.cat(T.ones(2, 3, device=d)), TypeError, "cat\\(\\): argument 'tensors' \\(position 1\\) must be tuple of Tensors, not Tensor"),
    ("scatter_src_smaller_than_index", lambda T, d: T.zeros(2, 3, device=d).scatter(1, T.zeros(2, 2, dtype=T.int64, device=d), T.ones(1, 1, device=d)), RuntimeError, "Expected index \\[2, 2\\] to be no larger than self \\[2, 3\\] apart from dimension 1 and to be no larger size than src \\[1, 1\\]"),
    ("scatter_add_src_smaller_than_index", lambda T, d: T.zeros(2, 3, device=d).scatter_add(1, T.zeros(2, 2, dtype=T.int64, device=d), T.ones(2, 1, device=d)), RuntimeError, "no larger size than src \\[2, 1\\]"),
    ("scatter_index_larger_than_self", lambda T, d: T.zeros(2, 3, device=d).scatter(1, T.zeros(3, 1, dtype=T.int64, device=d), T.ones(3, 1, device=d)), RuntimeError, "Expected index \\[3, 1\\] to be no larger than self \\[2, 3\\]"),
    ("masked_fill_uint8_mask", lambda T, d: T.ones(3, device=d).masked_fill(T.ones(3, dtype=T.uint8, device=d), 0.0), RuntimeError, "masked_fill_ only supports boolean masks, but got mask with dtype unsigned char"),
    ("masked_fill_float_mask", lambda T, d: T.ones(3, device=d).masked_fill(T.ones(3, device=d), 0.0), RuntimeError, "masked_fill_ only supports boolean masks, but got mask with dtype float"),
    ("masked_scatter_float_mask", lambda T, d: T.ones(3, device=d).masked_scatter(T.ones(3, device=d), T.ones(3, device=d)), RuntimeError, "masked_scatter_ only supports boolean masks, but got mask with dtype Float"),
    ("take_int32_index", lambda T, d: T.ones(3, device=d).take(T.tensor([0], dtype=T.int32, device=d)), RuntimeError, "take\\(\\): Expected a long tensor for index, but got Int"),
    ("take_float_index", lambda T, d: T.ones(3, device=d).take(T.tensor([0.0], device=d)), RuntimeError, "take\\(\\): Expected a long tensor for index, but got Float"),
    ("index_select_float_index", lambda T, d: T.ones(3, device=d).index_select(0, T.tensor([0.0], device=d)), RuntimeError, "index_select\\(\\): Expected dtype int32 or int64 for index"),
    ("index_select_2d_index", lambda T, d: T.ones(3, device=d).index_select(0, T.tensor([[0]], device=d)), IndexError, "index_select\\(\\): Index is supposed to be a vector"),
    ("index_add_float_index", lambda T, d: T.ones(3, device=d).index_add(0, T.tensor([0.0], device=d), T.ones(1, device=d)), RuntimeError, "index_add_\\(\\): Expected dtype int32/int64 for index but got: Float"),
    ("index_add_count", lambda T, d: T.ones(2, 3, device=d).index_add(1, T.tensor([0], device=d), T.ones(2, 2, device=d)), RuntimeError, "index_add_\\(\\): Number of indices \\(1\\) should be equal to source.size\\(dim\\): \\(2\\), for dim: 1"),
    ("index_copy_int32_index", lambda T, d: T.ones(3, device=d).index_copy(0, T.tensor([0], dtype=T.int32, device=d), T.ones(1, device=d)), RuntimeError, "index_copy_\\(\\): Expected a long tensor for index, but got Int"),
    ("index_copy_count", lambda T, d: T.ones(2, 3, device=d).index_copy(1, T.tensor([0], device=d), T.ones(2, 2, device=d)), IndexError, "index_copy_\\(\\): Number of indices \\(1\\) should be equal to source.size\\(dim\\) \\(2\\)"),
    ("index_fill_int32_index", lambda T, d: T.ones(3, device=d).index_fill(0, T.tensor([0], dtype=T.int32, device=d), 1.0), IndexError, "index_fill_\\(\\): Expected dtype int64 for index."),
    ("hstack_empty", lambda T, d: T.hstack([]), RuntimeError, "hstack expects a non-empty TensorList"),
    ("vstack_empty", lambda T, d: T.vstack([]), RuntimeError, "vstack expects a non-empty TensorList"),
    ("dstack_empty", lambda T, d: T.dstack([]), RuntimeError, "dstack expects a non-empty TensorList"),
    ("column_stack_empty", lambda T, d: T.column_stack([]), RuntimeError, "column_stack expects a non-empty TensorList"),
    ("meshgrid_empty", lambda T, d: T.meshgrid([], indexing="ij"), RuntimeError, "meshgrid expects a non-empty TensorList"),
    ("meshgrid_dtypes", lambda T, d: T.meshgrid(T.ones(2, device=d), T.ones(2, dtype=T.float64, device=d), indexing="ij"), RuntimeError, "meshgrid expects all tensors to have the same dtype"),
    ("stack_of_a_tensor", lambda T, d: T.stack(T.ones(2, 2, device=d)), TypeError, r"stack\(\): argument 'tensors' \(position 1\) must be tuple of Tensors, not Tensor"),
    ("hstack_of_a_tensor", lambda T, d: T.hstack(T.ones(2, 2, device=d)), TypeError, r"hstack\(\): argument 'tensors' \(position 1\) must be tuple of Tensors, not Tensor"),
    ("narrow_start_beyond", lambda T, d: T.ones(2, 3, device=d).narrow(1, 4, 0), IndexError, r"start out of range \(expected to be in range of \[-3, 3\], but got 4\)"),
    ("narrow_negative_length", lambda T, d: T.ones(2, 3, device=d).narrow(1, 0, -1), RuntimeError, r"narrow\(\): length must be non-negative"),
    ("narrow_0d", lambda T, d: T.tensor(1.0, device=d).narrow(0, 0, 1), RuntimeError, r"narrow\(\) cannot be applied to a 0-dim tensor"),
    ("flatten_0d_dim", lambda T, d: T.tensor(1.0, device=d).flatten(1), IndexError, r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)"),
    ("einsum_too_few_operands", lambda T, d: T.einsum("ij,jk->ik", T.ones(2, 3, device=d)), RuntimeError, r"einsum\(\): fewer operands were provided than specified in the equation"),
    ("einsum_too_many_operands", lambda T, d: T.einsum("i,i", T.ones(2, device=d), T.ones(2, device=d), T.ones(2, device=d)), RuntimeError, r"einsum\(\): more operands were provided"),
    ("tile_negative", lambda T, d: T.ones(2, 3, device=d).tile(2, -1), RuntimeError, "Trying to create tensor with negative dimension"),
    ("float_power_inplace_float32", lambda T, d: T.ones(2, device=d).float_power_(2), RuntimeError, "the base given to float_power_ has dtype Float but the operation's result requires dtype Double"),
    ("lerp_end_dtype", lambda T, d: T.lerp(T.ones(2, device=d), T.ones(2, dtype=T.float64, device=d), 0.5), RuntimeError, "expected dtype float for `end` but got dtype double"),
    ("lerp_weight_dtype", lambda T, d: T.ones(2, device=d).lerp_(T.ones(2, device=d), T.ones(2, dtype=T.float64, device=d)), RuntimeError, "expected dtype float for `weight` but got dtype double"),
    ("index_put_dtype", lambda T, d: T.ones(2, device=d).index_put_((T.tensor([0], device=d),), T.tensor([1.0], dtype=T.float64, device=d)), RuntimeError, "Index put requires the source and destination dtypes match, got Float for the destination and Double for the source"),
    ("index_put_accumulate_dtype", lambda T, d: T.ones(2, device=d).index_put((T.tensor([0], device=d),), T.tensor([1], device=d), accumulate=True), RuntimeError, "got Float for the destination and Long for the source"),
    ("setitem_integer_index_dtype", lambda T, d: T.ones(2, device=d).__setitem__(T.tensor([0], device=d), T.tensor([1.0], dtype=T.float64, device=d)), RuntimeError, "Index put requires the source and destination dtypes match"),
    ("multinomial_integer", lambda T, d: T.multinomial(T.tensor([1, 1], device=d), 1), RuntimeError, "multinomial only supports floating-point dtypes for input, got: Long"),
    ("cumsum_bool_dtype", lambda T, d: T.cumsum(T.ones(2, device=d), 0, dtype=T.bool), NotImplementedError, "\"cumsum_out_cpu\" not implemented for 'Bool'"),
    ("cumprod_bool_dtype", lambda T, d: T.cumprod(T.ones(2, device=d), 0, dtype=T.bool), NotImplementedError, "\"cumprod_out_cpu\" not implemented for 'Bool'"),
    ("linspace_float_steps", lambda T, d: T.linspace(0, 1, 2.5, device=d), TypeError, r"linspace\(\)"),
    ("logspace_float_steps", lambda T, d: T.logspace(0, 1, 2.5, device=d), TypeError, r"logspace\(\)"),
    ("bce_with_logits_integer_target", lambda T, d: T.nn.functional.binary_cross_entropy_with_logits(T.ones(3, device=d), T.ones(3, dtype=T.int64, device=d)), RuntimeError, "result type Float can't be cast to the desired output type Long"),
    ("ctc_target_longer_than_targets", lambda T, d: T.nn.functional.ctc_loss(T.ones(5, 2, 4, device=d).log_softmax(2), T.ones(2, 3, dtype=T.int64, device=d), T.tensor([5, 5]), T.tensor([3, 4])), RuntimeError, "Expected tensor to have size at least 4 at dimension 1, but got size 3 for argument #2 'targets'"),
    ("ctc_negative_target_length", lambda T, d: T.nn.functional.ctc_loss(T.ones(5, 2, 4, device=d).log_softmax(2), T.ones(2, 3, dtype=T.int64, device=d), T.tensor([5, 5]), T.tensor([-1, 3])), RuntimeError, "Expected target_lengths to have value at least 0, but got value -1"),
    ("ctc_concatenated_targets_size", lambda T, d: T.nn.functional.ctc_loss(T.ones(5, 2, 4, device=d).log_softmax(2), T.ones(5, dtype=T.int64, device=d), T.tensor([5, 5]), T.tensor([3, 3])), RuntimeError, "Expected tensor to have size 6 at dimension 0, but got size 5 for argument #2 'targets'"),
    ("embedding_bag_index_out_of_range", lambda T, d: T.nn.functional.embedding_bag(T.tensor([0, 5], device=d), T.ones(3, 2, device=d), T.tensor([0], device=d)), RuntimeError, r"takes value 5 which is not in the valid range \[0, 3\)"),
    ("conv2d_padding_string", lambda T, d: T.nn.functional.conv2d(T.ones(1, 3, 5, 5, device=d), T.ones(4, 3, 3, 3, device=d), padding="bogus"), RuntimeError, "Invalid padding string: 'bogus'"),
    ("detach_view_in_place", lambda T, d: T.ones(2, 3, device=d)[0].detach_(), RuntimeError, "Can't detach views in-place. Use detach\\(\\) instead"),
    ("contains_a_string", lambda T, d: "a" in T.ones(2, device=d), RuntimeError, "Tensor.__contains__ only supports Tensor or scalar, but you passed in a <class 'str'>"),
    ("random_to_beyond_uint8", lambda T, d: T.ones(2, dtype=T.uint8, device=d).random_(0, 300), RuntimeError, "to - 1 is out of bounds for unsigned char"),
    ("random_from_below_int8", lambda T, d: T.ones(2, dtype=T.int8, device=d).random_(-129, 5), RuntimeError, "from is out of bounds for signed char"),
    ("random_bool_to", lambda T, d: T.ones(2, dtype=T.bool, device=d).random_(3), RuntimeError, "to - 1 is out of bounds for bool"),
    ("conv2d_empty_kernel", lambda T, d: T.nn.functional.conv2d(T.ones(1, 1, 5, 5, device=d), T.ones(1, 1, 0, 3, device=d)), RuntimeError, "kernel size should be greater than zero"),
    ("conv_transpose1d_empty_kernel", lambda T, d: T.nn.functional.conv_transpose1d(T.ones(1, 1, 5, device=d), T.ones(1, 1, 0, device=d)), RuntimeError, "kernel size should be greater than zero"),
    ("iand_float_into_long", lambda T, d: T.ones(3, dtype=T.int64, device=d).__iand__(T.ones(3, device=d)), RuntimeError, "result type Float can't be cast to the desired output type Long"),
    ("gcd_inplace_float_into_long", lambda T, d: T.ones(3, dtype=T.int64, device=d).gcd_(T.ones(3, device=d)), RuntimeError, "result type Float can't be cast to the desired output type Long"),
    ("hypot_inplace_long_into_bool", lambda T, d: T.ones(3, dtype=T.bool, device=d).hypot_(T.ones(3, dtype=T.int64, device=d)), RuntimeError, "result type Long can't be cast to the desired output type Bool"),
    ("bitwise_or_inplace_grows_float", lambda T, d: T.ones(3, device=d).bitwise_or_(T.ones(2, 3, device=d)), RuntimeError, r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    ("arange_bool", lambda T, d: T.arange(2, dtype=T.bool, device=d), NotImplementedError, "\"arange_cpu\" not implemented for 'Bool'"),
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
    with pytest.raises(RuntimeError, match="device type at start of device string: nosuchdevice"):
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


def test_masked_scatter_refuses_a_uint8_mask(device):
    # PyTorch 2.13 no longer takes the deprecated uint8 mask here
    x = ember.zeros(3, device=device)
    with pytest.raises(RuntimeError, match="masked_scatter_ only supports boolean masks, but got mask with dtype Byte"):
        x.masked_scatter(
            ember.tensor([1, 0, 1], dtype=ember.uint8, device=device), ember.tensor([1.0, 2.0], device=device)
        )


def test_gradients_and_weights_on_another_device(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    x = ember.ones(2, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"invalid gradient at index 0 - expected device {x.device} but got cpu"):
        (x * 2).backward(ember.ones(2))
    with pytest.raises(RuntimeError, match=f"invalid gradient at index 0 - expected device {x.device} but got cpu"):
        ember.autograd.grad(x * 2, x, ember.ones(2))
    with pytest.raises(RuntimeError, match=f"found at least two devices, {x.device} and cpu"):
        ember.bincount(ember.tensor([0, 1], device=device), ember.ones(2))
    assert x.grad is None


def test_meshgrid_of_tensors_on_two_devices(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    with pytest.raises(
        RuntimeError, match=f"meshgrid expects all tensors to have the same device, but found cpu and {device}"
    ):
        ember.meshgrid(ember.ones(2), ember.ones(2, device=device), indexing="ij")


def test_setitem_casts_through_slices_and_masks(device):
    """Only an integer index refuses a value of another dtype (PyTorch's index_put_); slices and bool masks cast it."""
    for key in (slice(0, 1), 0, ember.tensor([True, False], device=device)):
        x = ember.zeros(2, device=device)
        x[key] = (
            ember.tensor([3.0], dtype=ember.float64, device=device)
            if not isinstance(key, int)
            else ember.tensor(3.0, dtype=ember.float64, device=device)
        )
        assert x.tolist() == [3.0, 0.0] and x.dtype is ember.float32


@pytest.mark.parametrize(
    "shape,message",
    [
        ((), "Tensor.T is deprecated on 0-D tensors"),
        ((3,), "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated"),
        ((2, 3, 4), "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated"),
    ],
)  # PyTorch's warnings (it warns once per process, so they are not compared call by call)
def test_T_of_a_non_matrix_is_deprecated(shape, message):
    with pytest.warns(UserWarning, match=message.replace(".", "\\.")):
        result = ember.ones(shape).T
    assert tuple(result.shape) == tuple(reversed(shape))


def test_T_of_a_matrix_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.ones(2, 3).T.shape == (3, 2)


def test_contains_compares_elements_as_torch(device):
    values = [[1, 2], [3, 4]]
    for element in (3, 5, 2.0, [1, 4], [[1, 0], [0, 4]], [9, 9]):
        expected = (torch.tensor(element) if isinstance(element, list) else element) in torch.tensor(values)
        got = (ember.tensor(element, device=device) if isinstance(element, list) else element) in ember.tensor(
            values, device=device
        )
        assert got is expected, element


def test_range_is_deprecated():
    with pytest.warns(UserWarning, match="torch.range is deprecated and will be removed in a future release"):
        assert ember.range(0, 2).tolist() == [0.0, 1.0, 2.0]
