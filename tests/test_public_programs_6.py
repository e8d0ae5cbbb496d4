"""Public programs, round 6: condensed versions of programs people run today, each run on ember and on
torch from the same weights (copied with ``state_dict``) and the same seeds, comparing losses,
outputs, gradients and the trained weights.

- Swin Transformer (microsoft/Swin-Transformer): window partition/reverse by ``view``/``permute``,
  shifted windows by ``roll``, the attention mask built by slice assignment into ``img_mask``, the
  relative position bias gathered from its table by a long index buffer, timm's ``DropPath``
  (``new_empty(...).bernoulli_``), patch merging by strided slicing.
- T5's relative position buckets (``log``, ``.to(long)``, ``min`` with ``full_like``, ``where``) and
  RMS norm, BLOOM's ALiBi biases (``pow`` of a float tensor by int32 powers, ``cumsum`` of the mask,
  ``baddbmm``), the extended mask by ``finfo.min``, trained by ``Adafactor``.
- A seq2seq GRU with Bahdanau attention (bentrevett's tutorial): ``pack_padded_sequence``
  (``enforce_sorted=False``) / ``pad_packed_sequence(total_length=)``, teacher forcing by a seeded
  ``rand``, ``masked_fill`` of padding, ``clip_grad_norm_``; float32 and float64.
- A BiLSTM-CRF tagger: the forward algorithm by ``logsumexp``, gold path scores by ``gather`` and
  advanced indexing of the transitions, Viterbi decoding by ``max`` over a dimension and backpointers.
- PixelCNN masked convolutions (the mask buffer multiplied into ``weight.data``) with pixel-by-pixel
  sampling by ``multinomial``; a WaveNet stack of dilated causal ``Conv1d`` with gated activations.
- A graph attention layer on an edge list: ``scatter_reduce("amax")`` and ``index_add_`` for the
  neighbourhood softmax, ``index_select`` by source and destination, dropout on the coefficients.
- Sparsemax and entmax-1.5 (``sort``, ``cumsum``, ``gather`` of the threshold) in an attention
  pooling trained by ``Adagrad(lr_decay=)`` in float64.
- Triplet loss with batch-hard mining (``cdist``, masks, ``max``/``min`` over masked distances), with
  ``triplet_margin_loss(swap=True)`` and ``TripletMarginWithDistanceLoss``.
- A neural ODE (rtqichen's ``ode_demo``) with a fixed-step RK4 solver in float64.
- SWA and EMA with ``optim.swa_utils``: ``AveragedModel`` (``multi_avg_fn``, ``use_buffers``),
  ``SWALR`` after a cosine schedule, ``update_bn`` over a seeded ``DataLoader``.
- A hinge-loss GAN: ``spectral_norm`` discriminator and ``weight_norm`` generator, both the
  parametrizations and the classic hooks.
- ``nn.utils.prune``: ``l1_unstructured``, ``random_unstructured``, ``ln_structured``,
  ``global_unstructured``, fine-tuning through the masks, ``remove``.
- BERT masked language modelling (HF's ``DataCollatorForLanguageModeling``): ``bernoulli`` and
  ``randint`` with a seeded ``Generator``, ``-100`` labels, tied decoder weights, no-decay groups.
- word2vec skip-gram with negative sampling: ``multinomial`` on unigram^0.75 with a generator,
  ``Embedding(sparse=True)`` trained by ``SparseAdam``.
- A capsule network's dynamic routing: ``squash``, softmax over routes, ``matmul``/``einsum``
  predictions, the margin loss and a masked reconstruction.
- StyleGAN2 (rosinality's stylegan2-pytorch): equalized-lr mapping, modulated/demodulated
  convolutions as one grouped ``conv2d`` and an upsampling grouped ``conv_transpose2d``, noise
  injection, minibatch standard deviation, the R1 penalty and path-length regularisation through
  ``autograd.grad(create_graph=True)``, the truncation trick.
- A Conformer block (sooftware's conformer): Transformer-XL relative attention with its ``rel_shift``
  (a padded column viewed away), the flipped sinusoidal table, the convolution module (``glu``,
  depthwise ``Conv1d``, ``BatchNorm1d``, ``silu``), a Noam ``LambdaLR``, trained by ``CTCLoss``.
- RWKV-4 (BlinkDL's RWKV-LM): token shift by ``ZeroPad2d((0, 0, 1, -1))``, time-mix parameters built
  element by element, the stable WKV recurrence (``maximum``, ``exp``), squared-ReLU channel mixing,
  decay/no-decay groups; float32 and float64.
- DETR's set criterion (facebookresearch/detr): generalized box IoU, the Hungarian matcher (SciPy's
  ``linear_sum_assignment`` on the ``cdist`` + class + GIoU cost split per image), the matched
  targets written by a tuple index, class weights with an ``eos_coef``, a pre-norm decoder.
- Robust training: PGD adversaries (``autograd.grad``, ``sign``, ``.data`` writes with ``clamp``),
  mixup and cutmix (``randperm``, slice assignment), label smoothing, torchvision's sigmoid focal
  loss, distillation by ``kl_div(log_target=True)`` from a frozen teacher.
- pygcn (tkipf/pygcn): the row-normalised adjacency built with SciPy and handed over by the legacy
  ``torch.sparse.FloatTensor(indices, values, shape)``, ``adj.float()``, graph convolutions by
  ``spmm``, ``FloatTensor``/``LongTensor`` data, ``type_as`` accuracy, train/eval with dropout.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch, trained_on_both

import ember

RNG = np.random.default_rng(0)


# -- Swin Transformer --------------------------------------------------------------------------------


def window_partition(x, window_size):
    B, H, W, C = x.shape
    x = x.view(B, H // window_size, window_size, W // window_size, window_size, C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, window_size, window_size, C)


def window_reverse(windows, window_size, H, W):
    B = int(windows.shape[0] / (H * W / window_size / window_size))
    x = windows.view(B, H // window_size, W // window_size, window_size, window_size, -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(B, H, W, -1)


def build_swin(lib, dim=8, resolution=8, window=4, heads=2, drop_path=0.2):
    nn = lib.nn

    def drop_path_fn(x, drop_prob, training):
        if drop_prob == 0.0 or not training:
            return x
        keep_prob = 1 - drop_prob
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
        random_tensor.div_(keep_prob)
        return x * random_tensor

    class DropPath(nn.Module):
        def __init__(self, drop_prob):
            super().__init__()
            self.drop_prob = drop_prob

        def forward(self, x):
            return drop_path_fn(x, self.drop_prob, self.training)

    class WindowAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.window_size, self.num_heads = (window, window), heads
            self.scale = (dim // heads) ** -0.5
            self.relative_position_bias_table = nn.Parameter(lib.zeros((2 * window - 1) * (2 * window - 1), heads))
            coords = lib.stack(lib.meshgrid([lib.arange(window), lib.arange(window)], indexing="ij"))
            coords_flatten = lib.flatten(coords, 1)
            relative_coords = coords_flatten[:, :, None] - coords_flatten[:, None, :]
            relative_coords = relative_coords.permute(1, 2, 0).contiguous()
            relative_coords[:, :, 0] += window - 1
            relative_coords[:, :, 1] += window - 1
            relative_coords[:, :, 0] *= 2 * window - 1
            self.register_buffer("relative_position_index", relative_coords.sum(-1))
            self.qkv, self.proj = nn.Linear(dim, dim * 3), nn.Linear(dim, dim)
            nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
            self.softmax = nn.Softmax(dim=-1)

        def forward(self, x, mask=None):
            B_, N, C = x.shape
            qkv = self.qkv(x).reshape(B_, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            attn = (q * self.scale) @ k.transpose(-2, -1)
            bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(N, N, -1)
            attn = attn + bias.permute(2, 0, 1).contiguous().unsqueeze(0)
            if mask is not None:
                nW = mask.shape[0]
                attn = attn.view(B_ // nW, nW, self.num_heads, N, N) + mask.unsqueeze(1).unsqueeze(0)
                attn = attn.view(-1, self.num_heads, N, N)
            attn = self.softmax(attn)
            return self.proj((attn @ v).transpose(1, 2).reshape(B_, N, C))

    class SwinBlock(nn.Module):
        def __init__(self, shift_size):
            super().__init__()
            self.shift_size = shift_size
            self.norm1, self.attn = nn.LayerNorm(dim), WindowAttention()
            self.drop_path = DropPath(drop_path)
            self.norm2 = nn.LayerNorm(dim)
            self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
            if shift_size > 0:
                img_mask = lib.zeros((1, resolution, resolution, 1))
                slices = (slice(0, -window), slice(-window, -shift_size), slice(-shift_size, None))
                cnt = 0
                for h in slices:
                    for w in slices:
                        img_mask[:, h, w, :] = cnt
                        cnt += 1
                mask_windows = window_partition(img_mask, window).view(-1, window * window)
                attn_mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2)
                attn_mask = attn_mask.masked_fill(attn_mask != 0, (-100.0)).masked_fill(attn_mask == 0, 0.0)
            else:
                attn_mask = None
            self.register_buffer("attn_mask", attn_mask)

        def forward(self, x):
            B, L, C = x.shape
            shortcut = x
            x = self.norm1(x).view(B, resolution, resolution, C)
            if self.shift_size > 0:
                x = lib.roll(x, shifts=(-self.shift_size, -self.shift_size), dims=(1, 2))
            x_windows = window_partition(x, window).view(-1, window * window, C)
            attn_windows = self.attn(x_windows, mask=self.attn_mask).view(-1, window, window, C)
            x = window_reverse(attn_windows, window, resolution, resolution)
            if self.shift_size > 0:
                x = lib.roll(x, shifts=(self.shift_size, self.shift_size), dims=(1, 2))
            x = shortcut + self.drop_path(x.view(B, resolution * resolution, C))
            return x + self.drop_path(self.mlp(self.norm2(x)))

    class PatchMerging(nn.Module):
        def __init__(self):
            super().__init__()
            self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
            self.norm = nn.LayerNorm(4 * dim)

        def forward(self, x):
            B, L, C = x.shape
            x = x.view(B, resolution, resolution, C)
            x0, x1 = x[:, 0::2, 0::2, :], x[:, 1::2, 0::2, :]
            x2, x3 = x[:, 0::2, 1::2, :], x[:, 1::2, 1::2, :]
            return self.reduction(self.norm(lib.cat([x0, x1, x2, x3], -1).view(B, -1, 4 * C)))

    class Swin(nn.Module):
        def __init__(self, classes=3):
            super().__init__()
            self.patch_embed = nn.Conv2d(3, dim, kernel_size=2, stride=2)
            self.blocks = nn.Sequential(SwinBlock(0), SwinBlock(window // 2))
            self.merge = PatchMerging()
            self.head = nn.Linear(2 * dim, classes)

        def forward(self, x):
            x = self.patch_embed(x).flatten(2).transpose(1, 2)
            x = self.merge(self.blocks(x))
            return self.head(x.transpose(1, 2).mean(-1))

    return Swin


SWIN_IMAGES = RNG.standard_normal((2, 3, 16, 16)).astype(np.float32)


def train_swin(lib, reference):
    model = build_swin(lib)()
    copy_weights(reference, model)
    # SGD: the key bias's gradient is zero up to rounding, which Adam would scale up to full steps
    optimizer = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)
    lib.manual_seed(3)
    x, y, record = lib.tensor(SWIN_IMAGES), lib.tensor([0, 2]), []
    for _ in range(3):
        loss = lib.nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record.append(loss)
    record += [p.grad for p in model.parameters()] + [model.blocks[1].attn_mask]
    model.eval()
    with lib.no_grad():
        record.append(model(x))
    return model, record


def test_swin_with_shifted_windows_trains_as_torch():
    reference = trained_on_both(build_swin, train_swin)
    ember.manual_seed(0)  # trunc_normal_ of the bias tables
    assert_same_models(build_swin(ember)(), reference)


# -- T5 relative position buckets and ALiBi --------------------------------------------------------


def relative_position_bucket(lib, relative_position, bidirectional=True, num_buckets=32, max_distance=128):
    relative_buckets = 0
    if bidirectional:
        num_buckets //= 2
        relative_buckets += (relative_position > 0).to(lib.long) * num_buckets
        relative_position = lib.abs(relative_position)
    else:
        relative_position = -lib.min(relative_position, lib.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    relative_position_if_large = max_exact + (
        lib.log(relative_position.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(lib.long)
    relative_position_if_large = lib.min(
        relative_position_if_large, lib.full_like(relative_position_if_large, num_buckets - 1)
    )
    relative_buckets += lib.where(is_small, relative_position, relative_position_if_large)
    return relative_buckets


def alibi_tensor(lib, attention_mask, num_heads, dtype):
    batch_size, seq_length = attention_mask.shape
    closest_power_of_2 = 2 ** math.floor(math.log2(num_heads))
    base = lib.tensor(2 ** (-(2 ** -(math.log2(closest_power_of_2) - 3))), dtype=lib.float32)
    powers = lib.arange(1, 1 + closest_power_of_2, dtype=lib.int32)
    slopes = lib.pow(base, powers)
    if closest_power_of_2 != num_heads:
        extra_base = lib.tensor(2 ** (-(2 ** -(math.log2(2 * closest_power_of_2) - 3))), dtype=lib.float32)
        num_remaining_heads = min(closest_power_of_2, num_heads - closest_power_of_2)
        extra_powers = lib.arange(1, 1 + 2 * num_remaining_heads, 2, dtype=lib.int32)
        slopes = lib.cat([slopes, lib.pow(extra_base, extra_powers)], dim=0)
    arange_tensor = ((attention_mask.cumsum(dim=-1) - 1) * attention_mask)[:, None, :]
    alibi = slopes[..., None] * arange_tensor
    return alibi.reshape(batch_size * num_heads, 1, seq_length).to(dtype)


def build_t5_alibi(lib, d_model=12, heads=3, vocab=20):
    nn, F = lib.nn, lib.nn.functional

    class T5LayerNorm(nn.Module):
        def __init__(self, eps=1e-6):
            super().__init__()
            self.weight, self.variance_epsilon = nn.Parameter(lib.ones(d_model)), eps

        def forward(self, hidden_states):
            variance = hidden_states.to(lib.float32).pow(2).mean(-1, keepdim=True)
            hidden_states = hidden_states * lib.rsqrt(variance + self.variance_epsilon)
            if self.weight.dtype in [lib.float16, lib.bfloat16]:
                hidden_states = hidden_states.to(self.weight.dtype)
            return self.weight * hidden_states

    class T5Attention(nn.Module):
        def __init__(self, is_decoder):
            super().__init__()
            self.is_decoder = is_decoder
            self.q, self.k = nn.Linear(d_model, d_model, bias=False), nn.Linear(d_model, d_model, bias=False)
            self.v, self.o = nn.Linear(d_model, d_model, bias=False), nn.Linear(d_model, d_model, bias=False)
            self.relative_attention_bias = nn.Embedding(32, heads)

        def compute_bias(self, query_length, key_length):
            context_position = lib.arange(query_length, dtype=lib.long)[:, None]
            memory_position = lib.arange(key_length, dtype=lib.long)[None, :]
            buckets = relative_position_bucket(lib, memory_position - context_position, not self.is_decoder, 32, 64)
            return self.relative_attention_bias(buckets).permute([2, 0, 1]).unsqueeze(0)

        def forward(self, hidden_states, mask):
            B, L, _ = hidden_states.shape

            def shape(states):
                return states.view(B, -1, heads, d_model // heads).transpose(1, 2)

            q, k, v = shape(self.q(hidden_states)), shape(self.k(hidden_states)), shape(self.v(hidden_states))
            scores = lib.matmul(q, k.transpose(3, 2))
            position_bias = self.compute_bias(L, L) + mask
            scores += position_bias
            attn_weights = F.softmax(scores.float(), dim=-1).type_as(scores)
            return self.o(lib.matmul(attn_weights, v).transpose(1, 2).contiguous().view(B, -1, d_model)), scores

    class AlibiAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.query_key_value = nn.Linear(d_model, 3 * d_model)
            self.dense = nn.Linear(d_model, d_model)

        def forward(self, hidden_states, attention_mask):
            B, L, _ = hidden_states.shape
            head_dim = d_model // heads
            fused = self.query_key_value(hidden_states).view(B, L, heads, 3, head_dim)
            q, k, v = fused[..., 0, :], fused[..., 1, :], fused[..., 2, :]
            q = q.transpose(1, 2).reshape(B * heads, L, head_dim)
            k = k.permute(0, 2, 3, 1).reshape(B * heads, head_dim, L)
            v = v.transpose(1, 2).reshape(B * heads, L, head_dim)
            alibi = alibi_tensor(lib, attention_mask, heads, hidden_states.dtype)
            scores = alibi.baddbmm(batch1=q, batch2=k, beta=1.0, alpha=1 / math.sqrt(head_dim))
            causal = lib.ones(L, L, dtype=lib.bool).triu(diagonal=1)
            padding = ~attention_mask.bool()[:, None, None, :]
            masked = causal[None, None] | padding
            scores = scores.view(B, heads, L, L).masked_fill(masked, lib.finfo(scores.dtype).min)
            probs = F.softmax(scores, dim=-1, dtype=lib.float32).to(hidden_states.dtype)
            context = lib.bmm(probs.view(B * heads, L, L), v).view(B, heads, L, head_dim)
            return self.dense(context.permute(0, 2, 1, 3).reshape(B, L, d_model))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, d_model)
            self.norm1, self.encoder_attn = T5LayerNorm(), T5Attention(False)
            self.norm2, self.decoder_attn = T5LayerNorm(), T5Attention(True)
            self.alibi_attn = AlibiAttention()
            self.lm_head = nn.Linear(d_model, vocab, bias=False)

        def forward(self, ids, attention_mask):
            x = self.embed(ids)
            extended = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * lib.finfo(x.dtype).min
            out, scores = self.encoder_attn(self.norm1(x), extended)
            x = x + out
            x = x + self.decoder_attn(self.norm2(x), extended)[0]
            x = x + self.alibi_attn(x, attention_mask)
            return self.lm_head(x * d_model**-0.5), scores

    return Model


T5_IDS = RNG.integers(1, 20, (2, 24))


def train_t5_alibi(lib, reference, dtype):
    model = build_t5_alibi(lib)().to(dtype)
    copy_weights(reference, model)
    optimizer = lib.optim.Adafactor(model.parameters(), lr=1e-2)
    ids = lib.tensor(T5_IDS)
    attention_mask = lib.ones(2, 24, dtype=lib.long)
    attention_mask[1, 17:] = 0
    labels = ids.masked_fill(attention_mask == 0, -100)
    record = [relative_position_bucket(lib, lib.arange(-200, 200)[None, :], True, 32, 128)]
    record.append(relative_position_bucket(lib, lib.arange(-200, 200)[:, None] - 3, False, 32, 128))
    record.append(alibi_tensor(lib, attention_mask, 6, lib.bfloat16))
    for _ in range(3):
        logits, scores = model(ids, attention_mask)
        loss = lib.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, scores]
    return model, record + [p.grad for p in model.parameters()]


def test_t5_relative_buckets_and_alibi_train_as_torch():
    build = lambda lib: lambda: build_t5_alibi(lib)()  # noqa: E731
    trained_on_both(build, lambda lib, ref: train_t5_alibi(lib, ref, lib.float32))


# -- seq2seq GRU with Bahdanau attention over packed sequences -------------------------------------


def build_seq2seq(lib, vocab=15, emb=6, hidden=8):
    nn, F = lib.nn, lib.nn.functional
    pack, unpack = nn.utils.rnn.pack_padded_sequence, nn.utils.rnn.pad_packed_sequence

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
            self.rnn = nn.GRU(emb, hidden, bidirectional=True, batch_first=True)
            self.fc = nn.Linear(hidden * 2, hidden)

        def forward(self, src, src_len):
            packed = pack(self.embedding(src), src_len.to("cpu"), batch_first=True, enforce_sorted=False)
            packed_outputs, hidden_state = self.rnn(packed)
            outputs, lengths = unpack(packed_outputs, batch_first=True, total_length=src.shape[1])
            hidden_state = lib.tanh(self.fc(lib.cat((hidden_state[-2, :, :], hidden_state[-1, :, :]), dim=1)))
            return outputs, hidden_state, lengths

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.Linear(hidden * 3, hidden)
            self.v = nn.Linear(hidden, 1, bias=False)

        def forward(self, hidden_state, encoder_outputs, mask):
            src_len = encoder_outputs.shape[1]
            hidden_state = hidden_state.unsqueeze(1).repeat(1, src_len, 1)
            energy = lib.tanh(self.attn(lib.cat((hidden_state, encoder_outputs), dim=2)))
            attention = self.v(energy).squeeze(2).masked_fill(mask == 0, -1e10)
            return F.softmax(attention, dim=1)

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = Attention()
            self.embedding = nn.Embedding(vocab, emb)
            self.rnn = nn.GRU(hidden * 2 + emb, hidden)
            self.fc_out = nn.Linear(hidden * 3 + emb, vocab)

        def forward(self, token, hidden_state, encoder_outputs, mask):
            embedded = self.embedding(token.unsqueeze(0))
            a = self.attention(hidden_state, encoder_outputs, mask).unsqueeze(1)
            weighted = lib.bmm(a, encoder_outputs).permute(1, 0, 2)
            output, hidden_state = self.rnn(lib.cat((embedded, weighted), dim=2), hidden_state.unsqueeze(0))
            prediction = self.fc_out(lib.cat((output.squeeze(0), weighted.squeeze(0), embedded.squeeze(0)), dim=1))
            return prediction, hidden_state.squeeze(0), a.squeeze(1)

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = Encoder(), Decoder()

        def forward(self, src, src_len, trg, teacher_forcing_ratio=0.5):
            batch_size, trg_len = trg.shape
            outputs = lib.zeros(trg_len, batch_size, vocab, dtype=self.decoder.fc_out.weight.dtype)
            encoder_outputs, hidden_state, lengths = self.encoder(src, src_len)
            mask = src != 0
            token, attentions = trg[:, 0], []
            for t in range(1, trg_len):
                output, hidden_state, attention = self.decoder(token, hidden_state, encoder_outputs, mask)
                outputs[t] = output
                attentions.append(attention)
                teacher_force = lib.rand(1).item() < teacher_forcing_ratio
                token = trg[:, t] if teacher_force else output.argmax(1)
            return outputs, lib.stack(attentions, 1), lengths

    return Seq2Seq


SRC_LENGTHS = [5, 7, 3, 6]
SRC = np.zeros((4, 7), dtype=np.int64)
for row, length in enumerate(SRC_LENGTHS):
    SRC[row, :length] = RNG.integers(3, 15, length)
TRG = RNG.integers(3, 15, (4, 6))
TRG[:, 0] = 1


def train_seq2seq(lib, reference, dtype):
    model = build_seq2seq(lib)().to(dtype)
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-2)
    criterion = lib.nn.CrossEntropyLoss(ignore_index=0)
    src, src_len, trg = lib.tensor(SRC), lib.tensor(SRC_LENGTHS), lib.tensor(TRG)
    lib.manual_seed(5)
    record = []
    for _ in range(3):
        output, attentions, lengths = model(src, src_len, trg)
        loss = criterion(output[1:].view(-1, output.shape[-1]), trg.t()[1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        record += [loss, attentions, lengths]
    return model, record + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_seq2seq_gru_with_bahdanau_attention_over_packed_sequences_trains_as_torch(dtype):
    tight = dtype == "float64"
    build = lambda lib: lambda: build_seq2seq(lib)().to(getattr(lib, dtype))  # noqa: E731
    trained_on_both(
        build,
        lambda lib, ref: train_seq2seq(lib, ref, getattr(lib, dtype)),
        rtol=1e-10 if tight else 2e-4,
        atol=1e-12 if tight else 2e-5,
        model_rtol=1e-10 if tight else 2e-4,
        model_atol=1e-12 if tight else 2e-5,
    )


# -- BiLSTM-CRF tagger -------------------------------------------------------------------------------

START, STOP = 3, 4


def build_bilstm_crf(lib, vocab=12, tags=5, emb=6, hidden=8):
    nn = lib.nn

    class BiLSTMCRF(nn.Module):
        def __init__(self):
            super().__init__()
            self.word_embeds = nn.Embedding(vocab, emb)
            self.lstm = nn.LSTM(emb, hidden // 2, num_layers=1, bidirectional=True, batch_first=True)
            self.hidden2tag = nn.Linear(hidden, tags)
            self.transitions = nn.Parameter(lib.randn(tags, tags))
            self.transitions.data[START, :] = -10000
            self.transitions.data[:, STOP] = -10000

        def features(self, sentences, mask):
            lengths = mask.sum(1)
            packed = nn.utils.rnn.pack_padded_sequence(
                self.word_embeds(sentences), lengths, batch_first=True, enforce_sorted=False
            )
            out, _ = self.lstm(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, padding_value=0.0)
            return self.hidden2tag(out)

        def forward_algorithm(self, feats, mask):
            B, T, K = feats.shape
            alpha = lib.full((B, K), -10000.0, dtype=feats.dtype)
            alpha[:, START] = 0.0
            for t in range(T):
                scores = alpha.unsqueeze(1) + self.transitions.unsqueeze(0) + feats[:, t].unsqueeze(2)
                new_alpha = lib.logsumexp(scores, dim=2)
                alpha = lib.where(mask[:, t].unsqueeze(1), new_alpha, alpha)
            return lib.logsumexp(alpha + self.transitions[STOP], dim=1)

        def score_sentence(self, feats, tags_, mask):
            B, T, _ = feats.shape
            tags_ = lib.cat([lib.full((B, 1), START, dtype=lib.long), tags_], dim=1)
            emit = feats.gather(2, tags_[:, 1:].unsqueeze(2)).squeeze(2)
            trans = self.transitions[tags_[:, 1:], tags_[:, :-1]]
            score = ((emit + trans) * mask).sum(1)
            last_tags = tags_.gather(1, mask.sum(1, keepdim=True).long()).squeeze(1)
            return score + self.transitions[STOP, last_tags]

        def neg_log_likelihood(self, sentences, tags_, mask):
            feats = self.features(sentences, mask)
            return (self.forward_algorithm(feats, mask) - self.score_sentence(feats, tags_, mask)).mean()

        def viterbi_decode(self, feats, mask):
            B, T, K = feats.shape
            score = lib.full((B, K), -10000.0, dtype=feats.dtype)
            score[:, START] = 0
            backpointers = []
            for t in range(T):
                next_score = score.unsqueeze(1) + self.transitions.unsqueeze(0)
                best_score, best_tag = next_score.max(dim=2)
                best_score = best_score + feats[:, t]
                score = lib.where(mask[:, t].unsqueeze(1), best_score, score)
                backpointers.append(best_tag)
            score = score + self.transitions[STOP]
            best_score, best_last = score.max(dim=1)
            lengths = mask.sum(1)
            paths = lib.zeros(B, T, dtype=lib.long)
            for b in range(B):
                tag = best_last[b].item()
                length = int(lengths[b])
                paths[b, length - 1] = tag
                for t in range(length - 1, 0, -1):
                    tag = backpointers[t][b, tag].item()
                    paths[b, t - 1] = tag
            return best_score, paths

    return BiLSTMCRF


CRF_LENGTHS = [6, 4, 5]
CRF_MASK = np.zeros((3, 6), dtype=bool)
for row, length in enumerate(CRF_LENGTHS):
    CRF_MASK[row, :length] = True
CRF_WORDS = RNG.integers(1, 12, (3, 6)) * CRF_MASK
CRF_TAGS = RNG.integers(0, 3, (3, 6)) * CRF_MASK


def train_bilstm_crf(lib, reference):
    model = build_bilstm_crf(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, weight_decay=1e-4)
    words, tags, mask = lib.tensor(CRF_WORDS), lib.tensor(CRF_TAGS), lib.tensor(CRF_MASK)
    record = []
    for _ in range(3):
        loss = model.neg_log_likelihood(words, tags, mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record.append(loss)
    record += [p.grad for p in model.parameters()]
    with lib.no_grad():
        record += list(model.viterbi_decode(model.features(words, mask), mask))
    return model, record


def test_bilstm_crf_tagger_trains_and_decodes_as_torch():
    trained_on_both(build_bilstm_crf, train_bilstm_crf)


# -- PixelCNN masked convolutions and a WaveNet stack ----------------------------------------------


def build_pixelcnn_wavenet(lib, channels=6, levels=4):
    nn, F = lib.nn, lib.nn.functional

    class MaskedConv2d(nn.Conv2d):
        def __init__(self, mask_type, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.register_buffer("mask", self.weight.data.clone())
            _, _, kH, kW = self.weight.size()
            self.mask.fill_(1)
            self.mask[:, :, kH // 2, kW // 2 + (mask_type == "B") :] = 0
            self.mask[:, :, kH // 2 + 1 :] = 0

        def forward(self, x):
            self.weight.data *= self.mask
            return super().forward(x)

    class PixelCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(
                MaskedConv2d("A", 1, channels, 5, 1, 2, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(True),
                MaskedConv2d("B", channels, channels, 3, 1, 1, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(True),
                nn.Conv2d(channels, levels, 1),
            )

        def forward(self, x):
            return self.net(x)

    class CausalConv1d(nn.Conv1d):
        def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
            self.__padding = (kernel_size - 1) * dilation
            super().__init__(in_channels, out_channels, kernel_size, padding=self.__padding, dilation=dilation)

        def forward(self, x):
            result = super().forward(x)
            return result[:, :, : -self.__padding] if self.__padding != 0 else result

    class ResidualBlock(nn.Module):
        def __init__(self, dilation):
            super().__init__()
            self.dilated = CausalConv1d(channels, 2 * channels, 2, dilation)
            self.conv_res, self.conv_skip = nn.Conv1d(channels, channels, 1), nn.Conv1d(channels, channels, 1)

        def forward(self, x):
            filt, gate = self.dilated(x).chunk(2, dim=1)
            gated = lib.tanh(filt) * lib.sigmoid(gate)
            return self.conv_res(gated) + x, self.conv_skip(gated)

    class WaveNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.start = CausalConv1d(levels, channels, 2)
            self.blocks = nn.ModuleList([ResidualBlock(2**i) for i in range(4)])
            self.end = nn.Sequential(
                nn.ReLU(), nn.Conv1d(channels, channels, 1), nn.ReLU(), nn.Conv1d(channels, levels, 1)
            )

        def forward(self, x):
            x = self.start(F.one_hot(x, levels).transpose(1, 2).float())
            skips = []
            for block in self.blocks:
                x, skip = block(x)
                skips.append(skip)
            return self.end(lib.stack(skips).sum(0))

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.pixelcnn, self.wavenet = PixelCNN(), WaveNet()

    return Both


PIXELS = RNG.integers(0, 4, (3, 1, 7, 7))
SAMPLES = RNG.integers(0, 4, (2, 20))


def train_pixelcnn_wavenet(lib, reference):
    F = lib.nn.functional
    model = build_pixelcnn_wavenet(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, centered=True)
    pixels, samples, record = lib.tensor(PIXELS), lib.tensor(SAMPLES), []
    for _ in range(3):
        logits = model.pixelcnn(pixels.float() / 3)
        loss = F.cross_entropy(logits, pixels.squeeze(1))
        loss = loss + F.cross_entropy(model.wavenet(samples[:, :-1]), samples[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record.append(loss)
    record += [p.grad for p in model.parameters()]
    model.eval()
    lib.manual_seed(0)
    with lib.no_grad():  # autoregressive sampling, pixel by pixel
        image = lib.zeros(2, 1, 4, 4)
        for i in range(4):
            for j in range(4):
                probs = F.softmax(model.pixelcnn(image)[:, :, i, j], dim=1)
                image[:, :, i, j] = lib.multinomial(probs, 1).float() / 3
    return model, record + [image]


def test_pixelcnn_and_wavenet_train_and_sample_as_torch():
    trained_on_both(build_pixelcnn_wavenet, train_pixelcnn_wavenet)


# -- graph attention on an edge list ----------------------------------------------------------------


def build_gat(lib, in_features=5, hidden=4, heads=2, classes=3):
    nn, F = lib.nn, lib.nn.functional

    class GATLayer(nn.Module):
        def __init__(self, fin, fout, nheads, concat):
            super().__init__()
            self.nheads, self.fout, self.concat = nheads, fout, concat
            self.linear = nn.Linear(fin, nheads * fout, bias=False)
            self.att_src = nn.Parameter(lib.empty(1, nheads, fout))
            self.att_dst = nn.Parameter(lib.empty(1, nheads, fout))
            self.bias = nn.Parameter(lib.zeros(nheads * fout if concat else fout))
            nn.init.xavier_uniform_(self.linear.weight)
            nn.init.xavier_uniform_(self.att_src)
            nn.init.xavier_uniform_(self.att_dst)

        def forward(self, x, edge_index):
            N = x.size(0)
            src, dst = edge_index
            h = self.linear(x).view(N, self.nheads, self.fout)
            alpha_src, alpha_dst = (h * self.att_src).sum(-1), (h * self.att_dst).sum(-1)
            e = F.leaky_relu(alpha_src.index_select(0, src) + alpha_dst.index_select(0, dst), 0.2)
            e_max = lib.full((N, self.nheads), float("-inf"), dtype=e.dtype)
            e_max = e_max.scatter_reduce(0, dst.unsqueeze(-1).expand_as(e), e, reduce="amax", include_self=True)
            e = (e - e_max.index_select(0, dst)).exp()
            denom = lib.zeros(N, self.nheads, dtype=e.dtype).index_add_(0, dst, e)
            alpha = e / (denom.index_select(0, dst) + 1e-16)
            alpha = F.dropout(alpha, p=0.3, training=self.training)
            out = lib.zeros_like(h).index_add_(0, dst, h.index_select(0, src) * alpha.unsqueeze(-1))
            out = out.reshape(N, -1) if self.concat else out.mean(dim=1)
            return out + self.bias, alpha

    class GAT(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = GATLayer(in_features, hidden, heads, True)
            self.conv2 = GATLayer(hidden * heads, classes, 1, False)

        def forward(self, x, edge_index):
            x = F.dropout(x, p=0.3, training=self.training)
            x, alpha = self.conv1(x, edge_index)
            x = F.elu(x)
            x, _ = self.conv2(x, edge_index)
            return F.log_softmax(x, dim=1), alpha

    return GAT


GRAPH_X = RNG.standard_normal((7, 5)).astype(np.float32)
GRAPH_EDGES = np.array([[0, 1, 1, 2, 3, 4, 5, 6, 6, 2, 0], [1, 0, 2, 1, 4, 3, 6, 5, 0, 0, 6]])
GRAPH_Y = RNG.integers(0, 3, 7)


def train_gat(lib, reference):
    model = build_gat(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=5e-3, weight_decay=5e-4)
    x, y, record = lib.tensor(GRAPH_X), lib.tensor(GRAPH_Y), []
    loops = lib.arange(7).repeat(2, 1)
    edge_index = lib.cat([lib.tensor(GRAPH_EDGES), loops], dim=1)
    train_mask = lib.tensor([True, True, False, True, True, False, True])
    lib.manual_seed(7)
    for _ in range(3):
        out, alpha = model(x, edge_index)
        loss = lib.nn.functional.nll_loss(out[train_mask], y[train_mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, alpha]
    model.eval()
    with lib.no_grad():
        out, alpha = model(x, edge_index)
        record += [out, alpha, (out.argmax(1)[~train_mask] == y[~train_mask]).sum().item()]
    return model, record + [p.grad for p in model.parameters()]


def test_gat_on_an_edge_list_trains_as_torch():
    trained_on_both(build_gat, train_gat)


# -- sparsemax and entmax ---------------------------------------------------------------------------


def sparsemax(lib, z, dim=-1):
    z = z - z.max(dim=dim, keepdim=True).values
    z_sorted, _ = lib.sort(z, dim=dim, descending=True)
    k = lib.arange(1, z.size(dim) + 1, dtype=z.dtype)
    view = [1] * z.dim()
    view[dim] = -1
    k = k.view(view)
    z_cumsum = z_sorted.cumsum(dim) - 1
    support = k * z_sorted > z_cumsum
    k_z = support.sum(dim=dim, keepdim=True)
    tau = z_cumsum.gather(dim, k_z - 1) / k_z.to(z.dtype)
    return lib.clamp(z - tau, min=0)


def entmax15(lib, z, dim=-1):
    z = z / 2
    z = z - z.max(dim=dim, keepdim=True).values
    z_sorted, _ = lib.sort(z, descending=True, dim=dim)
    rho = lib.arange(1, z.size(dim) + 1, dtype=z.dtype).view(1, -1)
    mean = z_sorted.cumsum(dim) / rho
    mean_sq = (z_sorted**2).cumsum(dim) / rho
    ss = rho * (mean_sq - mean**2)
    delta = (1 - ss) / rho
    delta_nz = lib.clamp(delta, 0)
    tau = mean - lib.sqrt(delta_nz)
    support_size = (tau <= z_sorted).sum(dim).unsqueeze(dim)
    tau_star = tau.gather(dim, support_size - 1)
    return lib.clamp(z - tau_star, min=0) ** 2


def build_sparse_attention(lib):
    nn = lib.nn

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.score = nn.Linear(6, 1, bias=False)  # a bias would shift every score alike: no gradient
            self.out = nn.Linear(6, 4)

        def forward(self, x, mapping):
            weights = mapping(lib, self.score(x).squeeze(-1))
            return self.out((weights.unsqueeze(-1) * x).sum(1)), weights

    return Classifier


SEQUENCES = RNG.standard_normal((5, 7, 6))
SEQUENCE_LABELS = RNG.integers(0, 4, 5)


def train_sparse_attention(lib, reference):
    model = build_sparse_attention(lib)().double()
    copy_weights(reference, model)
    optimizer = lib.optim.Adagrad(model.parameters(), lr=0.1, lr_decay=0.01)
    x, y, record = lib.tensor(SEQUENCES), lib.tensor(SEQUENCE_LABELS), []
    for step in range(4):
        mapping = sparsemax if step % 2 == 0 else entmax15
        logits, weights = model(x, mapping)
        loss = lib.nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, weights, (weights > 0).sum(1)]
    z = lib.tensor(SEQUENCES[0], requires_grad=True)
    (sparsemax(lib, z, dim=0) * lib.arange(6.0)).sum().backward()
    return model, record + [p.grad for p in model.parameters()] + [sparsemax(lib, z, 0), z.grad]


def test_sparsemax_and_entmax_attention_train_as_torch():
    build = lambda lib: lambda: build_sparse_attention(lib)().double()  # noqa: E731
    trained_on_both(build, train_sparse_attention, rtol=1e-10, atol=1e-12, model_rtol=1e-10, model_atol=1e-12)


# -- triplet loss with batch-hard mining --------------------------------------------------------------


def batch_hard_triplet_loss(lib, labels, embeddings, margin, squared=False):
    pairwise_dist = lib.cdist(embeddings, embeddings, p=2)
    if squared:
        pairwise_dist = pairwise_dist**2
    indices_equal = lib.eye(labels.size(0), dtype=lib.bool)
    labels_equal = labels.unsqueeze(0) == labels.unsqueeze(1)
    mask_anchor_positive = (~indices_equal & labels_equal).float()
    hardest_positive_dist, _ = (mask_anchor_positive * pairwise_dist).max(1, keepdim=True)
    mask_anchor_negative = (~labels_equal).float()
    max_anchor_negative_dist, _ = pairwise_dist.max(1, keepdim=True)
    anchor_negative_dist = pairwise_dist + max_anchor_negative_dist * (1.0 - mask_anchor_negative)
    hardest_negative_dist, _ = anchor_negative_dist.min(1, keepdim=True)
    return lib.clamp(hardest_positive_dist - hardest_negative_dist + margin, min=0.0).mean()


def build_embedder(lib):
    nn = lib.nn
    return lambda: nn.Sequential(nn.Linear(6, 8), nn.PReLU(), nn.Linear(8, 4))


EMBED_X = RNG.standard_normal((12, 6)).astype(np.float32)
EMBED_LABELS = np.repeat(np.arange(4), 3)


def train_triplet(lib, reference):
    F = lib.nn.functional
    model = build_embedder(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, dampening=0.1)
    x, labels, record = lib.tensor(EMBED_X), lib.tensor(EMBED_LABELS), []
    loss_fn = lib.nn.TripletMarginWithDistanceLoss(distance_function=lib.nn.PairwiseDistance(), margin=0.5, swap=True)
    for step in range(4):
        emb = model(x)
        loss = batch_hard_triplet_loss(lib, labels, emb, 0.5, squared=step % 2 == 1)
        loss = loss + F.triplet_margin_loss(emb[0::3], emb[1::3], emb[[3, 6, 9, 0]], margin=1.0, p=2, swap=True)
        loss = loss + loss_fn(emb[0::3], emb[2::3], emb[[4, 7, 10, 1]])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record.append(loss)
    return model, record + [p.grad for p in model.parameters()]


def test_batch_hard_triplet_loss_trains_as_torch():
    trained_on_both(build_embedder, train_triplet)


# -- neural ODE with a fixed-step RK4 solver ------------------------------------------------------


def rk4(lib, func, y0, t):
    ys = [y0]
    y = y0
    for t0, t1 in zip(t[:-1], t[1:]):
        dt = t1 - t0
        k1 = func(t0, y)
        k2 = func(t0 + dt / 2, y + dt * k1 / 2)
        k3 = func(t0 + dt / 2, y + dt * k2 / 2)
        k4 = func(t1, y + dt * k3)
        y = y + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6
        ys.append(y)
    return lib.stack(ys)


def build_ode(lib):
    nn = lib.nn

    class ODEFunc(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
            for m in self.net.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, mean=0, std=0.1)
                    nn.init.constant_(m.bias, val=0)
            self.nfe = 0

        def forward(self, t, y):
            self.nfe += 1
            return self.net(y**3) * (1 + t)

    return ODEFunc


def train_ode(lib, reference):
    func = build_ode(lib)()
    copy_weights(reference, func)
    optimizer = lib.optim.RMSprop(func.parameters(), lr=1e-3)
    true_y0 = lib.tensor([[2.0, 0.0]], dtype=lib.float64)
    t = lib.linspace(0.0, 1.0, 9, dtype=lib.float64)
    true_A = lib.tensor([[-0.1, 2.0], [-2.0, -0.1]], dtype=lib.float64)
    with lib.no_grad():
        true_y = rk4(lib, lambda t, y: lib.mm(y**3, true_A), true_y0, t)
    func = func.double()
    record = [true_y]
    lib.manual_seed(11)
    for _ in range(3):
        s = lib.from_numpy(np.random.default_rng(1).choice(np.arange(6, dtype=np.int64), 4, replace=False))
        batch_y0, batch_t = true_y[s], t[:3]
        batch_y = lib.stack([true_y[s + i] for i in range(3)], dim=0)
        pred_y = rk4(lib, func, batch_y0, batch_t)
        loss = lib.mean(lib.abs(pred_y - batch_y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, pred_y]
    return func, record + [p.grad for p in func.parameters()] + [func.nfe]


def test_neural_ode_with_rk4_trains_as_torch():
    trained_on_both(build_ode, train_ode, rtol=1e-10, atol=1e-12, model_rtol=1e-10, model_atol=1e-12)


# -- stochastic weight averaging --------------------------------------------------------------------


def build_swa_net(lib):
    nn = lib.nn
    return lambda: nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


SWA_X = RNG.standard_normal((24, 5)).astype(np.float32)
SWA_Y = RNG.integers(0, 3, 24)


def train_swa(lib, reference):
    swa_utils = lib.optim.swa_utils
    model = build_swa_net(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    swa_model = swa_utils.AveragedModel(model)
    ema_model = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9), use_buffers=True)
    scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    swa_scheduler = swa_utils.SWALR(optimizer, swa_lr=0.05, anneal_epochs=2, anneal_strategy="cos")
    dataset = lib.utils.data.TensorDataset(lib.tensor(SWA_X), lib.tensor(SWA_Y))
    loader = lib.utils.data.DataLoader(dataset, batch_size=8, shuffle=True, generator=lib.Generator().manual_seed(2))
    record = []
    for epoch in range(5):
        for x, y in loader:
            loss = lib.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            ema_model.update_parameters(model)
            record.append(loss)
        if epoch >= 2:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()
        record.append(optimizer.param_groups[0]["lr"])
    record += [swa_model.n_averaged, ema_model.n_averaged]
    swa_utils.update_bn(loader, swa_model)
    swa_model.eval()
    ema_model.eval()
    with lib.no_grad():
        x = lib.tensor(SWA_X)
        record += [swa_model(x), ema_model(x)]
    record += list(swa_model.state_dict().values()) + list(ema_model.state_dict().values())
    return model, record


def test_swa_and_ema_averaging_with_swalr_and_update_bn_as_torch():
    trained_on_both(build_swa_net, train_swa)


# -- a GAN discriminator with spectral norm and a weight-normed generator ---------------------------


def build_sn_gan(lib, parametrized):
    nn = lib.nn
    if parametrized:
        sn, wn = nn.utils.parametrizations.spectral_norm, nn.utils.parametrizations.weight_norm
    else:
        sn, wn = nn.utils.spectral_norm, nn.utils.weight_norm

    class GAN(nn.Module):
        def __init__(self):
            super().__init__()
            self.generator = nn.Sequential(
                wn(nn.Linear(4, 16)), nn.ReLU(), wn(nn.ConvTranspose2d(1, 2, 3, stride=1), dim=1), nn.Tanh()
            )
            self.discriminator = nn.Sequential(
                sn(nn.Conv2d(2, 4, 3, stride=2, padding=1)),
                nn.LeakyReLU(0.1),
                sn(nn.Conv2d(4, 4, 3, padding=1), n_power_iterations=2),
                nn.LeakyReLU(0.1),
                nn.Flatten(),
                sn(nn.Linear(4 * 9, 1)),
            )

        def generate(self, z):
            return self.generator[2:](self.generator[:2](z).view(-1, 1, 4, 4))

    return GAN


REAL = RNG.standard_normal((4, 2, 6, 6)).astype(np.float32)


def train_sn_gan(lib, reference, parametrized):
    F = lib.nn.functional
    model = build_sn_gan(lib, parametrized)()
    copy_weights(reference, model)
    opt_d = lib.optim.Adam(model.discriminator.parameters(), lr=2e-4, betas=(0.0, 0.9))
    opt_g = lib.optim.Adam(model.generator.parameters(), lr=2e-4, betas=(0.0, 0.9))
    real, record = lib.tensor(REAL), []
    lib.manual_seed(4)
    for _ in range(3):
        fake = model.generate(lib.randn(4, 4))
        d_loss = (
            F.relu(1.0 - model.discriminator(real)).mean() + F.relu(1.0 + model.discriminator(fake.detach())).mean()
        )
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = -model.discriminator(fake).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        record += [d_loss, g_loss]
    record += [p.grad for p in model.parameters()]
    model.eval()
    with lib.no_grad():
        record.append(model.discriminator(real))
    return model, record


@pytest.mark.filterwarnings("ignore:.*weight_norm. is deprecated:FutureWarning")
@pytest.mark.parametrize("parametrized", [True, False])
def test_spectral_norm_gan_with_weight_norm_generator_trains_as_torch(parametrized):
    build = lambda lib: lambda: build_sn_gan(lib, parametrized)()  # noqa: E731
    trained_on_both(build, lambda lib, ref: train_sn_gan(lib, ref, parametrized))


# -- pruning ----------------------------------------------------------------------------------------


def build_prunable(lib):
    nn = lib.nn
    return lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 16, 10), nn.Linear(10, 3))


PRUNE_X = RNG.standard_normal((6, 1, 6, 6)).astype(np.float32)
PRUNE_Y = RNG.integers(0, 3, 6)


def train_pruned(lib, reference):
    prune = importlib.import_module(f"{lib.__name__}.nn.utils.prune")
    model = build_prunable(lib)()
    copy_weights(reference, model)
    conv, fc1, fc2 = model[0], model[3], model[4]
    prune.l1_unstructured(conv, name="weight", amount=0.3)
    prune.random_unstructured(fc2, name="bias", amount=1)
    prune.ln_structured(fc1, name="weight", amount=0.5, n=2, dim=0)
    prune.global_unstructured(
        [(conv, "weight"), (fc1, "weight"), (fc2, "weight")], pruning_method=prune.L1Unstructured, amount=0.4
    )
    record = [list(model.state_dict()), float(prune.is_pruned(model))]
    record += [conv.weight_mask, fc1.weight_mask, fc2.weight_mask, fc2.bias_mask]
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
    x, y = lib.tensor(PRUNE_X), lib.tensor(PRUNE_Y)
    for _ in range(3):
        loss = lib.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, conv.weight]
    record += [p.grad for p in model.parameters()]
    for module, name in [(conv, "weight"), (fc1, "weight"), (fc2, "weight"), (fc2, "bias")]:
        prune.remove(module, name)
    record += [list(model.state_dict()), float((model[3].weight == 0).sum()), float(prune.is_pruned(model))]
    return model, record


def test_pruning_then_fine_tuning_and_removing_as_torch():
    torch.manual_seed(0)
    reference = build_prunable(torch)()
    torch.manual_seed(1)
    _, theirs = train_pruned(torch, reference)
    ember.manual_seed(1)  # random_unstructured draws its mask
    _, ours = train_pruned(ember, reference)
    assert ours[0] == theirs[0] and ours[-3] == theirs[-3]
    assert_same_run(ours[1:-3] + ours[-2:], theirs[1:-3] + theirs[-2:])


# -- BERT masked language modelling -----------------------------------------------------------------


def mask_tokens(lib, inputs, vocab_size, mask_token_id, special_tokens_mask, generator):
    labels = inputs.clone()
    probability_matrix = lib.full(labels.shape, 0.15)
    probability_matrix.masked_fill_(special_tokens_mask, value=0.0)
    masked_indices = lib.bernoulli(probability_matrix, generator=generator).bool()
    labels[~masked_indices] = -100
    indices_replaced = lib.bernoulli(lib.full(labels.shape, 0.8), generator=generator).bool() & masked_indices
    inputs[indices_replaced] = mask_token_id
    indices_random = (
        lib.bernoulli(lib.full(labels.shape, 0.5), generator=generator).bool() & masked_indices & ~indices_replaced
    )
    random_words = lib.randint(vocab_size, labels.shape, dtype=lib.long, generator=generator)
    inputs[indices_random] = random_words[indices_random]
    return inputs, labels


def build_mlm(lib, vocab=30, d=16, dropout=0.0):
    nn = lib.nn

    class MLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, d, padding_idx=0)
            self.pos = nn.Embedding(12, d)
            layer = nn.TransformerEncoderLayer(d, 2, 32, dropout=dropout, activation="gelu", batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
            self.transform = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.LayerNorm(d, eps=1e-12))
            self.decoder = nn.Linear(d, vocab)
            self.decoder.weight = self.embed.weight

        def forward(self, ids, padding_mask):
            x = self.embed(ids) + self.pos(lib.arange(ids.shape[1]))
            return self.decoder(self.transform(self.encoder(x, src_key_padding_mask=padding_mask)))

    return MLM


MLM_IDS = RNG.integers(5, 30, (6, 12))
MLM_IDS[:, 0], MLM_IDS[:, -1] = 1, 2
MLM_IDS[4:, 9:] = 0


def train_mlm(lib, reference, dropout=0.0):
    model = build_mlm(lib, dropout=dropout)()
    copy_weights(reference, model)
    no_decay = ["bias", "LayerNorm.weight", "transform.2.weight"]
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
            "weight_decay": 0.01,
        },
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = lib.optim.AdamW(groups, lr=1e-3)
    scheduler = lib.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 2))
    generator = lib.Generator().manual_seed(42)
    lib.manual_seed(9)  # dropout's masks, drawn in the memory order of the batch_first attention output
    record = []
    for _ in range(3):
        ids = lib.tensor(MLM_IDS)
        special = (ids == 0) | (ids == 1) | (ids == 2)
        inputs, labels = mask_tokens(lib, ids.clone(), 30, 3, special, generator)
        logits = model(inputs, ids == 0)
        loss = lib.nn.functional.cross_entropy(logits.view(-1, 30), labels.view(-1))
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        record += [inputs, labels, loss, scheduler.get_last_lr()[0]]
    return model, record + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_bert_mlm_masking_with_a_seeded_generator_trains_as_torch(dropout):
    # the key projection's bias has a gradient of zero up to rounding, which AdamW scales up to full steps
    build = lambda lib: build_mlm(lib, dropout=dropout)  # noqa: E731
    trained_on_both(build, lambda lib, ref: train_mlm(lib, ref, dropout), model_atol=1e-3)


# -- word2vec skip-gram with negative sampling -------------------------------------------------------


def build_skipgram(lib, vocab=40, dim=8):
    nn = lib.nn

    class SkipGram(nn.Module):
        def __init__(self):
            super().__init__()
            self.u_embeddings = nn.Embedding(vocab, dim, sparse=True)
            self.v_embeddings = nn.Embedding(vocab, dim, sparse=True)
            initrange = 1.0 / dim
            nn.init.uniform_(self.u_embeddings.weight.data, -initrange, initrange)
            nn.init.constant_(self.v_embeddings.weight.data, 0)

        def forward(self, pos_u, pos_v, neg_v):
            emb_u, emb_v, emb_neg_v = self.u_embeddings(pos_u), self.v_embeddings(pos_v), self.v_embeddings(neg_v)
            score = lib.clamp(lib.sum(lib.mul(emb_u, emb_v), dim=1), max=10, min=-10)
            score = -lib.nn.functional.logsigmoid(score)
            neg_score = lib.clamp(lib.bmm(emb_neg_v, emb_u.unsqueeze(2)).squeeze(), max=10, min=-10)
            neg_score = -lib.sum(lib.nn.functional.logsigmoid(-neg_score), dim=1)
            return lib.mean(score + neg_score)

    return SkipGram


CORPUS = RNG.zipf(1.5, 200) % 40


def train_skipgram(lib, reference):
    model = build_skipgram(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.SparseAdam(list(model.parameters()), lr=0.05)
    counts = lib.bincount(lib.tensor(CORPUS), minlength=40).double()
    unigram = counts.pow(0.75)
    unigram /= unigram.sum()
    generator = lib.Generator().manual_seed(3)
    corpus, record = lib.tensor(CORPUS), []
    window = 2
    for step in range(3):
        centers = corpus[window + step * 16 : window + (step + 1) * 16]
        offsets = lib.randint(1, window + 1, (16,), generator=generator) * (
            lib.randint(0, 2, (16,), generator=generator) * 2 - 1
        )
        positions = lib.arange(window + step * 16, window + (step + 1) * 16) + offsets
        contexts = corpus[positions]
        negatives = lib.multinomial(unigram, 16 * 5, replacement=True, generator=generator).view(16, 5)
        loss = model(centers, contexts, negatives)
        optimizer.zero_grad()
        loss.backward()
        grad = model.u_embeddings.weight.grad
        record += [loss, negatives, grad.is_sparse, grad.coalesce().to_dense()]
        optimizer.step()
    return model, record


def test_skipgram_with_negative_sampling_and_sparse_adam_trains_as_torch():
    trained_on_both(build_skipgram, train_skipgram)


# -- capsule network dynamic routing ------------------------------------------------------------------


def squash(lib, s, dim=-1):
    squared_norm = (s**2).sum(dim=dim, keepdim=True)
    return squared_norm / (1 + squared_norm) * s / (lib.sqrt(squared_norm) + 1e-8)


def build_capsnet(lib, in_caps=8, in_dim=4, out_caps=3, out_dim=6, routing=3):
    nn, F = lib.nn, lib.nn.functional

    class CapsNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3)
            self.primary = nn.Conv2d(8, in_caps * in_dim, 3, stride=2)
            self.W = nn.Parameter(0.01 * lib.randn(1, out_caps, in_caps, out_dim, in_dim))
            self.decoder = nn.Sequential(nn.Linear(out_caps * out_dim, 16), nn.ReLU(), nn.Linear(16, 36), nn.Sigmoid())

        def forward(self, x, y=None):
            batch = x.size(0)
            u = self.primary(F.relu(self.conv(x)))
            u = squash(lib, u.view(batch, in_caps, in_dim))
            u_hat = lib.matmul(self.W, u[:, None, :, :, None]).squeeze(-1)
            assert lib.allclose(u_hat, lib.einsum("jnik,bnk->bjni", self.W[0], u), atol=1e-6)
            temp_u_hat = u_hat.detach()
            b = lib.zeros(batch, out_caps, in_caps, 1)
            for _ in range(routing - 1):
                c = b.softmax(dim=1)
                v = squash(lib, (c * temp_u_hat).sum(dim=2))
                b = b + lib.matmul(temp_u_hat, v.unsqueeze(-1))
            c = b.softmax(dim=1)
            v = squash(lib, (c * u_hat).sum(dim=2))
            lengths = v.norm(dim=-1)
            if y is None:
                y = lengths.argmax(dim=1)
            mask = F.one_hot(y, out_caps).unsqueeze(-1).to(v.dtype)
            return lengths, self.decoder((v * mask).flatten(1)), c.squeeze(-1)

    return CapsNet


CAPS_X = RNG.uniform(0, 1, (4, 1, 6, 6)).astype(np.float32)
CAPS_Y = np.array([0, 2, 1, 2])


def margin_loss(lib, lengths, target, m_pos=0.9, m_neg=0.1, lam=0.5):
    t = lib.nn.functional.one_hot(target, lengths.size(1)).float()
    return (t * lib.relu(m_pos - lengths) ** 2 + lam * (1 - t) * lib.relu(lengths - m_neg) ** 2).sum(1).mean()


def train_capsnet(lib, reference):
    model = build_capsnet(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = lib.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.96)
    x, y, record = lib.tensor(CAPS_X), lib.tensor(CAPS_Y), []
    for _ in range(3):
        lengths, reconstruction, c = model(x, y)
        loss = margin_loss(lib, lengths, y) + 0.0005 * lib.nn.functional.mse_loss(
            reconstruction, x.view(4, -1), reduction="sum"
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        record += [loss, c]
    with lib.no_grad():
        record += list(model(x)[:2])
    return model, record + [p.grad for p in model.parameters()]


def test_capsule_network_with_dynamic_routing_trains_as_torch():
    trained_on_both(build_capsnet, train_capsnet)


# -- StyleGAN2 ----------------------------------------------------------------------------------------


def build_stylegan2(lib, z_dim=8, w_dim=8, ch=4):
    nn, F = lib.nn, lib.nn.functional

    class EqualLinear(nn.Module):
        def __init__(self, i, o, lr_mul=1.0, bias_init=0.0):
            super().__init__()
            self.weight = nn.Parameter(lib.randn(o, i).div_(lr_mul))
            self.bias = nn.Parameter(lib.zeros(o).fill_(bias_init))
            self.scale, self.lr_mul = (1 / math.sqrt(i)) * lr_mul, lr_mul

        def forward(self, x):
            return F.leaky_relu(F.linear(x, self.weight * self.scale, self.bias * self.lr_mul), 0.2) * math.sqrt(2)

    class ModulatedConv(nn.Module):
        def __init__(self, cin, cout, k, demodulate=True, upsample=False):
            super().__init__()
            self.weight = nn.Parameter(lib.randn(1, cout, cin, k, k))
            self.modulation = nn.Linear(w_dim, cin)
            nn.init.constant_(self.modulation.bias, 1.0)
            self.scale, self.padding, self.cin, self.cout, self.k = 1 / math.sqrt(cin * k * k), k // 2, cin, cout, k
            self.demodulate, self.upsample = demodulate, upsample

        def forward(self, x, style):
            b, cin, h, w = x.shape
            style = self.modulation(style).view(b, 1, cin, 1, 1)
            weight = self.scale * self.weight * style
            if self.demodulate:
                demod = lib.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
                weight = weight * demod.view(b, self.cout, 1, 1, 1)
            weight = weight.view(b * self.cout, cin, self.k, self.k)
            if self.upsample:
                weight = (
                    weight.view(b, self.cout, cin, self.k, self.k)
                    .transpose(1, 2)
                    .reshape(b * cin, self.cout, self.k, self.k)
                )
                out = F.conv_transpose2d(x.view(1, b * cin, h, w), weight, padding=0, stride=2, groups=b)
                out = out[:, :, 1:, 1:][:, :, : 2 * h, : 2 * w]
            else:
                out = F.conv2d(x.view(1, b * cin, h, w), weight, padding=self.padding, groups=b)
            return out.view(b, self.cout, out.shape[-2], out.shape[-1])

    class NoiseInjection(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(lib.zeros(1))

        def forward(self, image, noise):
            return image + self.weight * noise

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.style = nn.Sequential(*[EqualLinear(z_dim if i == 0 else w_dim, w_dim, lr_mul=0.01) for i in range(2)])
            self.const = nn.Parameter(lib.randn(1, ch, 4, 4))
            self.conv1 = ModulatedConv(ch, ch, 3)
            self.noise1 = NoiseInjection()
            self.up = ModulatedConv(ch, ch, 3, upsample=True)
            self.noise2 = NoiseInjection()
            self.to_rgb = ModulatedConv(ch, 3, 1, demodulate=False)
            self.register_buffer("mean_path_length", lib.zeros(()))

        def forward(self, z, noises, truncation=1.0, mean_w=None):
            w = self.style(z / lib.sqrt(lib.mean(z**2, dim=1, keepdim=True) + 1e-8))
            if truncation < 1:
                w = mean_w + truncation * (w - mean_w)
            x = self.const.repeat(z.shape[0], 1, 1, 1)
            x = F.leaky_relu(self.noise1(self.conv1(x, w), noises[0]), 0.2) * math.sqrt(2)
            x = F.leaky_relu(self.noise2(self.up(x, w), noises[1]), 0.2) * math.sqrt(2)
            return self.to_rgb(x, w), w

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv2d(3, ch, 3, padding=1),
                nn.LeakyReLU(0.2),
                nn.Conv2d(ch, ch, 3, stride=2, padding=1),
                nn.LeakyReLU(0.2),
            )
            self.final = nn.Linear((ch + 1) * 16, 1)

        def forward(self, x):
            out = self.conv(x)
            b, c, h, w = out.shape
            group = min(b, 2)
            stddev = out.view(group, -1, 1, c, h, w)
            stddev = lib.sqrt(stddev.var(0, unbiased=False) + 1e-8)
            stddev = stddev.mean([2, 3, 4], keepdim=True).squeeze(2)
            stddev = stddev.repeat(group, 1, h, w)
            return self.final(lib.cat([out, stddev], 1).flatten(1))

    class GAN(nn.Module):
        def __init__(self):
            super().__init__()
            self.g, self.d = Generator(), Discriminator()

    return GAN


STYLEGAN_REAL = RNG.standard_normal((4, 3, 8, 8)).astype(np.float32)


def train_stylegan2(lib, reference):
    F = lib.nn.functional
    model = build_stylegan2(lib)()
    copy_weights(reference, model)
    g, d = model.g, model.d
    g_opt = lib.optim.Adam(g.parameters(), lr=2e-3, betas=(0.0, 0.99))
    d_opt = lib.optim.Adam(d.parameters(), lr=2e-3, betas=(0.0, 0.99))
    lib.manual_seed(1)
    real = lib.tensor(STYLEGAN_REAL)
    rec = []
    for _ in range(3):
        z = lib.randn(4, 8)
        noises = [lib.randn(4, 1, 4, 4), lib.randn(4, 1, 8, 8)]
        fake, _ = g(z, noises)
        d_loss = F.softplus(d(fake.detach())).mean() + F.softplus(-d(real)).mean()
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        real_img = real.clone().requires_grad_(True)
        real_pred = d(real_img)
        (grad_real,) = lib.autograd.grad(outputs=real_pred.sum(), inputs=real_img, create_graph=True)
        r1 = grad_real.pow(2).reshape(grad_real.shape[0], -1).sum(1).mean()
        d_opt.zero_grad()
        (5 * r1).backward()
        d_opt.step()
        z = lib.randn(4, 8)
        fake, _ = g(z, noises)
        g_loss = F.softplus(-d(fake)).mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        # path length regularization
        fake, latents = g(lib.randn(2, 8), [n[:2] for n in noises])
        noise = lib.randn_like(fake) / math.sqrt(fake.shape[2] * fake.shape[3])
        (grad,) = lib.autograd.grad(outputs=(fake * noise).sum(), inputs=latents, create_graph=True)
        path_lengths = lib.sqrt(grad.pow(2).sum(1))
        path_mean = g.mean_path_length + 0.01 * (path_lengths.mean() - g.mean_path_length)
        path_loss = (path_lengths - path_mean).pow(2).mean()
        g.mean_path_length.copy_(path_mean.detach())
        g_opt.zero_grad()
        (2 * path_loss).backward()
        g_opt.step()
        rec += [d_loss, r1, g_loss, path_loss, g.mean_path_length]
    rec += [p.grad for p in model.parameters() if p.grad is not None]
    with lib.no_grad():
        mean_w = g.style(lib.randn(16, 8)).mean(0, keepdim=True)
        rec.append(g(lib.randn(2, 8), [n[:2] for n in noises], truncation=0.7, mean_w=mean_w)[0])
    return model, rec


def test_stylegan2_with_r1_and_path_length_regularization_trains_as_torch():
    trained_on_both(build_stylegan2, train_stylegan2, rtol=1e-4, atol=1e-5, model_rtol=1e-4, model_atol=1e-5)


# -- Conformer block with Transformer-XL relative attention ------------------------------------------


def rel_shift(lib, x):
    """Transformer-XL's shift of relative-position scores: pad a zero column, view, drop a row."""
    b, h, q, k = x.size()
    zero_pad = x.new_zeros((b, h, q, 1))
    padded = lib.cat([zero_pad, x], dim=-1).view(b, h, k + 1, q)
    return padded[:, :, 1:].view_as(x)


