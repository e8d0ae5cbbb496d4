"""Public programs, round 7: condensed versions of widely copied PyTorch programs, each run on ember and
on torch from the same weights (copied with ``state_dict``) and the same seeds, comparing losses,
outputs, gradients and the trained weights.

- nanoGPT (karpathy/nanoGPT ``model.py``/``train.py``): ``LayerNorm`` with an optional bias through
  ``F.layer_norm``, the flash path (``scaled_dot_product_attention(is_causal=True)``) and the manual one
  (a ``tril`` buffer, ``masked_fill(-inf)``), weight tying, the scaled ``c_proj`` init by parameter name,
  ``configure_optimizers`` (decay/no-decay groups by ``dim()``, ``fused`` found by ``inspect``), the
  cosine learning rate with warm-up written into ``param_groups``, gradient accumulation through
  ``GradScaler``/``unscale_``/``clip_grad_norm_``, ``crop_block_size`` and ``generate`` with top-k.
- minGPT (karpathy/minGPT): ``NewGELU``, the weight-decay groups chosen by module type through
  ``named_modules``/``named_parameters`` with ``set`` bookkeeping, ``AdamW`` over the sorted groups.
- A timm-style ViT: ``PatchEmbed``, class token and position embedding (``trunc_normal_``), ``DropPath``
  (``x.new_empty().bernoulli_``), ``LayerScale`` (``x.mul_`` in place), qk-norm, fused and manual attention.
- ConvNeXt: 7x7 depthwise convolutions, its ``channels_first`` LayerNorm by hand, the ``gamma`` layer scale,
  ``LinearLR`` + ``CosineAnnealingLR`` in ``SequentialLR``; float64 and float32.
- U-Net (milesial/Pytorch-UNet): ``ConvTranspose2d`` or bilinear ups with ``F.pad`` by the size difference,
  the Dice loss on ``softmax`` + ``one_hot(...).permute``, ``RMSprop(foreach=True)``, ``ReduceLROnPlateau``.
- pyGAT's sparse GAT: a custom ``autograd.Function`` that saves a sparse adjacency with
  ``save_for_backward`` and reads its ``_indices()``; a graph transformer whose attention is
  ``torch.sparse.softmax`` over a hybrid sparse tensor, with Laplacian eigenvector encodings (``eigh``).
- A VAE (pytorch/examples): reparameterisation, BCE + KL, a shuffling ``DataLoader``, ``kl_divergence`` and an
  IWAE bound by ``rsample``/``logsumexp``; MAE (facebookresearch/mae): random masking by ``argsort``/``gather``,
  NumPy sin-cos position embeddings, ``einsum`` patchify, ``norm_pix_loss``.
- CleanRL's PPO (discrete ``Categorical`` and continuous ``Normal``), GAE, clipped policy and value losses;
  REINFORCE (pytorch/examples) with normalised returns.
- A char-RNN (GRU/LSTM) with ``Variable``, truncated BPTT and ``multinomial`` sampling; locuslab's TCN with
  ``weight_norm`` (hooks and parametrizations) dilated causal convolutions on the adding problem.
- DCGAN (pytorch/examples, ``weights_init`` by class name) and WGAN-GP (the double-backward penalty).
- RealNVP on two moons (``MultivariateNormal`` prior) and a Glow step (ActNorm's data-dependent init,
  invertible 1x1 convolutions by ``slogdet``/``inverse`` and by SciPy's LU, affine coupling).
- Barlow Twins with its custom ``LARS`` optimizer (``Optimizer`` subclass, callables in the param groups,
  ``state_dict`` round trip); MAML (second and first order) through ``func.functional_call`` and
  ``autograd.grad(loss, params.values(), create_graph=True)``; prototypical networks; FiLM conditioning
  on a packed-GRU question encoder with coordinate maps.
- ESPCN super-resolution (``PixelShuffle``, ``orthogonal_`` with ``calculate_gain``); DeepFM with an
  ``EmbeddingBag`` of weighted tags; PatchTST (RevIN, ``ReplicationPad1d``, ``unfold``, ``OneCycleLR``); an
  MLP-Mixer.

Where a parameter's gradient is zero up to rounding (a key bias before softmax, a bias before BatchNorm
or LayerNorm), Adam would turn the rounding noise into full steps of either sign: such parameters are
frozen, their gradient zeroed, or the program trained by SGD, as each program says.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from public_programs import copy_weights, torch, trained_on_both

import ember

RNG = np.random.default_rng(7)


# -- nanoGPT -----------------------------------------------------------------------------------------


def build_nanogpt(lib, flash=True, block_size=8, vocab_size=11, n_layer=2, n_head=2, n_embd=8, dropout=0.1, bias=False):
    nn, F = lib.nn, lib.nn.functional

    class LayerNorm(nn.Module):
        def __init__(self, ndim, bias):
            super().__init__()
            self.weight = nn.Parameter(lib.ones(ndim))
            self.bias = nn.Parameter(lib.zeros(ndim)) if bias else None

        def forward(self, input):
            return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
            self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
            self.attn_dropout = nn.Dropout(dropout)
            self.resid_dropout = nn.Dropout(dropout)
            self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout
            self.flash = flash and hasattr(lib.nn.functional, "scaled_dot_product_attention")
            if not self.flash:
                mask = lib.tril(lib.ones(block_size, block_size)).view(1, 1, block_size, block_size)
                self.register_buffer("bias", mask)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            if self.flash:
                y = F.scaled_dot_product_attention(
                    q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True
                )
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
                att = F.softmax(att, dim=-1)
                att = self.attn_dropout(att)
                y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn = LayerNorm(n_embd, bias=bias), CausalSelfAttention()
            self.ln_2, self.mlp = LayerNorm(n_embd, bias=bias), MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.block_size = block_size
            self.transformer = nn.ModuleDict(
                dict(
                    wte=nn.Embedding(vocab_size, n_embd),
                    wpe=nn.Embedding(block_size, n_embd),
                    drop=nn.Dropout(dropout),
                    h=nn.ModuleList([Block() for _ in range(n_layer)]),
                    ln_f=LayerNorm(n_embd, bias=bias),
                )
            )
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    lib.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

        def get_num_params(self, non_embedding=True):
            n_params = sum(p.numel() for p in self.parameters())
            if non_embedding:
                n_params -= self.transformer.wpe.weight.numel()
            return n_params

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                lib.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    lib.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                lib.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            assert t <= self.block_size, f"Cannot forward sequence of length {t}, block size is only {self.block_size}"
            pos = lib.arange(0, t, dtype=lib.long, device=idx.device)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            if targets is not None:
                logits = self.lm_head(x)
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            else:
                logits = self.lm_head(x[:, [-1], :])
                loss = None
            return logits, loss

        def crop_block_size(self, block_size):
            self.block_size = block_size
            self.transformer.wpe.weight = nn.Parameter(self.transformer.wpe.weight[:block_size])
            for block in self.transformer.h:
                if hasattr(block.attn, "bias"):
                    block.attn.bias = block.attn.bias[:, :, :block_size, :block_size]

        def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
            param_dict = {pn: p for pn, p in self.named_parameters()}
            param_dict = {pn: p for pn, p in param_dict.items() if p.requires_grad}
            decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
            nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
            optim_groups = [
                {"params": decay_params, "weight_decay": weight_decay},
                {"params": nodecay_params, "weight_decay": 0.0},
            ]
            fused_available = "fused" in inspect.signature(lib.optim.AdamW).parameters
            use_fused = fused_available and device_type in ("cuda", "cpu")
            extra_args = dict(fused=True) if use_fused else dict()
            return lib.optim.AdamW(optim_groups, lr=learning_rate, betas=betas, **extra_args)

        @lib.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= self.block_size else idx[:, -self.block_size :]
                logits, _ = self(idx_cond)
                logits = logits[:, -1, :] / temperature
                if top_k is not None:
                    v, _ = lib.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float("Inf")
                probs = F.softmax(logits, dim=-1)
                idx_next = lib.multinomial(probs, num_samples=1)
                idx = lib.cat((idx, idx_next), dim=1)
            return idx

    return GPT


NANOGPT_DATA = RNG.integers(0, 11, 200).astype(np.uint16)


def train_nanogpt(lib, reference, flash=True, accumulation=2):
    model = build_nanogpt(lib, flash=flash)()
    copy_weights(reference, model)
    model.transformer.wte.weight = model.lm_head.weight  # load_state_dict copies into the tied tensor
    record = [model.get_num_params(), model.transformer.wte.weight is model.lm_head.weight]
    optimizer = model.configure_optimizers(0.1, 6e-3, (0.9, 0.95), "cpu")
    record += [len(optimizer.param_groups[0]["params"]), len(optimizer.param_groups[1]["params"])]
    scaler = lib.amp.GradScaler("cpu", enabled=True, init_scale=2.0**8)
    block_size, batch_size, warmup_iters, lr_decay_iters, min_lr = 8, 3, 2, 6, 6e-4

    def get_batch(generator):
        ix = lib.randint(len(NANOGPT_DATA) - block_size, (batch_size,), generator=generator)
        x = lib.stack([lib.from_numpy((NANOGPT_DATA[i : i + block_size]).astype(np.int64)) for i in ix])
        y = lib.stack([lib.from_numpy((NANOGPT_DATA[i + 1 : i + 1 + block_size]).astype(np.int64)) for i in ix])
        return x, y

    def get_lr(it):
        if it < warmup_iters:
            return 6e-3 * (it + 1) / (warmup_iters + 1)
        decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
        coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
        return min_lr + coeff * (6e-3 - min_lr)

    @lib.no_grad()
    def estimate_loss():
        model.eval()
        losses = lib.zeros(2)
        for k in range(2):
            X, Y = get_batch(generator)
            _, loss = model(X, Y)
            losses[k] = loss.item()
        model.train()
        return losses.mean()

    generator = lib.Generator().manual_seed(1337)
    lib.manual_seed(1337)
    X, Y = get_batch(generator)
    for it in range(5):
        lr = get_lr(it)
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        for _ in range(accumulation):
            logits, loss = model(X, Y)
            loss = loss / accumulation
            X, Y = get_batch(generator)
            scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        record.append(lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        record += [loss, estimate_loss(), scaler.get_scale()]
    model.eval()
    Y[0, -2:] = -1
    record += list(model(X, Y))
    record.append(model(X)[0])
    model.crop_block_size(6)
    record += [model.transformer.wpe.weight.shape[0], model.generate(X[:, :3], 5, temperature=0.8, top_k=4)]
    return model, record


@pytest.mark.parametrize("flash", [True, False])
def test_nanogpt_trains_with_fused_adamw_and_grad_scaler_as_torch(flash):
    trained_on_both(
        lambda lib: lambda: build_nanogpt(lib, flash=flash)(), lambda lib, ref: train_nanogpt(lib, ref, flash=flash)
    )


# -- minGPT ------------------------------------------------------------------------------------------


def build_mingpt(lib, vocab_size=9, block_size=6, n_embd=8, n_head=2, n_layer=2, pdrop=0.1):
    nn, F = lib.nn, lib.nn.functional

    class NewGELU(nn.Module):
        def forward(self, x):
            return 0.5 * x * (1.0 + lib.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * lib.pow(x, 3.0))))

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)
            self.attn_dropout, self.resid_dropout = nn.Dropout(pdrop), nn.Dropout(pdrop)
            self.register_buffer("bias", lib.tril(lib.ones(block_size, block_size)).view(1, 1, block_size, block_size))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
            q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
            v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = self.attn_dropout(F.softmax(att, dim=-1))
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.resid_dropout(self.c_proj(y))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn, self.ln_2 = nn.LayerNorm(n_embd), CausalSelfAttention(), nn.LayerNorm(n_embd)
            self.mlp = nn.ModuleDict(
                dict(
                    c_fc=nn.Linear(n_embd, 4 * n_embd),
                    c_proj=nn.Linear(4 * n_embd, n_embd),
                    act=NewGELU(),
                    dropout=nn.Dropout(pdrop),
                )
            )
            m = self.mlp
            self.mlpf = lambda x: m.dropout(m.c_proj(m.act(m.c_fc(x))))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlpf(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(
                dict(
                    wte=nn.Embedding(vocab_size, n_embd),
                    wpe=nn.Embedding(block_size, n_embd),
                    drop=nn.Dropout(pdrop),
                    h=nn.ModuleList([Block() for _ in range(n_layer)]),
                    ln_f=nn.LayerNorm(n_embd),
                )
            )
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    lib.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                lib.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    lib.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                lib.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            elif isinstance(module, nn.LayerNorm):
                lib.nn.init.zeros_(module.bias)
                lib.nn.init.ones_(module.weight)

        def configure_optimizers(self, learning_rate, weight_decay, betas):
            decay, no_decay = set(), set()
            whitelist_weight_modules = (lib.nn.Linear,)
            blacklist_weight_modules = (lib.nn.LayerNorm, lib.nn.Embedding)
            for mn, m in self.named_modules():
                for pn, _p in m.named_parameters():
                    fpn = f"{mn}.{pn}" if mn else pn
                    if pn.endswith("bias"):
                        no_decay.add(fpn)
                    elif pn.endswith("weight") and isinstance(m, whitelist_weight_modules):
                        decay.add(fpn)
                    elif pn.endswith("weight") and isinstance(m, blacklist_weight_modules):
                        no_decay.add(fpn)
            param_dict = {pn: p for pn, p in self.named_parameters()}
            inter_params, union_params = decay & no_decay, decay | no_decay
            assert len(inter_params) == 0
            assert len(param_dict.keys() - union_params) == 0
            optim_groups = [
                {"params": [param_dict[pn] for pn in sorted(list(decay))], "weight_decay": weight_decay},
                {"params": [param_dict[pn] for pn in sorted(list(no_decay))], "weight_decay": 0.0},
            ]
            return lib.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            pos = lib.arange(0, t, dtype=lib.long).unsqueeze(0)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            loss = None
            if targets is not None:
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss

        @lib.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, do_sample=False, top_k=None):
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= block_size else idx[:, -block_size:]
                logits, _ = self(idx_cond)
                logits = logits[:, -1, :] / temperature
                if top_k is not None:
                    v, _ = lib.topk(logits, top_k)
                    logits[logits < v[:, [-1]]] = -float("Inf")
                probs = F.softmax(logits, dim=-1)
                if do_sample:
                    idx_next = lib.multinomial(probs, num_samples=1)
                else:
                    _, idx_next = lib.topk(probs, k=1, dim=-1)
                idx = lib.cat((idx, idx_next), dim=1)
            return idx

    return GPT


def train_mingpt(lib, reference):
    model = build_mingpt(lib)()
    copy_weights(reference, model)
    optimizer = model.configure_optimizers(5e-3, 0.1, (0.9, 0.95))
    record = [len(g["params"]) for g in optimizer.param_groups]
    # the sort task of minGPT's demo: 3 digits, then the sorted ones; the first answers masked by -1
    inp = lib.tensor([[2, 0, 1, 0, 1, 2], [1, 1, 0, 0, 1, 1], [2, 2, 1, 1, 2, 2]])
    x, y = inp[:, :-1].clone(), inp[:, 1:].clone()
    y[:, : 3 - 1] = -1
    lib.manual_seed(3407)
    for _ in range(4):
        logits, loss = model(x, y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        record += [logits, loss]
    model.eval()
    record.append(model.generate(inp[:, :3], 3, do_sample=False))
    record.append(model.generate(inp[:, :3], 4, do_sample=True, top_k=3))
    return model, record


def test_mingpt_trains_with_module_type_decay_groups_as_torch():
    trained_on_both(build_mingpt, train_mingpt)


# -- timm-style ViT ----------------------------------------------------------------------------------


def build_vit(lib, img_size=8, patch_size=4, in_chans=3, num_classes=5, dim=8, depth=2, heads=2, drop_path=0.2):
    nn, F = lib.nn, lib.nn.functional

    def drop_path_fn(x, drop_prob: float = 0.0, training: bool = False, scale_by_keep: bool = True):
        if drop_prob == 0.0 or not training:
            return x
        keep_prob = 1 - drop_prob
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
        if keep_prob > 0.0 and scale_by_keep:
            random_tensor.div_(keep_prob)
        return x * random_tensor

    class DropPath(nn.Module):
        def __init__(self, drop_prob=None):
            super().__init__()
            self.drop_prob = drop_prob

        def forward(self, x):
            return drop_path_fn(x, self.drop_prob, self.training)

    class LayerScale(nn.Module):
        def __init__(self, dim, init_values=1e-5, inplace=False):
            super().__init__()
            self.inplace = inplace
            self.gamma = nn.Parameter(init_values * lib.ones(dim))

        def forward(self, x):
            return x.mul_(self.gamma) if self.inplace else x * self.gamma

    class PatchEmbed(nn.Module):
        def __init__(self):
            super().__init__()
            self.grid_size = (img_size // patch_size, img_size // patch_size)
            self.num_patches = self.grid_size[0] * self.grid_size[1]
            self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch_size, stride=patch_size)
            self.norm = nn.Identity()

        def forward(self, x):
            return self.norm(self.proj(x).flatten(2).transpose(1, 2))

    class Attention(nn.Module):
        def __init__(self, fused_attn):
            super().__init__()
            self.num_heads, self.head_dim = heads, dim // heads
            self.scale = self.head_dim**-0.5
            self.fused_attn = fused_attn
            self.qkv = nn.Linear(dim, dim * 3, bias=True)
            # the key norm's bias only shifts each row of logits (its gradient is rounding noise)
            self.q_norm, self.k_norm = nn.LayerNorm(self.head_dim), nn.LayerNorm(self.head_dim, bias=False)
            self.attn_drop = nn.Dropout(0.1)
            self.proj, self.proj_drop = nn.Linear(dim, dim), nn.Dropout(0.1)

        def forward(self, x):
            B, N, C = x.shape
            qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.unbind(0)
            q, k = self.q_norm(q), self.k_norm(k)
            if self.fused_attn:
                x = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop.p if self.training else 0.0)
            else:
                q = q * self.scale
                attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
                x = self.attn_drop(attn) @ v
            x = x.transpose(1, 2).reshape(B, N, C)
            return self.proj_drop(self.proj(x))

    class Block(nn.Module):
        def __init__(self, dpr, fused_attn, inplace):
            super().__init__()
            self.norm1, self.attn = nn.LayerNorm(dim, eps=1e-6), Attention(fused_attn)
            self.ls1 = LayerScale(dim, init_values=0.1, inplace=inplace)
            self.drop_path1 = DropPath(dpr) if dpr > 0.0 else nn.Identity()
            self.norm2 = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Dropout(0.0), nn.Linear(4 * dim, dim))
            self.ls2 = LayerScale(dim, init_values=0.1, inplace=inplace)
            self.drop_path2 = DropPath(dpr) if dpr > 0.0 else nn.Identity()

        def forward(self, x):
            x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
            return x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))

    class VisionTransformer(nn.Module):
        def __init__(self, global_pool="token", inplace=False):
            super().__init__()
            self.global_pool = global_pool
            self.patch_embed = PatchEmbed()
            num_patches = self.patch_embed.num_patches
            self.cls_token = nn.Parameter(lib.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(lib.randn(1, num_patches + 1, dim) * 0.02)
            self.pos_drop = nn.Dropout(p=0.1)
            dpr = [x.item() for x in lib.linspace(0, drop_path, depth)]
            self.blocks = nn.Sequential(*[Block(dpr[i], fused_attn=i % 2 == 0, inplace=inplace) for i in range(depth)])
            self.norm = nn.LayerNorm(dim, eps=1e-6)
            self.head = nn.Linear(dim, num_classes)
            lib.nn.init.trunc_normal_(self.pos_embed, std=0.02)
            lib.nn.init.normal_(self.cls_token, std=1e-6)

        def forward(self, x):
            x = self.patch_embed(x)
            x = lib.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
            x = self.pos_drop(x + self.pos_embed)
            x = self.norm(self.blocks(x))
            x = x[:, 1:].mean(dim=1) if self.global_pool == "avg" else x[:, 0]
            return self.head(x)

        def no_weight_decay(self):
            return {"pos_embed", "cls_token"}

    return VisionTransformer


VIT_IMAGES = RNG.standard_normal((4, 3, 8, 8)).astype(np.float32)


def train_vit(lib, reference, global_pool="token", inplace=False):
    model = build_vit(lib)(global_pool=global_pool, inplace=inplace)
    copy_weights(reference, model)
    skip = model.no_weight_decay()
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if param.ndim <= 1 or name.endswith(".bias") or name in skip else decay).append(param)
    optimizer = lib.optim.AdamW([{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": 0.05}])
    scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4, eta_min=1e-5)
    x, y, record = lib.tensor(VIT_IMAGES), lib.tensor([0, 4, 2, 1]), []
    lib.manual_seed(11)
    for _ in range(3):
        loss = lib.nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        record += [loss, scheduler.get_last_lr()[0]]
    record += [p.grad for p in model.parameters()]
    model.eval()
    with lib.inference_mode():
        record.append(model(x))
    return model, record


@pytest.mark.parametrize("global_pool, inplace", [("token", False), ("avg", True)])
def test_timm_vit_with_drop_path_and_layer_scale_trains_as_torch(global_pool, inplace):
    trained_on_both(
        lambda lib: lambda: build_vit(lib)(global_pool=global_pool, inplace=inplace),
        lambda lib, ref: train_vit(lib, ref, global_pool, inplace),
    )


# -- ConvNeXt ----------------------------------------------------------------------------------------


def build_convnext(lib, in_chans=3, num_classes=4, depths=(1, 1), dims=(4, 8), drop_path_rate=0.3):
    nn, F = lib.nn, lib.nn.functional

    class LayerNorm(nn.Module):
        def __init__(self, normalized_shape, eps=1e-6, data_format="channels_last"):
            super().__init__()
            self.weight = nn.Parameter(lib.ones(normalized_shape))
            self.bias = nn.Parameter(lib.zeros(normalized_shape))
            self.eps, self.data_format = eps, data_format
            self.normalized_shape = (normalized_shape,)

        def forward(self, x):
            if self.data_format == "channels_last":
                return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
            u = x.mean(1, keepdim=True)
            s = (x - u).pow(2).mean(1, keepdim=True)
            x = (x - u) / lib.sqrt(s + self.eps)
            return self.weight[:, None, None] * x + self.bias[:, None, None]

    class DropPath(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.p = p

        def forward(self, x):
            if self.p == 0.0 or not self.training:
                return x
            keep = 1 - self.p
            mask = keep + lib.rand((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device)
            mask.floor_()
            return x.div(keep) * mask

    class Block(nn.Module):
        def __init__(self, dim, drop_path=0.0, layer_scale_init_value=1e-6):
            super().__init__()
            self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
            self.norm = LayerNorm(dim, eps=1e-6)
            self.pwconv1 = nn.Linear(dim, 4 * dim)
            self.act = nn.GELU()
            self.pwconv2 = nn.Linear(4 * dim, dim)
            self.gamma = (
                nn.Parameter(layer_scale_init_value * lib.ones(dim), requires_grad=True)
                if layer_scale_init_value > 0
                else None
            )
            self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()

        def forward(self, x):
            input = x
            x = self.dwconv(x)
            x = x.permute(0, 2, 3, 1)
            x = self.pwconv2(self.act(self.pwconv1(self.norm(x))))
            if self.gamma is not None:
                x = self.gamma * x
            x = x.permute(0, 3, 1, 2)
            return input + self.drop_path(x)

    class ConvNeXt(nn.Module):
        def __init__(self, layer_scale_init_value=0.5, head_init_scale=1.0):
            super().__init__()
            self.downsample_layers = nn.ModuleList()
            stem = nn.Sequential(
                nn.Conv2d(in_chans, dims[0], kernel_size=2, stride=2), LayerNorm(dims[0], data_format="channels_first")
            )
            self.downsample_layers.append(stem)
            for i in range(len(dims) - 1):
                self.downsample_layers.append(
                    nn.Sequential(
                        LayerNorm(dims[i], eps=1e-6, data_format="channels_first"),
                        nn.Conv2d(dims[i], dims[i + 1], kernel_size=2, stride=2),
                    )
                )
            self.stages = nn.ModuleList()
            dp_rates = [x.item() for x in lib.linspace(0, drop_path_rate, sum(depths))]
            cur = 0
            for i in range(len(dims)):
                self.stages.append(
                    nn.Sequential(
                        *[Block(dims[i], dp_rates[cur + j], layer_scale_init_value) for j in range(depths[i])]
                    )
                )
                cur += depths[i]
            self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
            self.head = nn.Linear(dims[-1], num_classes)
            self.apply(self._init_weights)
            self.head.weight.data.mul_(head_init_scale)
            self.head.bias.data.mul_(head_init_scale)

        def _init_weights(self, m):
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                lib.nn.init.trunc_normal_(m.weight, std=0.2)
                nn.init.constant_(m.bias, 0)

        def forward(self, x):
            for i in range(len(dims)):
                x = self.stages[i](self.downsample_layers[i](x))
            return self.head(self.norm(x.mean([-2, -1])))

    return ConvNeXt


CONVNEXT_IMAGES = RNG.standard_normal((3, 3, 12, 12))


def train_convnext(lib, reference, dtype):
    model = build_convnext(lib)().to(getattr(lib, dtype))
    copy_weights(reference.to(getattr(torch, dtype)), model)
    reference.float()
    optimizer = lib.optim.AdamW(model.parameters(), lr=4e-3, weight_decay=0.05)
    warmup = lib.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=2)
    cosine = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    scheduler = lib.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[2])
    x = lib.tensor(CONVNEXT_IMAGES, dtype=getattr(lib, dtype))
    y, record = lib.tensor([1, 3, 0]), []
    lib.manual_seed(2)
    for _ in range(4):
        loss = lib.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        record += [loss, optimizer.param_groups[0]["lr"]]
    record += [p.grad for p in model.parameters()]
    model.eval()
    with lib.no_grad():
        record.append(model(x))
    return model, record


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_convnext_trains_as_torch(dtype):
    tol = dict(rtol=1e-9, atol=1e-11, model_rtol=1e-9, model_atol=1e-11) if dtype == "float64" else {}
    trained_on_both(build_convnext, lambda lib, ref: train_convnext(lib, ref, dtype), **tol)


# -- U-Net (milesial/Pytorch-UNet) -----------------------------------------------------------------


def build_unet(lib, n_channels=2, n_classes=3, bilinear=False, base=4):
    nn, F = lib.nn, lib.nn.functional

    class DoubleConv(nn.Module):
        def __init__(self, in_channels, out_channels, mid_channels=None):
            super().__init__()
            if not mid_channels:
                mid_channels = out_channels
            self.double_conv = nn.Sequential(
                nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(mid_channels),
                nn.ReLU(inplace=True),
                nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
            )

        def forward(self, x):
            return self.double_conv(x)

    class Down(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

        def forward(self, x):
            return self.maxpool_conv(x)

    class Up(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            if bilinear:
                self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
                self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
            else:
                self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
                self.conv = DoubleConv(in_channels, out_channels)

        def forward(self, x1, x2):
            x1 = self.up(x1)
            diffY = x2.size()[2] - x1.size()[2]
            diffX = x2.size()[3] - x1.size()[3]
            x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
            return self.conv(lib.cat([x2, x1], dim=1))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            factor = 2 if bilinear else 1
            self.inc = DoubleConv(n_channels, base)
            self.down1 = Down(base, 2 * base)
            self.down2 = Down(2 * base, 4 * base // factor)
            self.up1 = Up(4 * base, 2 * base // factor)
            self.up2 = Up(2 * base, base)
            self.outc = nn.Conv2d(base, n_classes, kernel_size=1)

        def forward(self, x):
            x1 = self.inc(x)
            x2 = self.down1(x1)
            x3 = self.down2(x2)
            return self.outc(self.up2(self.up1(x3, x2), x1))

    return UNet


def dice_coeff(input, target, reduce_batch_first=False, epsilon=1e-6):
    assert input.size() == target.size()
    sum_dim = (-1, -2) if input.dim() == 2 or not reduce_batch_first else (-1, -2, -3)
    inter = 2 * (input * target).sum(dim=sum_dim)
    sets_sum = input.sum(dim=sum_dim) + target.sum(dim=sum_dim)
    sets_sum = sets_sum.where(sets_sum != 0, inter)  # a Tensor.where with a tensor "other"
    dice = (inter + epsilon) / (sets_sum + epsilon)
    return dice.mean()


def multiclass_dice_coeff(input, target, reduce_batch_first=False, epsilon=1e-6):
    return dice_coeff(input.flatten(0, 1), target.flatten(0, 1), reduce_batch_first, epsilon)


UNET_IMAGES = RNG.standard_normal((2, 2, 10, 10)).astype(np.float32)  # 10 -> 5 -> 2: the up path pads
UNET_MASKS = RNG.integers(0, 3, (2, 10, 10))


def train_unet(lib, reference, bilinear):
    F = lib.nn.functional
    model = build_unet(lib, bilinear=bilinear)()
    copy_weights(reference, model)
    optimizer = lib.optim.RMSprop(model.parameters(), lr=1e-3, weight_decay=1e-8, momentum=0.999, foreach=True)
    scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "max", patience=0)
    criterion = lib.nn.CrossEntropyLoss()
    images, true_masks, record = lib.tensor(UNET_IMAGES), lib.tensor(UNET_MASKS), []
    for _ in range(3):
        masks_pred = model(images)
        loss = criterion(masks_pred, true_masks)
        loss += 1 - multiclass_dice_coeff(
            F.softmax(masks_pred, dim=1).float(),
            F.one_hot(true_masks, 3).permute(0, 3, 1, 2).float(),
            reduce_batch_first=True,
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        model.eval()
        with lib.no_grad():
            mask_pred = model(images).argmax(dim=1)
            mask_pred = F.one_hot(mask_pred, 3).permute(0, 3, 1, 2).float()
            mask_true = F.one_hot(true_masks, 3).permute(0, 3, 1, 2).float()
            dice_score = multiclass_dice_coeff(mask_pred[:, 1:], mask_true[:, 1:], reduce_batch_first=False)
        model.train()
        scheduler.step(dice_score)
        record += [loss, dice_score, optimizer.param_groups[0]["lr"]]
    return model, record + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("bilinear", [False, True])
def test_unet_with_dice_loss_trains_as_torch(bilinear):
    trained_on_both(
        lambda lib: lambda: build_unet(lib, bilinear=bilinear)(), lambda lib, ref: train_unet(lib, ref, bilinear)
    )


# -- pyGAT's sparse graph attention and a graph transformer on torch.sparse ------------------------------


GRAPH_ADJ = np.array(
    [
        [1, 1, 0, 0, 1, 0],
        [1, 1, 1, 0, 0, 0],
        [0, 1, 1, 1, 0, 1],
        [0, 0, 1, 1, 1, 0],
        [1, 0, 0, 1, 1, 1],
        [0, 0, 1, 0, 1, 1],
    ],
    dtype=np.float32,
)
GRAPH_FEATURES = RNG.standard_normal((6, 5)).astype(np.float32)
GRAPH_LABELS = np.array([0, 1, 2, 1, 0, 2])


def build_spgat(lib, nfeat=5, nhid=4, nclass=3, dropout=0.2, alpha=0.2, nheads=2):
    nn, F = lib.nn, lib.nn.functional

    class SpecialSpmmFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, indices, values, shape, b):
            assert indices.requires_grad is False
            a = lib.sparse_coo_tensor(indices, values, shape)
            ctx.save_for_backward(a, b)
            ctx.N = shape[0]
            return lib.matmul(a, b)

        @staticmethod
        def backward(ctx, grad_output):
            a, b = ctx.saved_tensors
            grad_values = grad_b = None
            if ctx.needs_input_grad[1]:
                grad_a_dense = grad_output.matmul(b.t())
                edge_idx = a._indices()[0, :] * ctx.N + a._indices()[1, :]
                grad_values = grad_a_dense.view(-1)[edge_idx]
            if ctx.needs_input_grad[3]:
                grad_b = a.t().matmul(grad_output)
            return None, grad_values, None, grad_b

    class SpGraphAttentionLayer(nn.Module):
        def __init__(self, in_features, out_features, concat=True):
            super().__init__()
            self.out_features, self.concat = out_features, concat
            self.W = nn.Parameter(lib.zeros(size=(in_features, out_features)))
            nn.init.xavier_normal_(self.W.data, gain=1.414)
            self.a = nn.Parameter(lib.zeros(size=(1, 2 * out_features)))
            nn.init.xavier_normal_(self.a.data, gain=1.414)
            self.dropout = nn.Dropout(dropout)
            self.leakyrelu = nn.LeakyReLU(alpha)

        def forward(self, input, adj):
            N = input.size()[0]
            edge = adj.nonzero().t()
            h = lib.mm(input, self.W)
            assert not lib.isnan(h).any()
            edge_h = lib.cat((h[edge[0, :], :], h[edge[1, :], :]), dim=1).t()
            edge_e = lib.exp(-self.leakyrelu(self.a.mm(edge_h).squeeze()))
            assert not lib.isnan(edge_e).any()
            e_rowsum = SpecialSpmmFunction.apply(edge, edge_e, lib.Size([N, N]), lib.ones(size=(N, 1)))
            edge_e = self.dropout(edge_e)
            h_prime = SpecialSpmmFunction.apply(edge, edge_e, lib.Size([N, N]), h)
            h_prime = h_prime.div(e_rowsum)
            return F.elu(h_prime) if self.concat else h_prime

    class SpGAT(nn.Module):
        def __init__(self):
            super().__init__()
            self.attentions = [SpGraphAttentionLayer(nfeat, nhid) for _ in range(nheads)]
            for i, attention in enumerate(self.attentions):
                self.add_module(f"attention_{i}", attention)
            self.out_att = SpGraphAttentionLayer(nhid * nheads, nclass, concat=False)

        def forward(self, x, adj):
            x = F.dropout(x, dropout, training=self.training)
            x = lib.cat([att(x, adj) for att in self.attentions], dim=1)
            x = F.dropout(x, dropout, training=self.training)
            return F.log_softmax(F.elu(self.out_att(x, adj)), dim=1)

    return SpGAT


def train_spgat(lib, reference):
    model = build_spgat(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
    features, adj = lib.FloatTensor(GRAPH_FEATURES), lib.FloatTensor(GRAPH_ADJ)
    labels, idx_train = lib.LongTensor(GRAPH_LABELS), lib.LongTensor([0, 1, 2, 3])
    lib.manual_seed(72)
    record = []
    for _ in range(3):
        model.train()
        optimizer.zero_grad()
        output = model(features, adj)
        loss_train = lib.nn.functional.nll_loss(output[idx_train], labels[idx_train])
        loss_train.backward()
        optimizer.step()
        model.eval()
        record += [loss_train, model(features, adj)]
    return model, record + [p.grad for p in model.parameters()]


def test_pygat_sparse_attention_with_a_custom_spmm_function_trains_as_torch():
    trained_on_both(build_spgat, train_spgat)


def build_sparse_graph_transformer(lib, dim=8, heads=2, classes=3):
    nn, F = lib.nn, lib.nn.functional

    class SparseMHA(nn.Module):
        """Attention restricted to the edges: scores as sparse values, ``torch.sparse.softmax`` per row."""

        def __init__(self):
            super().__init__()
            # (a key bias would only shift each row's scores: its gradient is rounding noise, which Adam scales up)
            self.q_proj, self.k_proj = nn.Linear(dim, dim), nn.Linear(dim, dim, bias=False)
            self.v_proj = nn.Linear(dim, dim)
            self.out_proj = nn.Linear(dim, dim)
            self.head_dim = dim // heads
            self.scaling = self.head_dim**-0.5

        def forward(self, A, h):
            N = h.shape[0]
            q = self.q_proj(h).reshape(N, self.head_dim, heads) * self.scaling
            k = self.k_proj(h).reshape(N, self.head_dim, heads)
            v = self.v_proj(h).reshape(N, self.head_dim, heads)
            row, col = A.indices()
            scores = (q[row] * k[col]).sum(1)  # (nnz, heads): a hybrid sparse tensor's values
            attn = lib.sparse.softmax(lib.sparse_coo_tensor(A.indices(), scores, (N, N, heads)), dim=1)
            out = lib.stack([lib.sparse.mm(self._head(attn, i), v[:, :, i]) for i in range(heads)], -1)
            return self.out_proj(out.reshape(N, -1))

        @staticmethod
        def _head(attn, i):
            return lib.sparse_coo_tensor(attn.indices(), attn.values()[:, i], attn.shape[:2])

    class GTLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.MHA = SparseMHA()
            self.batchnorm1, self.batchnorm2 = nn.BatchNorm1d(dim), nn.BatchNorm1d(dim)
            self.FFN1, self.FFN2 = nn.Linear(dim, dim * 2), nn.Linear(dim * 2, dim)

        def forward(self, A, h):
            h1 = h
            h = self.batchnorm1(self.MHA(A, h) + h1)
            h2 = h
            h = self.FFN2(F.relu(self.FFN1(h)))
            return self.batchnorm2(h2 + h)

    class GTModel(nn.Module):
        def __init__(self, in_size=5, pos_enc_size=2):
            super().__init__()
            self.atom_encoder = nn.Linear(in_size, dim)
            self.pos_linear = nn.Linear(pos_enc_size, dim)
            self.layers = nn.ModuleList([GTLayer() for _ in range(2)])
            self.predictor = nn.Sequential(nn.Linear(dim, dim // 2), nn.ReLU(), nn.Linear(dim // 2, classes))

        def forward(self, A, X, pos_enc):
            h = self.atom_encoder(X) + self.pos_linear(pos_enc)
            for layer in self.layers:
                h = layer(A, h)
            return self.predictor(h)

    return GTModel


def laplacian_pe(lib, adj, k=2):
    """Laplacian eigenvector positional encodings (``linalg.eigh`` of the symmetric normalised Laplacian),
    the sign fixed by each vector's largest entry."""
    deg = adj.sum(1)
    d_inv_sqrt = deg.pow(-0.5)
    d_inv_sqrt[lib.isinf(d_inv_sqrt)] = 0.0
    lap = lib.eye(adj.shape[0], dtype=adj.dtype) - d_inv_sqrt[:, None] * adj * d_inv_sqrt[None, :]
    _, vectors = lib.linalg.eigh(lap)
    pe = vectors[:, 1 : k + 1]
    return pe * lib.sign(pe.gather(0, pe.abs().argmax(0, keepdim=True)))


