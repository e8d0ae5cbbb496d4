"""Public programs from the pytorch/examples repository, each condensed to a few steps on small synthetic
data of the real shapes' kind (no dataset downloads), run on ember and on torch from the same weights
(copied with ``state_dict``) and the same seeds, comparing losses, outputs, gradients and trained weights.

- ``mnist/main.py``: the convolutional ``Net`` with ``Dropout``, ``max_pool2d``, ``flatten`` and
  ``log_softmax``, ``nll_loss``, ``Adadelta`` with ``StepLR``, a shuffling ``DataLoader``, and the test
  loop's summed loss and ``argmax(keepdim=True)``/``eq(view_as)`` accuracy.
- ``mnist_rnn/main.py``: an ``LSTM`` over the image rows (``batch_first``), its last output through
  ``BatchNorm1d`` and ``Dropout2d`` given 2-D inputs (PyTorch's deprecated element-wise path).
- ``regression/main.py``: polynomial features by ``cat`` of powers, ``smooth_l1_loss``, manual SGD on
  ``param.data``, and the printed polynomial (``format`` of 0-d tensors).
- ``time_sequence_prediction/train.py``: two ``LSTMCell`` layers in float64 unrolled over ``split(1, dim=1)``,
  trained by ``LBFGS`` with a closure, then predicting the future from its own outputs.
- ``mnist_forward_forward/main.py``: layers that subclass ``nn.Linear`` with their own ``Adam`` and a
  ``train`` method of their own, the label overlaid by ``x_[range(n), y] = x.max()``, the layer-local
  goodness loss ``log1p(exp(...))`` and prediction by the summed goodness per label.
- ``word_language_model``: ``RNNModel`` (``RNN_TANH``, ``RNN_RELU``, ``LSTM``, ``GRU``; tied encoder and
  decoder weights), ``batchify``, ``repackage_hidden``, ``clip_grad_norm_`` and the manual
  ``p.data.add_(p.grad, alpha=-lr)`` step, the evaluation loop; the ``TransformerModel`` that subclasses
  ``nn.Transformer`` (its ``decoder`` replaced by a ``Linear``) with the ``log(tril(ones))`` mask, trained
  by ``AdamW``; and ``generate.py``'s sampling by ``multinomial(output.div(temperature).exp(), 1)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from public_programs import assert_same_run, copy_weights, torch, trained_on_both

import ember

RNG = np.random.default_rng(11)


# -- mnist -------------------------------------------------------------------------------------------


def build_mnist(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, 1)
            self.conv2 = nn.Conv2d(4, 8, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(8 * 4 * 4, 16)
            self.fc2 = nn.Linear(16, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            return F.log_softmax(self.fc2(x), dim=1)

    return Net


MNIST_IMAGES = ((RNG.random((24, 1, 12, 12)) - 0.1307) / 0.3081).astype(np.float32)
MNIST_LABELS = RNG.integers(0, 10, 24)


def train_mnist(lib, reference):
    F = lib.nn.functional
    model = build_mnist(lib)()
    copy_weights(reference, model)
    data = lib.utils.data.TensorDataset(lib.tensor(MNIST_IMAGES[:16]), lib.tensor(MNIST_LABELS[:16]))
    test_data = lib.utils.data.TensorDataset(lib.tensor(MNIST_IMAGES[16:]), lib.tensor(MNIST_LABELS[16:]))
    train_loader = lib.utils.data.DataLoader(data, batch_size=5, shuffle=True, generator=lib.Generator().manual_seed(1))
    test_loader = lib.utils.data.DataLoader(test_data, batch_size=3)
    optimizer = lib.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    lib.manual_seed(1)
    record = []
    for _epoch in range(1, 3):
        model.train()
        for batch_idx, (x, target) in enumerate(train_loader):
            optimizer.zero_grad()
            output = model(x)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            record += [loss, output, model.conv1.weight.grad, batch_idx * len(x), len(train_loader)]
        model.eval()
        test_loss, correct = 0, 0
        with lib.no_grad():
            for x, target in test_loader:
                output = model(x)
                test_loss += F.nll_loss(output, target, reduction="sum").item()
                pred = output.argmax(dim=1, keepdim=True)
                correct += pred.eq(target.view_as(pred)).sum().item()
                record.append(pred)
        test_loss /= len(test_loader.dataset)
        record += [test_loss, correct, 100.0 * correct / len(test_loader.dataset)]
        scheduler.step()
        record += scheduler.get_last_lr()
    return model, record


def test_mnist_net_with_adadelta_and_step_lr_as_torch():
    trained_on_both(build_mnist, train_mnist)


# -- mnist_rnn -------------------------------------------------------------------------------------------


def build_mnist_rnn(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(input_size=12, hidden_size=8, batch_first=True)
            self.batchnorm = nn.BatchNorm1d(8)
            self.dropout1 = nn.Dropout2d(0.25)
            self.dropout2 = nn.Dropout2d(0.5)
            self.fc1 = nn.Linear(8, 6)
            self.fc2 = nn.Linear(6, 10)

        def forward(self, input):
            input = input.reshape(-1, 12, 12)
            output, hidden = self.rnn(input)
            output = output[:, -1, :]
            output = self.batchnorm(output)
            output = self.dropout1(output)
            output = F.relu(self.fc1(output))
            output = self.dropout2(output)
            return F.log_softmax(self.fc2(output), dim=1)

    return Net


def train_mnist_rnn(lib, reference):
    F = lib.nn.functional
    model = build_mnist_rnn(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adadelta(model.parameters(), lr=0.1)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    images, labels = lib.tensor(MNIST_IMAGES), lib.tensor(MNIST_LABELS)
    lib.manual_seed(3)
    record = []
    for _epoch in range(2):
        model.train()
        for i in range(0, 16, 8):
            optimizer.zero_grad()
            with pytest.warns(UserWarning, match="dropout2d"):
                output = model(images[i : i + 8])
            loss = F.nll_loss(output, labels[i : i + 8])
            loss.backward()
            optimizer.step()
            record += [loss, output, model.rnn.weight_hh_l0.grad]
        scheduler.step()
    model.eval()
    with lib.no_grad():
        output = model(images[16:])
        record += [F.nll_loss(output, labels[16:], reduction="sum"), output.argmax(dim=1, keepdim=True)]
    record += [model.batchnorm.running_mean, model.batchnorm.running_var, model.batchnorm.num_batches_tracked]
    return model, record


def test_mnist_rnn_lstm_over_rows_as_torch():
    trained_on_both(build_mnist_rnn, train_mnist_rnn)


# -- regression --------------------------------------------------------------------------------------------


def run_regression(lib):
    F = lib.nn.functional
    lib.manual_seed(0)
    poly_degree = 4
    w_target = lib.randn(poly_degree, 1) * 5
    b_target = lib.randn(1) * 5

    def make_features(x):
        x = x.unsqueeze(1)
        return lib.cat([x**i for i in range(1, poly_degree + 1)], 1)

    def f(x):
        return x.mm(w_target) + b_target.item()

    def poly_desc(W, b):
        result = "y = "
        for i, w in enumerate(W):
            result += f"{w:+.2f} x^{i + 1} "
        return result + f"{b[0]:+.2f}"

    def get_batch(batch_size=32):
        x = make_features(lib.randn(batch_size))
        return x, f(x)

    fc = lib.nn.Linear(w_target.size(0), 1)
    record = []
    for _batch_idx in range(1, 40):
        batch_x, batch_y = get_batch()
        fc.zero_grad()
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        record.append(output.item())
        output.backward()
        for param in fc.parameters():
            param.data.add_(-0.1 * param.grad)
        record += [output, fc.weight.grad]
    record += [fc.weight, fc.bias, poly_desc(fc.weight.view(-1), fc.bias), poly_desc(w_target.view(-1), b_target)]
    return record


def test_regression_polynomial_with_manual_sgd_as_torch():
    # the same generator streams, so the same random weights and batches on both; the float32 losses
    # differ by an ulp from the second step on (summation order), which 39 steps of lr 0.1 on x**4
    # features grow to 1e-5 in the weights
    assert_same_run(run_regression(ember), run_regression(torch), rtol=1e-3, atol=1e-4)


# -- time_sequence_prediction -----------------------------------------------------------------------------


def build_sequence(lib, hidden=7):
    nn = lib.nn

    class Sequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm1 = nn.LSTMCell(1, hidden)
            self.lstm2 = nn.LSTMCell(hidden, hidden)
            self.linear = nn.Linear(hidden, 1)

        def forward(self, input, future=0):
            outputs = []
            h_t = lib.zeros(input.size(0), hidden, dtype=lib.double)
            c_t = lib.zeros(input.size(0), hidden, dtype=lib.double)
            h_t2 = lib.zeros(input.size(0), hidden, dtype=lib.double)
            c_t2 = lib.zeros(input.size(0), hidden, dtype=lib.double)
            for input_t in input.split(1, dim=1):
                h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            for _ in range(future):
                h_t, c_t = self.lstm1(output, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            return lib.cat(outputs, dim=1)

    return Sequence


def sine_waves(n=6, length=20, period=8):
    """generate_sine_wave.py at a small size: shifted sine waves, float64."""
    x = np.empty((n, length), np.int64)
    x[:] = np.arange(length) + RNG.integers(-2 * period, 2 * period, n).reshape(n, 1)
    return np.sin(x / period).astype(np.float64)


SINE = sine_waves()


def train_sequence(lib, reference):
    seq = build_sequence(lib)()
    copy_weights(reference, seq)
    seq.double()
    data = lib.from_numpy(SINE.copy())
    input, target = data[2:, :-1], data[2:, 1:]
    test_input, test_target = data[:2, :-1], data[:2, 1:]
    criterion = lib.nn.MSELoss()
    optimizer = lib.optim.LBFGS(seq.parameters(), lr=0.8, max_iter=5)
    record, losses = [], []
    for _ in range(2):

        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            losses.append(loss.item())
            loss.backward()
            return loss

        record.append(optimizer.step(closure))
        with lib.no_grad():
            future = 6
            pred = seq(test_input, future=future)
            record += [criterion(pred[:, :-future], test_target), pred.detach().numpy()]
    return seq, record + losses


def test_time_sequence_prediction_with_lbfgs_as_torch():
    trained_on_both(build_sequence, train_sequence, rtol=1e-7, atol=1e-9, model_rtol=1e-7, model_atol=1e-9)


# -- mnist_forward_forward ------------------------------------------------------------------------------------


def build_forward_forward(lib, dims=(16, 8, 8), lr=0.03, threshold=2.0, epochs=6):
    nn = lib.nn

    class Layer(nn.Linear):
        def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
            super().__init__(in_features, out_features, bias, device, dtype)
            self.relu = nn.ReLU()
            self.opt = lib.optim.Adam(self.parameters(), lr=lr)
            self.threshold, self.num_epochs, self.losses = threshold, epochs, []

        def forward(self, x):
            x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
            return self.relu(lib.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

        def train(self, x_pos, x_neg):
            for _ in range(self.num_epochs):
                g_pos = self.forward(x_pos).pow(2).mean(1)
                g_neg = self.forward(x_neg).pow(2).mean(1)
                loss = lib.log1p(lib.exp(lib.cat([-g_pos + self.threshold, g_neg - self.threshold]))).mean()
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                self.losses.append(loss)
            return self.forward(x_pos).detach(), self.forward(x_neg).detach()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = []
            for d in range(len(dims) - 1):
                self.layers = self.layers + [Layer(dims[d], dims[d + 1]).to("cpu")]
            # the program keeps its layers in a plain list; registered here so the weights can be copied
            self.registered = nn.ModuleList(self.layers)

        def predict(self, x):
            goodness_per_label = []
            for label in range(10):
                h = overlay_y_on_x(x, label)
                goodness = []
                for layer in self.layers:
                    h = layer(h)
                    goodness = goodness + [h.pow(2).mean(1)]
                goodness_per_label += [sum(goodness).unsqueeze(1)]
            return lib.cat(goodness_per_label, 1).argmax(1)

        def train(self, x_pos, x_neg):
            h_pos, h_neg = x_pos, x_neg
            for layer in self.layers:
                h_pos, h_neg = layer.train(h_pos, h_neg)

    def overlay_y_on_x(x, y, classes=10):
        x_ = x.clone()
        x_[:, :classes] *= 0.0
        x_[range(x.shape[0]), y] = x.max()
        return x_

    def get_y_neg(y):
        y_neg = y.clone()
        for idx, y_samp in enumerate(y):
            allowed_indices = list(range(10))
            allowed_indices.remove(y_samp.item())
            y_neg[idx] = lib.tensor(allowed_indices)[lib.randint(len(allowed_indices), size=(1,))].item()
        return y_neg

    Net.overlay_y_on_x, Net.get_y_neg = staticmethod(overlay_y_on_x), staticmethod(get_y_neg)
    return Net


def train_forward_forward(lib, reference):
    net = build_forward_forward(lib)()
    copy_weights(reference, net)
    x, y = lib.tensor(MNIST_IMAGES.reshape(24, -1)[:, :16]), lib.tensor(MNIST_LABELS)
    lib.manual_seed(5)
    x_pos = net.overlay_y_on_x(x[:16], y[:16])
    y_neg = net.get_y_neg(y[:16])
    x_neg = net.overlay_y_on_x(x[:16], y_neg)
    net.train(x_pos, x_neg)
    record = [x_pos, y_neg, x_neg, *(loss for layer in net.layers for loss in layer.losses)]
    record += [net.predict(x[:16]), net.predict(x[16:]), 1.0 - net.predict(x[16:]).eq(y[16:]).float().mean().item()]
    return net, record


def test_mnist_forward_forward_layer_local_training_as_torch():
    trained_on_both(build_forward_forward, train_forward_forward)


# -- word_language_model -------------------------------------------------------------------------------------


def build_rnn_model(lib, rnn_type, ntoken=13, ninp=8, nhid=8, nlayers=2, dropout=0.2, tie_weights=True):
    nn, F = lib.nn, lib.nn.functional

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.ntoken = ntoken
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            if rnn_type in ["LSTM", "GRU"]:
                self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
            else:
                nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
                self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            if tie_weights:
                self.decoder.weight = self.encoder.weight
            nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
            self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            decoded = self.decoder(self.drop(output)).view(-1, self.ntoken)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            if self.rnn_type == "LSTM":
                return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))
            return weight.new_zeros(self.nlayers, bsz, self.nhid)

    return RNNModel


def build_transformer_model(lib, ntoken=13, ninp=8, nhead=2, nhid=16, nlayers=2, dropout=0.2):
    nn, F = lib.nn, lib.nn.functional

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, dropout=0.1, max_len=64):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            pe = lib.zeros(max_len, d_model)
            position = lib.arange(0, max_len, dtype=lib.float).unsqueeze(1)
            div_term = lib.exp(lib.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
            pe[:, 0::2] = lib.sin(position * div_term)
            pe[:, 1::2] = lib.cos(position * div_term)
            self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

        def forward(self, x):
            return self.dropout(x + self.pe[: x.size(0), :])

    class TransformerModel(nn.Transformer):
        def __init__(self):
            super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid, num_encoder_layers=nlayers)
            self.model_type = "Transformer"
            self.src_mask = None
            self.pos_encoder = PositionalEncoding(ninp, dropout)
            self.input_emb = nn.Embedding(ntoken, ninp)
            self.ninp = ninp
            self.decoder = nn.Linear(ninp, ntoken)
            nn.init.uniform_(self.input_emb.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

        def _generate_square_subsequent_mask(self, sz):
            return lib.log(lib.tril(lib.ones(sz, sz)))

        def forward(self, src, has_mask=True):
            if has_mask:
                if self.src_mask is None or self.src_mask.size(0) != len(src):
                    self.src_mask = self._generate_square_subsequent_mask(len(src)).to(src.device)
            else:
                self.src_mask = None
            src = self.pos_encoder(self.input_emb(src) * math.sqrt(self.ninp))
            output = self.decoder(self.encoder(src, mask=self.src_mask))
            return F.log_softmax(output, dim=-1)

    return TransformerModel


CORPUS = RNG.integers(0, 13, 75)
VALID = RNG.integers(0, 13, 31)


def train_word_language_model(lib, reference, rnn_type):
    is_transformer = rnn_type == "Transformer"
    model = (build_transformer_model(lib) if is_transformer else build_rnn_model(lib, rnn_type))()
    copy_weights(reference, model)
    ntokens, bptt, batch_size, eval_batch_size, clip, lr = 13, 5, 4, 2, 0.25, 5.0
    criterion = lib.nn.NLLLoss()

    def batchify(data, bsz):
        nbatch = data.size(0) // bsz
        data = data.narrow(0, 0, nbatch * bsz)
        return data.view(bsz, -1).t().contiguous()

    def repackage_hidden(h):
        if isinstance(h, lib.Tensor):
            return h.detach()
        return tuple(repackage_hidden(v) for v in h)

    def get_batch(source, i):
        seq_len = min(bptt, len(source) - 1 - i)
        return source[i : i + seq_len], source[i + 1 : i + 1 + seq_len].view(-1)

    def evaluate(data_source):
        model.eval()
        total_loss = 0.0
        if not is_transformer:
            hidden = model.init_hidden(eval_batch_size)
        with lib.no_grad():
            for i in range(0, data_source.size(0) - 1, bptt):
                data, targets = get_batch(data_source, i)
                if is_transformer:
                    output = model(data).view(-1, ntokens)
                else:
                    output, hidden = model(data, hidden)
                    hidden = repackage_hidden(hidden)
                total_loss += len(data) * criterion(output, targets).item()
        return total_loss / (len(data_source) - 1)

    train_data = batchify(lib.tensor(CORPUS), batch_size)
    val_data = batchify(lib.tensor(VALID), eval_batch_size)
    lib.manual_seed(1111)
    record = []
    for _epoch in range(2):
        model.train()
        total_loss = 0.0
        if not is_transformer:
            hidden = model.init_hidden(batch_size)
        for i in range(0, train_data.size(0) - 1, bptt):
            data, targets = get_batch(train_data, i)
            model.zero_grad()
            if is_transformer:
                output = model(data).view(-1, ntokens)
            else:
                hidden = repackage_hidden(hidden)
                output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            record += [loss, lib.nn.utils.clip_grad_norm_(model.parameters(), clip)]
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            total_loss += loss.item()
        val_loss = evaluate(val_data)
        record += [total_loss, val_loss, math.exp(val_loss)]
        lr /= 4.0

    # generate.py
    model.eval()
    if not is_transformer:
        hidden = model.init_hidden(1)
    lib.manual_seed(7)
    input = lib.randint(ntokens, (1, 1), dtype=lib.long)
    words = []
    with lib.no_grad():
        for _ in range(6):
            if is_transformer:
                output = model(input, False)
                word_weights = output[-1].squeeze().div(0.9).exp().cpu()
                word_idx = lib.multinomial(word_weights, 1)[0]
                word_tensor = lib.Tensor([[word_idx]]).long()
                input = lib.cat([input, word_tensor], 0)
            else:
                output, hidden = model(input, hidden)
                word_weights = output.squeeze().div(0.9).exp().cpu()
                word_idx = lib.multinomial(word_weights, 1)[0]
                input.fill_(word_idx)
            words.append(int(word_idx))
            record.append(word_weights)
    record += [str(words), input]
    return model, record


@pytest.mark.parametrize("rnn_type", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU", "Transformer"])
def test_word_language_model_trains_and_generates_as_torch(rnn_type):
    reference = trained_on_both(
        lambda lib: build_transformer_model(lib) if rnn_type == "Transformer" else build_rnn_model(lib, rnn_type),
        lambda lib, ref: train_word_language_model(lib, ref, rnn_type),
    )
    if rnn_type != "Transformer":
        assert reference.decoder.weight is reference.encoder.weight
        assert build_rnn_model(ember, rnn_type)().decoder.weight is not None


# -- siamese_network -----------------------------------------------------------------------------------------


def build_siamese(lib):
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
                )

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        """torchvision's resnet18 layout at a toy size: conv1, bn1, relu, maxpool, layers, avgpool, fc."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 4, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(4)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = nn.Sequential(BasicBlock(4, 4))
            self.layer2 = nn.Sequential(BasicBlock(4, 8, stride=2))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(8, 1000)

    class SiameseNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.resnet = ResNet()
            self.resnet.conv1 = nn.Conv2d(1, 4, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)
            self.fc_in_features = self.resnet.fc.in_features
            self.resnet = nn.Sequential(*(list(self.resnet.children())[:-1]))
            self.fc = nn.Sequential(nn.Linear(self.fc_in_features * 2, 6), nn.ReLU(inplace=True), nn.Linear(6, 1))
            self.sigmoid = nn.Sigmoid()
            self.resnet.apply(self.init_weights)
            self.fc.apply(self.init_weights)

        def init_weights(self, m):
            if isinstance(m, nn.Linear):
                lib.nn.init.xavier_uniform_(m.weight)
                m.bias.data.fill_(0.01)

        def forward_once(self, x):
            output = self.resnet(x)
            return output.view(output.size()[0], -1)

        def forward(self, input1, input2):
            output = lib.cat((self.forward_once(input1), self.forward_once(input2)), 1)
            return self.sigmoid(self.fc(output))

    return SiameseNetwork


