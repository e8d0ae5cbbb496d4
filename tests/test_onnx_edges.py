"""ember.onnx.export against PyTorch: the exported graph, run in onnxruntime on a *new* input,
gives PyTorch's forward of the same weights (float32, rtol 1e-5), and the model passes
``onnx.checker`` with ``full_check=True``.

Running the graph on an input other than the one traced catches values that were frozen
into the graph as constants (the worst failure of a tracing exporter: a right answer on
the example, a wrong one on everything else).

The exporter reads parameters and inputs on the host and onnxruntime runs on the CPU, so
these tests build their models on the ``cpu`` device only.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import ember
import ember.onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")


def _flat(value):
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [t for item in value for t in _flat(item)]


def _inputs(shapes, seed):
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        if isinstance(s, np.ndarray):
            out.append(s)
        else:
            out.append(rng.standard_normal(s).astype(np.float32))
    return out


def _export(model, args, optimize=True, **kwargs):
    buffer = io.BytesIO()
    proto = ember.onnx.export(model, args, buffer, **kwargs)
    onnx.checker.check_model(proto, full_check=True)
    options = ort.SessionOptions()
    if not optimize:  # onnxruntime's graph optimizations drop a Cast to float16 and back
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return proto, ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])


def _compare(session, torch_model, arrays, rtol=1e-5, atol=1e-6):
    feeds = {i.name: a for i, a in zip(session.get_inputs(), arrays)}
    got = session.run(None, feeds)
    with torch.no_grad():
        expected = _flat(torch_model(*[torch.from_numpy(a) for a in arrays]))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        e = e.numpy()
        assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, e.shape, g.dtype, e.dtype)
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


def _check(ember_model, torch_model, shapes, rtol=1e-5, atol=1e-6, optimize=True, **kwargs):
    """Export ``ember_model`` on one input, run the graph on another, compare with ``torch_model``."""
    torch_model.eval()
    traced = _inputs(shapes, 0)
    proto, session = _export(ember_model, tuple(ember.tensor(a) for a in traced), optimize, **kwargs)
    _compare(session, torch_model, _inputs(shapes, 1), rtol, atol)
    return proto


def _layer(make, *shapes, rtol=1e-5, atol=1e-6, **kwargs):
    """``make(nn)`` built in both libraries with PyTorch's weights, exported and compared."""
    torch.manual_seed(0)
    torch_model, ember_model = make(torch.nn).eval(), make(ember.nn)
    state = {k: ember.tensor(v.detach().numpy().copy()) for k, v in torch_model.state_dict().items()}
    ember_model.load_state_dict(state)
    return _check(ember_model, torch_model, shapes, rtol, atol, **kwargs)


def _function(fn, *shapes, rtol=1e-5, atol=1e-6, optimize=True, **kwargs):
    """A forward ``fn(lib, *inputs)`` written once for ``ember`` and ``torch``."""

    def make(nn, lib):
        class Forward(nn.Module):
            def forward(self, *inputs):
                return fn(lib, *inputs)

        return Forward()

    return _check(make(ember.nn, ember), make(torch.nn, torch), shapes, rtol, atol, optimize, **kwargs)


S = (2, 3, 5, 6)

ACTIVATIONS = {
    "relu6": lambda nn: nn.ReLU6(),
    "hardtanh": lambda nn: nn.Hardtanh(-0.5, 0.3),
    "hardsigmoid": lambda nn: nn.Hardsigmoid(),
    "hardswish": lambda nn: nn.Hardswish(),
    "mish": lambda nn: nn.Mish(),
    "celu": lambda nn: nn.CELU(0.3),
    "selu": lambda nn: nn.SELU(),
    "prelu": lambda nn: nn.PReLU(),
    "prelu_channels": lambda nn: nn.PReLU(3),
    "softplus": lambda nn: nn.Softplus(),
    "softplus_beta": lambda nn: nn.Softplus(beta=2, threshold=1),
    "softshrink": lambda nn: nn.Softshrink(0.3),
    "hardshrink": lambda nn: nn.Hardshrink(),
    "logsigmoid": lambda nn: nn.LogSigmoid(),
    "threshold": lambda nn: nn.Threshold(0.1, 20.0),
    "rrelu_eval": lambda nn: nn.RReLU(),
    "softmin": lambda nn: nn.Softmin(1),
    "glu": lambda nn: nn.GLU(-1),
    "softsign": lambda nn: nn.Softsign(),
    "tanhshrink": lambda nn: nn.Tanhshrink(),
    "softmax2d": lambda nn: nn.Softmax2d(),
    "elu": lambda nn: nn.ELU(0.3),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch(name):
    _layer(ACTIVATIONS[name], S)


LAYERS = {
    "conv1d_groups_dilation": (lambda nn: nn.Conv1d(4, 6, 3, groups=2, dilation=2, padding=2), (2, 4, 11)),
    "conv2d_replicate": (lambda nn: nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode="replicate"), (2, 3, 6, 7)),
    "conv2d_same_dilated": (lambda nn: nn.Conv2d(3, 4, (3, 4), padding="same", dilation=(2, 1)), (2, 3, 8, 7)),
    "conv3d_depthwise": (lambda nn: nn.Conv3d(4, 4, 2, groups=4, stride=(1, 2, 1)), (1, 4, 4, 5, 5)),
    "conv_transpose2d_output_padding": (
        lambda nn: nn.ConvTranspose2d(4, 4, 3, stride=3, dilation=2, output_padding=(2, 1), groups=2),
        (2, 4, 4, 5),
    ),
    "layer_norm": (lambda nn: nn.LayerNorm(6), (2, 3, 6)),
    "layer_norm_2d_no_affine": (lambda nn: nn.LayerNorm((5, 6), elementwise_affine=False), (2, 3, 5, 6)),
    "layer_norm_no_bias": (lambda nn: nn.LayerNorm(6, bias=False), (2, 3, 6)),
    "group_norm": (lambda nn: nn.GroupNorm(2, 4), (2, 4, 5, 5)),
    "group_norm_no_affine": (lambda nn: nn.GroupNorm(3, 6, affine=False), (2, 6, 7)),
    "instance_norm2d": (lambda nn: nn.InstanceNorm2d(3), (2, 3, 5, 5)),
    "instance_norm1d_affine": (lambda nn: nn.InstanceNorm1d(3, affine=True), (2, 3, 5)),
    "rms_norm": (lambda nn: nn.RMSNorm(6), (2, 3, 6)),
    "local_response_norm": (lambda nn: nn.LocalResponseNorm(3), (2, 5, 4, 4)),
    "upsample_nearest": (lambda nn: nn.Upsample(scale_factor=2, mode="nearest"), (2, 3, 4, 5)),
    "upsample_nearest_size": (lambda nn: nn.Upsample(size=(7, 9), mode="nearest"), (2, 3, 4, 5)),
    "upsample_nearest_exact": (lambda nn: nn.Upsample(size=(7, 9), mode="nearest-exact"), (2, 3, 4, 5)),
    "upsample_bilinear": (lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 4, 5)),
    "upsample_bilinear_align": (
        lambda nn: nn.Upsample(size=(7, 9), mode="bilinear", align_corners=True),
        (2, 3, 4, 5),
    ),
    "upsample_linear": (lambda nn: nn.Upsample(scale_factor=3, mode="linear"), (2, 3, 4)),
    "upsample_trilinear": (lambda nn: nn.Upsample(size=(3, 5, 6), mode="trilinear"), (1, 2, 2, 3, 4)),
    "upsampling_nearest2d": (lambda nn: nn.UpsamplingNearest2d(scale_factor=2), (2, 3, 4, 5)),
    "upsampling_bilinear2d": (lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), (2, 3, 4, 5)),
    "zero_pad2d": (lambda nn: nn.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    "reflection_pad1d": (lambda nn: nn.ReflectionPad1d(2), (2, 3, 5)),
    "replication_pad2d": (lambda nn: nn.ReplicationPad2d(1), (2, 3, 4, 5)),
    "constant_pad1d": (lambda nn: nn.ConstantPad1d((2, 1), 3.5), (2, 3, 5)),
    "pixel_shuffle": (lambda nn: nn.PixelShuffle(2), (2, 8, 3, 4)),
    "pixel_unshuffle": (lambda nn: nn.PixelUnshuffle(2), (2, 2, 4, 6)),
    "unflatten": (lambda nn: nn.Unflatten(1, (2, 3)), (4, 6, 5)),
    "dropout_eval": (lambda nn: nn.Dropout(0.3), (2, 3)),
    "bilinear": (lambda nn: nn.Bilinear(3, 4, 5), (2, 3), (2, 4)),
    "pairwise_distance": (lambda nn: nn.PairwiseDistance(), (2, 3), (2, 3)),
}