def train_sparse_graph_transformer(lib, reference):
    model = build_sparse_graph_transformer(lib)()
    copy_weights(reference, model)
    # SGD: the value and output biases feed BatchNorm as constants (gradients zero up to rounding, which Adam
    # would scale up to full steps)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    adj = lib.tensor(GRAPH_ADJ, dtype=lib.float64)
    A = adj.float().to_sparse()
    X, y = lib.tensor(GRAPH_FEATURES), lib.tensor(GRAPH_LABELS)
    pe = laplacian_pe(lib, adj).float()
    record = [A.indices(), pe]
    for _ in range(3):
        logits = model(A, X, pe)
        loss = lib.nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, logits]
    return model, record + [p.grad for p in model.parameters()]


def test_graph_transformer_with_sparse_softmax_attention_trains_as_torch():
    trained_on_both(build_sparse_graph_transformer, train_sparse_graph_transformer, atol=1e-4)


# -- VAE (pytorch/examples vae) and beta-VAE ---------------------------------------------------------


def build_vae(lib, x_dim=12, h_dim=8, z_dim=3):
    nn, F = lib.nn, lib.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(x_dim, h_dim)
            self.fc21, self.fc22 = nn.Linear(h_dim, z_dim), nn.Linear(h_dim, z_dim)
            self.fc3, self.fc4 = nn.Linear(z_dim, h_dim), nn.Linear(h_dim, x_dim)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = lib.exp(0.5 * logvar)
            eps = lib.randn_like(std)
            return mu + eps * std

        def decode(self, z):
            return lib.sigmoid(self.fc4(F.relu(self.fc3(z))))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, x_dim))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    return VAE