SIAMESE_IMAGES = RNG.integers(0, 256, (30, 12, 12)).astype(np.uint8)
SIAMESE_LABELS = RNG.integers(0, 3, 30)


def make_app_matcher(lib, images, labels):
    import random

    class APP_MATCHER(lib.utils.data.Dataset):
        """The pairs dataset: even indices pair two images of one class (target 1), odd ones two classes (0)."""

        def __init__(self):
            super().__init__()
            self.targets = lib.tensor(labels)
            self.data = lib.tensor(images).unsqueeze(1).clone()
            np_arr = np.array(self.targets.clone(), dtype=None, copy=None)
            self.grouped_examples = {i: np.where(np_arr == i)[0] for i in range(3)}

        def __len__(self):
            return self.data.shape[0]

        def __getitem__(self, index):
            selected_class = random.randint(0, 2)
            group = self.grouped_examples[selected_class]
            random_index_1 = random.randint(0, group.shape[0] - 1)
            image_1 = self.data[group[random_index_1]].clone().float()
            if index % 2 == 0:
                random_index_2 = random.randint(0, group.shape[0] - 1)
                while random_index_2 == random_index_1:
                    random_index_2 = random.randint(0, group.shape[0] - 1)
                image_2 = self.data[group[random_index_2]].clone().float()
                target = lib.tensor(1, dtype=lib.float)
            else:
                other = random.randint(0, 2)
                while other == selected_class:
                    other = random.randint(0, 2)
                other_group = self.grouped_examples[other]
                image_2 = self.data[other_group[random.randint(0, other_group.shape[0] - 1)]].clone().float()
                target = lib.tensor(0, dtype=lib.float)
            return image_1 / 255.0, image_2 / 255.0, target

    return APP_MATCHER()


