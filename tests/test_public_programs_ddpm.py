"""A DDPM training step as ``pesser/pytorch_diffusion`` and ``lucidrains/denoising-diffusion-pytorch``
write it, run on ember and on torch from the same weights and the same noise.

Sinusoidal timestep embeddings (both spellings: ``sin`` first with the ``half_dim - 1`` divisor,
and ``cos`` first from ``-log(max_period) * arange / half``); UNet residual blocks with GroupNorm,
SiLU and the time embedding added as ``[:, :, None, None]``; a self-attention block over the
flattened pixels, with ``bmm`` and ``softmax`` or with ``F.scaled_dot_product_attention``; an
asymmetric ``F.pad`` before a stride-2 convolution and nearest ``interpolate`` back up; the linear
beta schedule in float64 (``linspace``, ``cumprod``, padded ``alphas_cumprod_prev``, clamped log
posterior variance) read per sample with ``gather``; ``F.mse_loss`` on the noise; and the EMA of
the weights under ``no_grad`` three ways (``lerp_``, ``mul_``/``add_(alpha=)``, ``copy_`` of the
state dict).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember

STEPS = 100


def build(lib, attention):
    nn, F = lib.nn, lib.nn.functional

    def get_timestep_embedding(timesteps, embedding_dim):
        half_dim = embedding_dim // 2
        emb = math.log(10000) / (half_dim - 1)
        emb = lib.exp(lib.arange(half_dim, dtype=lib.float32) * -emb)
        emb = timesteps.float()[:, None] * emb[None, :]
        return lib.cat([lib.sin(emb), lib.cos(emb)], dim=1)

    def timestep_embedding(timesteps, dim, max_period=10000):
        half = dim // 2
        freqs = lib.exp(-math.log(max_period) * lib.arange(start=0, end=half, dtype=lib.float32) / half)
        args = timesteps[:, None].float() * freqs.to(device=timesteps.device)[None]
        return lib.cat([lib.cos(args), lib.sin(args)], dim=-1)

    class ResnetBlock(nn.Module):
        def __init__(self, in_channels, out_channels, temb_channels):
            super().__init__()
            self.norm1 = nn.GroupNorm(4, in_channels)
            self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
            self.temb_proj = nn.Linear(temb_channels, out_channels)
            self.norm2 = nn.GroupNorm(4, out_channels)
            self.dropout = nn.Dropout(0.0)
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
            self.nin_shortcut = (
                nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
            )

        def forward(self, x, temb):
            h = self.conv1(F.silu(self.norm1(x)))
            h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
            h = self.conv2(self.dropout(F.silu(self.norm2(h))))
            return self.nin_shortcut(x) + h

    class AttnBlock(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.norm = nn.GroupNorm(4, channels, eps=1e-6)
            self.q, self.k, self.v = (nn.Conv2d(channels, channels, 1) for _ in range(3))
            self.proj_out = nn.Conv2d(channels, channels, 1)

        def forward(self, x):
            h_ = self.norm(x)
            q, k, v = self.q(h_), self.k(h_), self.v(h_)
            b, c, h, w = q.shape
            if attention == "bmm":
                q = q.reshape(b, c, h * w).permute(0, 2, 1)
                w_ = lib.bmm(q, k.reshape(b, c, h * w)) * (int(c) ** (-0.5))
                w_ = F.softmax(w_, dim=2)
                h_ = lib.bmm(v.reshape(b, c, h * w), w_.permute(0, 2, 1)).reshape(b, c, h, w)
            else:
                q, k, v = (t.flatten(2).transpose(1, 2)[:, None] for t in (q, k, v))
                h_ = F.scaled_dot_product_attention(q, k, v)[:, 0].transpose(1, 2).reshape(b, c, h, w)
            return x + self.proj_out(h_)

    class UNet(nn.Module):
        def __init__(self, ch=16, temb_ch=32):
            super().__init__()
            self.ch = ch
            self.temb = nn.Sequential(nn.Linear(ch, temb_ch), nn.SiLU(), nn.Linear(temb_ch, temb_ch))
            self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
            self.down = ResnetBlock(ch, 2 * ch, temb_ch)
            self.downsample = nn.Conv2d(2 * ch, 2 * ch, 3, stride=2, padding=0)
            self.mid = ResnetBlock(2 * ch, 2 * ch, temb_ch)
            self.attn = AttnBlock(2 * ch)
            self.up = ResnetBlock(4 * ch, ch, temb_ch)
            self.norm_out = nn.GroupNorm(4, ch)
            self.conv_out = nn.Conv2d(ch, 3, 3, padding=1)

        def forward(self, x, t):
            temb = self.temb(get_timestep_embedding(t, self.ch) + timestep_embedding(t, self.ch))
            h1 = self.down(self.conv_in(x), temb)
            h = self.downsample(F.pad(h1, (0, 1, 0, 1), mode="constant", value=0))
            h = self.attn(self.mid(h, temb))
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
            h = self.up(lib.cat([h, h1], dim=1), temb)
            return self.conv_out(F.silu(self.norm_out(h)))

    return UNet


def extract(a, t, x_shape):
    return a.gather(-1, t).reshape(t.shape[0], *((1,) * (len(x_shape) - 1)))


_rng = np.random.default_rng(0)
IMAGES = _rng.standard_normal((2, 2, 3, 8, 8)).astype(np.float32)
NOISE = _rng.standard_normal((2, 2, 3, 8, 8)).astype(np.float32)
TIMESTEPS = _rng.integers(0, STEPS, (2, 2))


def train(lib, reference, attention):
    model = build(lib, attention)()
    copy_weights(reference, model)
    ema = copy.deepcopy(model)
    ema.requires_grad_(False)
    betas = lib.linspace(1e-4, 0.02, STEPS, dtype=lib.float64)
    alphas_cumprod = lib.cumprod(1.0 - betas, dim=0)
    alphas_cumprod_prev = lib.nn.functional.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
    sqrt_alphas_cumprod = lib.sqrt(alphas_cumprod).float()
    sqrt_one_minus_alphas_cumprod = lib.sqrt(1.0 - alphas_cumprod).float()
    posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
    record = [lib.log(posterior_variance.clamp(min=1e-20)), alphas_cumprod_prev]
    optimizer = lib.optim.Adam(model.parameters(), lr=2e-4)
    for x0, noise, t in zip(IMAGES, NOISE, TIMESTEPS):
        x0, noise, t = lib.tensor(x0), lib.tensor(noise), lib.tensor(t)
        x_t = (
            extract(sqrt_alphas_cumprod, t, x0.shape) * x0 + extract(sqrt_one_minus_alphas_cumprod, t, x0.shape) * noise
        )
        loss = lib.nn.functional.mse_loss(model(x_t, t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with lib.no_grad():
            for averaged, current in zip(ema.parameters(), model.parameters()):
                averaged.lerp_(current, 0.01)
            for averaged, current in zip(ema.parameters(), model.parameters()):
                averaged.mul_(0.99).add_(current.detach(), alpha=0.01)
            current_state = model.state_dict()
            for name, averaged in ema.state_dict().items():
                if averaged.dtype.is_floating_point:
                    averaged.copy_(averaged * 0.999 + (1 - 0.999) * current_state[name].detach())
        record += [x_t, loss]
    record += [p.grad for p in model.parameters()]
    with lib.no_grad():
        record.append(ema(x_t[:2], lib.full((2,), 50, dtype=lib.long)))
    return model, ema, record


@pytest.mark.parametrize("attention", ["bmm", "sdpa"])
def test_ddpm_training_step_and_ema_match_torch(attention):
    torch.manual_seed(0)
    reference = build(torch, attention)()
    theirs, their_ema, their_record = train(torch, reference, attention)
    ours, our_ema, our_record = train(ember, reference, attention)
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)
    assert_same_models(our_ema, their_ema)
    assert not any(p.requires_grad for p in our_ema.parameters())