VAE_DATA = RNG.uniform(0, 1, (6, 1, 3, 4))


def vae_loss_function(lib, recon_x, x, mu, logvar, beta=1.0):
    BCE = lib.nn.functional.binary_cross_entropy(recon_x, x.view(-1, 12), reduction="sum")
    KLD = -0.5 * lib.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + beta * KLD


def train_vae(lib, reference, dtype):
    D = lib.distributions
    model = build_vae(lib)().to(getattr(lib, dtype))
    copy_weights(reference.to(getattr(torch, dtype)), model)
    reference.float()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-2)
    data = lib.tensor(VAE_DATA, dtype=getattr(lib, dtype))
    loader = lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(data), batch_size=4, shuffle=True, generator=lib.Generator().manual_seed(4)
    )
    lib.manual_seed(1)
    record = []
    for epoch in range(2):
        model.train()
        train_loss = 0
        for (x,) in loader:
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(x)
            loss = vae_loss_function(lib, recon_batch, x, mu, logvar, beta=1.0 + epoch)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            record += [loss, recon_batch]
        record.append(train_loss / len(loader.dataset))
    model.eval()
    with lib.no_grad():
        sample = model.decode(lib.randn(4, 3, dtype=getattr(lib, dtype)))
        mu, logvar = model.encode(data.view(-1, 12))
        posterior = D.Normal(mu, lib.exp(0.5 * logvar))
        prior = D.Normal(lib.zeros_like(mu), lib.ones_like(mu))
        kl = D.kl_divergence(posterior, prior).sum(-1)
        # the importance-weighted log likelihood estimate (IWAE bound with 5 samples)
        z = posterior.rsample((5,))
        log_px = -lib.nn.functional.binary_cross_entropy(
            model.decode(z), data.view(1, -1, 12).expand(5, -1, -1), reduction="none"
        ).sum(-1)
        log_w = log_px + prior.log_prob(z).sum(-1) - posterior.log_prob(z).sum(-1)
        iwae = (lib.logsumexp(log_w, 0) - math.log(5)).mean()
    record += [sample.view(4, 1, 3, 4), kl, iwae]
    return model, record


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_vae_with_reparameterization_kl_and_iwae_trains_as_torch(dtype):
    tol = dict(rtol=1e-9, atol=1e-10, model_rtol=1e-9, model_atol=1e-10) if dtype == "float64" else {}
    trained_on_both(build_vae, lambda lib, ref: train_vae(lib, ref, dtype), **tol)


