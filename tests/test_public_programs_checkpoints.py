"""Whole-model checkpoints as ``word_language_model`` writes and reads them, against the real torch.

``main.py``/``generate.py`` load the saved Transformer under ``torch.serialization.safe_globals``
listing classes by module path (``nn.modules.activation.MultiheadAttention``,
``nn.modules.linear.NonDynamicallyQuantizableLinear``, ...). A file PyTorch pickled names its classes
``torch.nn.modules.<module>.<Class>``; ember resolves them to its own class of that path: allowed under
``weights_only`` when that object is in ``safe_globals`` (even where ember defines it in another
module), and imported from ember, not torch, with ``weights_only=False``.
"""

from __future__ import annotations

import functools
import io
import pickle

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

PATHS = [
    "nn.functional.relu",
    "nn.modules.activation.MultiheadAttention",
    "nn.modules.container.ModuleList",
    "nn.modules.dropout.Dropout",
    "nn.modules.linear.Linear",
    "nn.modules.linear.NonDynamicallyQuantizableLinear",
    "nn.modules.normalization.LayerNorm",
    "nn.modules.sparse.Embedding",
    "nn.modules.transformer.TransformerEncoder",
    "nn.modules.transformer.TransformerEncoderLayer",
]


def _resolve(lib, path):
    return functools.reduce(getattr, path.split("."), lib)


@pytest.mark.parametrize("path", PATHS)
def test_path_resolves_like_torch(path):
    assert callable(_resolve(torch, path))
    assert callable(_resolve(ember, path))


def test_multihead_attention_parts_have_torchs_classes():
    for lib in (ember, torch):
        mha = lib.nn.MultiheadAttention(8, 2)
        assert lib.nn.modules.activation.MultiheadAttention is lib.nn.MultiheadAttention
        assert type(mha.out_proj) is lib.nn.modules.linear.NonDynamicallyQuantizableLinear
        assert issubclass(lib.nn.modules.linear.NonDynamicallyQuantizableLinear, lib.nn.Linear)


def test_whole_encoder_loads_under_the_programs_safe_globals():
    # what word_language_model does at the end of training with --model Transformer
    results = {}
    x = np.random.default_rng(0).standard_normal((5, 2, 8)).astype(np.float32)
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = lib.nn.TransformerEncoder(
            lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, enable_nested_tensor=False
        ).eval()
        buffer = io.BytesIO()
        lib.save(model, buffer)
        buffer.seek(0)
        with pytest.raises(Exception, match="(?i)weights.only"):
            lib.load(io.BytesIO(buffer.getvalue()))
        with lib.serialization.safe_globals([_resolve(lib, p) for p in PATHS]):
            loaded = lib.load(buffer)
        with lib.no_grad():
            before, after = model(lib.tensor(x)).numpy(), loaded(lib.tensor(x)).numpy()
        np.testing.assert_array_equal(before, after)
        results[lib.__name__] = type(loaded.layers[0].self_attn.out_proj).__name__
    assert results["ember"] == results["torch"] == "NonDynamicallyQuantizableLinear"


def _torch_file(model):
    buffer = io.BytesIO()
    torch.save(model, buffer)
    return buffer.getvalue()


def _encoder():
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    return torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()


def _lstm():
    torch.manual_seed(0)
    return torch.nn.LSTM(4, 6, num_layers=2).eval()


def _compare(torch_model, ember_model, x, causal=False):
    mask = {"mask": torch.nn.Transformer.generate_square_subsequent_mask(x.shape[0])} if causal else {}
    ember_mask = {"mask": ember.tensor(mask["mask"].numpy())} if causal else {}
    with torch.no_grad():
        want = torch_model(torch.tensor(x), **mask)
    with ember.no_grad():
        got = ember_model(ember.tensor(x), **ember_mask)
    if isinstance(want, tuple):  # LSTM: (output, (h, c))
        want, got = [want[0], *want[1]], [got[0], *got[1]]
    else:
        want, got = [want], [got]
    for w, g in zip(want, got):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("causal", [False, True])
def test_torch_transformer_encoder_loads_under_safe_globals(causal):
    model = _encoder()
    data = _torch_file(model)
    with ember.serialization.safe_globals([_resolve(ember, p) for p in PATHS]):
        loaded = ember.load(io.BytesIO(data))
    assert type(loaded) is ember.nn.TransformerEncoder
    assert type(loaded.layers[0].self_attn) is ember.nn.MultiheadAttention
    x = np.random.default_rng(0).standard_normal((5, 3, 8)).astype(np.float32)
    _compare(model, loaded, x, causal)


