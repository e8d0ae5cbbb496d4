"""Public programs, round 5: condensed versions of programs people run today, each run on ember and on
torch from the same weights (copied with ``state_dict``) and the same seeds, comparing losses,
outputs, gradients and the trained weights.

- DiT (facebookresearch/DiT): patchify by a strided ``Conv2d``, fixed 2-D sin-cos position
  embeddings from NumPy (``from_numpy(...).float()`` copied into a frozen ``Parameter``), the
  sinusoidal timestep embedder, the label embedder's classifier-free-guidance token drop
  (``rand < p`` and ``where``), adaLN-Zero modulation (``chunk(6, dim=1)``), SDPA attention,
  ``GELU(approximate="tanh")``, unpatchify by ``einsum("nhwpqc->nchpwq")``, ``forward_with_cfg``.
- efficient-kan (Blealtan): a KAN layer's B-spline bases by masks and the Cox-de Boor recurrence,
  ``curve2coeff`` through ``linalg.lstsq``, ``update_grid`` (``sort``, ``linspace`` indices,
  ``concatenate``), the L1 and entropy regularisation.
- A categorical VAE with ``F.gumbel_softmax`` (soft and ``hard=True``, ``dim=``) and the
  hand-written Gumbel trick (``rand``, ``max``, ``scatter_``, straight-through ``detach``).
- A tabular pipeline (the fast.ai/"PyTorch for tabular data" model): an ``Embedding`` per
  categorical column, ``BatchNorm1d`` of the continuous ones, ``random_split`` by fractions with a
  generator, ``WeightedRandomSampler`` from ``bincount`` class weights, a shuffling ``DataLoader``
  with its own generator over several epochs, ``BCEWithLogitsLoss(pos_weight=)``.
- Beam search and top-k/top-p sampling with a KV cache (HF ``generate``'s logic): repetition
  penalty by ``gather``/``scatter``, ``topk`` over beams x vocabulary, ``div(rounding_mode="floor")``,
  the cache reordered by ``index_select``, ``multinomial`` with a seeded ``Generator``.
- A Perceiver (lucidrains' perceiver-pytorch): learned latents cross-attending to a padded input
  with a boolean mask (SDPA ``attn_mask`` and the ``einsum`` + ``masked_fill(-finfo.max)`` form),
  ``MultiheadAttention`` with per-head weights, ``key_padding_mask`` and a float ``attn_mask``.
- SimCLR/BYOL: seeded augmentations (crop, ``interpolate``, flips by ``where``), the NT-Xent loss
  both ways (the UvA tutorial's broadcast ``cosine_similarity`` with ``masked_fill_``/``roll`` and the
  ``cross_entropy`` form with ``fill_diagonal_``), a target network updated by
  ``_foreach_mul_``/``_foreach_add_``, ``_foreach_lerp_`` and a parameter loop, then ``.half()``,
  ``bfloat16`` and autocast inference.
- A Fourier Neural Operator (neuraloperator's FNO2d): complex ``cfloat`` weights trained by Adam,
  ``fft.rfft2``/``irfft2``, complex ``einsum``, the relative Lp loss, ``StepLR``; also under
  ``autocast("cpu", bfloat16)``, where the FFTs take bfloat16 activations in float32.
- NeRF (yenchenlin's nerf-pytorch): positional encoding, a coarse and a fine network, volume
  rendering (exclusive ``cumprod`` of transmittance, noise on the densities), hierarchical sampling
  (``cumsum`` CDF, ``searchsorted(right=True)``, ``gather`` from expanded bins), ``sort`` of the
  merged samples, PSNR, a decaying learning rate.
- VQ-VAE (zalandoresearch's EMA quantiser and taming-transformers' ``cdist``/``one_hot`` one):
  ``argmin`` codes, straight-through estimator, EMA codebook reassigned as new ``Parameter``s,
  perplexity, ``bincount`` usage, AMSGrad.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch, trained_on_both

import ember

RNG = np.random.default_rng(0)


# -- DiT --------------------------------------------------------------------------------------------


def sincos_2d(embed_dim, grid_size):
    grid = np.meshgrid(np.arange(grid_size, dtype=np.float32), np.arange(grid_size, dtype=np.float32))
    grid = np.stack(grid, axis=0).reshape([2, 1, grid_size, grid_size])

    def one(d, pos):
        omega = 1.0 / 10000 ** (np.arange(d // 2, dtype=np.float64) / (d / 2.0))
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    return np.concatenate([one(embed_dim // 2, grid[0]), one(embed_dim // 2, grid[1])], axis=1)


def build_dit(lib, hidden=16, patch=2, in_channels=3, size=8, heads=2, classes=5):
    nn, F = lib.nn, lib.nn.functional

    def modulate(x, shift, scale):
        return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)

    class TimestepEmbedder(nn.Module):
        def __init__(self, frequency_embedding_size=32):
            super().__init__()
            self.mlp = nn.Sequential(nn.Linear(frequency_embedding_size, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
            self.frequency_embedding_size = frequency_embedding_size

        @staticmethod
        def timestep_embedding(t, dim, max_period=10000):
            half = dim // 2
            freqs = lib.exp(-math.log(max_period) * lib.arange(start=0, end=half, dtype=lib.float32) / half)
            args = t[:, None].float() * freqs.to(device=t.device)[None]
            return lib.cat([lib.cos(args), lib.sin(args)], dim=-1)

        def forward(self, t):
            return self.mlp(self.timestep_embedding(t, self.frequency_embedding_size))

    class LabelEmbedder(nn.Module):
        def __init__(self, dropout_prob=0.3):
            super().__init__()
            self.embedding_table = nn.Embedding(classes + 1, hidden)
            self.dropout_prob = dropout_prob

        def forward(self, labels, train):
            if train and self.dropout_prob > 0:
                drop_ids = lib.rand(labels.shape[0], device=labels.device) < self.dropout_prob
                labels = lib.where(drop_ids, classes, labels)
            return self.embedding_table(labels)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.proj = nn.Linear(hidden, hidden * 3), nn.Linear(hidden, hidden)

        def forward(self, x):
            B, N, C = x.shape
            q, k, v = self.qkv(x).reshape(B, N, 3, heads, C // heads).permute(2, 0, 3, 1, 4).unbind(0)
            return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, N, C))

    class DiTBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
            self.attn = Attention()
            self.norm2 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
            self.mlp = nn.Sequential(
                nn.Linear(hidden, 4 * hidden), nn.GELU(approximate="tanh"), nn.Linear(4 * hidden, hidden)
            )
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 6 * hidden))

        def forward(self, x, c):
            shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.adaLN_modulation(c).chunk(6, dim=1)
            x = x + gate_msa.unsqueeze(1) * self.attn(modulate(self.norm1(x), shift_msa, scale_msa))
            return x + gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))

    class FinalLayer(nn.Module):
        def __init__(self, out_channels):
            super().__init__()
            self.norm_final = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
            self.linear = nn.Linear(hidden, patch * patch * out_channels)
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 2 * hidden))

        def forward(self, x, c):
            shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
            return self.linear(modulate(self.norm_final(x), shift, scale))

    class DiT(nn.Module):
        def __init__(self):
            super().__init__()
            self.out_channels = in_channels * 2  # learned sigma
            self.x_embedder = nn.Conv2d(in_channels, hidden, kernel_size=patch, stride=patch)
            self.t_embedder = TimestepEmbedder()
            self.y_embedder = LabelEmbedder()
            self.pos_embed = nn.Parameter(lib.zeros(1, (size // patch) ** 2, hidden), requires_grad=False)
            self.blocks = nn.ModuleList([DiTBlock() for _ in range(2)])
            self.final_layer = FinalLayer(self.out_channels)
            self.initialize_weights()

        def initialize_weights(self):
            def _basic_init(module):
                if isinstance(module, nn.Linear):
                    nn.init.xavier_uniform_(module.weight)
                    nn.init.constant_(module.bias, 0)

            self.apply(_basic_init)
            pos_embed = sincos_2d(self.pos_embed.shape[-1], int(self.pos_embed.shape[1] ** 0.5))
            self.pos_embed.data.copy_(lib.from_numpy(pos_embed).float().unsqueeze(0))
            w = self.x_embedder.weight.data
            nn.init.xavier_uniform_(w.view([w.shape[0], -1]))
            nn.init.constant_(self.x_embedder.bias, 0)
            nn.init.normal_(self.y_embedder.embedding_table.weight, std=0.02)
            nn.init.normal_(self.t_embedder.mlp[0].weight, std=0.02)
            nn.init.normal_(self.t_embedder.mlp[2].weight, std=0.02)
            for block in self.blocks:  # adaLN-Zero starts at zero; a small constant keeps the blocks in play
                nn.init.constant_(block.adaLN_modulation[-1].weight, 0.01)
                nn.init.constant_(block.adaLN_modulation[-1].bias, 0)

        def unpatchify(self, x):
            c, p = self.out_channels, patch
            h = w = int(x.shape[1] ** 0.5)
            x = lib.einsum("nhwpqc->nchpwq", x.reshape(shape=(x.shape[0], h, w, p, p, c)))
            return x.reshape(shape=(x.shape[0], c, h * p, h * p))

        def forward(self, x, t, y):
            x = self.x_embedder(x).flatten(2).transpose(1, 2) + self.pos_embed
            c = self.t_embedder(t) + self.y_embedder(y, self.training)
            for block in self.blocks:
                x = block(x, c)
            return self.unpatchify(self.final_layer(x, c))

        def forward_with_cfg(self, x, t, y, cfg_scale):
            half = x[: len(x) // 2]
            model_out = self.forward(lib.cat([half, half], dim=0), t, y)
            eps, rest = model_out[:, :3], model_out[:, 3:]
            cond_eps, uncond_eps = lib.split(eps, len(eps) // 2, dim=0)
            half_eps = uncond_eps + cfg_scale * (cond_eps - uncond_eps)
            return lib.cat([lib.cat([half_eps, half_eps], dim=0), rest], dim=1)

    return DiT


IMAGES = RNG.standard_normal((4, 3, 8, 8)).astype(np.float32)


def train_dit(lib, reference):
    lib.manual_seed(0)
    model = build_dit(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0)
    alphas_cumprod = lib.cumprod(1 - lib.linspace(1e-4, 0.02, 50, dtype=lib.float64), 0)
    x0, record = lib.tensor(IMAGES), []
    for _ in range(3):
        t, y = lib.randint(0, 50, (x0.shape[0],)), lib.randint(0, 5, (x0.shape[0],))
        noise = lib.randn_like(x0)
        a = alphas_cumprod[t].float()[:, None, None, None]
        eps, var = lib.split(model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t, y), 3, dim=1)
        loss = lib.nn.functional.mse_loss(eps, noise) + var.pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, t, y]
    record += [p.grad for p in model.parameters() if p.grad is not None]
    model.eval()
    with lib.no_grad():
        record.append(model.forward_with_cfg(x0, lib.tensor([3, 3, 3, 3]), lib.tensor([1, 2, 5, 5]), 4.0))
    return model, record


def test_dit_trains_and_samples_with_guidance_as_torch():
    reference = trained_on_both(build_dit, train_dit)
    ember.manual_seed(0)  # the initialisation itself, NumPy's position embeddings included
    assert_same_models(build_dit(ember)(), reference)


# -- efficient-kan ----------------------------------------------------------------------------------


def build_kan(lib):
    nn, F = lib.nn, lib.nn.functional

    class KANLinear(nn.Module):
        def __init__(self, in_features, out_features, grid_size=5, spline_order=3, scale_noise=0.1, grid_eps=0.02):
            super().__init__()
            self.in_features, self.out_features = in_features, out_features
            self.grid_size, self.spline_order = grid_size, spline_order
            h = 2 / grid_size
            grid = (
                (lib.arange(-spline_order, grid_size + spline_order + 1) * h - 1).expand(in_features, -1).contiguous()
            )
            self.register_buffer("grid", grid)
            self.base_weight = nn.Parameter(lib.Tensor(out_features, in_features))
            self.spline_weight = nn.Parameter(lib.Tensor(out_features, in_features, grid_size + spline_order))
            self.spline_scaler = nn.Parameter(lib.Tensor(out_features, in_features))
            self.scale_noise, self.grid_eps = scale_noise, grid_eps
            self.base_activation = nn.SiLU()
            self.reset_parameters()

        def reset_parameters(self):
            nn.init.kaiming_uniform_(self.base_weight, a=math.sqrt(5))
            with lib.no_grad():
                noise = (lib.rand(self.grid_size + 1, self.in_features, self.out_features) - 1 / 2) * self.scale_noise
                noise = noise / self.grid_size
                self.spline_weight.data.copy_(
                    self.curve2coeff(self.grid.T[self.spline_order : -self.spline_order], noise)
                )
                nn.init.kaiming_uniform_(self.spline_scaler, a=math.sqrt(5))

        def b_splines(self, x):
            grid, x = self.grid, x.unsqueeze(-1)
            bases = ((x >= grid[:, :-1]) & (x < grid[:, 1:])).to(x.dtype)
            for k in range(1, self.spline_order + 1):
                bases = (x - grid[:, : -(k + 1)]) / (grid[:, k:-1] - grid[:, : -(k + 1)]) * bases[:, :, :-1] + (
                    grid[:, k + 1 :] - x
                ) / (grid[:, k + 1 :] - grid[:, 1:(-k)]) * bases[:, :, 1:]
            assert bases.size() == (x.size(0), self.in_features, self.grid_size + self.spline_order)
            return bases.contiguous()

        def curve2coeff(self, x, y):
            solution = lib.linalg.lstsq(self.b_splines(x).transpose(0, 1), y.transpose(0, 1)).solution
            return solution.permute(2, 0, 1).contiguous()

        @property
        def scaled_spline_weight(self):
            return self.spline_weight * self.spline_scaler.unsqueeze(-1)

        def forward(self, x):
            base_output = F.linear(self.base_activation(x), self.base_weight)
            bases = self.b_splines(x).view(x.size(0), -1)
            return base_output + F.linear(bases, self.scaled_spline_weight.view(self.out_features, -1))

        @lib.no_grad()
        def update_grid(self, x, margin=0.01):
            batch = x.size(0)
            splines = self.b_splines(x).permute(1, 0, 2)
            unreduced_spline_output = lib.bmm(splines, self.scaled_spline_weight.permute(1, 2, 0)).permute(1, 0, 2)
            x_sorted = lib.sort(x, dim=0)[0]
            grid_adaptive = x_sorted[lib.linspace(0, batch - 1, self.grid_size + 1, dtype=lib.int64, device=x.device)]
            uniform_step = (x_sorted[-1] - x_sorted[0] + 2 * margin) / self.grid_size
            grid_uniform = lib.arange(self.grid_size + 1, dtype=lib.float32).unsqueeze(1) * uniform_step
            grid_uniform = grid_uniform + x_sorted[0] - margin
            grid = self.grid_eps * grid_uniform + (1 - self.grid_eps) * grid_adaptive
            steps = lib.arange(self.spline_order, 0, -1, device=x.device).unsqueeze(1)
            grid = lib.concatenate(
                [
                    grid[:1] - uniform_step * steps,
                    grid,
                    grid[-1:] + uniform_step * lib.arange(1, self.spline_order + 1, device=x.device).unsqueeze(1),
                ],
                dim=0,
            )
            self.grid.copy_(grid.T)
            self.spline_weight.data.copy_(self.curve2coeff(x, unreduced_spline_output))

        def regularization_loss(self):
            l1_fake = self.spline_weight.abs().mean(-1)
            activation = l1_fake.sum()
            p = l1_fake / activation
            return activation - lib.sum(p * p.log())

    class KAN(nn.Module):
        def __init__(self, widths=(3, 4, 1)):
            super().__init__()
            self.layers = nn.ModuleList([KANLinear(i, o) for i, o in zip(widths, widths[1:])])

        def forward(self, x, update_grid=False):
            for layer in self.layers:
                if update_grid:
                    layer.update_grid(x)
                x = layer(x)
            return x

        def regularization_loss(self):
            return sum(layer.regularization_loss() for layer in self.layers)

    return KAN


KAN_X = RNG.uniform(-1, 1, (16, 3)).astype(np.float32)
KAN_Y = np.sin(3 * KAN_X).sum(1, keepdims=True).astype(np.float32)


def train_kan(lib, reference):
    model = build_kan(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-2)
    x, y, record = lib.tensor(KAN_X), lib.tensor(KAN_Y), []
    for step in range(4):
        loss = lib.nn.functional.mse_loss(model(x, update_grid=step == 2), y) + 1e-3 * model.regularization_loss()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss]
    return model, record + [p.grad for p in model.parameters()] + [layer.grid for layer in model.layers]


def test_kan_trains_and_refits_its_grid_as_torch():
    reference = trained_on_both(build_kan, train_kan, model_rtol=1e-3, model_atol=1e-4)
    ember.manual_seed(0)  # the initialisation's least-squares fit of seeded noise
    assert_same_models(build_kan(ember)(), reference, 1e-3, 1e-5)


# -- categorical VAE with Gumbel-softmax ------------------------------------------------------------

LATENT, CATEGORIES = 4, 5


def build_gumbel_vae(lib):
    nn, F = lib.nn, lib.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(12, 16), nn.Linear(16, LATENT * CATEGORIES)
            self.fc3, self.fc4 = nn.Linear(LATENT * CATEGORIES, 16), nn.Linear(16, 12)

        def encode(self, x):
            return self.fc2(F.relu(self.fc1(x))).view(-1, LATENT, CATEGORIES)

        def decode(self, z):
            return lib.sigmoid(self.fc4(F.relu(self.fc3(z))))

        def forward(self, x, temperature, hard):
            q = self.encode(x)
            z = F.gumbel_softmax(q, tau=temperature, hard=hard)
            return self.decode(z.view(-1, LATENT * CATEGORIES)), F.softmax(q, dim=-1).reshape(*q.size())

    return VAE


def gumbel_softmax_by_hand(lib, logits, temperature):
    g = -lib.log(-lib.log(lib.rand(logits.size()) + 1e-20) + 1e-20)
    y = lib.nn.functional.softmax((logits + g) / temperature, dim=-1)
    shape = y.size()
    _, ind = y.max(dim=-1)
    y_hard = lib.zeros_like(y).view(-1, shape[-1])
    y_hard.scatter_(1, ind.view(-1, 1), 1)
    return (y_hard.view(*shape) - y).detach() + y


BITS = (RNG.uniform(0, 1, (8, 12)) > 0.5).astype(np.float32)


def train_gumbel_vae(lib, reference):
    F = lib.nn.functional
    model = build_gumbel_vae(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    lib.manual_seed(1)
    x, temperature, record = lib.tensor(BITS), 1.0, []
    for step in range(4):
        recon, qy = model(x, temperature, hard=step % 2 == 0)
        kld = lib.sum(qy * lib.log(qy * CATEGORIES + 1e-20), dim=-1).mean()
        loss = F.binary_cross_entropy(recon, x, reduction="sum") / x.shape[0] + kld
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        temperature = np.maximum(temperature * np.exp(-3e-2 * step), 0.5)
        record += [loss, recon]
    record.append(gumbel_softmax_by_hand(lib, model.encode(x), 0.7))
    z = F.gumbel_softmax(model.encode(x), tau=0.5, hard=True, dim=1)
    z.sum().backward()
    return model, record + [z] + [p.grad for p in model.parameters()]


def test_gumbel_softmax_vae_trains_as_torch():
    trained_on_both(build_gumbel_vae, train_gumbel_vae)


# -- tabular pipeline -------------------------------------------------------------------------------

CARDINALITIES = [5, 3, 7]
CATEGORICAL = np.stack([RNG.integers(0, c, 40) for c in CARDINALITIES], 1)
CONTINUOUS = RNG.standard_normal((40, 4)).astype(np.float32)
TARGETS = RNG.integers(0, 2, 40).astype(np.float32)
EMBEDDING_SIZES = [(c, (c + 1) // 2) for c in CARDINALITIES]


def build_tabular(lib):
    nn = lib.nn

    class TabularModel(nn.Module):
        def __init__(self, emb_szs=EMBEDDING_SIZES, n_cont=4, out_sz=1, layers=(16, 8), p=0.4):
            super().__init__()
            self.embeds = nn.ModuleList([nn.Embedding(ni, nf) for ni, nf in emb_szs])
            self.emb_drop = nn.Dropout(p)
            self.bn_cont = nn.BatchNorm1d(n_cont)
            layerlist, n_in = [], sum(nf for _, nf in emb_szs) + n_cont
            for i in layers:
                layerlist += [nn.Linear(n_in, i), nn.ReLU(inplace=True), nn.BatchNorm1d(i), nn.Dropout(p)]
                n_in = i
            self.layers = nn.Sequential(*layerlist, nn.Linear(layers[-1], out_sz))

        def forward(self, x_cat, x_cont):
            x = self.emb_drop(lib.cat([e(x_cat[:, i]) for i, e in enumerate(self.embeds)], 1))
            return self.layers(lib.cat([x, self.bn_cont(x_cont)], 1))

    return TabularModel


def train_tabular(lib, reference):
    data = lib.utils.data
    model = build_tabular(lib)()
    copy_weights(reference, model)
    lib.manual_seed(3)
    y = lib.tensor(TARGETS)
    dataset = data.TensorDataset(lib.tensor(CATEGORICAL), lib.tensor(CONTINUOUS), y)
    train, val = data.random_split(dataset, [0.75, 0.25], generator=lib.Generator().manual_seed(42))
    weights = (1.0 / lib.bincount(y.long()).float())[y.long()]
    sampler = data.WeightedRandomSampler(
        weights[train.indices], num_samples=len(train), replacement=True, generator=lib.Generator().manual_seed(7)
    )
    loaders = [
        data.DataLoader(train, batch_size=8, sampler=sampler, drop_last=True),
        data.DataLoader(train, batch_size=7, shuffle=True, generator=lib.Generator().manual_seed(5)),
    ]
    val_loader = data.DataLoader(val, batch_size=4)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-2)
    criterion = lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor([1.5]))
    record = [lib.tensor(train.indices), lib.tensor(list(sampler))]
    for _ in range(2):  # each epoch draws a new order from each loader's generator
        model.train()
        for loader in loaders:
            for x_cat, x_cont, target in loader:
                loss = criterion(model(x_cat, x_cont).squeeze(1), target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                record += [loss, x_cat]
        model.eval()
        with lib.no_grad():
            predictions = lib.cat([model(x_cat, x_cont) for x_cat, x_cont, _ in val_loader])
            record += [predictions, (lib.sigmoid(predictions) > 0.5).float().mean()]
    return model, record


def test_tabular_pipeline_with_seeded_loaders_trains_as_torch():
    trained_on_both(build_tabular, train_tabular)


# -- beam search and sampling with a KV cache -------------------------------------------------------

VOCAB, WIDTH, HEADS = 11, 16, 2


def build_decoder(lib):
    nn, F = lib.nn, lib.nn.functional

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn, self.c_proj = nn.Linear(WIDTH, 3 * WIDTH), nn.Linear(WIDTH, WIDTH)

        def forward(self, x, past=None):
            B, T, C = x.size()
            q, k, v = (t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in self.c_attn(x).split(WIDTH, dim=2))
            if past is not None:
                k, v = lib.cat((past[0], k), dim=-2), lib.cat((past[1], v), dim=-2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=past is None and T > 1)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C)), lib.stack((k, v))

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(VOCAB, WIDTH), nn.Embedding(32, WIDTH)
            self.ln, self.attn, self.ln_f = nn.LayerNorm(WIDTH), Attention(), nn.LayerNorm(WIDTH)
            self.lm_head = nn.Linear(WIDTH, VOCAB, bias=False)
            self.lm_head.weight = self.wte.weight  # tied

        def forward(self, idx, past=None, start=0):
            pos = lib.arange(start, start + idx.size(1), dtype=lib.long, device=idx.device).unsqueeze(0)
            x = self.wte(idx) + self.wpe(pos)
            a, present = self.attn(self.ln(x), past)
            return self.lm_head(self.ln_f(x + a)), present

    return LM


def beam_search(lib, model, prompt, num_beams=3, max_new_tokens=5, eos=0, penalty=1.2):
    F = lib.nn.functional
    batch = prompt.size(0)
    input_ids = prompt.repeat_interleave(num_beams, dim=0)
    beam_scores = lib.zeros((batch, num_beams), dtype=lib.float)
    beam_scores[:, 1:] = -1e9
    beam_scores = beam_scores.view((batch * num_beams,))
    logits, past = model(input_ids)
    done = lib.zeros(batch * num_beams, dtype=lib.bool)
    record = []
    for _ in range(max_new_tokens):
        next_logits = logits[:, -1, :]
        score = lib.gather(next_logits, 1, input_ids)  # HF's RepetitionPenaltyLogitsProcessor
        next_logits = next_logits.scatter(1, input_ids, lib.where(score < 0, score * penalty, score / penalty))
        scores = F.log_softmax(next_logits, dim=-1).masked_fill(done[:, None], -float("inf"))
        scores[done, eos] = 0
        scores = (scores + beam_scores[:, None].expand_as(scores)).view(batch, num_beams * VOCAB)
        scores, tokens = lib.topk(scores, 2 * num_beams, dim=1, largest=True, sorted=True)
        beams = lib.div(tokens, VOCAB, rounding_mode="floor")
        tokens = tokens % VOCAB
        beam_scores = scores[:, :num_beams].reshape(-1)
        beam_idx = (beams[:, :num_beams] + lib.arange(batch)[:, None] * num_beams).view(-1)
        next_tokens = tokens[:, :num_beams].reshape(-1)
        input_ids = lib.cat([input_ids[beam_idx, :], next_tokens.unsqueeze(-1)], dim=-1)
        done = done[beam_idx] | (next_tokens == eos)
        past = past.index_select(1, beam_idx)
        logits, past = model(next_tokens.unsqueeze(-1), (past[0], past[1]), start=input_ids.size(1) - 1)
        record += [beam_scores, input_ids]
    lengths = (input_ids != eos).sum(-1).float()
    best = (beam_scores / lengths).view(batch, num_beams).argmax(-1)
    return record + [input_ids.view(batch, num_beams, -1)[lib.arange(batch), best]]


def sample(lib, model, prompt, generator, steps=6, top_k=5, top_p=0.8, temperature=0.7):
    F = lib.nn.functional
    idx = prompt
    logits, past = model(idx)
    record = []
    for _ in range(steps):
        logits = logits[:, -1, :] / temperature
        v, _ = lib.topk(logits, min(top_k, logits.size(-1)))
        logits[logits < v[:, [-1]]] = -float("Inf")
        sorted_logits, sorted_indices = lib.sort(logits, descending=True)
        cumulative_probs = lib.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
        remove = cumulative_probs > top_p
        remove[..., 1:] = remove[..., :-1].clone()
        remove[..., 0] = 0
        logits = logits.masked_fill(remove.scatter(1, sorted_indices, remove), -float("inf"))
        probs = F.softmax(logits, dim=-1)
        idx_next = lib.multinomial(probs, num_samples=1, generator=generator)
        idx = lib.cat((idx, idx_next), dim=1)
        logits, past = model(idx_next, (past[0], past[1]), start=idx.size(1) - 1)
        record += [probs, idx_next]
    return record


def decode(lib, reference):
    model = build_decoder(lib)()
    copy_weights(reference, model)
    model.eval()
    prompt = lib.tensor([[3, 4, 5], [7, 7, 2]])
    with lib.inference_mode():
        return beam_search(lib, model, prompt) + sample(lib, model, prompt, lib.Generator().manual_seed(123))


def test_beam_search_and_nucleus_sampling_with_a_kv_cache_match_torch():
    torch.manual_seed(0)
    reference = build_decoder(torch)()
    assert_same_run(decode(ember, reference), decode(torch, reference))


# -- Perceiver --------------------------------------------------------------------------------------


def build_perceiver(lib, dim=16, latents=4, heads=2):
    nn, F = lib.nn, lib.nn.functional

    class CrossAttention(nn.Module):
        def __init__(self, context_dim=6):
            super().__init__()
            self.to_q = nn.Linear(dim, dim, bias=False)
            self.to_kv = nn.Linear(context_dim, 2 * dim, bias=False)
            self.to_out = nn.Linear(dim, dim)

        def forward(self, x, context, mask):
            q, (k, v) = self.to_q(x), self.to_kv(context).chunk(2, dim=-1)
            q, k, v = (t.reshape(t.shape[0], t.shape[1], heads, -1).permute(0, 2, 1, 3) for t in (q, k, v))
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
            sim = lib.einsum("bhid,bhjd->bhij", q, k) * (q.shape[-1] ** -0.5)
            sim = sim.masked_fill(~mask[:, None, None, :], -lib.finfo(sim.dtype).max)
            by_hand = lib.einsum("bhij,bhjd->bhid", sim.softmax(dim=-1), v)
            return self.to_out(out.permute(0, 2, 1, 3).flatten(2)), self.to_out(by_hand.permute(0, 2, 1, 3).flatten(2))

    class Perceiver(nn.Module):
        def __init__(self):
            super().__init__()
            self.latents = nn.Parameter(lib.randn(latents, dim))
            self.cross = CrossAttention()
            self.norm, self.context_norm = nn.LayerNorm(dim), nn.LayerNorm(6)
            self.self_attn = nn.MultiheadAttention(dim, heads, batch_first=True)
            self.ff = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
            self.head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 3))

        def forward(self, data, mask):
            x = self.latents.unsqueeze(0).expand(data.shape[0], -1, -1)
            a, by_hand = self.cross(self.norm(x), self.context_norm(data), mask)
            x = x + a
            y, weights = self.self_attn(x, x, x, need_weights=True, average_attn_weights=False)
            x = x + y
            x = x + self.ff(x)
            return self.head(x.mean(dim=-2)), by_hand - a, weights

    return Perceiver


INPUTS = RNG.standard_normal((3, 7, 6)).astype(np.float32)
QUERIES = RNG.standard_normal((3, 4, 16)).astype(np.float32)
MEMORY = RNG.standard_normal((3, 7, 16)).astype(np.float32)


def train_perceiver(lib, reference):
    F = lib.nn.functional
    model = build_perceiver(lib)()
    copy_weights(reference, model)
    # SGD: Adam would blow the rounding noise of the keys' bias gradient (0 in exact arithmetic) up to steps
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    data = lib.tensor(INPUTS)
    mask = lib.arange(7)[None, :] < lib.tensor([7, 4, 2])[:, None]
    record = []
    for _ in range(3):
        logits, difference, weights = model(data, mask)
        loss = F.cross_entropy(logits, lib.tensor([0, 2, 1]), label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, difference, weights]
    mha, q, kv = model.self_attn, lib.tensor(QUERIES), lib.tensor(MEMORY)
    causal = lib.zeros(4, 7).masked_fill(lib.triu(lib.ones(4, 7, dtype=lib.bool), 5), float("-inf"))
    out, weights = mha(q, kv, kv, key_padding_mask=~mask, attn_mask=causal)
    out.sum().backward()
    record += [out, weights, mha.in_proj_weight.grad]
    model.eval()
    with lib.no_grad():
        record.append(mha(q, kv, kv, key_padding_mask=~mask, need_weights=False)[0])
        record += list(mha(q, kv, kv, key_padding_mask=lib.zeros(3, 7).masked_fill(~mask, float("-inf"))))
    return model, record + [p.grad for p in model.parameters()]


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
def test_perceiver_with_padding_masks_trains_as_torch():
    trained_on_both(build_perceiver, train_perceiver)


# -- SimCLR / BYOL ----------------------------------------------------------------------------------


def build_encoder(lib):
    nn = lib.nn

    def encoder():
        backbone = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        return nn.Sequential(backbone, nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 8))

    return encoder


def augment(lib, x, generator):
    i, j = lib.randint(0, 3, (2,), generator=generator).tolist()
    x = lib.nn.functional.interpolate(x[:, :, i : i + 6, j : j + 6], size=(8, 8), mode="bilinear", align_corners=False)
    flip = lib.rand(x.shape[0], generator=generator) < 0.5
    x = lib.where(flip[:, None, None, None], x.flip(-1), x)
    return (x * (1 + 0.4 * (lib.rand(x.shape[0], 1, 1, 1, generator=generator) - 0.5))).clamp(0, 1)


def nt_xent_tutorial(lib, feats, temperature=0.5):
    cos_sim = lib.nn.functional.cosine_similarity(feats[:, None, :], feats[None, :, :], dim=-1)
    self_mask = lib.eye(cos_sim.shape[0], dtype=lib.bool, device=cos_sim.device)
    cos_sim.masked_fill_(self_mask, -9e15)
    pos_mask = self_mask.roll(shifts=cos_sim.shape[0] // 2, dims=0)
    cos_sim = cos_sim / temperature
    nll = (-cos_sim[pos_mask] + lib.logsumexp(cos_sim, dim=-1)).mean()
    ranking = lib.cat([cos_sim[pos_mask][:, None], cos_sim.masked_fill(pos_mask, -9e15)], dim=-1)
    position = ranking.argsort(dim=-1, descending=True).argmin(dim=-1)
    return nll, (position == 0).float().mean(), position.float().mean() + 1


def nt_xent_cross_entropy(lib, z_i, z_j, temperature=0.5):
    n = z_i.shape[0]
    z = lib.nn.functional.normalize(lib.cat((z_i, z_j), dim=0), dim=1)
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))
    return lib.nn.functional.cross_entropy(sim, lib.cat([lib.arange(n, 2 * n), lib.arange(0, n)]))


PICTURES = RNG.uniform(0, 1, (4, 3, 8, 8)).astype(np.float32)


def train_simclr(lib, reference):
    model = build_encoder(lib)()
    copy_weights(reference, model)
    target = copy.deepcopy(model)
    for p in target.parameters():
        p.requires_grad_(False)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)
    generator = lib.Generator().manual_seed(0)
    x, record = lib.tensor(PICTURES), []
    for step in range(3):
        x1, x2 = augment(lib, x, generator), augment(lib, x, generator)
        feats = model(lib.cat([x1, x2]))
        loss, top1, mean_position = nt_xent_tutorial(lib, feats)
        loss2 = nt_xent_cross_entropy(lib, feats[:4], feats[4:])
        optimizer.zero_grad()
        (loss + loss2).backward()
        optimizer.step()
        with lib.no_grad():  # the target network's EMA, three ways
            online, ema = list(model.parameters()), list(target.parameters())
            if step == 0:
                lib._foreach_mul_(ema, 0.9)
                lib._foreach_add_(ema, online, alpha=0.1)
            elif step == 1:
                lib._foreach_lerp_(ema, online, 0.1)
            else:
                for t, m in zip(ema, online):
                    t.mul_(0.9).add_(m.detach(), alpha=1 - 0.9)
            for t, m in zip(target.buffers(), model.buffers()):
                t.copy_(m)
        record += [loss, loss2, top1, mean_position, x1]
    model.eval()
    target.eval()
    with lib.no_grad():
        record.append(target(x))
        record.append(copy.deepcopy(model).to(lib.bfloat16)(x.to(lib.bfloat16)))
        with lib.autocast("cpu", dtype=lib.bfloat16):
            record.append(model(x))
    record += [p.grad for p in model.parameters()] + list(target.state_dict().values())
    with lib.no_grad():  # float16 (a convolution's accumulation order moves an ulp, so compared apart)
        half = copy.deepcopy(model).half()(x.half())
    return model, record + [half]


def test_simclr_with_an_ema_target_and_16_bit_inference_matches_torch():
    torch.manual_seed(0)
    reference = build_encoder(torch)()
    theirs, their_record = train_simclr(torch, reference)
    ours, our_record = train_simclr(ember, reference)
    assert_same_run(our_record[:-1], their_record[:-1], rtol=1e-3, atol=1e-4)
    assert_same_run(our_record[-1:], their_record[-1:], rtol=2e-3, atol=2e-2)
    assert_same_models(ours, theirs)


# -- Fourier Neural Operator ------------------------------------------------------------------------


def build_fno(lib, modes=3, width=6):
    nn, F = lib.nn, lib.nn.functional

    class SpectralConv2d(nn.Module):
        def __init__(self):
            super().__init__()
            scale = 1 / (width * width)
            self.weights1 = nn.Parameter(scale * lib.rand(width, width, modes, modes, dtype=lib.cfloat))
            self.weights2 = nn.Parameter(scale * lib.rand(width, width, modes, modes, dtype=lib.cfloat))

        def forward(self, x):
            x_ft = lib.fft.rfft2(x)
            out_ft = lib.zeros(x.shape[0], width, x.size(-2), x.size(-1) // 2 + 1, dtype=lib.cfloat, device=x.device)
            out_ft[:, :, :modes, :modes] = lib.einsum("bixy,ioxy->boxy", x_ft[:, :, :modes, :modes], self.weights1)
            out_ft[:, :, -modes:, :modes] = lib.einsum("bixy,ioxy->boxy", x_ft[:, :, -modes:, :modes], self.weights2)
            return lib.fft.irfft2(out_ft, s=(x.size(-2), x.size(-1)))

    class FNO2d(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc0 = nn.Linear(3, width)
            self.conv0, self.conv1 = SpectralConv2d(), SpectralConv2d()
            self.w0, self.w1 = nn.Conv2d(width, width, 1), nn.Conv2d(width, width, 1)
            self.fc1, self.fc2 = nn.Linear(width, 16), nn.Linear(16, 1)

        def forward(self, x):
            batch, size_x, size_y = x.shape[0], x.shape[1], x.shape[2]
            gridx = lib.tensor(np.linspace(0, 1, size_x), dtype=lib.float).reshape(1, size_x, 1, 1)
            gridy = lib.tensor(np.linspace(0, 1, size_y), dtype=lib.float).reshape(1, 1, size_y, 1)
            grid = lib.cat((gridx.repeat([batch, 1, size_y, 1]), gridy.repeat([batch, size_x, 1, 1])), dim=-1)
            x = self.fc0(lib.cat((x, grid.to(x.device)), dim=-1)).permute(0, 3, 1, 2)
            x = F.gelu(self.conv0(x) + self.w0(x))
            x = (self.conv1(x) + self.w1(x)).permute(0, 2, 3, 1)
            return self.fc2(F.gelu(self.fc1(x)))

    return FNO2d


FIELDS = RNG.standard_normal((3, 8, 8, 1)).astype(np.float32)
SOLUTIONS = np.cumsum(FIELDS, axis=1).astype(np.float32)


def relative_l2(lib, x, y):
    n = x.size(0)
    return lib.mean(lib.norm(x.reshape(n, -1) - y.reshape(n, -1), 2, 1) / lib.norm(y.reshape(n, -1), 2, 1))


def train_fno(lib, reference, autocast=False):
    model = build_fno(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    a, u, record = lib.tensor(FIELDS), lib.tensor(SOLUTIONS), []
    for _ in range(4):
        # under bfloat16 autocast the spectral layers get bfloat16 activations, which the FFTs take in float32
        with lib.autocast("cpu", dtype=lib.bfloat16, enabled=autocast):
            out = model(a)
            loss = relative_l2(lib, out.float(), u)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        record += [loss, out]
    state = optimizer.state_dict()["state"][1]  # conv0.weights1: complex moments
    return model, record + [p.grad for p in model.parameters()] + [state["exp_avg"], state["exp_avg_sq"]]


def test_fourier_neural_operator_with_complex_weights_trains_as_torch():
    reference = trained_on_both(build_fno, train_fno)
    ember.manual_seed(0)  # complex rand draws torch's numbers
    assert_same_models(build_fno(ember)(), reference)


def test_fourier_neural_operator_trains_under_bfloat16_autocast_as_torch():
    torch.manual_seed(0)
    reference = build_fno(torch)()
    theirs, their_record = train_fno(torch, reference, autocast=True)
    ours, our_record = train_fno(ember, reference, autocast=True)
    assert_same_run(our_record, their_record, rtol=2e-2, atol=2e-2)
    # Adam's steps turn bfloat16 rounding of gradients near 0 into differences of up to about lr
    assert_same_models(ours, theirs, rtol=2e-2, atol=1e-2)


# -- VQ-VAE -----------------------------------------------------------------------------------------

CODES, CODE_DIM = 6, 4


def build_vqvae(lib):
    nn, F = lib.nn, lib.nn.functional

    class VectorQuantizerEMA(nn.Module):
        def __init__(self, commitment_cost=0.25, decay=0.9, epsilon=1e-5):
            super().__init__()
            self._embedding = nn.Embedding(CODES, CODE_DIM)
            self._embedding.weight.data.normal_()
            self.register_buffer("_ema_cluster_size", lib.zeros(CODES))
            self._ema_w = nn.Parameter(lib.Tensor(CODES, CODE_DIM))
            self._ema_w.data.normal_()
            self._commitment_cost, self._decay, self._epsilon = commitment_cost, decay, epsilon

        def forward(self, inputs):
            inputs = inputs.permute(0, 2, 3, 1).contiguous()
            flat_input = inputs.view(-1, CODE_DIM)
            weight = self._embedding.weight
            distances = (
                lib.sum(flat_input**2, dim=1, keepdim=True)
                + lib.sum(weight**2, dim=1)
                - 2 * lib.matmul(flat_input, weight.t())
            )
            encoding_indices = lib.argmin(distances, dim=1).unsqueeze(1)
            encodings = lib.zeros(encoding_indices.shape[0], CODES, device=inputs.device)
            encodings.scatter_(1, encoding_indices, 1)
            quantized = lib.matmul(encodings, weight).view(inputs.shape)
            if self.training:
                self._ema_cluster_size = self._ema_cluster_size * self._decay + (1 - self._decay) * lib.sum(
                    encodings, 0
                )
                n = lib.sum(self._ema_cluster_size.data)
                self._ema_cluster_size = (self._ema_cluster_size + self._epsilon) / (n + CODES * self._epsilon) * n
                dw = lib.matmul(encodings.t(), flat_input)
                self._ema_w = nn.Parameter(self._ema_w * self._decay + (1 - self._decay) * dw)
                self._embedding.weight = nn.Parameter(self._ema_w / self._ema_cluster_size.unsqueeze(1))
            loss = self._commitment_cost * F.mse_loss(quantized.detach(), inputs)
            quantized = inputs + (quantized - inputs).detach()
            avg_probs = lib.mean(encodings, dim=0)
            perplexity = lib.exp(-lib.sum(avg_probs * lib.log(avg_probs + 1e-10)))
            return loss, quantized.permute(0, 3, 1, 2).contiguous(), perplexity, encodings

    class VectorQuantizer(nn.Module):
        def __init__(self, beta=0.25):
            super().__init__()
            self.embedding = nn.Embedding(CODES, CODE_DIM)
            self.embedding.weight.data.uniform_(-1.0 / CODES, 1.0 / CODES)
            self.beta = beta

        def forward(self, z):
            z = z.permute(0, 2, 3, 1)
            idx = (lib.cdist(z.reshape(-1, CODE_DIM), self.embedding.weight) ** 2).argmin(-1)
            z_q = self.embedding(idx).view(z.shape)
            loss = lib.mean((z_q.detach() - z) ** 2) * self.beta + lib.mean((z_q - z.detach()) ** 2)
            z_q = z + (z_q - z).detach()
            usage = lib.bincount(idx, minlength=CODES).float() / idx.numel()
            return loss, z_q.permute(0, 3, 1, 2), usage, F.one_hot(idx, CODES).float().sum(0)

    class VQVAE(nn.Module):
        def __init__(self, ema):
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1), nn.ReLU(), nn.Conv2d(8, CODE_DIM, 1))
            self.vq = VectorQuantizerEMA() if ema else VectorQuantizer()
            self.dec = nn.Sequential(nn.ConvTranspose2d(CODE_DIM, 8, 4, 2, 1), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1))

        def forward(self, x):
            loss, quantized, perplexity, encodings = self.vq(self.enc(x))
            return loss, self.dec(quantized), perplexity, encodings

    return VQVAE


DIGITS = RNG.uniform(0, 1, (3, 1, 8, 8)).astype(np.float32)


def train_vqvae(lib, reference):
    model = build_vqvae(lib)(isinstance(reference.vq, torch.nn.Module) and hasattr(reference.vq, "_ema_w"))
    copy_weights(reference, model)
    x, record = lib.tensor(DIGITS), []
    for _ in range(3):
        # the EMA quantiser replaces its Parameters each step, so the optimizer is made anew
        optimizer = lib.optim.Adam(model.parameters(), lr=1e-2, amsgrad=True)
        vq_loss, reconstruction, perplexity, encodings = model(x)
        loss = lib.nn.functional.mse_loss(reconstruction, x) / 0.1 + vq_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, perplexity, encodings]
    return model, record + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("ema", [True, False])
def test_vq_vae_trains_as_torch(ema):
    reference = trained_on_both(build_vqvae, train_vqvae, ema)
    ember.manual_seed(0)
    assert_same_models(build_vqvae(ember)(ema), reference)


# -- NeRF ------------------------------------------------------------------------------------------


def build_nerf(lib, W=32, freqs=4):
    nn, F = lib.nn, lib.nn.functional

    class Embedder:
        def __init__(self, multires):
            self.freq_bands = 2.0 ** lib.linspace(0.0, multires - 1, steps=multires)

        def __call__(self, x):
            out = [x]
            for f in self.freq_bands:
                for fn in (lib.sin, lib.cos):
                    out.append(fn(x * f))
            return lib.cat(out, -1)

    class NeRF(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = Embedder(freqs)
            d = 3 + 3 * 2 * freqs
            self.pts_linears = nn.ModuleList([nn.Linear(d, W), nn.Linear(W, W), nn.Linear(W + d, W)])
            self.alpha_linear = nn.Linear(W, 1)
            self.rgb_linear = nn.Linear(W, 3)

        def forward(self, pts):
            x0 = self.embed(pts)
            h = x0
            for i, l in enumerate(self.pts_linears):
                h = F.relu(l(h))
                if i == 1:
                    h = lib.cat([x0, h], -1)
            return lib.cat([self.rgb_linear(h), self.alpha_linear(h)], -1)

    return NeRF


def raw2outputs(lib, raw, z_vals, rays_d, raw_noise_std, white_bkgd=True):
    F = lib.nn.functional

    def raw2alpha(raw, dists, act_fn=F.relu):
        return 1.0 - lib.exp(-act_fn(raw) * dists)

    dists = z_vals[..., 1:] - z_vals[..., :-1]
    dists = lib.cat([dists, lib.Tensor([1e10]).expand(dists[..., :1].shape)], -1)
    dists = dists * lib.norm(rays_d[..., None, :], dim=-1)
    rgb = lib.sigmoid(raw[..., :3])
    noise = lib.randn(raw[..., 3].shape) * raw_noise_std if raw_noise_std > 0 else 0.0
    alpha = raw2alpha(raw[..., 3] + noise, dists)
    weights = alpha * lib.cumprod(lib.cat([lib.ones((alpha.shape[0], 1)), 1.0 - alpha + 1e-10], -1), -1)[:, :-1]
    rgb_map = lib.sum(weights[..., None] * rgb, -2)
    depth_map = lib.sum(weights * z_vals, -1)
    disp_map = 1.0 / lib.max(1e-10 * lib.ones_like(depth_map), depth_map / lib.sum(weights, -1))
    acc_map = lib.sum(weights, -1)
    if white_bkgd:
        rgb_map = rgb_map + (1.0 - acc_map[..., None])
    return rgb_map, disp_map, acc_map, weights, depth_map


def sample_pdf(lib, bins, weights, N_samples):
    weights = weights + 1e-5
    pdf = weights / lib.sum(weights, -1, keepdim=True)
    cdf = lib.cumsum(pdf, -1)
    cdf = lib.cat([lib.zeros_like(cdf[..., :1]), cdf], -1)
    # stratified draws (the deterministic linspace ones end on 1.0, where the CDF's last rounding decides)
    u = lib.rand(list(cdf.shape[:-1]) + [N_samples]).contiguous()
    inds = lib.searchsorted(cdf, u, right=True)
    below = lib.max(lib.zeros_like(inds - 1), inds - 1)
    above = lib.min((cdf.shape[-1] - 1) * lib.ones_like(inds), inds)
    inds_g = lib.stack([below, above], -1)
    matched_shape = [inds_g.shape[0], inds_g.shape[1], cdf.shape[-1]]
    cdf_g = lib.gather(cdf.unsqueeze(1).expand(matched_shape), 2, inds_g)
    bins_g = lib.gather(bins.unsqueeze(1).expand(matched_shape), 2, inds_g)
    denom = cdf_g[..., 1] - cdf_g[..., 0]
    denom = lib.where(denom < 1e-5, lib.ones_like(denom), denom)
    t = (u - cdf_g[..., 0]) / denom
    return bins_g[..., 0] + t * (bins_g[..., 1] - bins_g[..., 0])


RAYS_O = RNG.standard_normal((6, 3)).astype(np.float32) * 0.1
RAYS_D = RNG.standard_normal((6, 3)).astype(np.float32)
RAY_COLOURS = RNG.uniform(0, 1, (6, 3)).astype(np.float32)


def img2mse(lib, x, y):
    return lib.mean((x - y) ** 2)


def train_nerf(lib, ref_coarse, ref_fine):
    coarse, fine = build_nerf(lib)(), build_nerf(lib)()
    copy_weights(ref_coarse, coarse)
    copy_weights(ref_fine, fine)
    opt = lib.optim.Adam(list(coarse.parameters()) + list(fine.parameters()), lr=5e-3, betas=(0.9, 0.999))
    lib.manual_seed(0)
    rays_o, rays_d, target = lib.tensor(RAYS_O), lib.tensor(RAYS_D), lib.tensor(RAY_COLOURS)
    viewdirs = rays_d / lib.norm(rays_d, dim=-1, keepdim=True)
    near, far, N = 2.0, 6.0, 8
    rec = []
    for step in range(3):
        t_vals = lib.linspace(0.0, 1.0, steps=N)
        z_vals = near * (1.0 - t_vals) + far * t_vals
        z_vals = z_vals.expand([rays_o.shape[0], N])
        mids = 0.5 * (z_vals[..., 1:] + z_vals[..., :-1])
        upper = lib.cat([mids, z_vals[..., -1:]], -1)
        lower = lib.cat([z_vals[..., :1], mids], -1)
        z_vals = lower + (upper - lower) * lib.rand(z_vals.shape)
        pts = rays_o[..., None, :] + rays_d[..., None, :] * z_vals[..., :, None]
        rgb0, disp0, acc0, weights, depth0 = raw2outputs(lib, coarse(pts), z_vals, rays_d, 1.0)
        z_samples = sample_pdf(lib, 0.5 * (z_vals[..., 1:] + z_vals[..., :-1]), weights[..., 1:-1], 8).detach()
        z_all, _ = lib.sort(lib.cat([z_vals, z_samples], -1), -1)
        pts = rays_o[..., None, :] + rays_d[..., None, :] * z_all[..., :, None]
        rgb, disp, acc, _, depth = raw2outputs(lib, fine(pts), z_all, rays_d, 0.0)
        loss = img2mse(lib, rgb, target) + img2mse(lib, rgb0, target)
        psnr = -10.0 * lib.log(img2mse(lib, rgb, target)) / lib.log(lib.Tensor([10.0]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        for g in opt.param_groups:
            g["lr"] = 5e-3 * (0.1 ** (step / 10))
        rec += [loss, psnr, z_samples, disp, acc, depth, viewdirs]
    return (coarse, fine), rec + [p.grad for p in coarse.parameters()] + [p.grad for p in fine.parameters()]


def test_nerf_with_hierarchical_sampling_trains_as_torch():
    torch.manual_seed(0)
    coarse, fine = build_nerf(torch)(), build_nerf(torch)()
    (their_coarse, their_fine), their_record = train_nerf(torch, coarse, fine)
    (our_coarse, our_fine), our_record = train_nerf(ember, coarse, fine)
    assert_same_run(our_record, their_record, rtol=1e-3, atol=1e-4)
    assert_same_models(our_coarse, their_coarse, 1e-3, 1e-4)
    assert_same_models(our_fine, their_fine, 1e-3, 1e-4)
