"""Public programs, round 13: condensed versions of programs people write and run, each run on ember and
on torch from the same seeds, comparing losses, outputs, gradients and the trained weights.

- Semantic segmentation (DeepLabV3's ASPP head, SegNet's pooling indices): dilated convolutions, an image
  pooling branch upsampled by ``interpolate(bilinear, align_corners)``, ``max_pool2d(return_indices=True)``
  undone by ``MaxUnpool2d``, ``CrossEntropyLoss(weight=..., ignore_index=255)``, SGD with Nesterov momentum
  and ``PolynomialLR``.
- A mixture density network and Bayes by Backprop: ``MixtureSameFamily`` of ``Categorical`` and
  ``Independent(Normal)``, its ``log_prob``, ``mean``, ``variance`` and seeded ``sample``; Bayesian linear
  layers with softplus scales, ``Normal.rsample`` and ``kl_divergence``.
- Poincare embeddings (facebookresearch/poincare-embeddings) with a Riemannian SGD ``Optimizer`` subclass,
  ``acosh`` distances and ``renorm_`` retraction; TransE with ``Embedding(max_norm=1)`` and
  ``MarginRankingLoss``.
- ConvLSTM next-frame prediction (ndrplz/ConvLSTM_pytorch) with a temporal shift module (TSM), Adam with
  ``amsgrad`` and ``StepLR``.
- N-BEATS (generic, trend and seasonality stacks) with the sMAPE loss, ``OneCycleLR`` and ``clip_grad_norm_``.
- A neural Turing machine on the copy task: content addressing by ``cosine_similarity``, circular shifts by
  ``F.pad(mode="circular")`` and ``conv1d``, sharpening, erase and add writes, ``RMSprop`` with momentum and
  ``clip_grad_value_``.
- Deep embedded clustering with a self-normalising encoder (SELU, ``AlphaDropout``, LeCun-normal init):
  Student-t soft assignments and ``KLDivLoss(reduction="batchmean")`` against the sharpened target.
- Learning to rank: RankNet on ``triu_indices`` pairs, ListNet, and LambdaRank's delta-NDCG weights from
  ``argsort``, trained with ``Adagrad``.
- SimSiam and BYOL: stop-gradient negative cosine similarity, a predictor with a fixed learning rate in its
  own parameter group, the target network's EMA by ``_foreach_lerp_``/``_foreach_mul_``/``_foreach_add_``,
  and a ``state_dict`` round trip through ``save``/``load``.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from public_programs import both, both_in_float64, params

# -- Semantic segmentation: DeepLabV3's ASPP and SegNet ------------------------------------------------------


def segmentation(lib, arch, align_corners):
    nn, F = lib.nn, lib.nn.functional

    class ASPPPooling(nn.Sequential):
        def __init__(self, in_channels, out_channels):
            super().__init__(
                nn.AdaptiveAvgPool2d(1),
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )

        def forward(self, x):
            size = x.shape[-2:]
            for mod in self:
                x = mod(x)
            return F.interpolate(x, size=size, mode="bilinear", align_corners=align_corners)

    class ASPP(nn.Module):
        def __init__(self, in_channels, atrous_rates, out_channels=8):
            super().__init__()
            modules = [
                nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU()
                )
            ]
            for rate in atrous_rates:
                modules.append(
                    nn.Sequential(
                        nn.Conv2d(in_channels, out_channels, 3, padding=rate, dilation=rate, bias=False),
                        nn.BatchNorm2d(out_channels),
                        nn.ReLU(),
                    )
                )
            modules.append(ASPPPooling(in_channels, out_channels))
            self.convs = nn.ModuleList(modules)
            self.project = nn.Sequential(
                nn.Conv2d(len(self.convs) * out_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
                nn.Dropout(0.5),
            )

        def forward(self, x):
            return self.project(lib.cat([conv(x) for conv in self.convs], dim=1))

    class DeepLab(nn.Module):
        def __init__(self, num_classes):
            super().__init__()
            self.backbone = nn.Sequential(
                nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                nn.Conv2d(8, 12, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(12), nn.ReLU(inplace=True),
            )  # fmt: skip
            self.classifier = nn.Sequential(ASPP(12, [1, 2, 3]), nn.Conv2d(8, 8, 3, padding=1, bias=False),
                                            nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, num_classes, 1))  # fmt: skip

        def forward(self, x):
            input_shape = x.shape[-2:]
            out = self.classifier(self.backbone(x))
            return {"out": F.interpolate(out, size=input_shape, mode="bilinear", align_corners=align_corners)}

    class SegNet(nn.Module):
        def __init__(self, num_classes):
            super().__init__()
            self.enc1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
            self.enc2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
            self.dec2 = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
            self.dec1 = nn.Conv2d(8, num_classes, 3, padding=1)
            self.unpool = nn.MaxUnpool2d(2, stride=2)

        def forward(self, x):
            x = self.enc1(x)
            size1 = x.size()
            x, idx1 = F.max_pool2d(x, 2, stride=2, return_indices=True)
            x = self.enc2(x)
            size2 = x.size()
            x, idx2 = F.max_pool2d(x, 2, stride=2, return_indices=True)
            x = self.unpool(x, idx2, output_size=size2)
            x = self.dec2(x)
            x = F.max_unpool2d(x, idx1, 2, 2, output_size=size1)
            return {"out": self.dec1(x), "indices": idx2}

    num_classes = 4
    lib.manual_seed(0)
    model = DeepLab(num_classes) if arch == "deeplab" else SegNet(num_classes)
    params_to_optimize = [
        {"params": [p for n, p in model.named_parameters() if "classifier" not in n and "dec" not in n]},
        {"params": [p for n, p in model.named_parameters() if "classifier" in n or "dec" in n], "lr": 0.1},
    ]
    optimizer = lib.optim.SGD(params_to_optimize, lr=0.05, momentum=0.9, weight_decay=1e-4, nesterov=True)
    scheduler = lib.optim.lr_scheduler.PolynomialLR(optimizer, total_iters=4, power=0.9)
    criterion = nn.CrossEntropyLoss(weight=lib.tensor([1.0, 2.0, 0.5, 1.5]), ignore_index=255)
    images = lib.randn(3, 4, 3, 18, 18)
    targets = lib.randint(0, num_classes, (3, 4, 18, 18))
    targets[:, :, :2] = 255  # the void border of VOC's masks
    record = []
    for image, target in zip(images, targets):
        model.train()
        output = model(image)
        loss = criterion(output["out"], target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        record += [loss, output["out"], scheduler.get_last_lr()[0], scheduler.get_last_lr()[1]]
        if "indices" in output:
            record.append(output["indices"])
    model.eval()
    with lib.inference_mode():
        out = model(images[0])["out"]
        pred = out.argmax(1)
        valid = targets[0] != 255
        confmat = lib.bincount(targets[0][valid] * num_classes + pred[valid], minlength=num_classes**2)
        confmat = confmat.reshape(num_classes, num_classes)
        iou = lib.diag(confmat) / (confmat.sum(1) + confmat.sum(0) - lib.diag(confmat)).clamp(min=1)
    record += [out, confmat, iou, list(model.state_dict().values())[-1]]
    return record + params(model)


@pytest.mark.parametrize(("arch", "align_corners"), [("deeplab", False), ("deeplab", True), ("segnet", False)])
def test_deeplab_aspp_and_segnet_unpooling_train_as_torch(arch, align_corners):
    both_in_float64(segmentation, arch, align_corners, rtol=1e-7, atol=1e-9)


# -- A mixture density network and Bayes by Backprop --------------------------------------------------------


def mixture_density_and_bayes_by_backprop(lib):
    nn, F, D = lib.nn, lib.nn.functional, lib.distributions

    class MDN(nn.Module):
        def __init__(self, dim_in, dim_out, n_components, hidden_dim=16):
            super().__init__()
            self.n_components, self.dim_out = n_components, dim_out
            self.pi_network = nn.Sequential(
                nn.Linear(dim_in, hidden_dim), nn.ELU(), nn.Linear(hidden_dim, n_components)
            )
            self.normal_network = nn.Sequential(
                nn.Linear(dim_in, hidden_dim), nn.ELU(), nn.Linear(hidden_dim, 2 * dim_out * n_components)
            )

        def forward(self, x):
            logits = self.pi_network(x)
            params_ = self.normal_network(x)
            mean, sd = lib.split(params_, params_.shape[1] // 2, dim=1)
            mean = lib.stack(mean.split(self.dim_out, 1), dim=1)
            sd = lib.stack(sd.split(self.dim_out, 1), dim=1)
            comp = D.Independent(D.Normal(mean, F.softplus(sd) + 1e-5), 1)
            return D.MixtureSameFamily(D.Categorical(logits=logits), comp)

    class BayesianLinear(nn.Module):
        def __init__(self, n_in, n_out, prior_sigma=1.0):
            super().__init__()
            self.w_mu = nn.Parameter(lib.empty(n_out, n_in).uniform_(-0.2, 0.2))
            self.w_rho = nn.Parameter(lib.empty(n_out, n_in).uniform_(-5, -4))
            self.b_mu = nn.Parameter(lib.empty(n_out).uniform_(-0.2, 0.2))
            self.b_rho = nn.Parameter(lib.empty(n_out).uniform_(-5, -4))
            self.prior = D.Normal(0.0, prior_sigma)

        def forward(self, x):
            w_q = D.Normal(self.w_mu, lib.log1p(lib.exp(self.w_rho)))
            b_q = D.Normal(self.b_mu, F.softplus(self.b_rho))
            w, b = w_q.rsample(), b_q.rsample()
            self.kl = D.kl_divergence(w_q, self.prior).sum() + D.kl_divergence(b_q, self.prior).sum()
            self.log_q = w_q.log_prob(w).sum() + b_q.log_prob(b).sum()
            return F.linear(x, w, b)

    lib.manual_seed(0)
    x = lib.rand(64, 1) * 6 - 3
    y = lib.cat([lib.sin(x) + 0.1 * lib.randn_like(x), lib.cos(2 * x) * 0.5], dim=1)
    record = []
    mdn = MDN(1, 2, 3)
    optimizer = lib.optim.Adam(mdn.parameters(), lr=5e-3)
    for _ in range(4):
        dist = mdn(x)
        loss = -dist.log_prob(y).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, mdn.pi_network[2].bias.grad]
    with lib.no_grad():
        dist = mdn(x[:5])
        record += [dist.mean, dist.variance, dist.sample((2,)), dist.mixture_distribution.probs,
                   dist.component_distribution.base_dist.scale, dist.log_prob(y[:5])]  # fmt: skip
    record += params(mdn)

    net = nn.Sequential(BayesianLinear(1, 16), nn.ReLU(), BayesianLinear(16, 1))
    optimizer = lib.optim.Adam(net.parameters(), lr=1e-2)
    n_batches = 2
    for step in range(4):
        batch = slice(step % 2 * 32, step % 2 * 32 + 32)
        outputs = lib.stack([net(x[batch]) for _ in range(3)])
        kl = sum(m.kl for m in net if isinstance(m, BayesianLinear)) / n_batches
        nll = -D.Normal(outputs, 0.1).log_prob(y[batch, :1]).sum(-1).mean()
        loss = nll + kl / x.shape[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, kl, net[0].w_rho.grad, net[2].b_mu.grad]
    with lib.no_grad():
        preds = lib.stack([net(x[:8]) for _ in range(10)])
        record += [preds.mean(0), preds.std(0)]
    return record + params(net)


def test_mixture_density_network_and_bayes_by_backprop_train_as_torch():
    both(mixture_density_and_bayes_by_backprop, rtol=2e-4, atol=1e-5)
    both_in_float64(mixture_density_and_bayes_by_backprop)


# -- Poincare embeddings and TransE --------------------------------------------------------------------------


def poincare_and_transe(lib, sparse):
    nn, F = lib.nn, lib.nn.functional
    eps = 1e-5
    boundary = 1 - eps

    class PoincareDistance(lib.autograd.Function):
        @staticmethod
        def grad(x, v, sqnormx, sqnormv, sqdist, eps):
            alpha = 1 - sqnormx
            beta = 1 - sqnormv
            z = 1 + 2 * sqdist / (alpha * beta)
            a = ((sqnormv - 2 * lib.sum(x * v, dim=-1) + 1) / lib.pow(alpha, 2)).unsqueeze(-1).expand_as(x)
            a = a * x - v / alpha.unsqueeze(-1).expand_as(v)
            z = lib.sqrt(lib.pow(z, 2) - 1)
            z = lib.clamp(z * beta, min=eps).unsqueeze(-1)
            return 4 * a / z.expand_as(x)

        @staticmethod
        def forward(ctx, u, v, eps):
            squnorm = lib.clamp(lib.sum(u * u, dim=-1), 0, 1 - eps)
            sqvnorm = lib.clamp(lib.sum(v * v, dim=-1), 0, 1 - eps)
            sqdist = lib.sum(lib.pow(u - v, 2), dim=-1)
            ctx.eps = eps
            ctx.save_for_backward(u, v, squnorm, sqvnorm, sqdist)
            x = sqdist / ((1 - squnorm) * (1 - sqvnorm)) * 2 + 1
            z = lib.sqrt(lib.pow(x, 2) - 1)
            return lib.log(x + z)

        @staticmethod
        def backward(ctx, g):
            u, v, squnorm, sqvnorm, sqdist = ctx.saved_tensors
            g = g.unsqueeze(-1)
            gu = PoincareDistance.grad(u, v, squnorm, sqvnorm, sqdist, ctx.eps)
            gv = PoincareDistance.grad(v, u, sqvnorm, squnorm, sqdist, ctx.eps)
            return g.expand_as(gu) * gu, g.expand_as(gv) * gv, None

    def rgrad(p, d_p):
        if d_p.is_sparse:
            p_sqnorm = lib.sum(p[d_p._indices()[0].squeeze()] ** 2, dim=1, keepdim=True).expand_as(d_p._values())
            n_vals = d_p._values() * ((1 - p_sqnorm) ** 2) / 4
            n_vals.renorm_(2, 0, 5)
            return lib.sparse_coo_tensor(d_p._indices(), n_vals, d_p.size())
        p_sqnorm = lib.sum(p**2, dim=-1, keepdim=True)
        return d_p * ((1 - p_sqnorm) ** 2 / 4).expand_as(d_p)

    def expm(p, d_p):
        p.add_(d_p)
        p.view(-1, p.size(-1)).renorm_(2, 0, boundary)

    class RiemannianSGD(lib.optim.Optimizer):
        def __init__(self, params_, lr):
            super().__init__(params_, {"lr": lr})

        def step(self, lr=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    d_p = p.grad.data
                    if d_p.is_sparse:
                        d_p = d_p.coalesce()
                    d_p = rgrad(p.data, d_p)
                    d_p.mul_(-(lr or group["lr"]))
                    expm(p.data, d_p)

    class PoincareEmbedding(nn.Module):
        def __init__(self, size, dim):
            super().__init__()
            self.lt = nn.Embedding(size, dim, sparse=sparse)
            self.lt.weight.data.uniform_(-1e-3, 1e-3)

        def forward(self, inputs):
            e = self.lt(inputs)
            o = e.narrow(1, 1, e.size(1) - 1)
            s = e.narrow(1, 0, 1).expand_as(o)
            return PoincareDistance.apply(s, o, eps).squeeze(-1)

    lib.manual_seed(0)
    n_nodes = 12
    model = PoincareEmbedding(n_nodes, 2)
    optimizer = RiemannianSGD(model.parameters(), lr=0.3)
    edges = lib.randint(0, n_nodes, (20, 2))
    record = []
    for epoch in range(4):
        negatives = lib.randint(0, n_nodes, (20, 5))
        inputs = lib.cat([edges, negatives], dim=1)
        optimizer.zero_grad()
        preds = -model(inputs)
        loss = F.cross_entropy(preds, lib.zeros(inputs.size(0), dtype=lib.long))
        loss.backward()
        record += [loss, preds]
        optimizer.step(lr=0.03 if epoch == 0 else None)  # the burn-in epoch's lower rate
    record += [model.lt.weight.norm(dim=-1), lib.acosh(1 + model.lt.weight[:, 0].abs())]

    class TransE(nn.Module):
        def __init__(self, entity_count, relation_count, dim, norm, margin):
            super().__init__()
            self.entity_count, self.norm = entity_count, norm
            self.entities_emb = nn.Embedding(
                entity_count + 1, dim, padding_idx=entity_count, max_norm=None if sparse else 1.0
            )
            uniform_range = 6 / np.sqrt(dim)
            self.entities_emb.weight.data.uniform_(-uniform_range, uniform_range)
            self.relations_emb = nn.Embedding(relation_count + 1, dim, padding_idx=relation_count)
            self.relations_emb.weight.data.uniform_(-uniform_range, uniform_range)
            self.relations_emb.weight.data[:-1, :].div_(
                self.relations_emb.weight.data[:-1, :].norm(p=1, dim=1, keepdim=True)
            )
            self.criterion = nn.MarginRankingLoss(margin=margin, reduction="none")

        def forward(self, positive_triplets, negative_triplets):
            if sparse:
                w = self.entities_emb.weight.data[:-1, :]
                w.div_(w.norm(p=2, dim=1, keepdim=True))
            positive_distances = self._distance(positive_triplets)
            negative_distances = self._distance(negative_triplets)
            target = lib.tensor([-1], dtype=lib.long)
            return self.criterion(positive_distances, negative_distances, target)

        def _distance(self, triplets):
            heads, relations, tails = triplets[:, 0], triplets[:, 1], triplets[:, 2]
            return (self.entities_emb(heads) + self.relations_emb(relations) - self.entities_emb(tails)).norm(
                p=self.norm, dim=1
            )

    model = TransE(10, 3, 6, norm=1, margin=1.0)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.05)
    triplets = lib.stack([lib.randint(0, 10, (16,)), lib.randint(0, 3, (16,)), lib.randint(0, 10, (16,))], dim=1)
    for _ in range(3):
        head_or_tail = lib.randint(high=2, size=(16,))
        random_entities = lib.randint(high=10, size=(16,))
        broken_heads = lib.where(head_or_tail == 1, random_entities, triplets[:, 0])
        broken_tails = lib.where(head_or_tail == 0, random_entities, triplets[:, 2])
        negative = lib.stack((broken_heads, triplets[:, 1], broken_tails), dim=1)
        optimizer.zero_grad()
        loss = model(triplets, negative)
        loss.mean().backward()
        optimizer.step()
        record += [loss, model.relations_emb.weight.grad]
    with lib.no_grad():
        scores = model._distance(triplets)
        ranks = (scores.unsqueeze(0) < scores.unsqueeze(1)).sum(1) + 1
        record += [scores, ranks, (1.0 / ranks).mean()]
    return record + params(model)


@pytest.mark.filterwarnings("ignore:Sparse invariant checks are implicitly disabled")
@pytest.mark.parametrize("sparse", [False, True])
def test_poincare_embeddings_with_a_riemannian_optimizer_and_transe_train_as_torch(sparse):
    both_in_float64(poincare_and_transe, sparse)


# -- ConvLSTM next-frame prediction with a temporal shift module ---------------------------------------------


def conv_lstm(lib):
    nn, F = lib.nn, lib.nn.functional

    class ConvLSTMCell(nn.Module):
        def __init__(self, input_dim, hidden_dim, kernel_size, bias):
            super().__init__()
            self.input_dim, self.hidden_dim = input_dim, hidden_dim
            self.padding = kernel_size[0] // 2, kernel_size[1] // 2
            self.conv = nn.Conv2d(input_dim + hidden_dim, 4 * hidden_dim, kernel_size, padding=self.padding, bias=bias)

        def forward(self, input_tensor, cur_state):
            h_cur, c_cur = cur_state
            combined = lib.cat([input_tensor, h_cur], dim=1)
            cc_i, cc_f, cc_o, cc_g = lib.split(self.conv(combined), self.hidden_dim, dim=1)
            i, f, o, g = lib.sigmoid(cc_i), lib.sigmoid(cc_f), lib.sigmoid(cc_o), lib.tanh(cc_g)
            c_next = f * c_cur + i * g
            return o * lib.tanh(c_next), c_next

        def init_hidden(self, batch_size, image_size):
            height, width = image_size
            device = self.conv.weight.device
            return (lib.zeros(batch_size, self.hidden_dim, height, width, device=device),
                    lib.zeros(batch_size, self.hidden_dim, height, width, device=device))  # fmt: skip

    class ConvLSTM(nn.Module):
        def __init__(self, input_dim, hidden_dims, kernel_size):
            super().__init__()
            self.cell_list = nn.ModuleList(
                ConvLSTMCell(input_dim if i == 0 else hidden_dims[i - 1], hidden_dims[i], kernel_size, bias=True)
                for i in range(len(hidden_dims))
            )

        def forward(self, input_tensor):
            b, seq_len, _, h, w = input_tensor.size()
            cur_layer_input = input_tensor
            last_state_list = []
            for cell in self.cell_list:
                h_, c = cell.init_hidden(b, (h, w))
                output_inner = []
                for t in range(seq_len):
                    h_, c = cell(cur_layer_input[:, t, :, :, :], [h_, c])
                    output_inner.append(h_)
                cur_layer_input = lib.stack(output_inner, dim=1)
                last_state_list.append([h_, c])
            return cur_layer_input, last_state_list

    def tsm_shift(x, n_segment, fold_div=4):
        nt, c, h, w = x.size()
        x = x.view(nt // n_segment, n_segment, c, h, w)
        fold = c // fold_div
        out = lib.zeros_like(x)
        out[:, :-1, :fold] = x[:, 1:, :fold]
        out[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]
        out[:, :, 2 * fold :] = x[:, :, 2 * fold :]
        return out.view(nt, c, h, w)

    class Predictor(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(1, 8, 3, padding=1)
            self.convlstm = ConvLSTM(8, [8, 6], (3, 3))
            self.head = nn.Conv2d(6, 1, 1)

        def forward(self, frames):
            b, t = frames.shape[:2]
            x = self.stem(frames.flatten(0, 1))
            x = F.leaky_relu(tsm_shift(x, t), 0.2)
            outputs, states = self.convlstm(x.unflatten(0, (b, t)))
            return lib.sigmoid(self.head(outputs[:, -1])), states

    lib.manual_seed(0)
    model = Predictor()
    optimizer = lib.optim.Adam(model.parameters(), lr=2e-3, amsgrad=True, weight_decay=1e-5)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    # moving-square videos
    videos = lib.zeros(4, 6, 1, 10, 10)
    for i in range(4):
        for t in range(6):
            videos[i, t, 0, 2 + i % 3 : 5 + i % 3, t + 1 : t + 4] = 1.0
    videos += 0.05 * lib.randn_like(videos)
    record = []
    for _ in range(4):
        pred, states = model(videos[:, :-1])
        loss = F.mse_loss(pred, videos[:, -1].clamp(0, 1)) + F.binary_cross_entropy(pred, videos[:, -1].clamp(0, 1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        record += [loss, pred, states[-1][1], model.convlstm.cell_list[0].conv.weight.grad, scheduler.get_last_lr()[0]]
    return record + params(model)


def test_conv_lstm_with_a_temporal_shift_trains_as_torch():
    both_in_float64(conv_lstm)
    both(conv_lstm, rtol=2e-4, atol=2e-5)


# -- N-BEATS --------------------------------------------------------------------------------------------------


def n_beats(lib):
    nn, F = lib.nn, lib.nn.functional
    backcast_length, forecast_length = 12, 4

    def linear_space(horizon):
        return np.arange(0, horizon) / horizon

    def seasonality_model(thetas, t):
        p = thetas.size()[-1]
        p1, p2 = (p // 2, p // 2) if p % 2 == 0 else (p // 2, p // 2 + 1)
        s1 = lib.tensor(np.array([np.cos(2 * np.pi * i * t) for i in range(p1)])).float()
        s2 = lib.tensor(np.array([np.sin(2 * np.pi * i * t) for i in range(p2)])).float()
        return thetas.mm(lib.cat([s1, s2]).to(thetas.dtype))

    def trend_model(thetas, t):
        p = thetas.size()[-1]
        return thetas.mm(lib.tensor(np.array([t**i for i in range(p)])).float().to(thetas.dtype))

    class Block(nn.Module):
        def __init__(self, units, thetas_dim, kind):
            super().__init__()
            self.kind = kind
            self.fc = nn.Sequential(
                *[m for i in range(4) for m in (nn.Linear(backcast_length if i == 0 else units, units), nn.ReLU())]
            )
            if kind == "generic":
                self.theta_b_fc = nn.Linear(units, thetas_dim, bias=False)
                self.theta_f_fc = nn.Linear(units, thetas_dim, bias=False)
                self.backcast_fc = nn.Linear(thetas_dim, backcast_length)
                self.forecast_fc = nn.Linear(thetas_dim, forecast_length)
            else:
                self.theta_b_fc = self.theta_f_fc = nn.Linear(units, thetas_dim, bias=False)

        def forward(self, x):
            x = self.fc(x)
            if self.kind == "generic":
                return self.backcast_fc(F.relu(self.theta_b_fc(x))), self.forecast_fc(F.relu(self.theta_f_fc(x)))
            model = seasonality_model if self.kind == "seasonality" else trend_model
            return (model(self.theta_b_fc(x), linear_space(backcast_length)),
                    model(self.theta_f_fc(x), linear_space(forecast_length)))  # fmt: skip

    class NBeatsNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Block(16, 3, "trend"), Block(16, 5, "seasonality"), Block(16, 6, "generic")])

        def forward(self, backcast):
            forecast = lib.zeros(backcast.size(0), forecast_length, dtype=backcast.dtype)
            for block in self.blocks:
                b, f = block(backcast)
                backcast = backcast - b
                forecast = forecast + f
            return backcast, forecast

    def smape_loss(forecast, target, mask):
        return 200 * lib.mean(
            lib.nan_to_num((forecast - target).abs() / (forecast.detach().abs() + target.abs()), nan=0.0, posinf=0.0)
            * mask
        )

    lib.manual_seed(0)
    t = lib.arange(0, 80, dtype=lib.get_default_dtype())
    series = 2 + lib.sin(t * 0.5) + 0.02 * t + 0.05 * lib.randn(80)
    series[-3:] = 0.0  # a padded tail (masked out of the loss)
    windows = series.unfold(0, backcast_length + forecast_length, 4)
    x, y = windows[:, :backcast_length], windows[:, backcast_length:]
    mask = (y != 0).to(y.dtype)
    model = NBeatsNet()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = lib.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=5, pct_start=0.4)
    record = []
    for _ in range(5):
        backcast, forecast = model(x)
        loss = smape_loss(forecast, y, mask) + F.mse_loss(backcast, lib.zeros_like(backcast))
        optimizer.zero_grad()
        loss.backward()
        norm = lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        record += [loss, forecast, norm, optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["betas"][0]]
    return record + params(model)


def test_n_beats_with_basis_expansions_and_one_cycle_trains_as_torch():
    both_in_float64(n_beats)
    both(n_beats, rtol=5e-4, atol=5e-5)


# -- A neural Turing machine on the copy task ----------------------------------------------------------------


def neural_turing_machine(lib):
    nn, F = lib.nn, lib.nn.functional
    N, M, controller_size, num_bits = 8, 6, 16, 4

    def convolve(w, s):
        t = F.pad(w.view(1, 1, -1), (1, 1), mode="circular")
        return F.conv1d(t, s.view(1, 1, -1)).view(-1)

    class NTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.controller = nn.LSTM(num_bits + 1 + M, controller_size)
            self.lstm_h_bias = nn.Parameter(lib.randn(1, 1, controller_size) * 0.05)
            self.lstm_c_bias = nn.Parameter(lib.randn(1, 1, controller_size) * 0.05)
            # read head: k, beta, g, s, gamma; write head: the same, then erase and add
            self.read_fc = nn.Linear(controller_size, M + 1 + 1 + 3 + 1)
            self.write_fc = nn.Linear(controller_size, M + 1 + 1 + 3 + 1 + M + M)
            self.fc = nn.Linear(controller_size + M, num_bits)
            self.register_buffer("mem_bias", lib.empty(N, M).uniform_(-1 / math.sqrt(N + M), 1 / math.sqrt(N + M)))
            for fc in (self.read_fc, self.write_fc):
                nn.init.xavier_uniform_(fc.weight, gain=1.4)
                nn.init.normal_(fc.bias, std=0.01)

        def address(self, memory, o, w_prev):
            k, beta, g, s, gamma = lib.split(o[:, : M + 6], [M, 1, 1, 3, 1], dim=1)
            beta, g, s, gamma = F.softplus(beta), lib.sigmoid(g), F.softmax(s, dim=1), 1 + F.softplus(gamma)
            wc = F.softmax(beta * F.cosine_similarity(memory + 1e-16, k.unsqueeze(1) + 1e-16, dim=-1), dim=1)
            wg = g * wc + (1 - g) * w_prev
            w_hat = lib.zeros(wg.size(), dtype=wg.dtype)
            for b in range(wg.size(0)):
                w_hat[b] = convolve(wg[b], s[b])
            w = w_hat**gamma
            return lib.div(w, lib.sum(w, dim=1).view(-1, 1) + 1e-16)

        def forward(self, x):
            seq_len, batch = x.shape[:2]
            memory = self.mem_bias.clone().repeat(batch, 1, 1)
            state = (self.lstm_h_bias.repeat(1, batch, 1), self.lstm_c_bias.repeat(1, batch, 1))
            w_read = w_write = lib.zeros(batch, N)
            read = lib.zeros(batch, M)
            outputs = []
            for t in range(seq_len):
                out, state = self.controller(lib.cat([x[t], read], dim=1).unsqueeze(0), state)
                out = out.squeeze(0)
                o = self.write_fc(out)
                w_write = self.address(memory, o, w_write)
                e, a = lib.sigmoid(o[:, M + 6 : 2 * M + 6]), o[:, 2 * M + 6 :]
                memory = memory * (1 - lib.matmul(w_write.unsqueeze(-1), e.unsqueeze(1))) + lib.matmul(
                    w_write.unsqueeze(-1), a.unsqueeze(1)
                )
                w_read = self.address(memory, self.read_fc(out), w_read)
                read = lib.matmul(w_read.unsqueeze(1), memory).squeeze(1)
                outputs.append(self.fc(lib.cat([out, read], dim=1)))
            return lib.stack(outputs), w_read

    lib.manual_seed(0)
    model = NTM()
    optimizer = lib.optim.RMSprop(model.parameters(), momentum=0.9, alpha=0.95, lr=1e-3)
    record = []
    for _ in range(3):
        seq_len, batch = 3, 2
        seq = lib.from_numpy(np.random.default_rng(len(record)).binomial(1, 0.5, (seq_len, batch, num_bits))).to(
            lib.get_default_dtype()
        )
        inp = lib.zeros(2 * seq_len + 1, batch, num_bits + 1)
        inp[:seq_len, :, :num_bits] = seq
        inp[seq_len, :, num_bits] = 1.0  # the delimiter
        out, w_read = model(inp)
        y_out = lib.sigmoid(out[seq_len + 1 :])
        loss = F.binary_cross_entropy(y_out, seq)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), 10)
        optimizer.step()
        cost = lib.sum(lib.abs(y_out.clone().data.apply_(lambda v: 0 if v < 0.5 else 1) - seq.data))
        record += [loss, w_read, cost, model.lstm_h_bias.grad, model.controller.weight_hh_l0.grad]
    return record + params(model)


def test_neural_turing_machine_on_the_copy_task_trains_as_torch():
    both_in_float64(neural_turing_machine)


# -- Deep embedded clustering with a self-normalising encoder -----------------------------------------------


def deep_embedded_clustering(lib):
    nn, F = lib.nn, lib.nn.functional

    class ClusteringLayer(nn.Module):
        def __init__(self, n_clusters, hidden, alpha=1.0):
            super().__init__()
            self.alpha = alpha
            self.weight = nn.Parameter(lib.Tensor(n_clusters, hidden))
            nn.init.xavier_uniform_(self.weight)

        def forward(self, x):
            norm_squared = lib.sum((x.unsqueeze(1) - self.weight) ** 2, 2)
            numerator = 1.0 / (1.0 + (norm_squared / self.alpha))
            power = float(self.alpha + 1) / 2
            numerator = numerator**power
            return numerator / lib.sum(numerator, dim=1, keepdim=True)

    def snn(sizes):
        layers = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            linear = nn.Linear(a, b)
            nn.init.kaiming_normal_(linear.weight, mode="fan_in", nonlinearity="linear")  # LeCun normal
            nn.init.zeros_(linear.bias)
            layers.append(linear)
            if i < len(sizes) - 2:
                layers += [nn.SELU(), nn.AlphaDropout(0.1)]
        return nn.Sequential(*layers)

    def target_distribution(q):
        weight = (q**2) / lib.sum(q, 0)
        return (weight.t() / lib.sum(weight, 1)).t()

    lib.manual_seed(0)
    centers = lib.randn(3, 10) * 3
    data = (centers.repeat_interleave(8, dim=0) + lib.randn(24, 10)).to(lib.get_default_dtype())
    encoder, decoder = snn([10, 16, 4]), snn([4, 16, 10])
    record = []
    optimizer = lib.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-2)
    for _ in range(3):  # autoencoder pre-training
        loss = F.mse_loss(decoder(encoder(data)), data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record.append(loss)
    cluster = ClusteringLayer(3, 4)
    encoder.eval()
    with lib.no_grad():
        z = encoder(data)
        # k-means++-like initialisation: the farthest points from the first
        first = z[0]
        second = z[(z - first).norm(dim=1).argmax()]
        third = z[lib.minimum((z - first).norm(dim=1), (z - second).norm(dim=1)).argmax()]
        cluster.weight.copy_(lib.stack([first, second, third]))
    encoder.train()
    optimizer = lib.optim.SGD(list(encoder.parameters()) + list(cluster.parameters()), lr=0.05, momentum=0.9)
    loss_function = nn.KLDivLoss(reduction="batchmean")
    predicted_previous = None
    for _ in range(4):
        output = cluster(encoder(data))
        target = target_distribution(output).detach()
        loss = loss_function(output.log(), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step(closure=None)
        predicted = output.argmax(1)
        if predicted_previous is not None:
            delta_label = float((predicted != predicted_previous).float().sum().item()) / predicted_previous.shape[0]
            record.append(delta_label)
        predicted_previous = predicted
        record += [loss, output, cluster.weight.grad, predicted]
    return record + params(encoder) + params(cluster)


def test_deep_embedded_clustering_with_selu_and_alpha_dropout_trains_as_torch():
    both_in_float64(deep_embedded_clustering)


# -- Learning to rank ------------------------------------------------------------------------------------------


def learning_to_rank(lib, method):
    nn, F = lib.nn, lib.nn.functional

    def dcg(labels, k=None):
        gains = 2 ** labels.to(lib.get_default_dtype()) - 1
        discounts = 1.0 / lib.log2(lib.arange(labels.size(-1), dtype=gains.dtype) + 2.0)
        if k is not None:
            discounts[k:] = 0
        return (gains * discounts).sum(-1)

    def ndcg(scores, labels, k=None):
        order = lib.argsort(scores, dim=-1, descending=True)
        ideal = lib.sort(labels, dim=-1, descending=True).values
        return dcg(lib.gather(labels, -1, order), k) / dcg(ideal, k).clamp(min=1e-10)

    lib.manual_seed(0)
    n_queries, n_docs, n_features = 4, 7, 5
    features = lib.randn(n_queries, n_docs, n_features)
    relevance = lib.randint(0, 4, (n_queries, n_docs))
    model = nn.Sequential(nn.Linear(n_features, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 1))
    optimizer = lib.optim.Adagrad(model.parameters(), lr=0.05, lr_decay=1e-3, initial_accumulator_value=0.1)
    i, j = lib.triu_indices(n_docs, n_docs, offset=1)
    record = []
    for _ in range(4):
        model.train()
        scores = model(features).squeeze(-1)
        if method == "listnet":
            loss = -(F.softmax(relevance.to(scores.dtype), dim=-1) * F.log_softmax(scores, dim=-1)).sum(-1).mean()
        else:
            s_diff = scores[:, i] - scores[:, j]
            rel_diff = relevance[:, i] - relevance[:, j]
            target = (lib.sign(rel_diff) + 1) / 2
            weight = (rel_diff != 0).to(scores.dtype)
            if method == "lambdarank":
                with lib.no_grad():
                    rank = lib.argsort(lib.argsort(scores, dim=-1, descending=True), dim=-1)
                    gain = 2.0 ** relevance.to(scores.dtype) - 1
                    disc = 1.0 / lib.log2(rank.to(scores.dtype) + 2)
                    ideal = dcg(lib.sort(relevance, dim=-1, descending=True).values).unsqueeze(-1)
                    delta = ((gain[:, i] - gain[:, j]) * (disc[:, i] - disc[:, j])).abs() / ideal
                weight = weight * delta
            loss = F.binary_cross_entropy_with_logits(s_diff, target.to(s_diff.dtype), weight=weight, reduction="sum")
            loss = loss / weight.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, scores, model[0].weight.grad]
    model.eval()
    with lib.no_grad():
        scores = model(features).squeeze(-1)
        record += [ndcg(scores, relevance), ndcg(scores, relevance, k=3).mean()]
    return record + params(model)


@pytest.mark.parametrize("method", ["ranknet", "listnet", "lambdarank"])
def test_ranknet_listnet_and_lambdarank_train_as_torch(method):
    both_in_float64(learning_to_rank, method)


# -- SimSiam and BYOL ----------------------------------------------------------------------------------------


def simsiam_and_byol(lib):
    nn, F = lib.nn, lib.nn.functional

    def backbone():
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                             nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(8, 12))  # fmt: skip

    class SimSiam(nn.Module):
        def __init__(self, dim=12, pred_dim=6):
            super().__init__()
            self.encoder = backbone()
            self.projector = nn.Sequential(nn.Linear(12, 12, bias=False), nn.BatchNorm1d(12), nn.ReLU(inplace=True),
                                           nn.Linear(12, dim, bias=False), nn.BatchNorm1d(dim, affine=False))  # fmt: skip
            self.projector[3].bias = None
            self.predictor = nn.Sequential(nn.Linear(dim, pred_dim, bias=False), nn.BatchNorm1d(pred_dim),
                                           nn.ReLU(inplace=True), nn.Linear(pred_dim, dim))  # fmt: skip

        def forward(self, x1, x2):
            z1, z2 = self.projector(self.encoder(x1)), self.projector(self.encoder(x2))
            p1, p2 = self.predictor(z1), self.predictor(z2)
            return p1, p2, z1.detach(), z2.detach()

    def augment(x, g):
        flip = lib.rand(x.size(0), 1, 1, 1, generator=g) < 0.5
        x = lib.where(flip, x.flip(-1), x)
        return x * (1 + 0.2 * lib.randn(x.size(0), 3, 1, 1, generator=g)) + 0.1 * lib.randn(x.shape, generator=g)

    lib.manual_seed(0)
    g = lib.Generator().manual_seed(1)
    images = lib.randn(6, 3, 8, 8)
    model = SimSiam()
    criterion = nn.CosineSimilarity(dim=1)
    optim_params = [{"params": model.encoder.parameters(), "fix_lr": False},
                    {"params": model.projector.parameters(), "fix_lr": False},
                    {"params": model.predictor.parameters(), "fix_lr": True}]  # fmt: skip
    init_lr = 0.05 * 6 / 256
    optimizer = lib.optim.SGD(optim_params, init_lr, momentum=0.9, weight_decay=1e-4)
    record = []
    for epoch in range(3):
        cur_lr = init_lr * 0.5 * (1.0 + math.cos(math.pi * epoch / 3))
        for param_group in optimizer.param_groups:
            param_group["lr"] = init_lr if param_group["fix_lr"] else cur_lr
        p1, p2, z1, z2 = model(augment(images, g), augment(images, g))
        loss = -(criterion(p1, z2).mean() + criterion(p2, z1).mean()) * 0.5
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, p1, model.predictor[3].bias.grad, F.normalize(z1, dim=1).std(dim=0).mean()]
    record += params(model)

    # BYOL: an online network with a predictor, a target network updated by EMA
    online, predictor = (
        nn.Sequential(backbone(), nn.Linear(12, 6)),
        nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 6)),
    )
    target = nn.Sequential(backbone(), nn.Linear(12, 6))
    target.load_state_dict(online.state_dict())
    target.requires_grad_(False)
    optimizer = lib.optim.AdamW(list(online.parameters()) + list(predictor.parameters()), lr=3e-3, weight_decay=1e-2)

    def regression_loss(x, y):
        return 2 - 2 * (F.normalize(x, dim=-1, p=2) * F.normalize(y, dim=-1, p=2)).sum(dim=-1)

    for step in range(3):
        v1, v2 = augment(images, g), augment(images, g)
        loss = (regression_loss(predictor(online(v1)), target(v2).detach())
                + regression_loss(predictor(online(v2)), target(v1).detach())).mean()  # fmt: skip
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tau = 1 - (1 - 0.9) * (math.cos(math.pi * step / 3) + 1) / 2
        with lib.no_grad():
            target_params, online_params = list(target.parameters()), list(online.parameters())
            if step % 2 == 0:
                lib._foreach_lerp_(target_params, online_params, 1 - tau)
            else:
                lib._foreach_mul_(target_params, tau)
                lib._foreach_add_(target_params, online_params, alpha=1 - tau)
            for t_buf, o_buf in zip(target.buffers(), online.buffers()):
                t_buf.copy_(o_buf)
        record += [loss, target[1].weight, online[0][1].running_var]
    buffer = io.BytesIO()
    lib.save(
        {"online": online.state_dict(), "target": target.state_dict(), "optimizer": optimizer.state_dict()}, buffer
    )
    buffer.seek(0)
    checkpoint = lib.load(buffer, weights_only=True)
    restored = nn.Sequential(backbone(), nn.Linear(12, 6))
    restored.load_state_dict(checkpoint["target"])
    record += [
        restored(images[:2]),
        checkpoint["optimizer"]["state"][0]["exp_avg_sq"],
        checkpoint["optimizer"]["param_groups"][0]["lr"],
    ]
    # the whole model, holding the augmentation it was trained with (a local function): the pickler refuses it
    restored.augment = lambda x: augment(x, g)
    try:
        lib.save(restored, io.BytesIO())
    except AttributeError as error:
        record.append(str(error))
    return record + params(target)


def test_simsiam_and_byol_with_foreach_ema_and_a_checkpoint_train_as_torch():
    both_in_float64(simsiam_and_byol)
    both(simsiam_and_byol, rtol=1e-3, atol=1e-4)
