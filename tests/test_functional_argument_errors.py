"""Bad arguments to ember.nn.functional and ember.nn raise the error type PyTorch raises (and a
message naming the argument), and the accepted edge cases give PyTorch's result."""

import pytest

import ember

torch = pytest.importorskip("torch")


def F(T):
    return T.nn.functional


# (id, call taking the module `torch` or `ember`, error type, a regex both messages match)
# fmt: off
REFUSED = [
    # normalisation: the functional forms take a sequence of ints only (the modules take an int too)
    ("layer_norm_int_shape", lambda T: F(T).layer_norm(T.ones(2, 3), 3), TypeError, "normalized_shape.*must be tuple of ints"),
    ("layer_norm_float_shape", lambda T: F(T).layer_norm(T.ones(2, 3), (3.0,)), TypeError, "must be tuple of ints"),
    ("rms_norm_int_shape", lambda T: F(T).rms_norm(T.ones(2, 3), 3), TypeError, "normalized_shape.*must be tuple of ints"),
    ("batch_norm_mean_only", lambda T: F(T).batch_norm(T.ones(4, 3), T.zeros(3), None, training=True), ValueError,
     "running_mean and running_var must either both be None or neither be None"),
    ("batch_norm_var_only", lambda T: F(T).batch_norm(T.ones(4, 3), None, T.ones(3), training=True), ValueError,
     "running_mean and running_var must either both be None or neither be None"),
    # losses
    ("cross_entropy_probs_ignore_index", lambda T: F(T).cross_entropy(T.ones(2, 3), T.full((2, 3), 1 / 3), ignore_index=0),
     RuntimeError, "ignore_index is not supported for floating point target"),
    ("cross_entropy_long_probs", lambda T: F(T).cross_entropy(T.ones(2, 3), T.zeros(2, 3, dtype=T.int64)), RuntimeError,
     "Expected floating point type for target with class probabilities, got Long"),
    ("cross_entropy_0d", lambda T: F(T).cross_entropy(T.tensor(1.0), T.tensor(0)), RuntimeError,
     "Expected floating point type for target with class probabilities"),
    ("nll_loss_1d_input_long_target", lambda T: F(T).nll_loss(T.ones(3), T.tensor([0, 1])), ValueError,
     "For 1D input, 1D target must have size 1, but got target size: 2"),
    # pooling
    ("adaptive_avg_pool2d_3_sizes", lambda T: F(T).adaptive_avg_pool2d(T.ones(1, 1, 5, 5), (1, 2, 3)), RuntimeError, "output_size.* must be 2"),
    ("adaptive_max_pool2d_3_sizes", lambda T: F(T).adaptive_max_pool2d(T.ones(1, 1, 5, 5), (1, 2, 3)), RuntimeError, "output_size.* must be 2"),
    ("adaptive_avg_pool3d_2_sizes", lambda T: F(T).adaptive_avg_pool3d(T.ones(1, 1, 5, 5, 5), (1, 2)), RuntimeError, "output_size.* must be 3"),
    ("adaptive_avg_pool1d_2_sizes", lambda T: F(T).adaptive_avg_pool1d(T.ones(1, 1, 5), (1, 2)), RuntimeError, "output_size"),
    ("adaptive_max_pool1d_2_sizes", lambda T: F(T).adaptive_max_pool1d(T.ones(1, 1, 5), (1, 2)), RuntimeError, "output_size"),
    ("adaptive_avg_pool2d_float_size", lambda T: F(T).adaptive_avg_pool2d(T.ones(1, 1, 5, 5), 2.0), TypeError, None),
    ("max_unpool2d_int32_indices", lambda T: F(T).max_unpool2d(T.ones(1, 1, 2, 2), T.zeros(1, 1, 2, 2, dtype=T.int32), 2),
     RuntimeError, "elements in indices should be type int64"),
    ("max_unpool1d_float_indices", lambda T: F(T).max_unpool1d(T.ones(1, 1, 2), T.zeros(1, 1, 2), 2),
     RuntimeError, "elements in indices should be type int64"),
    # convolution arguments that are not ints
    ("conv2d_float_stride", lambda T: F(T).conv2d(T.ones(1, 1, 5, 5), T.ones(1, 1, 3, 3), stride=1.5), TypeError, "conv2d"),
    ("conv2d_float_dilation", lambda T: F(T).conv2d(T.ones(1, 1, 5, 5), T.ones(1, 1, 3, 3), dilation=(1.0, 1)), TypeError, "conv2d"),
    ("conv_transpose2d_float_stride", lambda T: F(T).conv_transpose2d(T.ones(1, 1, 5, 5), T.ones(1, 1, 3, 3), stride=1.5),
     TypeError, "argument 'stride' must be tuple of ints"),
    ("conv_transpose2d_padding_same", lambda T: F(T).conv_transpose2d(T.ones(1, 1, 5, 5), T.ones(1, 1, 3, 3), padding="same"),
     TypeError, "argument 'padding' must be tuple of ints"),
    ("conv_transpose1d_padding_valid", lambda T: F(T).conv_transpose1d(T.ones(1, 1, 5), T.ones(1, 1, 3), padding="valid"),
     TypeError, "argument 'padding' must be tuple of ints"),
    # embeddings
    ("embedding_float_padding_idx", lambda T: F(T).embedding(T.tensor([0]), T.ones(5, 3), padding_idx=1.5), TypeError,
     "argument 'padding_idx'.* must be int, not float"),
    ("embedding_bag_padding_idx_too_big", lambda T: F(T).embedding_bag(T.tensor([0, 1]), T.ones(5, 3), T.tensor([0]), padding_idx=5),
     RuntimeError, "padding_idx must be within the number of embeddings, -5 through 4, but got 5"),
    ("embedding_bag_padding_idx_too_small", lambda T: F(T).embedding_bag(T.tensor([0, 1]), T.ones(5, 3), T.tensor([0]), padding_idx=-6),
     RuntimeError, "padding_idx must be within the number of embeddings, -5 through 4, but got -6"),
    # probabilities and bounds
    ("dropout_nan", lambda T: F(T).dropout(T.ones(3), p=float("nan")), RuntimeError, "dropout probability has to be between 0 and 1"),
    ("dropout2d_nan", lambda T: F(T).dropout2d(T.ones(1, 3, 2, 2), p=float("nan")), RuntimeError,
     "dropout probability has to be between 0 and 1"),
    ("alpha_dropout_nan", lambda T: F(T).alpha_dropout(T.ones(3), p=float("nan")), RuntimeError,
     "dropout probability has to be between 0 and 1"),
    ("rrelu_bounds_training", lambda T: F(T).rrelu(T.ones(3), 0.5, 0.1, training=True), RuntimeError,
     "Lower bound should be less than or equal to the upper bound"),
    ("rrelu_bounds_eval", lambda T: F(T).rrelu(T.ones(3), 0.5, 0.1), RuntimeError,
     "Lower bound should be less than or equal to the upper bound"),
    ("RReLU_bounds", lambda T: T.nn.RReLU(0.5, 0.1)(T.ones(3)), RuntimeError, "Lower bound should be less than or equal to the upper bound"),
    # vision
    ("affine_grid_float_size", lambda T: F(T).affine_grid(T.ones(1, 2, 3), (1, 1, 4.0, 4), align_corners=False), TypeError,
     "argument 'size'"),
    ("interpolate_tensor_scale", lambda T: F(T).interpolate(T.ones(1, 1, 4, 4), scale_factor=T.tensor(2.0)), TypeError, "scale_factor"),
    ("interpolate_str_scale", lambda T: F(T).interpolate(T.ones(1, 1, 4, 4), scale_factor="2", mode="bilinear"), TypeError, None),
    # arguments that must be ints
    ("pad_tensor_pads", lambda T: F(T).pad(T.ones(1, 1, 5), T.tensor([1, 1])), TypeError, "argument 'pad'.* must be tuple of ints"),
    ("one_hot_float_classes", lambda T: F(T).one_hot(T.tensor([0, 1]), 3.0), TypeError, "argument 'num_classes'.* must be int"),
    ("avg_pool2d_float_divisor", lambda T: F(T).avg_pool2d(T.ones(1, 1, 4, 4), 2, divisor_override=2.5), TypeError,
     "argument 'divisor_override' must be int"),
    ("max_pool2d_float_kernel", lambda T: F(T).max_pool2d(T.ones(1, 1, 4, 4), 2.0), TypeError, "argument 'kernel_size'.* must be tuple of ints"),
    ("avg_pool1d_float_kernel", lambda T: F(T).avg_pool1d(T.ones(1, 1, 4), 2.0), TypeError, "argument 'kernel_size'.* must be tuple of ints"),
    ("MaxPool2d_float_stride", lambda T: T.nn.MaxPool2d(2, stride=1.5)(T.ones(1, 1, 4, 4)), TypeError, None),
    ("nll_loss_float_ignore_index", lambda T: F(T).nll_loss(T.ones(2, 3), T.tensor([0, 1]), ignore_index=1.0), TypeError,
     "argument 'ignore_index'.* must be int, not float"),
    ("cross_entropy_float_ignore_index", lambda T: F(T).cross_entropy(T.ones(2, 3), T.tensor([0, 1]), ignore_index=1.0), TypeError,
     "argument 'ignore_index'.* must be int, not float"),
    ("ctc_loss_float_input_lengths", lambda T: F(T).ctc_loss(T.zeros(5, 1, 3), T.tensor([[1, 2]]), T.tensor([5.0]), T.tensor([2])),
     RuntimeError, "input_lengths must be integral"),
    ("ctc_loss_float_target_lengths", lambda T: F(T).ctc_loss(T.zeros(5, 1, 3), T.tensor([[1, 2]]), T.tensor([5]), T.tensor([2.0])),
     RuntimeError, "target_lengths must be integral"),
    ("ctc_loss_float_length_tuple", lambda T: F(T).ctc_loss(T.zeros(5, 1, 3), T.tensor([[1, 2]]), (5.0,), (2,)), TypeError, "ctc_loss"),
    ("LSTMCell_batched_tensor_hx", lambda T: T.nn.LSTMCell(3, 4)(T.ones(2, 3), T.ones(2, 2, 4)), TypeError,
     "argument 'hx'.* must be tuple of Tensors, not Tensor"),
    # parameters of another dtype than the input: PyTorch does not promote them
    ("batch_norm_float64_weight", lambda T: F(T).batch_norm(T.ones(4, 3), T.zeros(3), T.ones(3), weight=T.ones(3, dtype=T.float64)),
     RuntimeError, "mixed dtype"),
    ("batch_norm_float64_running_mean", lambda T: F(T).batch_norm(T.ones(4, 3), T.zeros(3, dtype=T.float64), T.ones(3)),
     RuntimeError, "mixed dtype"),
    ("batch_norm_float32_stats_float64_input", lambda T: F(T).batch_norm(T.ones(4, 3, dtype=T.float64), T.zeros(3), T.ones(3)),
     RuntimeError, "mixed dtype"),
    ("layer_norm_float64_weight", lambda T: F(T).layer_norm(T.ones(4, 3), (3,), weight=T.ones(3, dtype=T.float64)),
     RuntimeError, "mixed dtype"),
    ("layer_norm_int_bias", lambda T: F(T).layer_norm(T.ones(4, 3), (3,), bias=T.ones(3, dtype=T.int64)), RuntimeError, "mixed dtype"),
    ("group_norm_float64_weight", lambda T: F(T).group_norm(T.ones(4, 3), 1, weight=T.ones(3, dtype=T.float64)),
     RuntimeError, "mixed dtype"),
    ("instance_norm_float32_bias", lambda T: F(T).instance_norm(T.ones(2, 3, 4, dtype=T.float64), bias=T.ones(3)),
     RuntimeError, "mixed dtype"),
    ("linear_float64_bias", lambda T: F(T).linear(T.ones(2, 3), T.ones(4, 3), T.ones(4, dtype=T.float64)), RuntimeError,
     "must have the same dtype, but got Double and Float"),
    ("linear_3d_float64_bias", lambda T: F(T).linear(T.ones(2, 2, 3), T.ones(4, 3), T.ones(4, dtype=T.float64)), RuntimeError,
     "must have the same dtype"),
    ("prelu_float64_weight", lambda T: F(T).prelu(T.ones(2, 3), T.ones(1, dtype=T.float64)), RuntimeError,
     "prelu: Type promoting not supported. Got Float and Double"),
    ("prelu_float32_weight_float64_input", lambda T: F(T).prelu(T.ones(2, 3, dtype=T.float64), T.ones(3)), RuntimeError,
     "prelu: Type promoting not supported. Got Double and Float"),
    ("one_hot_bool_classes", lambda T: F(T).one_hot(T.tensor([0, 1]), True), TypeError, "argument 'num_classes'.* must be int, not bool"),
    ("adaptive_avg_pool2d_bool_size", lambda T: F(T).adaptive_avg_pool2d(T.ones(1, 1, 5, 5), True), TypeError, None),
    ("interpolate_bool_size", lambda T: F(T).interpolate(T.ones(1, 1, 5, 5), size=True), TypeError, None),
    ("embedding_bag_float_offsets", lambda T: F(T).embedding_bag(T.tensor([0, 1]), T.ones(5, 3), T.tensor([0.0])), RuntimeError,
     "Long, Int"),
    ("embedding_bag_1d_weight", lambda T: F(T).embedding_bag(T.tensor([[0, 1]]), T.ones(5)), ValueError,
     "weight has to be a 2D Tensor, but got Tensor of dimension 1"),
    ("batch_norm_2d_running_stats", lambda T: F(T).batch_norm(T.ones(4, 3), T.zeros(1, 3), T.ones(1, 3)), RuntimeError, None),
    ("batch_norm_2d_running_var_training", lambda T: F(T).batch_norm(T.ones(4, 3), T.zeros(3), T.ones(1, 3), training=True),
     RuntimeError, None),
    # module constructors
    ("LSTM_input_size_0", lambda T: T.nn.LSTM(0, 4), ValueError, "input_size must be greater than zero"),
    ("GRU_input_size_0", lambda T: T.nn.GRU(0, 4), ValueError, "input_size must be greater than zero"),
    ("RNN_input_size_negative", lambda T: T.nn.RNN(-1, 4), ValueError, "input_size must be greater than zero"),
]
# fmt: on


