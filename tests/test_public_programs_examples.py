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
  by manual SGD; and ``generate.py``'s sampling by ``multinomial(output.div(temperature).exp(), 1)``.
- ``siamese_network/main.py``: a toy resnet's ``children()[:-1]`` in a ``Sequential``, ``apply(init_weights)``
  with ``bias.data.fill_``, a pairs ``Dataset`` drawn by ``random``, ``BCELoss``, ``where(outputs > 0.5, 1, 0)``.
- ``language_translation``: ``nn.Transformer`` with a float causal mask, boolean padding masks (PyTorch's
  mismatched-mask warning), ``CrossEntropyLoss(ignore_index, label_smoothing)``, ``Adam``, greedy decoding
  with a boolean ``tgt_mask``.
- ``imagenet/main.py``'s loop: ``AverageMeter``/``ProgressMeter`` strings of 0-d tensors, top-k
  ``accuracy``, ``StepLR``, ``save_checkpoint`` with the best-model copy, resume with ``map_location``.
- ``gcn/main.py`` (``load_cora``'s sparse diagonal normalisations, ``spmm`` layers) and ``gat/main.py``
  (dense multi-head attention masked by ``where(adj_mat > 0, e, -9e16)``, heads averaged or concatenated).
- ``fast_neural_style``: ``TransformerNet`` (``ReflectionPad2d``, affine ``InstanceNorm2d``, nearest
  ``interpolate`` ups) trained by ``Adam`` against a frozen toy ``Vgg16`` (``Sequential`` slices, a namedtuple
  of activations), ``gram_matrix`` by ``bmm``, ``normalize_batch`` with ``new_tensor``/``div_``.
- ``reinforcement_learning/actor_critic.py`` on a NumPy CartPole: ``Categorical`` sampling, ``SavedAction``
  namedtuples, normalised returns, ``smooth_l1_loss(value, tensor([R]))`` of a 0-d tensor ``R``.
- ``fx``: ``replace_op.py``, ``subgraph_rewriter_basic_use.py``, ``invert.py`` (the graphs built by hand
  and the proxies called outside a trace are in tests/test_public_programs_examples_findings.py).
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


# -- language_translation ------------------------------------------------------------------------------------

PAD, BOS, EOS = 1, 2, 3


def build_translator(lib, src_vocab=11, tgt_vocab=12, embed_size=8, num_heads=2, layers=2, ff=16, dropout=0.1):
    nn = lib.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, emb_size, dropout, maxlen=32):
            super().__init__()
            den = lib.exp(-lib.arange(0, emb_size, 2) * math.log(10000) / emb_size)
            pos = lib.arange(0, maxlen).reshape(maxlen, 1)
            pos_embedding = lib.zeros((maxlen, emb_size))
            pos_embedding[:, 0::2] = lib.sin(pos * den)
            pos_embedding[:, 1::2] = lib.cos(pos * den)
            self.dropout = nn.Dropout(dropout)
            self.register_buffer("pos_embedding", pos_embedding.unsqueeze(-2))

        def forward(self, token_embedding):
            return self.dropout(token_embedding + self.pos_embedding[: token_embedding.size(0), :])

    class Translator(nn.Module):
        def __init__(self):
            super().__init__()
            self.src_embedding = nn.Embedding(src_vocab, embed_size)
            self.tgt_embedding = nn.Embedding(tgt_vocab, embed_size)
            self.pos_enc = PositionalEncoding(embed_size, dropout)
            self.transformer = nn.Transformer(
                d_model=embed_size,
                nhead=num_heads,
                num_encoder_layers=layers,
                num_decoder_layers=layers,
                dim_feedforward=ff,
                dropout=dropout,
            )
            self.ff = nn.Linear(embed_size, tgt_vocab)
            for p in self.parameters():
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)

        def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, memory_key_padding_mask):
            src_emb = self.pos_enc(self.src_embedding(src))
            tgt_emb = self.pos_enc(self.tgt_embedding(trg))
            outs = self.transformer(
                src_emb, tgt_emb, src_mask, tgt_mask, None, src_padding_mask, tgt_padding_mask, memory_key_padding_mask
            )
            return self.ff(outs)

        def encode(self, src, src_mask):
            return self.transformer.encoder(self.pos_enc(self.src_embedding(src)), src_mask)

        def decode(self, tgt, memory, tgt_mask):
            return self.transformer.decoder(self.pos_enc(self.tgt_embedding(tgt)), memory, tgt_mask)

    return Translator