def build_conformer(lib, d=8, heads=2, kernel=3):
    nn, F = lib.nn, lib.nn.functional

    class RelPositionalEncoding(nn.Module):
        def __init__(self, max_len=16):
            super().__init__()
            position = lib.arange(0, max_len, dtype=lib.float32).unsqueeze(1)
            div_term = lib.exp(lib.arange(0, d, 2, dtype=lib.float32) * -(math.log(10000.0) / d))
            pe_positive, pe_negative = lib.zeros(max_len, d), lib.zeros(max_len, d)
            pe_positive[:, 0::2] = lib.sin(position * div_term)
            pe_positive[:, 1::2] = lib.cos(position * div_term)
            pe_negative[:, 0::2] = lib.sin(-1 * position * div_term)
            pe_negative[:, 1::2] = lib.cos(-1 * position * div_term)
            pe = lib.cat([lib.flip(pe_positive, [0]).unsqueeze(0), pe_negative[1:].unsqueeze(0)], dim=1)
            self.register_buffer("pe", pe, persistent=False)

        def forward(self, length):
            center = self.pe.size(1) // 2
            return self.pe[:, center - length + 1 : center + length]

    class RelMultiHeadAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.d_head = d // heads
            # no key bias: it shifts each query's scores alike, so its gradient is rounding noise (Adam scales it up)
            self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d, bias=False), nn.Linear(d, d)
            self.pos_proj = nn.Linear(d, d, bias=False)
            self.u_bias = nn.Parameter(lib.Tensor(heads, self.d_head))
            self.v_bias = nn.Parameter(lib.Tensor(heads, self.d_head))
            nn.init.xavier_uniform_(self.u_bias)
            nn.init.xavier_uniform_(self.v_bias)
            self.out_proj = nn.Linear(d, d)

        def forward(self, x, pos_embedding, mask):
            b, t, _ = x.shape
            q = self.query(x).view(b, -1, heads, self.d_head)
            k = self.key(x).view(b, -1, heads, self.d_head).permute(0, 2, 1, 3)
            v = self.value(x).view(b, -1, heads, self.d_head).permute(0, 2, 1, 3)
            p = self.pos_proj(pos_embedding).view(1, -1, heads, self.d_head)
            content = lib.matmul((q + self.u_bias).transpose(1, 2), k.transpose(2, 3))
            pos_score = lib.matmul((q + self.v_bias).transpose(1, 2), p.permute(0, 2, 3, 1))
            pos_score = rel_shift(lib, pos_score)[..., :t]
            score = (content + pos_score) / math.sqrt(d)
            score.masked_fill_(mask.unsqueeze(1), -1e9)
            attn = F.softmax(score, -1)
            context = lib.matmul(attn, v).transpose(1, 2).contiguous().view(b, -1, d)
            return self.out_proj(context)

    class ConvModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.LayerNorm(d)
            self.pointwise1 = nn.Conv1d(d, 2 * d, 1)
            self.depthwise = nn.Conv1d(d, d, kernel, padding=(kernel - 1) // 2, groups=d, bias=False)
            self.bn = nn.BatchNorm1d(d)
            self.pointwise2 = nn.Conv1d(d, d, 1)

        def forward(self, x):
            x = self.pointwise1(self.norm(x).transpose(1, 2))
            x = F.glu(x, dim=1)
            x = F.silu(self.bn(self.depthwise(x)))
            return self.pointwise2(x).transpose(1, 2)

    class FeedForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.SiLU(), nn.Linear(4 * d, d))

        def forward(self, x):
            return self.net(x)

    class Conformer(nn.Module):
        def __init__(self, classes=5):
            super().__init__()
            self.subsample = nn.Sequential(nn.Conv2d(1, d, 3, stride=2), nn.ReLU())
            self.proj = nn.Linear(d * 3, d)
            self.positional = RelPositionalEncoding()
            self.ff1, self.ff2 = FeedForward(), FeedForward()
            self.attn_norm, self.attn = nn.LayerNorm(d), RelMultiHeadAttention()
            self.conv, self.final_norm = ConvModule(), nn.LayerNorm(d)
            self.classifier = nn.Linear(d, classes)

        def forward(self, features, lengths):
            x = self.subsample(features.unsqueeze(1))
            b, c, t, f = x.size()
            x = self.proj(x.permute(0, 2, 1, 3).contiguous().view(b, t, c * f))
            lengths = ((lengths - 1) // 2).clamp(max=t)
            mask = (lib.arange(t).expand(b, t) >= lengths.unsqueeze(1)).unsqueeze(1).expand(-1, t, -1)
            x = x + 0.5 * self.ff1(x)
            x = x + self.attn(self.attn_norm(x), self.positional(t), mask)
            x = x + self.conv(x)
            x = self.final_norm(x + 0.5 * self.ff2(x))
            return F.log_softmax(self.classifier(x), dim=-1), lengths

    return Conformer


FEATURES = RNG.standard_normal((3, 13, 7)).astype(np.float32)
FEATURE_LENGTHS = np.array([13, 9, 11])
TOKENS = np.array([[1, 2, 3], [4, 4, 0], [2, 0, 0]])
TOKEN_LENGTHS = np.array([3, 2, 1])


def train_conformer(lib, reference):
    # in float64: three AdamW steps amplify float32 rounding in near-zero gradients past any useful
    # tolerance (on one thread the sums of both libraries run in another order)
    model = build_conformer(lib)().double()
    copy_weights(reference, model)
    # the sinusoids of the non-persistent buffer too: float32 sin/cos/exp differ from torch's in the last bit
    model.positional.pe.copy_(lib.tensor(reference.positional.pe.double().numpy()))
    optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9, weight_decay=1e-3)
    scheduler = lib.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 8**-0.5 * min((step + 1) ** -0.5, (step + 1) * 2**-1.5)
    )
    ctc = lib.nn.CTCLoss(blank=0, zero_infinity=True)
    x, lengths, record = lib.tensor(FEATURES).double(), lib.tensor(FEATURE_LENGTHS), []
    for _ in range(3):
        log_probs, out_lengths = model(x, lengths)
        loss = ctc(log_probs.transpose(0, 1), lib.tensor(TOKENS), out_lengths, lib.tensor(TOKEN_LENGTHS))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        record += [loss, out_lengths, log_probs]
    t_ = lib.arange(24.0).view(1, 2, 3, 4)
    return model, record + [rel_shift(lib, t_), model.positional.pe] + [p.grad for p in model.parameters()]