@pytest.mark.parametrize("call, error, message", [pytest.param(*c[1:], id=c[0]) for c in REFUSED])
def test_refused_as_torch(call, error, message):
    with pytest.raises(error, match=message):
        call(torch)
    with pytest.raises(error, match=message):
        call(ember)


def test_layer_norm_takes_any_sequence_of_ints():
    x = [[1.0, 2.0, 4.0], [0.0, 3.0, 3.0]]
    expected = torch.nn.functional.layer_norm(torch.tensor(x), [3]).numpy()
    for shape in ([3], (3,), ember.Size([3])):
        got = ember.nn.functional.layer_norm(ember.tensor(x), shape)
        assert got.numpy() == pytest.approx(expected, abs=1e-6)
    assert ember.nn.LayerNorm(3)(ember.tensor(x)).shape == (2, 3)  # the module takes an int


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_1d_input_with_one_element_target(dtype, reduction):
    x = [-0.5, -1.25, -2.0]
    want = torch.nn.functional.nll_loss(
        torch.tensor(x, dtype=getattr(torch, dtype)), torch.tensor([1]), reduction=reduction
    )
    got = ember.nn.functional.nll_loss(
        ember.tensor(x, dtype=getattr(ember, dtype)), ember.tensor([1]), reduction=reduction
    )
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[-1] == dtype
    assert got.item() == pytest.approx(want.item())