# -- MAE (facebookresearch/mae) random masking ------------------------------------------------------


def get_2d_sincos_pos_embed(embed_dim, grid_size, cls_token=False):
    grid_h = np.arange(grid_size, dtype=np.float32)
    grid_w = np.arange(grid_size, dtype=np.float32)
    grid = np.meshgrid(grid_w, grid_h)
    grid = np.stack(grid, axis=0).reshape([2, 1, grid_size, grid_size])

    def from_grid(embed_dim, pos):
        omega = np.arange(embed_dim // 2, dtype=np.float64)
        omega /= embed_dim / 2.0
        omega = 1.0 / 10000**omega
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    emb = np.concatenate([from_grid(embed_dim // 2, grid[0]), from_grid(embed_dim // 2, grid[1])], axis=1)
    if cls_token:
        emb = np.concatenate([np.zeros([1, embed_dim]), emb], axis=0)
    return emb


def build_mae(lib, img_size=8, patch_size=2, in_chans=3, embed_dim=8, decoder_embed_dim=8, heads=2):
    nn = lib.nn
    num_patches = (img_size // patch_size) ** 2

    class MaskedAutoencoderViT(nn.Module):
        def __init__(self, norm_pix_loss=False):
            super().__init__()
            self.patch_embed = nn.Conv2d(in_chans, embed_dim, patch_size, patch_size)
            self.cls_token = nn.Parameter(lib.zeros(1, 1, embed_dim))
            self.pos_embed = nn.Parameter(lib.zeros(1, num_patches + 1, embed_dim), requires_grad=False)
            self.blocks = nn.ModuleList(
                [nn.TransformerEncoderLayer(embed_dim, heads, 2 * embed_dim, 0.0, "gelu", 1e-6, True, True)]
            )
            self.norm = nn.LayerNorm(embed_dim)
            self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim, bias=True)
            self.mask_token = nn.Parameter(lib.zeros(1, 1, decoder_embed_dim))
            self.decoder_pos_embed = nn.Parameter(lib.zeros(1, num_patches + 1, decoder_embed_dim), requires_grad=False)
            self.decoder_blocks = nn.ModuleList(
                [nn.TransformerEncoderLayer(decoder_embed_dim, heads, 16, 0.0, "gelu", 1e-6, True, True)]
            )
            self.decoder_norm = nn.LayerNorm(decoder_embed_dim)
            self.decoder_pred = nn.Linear(decoder_embed_dim, patch_size**2 * in_chans, bias=True)
            self.norm_pix_loss = norm_pix_loss
            self.initialize_weights()

        def initialize_weights(self):
            pos_embed = get_2d_sincos_pos_embed(embed_dim, int(num_patches**0.5), cls_token=True)
            self.pos_embed.data.copy_(lib.from_numpy(pos_embed).float().unsqueeze(0))
            decoder_pos_embed = get_2d_sincos_pos_embed(decoder_embed_dim, int(num_patches**0.5), cls_token=True)
            self.decoder_pos_embed.data.copy_(lib.from_numpy(decoder_pos_embed).float().unsqueeze(0))
            w = self.patch_embed.weight.data
            lib.nn.init.xavier_uniform_(w.view([w.shape[0], -1]))
            lib.nn.init.normal_(self.cls_token, std=0.02)
            lib.nn.init.normal_(self.mask_token, std=0.02)

        def patchify(self, imgs):
            p = patch_size
            h = w = imgs.shape[2] // p
            x = imgs.reshape(shape=(imgs.shape[0], 3, h, p, w, p))
            x = lib.einsum("nchpwq->nhwpqc", x)
            return x.reshape(shape=(imgs.shape[0], h * w, p**2 * 3))

        def unpatchify(self, x):
            p = patch_size
            h = w = int(x.shape[1] ** 0.5)
            x = x.reshape(shape=(x.shape[0], h, w, p, p, 3))
            x = lib.einsum("nhwpqc->nchpwq", x)
            return x.reshape(shape=(x.shape[0], 3, h * p, h * p))

        def random_masking(self, x, mask_ratio):
            N, L, D = x.shape
            len_keep = int(L * (1 - mask_ratio))
            noise = lib.rand(N, L, device=x.device)
            ids_shuffle = lib.argsort(noise, dim=1)
            ids_restore = lib.argsort(ids_shuffle, dim=1)
            ids_keep = ids_shuffle[:, :len_keep]
            x_masked = lib.gather(x, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, D))
            mask = lib.ones([N, L], device=x.device)
            mask[:, :len_keep] = 0
            mask = lib.gather(mask, dim=1, index=ids_restore)
            return x_masked, mask, ids_restore

        def forward_encoder(self, x, mask_ratio):
            x = self.patch_embed(x).flatten(2).transpose(1, 2)
            x = x + self.pos_embed[:, 1:, :]
            x, mask, ids_restore = self.random_masking(x, mask_ratio)
            cls_token = self.cls_token + self.pos_embed[:, :1, :]
            cls_tokens = cls_token.expand(x.shape[0], -1, -1)
            x = lib.cat((cls_tokens, x), dim=1)
            for blk in self.blocks:
                x = blk(x)
            return self.norm(x), mask, ids_restore

        def forward_decoder(self, x, ids_restore):
            x = self.decoder_embed(x)
            mask_tokens = self.mask_token.repeat(x.shape[0], ids_restore.shape[1] + 1 - x.shape[1], 1)
            x_ = lib.cat([x[:, 1:, :], mask_tokens], dim=1)
            x_ = lib.gather(x_, dim=1, index=ids_restore.unsqueeze(-1).repeat(1, 1, x.shape[2]))
            x = lib.cat([x[:, :1, :], x_], dim=1)
            x = x + self.decoder_pos_embed
            for blk in self.decoder_blocks:
                x = blk(x)
            x = self.decoder_pred(self.decoder_norm(x))
            return x[:, 1:, :]

        def forward_loss(self, imgs, pred, mask):
            target = self.patchify(imgs)
            if self.norm_pix_loss:
                mean = target.mean(dim=-1, keepdim=True)
                var = target.var(dim=-1, keepdim=True)
                target = (target - mean) / (var + 1.0e-6) ** 0.5
            loss = (pred - target) ** 2
            loss = loss.mean(dim=-1)
            return (loss * mask).sum() / mask.sum()

        def forward(self, imgs, mask_ratio=0.75):
            latent, mask, ids_restore = self.forward_encoder(imgs, mask_ratio)
            pred = self.forward_decoder(latent, ids_restore)
            return self.forward_loss(imgs, pred, mask), pred, mask

    return MaskedAutoencoderViT


MAE_IMAGES = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)


def train_mae(lib, reference, norm_pix_loss, embed_dim=8):
    model = build_mae(lib)(norm_pix_loss=norm_pix_loss)
    copy_weights(reference, model)
    param_groups = [
        {"params": [p for n, p in model.named_parameters() if p.ndim > 1 and p.requires_grad], "weight_decay": 0.05},
        {"params": [p for n, p in model.named_parameters() if p.ndim <= 1 and p.requires_grad], "weight_decay": 0.0},
    ]
    optimizer = lib.optim.AdamW(param_groups, lr=1.5e-3, betas=(0.9, 0.95))
    imgs, record = lib.tensor(MAE_IMAGES), []
    lib.manual_seed(9)
    for _ in range(3):
        loss, pred, mask = model(imgs, mask_ratio=0.75)
        optimizer.zero_grad()
        loss.backward()
        for block in (*model.blocks, *model.decoder_blocks):
            # the key third of in_proj_bias gets a gradient of rounding noise (softmax ignores a per-row shift),
            # which AdamW would turn into full steps either way
            block.self_attn.in_proj_bias.grad[embed_dim : 2 * embed_dim] = 0
        optimizer.step()
        record += [loss, pred, mask]
    with lib.no_grad():
        _, pred, mask = model(imgs, mask_ratio=0.5)
        mask = mask.unsqueeze(-1).repeat(1, 1, 12)
        record += [model.unpatchify(pred), model.unpatchify(mask), model.unpatchify(model.patchify(imgs))]
    return model, record


@pytest.mark.parametrize("norm_pix_loss", [False, True])
def test_mae_random_masking_trains_as_torch(norm_pix_loss):
    trained_on_both(build_mae, lambda lib, ref: train_mae(lib, ref, norm_pix_loss), atol=5e-5)


# -- PPO (CleanRL's ppo.py and ppo_continuous_action.py) -------------------------------------------------


class ToyEnv:
    """A deterministic vectorised environment in NumPy: the state drifts with the action; the reward is the
    negative distance to a target (discrete actions move by -1/0/+1, continuous ones by the clipped action)."""

    def __init__(self, num_envs, obs_dim, continuous):
        self.num_envs, self.obs_dim, self.continuous = num_envs, obs_dim, continuous
        self.state = np.linspace(-1, 1, num_envs * obs_dim).reshape(num_envs, obs_dim).astype(np.float32)
        self.t = np.zeros(num_envs, dtype=np.int64)

    def step(self, action):
        move = np.clip(action, -1, 1) if self.continuous else (action[:, None] - 1.0)
        self.state = (0.9 * self.state + 0.3 * move).astype(np.float32)
        reward = -np.abs(self.state - 0.5).sum(1).astype(np.float32)
        self.t += 1
        done = self.t % 3 == 0
        self.state[done] = -self.state[done]
        return self.state.copy(), reward, done


SQRT2 = np.sqrt(2)


def build_ppo_agent(lib, obs_dim=3, n_actions=3, continuous=False, hidden=8):
    nn = lib.nn
    D = lib.distributions

    def layer_init(layer, std=SQRT2, bias_const=0.0):
        lib.nn.init.orthogonal_(layer.weight, std)
        lib.nn.init.constant_(layer.bias, bias_const)
        return layer

    class Agent(nn.Module):
        def __init__(self):
            super().__init__()
            self.critic = nn.Sequential(
                layer_init(nn.Linear(obs_dim, hidden)), nn.Tanh(), layer_init(nn.Linear(hidden, 1), std=1.0)
            )
            if continuous:
                self.actor_mean = nn.Sequential(
                    layer_init(nn.Linear(obs_dim, hidden)),
                    nn.Tanh(),
                    layer_init(nn.Linear(hidden, n_actions), std=0.01),
                )
                self.actor_logstd = nn.Parameter(lib.zeros(1, n_actions))
            else:
                self.actor = nn.Sequential(
                    layer_init(nn.Linear(obs_dim, hidden)),
                    nn.Tanh(),
                    layer_init(nn.Linear(hidden, n_actions), std=0.01),
                )

        def get_value(self, x):
            return self.critic(x)

        def get_action_and_value(self, x, action=None):
            if continuous:
                action_mean = self.actor_mean(x)
                action_logstd = self.actor_logstd.expand_as(action_mean)
                probs = D.Normal(action_mean, lib.exp(action_logstd))
                if action is None:
                    action = probs.sample()
                return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(x)
            probs = D.Categorical(logits=self.actor(x))
            if action is None:
                action = probs.sample()
            return action, probs.log_prob(action), probs.entropy(), self.critic(x)

    return Agent


def train_ppo(lib, reference, continuous, num_envs=4, num_steps=6, obs_dim=3, n_actions=3):
    agent = build_ppo_agent(lib, continuous=continuous)()
    copy_weights(reference, agent)
    optimizer = lib.optim.Adam(agent.parameters(), lr=2.5e-3, eps=1e-5)
    env = ToyEnv(num_envs, obs_dim, continuous)
    act_shape = (n_actions,) if continuous else ()
    obs = lib.zeros((num_steps, num_envs, obs_dim))
    actions = lib.zeros((num_steps, num_envs) + act_shape)
    logprobs, rewards = lib.zeros((num_steps, num_envs)), lib.zeros((num_steps, num_envs))
    dones, values = lib.zeros((num_steps, num_envs)), lib.zeros((num_steps, num_envs))
    gamma, gae_lambda, clip_coef, ent_coef, vf_coef, num_iterations = 0.99, 0.95, 0.2, 0.01, 0.5, 2
    next_obs, next_done = lib.Tensor(env.state.copy()), lib.zeros(num_envs)
    lib.manual_seed(1)
    rng = np.random.default_rng(1)
    record = []
    for iteration in range(1, num_iterations + 1):
        frac = 1.0 - (iteration - 1.0) / num_iterations
        optimizer.param_groups[0]["lr"] = frac * 2.5e-3
        for step in range(num_steps):
            obs[step] = next_obs
            dones[step] = next_done
            with lib.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
                values[step] = value.flatten()
            actions[step] = action
            logprobs[step] = logprob
            next_obs_np, reward, done = env.step(action.cpu().numpy())
            rewards[step] = lib.tensor(reward).view(-1)
            next_obs, next_done = lib.Tensor(next_obs_np), lib.Tensor(done.astype(np.float32))
        with lib.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = lib.zeros_like(rewards)
            lastgaelam = 0
            for t in reversed(range(num_steps)):
                if t == num_steps - 1:
                    nextnonterminal, nextvalues = 1.0 - next_done, next_value
                else:
                    nextnonterminal, nextvalues = 1.0 - dones[t + 1], values[t + 1]
                delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
                advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
            returns = advantages + values
        b_obs, b_logprobs = obs.reshape((-1, obs_dim)), logprobs.reshape(-1)
        b_actions = actions.reshape((-1,) + act_shape)
        b_advantages, b_returns, b_values = advantages.reshape(-1), returns.reshape(-1), values.reshape(-1)
        batch_size, minibatch_size = num_envs * num_steps, num_envs * num_steps // 2
        b_inds = np.arange(batch_size)
        clipfracs = []
        for _ in range(2):
            rng.shuffle(b_inds)
            for start in range(0, batch_size, minibatch_size):
                mb_inds = b_inds[start : start + minibatch_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(
                    b_obs[mb_inds], b_actions[mb_inds] if continuous else b_actions.long()[mb_inds]
                )
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()
                with lib.no_grad():
                    old_approx_kl = (-logratio).mean()
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfracs += [((ratio - 1.0).abs() > clip_coef).float().mean().item()]
                mb_advantages = b_advantages[mb_inds]
                mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
                pg_loss1 = -mb_advantages * ratio
                pg_loss2 = -mb_advantages * lib.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
                pg_loss = lib.max(pg_loss1, pg_loss2).mean()
                newvalue = newvalue.view(-1)
                v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
                v_clipped = b_values[mb_inds] + lib.clamp(newvalue - b_values[mb_inds], -clip_coef, clip_coef)
                v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
                v_loss = 0.5 * lib.max(v_loss_unclipped, v_loss_clipped).mean()
                entropy_loss = entropy.mean()
                loss = pg_loss - ent_coef * entropy_loss + v_loss * vf_coef
                optimizer.zero_grad()
                loss.backward()
                lib.nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
                optimizer.step()
                record += [loss, pg_loss, v_loss, old_approx_kl, approx_kl]
        y_pred, y_true = b_values.cpu().numpy(), b_returns.cpu().numpy()
        var_y = np.var(y_true)
        explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y
        record += [b_actions, b_advantages, np.mean(clipfracs), explained_var]
    return agent, record


@pytest.mark.parametrize("continuous", [False, True])
def test_cleanrl_ppo_with_gae_and_clipped_objectives_trains_as_torch(continuous):
    trained_on_both(
        lambda lib: lambda: build_ppo_agent(lib, continuous=continuous)(),
        lambda lib, ref: train_ppo(lib, ref, continuous),
        atol=5e-5,
    )


# -- REINFORCE (pytorch/examples reinforcement_learning/reinforce.py) ---------------------------------


def build_reinforce_policy(lib):
    nn, F = lib.nn, lib.nn.functional

    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.affine1 = nn.Linear(4, 16)
            self.dropout = nn.Dropout(p=0.6)
            self.affine2 = nn.Linear(16, 2)
            self.saved_log_probs = []
            self.rewards = []

        def forward(self, x):
            x = F.relu(self.dropout(self.affine1(x)))
            return F.softmax(self.affine2(x), dim=1)

    return Policy


def train_reinforce(lib, reference):
    from torch.distributions import Categorical as TorchCategorical

    from ember.distributions import Categorical as EmberCategorical

    Categorical = TorchCategorical if lib is torch else EmberCategorical
    policy = build_reinforce_policy(lib)()
    copy_weights(reference, policy)
    optimizer = lib.optim.Adam(policy.parameters(), lr=1e-2)
    eps = np.finfo(np.float32).eps.item()
    gamma, record = 0.99, []
    lib.manual_seed(543)
    for i_episode in range(3):
        state = np.array([0.01, -0.02, 0.03, 0.04 * i_episode])
        for _ in range(5):
            state_t = lib.from_numpy(state).float().unsqueeze(0)
            probs = policy(state_t)
            m = Categorical(probs)
            action = m.sample()
            policy.saved_log_probs.append(m.log_prob(action))
            a = action.item()
            state = state + (0.05 if a else -0.05) * np.array([1.0, 0.5, -0.5, 0.25])
            policy.rewards.append(1.0 - abs(state[2]))
        R, policy_loss, returns = 0, [], []
        for r in policy.rewards[::-1]:
            R = r + gamma * R
            returns.insert(0, R)
        returns = lib.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        for log_prob, R in zip(policy.saved_log_probs, returns):
            policy_loss.append(-log_prob * R)
        optimizer.zero_grad()
        policy_loss = lib.cat(policy_loss).sum()
        policy_loss.backward()
        optimizer.step()
        record += [policy_loss, returns]
        del policy.rewards[:]
        del policy.saved_log_probs[:]
    return policy, record


def test_reinforce_with_categorical_and_normalized_returns_trains_as_torch():
    trained_on_both(build_reinforce_policy, train_reinforce)


# -- char-RNN (spro/char-rnn.pytorch) and word_language_model's truncated BPTT ---------------------------


CHAR_TEXT = "hello world, hello ember. the quick brown fox jumps over the lazy dog."
CHARS = sorted(set(CHAR_TEXT))


def build_char_rnn(lib, model="gru", hidden_size=8, n_layers=2):
    nn = lib.nn
    n_chars = len(CHARS)

    class CharRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.model, self.hidden_size, self.n_layers = model, hidden_size, n_layers
            self.encoder = nn.Embedding(n_chars, hidden_size)
            if model == "gru":
                self.rnn = nn.GRU(hidden_size, hidden_size, n_layers)
            else:
                self.rnn = nn.LSTM(hidden_size, hidden_size, n_layers, dropout=0.3)
            self.decoder = nn.Linear(hidden_size, n_chars)

        def forward(self, input, hidden):
            batch_size = input.size(0)
            encoded = self.encoder(input)
            output, hidden = self.rnn(encoded.view(1, batch_size, -1), hidden)
            return self.decoder(output.view(batch_size, -1)), hidden

        def init_hidden(self, batch_size):
            if self.model == "lstm":
                return (
                    lib.autograd.Variable(lib.zeros(self.n_layers, batch_size, self.hidden_size)),
                    lib.autograd.Variable(lib.zeros(self.n_layers, batch_size, self.hidden_size)),
                )
            return lib.autograd.Variable(lib.zeros(self.n_layers, batch_size, self.hidden_size))

    return CharRNN


def char_tensor(lib, string):
    tensor = lib.zeros(len(string)).long()
    for c in range(len(string)):
        tensor[c] = CHARS.index(string[c])
    return lib.autograd.Variable(tensor)


def repackage_hidden(h):
    if isinstance(h, (torch.Tensor, ember.Tensor)):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def train_char_rnn(lib, reference, model):
    decoder = build_char_rnn(lib, model)()
    copy_weights(reference, decoder)
    optimizer = lib.optim.Adam(decoder.parameters(), lr=0.01)
    criterion = lib.nn.CrossEntropyLoss()
    chunk_len, batch_size, record = 6, 3, []
    starts = [[0, 20, 40], [7, 33, 51], [12, 2, 60]]
    lib.manual_seed(5)
    hidden = decoder.init_hidden(batch_size)
    for epoch in range(3):
        inp = lib.LongTensor(batch_size, chunk_len)
        target = lib.LongTensor(batch_size, chunk_len)
        for bi, start in enumerate(starts[epoch]):
            chunk = CHAR_TEXT[start : start + chunk_len + 1]
            inp[bi] = char_tensor(lib, chunk[:-1])
            target[bi] = char_tensor(lib, chunk[1:])
        hidden = repackage_hidden(hidden)  # truncated BPTT across the chunks
        decoder.zero_grad()
        loss = 0
        for c in range(chunk_len):
            output, hidden = decoder(inp[:, c], hidden)
            loss += criterion(output.view(batch_size, -1), target[:, c])
        loss.backward()
        lib.nn.utils.clip_grad_norm_(decoder.parameters(), 0.25)
        optimizer.step()
        record += [loss.data / chunk_len, output]

    decoder.eval()
    prime_input = char_tensor(lib, "the").unsqueeze(0)
    hidden = decoder.init_hidden(1)
    for p in range(prime_input.size(1) - 1):
        _, hidden = decoder(prime_input[:, p], hidden)
    inp, predicted = prime_input[:, -1], []
    for _ in range(8):
        output, hidden = decoder(inp, hidden)
        output_dist = output.data.view(-1).div(0.8).exp()
        top_i = lib.multinomial(output_dist, 1)[0]
        predicted.append(int(top_i))
        inp = char_tensor(lib, CHARS[top_i]).unsqueeze(0)
    return decoder, record + [str(predicted)]


@pytest.mark.parametrize("model", ["gru", "lstm"])
def test_char_rnn_with_truncated_bptt_and_sampling_trains_as_torch(model):
    trained_on_both(lambda lib: lambda: build_char_rnn(lib, model)(), lambda lib, ref: train_char_rnn(lib, ref, model))


# -- TCN (locuslab/TCN) with weight_norm dilated causal convolutions ----------------------------------


def build_tcn(lib, input_size=2, output_size=1, num_channels=(4, 4, 3), kernel_size=3, dropout=0.1, hooks=True):
    nn = lib.nn
    weight_norm = nn.utils.weight_norm if hooks else nn.utils.parametrizations.weight_norm

    class Chomp1d(nn.Module):
        def __init__(self, chomp_size):
            super().__init__()
            self.chomp_size = chomp_size

        def forward(self, x):
            return x[:, :, : -self.chomp_size].contiguous()

    class TemporalBlock(nn.Module):
        def __init__(self, n_inputs, n_outputs, kernel_size, stride, dilation, padding):
            super().__init__()
            self.conv1 = weight_norm(
                nn.Conv1d(n_inputs, n_outputs, kernel_size, stride=stride, padding=padding, dilation=dilation)
            )
            self.chomp1, self.relu1, self.dropout1 = Chomp1d(padding), nn.ReLU(), nn.Dropout(dropout)
            self.conv2 = weight_norm(
                nn.Conv1d(n_outputs, n_outputs, kernel_size, stride=stride, padding=padding, dilation=dilation)
            )
            self.chomp2, self.relu2, self.dropout2 = Chomp1d(padding), nn.ReLU(), nn.Dropout(dropout)
            self.net = nn.Sequential(
                self.conv1, self.chomp1, self.relu1, self.dropout1, self.conv2, self.chomp2, self.relu2, self.dropout2
            )
            self.downsample = nn.Conv1d(n_inputs, n_outputs, 1) if n_inputs != n_outputs else None
            self.relu = nn.ReLU()
            self.init_weights()

        def init_weights(self):
            self.conv1.weight.data.normal_(0, 0.01)
            self.conv2.weight.data.normal_(0, 0.01)
            if self.downsample is not None:
                self.downsample.weight.data.normal_(0, 0.01)

        def forward(self, x):
            out = self.net(x)
            res = x if self.downsample is None else self.downsample(x)
            return self.relu(out + res)

    class TCN(nn.Module):
        def __init__(self):
            super().__init__()
            layers = []
            for i in range(len(num_channels)):
                dilation_size = 2**i
                in_channels = input_size if i == 0 else num_channels[i - 1]
                layers += [
                    TemporalBlock(
                        in_channels, num_channels[i], kernel_size, 1, dilation_size, (kernel_size - 1) * dilation_size
                    )
                ]
            self.tcn = nn.Sequential(*layers)
            self.linear = nn.Linear(num_channels[-1], output_size)
            self.linear.weight.data.normal_(0, 0.01)

        def forward(self, x):
            y1 = self.tcn(x)
            return self.linear(y1[:, :, -1])

    return TCN


def adding_problem(n, seq_length, rng):
    """The adding problem's data as locuslab writes it (``torch.rand``/``randperm`` replaced by NumPy)."""
    x_num = rng.uniform(0, 1, (n, 1, seq_length))
    x_mask = np.zeros([n, 1, seq_length])
    y = np.zeros([n, 1])
    for i in range(n):
        positions = rng.permutation(seq_length)[:2]
        x_mask[i, 0, positions[0]] = 1
        x_mask[i, 0, positions[1]] = 1
        y[i, 0] = x_num[i, 0, positions[0]] + x_num[i, 0, positions[1]]
    return np.concatenate((x_num, x_mask), axis=1).astype(np.float32), y.astype(np.float32)


def train_tcn(lib, reference, hooks):
    model = build_tcn(lib, hooks=hooks)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=4e-3)
    X, Y = adding_problem(6, 10, np.random.default_rng(3))
    X_train, Y_train = lib.from_numpy(X), lib.from_numpy(Y)
    lib.manual_seed(7)
    record = []
    for _ in range(2):
        model.train()
        for i in range(0, X_train.size(0), 3):
            x, y = X_train[i : i + 3], Y_train[i : i + 3]
            optimizer.zero_grad()
            output = model(x)
            loss = lib.nn.functional.mse_loss(output, y)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            record += [loss, output]
    model.eval()
    with lib.no_grad():
        record += [model(X_train), model.tcn[0].conv1.weight]
    return model, record


@pytest.mark.parametrize("hooks", [True, False])
@pytest.mark.filterwarnings("ignore:.*weight_norm.* is deprecated")
def test_tcn_with_weight_norm_on_the_adding_problem_trains_as_torch(hooks):
    trained_on_both(lambda lib: lambda: build_tcn(lib, hooks=hooks)(), lambda lib, ref: train_tcn(lib, ref, hooks))


# -- DCGAN (pytorch/examples dcgan) and WGAN-GP ----------------------------------------------------------


def build_dcgan(lib, nz=4, ngf=4, ndf=4, nc=1):
    nn = lib.nn

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            lib.nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            lib.nn.init.normal_(m.weight, 1.0, 0.02)
            lib.nn.init.zeros_(m.bias)

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
                nn.Tanh(),
            )

        def forward(self, input):
            return self.main(input)

    class Discriminator(nn.Module):
        def __init__(self, batch_norm=True):
            super().__init__()
            norm = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.LayerNorm([c, 4, 4]))
            self.main = nn.Sequential(
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                norm(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            )

        def forward(self, input):
            return self.main(input).view(-1, 1).squeeze(1)

    class GAN(nn.Module):
        def __init__(self, batch_norm=True):
            super().__init__()
            self.netG, self.netD = Generator(), Discriminator(batch_norm)
            self.netG.apply(weights_init)
            self.netD.apply(weights_init)

    return GAN


GAN_REAL = np.tanh(RNG.standard_normal((4, 1, 16, 16))).astype(np.float32)


def train_dcgan(lib, reference):
    gan = build_dcgan(lib)()
    copy_weights(reference, gan)
    netG, netD = gan.netG, gan.netD
    criterion = lib.nn.BCEWithLogitsLoss()
    fixed_noise = lib.randn(4, 4, 1, 1, generator=lib.Generator().manual_seed(0))
    real_label, fake_label = 1, 0
    optimizerD = lib.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optimizerG = lib.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real_cpu, record = lib.tensor(GAN_REAL), []
    lib.manual_seed(999)
    for _ in range(3):
        netD.zero_grad()
        batch_size = real_cpu.size(0)
        label = lib.full((batch_size,), real_label, dtype=real_cpu.dtype)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.sigmoid().mean().item()
        noise = lib.randn(batch_size, 4, 1, 1)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.sigmoid().mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.sigmoid().mean().item()
        optimizerG.step()
        record += [errD, errG, D_x, D_G_z1, D_G_z2]
    netG.eval()
    with lib.no_grad():
        record.append(netG(fixed_noise).detach())
    return gan, record


def test_dcgan_trains_as_torch():
    trained_on_both(build_dcgan, train_dcgan)


def train_wgan_gp(lib, reference, lambda_gp=10.0, n_critic=2):
    gan = build_dcgan(lib)(batch_norm=False)
    copy_weights(reference, gan)
    netG, netD = gan.netG, gan.netD
    optimizer_D = lib.optim.Adam(netD.parameters(), lr=1e-3, betas=(0.0, 0.9))
    optimizer_G = lib.optim.RMSprop(netG.parameters(), lr=1e-3)
    real_imgs, record = lib.tensor(GAN_REAL), []

    def compute_gradient_penalty(D, real_samples, fake_samples):
        alpha = lib.Tensor(np.random.default_rng(len(record)).random((real_samples.size(0), 1, 1, 1)))
        interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
        d_interpolates = D(interpolates)
        fake = lib.autograd.Variable(lib.Tensor(real_samples.shape[0]).fill_(1.0), requires_grad=False)
        gradients = lib.autograd.grad(
            outputs=d_interpolates,
            inputs=interpolates,
            grad_outputs=fake,
            create_graph=True,
            retain_graph=True,
            only_inputs=True,
        )[0]
        gradients = gradients.view(gradients.size(0), -1)
        return ((gradients.norm(2, dim=1) - 1) ** 2).mean()

    lib.manual_seed(3)
    for i in range(4):
        optimizer_D.zero_grad()
        z = lib.autograd.Variable(lib.Tensor(np.random.default_rng(i).normal(0, 1, (4, 4, 1, 1))))
        fake_imgs = netG(z)
        gradient_penalty = compute_gradient_penalty(netD, real_imgs.data, fake_imgs.data)
        d_loss = -lib.mean(netD(real_imgs)) + lib.mean(netD(fake_imgs)) + lambda_gp * gradient_penalty
        d_loss.backward()
        optimizer_D.step()
        optimizer_G.zero_grad()
        record += [d_loss, gradient_penalty]
        if i % n_critic == 0:
            fake_imgs = netG(z)
            g_loss = -lib.mean(netD(fake_imgs))
            g_loss.backward()
            optimizer_G.step()
            record.append(g_loss)
    # the original WGAN's weight clipping, applied to the critic afterwards
    for p in netD.parameters():
        p.data.clamp_(-0.05, 0.05)
    return gan, record + [p.grad for p in netD.parameters()]


def test_wgan_gp_with_a_double_backward_penalty_trains_as_torch():
    trained_on_both(lambda lib: lambda: build_dcgan(lib)(batch_norm=False), train_wgan_gp, atol=5e-5)


# -- normalizing flows: RealNVP (senya-ashukha/real-nvp-pytorch) and Glow (rosinality/glow-pytorch) -----


def build_realnvp(lib, hidden=16):
    nn = lib.nn

    def nets():
        return nn.Sequential(
            nn.Linear(2, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, 2),
            nn.Tanh(),
        )

    def nett():
        return nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden), nn.LeakyReLU(), nn.Linear(hidden, 2)
        )

    class RealNVP(nn.Module):
        def __init__(self):
            super().__init__()
            mask = lib.from_numpy(np.array([[0, 1], [1, 0]] * 2).astype(np.float32))
            self.prior = lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2))
            self.mask = nn.Parameter(mask, requires_grad=False)
            self.t = lib.nn.ModuleList([nett() for _ in range(len(mask))])
            self.s = lib.nn.ModuleList([nets() for _ in range(len(mask))])

        def g(self, z):
            x = z
            for i in range(len(self.t)):
                x_ = x * self.mask[i]
                s = self.s[i](x_) * (1 - self.mask[i])
                t = self.t[i](x_) * (1 - self.mask[i])
                x = x_ + (1 - self.mask[i]) * (x * lib.exp(s) + t)
            return x

        def f(self, x):
            log_det_J, z = x.new_zeros(x.shape[0]), x
            for i in reversed(range(len(self.t))):
                z_ = self.mask[i] * z
                s = self.s[i](z_) * (1 - self.mask[i])
                t = self.t[i](z_) * (1 - self.mask[i])
                z = (1 - self.mask[i]) * (z - t) * lib.exp(-s) + z_
                log_det_J -= s.sum(dim=1)
            return z, log_det_J

        def log_prob(self, x):
            z, logp = self.f(x)
            return self.prior.log_prob(z) + logp

        def sample(self, batchSize):
            z = self.prior.sample((batchSize, 1))
            return self.g(z)

    return RealNVP


