"""Public programs, round 11: condensed versions of programs people write and run today, each run on
ember and on torch from the same seeds, comparing losses, outputs and the trained weights.

- ResNet on CIFAR (torchvision ``resnet.py``, kuangliu/pytorch-cifar): ``BasicBlock`` and
  ``Bottleneck`` with ``downsample`` shortcuts, ``kaiming_normal_(mode="fan_out")`` and zero-init of
  the last BN, SGD with Nesterov momentum and ``weight_decay``, cross entropy with label smoothing,
  ``OneCycleLR``, a ``SequentialLR`` of ``LinearLR`` warm-up then ``CosineAnnealingLR``, and
  ``ReduceLROnPlateau`` on a validation loss.
- GPT-2 (Hugging Face ``modeling_gpt2.py``): ``Conv1D`` by ``addmm``, the ``bias`` mask buffer with
  ``finfo.min`` by ``where``, attention scaled by the inverse layer index, ``NewGELUActivation``, the
  ``c_proj`` re-initialisation, tied ``lm_head``/``wte``, a left-padded prompt turned into position ids
  (``cumsum``, ``masked_fill_``) and an additive mask, ``past_key_values`` decoding with a repetition
  penalty (``gather``/``scatter``), temperature, top-k/top-p filtering and ``multinomial`` with a generator.
- BERT for sequence classification: embeddings with ``position_ids``/``token_type_ids`` buffers
  (``expand``), the extended attention mask ``(1 - mask) * finfo.min``, ``_init_weights`` with the padding
  row zeroed, no-decay groups, ``get_linear_schedule_with_warmup`` (``LambdaLR``), a multi-label head.
- Mixtral's sparse MoE block: top-2 routing with ``softmax(dtype=float)``, jitter noise, ``one_hot`` expert
  masks, ``where`` over them, ``index_add_`` of the weighted expert outputs, the load-balancing loss with
  an attention mask, the router z-loss, per-expert counts by ``bincount``/``scatter_add_``/``histc``.
- GIN (Xu et al., PyG style): sum aggregation by ``index_add_``, a trainable ``eps``, readouts by
  ``scatter_add_``, ``scatter_reduce`` (``mean``/``amax``, ``include_self=False``) and ``index_reduce_``.
- TabNet (dreamquark-ai/tabnet): a ``Sparsemax`` ``autograd.Function``, Ghost BatchNorm (``chunk`` into
  virtual batches), GLU layers with shared ``fc``, attentive transformers with priors, in float64.
- AWD-LSTM (salesforce/awd-lstm-lm): ``LockedDropout``, ``embedded_dropout``, ``WeightDrop`` moving the
  recurrent weight to ``_raw`` and rebuilding the LSTM's ``_flat_weights`` (or a ``parametrize``
  drop-connect), tied weights, activation regularisation, variable BPTT lengths, and the switch to
  ``ASGD`` (NT-ASGD) whose averaged weights ``ax`` evaluate.
- Soft Actor-Critic (denisyarats/pytorch_sac): a ``TanhTransform`` subclass of ``Transform`` in a
  ``SquashedNormal(TransformedDistribution)`` with a ``mean`` property, and the library's ``TanhTransform``
  with ``Independent(Normal)`` and an ``AffineTransform``; double-Q critics, temperature tuning, Polyak.
- Gradient accumulation with ``utils.checkpoint`` (``use_reentrant`` both ways, ``checkpoint_sequential``,
  dropout replayed by ``preserve_rng_state``), ``clip_grad_norm_(foreach=True, error_if_nonfinite=True)``,
  ``get_total_norm``, ``clip_grad_value_``.
- Gemma 2 / Qwen 2 style decoder: RMSNorm with ``(1 + weight)`` in float32, RoPE with ``rope_scaling``
  (linear, dynamic NTK, llama3, YaRN with its attention factor), GQA by ``repeat_kv`` and by
  ``scaled_dot_product_attention(enable_gqa=True, scale=)``, attention and final logit soft-capping,
  sliding-window masks, ``sqrt(hidden)`` embedding normaliser, left padding with ``cumsum`` positions.
- DDIM with classifier-free guidance (openai/guided-diffusion style UNet): sinusoidal timestep
  embeddings, ``GroupNorm``/``SiLU`` ResBlocks with scale-shift norm and ``zero_module``, a QKV attention
  block by ``einsum``, label dropout to a null class, an EMA by ``AveragedModel(get_ema_multi_avg_fn)``,
  and deterministic (``eta=0``) and stochastic DDIM sampling with a seeded ``Generator``.
- Performer (lucidrains/performer-pytorch): Gaussian orthogonal random features from ``linalg.qr``
  blocks, the positive softmax kernel with ``amax`` stabilisers, linear and chunked causal linear
  attention by ``einsum``/``cumsum``, feature redraws by ``copy_`` under ``no_grad``; FNet's
  ``fft(fft(x, dim=-1), dim=-2).real`` mixing.
- Informer (zhouhaoyi/Informer2020): ``Conv1d`` token embeddings with ``padding_mode="circular"``,
  ProbSparse attention (``randint`` key samples, ``topk(sorted=False)``, gathers and scatter-assignment by
  broadcast ``arange`` indices, ``ProbMask`` from an expanded ``triu``, ``cumsum`` initial context), the
  distilling ``ConvLayer`` (``BatchNorm1d``, ``ELU``, ``MaxPool1d`` with padding).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from public_programs import both, both_in_float64, params

# -- ResNet on CIFAR ----------------------------------------------------------------------------------------


def resnet_cifar(lib, schedule):
    nn, F = lib.nn, lib.nn.functional

    def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
        return nn.Conv2d(
            in_planes,
            out_planes,
            kernel_size=3,
            stride=stride,
            padding=dilation,
            groups=groups,
            bias=False,
            dilation=dilation,
        )

    def conv1x1(in_planes, out_planes, stride=1):
        return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None, norm_layer=None):
            super().__init__()
            norm_layer = norm_layer or nn.BatchNorm2d
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = norm_layer(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = norm_layer(planes)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None, norm_layer=None):
            super().__init__()
            norm_layer = norm_layer or nn.BatchNorm2d
            width = planes
            self.conv1 = conv1x1(inplanes, width)
            self.bn1 = norm_layer(width)
            self.conv2 = conv3x3(width, width, stride)
            self.bn2 = norm_layer(width)
            self.conv3 = conv1x1(width, planes * self.expansion)
            self.bn3 = norm_layer(planes * self.expansion)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        def __init__(self, layers, num_classes=10, zero_init_residual=True):
            super().__init__()
            self.inplanes = 8
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(self.inplanes)
            self.relu = nn.ReLU(inplace=True)
            self.layer1 = self._make_layer(BasicBlock, 8, layers[0])
            self.layer2 = self._make_layer(Bottleneck, 4, layers[1], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(16, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
            if zero_init_residual:
                for m in self.modules():
                    if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                        nn.init.constant_(m.bn3.weight, 0)
                    elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                        nn.init.constant_(m.bn2.weight, 0)

        def _make_layer(self, block, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = nn.Sequential(
                    conv1x1(self.inplanes, planes * block.expansion, stride),
                    nn.BatchNorm2d(planes * block.expansion),
                )
            layers = [block(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * block.expansion
            for _ in range(1, blocks):
                layers.append(block(self.inplanes, planes))
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer2(self.layer1(x))
            x = self.avgpool(x)
            x = lib.flatten(x, 1)
            return self.fc(x)

    lib.manual_seed(0)
    model = ResNet([2, 2])
    mean = lib.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
    std = lib.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
    images = lib.rand(24, 3, 8, 8)
    labels = lib.randint(0, 10, (24,))
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    decay, no_decay = [], []
    for _name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    optimizer = lib.optim.SGD(
        [{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}],
        lr=0.1,
        momentum=0.9,
        nesterov=True,
    )
    steps = 6
    if schedule == "onecycle":
        scheduler = lib.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=0.2, total_steps=steps, pct_start=0.3, anneal_strategy="cos", three_phase=True
        )
    elif schedule == "warmup_cosine":
        warmup = lib.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.01, end_factor=1.0, total_iters=2)
        cosine = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps - 2, eta_min=1e-4)
        scheduler = lib.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[2])
    else:
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=0)
    record = []
    for step in range(steps):
        model.train()
        batch = slice((step % 3) * 8, (step % 3) * 8 + 8)
        x = (images[batch] - mean) / std
        if step % 2:
            x = lib.flip(x, dims=[3])
        loss = criterion(model(x), labels[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        record += [loss, optimizer.param_groups[0]["lr"], optimizer.param_groups[1]["lr"]]
        model.eval()
        with lib.no_grad():
            logits = model((images - mean) / std)
            val_loss = F.cross_entropy(logits, labels)
            correct = (logits.argmax(1) == labels).sum().item()
        record += [val_loss, correct]
        if schedule == "plateau":
            scheduler.step(val_loss)
        else:
            scheduler.step()
        record.append(scheduler.get_last_lr() if schedule != "plateau" else scheduler.get_last_lr())
    record += params(model) + list(model.buffers())
    record.append(scheduler.state_dict().get("last_epoch", -1))
    return record


@pytest.mark.parametrize("schedule", ["onecycle", "warmup_cosine", "plateau"])
def test_resnet_on_cifar_with_label_smoothing_and_lr_schedules_trains_as_torch(schedule):
    both(resnet_cifar, schedule)


# -- GPT-2 (Hugging Face style) -----------------------------------------------------------------------------


def gpt2(lib):
    nn, F = lib.nn, lib.nn.functional

    class Conv1D(nn.Module):
        def __init__(self, nf, nx):
            super().__init__()
            self.nf = nf
            self.weight = nn.Parameter(lib.empty(nx, nf))
            self.bias = nn.Parameter(lib.zeros(nf))
            nn.init.normal_(self.weight, std=0.02)

        def forward(self, x):
            size_out = x.size()[:-1] + (self.nf,)
            x = lib.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
            return x.view(size_out)

    class GPT2Attention(nn.Module):
        def __init__(self, config, layer_idx):
            super().__init__()
            max_positions = config["n_positions"]
            self.register_buffer(
                "bias",
                lib.tril(lib.ones((max_positions, max_positions), dtype=lib.bool)).view(
                    1, 1, max_positions, max_positions
                ),
                persistent=False,
            )
            self.register_buffer("masked_bias", lib.tensor(-1e4), persistent=False)
            self.embed_dim = config["n_embd"]
            self.num_heads = config["n_head"]
            self.head_dim = self.embed_dim // self.num_heads
            self.layer_idx = layer_idx
            self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
            self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
            self.attn_dropout = nn.Dropout(config["attn_pdrop"])
            self.resid_dropout = nn.Dropout(config["resid_pdrop"])

        def _attn(self, query, key, value, attention_mask=None):
            attn_weights = lib.matmul(query, key.transpose(-1, -2))
            attn_weights = attn_weights / lib.full(
                [], value.size(-1) ** 0.5, dtype=attn_weights.dtype, device=attn_weights.device
            )
            attn_weights = attn_weights / float(self.layer_idx + 1)
            query_length, key_length = query.size(-2), key.size(-2)
            causal_mask = self.bias[:, :, key_length - query_length : key_length, :key_length]
            mask_value = lib.finfo(attn_weights.dtype).min
            mask_value = lib.full([], mask_value, dtype=attn_weights.dtype, device=attn_weights.device)
            attn_weights = lib.where(causal_mask, attn_weights.to(attn_weights.dtype), mask_value)
            if attention_mask is not None:
                attn_weights = attn_weights + attention_mask
            attn_weights = nn.functional.softmax(attn_weights, dim=-1)
            attn_weights = attn_weights.type(value.dtype)
            attn_weights = self.attn_dropout(attn_weights)
            return lib.matmul(attn_weights, value), attn_weights

        def _split_heads(self, tensor, num_heads, attn_head_size):
            new_shape = tensor.size()[:-1] + (num_heads, attn_head_size)
            return tensor.view(new_shape).permute(0, 2, 1, 3)

        def _merge_heads(self, tensor, num_heads, attn_head_size):
            tensor = tensor.permute(0, 2, 1, 3).contiguous()
            new_shape = tensor.size()[:-2] + (num_heads * attn_head_size,)
            return tensor.view(new_shape)

        def forward(self, hidden_states, layer_past=None, attention_mask=None, use_cache=False):
            query, key, value = self.c_attn(hidden_states).split(self.embed_dim, dim=2)
            query = self._split_heads(query, self.num_heads, self.head_dim)
            key = self._split_heads(key, self.num_heads, self.head_dim)
            value = self._split_heads(value, self.num_heads, self.head_dim)
            if layer_past is not None:
                past_key, past_value = layer_past
                key = lib.cat((past_key, key), dim=-2)
                value = lib.cat((past_value, value), dim=-2)
            present = (key, value) if use_cache else None
            attn_output, _ = self._attn(query, key, value, attention_mask)
            attn_output = self._merge_heads(attn_output, self.num_heads, self.head_dim)
            attn_output = self.resid_dropout(self.c_proj(attn_output))
            return attn_output, present

    class NewGELUActivation(nn.Module):
        def forward(self, input):
            return 0.5 * input * (1.0 + lib.tanh(math.sqrt(2.0 / math.pi) * (input + 0.044715 * lib.pow(input, 3.0))))

    class GPT2MLP(nn.Module):
        def __init__(self, intermediate_size, config):
            super().__init__()
            self.c_fc = Conv1D(intermediate_size, config["n_embd"])
            self.c_proj = Conv1D(config["n_embd"], intermediate_size)
            self.act = NewGELUActivation()
            self.dropout = nn.Dropout(config["resid_pdrop"])

        def forward(self, hidden_states):
            return self.dropout(self.c_proj(self.act(self.c_fc(hidden_states))))

    class GPT2Block(nn.Module):
        def __init__(self, config, layer_idx):
            super().__init__()
            hidden_size = config["n_embd"]
            self.ln_1 = nn.LayerNorm(hidden_size, eps=1e-5)
            self.attn = GPT2Attention(config, layer_idx)
            self.ln_2 = nn.LayerNorm(hidden_size, eps=1e-5)
            self.mlp = GPT2MLP(4 * hidden_size, config)

        def forward(self, hidden_states, layer_past=None, attention_mask=None, use_cache=False):
            residual = hidden_states
            attn_output, present = self.attn(
                self.ln_1(hidden_states), layer_past=layer_past, attention_mask=attention_mask, use_cache=use_cache
            )
            hidden_states = attn_output + residual
            residual = hidden_states
            hidden_states = residual + self.mlp(self.ln_2(hidden_states))
            return hidden_states, present

    class GPT2LMHeadModel(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.wte = nn.Embedding(config["vocab_size"], config["n_embd"])
            self.wpe = nn.Embedding(config["n_positions"], config["n_embd"])
            self.drop = nn.Dropout(config["embd_pdrop"])
            self.h = nn.ModuleList([GPT2Block(config, layer_idx=i) for i in range(config["n_layer"])])
            self.ln_f = nn.LayerNorm(config["n_embd"], eps=1e-5)
            self.lm_head = nn.Linear(config["n_embd"], config["vocab_size"], bias=False)
            self.apply(self._init_weights)
            for name, p in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    p.data.normal_(mean=0.0, std=0.02 / math.sqrt(2 * config["n_layer"]))
            self.lm_head.weight = self.wte.weight

        def _init_weights(self, module):
            if isinstance(module, (nn.Linear, Conv1D)):
                module.weight.data.normal_(mean=0.0, std=0.02)
                if module.bias is not None:
                    module.bias.data.zero_()
            elif isinstance(module, nn.Embedding):
                module.weight.data.normal_(mean=0.0, std=0.02)
            elif isinstance(module, nn.LayerNorm):
                module.bias.data.zero_()
                module.weight.data.fill_(1.0)

        def forward(self, input_ids, past_key_values=None, attention_mask=None, labels=None, use_cache=False):
            input_shape = input_ids.size()
            batch_size = input_ids.shape[0]
            past_length = 0 if past_key_values is None else past_key_values[0][0].size(-2)
            if past_key_values is None:
                past_key_values = tuple([None] * len(self.h))
            if attention_mask is not None:
                position_ids = attention_mask.long().cumsum(-1) - 1
                position_ids.masked_fill_(attention_mask == 0, 1)
                position_ids = position_ids[:, past_length:]
                attention_mask = attention_mask.view(batch_size, -1)[:, None, None, :]
                attention_mask = attention_mask.to(dtype=self.wte.weight.dtype)
                attention_mask = (1.0 - attention_mask) * lib.finfo(self.wte.weight.dtype).min
            else:
                position_ids = lib.arange(past_length, input_shape[-1] + past_length, dtype=lib.long)
                position_ids = position_ids.unsqueeze(0)
            hidden_states = self.drop(self.wte(input_ids) + self.wpe(position_ids))
            presents = () if use_cache else None
            for block, layer_past in zip(self.h, past_key_values):
                hidden_states, present = block(
                    hidden_states, layer_past=layer_past, attention_mask=attention_mask, use_cache=use_cache
                )
                if use_cache:
                    presents = presents + (present,)
            hidden_states = self.ln_f(hidden_states)
            lm_logits = self.lm_head(hidden_states)
            loss = None
            if labels is not None:
                shift_logits = lm_logits[..., :-1, :].contiguous()
                shift_labels = labels[..., 1:].contiguous()
                loss = nn.CrossEntropyLoss()(shift_logits.view(-1, shift_logits.size(-1)), shift_labels.view(-1))
            return loss, lm_logits, presents

    def top_k_top_p_filtering(logits, top_k=0, top_p=1.0, filter_value=-float("inf"), min_tokens_to_keep=1):
        if top_k > 0:
            top_k = min(max(top_k, min_tokens_to_keep), logits.size(-1))
            indices_to_remove = logits < lib.topk(logits, top_k)[0][..., -1, None]
            logits = logits.masked_fill(indices_to_remove, filter_value)
        if top_p < 1.0:
            sorted_logits, sorted_indices = lib.sort(logits, descending=False)
            cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
            sorted_indices_to_remove = cumulative_probs <= (1 - top_p)
            sorted_indices_to_remove[..., -min_tokens_to_keep:] = 0
            indices_to_remove = sorted_indices_to_remove.scatter(1, sorted_indices, sorted_indices_to_remove)
            logits = logits.masked_fill(indices_to_remove, filter_value)
        return logits

    def repetition_penalty(input_ids, scores, penalty):
        score = lib.gather(scores, 1, input_ids)
        score = lib.where(score < 0, score * penalty, score / penalty)
        return scores.scatter(1, input_ids, score)

    config = dict(
        vocab_size=23, n_positions=16, n_embd=32, n_layer=2, n_head=4, attn_pdrop=0.1, resid_pdrop=0.1, embd_pdrop=0.1
    )
    lib.manual_seed(0)
    model = GPT2LMHeadModel(config)
    record = [model.lm_head.weight is model.wte.weight, len(list(model.parameters()))]
    data = lib.randint(0, config["vocab_size"], (4, 12))
    optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    for _step in range(4):
        model.train()
        loss, logits, _ = model(data, labels=data)
        loss.backward()
        record.append(nn.utils.clip_grad_norm_(model.parameters(), 1.0))
        optimizer.step()
        optimizer.zero_grad()
        record.append(loss)
    record += params(model)
    model.eval()
    with lib.no_grad():
        # left-padded batch, the attention mask turned into position ids and an additive mask
        prompt = lib.tensor([[0, 0, 5, 6, 7], [1, 2, 3, 4, 5]])
        mask = lib.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
        _, full_logits, past = model(prompt, attention_mask=mask, use_cache=True)
        record.append(full_logits[:, -1])
        generated = prompt
        gen = lib.Generator().manual_seed(1234)
        for _ in range(6):
            next_logits = full_logits[:, -1, :] if generated is prompt else logits[:, -1, :]
            next_logits = repetition_penalty(generated, next_logits, 1.3)
            next_logits = next_logits / 0.8
            filtered = top_k_top_p_filtering(next_logits, top_k=8, top_p=0.9)
            probs = F.softmax(filtered, dim=-1)
            record.append(probs)
            next_tokens = lib.multinomial(probs, num_samples=1, generator=gen)
            generated = lib.cat([generated, next_tokens], dim=-1)
            mask = lib.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=-1)
            _, logits, past = model(next_tokens, past_key_values=past, attention_mask=mask, use_cache=True)
        record.append(generated)
        # the cached logits are the full forward's
        _, again, _ = model(generated, attention_mask=mask)
        record.append(again[:, -1] - logits[:, -1])
    return record


def test_gpt2_with_conv1d_tied_embeddings_and_cached_sampling_trains_as_torch():
    ours, _ = both(gpt2)
    np.testing.assert_allclose(ours[-1].numpy(), 0, atol=1e-5)


# -- BERT sequence classifier -------------------------------------------------------------------------------


def bert_classifier(lib):
    nn, F = lib.nn, lib.nn.functional

    class BertEmbeddings(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.word_embeddings = nn.Embedding(cfg["vocab_size"], cfg["hidden"], padding_idx=0)
            self.position_embeddings = nn.Embedding(cfg["max_pos"], cfg["hidden"])
            self.token_type_embeddings = nn.Embedding(2, cfg["hidden"])
            self.LayerNorm = nn.LayerNorm(cfg["hidden"], eps=1e-12)
            self.dropout = nn.Dropout(0.1)
            self.register_buffer("position_ids", lib.arange(cfg["max_pos"]).expand((1, -1)), persistent=False)
            self.register_buffer(
                "token_type_ids", lib.zeros(self.position_ids.size(), dtype=lib.long), persistent=False
            )

        def forward(self, input_ids, token_type_ids=None):
            seq_length = input_ids.size(1)
            position_ids = self.position_ids[:, :seq_length]
            if token_type_ids is None:
                buffered = self.token_type_ids[:, :seq_length]
                token_type_ids = buffered.expand(input_ids.size(0), seq_length)
            embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
            embeddings = embeddings + self.position_embeddings(position_ids)
            return self.dropout(self.LayerNorm(embeddings))

    class BertSelfAttention(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.num_attention_heads = cfg["heads"]
            self.attention_head_size = cfg["hidden"] // cfg["heads"]
            self.all_head_size = self.num_attention_heads * self.attention_head_size
            self.query = nn.Linear(cfg["hidden"], self.all_head_size)
            self.key = nn.Linear(cfg["hidden"], self.all_head_size)
            self.value = nn.Linear(cfg["hidden"], self.all_head_size)
            self.dropout = nn.Dropout(0.1)

        def transpose_for_scores(self, x):
            new_x_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
            return x.view(new_x_shape).permute(0, 2, 1, 3)

        def forward(self, hidden_states, attention_mask):
            query_layer = self.transpose_for_scores(self.query(hidden_states))
            key_layer = self.transpose_for_scores(self.key(hidden_states))
            value_layer = self.transpose_for_scores(self.value(hidden_states))
            attention_scores = lib.matmul(query_layer, key_layer.transpose(-1, -2))
            attention_scores = attention_scores / math.sqrt(self.attention_head_size)
            attention_scores = attention_scores + attention_mask
            attention_probs = self.dropout(nn.functional.softmax(attention_scores, dim=-1))
            context_layer = lib.matmul(attention_probs, value_layer)
            context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
            return context_layer.view(context_layer.size()[:-2] + (self.all_head_size,))

    class BertLayer(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            h = cfg["hidden"]
            self.attention = BertSelfAttention(cfg)
            self.attention_output = nn.Linear(h, h)
            self.attention_norm = nn.LayerNorm(h, eps=1e-12)
            self.intermediate = nn.Linear(h, 4 * h)
            self.output = nn.Linear(4 * h, h)
            self.output_norm = nn.LayerNorm(h, eps=1e-12)
            self.dropout = nn.Dropout(0.1)

        def forward(self, hidden_states, attention_mask):
            attn = self.dropout(self.attention_output(self.attention(hidden_states, attention_mask)))
            hidden_states = self.attention_norm(attn + hidden_states)
            inter = F.gelu(self.intermediate(hidden_states))
            return self.output_norm(self.dropout(self.output(inter)) + hidden_states)

    class BertForSequenceClassification(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.embeddings = BertEmbeddings(cfg)
            self.layers = nn.ModuleList([BertLayer(cfg) for _ in range(cfg["layers"])])
            self.pooler = nn.Linear(cfg["hidden"], cfg["hidden"])
            self.dropout = nn.Dropout(0.1)
            self.classifier = nn.Linear(cfg["hidden"], cfg["labels"])
            self.apply(self._init_weights)

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                module.weight.data.normal_(mean=0.0, std=0.02)
                if module.bias is not None:
                    module.bias.data.zero_()
            elif isinstance(module, nn.Embedding):
                module.weight.data.normal_(mean=0.0, std=0.02)
                if module.padding_idx is not None:
                    module.weight.data[module.padding_idx].zero_()
            elif isinstance(module, nn.LayerNorm):
                module.bias.data.zero_()
                module.weight.data.fill_(1.0)

        def get_extended_attention_mask(self, attention_mask, dtype):
            extended = attention_mask[:, None, None, :]
            extended = extended.to(dtype=dtype)
            return (1.0 - extended) * lib.finfo(dtype).min

        def forward(self, input_ids, attention_mask, token_type_ids=None, labels=None):
            ext = self.get_extended_attention_mask(attention_mask, self.classifier.weight.dtype)
            hidden = self.embeddings(input_ids, token_type_ids)
            for layer in self.layers:
                hidden = layer(hidden, ext)
            pooled = lib.tanh(self.pooler(hidden[:, 0]))
            logits = self.classifier(self.dropout(pooled))
            loss = None
            if labels is not None:
                if labels.dtype in (lib.long, lib.int):
                    loss = F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1))
                else:
                    loss = F.binary_cross_entropy_with_logits(logits, labels)
            return loss, logits

    def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps, last_epoch=-1):
        def lr_lambda(current_step: int):
            if current_step < num_warmup_steps:
                return float(current_step) / float(max(1, num_warmup_steps))
            return max(
                0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps))
            )

        return lib.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda, last_epoch)

    cfg = dict(vocab_size=30, hidden=32, heads=4, layers=2, max_pos=16, labels=3)
    lib.manual_seed(0)
    model = BertForSequenceClassification(cfg)
    lengths = lib.tensor([10, 7, 4, 10, 2, 9])
    ids = lib.randint(1, cfg["vocab_size"], (6, 10))
    attention_mask = (lib.arange(10)[None, :] < lengths[:, None]).long()
    ids = ids * attention_mask
    token_type_ids = (lib.arange(10)[None, :] >= (lengths[:, None] // 2)).long() * attention_mask
    labels = lib.randint(0, cfg["labels"], (6,))
    no_decay = ["bias", "LayerNorm.weight", "_norm.weight"]
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
            "weight_decay": 0.01,
        },
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = lib.optim.AdamW(groups, lr=5e-4, eps=1e-8)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=2, num_training_steps=6)
    record = [optimizer.param_groups[0]["lr"]]
    for _step in range(6):
        model.train()
        loss, logits = model(ids, attention_mask, token_type_ids, labels=labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        model.zero_grad()
        record += [loss, scheduler.get_last_lr()[0]]
    # a multi-label head on float targets
    multi = lib.rand(6, cfg["labels"]).round()
    loss, _ = model(ids, attention_mask, token_type_ids, labels=multi)
    loss.backward()
    record.append(loss)
    record += params(model)
    record += [p.grad for p in model.parameters()]
    model.eval()
    with lib.no_grad():
        _, logits = model(ids, attention_mask, token_type_ids)
        # padding is invisible: trimming a row to its length gives the same logits
        _, short = model(ids[2:3, :4], attention_mask[2:3, :4], token_type_ids[2:3, :4])
        record += [logits, logits.softmax(-1).argmax(-1), short - logits[2:3]]
    return record


def test_bert_classifier_with_extended_mask_and_linear_warmup_trains_as_torch():
    ours, _ = both(bert_classifier)
    np.testing.assert_allclose(ours[-1].numpy(), 0, atol=1e-5)


# -- Mixtral sparse mixture of experts ----------------------------------------------------------------------


def mixtral_moe(lib):
    nn, F = lib.nn, lib.nn.functional

    class MixtralBlockSparseTop2MLP(nn.Module):
        def __init__(self, hidden_dim, ffn_dim):
            super().__init__()
            self.w1 = nn.Linear(hidden_dim, ffn_dim, bias=False)
            self.w2 = nn.Linear(ffn_dim, hidden_dim, bias=False)
            self.w3 = nn.Linear(hidden_dim, ffn_dim, bias=False)
            self.act_fn = nn.SiLU()

        def forward(self, hidden_states):
            current_hidden_states = self.act_fn(self.w1(hidden_states)) * self.w3(hidden_states)
            return self.w2(current_hidden_states)

    class MixtralSparseMoeBlock(nn.Module):
        def __init__(self, hidden_dim, ffn_dim, num_experts, top_k, jitter_noise=0.0):
            super().__init__()
            self.hidden_dim = hidden_dim
            self.num_experts = num_experts
            self.top_k = top_k
            self.gate = nn.Linear(hidden_dim, num_experts, bias=False)
            self.experts = nn.ModuleList([MixtralBlockSparseTop2MLP(hidden_dim, ffn_dim) for _ in range(num_experts)])
            self.jitter_noise = jitter_noise

        def forward(self, hidden_states):
            batch_size, sequence_length, hidden_dim = hidden_states.shape
            if self.training and self.jitter_noise > 0:
                hidden_states *= lib.empty_like(hidden_states).uniform_(
                    1.0 - self.jitter_noise, 1.0 + self.jitter_noise
                )
            hidden_states = hidden_states.view(-1, hidden_dim)
            router_logits = self.gate(hidden_states)
            routing_weights = F.softmax(router_logits, dim=1, dtype=lib.float)
            routing_weights, selected_experts = lib.topk(routing_weights, self.top_k, dim=-1)
            routing_weights /= routing_weights.sum(dim=-1, keepdim=True)
            routing_weights = routing_weights.to(hidden_states.dtype)
            final_hidden_states = lib.zeros(
                (batch_size * sequence_length, hidden_dim), dtype=hidden_states.dtype, device=hidden_states.device
            )
            expert_mask = lib.nn.functional.one_hot(selected_experts, num_classes=self.num_experts).permute(2, 1, 0)
            expert_hit = lib.greater(expert_mask.sum(dim=(-1, -2)), 0).nonzero()
            for expert_idx in expert_hit:
                expert_layer = self.experts[expert_idx]
                idx, top_x = lib.where(expert_mask[expert_idx].squeeze(0))
                current_state = hidden_states[None, top_x].reshape(-1, hidden_dim)
                current_hidden_states = expert_layer(current_state) * routing_weights[top_x, idx, None]
                final_hidden_states.index_add_(0, top_x, current_hidden_states.to(hidden_states.dtype))
            final_hidden_states = final_hidden_states.reshape(batch_size, sequence_length, hidden_dim)
            return final_hidden_states, router_logits

    def load_balancing_loss_func(gate_logits, num_experts, top_k=2, attention_mask=None):
        concatenated_gate_logits = lib.cat([layer_gate for layer_gate in gate_logits], dim=0)
        routing_weights = lib.nn.functional.softmax(concatenated_gate_logits, dim=-1)
        _, selected_experts = lib.topk(routing_weights, top_k, dim=-1)
        expert_mask = lib.nn.functional.one_hot(selected_experts, num_experts)
        if attention_mask is None:
            tokens_per_expert = lib.mean(expert_mask.float(), dim=0)
            router_prob_per_expert = lib.mean(routing_weights, dim=0)
        else:
            batch_size, sequence_length = attention_mask.shape
            num_hidden_layers = concatenated_gate_logits.shape[0] // (batch_size * sequence_length)
            expert_attention_mask = (
                attention_mask[None, :, :, None, None]
                .expand((num_hidden_layers, batch_size, sequence_length, top_k, num_experts))
                .reshape(-1, top_k, num_experts)
            )
            tokens_per_expert = lib.sum(expert_mask.float() * expert_attention_mask, dim=0) / lib.sum(
                expert_attention_mask, dim=0
            )
            router_per_expert_attention_mask = (
                attention_mask[None, :, :, None]
                .expand((num_hidden_layers, batch_size, sequence_length, num_experts))
                .reshape(-1, num_experts)
            )
            router_prob_per_expert = lib.sum(routing_weights * router_per_expert_attention_mask, dim=0) / lib.sum(
                router_per_expert_attention_mask, dim=0
            )
        overall_loss = lib.sum(tokens_per_expert * router_prob_per_expert.unsqueeze(0))
        return overall_loss * num_experts

    def router_z_loss_func(router_logits):
        num_groups, tokens_per_group, _ = router_logits.shape
        log_z = lib.logsumexp(router_logits, dim=-1)
        z_loss = log_z**2
        return lib.sum(z_loss) / (num_groups * tokens_per_group)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(17, 16)
            self.layers = nn.ModuleList([MixtralSparseMoeBlock(16, 24, 4, 2, jitter_noise=0.01) for _ in range(2)])
            self.norms = nn.ModuleList([nn.RMSNorm(16, eps=1e-6) for _ in range(2)])
            self.head = nn.Linear(16, 17, bias=False)

        def forward(self, ids):
            h = self.embed(ids)
            all_logits = []
            for norm, layer in zip(self.norms, self.layers):
                out, router_logits = layer(norm(h))
                h = h + out
                all_logits.append(router_logits)
            return self.head(h), tuple(all_logits)

    lib.manual_seed(0)
    model = Model()
    ids = lib.randint(0, 17, (3, 8))
    attention_mask = lib.ones(3, 8, dtype=lib.long)
    attention_mask[1, 6:] = 0
    attention_mask[2, 3:] = 0
    opt = lib.optim.AdamW(model.parameters(), lr=2e-3)
    record = []
    for step in range(4):
        logits, router_logits = model(ids)
        ce = F.cross_entropy(
            logits[:, :-1].reshape(-1, 17), ids[:, 1:].masked_fill(attention_mask[:, 1:] == 0, -100).reshape(-1)
        )
        aux = load_balancing_loss_func(router_logits, 4, 2, attention_mask if step % 2 else None)
        z = router_z_loss_func(lib.stack(router_logits).view(2, -1, 4))
        loss = ce + 0.02 * aux + 0.001 * z
        opt.zero_grad()
        loss.backward()
        opt.step()
        record += [ce, aux, z]
        # per-expert token counts, two ways
        _, selected = lib.topk(router_logits[0], 2, dim=-1)
        record.append(lib.bincount(selected.flatten(), minlength=4))
        counts = lib.zeros(4, dtype=lib.long).scatter_add_(0, selected.flatten(), lib.ones_like(selected.flatten()))
        record.append(counts)
        record.append(lib.histc(selected.flatten().float(), bins=4, min=0, max=3))
    record += params(model)
    model.eval()
    with lib.no_grad():
        record.append(model(ids)[0])
    return record


def test_mixtral_top2_router_with_load_balancing_and_z_loss_trains_as_torch():
    both(mixtral_moe)


# -- Graph Isomorphism Network ------------------------------------------------------------------------------


def gin(lib, readout):
    nn, F = lib.nn, lib.nn.functional

    class GINConv(nn.Module):
        def __init__(self, mlp, eps=0.0, train_eps=True):
            super().__init__()
            self.nn = mlp
            self.eps = nn.Parameter(lib.tensor([eps])) if train_eps else eps

        def forward(self, x, edge_index):
            src, dst = edge_index
            out = lib.zeros_like(x).index_add_(0, dst, x.index_select(0, src))
            return self.nn((1 + self.eps) * x + out)

    class GIN(nn.Module):
        def __init__(self, in_dim, hidden, out_dim, num_layers=3):
            super().__init__()
            self.convs = nn.ModuleList()
            self.bns = nn.ModuleList()
            for i in range(num_layers):
                mlp = nn.Sequential(
                    # (no bias before the batch norm: its gradient is rounding noise, which Adam
                    # would scale up to whole steps)
                    nn.Linear(in_dim if i == 0 else hidden, hidden, bias=False),
                    nn.BatchNorm1d(hidden),
                    nn.ReLU(),
                    nn.Linear(hidden, hidden, bias=False),
                )
                self.convs.append(GINConv(mlp, train_eps=i % 2 == 0))
                self.bns.append(nn.BatchNorm1d(hidden))
            self.lin1 = nn.Linear(hidden * num_layers, hidden)
            self.lin2 = nn.Linear(hidden, out_dim)

        def pool(self, h, batch, num_graphs):
            index = batch.unsqueeze(-1).expand_as(h)
            if readout == "sum":
                return lib.zeros(num_graphs, h.size(1)).scatter_add_(0, index, h)
            if readout == "mean":
                return lib.zeros(num_graphs, h.size(1)).scatter_reduce(0, index, h, reduce="mean", include_self=False)
            if readout == "max":
                return lib.full((num_graphs, h.size(1)), -1e9).scatter_reduce(
                    0, index, h, reduce="amax", include_self=False
                )
            counts = lib.bincount(batch, minlength=num_graphs).clamp(min=1).unsqueeze(-1).to(h.dtype)
            return lib.zeros(num_graphs, h.size(1)).index_reduce_(0, batch, h, "prod", include_self=False) / counts

        def forward(self, x, edge_index, batch, num_graphs):
            hs = []
            for conv, bn in zip(self.convs, self.bns):
                x = F.relu(bn(conv(x, edge_index)))
                hs.append(self.pool(x, batch, num_graphs))
            h = lib.cat(hs, dim=1)
            h = F.dropout(F.relu(self.lin1(h)), p=0.5, training=self.training)
            return self.lin2(h)

    lib.manual_seed(0)
    sizes = [5, 3, 6, 4]
    batch = lib.repeat_interleave(lib.arange(len(sizes)), lib.tensor(sizes))
    ptr = lib.cat([lib.zeros(1, dtype=lib.long), lib.cumsum(lib.tensor(sizes), 0)])
    edges = []
    for g, n in enumerate(sizes):
        s = lib.randint(0, n, (2 * n,)) + ptr[g]
        d = lib.randint(0, n, (2 * n,)) + ptr[g]
        edges.append(lib.stack([lib.cat([s, d]), lib.cat([d, s])]))
    edge_index = lib.cat(edges, dim=1)
    edge_index = lib.unique(edge_index, dim=1)
    x = lib.randn(int(ptr[-1]), 7)
    y = lib.tensor([0, 1, 1, 0])
    model = GIN(7, 16, 2)
    opt = lib.optim.Adam(model.parameters(), lr=0.01)
    sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    record = [edge_index]
    for _ in range(4):
        model.train()
        opt.zero_grad()
        out = model(x, edge_index, batch, len(sizes))
        loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        sched.step()
        record += [loss, out]
    record += params(model)
    model.eval()
    with lib.no_grad():
        pred = model(x, edge_index, batch, len(sizes)).argmax(dim=1)
        record += [pred, int((pred == y).sum())]
    return record


@pytest.mark.parametrize("readout", ["sum", "mean", "max", "prod"])
def test_gin_with_scatter_reduce_readouts_trains_as_torch(readout):
    both(gin, readout)


# -- TabNet ---------------------------------------------------------------------------------------------------


def tabnet(lib):
    nn, F = lib.nn, lib.nn.functional

    class Sparsemax(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, dim=-1):
            ctx.dim = dim
            max_val, _ = input.max(dim=dim, keepdim=True)
            input = input - max_val
            tau, supp_size = Sparsemax._threshold_and_support(input, dim=dim)
            output = lib.clamp(input - tau, min=0)
            ctx.save_for_backward(supp_size, output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            supp_size, output = ctx.saved_tensors
            dim = ctx.dim
            grad_input = grad_output.clone()
            grad_input[output == 0] = 0
            v_hat = grad_input.sum(dim=dim) / supp_size.to(output.dtype).squeeze()
            v_hat = v_hat.unsqueeze(dim)
            grad_input = lib.where(output != 0, grad_input - v_hat, grad_input)
            return grad_input, None

        @staticmethod
        def _threshold_and_support(input, dim=-1):
            input_srt, _ = lib.sort(input, descending=True, dim=dim)
            input_cumsum = input_srt.cumsum(dim) - 1
            d = input.size(dim)
            rhos = lib.arange(1, d + 1, device=input.device, dtype=input.dtype)
            view = [1] * input.dim()
            view[0] = -1
            rhos = rhos.view(view).transpose(0, dim)
            support = rhos * input_srt > input_cumsum
            support_size = support.sum(dim=dim).unsqueeze(dim)
            tau = input_cumsum.gather(dim, support_size - 1)
            tau /= support_size.to(input.dtype)
            return tau, support_size

    class GBN(nn.Module):
        def __init__(self, input_dim, virtual_batch_size=128, momentum=0.01):
            super().__init__()
            self.input_dim = input_dim
            self.virtual_batch_size = virtual_batch_size
            self.bn = nn.BatchNorm1d(self.input_dim, momentum=momentum)

        def forward(self, x):
            chunks = x.chunk(int(np.ceil(x.shape[0] / self.virtual_batch_size)), 0)
            res = [self.bn(x_) for x_ in chunks]
            return lib.cat(res, dim=0)

    class GLU_Layer(nn.Module):
        def __init__(self, input_dim, output_dim, fc=None, virtual_batch_size=128, momentum=0.02):
            super().__init__()
            self.output_dim = output_dim
            self.fc = fc if fc is not None else nn.Linear(input_dim, 2 * output_dim, bias=False)
            gain = np.sqrt((input_dim + 2 * output_dim) / np.sqrt(4 * input_dim))
            nn.init.xavier_normal_(self.fc.weight, gain=gain)
            self.bn = GBN(2 * output_dim, virtual_batch_size=virtual_batch_size, momentum=momentum)

        def forward(self, x):
            x = self.bn(self.fc(x))
            return lib.mul(x[:, : self.output_dim], lib.sigmoid(x[:, self.output_dim :]))

    class FeatTransformer(nn.Module):
        def __init__(self, input_dim, output_dim, shared, vbs):
            super().__init__()
            self.shared = nn.ModuleList(
                [
                    GLU_Layer(input_dim if i == 0 else output_dim, output_dim, fc=fc, virtual_batch_size=vbs)
                    for i, fc in enumerate(shared)
                ]
            )
            self.specifics = nn.ModuleList(
                [GLU_Layer(output_dim, output_dim, virtual_batch_size=vbs) for _ in range(2)]
            )
            self.scale = lib.sqrt(lib.FloatTensor([0.5]))

        def forward(self, x):
            x = self.shared[0](x)
            for glu in list(self.shared[1:]) + list(self.specifics):
                x = lib.add(x, glu(x))
                x = x * self.scale
            return x

    class AttentiveTransformer(nn.Module):
        def __init__(self, input_dim, group_dim, vbs):
            super().__init__()
            self.fc = nn.Linear(input_dim, group_dim, bias=False)
            gain = np.sqrt((input_dim + group_dim) / np.sqrt(4 * input_dim))
            nn.init.xavier_normal_(self.fc.weight, gain=gain)
            self.bn = GBN(group_dim, virtual_batch_size=vbs, momentum=0.02)

        def forward(self, priors, processed_feat):
            x = self.bn(self.fc(processed_feat))
            x = lib.mul(x, priors)
            return Sparsemax.apply(x, -1)

    class TabNet(nn.Module):
        def __init__(self, input_dim, output_dim, n_d=8, n_a=8, n_steps=3, gamma=1.3, vbs=8):
            super().__init__()
            self.n_d, self.n_steps, self.gamma = n_d, n_steps, gamma
            self.initial_bn = nn.BatchNorm1d(input_dim, momentum=0.01)
            shared = nn.ModuleList(
                [nn.Linear(input_dim, 2 * (n_d + n_a), bias=False), nn.Linear(n_d + n_a, 2 * (n_d + n_a), bias=False)]
            )
            self.initial_splitter = FeatTransformer(input_dim, n_d + n_a, shared, vbs)
            self.feat_transformers = nn.ModuleList(
                [FeatTransformer(input_dim, n_d + n_a, shared, vbs) for _ in range(n_steps)]
            )
            self.att_transformers = nn.ModuleList([AttentiveTransformer(n_a, input_dim, vbs) for _ in range(n_steps)])
            self.final_mapping = nn.Linear(n_d, output_dim, bias=False)

        def forward(self, x):
            x = self.initial_bn(x)
            prior = lib.ones(x.shape).to(x.device)
            M_loss = 0
            att = self.initial_splitter(x)[:, self.n_d :]
            steps_output = []
            for step in range(self.n_steps):
                M = self.att_transformers[step](prior, att)
                M_loss += lib.mean(lib.sum(lib.mul(M, lib.log(M + 1e-15)), dim=1))
                prior = lib.mul(self.gamma - M, prior)
                masked_x = lib.mul(M, x)
                out = self.feat_transformers[step](masked_x)
                d = nn.ReLU()(out[:, : self.n_d])
                steps_output.append(d)
                att = out[:, self.n_d :]
            res = lib.sum(lib.stack(steps_output, dim=0), dim=0)
            return self.final_mapping(res), M_loss / self.n_steps

    lib.manual_seed(0)
    model = TabNet(6, 3)
    x = lib.randn(20, 6)
    y = lib.randint(0, 3, (20,))
    opt = lib.optim.Adam(model.parameters(), lr=2e-2)
    sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.9)
    record = []
    for _ in range(4):
        model.train()
        perm = lib.randperm(20)
        for i in range(0, 20, 10):
            idx = perm[i : i + 10]
            out, m_loss = model(x[idx])
            loss = F.cross_entropy(out, y[idx]) - 1e-3 * m_loss
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            record += [loss, m_loss]
        sched.step()
    record += params(model) + list(model.buffers())
    model.eval()
    with lib.no_grad():
        out, _ = model(x)
        record += [out, lib.softmax(out, dim=1)]
    return record


def test_tabnet_with_ghost_batch_norm_and_a_sparsemax_function_trains_as_torch():
    # (float32 rounding grows through ghost batch norms of 5 rows: float64 compares the computation)
    both_in_float64(tabnet, rtol=1e-6, atol=1e-9)


# -- AWD-LSTM -------------------------------------------------------------------------------------------------


def awd_lstm(lib, weight_drop):
    nn, F = lib.nn, lib.nn.functional

    class LockedDropout(nn.Module):
        def forward(self, x, dropout=0.5):
            if not self.training or not dropout:
                return x
            m = x.data.new(1, x.size(1), x.size(2)).bernoulli_(1 - dropout)
            mask = m.requires_grad_(False) / (1 - dropout)
            mask = mask.expand_as(x)
            return mask * x

    def embedded_dropout(embed, words, dropout=0.1, scale=None):
        if dropout:
            mask = embed.weight.data.new().resize_((embed.weight.size(0), 1)).bernoulli_(1 - dropout).expand_as(
                embed.weight
            ) / (1 - dropout)
            masked_embed_weight = mask * embed.weight
        else:
            masked_embed_weight = embed.weight
        if scale:
            masked_embed_weight = scale.expand_as(masked_embed_weight) * masked_embed_weight
        padding_idx = embed.padding_idx if embed.padding_idx is not None else -1
        return F.embedding(
            words,
            masked_embed_weight,
            padding_idx,
            embed.max_norm,
            embed.norm_type,
            embed.scale_grad_by_freq,
            embed.sparse,
        )

    class WeightDrop(nn.Module):
        """The raw weight moved to ``<name>_raw``; a dropped copy set as a plain attribute before each run."""

        def __init__(self, module, weights, dropout=0.0):
            super().__init__()
            self.module = module
            self.weights = weights
            self.dropout = dropout
            for name_w in self.weights:
                w = getattr(self.module, name_w)
                del self.module._parameters[name_w]
                self.module.register_parameter(name_w + "_raw", nn.Parameter(w.data))

        def _setweights(self):
            for name_w in self.weights:
                raw_w = getattr(self.module, name_w + "_raw")
                w = F.dropout(raw_w, p=self.dropout, training=self.training)
                # (not setattr: in eval mode ``w`` is the raw Parameter, which would be registered
                # under the old name, and a plain tensor refused there on the next training step)
                object.__setattr__(self.module, name_w, w)

        def forward(self, *args):
            self._setweights()
            # the flattened-weights cache of the LSTM holds the old tensors: rebuild it
            self.module._flat_weights = [getattr(self.module, wn) for wn in self.module._flat_weights_names]
            return self.module.forward(*args)

    class DropConnect(nn.Module):
        """The same with ``torch.nn.utils.parametrize`` (the newer way). (PyTorch's RNN evaluates a
        parametrized weight four times a forward, in ``hasattr``/``getattr`` pairs, and runs the last.)"""

        def __init__(self, p):
            super().__init__()
            self.p = p

        def forward(self, w):
            return F.dropout(w, p=self.p, training=self.training)

    class RNNModel(nn.Module):
        def __init__(
            self, ntoken, ninp, nhid, nlayers, dropout=0.4, dropouth=0.3, dropouti=0.5, dropoute=0.1, wdrop=0.5
        ):
            super().__init__()
            self.lockdrop = LockedDropout()
            self.encoder = nn.Embedding(ntoken, ninp)
            rnns = [nn.LSTM(ninp if l == 0 else nhid, nhid if l != nlayers - 1 else ninp, 1) for l in range(nlayers)]
            if weight_drop == "raw":
                rnns = [WeightDrop(rnn, ["weight_hh_l0"], dropout=wdrop) for rnn in rnns]
            else:
                for rnn in rnns:
                    nn.utils.parametrize.register_parametrization(rnn, "weight_hh_l0", DropConnect(wdrop))
            self.rnns = nn.ModuleList(rnns)
            self.decoder = nn.Linear(ninp, ntoken)
            self.decoder.weight = self.encoder.weight
            self.ninp, self.nhid, self.nlayers = ninp, nhid, nlayers
            self.dropout, self.dropouti, self.dropouth, self.dropoute = dropout, dropouti, dropouth, dropoute
            initrange = 0.1
            self.encoder.weight.data.uniform_(-initrange, initrange)
            self.decoder.bias.data.fill_(0)

        def forward(self, input, hidden):
            emb = embedded_dropout(self.encoder, input, dropout=self.dropoute if self.training else 0)
            raw_output = self.lockdrop(emb, self.dropouti)
            new_hidden, raw_outputs, outputs = [], [], []
            for l, rnn in enumerate(self.rnns):
                raw_output, new_h = rnn(raw_output, hidden[l])
                new_hidden.append(new_h)
                raw_outputs.append(raw_output)
                if l != self.nlayers - 1:
                    raw_output = self.lockdrop(raw_output, self.dropouth)
                    outputs.append(raw_output)
            output = self.lockdrop(raw_output, self.dropout)
            outputs.append(output)
            return self.decoder(output.view(-1, output.size(2))), new_hidden, raw_outputs, outputs

        def init_hidden(self, bsz):
            weight = next(self.parameters()).data
            return [
                (
                    weight.new(1, bsz, self.nhid if l != self.nlayers - 1 else self.ninp).zero_(),
                    weight.new(1, bsz, self.nhid if l != self.nlayers - 1 else self.ninp).zero_(),
                )
                for l in range(self.nlayers)
            ]

    def repackage_hidden(h):
        if isinstance(h, lib.Tensor):
            return h.detach()
        return tuple(repackage_hidden(v) for v in h)

    def batchify(data, bsz):
        nbatch = data.size(0) // bsz
        data = data.narrow(0, 0, nbatch * bsz)
        return data.view(bsz, -1).t().contiguous()

    lib.manual_seed(0)
    ntokens, bptt, bsz = 19, 5, 3
    corpus = lib.randint(0, ntokens, (70,))
    train_data = batchify(corpus[:50], bsz)
    val_data = batchify(corpus[50:], 2)
    model = RNNModel(ntokens, 8, 12, 2)
    params_ = list(model.parameters())
    record = [len(params_), sum(p.numel() for p in params_)]
    optimizer = lib.optim.SGD(params_, lr=2.0, weight_decay=1.2e-6)
    criterion = nn.CrossEntropyLoss()

    def evaluate(data_source, batch_size):
        model.eval()
        total_loss = 0
        hidden = model.init_hidden(batch_size)
        with lib.no_grad():
            for i in range(0, data_source.size(0) - 1, bptt):
                seq_len = min(bptt, len(data_source) - 1 - i)
                data, targets = data_source[i : i + seq_len], data_source[i + 1 : i + 1 + seq_len].view(-1)
                output, hidden, _, _ = model(data, hidden)
                total_loss += len(data) * criterion(output, targets).item()
                hidden = repackage_hidden(hidden)
        return total_loss / len(data_source)

    best_val_loss = []
    for epoch in range(3):
        model.train()
        hidden = model.init_hidden(bsz)
        i = 0
        while i < train_data.size(0) - 2:
            seq_len = max(3, int(np.random.default_rng(epoch * 100 + i).normal(bptt, 1)))
            lr2 = optimizer.param_groups[0]["lr"]
            optimizer.param_groups[0]["lr"] = lr2 * seq_len / bptt
            seq_len = min(seq_len, train_data.size(0) - 1 - i)
            data, targets = train_data[i : i + seq_len], train_data[i + 1 : i + 1 + seq_len].view(-1)
            hidden = repackage_hidden(hidden)
            optimizer.zero_grad()
            output, hidden, rnn_hs, dropped_rnn_hs = model(data, hidden)
            raw_loss = criterion(output, targets)
            loss = raw_loss
            loss = loss + sum(2.0 * dropped_rnn_h.pow(2).mean() for dropped_rnn_h in dropped_rnn_hs[-1:])
            loss = loss + sum(1.0 * (rnn_h[1:] - rnn_h[:-1]).pow(2).mean() for rnn_h in rnn_hs[-1:])
            loss.backward()
            nn.utils.clip_grad_norm_(params_, 0.25)
            optimizer.step()
            optimizer.param_groups[0]["lr"] = lr2
            record += [raw_loss, loss]
            i += seq_len
        if "t0" in optimizer.param_groups[0]:
            tmp = {}
            for prm in model.parameters():
                tmp[prm] = prm.data.clone()
                prm.data = optimizer.state[prm]["ax"].clone()
            val_loss = evaluate(val_data, 2)
            record.append(val_loss)
            for prm in model.parameters():
                prm.data = tmp[prm].clone()
        else:
            val_loss = evaluate(val_data, 2)
            record.append(val_loss)
            if len(best_val_loss) > 0 and val_loss > min(best_val_loss) or epoch == 1:
                optimizer = lib.optim.ASGD(params_, lr=2.0, t0=0, lambd=0.0, weight_decay=1.2e-6)
            best_val_loss.append(val_loss)
    record += params(model)
    record += [optimizer.state[p]["ax"] for p in params_]
    record += [optimizer.state[p]["eta"] for p in params_[:2]] + [optimizer.state[p]["mu"] for p in params_[:2]]
    return record


@pytest.mark.parametrize("weight_drop", ["raw", "parametrize"])
def test_awd_lstm_with_weight_drop_and_nt_asgd_trains_as_torch(weight_drop):
    both(awd_lstm, weight_drop)


# -- Soft Actor-Critic with torch.distributions transforms ------------------------------------------------


def sac_distributions(lib):
    nn, F = lib.nn, lib.nn.functional
    D = lib.distributions

    class TanhTransform(D.transforms.Transform):
        """As in denisyarats/pytorch_sac: ``atanh`` by ``0.5 * (log1p(x) - log1p(-x))``, the softplus form
        of the log-determinant."""

        domain = D.constraints.real
        codomain = D.constraints.interval(-1.0, 1.0)
        bijective = True
        sign = +1

        def __init__(self, cache_size=1):
            super().__init__(cache_size=cache_size)

        @staticmethod
        def atanh(x):
            return 0.5 * (x.log1p() - (-x).log1p())

        def __eq__(self, other):
            return isinstance(other, TanhTransform)

        def _call(self, x):
            return x.tanh()

        def _inverse(self, y):
            return self.atanh(y)

        def log_abs_det_jacobian(self, x, y):
            return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))

    class SquashedNormal(D.transformed_distribution.TransformedDistribution):
        def __init__(self, loc, scale):
            self.loc = loc
            self.scale = scale
            self.base_dist = D.Normal(loc, scale)
            super().__init__(self.base_dist, [TanhTransform()])

        @property
        def mean(self):
            mu = self.loc
            for tr in self.transforms:
                mu = tr(mu)
            return mu

    class DiagGaussianActor(nn.Module):
        def __init__(self, obs_dim, action_dim, hidden_dim, log_std_bounds):
            super().__init__()
            self.log_std_bounds = log_std_bounds
            self.trunk = nn.Sequential(
                nn.Linear(obs_dim, hidden_dim), nn.ReLU(inplace=True), nn.Linear(hidden_dim, 2 * action_dim)
            )

        def forward(self, obs):
            mu, log_std = self.trunk(obs).chunk(2, dim=-1)
            log_std = lib.tanh(log_std)
            log_std_min, log_std_max = self.log_std_bounds
            log_std = log_std_min + 0.5 * (log_std_max - log_std_min) * (log_std + 1)
            std = log_std.exp()
            return SquashedNormal(mu, std)

    class BuiltinActor(DiagGaussianActor):
        """The same policy with the library's own ``TanhTransform`` and ``Independent``."""

        def forward(self, obs):
            mu, log_std = self.trunk(obs).chunk(2, dim=-1)
            log_std = lib.clamp(log_std, -5, 2)
            base = D.Independent(D.Normal(mu, log_std.exp()), 1)
            return D.TransformedDistribution(base, [D.TanhTransform(cache_size=1), D.AffineTransform(0.0, 2.0)])

    class DoubleQCritic(nn.Module):
        def __init__(self, obs_dim, action_dim, hidden_dim):
            super().__init__()
            self.Q1 = nn.Sequential(nn.Linear(obs_dim + action_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 1))
            self.Q2 = nn.Sequential(nn.Linear(obs_dim + action_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 1))

        def forward(self, obs, action):
            obs_action = lib.cat([obs, action], dim=-1)
            return self.Q1(obs_action), self.Q2(obs_action)

    def soft_update_params(net, target_net, tau):
        for param, target_param in zip(net.parameters(), target_net.parameters()):
            target_param.data.copy_(tau * param.data + (1 - tau) * target_param.data)

    lib.manual_seed(0)
    obs_dim, action_dim, hidden = 5, 2, 32
    record = []
    for actor_cls in (DiagGaussianActor, BuiltinActor):
        actor = actor_cls(obs_dim, action_dim, hidden, (-5, 2))
        critic = DoubleQCritic(obs_dim, action_dim, hidden)
        critic_target = DoubleQCritic(obs_dim, action_dim, hidden)
        critic_target.load_state_dict(critic.state_dict())
        log_alpha = lib.tensor(np.log(0.1), dtype=lib.float32).requires_grad_(True)
        target_entropy = -action_dim
        actor_opt = lib.optim.Adam(actor.parameters(), lr=1e-3, betas=(0.9, 0.999))
        critic_opt = lib.optim.Adam(critic.parameters(), lr=1e-3)
        alpha_opt = lib.optim.Adam([log_alpha], lr=1e-3)
        obs = lib.randn(16, obs_dim)
        next_obs = obs + 0.1 * lib.randn(16, obs_dim)
        action = lib.rand(16, action_dim) * 2 - 1
        reward = lib.randn(16, 1)
        not_done = (lib.rand(16, 1) > 0.1).float()
        for step in range(3):
            dist = actor(next_obs)
            next_action = dist.rsample()
            log_prob = dist.log_prob(next_action)
            if log_prob.dim() == 2:
                log_prob = log_prob.sum(-1, keepdim=True)
            else:
                log_prob = log_prob.unsqueeze(-1)
            target_Q1, target_Q2 = critic_target(next_obs, next_action)
            target_V = lib.min(target_Q1, target_Q2) - log_alpha.exp().detach() * log_prob
            target_Q = (reward + (not_done * 0.99 * target_V)).detach()
            current_Q1, current_Q2 = critic(obs, action)
            critic_loss = F.mse_loss(current_Q1, target_Q) + F.mse_loss(current_Q2, target_Q)
            critic_opt.zero_grad()
            critic_loss.backward()
            critic_opt.step()
            dist = actor(obs)
            a = dist.rsample()
            log_prob = dist.log_prob(a)
            log_prob = log_prob.sum(-1, keepdim=True) if log_prob.dim() == 2 else log_prob.unsqueeze(-1)
            actor_Q1, actor_Q2 = critic(obs, a)
            actor_Q = lib.min(actor_Q1, actor_Q2)
            actor_loss = (log_alpha.exp().detach() * log_prob - actor_Q).mean()
            actor_opt.zero_grad()
            actor_loss.backward()
            actor_opt.step()
            alpha_opt.zero_grad()
            alpha_loss = (log_alpha.exp() * (-log_prob - target_entropy).detach()).mean()
            alpha_loss.backward()
            alpha_opt.step()
            if step % 2 == 0:
                soft_update_params(critic, critic_target, 0.005)
            record += [critic_loss, actor_loss, alpha_loss, log_alpha, -log_prob.mean()]
        with lib.no_grad():
            dist = actor(obs[:4])
            try:
                record.append(dist.mean)
            except NotImplementedError:
                record.append("no mean")
            record += [dist.sample(), tuple(dist.batch_shape), tuple(dist.event_shape)]
            # the cached transform inverts its own output exactly; a fresh value goes through atanh
            y = dist.rsample()
            record += [dist.log_prob(y), dist.log_prob(y.clone().clamp(-0.999, 0.999))]
        record += params(actor) + params(critic) + params(critic_target)
    return record