def test_cross_entropy_probabilities_with_negative_ignore_index():
    x, p = [[1.0, 2.0, 0.5]], [[0.25, 0.5, 0.25]]
    want = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(p), ignore_index=-1)
    got = ember.nn.functional.cross_entropy(ember.tensor(x), ember.tensor(p), ignore_index=-1)
    assert got.item() == pytest.approx(want.item())


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_adaptive_max_pool_to_an_empty_output(nd):
    shape, size = (1, 2) + (5,) * nd, (0,) + (3,) * (nd - 1)
    fn = f"adaptive_max_pool{nd}d"
    want_v, want_i = getattr(torch.nn.functional, fn)(torch.ones(shape), size, return_indices=True)
    got_v, got_i = getattr(ember.nn.functional, fn)(ember.ones(shape), size, return_indices=True)
    assert tuple(got_v.shape) == tuple(want_v.shape) and tuple(got_i.shape) == tuple(want_i.shape)
    assert got_i.dtype == ember.int64


def test_interpolate_tensor_scale_that_only_sizes_the_output():
    want = torch.nn.functional.interpolate(
        torch.ones(1, 1, 4, 4), scale_factor=torch.tensor(2.0), recompute_scale_factor=True
    )
    got = ember.nn.functional.interpolate(
        ember.ones(1, 1, 4, 4), scale_factor=ember.tensor(2.0), recompute_scale_factor=True
    )
    assert tuple(got.shape) == tuple(want.shape)


