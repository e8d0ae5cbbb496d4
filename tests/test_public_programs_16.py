"""Public programs, round 16: condensed versions of programs people write and run, each run on ember and on
torch from the same seeds, comparing losses, outputs, gradients and the trained weights.

- Supervised contrastive learning (HobbitLong/SupContrast ``losses.py``): two views ``cat`` of ``unbind``,
  the label mask by ``eq(labels, labels.T).float()``, the self-contrast mask by ``scatter`` of zeros into
  ``ones_like`` at ``arange(...).view(-1, 1)``, logits minus their detached row ``max``, the mean
  log-likelihood over positives with ``torch.where`` of a zero count; its SimCLR mode (``eye`` mask) and the
  ``contrast_mode="one"`` anchor; trained with SGD and a cosine-annealed ``param_groups`` learning rate.
- SSD's MultiBox loss (amdegroot/ssd.pytorch ``box_utils.py``): ``point_form``, ``intersect`` by
  ``max``/``min`` of ``unsqueeze(...).expand`` corners and ``clamp(min=0)``, ``jaccard``, ``match`` (best prior
  per truth by ``max(1, keepdim=True)``, ``index_fill_`` of 2 and the forced loop), ``encode`` with ``log`` of
  width ratios, the hand ``log_sum_exp`` with ``x.data.max()``, hard negative mining by the double ``sort``
  (``loss_c.sort(1, descending=True)`` then ``idx.sort(1)``), ``clamp(max=...)`` of ``3 * num_pos``,
  ``smooth_l1_loss(reduction="sum")`` on ``pos_idx`` selections and ``cross_entropy`` of ``gt`` masks.
- Temperature scaling (gpleiss/temperature_scaling): logits collected under ``no_grad``, one temperature
  ``Parameter(ones(1) * 1.5)`` ``expand``-ed over the logits, fitted by ``LBFGS(lr=0.01, max_iter=50)`` with a
  closure, the ``_ECELoss`` from ``linspace`` bin boundaries (``gt``/``le`` masks, ``.float().mean()``,
  ``.item()`` tests), before and after.
- Joint energy-based model (wgrathwohl/JEM): ``logsumexp`` of the classifier's logits as the negative energy,
  a replay buffer of ``FloatTensor(...).uniform_(-1, 1)`` samples reinitialised by a ``rand`` mask, SGLD by
  ``autograd.grad(f(x).sum(), [x], retain_graph=True)[0]`` with ``x.data += ...`` updates and ``randn_like``
  noise, the model switched to ``eval`` and back, and the contrastive energy loss added to cross entropy.
- SIREN (vsitzmann/siren): ``SineLayer`` with ``omega_0`` and the ``uniform_`` init by ``no_grad``, fitted to an
  image and to its gradient (``autograd.grad(y, [x], grad_outputs=ones_like(y), create_graph=True)``) and its
  Laplacian (the divergence of that gradient), trained with Adam.
- Temporal Fusion Transformer pieces (pytorch-forecasting): ``GatedLinearUnit`` by ``F.glu``, the
  ``GatedResidualNetwork`` with ``LayerNorm`` and a skip ``Linear``, the variable selection network
  (``softmax`` weights ``unsqueeze(-2)`` against ``stack(..., dim=-1)``), interpretable multi-head attention
  (per-head queries and keys, one shared value, heads averaged by ``stack``/``mean``, a causal ``triu`` mask
  by ``masked_fill(-1e9)``), and the quantile loss by ``max((q - 1) * e, q * e)``.
- Evidential deep learning (dougbrion/pytorch-classification-uncertainty): ``relu`` evidence, Dirichlet
  strength, the ``lgamma``/``digamma`` KL to the uniform Dirichlet annealed by epoch, the
  ``edl_mse_loss``/``edl_log_loss``/``edl_digamma_loss``, uncertainty ``K / S``; MC dropout inference
  (dropout left in ``train`` by ``apply`` over the modules) with the predictive entropy.
- DeepAR (``gluonts``/jdb78 style): an ``nn.LSTM`` over lagged targets with covariates, a Gaussian head
  (``softplus`` scale) trained on ``Normal.log_prob``, the negative binomial head by ``NegativeBinomial``
  (``total_count``/``logits``), and ancestral sampling with ``sample`` from a seeded ``manual_seed``.
- FixMatch (kekmodel/FixMatch-pytorch): ``interleave``/``de_interleave`` by ``reshape``/``transpose``,
  one forward over labelled, weak and strong views, pseudo-labels from ``softmax(logits_u_w.detach() / T)``
  and ``max(dim=-1)``, the confidence ``mask`` by ``ge(threshold).float()``, an EMA model by ``mul_``/``add_``
  under ``no_grad`` with its buffers copied, ``LambdaLR`` cosine decay.
- Reformer's LSH attention (lucidrains/reformer-pytorch): random rotations by ``einsum`` and ``argmax`` of
  ``cat([r, -r])`` buckets with per-hash offsets, the sort of ``seqlen * bucket + ticker`` (``sort`` with the
  ticker ``gather``-ed, ``undo_sort`` by a second ``sort``), ``batched_index_select`` by ``gather`` of an
  ``expand``-ed index, chunks looking one back by ``cat``, shared-QK keys ``normalize``-d, the self mask
  ``-5e4`` and the causal one ``-finfo.max`` by ``masked_fill_``, hash rounds combined by ``logsumexp``.
- Deep SVDD (lukasruff/Deep-SVDD-PyTorch): the centre ``c`` from a no-grad pass nudged away from zero by
  boolean-mask assignment, ``BatchNorm2d(affine=False)``, the one-class and soft-boundary objectives (the
  radius ``R.data`` set from NumPy's ``quantile`` of the distances), Adam with ``amsgrad``, ``MultiStepLR``.
- N-HiTS (Nixtla's neuralforecast): ``MaxPool1d``/``AvgPool1d`` with ``ceil_mode=True`` over the flipped input,
  backcast and forecast split from ``theta``, knots brought to the horizon by ``interpolate`` (``linear``,
  ``nearest``), residuals masked, windows by ``unfold``, ``l1_loss``, ``clip_grad_norm_``, ``StepLR``.
- Contrastive Predictive Coding (jefflai108/Contrastive-Predictive-Coding-PyTorch ``CDCK2``): a strided
  ``Conv1d`` encoder, ``kaiming_normal_(mode="fan_out")`` over ``gru._all_weights`` by ``__getattr__``, a ``randint``
  split point used as a one-element index tensor, ``empty`` buffers filled by index assignment, per-step ``Wk``
  predictions, InfoNCE by ``diag`` of ``LogSoftmax(dim=1)`` of ``mm``, accuracy by ``argmax`` of ``Softmax``, AMSGrad.
- Neural collaborative filtering (guoyang9/NCF's NeuMF): GMF and MLP towers of ``Embedding``s initialised by
  ``normal_(std=0.01)``, ``xavier_uniform_`` and ``kaiming_uniform_(a=1, nonlinearity="sigmoid")``, biases zeroed
  through ``.data``, the BPR loss and the BCE-with-logits one on sampled negatives, HR@5 and NDCG@5 by ``topk``
  and ``take``.
- Bucketed loading (the length-bucketing pattern of torchtext-era training scripts): a ``Sampler`` subclass
  yielding index lists as ``batch_sampler`` (``randperm`` with a ``Generator``), a ``collate_fn`` of
  ``pad_sequence(batch_first=True)`` and ``default_collate`` of dicts holding ``int`` and ``np.int64``, a GRU over
  ``pack_padded_sequence(enforce_sorted=False)``; ``IterableDataset``s (``get_worker_info`` is None) chained by
  ``ChainDataset`` and batched, a ``Subset`` under ``SubsetRandomSampler`` with ``drop_last``.
- Multi-task loss weighting: Kendall et al.'s homoscedastic uncertainty (``exp(-log_vars) * losses + log_vars``)
  and GradNorm (task weights in their own Adam, ``backward(retain_graph=True)``, the weights' gradient zeroed
  through ``grad.data``, per-task ``autograd.grad(..., create_graph=True)`` norms on a shared layer, the L1
  GradNorm loss against detached targets, its ``autograd.grad`` assigned to ``weights.grad``, renormalised
  through ``.data``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from public_programs import both, both_in_float64, params

# -- Supervised contrastive loss (SupContrast) ---------------------------------------------------------------


def supcon(lib, method, contrast_mode):
    nn, F = lib.nn, lib.nn.functional

    class SupConLoss(nn.Module):
        def __init__(self, temperature=0.07, contrast_mode="all", base_temperature=0.07):
            super().__init__()
            self.temperature = temperature
            self.contrast_mode = contrast_mode
            self.base_temperature = base_temperature

        def forward(self, features, labels=None, mask=None):
            device = features.device
            if len(features.shape) < 3:
                raise ValueError("`features` needs to be [bsz, n_views, ...]")
            if len(features.shape) > 3:
                features = features.view(features.shape[0], features.shape[1], -1)
            batch_size = features.shape[0]
            if labels is not None and mask is not None:
                raise ValueError("Cannot define both `labels` and `mask`")
            elif labels is None and mask is None:
                mask = lib.eye(batch_size, dtype=lib.float32).to(device)
            elif labels is not None:
                labels = labels.contiguous().view(-1, 1)
                if labels.shape[0] != batch_size:
                    raise ValueError("Num of labels does not match num of features")
                mask = lib.eq(labels, labels.T).float().to(device)
            else:
                mask = mask.float().to(device)
            contrast_count = features.shape[1]
            contrast_feature = lib.cat(lib.unbind(features, dim=1), dim=0)
            if self.contrast_mode == "one":
                anchor_feature = features[:, 0]
                anchor_count = 1
            else:
                anchor_feature = contrast_feature
                anchor_count = contrast_count
            anchor_dot_contrast = lib.div(lib.matmul(anchor_feature, contrast_feature.T), self.temperature)
            logits_max, _ = lib.max(anchor_dot_contrast, dim=1, keepdim=True)
            logits = anchor_dot_contrast - logits_max.detach()
            mask = mask.repeat(anchor_count, contrast_count)
            logits_mask = lib.scatter(
                lib.ones_like(mask), 1, lib.arange(batch_size * anchor_count).view(-1, 1).to(device), 0
            )
            mask = mask * logits_mask
            exp_logits = lib.exp(logits) * logits_mask
            log_prob = logits - lib.log(exp_logits.sum(1, keepdim=True))
            mask_pos_pairs = mask.sum(1)
            mask_pos_pairs = lib.where(mask_pos_pairs < 1e-6, 1, mask_pos_pairs)
            mean_log_prob_pos = (mask * log_prob).sum(1) / mask_pos_pairs
            loss = -(self.temperature / self.base_temperature) * mean_log_prob_pos
            return loss.view(anchor_count, batch_size).mean()

    class SupConNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(inplace=True))
            self.head = nn.Sequential(nn.Linear(16, 16), nn.ReLU(inplace=True), nn.Linear(16, 8))

        def forward(self, x):
            return F.normalize(self.head(self.encoder(x)), dim=1)

    lib.manual_seed(0)
    model = SupConNet()
    criterion = SupConLoss(temperature=0.1, contrast_mode=contrast_mode)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    base = lib.randn(10, 12)
    labels = lib.tensor([0, 1, 2, 0, 1, 2, 0, 1, 1, 3])
    record = []
    epochs = 4
    for epoch in range(epochs):
        lr = 0.05 * 0.001 + (0.05 - 0.05 * 0.001) * (1 + math.cos(math.pi * epoch / epochs)) / 2
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        images = [base + 0.3 * lib.randn(10, 12), base * (1 + 0.2 * lib.rand(10, 1))]
        images = lib.cat([images[0], images[1]], dim=0)
        bsz = labels.shape[0]
        features = model(images)
        f1, f2 = lib.split(features, [bsz, bsz], dim=0)
        features = lib.cat([f1.unsqueeze(1), f2.unsqueeze(1)], dim=1)
        loss = criterion(features, labels) if method == "SupCon" else criterion(features)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, model.head[2].weight.grad]
    record.append(criterion(features.detach(), mask=lib.eq(labels.view(-1, 1), labels.view(1, -1))))
    for call in (lambda: criterion(features[:, 0]), lambda: criterion(features, labels=labels, mask=lib.eye(10))):
        try:
            call()
        except ValueError as error:
            record.append(str(error))
    return record + params(model)


@pytest.mark.parametrize("method", ["SupCon", "SimCLR"])
@pytest.mark.parametrize("contrast_mode", ["all", "one"])
def test_supervised_contrastive_loss_trains_as_torch(method, contrast_mode):
    both(supcon, method, contrast_mode, rtol=1e-3, atol=1e-4)
    both_in_float64(supcon, method, contrast_mode)


# -- SSD MultiBox loss with hard negative mining -------------------------------------------------------------


def multibox(lib):
    nn, F = lib.nn, lib.nn.functional

    def point_form(boxes):
        return lib.cat((boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2), 1)

    def intersect(box_a, box_b):
        A, B = box_a.size(0), box_b.size(0)
        max_xy = lib.min(box_a[:, 2:].unsqueeze(1).expand(A, B, 2), box_b[:, 2:].unsqueeze(0).expand(A, B, 2))
        min_xy = lib.max(box_a[:, :2].unsqueeze(1).expand(A, B, 2), box_b[:, :2].unsqueeze(0).expand(A, B, 2))
        inter = lib.clamp((max_xy - min_xy), min=0)
        return inter[:, :, 0] * inter[:, :, 1]

    def jaccard(box_a, box_b):
        inter = intersect(box_a, box_b)
        area_a = ((box_a[:, 2] - box_a[:, 0]) * (box_a[:, 3] - box_a[:, 1])).unsqueeze(1).expand_as(inter)
        area_b = ((box_b[:, 2] - box_b[:, 0]) * (box_b[:, 3] - box_b[:, 1])).unsqueeze(0).expand_as(inter)
        return inter / (area_a + area_b - inter)

    def encode(matched, priors, variances):
        g_cxcy = (matched[:, :2] + matched[:, 2:]) / 2 - priors[:, :2]
        g_cxcy /= variances[0] * priors[:, 2:]
        g_wh = (matched[:, 2:] - matched[:, :2]) / priors[:, 2:]
        g_wh = lib.log(g_wh) / variances[1]
        return lib.cat([g_cxcy, g_wh], 1)

    def decode(loc, priors, variances):
        boxes = lib.cat(
            (
                priors[:, :2] + loc[:, :2] * variances[0] * priors[:, 2:],
                priors[:, 2:] * lib.exp(loc[:, 2:] * variances[1]),
            ),
            1,
        )
        boxes[:, :2] -= boxes[:, 2:] / 2
        boxes[:, 2:] += boxes[:, :2]
        return boxes

    def match(threshold, truths, priors, variances, labels, loc_t, conf_t, idx):
        overlaps = jaccard(truths, point_form(priors))
        best_prior_overlap, best_prior_idx = overlaps.max(1, keepdim=True)
        best_truth_overlap, best_truth_idx = overlaps.max(0, keepdim=True)
        best_truth_idx.squeeze_(0)
        best_truth_overlap.squeeze_(0)
        best_prior_idx.squeeze_(1)
        best_prior_overlap.squeeze_(1)
        best_truth_overlap.index_fill_(0, best_prior_idx, 2)
        for j in range(best_prior_idx.size(0)):
            best_truth_idx[best_prior_idx[j]] = j
        matches = truths[best_truth_idx]
        conf = labels[best_truth_idx] + 1
        conf[best_truth_overlap < threshold] = 0
        loc_t[idx] = encode(matches, priors, variances)
        conf_t[idx] = conf

    def log_sum_exp(x):
        x_max = x.data.max()
        return lib.log(lib.sum(lib.exp(x - x_max), 1, keepdim=True)) + x_max

    num_classes, num_priors = 4, 36
    steps = lib.linspace(1 / 12, 11 / 12, 6)
    cy, cx = lib.meshgrid(steps, steps, indexing="ij")
    priors = lib.stack([cx.reshape(-1), cy.reshape(-1), lib.full((36,), 0.3), lib.full((36,), 0.25)], 1)
    variance = [0.1, 0.2]

    class TinySSD(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.loc = nn.Conv2d(8, 4, 3, padding=1)
            self.conf = nn.Conv2d(8, num_classes, 3, padding=1)

        def forward(self, x):
            f = self.features(x)
            loc = self.loc(f).permute(0, 2, 3, 1).contiguous()
            conf = self.conf(f).permute(0, 2, 3, 1).contiguous()
            return loc.view(loc.size(0), -1, 4), conf.view(conf.size(0), -1, num_classes)

    lib.manual_seed(0)
    net = TinySSD()
    optimizer = lib.optim.SGD(net.parameters(), lr=1e-2, momentum=0.9, weight_decay=5e-4)
    images = lib.randn(2, 3, 12, 12)
    targets = [
        lib.tensor([[0.1, 0.1, 0.45, 0.5, 0.0], [0.5, 0.4, 0.9, 0.95, 2.0]]),
        lib.tensor([[0.2, 0.3, 0.6, 0.7, 1.0]]),
    ]
    record = []
    for _ in range(4):
        loc_data, conf_data = net(images)
        num = loc_data.size(0)
        loc_t = lib.Tensor(num, num_priors, 4)
        conf_t = lib.LongTensor(num, num_priors)
        for idx in range(num):
            truths = targets[idx][:, :-1].data
            labels = targets[idx][:, -1].data
            match(0.5, truths, priors.data, variance, labels, loc_t, conf_t, idx)
        pos = conf_t > 0
        num_pos = pos.sum(dim=1, keepdim=True)
        pos_idx = pos.unsqueeze(pos.dim()).expand_as(loc_data)
        loc_p = loc_data[pos_idx].view(-1, 4)
        loc_t = loc_t[pos_idx].view(-1, 4)
        loss_l = F.smooth_l1_loss(loc_p, loc_t, reduction="sum")
        batch_conf = conf_data.view(-1, num_classes)
        loss_c = log_sum_exp(batch_conf) - batch_conf.gather(1, conf_t.view(-1, 1))
        loss_c = loss_c.view(num, -1)
        loss_c[pos] = 0
        _, loss_idx = loss_c.sort(1, descending=True)
        _, idx_rank = loss_idx.sort(1)
        num_pos = pos.long().sum(1, keepdim=True)
        num_neg = lib.clamp(3 * num_pos, max=pos.size(1) - 1)
        neg = idx_rank < num_neg.expand_as(idx_rank)
        pos_idx = pos.unsqueeze(2).expand_as(conf_data)
        neg_idx = neg.unsqueeze(2).expand_as(conf_data)
        conf_p = conf_data[(pos_idx + neg_idx).gt(0)].view(-1, num_classes)
        targets_weighted = conf_t[(pos + neg).gt(0)]
        loss_c = F.cross_entropy(conf_p, targets_weighted, reduction="sum")
        N = num_pos.data.sum()
        loss_l /= N
        loss_c /= N
        loss = loss_l + loss_c
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss_l, loss_c, num_pos, neg, conf_t, net.conf.weight.grad]
    with lib.no_grad():
        loc_data, conf_data = net(images)
        record += [decode(loc_data[0], priors, variance), F.softmax(conf_data, dim=-1)]
    return record + params(net)


def test_ssd_multibox_loss_with_hard_negative_mining_as_torch():
    both(multibox, rtol=1e-3, atol=1e-4)
    both_in_float64(multibox)


# -- Temperature scaling ---------------------------------------------------------------------------------------


def temperature_scaling(lib):
    nn, F = lib.nn, lib.nn.functional

    class _ECELoss(nn.Module):
        def __init__(self, n_bins=5):
            super().__init__()
            bin_boundaries = lib.linspace(0, 1, n_bins + 1)
            self.bin_lowers = bin_boundaries[:-1]
            self.bin_uppers = bin_boundaries[1:]

        def forward(self, logits, labels):
            softmaxes = F.softmax(logits, dim=1)
            confidences, predictions = lib.max(softmaxes, 1)
            accuracies = predictions.eq(labels)
            ece = lib.zeros(1, device=logits.device)
            for bin_lower, bin_upper in zip(self.bin_lowers, self.bin_uppers):
                in_bin = confidences.gt(bin_lower.item()) * confidences.le(bin_upper.item())
                prop_in_bin = in_bin.float().mean()
                if prop_in_bin.item() > 0:
                    accuracy_in_bin = accuracies[in_bin].float().mean()
                    avg_confidence_in_bin = confidences[in_bin].mean()
                    ece += lib.abs(avg_confidence_in_bin - accuracy_in_bin) * prop_in_bin
            return ece

    class ModelWithTemperature(nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model
            self.temperature = nn.Parameter(lib.ones(1) * 1.5)

        def forward(self, input):
            return self.temperature_scale(self.model(input))

        def temperature_scale(self, logits):
            temperature = self.temperature.unsqueeze(1).expand(logits.size(0), logits.size(1))
            return logits / temperature

        def set_temperature(self, inputs, targets):
            nll_criterion = nn.CrossEntropyLoss()
            ece_criterion = _ECELoss()
            with lib.no_grad():
                logits = self.model(inputs)
            before = [nll_criterion(logits, targets).item(), ece_criterion(logits, targets).item()]
            optimizer = lib.optim.LBFGS([self.temperature], lr=0.01, max_iter=50)

            def eval():
                optimizer.zero_grad()
                loss = nll_criterion(self.temperature_scale(logits), targets)
                loss.backward()
                return loss

            optimizer.step(eval)
            after = [
                nll_criterion(self.temperature_scale(logits), targets).item(),
                ece_criterion(self.temperature_scale(logits), targets).item(),
            ]
            return before + after + [self.temperature.item()]

    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))
    x = lib.randn(60, 6)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    optimizer = lib.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(30):  # over-confident after over-fitting
        optimizer.zero_grad()
        F.cross_entropy(model(x[:40]), y[:40]).backward()
        optimizer.step()
    scaled = ModelWithTemperature(model)
    record = scaled.set_temperature(x[40:], y[40:])
    return record + [scaled(x[40:])] + params(scaled)


def test_temperature_scaling_by_lbfgs_as_torch():
    both(temperature_scaling, rtol=1e-3, atol=1e-4)
    both_in_float64(temperature_scaling)


# -- JEM: a joint energy-based model trained with SGLD ---------------------------------------------------------


def jem(lib):
    nn = lib.nn
    t = lib

    class F_(nn.Module):
        def __init__(self, n_classes=3):
            super().__init__()
            self.f = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 16), nn.LeakyReLU(0.2))
            self.energy_output = nn.Linear(16, 1)
            self.class_output = nn.Linear(16, n_classes)

        def forward(self, x, y=None):
            penult_z = self.f(x)
            return self.energy_output(penult_z).squeeze()

        def classify(self, x):
            return self.class_output(self.f(x)).squeeze()

    class CCF(F_):
        def forward(self, x, y=None):
            logits = self.classify(x)
            if y is None:
                return logits.logsumexp(1)
            return t.gather(logits, 1, y[:, None])

    def init_random(bs):  # (FloatTensor is float32 whatever the default dtype)
        return t.FloatTensor(bs, 4).uniform_(-1, 1).to(t.get_default_dtype())

    def sample_p_0(replay_buffer, bs, reinit_freq=0.05):
        buffer_size = len(replay_buffer)
        inds = t.randint(0, buffer_size, (bs,))
        buffer_samples = replay_buffer[inds]
        random_samples = init_random(bs)
        choose_random = (t.rand(bs) < reinit_freq).float()[:, None]
        samples = choose_random * random_samples + (1 - choose_random) * buffer_samples
        return samples, inds

    def sample_q(f, replay_buffer, bs, n_steps=5, sgld_lr=1.0, sgld_std=0.01):
        f.eval()
        init_sample, buffer_inds = sample_p_0(replay_buffer, bs)
        x_k = t.autograd.Variable(init_sample, requires_grad=True)
        for _ in range(n_steps):
            f_prime = t.autograd.grad(f(x_k).sum(), [x_k], retain_graph=True)[0]
            x_k.data += sgld_lr * f_prime + sgld_std * t.randn_like(x_k)
        f.train()
        final_samples = x_k.detach()
        replay_buffer[buffer_inds] = final_samples
        return final_samples

    lib.manual_seed(0)
    f = CCF()
    replay_buffer = init_random(50)
    optim = t.optim.Adam(f.parameters(), lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0)
    x_lab = t.randn(16, 4)
    y_lab = (x_lab[:, 0] > 0).long() + (x_lab[:, 1] > 0.5).long()
    record = []
    for _ in range(4):
        L = 0.0
        x_q = sample_q(f, replay_buffer, 16)
        fp_all = f(x_lab)
        fq_all = f(x_q)
        fp, fq = fp_all.mean(), fq_all.mean()
        l_p_x = -(fp - fq)
        L += l_p_x
        logits = f.classify(x_lab)
        l_p_y_given_x = nn.CrossEntropyLoss()(logits, y_lab)
        L += l_p_y_given_x
        acc = (logits.max(1)[1] == y_lab).float().mean()
        optim.zero_grad()
        L.backward()
        optim.step()
        record += [L, l_p_x, acc, x_q, f(x_lab, y_lab)]
    return record + [replay_buffer] + params(f)


def test_jem_sgld_trains_as_torch():
    both(jem, rtol=1e-3, atol=1e-4)
    both_in_float64(jem)


# -- SIREN --------------------------------------------------------------------------------------------------------


def siren(lib, target):
    nn = lib.nn

    class SineLayer(nn.Module):
        def __init__(self, in_features, out_features, bias=True, is_first=False, omega_0=30):
            super().__init__()
            self.omega_0 = omega_0
            self.is_first = is_first
            self.in_features = in_features
            self.linear = nn.Linear(in_features, out_features, bias=bias)
            self.init_weights()

        def init_weights(self):
            with lib.no_grad():
                if self.is_first:
                    self.linear.weight.uniform_(-1 / self.in_features, 1 / self.in_features)
                else:
                    bound = np.sqrt(6 / self.in_features) / self.omega_0
                    self.linear.weight.uniform_(-bound, bound)

        def forward(self, input):
            return lib.sin(self.omega_0 * self.linear(input))

    class Siren(nn.Module):
        def __init__(self, in_features, hidden_features, hidden_layers, out_features, first_omega_0=30):
            super().__init__()
            self.net = [SineLayer(in_features, hidden_features, is_first=True, omega_0=first_omega_0)]
            for _ in range(hidden_layers):
                self.net.append(SineLayer(hidden_features, hidden_features, omega_0=30.0))
            final_linear = nn.Linear(hidden_features, out_features)
            with lib.no_grad():
                bound = np.sqrt(6 / hidden_features) / 30.0
                final_linear.weight.uniform_(-bound, bound)
            self.net.append(final_linear)
            self.net = nn.Sequential(*self.net)

        def forward(self, coords):
            coords = coords.clone().detach().requires_grad_(True)
            return self.net(coords), coords

    def gradient(y, x, grad_outputs=None):
        if grad_outputs is None:
            grad_outputs = lib.ones_like(y)
        return lib.autograd.grad(y, [x], grad_outputs=grad_outputs, create_graph=True)[0]

    def divergence(y, x):
        div = 0.0
        for i in range(y.shape[-1]):
            div += lib.autograd.grad(y[..., i], x, lib.ones_like(y[..., i]), create_graph=True)[0][..., i : i + 1]
        return div

    def laplace(y, x):
        return divergence(gradient(y, x), x)

    lib.manual_seed(0)
    side = 6
    tensors = lib.linspace(-1, 1, steps=side)
    mgrid = lib.stack(lib.meshgrid(tensors, tensors, indexing="ij"), dim=-1).reshape(-1, 2)
    pixels = (lib.sin(3 * mgrid[:, :1]) * lib.cos(2 * mgrid[:, 1:])).view(-1, 1)
    model = Siren(2, 16, 2, 1)
    optim = lib.optim.Adam(lr=1e-4, params=model.parameters())
    record = []
    for _ in range(3):
        model_output, coords = model(mgrid)
        if target == "image":
            loss = ((model_output - pixels) ** 2).mean()
        elif target == "gradient":
            loss = ((gradient(model_output, coords) - lib.cat([3 * pixels, pixels], 1)) ** 2).mean()
        else:
            loss = ((laplace(model_output, coords) + 13 * pixels) ** 2).mean()
        optim.zero_grad()
        loss.backward()
        optim.step()
        record += [loss, model_output, model.net[0].linear.weight.grad]
    return record + params(model)


@pytest.mark.parametrize("target", ["image", "gradient", "laplacian"])
def test_siren_fits_image_gradient_and_laplacian_as_torch(target):
    both(siren, target, rtol=2e-3, atol=2e-4)
    both_in_float64(siren, target)


# -- Temporal Fusion Transformer -----------------------------------------------------------------------------------


def tft(lib):
    nn, F = lib.nn, lib.nn.functional

    class GatedLinearUnit(nn.Module):
        def __init__(self, input_size, hidden_size=None, dropout=None):
            super().__init__()
            self.dropout = nn.Dropout(dropout) if dropout is not None else dropout
            self.hidden_size = hidden_size or input_size
            self.fc = nn.Linear(input_size, self.hidden_size * 2)
            for n, p in self.named_parameters():
                if "bias" in n:
                    nn.init.zeros_(p)
                elif "fc" in n:
                    nn.init.xavier_uniform_(p)

        def forward(self, x):
            if self.dropout is not None:
                x = self.dropout(x)
            x = self.fc(x)
            return F.glu(x, dim=-1)

    class GatedResidualNetwork(nn.Module):
        def __init__(self, input_size, hidden_size, output_size, dropout=0.1, context_size=None):
            super().__init__()
            self.resample = nn.Linear(input_size, output_size) if input_size != output_size else None
            self.fc1 = nn.Linear(input_size, hidden_size)
            self.elu = nn.ELU()
            self.context = nn.Linear(context_size, hidden_size, bias=False) if context_size else None
            self.fc2 = nn.Linear(hidden_size, hidden_size)
            self.gate_norm_glu = GatedLinearUnit(hidden_size, output_size, dropout)
            self.gate_norm = nn.LayerNorm(output_size)
            for name, p in self.named_parameters():
                if "bias" in name:
                    nn.init.zeros_(p)
                elif "fc1" in name or "fc2" in name:
                    nn.init.kaiming_normal_(p, a=0, mode="fan_in", nonlinearity="leaky_relu")
                elif "context" in name:
                    nn.init.xavier_uniform_(p)

        def forward(self, x, context=None):
            residual = self.resample(x) if self.resample is not None else x
            x = self.fc1(x)
            if context is not None:
                x = x + self.context(context)
            x = self.elu(x)
            x = self.fc2(x)
            return self.gate_norm(self.gate_norm_glu(x) + residual)

    class VariableSelectionNetwork(nn.Module):
        def __init__(self, n_vars, hidden_size, dropout=0.1):
            super().__init__()
            self.prescalers = nn.ModuleList([nn.Linear(1, hidden_size) for _ in range(n_vars)])
            self.flattened_grn = GatedResidualNetwork(n_vars * hidden_size, hidden_size, n_vars, dropout)
            self.single_variable_grns = nn.ModuleList(
                [GatedResidualNetwork(hidden_size, hidden_size, hidden_size, dropout) for _ in range(n_vars)]
            )
            self.softmax = nn.Softmax(dim=-1)

        def forward(self, x):
            embeddings = [pre(x[..., i : i + 1]) for i, pre in enumerate(self.prescalers)]
            flat = lib.cat(embeddings, dim=-1)
            sparse_weights = self.softmax(self.flattened_grn(flat)).unsqueeze(-2)
            var_outputs = lib.stack([grn(e) for grn, e in zip(self.single_variable_grns, embeddings)], dim=-1)
            return (var_outputs * sparse_weights).sum(dim=-1), sparse_weights

    class InterpretableMultiHeadAttention(nn.Module):
        def __init__(self, n_head, d_model, dropout=0.0):
            super().__init__()
            self.n_head = n_head
            self.d_k = self.d_q = self.d_v = d_model // n_head
            self.dropout = nn.Dropout(p=dropout)
            self.v_layer = nn.Linear(d_model, self.d_v)
            self.q_layers = nn.ModuleList([nn.Linear(d_model, self.d_q) for _ in range(n_head)])
            self.k_layers = nn.ModuleList([nn.Linear(d_model, self.d_k) for _ in range(n_head)])
            self.w_h = nn.Linear(self.d_v, d_model, bias=False)

        def forward(self, q, k, v, mask=None):
            heads, attns = [], []
            vs = self.v_layer(v)
            for i in range(self.n_head):
                qs, ks = self.q_layers[i](q), self.k_layers[i](k)
                attn = lib.bmm(qs, ks.permute(0, 2, 1)) / lib.sqrt(lib.tensor(qs.size(-1), dtype=qs.dtype))
                if mask is not None:
                    attn = attn.masked_fill(mask, -1e9)
                attn = F.softmax(attn, dim=2)
                head = lib.bmm(self.dropout(attn), vs)
                heads.append(self.dropout(head))
                attns.append(attn)
            head = lib.stack(heads, dim=2) if self.n_head > 1 else heads[0]
            attn = lib.stack(attns, dim=2)
            outputs = lib.mean(head, dim=2) if self.n_head > 1 else head
            return self.dropout(self.w_h(outputs)), attn

    class TinyTFT(nn.Module):
        def __init__(self, n_vars=3, hidden=8, quantiles=(0.1, 0.5, 0.9)):
            super().__init__()
            self.vsn = VariableSelectionNetwork(n_vars, hidden)
            self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
            self.post_lstm_gate = GatedLinearUnit(hidden, dropout=0.1)
            self.post_lstm_norm = nn.LayerNorm(hidden)
            self.attention = InterpretableMultiHeadAttention(2, hidden)
            self.pos_wise_ff = GatedResidualNetwork(hidden, hidden, hidden, dropout=0.1)
            self.output_layer = nn.Linear(hidden, len(quantiles))

        def forward(self, x):
            embedded, weights = self.vsn(x)
            lstm_out, _ = self.lstm(embedded)
            out = self.post_lstm_norm(self.post_lstm_gate(lstm_out) + embedded)
            T = out.size(1)
            mask = lib.triu(lib.ones(T, T, dtype=lib.bool), diagonal=1).unsqueeze(0).expand(out.size(0), -1, -1)
            attn_out, attn = self.attention(out, out, out, mask=mask)
            out = self.pos_wise_ff(attn_out + out)
            return self.output_layer(out), weights, attn

    def quantile_loss(y_pred, target, quantiles=(0.1, 0.5, 0.9)):
        losses = []
        for i, q in enumerate(quantiles):
            errors = target - y_pred[..., i]
            losses.append(lib.max((q - 1) * errors, q * errors).unsqueeze(-1))
        return 2 * lib.cat(losses, dim=2).sum(-1).mean()

    lib.manual_seed(0)
    model = TinyTFT()
    optimizer = lib.optim.Adam(model.parameters(), lr=3e-3)
    x = lib.randn(4, 7, 3)
    y = x.sum(-1).cumsum(1) / 3
    record = []
    for _ in range(4):
        pred, weights, attn = model(x)
        loss = quantile_loss(pred, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        record += [loss, pred, model.attention.v_layer.weight.grad]
    model.eval()
    with lib.no_grad():
        pred, weights, attn = model(x)
    return record + [pred, weights, attn] + params(model)


def test_temporal_fusion_transformer_trains_as_torch():
    both(tft, rtol=1e-3, atol=1e-4)
    both_in_float64(tft)


# -- Evidential deep learning and MC dropout ----------------------------------------------------------------


def evidential(lib, loss_name):
    nn, F = lib.nn, lib.nn.functional

    def kl_divergence(alpha, num_classes):
        ones = lib.ones([1, num_classes], dtype=alpha.dtype)
        sum_alpha = lib.sum(alpha, dim=1, keepdim=True)
        first_term = (
            lib.lgamma(sum_alpha)
            - lib.lgamma(alpha).sum(dim=1, keepdim=True)
            + lib.lgamma(ones).sum(dim=1, keepdim=True)
        ) - lib.lgamma(ones.sum(dim=1, keepdim=True))
        second_term = (alpha - ones).mul(lib.digamma(alpha) - lib.digamma(sum_alpha)).sum(dim=1, keepdim=True)
        return first_term + second_term

    def loglikelihood_loss(y, alpha):
        S = lib.sum(alpha, dim=1, keepdim=True)
        loglikelihood_err = lib.sum((y - (alpha / S)) ** 2, dim=1, keepdim=True)
        loglikelihood_var = lib.sum(alpha * (S - alpha) / (S * S * (S + 1)), dim=1, keepdim=True)
        return loglikelihood_err + loglikelihood_var

    def mse_loss(y, alpha, epoch_num, num_classes, annealing_step):
        loglikelihood = loglikelihood_loss(y, alpha)
        annealing_coef = lib.min(
            lib.tensor(1.0, dtype=lib.float32), lib.tensor(epoch_num / annealing_step, dtype=lib.float32)
        )
        kl_alpha = (alpha - 1) * (1 - y) + 1
        return loglikelihood + annealing_coef * kl_divergence(kl_alpha, num_classes)

    def edl_loss(func, y, alpha, epoch_num, num_classes, annealing_step):
        S = lib.sum(alpha, dim=1, keepdim=True)
        A = lib.sum(y * (func(S) - func(alpha)), dim=1, keepdim=True)
        annealing_coef = lib.min(
            lib.tensor(1.0, dtype=lib.float32), lib.tensor(epoch_num / annealing_step, dtype=lib.float32)
        )
        kl_alpha = (alpha - 1) * (1 - y) + 1
        return A + annealing_coef * kl_divergence(kl_alpha, num_classes)

    def criterion(output, target, epoch_num, num_classes, annealing_step):
        evidence = F.relu(output)
        alpha = evidence + 1
        if loss_name == "mse":
            return lib.mean(mse_loss(target, alpha, epoch_num, num_classes, annealing_step))
        func = lib.log if loss_name == "log" else lib.digamma
        return lib.mean(edl_loss(func, target, alpha, epoch_num, num_classes, annealing_step))

    lib.manual_seed(0)
    num_classes = 3
    model = nn.Sequential(nn.Linear(5, 20), nn.ReLU(), nn.Dropout(0.3), nn.Linear(20, num_classes))
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-2, weight_decay=0.005)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
    x = lib.randn(24, 5)
    labels = lib.argmax(x[:, :3], dim=1)
    y = lib.eye(num_classes)[labels]
    record = []
    for epoch in range(4):
        model.train()
        optimizer.zero_grad()
        outputs = model(x)
        _, preds = lib.max(outputs, 1)
        loss = criterion(outputs, y.float(), epoch, num_classes, 10)
        match = lib.reshape(lib.eq(preds, labels).float(), (-1, 1))
        acc = lib.mean(match)
        evidence = F.relu(outputs)
        alpha = evidence + 1
        u = num_classes / lib.sum(alpha, dim=1, keepdim=True)
        total_evidence = lib.sum(evidence, 1, keepdim=True)
        mean_evidence_succ = lib.sum(total_evidence * match) / lib.sum(match + 1e-20)
        loss.backward()
        optimizer.step()
        scheduler.step()
        record += [loss, acc, u, mean_evidence_succ]
    model.eval()

    def enable_dropout(m):
        if type(m) is nn.Dropout:
            m.train()

    model.apply(enable_dropout)
    with lib.no_grad():
        probs = lib.stack([F.softmax(model(x), dim=1) for _ in range(5)])
    mean = probs.mean(0)
    entropy = -(mean * lib.log(mean + 1e-12)).sum(1)
    record += [mean, probs.var(0), entropy, [m.training for m in model.modules()] == [False, False, False, True, False]]
    return record + params(model)


@pytest.mark.parametrize("loss_name", ["mse", "log", "digamma"])
def test_evidential_deep_learning_and_mc_dropout_as_torch(loss_name):
    both(evidential, loss_name, rtol=1e-3, atol=1e-4)
    both_in_float64(evidential, loss_name)


# -- DeepAR ------------------------------------------------------------------------------------------------------


def deepar(lib, likelihood):
    nn, F = lib.nn, lib.nn.functional
    D = lib.distributions

    class DeepAR(nn.Module):
        def __init__(self, n_cov=2, hidden=12, layers=2):
            super().__init__()
            self.lstm = nn.LSTM(1 + n_cov, hidden, num_layers=layers, batch_first=True, dropout=0.1)
            self.param1 = nn.Linear(hidden, 1)
            self.param2 = nn.Linear(hidden, 1)

        def distribution(self, h):
            if likelihood == "normal":
                return D.Normal(self.param1(h).squeeze(-1), F.softplus(self.param2(h)).squeeze(-1) + 1e-3)
            return D.NegativeBinomial(F.softplus(self.param1(h)).squeeze(-1) + 1e-3, logits=self.param2(h).squeeze(-1))

        def forward(self, y_lag, cov, state=None):
            out, state = self.lstm(lib.cat([y_lag.unsqueeze(-1), cov], -1), state)
            return self.distribution(out), state

    lib.manual_seed(0)
    T, B = 10, 4
    time = lib.arange(T + 4, dtype=lib.get_default_dtype())
    cov = lib.stack([lib.sin(time / 2), lib.cos(time / 3)], -1).expand(B, -1, -1)
    level = lib.rand(B, 1) * 5 + 2
    series = level * (1 + 0.5 * lib.sin(time / 2)) + lib.rand(B, T + 4)
    if likelihood == "negbin":
        series = series.round()
    scale = series[:, :T].mean(1, keepdim=True) + 1
    model = DeepAR()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-2)
    record = []
    for _ in range(4):
        model.train()
        dist, _ = model(series[:, : T - 1] / scale, cov[:, 1:T])
        target = series[:, 1:T] if likelihood == "negbin" else series[:, 1:T] / scale
        loss = -dist.log_prob(target).mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        record += [loss, dist.mean, dist.stddev]
    model.eval()
    with lib.no_grad():
        _, state = model(series[:, : T - 1] / scale, cov[:, 1:T])
        lib.manual_seed(1)
        samples = []
        y = series[:, T - 1 : T] / scale
        for t in range(4):
            dist, state = model(y, cov[:, T + t : T + t + 1], state)
            draw = dist.sample()
            samples.append(draw)
            y = draw if likelihood == "normal" else draw / scale
        record += [lib.cat(samples, 1), state[0]]
    return record + params(model)


@pytest.mark.parametrize("likelihood", ["normal", "negbin"])
def test_deepar_trains_and_samples_as_torch(likelihood):
    both(deepar, likelihood, rtol=1e-3, atol=1e-4)
    both_in_float64(deepar, likelihood)


# -- FixMatch -----------------------------------------------------------------------------------------------------


def fixmatch(lib):
    nn, F = lib.nn, lib.nn.functional

    def interleave(x, size):
        s = list(x.shape)
        return x.reshape([-1, size] + s[1:]).transpose(0, 1).reshape([-1] + s[1:])

    def de_interleave(x, size):
        s = list(x.shape)
        return x.reshape([size, -1] + s[1:]).transpose(0, 1).reshape([-1] + s[1:])

    def get_cosine_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps, num_cycles=7.0 / 16.0):
        def _lr_lambda(current_step):
            if current_step < num_warmup_steps:
                return float(current_step) / float(max(1, num_warmup_steps))
            no_progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
            return max(0.0, math.cos(math.pi * num_cycles * no_progress))

        return lib.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda, -1)

    class ModelEMA:
        def __init__(self, model, decay):
            import copy

            self.ema = copy.deepcopy(model)
            self.ema.eval()
            self.decay = decay
            self.param_keys = [k for k, _ in self.ema.named_parameters()]
            self.buffer_keys = [k for k, _ in self.ema.named_buffers()]
            for p in self.ema.parameters():
                p.requires_grad_(False)

        def update(self, model):
            with lib.no_grad():
                msd = model.state_dict()
                esd = self.ema.state_dict()
                for k in self.param_keys:
                    model_v = msd[k].detach()
                    ema_v = esd[k]
                    esd[k].copy_(ema_v * self.decay + (1.0 - self.decay) * model_v)
                for k in self.buffer_keys:
                    esd[k].copy_(msd[k])

    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4, momentum=0.001), nn.LeakyReLU(0.1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3),
    )  # fmt: skip
    no_decay = ["bias", "bn"]
    grouped_parameters = [
        {
            "params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
            "weight_decay": 5e-4,
        },
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = lib.optim.SGD(grouped_parameters, lr=0.03, momentum=0.9, nesterov=True)
    scheduler = get_cosine_schedule_with_warmup(optimizer, 1, 5)
    ema_model = ModelEMA(model, 0.9)
    mu, threshold, T, lambda_u = 2, 0.5, 1.0, 1.0
    record = []
    for _ in range(4):
        inputs_x = lib.randn(3, 1, 6, 6)
        targets_x = lib.randint(0, 3, (3,))
        inputs_u_w = lib.randn(mu * 3, 1, 6, 6)
        inputs_u_s = inputs_u_w + 0.5 * lib.randn_like(inputs_u_w)
        batch_size = inputs_x.shape[0]
        inputs = interleave(lib.cat((inputs_x, inputs_u_w, inputs_u_s)), 2 * mu + 1)
        logits = model(inputs)
        logits = de_interleave(logits, 2 * mu + 1)
        logits_x = logits[:batch_size]
        logits_u_w, logits_u_s = logits[batch_size:].chunk(2)
        del logits
        Lx = F.cross_entropy(logits_x, targets_x, reduction="mean")
        pseudo_label = lib.softmax(logits_u_w.detach() / T, dim=-1)
        max_probs, targets_u = lib.max(pseudo_label, dim=-1)
        mask = max_probs.ge(threshold).float()
        Lu = (F.cross_entropy(logits_u_s, targets_u, reduction="none") * mask).mean()
        loss = Lx + lambda_u * Lu
        loss.backward()
        optimizer.step()
        scheduler.step()
        ema_model.update(model)
        model.zero_grad()
        record += [loss, Lx, Lu, mask, targets_u, scheduler.get_last_lr()[0]]
    with lib.no_grad():
        record.append(ema_model.ema(lib.randn(4, 1, 6, 6)))
    return record + params(model) + list(ema_model.ema.state_dict().values())


def test_fixmatch_trains_as_torch():
    both(fixmatch, rtol=1e-3, atol=1e-4)
    both_in_float64(fixmatch)


# -- Reformer's LSH attention ---------------------------------------------------------------------------------


def lsh_attention(lib, causal):
    nn, F = lib.nn, lib.nn.functional

    def sort_key_val(t1, t2, dim=-1):
        values, indices = t1.sort(dim=dim)
        t2 = t2.expand_as(t1)
        return values, t2.gather(dim, indices)

    def batched_index_select(values, indices):
        last_dim = values.shape[-1]
        return values.gather(1, indices[:, :, None].expand(-1, -1, last_dim))

    def look_one_back(x):
        x_extra = lib.cat([x[:, -1:, ...], x[:, :-1, ...]], dim=1)
        return lib.cat([x, x_extra], dim=2)

    class LSHAttention(nn.Module):
        def __init__(self, bucket_size=4, n_hashes=2, causal=False):
            super().__init__()
            self.bucket_size = bucket_size
            self.n_hashes = n_hashes
            self.causal = causal

        def hash_vectors(self, n_buckets, vecs):
            batch_size = vecs.shape[0]
            rot_size = n_buckets
            rotations_shape = (1, vecs.shape[-1], self.n_hashes, rot_size // 2)
            random_rotations = lib.randn(rotations_shape, dtype=vecs.dtype).expand(batch_size, -1, -1, -1)
            rotated_vecs = lib.einsum("btf,bfhi->bhti", vecs, random_rotations)
            rotated_vecs = lib.cat([rotated_vecs, -rotated_vecs], dim=-1)
            buckets = lib.argmax(rotated_vecs, dim=-1)
            offsets = lib.arange(self.n_hashes)
            offsets = lib.reshape(offsets * n_buckets, (1, -1, 1))
            return lib.reshape(buckets + offsets, (batch_size, -1))

        def forward(self, qk, v):
            batch_size, seqlen, dim = qk.shape
            n_buckets = seqlen // self.bucket_size
            buckets = self.hash_vectors(n_buckets, qk)
            total_hashes = self.n_hashes
            ticker = lib.arange(total_hashes * seqlen).unsqueeze(0).expand_as(buckets)
            buckets_and_t = seqlen * buckets + (ticker % seqlen)
            buckets_and_t = buckets_and_t.detach()
            sbuckets_and_t, sticker = sort_key_val(buckets_and_t, ticker, dim=-1)
            _, undo_sort = sticker.sort(dim=-1)
            del ticker
            sbuckets_and_t = sbuckets_and_t.detach()
            sticker = sticker.detach()
            undo_sort = undo_sort.detach()
            st = sticker % seqlen
            sqk = batched_index_select(qk, st)
            sv = batched_index_select(v, st)
            chunk_size = total_hashes * n_buckets
            bq_t = bkv_t = lib.reshape(st, (batch_size, chunk_size, -1))
            bqk = lib.reshape(sqk, (batch_size, chunk_size, -1, dim))
            bv = lib.reshape(sv, (batch_size, chunk_size, -1, dim))
            bq = bqk
            bk = F.normalize(bqk, p=2, dim=-1).type_as(bq)
            bk = look_one_back(bk)
            bv = look_one_back(bv)
            bkv_t = look_one_back(bkv_t)
            dots = lib.einsum("bhie,bhje->bhij", bq, bk) * (dim**-0.5)
            masked_value = -lib.finfo(dots.dtype).max
            if self.causal:
                mask = bq_t[:, :, :, None] < bkv_t[:, :, None, :]
                dots.masked_fill_(mask, masked_value)
            self_mask = bq_t[:, :, :, None] == bkv_t[:, :, None, :]
            dots.masked_fill_(self_mask, -5e4)
            dots_logsumexp = lib.logsumexp(dots, dim=-1, keepdim=True)
            dots = lib.exp(dots - dots_logsumexp).type_as(dots)
            bo = lib.einsum("buij,buje->buie", dots, bv)
            so = lib.reshape(bo, (batch_size, -1, dim))
            slogits = lib.reshape(dots_logsumexp, (batch_size, -1))
            o = batched_index_select(so, undo_sort)
            logits = slogits.gather(1, undo_sort)
            o = lib.reshape(o, (batch_size, total_hashes, seqlen, dim))
            logits = lib.reshape(logits, (batch_size, total_hashes, seqlen, 1))
            probs = lib.exp(logits - lib.logsumexp(logits, dim=1, keepdim=True))
            return lib.sum(o * probs, dim=1), buckets

    class Block(nn.Module):
        def __init__(self, dim=8):
            super().__init__()
            self.norm = nn.LayerNorm(dim)
            self.toqk = nn.Linear(dim, dim, bias=False)
            self.tov = nn.Linear(dim, dim, bias=False)
            self.attn = LSHAttention(causal=causal)
            self.ff = nn.Sequential(nn.Linear(dim, 16), nn.GELU(), nn.Linear(16, dim))

        def forward(self, x):
            h = self.norm(x)
            out, buckets = self.attn(self.toqk(h), self.tov(h))
            x = x + out
            return x + self.ff(x), buckets

    lib.manual_seed(0)
    model = Block()
    optimizer = lib.optim.AdamW(model.parameters(), lr=1e-2)
    x = lib.randn(2, 16, 8)
    record = []
    for _ in range(3):
        lib.manual_seed(1)  # the same rotations each step
        out, buckets = model(x)
        loss = (out - x.flip(1)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, buckets, model.toqk.weight.grad]
    return record + params(model)


@pytest.mark.parametrize("causal", [False, True], ids=["bidirectional", "causal"])
def test_reformer_lsh_attention_trains_as_torch(causal):
    both(lsh_attention, causal, rtol=1e-3, atol=1e-4)
    both_in_float64(lsh_attention, causal)


# -- Deep SVDD --------------------------------------------------------------------------------------------------


def deep_svdd(lib, objective):
    nn, F = lib.nn, lib.nn.functional

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.rep_dim = 6
            self.pool = nn.MaxPool2d(2, 2)
            self.conv1 = nn.Conv2d(1, 4, 3, bias=False, padding=1)
            self.bn1 = nn.BatchNorm2d(4, eps=1e-04, affine=False)
            self.fc1 = nn.Linear(4 * 4 * 4, self.rep_dim, bias=False)

        def forward(self, x):
            x = self.pool(F.leaky_relu(self.bn1(self.conv1(x))))
            return self.fc1(x.view(x.size(0), -1))

    def init_center_c(loader, net, eps=0.1):
        n_samples = 0
        c = lib.zeros(net.rep_dim)
        net.eval()
        with lib.no_grad():
            for inputs in loader:
                outputs = net(inputs)
                n_samples += outputs.shape[0]
                c += lib.sum(outputs, dim=0)
        c /= n_samples
        c[(abs(c) < eps) & (c < 0)] = -eps
        c[(abs(c) < eps) & (c > 0)] = eps
        return c

    def get_radius(dist, nu):
        return np.quantile(np.sqrt(dist.clone().data.cpu().numpy()), 1 - nu)

    lib.manual_seed(0)
    net = Encoder()
    data = lib.rand(12, 1, 8, 8)
    loader = list(data.split(4))
    nu = 0.1
    R = lib.tensor(0.0)
    c = init_center_c(loader, net)
    optimizer = lib.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-6, amsgrad=True)
    scheduler = lib.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2], gamma=0.1)
    net.train()
    record = [c]
    for epoch in range(3):
        loss_epoch = 0.0
        for inputs in loader:
            optimizer.zero_grad()
            outputs = net(inputs)
            dist = lib.sum((outputs - c) ** 2, dim=1)
            if objective == "soft-boundary":
                scores = dist - R**2
                loss = R**2 + (1 / nu) * lib.mean(lib.max(lib.zeros_like(scores), scores))
            else:
                loss = lib.mean(dist)
            loss.backward()
            optimizer.step()
            if objective == "soft-boundary" and epoch >= 1:
                R.data = lib.tensor(get_radius(dist, nu))
            loss_epoch += loss.item()
        scheduler.step()
        record += [loss_epoch, R]
    net.eval()
    with lib.no_grad():
        outputs = net(lib.cat([data[:4], lib.rand(4, 1, 8, 8) * 3]))
        dist = lib.sum((outputs - c) ** 2, dim=1)
        scores = dist - R**2 if objective == "soft-boundary" else dist
    return record + [scores] + params(net) + [net.bn1.running_var]


@pytest.mark.parametrize("objective", ["one-class", "soft-boundary"])
def test_deep_svdd_trains_as_torch(objective):
    both(deep_svdd, objective, rtol=1e-3, atol=1e-4)
    both_in_float64(deep_svdd, objective)


# -- N-HiTS -------------------------------------------------------------------------------------------------------


def nhits(lib, mode):
    nn, F = lib.nn, lib.nn.functional

    class NHITSBlock(nn.Module):
        def __init__(self, input_size, h, n_pool_kernel_size, n_freq_downsample, pooling):
            super().__init__()
            self.h = h
            n_theta = input_size + max(h // n_freq_downsample, 1)
            pool = nn.MaxPool1d if pooling == "MaxPool1d" else nn.AvgPool1d
            self.pooling_layer = pool(kernel_size=n_pool_kernel_size, stride=n_pool_kernel_size, ceil_mode=True)
            pooled = int(np.ceil(input_size / n_pool_kernel_size))
            self.mlp = nn.Sequential(nn.Linear(pooled, 16), nn.ReLU(), nn.Dropout(0.0), nn.Linear(16, n_theta))
            self.input_size = input_size

        def forward(self, insample_y):
            insample_y = insample_y.unsqueeze(1)
            insample_y = self.pooling_layer(insample_y)
            insample_y = insample_y.squeeze(1)
            theta = self.mlp(insample_y)
            backcast = theta[:, : self.input_size]
            knots = theta[:, self.input_size :]
            knots = knots.reshape(len(knots), 1, -1)
            forecast = F.interpolate(knots, size=self.h, mode=mode)
            return backcast, forecast.squeeze(1)

    class NHITS(nn.Module):
        def __init__(self, input_size=12, h=6):
            super().__init__()
            self.blocks = nn.ModuleList(
                [
                    NHITSBlock(input_size, h, 4, 3, "MaxPool1d"),
                    NHITSBlock(input_size, h, 2, 2, "AvgPool1d"),
                    NHITSBlock(input_size, h, 1, 1, "MaxPool1d"),
                ]
            )

        def forward(self, insample_y, insample_mask):
            residuals = insample_y.flip(dims=(-1,))
            insample_mask = insample_mask.flip(dims=(-1,))
            forecast = insample_y[:, -1:]
            block_forecasts = [forecast.repeat(1, 6)]
            for block in self.blocks:
                backcast, block_forecast = block(residuals)
                residuals = (residuals - backcast) * insample_mask
                forecast = forecast + block_forecast
                block_forecasts.append(block_forecast)
            return forecast, lib.stack(block_forecasts).permute(1, 0, 2)

    lib.manual_seed(0)
    model = NHITS()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    t = lib.arange(40, dtype=lib.get_default_dtype())
    series = lib.sin(t / 3) + 0.1 * lib.randn(40)
    windows = series.unfold(0, 18, 2)
    x, y = windows[:, :12], windows[:, 12:]
    mask = lib.ones_like(x)
    mask[0, :3] = 0
    record = []
    for _ in range(4):
        forecast, blocks = model(x, mask)
        loss = F.l1_loss(forecast, y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        record += [loss, blocks]
    return record + params(model)


@pytest.mark.parametrize("mode", ["linear", "nearest"])
def test_nhits_trains_as_torch(mode):
    # a bias gradient is 0 in PyTorch's float32 sum and -1.9e-9 in ember's, and Adam's first step moves it by
    # the learning rate either way: float32 agrees loosely, float64 closely
    both(nhits, mode, rtol=1e-2, atol=1e-3)
    both_in_float64(nhits, mode)


# -- Contrastive Predictive Coding ------------------------------------------------------------------------------


def cpc(lib):
    nn = lib.nn

    class CDCK2(nn.Module):
        def __init__(self, timestep=3, seq_len=64):
            super().__init__()
            self.seq_len = seq_len
            self.timestep = timestep
            self.encoder = nn.Sequential(
                nn.Conv1d(1, 8, kernel_size=4, stride=2, padding=1, bias=False), nn.BatchNorm1d(8), nn.ReLU(inplace=True),
                nn.Conv1d(8, 8, kernel_size=4, stride=2, padding=1, bias=False), nn.BatchNorm1d(8), nn.ReLU(inplace=True),
            )  # fmt: skip
            self.gru = nn.GRU(8, 6, num_layers=1, bidirectional=False, batch_first=True)
            self.Wk = nn.ModuleList([nn.Linear(6, 8) for _ in range(timestep)])
            self.softmax = nn.Softmax(dim=1)
            self.lsoftmax = nn.LogSoftmax(dim=1)

            def _weights_init(m):
                if isinstance(m, nn.Linear):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if isinstance(m, nn.Conv1d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.BatchNorm1d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

            for layer_p in self.gru._all_weights:
                for p in layer_p:
                    if "weight" in p:
                        nn.init.kaiming_normal_(self.gru.__getattr__(p), mode="fan_out", nonlinearity="relu")
            self.apply(_weights_init)

        def init_hidden(self, batch_size):
            return lib.zeros(1, batch_size, 6)

        def forward(self, x, hidden):
            batch = x.size()[0]
            t_samples = lib.randint(self.seq_len // 4 - self.timestep, size=(1,)).long()
            z = self.encoder(x)
            z = z.transpose(1, 2)
            nce = 0
            encode_samples = lib.empty((self.timestep, batch, 8)).float()
            for i in np.arange(1, self.timestep + 1):
                encode_samples[i - 1] = z[:, t_samples + i, :].view(batch, 8)
            forward_seq = z[:, : t_samples + 1, :]
            output, hidden = self.gru(forward_seq, hidden)
            c_t = output[:, t_samples, :].view(batch, 6)
            pred = lib.empty((self.timestep, batch, 8)).float()
            for i in np.arange(0, self.timestep):
                linear = self.Wk[i]
                pred[i] = linear(c_t)
            for i in np.arange(0, self.timestep):
                total = lib.mm(encode_samples[i], lib.transpose(pred[i], 0, 1))
                correct = lib.sum(lib.eq(lib.argmax(self.softmax(total), dim=0), lib.arange(0, batch)))
                nce += lib.sum(lib.diag(self.lsoftmax(total)))
            nce /= -1.0 * batch * self.timestep
            accuracy = 1.0 * correct.item() / batch
            return accuracy, nce, hidden

    lib.manual_seed(0)
    model = CDCK2()
    optimizer = lib.optim.Adam(
        model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-09, weight_decay=1e-4, amsgrad=True
    )
    t = lib.arange(64.0)
    record = []
    for _ in range(4):
        phase = lib.rand(5, 1, 1) * 6
        data = lib.sin(t / (2 + lib.arange(5.0).view(5, 1, 1)) + phase) + 0.1 * lib.randn(5, 1, 64)
        hidden = model.init_hidden(len(data))
        optimizer.zero_grad()
        acc, loss, hidden = model(data.float(), hidden)
        loss.backward()
        optimizer.step()
        record += [acc, loss, hidden, model.Wk[0].weight.grad]
    return record + params(model)


def test_contrastive_predictive_coding_trains_as_torch():
    both(cpc, rtol=1e-3, atol=1e-4)


# -- Neural collaborative filtering ----------------------------------------------------------------------------


def neumf(lib, loss_kind):
    nn = lib.nn

    class NCF(nn.Module):
        def __init__(self, user_num, item_num, factor_num=4, num_layers=2, dropout=0.0):
            super().__init__()
            self.embed_user_GMF = nn.Embedding(user_num, factor_num)
            self.embed_item_GMF = nn.Embedding(item_num, factor_num)
            self.embed_user_MLP = nn.Embedding(user_num, factor_num * (2 ** (num_layers - 1)))
            self.embed_item_MLP = nn.Embedding(item_num, factor_num * (2 ** (num_layers - 1)))
            MLP_modules = []
            for i in range(num_layers):
                input_size = factor_num * (2 ** (num_layers - i))
                MLP_modules.append(nn.Dropout(p=dropout))
                MLP_modules.append(nn.Linear(input_size, input_size // 2))
                MLP_modules.append(nn.ReLU())
            self.MLP_layers = nn.Sequential(*MLP_modules)
            self.predict_layer = nn.Linear(factor_num * 2, 1)
            nn.init.normal_(self.embed_user_GMF.weight, std=0.01)
            nn.init.normal_(self.embed_user_MLP.weight, std=0.01)
            nn.init.normal_(self.embed_item_GMF.weight, std=0.01)
            nn.init.normal_(self.embed_item_MLP.weight, std=0.01)
            for m in self.MLP_layers:
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
            nn.init.kaiming_uniform_(self.predict_layer.weight, a=1, nonlinearity="sigmoid")
            for m in self.modules():
                if isinstance(m, nn.Linear) and m.bias is not None:
                    m.bias.data.zero_()

        def forward(self, user, item):
            output_GMF = self.embed_user_GMF(user) * self.embed_item_GMF(item)
            interaction = lib.cat((self.embed_user_MLP(user), self.embed_item_MLP(item)), -1)
            output_MLP = self.MLP_layers(interaction)
            concat = lib.cat((output_GMF, output_MLP), -1)
            return self.predict_layer(concat).view(-1)

    def hit(gt_item, pred_items):
        return 1 if gt_item in pred_items else 0

    def ndcg(gt_item, pred_items):
        if gt_item in pred_items:
            index = pred_items.index(gt_item)
            return np.reciprocal(np.log2(index + 2))
        return 0

    lib.manual_seed(0)
    users, items = 6, 12
    model = NCF(users, items)
    optimizer = lib.optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    pos = rng.integers(0, items, (30, 2))
    pos[:, 0] %= users
    record = []
    for _ in range(4):
        user = lib.tensor(pos[:, 0])
        item_i = lib.tensor(pos[:, 1])
        item_j = lib.randint(0, items, (30,))
        model.zero_grad()
        pred_i = model(user, item_i)
        if loss_kind == "bpr":
            pred_j = model(user, item_j)
            loss = -(pred_i - pred_j).sigmoid().log().sum()
        else:
            users_all = lib.cat([user, user])
            items_all = lib.cat([item_i, item_j])
            labels = lib.cat([lib.ones(30), lib.zeros(30)])
            loss = nn.BCEWithLogitsLoss()(model(users_all, items_all), labels)
        loss.backward()
        optimizer.step()
        record += [loss]
    model.eval()
    HR, NDCG = [], []
    with lib.no_grad():
        for u in range(users):
            candidates = lib.arange(items)
            predictions = model(lib.full((items,), u), candidates)
            _, indices = lib.topk(predictions, 5)
            recommends = lib.take(candidates, indices).cpu().numpy().tolist()
            gt_item = int(pos[u, 1])
            HR.append(hit(gt_item, recommends))
            NDCG.append(ndcg(gt_item, recommends))
            record.append(predictions)
    return record + [float(np.mean(HR)), float(np.mean(NDCG))] + params(model)


@pytest.mark.parametrize("loss_kind", ["bpr", "bce"])
def test_neural_collaborative_filtering_trains_as_torch(loss_kind):
    both(neumf, loss_kind, rtol=1e-3, atol=1e-4)
    both_in_float64(neumf, loss_kind)


# -- Bucketed batches from a custom sampler, an iterable dataset and collate functions --------------------------


def bucketed_loading(lib):
    nn = lib.nn
    data = lib.utils.data
    from_numpy = lib.from_numpy

    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 9, 23)
    sequences = [rng.integers(1, 20, n) for n in lengths]
    labels = [int(s.sum() % 3) for s in sequences]

    class TextDataset(data.Dataset):
        def __len__(self):
            return len(sequences)

        def __getitem__(self, i):
            return {"ids": from_numpy(sequences[i]), "label": labels[i], "length": np.int64(len(sequences[i]))}

    class BucketBatchSampler(data.Sampler):
        def __init__(self, lengths, batch_size, generator):
            self.lengths = lengths
            self.batch_size = batch_size
            self.generator = generator

        def __iter__(self):
            order = lib.randperm(len(self.lengths), generator=self.generator).tolist()
            order.sort(key=lambda i: self.lengths[i])
            batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
            for j in lib.randperm(len(batches), generator=self.generator).tolist():
                yield batches[j]

        def __len__(self):
            return (len(self.lengths) + self.batch_size - 1) // self.batch_size

    def collate(batch):
        ids = nn.utils.rnn.pad_sequence([b["ids"] for b in batch], batch_first=True, padding_value=0)
        rest = data.default_collate([{"label": b["label"], "length": b["length"]} for b in batch])
        return ids, rest["label"], rest["length"]

    class Stream(data.IterableDataset):
        def __init__(self, start, end):
            self.start, self.end = start, end

        def __iter__(self):
            info = data.get_worker_info()
            assert info is None
            for i in range(self.start, self.end):
                yield from_numpy(sequences[i][:2]), labels[i]

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(20, 6, padding_idx=0)
            self.rnn = nn.GRU(6, 8, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(16, 3)

        def forward(self, ids, lengths):
            packed = nn.utils.rnn.pack_padded_sequence(
                self.embedding(ids), lengths, batch_first=True, enforce_sorted=False
            )
            _, hidden = self.rnn(packed)
            return self.fc(lib.cat([hidden[-2], hidden[-1]], dim=1))

    lib.manual_seed(0)
    model = Classifier()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-2)
    g = lib.Generator().manual_seed(3)
    loader = data.DataLoader(
        TextDataset(), batch_sampler=BucketBatchSampler(lengths.tolist(), 5, g), collate_fn=collate
    )
    record = [len(loader)]
    for _ in range(2):
        for ids, label, length in loader:
            loss = nn.functional.cross_entropy(model(ids, length), label)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            record += [ids, label, length, loss]
    for first, label in data.DataLoader(data.ChainDataset([Stream(0, 7), Stream(7, 12)]), batch_size=4):
        record += [first, label]
    subset = data.Subset(TextDataset(), list(range(0, 23, 2)))
    sampler = data.SubsetRandomSampler(list(range(len(subset))), generator=lib.Generator().manual_seed(5))
    loader = data.DataLoader(subset, batch_size=3, sampler=sampler, collate_fn=collate, drop_last=True)
    with lib.no_grad():
        for ids, label, length in loader:
            record += [ids, model(ids, length).argmax(1), label]
    return record + params(model)


def test_bucketed_loading_with_custom_sampler_and_collate_as_torch():
    both(bucketed_loading, rtol=1e-3, atol=1e-4)
    both_in_float64(bucketed_loading)


# -- Multi-task learning: uncertainty weighting and GradNorm --------------------------------------------------------


def multitask(lib, weighting):
    nn, F = lib.nn, lib.nn.functional

    class MultiTaskNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.shared = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 12), nn.Tanh())
            self.heads = nn.ModuleList([nn.Linear(12, 1), nn.Linear(12, 3), nn.Linear(12, 1)])
            if weighting == "uncertainty":
                self.log_vars = nn.Parameter(lib.zeros(3))
            else:
                self.weights = nn.Parameter(lib.ones(3))

        def forward(self, x):
            h = self.shared(x)
            return [head(h) for head in self.heads]

    lib.manual_seed(0)
    model = MultiTaskNet()
    x = lib.randn(20, 5)
    y_reg = (x[:, :1] * 2 + 0.1 * lib.randn(20, 1)) * 5
    y_cls = lib.argmax(x[:, 1:4], 1)
    y_bin = (x[:, 4:] > 0).to(x.dtype)
    if weighting == "uncertainty":
        optimizer = lib.optim.Adam(model.parameters(), lr=1e-2)
    else:
        task_params = [p for n, p in model.named_parameters() if n != "weights"]
        optimizer = lib.optim.Adam(task_params, lr=1e-2)
        optimizer_w = lib.optim.Adam([model.weights], lr=1e-2)
    alpha = 1.5
    record = []
    initial = None
    for _ in range(4):
        out = model(x)
        losses = lib.stack(
            [
                F.mse_loss(out[0], y_reg),
                F.cross_entropy(out[1], y_cls),
                F.binary_cross_entropy_with_logits(out[2], y_bin),
            ]
        )
        if weighting == "uncertainty":
            precision = lib.exp(-model.log_vars)
            loss = (precision * losses + model.log_vars).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            record += [loss, model.log_vars.grad]
            continue
        weighted = model.weights * losses
        total = weighted.sum()
        if initial is None:
            initial = losses.detach()
        optimizer.zero_grad()
        optimizer_w.zero_grad()
        total.backward(retain_graph=True)
        model.weights.grad.data = model.weights.grad.data * 0.0
        W = model.shared[2].weight
        norms = []
        for i in range(3):
            gygw = lib.autograd.grad(weighted[i], W, retain_graph=True, create_graph=True)
            norms.append(lib.norm(gygw[0]))
        norms = lib.stack(norms)
        loss_ratio = losses.detach() / initial
        inverse_train_rate = loss_ratio / loss_ratio.mean()
        mean_norm = norms.mean().detach()
        constant_term = (mean_norm * (inverse_train_rate**alpha)).detach()
        grad_norm_loss = lib.sum(lib.abs(norms - constant_term))
        model.weights.grad = lib.autograd.grad(grad_norm_loss, model.weights)[0]
        optimizer.step()
        optimizer_w.step()
        with lib.no_grad():
            normalize_coeff = 3 / lib.sum(model.weights.data, dim=0)
            model.weights.data = model.weights.data * normalize_coeff
        record += [total, norms, grad_norm_loss, model.weights.grad, model.weights]
    return record + params(model)


@pytest.mark.parametrize("weighting", ["uncertainty", "gradnorm"])
def test_multitask_loss_weighting_as_torch(weighting):
    both(multitask, weighting, rtol=1e-3, atol=1e-4)
    both_in_float64(multitask, weighting)