def test_conformer_with_relative_attention_and_ctc_trains_as_torch():
    trained_on_both(build_conformer, train_conformer, rtol=1e-9, atol=1e-11, model_rtol=1e-9, model_atol=1e-11)


# -- RWKV-4 -------------------------------------------------------------------------------------------


def build_rwkv(lib, vocab=12, d=8, layers=2):
    nn = lib.nn

    class TimeMix(nn.Module):
        def __init__(self, layer_id):
            super().__init__()
            ratio_0_to_1, ratio_1_to_almost0 = layer_id / (layers - 1), 1.0 - layer_id / layers
            ddd = lib.ones(1, 1, d)
            for i in range(d):
                ddd[0, 0, i] = i / d
            decay_speed = lib.ones(d)
            for h in range(d):
                decay_speed[h] = -5 + 8 * (h / (d - 1)) ** (0.7 + 1.3 * ratio_0_to_1)
            self.time_decay = nn.Parameter(decay_speed)
            zigzag = lib.tensor([(i + 1) % 3 - 1 for i in range(d)]) * 0.5
            self.time_first = nn.Parameter(lib.ones(d) * math.log(0.3) + zigzag)
            self.time_mix_k = nn.Parameter(lib.pow(ddd, ratio_1_to_almost0))
            self.time_mix_v = nn.Parameter(lib.pow(ddd, ratio_1_to_almost0) + 0.3 * ratio_0_to_1)
            self.time_mix_r = nn.Parameter(lib.pow(ddd, 0.5 * ratio_1_to_almost0))
            self.time_shift = nn.ZeroPad2d((0, 0, 1, -1))
            self.key, self.value = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
            self.receptance, self.output = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)

        def wkv(self, w, u, k, v):
            """The WKV recurrence in its numerically stable form, one step at a time."""
            B, T, C = k.shape
            w = -lib.exp(w)
            aa, bb = lib.zeros(B, C, dtype=k.dtype), lib.zeros(B, C, dtype=k.dtype)
            pp = lib.full((B, C), -1e38, dtype=k.dtype)
            out = []
            for t in range(T):
                kk, vv = k[:, t], v[:, t]
                ww = u + kk
                p = lib.maximum(pp, ww)
                e1, e2 = lib.exp(pp - p), lib.exp(ww - p)
                out.append((e1 * aa + e2 * vv) / (e1 * bb + e2))
                ww = w + pp
                p = lib.maximum(ww, kk)
                e1, e2 = lib.exp(ww - p), lib.exp(kk - p)
                aa, bb, pp = e1 * aa + e2 * vv, e1 * bb + e2, p
            return lib.stack(out, dim=1)

        def forward(self, x):
            xx = self.time_shift(x)
            xk = x * self.time_mix_k + xx * (1 - self.time_mix_k)
            xv = x * self.time_mix_v + xx * (1 - self.time_mix_v)
            xr = x * self.time_mix_r + xx * (1 - self.time_mix_r)
            k, v, sr = self.key(xk), self.value(xv), lib.sigmoid(self.receptance(xr))
            return self.output(sr * self.wkv(self.time_decay, self.time_first, k, v))

    class ChannelMix(nn.Module):
        def __init__(self, layer_id):
            super().__init__()
            self.time_shift = nn.ZeroPad2d((0, 0, 1, -1))
            ratio_1_to_almost0 = 1.0 - layer_id / layers
            x = lib.ones(1, 1, d)
            for i in range(d):
                x[0, 0, i] = i / d
            self.time_mix_k = nn.Parameter(lib.pow(x, ratio_1_to_almost0))
            self.time_mix_r = nn.Parameter(lib.pow(x, ratio_1_to_almost0))
            self.key, self.receptance = nn.Linear(d, 4 * d, bias=False), nn.Linear(d, d, bias=False)
            self.value = nn.Linear(4 * d, d, bias=False)

        def forward(self, x):
            xx = self.time_shift(x)
            xk = x * self.time_mix_k + xx * (1 - self.time_mix_k)
            xr = x * self.time_mix_r + xx * (1 - self.time_mix_r)
            k = lib.square(lib.relu(self.key(xk)))
            return lib.sigmoid(self.receptance(xr)) * self.value(k)

    class Block(nn.Module):
        def __init__(self, layer_id):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.ln0 = nn.LayerNorm(d) if layer_id == 0 else None
            self.att, self.ffn = TimeMix(layer_id), ChannelMix(layer_id)

        def forward(self, x):
            if self.ln0 is not None:
                x = self.ln0(x)
            x = x + self.att(self.ln1(x))
            return x + self.ffn(self.ln2(x))

    class RWKV(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, d)
            self.blocks = nn.Sequential(*[Block(i) for i in range(layers)])
            self.ln_out, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            return self.head(self.ln_out(self.blocks(self.emb(idx))))

    return RWKV