POOLING = {
    # PyTorch drops a ceil_mode window that would start in the right padding; ONNX keeps it
    "max_pool2d_ceil_last_window": (lambda nn: nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True), (2, 3, 5, 6)),
    "max_pool1d_ceil_dilation": (
        lambda nn: nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True, dilation=2),
        (2, 3, 10),
    ),
    "max_pool1d_ceil_unbatched": (lambda nn: nn.MaxPool1d(2, stride=2, padding=1, ceil_mode=True), (3, 5)),
    "max_pool3d_ceil": (lambda nn: nn.MaxPool3d(3, stride=2, padding=1, ceil_mode=True), (1, 2, 6, 5, 7)),
    "avg_pool2d_ceil_last_window": (lambda nn: nn.AvgPool2d(2, stride=2, padding=1, ceil_mode=True), (2, 3, 5, 6)),
    "avg_pool2d_ceil_unbatched": (lambda nn: nn.AvgPool2d(2, stride=2, padding=1, ceil_mode=True), (3, 5, 6)),
    "avg_pool2d_ceil_no_pad_count": (
        lambda nn: nn.AvgPool2d(2, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        (2, 3, 5, 6),
    ),
    "avg_pool1d_ceil": (lambda nn: nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8)),
    "avg_pool3d_ceil": (lambda nn: nn.AvgPool3d(3, stride=2, padding=1, ceil_mode=True), (1, 2, 6, 5, 7)),
    # output sizes that do not divide the input size
    "adaptive_avg_pool2d_uneven": (lambda nn: nn.AdaptiveAvgPool2d((3, 4)), (2, 3, 7, 10)),
    "adaptive_avg_pool2d_uneven_5": (lambda nn: nn.AdaptiveAvgPool2d(3), (1, 1, 5, 5)),
    "adaptive_max_pool1d_uneven": (lambda nn: nn.AdaptiveMaxPool1d(3), (2, 3, 7)),
    "adaptive_avg_pool1d_larger": (lambda nn: nn.AdaptiveAvgPool1d(5), (2, 3, 3)),
    "adaptive_max_pool3d_none": (lambda nn: nn.AdaptiveMaxPool3d((2, 3, None)), (1, 2, 5, 7, 4)),
    "adaptive_avg_pool2d_unbatched": (lambda nn: nn.AdaptiveAvgPool2d((3, 2)), (3, 7, 5)),
}


@pytest.mark.parametrize("name", sorted(POOLING))
def test_pooling_matches_torch(name):
    make, *shapes = POOLING[name]
    _layer(make, *shapes)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_torch(name):
    make, *shapes = LAYERS[name]
    _layer(make, *shapes)


def test_bicubic_upsample_matches_torch():
    _layer(lambda nn: nn.Upsample(scale_factor=2, mode="bicubic"), (2, 3, 4, 5), rtol=1e-4, atol=1e-5)


def test_layer_norm_before_opset_17_is_written_out():
    proto = _layer(lambda nn: nn.LayerNorm(6), (2, 3, 6), opset_version=13)
    assert "LayerNormalization" not in {n.op_type for n in proto.graph.node}


def test_embedding_padding_idx_matches_torch():
    _layer(lambda nn: nn.Embedding(10, 4, padding_idx=2), np.array([[1, 2, 9], [0, 2, 3]]))