def noisy_moons(n, rng):
    """sklearn's ``make_moons(noise=0.05)`` written out with NumPy."""
    n_out, n_in = n // 2, n - n // 2
    outer = np.stack([np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out))], 1)
    inner = np.stack([1 - np.cos(np.linspace(0, np.pi, n_in)), 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5], 1)
    return (np.concatenate([outer, inner]) + rng.normal(scale=0.05, size=(n, 2))).astype(np.float32)


def train_realnvp(lib, reference):
    flow = build_realnvp(lib)()
    copy_weights(reference, flow)
    optimizer = lib.optim.Adam([p for p in flow.parameters() if p.requires_grad], lr=1e-3)
    rng, record = np.random.default_rng(0), []
    for _ in range(3):
        loss = -flow.log_prob(lib.from_numpy(noisy_moons(16, rng)).float()).mean()
        optimizer.zero_grad()
        loss.backward(retain_graph=True)
        optimizer.step()
        record.append(loss)
    lib.manual_seed(4)
    x = flow.sample(5).detach()
    z, log_det = flow.f(x[:, 0, :])
    record += [x, z, log_det]
    return flow, record + [p.grad for p in flow.parameters()]


def test_realnvp_on_two_moons_trains_as_torch():
    trained_on_both(build_realnvp, train_realnvp)