def test_torch_lstm_loads_with_weights_only_false_as_embers_class():
    model = _lstm()
    loaded = ember.load(io.BytesIO(_torch_file(model)), weights_only=False)
    assert type(loaded) is ember.nn.LSTM
    _compare(model, loaded, np.random.default_rng(1).standard_normal((7, 2, 4)).astype(np.float32))


def test_torch_whole_model_is_refused_by_default_naming_the_global():
    data = _torch_file(_lstm())
    with pytest.raises(pickle.UnpicklingError, match=r"unsupported global ember\.nn\.modules\.rnn\.LSTM"):
        ember.load(io.BytesIO(data))
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.rnn.LSTM"):
        torch.load(io.BytesIO(data))


def test_an_allowed_object_elsewhere_does_not_allow_other_names():
    # allowing ember's Linear must not let torch.nn.modules.linear.Bilinear (another object) through
    buffer = io.BytesIO()
    torch.save(torch.nn.Bilinear(2, 2, 1), buffer)
    with ember.serialization.safe_globals([ember.nn.Linear]):
        with pytest.raises(pickle.UnpicklingError, match="Bilinear"):
            ember.load(io.BytesIO(buffer.getvalue()))


@pytest.mark.parametrize("activation", ["gelu", "tanh"])
def test_torch_model_holding_functions_of_torchs_c_extension_loads_with_weights_only_false(activation):
    # F.gelu is torch._C._nn.gelu and torch.tanh pickles as getattr(torch._C._VariableFunctionsClass,
    # "tanh"): a whole model holding them (TransformerEncoderLayer(activation=F.gelu), the usual way
    # to pick GELU) names torch's C extension, whose functions are ember's of the same name
    torch.manual_seed(0)
    function = {"gelu": torch.nn.functional.gelu, "tanh": torch.tanh}[activation]
    model = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=function).eval()
    loaded = ember.load(io.BytesIO(_torch_file(model)), weights_only=False)
    assert loaded.activation is {"gelu": ember.nn.functional.gelu, "tanh": ember.tanh}[activation]
    _compare(model, loaded, np.random.default_rng(0).standard_normal((5, 3, 8)).astype(np.float32))
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False"):
        ember.load(io.BytesIO(_torch_file(model)))


def test_functions_of_torchs_c_extension_namespaces_are_embers():
    functions = [torch.nn.functional.logsigmoid, torch.nn.functional.softplus, torch.linalg.norm, torch.fft.rfft]
    functions += [torch.special.erf, torch.Tensor.add, torch.matmul]
    buffer = io.BytesIO()
    torch.save(functions, buffer)
    buffer.seek(0)
    expected = [ember.nn.functional.logsigmoid, ember.nn.functional.softplus, ember.linalg.norm, ember.fft.rfft]
    assert ember.load(buffer, weights_only=False) == [*expected, ember.special.erf, ember.Tensor.add, ember.matmul]


def test_torch_classes_ember_defines_in_another_module_resolve_through_the_package():
    # torch.nn.modules.flatten.Flatten is ember.nn.Flatten, defined in another module of ember's
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 4), torch.nn.Unflatten(1, (2, 2))).eval()
    data = _torch_file(model)
    x = np.random.default_rng(0).standard_normal((3, 2, 3)).astype(np.float32)
    loaded = ember.load(io.BytesIO(data), weights_only=False)
    assert [type(m) for m in loaded] == [ember.nn.Flatten, ember.nn.Linear, ember.nn.Unflatten]
    _compare(model, loaded, x)
    with ember.serialization.safe_globals([ember.nn.Sequential, ember.nn.Flatten, ember.nn.Linear, ember.nn.Unflatten]):
        _compare(model, ember.load(io.BytesIO(data)), x)


def test_a_data_parallel_checkpoint_loads_after_consume_prefix_as_in_torch():
    # torch.nn.modules.utils.consume_prefix_in_state_dict_if_present: how programs load a
    # DataParallel/DistributedDataParallel model's state_dict ("module.<name>") into the bare model
    from ember.nn.modules.utils import _pair, consume_prefix_in_state_dict_if_present

    torch.manual_seed(0)
    wrapped = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2)))
    buffer = io.BytesIO()
    torch.save(wrapped.state_dict(), buffer)
    expected = torch.load(io.BytesIO(buffer.getvalue()))
    torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(expected, "module.")
    state = ember.load(io.BytesIO(buffer.getvalue()))
    consume_prefix_in_state_dict_if_present(state, "module.")
    assert list(state) == list(expected) and dict(state._metadata) == dict(expected._metadata)
    model = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.BatchNorm1d(2))
    assert not model.load_state_dict(state).missing_keys
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), expected["0.weight"].numpy())
    assert _pair(3) == torch.nn.modules.utils._pair(3) == (3, 3)