TENSOR_CODE = {
    "slices_negative": (lambda L, x: x[-2:, ::2, -1], (4, 5, 6)),
    "slices_negative_stop": (lambda L, x: x[1:-1, :, 2:-2:3], (4, 5, 6)),
    "masked_fill": (lambda L, x: x.masked_fill(x > 0, -1.0), (4, 5)),
    "where": (lambda L, x, y: L.where(x > y, x, y), (4, 5), (4, 5)),
    "where_scalar": (lambda L, x: L.where(x > 0, x, 0.5), (4, 5)),
    "clamp": (lambda L, x: x.clamp(-0.5, 0.5), (4, 5)),
    "clamp_min": (lambda L, x: L.clamp(x, min=0.1), (4, 5)),
    "clamp_max": (lambda L, x: x.clamp(max=0.1), (4, 5)),
    "expand": (lambda L, x: x.expand(3, 4, 5), (4, 1)),
    "expand_keep": (lambda L, x: x.expand(2, -1, 5), (1, 4, 1)),
    "repeat": (lambda L, x: x.repeat(2, 3), (4, 5)),
    "repeat_new_dims": (lambda L, x: x.repeat(2, 1, 3), (4, 5)),
    "stack": (lambda L, x, y: L.stack([x, y], dim=1), (4, 5), (4, 5)),
    "stack_negative": (lambda L, x, y: L.stack((x, y), -1), (4, 5), (4, 5)),
    "split": (lambda L, x: x.split(2, dim=1), (4, 5)),
    "split_sections": (lambda L, x: L.split(x, [1, 4], dim=1), (4, 5)),
    "chunk": (lambda L, x: x.chunk(3, dim=-1), (4, 5)),
    "unbind": (lambda L, x: x.unbind(1), (4, 3)),
    "max_dim": (lambda L, x: x.max(dim=1), (4, 5, 6)),
    "max_all": (lambda L, x: x.max(), (4, 5, 6)),
    "min_keepdim": (lambda L, x: x.min(dim=1, keepdim=True), (4, 5, 6)),
    "maximum": (lambda L, x, y: L.maximum(x, y) + L.minimum(x, y), (4, 5), (4, 5)),
    "amax": (lambda L, x: x.amax(dim=(0, 1)), (4, 5, 6)),
    "prod": (lambda L, x: x.prod(1), (4, 5, 6)),
    "var": (lambda L, x: x.var(1), (4, 5, 6)),
    "std_keepdim": (lambda L, x: x.std(1, keepdim=True), (4, 5, 6)),
    "var_correction": (lambda L, x: x.var(dim=(0, 2), correction=0), (4, 5, 6)),
    "norm": (lambda L, x: x.norm(dim=1), (4, 5, 6)),
    "sum_keepdim": (lambda L, x: x.sum(dim=(0, 2), keepdim=True), (4, 5, 6)),
    "argmax": (lambda L, x: x.argmax(dim=1), (4, 5, 6)),
    "argmax_keepdim": (lambda L, x: x.argmax(dim=-1, keepdim=True), (4, 5, 6)),
    "argmax_all": (lambda L, x: x.argmax(), (4, 5, 6)),
    "argmin": (lambda L, x: L.argmin(x, 0), (4, 5, 6)),
    "topk": (lambda L, x: x.topk(3, dim=1), (4, 5, 6)),
    "topk_smallest": (lambda L, x: L.topk(x, 2, largest=False), (4, 5, 6)),
    "sort": (lambda L, x: x.sort(dim=1), (4, 5, 6)),
    "sort_descending": (lambda L, x: x.sort(descending=True), (4, 5, 6)),
    "cumsum": (lambda L, x: x.cumsum(1), (4, 5, 6)),
    "cumsum_negative": (lambda L, x: L.cumsum(x, dim=-1), (4, 5, 6)),
    "matmul_broadcast": (lambda L, x, y: x @ y, (2, 1, 4, 5), (3, 5, 6)),
    "einsum": (lambda L, x, y: L.einsum("bij,bjk->bik", x, y), (2, 4, 5), (2, 5, 3)),
    "einsum_diagonal": (lambda L, x: L.einsum("ii->i", x), (4, 4)),
    "cast_long": (lambda L, x: (x * 3).long(), (4, 5)),
    "type_as": (lambda L, x: x.type_as(x.long()), (4, 5)),
    "compare_float": (lambda L, x: (x > 0).float(), (4, 5)),
    "compare_logic": (lambda L, x, y: ((x > y) & (x < 1)) | (x == y), (4, 5), (4, 5)),
    "compare_not": (lambda L, x: ~(x > 0), (4, 5)),
    "arange_inside": (lambda L, x: x + L.arange(5), (4, 5)),
    "zeros_like": (lambda L, x: x + L.zeros_like(x) + L.ones_like(x), (4, 5)),
    "full_like": (lambda L, x: x * L.full_like(x, 3.0), (4, 5)),
    "python_scalars": (lambda L, x: 2.0 - x * 3 / 4 + 1, (4, 5)),
    "pow": (lambda L, x: x**2 + x.pow(3), (4, 5)),
    "rpow": (lambda L, x: 2**x, (4, 5)),
    "tuple_output": (lambda L, x: (x, (x * 2, x + 1)), (4, 5)),
    "dict_output": (lambda L, x: {"a": x * 2, "b": x + 1}, (4, 5)),
    "matrix_transpose": (lambda L, x: x.mT + 1, (2, 4, 5)),
    "transpose_property": (lambda L, x: x.T * 2, (4, 5)),
    "flip": (lambda L, x: x.flip(1), (4, 5)),
    "flip_two": (lambda L, x: L.flip(x, (0, 2)), (3, 4, 5)),
    "rsqrt": (lambda L, x: x.abs().rsqrt(), (4, 5)),
    "unary": (lambda L, x: x.sin() + x.cos() + x.floor() + x.ceil() + x.sign() + x.exp().log1p(), (4, 5)),
    "erf": (lambda L, x: x.erf(), (4, 5)),
    "gather": (lambda L, x: x.gather(1, L.tensor([[0, 1], [2, 3], [4, 0], [1, 1]])), (4, 5)),
    "index_select": (lambda L, x: x.index_select(1, L.tensor([0, 3])), (4, 5)),
    "tril": (lambda L, x: x.tril(), (4, 5)),
    "triu_offset": (lambda L, x: L.triu(x, 1), (4, 5)),
    "linear_functional": (lambda L, x, w: L.nn.functional.linear(x, w), (4, 5), (3, 5)),
    "normalize": (lambda L, x: L.nn.functional.normalize(x, dim=1), (4, 5)),
    "pad_functional": (lambda L, x: L.nn.functional.pad(x, (1, 2)), (4, 5)),
    "interpolate_functional": (lambda L, x: L.nn.functional.interpolate(x, scale_factor=2), (1, 2, 4, 5)),
    "addmm": (lambda L, x, y: L.addmm(x, y, y.t()), (4, 4), (4, 5)),
}