def translation_batch(n, src_vocab=11, tgt_vocab=12):
    """collate_fn's output: <bos> tokens <eos>, padded with <pad> to the longest, sequence first."""
    srcs, tgts = [], []
    for _ in range(n):
        srcs.append([BOS, *RNG.integers(4, src_vocab, RNG.integers(2, 6)), EOS])
        tgts.append([BOS, *RNG.integers(4, tgt_vocab, RNG.integers(2, 7)), EOS])

    def pad(seqs):
        width = max(map(len, seqs))
        return np.array([s + [PAD] * (width - len(s)) for s in seqs], np.int64).T

    return pad(srcs), pad(tgts)


TRANSLATION_BATCHES = [translation_batch(3) for _ in range(3)]


def train_translator(lib, reference, label_smoothing):
    model = build_translator(lib)()
    copy_weights(reference, model)

    def generate_square_subsequent_mask(size):
        mask = (lib.triu(lib.ones((size, size))) == 1).transpose(0, 1)
        return mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0)

    def create_mask(src, tgt):
        tgt_mask = generate_square_subsequent_mask(tgt.shape[0])
        src_mask = lib.zeros((src.shape[0], src.shape[0])).type(lib.bool)
        return src_mask, tgt_mask, (src == PAD).transpose(0, 1), (tgt == PAD).transpose(0, 1)

    def greedy_decode(src, src_mask, max_len):
        memory = model.encode(src, src_mask)
        ys = lib.ones(1, 1).fill_(BOS).type(lib.long)
        for _ in range(max_len - 1):
            tgt_mask = generate_square_subsequent_mask(ys.size(0)).type(lib.bool)
            out = model.decode(ys, memory, tgt_mask).transpose(0, 1)
            prob = model.ff(out[:, -1])
            _, next_word = lib.max(prob, dim=1)
            next_word = next_word.item()
            ys = lib.cat([ys, lib.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
            if next_word == EOS:
                break
        return ys

    loss_fn = lib.nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=label_smoothing)
    optim = lib.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.98), eps=1e-9)
    attentions = [m for m in model.modules() if isinstance(m, lib.nn.MultiheadAttention)]
    lib.manual_seed(9)
    record = []
    for _epoch in range(2):
        model.train()
        losses = 0
        for src, tgt in TRANSLATION_BATCHES[:2]:
            src, tgt = lib.from_numpy(src), lib.from_numpy(tgt)
            tgt_input = tgt[:-1, :]
            src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
            logits = model(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, src_padding_mask)
            optim.zero_grad()
            tgt_out = tgt[1:, :]
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
            loss.backward()
            for m in attentions:
                # the key bias's gradient is zero but for rounding (softmax ignores a per-query constant): Adam
                # would turn the noise into full steps, so it is zeroed
                m.in_proj_bias.grad[m.embed_dim : 2 * m.embed_dim] = 0
            optim.step()
            losses += loss.item()
            record += [loss, logits, model.ff.weight.grad]
        record.append(losses / len(TRANSLATION_BATCHES[:2]))
        model.eval()
        with lib.no_grad():
            src, tgt = map(lib.from_numpy, TRANSLATION_BATCHES[2])
            tgt_input = tgt[:-1, :]
            src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
            logits = model(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, src_padding_mask)
            record += [logits, loss_fn(logits.reshape(-1, logits.shape[-1]), tgt[1:, :].reshape(-1))]
    src = lib.from_numpy(TRANSLATION_BATCHES[2][0][:, :1].copy())
    num_tokens = src.shape[0]
    with lib.no_grad():
        record.append(greedy_decode(src, lib.zeros(num_tokens, num_tokens).type(lib.bool), num_tokens + 5))
    return model, record


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_language_translation_transformer_with_masks_as_torch(label_smoothing):
    trained_on_both(
        build_translator, lambda lib, ref: train_translator(lib, ref, label_smoothing), rtol=5e-4, atol=5e-5
    )


# -- imagenet's training loop ----------------------------------------------------------------------------------


def build_imagenet_model(lib):
    nn = lib.nn
    return lambda: nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False),
        nn.BatchNorm2d(4),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 7),
    )


IMAGENET_IMAGES = RNG.standard_normal((20, 3, 6, 6)).astype(np.float32)
IMAGENET_LABELS = RNG.integers(0, 7, 20)