def build_glow_step(lib, in_channel=4):
    nn, F = lib.nn, lib.nn.functional
    logabs = lambda x: lib.log(lib.abs(x))  # noqa: E731 - as the program writes it

    class ActNorm(nn.Module):
        def __init__(self, logdet=True):
            super().__init__()
            self.loc = nn.Parameter(lib.zeros(1, in_channel, 1, 1))
            self.scale = nn.Parameter(lib.ones(1, in_channel, 1, 1))
            self.register_buffer("initialized", lib.tensor(0, dtype=lib.uint8))
            self.logdet = logdet

        def initialize(self, input):
            with lib.no_grad():
                flatten = input.permute(1, 0, 2, 3).contiguous().view(input.shape[1], -1)
                mean = flatten.mean(1).unsqueeze(1).unsqueeze(2).unsqueeze(3).permute(1, 0, 2, 3)
                std = flatten.std(1).unsqueeze(1).unsqueeze(2).unsqueeze(3).permute(1, 0, 2, 3)
                self.loc.data.copy_(-mean)
                self.scale.data.copy_(1 / (std + 1e-6))

        def forward(self, input):
            _, _, height, width = input.shape
            if self.initialized.item() == 0:
                self.initialize(input)
                self.initialized.fill_(1)
            log_abs = logabs(self.scale)
            logdet = height * width * lib.sum(log_abs)
            return self.scale * (input + self.loc), logdet

        def reverse(self, output):
            return output / self.scale - self.loc

    class InvConv2d(nn.Module):
        def __init__(self):
            super().__init__()
            weight = lib.randn(in_channel, in_channel)
            q, _ = lib.linalg.qr(weight)
            self.weight = nn.Parameter(q.unsqueeze(2).unsqueeze(3))

        def forward(self, input):
            _, _, height, width = input.shape
            out = F.conv2d(input, self.weight)
            logdet = height * width * lib.slogdet(self.weight.squeeze().double())[1].float()
            return out, logdet

        def reverse(self, output):
            return F.conv2d(output, self.weight.squeeze().inverse().unsqueeze(2).unsqueeze(3))

    class InvConv2dLU(nn.Module):
        def __init__(self):
            super().__init__()
            from scipy import linalg as la

            weight = np.random.default_rng(1).standard_normal((in_channel, in_channel))
            q, _ = la.qr(weight)
            w_p, w_l, w_u = la.lu(q.astype(np.float32))
            w_s = np.diag(w_u)
            w_u = np.triu(w_u, 1)
            u_mask = np.triu(np.ones_like(w_u), 1)
            l_mask = u_mask.T
            self.register_buffer("w_p", lib.from_numpy(w_p.copy()))
            self.register_buffer("u_mask", lib.from_numpy(u_mask))
            self.register_buffer("l_mask", lib.from_numpy(l_mask))
            self.register_buffer("s_sign", lib.sign(lib.from_numpy(w_s.copy())))
            self.register_buffer("l_eye", lib.eye(l_mask.shape[0]))
            self.w_l = nn.Parameter(lib.from_numpy(w_l.copy()))
            self.w_s = nn.Parameter(logabs(lib.from_numpy(w_s.copy())))
            self.w_u = nn.Parameter(lib.from_numpy(w_u))

        def calc_weight(self):
            weight = (
                self.w_p
                @ (self.w_l * self.l_mask + self.l_eye)
                @ ((self.w_u * self.u_mask) + lib.diag(self.s_sign * lib.exp(self.w_s)))
            )
            return weight.unsqueeze(2).unsqueeze(3)

        def forward(self, input):
            _, _, height, width = input.shape
            weight = self.calc_weight()
            return F.conv2d(input, weight), height * width * lib.sum(self.w_s)

        def reverse(self, output):
            weight = self.calc_weight()
            return F.conv2d(output, weight.squeeze().inverse().unsqueeze(2).unsqueeze(3))

    class ZeroConv2d(nn.Module):
        def __init__(self, in_ch, out_ch):
            super().__init__()
            self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=0)
            self.conv.weight.data.zero_()
            self.conv.bias.data.zero_()
            self.scale = nn.Parameter(lib.zeros(1, out_ch, 1, 1))

        def forward(self, input):
            out = F.pad(input, [1, 1, 1, 1], value=1)
            return self.conv(out) * lib.exp(self.scale * 3)

    class AffineCoupling(nn.Module):
        def __init__(self, filter_size=8):
            super().__init__()
            self.net = nn.Sequential(
                nn.Conv2d(in_channel // 2, filter_size, 3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(filter_size, filter_size, 1),
                nn.ReLU(inplace=True),
                ZeroConv2d(filter_size, in_channel),
            )
            self.net[0].weight.data.normal_(0, 0.05)
            self.net[0].bias.data.zero_()

        def forward(self, input):
            in_a, in_b = input.chunk(2, 1)
            log_s, t = self.net(in_a).chunk(2, 1)
            s = F.sigmoid(log_s + 2)
            out_b = (in_b + t) * s
            logdet = lib.sum(lib.log(s).view(input.shape[0], -1), 1)
            return lib.cat([in_a, out_b], 1), logdet

        def reverse(self, output):
            out_a, out_b = output.chunk(2, 1)
            log_s, t = self.net(out_a).chunk(2, 1)
            s = F.sigmoid(log_s + 2)
            return lib.cat([out_a, out_b / s - t], 1)

    class FlowStep(nn.Module):
        def __init__(self, conv_lu=True):
            super().__init__()
            self.actnorm = ActNorm()
            self.invconv = InvConv2dLU() if conv_lu else InvConv2d()
            self.coupling = AffineCoupling()

        def forward(self, input):
            out, logdet = self.actnorm(input)
            out, det1 = self.invconv(out)
            out, det2 = self.coupling(out)
            return out, logdet + det1 + det2

        def reverse(self, output):
            return self.actnorm.reverse(self.invconv.reverse(self.coupling.reverse(output)))

    return FlowStep


GLOW_X = RNG.standard_normal((3, 4, 4, 4)).astype(np.float32)
GLOW_INIT = (RNG.standard_normal((3, 4, 4, 4)) * 2 + 0.5).astype(np.float32)


def train_glow(lib, reference, conv_lu):
    flow = build_glow_step(lib)(conv_lu=conv_lu)
    copy_weights(reference, flow)
    optimizer = lib.optim.Adam(flow.parameters(), lr=1e-3)
    x, n_pixel, record = lib.tensor(GLOW_X), 4 * 4 * 4, []
    with lib.no_grad():  # the data-dependent init on another batch (on the trained one, loc's gradient is noise)
        flow(lib.tensor(GLOW_INIT))
    for _ in range(3):
        z, logdet = flow(x)
        log_p = (-0.5 * (z**2 + math.log(2 * math.pi))).view(x.shape[0], -1).sum(1)
        loss = -math.log(256) * n_pixel + logdet + log_p
        loss = (-loss / (math.log(2) * n_pixel)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, logdet, z]
    with lib.no_grad():
        z, _ = flow(x)
        record += [flow.reverse(z), flow.actnorm.initialized]
    return flow, record + [p.grad for p in flow.parameters()]


@pytest.mark.parametrize("conv_lu", [True, False])
def test_glow_flow_step_with_actnorm_and_invertible_convolution_trains_as_torch(conv_lu):
    pytest.importorskip("scipy")
    trained_on_both(
        lambda lib: lambda: build_glow_step(lib)(conv_lu=conv_lu), lambda lib, ref: train_glow(lib, ref, conv_lu)
    )


# -- Barlow Twins (facebookresearch/barlowtwins) with its LARS optimizer ----------------------------------


def make_lars(lib):
    class LARS(lib.optim.Optimizer):
        def __init__(
            self,
            params,
            lr,
            weight_decay=0,
            momentum=0.9,
            eta=0.001,
            weight_decay_filter=None,
            lars_adaptation_filter=None,
        ):
            defaults = dict(
                lr=lr,
                weight_decay=weight_decay,
                momentum=momentum,
                eta=eta,
                weight_decay_filter=weight_decay_filter,
                lars_adaptation_filter=lars_adaptation_filter,
            )
            super().__init__(params, defaults)

        @lib.no_grad()
        def step(self):
            for g in self.param_groups:
                for p in g["params"]:
                    dp = p.grad
                    if dp is None:
                        continue
                    if g["weight_decay_filter"] is None or not g["weight_decay_filter"](p):
                        dp = dp.add(p, alpha=g["weight_decay"])
                    if g["lars_adaptation_filter"] is None or not g["lars_adaptation_filter"](p):
                        param_norm = lib.norm(p)
                        update_norm = lib.norm(dp)
                        one = lib.ones_like(param_norm)
                        q = lib.where(
                            param_norm > 0.0,
                            lib.where(update_norm > 0, (g["eta"] * param_norm / update_norm), one),
                            one,
                        )
                        dp = dp.mul(q)
                    param_state = self.state[p]
                    if "mu" not in param_state:
                        param_state["mu"] = lib.zeros_like(p)
                    mu = param_state["mu"]
                    mu.mul_(g["momentum"]).add_(dp)
                    p.add_(mu, alpha=-g["lr"])

    return LARS


def exclude_bias_and_norm(p):
    return p.ndim == 1


def off_diagonal(x):
    n, m = x.shape
    assert n == m
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def build_barlow_twins(lib, dim=6, proj=8, lambd=0.0051):
    nn = lib.nn

    class BarlowTwins(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(nn.Linear(10, dim), nn.BatchNorm1d(dim), nn.ReLU())
            sizes = [dim, proj, proj]
            layers = []
            for i in range(len(sizes) - 2):
                layers.append(nn.Linear(sizes[i], sizes[i + 1], bias=False))
                layers.append(nn.BatchNorm1d(sizes[i + 1]))
                layers.append(nn.ReLU(inplace=True))
            layers.append(nn.Linear(sizes[-2], sizes[-1], bias=False))
            self.projector = nn.Sequential(*layers)
            self.bn = nn.BatchNorm1d(sizes[-1], affine=False)

        def forward(self, y1, y2):
            z1 = self.projector(self.backbone(y1))
            z2 = self.projector(self.backbone(y2))
            c = self.bn(z1).T @ self.bn(z2)
            c.div_(y1.shape[0])
            on_diag = lib.diagonal(c).add_(-1).pow_(2).sum()
            off_diag = off_diagonal(c).pow_(2).sum()
            return on_diag + lambd * off_diag

    return BarlowTwins


BARLOW_X = RNG.standard_normal((8, 10)).astype(np.float32)


def train_barlow_twins(lib, reference):
    model = build_barlow_twins(lib)()
    copy_weights(reference, model)
    param_weights, param_biases = [], []
    for param in model.parameters():
        (param_biases if param.ndim == 1 else param_weights).append(param)
    parameters = [{"params": param_weights}, {"params": param_biases}]
    optimizer = make_lars(lib)(
        parameters,
        lr=0,
        weight_decay=1e-6,
        weight_decay_filter=exclude_bias_and_norm,
        lars_adaptation_filter=exclude_bias_and_norm,
    )
    x, record = lib.tensor(BARLOW_X), []
    gen = lib.Generator().manual_seed(2)
    for step in range(4):
        optimizer.param_groups[0]["lr"] = 0.2 * (step + 1) / 4
        optimizer.param_groups[1]["lr"] = 0.0048 * (step + 1) / 4
        y1 = x + 0.1 * lib.randn(x.shape, generator=gen)
        y2 = x * (1 + 0.1 * lib.rand(x.shape, generator=gen))
        loss = model(y1, y2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record.append(loss)
    state = optimizer.state_dict()
    record += [len(state["state"]), state["param_groups"][1]["params"], state["state"][0]["mu"]]
    # the checkpoint (weight_decay_filter and all) loads into a fresh optimizer, which trains on
    resumed = make_lars(lib)([{"params": param_weights}, {"params": param_biases}], lr=0.1)
    resumed.load_state_dict(state)
    loss = model(x, x * 1.05)
    resumed.zero_grad()
    loss.backward()
    resumed.step()
    return model, record + [loss, resumed.param_groups[0]["lars_adaptation_filter"] is exclude_bias_and_norm]


def test_barlow_twins_with_a_custom_lars_optimizer_trains_as_torch():
    trained_on_both(build_barlow_twins, train_barlow_twins)


# -- MAML (second order, through torch.func.functional_call) and prototypical networks ------------------


def build_maml_net(lib):
    nn = lib.nn
    return lambda: nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))


def sine_tasks(n_tasks, k, rng):
    tasks = []
    for _ in range(n_tasks):
        amplitude, phase = rng.uniform(0.1, 5.0), rng.uniform(0, np.pi)
        xs = rng.uniform(-5, 5, (2 * k, 1))
        tasks.append((xs.astype(np.float32), (amplitude * np.sin(xs + phase)).astype(np.float32)))
    return tasks


def train_maml(lib, reference, first_order):
    model = build_maml_net(lib)()
    copy_weights(reference, model)
    meta_optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    F = lib.nn.functional
    inner_lr, k, record = 0.01, 5, []
    rng = np.random.default_rng(0)
    for _ in range(3):
        meta_loss = 0.0
        for xs, ys in sine_tasks(2, k, rng):
            x_s, y_s = lib.tensor(xs[:k]), lib.tensor(ys[:k])
            x_q, y_q = lib.tensor(xs[k:]), lib.tensor(ys[k:])
            params = dict(model.named_parameters())
            for _ in range(2):
                loss = F.mse_loss(lib.func.functional_call(model, params, (x_s,)), y_s)
                grads = lib.autograd.grad(loss, params.values(), create_graph=not first_order)
                params = {name: p - inner_lr * g for (name, p), g in zip(params.items(), grads)}
            meta_loss = meta_loss + F.mse_loss(lib.func.functional_call(model, params, (x_q,)), y_q)
        meta_optimizer.zero_grad()
        (meta_loss / 2).backward()
        meta_optimizer.step()
        record += [meta_loss] + [p.grad for p in model.parameters()]
    return model, record


@pytest.mark.parametrize("first_order", [False, True])
def test_maml_on_sine_tasks_with_functional_call_trains_as_torch(first_order):
    trained_on_both(build_maml_net, lambda lib, ref: train_maml(lib, ref, first_order))


def build_protonet(lib, x_dim=3, hid_dim=4, z_dim=4):
    nn = lib.nn

    def conv_block(in_channels, out_channels):
        return nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )

    class Flatten(nn.Module):
        def forward(self, x):
            return x.view(x.size(0), -1)

    return lambda: nn.Sequential(conv_block(x_dim, hid_dim), conv_block(hid_dim, z_dim), Flatten())