@pytest.mark.parametrize("name", sorted(TENSOR_CODE))
def test_tensor_code_matches_torch(name):
    fn, *shapes = TENSOR_CODE[name]
    _function(fn, *shapes)


def test_float16_casts_match_torch():
    # (onnxruntime's float16 arithmetic rounds differently from PyTorch's: only casts are compared)
    _function(lambda L, x: (x.half(), x.half().float() + 1, x.to(L.float16).to(L.float64)), (4, 5), optimize=False)


INTEGER_CODE = {
    "floor_divide": lambda L, x: x // 2,
    "true_divide": lambda L, x: x / 2,
    "remainder": lambda L, x: x % 3 + L.remainder(x, -4),
    "rounding_modes": lambda L, x: L.div(x, 3, rounding_mode="trunc") + L.div(x, -4, rounding_mode="floor"),
    "float_remainder": lambda L, x: (x * 0.7) % 1.3 + L.remainder(x * 0.3, -0.8),
    "one_hot": lambda L, x: L.nn.functional.one_hot(x % 5, 5),
    "compare": lambda L, x: (x > 4).long() + x,
}


@pytest.mark.parametrize("name", sorted(INTEGER_CODE))
def test_integer_code_matches_torch(name):
    fn = INTEGER_CODE[name]

    def make(nn, lib):
        class Forward(nn.Module):
            def forward(self, x):
                return fn(lib, x)

        return Forward()

    traced = np.arange(-6, 6).reshape(3, 4)
    _, session = _export(make(ember.nn, ember), (ember.tensor(traced),))
    _compare(session, make(torch.nn, torch), [np.array([[7, -3, 2, 9], [0, 1, -8, 4], [5, 5, -1, 3]])])


class _Frozen(ember.nn.Module):
    def forward(self, x):
        return x.kthvalue(2, dim=1).indices


def test_a_result_the_exporter_does_not_record_is_an_error_not_a_constant():
    # before: the indices were computed at export and stored as a constant, so onnxruntime
    # returned the example's answer for every input
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="does not record it.*in 'Tensor.kthvalue'"):
        ember.onnx.export(_Frozen(), (ember.randn(3, 4),), io.BytesIO())


def test_a_value_computed_inside_a_custom_function_is_not_frozen():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class Net(ember.nn.Module):
        def forward(self, x):
            return Square.apply(x) + 1

    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="Square"):
        ember.onnx.export(Net(), (ember.randn(3),), io.BytesIO())


def _attention(mask_kind):
    def make(nn):
        lib = torch if nn is torch.nn else ember

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.attention = nn.MultiheadAttention(8, 2, batch_first=True)

            def forward(self, x, padding):
                mask = lib.triu(lib.ones(5, 5, dtype=lib.bool), diagonal=1) if mask_kind == "causal" else None
                return self.attention(x, x, x, key_padding_mask=padding, attn_mask=mask, average_attn_weights=False)

        return Net()

    return make


ATTENTION = {
    "mha": (lambda nn: nn.MultiheadAttention(8, 2), (5, 2, 8), (5, 2, 8), (5, 2, 8)),
    "mha_unbatched": (lambda nn: nn.MultiheadAttention(8, 2), (5, 8), (6, 8), (6, 8)),
    "mha_kdim_vdim_batch_first": (
        lambda nn: nn.MultiheadAttention(8, 2, batch_first=True, kdim=6, vdim=4),
        (2, 5, 8),
        (2, 5, 6),
        (2, 5, 4),
    ),
    "mha_masks": (_attention("causal"), (2, 5, 8), np.array([[False] * 4 + [True], [False] * 5])),
    "encoder_layer": (lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1), (5, 2, 8)),
    "encoder_layer_norm_first_gelu": (
        lambda nn: nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True, batch_first=True),
        (2, 5, 8),
    ),
    "encoder": (
        lambda nn: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2, enable_nested_tensor=False
        ),
        (2, 5, 8),
    ),
    "decoder_layer": (lambda nn: nn.TransformerDecoderLayer(8, 2, 16, batch_first=True), (2, 5, 8), (2, 4, 8)),
}


@pytest.mark.parametrize("name", sorted(ATTENTION))
def test_attention_matches_torch(name):
    # before: 'exporting ... _Linear ... does not record' (the projections inside the attention)
    make, *shapes = ATTENTION[name]
    _layer(make, *shapes)


def test_encoder_layer_with_padding_mask_and_dynamic_batch():
    class Net:
        @staticmethod
        def make(nn):
            class Encoder(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)

                def forward(self, x, padding):
                    return self.layer(x, src_key_padding_mask=padding)

            return Encoder()

    torch.manual_seed(0)
    torch_model, ember_model = Net.make(torch.nn).eval(), Net.make(ember.nn)
    ember_model.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in torch_model.state_dict().items()})
    padding = np.array([[False] * 4 + [True], [False] * 5])
    _, session = _export(
        ember_model, (ember.randn(2, 5, 8), ember.tensor(padding)), input_names=["x", "padding"],
        output_names=["y"], dynamic_axes={"x": {0: "batch"}, "padding": {0: "batch"}, "y": {0: "batch"}},
    )  # fmt: skip
    x = _inputs([(3, 5, 8)], 2)[0]
    _compare(session, torch_model, [x, np.array([[False] * 5, [False] * 3 + [True] * 2, [False] * 5])])


INDEXING = {
    "bool_mask": (lambda L, x: x[x > 0], (4, 5)),
    "bool_mask_rows": (lambda L, x: x[x[:, 0] > 0], (4, 5)),
    "bool_mask_constant": (lambda L, x: x[L.tensor([True, False, True, True])], (4, 5)),
    "tensor_index": (lambda L, x: x[L.tensor([0, 2])], (4, 5)),
    "tensor_index_negative": (lambda L, x: x[:, L.tensor([-1, 0, 2])], (4, 5)),
    "tensor_index_2d_after_slice": (lambda L, x: x[1:, L.tensor([[0, 1], [3, 4]]), None], (4, 5, 3)),
    "list_index": (lambda L, x: x[[0, 3, 3]], (4, 5)),
    "ellipsis_tensor_index": (lambda L, x: x[..., L.tensor([2, 0])], (4, 5, 3)),
    "input_index": (lambda L, x, i: x[i], (6, 3), np.array([[1, 5], [0, 2]])),
}