def imagenet_helpers(lib):
    from enum import Enum

    class Summary(Enum):
        NONE, AVERAGE, SUM, COUNT = 0, 1, 2, 3

    class AverageMeter:
        def __init__(self, name, fmt=":f", summary_type=Summary.AVERAGE):
            self.name, self.fmt, self.summary_type = name, fmt, summary_type
            self.reset()

        def reset(self):
            self.val = self.avg = self.sum = self.count = 0

        def update(self, val, n=1):
            self.val = val
            self.sum += val * n
            self.count += n
            self.avg = self.sum / self.count

        def all_reduce(self):
            # single process: the tensor the program builds for dist.all_reduce, read back
            total = lib.tensor([self.sum, self.count], dtype=lib.float32)
            self.sum, self.count = total.tolist()
            self.avg = self.sum / self.count

        def __str__(self):
            return ("{name} {val" + self.fmt + "} ({avg" + self.fmt + "})").format(**self.__dict__)

        def summary(self):
            fmtstr = {
                Summary.NONE: "",
                Summary.AVERAGE: "{name} {avg:.3f}",
                Summary.SUM: "{name} {sum:.3f}",
                Summary.COUNT: "{name} {count:.3f}",
            }[self.summary_type]
            return fmtstr.format(**self.__dict__)

    class ProgressMeter:
        def __init__(self, num_batches, meters, prefix=""):
            num_digits = len(str(num_batches // 1))
            fmt = "{:" + str(num_digits) + "d}"
            self.batch_fmtstr = "[" + fmt + "/" + fmt.format(num_batches) + "]"
            self.meters, self.prefix = meters, prefix

        def display(self, batch):
            return "\t".join([self.prefix + self.batch_fmtstr.format(batch)] + [str(meter) for meter in self.meters])

        def display_summary(self):
            return " ".join([" *"] + [meter.summary() for meter in self.meters])

    def accuracy(output, target, topk=(1,)):
        with lib.no_grad():
            maxk = max(topk)
            batch_size = target.size(0)
            _, pred = output.topk(maxk, 1, True, True)
            pred = pred.t()
            correct = pred.eq(target.view(1, -1).expand_as(pred))
            res = []
            for k in topk:
                correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
                res.append(correct_k.mul_(100.0 / batch_size))
            return res

    return Summary, AverageMeter, ProgressMeter, accuracy


def train_imagenet(lib, reference, tmp_path):
    import shutil

    Summary, AverageMeter, ProgressMeter, accuracy = imagenet_helpers(lib)
    folder = tmp_path / lib.__name__
    folder.mkdir()
    model = build_imagenet_model(lib)()
    copy_weights(reference, model)
    criterion = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1)
    data = lib.utils.data.TensorDataset(lib.tensor(IMAGENET_IMAGES[:14]), lib.tensor(IMAGENET_LABELS[:14]))
    train_loader = lib.utils.data.DataLoader(data, batch_size=5, shuffle=True, generator=lib.Generator().manual_seed(5))
    val_data = lib.utils.data.TensorDataset(lib.tensor(IMAGENET_IMAGES[14:]), lib.tensor(IMAGENET_LABELS[14:]))
    val_loader = lib.utils.data.DataLoader(val_data, batch_size=4)

    def save_checkpoint(state, is_best, filename=folder / "checkpoint.pth.tar"):
        lib.save(state, filename)
        if is_best:
            shutil.copyfile(filename, folder / "model_best.pth.tar")

    def train(epoch):
        losses, top1, top5 = (
            AverageMeter("Loss", ":.4e"),
            AverageMeter("Acc@1", ":6.2f"),
            AverageMeter("Acc@5", ":6.2f"),
        )
        progress = ProgressMeter(len(train_loader), [losses, top1, top5], prefix=f"Epoch: [{epoch}]")
        model.train()
        lines = []
        for i, (images, target) in enumerate(train_loader):
            output = model(images)
            loss = criterion(output, target)
            acc1, acc5 = accuracy(output, target, topk=(1, 5))
            losses.update(loss.item(), images.size(0))
            top1.update(acc1[0], images.size(0))
            top5.update(acc5[0], images.size(0))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lines.append(progress.display(i + 1))
        return lines + [loss, acc1, acc5]

    def validate():
        losses = AverageMeter("Loss", ":.4e", Summary.NONE)
        top1 = AverageMeter("Acc@1", ":6.2f", Summary.AVERAGE)
        top5 = AverageMeter("Acc@5", ":6.2f", Summary.AVERAGE)
        progress = ProgressMeter(len(val_loader), [losses, top1, top5], prefix="Test: ")
        model.eval()
        lines = []
        with lib.no_grad():
            for i, (images, target) in enumerate(val_loader):
                output = model(images)
                loss = criterion(output, target)
                acc1, acc5 = accuracy(output, target, topk=(1, 5))
                losses.update(loss.item(), images.size(0))
                top1.update(acc1[0], images.size(0))
                top5.update(acc5[0], images.size(0))
                lines.append(progress.display(i + 1))
        top1.all_reduce()
        top5.all_reduce()
        lines.append(progress.display_summary())
        return top1.avg, lines

    best_acc1 = 0
    record = []
    for epoch in range(2):
        record += train(epoch)
        acc1, lines = validate()
        record += lines
        scheduler.step()
        is_best = acc1 > best_acc1
        best_acc1 = max(acc1, best_acc1)
        save_checkpoint(
            {
                "epoch": epoch + 1,
                "arch": "toy",
                "state_dict": model.state_dict(),
                "best_acc1": best_acc1,
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
            },
            is_best,
        )
        record += [acc1, is_best]
    # --resume: a fresh model, optimizer and scheduler from the file, then one more epoch
    model = build_imagenet_model(lib)()
    optimizer = lib.optim.SGD(model.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1)
    checkpoint = lib.load(folder / "checkpoint.pth.tar", map_location="cpu")
    start_epoch, best_acc1 = checkpoint["epoch"], checkpoint["best_acc1"]
    model.load_state_dict(checkpoint["state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    best = lib.load(folder / "model_best.pth.tar", map_location=lib.device("cpu"), weights_only=False)
    record += [start_epoch, best_acc1, best["epoch"], scheduler.get_last_lr()[0], optimizer.param_groups[0]["lr"]]
    record += train(start_epoch)
    record.append(optimizer.state_dict()["state"][0]["momentum_buffer"])
    return model, record


def test_imagenet_training_loop_meters_and_checkpoints_as_torch(tmp_path):
    trained_on_both(build_imagenet_model, lambda lib, ref: train_imagenet(lib, ref, tmp_path))


# -- gcn ---------------------------------------------------------------------------------------------------------


def build_gcn(lib, input_dim=6, hidden_dim=5, output_dim=3, use_bias=True, dropout_p=0.1):
    nn, F = lib.nn, lib.nn.functional

    class GraphConv(nn.Module):
        def __init__(self, input_dim, output_dim, use_bias=False):
            super().__init__()
            self.kernel = nn.Parameter(lib.Tensor(input_dim, output_dim))
            nn.init.xavier_normal_(self.kernel)
            self.bias = None
            if use_bias:
                self.bias = nn.Parameter(lib.Tensor(output_dim))
                nn.init.zeros_(self.bias)

        def forward(self, input_tensor, adj_mat):
            support = lib.mm(input_tensor, self.kernel)
            output = lib.spmm(adj_mat, support)
            return output if self.bias is None else output + self.bias

    class GCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.gc1 = GraphConv(input_dim, hidden_dim, use_bias=use_bias)
            self.gc2 = GraphConv(hidden_dim, output_dim, use_bias=use_bias)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input_tensor, adj_mat):
            x = self.dropout(F.relu(self.gc1(input_tensor, adj_mat)))
            return F.log_softmax(self.gc2(x, adj_mat), dim=1)

    return GCN


GCN_NODES = 12
GCN_FEATURES = (RNG.random((GCN_NODES, 6)) < 0.4).astype(np.int32)
GCN_FEATURES[4] = 0  # a node without features: its scale 1/0 = inf is set to 0
GCN_EDGES = RNG.integers(0, GCN_NODES, (20, 2)).astype(np.int32)
GCN_LABELS = RNG.integers(0, 3, GCN_NODES)


def load_graph(lib):
    """load_cora's preprocessing on a small random graph: row-normalised features and the renormalised
    adjacency D^-1/2 (A + I) D^-1/2, both through sparse diagonal matrices, returned sparse."""
    features = lib.FloatTensor(GCN_FEATURES)
    scale_vector = 1 / lib.sum(features, dim=1)
    scale_vector[scale_vector == float("inf")] = 0
    features = lib.diag(scale_vector).to_sparse() @ features
    labels = lib.LongTensor(GCN_LABELS)
    adj_mat = lib.sparse_coo_tensor(GCN_EDGES.T, lib.ones(len(GCN_EDGES)), (GCN_NODES, GCN_NODES), dtype=lib.int64)
    adj_mat = lib.eye(GCN_NODES) + adj_mat
    degree_mat = lib.sqrt(1 / lib.sum(adj_mat, dim=1))
    degree_mat[degree_mat == float("inf")] = 0
    degree_mat = lib.diag(degree_mat).to_sparse()
    adj_mat = degree_mat @ adj_mat @ degree_mat
    return features.to_sparse().to("cpu"), labels, adj_mat.to_sparse().to("cpu")


def train_gcn(lib, reference):
    gcn = build_gcn(lib)()
    copy_weights(reference, gcn)
    features, labels, adj_mat = load_graph(lib)
    lib.manual_seed(4)
    idx = lib.randperm(len(labels))
    idx_test, idx_val, idx_train = idx[:3], idx[3:6], idx[6:]
    optimizer = lib.optim.Adam(gcn.parameters(), lr=0.01, weight_decay=5e-4)
    criterion = lib.nn.NLLLoss()

    def test(mask):
        gcn.eval()
        with lib.no_grad():
            output = gcn(features, adj_mat)
            output, target = output[mask], labels[mask]
            loss = criterion(output, target)
            acc = (output.argmax(dim=1) == target).float().sum() / len(target)
        return loss.item(), acc.item()

    record = [features.to_dense(), adj_mat.to_dense(), adj_mat._nnz(), adj_mat.is_coalesced(), adj_mat.dtype, idx]
    for _epoch in range(4):
        gcn.train()
        optimizer.zero_grad()
        output = gcn(features, adj_mat)
        loss = criterion(output[idx_train], labels[idx_train])
        loss.backward()
        optimizer.step()
        record += [loss, output, gcn.gc1.kernel.grad, *test(idx_train), *test(idx_val)]
    record += [*test(idx_test)]
    return gcn, record


def test_gcn_with_sparse_adjacency_as_torch():
    trained_on_both(build_gcn, train_gcn)


# -- fx ------------------------------------------------------------------------------------------------------------


def run_fx_examples(lib):
    """fx/replace_op.py, fx/subgraph_rewriter_basic_use.py and fx/invert.py: the graphs' code (the library's
    name blanked out) and the rewritten modules' values."""
    import operator

    fx = lib.fx
    record = []

    class Adds(lib.nn.Module):
        def forward(self, x, y):
            return x + y, lib.add(x, y), x.add(y)

    traced = fx.symbolic_trace(Adds())
    patterns = {operator.add, lib.add, "add"}
    for n in traced.graph.nodes:
        if any(n.target == pattern for pattern in patterns):
            with traced.graph.inserting_after(n):
                new_node = traced.graph.call_function(lib.bitwise_and, n.args, n.kwargs)
                n.replace_all_uses_with(new_node)
            traced.graph.erase_node(n)
    traced.recompile()
    record += [*traced(lib.tensor([3, 5, 12]), lib.tensor([6, 4, 10])), traced.code.replace(lib.__name__, "L")]

    class Doubled(lib.nn.Module):
        def forward(self, x, w1, w2):
            m1 = lib.cat([lib.neg(w1), w2]).sum()
            m2 = lib.cat([lib.neg(w1), w2]).sum()
            return x + lib.max(m1) + lib.max(m2)

    def pattern(a1, a2):
        return lib.cat([lib.neg(a1), a2]).sum()

    def replacement(w1, w2):
        return lib.stack([w1, w2])

    traced = fx.symbolic_trace(Doubled())
    matches = fx.replace_pattern(traced, pattern, replacement)
    record += [len(matches), traced.code.replace(lib.__name__, "L")]
    record.append(traced(lib.ones(2), lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])))

    invert_mapping = {}
    for a, b in [(lib.sin, lib.arcsin), (lib.cos, lib.arccos), (lib.tan, lib.arctan), (lib.exp, lib.log)]:
        invert_mapping[a], invert_mapping[b] = b, a

    def invert(model):
        fx_model = fx.symbolic_trace(model)
        new_graph, env = fx.Graph(), {}
        for node in reversed(fx_model.graph.nodes):
            if node.op == "call_function":
                env[node.args[0].name] = new_graph.call_function(invert_mapping[node.target], (env[node.name],))
            elif node.op == "output":
                env[node.args[0].name] = new_graph.placeholder(node.name)
            elif node.op == "placeholder":
                new_graph.output(env[node.name])
        new_graph.lint()
        return fx.GraphModule(fx_model, new_graph)

    def f(x):
        return lib.exp(lib.tan(x))

    res = invert(f)
    record += [str([n.op for n in res.graph.nodes]), res(lib.arange(5) + 1), f(res(lib.arange(5) + 1))]
    return record


