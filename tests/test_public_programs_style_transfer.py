"""Neural style transfer as the PyTorch tutorial (Gatys et al.) writes it, run on ember and on torch
from the same network and images.

A frozen feature network (``eval()``, ``requires_grad_(False)``) rebuilt as an ``nn.Sequential``
with ``add_module`` and ``ContentLoss``/``StyleLoss`` modules inserted after chosen convolutions,
then cut after the last loss by slicing; Gram matrices with ``view`` + ``mm`` + ``t``; an image
``Normalization`` module; the input image optimised with ``LBFGS`` (default and
``line_search_fn="strong_wolfe"``) through a closure that clamps the image in place under
``no_grad`` and counts its calls.
"""

from __future__ import annotations

import numpy as np
import pytest
from public_programs import assert_same_run, copy_weights, torch

import ember

RNG = np.random.default_rng(0)
CONTENT = RNG.uniform(0, 1, (1, 3, 12, 12)).astype(np.float32)
STYLE = RNG.uniform(0, 1, (1, 3, 12, 12)).astype(np.float32)


def feature_network(lib):
    nn = lib.nn
    return lambda: nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(8, 12, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(12, 12, 3, padding=1),
        nn.ReLU(inplace=True),
    )


def style_transfer(lib, reference, line_search_fn, num_steps=4):
    nn, F = lib.nn, lib.nn.functional

    class ContentLoss(nn.Module):
        def __init__(self, target):
            super().__init__()
            self.target = target.detach()

        def forward(self, input):
            self.loss = F.mse_loss(input, self.target)
            return input

    def gram_matrix(input):
        a, b, c, d = input.size()
        features = input.view(a * b, c * d)
        G = lib.mm(features, features.t())
        return G.div(a * b * c * d)

    class StyleLoss(nn.Module):
        def __init__(self, target_feature):
            super().__init__()
            self.target = gram_matrix(target_feature).detach()

        def forward(self, input):
            self.loss = F.mse_loss(gram_matrix(input), self.target)
            return input

    class Normalization(nn.Module):
        def __init__(self, mean, std):
            super().__init__()
            self.mean = lib.tensor(mean).view(-1, 1, 1)
            self.std = lib.tensor(std).view(-1, 1, 1)

        def forward(self, img):
            return (img - self.mean) / self.std

    cnn = feature_network(lib)()
    copy_weights(reference, cnn)
    cnn.eval().requires_grad_(False)
    content_img, style_img = lib.tensor(CONTENT), lib.tensor(STYLE)

    normalization = Normalization([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    content_losses, style_losses = [], []
    model = nn.Sequential(normalization)
    i = 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv_{i}"
        elif isinstance(layer, nn.ReLU):
            name = f"relu_{i}"
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = f"pool_{i}"
        else:
            raise RuntimeError(f"Unrecognized layer: {layer.__class__.__name__}")
        model.add_module(name, layer)
        if name == "conv_3":
            content_loss = ContentLoss(model(content_img).detach())
            model.add_module(f"content_loss_{i}", content_loss)
            content_losses.append(content_loss)
        if name in ("conv_1", "conv_2", "conv_3"):
            style_loss = StyleLoss(model(style_img).detach())
            model.add_module(f"style_loss_{i}", style_loss)
            style_losses.append(style_loss)
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], (ContentLoss, StyleLoss)):
            break
    model = model[: (i + 1)]

    input_img = content_img.clone()
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = lib.optim.LBFGS([input_img], lr=1, max_iter=5, line_search_fn=line_search_fn)
    run, record = [0], []
    while run[0] <= num_steps:

        def closure():
            with lib.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = sum(sl.loss for sl in style_losses) * 1e4
            content_score = sum(cl.loss for cl in content_losses)
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            record.extend([style_score, content_score])
            return style_score + content_score

        record.append(optimizer.step(closure))
    with lib.no_grad():
        input_img.clamp_(0, 1)
    state = optimizer.state[optimizer.param_groups[0]["params"][0]]
    return record + [input_img, state["n_iter"], state["func_evals"], [name for name, _ in model.named_children()]]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_style_transfer_with_lbfgs_matches_torch(line_search_fn):
    torch.manual_seed(0)
    reference = feature_network(torch)()
    ours = style_transfer(ember, reference, line_search_fn)
    theirs = style_transfer(torch, reference, line_search_fn)
    assert ours[-1] == theirs[-1]
    assert_same_run(ours[:-1], theirs[:-1], rtol=1e-4, atol=1e-6)