RWKV_IDS = RNG.integers(0, 12, (2, 9))


def train_rwkv(lib, reference, dtype):
    model = build_rwkv(lib)().to(dtype)
    copy_weights(reference, model)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "emb" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "emb" not in n)]
    optimizer = lib.optim.Adam(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=6e-3, eps=1e-8
    )
    ids, record = lib.tensor(RWKV_IDS), []
    for _ in range(3):
        logits = model(ids[:, :-1])
        loss = lib.nn.functional.cross_entropy(logits.reshape(-1, 12), ids[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, logits]
    return model, record + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rwkv_with_the_wkv_recurrence_trains_as_torch(dtype):
    tight = dtype == "float64"
    build = lambda lib: lambda: build_rwkv(lib)().to(getattr(lib, dtype))  # noqa: E731
    trained_on_both(
        build,
        lambda lib, ref: train_rwkv(lib, ref, getattr(lib, dtype)),
        rtol=1e-9 if tight else 2e-4,
        atol=1e-11 if tight else 2e-5,
        model_rtol=1e-9 if tight else 2e-4,
        model_atol=1e-11 if tight else 2e-5,
    )


# -- DETR's set criterion -----------------------------------------------------------------------------


def box_cxcywh_to_xyxy(lib, x):
    x_c, y_c, w, h = x.unbind(-1)
    return lib.stack([(x_c - 0.5 * w), (y_c - 0.5 * h), (x_c + 0.5 * w), (y_c + 0.5 * h)], dim=-1)


def generalized_box_iou(lib, boxes1, boxes2):
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = lib.max(boxes1[:, None, :2], boxes2[:, :2])
    rb = lib.min(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    iou = inter / union
    lt = lib.min(boxes1[:, None, :2], boxes2[:, :2])
    rb = lib.max(boxes1[:, None, 2:], boxes2[:, 2:])
    area = (rb - lt).clamp(min=0).prod(-1)
    return iou - (area - union) / area


def build_detr_head(lib, d=8, queries=5, classes=3):
    nn, F = lib.nn, lib.nn.functional

    class MLP(nn.Module):
        def __init__(self, input_dim, hidden_dim, output_dim, num_layers):
            super().__init__()
            h = [hidden_dim] * (num_layers - 1)
            self.layers = nn.ModuleList(nn.Linear(n, k) for n, k in zip([input_dim] + h, h + [output_dim]))
            self.num_layers = num_layers

        def forward(self, x):
            for i, layer in enumerate(self.layers):
                x = F.relu(layer(x)) if i < self.num_layers - 1 else layer(x)
            return x

    class DETRHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(nn.Conv2d(3, d, 3, stride=2, padding=1), nn.ReLU())
            self.query_embed = nn.Embedding(queries, d)
            layer = nn.TransformerDecoderLayer(d, 2, 16, dropout=0.0, batch_first=True, norm_first=True)
            self.decoder = nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(d))
            self.class_embed = nn.Linear(d, classes + 1)
            self.bbox_embed = MLP(d, d, 4, 3)

        def forward(self, images):
            memory = self.backbone(images).flatten(2).transpose(1, 2)
            tgt = self.query_embed.weight.unsqueeze(0).repeat(images.shape[0], 1, 1)
            hs = self.decoder(tgt, memory)
            return self.class_embed(hs), self.bbox_embed(hs).sigmoid()

    return DETRHead


def hungarian_match(lib, logits, boxes, targets, cost_class=1.0, cost_bbox=5.0, cost_giou=2.0):
    from scipy.optimize import linear_sum_assignment

    bs, num_queries = logits.shape[:2]
    with lib.no_grad():
        out_prob = logits.flatten(0, 1).softmax(-1)
        out_bbox = boxes.flatten(0, 1)
        tgt_ids = lib.cat([v["labels"] for v in targets])
        tgt_bbox = lib.cat([v["boxes"] for v in targets])
        cost = cost_bbox * lib.cdist(out_bbox, tgt_bbox, p=1) - cost_class * out_prob[:, tgt_ids]
        cost = cost - cost_giou * generalized_box_iou(
            lib, box_cxcywh_to_xyxy(lib, out_bbox), box_cxcywh_to_xyxy(lib, tgt_bbox)
        )
        C = cost.view(bs, num_queries, -1).cpu()
        sizes = [len(v["boxes"]) for v in targets]
        indices = [linear_sum_assignment(c[i]) for i, c in enumerate(C.split(sizes, -1))]
    return [(lib.as_tensor(i, dtype=lib.int64), lib.as_tensor(j, dtype=lib.int64)) for i, j in indices]


def set_criterion(lib, logits, boxes, targets, classes=3, eos_coef=0.1):
    F = lib.nn.functional
    indices = hungarian_match(lib, logits, boxes, targets)
    batch_idx = lib.cat([lib.full_like(src, i) for i, (src, _) in enumerate(indices)])
    src_idx = lib.cat([src for (src, _) in indices])
    idx = (batch_idx, src_idx)
    empty_weight = lib.ones(classes + 1)
    empty_weight[-1] = eos_coef
    target_classes_o = lib.cat([t["labels"][J] for t, (_, J) in zip(targets, indices)])
    target_classes = lib.full(logits.shape[:2], classes, dtype=lib.int64)
    target_classes[idx] = target_classes_o
    loss_ce = F.cross_entropy(logits.transpose(1, 2), target_classes, empty_weight)
    num_boxes = max(sum(len(t["labels"]) for t in targets), 1)
    src_boxes = boxes[idx]
    target_boxes = lib.cat([t["boxes"][i] for t, (_, i) in zip(targets, indices)], dim=0)
    loss_bbox = F.l1_loss(src_boxes, target_boxes, reduction="none").sum() / num_boxes
    loss_giou = 1 - lib.diag(
        generalized_box_iou(lib, box_cxcywh_to_xyxy(lib, src_boxes), box_cxcywh_to_xyxy(lib, target_boxes))
    )
    loss_giou = loss_giou.sum() / num_boxes
    return loss_ce + 5 * loss_bbox + 2 * loss_giou, src_idx


DETR_IMAGES = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
DETR_TARGETS = [
    {"labels": [0, 2], "boxes": [[0.3, 0.4, 0.2, 0.3], [0.7, 0.6, 0.3, 0.2]]},
    {"labels": [1], "boxes": [[0.5, 0.5, 0.4, 0.4]]},
]


def train_detr(lib, reference):
    model = build_detr_head(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.AdamW(
        [
            {"params": [p for n, p in model.named_parameters() if "backbone" not in n]},
            {"params": [p for n, p in model.named_parameters() if "backbone" in n], "lr": 1e-5},
        ],
        lr=1e-4,
        weight_decay=1e-4,
    )
    targets = [{"labels": lib.tensor(t["labels"]), "boxes": lib.tensor(t["boxes"])} for t in DETR_TARGETS]
    images, record = lib.tensor(DETR_IMAGES), []
    for _ in range(3):
        logits, boxes = model(images)
        loss, matched = set_criterion(lib, logits, boxes, targets)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        record += [loss, matched, logits, boxes]
    return model, record + [p.grad for p in model.parameters()]


def test_detr_set_criterion_with_hungarian_matching_trains_as_torch():
    pytest.importorskip("scipy")
    trained_on_both(build_detr_head, train_detr)


# -- robust training: PGD adversaries, mixup/cutmix, focal loss, distillation --------------------------


def build_small_cnn(lib, width=4):
    nn = lib.nn
    return lambda: nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2 * width, 4),
    )