def test_sac_with_a_squashed_normal_of_transforms_trains_as_torch():
    both(sac_distributions)


# -- gradient accumulation with activation checkpointing -----------------------------------------------------


def checkpointed_accumulation(lib, use_reentrant):
    nn, F = lib.nn, lib.nn.functional
    checkpoint = lib.utils.checkpoint.checkpoint

    class Block(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.norm = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, 4 * d)
            self.drop = nn.Dropout(0.1)
            self.fc2 = nn.Linear(4 * d, d)

        def forward(self, x):
            return x + self.fc2(self.drop(F.gelu(self.fc1(self.norm(x)))))

    class Net(nn.Module):
        def __init__(self, d=16, depth=3, grad_checkpointing=True):
            super().__init__()
            self.embed = nn.Linear(6, d)
            self.blocks = nn.ModuleList([Block(d) for _ in range(depth)])
            self.head = nn.Linear(d, 3)
            self.grad_checkpointing = grad_checkpointing

        def forward(self, x):
            x = self.embed(x)
            for _i, blk in enumerate(self.blocks):
                if self.grad_checkpointing and self.training:
                    x = checkpoint(blk, x, use_reentrant=use_reentrant, preserve_rng_state=True)
                else:
                    x = blk(x)
            if self.training and self.grad_checkpointing:
                x = lib.utils.checkpoint.checkpoint_sequential(
                    [nn.Identity(), nn.Tanh(), nn.Identity()], 2, x, use_reentrant=use_reentrant
                )
            return self.head(x.mean(1))

    lib.manual_seed(0)
    model = Net()
    x = lib.randn(8, 5, 6, requires_grad=use_reentrant)
    y = lib.randint(0, 3, (8,))
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3, foreach=True)
    accumulation_steps = 4
    record = []
    for _step in range(2):
        opt.zero_grad(set_to_none=True)
        for micro in range(accumulation_steps):
            xb, yb = x[micro * 2 : micro * 2 + 2], y[micro * 2 : micro * 2 + 2]
            loss = F.cross_entropy(model(xb), yb) / accumulation_steps
            loss.backward()
            record.append(loss)
        total_norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5, foreach=True, error_if_nonfinite=True)
        record.append(total_norm)
        record.append(nn.utils.get_total_norm([p.grad for p in model.parameters()], norm_type=2.0))
        nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05, foreach=True)
        opt.step()
    record += params(model)
    # a non-finite gradient is refused before any is scaled
    model.head.weight.grad = lib.full_like(model.head.weight, float("inf"))
    kept = model.embed.weight.grad.clone()
    try:
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, foreach=True, error_if_nonfinite=True)
        record.append("no error")
    except RuntimeError as error:
        record.append("non-finite" in str(error))
    record.append(model.embed.weight.grad - kept)
    return record


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_gradient_accumulation_with_checkpointing_and_foreach_clipping_trains_as_torch(use_reentrant):
    both(checkpointed_accumulation, use_reentrant)