@pytest.mark.parametrize("name", sorted(INDEXING))
def test_indexing_matches_torch(name):
    # before: 'indexing with tensors, lists or bools is not supported'
    fn, *shapes = INDEXING[name]
    proto = _function(fn, *shapes)
    if name.startswith("bool_mask") and name != "bool_mask_constant":  # the length depends on the values
        assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param


def test_two_tensor_indices_are_an_error():
    class Net(ember.nn.Module):
        def forward(self, x):
            return x[ember.tensor([0, 1]), ember.tensor([1, 2])]

    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="more than one tensor"):
        ember.onnx.export(Net(), (ember.randn(3, 4),), io.BytesIO())


class _Scaled(ember.nn.Module):
    def forward(self, x, scale=None, shift=0.0):
        return x * scale + shift


class _TorchScaled(torch.nn.Module):
    def forward(self, x, scale=None, shift=0.0):
        return x * scale + shift


@pytest.mark.parametrize("form", ["trailing_dict", "kwargs"])
def test_keyword_tensors_are_graph_inputs(form):
    # before: the keyword tensor was stored as a constant: onnxruntime ignored a new scale
    x, scale = ember.randn(4, 3), ember.ones(3) * 2
    if form == "trailing_dict":
        proto, session = _export(_Scaled(), (x, {"scale": scale}))
    else:
        proto, session = _export(_Scaled(), (x,), kwargs={"scale": scale})
    assert [i.name for i in proto.graph.input] == ["x", "scale"]
    arrays = _inputs([(4, 3), (3,)], 3)
    got = session.run(None, {"x": arrays[0], "scale": arrays[1]})[0]
    expected = _TorchScaled()(torch.from_numpy(arrays[0]), scale=torch.from_numpy(arrays[1]))
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-6)


def _small():
    return ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.Dropout(0.5), ember.nn.ReLU())


@pytest.mark.parametrize("opset", [13, 16, 17, 18, 20, 21])
def test_supported_opsets_run(opset):
    _layer(lambda nn: nn.Sequential(nn.Linear(6, 6), nn.LayerNorm(6), nn.GELU(), nn.Upsample(scale_factor=2)),
           (2, 3, 6), opset_version=opset)  # fmt: skip


@pytest.mark.parametrize("opset", [12, 1000])
def test_unsupported_opset_is_a_runtime_error_naming_it(opset):
    # before: opset 1000 gave onnx's bare "ValueError: Unsupported opset-version."
    with pytest.raises(RuntimeError, match=f"Unsupported onnx_opset_version: {opset}"):
        ember.onnx.export(_small(), (ember.randn(2, 3),), io.BytesIO(), opset_version=opset)


def test_training_modes():
    modes = ember.onnx.TrainingMode
    assert [m.value for m in modes] == [
        m.value
        for m in (torch.onnx.TrainingMode.EVAL, torch.onnx.TrainingMode.PRESERVE, torch.onnx.TrainingMode.TRAINING)
    ]  # noqa: E501
    model = _small().train()
    proto = ember.onnx.export(model, (ember.randn(2, 3),), io.BytesIO(), training=modes.EVAL)
    assert "Dropout" not in {n.op_type for n in proto.graph.node} and model.training
    with pytest.raises(ember.onnx.OnnxExporterError, match="TrainingMode.PRESERVE"):
        ember.onnx.export(model, (ember.randn(2, 3),), io.BytesIO(), training=modes.PRESERVE)
    with pytest.raises(ember.onnx.OnnxExporterError, match="TrainingMode.TRAINING"):
        ember.onnx.export(model.eval(), (ember.randn(2, 3),), io.BytesIO(), training=modes.TRAINING)
    ember.onnx.export(model.eval(), (ember.randn(2, 3),), io.BytesIO(), training=modes.PRESERVE)
    ember.onnx.export(model, (ember.randn(2, 3),), io.BytesIO(), training=torch.onnx.TrainingMode.EVAL)


def _linear_pair():
    torch.manual_seed(0)
    torch_model = torch.nn.Linear(3, 2)
    ember_model = ember.nn.Linear(3, 2)
    ember_model.load_state_dict(
        {k: ember.tensor(v.detach().numpy().copy()) for k, v in torch_model.state_dict().items()}
    )
    return ember_model, torch_model


@pytest.mark.parametrize(
    "options",
    [dict(export_params=False), dict(keep_initializers_as_inputs=True), dict(do_constant_folding=False)],
    ids=["no_params", "initializers_as_inputs", "no_folding"],
)
def test_export_options_run(options, tmp_path):
    ember_model, torch_model = _linear_pair()
    path = tmp_path / "model.onnx"
    ember.onnx.export(ember_model, (ember.randn(4, 3),), path, input_names=["x"], **options)  # a PathLike f
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = _inputs([(4, 3)], 4)[0]
    feeds = {"x": x}
    if not options.get("export_params", True):
        assert [i.name for i in proto.graph.input] == ["x", "weight", "bias"] and not proto.graph.initializer
        feeds.update({k: v.detach().numpy() for k, v in torch_model.state_dict().items()})
    if options.get("keep_initializers_as_inputs"):
        assert [i.name for i in proto.graph.input] == ["x", "weight", "bias"] and len(proto.graph.initializer) == 2
    np.testing.assert_allclose(
        session.run(None, feeds)[0], torch_model(torch.from_numpy(x)).detach().numpy(), rtol=1e-6
    )


def test_dynamic_batch_and_sequence_axes():
    def make(nn):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(3, 4, batch_first=True, bidirectional=True)
                self.head = nn.Linear(8, 2)

            def forward(self, x):
                out, _ = self.lstm(x)
                return self.head(out).softmax(-1)

        return Net()

    torch.manual_seed(0)
    torch_model, ember_model = make(torch.nn).eval(), make(ember.nn)
    ember_model.load_state_dict(
        {k: ember.tensor(v.detach().numpy().copy()) for k, v in torch_model.state_dict().items()}
    )
    axes = {"x": {0: "batch", 1: "time"}, "y": {0: "batch", 1: "time"}}
    _, session = _export(ember_model, (ember.randn(2, 5, 3),), input_names=["x"], output_names=["y"], dynamic_axes=axes)
    _compare(session, torch_model, [_inputs([(3, 7, 3)], 5)[0]])


def test_an_operation_that_cannot_be_exported_is_named():
    class Net(ember.nn.Module):
        def forward(self, x):
            return x.logcumsumexp(0) * 2

    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="'Tensor.logcumsumexp'"):
        ember.onnx.export(Net(), (ember.randn(3, 2),), io.BytesIO())