def pgd_attack(lib, model, x, y, eps=0.03, alpha=0.01, steps=3):
    delta = lib.zeros_like(x).uniform_(-eps, eps)
    delta.requires_grad = True
    for _ in range(steps):
        loss = lib.nn.functional.cross_entropy(model(x + delta), y)
        (grad,) = lib.autograd.grad(loss, [delta])
        delta.data = (delta + alpha * grad.sign()).clamp(-eps, eps)
        delta.data = (x + delta.data).clamp(0, 1) - x
    return (x + delta).detach()


def sigmoid_focal_loss(lib, inputs, targets, alpha=0.25, gamma=2.0):
    p = lib.sigmoid(inputs)
    ce_loss = lib.nn.functional.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * loss).mean()


def rand_bbox(size, lam, rng):
    W, H = size[2], size[3]
    cut_rat = np.sqrt(1.0 - lam)
    cut_w, cut_h = int(W * cut_rat), int(H * cut_rat)
    cx, cy = rng.integers(W), rng.integers(H)
    return (
        np.clip(cx - cut_w // 2, 0, W),
        np.clip(cy - cut_h // 2, 0, H),
        np.clip(cx + cut_w // 2, 0, W),
        np.clip(cy + cut_h // 2, 0, H),
    )


ROBUST_X = RNG.uniform(0, 1, (6, 3, 8, 8)).astype(np.float32)
ROBUST_Y = RNG.integers(0, 4, 6)


def train_robust(lib, reference):
    F = lib.nn.functional
    student, teacher = build_small_cnn(lib)(), build_small_cnn(lib)()
    copy_weights(reference, student)
    copy_weights(reference, teacher)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    with lib.no_grad():
        teacher[-1].weight.mul_(1.5)
    optimizer = lib.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x, y, record = lib.tensor(ROBUST_X), lib.tensor(ROBUST_Y), []
    rng = np.random.default_rng(5)
    lib.manual_seed(8)
    for step in range(4):
        student.eval()
        x_adv = pgd_attack(lib, student, x, y)
        student.train()
        lam = float(rng.beta(1.0, 1.0))
        index = lib.randperm(x.size(0))
        if step % 2 == 0:  # mixup
            inputs = lam * x_adv + (1 - lam) * x_adv[index, :]
        else:  # cutmix
            bbx1, bby1, bbx2, bby2 = rand_bbox(x.size(), lam, rng)
            inputs = x_adv.clone()
            inputs[:, :, bbx1:bbx2, bby1:bby2] = x_adv[index, :, bbx1:bbx2, bby1:bby2]
            lam = 1 - ((bbx2 - bbx1) * (bby2 - bby1) / (x.size()[-1] * x.size()[-2]))
        logits = student(inputs)
        loss = lam * F.cross_entropy(logits, y, label_smoothing=0.1) + (1 - lam) * F.cross_entropy(logits, y[index])
        with lib.no_grad():
            teacher_logits = teacher(inputs)
        T = 4.0
        kd = F.kl_div(
            F.log_softmax(logits / T, dim=1),
            F.log_softmax(teacher_logits / T, dim=1),
            reduction="batchmean",
            log_target=True,
        )
        focal = sigmoid_focal_loss(lib, logits, F.one_hot(y, 4).float())
        total = loss + T * T * kd + focal
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        record += [x_adv, index, total, kd, focal]
    return student, record + [p.grad for p in student.parameters()]


def test_pgd_mixup_cutmix_focal_and_distillation_train_as_torch():
    trained_on_both(build_small_cnn, train_robust)


# -- pygcn: a graph convolutional network on a sparse adjacency ----------------------------------------


def gcn_adjacency(lib):
    """pygcn's ``normalize(adj + I)`` with SciPy and ``sparse_mx_to_torch_sparse_tensor``."""
    import scipy.sparse as sp

    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0], [1, 4], [2, 5], [6, 0], [6, 3]])
    n = 7
    adj = sp.coo_matrix((np.ones(edges.shape[0]), (edges[:, 0], edges[:, 1])), shape=(n, n), dtype=np.float32)
    adj = adj + adj.T.multiply(adj.T > adj) - adj.multiply(adj.T > adj)
    adj = adj + sp.eye(adj.shape[0])
    rowsum = np.array(adj.sum(1))
    r_inv = np.power(rowsum, -1).flatten()
    r_inv[np.isinf(r_inv)] = 0.0
    adj = sp.diags(r_inv).dot(adj).tocoo().astype(np.float32)
    indices = lib.from_numpy(np.vstack((adj.row, adj.col)).astype(np.int64))
    values = lib.from_numpy(adj.data)
    return lib.sparse.FloatTensor(indices, values, lib.Size(adj.shape))


def build_gcn(lib, nfeat=5, nhid=8, nclass=3):
    nn, F = lib.nn, lib.nn.functional

    class GraphConvolution(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            self.weight = nn.Parameter(lib.FloatTensor(in_features, out_features))
            self.bias = nn.Parameter(lib.FloatTensor(out_features))
            stdv = 1.0 / math.sqrt(self.weight.size(1))
            self.weight.data.uniform_(-stdv, stdv)
            self.bias.data.uniform_(-stdv, stdv)

        def forward(self, input, adj):
            return lib.spmm(adj, lib.mm(input, self.weight)) + self.bias

    class GCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.gc1, self.gc2 = GraphConvolution(nfeat, nhid), GraphConvolution(nhid, nclass)

        def forward(self, x, adj):
            x = F.dropout(F.relu(self.gc1(x, adj)), 0.5, training=self.training)
            return F.log_softmax(self.gc2(x, adj), dim=1)

    return GCN


def train_gcn(lib, reference):
    model = build_gcn(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    adj = gcn_adjacency(lib).float()
    features = lib.FloatTensor(GRAPH_X)
    labels = lib.LongTensor(GRAPH_Y)
    idx_train, idx_val = lib.LongTensor(range(4)), lib.LongTensor(range(4, 7))
    lib.manual_seed(12)
    record = [adj.coalesce().indices(), adj.coalesce().values()]
    for _ in range(3):
        model.train()
        optimizer.zero_grad()
        output = model(features, adj)
        loss_train = lib.nn.functional.nll_loss(output[idx_train], labels[idx_train])
        preds = output[idx_train].max(1)[1].type_as(labels)
        acc_train = preds.eq(labels[idx_train]).double().sum() / len(labels[idx_train])
        loss_train.backward()
        optimizer.step()
        model.eval()
        output = model(features, adj)
        record += [loss_train, acc_train, lib.nn.functional.nll_loss(output[idx_val], labels[idx_val])]
    return model, record + [p.grad for p in model.parameters()]


@pytest.mark.filterwarnings("ignore:.*is deprecated")
def test_pygcn_on_a_sparse_normalized_adjacency_trains_as_torch():
    pytest.importorskip("scipy")
    trained_on_both(build_gcn, train_gcn)
