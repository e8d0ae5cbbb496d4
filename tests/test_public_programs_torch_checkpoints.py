"""Whole models that PyTorch pickled load in ember, as ``word_language_model/generate.py`` loads them.

PyTorch's file names its classes ``torch.nn.modules.<module>.<Class>``; ember resolves them to its own
class of that path: allowed under ``weights_only`` when that object is in ``safe_globals`` (even where
ember defines it in another module, e.g. ``nn.modules.activation.MultiheadAttention``), and imported
from ember, not torch, with ``weights_only=False``.
"""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

TRANSFORMER_GLOBALS = [
    "nn.functional.relu",
    "nn.modules.activation.MultiheadAttention",
    "nn.modules.container.ModuleList",
    "nn.modules.dropout.Dropout",
    "nn.modules.linear.Linear",
    "nn.modules.linear.NonDynamicallyQuantizableLinear",
    "nn.modules.normalization.LayerNorm",
    "nn.modules.transformer.TransformerEncoder",
    "nn.modules.transformer.TransformerEncoderLayer",
]


def _resolve(lib, path):
    obj = lib
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


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
    with ember.serialization.safe_globals([_resolve(ember, p) for p in TRANSFORMER_GLOBALS]):
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