def euclidean_dist(x, y):
    n, m, d = x.size(0), y.size(0), x.size(1)
    assert d == y.size(1)
    x = x.unsqueeze(1).expand(n, m, d)
    y = y.unsqueeze(0).expand(n, m, d)
    return ((x - y) ** 2).sum(2)


PROTO_EPISODES = RNG.standard_normal((3, 3, 4, 3, 8, 8)).astype(np.float32)  # episodes x way x (shot+query)


def train_protonet(lib, reference):
    from torch.autograd import Variable as TorchVariable

    Variable = TorchVariable if lib is torch else lib.autograd.Variable
    encoder = build_protonet(lib)()
    copy_weights(reference, encoder)
    for block in encoder[:2]:  # a bias before BatchNorm: its gradient is rounding noise, which Adam scales up
        block[0].bias.requires_grad_(False)
    optimizer = lib.optim.Adam([p for p in encoder.parameters() if p.requires_grad], lr=1e-3)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5, last_epoch=-1)
    record, n_support = [], 2
    for episode in PROTO_EPISODES:
        xs, xq = Variable(lib.tensor(episode[:, :n_support])), Variable(lib.tensor(episode[:, n_support:]))
        n_class, n_query = xs.size(0), xq.size(1)
        target_inds = lib.arange(0, n_class).view(n_class, 1, 1).expand(n_class, n_query, 1).long()
        target_inds = Variable(target_inds, requires_grad=False)
        x = lib.cat([xs.view(n_class * n_support, *xs.size()[2:]), xq.view(n_class * n_query, *xq.size()[2:])], 0)
        z = encoder.forward(x)
        z_dim = z.size(-1)
        z_proto = z[: n_class * n_support].view(n_class, n_support, z_dim).mean(1)
        zq = z[n_class * n_support :]
        dists = euclidean_dist(zq, z_proto)
        log_p_y = lib.nn.functional.log_softmax(-dists, dim=1).view(n_class, n_query, -1)
        loss_val = -log_p_y.gather(2, target_inds).squeeze().view(-1).mean()
        _, y_hat = log_p_y.max(2)
        acc_val = lib.eq(y_hat, target_inds.squeeze()).float().mean()
        optimizer.zero_grad()
        loss_val.backward()
        optimizer.step()
        scheduler.step()
        record += [loss_val, acc_val, y_hat, scheduler.get_last_lr()[0]]
    return encoder, record


def test_prototypical_networks_train_as_torch():
    trained_on_both(build_protonet, train_protonet)


# -- FiLM (ethanjperez/film) conditioning a CNN on a GRU-encoded question --------------------------------


def build_film(lib, vocab=7, emb=6, hidden=8, channels=4, n_blocks=2, n_answers=3):
    nn, F = lib.nn, lib.nn.functional

    class FiLM(nn.Module):
        def forward(self, x, gammas, betas):
            gammas = gammas.unsqueeze(2).unsqueeze(3).expand_as(x)
            betas = betas.unsqueeze(2).unsqueeze(3).expand_as(x)
            return (gammas * x) + betas

    class FiLMedResBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.input_proj = nn.Conv2d(channels + 2, channels, kernel_size=1)
            self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
            self.bn1 = nn.BatchNorm2d(channels, affine=False)
            self.film = FiLM()
            nn.init.kaiming_uniform_(self.input_proj.weight)
            nn.init.kaiming_uniform_(self.conv1.weight)

        def forward(self, x, gammas, betas, extra_channels):
            x = F.relu(self.input_proj(lib.cat([x, extra_channels], 1)))
            out = self.film(self.bn1(self.conv1(x)), gammas, betas)
            return F.relu(out) + x

    def coord_map(shape, start=-1, end=1):
        m, n = shape
        x_coord_row = lib.linspace(start, end, steps=n)
        y_coord_row = lib.linspace(start, end, steps=m)
        x_coords = x_coord_row.unsqueeze(0).expand(lib.Size((m, n))).unsqueeze(0)
        y_coords = y_coord_row.unsqueeze(1).expand(lib.Size((m, n))).unsqueeze(0)
        return lib.autograd.Variable(lib.cat([x_coords, y_coords], 0))

    class FiLMedNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder_embed = nn.Embedding(vocab, emb, padding_idx=0)
            self.encoder_rnn = nn.GRU(emb, hidden, batch_first=True)
            self.decoder_linear = nn.Linear(hidden, 2 * channels * n_blocks)
            self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.ReLU())
            self.blocks = nn.ModuleList([FiLMedResBlock() for _ in range(n_blocks)])
            self.classifier = nn.Sequential(nn.Conv2d(channels + 2, 8, 1), nn.ReLU(), nn.AdaptiveMaxPool2d(1))
            self.head = nn.Linear(8, n_answers)

        def forward(self, x, question, lengths):
            embedded = self.encoder_embed(question)
            packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
            _, h = self.encoder_rnn(packed)
            film = self.decoder_linear(h[-1]).view(x.size(0), n_blocks, 2 * channels)
            gammas, betas = film[:, :, :channels] + 1, film[:, :, channels:]
            feats = self.stem(x)
            coords = coord_map((feats.size(2), feats.size(3))).unsqueeze(0).expand(x.size(0), -1, -1, -1)
            for i, block in enumerate(self.blocks):
                feats = block(feats, gammas[:, i, :], betas[:, i, :], coords)
            out = self.classifier(lib.cat([feats, coords], 1)).flatten(1)
            return self.head(out)

    return FiLMedNet


