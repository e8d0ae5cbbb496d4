"""CLIP-style contrastive training (OpenAI's CLIP and ``open_clip``'s ``ClipLoss``, with
``SigLipLoss``) and knowledge distillation (Hinton et al. as the PyTorch knowledge-distillation
tutorial and ``KLDivLoss`` recipes write it), run on ember and on torch from the same weights.

Two towers projected and ``F.normalize``d; a learnable ``logit_scale`` initialised to
``log(1 / 0.07)``, used as ``logit_scale.exp()`` (clamped in the loss, or clamped in place with
``clamp_`` after the step); symmetric ``cross_entropy`` over ``arange`` labels; SigLIP's
``logsigmoid`` over ``2 * eye - 1`` labels with a learnable bias. A student distilled from a frozen
teacher with temperature: the tutorial's hand-written KL, and ``KLDivLoss(reduction="batchmean")``
with ``log_target`` False and True, mixed with the hard-label loss.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember

RNG = np.random.default_rng(0)
IMAGES = RNG.standard_normal((6, 10)).astype(np.float32)
TEXTS = RNG.integers(0, 17, (6, 5))


def build_clip(lib):
    nn, F = lib.nn, lib.nn.functional

    class CLIP(nn.Module):
        def __init__(self, embed_dim=8):
            super().__init__()
            self.visual = nn.Sequential(nn.Linear(10, 16), nn.GELU(), nn.Linear(16, embed_dim, bias=False))
            self.token_embedding = nn.Embedding(17, 16)
            self.ln_final = nn.LayerNorm(16)
            self.text_projection = nn.Parameter(lib.empty(16, embed_dim))
            nn.init.normal_(self.text_projection, std=16**-0.5)
            self.logit_scale = nn.Parameter(lib.ones([]) * np.log(1 / 0.07))
            self.logit_bias = nn.Parameter(lib.ones([]) * -10.0)

        def encode_text(self, text):
            x = self.ln_final(self.token_embedding(text))
            # the features of the last token (CLIP takes the EOT token's, found with argmax)
            x = x[lib.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection
            return x

        def forward(self, image, text):
            image_features = F.normalize(self.visual(image), dim=-1)
            text_features = F.normalize(self.encode_text(text), dim=-1)
            return image_features, text_features, self.logit_scale.exp()

    return CLIP


def clip_loss(lib, image_features, text_features, logit_scale):
    F = lib.nn.functional
    logits_per_image = logit_scale.clamp(max=100) * image_features @ text_features.T
    logits_per_text = logit_scale.clamp(max=100) * text_features @ image_features.T
    labels = lib.arange(logits_per_image.shape[0], device=image_features.device, dtype=lib.long)
    return (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2


def siglip_loss(lib, image_features, text_features, logit_scale, logit_bias):
    logits = logit_scale * image_features @ text_features.T + logit_bias
    n = image_features.shape[0]
    labels = 2 * lib.eye(n, device=image_features.device, dtype=image_features.dtype) - lib.ones(n, n)
    return -lib.nn.functional.logsigmoid(labels * logits).sum() / n


def train_clip(lib, reference, loss_name):
    model = build_clip(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.AdamW(model.parameters(), lr=0.05, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.2)
    images, texts = lib.tensor(IMAGES), lib.tensor(TEXTS)
    record = []
    for _ in range(4):
        image_features, text_features, logit_scale = model(images, texts)
        if loss_name == "clip":
            loss = clip_loss(lib, image_features, text_features, logit_scale)
        else:
            loss = siglip_loss(lib, image_features, text_features, logit_scale, model.logit_bias)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with lib.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        record += [loss, logit_scale]
    return model, record + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("loss_name", ["clip", "siglip"])
def test_contrastive_image_text_training_matches_torch(loss_name):
    torch.manual_seed(0)
    reference = build_clip(torch)()
    theirs, their_record = train_clip(torch, reference, loss_name)
    ours, our_record = train_clip(ember, reference, loss_name)
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)


def build_classifier(lib, width):
    nn = lib.nn
    return lambda: nn.Sequential(nn.Linear(10, width), nn.ReLU(), nn.Dropout(0.1), nn.Linear(width, 4))


LABELS = RNG.integers(0, 4, 6)


def distill(lib, teacher_reference, student_reference, kind, T=2.0, alpha=0.25):
    F = lib.nn.functional
    teacher, student = build_classifier(lib, 32)(), build_classifier(lib, 8)()
    copy_weights(teacher_reference, teacher)
    copy_weights(student_reference, student)
    teacher.eval()
    optimizer = lib.optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
    images, labels = lib.tensor(IMAGES), lib.tensor(LABELS)
    lib.manual_seed(0)
    record = []
    for _ in range(3):
        with lib.no_grad():
            teacher_logits = teacher(images)
        student_logits = student(images)
        if kind == "tutorial":
            soft_targets = F.softmax(teacher_logits / T, dim=-1)
            soft_prob = F.log_softmax(student_logits / T, dim=-1)
            soft_loss = lib.sum(soft_targets * (soft_targets.log() - soft_prob)) / soft_prob.size()[0] * (T**2)
        else:
            log_target = kind == "log_target"
            criterion = lib.nn.KLDivLoss(reduction="batchmean", log_target=log_target)
            target = (F.log_softmax if log_target else F.softmax)(teacher_logits / T, dim=-1)
            soft_loss = criterion(F.log_softmax(student_logits / T, dim=1), target) * T * T
        loss = alpha * F.cross_entropy(student_logits, labels) + (1 - alpha) * soft_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [soft_loss, loss]
    return student, record + [p.grad for p in student.parameters()]


@pytest.mark.parametrize("kind", ["tutorial", "kl_div", "log_target"])
def test_knowledge_distillation_matches_torch(kind):
    torch.manual_seed(0)
    teacher, student = build_classifier(torch, 32)(), build_classifier(torch, 8)()
    theirs, their_record = distill(torch, teacher, student, kind)
    ours, our_record = distill(ember, teacher, student, kind)
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)