# -- Gemma 2 / Qwen 2 style decoder ------------------------------------------------------------------------


def gemma_qwen(lib, rope_type):
    nn, F = lib.nn, lib.nn.functional

    class GemmaRMSNorm(nn.Module):
        def __init__(self, dim, eps=1e-6):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(lib.zeros(dim))

        def _norm(self, x):
            return x * lib.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

        def forward(self, x):
            output = self._norm(x.float())
            output = output * (1.0 + self.weight.float())
            return output.type_as(x)

    def compute_inv_freq(dim, base, cfg, seq_len=None):
        inv_freq = 1.0 / (base ** (lib.arange(0, dim, 2, dtype=lib.int64).float() / dim))
        if rope_type == "linear":
            return inv_freq, 1.0
        if rope_type == "dynamic":
            max_pos = cfg["original_max_position_embeddings"]
            if seq_len is not None and seq_len > max_pos:
                base = base * ((cfg["factor"] * seq_len / max_pos) - (cfg["factor"] - 1)) ** (dim / (dim - 2))
                inv_freq = 1.0 / (base ** (lib.arange(0, dim, 2, dtype=lib.int64).float().to(lib.float32) / dim))
            return inv_freq, 1.0
        if rope_type == "llama3":
            factor, low, high = cfg["factor"], cfg["low_freq_factor"], cfg["high_freq_factor"]
            old_context_len = cfg["original_max_position_embeddings"]
            low_freq_wavelen = old_context_len / low
            high_freq_wavelen = old_context_len / high
            wavelen = 2 * math.pi / inv_freq
            inv_freq_llama = lib.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
            smooth_factor = (old_context_len / wavelen - low) / (high - low)
            smoothed = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
            is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
            return lib.where(is_medium, smoothed, inv_freq_llama), 1.0
        # yarn
        factor, beta_fast, beta_slow = cfg["factor"], 32, 1
        original = cfg["original_max_position_embeddings"]
        attention_factor = 0.1 * math.log(factor) + 1.0

        def find_correction_dim(num_rotations):
            return (dim * math.log(original / (num_rotations * 2 * math.pi))) / (2 * math.log(base))

        low = max(math.floor(find_correction_dim(beta_fast)), 0)
        high = min(math.ceil(find_correction_dim(beta_slow)), dim - 1)
        if low == high:
            high += 0.001
        linear_func = (lib.arange(dim // 2, dtype=lib.float32) - low) / (high - low)
        ramp = lib.clamp(linear_func, 0, 1)
        pos_freqs = base ** (lib.arange(0, dim, 2).to(dtype=lib.float) / dim)
        inv_freq_extrapolation = 1.0 / pos_freqs
        inv_freq_interpolation = 1.0 / (factor * pos_freqs)
        inv_freq_extrapolation_factor = 1 - ramp
        inv_freq = (
            inv_freq_interpolation * (1 - inv_freq_extrapolation_factor)
            + inv_freq_extrapolation * inv_freq_extrapolation_factor
        )
        return inv_freq, attention_factor

    class RotaryEmbedding(nn.Module):
        def __init__(self, dim, base, cfg):
            super().__init__()
            self.dim, self.base, self.cfg = dim, base, cfg
            inv_freq, self.attention_scaling = compute_inv_freq(dim, base, cfg)
            self.register_buffer("inv_freq", inv_freq, persistent=False)
            self.original_inv_freq = self.inv_freq

        @lib.no_grad()
        def forward(self, x, position_ids):
            if rope_type == "dynamic":
                seq_len = int(lib.max(position_ids)) + 1
                inv_freq, _ = compute_inv_freq(self.dim, self.base, self.cfg, seq_len)
                self.register_buffer("inv_freq", inv_freq, persistent=False)
            inv_freq = self.inv_freq
            if rope_type == "linear":
                position_ids = position_ids.float() / self.cfg["factor"]
            inv_freq_expanded = inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
            position_ids_expanded = position_ids[:, None, :].float()
            freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
            emb = lib.cat((freqs, freqs), dim=-1)
            cos = emb.cos() * self.attention_scaling
            sin = emb.sin() * self.attention_scaling
            return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)

    def rotate_half(x):
        x1 = x[..., : x.shape[-1] // 2]
        x2 = x[..., x.shape[-1] // 2 :]
        return lib.cat((-x2, x1), dim=-1)

    def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
        cos = cos.unsqueeze(unsqueeze_dim)
        sin = sin.unsqueeze(unsqueeze_dim)
        return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)

    def repeat_kv(hidden_states, n_rep):
        batch, num_key_value_heads, slen, head_dim = hidden_states.shape
        if n_rep == 1:
            return hidden_states
        hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
        return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)

    class Attention(nn.Module):
        def __init__(self, cfg, layer_idx):
            super().__init__()
            self.head_dim = cfg["head_dim"]
            self.num_heads, self.num_kv = cfg["heads"], cfg["kv_heads"]
            self.num_key_value_groups = self.num_heads // self.num_kv
            self.scaling = cfg["query_pre_attn_scalar"] ** -0.5
            self.softcap = cfg["attn_logit_softcapping"]
            self.sliding_window = cfg["sliding_window"] if layer_idx % 2 == 0 else None
            h = cfg["hidden"]
            self.q_proj = nn.Linear(h, self.num_heads * self.head_dim, bias=True)
            self.k_proj = nn.Linear(h, self.num_kv * self.head_dim, bias=True)
            self.v_proj = nn.Linear(h, self.num_kv * self.head_dim, bias=True)
            self.o_proj = nn.Linear(self.num_heads * self.head_dim, h, bias=False)

        def forward(self, hidden_states, position_embeddings, attention_mask, sdpa):
            input_shape = hidden_states.shape[:-1]
            hidden_shape = (*input_shape, -1, self.head_dim)
            q = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
            k = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
            v = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
            cos, sin = position_embeddings
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            mask = attention_mask
            if self.sliding_window is not None:
                n = hidden_states.shape[1]
                i = lib.arange(n)
                too_far = (i[:, None] - i[None, :]) >= self.sliding_window
                mask = mask.masked_fill(too_far, lib.finfo(mask.dtype).min)
            if sdpa and self.softcap is None:
                out = F.scaled_dot_product_attention(
                    q, k, v, attn_mask=mask, scale=self.scaling, enable_gqa=True, dropout_p=0.0
                )
            else:
                key_states = repeat_kv(k, self.num_key_value_groups)
                value_states = repeat_kv(v, self.num_key_value_groups)
                attn_weights = lib.matmul(q, key_states.transpose(2, 3)) * self.scaling
                if self.softcap is not None:
                    attn_weights = attn_weights / self.softcap
                    attn_weights = lib.tanh(attn_weights)
                    attn_weights = attn_weights * self.softcap
                attn_weights = attn_weights + mask[:, :, :, : key_states.shape[-2]]
                attn_weights = F.softmax(attn_weights, dim=-1, dtype=lib.float32).to(q.dtype)
                out = lib.matmul(attn_weights, value_states)
            out = out.transpose(1, 2).reshape(*input_shape, -1).contiguous()
            return self.o_proj(out)

    class MLP(nn.Module):
        def __init__(self, h, inter):
            super().__init__()
            self.gate_proj = nn.Linear(h, inter, bias=False)
            self.up_proj = nn.Linear(h, inter, bias=False)
            self.down_proj = nn.Linear(inter, h, bias=False)

        def forward(self, x):
            return self.down_proj(F.gelu(self.gate_proj(x), approximate="tanh") * self.up_proj(x))

    class DecoderLayer(nn.Module):
        def __init__(self, cfg, i):
            super().__init__()
            h = cfg["hidden"]
            self.self_attn = Attention(cfg, i)
            self.mlp = MLP(h, 3 * h)
            self.input_layernorm = GemmaRMSNorm(h)
            self.post_attention_layernorm = GemmaRMSNorm(h)
            self.pre_feedforward_layernorm = GemmaRMSNorm(h)
            self.post_feedforward_layernorm = GemmaRMSNorm(h)

        def forward(self, x, pos, mask, sdpa):
            residual = x
            x = self.post_attention_layernorm(self.self_attn(self.input_layernorm(x), pos, mask, sdpa))
            x = residual + x
            residual = x
            x = self.post_feedforward_layernorm(self.mlp(self.pre_feedforward_layernorm(x)))
            return residual + x

    class Model(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.cfg = cfg
            self.embed_tokens = nn.Embedding(cfg["vocab"], cfg["hidden"], padding_idx=0)
            self.layers = nn.ModuleList([DecoderLayer(cfg, i) for i in range(2)])
            self.norm = GemmaRMSNorm(cfg["hidden"])
            self.rotary_emb = RotaryEmbedding(cfg["head_dim"], 10000.0, cfg["rope_scaling"])
            self.lm_head = nn.Linear(cfg["hidden"], cfg["vocab"], bias=False)
            self.lm_head.weight = self.embed_tokens.weight

        def forward(self, input_ids, attention_mask, sdpa=False):
            b, n = input_ids.shape
            x = self.embed_tokens(input_ids)
            normalizer = lib.tensor(self.cfg["hidden"] ** 0.5, dtype=x.dtype)
            x = x * normalizer
            position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
            pos = self.rotary_emb(x, position_ids)
            min_value = lib.finfo(x.dtype).min
            causal = lib.full((n, n), fill_value=min_value, dtype=x.dtype).triu(diagonal=1)
            causal = causal[None, None, :, :].expand(b, 1, -1, -1).clone()
            padding_mask = causal + attention_mask[:, None, None, :].to(x.dtype)
            causal = causal.masked_fill(padding_mask == 0, min_value)
            for layer in self.layers:
                x = layer(x, pos, causal, sdpa)
            logits = self.lm_head(self.norm(x))
            cap = self.cfg["final_logit_softcapping"]
            if cap is not None:
                logits = lib.tanh(logits / cap) * cap
            return logits

    cfg = dict(
        vocab=29,
        hidden=24,
        head_dim=8,
        heads=4,
        kv_heads=2,
        query_pre_attn_scalar=8,
        attn_logit_softcapping=50.0,
        final_logit_softcapping=30.0,
        sliding_window=3,
        rope_scaling=dict(factor=4.0, original_max_position_embeddings=4, low_freq_factor=1.0, high_freq_factor=4.0),
    )
    lib.manual_seed(0)
    model = Model(cfg)
    ids = lib.randint(1, 29, (3, 9))
    attention_mask = lib.ones(3, 9, dtype=lib.long)
    attention_mask[1, :2] = 0
    attention_mask[2, :4] = 0
    ids = ids.masked_fill(attention_mask == 0, 0)
    labels = ids.masked_fill(attention_mask == 0, -100)
    opt = lib.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    record = [model.rotary_emb.inv_freq, model.rotary_emb.attention_scaling]
    for _step in range(4):
        logits = model(ids, attention_mask)
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
        record.append(loss)
    record += params(model)
    model.eval()
    with lib.no_grad():
        record.append(model(ids, attention_mask)[:, -1])
        model.cfg["attn_logit_softcapping"] = None
        for layer in model.layers:
            layer.self_attn.softcap = None
        eager = model(ids, attention_mask)
        fused = model(ids, attention_mask, sdpa=True)
        record += [eager[:, -1], fused[:, -1] - eager[:, -1], model.rotary_emb.inv_freq]
    return record


@pytest.mark.parametrize("rope_type", ["linear", "dynamic", "llama3", "yarn"])
def test_gemma2_and_qwen2_style_decoder_with_rope_scaling_trains_as_torch(rope_type):
    ours, _ = both(gemma_qwen, rope_type)
    np.testing.assert_allclose(ours[-2].numpy(), 0, atol=2e-5)


# -- DDIM sampling with classifier-free guidance -----------------------------------------------------------


def ddim_cfg(lib, eta):
    nn, F = lib.nn, lib.nn.functional

    def timestep_embedding(timesteps, dim, max_period=10000):
        half = dim // 2
        freqs = lib.exp(-math.log(max_period) * lib.arange(start=0, end=half, dtype=lib.float32) / half).to(
            device=timesteps.device
        )
        args = timesteps[:, None].float() * freqs[None]
        embedding = lib.cat([lib.cos(args), lib.sin(args)], dim=-1)
        if dim % 2:
            embedding = lib.cat([embedding, lib.zeros_like(embedding[:, :1])], dim=-1)
        return embedding

    def zero_module(module):
        for p in module.parameters():
            p.detach().zero_()
        return module

    class ResBlock(nn.Module):
        def __init__(self, channels, emb_channels, out_channels=None, dropout=0.1, use_scale_shift_norm=True):
            super().__init__()
            self.out_channels = out_channels or channels
            self.use_scale_shift_norm = use_scale_shift_norm
            self.in_layers = nn.Sequential(
                nn.GroupNorm(4, channels), nn.SiLU(), nn.Conv2d(channels, self.out_channels, 3, padding=1)
            )
            self.emb_layers = nn.Sequential(
                nn.SiLU(), nn.Linear(emb_channels, 2 * self.out_channels if use_scale_shift_norm else self.out_channels)
            )
            self.out_layers = nn.Sequential(
                nn.GroupNorm(4, self.out_channels),
                nn.SiLU(),
                nn.Dropout(p=dropout),
                zero_module(nn.Conv2d(self.out_channels, self.out_channels, 3, padding=1)),
            )
            self.skip_connection = (
                nn.Identity() if self.out_channels == channels else nn.Conv2d(channels, self.out_channels, 1)
            )

        def forward(self, x, emb):
            h = self.in_layers(x)
            emb_out = self.emb_layers(emb).type(h.dtype)
            while len(emb_out.shape) < len(h.shape):
                emb_out = emb_out[..., None]
            if self.use_scale_shift_norm:
                out_norm, out_rest = self.out_layers[0], self.out_layers[1:]
                scale, shift = lib.chunk(emb_out, 2, dim=1)
                h = out_norm(h) * (1 + scale) + shift
                h = out_rest(h)
            else:
                h = self.out_layers(h + emb_out)
            return self.skip_connection(x) + h

    class AttentionBlock(nn.Module):
        def __init__(self, channels, num_heads=2):
            super().__init__()
            self.num_heads = num_heads
            self.norm = nn.GroupNorm(4, channels)
            self.qkv = nn.Conv1d(channels, channels * 3, 1)
            self.proj_out = zero_module(nn.Conv1d(channels, channels, 1))

        def forward(self, x):
            b, c, *spatial = x.shape
            x = x.reshape(b, c, -1)
            qkv = self.qkv(self.norm(x))
            bs, width, length = qkv.shape
            ch = width // (3 * self.num_heads)
            q, k, v = qkv.reshape(bs * self.num_heads, ch * 3, length).split(ch, dim=1)
            scale = 1 / math.sqrt(math.sqrt(ch))
            weight = lib.einsum("bct,bcs->bts", q * scale, k * scale)
            weight = lib.softmax(weight.float(), dim=-1).type(weight.dtype)
            a = lib.einsum("bts,bcs->bct", weight, v)
            h = self.proj_out(a.reshape(bs, -1, length))
            return (x + h).reshape(b, c, *spatial)

    class UNet(nn.Module):
        def __init__(self, ch=16, num_classes=3):
            super().__init__()
            self.ch = ch
            emb_dim = ch * 4
            self.time_embed = nn.Sequential(nn.Linear(ch, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
            self.label_emb = nn.Embedding(num_classes + 1, emb_dim)  # the last class is "no label"
            self.inp = nn.Conv2d(3, ch, 3, padding=1)
            self.down = ResBlock(ch, emb_dim, 2 * ch)
            self.pool = nn.Conv2d(2 * ch, 2 * ch, 3, stride=2, padding=1)
            self.mid = ResBlock(2 * ch, emb_dim)
            self.attn = AttentionBlock(2 * ch)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.dec = ResBlock(4 * ch, emb_dim, ch, use_scale_shift_norm=False)
            self.out = nn.Sequential(nn.GroupNorm(4, ch), nn.SiLU(), zero_module(nn.Conv2d(ch, 3, 3, padding=1)))

        def forward(self, x, timesteps, y):
            emb = self.time_embed(timestep_embedding(timesteps, self.ch)) + self.label_emb(y)
            h0 = self.down(self.inp(x), emb)
            h = self.attn(self.mid(self.pool(h0), emb))
            h = self.dec(lib.cat([self.up(h), h0], dim=1), emb)
            return self.out(h)

    T = 50
    betas = lib.linspace(1e-4, 0.02, T, dtype=lib.float64)
    alphas_cumprod = lib.cumprod(1.0 - betas, dim=0)

    def extract(a, t, x_shape):
        return a.gather(-1, t).float().reshape(t.shape[0], *((1,) * (len(x_shape) - 1)))

    lib.manual_seed(0)
    model = UNet()
    ema = lib.optim.swa_utils.AveragedModel(model, multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9))
    opt = lib.optim.AdamW(model.parameters(), lr=2e-3)
    x0 = lib.rand(6, 3, 8, 8) * 2 - 1
    y = lib.randint(0, 3, (6,))
    record = []
    for _step in range(3):
        t = lib.randint(0, T, (6,))
        noise = lib.randn_like(x0)
        x_t = (
            extract(alphas_cumprod.sqrt(), t, x0.shape) * x0 + extract((1 - alphas_cumprod).sqrt(), t, x0.shape) * noise
        )
        drop = lib.rand(6) < 0.2
        labels = lib.where(drop, lib.full_like(y, 3), y)
        loss = F.mse_loss(model(x_t, t, labels), noise)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema.update_parameters(model)
        record.append(loss)
    record += params(model) + params(ema.module) + [ema.n_averaged]

    @lib.no_grad()
    def ddim_sample(net, n, guidance_scale, steps=5):
        net.eval()
        g = lib.Generator().manual_seed(7)
        x = lib.randn(n, 3, 8, 8, generator=g)
        cls = lib.arange(n) % 3
        times = lib.linspace(T - 1, 0, steps + 1).long()
        out = []
        for i in range(steps):
            t, t_next = times[i], times[i + 1]
            tt = t.repeat(n)
            model_in = lib.cat([x, x])
            labels = lib.cat([cls, lib.full_like(cls, 3)])
            eps_cond, eps_uncond = net(model_in, lib.cat([tt, tt]), labels).chunk(2)
            eps = eps_uncond + guidance_scale * (eps_cond - eps_uncond)
            a_t = alphas_cumprod[t].float()
            a_next = alphas_cumprod[t_next].float() if i < steps - 1 else lib.tensor(1.0)
            x0_pred = ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)
            sigma = eta * ((1 - a_next) / (1 - a_t) * (1 - a_t / a_next)).sqrt()
            dir_xt = (1 - a_next - sigma**2).clamp(min=0).sqrt() * eps
            x = a_next.sqrt() * x0_pred + dir_xt + sigma * lib.randn(x.shape, generator=g)
            out.append(x0_pred)
        return x, lib.stack(out)

    record += list(ddim_sample(ema.module, 4, 3.0))
    record += list(ddim_sample(model, 2, 1.0))
    return record


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ddim_sampling_with_classifier_free_guidance_and_ema_trains_as_torch(eta):
    both(ddim_cfg, eta)


# -- Performer (FAVOR+) and FNet mixing ---------------------------------------------------------------------


def performer(lib, causal):
    nn, F = lib.nn, lib.nn.functional

    def orthogonal_matrix_chunk(cols):
        unstructured_block = lib.randn((cols, cols))
        q, r = lib.linalg.qr(unstructured_block.cpu(), mode="reduced")
        return q.t()

    def gaussian_orthogonal_random_matrix(nb_rows, nb_columns, scaling=0):
        nb_full_blocks = int(nb_rows / nb_columns)
        block_list = []
        for _ in range(nb_full_blocks):
            block_list.append(orthogonal_matrix_chunk(nb_columns))
        remaining_rows = nb_rows - nb_full_blocks * nb_columns
        if remaining_rows > 0:
            q = orthogonal_matrix_chunk(nb_columns)
            block_list.append(q[:remaining_rows])
        final_matrix = lib.cat(block_list)
        if scaling == 0:
            multiplier = lib.randn((nb_rows, nb_columns)).norm(dim=1)
        else:
            multiplier = math.sqrt(float(nb_columns)) * lib.ones((nb_rows,))
        return lib.diag(multiplier) @ final_matrix

    def softmax_kernel(data, *, projection_matrix, is_query, normalize_data=True, eps=1e-4):
        b, h, *_ = data.shape
        data_normalizer = (data.shape[-1] ** -0.25) if normalize_data else 1.0
        ratio = projection_matrix.shape[0] ** -0.5
        projection = projection_matrix.unsqueeze(0).unsqueeze(0).expand(b, h, -1, -1).type_as(data)
        data_dash = lib.einsum("...id,...jd->...ij", (data_normalizer * data), projection)
        diag_data = data**2
        diag_data = lib.sum(diag_data, dim=-1)
        diag_data = (diag_data / 2.0) * (data_normalizer**2)
        diag_data = diag_data.unsqueeze(dim=-1)
        if is_query:
            data_dash = ratio * (
                lib.exp(data_dash - diag_data - lib.amax(data_dash, dim=-1, keepdim=True).detach()) + eps
            )
        else:
            data_dash = ratio * (
                lib.exp(data_dash - diag_data - lib.amax(data_dash, dim=(-1, -2), keepdim=True).detach()) + eps
            )
        return data_dash.type_as(data)

    def linear_attention(q, k, v):
        k_cumsum = k.sum(dim=-2)
        D_inv = 1.0 / lib.einsum("...nd,...d->...n", q, k_cumsum.type_as(q))
        context = lib.einsum("...nd,...ne->...de", k, v)
        return lib.einsum("...de,...nd,...n->...ne", context, q, D_inv)

    def causal_linear_attention_noncuda(q, k, v, chunk_size=3, eps=1e-6):
        last_k_cumsum = 0
        last_context_cumsum = 0
        outs = []
        for q, k, v in zip(*map(lambda t: t.chunk(chunk_size, dim=-2), (q, k, v))):  # noqa: B020
            k_cumsum = last_k_cumsum + k.cumsum(dim=-2)
            D_inv = 1.0 / lib.einsum("...nd,...nd->...n", q, k_cumsum.type_as(q) + eps)
            context = lib.einsum("...nd,...ne->...nde", k, v)
            context_cumsum = last_context_cumsum + context.cumsum(dim=-3)
            out = lib.einsum("...nde,...nd,...n->...ne", context_cumsum, q, D_inv)
            last_k_cumsum = k_cumsum[:, :, -1:]
            last_context_cumsum = context_cumsum[:, :, -1:]
            outs.append(out)
        return lib.cat(outs, dim=-2)

    class FastAttention(nn.Module):
        def __init__(self, dim_heads, nb_features=None, causal=False):
            super().__init__()
            nb_features = nb_features or int(dim_heads * math.log(dim_heads))
            self.dim_heads, self.nb_features = dim_heads, nb_features
            projection_matrix = gaussian_orthogonal_random_matrix(nb_features, dim_heads)
            self.register_buffer("projection_matrix", projection_matrix)
            self.causal = causal

        @lib.no_grad()
        def redraw_projection_matrix(self):
            projections = gaussian_orthogonal_random_matrix(self.nb_features, self.dim_heads)
            self.projection_matrix.copy_(projections)
            del projections

        def forward(self, q, k, v):
            q = softmax_kernel(q, is_query=True, projection_matrix=self.projection_matrix)
            k = softmax_kernel(k, is_query=False, projection_matrix=self.projection_matrix)
            attn_fn = causal_linear_attention_noncuda if self.causal else linear_attention
            return attn_fn(q, k, v)

    class Attention(nn.Module):
        def __init__(self, dim, heads=2, dim_head=8, causal=False):
            super().__init__()
            self.heads = heads
            self.fast_attention = FastAttention(dim_head, 12, causal=causal)
            self.to_q = nn.Linear(dim, heads * dim_head, bias=False)
            self.to_k = nn.Linear(dim, heads * dim_head, bias=False)
            self.to_v = nn.Linear(dim, heads * dim_head, bias=False)
            self.to_out = nn.Linear(heads * dim_head, dim)

        def forward(self, x):
            b, n, _ = x.shape
            q, k, v = self.to_q(x), self.to_k(x), self.to_v(x)
            q, k, v = (t.reshape(b, n, self.heads, -1).permute(0, 2, 1, 3) for t in (q, k, v))
            out = self.fast_attention(q, k, v)
            out = out.permute(0, 2, 1, 3).reshape(b, n, -1)
            return self.to_out(out)

    class FNetBlock(nn.Module):
        def forward(self, x):
            return lib.fft.fft(lib.fft.fft(x, dim=-1), dim=-2).real

    class Model(nn.Module):
        def __init__(self, dim=16, depth=2):
            super().__init__()
            self.emb = nn.Embedding(13, dim)
            self.pos = nn.Parameter(lib.randn(1, 9, dim) * 0.02)
            self.layers = nn.ModuleList()
            for i in range(depth):
                mixer = Attention(dim, causal=causal) if i % 2 == 0 else FNetBlock()
                self.layers.append(
                    nn.ModuleList(
                        [
                            nn.LayerNorm(dim),
                            mixer,
                            nn.LayerNorm(dim),
                            nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim)),
                        ]
                    )
                )
            self.out = nn.Linear(dim, 13)

        def forward(self, ids):
            x = self.emb(ids) + self.pos[:, : ids.shape[1]]
            for n1, mix, n2, ff in self.layers:
                x = x + mix(n1(x))
                x = x + ff(n2(x))
            return self.out(x)

    lib.manual_seed(0)
    model = Model()
    record = [model.layers[0][1].fast_attention.projection_matrix]
    ids = lib.randint(0, 13, (3, 9))
    opt = lib.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(4):
        if step == 2:
            for m in model.modules():
                if isinstance(m, FastAttention):
                    m.redraw_projection_matrix()
        logits = model(ids)
        loss = F.cross_entropy(logits.transpose(1, 2), lib.roll(ids, -1, dims=1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        record.append(loss)
    record += [p.detach().clone() for p in model.parameters()]
    return record


@pytest.mark.parametrize("causal", [False, True])
def test_performer_favor_attention_with_orthogonal_features_and_fnet_trains_as_torch(causal):
    both(performer, causal)


# -- Informer -----------------------------------------------------------------------------------------------


def informer(lib, mix):
    nn, F = lib.nn, lib.nn.functional

    class TokenEmbedding(nn.Module):
        def __init__(self, c_in, d_model):
            super().__init__()
            self.tokenConv = nn.Conv1d(
                in_channels=c_in, out_channels=d_model, kernel_size=3, padding=1, padding_mode="circular", bias=False
            )
            for m in self.modules():
                if isinstance(m, nn.Conv1d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="leaky_relu")

        def forward(self, x):
            return self.tokenConv(x.permute(0, 2, 1)).transpose(1, 2)

    class PositionalEmbedding(nn.Module):
        def __init__(self, d_model, max_len=64):
            super().__init__()
            pe = lib.zeros(max_len, d_model).float()
            pe.require_grad = False
            position = lib.arange(0, max_len).float().unsqueeze(1)
            div_term = (lib.arange(0, d_model, 2).float() * -(math.log(10000.0) / d_model)).exp()
            pe[:, 0::2] = lib.sin(position * div_term)
            pe[:, 1::2] = lib.cos(position * div_term)
            pe = pe.unsqueeze(0)
            self.register_buffer("pe", pe)

        def forward(self, x):
            return self.pe[:, : x.size(1)]

    class ProbMask:
        def __init__(self, B, H, L, index, scores, device="cpu"):
            _mask = lib.ones(L, scores.shape[-1], dtype=lib.bool).to(device).triu(1)
            _mask_ex = _mask[None, None, :].expand(B, H, L, scores.shape[-1])
            indicator = _mask_ex[lib.arange(B)[:, None, None], lib.arange(H)[None, :, None], index, :].to(device)
            self._mask = indicator.view(scores.shape).to(device)

        @property
        def mask(self):
            return self._mask

    class ProbAttention(nn.Module):
        def __init__(self, mask_flag=True, factor=2, scale=None, attention_dropout=0.1):
            super().__init__()
            self.factor, self.scale, self.mask_flag = factor, scale, mask_flag
            self.dropout = nn.Dropout(attention_dropout)

        def _prob_QK(self, Q, K, sample_k, n_top):
            B, H, L_K, E = K.shape
            _, _, L_Q, _ = Q.shape
            K_expand = K.unsqueeze(-3).expand(B, H, L_Q, L_K, E)
            index_sample = lib.randint(L_K, (L_Q, sample_k))
            K_sample = K_expand[:, :, lib.arange(L_Q).unsqueeze(1), index_sample, :]
            Q_K_sample = lib.matmul(Q.unsqueeze(-2), K_sample.transpose(-2, -1)).squeeze(-2)
            M = Q_K_sample.max(-1)[0] - lib.div(Q_K_sample.sum(-1), L_K)
            M_top = M.topk(n_top, sorted=False)[1]
            Q_reduce = Q[lib.arange(B)[:, None, None], lib.arange(H)[None, :, None], M_top, :]
            Q_K = lib.matmul(Q_reduce, K.transpose(-2, -1))
            return Q_K, M_top

        def _get_initial_context(self, V, L_Q):
            B, H, L_V, D = V.shape
            if not self.mask_flag:
                V_sum = V.mean(dim=-2)
                contex = V_sum.unsqueeze(-2).expand(B, H, L_Q, V_sum.shape[-1]).clone()
            else:
                contex = V.cumsum(dim=-2)
            return contex

        def _update_context(self, context_in, V, scores, index, L_Q):
            B, H, L_V, D = V.shape
            if self.mask_flag:
                attn_mask = ProbMask(B, H, L_Q, index, scores)
                scores.masked_fill_(attn_mask.mask, -np.inf)
            attn = lib.softmax(scores, dim=-1)
            context_in[lib.arange(B)[:, None, None], lib.arange(H)[None, :, None], index, :] = lib.matmul(
                attn, V
            ).type_as(context_in)
            return context_in

        def forward(self, queries, keys, values):
            B, L_Q, H, D = queries.shape
            _, L_K, _, _ = keys.shape
            queries, keys, values = queries.transpose(2, 1), keys.transpose(2, 1), values.transpose(2, 1)
            U_part = self.factor * np.ceil(np.log(L_K)).astype("int").item()
            u = self.factor * np.ceil(np.log(L_Q)).astype("int").item()
            U_part = U_part if U_part < L_K else L_K
            u = u if u < L_Q else L_Q
            scores_top, index = self._prob_QK(queries, keys, sample_k=U_part, n_top=u)
            scale = self.scale or 1.0 / math.sqrt(D)
            scores_top = scores_top * scale
            context = self._get_initial_context(values, L_Q)
            context = self._update_context(context, values, scores_top, index, L_Q)
            return context.transpose(2, 1).contiguous()

    class AttentionLayer(nn.Module):
        def __init__(self, attention, d_model, n_heads, mix=False):
            super().__init__()
            d_keys = d_model // n_heads
            self.inner_attention = attention
            self.query_projection = nn.Linear(d_model, d_keys * n_heads)
            self.key_projection = nn.Linear(d_model, d_keys * n_heads)
            self.value_projection = nn.Linear(d_model, d_keys * n_heads)
            self.out_projection = nn.Linear(d_keys * n_heads, d_model)
            self.n_heads, self.mix = n_heads, mix

        def forward(self, queries, keys, values):
            B, L, _ = queries.shape
            _, S, _ = keys.shape
            H = self.n_heads
            queries = self.query_projection(queries).view(B, L, H, -1)
            keys = self.key_projection(keys).view(B, S, H, -1)
            values = self.value_projection(values).view(B, S, H, -1)
            out = self.inner_attention(queries, keys, values)
            if self.mix:
                out = out.transpose(2, 1).contiguous()
            out = out.view(B, L, -1)
            return self.out_projection(out)

    class ConvLayer(nn.Module):
        def __init__(self, c_in):
            super().__init__()
            self.downConv = nn.Conv1d(c_in, c_in, kernel_size=3, padding=1, padding_mode="circular")
            self.norm = nn.BatchNorm1d(c_in)
            self.activation = nn.ELU()
            self.maxPool = nn.MaxPool1d(kernel_size=3, stride=2, padding=1)

        def forward(self, x):
            x = self.downConv(x.permute(0, 2, 1))
            x = self.maxPool(self.activation(self.norm(x)))
            return x.transpose(1, 2)

    class EncoderLayer(nn.Module):
        def __init__(self, attention, d_model, d_ff=32, dropout=0.1):
            super().__init__()
            self.attention = attention
            self.conv1 = nn.Conv1d(d_model, d_ff, 1)
            self.conv2 = nn.Conv1d(d_ff, d_model, 1)
            self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            x = x + self.dropout(self.attention(x, x, x))
            y = x = self.norm1(x)
            y = self.dropout(F.gelu(self.conv1(y.transpose(-1, 1))))
            y = self.dropout(self.conv2(y).transpose(-1, 1))
            return self.norm2(x + y)

    class Model(nn.Module):
        def __init__(self, c_in=3, d_model=16, n_heads=2, pred_len=4):
            super().__init__()
            self.enc_value = TokenEmbedding(c_in, d_model)
            self.pos = PositionalEmbedding(d_model)
            self.l1 = EncoderLayer(AttentionLayer(ProbAttention(False), d_model, n_heads, mix), d_model)
            self.conv = ConvLayer(d_model)
            self.l2 = EncoderLayer(AttentionLayer(ProbAttention(True), d_model, n_heads, mix), d_model)
            self.proj = nn.Linear(d_model, c_in)
            self.pred_len = pred_len

        def forward(self, x):
            h = self.enc_value(x) + self.pos(x)
            h = self.conv(self.l1(h))
            h = self.l2(h)
            return self.proj(h)[:, -self.pred_len :, :]

    lib.manual_seed(0)
    model = Model()
    t = lib.arange(0, 40, dtype=lib.get_default_dtype())
    series = lib.stack([lib.sin(t / 3), lib.cos(t / 5), lib.sin(t / 7) * 0.5], -1)
    x = lib.stack([series[i : i + 16] for i in range(0, 20, 4)])
    y = lib.stack([series[i + 16 : i + 20] for i in range(0, 20, 4)])
    # (SGD, not the paper's Adam: the key bias and the bias before the batch norm get gradients of
    # rounding noise only, which Adam would scale up to whole steps of either sign)
    opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rec = []
    for _ in range(3):
        out = model(x)
        loss = F.mse_loss(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.append(loss)
    rec += [p.detach().clone() for p in model.parameters()]
    return rec


@pytest.mark.parametrize("mix", [False, True])
def test_informer_prob_sparse_attention_with_distilling_trains_as_torch(mix):
    both(informer, mix)
