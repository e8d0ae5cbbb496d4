"""Bad and unusual inputs, each run through ember and PyTorch: both must raise the same
exception type, or both must return equal values (no raw NumPy/IndexError/KeyError leaking
where PyTorch names the problem, no value where PyTorch refuses).

ember runs each call with the test device as its default device; torch runs on the CPU.
"""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

# fmt: off
BAD_INPUTS = {
 "zeros_str_dtype": lambda T: T.zeros(2, dtype="float32"),
 "ones_str_dtype": lambda T: T.ones(2, dtype="int64"),
 "tensor_str_dtype": lambda T: T.tensor([1.], dtype="float32"),
 "to_str_dtype": lambda T: T.zeros(2).to("float32"),
 "zeros_float_size": lambda T: T.zeros((2, 3.0)),
 "zeros_float_size2": lambda T: T.zeros(2, 3.0),
 "empty_float": lambda T: T.empty(2.5),
 "randn_float": lambda T: T.randn(2, 2.0),
 "full_float": lambda T: T.full((2.0,), 1.),
 "reshape_float": lambda T: T.zeros(4).reshape(2, 2.0),
 "view_float": lambda T: T.zeros(4).view(2.0, 2),
 "linear_float": lambda T: T.nn.Linear(2.5, 2),
 "linear_neg": lambda T: T.nn.Linear(-1, 2),
 "conv_float": lambda T: T.nn.Conv2d(3.0, 2, 3),
 "embedding_float": lambda T: T.nn.Embedding(4.0, 2),
 "bn_float": lambda T: T.nn.BatchNorm1d(3.5),
 "lstm_float": lambda T: T.nn.LSTM(3.0, 2),
 "arange_bad": lambda T: T.arange(0, 5, 0),
 "sum_bad_dim": lambda T: T.zeros(2).sum(5),
 "sum_str_dim": lambda T: T.zeros(2).sum("a"),
 "cat_empty": lambda T: T.cat([]),
 "cat_dims": lambda T: T.cat([T.zeros(2), T.zeros(2, 2)]),
 "stack_shapes": lambda T: T.stack([T.zeros(2), T.zeros(3)]),
 "matmul_0d": lambda T: T.matmul(T.tensor(1.), T.zeros(2)),
 "matmul_shape": lambda T: T.zeros(2, 3) @ T.zeros(2, 3),
 "mm_1d": lambda T: T.mm(T.zeros(2), T.zeros(2)),
 "bmm_2d": lambda T: T.bmm(T.zeros(2, 2), T.zeros(2, 2)),
 "dot_2d": lambda T: T.dot(T.zeros(2, 2), T.zeros(2)),
 "index_oob": lambda T: T.zeros(3)[5],
 "index_float": lambda T: T.zeros(3)[1.5],
 "index_str": lambda T: T.zeros(3)["a"],
 "setitem_shape": lambda T: T.zeros(3).__setitem__(slice(None), T.zeros(2)),
 "item_multi": lambda T: T.zeros(3).item(),
 "bool_multi": lambda T: bool(T.zeros(3)),
 "float_multi": lambda T: float(T.zeros(3)),
 "int_multi": lambda T: int(T.zeros(3)),
 "len_0d": lambda T: len(T.tensor(1.)),
 "iter_0d": lambda T: iter(T.tensor(1.)),
 "transpose_oob": lambda T: T.zeros(2, 2).transpose(0, 5),
 "permute_dup": lambda T: T.zeros(2, 2).permute(0, 0),
 "squeeze_oob": lambda T: T.zeros(2).squeeze(3),
 "unsqueeze_oob": lambda T: T.zeros(2).unsqueeze(3),
 "expand_bad": lambda T: T.zeros(2).expand(3),
 "expand_neg": lambda T: T.zeros(2).expand(-2),
 "repeat_few": lambda T: T.zeros(2, 2).repeat(2),
 "split_zero": lambda T: T.zeros(4).split(0),
 "chunk_zero": lambda T: T.zeros(4).chunk(0),
 "narrow_oob": lambda T: T.zeros(4).narrow(0, 3, 2),
 "topk_big": lambda T: T.zeros(4).topk(5),
 "sort_bad_dim": lambda T: T.zeros(4).sort(2),
 "softmax_bad_dim": lambda T: T.softmax(T.zeros(4), 2),
 "mean_int": lambda T: T.zeros(4, dtype=T.int64).mean(),
 "std_int": lambda T: T.zeros(4, dtype=T.int64).std(),
 "exp_bool": lambda T: T.exp(T.tensor([True])),
 "neg_bool": lambda T: -T.tensor([True]),
 "sqrt_int": lambda T: T.sqrt(T.tensor([4])),
 "bitwise_float": lambda T: T.tensor([1.]) & T.tensor([1.]),
 "invert_float": lambda T: ~T.tensor([1.]),
 "cumsum_nodim": lambda T: T.zeros(3).cumsum(),
 "add_str": lambda T: T.zeros(3) + "a",
 "add_list": lambda T: T.zeros(3) + [1, 2, 3],
 "add_none": lambda T: T.zeros(3) + None,
 "mul_shapes": lambda T: T.zeros(3) * T.zeros(4),
 "where_shape": lambda T: T.where(T.tensor([True, False]), T.zeros(3), T.zeros(2)),
 "clamp_str": lambda T: T.clamp(T.zeros(3), "a"),
 "pow_str": lambda T: T.zeros(3) ** "a",
 "eq_str": lambda T: T.zeros(3) == "a",
 "lt_str": lambda T: T.zeros(3) < "a",
 "mse_shape": lambda T: T.nn.functional.mse_loss(T.zeros(3), T.zeros(4)),
 "ce_float_target_1d": lambda T: T.nn.functional.cross_entropy(T.zeros(2, 3), T.zeros(2)),
 "ce_bad_class": lambda T: T.nn.functional.cross_entropy(T.zeros(2, 3), T.tensor([0, 5])),
 "nll_int_input": lambda T: T.nn.functional.nll_loss(T.zeros(2, 3, dtype=T.int64), T.tensor([0, 1])),
 "linear_shape": lambda T: T.nn.Linear(3, 2)(T.zeros(2, 4)),
 "linear_int": lambda T: T.nn.Linear(3, 2)(T.zeros(2, 3, dtype=T.int64)),
 "linear_f64": lambda T: T.nn.Linear(3, 2)(T.zeros(2, 3, dtype=T.float64)),
 "conv_shape": lambda T: T.nn.Conv2d(3, 2, 3)(T.zeros(1, 4, 5, 5)),
 "conv_small": lambda T: T.nn.Conv2d(3, 2, 3)(T.zeros(1, 3, 2, 2)),
 "conv_1d_input": lambda T: T.nn.Conv2d(3, 2, 3)(T.zeros(3)),
 "maxpool_big": lambda T: T.nn.MaxPool2d(5)(T.zeros(1, 1, 2, 2)),
 "embedding_oob": lambda T: T.nn.Embedding(3, 2)(T.tensor([5])),
 "embedding_float_idx": lambda T: T.nn.Embedding(3, 2)(T.tensor([1.0])),
 "dropout_p": lambda T: T.nn.Dropout(1.5),
 "dropout_fn_p": lambda T: T.nn.functional.dropout(T.zeros(2), p=-0.1),
 "sgd_lr": lambda T: T.optim.SGD([T.zeros(2, requires_grad=True)], lr=-1),
 "adam_betas": lambda T: T.optim.Adam([T.zeros(2, requires_grad=True)], betas=(1.5, 0.9)),
 "adam_eps": lambda T: T.optim.Adam([T.zeros(2, requires_grad=True)], eps=-1),
 "sgd_nesterov": lambda T: T.optim.SGD([T.zeros(2, requires_grad=True)], lr=0.1, nesterov=True),
 "optim_empty": lambda T: T.optim.SGD([], lr=0.1),
 "optim_tensor": lambda T: T.optim.SGD(T.zeros(2, requires_grad=True), lr=0.1),
 "requires_grad_int": lambda T: T.zeros(2, dtype=T.int64).requires_grad_(),
 "backward_nonscalar": lambda T: T.zeros(2, requires_grad=True).mul(2).backward(),
 "backward_no_grad": lambda T: T.zeros(2).sum().backward(),
 "grad_no_graph": lambda T: T.autograd.grad(T.zeros(1, requires_grad=True).sum(), [T.zeros(1, requires_grad=True)]),
 "device_bad": lambda T: T.zeros(2, device="nope"),
 "device_index": lambda T: T.zeros(2, device="cpu:x"),
 "tensor_ragged": lambda T: T.tensor([[1, 2], [3]]),
 "tensor_str": lambda T: T.tensor("abc"),
 "tensor_none": lambda T: T.tensor(None),
 "tensor_obj": lambda T: T.tensor([object()]),
 "randint_float": lambda T: T.randint(0, 5.5, (2,)),
 "multinomial_3d": lambda T: T.multinomial(T.ones(2, 2, 2), 1),
 "one_hot_neg": lambda T: T.nn.functional.one_hot(T.tensor([-1])),
 "one_hot_float": lambda T: T.nn.functional.one_hot(T.tensor([1.0])),
 "one_hot_empty_infer": lambda T: T.nn.functional.one_hot(T.zeros(0, dtype=T.int64)),
 "bilinear_no_in1_features": lambda T: T.nn.Bilinear(0, 2, 3),
 "pack_lengths_float": lambda T: T.nn.utils.rnn.pack_padded_sequence(T.ones(3, 4, 2), T.tensor([4.7, 2.0, 1.0]), batch_first=True).batch_sizes,
 "pack_lengths_2d": lambda T: T.nn.utils.rnn.pack_padded_sequence(T.ones(3, 4, 2), [[4, 2, 1]], batch_first=True),
 "pack_lengths_0d": lambda T: T.nn.utils.rnn.pack_padded_sequence(T.ones(3, 4, 2), T.tensor(3), batch_first=True),
 "pad_sequence_side": lambda T: T.nn.utils.rnn.pad_sequence([T.ones(2)], padding_side="middle"),
 "nll_weight_dtype": lambda T: T.nn.functional.nll_loss(T.zeros(2, 3), T.tensor([0, 1]), T.ones(3, dtype=T.float64)),
 "cross_entropy_weight_dtype": lambda T: T.nn.CrossEntropyLoss(T.ones(3))(T.zeros(2, 3, dtype=T.float64), T.tensor([0, 1])),
 "cross_entropy_smoothing_weight_dtype": lambda T: T.nn.functional.cross_entropy(
     T.zeros(2, 3), T.tensor([0, 1]), T.ones(3, dtype=T.float64), label_smoothing=0.1),
 "multi_margin_weight_dtype": lambda T: T.nn.functional.multi_margin_loss(T.zeros(2, 3), T.tensor([0, 1]), weight=T.ones(3, dtype=T.float64)),
 "one_hot_empty_given": lambda T: T.nn.functional.one_hot(T.zeros(0, dtype=T.int64), 3),
 "pad_bad": lambda T: T.nn.functional.pad(T.zeros(2, 2), (1,)),
 "interpolate_none": lambda T: T.nn.functional.interpolate(T.zeros(1, 1, 2, 2)),
 "layer_norm_shape": lambda T: T.nn.functional.layer_norm(T.zeros(2, 3), (4,)),
 "eye_neg": lambda T: T.eye(-1),
 "linspace_neg": lambda T: T.linspace(0, 1, -1),
 "full_none": lambda T: T.full((2,), None),
 "flatten_bad": lambda T: T.zeros(2, 2).flatten(1, 0),
 "view_bad": lambda T: T.zeros(4).view(3),
 "reshape_two_neg": lambda T: T.zeros(4).reshape(-1, -1),
 "max_empty": lambda T: T.zeros(0).max(),
 "argmax_empty": lambda T: T.zeros(0).argmax(),
 "min_dim_empty": lambda T: T.zeros(0, 2).min(0),
 "kthvalue_big": lambda T: T.zeros(3).kthvalue(4),
 "gather_float_index": lambda T: T.zeros(3).gather(0, T.tensor([0.])),
 "scatter_oob": lambda T: T.zeros(3).scatter(0, T.tensor([5]), 1.),
 "index_select_2d": lambda T: T.zeros(3).index_select(0, T.tensor([[0]])),
 "masked_fill_float_mask": lambda T: T.zeros(3).masked_fill(T.zeros(3), 1.),
 "diag_3d": lambda T: T.diag(T.zeros(2, 2, 2)),
 "trace_1d": lambda T: T.trace(T.zeros(3)),
 "tril_1d": lambda T: T.tril(T.zeros(3)),
 "cross_bad": lambda T: T.cross(T.zeros(2), T.zeros(2), dim=0),
 "einsum_bad": lambda T: T.einsum("ij,jk->ik", T.zeros(2, 3), T.zeros(2, 3)),
 "state_dict_bad": lambda T: T.nn.Linear(2, 2).load_state_dict({"weight": T.zeros(3, 3)}),
 "module_register_bad": lambda T: T.nn.Module().register_buffer("a.b", T.zeros(1)),
 "module_param_type": lambda T: T.nn.Module().register_parameter("a", T.zeros(1)),
 "sequential_index": lambda T: T.nn.Sequential(T.nn.ReLU())[3],
 "modulelist_index": lambda T: T.nn.ModuleList([T.nn.ReLU()])[3],
 "moduledict_key": lambda T: T.nn.ModuleDict({"a": T.nn.ReLU()})["b"],
 "paramdict_key": lambda T: T.nn.ParameterDict({})["b"],
 "getattr_missing": lambda T: T.nn.Linear(2, 2).nonexistent,
 "clip_grad_bad": lambda T: T.nn.utils.clip_grad_norm_([T.zeros(2, requires_grad=True)], max_norm="a"),
 "lr_scheduler_bad": lambda T: T.optim.lr_scheduler.StepLR(T.optim.SGD([T.zeros(2, requires_grad=True)], lr=0.1), step_size="a"),
 "rnn_bad_mode": lambda T: T.nn.RNN(3, 2, nonlinearity="sigmoid"),
 "rnn_dropout": lambda T: T.nn.LSTM(3, 2, dropout=1.5),
 "rnn_layers": lambda T: T.nn.LSTM(3, 2, num_layers=0),
 "bce_range": lambda T: T.nn.functional.binary_cross_entropy(T.full((2,), 1.5), T.zeros(2)),
 "kl_shape": lambda T: T.nn.functional.kl_div(T.zeros(2), T.zeros(3), reduction="sum"),
 "loss_reduction": lambda T: T.nn.functional.mse_loss(T.zeros(2), T.zeros(2), reduction="avg"),
 "prelu_bad": lambda T: T.nn.PReLU(num_parameters=3)(T.zeros(2, 2)),
 "unfold_bad": lambda T: T.zeros(4).unfold(0, 5, 1),
 "bincount_neg": lambda T: T.bincount(T.tensor([-1])),
 "bincount_float": lambda T: T.bincount(T.tensor([1.0])),
 "searchsorted_dims": lambda T: T.searchsorted(T.zeros(2, 3), T.zeros(3, 1)),
 "roll_mismatch": lambda T: T.zeros(3).roll((1, 2), (0,)),
 "tile_none": lambda T: T.zeros(3).tile(None),
 "nonzero_0d": lambda T: T.tensor(1.).nonzero(),
 "type_str": lambda T: T.zeros(2).type("nonsense"),
 "new_zeros_float": lambda T: T.zeros(2).new_zeros((2.5,)),
 "numpy_grad": lambda T: T.zeros(2, requires_grad=True).numpy(),
 "item_empty": lambda T: T.zeros(0).item(),
 "fill_tensor_1d": lambda T: T.zeros(2).fill_(T.zeros(2)),
 "copy_shape": lambda T: T.zeros(2).copy_(T.zeros(3)),
 "inplace_leaf": lambda T: T.zeros(2, requires_grad=True).add_(1),
 "inplace_broadcast": lambda T: T.zeros(2).add_(T.zeros(2, 2)),
 "inplace_int_float": lambda T: T.zeros(2, dtype=T.int64).add_(1.5),
}
# fmt: on


