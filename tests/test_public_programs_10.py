"""Public programs, round 10: condensed versions of programs people write and run today, each run on
ember and on torch from the same seeds, comparing losses, outputs and the trained weights.

- Whisper (openai/whisper ``audio.py``/``model.py``): the log-mel spectrogram (``stft`` of a
  ``hann_window`` with ``return_complex=True``, the last frame dropped, ``abs() ** 2``, mel filters,
  ``clamp(min=1e-10).log10()``, ``maximum(log_spec, log_spec.max() - 8.0)``), the conv front end
  (``Conv1d`` + ``gelu``, stride 2) with the ``sinusoids`` positional table, ``LayerNorm``/``Linear``
  subclasses that cast (``x.float()``, ``weight.to(x.dtype)``), the ``qkv_attention`` with
  ``scale = d ** -0.25`` on both sides, the ``-inf`` ``triu_`` mask buffer (``persistent=False``), logits
  against the transposed token embedding, the KV cache filled by forward hooks on the key/value
  projections, teacher-forced training and greedy decoding with the cache.
- YOLO (ultralytics ``metrics.bbox_iou``, ``loss.py``, ``ops.non_max_suppression``): IoU/GIoU/DIoU/CIoU
  (``chunk``, in-place ``clamp_``, ``atan``, ``alpha`` under ``no_grad``), ``make_anchors`` by ``meshgrid``,
  ``dist2bbox``, the distribution focal loss (``cross_entropy(reduction="none")`` at the two integer
  neighbours), BCE objectness, and greedy NMS written in tensor ops with class offsets.
- SAM (davda54/sam): an ``Optimizer`` wrapping a base optimizer over its ``param_groups``, adaptive
  (ASAM) and plain, ``first_step``/``second_step``, the closure form under ``enable_grad``, the batch
  norm momentum disabled on the second pass, a smoothed cross entropy by ``scatter_``; and Lookahead
  wrapping Adam (slow weights in ``state``, ``add_(alpha=)``).
- MADE/MAF (karpathy/pytorch-made, ikostrikov's flows): ``MaskedLinear`` with a ``uint8`` mask buffer
  set from NumPy (``copy_(torch.from_numpy(mask.T))``), the ``F.linear(x, mask * weight, bias)``
  forward, MAF stacked with reversals, ``log_prob`` under a standard normal, and sampling by inverting
  one dimension at a time.
- Set Transformer (juho-lee/set_transformer): MAB by ``split``/``cat`` of heads along the batch, ISAB
  with inducing points, PMA seeds by ``repeat``; Deep Sets' permutation-equivariant layers
  (``max(1, keepdim=True)``).
- DPO (eric-mitchell/direct-preference-optimization): ``concatenated_forward`` with ``pad_to_length``,
  ``_get_batch_logps`` (the shift, ``labels == -100`` masked, ``gather`` of ``log_softmax``), the sigmoid
  loss with label smoothing, IPO, the frozen reference from ``copy.deepcopy``, reward accuracies.
- CleanRL's SAC and TD3 (continuous actions): the tanh-squashed ``Normal.rsample`` with the
  log-probability correction, ``action_scale`` buffers from NumPy, twin Q targets, automatic entropy
  tuning with ``log_alpha``, target policy smoothing, Polyak updates by ``copy_``.
- Rectified flow / flow matching: ``rand`` times, the linear path, a time-embedded velocity MLP,
  Euler and midpoint sampling under ``no_grad``.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from public_programs import assert_same_run, torch

import ember


def both(program, *args, rtol=2e-4, atol=2e-5):
    """``program(lib, *args)`` on ember and on torch give the same record."""
    theirs = program(torch, *args)
    ours = program(ember, *args)
    assert_same_run(ours, theirs, rtol, atol)
    return ours, theirs


def params(module):
    return [p.detach().clone() for p in module.parameters()]


# -- Whisper ------------------------------------------------------------------------------------------------


def mel_filters(n_mels, n_fft, sample_rate=16000):
    """Triangular filters on a mel scale (librosa's shape: (n_mels, n_fft // 2 + 1))."""
    fft_freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    mel = np.linspace(0, 2595 * np.log10(1 + sample_rate / 2 / 700), n_mels + 2)
    hz = 700 * (10 ** (mel / 2595) - 1)
    filters = np.zeros((n_mels, n_fft // 2 + 1), dtype=np.float32)
    for i in range(n_mels):
        lo, c, hi = hz[i], hz[i + 1], hz[i + 2]
        up = (fft_freqs - lo) / (c - lo)
        down = (hi - fft_freqs) / (hi - c)
        filters[i] = np.maximum(0, np.minimum(up, down))
    return filters


def whisper(lib):
    nn, F = lib.nn, lib.nn.functional
    Tensor = lib.Tensor
    N_FFT, HOP, N_MELS = 64, 16, 16
    n_state, n_head, n_vocab, n_text_ctx = 32, 4, 20, 12

    def log_mel_spectrogram(audio):
        window = lib.hann_window(N_FFT)
        stft = lib.stft(audio, N_FFT, HOP, window=window, return_complex=True)
        magnitudes = stft[..., :-1].abs() ** 2
        filters = lib.from_numpy(mel_filters(N_MELS, N_FFT))
        mel_spec = filters @ magnitudes
        log_spec = lib.clamp(mel_spec, min=1e-10).log10()
        log_spec = lib.maximum(log_spec, log_spec.max() - 8.0)
        log_spec = (log_spec + 4.0) / 4.0
        return log_spec

    def sinusoids(length, channels, max_timescale=10000):
        assert channels % 2 == 0
        log_timescale_increment = np.log(max_timescale) / (channels // 2 - 1)
        inv_timescales = lib.exp(-log_timescale_increment * lib.arange(channels // 2))
        scaled_time = lib.arange(length)[:, np.newaxis] * inv_timescales[np.newaxis, :]
        return lib.cat([lib.sin(scaled_time), lib.cos(scaled_time)], dim=1)

    class LayerNorm(nn.LayerNorm):
        def forward(self, x: Tensor) -> Tensor:
            return super().forward(x.float()).type(x.dtype)

    class Linear(nn.Linear):
        def forward(self, x: Tensor) -> Tensor:
            return F.linear(x, self.weight.to(x.dtype), None if self.bias is None else self.bias.to(x.dtype))

    class Conv1d(nn.Conv1d):
        def _conv_forward(self, x, weight, bias):
            return super()._conv_forward(x, weight.to(x.dtype), None if bias is None else bias.to(x.dtype))

    class MultiHeadAttention(nn.Module):
        def __init__(self, n_state, n_head):
            super().__init__()
            self.n_head = n_head
            self.query = Linear(n_state, n_state)
            self.key = Linear(n_state, n_state, bias=False)
            self.value = Linear(n_state, n_state)
            self.out = Linear(n_state, n_state)

        def forward(self, x, xa=None, mask=None, kv_cache=None):
            q = self.query(x)
            if kv_cache is None or xa is None or self.key not in kv_cache:
                k = self.key(x if xa is None else xa)
                v = self.value(x if xa is None else xa)
            else:
                k = kv_cache[self.key]
                v = kv_cache[self.value]
            wv, qk = self.qkv_attention(q, k, v, mask)
            return self.out(wv), qk

        def qkv_attention(self, q, k, v, mask=None):
            n_batch, n_ctx, n_state = q.shape
            scale = (n_state // self.n_head) ** -0.25
            q = q.view(*q.shape[:2], self.n_head, -1).permute(0, 2, 1, 3) * scale
            k = k.view(*k.shape[:2], self.n_head, -1).permute(0, 2, 3, 1) * scale
            v = v.view(*v.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
            qk = q @ k
            if mask is not None:
                qk = qk + mask[:n_ctx, :n_ctx]
            qk = qk.float()
            w = F.softmax(qk, dim=-1).to(q.dtype)
            return (w @ v).permute(0, 2, 1, 3).flatten(start_dim=2), qk.detach()

    class ResidualAttentionBlock(nn.Module):
        def __init__(self, n_state, n_head, cross_attention=False):
            super().__init__()
            self.attn = MultiHeadAttention(n_state, n_head)
            self.attn_ln = LayerNorm(n_state)
            self.cross_attn = MultiHeadAttention(n_state, n_head) if cross_attention else None
            self.cross_attn_ln = LayerNorm(n_state) if cross_attention else None
            n_mlp = n_state * 4
            self.mlp = nn.Sequential(Linear(n_state, n_mlp), nn.GELU(), Linear(n_mlp, n_state))
            self.mlp_ln = LayerNorm(n_state)

        def forward(self, x, xa=None, mask=None, kv_cache=None):
            x = x + self.attn(self.attn_ln(x), mask=mask, kv_cache=kv_cache)[0]
            if self.cross_attn:
                x = x + self.cross_attn(self.cross_attn_ln(x), xa, kv_cache=kv_cache)[0]
            x = x + self.mlp(self.mlp_ln(x))
            return x

    class AudioEncoder(nn.Module):
        def __init__(self, n_mels, n_ctx, n_state, n_head, n_layer):
            super().__init__()
            self.conv1 = Conv1d(n_mels, n_state, kernel_size=3, padding=1)
            self.conv2 = Conv1d(n_state, n_state, kernel_size=3, stride=2, padding=1)
            self.register_buffer("positional_embedding", sinusoids(n_ctx, n_state))
            self.blocks = nn.ModuleList([ResidualAttentionBlock(n_state, n_head) for _ in range(n_layer)])
            self.ln_post = LayerNorm(n_state)

        def forward(self, x):
            x = F.gelu(self.conv1(x))
            x = F.gelu(self.conv2(x))
            x = x.permute(0, 2, 1)
            assert x.shape[1:] == self.positional_embedding.shape, "incorrect audio shape"
            x = (x + self.positional_embedding).to(x.dtype)
            for block in self.blocks:
                x = block(x)
            return self.ln_post(x)

    class TextDecoder(nn.Module):
        def __init__(self, n_vocab, n_ctx, n_state, n_head, n_layer):
            super().__init__()
            self.token_embedding = nn.Embedding(n_vocab, n_state)
            self.positional_embedding = nn.Parameter(lib.empty(n_ctx, n_state))
            self.blocks = nn.ModuleList(
                [ResidualAttentionBlock(n_state, n_head, cross_attention=True) for _ in range(n_layer)]
            )
            self.ln = LayerNorm(n_state)
            mask = lib.empty(n_ctx, n_ctx).fill_(-np.inf).triu_(1)
            self.register_buffer("mask", mask, persistent=False)

        def forward(self, x, xa, kv_cache=None):
            offset = next(iter(kv_cache.values())).shape[1] if kv_cache else 0
            x = self.token_embedding(x) + self.positional_embedding[offset : offset + x.shape[-1]]
            x = x.to(xa.dtype)
            for block in self.blocks:
                x = block(x, xa, mask=self.mask, kv_cache=kv_cache)
            x = self.ln(x)
            return (x @ lib.transpose(self.token_embedding.weight.to(x.dtype), 0, 1)).float()

    class Whisper(nn.Module):
        def __init__(self, n_audio_ctx):
            super().__init__()
            self.encoder = AudioEncoder(N_MELS, n_audio_ctx, n_state, n_head, 2)
            self.decoder = TextDecoder(n_vocab, n_text_ctx, n_state, n_head, 2)
            nn.init.normal_(self.decoder.positional_embedding, std=0.02)

        def forward(self, mel, tokens):
            return self.decoder(tokens, self.encoder(mel))

        def install_kv_cache_hooks(self):
            cache, hooks = {}, []

            def save_to_cache(module, _, output):
                if module not in cache or output.shape[1] > n_text_ctx:
                    cache[module] = output
                else:
                    cache[module] = lib.cat([cache[module], output], dim=1).detach()
                return cache[module]

            def install_hooks(layer):
                if isinstance(layer, MultiHeadAttention):
                    hooks.append(layer.key.register_forward_hook(save_to_cache))
                    hooks.append(layer.value.register_forward_hook(save_to_cache))

            self.decoder.apply(install_hooks)
            return cache, hooks

    lib.manual_seed(0)
    audio = lib.randn(2, 16 * 32) * 0.3
    mel = log_mel_spectrogram(audio)
    record = [mel]
    model = Whisper(mel.shape[-1] // 2)
    record.append(sorted(model.state_dict().keys()) == sorted(n for n, _ in model.named_parameters()) + [])
    record.append("decoder.mask" in model.state_dict())
    tokens = lib.randint(1, n_vocab, (2, 8))
    tokens[:, 0] = 0
    opt = lib.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = lib.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 3))
    for _ in range(4):
        logits = model(mel, tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, n_vocab), tokens[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        record.append(nn.utils.clip_grad_norm_(model.parameters(), 1.0))
        opt.step()
        sched.step()
        record.append(loss)
    record += params(model)
    model.eval()
    with lib.no_grad():
        audio_features = model.encoder(mel)
        full = model.decoder(tokens, audio_features)
        record.append(full)
        cache, hooks = model.install_kv_cache_hooks()
        seq = tokens[:, :1]
        cached_logits = []
        for _ in range(6):
            step_in = seq if not cache else seq[:, -1:]
            logits = model.decoder(step_in, audio_features, kv_cache=cache)
            cached_logits.append(logits[:, -1])
            seq = lib.cat([seq, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=-1)
        for h in hooks:
            h.remove()
        record += [seq, lib.stack(cached_logits, 1)]
        record.append(model.decoder(seq[:, :-1], audio_features)[:, :, :].argmax(-1))
    return record


def test_whisper_log_mel_front_end_trains_and_decodes_with_a_kv_cache_as_torch():
    ours, theirs = both(whisper)
    # greedy decoding with the cache gives the tokens the full decoder predicts
    assert (ours[-1].numpy() == ours[-3].numpy()[:, 1:]).all()


# -- YOLO ---------------------------------------------------------------------------------------------------


def yolo(lib):
    nn, F = lib.nn, lib.nn.functional

    def bbox_iou(box1, box2, xywh=True, GIoU=False, DIoU=False, CIoU=False, eps=1e-7):
        if xywh:
            (x1, y1, w1, h1), (x2, y2, w2, h2) = box1.chunk(4, -1), box2.chunk(4, -1)
            w1_, h1_, w2_, h2_ = w1 / 2, h1 / 2, w2 / 2, h2 / 2
            b1_x1, b1_x2, b1_y1, b1_y2 = x1 - w1_, x1 + w1_, y1 - h1_, y1 + h1_
            b2_x1, b2_x2, b2_y1, b2_y2 = x2 - w2_, x2 + w2_, y2 - h2_, y2 + h2_
        else:
            b1_x1, b1_y1, b1_x2, b1_y2 = box1.chunk(4, -1)
            b2_x1, b2_y1, b2_x2, b2_y2 = box2.chunk(4, -1)
            w1, h1 = b1_x2 - b1_x1, b1_y2 - b1_y1 + eps
            w2, h2 = b2_x2 - b2_x1, b2_y2 - b2_y1 + eps
        inter = (b1_x2.minimum(b2_x2) - b1_x1.maximum(b2_x1)).clamp_(0) * (
            b1_y2.minimum(b2_y2) - b1_y1.maximum(b2_y1)
        ).clamp_(0)
        union = w1 * h1 + w2 * h2 - inter + eps
        iou = inter / union
        if CIoU or DIoU or GIoU:
            cw = b1_x2.maximum(b2_x2) - b1_x1.minimum(b2_x1)
            ch = b1_y2.maximum(b2_y2) - b1_y1.minimum(b2_y1)
            if CIoU or DIoU:
                c2 = cw.pow(2) + ch.pow(2) + eps
                rho2 = ((b2_x1 + b2_x2 - b1_x1 - b1_x2).pow(2) + (b2_y1 + b2_y2 - b1_y1 - b1_y2).pow(2)) / 4
                if CIoU:
                    v = (4 / math.pi**2) * ((w2 / h2).atan() - (w1 / h1).atan()).pow(2)
                    with lib.no_grad():
                        alpha = v / (v - iou + (1 + eps))
                    return iou - (rho2 / c2 + v * alpha)
                return iou - rho2 / c2
            c_area = cw * ch + eps
            return iou - (c_area - union) / c_area
        return iou

    def make_anchors(feats, strides, grid_cell_offset=0.5):
        anchor_points, stride_tensor = [], []
        for i, stride in enumerate(strides):
            _, _, h, w = feats[i].shape
            sx = lib.arange(end=w, dtype=feats[i].dtype) + grid_cell_offset
            sy = lib.arange(end=h, dtype=feats[i].dtype) + grid_cell_offset
            sy, sx = lib.meshgrid(sy, sx, indexing="ij")
            anchor_points.append(lib.stack((sx, sy), -1).view(-1, 2))
            stride_tensor.append(lib.full((h * w, 1), stride, dtype=feats[i].dtype))
        return lib.cat(anchor_points), lib.cat(stride_tensor)

    def dist2bbox(distance, anchor_points, xywh=True, dim=-1):
        lt, rb = distance.chunk(2, dim)
        x1y1 = anchor_points - lt
        x2y2 = anchor_points + rb
        if xywh:
            c_xy = (x1y1 + x2y2) / 2
            wh = x2y2 - x1y1
            return lib.cat((c_xy, wh), dim)
        return lib.cat((x1y1, x2y2), dim)

    def bbox2dist(anchor_points, bbox, reg_max):
        x1y1, x2y2 = bbox.chunk(2, -1)
        return lib.cat((anchor_points - x1y1, x2y2 - anchor_points), -1).clamp_(0, reg_max - 0.01)

    class DFL(nn.Module):
        def __init__(self, c1=8):
            super().__init__()
            self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
            x = lib.arange(c1, dtype=lib.float)
            self.conv.weight.data[:] = nn.Parameter(x.view(1, c1, 1, 1))
            self.c1 = c1

        def forward(self, x):
            b, _, a = x.shape
            return self.conv(x.view(b, 4, self.c1, a).transpose(2, 1).softmax(1)).view(b, 4, a)

    def df_loss(pred_dist, target):
        tl = target.long()
        tr = tl + 1
        wl = tr - target
        wr = 1 - wl
        return (
            F.cross_entropy(pred_dist, tl.view(-1), reduction="none").view(tl.shape) * wl
            + F.cross_entropy(pred_dist, tr.view(-1), reduction="none").view(tl.shape) * wr
        ).mean(-1, keepdim=True)

    reg_max, nc = 8, 3

    class Detect(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.SiLU())
            self.p1 = nn.Sequential(nn.Conv2d(16, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.SiLU())
            self.cv2 = nn.ModuleList(nn.Conv2d(16, 4 * reg_max, 1) for _ in range(2))
            self.cv3 = nn.ModuleList(nn.Conv2d(16, nc, 1) for _ in range(2))
            self.dfl = DFL(reg_max)

        def forward(self, x):
            f1 = self.stem(x)
            f2 = self.p1(f1)
            return [lib.cat((self.cv2[i](f), self.cv3[i](f)), 1) for i, f in enumerate((f1, f2))]

    def box_iou(box1, box2, eps=1e-7):
        (a1, a2), (b1, b2) = box1.unsqueeze(1).chunk(2, 2), box2.unsqueeze(0).chunk(2, 2)
        inter = (lib.min(a2, b2) - lib.max(a1, b1)).clamp_(0).prod(2)
        return inter / ((a2 - a1).prod(2) + (b2 - b1).prod(2) - inter + eps)

    def nms(boxes, scores, iou_thres):
        order = scores.argsort(descending=True)
        keep = []
        while order.numel() > 0:
            i = order[0]
            keep.append(i)
            if order.numel() == 1:
                break
            ious = box_iou(boxes[i].unsqueeze(0), boxes[order[1:]])[0]
            order = order[1:][ious <= iou_thres]
        return lib.stack(keep) if keep else lib.zeros(0, dtype=lib.long)

    def non_max_suppression(prediction, conf_thres=0.25, iou_thres=0.45, max_wh=7680):
        bs = prediction.shape[0]
        xc = prediction[:, 4:].amax(1) > conf_thres
        prediction = prediction.transpose(-1, -2)
        xy, wh = prediction[..., :2], prediction[..., 2:4]
        prediction = lib.cat((xy - wh / 2, xy + wh / 2, prediction[..., 4:]), -1)
        output = [lib.zeros((0, 6))] * bs
        for xi, x in enumerate(prediction):
            x = x[xc[xi]]
            if not x.shape[0]:
                continue
            box, cls = x.split((4, nc), 1)
            conf, j = cls.max(1, keepdim=True)
            x = lib.cat((box, conf, j.float()), 1)[conf.view(-1) > conf_thres]
            c = x[:, 5:6] * max_wh
            i = nms(x[:, :4] + c, x[:, 4], iou_thres)
            output[xi] = x[i]
        return output

    lib.manual_seed(0)
    model = Detect()
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.937, nesterov=True, weight_decay=5e-4)
    bce = nn.BCEWithLogitsLoss(reduction="none")
    imgs = lib.randn(2, 3, 16, 16)
    gt_boxes = lib.tensor([[2.0, 3.0, 9.0, 12.0], [6.0, 1.0, 15.0, 7.0]])
    gt_cls = lib.tensor([1, 2])
    record = []
    strides = [2.0, 4.0]
    for _ in range(4):
        feats = model(imgs)
        no = 4 * reg_max + nc
        pred_distri, pred_scores = lib.cat([xi.view(2, no, -1) for xi in feats], 2).split((reg_max * 4, nc), 1)
        pred_scores = pred_scores.permute(0, 2, 1).contiguous()
        pred_distri = pred_distri.permute(0, 2, 1).contiguous()
        anchor_points, stride_tensor = make_anchors(feats, strides, 0.5)
        b, a, c = pred_distri.shape
        proj = lib.arange(reg_max, dtype=lib.float)
        pd = pred_distri.view(b, a, 4, c // 4).softmax(3).matmul(proj.type(pred_distri.dtype))
        pred_bboxes = dist2bbox(pd, anchor_points, xywh=False)
        target_bboxes = gt_boxes.unsqueeze(1) / stride_tensor.view(1, -1, 1)
        centers = anchor_points * stride_tensor
        fg_mask = (
            (centers[None, :, 0] > gt_boxes[:, None, 0])
            & (centers[None, :, 0] < gt_boxes[:, None, 2])
            & (centers[None, :, 1] > gt_boxes[:, None, 1])
            & (centers[None, :, 1] < gt_boxes[:, None, 3])
        )
        target_scores = F.one_hot(gt_cls, nc).unsqueeze(1).float() * fg_mask.unsqueeze(-1)
        iou = bbox_iou(pred_bboxes[fg_mask], target_bboxes[fg_mask], xywh=False, CIoU=True)
        weight = target_scores.sum(-1)[fg_mask].unsqueeze(-1)
        target_scores_sum = max(target_scores.sum(), 1)
        loss_iou = ((1.0 - iou) * weight).sum() / target_scores_sum
        target_ltrb = bbox2dist(anchor_points, target_bboxes, reg_max)
        loss_dfl = (df_loss(pred_distri[fg_mask].view(-1, reg_max), target_ltrb[fg_mask]) * weight).sum()
        loss_dfl = loss_dfl / target_scores_sum
        loss_cls = bce(pred_scores, target_scores).sum() / target_scores_sum
        loss = (7.5 * loss_iou + 0.5 * loss_cls + 1.5 * loss_dfl) * b
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
        opt.step()
        record += [loss, loss_iou.detach(), loss_dfl.detach(), loss_cls.detach()]
    for kind in ({}, {"GIoU": True}, {"DIoU": True}, {"CIoU": True}):
        p = lib.tensor([[4.0, 5.0, 3.0, 6.0], [1.0, 1.0, 2.0, 1.0]], requires_grad=True)
        iou = bbox_iou(p, lib.tensor([[5.0, 4.0, 4.0, 4.0], [1.5, 1.0, 2.0, 2.0]]), **kind)
        iou.sum().backward()
        record += [iou, p.grad]
    record += params(model)
    model.eval()
    with lib.no_grad():
        feats = model(imgs)
        x = lib.cat([xi.view(2, 4 * reg_max + nc, -1) for xi in feats], 2)
        box, cls = x.split((reg_max * 4, nc), 1)
        anchors, strides_t = (t.transpose(0, 1) for t in make_anchors(feats, strides, 0.5))
        dbox = dist2bbox(model.dfl(box), anchors.unsqueeze(0), xywh=True, dim=1) * strides_t
        y = lib.cat((dbox, cls.sigmoid()), 1)
        record.append(y)
        for det in non_max_suppression(y, conf_thres=0.3, iou_thres=0.5):
            record.append(det)
    return record


def test_yolo_ciou_dfl_loss_and_tensor_nms_train_as_torch():
    both(yolo)


# -- SAM and Lookahead -----------------------------------------------------------------------------------------


def sam_and_lookahead(lib, adaptive):
    nn, F = lib.nn, lib.nn.functional

    class SAM(lib.optim.Optimizer):
        def __init__(self, params, base_optimizer, rho=0.05, adaptive=False, **kwargs):
            assert rho >= 0.0, f"Invalid rho, should be non-negative: {rho}"
            defaults = dict(rho=rho, adaptive=adaptive, **kwargs)
            super().__init__(params, defaults)
            self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
            self.param_groups = self.base_optimizer.param_groups
            self.defaults.update(self.base_optimizer.defaults)

        @lib.no_grad()
        def first_step(self, zero_grad=False):
            grad_norm = self._grad_norm()
            for group in self.param_groups:
                scale = group["rho"] / (grad_norm + 1e-12)
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self.state[p]["old_p"] = p.data.clone()
                    e_w = (lib.pow(p, 2) if group["adaptive"] else 1.0) * p.grad * scale.to(p)
                    p.add_(e_w)
            if zero_grad:
                self.zero_grad()

        @lib.no_grad()
        def second_step(self, zero_grad=False):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    p.data = self.state[p]["old_p"]
            self.base_optimizer.step()
            if zero_grad:
                self.zero_grad()

        @lib.no_grad()
        def step(self, closure=None):
            assert closure is not None, "Sharpness Aware Minimization requires closure, but it was not provided"
            closure = lib.enable_grad()(closure)
            self.first_step(zero_grad=True)
            closure()
            self.second_step()

        def _grad_norm(self):
            shared_device = self.param_groups[0]["params"][0].device
            return lib.norm(
                lib.stack(
                    [
                        ((lib.abs(p) if group["adaptive"] else 1.0) * p.grad).norm(p=2).to(shared_device)
                        for group in self.param_groups
                        for p in group["params"]
                        if p.grad is not None
                    ]
                ),
                p=2,
            )

        def load_state_dict(self, state_dict):
            super().load_state_dict(state_dict)
            self.base_optimizer.param_groups = self.param_groups

    class Lookahead(lib.optim.Optimizer):
        def __init__(self, optimizer, alpha=0.5, k=3):
            self.optimizer = optimizer
            self.alpha, self.k = alpha, k
            self.param_groups = self.optimizer.param_groups
            self.state = {}
            self.defaults = optimizer.defaults
            self._optimizer_step_pre_hooks = {}
            self._optimizer_step_post_hooks = {}
            for group in self.param_groups:
                group["counter"] = 0

        def update(self, group):
            for fast in group["params"]:
                param_state = self.state.setdefault(fast, {})
                if "slow_param" not in param_state:
                    param_state["slow_param"] = lib.zeros_like(fast.data)
                    param_state["slow_param"].copy_(fast.data)
                slow = param_state["slow_param"]
                slow += (fast.data - slow) * self.alpha
                fast.data.copy_(slow)

        def step(self, closure=None):
            loss = self.optimizer.step(closure)
            for group in self.param_groups:
                if group["counter"] == 0:
                    self.update(group)
                group["counter"] += 1
                if group["counter"] >= self.k:
                    group["counter"] = 0
            return loss

    def smooth_crossentropy(pred, gold, smoothing=0.1):
        n_class = pred.size(1)
        one_hot = lib.full_like(pred, fill_value=smoothing / (n_class - 1))
        one_hot.scatter_(dim=1, index=gold.unsqueeze(1), value=1.0 - smoothing)
        log_prob = F.log_softmax(pred, dim=1)
        return F.kl_div(input=log_prob, target=one_hot, reduction="none").sum(-1)

    def disable_running_stats(model):
        def _disable(module):
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.backup_momentum = module.momentum
                module.momentum = 0

        model.apply(_disable)

    def enable_running_stats(model):
        def _enable(module):
            if isinstance(module, nn.modules.batchnorm._BatchNorm) and hasattr(module, "backup_momentum"):
                module.momentum = module.backup_momentum

        model.apply(_enable)

    def net():
        return nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 8, 3, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(8, 5),
        )

    lib.manual_seed(0)
    model = net()
    x = lib.randn(6, 3, 8, 8)
    y = lib.randint(0, 5, (6,))
    optimizer = SAM(
        model.parameters(), lib.optim.SGD, rho=2.0 if adaptive else 0.05, adaptive=adaptive, lr=0.1, momentum=0.9,
        weight_decay=5e-4,
    )  # fmt: skip
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    record = []
    for _ in range(4):
        enable_running_stats(model)
        predictions = model(x)
        loss = smooth_crossentropy(predictions, y, smoothing=0.1)
        loss.mean().backward()
        optimizer.first_step(zero_grad=True)
        disable_running_stats(model)
        smooth_crossentropy(model(x), y).mean().backward()
        optimizer.second_step(zero_grad=True)
        with lib.no_grad():
            correct = lib.argmax(predictions.data, 1) == y
        record += [loss, correct, optimizer.param_groups[0]["lr"]]
        scheduler.step()

    def closure():
        loss = smooth_crossentropy(model(x), y).mean()
        loss.backward()
        return loss

    for _ in range(2):
        smooth_crossentropy(model(x), y).mean().backward()
        optimizer.step(closure)
        optimizer.zero_grad()
    record += params(model) + list(model.state_dict().values())
    state = optimizer.state_dict()
    record.append(",".join(sorted(state["state"][0].keys())))
    record.append(state["param_groups"][0]["rho"])

    lib.manual_seed(1)
    model = net()
    opt = Lookahead(lib.optim.Adam(model.parameters(), lr=1e-2), alpha=0.5, k=3)
    for _ in range(7):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y, label_smoothing=0.2)
        loss.backward()
        opt.step()
        record.append(loss)
    record += params(model)
    return record


@pytest.mark.parametrize("adaptive", [False, True])
def test_sam_and_asam_with_lookahead_train_as_torch(adaptive):
    both(sam_and_lookahead, adaptive)


# -- MADE / MAF -------------------------------------------------------------------------------------------------


def made_maf(lib):
    nn, F = lib.nn, lib.nn.functional

    class MaskedLinear(nn.Linear):
        def __init__(self, in_features, out_features, bias=True):
            super().__init__(in_features, out_features, bias)
            self.register_buffer("mask", lib.ones(out_features, in_features))

        def set_mask(self, mask):
            self.mask.data.copy_(lib.from_numpy(mask.astype(np.uint8).T))

        def forward(self, input):
            return F.linear(input, self.mask * self.weight, self.bias)

    class MADE(nn.Module):
        def __init__(self, nin, hidden_sizes, nout, num_masks=1, natural_ordering=False, seed=0):
            super().__init__()
            self.nin, self.nout, self.hidden_sizes = nin, nout, hidden_sizes
            assert self.nout % self.nin == 0, "nout must be integer multiple of nin"
            self.net = []
            hs = [nin] + hidden_sizes + [nout]
            for h0, h1 in zip(hs, hs[1:]):
                self.net.extend([MaskedLinear(h0, h1), nn.ReLU()])
            self.net.pop()
            self.net = nn.Sequential(*self.net)
            self.natural_ordering = natural_ordering
            self.num_masks = num_masks
            self.seed = seed
            self.m = {}
            self.update_masks()

        def update_masks(self):
            if self.m and self.num_masks == 1:
                return
            L = len(self.hidden_sizes)
            rng = np.random.RandomState(self.seed)
            self.seed = (self.seed + 1) % self.num_masks
            self.m[-1] = np.arange(self.nin) if self.natural_ordering else rng.permutation(self.nin)
            for l in range(L):  # noqa: E741
                self.m[l] = rng.randint(self.m[l - 1].min(), self.nin - 1, size=self.hidden_sizes[l])
            masks = [self.m[l - 1][:, None] <= self.m[l][None, :] for l in range(L)]
            masks.append(self.m[L - 1][:, None] < self.m[-1][None, :])
            if self.nout > self.nin:
                k = int(self.nout / self.nin)
                masks[-1] = np.concatenate([masks[-1]] * k, axis=1)
            layers = [l for l in self.net.modules() if isinstance(l, MaskedLinear)]
            for l, m in zip(layers, masks):  # noqa: E741
                l.set_mask(m)

        def forward(self, x):
            return self.net(x)

    class MAFLayer(nn.Module):
        def __init__(self, dim, hidden, reverse):
            super().__init__()
            self.dim = dim
            self.made = MADE(dim, hidden, 2 * dim, natural_ordering=True)
            self.reverse = reverse

        def forward(self, x):
            out = self.made(x.float())
            mu, logp = lib.chunk(out, 2, dim=1)
            u = (x - mu) * lib.exp(0.5 * logp)
            u = u.flip(dims=(1,)) if self.reverse else u
            log_det = 0.5 * lib.sum(logp, dim=1)
            return u, log_det

        def backward(self, u):
            u = u.flip(dims=(1,)) if self.reverse else u
            x = lib.zeros_like(u)
            for dim in range(self.dim):
                out = self.made(x)
                mu, logp = lib.chunk(out, 2, dim=1)
                mod_logp = lib.clamp(-0.5 * logp, max=10)
                x[:, dim] = mu[:, dim] + u[:, dim] * lib.exp(mod_logp[:, dim])
            log_det = lib.sum(mod_logp, axis=1)
            return x, log_det

    class MAF(nn.Module):
        def __init__(self, dim, n_layers, hidden):
            super().__init__()
            self.layers = nn.ModuleList([MAFLayer(dim, hidden, reverse=bool(i % 2)) for i in range(n_layers)])

        def forward(self, x):
            log_det_sum = lib.zeros(x.shape[0])
            for layer in self.layers:
                x, log_det = layer(x)
                log_det_sum += log_det
            return x, log_det_sum

        def backward(self, x):
            log_det_sum = lib.zeros(x.shape[0])
            for layer in reversed(self.layers):
                x, log_det = layer.backward(x)
                log_det_sum += log_det
            return x, log_det_sum

    lib.manual_seed(0)
    n = 64
    t = lib.rand(n) * 2 * math.pi
    data = lib.stack([lib.cos(t), lib.sin(t) * 0.5, 0.3 * t - 1], 1) + 0.05 * lib.randn(n, 3)
    model = MAF(3, 4, [16, 16])
    record = [model.layers[0].made.net[0].mask, model.layers[0].made.net[0].mask.dtype]
    opt = lib.optim.Adam(model.parameters(), lr=5e-3, weight_decay=1e-6)
    base = lib.distributions.Normal(0.0, 1.0)
    for _ in range(5):
        u, log_det = model(data)
        log_prob = base.log_prob(u).sum(dim=1) + log_det
        loss = -lib.mean(log_prob)
        opt.zero_grad()
        loss.backward()
        opt.step()
        record.append(loss)
    record += params(model)
    model.eval()
    with lib.no_grad():
        z = lib.randn(8, 3)
        x, log_det = model.backward(z)
        record += [x, log_det]
        u, _ = model(x)
        record.append(u)

    # a MADE on binarized data with order-agnostic masks resampled per step
    lib.manual_seed(0)
    made = MADE(6, [24, 24], 6, num_masks=3)
    xb = (lib.rand(16, 6) > 0.5).float()
    opt = lib.optim.Adagrad(made.parameters(), lr=0.1)
    for _ in range(4):
        made.update_masks()
        logits = made(xb)
        loss = F.binary_cross_entropy_with_logits(logits, xb, reduction="sum") / xb.size(0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        record.append(loss)
    record += params(made)
    return record


def test_made_and_maf_with_mask_buffers_train_and_sample_as_torch():
    both(made_maf)


# -- Set Transformer and Deep Sets -------------------------------------------------------------------------------


def set_transformer(lib):
    nn, F = lib.nn, lib.nn.functional

    class MAB(nn.Module):
        def __init__(self, dim_Q, dim_K, dim_V, num_heads, ln=False):
            super().__init__()
            self.dim_V = dim_V
            self.num_heads = num_heads
            self.fc_q = nn.Linear(dim_Q, dim_V)
            self.fc_k = nn.Linear(dim_K, dim_V)
            self.fc_v = nn.Linear(dim_K, dim_V)
            if ln:
                self.ln0 = nn.LayerNorm(dim_V)
                self.ln1 = nn.LayerNorm(dim_V)
            self.fc_o = nn.Linear(dim_V, dim_V)

        def forward(self, Q, K):
            Q = self.fc_q(Q)
            K, V = self.fc_k(K), self.fc_v(K)
            dim_split = self.dim_V // self.num_heads
            Q_ = lib.cat(Q.split(dim_split, 2), 0)
            K_ = lib.cat(K.split(dim_split, 2), 0)
            V_ = lib.cat(V.split(dim_split, 2), 0)
            A = lib.softmax(Q_.bmm(K_.transpose(1, 2)) / math.sqrt(self.dim_V), 2)
            O = lib.cat((Q_ + A.bmm(V_)).split(Q.size(0), 0), 2)  # noqa: E741
            O = O if getattr(self, "ln0", None) is None else self.ln0(O)  # noqa: E741
            O = O + F.relu(self.fc_o(O))  # noqa: E741
            O = O if getattr(self, "ln1", None) is None else self.ln1(O)  # noqa: E741
            return O

    class SAB(nn.Module):
        def __init__(self, dim_in, dim_out, num_heads, ln=False):
            super().__init__()
            self.mab = MAB(dim_in, dim_in, dim_out, num_heads, ln=ln)

        def forward(self, X):
            return self.mab(X, X)

    class ISAB(nn.Module):
        def __init__(self, dim_in, dim_out, num_heads, num_inds, ln=False):
            super().__init__()
            self.I = nn.Parameter(lib.Tensor(1, num_inds, dim_out))
            nn.init.xavier_uniform_(self.I)
            self.mab0 = MAB(dim_out, dim_in, dim_out, num_heads, ln=ln)
            self.mab1 = MAB(dim_in, dim_out, dim_out, num_heads, ln=ln)

        def forward(self, X):
            H = self.mab0(self.I.repeat(X.size(0), 1, 1), X)
            return self.mab1(X, H)

    class PMA(nn.Module):
        def __init__(self, dim, num_heads, num_seeds, ln=False):
            super().__init__()
            self.S = nn.Parameter(lib.Tensor(1, num_seeds, dim))
            nn.init.xavier_uniform_(self.S)
            self.mab = MAB(dim, dim, dim, num_heads, ln=ln)

        def forward(self, X):
            return self.mab(self.S.repeat(X.size(0), 1, 1), X)

    class SetTransformer(nn.Module):
        def __init__(self, dim_input, num_outputs, dim_output, num_inds=4, dim_hidden=16, num_heads=4, ln=True):
            super().__init__()
            self.enc = nn.Sequential(
                ISAB(dim_input, dim_hidden, num_heads, num_inds, ln=ln),
                ISAB(dim_hidden, dim_hidden, num_heads, num_inds, ln=ln),
            )
            self.dec = nn.Sequential(
                PMA(dim_hidden, num_heads, num_outputs, ln=ln),
                SAB(dim_hidden, dim_hidden, num_heads, ln=ln),
                nn.Linear(dim_hidden, dim_output),
            )

        def forward(self, X):
            return self.dec(self.enc(X)).squeeze()

    class PermEqui2_max(nn.Module):
        def __init__(self, in_dim, out_dim):
            super().__init__()
            self.Gamma = nn.Linear(in_dim, out_dim)
            self.Lambda = nn.Linear(in_dim, out_dim, bias=False)

        def forward(self, x):
            xm, _ = x.max(1, keepdim=True)
            xm = self.Lambda(xm)
            x = self.Gamma(x)
            return x - xm

    class DeepSets(nn.Module):
        def __init__(self, d_dim, x_dim=1):
            super().__init__()
            self.phi = nn.Sequential(PermEqui2_max(x_dim, d_dim), nn.ELU(inplace=True), PermEqui2_max(d_dim, d_dim))
            self.ro = nn.Sequential(
                nn.Dropout(p=0.5), nn.Linear(d_dim, d_dim), nn.ELU(inplace=True), nn.Linear(d_dim, 1)
            )

        def forward(self, x):
            phi_output = self.phi(x)
            sum_output, _ = phi_output.max(1)
            return self.ro(sum_output).squeeze(-1)

    lib.manual_seed(0)
    X = lib.randn(8, 10, 1)
    target = X.squeeze(-1).amax(1)
    record = []
    for model in (SetTransformer(1, 1, 1), DeepSets(12)):
        # (the keys' biases get no gradient but rounding noise, softmax being shift-invariant: Adam's
        # normalised steps would follow the noise)
        if isinstance(model, SetTransformer):
            opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        else:
            opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(4):
            loss = F.l1_loss(model(X), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            record.append(loss)
        record += params(model)
        model.eval()
        with lib.no_grad():
            perm = lib.randperm(10)
            out, out_perm = model(X), model(X[:, perm])
            record += [out, out_perm]
    return record


def test_set_transformer_and_deep_sets_train_as_torch():
    both(set_transformer)


# -- DPO ------------------------------------------------------------------------------------------------------


def dpo(lib, loss_type):
    nn, F = lib.nn, lib.nn.functional
    V, D = 17, 16

    class TinyLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(V, D)
            self.wpe = nn.Embedding(16, D)
            # (without biases: the keys' bias gets no gradient but rounding noise, which RMSprop's
            # normalised steps would follow)
            layer = nn.TransformerEncoderLayer(D, 2, 32, dropout=0.0, batch_first=True, norm_first=True, bias=False)
            self.h = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
            self.ln_f = nn.LayerNorm(D)
            self.lm_head = nn.Linear(D, V, bias=False)
            self.lm_head.weight = self.wte.weight

        def forward(self, input_ids, attention_mask):
            T = input_ids.shape[1]
            x = self.wte(input_ids) + self.wpe(lib.arange(T))
            causal = nn.Transformer.generate_square_subsequent_mask(T)
            x = self.h(x, mask=causal, src_key_padding_mask=attention_mask == 0, is_causal=True)
            return self.lm_head(self.ln_f(x))

    def pad_to_length(tensor, length, pad_value, dim=-1):
        if tensor.size(dim) >= length:
            return tensor
        pad_size = list(tensor.shape)
        pad_size[dim] = length - tensor.size(dim)
        return lib.cat([tensor, pad_value * lib.ones(*pad_size, dtype=tensor.dtype, device=tensor.device)], dim=dim)

    def concatenated_inputs(batch):
        max_length = max(batch["chosen_input_ids"].shape[1], batch["rejected_input_ids"].shape[1])
        concatenated_batch = {}
        for k in batch:
            if k.startswith("chosen") and isinstance(batch[k], lib.Tensor):
                pad_value = -100 if "labels" in k else 0
                concatenated_key = k.replace("chosen", "concatenated")
                concatenated_batch[concatenated_key] = pad_to_length(batch[k], max_length, pad_value=pad_value)
        for k in batch:
            if k.startswith("rejected") and isinstance(batch[k], lib.Tensor):
                pad_value = -100 if "labels" in k else 0
                concatenated_key = k.replace("rejected", "concatenated")
                concatenated_batch[concatenated_key] = lib.cat(
                    (concatenated_batch[concatenated_key], pad_to_length(batch[k], max_length, pad_value=pad_value)),
                    dim=0,
                )
        return concatenated_batch

    def _get_batch_logps(logits, labels, average_log_prob=False):
        assert logits.shape[:-1] == labels.shape
        labels = labels[:, 1:].clone()
        logits = logits[:, :-1, :]
        loss_mask = labels != -100
        labels[labels == -100] = 0
        per_token_logps = lib.gather(logits.log_softmax(-1), dim=2, index=labels.unsqueeze(2)).squeeze(2)
        if average_log_prob:
            return (per_token_logps * loss_mask).sum(-1) / loss_mask.sum(-1)
        return (per_token_logps * loss_mask).sum(-1)

    def concatenated_forward(model, batch):
        concatenated_batch = concatenated_inputs(batch)
        all_logits = model(
            concatenated_batch["concatenated_input_ids"],
            attention_mask=concatenated_batch["concatenated_attention_mask"],
        ).to(lib.float32)
        all_logps = _get_batch_logps(all_logits, concatenated_batch["concatenated_labels"], average_log_prob=False)
        n = batch["chosen_input_ids"].shape[0]
        return all_logps[:n], all_logps[n:]

    def preference_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta, label_smoothing=0.0):
        pi_logratios = policy_chosen - policy_rejected
        ref_logratios = ref_chosen - ref_rejected
        logits = pi_logratios - ref_logratios
        if loss_type == "ipo":
            losses = (logits - 1 / (2 * beta)) ** 2
        else:
            losses = (
                -F.logsigmoid(beta * logits) * (1 - label_smoothing) - F.logsigmoid(-beta * logits) * label_smoothing
            )
        chosen_rewards = beta * (policy_chosen - ref_chosen).detach()
        rejected_rewards = beta * (policy_rejected - ref_rejected).detach()
        return losses, chosen_rewards, rejected_rewards

    def make(prompt_len, response_lens, g):
        ids, masks, labels = [], [], []
        L = prompt_len + max(response_lens)
        for n in response_lens:
            seq = lib.randint(1, V, (prompt_len + n,), generator=g)
            lab = seq.clone()
            lab[:prompt_len] = -100
            ids.append(pad_to_length(seq, L, 0))
            masks.append(pad_to_length(lib.ones(prompt_len + n, dtype=lib.long), L, 0))
            labels.append(pad_to_length(lab, L, -100))
        return lib.stack(ids), lib.stack(masks), lib.stack(labels)

    lib.manual_seed(0)
    policy = TinyLM()
    reference_model = copy.deepcopy(policy)
    reference_model.requires_grad_(False).eval()
    g = lib.Generator().manual_seed(3)
    c_ids, c_mask, c_labels = make(4, [5, 3, 6], g)
    r_ids, r_mask, r_labels = make(4, [2, 7, 4], g)
    batch = {
        "chosen_input_ids": c_ids, "chosen_attention_mask": c_mask, "chosen_labels": c_labels,
        "rejected_input_ids": r_ids, "rejected_attention_mask": r_mask, "rejected_labels": r_labels,
        "prompt": ["a", "b", "c"],
    }  # fmt: skip
    opt = lib.optim.RMSprop(policy.parameters(), lr=1e-3)
    warmup = 2
    scheduler = lib.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda step: min(1.0, (step + 1) / (warmup + 1)))
    record = []
    for _ in range(4):
        policy_chosen_logps, policy_rejected_logps = concatenated_forward(policy, batch)
        with lib.no_grad():
            reference_chosen_logps, reference_rejected_logps = concatenated_forward(reference_model, batch)
        losses, chosen_rewards, rejected_rewards = preference_loss(
            policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps,
            beta=0.1, label_smoothing=0.1,
        )  # fmt: skip
        reward_accuracies = (chosen_rewards > rejected_rewards).float()
        opt.zero_grad()
        losses.mean().backward()
        grad_norm = nn.utils.clip_grad_norm_(policy.parameters(), 10.0)
        opt.step()
        scheduler.step()
        record += [losses, chosen_rewards, rejected_rewards, reward_accuracies, grad_norm]
        record.append((chosen_rewards - rejected_rewards).cpu().numpy().tolist())
    record += params(policy)
    record.append(policy.lm_head.weight is policy.wte.weight)
    return record


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo"])
def test_dpo_with_a_frozen_reference_trains_as_torch(loss_type):
    both(dpo, loss_type)


# -- SAC and TD3 ----------------------------------------------------------------------------------------------


LOG_STD_MAX, LOG_STD_MIN = 2, -5


def sac_td3(lib):
    nn, F = lib.nn, lib.nn.functional
    obs_dim, act_dim = 5, 2
    high = np.array([2.0, 1.0], dtype=np.float32)
    low = np.array([-2.0, 0.0], dtype=np.float32)

    class SoftQNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(obs_dim + act_dim, 32)
            self.fc2 = nn.Linear(32, 32)
            self.fc3 = nn.Linear(32, 1)

        def forward(self, x, a):
            x = lib.cat([x, a], 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    class Actor(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(obs_dim, 32)
            self.fc2 = nn.Linear(32, 32)
            self.fc_mean = nn.Linear(32, act_dim)
            self.fc_logstd = nn.Linear(32, act_dim)
            self.register_buffer("action_scale", lib.tensor((high - low) / 2.0, dtype=lib.float32))
            self.register_buffer("action_bias", lib.tensor((high + low) / 2.0, dtype=lib.float32))

        def forward(self, x):
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            mean = self.fc_mean(x)
            log_std = self.fc_logstd(x)
            log_std = lib.tanh(log_std)
            log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (log_std + 1)
            return mean, log_std

        def get_action(self, x):
            mean, log_std = self(x)
            std = log_std.exp()
            normal = lib.distributions.Normal(mean, std)
            x_t = normal.rsample()
            y_t = lib.tanh(x_t)
            action = y_t * self.action_scale + self.action_bias
            log_prob = normal.log_prob(x_t)
            log_prob -= lib.log(self.action_scale * (1 - y_t.pow(2)) + 1e-6)
            log_prob = log_prob.sum(1, keepdim=True)
            mean = lib.tanh(mean) * self.action_scale + self.action_bias
            return action, log_prob, mean

    class DetActor(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(obs_dim, 32)
            self.fc2 = nn.Linear(32, 32)
            self.fc_mu = nn.Linear(32, act_dim)
            self.register_buffer("action_scale", lib.tensor((high - low) / 2.0, dtype=lib.float32))
            self.register_buffer("action_bias", lib.tensor((high + low) / 2.0, dtype=lib.float32))

        def forward(self, x):
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return lib.tanh(self.fc_mu(x)) * self.action_scale + self.action_bias

    lib.manual_seed(1)
    B, gamma, tau = 16, 0.99, 0.005
    obs = lib.randn(B, obs_dim)
    next_obs = lib.randn(B, obs_dim)
    actions = lib.rand(B, act_dim) * lib.tensor(high - low) + lib.tensor(low)
    rewards = lib.randn(B)
    dones = (lib.rand(B) < 0.2).float()
    record = []

    # SAC with automatic entropy tuning
    actor = Actor()
    qf1, qf2 = SoftQNetwork(), SoftQNetwork()
    qf1_target, qf2_target = SoftQNetwork(), SoftQNetwork()
    qf1_target.load_state_dict(qf1.state_dict())
    qf2_target.load_state_dict(qf2.state_dict())
    q_optimizer = lib.optim.Adam(list(qf1.parameters()) + list(qf2.parameters()), lr=1e-3)
    actor_optimizer = lib.optim.Adam(list(actor.parameters()), lr=3e-4)
    target_entropy = -lib.prod(lib.Tensor(np.array([act_dim]))).item()
    log_alpha = lib.zeros(1, requires_grad=True)
    alpha = log_alpha.exp().item()
    a_optimizer = lib.optim.Adam([log_alpha], lr=1e-3)
    for global_step in range(4):
        with lib.no_grad():
            next_state_actions, next_state_log_pi, _ = actor.get_action(next_obs)
            qf1_next_target = qf1_target(next_obs, next_state_actions)
            qf2_next_target = qf2_target(next_obs, next_state_actions)
            min_qf_next_target = lib.min(qf1_next_target, qf2_next_target) - alpha * next_state_log_pi
            next_q_value = rewards.flatten() + (1 - dones.flatten()) * gamma * (min_qf_next_target).view(-1)
        qf1_a_values = qf1(obs, actions).view(-1)
        qf2_a_values = qf2(obs, actions).view(-1)
        qf1_loss = F.mse_loss(qf1_a_values, next_q_value)
        qf2_loss = F.mse_loss(qf2_a_values, next_q_value)
        qf_loss = qf1_loss + qf2_loss
        q_optimizer.zero_grad()
        qf_loss.backward()
        q_optimizer.step()
        if global_step % 2 == 0:
            for _ in range(2):
                pi, log_pi, _ = actor.get_action(obs)
                qf1_pi = qf1(obs, pi)
                qf2_pi = qf2(obs, pi)
                min_qf_pi = lib.min(qf1_pi, qf2_pi)
                actor_loss = ((alpha * log_pi) - min_qf_pi).mean()
                actor_optimizer.zero_grad()
                actor_loss.backward()
                actor_optimizer.step()
                with lib.no_grad():
                    _, log_pi, _ = actor.get_action(obs)
                alpha_loss = (-log_alpha.exp() * (log_pi + target_entropy)).mean()
                a_optimizer.zero_grad()
                alpha_loss.backward()
                a_optimizer.step()
                alpha = log_alpha.exp().item()
                record += [actor_loss, alpha_loss, alpha]
        for param, target_param in zip(qf1.parameters(), qf1_target.parameters()):
            target_param.data.copy_(tau * param.data + (1 - tau) * target_param.data)
        for param, target_param in zip(qf2.parameters(), qf2_target.parameters()):
            target_param.data.copy_(tau * param.data + (1 - tau) * target_param.data)
        record += [qf1_loss, qf2_loss, qf1_a_values.mean().item()]
    record += params(actor) + params(qf1_target) + [log_alpha]
    with lib.no_grad():
        record.append(actor.get_action(obs)[2])

    # TD3 with target policy smoothing
    actor = DetActor()
    target_actor = DetActor()
    target_actor.load_state_dict(actor.state_dict())
    qf1, qf2 = SoftQNetwork(), SoftQNetwork()
    qf1_target, qf2_target = copy.deepcopy(qf1), copy.deepcopy(qf2)
    q_optimizer = lib.optim.Adam(list(qf1.parameters()) + list(qf2.parameters()), lr=3e-4)
    actor_optimizer = lib.optim.Adam(list(actor.parameters()), lr=3e-4)
    policy_noise, noise_clip = 0.2, 0.5
    for global_step in range(4):
        with lib.no_grad():
            clipped_noise = (lib.randn_like(actions) * policy_noise).clamp(
                -noise_clip, noise_clip
            ) * target_actor.action_scale
            next_state_actions = (target_actor(next_obs) + clipped_noise).clamp(
                lib.tensor(low)[0].item(), lib.tensor(high)[0].item()
            )
            qf1_next_target = qf1_target(next_obs, next_state_actions)
            qf2_next_target = qf2_target(next_obs, next_state_actions)
            min_qf_next_target = lib.min(qf1_next_target, qf2_next_target)
            next_q_value = rewards.flatten() + (1 - dones.flatten()) * gamma * (min_qf_next_target).view(-1)
        qf_loss = F.mse_loss(qf1(obs, actions).view(-1), next_q_value) + F.mse_loss(
            qf2(obs, actions).view(-1), next_q_value
        )
        q_optimizer.zero_grad()
        qf_loss.backward()
        q_optimizer.step()
        record.append(qf_loss)
        if global_step % 2 == 0:
            actor_loss = -qf1(obs, actor(obs)).mean()
            actor_optimizer.zero_grad()
            actor_loss.backward()
            actor_optimizer.step()
            record.append(actor_loss)
            for net, target in ((actor, target_actor), (qf1, qf1_target), (qf2, qf2_target)):
                for param, target_param in zip(net.parameters(), target.parameters()):
                    target_param.data.copy_(tau * param.data + (1 - tau) * target_param.data)
    record += params(target_actor) + params(qf2_target)
    return record


def test_cleanrl_sac_and_td3_train_as_torch():
    both(sac_td3)


# -- rectified flow ----------------------------------------------------------------------------------------------


def rectified_flow(lib):
    nn = lib.nn

    class TimeEmbedding(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.dim = dim
            self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

        def forward(self, t):
            half = self.dim // 2
            freqs = lib.exp(-math.log(10000) * lib.arange(start=0, end=half, dtype=lib.float32) / half)
            args = t[:, None].float() * 1000 * freqs[None]
            emb = lib.cat([lib.cos(args), lib.sin(args)], dim=-1)
            return self.mlp(emb)

    class VelocityNet(nn.Module):
        def __init__(self, dim=2, hidden=32):
            super().__init__()
            self.t_emb = TimeEmbedding(hidden)
            self.inp = nn.Linear(dim, hidden)
            self.blocks = nn.ModuleList(
                nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, hidden * 2), nn.GELU(approximate="tanh"),
                              nn.Linear(hidden * 2, hidden))
                for _ in range(2)
            )  # fmt: skip
            self.out = nn.Linear(hidden, dim)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

        def forward(self, x, t):
            h = self.inp(x) + self.t_emb(t)
            for block in self.blocks:
                h = h + block(h)
            return self.out(h)

    lib.manual_seed(0)
    n = 128
    theta = lib.rand(n) * math.pi
    data = lib.stack([lib.cos(theta), lib.sin(theta)], 1) + 0.05 * lib.randn(n, 2)
    model = VelocityNet()
    ema = lib.optim.swa_utils.AveragedModel(model, multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9))
    opt = lib.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.95))
    sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=1e-4)
    record = []
    for _ in range(6):
        x1 = data[lib.randint(0, n, (32,))]
        x0 = lib.randn_like(x1)
        t = lib.rand(x1.shape[0])
        texp = t.view([-1] + [1] * (x1.dim() - 1))
        xt = (1 - texp) * x0 + texp * x1
        loss = ((model(xt, t) - (x1 - x0)) ** 2).mean(dim=list(range(1, x1.dim()))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        ema.update_parameters(model)
        record += [loss, sched.get_last_lr()[0]]
    record += params(model) + params(ema.module)

    @lib.no_grad()
    def sample(net, z, steps, method):
        dt = 1.0 / steps
        x = z.clone()
        traj = [x]
        for i in range(steps):
            t = lib.full((x.shape[0],), i / steps)
            if method == "euler":
                x = x + dt * net(x, t)
            else:
                mid = x + 0.5 * dt * net(x, t)
                x = x + dt * net(mid, t + 0.5 * dt)
            traj.append(x)
        return lib.stack(traj)

    z = lib.randn(16, 2)
    record.append(sample(ema.module, z, 5, "euler"))
    record.append(sample(model, z, 4, "midpoint"))
    return record


def test_rectified_flow_with_ema_trains_and_samples_as_torch():
    both(rectified_flow)


# -- Show, Attend and Tell ------------------------------------------------------------------------------------


def show_attend_tell(lib):
    nn = lib.nn
    from_packed = lib.nn.utils.rnn.pack_padded_sequence

    class Attention(nn.Module):
        def __init__(self, encoder_dim, decoder_dim, attention_dim):
            super().__init__()
            self.encoder_att = nn.Linear(encoder_dim, attention_dim)
            self.decoder_att = nn.Linear(decoder_dim, attention_dim)
            self.full_att = nn.Linear(attention_dim, 1)
            self.relu = nn.ReLU()
            self.softmax = nn.Softmax(dim=1)

        def forward(self, encoder_out, decoder_hidden):
            att1 = self.encoder_att(encoder_out)
            att2 = self.decoder_att(decoder_hidden)
            att = self.full_att(self.relu(att1 + att2.unsqueeze(1))).squeeze(2)
            alpha = self.softmax(att)
            attention_weighted_encoding = (encoder_out * alpha.unsqueeze(2)).sum(dim=1)
            return attention_weighted_encoding, alpha

    class DecoderWithAttention(nn.Module):
        def __init__(self, attention_dim, embed_dim, decoder_dim, vocab_size, encoder_dim=12, dropout=0.5):
            super().__init__()
            self.encoder_dim, self.vocab_size = encoder_dim, vocab_size
            self.attention = Attention(encoder_dim, decoder_dim, attention_dim)
            self.embedding = nn.Embedding(vocab_size, embed_dim)
            self.dropout = nn.Dropout(p=dropout)
            self.decode_step = nn.LSTMCell(embed_dim + encoder_dim, decoder_dim, bias=True)
            self.init_h = nn.Linear(encoder_dim, decoder_dim)
            self.init_c = nn.Linear(encoder_dim, decoder_dim)
            self.f_beta = nn.Linear(decoder_dim, encoder_dim)
            self.sigmoid = nn.Sigmoid()
            self.fc = nn.Linear(decoder_dim, vocab_size)
            self.embedding.weight.data.uniform_(-0.1, 0.1)
            self.fc.bias.data.fill_(0)
            self.fc.weight.data.uniform_(-0.1, 0.1)

        def init_hidden_state(self, encoder_out):
            mean_encoder_out = encoder_out.mean(dim=1)
            return self.init_h(mean_encoder_out), self.init_c(mean_encoder_out)

        def forward(self, encoder_out, encoded_captions, caption_lengths):
            batch_size = encoder_out.size(0)
            encoder_dim = encoder_out.size(-1)
            encoder_out = encoder_out.view(batch_size, -1, encoder_dim)
            num_pixels = encoder_out.size(1)
            caption_lengths, sort_ind = caption_lengths.squeeze(1).sort(dim=0, descending=True)
            encoder_out = encoder_out[sort_ind]
            encoded_captions = encoded_captions[sort_ind]
            embeddings = self.embedding(encoded_captions)
            h, c = self.init_hidden_state(encoder_out)
            decode_lengths = (caption_lengths - 1).tolist()
            predictions = lib.zeros(batch_size, max(decode_lengths), self.vocab_size)
            alphas = lib.zeros(batch_size, max(decode_lengths), num_pixels)
            for t in range(max(decode_lengths)):
                batch_size_t = sum([l > t for l in decode_lengths])  # noqa: E741
                attention_weighted_encoding, alpha = self.attention(encoder_out[:batch_size_t], h[:batch_size_t])
                gate = self.sigmoid(self.f_beta(h[:batch_size_t]))
                attention_weighted_encoding = gate * attention_weighted_encoding
                h, c = self.decode_step(
                    lib.cat([embeddings[:batch_size_t, t, :], attention_weighted_encoding], dim=1),
                    (h[:batch_size_t], c[:batch_size_t]),
                )
                preds = self.fc(self.dropout(h))
                predictions[:batch_size_t, t, :] = preds
                alphas[:batch_size_t, t, :] = alpha
            return predictions, encoded_captions, decode_lengths, alphas, sort_ind

    def accuracy(scores, targets, k):
        batch_size = targets.size(0)
        _, ind = scores.topk(k, 1, True, True)
        correct = ind.eq(targets.view(-1, 1).expand_as(ind))
        correct_total = correct.view(-1).float().sum()
        return correct_total.item() * (100.0 / batch_size)

    def clip_gradient(optimizer, grad_clip):
        for group in optimizer.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    param.grad.data.clamp_(-grad_clip, grad_clip)

    lib.manual_seed(0)
    vocab = 15
    decoder = DecoderWithAttention(attention_dim=10, embed_dim=8, decoder_dim=16, vocab_size=vocab)
    # (the attention score's bias gets no gradient but rounding noise, the softmax being shift-invariant:
    # Adam's normalised steps would follow the noise)
    decoder.attention.full_att.bias.requires_grad_(False)
    decoder_optimizer = lib.optim.Adam(params=filter(lambda p: p.requires_grad, decoder.parameters()), lr=4e-3)
    criterion = nn.CrossEntropyLoss()
    imgs = lib.randn(4, 3, 3, 12)
    caps = lib.randint(1, vocab, (4, 7))
    caplens = lib.tensor([[5], [7], [3], [6]])
    record = []
    for _ in range(3):
        scores, caps_sorted, decode_lengths, alphas, sort_ind = decoder(imgs, caps, caplens)
        targets = caps_sorted[:, 1:]
        scores = from_packed(scores, decode_lengths, batch_first=True).data
        targets = from_packed(targets, decode_lengths, batch_first=True).data
        loss = criterion(scores, targets)
        loss += 1.0 * ((1.0 - alphas.sum(dim=1)) ** 2).mean()
        decoder_optimizer.zero_grad()
        loss.backward()
        clip_gradient(decoder_optimizer, 0.05)
        decoder_optimizer.step()
        record += [loss, accuracy(scores, targets, 5), sort_ind, scores]
    record += params(decoder)
    return record


def test_show_attend_and_tell_with_packed_targets_trains_as_torch():
    both(show_attend_tell)


# -- ArcFace, SwAV's Sinkhorn-Knopp and DINO ------------------------------------------------------------------


def arcface_swav_dino(lib):
    nn, F = lib.nn, lib.nn.functional
    record = []

    class ArcMarginProduct(nn.Module):
        def __init__(self, in_features, out_features, s=30.0, m=0.50, easy_margin=False):
            super().__init__()
            self.s, self.m = s, m
            self.weight = nn.Parameter(lib.FloatTensor(out_features, in_features))
            nn.init.xavier_uniform_(self.weight)
            self.easy_margin = easy_margin
            self.cos_m, self.sin_m = math.cos(m), math.sin(m)
            self.th = math.cos(math.pi - m)
            self.mm = math.sin(math.pi - m) * m

        def forward(self, input, label):
            cosine = F.linear(F.normalize(input), F.normalize(self.weight))
            sine = lib.sqrt((1.0 - lib.pow(cosine, 2)).clamp(0, 1))
            phi = cosine * self.cos_m - sine * self.sin_m
            if self.easy_margin:
                phi = lib.where(cosine > 0, phi, cosine)
            else:
                phi = lib.where(cosine > self.th, phi, cosine - self.mm)
            one_hot = lib.zeros(cosine.size())
            one_hot.scatter_(1, label.view(-1, 1).long(), 1)
            output = (one_hot * phi) + ((1.0 - one_hot) * cosine)
            return output * self.s

    lib.manual_seed(0)
    backbone = nn.Sequential(nn.Linear(6, 16), nn.PReLU(), nn.Linear(16, 8), nn.BatchNorm1d(8))
    head = ArcMarginProduct(8, 5, s=16.0, m=0.3)
    opt = lib.optim.SGD(
        [{"params": backbone.parameters()}, {"params": head.parameters(), "weight_decay": 5e-4}], lr=0.05
    )
    x = lib.randn(10, 6)
    y = lib.randint(0, 5, (10,))
    for _ in range(3):
        loss = F.cross_entropy(head(backbone(x), y), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        record.append(loss)
    record += params(backbone) + params(head)

    @lib.no_grad()
    def distributed_sinkhorn(out, epsilon=0.05, sinkhorn_iterations=3):
        Q = lib.exp(out / epsilon).t()
        B = Q.shape[1]
        K = Q.shape[0]
        sum_Q = lib.sum(Q)
        Q /= sum_Q
        for _ in range(sinkhorn_iterations):
            sum_of_rows = lib.sum(Q, dim=1, keepdim=True)
            Q /= sum_of_rows
            Q /= K
            Q /= lib.sum(Q, dim=0, keepdim=True)
            Q /= B
        Q *= B
        return Q.t()

    lib.manual_seed(1)
    projection = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(inplace=True), nn.Linear(16, 8))
    prototypes = nn.Linear(8, 6, bias=False)
    opt = lib.optim.SGD(list(projection.parameters()) + list(prototypes.parameters()), lr=0.1, momentum=0.9)
    crops = [lib.randn(8, 6) for _ in range(3)]
    for it in range(3):
        with lib.no_grad():
            w = prototypes.weight.data.clone()
            w = F.normalize(w, dim=1, p=2)
            prototypes.weight.copy_(w)
        embedding = F.normalize(projection(lib.cat(crops)), dim=1, p=2)
        output = prototypes(embedding)
        bs = 8
        loss = 0
        for crop_id in [0, 1]:
            with lib.no_grad():
                out = output[bs * crop_id : bs * (crop_id + 1)].detach()
                q = distributed_sinkhorn(out)[-bs:]
            subloss = 0
            for v in np.delete(np.arange(3), crop_id):
                x = output[bs * v : bs * (v + 1)] / 0.1
                subloss -= lib.mean(lib.sum(q * F.log_softmax(x, dim=1), dim=1))
            loss += subloss / 2
        loss /= 2
        opt.zero_grad()
        loss.backward()
        if it < 1:
            for name, p in prototypes.named_parameters():
                if "weight" in name:
                    p.grad = None
        opt.step()
        record += [loss, q]
    record += params(projection) + params(prototypes)

    class DINOHead(nn.Module):
        def __init__(self, in_dim, out_dim, norm_last_layer=True, hidden_dim=16, bottleneck_dim=8):
            super().__init__()
            self.mlp = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, bottleneck_dim))
            self.apply(self._init_weights)
            self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck_dim, out_dim, bias=False))
            self.last_layer.weight_g.data.fill_(1)
            if norm_last_layer:
                self.last_layer.weight_g.requires_grad = False

        def _init_weights(self, m):
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

        def forward(self, x):
            x = self.mlp(x)
            x = F.normalize(x, dim=-1, p=2)
            return self.last_layer(x)

    class DINOLoss(nn.Module):
        def __init__(self, out_dim, ncrops, warmup_teacher_temp=0.04, teacher_temp=0.07, student_temp=0.1):
            super().__init__()
            self.student_temp = student_temp
            self.center_momentum = 0.9
            self.ncrops = ncrops
            self.register_buffer("center", lib.zeros(1, out_dim))
            self.teacher_temp_schedule = np.concatenate(
                (np.linspace(warmup_teacher_temp, teacher_temp, 2), np.ones(3) * teacher_temp)
            )

        def forward(self, student_output, teacher_output, epoch):
            student_out = student_output / self.student_temp
            student_out = student_out.chunk(self.ncrops)
            temp = self.teacher_temp_schedule[epoch]
            teacher_out = F.softmax((teacher_output - self.center) / temp, dim=-1)
            teacher_out = teacher_out.detach().chunk(2)
            total_loss = 0
            n_loss_terms = 0
            for iq, q in enumerate(teacher_out):
                for v in range(len(student_out)):
                    if v == iq:
                        continue
                    loss = lib.sum(-q * F.log_softmax(student_out[v], dim=-1), dim=-1)
                    total_loss += loss.mean()
                    n_loss_terms += 1
            total_loss /= n_loss_terms
            self.update_center(teacher_output)
            return total_loss

        @lib.no_grad()
        def update_center(self, teacher_output):
            batch_center = lib.sum(teacher_output, dim=0, keepdim=True)
            batch_center = batch_center / len(teacher_output)
            self.center = self.center * self.center_momentum + batch_center * (1 - self.center_momentum)

    lib.manual_seed(2)
    student = nn.Sequential(nn.Linear(6, 12), DINOHead(12, 10))
    teacher = nn.Sequential(nn.Linear(6, 12), DINOHead(12, 10))
    teacher.load_state_dict(student.state_dict())
    for p in teacher.parameters():
        p.requires_grad = False
    dino_loss = DINOLoss(10, ncrops=4)
    regularized = [p for n, p in student.named_parameters() if not n.endswith(".bias") and len(p.shape) != 1]
    not_regularized = [p for n, p in student.named_parameters() if n.endswith(".bias") or len(p.shape) == 1]
    opt = lib.optim.AdamW([{"params": regularized}, {"params": not_regularized, "weight_decay": 0.0}], lr=5e-3)
    wd_schedule = np.linspace(0.04, 0.4, 4)
    momentum_schedule = 1 - (1 - 0.996) * (np.cos(np.pi * np.arange(4) / 4) + 1) / 2
    images = [lib.randn(6, 6) for _ in range(4)]
    for it in range(4):
        for i, param_group in enumerate(opt.param_groups):
            if i == 0:
                param_group["weight_decay"] = wd_schedule[it]
        teacher_output = teacher(lib.cat(images[:2]))
        student_output = student(lib.cat(images))
        loss = dino_loss(student_output, teacher_output, it)
        opt.zero_grad()
        loss.backward()
        norms = []
        for _, p in student.named_parameters():
            if p.grad is not None:
                param_norm = p.grad.data.norm(2)
                norms.append(param_norm.item())
                clip_coef = 3.0 / (param_norm + 1e-6)
                if clip_coef < 1:
                    p.grad.data.mul_(clip_coef)
        if it == 0:
            for n, p in student.named_parameters():
                if "last_layer" in n:
                    p.grad = None
        opt.step()
        with lib.no_grad():
            m = momentum_schedule[it]
            for param_q, param_k in zip(student.parameters(), teacher.parameters()):
                param_k.data.mul_(m).add_((1 - m) * param_q.detach().data)
        record += [loss, dino_loss.center, norms]
    record += params(student) + params(teacher) + [student[1].last_layer.weight]
    return record


def test_arcface_swav_sinkhorn_and_dino_train_as_torch():
    both(arcface_swav_dino)


# -- EfficientNet blocks in channels-last ------------------------------------------------------------------------


def efficientnet_channels_last(lib):
    nn, F = lib.nn, lib.nn.functional

    class SqueezeExcitation(nn.Module):
        def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU, scale_activation=nn.Hardsigmoid):
            super().__init__()
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
            self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
            self.activation = activation()
            self.scale_activation = scale_activation()

        def forward(self, input):
            scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(input)))))
            return scale * input

    def stochastic_depth(input, p, mode, training=True):
        if not training or p == 0.0:
            return input
        survival_rate = 1.0 - p
        size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == "row" else [1] * input.ndim
        noise = lib.empty(size, dtype=input.dtype, device=input.device)
        noise = noise.bernoulli_(survival_rate)
        if survival_rate > 0.0:
            noise.div_(survival_rate)
        return input * noise

    class MBConv(nn.Module):
        def __init__(self, c, expand_ratio, sd_prob, activation):
            super().__init__()
            h = c * expand_ratio
            self.block = nn.Sequential(
                nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h, eps=1e-3, momentum=0.01), activation(inplace=True),
                nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False), nn.BatchNorm2d(h, eps=1e-3, momentum=0.01),
                activation(inplace=True), SqueezeExcitation(h, max(1, c // 4)),
                nn.Conv2d(h, c, 1, bias=False), nn.BatchNorm2d(c, eps=1e-3, momentum=0.01),
            )  # fmt: skip
            self.sd_prob = sd_prob

        def forward(self, input):
            result = self.block(input)
            return stochastic_depth(result, self.sd_prob, "row", self.training) + input

    class Net(nn.Module):
        def __init__(self, num_classes=4):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.Hardswish())
            self.blocks = nn.Sequential(MBConv(8, 4, 0.1, nn.SiLU), MBConv(8, 6, 0.2, nn.Hardswish))
            self.head = nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(8, num_classes))
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out")
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    init_range = 1.0 / math.sqrt(m.out_features)
                    nn.init.uniform_(m.weight, -init_range, init_range)
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            x = self.blocks(self.stem(x))
            x = lib.flatten(F.adaptive_avg_pool2d(x, 1), 1)
            return self.head(x)

    lib.manual_seed(0)
    model = Net().to(memory_format=lib.channels_last)
    ema = lib.optim.swa_utils.AveragedModel(model, multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.99))
    x = lib.randn(6, 3, 12, 12).contiguous(memory_format=lib.channels_last)
    y = lib.randint(0, 4, (6,))
    opt = lib.optim.RMSprop(model.parameters(), lr=0.01, alpha=0.9, eps=1e-3, momentum=0.9, weight_decay=1e-5)
    sched = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.97)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    record = [model.stem[0].weight.is_contiguous(memory_format=lib.channels_last)]
    for _ in range(3):
        output = model(x)
        loss = criterion(output, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        ema.update_parameters(model)
        record += [loss, output.is_contiguous(), model.blocks[0].block[0].weight.grad]
    lib.optim.swa_utils.update_bn([(x, y)], ema)
    record += params(model) + list(model.state_dict().values()) + list(ema.module.state_dict().values())
    model.eval()
    with lib.no_grad():
        features = model.blocks(model.stem(x))
        record += [features, features.is_contiguous(memory_format=lib.channels_last), model(x), ema(x)]
    return record


def test_efficientnet_blocks_in_channels_last_with_stochastic_depth_and_ema_train_as_torch():
    both(efficientnet_channels_last)


# -- a pointer network for the TSP with REINFORCE ----------------------------------------------------------------


def pointer_network(lib):
    nn, F = lib.nn, lib.nn.functional

    class Attention(nn.Module):
        def __init__(self, hidden, use_tanh=False, C=10.0):
            super().__init__()
            self.W_query = nn.Linear(hidden, hidden)
            self.W_ref = nn.Conv1d(hidden, hidden, 1, 1)
            self.V = nn.Parameter(lib.FloatTensor(hidden))
            self.V.data.uniform_(-(1.0 / math.sqrt(hidden)), 1.0 / math.sqrt(hidden))
            self.use_tanh, self.C = use_tanh, C

        def forward(self, query, ref):
            ref = ref.permute(1, 2, 0)
            q = self.W_query(query).unsqueeze(2)
            e = self.W_ref(ref)
            expanded_q = q.repeat(1, 1, e.size(2))
            v_view = self.V.unsqueeze(0).expand(expanded_q.size(0), len(self.V)).unsqueeze(1)
            u = lib.bmm(v_view, lib.tanh(expanded_q + e)).squeeze(1)
            logits = self.C * lib.tanh(u) if self.use_tanh else u
            return e, logits

    class PointerNetwork(nn.Module):
        def __init__(self, embedding_dim, hidden_dim, n_glimpses=1):
            super().__init__()
            self.embedding = nn.Linear(2, embedding_dim, bias=False)
            self.encoder = nn.LSTM(embedding_dim, hidden_dim)
            self.decoder = nn.LSTMCell(embedding_dim, hidden_dim)
            self.pointer = Attention(hidden_dim, use_tanh=True, C=10.0)
            self.glimpse = Attention(hidden_dim, use_tanh=False)
            self.n_glimpses = n_glimpses
            self.decoder_in_0 = nn.Parameter(lib.FloatTensor(embedding_dim))
            self.decoder_in_0.data.uniform_(-(1.0 / math.sqrt(embedding_dim)), 1.0 / math.sqrt(embedding_dim))

        def forward(self, inputs, greedy=False):
            batch_size, graph_size, _ = inputs.size()
            embedded = self.embedding(inputs).transpose(0, 1)
            enc_h, (h, c) = self.encoder(embedded)
            h, c = h[0], c[0]
            mask = lib.zeros(batch_size, graph_size, dtype=lib.bool)
            decoder_input = self.decoder_in_0.unsqueeze(0).repeat(batch_size, 1)
            log_ps, selections = [], []
            for _ in range(graph_size):
                h, c = self.decoder(decoder_input, (h, c))
                g_l = h
                for _ in range(self.n_glimpses):
                    ref, logits = self.glimpse(g_l, enc_h)
                    logits = logits.masked_fill(mask, -math.inf)
                    g_l = lib.bmm(ref, F.softmax(logits, dim=1).unsqueeze(2)).squeeze(2)
                _, logits = self.pointer(g_l, enc_h)
                logits = logits.masked_fill(mask, -math.inf)
                log_p = lib.log_softmax(logits, dim=1)
                if greedy:
                    idxs = log_p.exp().max(1)[1]
                else:
                    idxs = log_p.exp().multinomial(1).squeeze(1)
                log_ps.append(log_p)
                selections.append(idxs)
                mask = mask.scatter(1, idxs.unsqueeze(-1), True)
                decoder_input = lib.gather(
                    embedded, 0, idxs.contiguous().view(1, batch_size, 1).expand(1, batch_size, embedded.size(-1))
                ).squeeze(0)
            return lib.stack(log_ps, 1), lib.stack(selections, 1)

    def tour_length(dataset, pi):
        assert (lib.arange(pi.size(1), out=pi.data.new()).view(1, -1).expand_as(pi) == pi.data.sort(1)[0]).all(), (
            "Invalid tour"
        )
        d = dataset.gather(1, pi.unsqueeze(-1).expand_as(dataset))
        return (d[:, 1:] - d[:, :-1]).norm(p=2, dim=2).sum(1) + (d[:, 0] - d[:, -1]).norm(p=2, dim=1)

    lib.manual_seed(0)
    model = PointerNetwork(8, 16)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    baseline = None
    record = []
    for _ in range(4):
        x = lib.rand(5, 6, 2)
        log_p, pi = model(x)
        ll = log_p.gather(2, pi.unsqueeze(-1)).squeeze(-1).sum(1)
        cost = tour_length(x, pi)
        baseline = cost.mean() if baseline is None else 0.8 * baseline + 0.2 * cost.mean()
        reinforce_loss = ((cost - baseline.detach()) * ll).mean()
        opt.zero_grad()
        reinforce_loss.backward()
        grad_norms = lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0, norm_type=2)
        opt.step()
        record += [pi, cost, reinforce_loss, grad_norms, log_p]
    record += params(model)
    model.eval()
    with lib.no_grad():
        x = lib.rand(3, 7, 2)
        _, pi = model(x, greedy=True)
        record += [pi, tour_length(x, pi)]
    return record


def test_pointer_network_with_reinforce_on_the_tsp_trains_as_torch():
    both(pointer_network)
