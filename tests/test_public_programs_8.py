"""Public programs, round 8: condensed versions of programs people run today, on the features ember gained
this week, each run on ember and on torch from the same weights (copied with ``state_dict``) and the same
seeds, comparing losses, outputs, gradients and the trained weights.

- lucidrains' vit-pytorch ``ViT``: the patch embedding by einops' ``Rearrange`` layer, the class token by
  ``repeat``, the heads split by ``rearrange(t, "b n (h d) -> b h n d")``; class-token and mean pooling.
- A Perceiver-style cross attention (lucidrains' perceiver-pytorch): latents ``repeat``-ed over the batch,
  inputs of any number of axes flattened by ``pack``, register tokens ``pack``-ed with the latents and
  ``unpack``-ed after self attention, attention by einops' ``einsum`` with a ``(b h)`` merged mask, and a
  ``Reduce`` pooling head.
- A denoising-diffusion-pytorch U-Net stage: the ``Rearrange`` downsample
  ``"b c (h p1) (w p2) -> b (c p1 p2) h w"``, the sinusoidal time embedding, ``ResnetBlock`` scale-shift,
  ``LinearAttention`` and full attention through ``einsum``, trained on the DDPM noise-prediction loss with
  the ``extract`` of the schedule by ``gather``.
- x-transformers' rotary embedding written with einops (``rotate_half`` by ``"... (d r) -> ... d r"``, the
  frequencies ``repeat``-ed pairwise) in a causal ``scaled_dot_product_attention`` language model.
- torchvision's ``tv_tensors``: ``Image``/``BoundingBoxes`` subclasses carrying ``format``/``canvas_size``,
  whose ``__torch_function__`` (under ``DisableTorchFunctionSubclass``) gives plain tensors back except for
  ``clone``/``to``/``detach``/``requires_grad_``; a flip + resize pipeline and a box-regression loss.
- A DDP script written for torchrun (pytorch/examples' and PyTorch's DDP tutorial scripts): ``LOCAL_RANK``
  from the environment, ``@record`` on ``main``, ``register_comm_hook`` with ``fp16_compress_hook``, a
  ``ZeroRedundancyOptimizer(Adam)`` consolidated on rank 0, started by ``python -m ember.distributed.run
  --nproc-per-node=2``; its weights are those of torch's single process over the whole batch.
- A script with torch.compile settings (``_dynamo.config``, ``_inductor.config``, ``compile(model)``) and
  NumPy interop: NumPy scalars in the loss and the optimizer's arguments, ``np.asarray`` of outputs,
  ``np.exp``/``np.sqrt``/``np.greater`` of tensors giving tensors.
- A logging / precision-upcasting ``__torch_function__`` subclass (as op-logging tensors and AMP-style
  wrappers are written) around a CNN's inputs during training: the logged names
  (``torch.overrides.resolve_name``) and the results are torch's.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from public_programs import copy_weights, torch, trained_on_both
from test_distributed import _env, _skip_reason

import ember

pytest.importorskip("einops")
from einops import einsum, pack, rearrange, reduce, repeat, unpack  # noqa: E402


def layers(lib):
    """einops' layers for ``lib``: ``einops.layers.torch`` subclasses ``torch.nn.Module``, ember's are its own."""
    if lib is torch:
        import einops.layers.torch as layers_torch

        return layers_torch
    return ember.einops_backend


# -- vit-pytorch ---------------------------------------------------------------------------------------


def build_vit(
    lib, image=8, patch=4, dim=16, depth=2, heads=2, dim_head=8, mlp_dim=32, channels=3, classes=5, pool="cls"
):
    nn = lib.nn
    L = layers(lib)

    class FeedForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(
                nn.LayerNorm(dim),
                nn.Linear(dim, mlp_dim),
                nn.GELU(),
                nn.Dropout(0.1),
                nn.Linear(mlp_dim, dim),
                nn.Dropout(0.1),
            )

        def forward(self, x):
            return self.net(x)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            inner = dim_head * heads
            self.heads, self.scale = heads, dim_head**-0.5
            self.norm = nn.LayerNorm(dim)
            self.attend = nn.Softmax(dim=-1)
            self.dropout = nn.Dropout(0.1)
            self.to_qkv = nn.Linear(dim, inner * 3, bias=False)
            self.to_out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(0.1))

        def forward(self, x):
            x = self.norm(x)
            qkv = self.to_qkv(x).chunk(3, dim=-1)
            q, k, v = map(lambda t: rearrange(t, "b n (h d) -> b h n d", h=self.heads), qkv)
            dots = lib.matmul(q, k.transpose(-1, -2)) * self.scale
            attn = self.dropout(self.attend(dots))
            out = lib.matmul(attn, v)
            return self.to_out(rearrange(out, "b h n d -> b n (h d)"))

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            n = (image // patch) ** 2
            pdim = channels * patch * patch
            self.to_patch_embedding = nn.Sequential(
                L.Rearrange("b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=patch, p2=patch),
                nn.LayerNorm(pdim),
                nn.Linear(pdim, dim),
                nn.LayerNorm(dim),
            )
            self.pos_embedding = nn.Parameter(lib.randn(1, n + 1, dim))
            self.cls_token = nn.Parameter(lib.randn(1, 1, dim))
            self.dropout = nn.Dropout(0.1)
            self.layers = nn.ModuleList([nn.ModuleList([Attention(), FeedForward()]) for _ in range(depth)])
            self.norm = nn.LayerNorm(dim)
            self.pool = pool
            self.mlp_head = nn.Linear(dim, classes)

        def forward(self, img):
            x = self.to_patch_embedding(img)
            b, n, _ = x.shape
            cls_tokens = repeat(self.cls_token, "1 1 d -> b 1 d", b=b)
            x = lib.cat((cls_tokens, x), dim=1)
            x += self.pos_embedding[:, : (n + 1)]
            x = self.dropout(x)
            for attn, ff in self.layers:
                x = attn(x) + x
                x = ff(x) + x
            x = self.norm(x)
            x = x.mean(dim=1) if self.pool == "mean" else x[:, 0]
            return self.mlp_head(x)

    return ViT


IMAGES = np.random.default_rng(0).standard_normal((6, 3, 8, 8)).astype(np.float32)
LABELS = np.array([0, 1, 2, 3, 4, 0])


def train_vit(lib, reference, pool):
    model = build_vit(lib, pool=pool)()
    copy_weights(reference, model)
    opt = lib.optim.Adam(model.parameters(), lr=3e-3)
    lib.manual_seed(0)
    x, y = lib.tensor(IMAGES), lib.tensor(LABELS)
    record = []
    for _step in range(3):
        loss = lib.nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        record += [loss, model.cls_token.grad.clone(), model.to_patch_embedding[2].weight.grad.clone()]
        opt.step()
    model.eval()
    with lib.no_grad():
        record.append(model(x))
    return model, record


@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_vit_pytorch_with_einops_layers_trains_as_torch(pool):
    trained_on_both(lambda lib: build_vit(lib, pool=pool), lambda lib, ref: train_vit(lib, ref, pool))


# -- perceiver-pytorch --------------------------------------------------------------------------------
def build_perceiver(lib, dim=12, latent=6, heads=2, dim_head=4, num_latents=4, classes=3):
    nn, _F = lib.nn, lib.nn.functional

    class CrossAttention(nn.Module):
        def __init__(self, qdim, cdim):
            super().__init__()
            inner = heads * dim_head
            self.scale, self.heads = dim_head**-0.5, heads
            self.norm, self.norm_ctx = nn.LayerNorm(qdim), nn.LayerNorm(cdim)
            self.to_q = nn.Linear(qdim, inner, bias=False)
            self.to_kv = nn.Linear(cdim, inner * 2, bias=False)
            self.to_out = nn.Linear(inner, qdim)

        def forward(self, x, context, mask=None):
            x, context = self.norm(x), self.norm_ctx(context)
            q = self.to_q(x)
            k, v = self.to_kv(context).chunk(2, dim=-1)
            q, k, v = map(lambda t: rearrange(t, "b n (h d) -> (b h) n d", h=self.heads), (q, k, v))
            sim = einsum(q, k, "b i d, b j d -> b i j") * self.scale
            if mask is not None:
                mask = repeat(rearrange(mask, "b ... -> b (...)"), "b j -> (b h) () j", h=self.heads)
                sim = sim.masked_fill(~mask, -lib.finfo(sim.dtype).max)
            attn = sim.softmax(dim=-1)
            out = einsum(attn, v, "b i j, b j d -> b i d")
            return self.to_out(rearrange(out, "(b h) n d -> b n (h d)", h=self.heads))

    class Perceiver(nn.Module):
        def __init__(self):
            super().__init__()
            self.latents = nn.Parameter(lib.randn(num_latents, latent))
            self.register = nn.Parameter(lib.randn(2, latent))
            self.cross = CrossAttention(latent, dim)
            self.self_attn = CrossAttention(latent, latent)
            self.ff = nn.Sequential(
                nn.LayerNorm(latent), nn.Linear(latent, 2 * latent), nn.GELU(), nn.Linear(2 * latent, latent)
            )
            self.head = nn.Sequential(
                layers(lib).Reduce("b n d -> b d", "mean"), nn.LayerNorm(latent), nn.Linear(latent, classes)
            )

        def forward(self, data, mask=None):
            b = data.shape[0]
            data, ps = pack([data], "b * d")  # images flattened, any number of axes
            x = repeat(self.latents, "n d -> b n d", b=b)
            r = repeat(self.register, "n d -> b n d", b=b)
            x = self.cross(x, data, mask=mask) + x
            x, packed = pack([r, x], "b * d")
            x = self.self_attn(x, x) + x
            x = self.ff(x) + x
            r, x = unpack(x, packed, "b * d")
            return self.head(x), r

    return Perceiver


DATA = np.random.default_rng(1).standard_normal((3, 2, 5, 12)).astype(np.float32)
MASK = np.random.default_rng(2).random((3, 2, 5)) > 0.3
Y = np.array([0, 2, 1])


def train_perceiver(lib, reference):
    model = build_perceiver(lib)()
    copy_weights(reference, model)
    opt = lib.optim.AdamW(model.parameters(), lr=1e-2)
    x, m, y = lib.tensor(DATA), lib.tensor(MASK), lib.tensor(Y)
    record = []
    for _ in range(3):
        logits, r = model(x, mask=m)
        loss = lib.nn.functional.cross_entropy(logits, y) + 0.1 * r.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        record += [loss, logits, r.shape[1], model.latents.grad]
    return model, record


def test_perceiver_cross_attention_with_pack_unpack_trains_as_torch():
    trained_on_both(build_perceiver, train_perceiver)


# -- denoising-diffusion-pytorch ----------------------------------------------------------------------
def build_unet(lib, dim=8, channels=3, heads=2, dim_head=4):
    nn, F = lib.nn, lib.nn.functional
    L = layers(lib)

    class SinusoidalPosEmb(nn.Module):
        def __init__(self, dim, theta=10000):
            super().__init__()
            self.dim, self.theta = dim, theta

        def forward(self, x):
            half = self.dim // 2
            emb = math.log(self.theta) / (half - 1)
            emb = lib.exp(lib.arange(half, device=x.device) * -emb)
            emb = x[:, None] * emb[None, :]
            return lib.cat((emb.sin(), emb.cos()), dim=-1)

    class RMSNorm(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.scale = dim**0.5
            self.g = nn.Parameter(lib.ones(1, dim, 1, 1))

        def forward(self, x):
            return F.normalize(x, dim=1) * self.g * self.scale

    class Block(nn.Module):
        def __init__(self, dim, dim_out, groups=4):
            super().__init__()
            self.proj = nn.Conv2d(dim, dim_out, 3, padding=1)
            self.norm = nn.GroupNorm(groups, dim_out)
            self.act = nn.SiLU()

        def forward(self, x, scale_shift=None):
            x = self.norm(self.proj(x))
            if scale_shift is not None:
                scale, shift = scale_shift
                x = x * (scale + 1) + shift
            return self.act(x)

    class ResnetBlock(nn.Module):
        def __init__(self, dim, dim_out, time_emb_dim):
            super().__init__()
            self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_emb_dim, dim_out * 2))
            self.block1, self.block2 = Block(dim, dim_out), Block(dim_out, dim_out)
            self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

        def forward(self, x, time_emb):
            time_emb = rearrange(self.mlp(time_emb), "b c -> b c 1 1")
            h = self.block1(x, scale_shift=time_emb.chunk(2, dim=1))
            return self.block2(h) + self.res_conv(x)

    class LinearAttention(nn.Module):
        def __init__(self, dim):
            super().__init__()
            hidden = heads * dim_head
            self.scale = dim_head**-0.5
            self.norm = RMSNorm(dim)
            self.to_qkv = nn.Conv2d(dim, hidden * 3, 1, bias=False)
            self.to_out = nn.Sequential(nn.Conv2d(hidden, dim, 1), RMSNorm(dim))

        def forward(self, x):
            b, c, h, w = x.shape
            x = self.norm(x)
            q, k, v = map(lambda t: rearrange(t, "b (h c) x y -> b h c (x y)", h=heads), self.to_qkv(x).chunk(3, dim=1))
            q = q.softmax(dim=-2) * self.scale
            k = k.softmax(dim=-1)
            context = lib.einsum("b h d n, b h e n -> b h d e", k, v)
            out = lib.einsum("b h d e, b h d n -> b h e n", context, q)
            out = rearrange(out, "b h c (x y) -> b (h c) x y", h=heads, x=h, y=w)
            return self.to_out(out)

    class Attention(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.norm = RMSNorm(dim)
            self.to_qkv = nn.Conv2d(dim, heads * dim_head * 3, 1, bias=False)
            self.to_out = nn.Conv2d(heads * dim_head, dim, 1)

        def forward(self, x):
            b, c, h, w = x.shape
            q, k, v = map(
                lambda t: rearrange(t, "b (h c) x y -> b h (x y) c", h=heads), self.to_qkv(self.norm(x)).chunk(3, dim=1)
            )
            sim = einsum(q, k, "b h i d, b h j d -> b h i j") * dim_head**-0.5
            out = einsum(sim.softmax(dim=-1), v, "b h i j, b h j d -> b h i d")
            return self.to_out(rearrange(out, "b h (x y) d -> b (h d) x y", x=h, y=w))

    class Residual(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x, *a):
            return self.fn(x, *a) + x

    class Unet(nn.Module):
        def __init__(self):
            super().__init__()
            tdim = dim * 4
            self.init_conv = nn.Conv2d(channels, dim, 7, padding=3)
            self.time_mlp = nn.Sequential(SinusoidalPosEmb(dim), nn.Linear(dim, tdim), nn.GELU(), nn.Linear(tdim, tdim))
            self.down_block = ResnetBlock(dim, dim, tdim)
            self.down_attn = Residual(LinearAttention(dim))
            self.downsample = nn.Sequential(
                L.Rearrange("b c (h p1) (w p2) -> b (c p1 p2) h w", p1=2, p2=2), nn.Conv2d(dim * 4, dim * 2, 1)
            )
            self.mid_block = ResnetBlock(dim * 2, dim * 2, tdim)
            self.mid_attn = Residual(Attention(dim * 2))
            self.upsample = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(dim * 2, dim, 3, padding=1)
            )
            self.up_block = ResnetBlock(dim * 2, dim, tdim)
            self.final_conv = nn.Conv2d(dim, channels, 1)

        def forward(self, x, time):
            x = self.init_conv(x)
            r = x.clone()
            t = self.time_mlp(time)
            x = self.down_attn(self.down_block(x, t))
            h = x
            x = self.downsample(x)
            x = self.mid_attn(self.mid_block(x, t))
            x = self.upsample(x)
            x = self.up_block(lib.cat((x, h), dim=1), t)
            return self.final_conv(x + r)

    return Unet


NOISY_IMAGES = np.random.default_rng(3).standard_normal((2, 3, 8, 8)).astype(np.float32)


def train_unet(lib, reference):
    model = build_unet(lib)()
    copy_weights(reference, model)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    T = 10
    betas = lib.linspace(1e-4, 0.02, T, dtype=lib.float64)
    alphas_cumprod = lib.cumprod(1.0 - betas, dim=0)
    sqrt_ac, sqrt_1mac = alphas_cumprod.sqrt().float(), (1.0 - alphas_cumprod).sqrt().float()
    g = lib.Generator().manual_seed(5)
    x0 = lib.tensor(NOISY_IMAGES) * 2 - 1
    record = []
    for _ in range(3):
        t = lib.randint(0, T, (2,), generator=g).long()
        noise = lib.randn(x0.shape, generator=g)

        def extract(a, t, shape):
            out = a.gather(-1, t)
            return out.reshape(t.shape[0], *((1,) * (len(shape) - 1)))

        x_t = extract(sqrt_ac, t, x0.shape) * x0 + extract(sqrt_1mac, t, x0.shape) * noise
        out = model(x_t, t.float())
        loss = reduce(lib.nn.functional.mse_loss(out, noise, reduction="none"), "b ... -> b", "mean").mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        record += [t, loss, out, model.mid_attn.fn.to_qkv.weight.grad]
    return model, record


def test_denoising_diffusion_unet_block_trains_as_torch():
    trained_on_both(build_unet, train_unet, rtol=1e-3, atol=1e-4, model_rtol=1e-3, model_atol=1e-4)


# -- x-transformers rotary embedding ------------------------------------------------------------
def build_rotary(lib, dim=16, heads=2, vocab=7):
    nn, F = lib.nn, lib.nn.functional

    def rotate_half(x):
        x = rearrange(x, "... (d r) -> ... d r", r=2)
        x1, x2 = x.unbind(dim=-1)
        x = lib.stack((-x2, x1), dim=-1)
        return rearrange(x, "... d r -> ... (d r)")

    class RotaryEmbedding(nn.Module):
        def __init__(self, dim, theta=10000):
            super().__init__()
            inv_freq = 1.0 / (theta ** (lib.arange(0, dim, 2).float() / dim))
            self.register_buffer("inv_freq", inv_freq, persistent=False)

        def forward(self, t):
            freqs = einsum(t.type(self.inv_freq.dtype), self.inv_freq, "i , j -> i j")
            return repeat(freqs, "... n -> ... (n r)", r=2)

    def apply_rotary(freqs, t):
        rot_dim = freqs.shape[-1]
        t, t_pass = t[..., :rot_dim], t[..., rot_dim:]
        t = t * freqs.cos() + rotate_half(t) * freqs.sin()
        return lib.cat((t, t_pass), dim=-1)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, dim)
            self.rotary = RotaryEmbedding(dim // heads // 2)
            self.qkv = nn.Linear(dim, dim * 3, bias=False)
            self.out = nn.Linear(dim, dim)
            self.logits = nn.Linear(dim, vocab)

        def forward(self, x):
            h = self.emb(x)
            q, k, v = rearrange(self.qkv(h), "b n (qkv h d) -> qkv b h n d", qkv=3, h=heads)
            freqs = self.rotary(lib.arange(x.shape[1], device=x.device))
            q, k = apply_rotary(freqs, q), apply_rotary(freqs, k)
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            h = h + self.out(rearrange(o, "b h n d -> b n (h d)"))
            return self.logits(h)

    return Model


TOK = np.random.default_rng(4).integers(0, 7, (3, 6))


def train_rotary(lib, reference):
    model = build_rotary(lib)()
    copy_weights(reference, model)
    opt = lib.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    x = lib.tensor(TOK)
    record = []
    for _ in range(3):
        logits = model(x[:, :-1])
        loss = lib.nn.functional.cross_entropy(
            rearrange(logits, "b n c -> (b n) c"), rearrange(x[:, 1:], "b n -> (b n)")
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        record += [loss, model.qkv.weight.grad]
    record.append(model.rotary.inv_freq)
    return model, record


def test_rotary_embedding_with_einops_trains_as_torch():
    trained_on_both(build_rotary, train_rotary)


# -- torchvision tv_tensors ----------------------------------------------------------------------


def tv_tensors(lib):
    """BoundingBoxes and Image as torchvision.tv_tensors defines them, condensed."""

    class TVTensor(lib.Tensor):
        @staticmethod
        def _to_tensor(data, dtype=None, device=None, requires_grad=None):
            if requires_grad is None:
                requires_grad = data.requires_grad if isinstance(data, lib.Tensor) else False
            return lib.as_tensor(data, dtype=dtype, device=device).requires_grad_(requires_grad)

        @classmethod
        def _wrap_output(cls, output, args=(), kwargs=None):
            if isinstance(output, lib.Tensor) and not isinstance(output, cls):
                output = output.as_subclass(cls)
                if isinstance(args[0], cls):
                    output.__dict__.update({k: v for k, v in args[0].__dict__.items()})
            if isinstance(output, (tuple, list)):
                output = type(output)(cls._wrap_output(part, args, kwargs) for part in output)
            return output

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            with lib._C.DisableTorchFunctionSubclass():
                output = func(*args, **kwargs or dict())
            keep = {lib.Tensor.clone, lib.Tensor.to, lib.Tensor.detach, lib.Tensor.requires_grad_}
            if func in keep and isinstance(args[0], cls):
                return cls._wrap_output(output, args, kwargs)
            if isinstance(output, cls):  # in-place ops: plain tensors back
                return output.as_subclass(lib.Tensor)
            return output

    class BoundingBoxes(TVTensor):
        @classmethod
        def _wrap(cls, tensor, *, format, canvas_size):
            boxes = tensor.as_subclass(cls)
            boxes.format, boxes.canvas_size = format, canvas_size
            return boxes

        def __new__(cls, data, *, format, canvas_size, dtype=None, device=None, requires_grad=None):
            tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
            return cls._wrap(tensor, format=format.upper(), canvas_size=tuple(canvas_size))

        def __repr__(self, *, tensor_contents=None):
            return f"BoundingBoxes(format={self.format}, canvas_size={self.canvas_size})"

    class Image(TVTensor):
        def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
            tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
            if tensor.ndim == 2:
                tensor = tensor.unsqueeze(0)
            return tensor.as_subclass(cls)

    return TVTensor, BoundingBoxes, Image


def pipeline(lib):
    TVTensor, BoundingBoxes, Image = tv_tensors(lib)
    F = lib.nn.functional

    def horizontal_flip(image, boxes):
        w = boxes.canvas_size[1]
        image = Image(image.flip(-1))
        flipped = boxes.clone()
        flipped[:, [0, 2]] = w - boxes[:, [2, 0]]
        return image, BoundingBoxes._wrap(
            flipped.as_subclass(lib.Tensor), format=boxes.format, canvas_size=boxes.canvas_size
        )

    def resize(image, boxes, size):
        h, w = boxes.canvas_size
        image = Image(
            F.interpolate(
                image.as_subclass(lib.Tensor)[None], size=size, mode="bilinear", align_corners=False, antialias=False
            )[0]
        )
        scale = lib.tensor([size[1] / w, size[0] / h, size[1] / w, size[0] / h])
        return image, BoundingBoxes(boxes * scale, format=boxes.format, canvas_size=size)

    def to_cxcywh(boxes):
        x1, y1, x2, y2 = boxes.unbind(-1)
        out = lib.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)
        return BoundingBoxes(out, format="cxcywh", canvas_size=boxes.canvas_size)

    return TVTensor, BoundingBoxes, Image, horizontal_flip, resize, to_cxcywh


BOX = np.array([[1.0, 2.0, 5.0, 7.0], [0.0, 0.0, 3.0, 4.0]], dtype=np.float32)
TV_IMAGE = np.random.default_rng(5).random((3, 8, 10)).astype(np.float32)


def build_detector(lib):
    nn = lib.nn

    class Detector(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(
                nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()
            )
            self.box = nn.Linear(16, 2 * 4)

        def forward(self, x):
            return self.box(self.backbone(x)).view(-1, 2, 4).sigmoid()

    return Detector


def run_tv(lib, reference):
    TVTensor, BoundingBoxes, Image, hflip, resize, to_cxcywh = pipeline(lib)
    model = build_detector(lib)()
    copy_weights(reference, model)
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    record = []
    image = Image(TV_IMAGE)
    boxes = BoundingBoxes(BOX, format="xyxy", canvas_size=(8, 10))
    record += [type(image).__name__, type(boxes).__name__, boxes.format, repr(boxes)]
    # ops on a tv_tensor give plain tensors; clone/to/detach keep the type and metadata
    record += [type(boxes + 1).__name__, type(boxes.clone()).__name__, boxes.clone().canvas_size == (8, 10)]
    record += [type(boxes.to(lib.float64)).__name__, boxes.to(lib.float64).dtype, type(boxes.detach()).__name__]
    record += [
        type(boxes.requires_grad_(False)).__name__,
        type(boxes.sum()).__name__,
        type(boxes.unbind(0)[0]).__name__,
    ]
    record += [
        isinstance(boxes, lib.Tensor),
        type(image.shape).__name__ if lib is torch else "Size",
        type(lib.cat([boxes, boxes])).__name__,
    ]
    for step in range(3):
        img, bx = hflip(image, boxes) if step % 2 else (image, boxes)
        img, bx = resize(img, bx, (4, 6))
        record += [type(img).__name__, type(bx).__name__, bx.canvas_size, bx.format, bx.as_subclass(lib.Tensor)]
        target = to_cxcywh(bx)
        norm = lib.tensor([6.0, 4.0, 6.0, 4.0])
        target = target / norm
        record.append(type(target).__name__)
        pred = model(img.as_subclass(lib.Tensor)[None].expand(1, -1, -1, -1))[0]
        loss = lib.nn.functional.smooth_l1_loss(pred, target, beta=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        record += [type(loss).__name__, loss]
    return model, record


def test_tv_tensors_boxes_through_augmentation_and_detection_loss_as_torch():
    trained_on_both(build_detector, run_tv)


# -- a logging / upcasting __torch_function__ subclass --------------------------------------------------


def build_net(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 3, 3)
            self.bn = nn.BatchNorm2d(3)
            self.fc = nn.Linear(12, 4)

        def forward(self, x):
            x = lib.nn.functional.max_pool2d(lib.relu(self.bn(self.conv(x))), 2)
            x = lib.flatten(x, 1)
            return lib.nn.functional.log_softmax(self.fc(x), dim=1)

    return Net


CNN_INPUTS = np.random.default_rng(6).standard_normal((4, 1, 6, 6)).astype(np.float32)
CNN_TARGETS = np.array([0, 3, 1, 2])


def run_log(lib, reference):
    class LoggingTensor(lib.Tensor):
        calls = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls.append(lib.overrides.resolve_name(func).partition(".")[2])
            if func in (lib.nn.functional.linear, lib.nn.functional.conv2d):  # upcast, AMP-style
                with lib._C.DisableTorchFunctionSubclass():
                    args = [a.double() if isinstance(a, lib.Tensor) else a for a in args]
                    out = func(*args, **(kwargs or {})).float()
                return out.as_subclass(cls)
            return super().__torch_function__(func, types, args, kwargs)

    model = build_net(lib)()
    copy_weights(reference, model)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    record = []
    for _step in range(2):
        x = lib.tensor(CNN_INPUTS).as_subclass(LoggingTensor)
        out = model(x)
        loss = lib.nn.functional.nll_loss(out, lib.tensor(CNN_TARGETS))
        record += [type(out).__name__, type(loss).__name__, loss.as_subclass(lib.Tensor)]
        opt.zero_grad()
        loss.backward()
        opt.step()
        record += [type(model.fc.weight.grad).__name__, model.conv.weight.grad]
    record += LoggingTensor.calls
    return model, record


def test_logging_and_upcasting_subclass_around_training_inputs_as_torch():
    trained_on_both(build_net, run_log)


# -- a DDP script launched the torchrun way -----------------------------------------------------------

DDP_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import ember as torch
    import ember.distributed as dist
    from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
    from ember.distributed.elastic.multiprocessing.errors import record
    from ember.distributed.optim import ZeroRedundancyOptimizer
    from ember.nn.parallel import DistributedDataParallel as DDP


    @record
    def main(weights_in, data_in, weights_out, steps):
        local_rank = int(os.environ["LOCAL_RANK"])
        dist.init_process_group("gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        state = np.load(weights_in)
        model.load_state_dict({name: torch.from_numpy(state[name]) for name in state.files})
        ddp_model = DDP(model, device_ids=None)
        ddp_model.register_comm_hook(state=None, hook=default_hooks.fp16_compress_hook)
        optimizer = ZeroRedundancyOptimizer(ddp_model.parameters(), optimizer_class=torch.optim.Adam, lr=0.01)
        data = np.load(data_in)
        shard = data["x"].shape[0] // world
        x = torch.from_numpy(data["x"][rank * shard : (rank + 1) * shard])
        y = torch.from_numpy(data["y"][rank * shard : (rank + 1) * shard])
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(ddp_model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        optimizer.consolidate_state_dict(to=0)
        if rank == 0:
            steps_taken = [float(s["step"]) for s in optimizer.state_dict()["state"].values()]
            weights = {name: value.detach().numpy() for name, value in model.state_dict().items()}
            np.savez(weights_out, losses=losses, local_rank=local_rank, world=world, steps=steps_taken, **weights)
        dist.destroy_process_group()


    if __name__ == "__main__":
        main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
    """
)