FILM_IMAGES = RNG.standard_normal((3, 3, 6, 6)).astype(np.float32)
FILM_QUESTIONS = [[3, 1, 4, 6], [2, 5, 0, 0], [6, 6, 1, 0]]


def train_film(lib, reference):
    model = build_film(lib)()
    copy_weights(reference, model)
    for block in model.blocks:  # conv1's bias feeds BatchNorm: its gradient is rounding noise, which Adam scales up
        block.conv1.bias.requires_grad_(False)
    optimizer = lib.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3, weight_decay=1e-5)
    x, q = lib.tensor(FILM_IMAGES), lib.tensor(FILM_QUESTIONS)
    lengths = (q != 0).sum(1)
    y, record = lib.tensor([2, 0, 1]), []
    for _ in range(3):
        scores = model(x, q, lengths)
        loss = lib.nn.functional.cross_entropy(scores, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, scores]
    return model, record + [p.grad for p in model.parameters() if p.requires_grad]


def test_film_conditioned_cnn_trains_as_torch():
    trained_on_both(build_film, train_film)


# -- ESPCN super-resolution (pytorch/examples super_resolution) -----------------------------------------


def build_espcn(lib, upscale_factor=2):
    nn, init = lib.nn, lib.nn.init

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = nn.ReLU()
            self.conv1 = nn.Conv2d(1, 8, (5, 5), (1, 1), (2, 2))
            self.conv2 = nn.Conv2d(8, 8, (3, 3), (1, 1), (1, 1))
            self.conv3 = nn.Conv2d(8, 4, (3, 3), (1, 1), (1, 1))
            self.conv4 = nn.Conv2d(4, upscale_factor**2, (3, 3), (1, 1), (1, 1))
            self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
            self._initialize_weights()

        def forward(self, x):
            x = self.relu(self.conv1(x))
            x = self.relu(self.conv2(x))
            x = self.relu(self.conv3(x))
            return self.pixel_shuffle(self.conv4(x))

        def _initialize_weights(self):
            init.orthogonal_(self.conv1.weight, init.calculate_gain("relu"))
            init.orthogonal_(self.conv2.weight, init.calculate_gain("relu"))
            init.orthogonal_(self.conv3.weight, init.calculate_gain("relu"))
            init.orthogonal_(self.conv4.weight)

    return Net


SR_TARGETS = RNG.uniform(0, 1, (3, 1, 8, 8)).astype(np.float32)


def train_espcn(lib, reference):
    model = build_espcn(lib)()
    copy_weights(reference, model)
    criterion = lib.nn.MSELoss()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    target = lib.tensor(SR_TARGETS)
    # the low-resolution input as the example's transforms make it: downscaled (here by area), then the
    # pixel-unshuffled view of the target checked against it
    inp = lib.nn.functional.interpolate(target, scale_factor=0.5, mode="area")
    record = [lib.nn.functional.pixel_unshuffle(target, 2).mean(1, keepdim=True), inp]
    for _ in range(3):
        optimizer.zero_grad()
        loss = criterion(model(inp), target)
        psnr = 10 * math.log10(1 / loss.item())
        loss.backward()
        optimizer.step()
        record += [loss, psnr]
    model.eval()
    with lib.no_grad():
        out = model(inp).clamp(0, 1)
        record += [out, (out * 255.0).round().to(lib.uint8)]
    return model, record


def test_espcn_with_pixel_shuffle_trains_as_torch():
    trained_on_both(build_espcn, train_espcn)


# -- DeepFM / NCF-style recommenders with EmbeddingBag and per-sample weights ----------------------------


def build_deepfm(lib, field_dims=(5, 4, 6), embed_dim=4, mlp_dims=(8,), dropout=0.2):
    nn = lib.nn
    num_fields = len(field_dims)

    class FeaturesLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Embedding(sum(field_dims), 1)
            self.bias = nn.Parameter(lib.zeros((1,)))
            self.register_buffer("offsets", lib.tensor((0, *np.cumsum(field_dims)[:-1]), dtype=lib.long))

        def forward(self, x):
            x = x + self.offsets.unsqueeze(0)
            return lib.sum(self.fc(x), dim=1) + self.bias

    class FeaturesEmbedding(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(sum(field_dims), embed_dim)
            self.register_buffer("offsets", lib.tensor((0, *np.cumsum(field_dims)[:-1]), dtype=lib.long))
            nn.init.xavier_uniform_(self.embedding.weight.data)

        def forward(self, x):
            return self.embedding(x + self.offsets.unsqueeze(0))

    class FactorizationMachine(nn.Module):
        def forward(self, x):
            square_of_sum = lib.sum(x, dim=1) ** 2
            sum_of_square = lib.sum(x**2, dim=1)
            ix = square_of_sum - sum_of_square
            return 0.5 * lib.sum(ix, dim=1, keepdim=True)

    class DeepFM(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear, self.fm, self.embedding = FeaturesLinear(), FactorizationMachine(), FeaturesEmbedding()
            layers, input_dim = [], num_fields * embed_dim
            for d in mlp_dims:
                layers += [nn.Linear(input_dim, d), nn.BatchNorm1d(d), nn.ReLU(), nn.Dropout(p=dropout)]
                input_dim = d
            layers.append(nn.Linear(input_dim, 1))
            self.mlp = nn.Sequential(*layers)
            # a bag of tags per example (NCF-style multi-hot side features), weighted per sample
            self.tags = nn.EmbeddingBag(7, 1, mode="sum")

        def forward(self, x, tags, tag_offsets, tag_weights):
            embed_x = self.embedding(x)
            x = self.linear(x) + self.fm(embed_x) + self.mlp(embed_x.view(-1, num_fields * embed_dim))
            x = x + self.tags(tags, tag_offsets, per_sample_weights=tag_weights)
            return lib.sigmoid(x.squeeze(1))

    return DeepFM


FM_X = np.stack([RNG.integers(0, d, 6) for d in (5, 4, 6)], 1)
FM_Y = RNG.integers(0, 2, 6).astype(np.float32)


def train_deepfm(lib, reference):
    model = build_deepfm(lib)()
    copy_weights(reference, model)
    model.mlp[0].bias.requires_grad_(False)  # before BatchNorm: a gradient of rounding noise, which Adam scales up
    criterion = lib.nn.BCELoss()
    optimizer = lib.optim.Adam(params=[p for p in model.parameters() if p.requires_grad], lr=1e-2, weight_decay=1e-6)
    x, y = lib.tensor(FM_X), lib.tensor(FM_Y)
    tags = lib.tensor([1, 3, 5, 2, 6, 0, 4, 4, 1])
    offsets = lib.tensor([0, 2, 2, 4, 7, 8])  # one example without tags
    weights = lib.linspace(0.5, 1.5, 9)
    lib.manual_seed(6)
    record = []
    for _ in range(3):
        model.train()
        y_pred = model(x, tags, offsets, weights)
        loss = criterion(y_pred, y.float())
        model.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, y_pred]
    model.eval()
    with lib.no_grad():
        record.append(model(x, tags, offsets, weights))
    return model, record + [p.grad for p in model.parameters() if p.requires_grad]


def test_deepfm_with_an_embedding_bag_trains_as_torch():
    trained_on_both(build_deepfm, train_deepfm)


# -- PatchTST (yuqinie98/PatchTST) with RevIN, and an MLP-Mixer -----------------------------------------


def build_patchtst(lib, c_in=2, context_window=16, target_window=4, patch_len=4, stride=2, d_model=8, heads=2):
    nn = lib.nn
    patch_num = int((context_window - patch_len) / stride + 1) + 1  # padding_patch="end"

    class RevIN(nn.Module):
        def __init__(self, num_features, eps=1e-5, affine=True):
            super().__init__()
            self.num_features, self.eps, self.affine = num_features, eps, affine
            if self.affine:
                self.affine_weight = nn.Parameter(lib.ones(self.num_features))
                self.affine_bias = nn.Parameter(lib.zeros(self.num_features))

        def forward(self, x, mode):
            if mode == "norm":
                dim2reduce = tuple(range(1, x.ndim - 1))
                self.mean = lib.mean(x, dim=dim2reduce, keepdim=True).detach()
                self.stdev = lib.sqrt(lib.var(x, dim=dim2reduce, keepdim=True, unbiased=False) + self.eps).detach()
                x = (x - self.mean) / self.stdev
                return x * self.affine_weight + self.affine_bias if self.affine else x
            if self.affine:
                x = (x - self.affine_bias) / (self.affine_weight + self.eps * self.eps)
            return x * self.stdev + self.mean

    class PatchTST(nn.Module):
        def __init__(self):
            super().__init__()
            self.revin_layer = RevIN(c_in)
            self.padding_patch_layer = nn.ReplicationPad1d((0, stride))
            self.W_P = nn.Linear(patch_len, d_model)
            W_pos = lib.empty((patch_num, d_model))
            nn.init.uniform_(W_pos, -0.02, 0.02)
            self.W_pos = nn.Parameter(W_pos, requires_grad=True)
            self.dropout = nn.Dropout(0.1)
            layer = nn.TransformerEncoderLayer(d_model, heads, 16, 0.1, batch_first=True, norm_first=False)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.flatten = nn.Flatten(start_dim=-2)
            self.linear = nn.Linear(d_model * patch_num, target_window)

        def forward(self, z):  # z: [bs x seq_len x nvars]
            z = self.revin_layer(z, "norm")
            z = z.permute(0, 2, 1)
            z = self.padding_patch_layer(z)
            z = z.unfold(dimension=-1, size=patch_len, step=stride)  # [bs x nvars x patch_num x patch_len]
            n_vars = z.shape[1]
            x = self.W_P(z)
            u = lib.reshape(x, (x.shape[0] * x.shape[1], x.shape[2], x.shape[3]))
            u = self.dropout(u + self.W_pos)
            z = self.encoder(u)
            z = lib.reshape(z, (-1, n_vars, z.shape[-2], z.shape[-1])).permute(0, 1, 3, 2)
            z = self.linear(self.flatten(z.transpose(-1, -2)))
            z = z.permute(0, 2, 1)
            return self.revin_layer(z, "denorm")

    return PatchTST


SERIES = np.stack([np.sin(np.arange(40) / 3.0) * 2 + 1, np.cos(np.arange(40) / 5.0) - 0.5], 1).astype(np.float32)


def train_patchtst(lib, reference):
    model = build_patchtst(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = lib.optim.lr_scheduler.OneCycleLR(optimizer, steps_per_epoch=2, pct_start=0.3, epochs=2, max_lr=1e-2)
    windows = [SERIES[i : i + 20] for i in range(0, 20, 4)]
    batch = lib.tensor(np.stack(windows))
    x, y = batch[:, :16], batch[:, 16:]
    lib.manual_seed(21)
    record = []
    for _ in range(2):
        for half in (slice(0, 3), slice(3, 5)):
            optimizer.zero_grad()
            outputs = model(x[half])
            loss = lib.nn.functional.mse_loss(outputs, y[half])
            loss.backward()
            for layer in model.encoder.layers:  # the key bias: a gradient of rounding noise (as in MAE above)
                layer.self_attn.in_proj_bias.grad[8:16] = 0
            optimizer.step()
            scheduler.step()
            record += [loss, outputs, scheduler.get_last_lr()[0]]
    model.eval()
    with lib.no_grad():
        record.append(model(x))
    return model, record


def test_patchtst_with_revin_and_unfold_patches_trains_as_torch():
    trained_on_both(build_patchtst, train_patchtst, atol=5e-5)


def build_mixer(lib, image_size=8, patch_size=2, channels=3, dim=8, depth=2, num_classes=4, expansion=2):
    nn = lib.nn
    num_patches = (image_size // patch_size) ** 2

    class PreNormResidual(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn, self.norm = fn, nn.LayerNorm(dim)

        def forward(self, x):
            return self.fn(self.norm(x)) + x

    def feed_forward(d, expansion_factor, dense):
        inner = int(d * expansion_factor)
        return nn.Sequential(dense(d, inner), nn.GELU(), nn.Dropout(0.1), dense(inner, d), nn.Dropout(0.1))

    class Rearrange(nn.Module):
        """einops' ``Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)')`` by view/permute."""

        def forward(self, x):
            b, c, H, W = x.shape
            h, w = H // patch_size, W // patch_size
            x = x.view(b, c, h, patch_size, w, patch_size).permute(0, 2, 4, 3, 5, 1)
            return x.reshape(b, h * w, patch_size * patch_size * c)

    class Reduce(nn.Module):
        def forward(self, x):
            return x.mean(1)

    def chan_first(i, o):  # nn.Conv1d with kernel_size=1 mixes the tokens
        return nn.Conv1d(i, o, kernel_size=1)

    return lambda: nn.Sequential(
        Rearrange(),
        nn.Linear((patch_size**2) * channels, dim),
        *[
            nn.Sequential(
                PreNormResidual(feed_forward(num_patches, expansion, chan_first)),
                PreNormResidual(feed_forward(dim, 0.5 * expansion, nn.Linear)),
            )
            for _ in range(depth)
        ],
        nn.LayerNorm(dim),
        Reduce(),
        nn.Linear(dim, num_classes),
    )


def train_mixer(lib, reference):
    model = build_mixer(lib)()
    copy_weights(reference, model)
    for block in model[2:-3]:
        # the token-mixing output bias adds a constant over each token's channels, which the LayerNorms remove:
        # its gradient is rounding noise, which AdamW scales up
        block[0].fn[3].bias.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = lib.optim.AdamW(params, lr=2e-3, weight_decay=0.05)
    x, y, record = lib.tensor(VIT_IMAGES), lib.tensor([3, 1, 0, 2]), []
    lib.manual_seed(17)
    for _ in range(3):
        loss = lib.nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record.append(loss)
    return model, record + [p.grad for p in params]


def test_mlp_mixer_trains_as_torch():
    trained_on_both(build_mixer, train_mixer)