MORE_CODE = {
    "softmax_dtype": (lambda L, x: L.nn.functional.softmax(x, -1, dtype=L.float64), (2, 3)),
    "mean_dtype": (lambda L, x: x.mean(dtype=L.float64), (2, 3)),
    "sum_of_bools": (lambda L, x: (x > 0).sum(1), (2, 3)),
    "sum_dtype": (lambda L, x: x.sum(1, dtype=L.float64), (2, 3)),
    "sub_alpha": (lambda L, x, y: L.sub(x, y, alpha=2), (2, 3), (2, 3)),
    "add_alpha": (lambda L, x, y: x.add(y, alpha=0.5), (2, 3), (2, 3)),
    "div_floor": (lambda L, x, y: L.div(x, y, rounding_mode="floor"), (2, 3), (2, 3)),
    "div_trunc": (lambda L, x, y: L.div(x, y, rounding_mode="trunc"), (2, 3), (2, 3)),
    "conv2d_functional": (lambda L, x, w: L.nn.functional.conv2d(x, w, padding=1), (2, 3, 5, 5), (4, 3, 3, 3)),
    "conv_transpose1d_functional": (
        lambda L, x, w: L.nn.functional.conv_transpose1d(x, w, stride=2, output_padding=1),
        (2, 3, 5),
        (3, 2, 3),
    ),
    "max_pool2d_functional": (lambda L, x: L.nn.functional.max_pool2d(x, 2), (2, 3, 6, 6)),
    "avg_pool1d_functional": (lambda L, x: L.nn.functional.avg_pool1d(x, 3, 2, 1, True), (2, 3, 8)),
    "sdpa": (
        lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v),
        (2, 2, 5, 4),
        (2, 2, 6, 4),
        (2, 2, 6, 4),
    ),
    "sdpa_causal_scale": (
        lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
        (2, 2, 5, 4),
        (2, 2, 5, 4),
        (2, 2, 5, 4),
    ),
    "sdpa_bool_mask": (
        lambda L, q, k, v, m: L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m),
        (2, 2, 5, 4),
        (2, 2, 6, 4),
        (2, 2, 6, 4),
        np.random.default_rng(0).random((5, 6)) > 0.3,
    ),
    "baddbmm": (lambda L, x, a, c: L.baddbmm(x, a, c, beta=0.5, alpha=2), (2, 3, 4), (2, 3, 5), (2, 5, 4)),
    "view_as": (lambda L, x, y: x.view_as(y), (2, 6), (3, 4)),
    "movedim": (lambda L, x: L.movedim(x, (0, 1), (2, 0)), (2, 3, 4)),
    "swapaxes": (lambda L, x: x.swapaxes(0, 1), (2, 3, 4)),
    "logsumexp": (lambda L, x: x.logsumexp(1), (2, 6)),
    "all_any": (lambda L, x: ((x > 0).all(1) | (x > 0).any(1, keepdim=True)).float(), (2, 6)),
    "isnan_isinf": (
        lambda L, x: L.where(L.isnan(x) | L.isinf(x), 0.0, x),
        np.array([[1.0, np.nan], [np.inf, -2.0]], dtype=np.float32),
    ),
    "lerp": (lambda L, x, y: L.lerp(x, y, 0.3), (2, 3), (2, 3)),
    "exp2": (lambda L, x: L.exp2(x), (2, 3)),
}


@pytest.mark.parametrize("name", sorted(MORE_CODE))
def test_more_code_matches_torch(name):
    fn, *shapes = MORE_CODE[name]
    _function(fn, *shapes)


def test_export_of_a_model_on_the_device(device):
    """Parameters and inputs on any backend: the graph holds their values and runs the same."""
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(48, 5)
    )
    ember_model = ember.nn.Sequential(
        ember.nn.Conv2d(2, 3, 3), ember.nn.ReLU(), ember.nn.Flatten(), ember.nn.Linear(48, 5)
    )
    ember_model.load_state_dict(
        {k: ember.tensor(v.detach().numpy().copy()) for k, v in torch_model.state_dict().items()}
    )
    ember_model.to(device)

    class Heads(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = ember_model

        def forward(self, x):
            y = self.body(x)
            return y.argmax(-1), y[y > 0]

    class TorchHeads(torch.nn.Module):
        def forward(self, x):
            y = torch_model(x)
            return y.argmax(-1), y[y > 0]

    _, session = _export(Heads(), (ember.randn(2, 2, 6, 6, device=device),))
    _compare(session, TorchHeads(), [_inputs([(2, 2, 6, 6)], 6)[0]])


class _LSTMCellWithState:
    @staticmethod
    def make(nn):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.cell = nn.LSTMCell(3, 5)

            def forward(self, x, h, c):
                return self.cell(x, (h, c))

        return Net()


RECURRENT = {
    "gru_cell": (lambda nn: nn.GRUCell(3, 5), (2, 3)),
    "lstm_cell": (lambda nn: nn.LSTMCell(3, 5), (2, 3)),
    "rnn_cell": (lambda nn: nn.RNNCell(3, 5), (2, 3)),
    "rnn_cell_relu_no_bias": (lambda nn: nn.RNNCell(3, 5, nonlinearity="relu", bias=False), (2, 3)),
    "gru_cell_state": (lambda nn: nn.GRUCell(3, 5), (2, 3), (2, 5)),
    "rnn_cell_unbatched": (lambda nn: nn.RNNCell(3, 5), (3,), (5,)),
    "lstm_cell_state": (_LSTMCellWithState.make, (2, 3), (2, 5), (2, 5)),
    "lstm_bidirectional_batch_first": (
        lambda nn: nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True),
        (2, 4, 3),
    ),
    "gru_bidirectional": (lambda nn: nn.GRU(3, 5, bidirectional=True), (4, 2, 3)),
    "rnn_relu_batch_first": (lambda nn: nn.RNN(3, 5, nonlinearity="relu", batch_first=True), (2, 4, 3)),
}


@pytest.mark.parametrize("name", sorted(RECURRENT))
def test_recurrent_matches_torch(name):
    make, *shapes = RECURRENT[name]
    _layer(make, *shapes)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (5, 3, 4), (2, 3, 4, 4)])