def test_fx_examples_as_torch():
    assert_same_run(run_fx_examples(ember), run_fx_examples(torch), rtol=1e-6, atol=1e-6)


# -- gat -----------------------------------------------------------------------------------------------------------


def build_gat(lib, in_features=6, n_hidden=8, n_heads=2, num_classes=3, concat=False, dropout=0.4, slope=0.2):
    nn, F = lib.nn, lib.nn.functional

    class GraphAttentionLayer(nn.Module):
        def __init__(self, in_features, out_features, n_heads, concat=False):
            super().__init__()
            self.n_heads, self.concat, self.dropout = n_heads, concat, dropout
            if concat:
                self.out_features = out_features
                self.n_hidden = out_features // n_heads
            else:
                self.n_hidden = out_features
            self.W = nn.Parameter(lib.empty(size=(in_features, self.n_hidden * n_heads)))
            self.a = nn.Parameter(lib.empty(size=(n_heads, 2 * self.n_hidden, 1)))
            self.leakyrelu = nn.LeakyReLU(slope)
            self.softmax = nn.Softmax(dim=1)
            nn.init.xavier_normal_(self.W)
            nn.init.xavier_normal_(self.a)

        def forward(self, h, adj_mat):
            n_nodes = h.shape[0]
            h_transformed = F.dropout(lib.mm(h, self.W), self.dropout, training=self.training)
            h_transformed = h_transformed.view(n_nodes, self.n_heads, self.n_hidden).permute(1, 0, 2)
            source_scores = lib.matmul(h_transformed, self.a[:, : self.n_hidden, :])
            target_scores = lib.matmul(h_transformed, self.a[:, self.n_hidden :, :])
            e = self.leakyrelu(source_scores + target_scores.mT)
            e = lib.where(adj_mat > 0, e, -9e16 * lib.ones_like(e))
            attention = F.dropout(F.softmax(e, dim=-1), self.dropout, training=self.training)
            h_prime = lib.matmul(attention, h_transformed)
            if self.concat:
                return h_prime.permute(1, 0, 2).contiguous().view(n_nodes, self.out_features)
            return h_prime.mean(dim=0)

    class GAT(nn.Module):
        def __init__(self):
            super().__init__()
            self.gat1 = GraphAttentionLayer(in_features, n_hidden, n_heads, concat=concat)
            self.gat2 = GraphAttentionLayer(n_hidden, num_classes, 1, concat=False)

        def forward(self, input_tensor, adj_mat):
            x = F.elu(self.gat1(input_tensor, adj_mat))
            return F.log_softmax(self.gat2(x, adj_mat), dim=1)

    return GAT