def test_ddp_script_with_fp16_hook_and_zero_launched_by_run_as_torch_full_batch(tmp_path):
    """Gradient averaging over the two halves gives the whole batch's gradient (up to the fp16 rounding of
    the hook), so the trained weights are those of torch's single process over the whole batch."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 3, 8)
    np.savez(tmp_path / "weights.npz", **{name: value.numpy() for name, value in reference.state_dict().items()})
    np.savez(tmp_path / "data.npz", x=x, y=y)
    (tmp_path / "train.py").write_text(DDP_SCRIPT)
    arguments = [str(tmp_path / name) for name in ("train.py", "weights.npz", "data.npz", "out.npz")]
    command = [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node=2", *arguments, "4"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=_env())
    assert result.returncode == 0, result.stderr
    out = np.load(tmp_path / "out.npz")
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.01)
    losses = []
    for _ in range(4):
        optimizer.zero_grad()
        losses.append(torch.nn.functional.cross_entropy(reference(torch.from_numpy(x[:4])), torch.from_numpy(y[:4])))
        torch.nn.functional.cross_entropy(reference(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        optimizer.step()
    assert (int(out["local_rank"]), int(out["world"]), out["steps"].tolist()) == (0, 2, [4.0] * 4)
    np.testing.assert_allclose(out["losses"], [loss.item() for loss in losses], rtol=1e-4)
    for name, value in reference.state_dict().items():
        np.testing.assert_allclose(out[name], value.numpy(), rtol=1e-3, atol=2e-4, err_msg=name)


# -- torch.compile settings and NumPy interop ----------------------------------------------------------


def build_regressor(lib):
    nn = lib.nn
    return lambda: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))


REGRESSION_X = np.random.default_rng(8).standard_normal((16, 4)).astype(np.float32)
REGRESSION_Y = (REGRESSION_X @ np.array([1.0, -2.0, 0.5, 0.0], dtype=np.float32))[:, None]


def train_compiled_with_numpy(lib, reference):
    lib._dynamo.config.suppress_errors = True
    lib._dynamo.config.cache_size_limit = 16
    lib._inductor.config.coordinate_descent_tuning = True
    lib._inductor.config.fx_graph_cache = False
    base = build_regressor(lib)()
    copy_weights(reference, base)
    model = lib.compile(base, backend="eager", dynamic=False)
    record = [getattr(model, "_orig_mod", model) is base]
    optimizer = lib.optim.Adam(model.parameters(), lr=np.float64(1e-2), betas=(np.float64(0.9), 0.999))
    weight = np.float32(0.5)
    for _ in range(3):
        out = model(lib.from_numpy(REGRESSION_X))
        mse = ((out - lib.from_numpy(REGRESSION_Y)) ** 2).mean()
        loss = mse * weight + np.float64(0.01) * sum(p.pow(2).sum() for p in model.parameters())
        record += [loss, (loss * np.float32(2)).dtype, (np.float64(2) * loss).dtype, type(np.int64(2) * loss).__name__]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        detached = out.detach()
        array = np.asarray(detached)
        record += [
            array.dtype.name,
            float(array.sum()),
            np.exp(detached),
            np.sqrt(mse.detach()),
            np.greater(detached, 0),
        ]
        record += [bool(np.float32(1.5) < mse.detach()), (np.int64(3) + lib.arange(2)).dtype]
    return base, record


@pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")  # torch's, NumPy 2
def test_compile_settings_and_numpy_interop_as_torch():
    trained_on_both(build_regressor, train_compiled_with_numpy)