def test_batch_norm_without_running_stats_uses_the_batch(shape, affine):
    # before: 'BatchNorm without running statistics' was refused
    cls = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d"}[len(shape)]
    _layer(lambda nn: getattr(nn, cls)(3, affine=affine, track_running_stats=False), shape)


_INTS = np.arange(6).reshape(2, 3)

EDGE_CODE = {
    "bool_add": (lambda L, x: ((x > 0) + (x < -1)).float(), (2, 3)),
    "bool_mul": (lambda L, x: ((x > 0) * (x < 1)).float(), (2, 3)),
    "none_ellipsis_none": (lambda L, x: x[None, ..., None], (2, 3)),
    "negative_start_step": (lambda L, x: x[-3::2], (7, 3)),
    "zero_d_result": (lambda L, x: (x.sum() * 2).exp(), (2, 3)),
    "zero_d_input": (lambda L, x: x * 2 + x.unsqueeze(0), np.array(1.5, dtype=np.float32)),
    "zero_size_cat": (lambda L, x: L.cat([x[:0], x], 0) * 2, (2, 3)),
    "expand_zero_d": (lambda L, x: x.sum().expand(2, 3), (2, 3)),
    "stack_zero_d": (lambda L, x: L.stack([x.sum(), x.mean()]), (2, 3)),
    "int_and_float": (lambda L, x: (x * 1.5 + (x > 2)).floor(), _INTS),
    "masked_fill_int": (lambda L, x: x.long().masked_fill(x > 0, 7), (2, 3)),
    "clamp_int_float_bound": (lambda L, x: L.clamp(x, min=0.5), _INTS),
    "where_int_float": (lambda L, x: L.where(x > 2, x, 0.5), _INTS),
    "compare_int_float": (lambda L, x: x > 2.5, _INTS),
    "topk_int": (lambda L, x: x.topk(2).values, np.array([[3, 1, 2], [0, 5, 4]])),
    "matmul_vectors": (lambda L, x, y: x @ y, (3,), (3,)),
    "matmul_vector_matrix": (lambda L, x, y: x @ y, (3,), (3, 4)),
    "tensor_index_zero_d": (lambda L, x: x[L.tensor(1)], (3, 4)),
    "chunk_uneven": (lambda L, x: x.chunk(4, 1), (2, 7)),
    "split_uneven": (lambda L, x: x.split(3, -1), (2, 7)),
    "cumsum_bool": (lambda L, x: (x > 0).cumsum(1), (2, 3)),
    "prod_int": (lambda L, x: x.prod(), np.arange(1, 7).reshape(2, 3)),
    "max_of_two": (lambda L, x, y: L.max(x, y), (2, 3), (2, 3)),
    "sort_keywords": (lambda L, x: x.sort(stable=True, dim=0).values, (4, 3)),
    "pow_tensor": (lambda L, x, y: x.abs() ** y, (2, 3), (2, 3)),
    "pow_int": (lambda L, x: x**2 + 2**x, _INTS),
    "float_to_int": (lambda L, x: (x * 3).int(), (2, 3)),
    "round_half_even": (lambda L, x: (x * 2).round(), np.array([0.25, 0.75, 1.25, -0.25, 2.5], dtype=np.float32)),
}


@pytest.mark.parametrize("name", sorted(EDGE_CODE))
def test_edge_code_matches_torch(name):
    fn, *shapes = EDGE_CODE[name]
    _function(fn, *shapes)


_SPECIALS = np.array([1.0, np.nan, np.inf, -np.inf, -2.5], dtype=np.float32)

LAST_CODE = {
    "roll": (lambda L, x: x.roll(1, 1), (4, 5)),
    "roll_two_dims": (lambda L, x: L.roll(x, (-2, 7), (0, -1)), (4, 5)),
    "roll_flattened": (lambda L, x: x.roll(3), (4, 5)),
    "nan_to_num": (lambda L, x: x.nan_to_num(), _SPECIALS),
    "nan_to_num_values": (lambda L, x: L.nan_to_num(x, nan=2.0, posinf=9.0), _SPECIALS),
    "cosine_similarity": (lambda L, x, y: L.nn.functional.cosine_similarity(x, y), (2, 3), (2, 3)),
    "cosine_similarity_broadcast": (
        lambda L, x, y: L.nn.functional.cosine_similarity(x, y, dim=-1),
        (2, 4, 3),
        (4, 3),
    ),
    "lp_pool1d": (lambda L, x: L.nn.functional.lp_pool1d(x, 2, 3), (2, 3, 9)),
    "lp_pool2d_odd_order": (lambda L, x: L.nn.functional.lp_pool2d(x, 3, 2), (2, 3, 4, 4)),
}


@pytest.mark.parametrize("name", sorted(LAST_CODE))
def test_last_code_matches_torch(name):
    fn, *shapes = LAST_CODE[name]
    _function(fn, *shapes)


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda nn: nn.CosineSimilarity(dim=0, eps=1e-6), (3, 4)),
        (lambda nn: nn.LPPool2d(2, 2), (1, 2, 4, 4)),
        (lambda nn: nn.LPPool1d(3, 3, stride=2, ceil_mode=True), (2, 3, 8)),
        (lambda nn: nn.LPPool2d(1.5, (2, 3)), (2, 4, 6)),
    ],
    ids=["cosine_similarity", "lp_pool2d", "lp_pool1d_ceil", "lp_pool2d_unbatched"],
)
def test_distance_and_lp_pool_layers_match_torch(make, shape):
    shapes = (shape, shape) if "Cosine" in repr(make(torch.nn)) else (shape,)
    _layer(make, *shapes)


def test_moves_to_the_host_and_type_casts_are_recorded(device):
    # before: i.cpu() on a device tensor and x.type(dtype) failed ('_Move ... does not record')
    class Net(ember.nn.Module):
        def forward(self, i, x):
            return i.cpu() * 2 + 1, x.cpu().type(ember.float64)

    class TorchNet(torch.nn.Module):
        def forward(self, i, x):
            return i.cpu() * 2 + 1, x.cpu().type(torch.float64)

    args = (ember.tensor([[1, 2], [3, 4]], device=device), ember.randn(2, 2, device=device))
    _, session = _export(Net(), args)
    _compare(session, TorchNet(), [np.array([[5, -6], [7, 8]]), _inputs([(2, 2)], 7)[0]])


