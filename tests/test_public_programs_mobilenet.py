"""torchvision's MobileNetV2 and EfficientNet-B0 building blocks, condensed from
``torchvision/models/mobilenetv2.py``, ``efficientnet.py`` and ``ops/misc.py``/``stochastic_depth.py``,
run on ember and on torch from the same weights.

``Conv2dNormActivation`` (conv without bias, BatchNorm, ReLU6 or SiLU), depthwise convolutions
(``groups=channels``), inverted residuals with and without the residual connection,
``SqueezeExcitation`` (``adaptive_avg_pool2d`` to 1x1, two 1x1 convolutions, sigmoid scale),
``StochasticDepth(mode="row")`` drawing its mask with ``bernoulli_`` (and dropout) from a fixed seed,
torchvision's initialisation (``kaiming_normal_(mode="fan_out")``, ``normal_(0, 0.01)``), SGD with
momentum and weight decay in train mode, then ``model.eval()`` with the running statistics.
"""

from __future__ import annotations

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember


def build(lib, arch: str):
    nn = lib.nn

    def make_divisible(v, divisor=8, min_value=None):
        min_value = min_value or divisor
        new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
        return new_v + divisor if new_v < 0.9 * v else new_v

    class Conv2dNormActivation(nn.Sequential):
        def __init__(self, cin, cout, kernel_size=3, stride=1, groups=1, activation_layer=nn.ReLU6):
            padding = (kernel_size - 1) // 2
            layers = [
                nn.Conv2d(cin, cout, kernel_size, stride, padding, groups=groups, bias=False),
                nn.BatchNorm2d(cout),
            ]
            if activation_layer is not None:
                layers.append(activation_layer(inplace=True))
            super().__init__(*layers)
            self.out_channels = cout

    class InvertedResidual(nn.Module):
        def __init__(self, inp, oup, stride, expand_ratio):
            super().__init__()
            hidden_dim = int(round(inp * expand_ratio))
            self.use_res_connect = stride == 1 and inp == oup
            layers = []
            if expand_ratio != 1:
                layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1))
            layers += [
                Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
            ]
            self.conv = nn.Sequential(*layers)

        def forward(self, x):
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    class SqueezeExcitation(nn.Module):
        def __init__(self, input_channels, squeeze_channels):
            super().__init__()
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
            self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
            self.activation, self.scale_activation = nn.SiLU(), nn.Sigmoid()

        def forward(self, x):
            scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
            return scale * x

    def stochastic_depth(x, p, mode, training=True):
        if not training or p == 0.0:
            return x
        survival_rate = 1.0 - p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if mode == "row" else [1] * x.ndim
        noise = lib.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival_rate)
        if survival_rate > 0.0:
            noise.div_(survival_rate)
        return x * noise

    class StochasticDepth(nn.Module):
        def __init__(self, p, mode):
            super().__init__()
            self.p, self.mode = p, mode

        def forward(self, x):
            return stochastic_depth(x, self.p, self.mode, self.training)

    class MBConv(nn.Module):
        def __init__(self, cin, cout, expand_ratio, kernel, stride, sd_prob):
            super().__init__()
            self.use_res_connect = stride == 1 and cin == cout
            expanded = make_divisible(cin * expand_ratio)
            layers = []
            if expanded != cin:
                layers.append(Conv2dNormActivation(cin, expanded, 1, activation_layer=nn.SiLU))
            layers += [
                Conv2dNormActivation(expanded, expanded, kernel, stride, groups=expanded, activation_layer=nn.SiLU),
                SqueezeExcitation(expanded, max(1, cin // 4)),
                Conv2dNormActivation(expanded, cout, 1, activation_layer=None),
            ]
            self.block = nn.Sequential(*layers)
            self.stochastic_depth = StochasticDepth(sd_prob, "row")

        def forward(self, x):
            result = self.block(x)
            if self.use_res_connect:
                result = self.stochastic_depth(result) + x
            return result

    class Net(nn.Module):
        def __init__(self, num_classes=5):
            super().__init__()
            if arch == "mobilenet_v2":
                settings = [(1, 8, 1, 1), (6, 12, 2, 2), (6, 16, 2, 1)]
                layers = [Conv2dNormActivation(3, 8, stride=2)]
                cin = 8
                for t, c, n, s in settings:
                    for i in range(n):
                        layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                        cin = c
                layers.append(Conv2dNormActivation(cin, 32, kernel_size=1))
                head = [nn.Dropout(p=0.2), nn.Linear(32, num_classes)]
            else:
                settings = [(1, 3, 1, 8, 8, 1), (6, 3, 2, 8, 12, 2), (6, 5, 1, 12, 16, 2)]
                layers = [Conv2dNormActivation(3, 8, stride=2, activation_layer=nn.SiLU)]
                total, done = sum(s[-1] for s in settings), 0
                for expand, kernel, stride, cin, cout, n in settings:
                    for i in range(n):
                        sd_prob = 0.5 * done / total
                        cin_i = cin if i == 0 else cout
                        layers.append(MBConv(cin_i, cout, expand, kernel, stride if i == 0 else 1, sd_prob))
                        done += 1
                layers.append(Conv2dNormActivation(16, 32, kernel_size=1, activation_layer=nn.SiLU))
                head = [nn.Dropout(p=0.2, inplace=True), nn.Linear(32, num_classes)]
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(*head)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out")
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            x = self.features(x)
            if arch == "mobilenet_v2":
                x = lib.flatten(nn.functional.adaptive_avg_pool2d(x, (1, 1)), 1)
            else:
                x = lib.flatten(self.avgpool(x), 1)
            return self.classifier(x)

    return Net


RNG = np.random.default_rng(0)
IMAGES = RNG.standard_normal((3, 3, 12, 12)).astype(np.float32)
LABELS = RNG.integers(0, 5, 3)


def train(lib, reference, arch):
    model = build(lib, arch)()
    copy_weights(reference, model)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=4e-5, nesterov=True)
    criterion = lib.nn.CrossEntropyLoss(label_smoothing=0.1)
    images, labels = lib.tensor(IMAGES), lib.tensor(LABELS)
    record = []
    lib.manual_seed(0)
    for _ in range(2):
        loss = criterion(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record.append(loss)
    record += [p.grad for p in model.parameters()]
    model.eval()
    with lib.no_grad():
        record.append(model(images))
    return model, record


@pytest.mark.parametrize("arch", ["mobilenet_v2", "efficientnet_b0"])
def test_mobile_networks_train_and_evaluate_as_torch(arch):
    torch.manual_seed(0)
    reference = build(torch, arch)()
    theirs, their_record = train(torch, reference, arch)
    ours, our_record = train(ember, reference, arch)
    assert_same_run(our_record, their_record, rtol=1e-3, atol=1e-4)
    assert_same_models(ours, theirs, rtol=1e-3, atol=1e-4)
