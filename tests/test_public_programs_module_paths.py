"""Classes where PyTorch's programs name them by module path, against the real torch.

``word_language_model`` loads its saved Transformer under ``torch.serialization.safe_globals`` listing
``nn.modules.activation.MultiheadAttention`` and ``nn.modules.linear.NonDynamicallyQuantizableLinear``.
"""

from __future__ import annotations

import functools
import io

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