def test_attention_with_dynamic_batch_and_sequence():
    # before: the head split reshaped to the example's sequence length; another length failed
    torch.manual_seed(0)
    torch_model = torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval()
    ember_model = ember.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    ember_model.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in torch_model.state_dict().items()})
    axes = {"x": {0: "batch", 1: "time"}}
    _, session = _export(ember_model, (ember.randn(2, 5, 8),), input_names=["x"], dynamic_axes=axes)
    _compare(session, torch_model, [_inputs([(3, 7, 8)], 8)[0]])


CIRCULAR = {
    "conv2d": (lambda nn: nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"), (2, 3, 6, 7), {}),
    "conv1d_same_unbatched": (
        lambda nn: nn.Conv1d(3, 4, 4, padding="same", padding_mode="circular"),
        (3, 7),
        {},
    ),
    "conv3d_opset13": (
        lambda nn: nn.Conv3d(2, 2, 3, padding=(1, 2, 0), padding_mode="circular"),
        (1, 2, 4, 5, 5),
        dict(opset_version=13),
    ),
    "pad2d": (lambda nn: nn.CircularPad2d((1, 2, 0, 3)), (2, 3, 4, 5), {}),
    "pad1d": (lambda nn: nn.CircularPad1d(2), (2, 3, 5), {}),
    "pad2d_opset19": (lambda nn: nn.CircularPad2d((1, 2, 0, 3)), (2, 3, 4, 5), dict(opset_version=19)),
}


@pytest.mark.parametrize("name", sorted(CIRCULAR))
def test_circular_padding_matches_torch(name):
    # before: 'circular padding needs opset_version >= 19' at the default opset 18
    make, shape, options = CIRCULAR[name]
    _layer(make, shape, **options)


def _interpolate(**options):
    return lambda L, x: L.nn.functional.interpolate(x, **options)


INTERPOLATE = {
    "nearest_fractional_scale": (_interpolate(scale_factor=1.7), (1, 2, 5, 6)),
    "nearest_downsample": (_interpolate(scale_factor=0.4), (1, 2, 9, 7)),
    "nearest_per_axis_scales": (_interpolate(scale_factor=(2, 1.5)), (1, 2, 4, 4)),
    "nearest_3d": (_interpolate(scale_factor=(1, 2, 3)), (1, 2, 3, 4, 5)),
    "nearest_exact_scale": (_interpolate(scale_factor=1.7, mode="nearest-exact"), (1, 2, 5, 6)),
    "bilinear_fractional_scale": (_interpolate(scale_factor=1.7, mode="bilinear"), (1, 2, 5, 6)),
    "bilinear_downsample": (_interpolate(scale_factor=0.5, mode="bilinear"), (1, 2, 8, 6)),
    "bilinear_align_corners_scale": (
        _interpolate(scale_factor=2, mode="bilinear", align_corners=True),
        (1, 2, 4, 5),
    ),
    "bilinear_recompute_scale": (
        _interpolate(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
        (1, 2, 5, 6),
    ),
    "linear_size": (_interpolate(size=7, mode="linear"), (1, 2, 5)),
    "bicubic_align_corners": (_interpolate(size=(7, 9), mode="bicubic", align_corners=True), (1, 2, 4, 5)),
}


@pytest.mark.parametrize("name", sorted(INTERPOLATE))
def test_interpolate_matches_torch(name):
    fn, shape = INTERPOLATE[name]
    _function(fn, shape, rtol=1e-4 if "bicubic" in name else 1e-5, atol=1e-5 if "bicubic" in name else 1e-6)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda nn: nn.Softmax(), (2, 3)),
        (lambda nn: nn.Softmax(), (2, 3, 4)),
        (lambda nn: nn.LogSoftmax(), (2, 3, 4, 2)),
    ],
    ids=["softmax_2d", "softmax_3d", "log_softmax_4d"],
)
def test_softmax_with_the_implicit_dim_matches_torch(make, shape):
    # before: 'Softmax needs an explicit dim' (PyTorch picks 0 for 0-, 1- and 3-d inputs, else 1)
    _layer(make, shape)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_functional_softmax_with_the_implicit_dim_matches_torch():
    _function(lambda L, x: L.nn.functional.softmax(x), (2, 3, 4))


def test_dynamic_axes_of_an_unknown_name_warn_as_in_torch():
    with pytest.warns(UserWarning, match="Provided key batch_size for dynamic axes is not a valid input/output name"):
        ember.onnx.export(
            _small(), (ember.randn(2, 3),), io.BytesIO(), input_names=["x"], dynamic_axes={"batch_size": {0: "b"}}
        )


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda nn: nn.LSTM(3, 4, num_layers=2, bidirectional=True), (5, 2, 3)),
        (lambda nn: nn.GRU(3, 4, batch_first=True), (2, 5, 3)),
        (lambda nn: nn.RNN(3, 4, bias=False, bidirectional=True), (5, 2, 3)),
        (lambda nn: nn.LSTMCell(3, 4), (2, 3)),
        (lambda nn: nn.GRUCell(3, 4, bias=False), (2, 3)),
    ],
    ids=["lstm", "gru", "rnn_no_bias", "lstm_cell", "gru_cell_no_bias"],
)
def test_recurrent_weights_are_inputs_without_export_params(make, shape):
    # before: the recurrent weights were stored in the graph even with export_params=False, so
    # the weights fed as inputs were ignored (ember's own weights were used instead)
    torch.manual_seed(1)
    torch_model, ember_model = make(torch.nn).eval(), make(ember.nn)  # different weights: torch's are fed
    proto, session = _export(ember_model, (ember.randn(*shape),), export_params=False)
    x = _inputs([shape], 2)[0]
    feeds = {"input": x, **{k: v.detach().numpy() for k, v in torch_model.state_dict().items()}}
    assert {i.name for i in session.get_inputs()} == set(feeds)
    got = session.run(None, feeds)
    with torch.no_grad():
        expected = _flat(torch_model(torch.from_numpy(x)))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-6)


def test_masked_fill_of_a_uniform_buffer_reads_the_buffer_input():
    class Net(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("base", ember.zeros(2, 3))

        def forward(self, mask):
            return self.base.masked_fill(mask, 1.0)

    _, session = _export(Net(), (ember.tensor([[True, False, True], [False, False, True]]),), export_params=False)
    mask = np.array([[False, True, False], [True, False, False]])
    base = np.full((2, 3), 5.0, dtype=np.float32)
    np.testing.assert_array_equal(session.run(None, {"mask": mask, "base": base})[0], np.where(mask, 1.0, base))