def _run(fn, T, device="cpu"):
    try:
        value = fn(T)
        if T is ember and device.startswith("cuda"):  # index checks run on the GPU, reported at the next sync
            ember.cuda.synchronize()
        return None, value
    except Exception as exc:  # noqa: BLE001 - the outcome is the exception's type
        if device.startswith("cuda") and "device-side assert" in str(exc):
            return _DEVICE_ASSERT, None
        return type(exc), None


# PyTorch on a GPU reports a bad index by a device-side assert (a RuntimeError at the next sync)
# where its CPU kernels raise IndexError or RuntimeError at once; ember's CUDA backend does the same
_DEVICE_ASSERT = object()


def _plain(value):
    if isinstance(value, (ember.Tensor, torch.Tensor)):
        return np.asarray(value.detach().cpu().numpy() if isinstance(value, ember.Tensor) else value.detach().numpy())
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


@pytest.fixture
def on_device(device):
    ember.set_default_device(device)
    yield device
    ember.set_default_device(None)


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_outcome_matches_torch(on_device, name):
    fn = BAD_INPUTS[name]
    expected_error, expected = _run(fn, torch)
    actual_error, actual = _run(fn, ember, on_device)
    if actual_error is _DEVICE_ASSERT:
        assert expected_error in (IndexError, RuntimeError), expected_error
        return
    assert actual_error is expected_error, (actual_error, expected_error)
    if expected_error is None and isinstance(expected, (torch.Tensor, tuple, list, bool, int, float)):
        a, e = _plain(actual), _plain(expected)
        if isinstance(e, np.ndarray):
            np.testing.assert_allclose(a, e, rtol=1e-6)
