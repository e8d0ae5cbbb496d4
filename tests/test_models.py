"""ember.contrib.models: forward shapes on each device, parameter counts, errors; summary."""

import io

import pytest

import ember
from ember.contrib import models, summary


@pytest.mark.parametrize(
    "make, shape, out",
    [
        (lambda: models.MLP(64), (3, 1, 8, 8), (3, 10)),
        (lambda: models.LeNet5(), (2, 1, 8, 8), (2, 10)),
        (lambda: models.LeNet5(), (2, 1, 28, 28), (2, 10)),
        (lambda: models.LeNet5(num_classes=4, in_channels=3), (2, 3, 32, 32), (2, 4)),
        (lambda: models.resnet20(), (2, 3, 32, 32), (2, 10)),
        (lambda: models.resnet20(in_channels=1), (2, 1, 8, 8), (2, 10)),
    ],
)
def test_forward_shapes(device, make, shape, out):
    model = make().to(device)
    y = model(ember.randn(*shape, device=device))
    assert y.shape == out and y.device == ember.device(device)
    y.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_resnet18_and_parameter_counts():
    assert sum(p.numel() for p in models.resnet20().parameters()) == 272474  # torchvision-style CIFAR ResNet-20
    assert sum(p.numel() for p in models.LeNet5().parameters()) == 61706
    model = models.resnet18()
    assert sum(p.numel() for p in model.parameters()) == 11173962
    with ember.no_grad():
        assert model.eval()(ember.randn(1, 3, 32, 32)).shape == (1, 10)


def test_lstm_language_model(device):
    model = models.LSTMLanguageModel(50, 8, 8, num_layers=2, tie_weights=True).to(device)
    tokens = ember.randint(0, 50, (6, 3), device=device)
    logits, (h, c) = model(tokens)
    assert logits.shape == (6, 3, 50) and h.shape == c.shape == (2, 3, 8)
    logits2, _ = model(tokens, model.init_hidden(3, device=device))
    assert model.decoder.weight is model.encoder.weight
    with pytest.raises(ValueError, match="tie_weights needs embedding_dim == hidden_size"):
        models.LSTMLanguageModel(50, 8, 16, tie_weights=True)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"LeNet5: expected input \(N, 1, H, W\), got shape \(2, 3, 8, 8\)"):
        models.LeNet5()(ember.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match="2 stages of blocks but 3 widths"):
        models.ResNet((1, 1), (4, 8, 16))


def test_summary_table():
    out = io.StringIO()
    model = models.LeNet5()
    model.train()
    info = summary(model, (1, 28, 28), file=out)
    text = out.getvalue()
    assert "features.0 (Conv2d)" in text and "[-1, 6, 28, 28]" in text and "Total params: 61,706" in text
    assert info["total_params"] == info["trainable_params"] == 61706
    assert model.training  # mode restored
    assert not model.features[0]._forward_hooks  # hooks removed


def test_transformer_language_model_batch_first(device):
    model = models.TransformerLanguageModel(30, d_model=8, nhead=2, num_layers=1, dim_feedforward=16, max_len=16)
    model.eval().to(device)
    tokens = ember.randint(0, 30, (5, 3), device=device)
    first = model(tokens)
    model.batch_first = True
    batched = model(tokens.t())
    assert batched.shape == (3, 5, 30)
    assert ember.allclose(batched, first.transpose(0, 1), atol=1e-6)


def test_char_text_windows():
    from ember.contrib.datasets import CharText

    text = "hello world, hello ember"
    train, test = (
        CharText(text, seq_len=5, test_fraction=0.25),
        CharText(text, seq_len=5, train=False, test_fraction=0.25),
    )
    assert train.classes == test.classes == sorted(set(text))
    ids = [train.classes.index(c) for c in text]
    cut = len(text) - int(len(text) * 0.25)
    assert len(train) == (cut - 1) // 5 and len(test) == (len(text) - cut - 1) // 5
    for i in range(len(train)):
        x, y = train[i]
        assert x.dtype is ember.int64
        assert x.tolist() == ids[5 * i : 5 * i + 5] and y.tolist() == ids[5 * i + 1 : 5 * i + 6]
    with pytest.raises(IndexError):
        train[len(train)]
    with pytest.raises(ValueError, match="shorter than one window"):
        CharText("abc", seq_len=8)