def train_siamese(lib, reference):
    import random

    model = build_siamese(lib)()
    copy_weights(reference, model)
    train_set = make_app_matcher(lib, SIAMESE_IMAGES[:20], SIAMESE_LABELS[:20])
    test_set = make_app_matcher(lib, SIAMESE_IMAGES[20:], SIAMESE_LABELS[20:])
    train_loader = lib.utils.data.DataLoader(
        train_set, batch_size=6, shuffle=True, generator=lib.Generator().manual_seed(2)
    )
    test_loader = lib.utils.data.DataLoader(test_set, batch_size=4)
    optimizer = lib.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    random.seed(3)
    record = []
    for _epoch in range(2):
        model.train()
        criterion = lib.nn.BCELoss()
        for images_1, images_2, targets in train_loader:
            optimizer.zero_grad()
            outputs = model(images_1, images_2).squeeze()
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            record += [loss, outputs, model.fc[0].weight.grad]
        scheduler.step()
        model.eval()
        test_loss, correct = 0, 0
        with lib.no_grad():
            for images_1, images_2, targets in test_loader:
                outputs = model(images_1, images_2).squeeze()
                test_loss += criterion(outputs, targets).sum().item()
                pred = lib.where(outputs > 0.5, 1, 0)
                correct += pred.eq(targets.view_as(pred)).sum().item()
                record += [pred, targets]
        record += [test_loss / len(test_loader.dataset), correct]
    return model, record


def test_siamese_network_with_bce_as_torch():
    trained_on_both(build_siamese, train_siamese)