def train_gat(lib, reference, concat):
    gat_net = build_gat(lib, concat=concat)()
    copy_weights(reference, gat_net)
    features, labels, _ = load_graph(lib)
    features = features.to_dense()
    adj = lib.sparse_coo_tensor(GCN_EDGES.T, lib.ones(len(GCN_EDGES)), (GCN_NODES, GCN_NODES), dtype=lib.int64)
    adj_mat = lib.eye(GCN_NODES) + adj
    lib.manual_seed(6)
    idx = lib.randperm(len(labels))
    idx_val, idx_train = idx[:4], idx[4:]
    optimizer = lib.optim.Adam(gat_net.parameters(), lr=0.005, weight_decay=5e-4)
    criterion = lib.nn.NLLLoss()
    record = []
    for _epoch in range(4):
        gat_net.train()
        optimizer.zero_grad()
        output = gat_net(features, adj_mat)
        loss = criterion(output[idx_train], labels[idx_train])
        loss.backward()
        optimizer.step()
        record += [loss, output, gat_net.gat1.a.grad]
        gat_net.eval()
        with lib.no_grad():
            output = gat_net(features, adj_mat)[idx_val]
            record += [criterion(output, labels[idx_val]), (output.argmax(dim=1) == labels[idx_val]).float().sum()]
    return gat_net, record