def test_embedding_module_keeps_the_assertion_of_torch():
    with pytest.raises(AssertionError, match="adding_idx must be within num_embeddings"):
        torch.nn.EmbeddingBag(5, 3, padding_idx=5)
    with pytest.raises(AssertionError, match="adding_idx must be within num_embeddings"):
        ember.nn.EmbeddingBag(5, 3, padding_idx=5)


def test_lstm_cell_unbatched_takes_a_stacked_state_as_torch():
    cell = ember.nn.LSTMCell(3, 4)
    h, c = cell(ember.ones(3), ember.zeros(2, 4))
    assert tuple(h.shape) == tuple(c.shape) == (4,)


def test_instance_norm_takes_running_statistics_of_another_float_type():
    x = [[[1.0, 2.0, 4.0], [0.0, 3.0, 3.0]]]
    want = torch.nn.functional.instance_norm(
        torch.tensor(x), torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    )
    got = ember.nn.functional.instance_norm(
        ember.tensor(x), ember.zeros(2, dtype=ember.float64), ember.ones(2, dtype=ember.float64)
    )
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
    assert got.numpy() == pytest.approx(want.numpy(), abs=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        # avg_pool3d (and lp_pool3d, built on it) compares the input itself with the kernel, padding aside
        lambda T: F(T).avg_pool3d(T.ones(1, 1, 6, 7, 1), (4, 1, 4), padding=(1, 0, 2)),
        lambda T: F(T).lp_pool3d(T.ones(1, 1, 2, 2, 6), 2, (4, 2, 3), ceil_mode=True),
    ],
)
def test_3d_average_pools_refuse_an_input_smaller_than_the_kernel(call):
    for module in (torch, ember):
        with pytest.raises(RuntimeError, match=r"input image \(T: \d+ H: \d+ W: \d+\) smaller than kernel size"):
            call(module)


@pytest.mark.parametrize("name", ["adaptive_avg_pool1d", "adaptive_max_pool1d"])
@pytest.mark.parametrize("size", [None, (None,)])
def test_1d_adaptive_pools_take_no_none_size(name, size):
    for module in (torch, ember):
        with pytest.raises(TypeError, match="output_size"):
            getattr(F(module), name)(module.ones(1, 2, 3), size)