@pytest.mark.parametrize("concat", [False, True])
def test_gat_dense_attention_as_torch(concat):
    trained_on_both(lambda lib: build_gat(lib, concat=concat), lambda lib, ref: train_gat(lib, ref, concat))


# -- fast_neural_style -----------------------------------------------------------------------------------------------


def build_fast_neural_style(lib, c1=4, c2=6, c3=8):
    nn, F = lib.nn, lib.nn.functional
    from collections import namedtuple

    class ConvLayer(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride):
            super().__init__()
            self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
            self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            return self.conv2d(self.reflection_pad(x))

    class ResidualBlock(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv1, self.in1 = ConvLayer(channels, channels, 3, 1), nn.InstanceNorm2d(channels, affine=True)
            self.conv2, self.in2 = ConvLayer(channels, channels, 3, 1), nn.InstanceNorm2d(channels, affine=True)
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.in2(self.conv2(self.relu(self.in1(self.conv1(x))))) + x

    class UpsampleConvLayer(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
            super().__init__()
            self.upsample = upsample
            self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
            self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            if self.upsample:
                x = F.interpolate(x, mode="nearest", scale_factor=self.upsample)
            return self.conv2d(self.reflection_pad(x))

    class TransformerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.in1 = ConvLayer(3, c1, 9, 1), nn.InstanceNorm2d(c1, affine=True)
            self.conv2, self.in2 = ConvLayer(c1, c2, 3, 2), nn.InstanceNorm2d(c2, affine=True)
            self.conv3, self.in3 = ConvLayer(c2, c3, 3, 2), nn.InstanceNorm2d(c3, affine=True)
            self.res1, self.res2 = ResidualBlock(c3), ResidualBlock(c3)
            self.deconv1, self.in4 = UpsampleConvLayer(c3, c2, 3, 1, upsample=2), nn.InstanceNorm2d(c2, affine=True)
            self.deconv2, self.in5 = UpsampleConvLayer(c2, c1, 3, 1, upsample=2), nn.InstanceNorm2d(c1, affine=True)
            self.deconv3 = ConvLayer(c1, 3, 9, 1)
            self.relu = nn.ReLU()

        def forward(self, X):
            y = self.relu(self.in1(self.conv1(X)))
            y = self.relu(self.in2(self.conv2(y)))
            y = self.res2(self.res1(self.relu(self.in3(self.conv3(y)))))
            y = self.relu(self.in4(self.deconv1(y)))
            y = self.relu(self.in5(self.deconv2(y)))
            return self.deconv3(y)

    class Vgg(nn.Module):
        """vgg.py's Vgg16 at a toy size: slices of a Sequential, the activations as a namedtuple, frozen."""

        def __init__(self):
            super().__init__()
            features = nn.Sequential(
                nn.Conv2d(3, 4, 3, padding=1),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
                nn.Conv2d(4, 5, 3, padding=1),
                nn.ReLU(inplace=True),
            )
            self.slice1, self.slice2 = nn.Sequential(), nn.Sequential()
            for x in range(2):
                self.slice1.add_module(str(x), features[x])
            for x in range(2, 5):
                self.slice2.add_module(str(x), features[x])
            for param in self.parameters():
                param.requires_grad = False

        def forward(self, X):
            h_relu1_2 = self.slice1(X)
            h_relu2_2 = self.slice2(h_relu1_2)
            return namedtuple("VggOutputs", ["relu1_2", "relu2_2"])(h_relu1_2, h_relu2_2)

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer, self.vgg = TransformerNet(), Vgg()

    return Both


STYLE_IMAGE = (RNG.random((1, 3, 12, 12)) * 255).astype(np.float32)
CONTENT_IMAGES = (RNG.random((4, 3, 12, 12)) * 255).astype(np.float32)


def train_fast_neural_style(lib, reference):
    both = build_fast_neural_style(lib)()
    copy_weights(reference, both)
    transformer, vgg = both.transformer, both.vgg

    def gram_matrix(y):
        (b, ch, h, w) = y.size()
        features = y.view(b, ch, w * h)
        return features.bmm(features.transpose(1, 2)) / (ch * h * w)

    def normalize_batch(batch):
        mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
        std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
        batch = batch.div_(255.0)
        return (batch - mean) / std

    optimizer = lib.optim.Adam(transformer.parameters(), 1e-2)
    mse_loss = lib.nn.MSELoss()
    style = lib.tensor(STYLE_IMAGE).repeat(2, 1, 1, 1)
    gram_style = [gram_matrix(y) for y in vgg(normalize_batch(style))]
    # a convolution's bias before an InstanceNorm has a zero gradient but for rounding, which Adam would turn
    # into full steps: those biases are left out of the step (deconv3's is the only one that counts); so are
    # the residual blocks' last InstanceNorm biases (a per-channel constant that in4 removes again)
    inert = [m.conv2d.bias for name, m in transformer.named_modules() if hasattr(m, "conv2d") and name != "deconv3"]
    inert += [transformer.res1.in2.bias, transformer.res2.in2.bias]
    record = []
    agg_content_loss = agg_style_loss = 0.0
    for batch_id in range(2):
        x = lib.tensor(CONTENT_IMAGES[2 * batch_id : 2 * batch_id + 2])
        n_batch = len(x)
        optimizer.zero_grad()
        y = normalize_batch(transformer(x))
        x = normalize_batch(x)
        features_y, features_x = vgg(y), vgg(x)
        content_loss = 1e5 * mse_loss(features_y.relu2_2, features_x.relu2_2)
        style_loss = 0.0
        for ft_y, gm_s in zip(features_y, gram_style):
            style_loss += mse_loss(gram_matrix(ft_y), gm_s[:n_batch, :, :])
        style_loss *= 1e10
        total_loss = content_loss + style_loss
        total_loss.backward()
        for bias in inert:
            bias.grad = None
        optimizer.step()
        agg_content_loss += content_loss.item()
        agg_style_loss += style_loss.item()
        # the gradient at its scale (1e4: elements near zero are sums of much larger terms)
        grad = transformer.deconv3.conv2d.weight.grad / 1e4
        record += [content_loss, style_loss, y, grad, agg_content_loss, agg_style_loss]
    transformer.eval()
    with lib.no_grad():
        output = transformer(lib.tensor(CONTENT_IMAGES[:1])).cpu()
        img = output[0].clone().clamp(0, 255).numpy().transpose(1, 2, 0).astype("uint8")
    record += [output, img]
    return both, record


def test_fast_neural_style_transformer_net_as_torch():
    trained_on_both(build_fast_neural_style, train_fast_neural_style, rtol=1e-3, atol=1e-4)


# -- reinforcement_learning/actor_critic.py ------------------------------------------------------------------------


class CartPole:
    """gymnasium's CartPole-v1 dynamics (Euler steps), in NumPy: the environment the program plays."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def reset(self):
        self.state = self.rng.uniform(-0.05, 0.05, 4)
        self.steps = 0
        return self.state.astype(np.float32), {}

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = 10.0 if action == 1 else -10.0
        cos, sin = math.cos(theta), math.sin(theta)
        temp = (force + 0.05 * theta_dot**2 * sin) / 1.1
        theta_acc = (9.8 * sin - cos * temp) / (0.5 * (4.0 / 3.0 - 0.1 * cos**2 / 1.1))
        x_acc = temp - 0.05 * theta_acc * cos / 1.1
        self.state = np.array(
            [x + 0.02 * x_dot, x_dot + 0.02 * x_acc, theta + 0.02 * theta_dot, theta_dot + 0.02 * theta_acc]
        )
        self.steps += 1
        terminated = bool(abs(self.state[0]) > 2.4 or abs(self.state[2]) > 12 * 2 * math.pi / 360)
        return self.state.astype(np.float32), 1.0, terminated, self.steps >= 30, {}


def build_actor_critic(lib, hidden=16):
    nn, F = lib.nn, lib.nn.functional

    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.affine1 = nn.Linear(4, hidden)
            self.action_head = nn.Linear(hidden, 2)
            self.value_head = nn.Linear(hidden, 1)
            self.saved_actions, self.rewards = [], []

        def forward(self, x):
            x = F.relu(self.affine1(x))
            return F.softmax(self.action_head(x), dim=-1), self.value_head(x)

    return Policy


def train_actor_critic(lib, reference):
    from collections import namedtuple

    F = lib.nn.functional
    SavedAction = namedtuple("SavedAction", ["log_prob", "value"])
    model = build_actor_critic(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=3e-2)
    eps = np.finfo(np.float32).eps.item()
    env, gamma = CartPole(543), 0.99
    lib.manual_seed(543)
    record = []

    def select_action(state):
        probs, state_value = model(lib.from_numpy(state).float())
        m = lib.distributions.Categorical(probs)
        action = m.sample()
        model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
        return action.item()

    def finish_episode():
        R, policy_losses, value_losses, returns = 0, [], [], []
        for r in model.rewards[::-1]:
            R = r + gamma * R
            returns.insert(0, R)
        returns = lib.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        for (log_prob, value), R in zip(model.saved_actions, returns):
            advantage = R - value.item()
            policy_losses.append(-log_prob * advantage)
            value_losses.append(F.smooth_l1_loss(value, lib.tensor([R])))
        optimizer.zero_grad()
        loss = lib.stack(policy_losses).sum() + lib.stack(value_losses).sum()
        loss.backward()
        optimizer.step()
        del model.rewards[:]
        del model.saved_actions[:]
        return [returns, loss]

    running_reward = 10
    for _episode in range(3):
        state, _ = env.reset()
        ep_reward, actions = 0, []
        for _t in range(1, 10000):
            action = select_action(state)
            actions.append(action)
            state, reward, terminated, truncated, _ = env.step(action)
            model.rewards.append(reward)
            ep_reward += reward
            if terminated or truncated:
                break
        running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
        record += [str(actions), *finish_episode(), running_reward]
    return model, record


def test_actor_critic_as_torch():
    trained_on_both(build_actor_critic, train_actor_critic)
