"""Public programs, round 14: the official PyTorch tutorials and recipes, condensed, each run on ember and on
torch from the same seeds, comparing losses, outputs, gradients, printed strings and the trained weights.

- "NLP From Scratch": the char-RNN name classifier written by hand (``i2h``/``i2o`` over ``cat`` of the
  one-hot letter and the hidden state, ``LogSoftmax``, ``NLLLoss``, the manual ``p.data.add_(p.grad.data,
  alpha=-lr)`` step, ``topk`` of the output) and with ``nn.RNN`` (a ``random_split`` by fractions with a
  generator, minibatches by ``np.array_split``, ``clip_grad_norm_``, the normalised confusion matrix); the
  category-conditioned name generator (``o2o``, dropout, a loss summed from ``Tensor([0])``, ``LongTensor``
  targets ``unsqueeze_``-d, greedy sampling by ``topk``).
- "NLP From Scratch: translation with a sequence to sequence network and attention": ``EncoderRNN`` and the
  plain or ``AttnDecoderRNN`` decoder (``BahdanauAttention`` by ``Wa``/``Ua``/``Va`` and ``bmm``), teacher
  forcing from ``target_tensor[:, i].unsqueeze(1)``, greedy decoding by ``topk(1)``/``squeeze(-1).detach()``,
  a ``TensorDataset`` of ``LongTensor`` from NumPy ``int32`` arrays under a ``RandomSampler``, two ``Adam``s.
- "Learning PyTorch with Examples": the third-order polynomial fitted to ``sin`` with hand-written gradients,
  with autograd and ``no_grad`` updates, through the ``LegendrePolynomial3`` ``autograd.Function``, with
  ``nn.Sequential(Linear, Flatten(0, 1))`` and ``MSELoss(reduction="sum")``, ``RMSprop``, a custom
  ``Polynomial3`` module and the ``DynamicNet`` reusing its parameter a random number of times.
- "What is torch.nn really?": ``Mnist_Logistic`` from scratch (``log_softmax`` and ``nll`` by hand, in-place
  updates under ``no_grad``), as ``nn.Module`` with ``nn.Parameter`` and with ``nn.Linear``, ``TensorDataset``
  and a shuffling ``DataLoader``, ``fit``/``loss_batch`` averaging the validation loss by ``np.sum`` of
  ``np.multiply``, ``Mnist_CNN``, and ``nn.Sequential`` with a ``Lambda`` layer over a ``WrappedDataLoader``.
- The "Parametrizations" tutorial: ``Symmetric``, ``Skew``, ``MatrixExponential`` and ``CayleyMap``
  parametrizations, stacked, cached, initialised through ``right_inverse``, removed (``leave_parametrized``
  both ways), ``parametrizations.orthogonal``; a model trained through them; a whole parametrized model
  refused by ``save`` (saved through its ``state_dict``).
- The "Forward-mode automatic differentiation" tutorial: ``dual_level``, ``make_dual``/``unpack_dual``,
  modules made dual by ``delattr``/``setattr`` and by ``functional_call``, a custom ``Function`` with
  ``jvp``, ``gradcheck(check_forward_ad=True)``, ``func.jvp``, ``jacfwd``/``jacrev`` against columns of
  dual numbers.
- The recipes: "Warmstarting a model" (``load_state_dict(strict=False)``'s missing and unexpected keys, its
  printed form, a mismatched shape refused even so, fine-tuning with the copied layers frozen); "Saving and
  loading a general checkpoint" and "Saving multiple models in one file" (a dict of epoch, loss, model and
  optimizer states through ``save``/``load(weights_only=True)``, training resumed); "Zeroing out gradients"
  (``zero_grad`` with and without ``set_to_none``, accumulation); "Autograd mechanics" (``retain_grad``,
  tensor, node, post-accumulate and saved-tensor hooks, ``requires_grad_``, ``no_grad``/``enable_grad``/
  ``set_grad_enabled``/``inference_mode`` as contexts, decorators and calls, and their errors).
"""

from __future__ import annotations

import copy
import io
import math
import random
import string

import numpy as np
import pytest
from public_programs import both, both_in_float64, params

# -- NLP From Scratch: classifying and generating names with a character-level RNN -----------------------------

ALL_LETTERS = string.ascii_letters + " .,;'"
NAMES = {
    "English": ["Smith", "Brown", "Taylor", "Walker", "Wright"],
    "French": ["Dubois", "Lefevre", "Moreau", "Girard", "Bernard"],
    "Italian": ["Rossi", "Bianchi", "Romano", "Ricci", "Marino"],
}


def char_rnn_classification(lib, flavour):
    nn = lib.nn
    n_letters = len(ALL_LETTERS)
    categories = list(NAMES)

    def lineToTensor(line):
        tensor = lib.zeros(len(line), 1, n_letters)
        for li, letter in enumerate(line):
            tensor[li][0][ALL_LETTERS.find(letter)] = 1
        return tensor

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(input_size + hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, input, hidden):
            combined = lib.cat((input, hidden), 1)
            hidden = self.i2h(combined)
            output = self.i2o(combined)
            output = self.softmax(output)
            return output, hidden

        def initHidden(self):
            return lib.zeros(1, self.hidden_size)

    class CharRNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__()
            self.rnn = nn.RNN(input_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, line_tensor):
            rnn_out, hidden = self.rnn(line_tensor)
            output = self.h2o(hidden[0])
            output = self.softmax(output)
            return output

    class NamesDataset(lib.utils.data.Dataset):
        def __init__(self):
            self.data = [(name, label) for label in categories for name in NAMES[label]]

        def __len__(self):
            return len(self.data)

        def __getitem__(self, idx):
            name, label = self.data[idx]
            label_tensor = lib.tensor([categories.index(label)], dtype=lib.long)
            return label_tensor, lineToTensor(name), label, name

    def label_from_output(output):
        top_n, top_i = output.topk(1)
        label_i = top_i[0].item()
        return categories[label_i], label_i

    lib.manual_seed(0)
    rng = random.Random(0)
    criterion = nn.NLLLoss()
    record = []
    if flavour == "by-hand":
        learning_rate = 0.05
        rnn = RNN(n_letters, 16, len(categories))
        for _ in range(12):
            category = rng.choice(categories)
            line = rng.choice(NAMES[category])
            category_tensor = lib.tensor([categories.index(category)], dtype=lib.long)
            line_tensor = lineToTensor(line)
            hidden = rnn.initHidden()
            rnn.zero_grad()
            for i in range(line_tensor.size()[0]):
                output, hidden = rnn(line_tensor[i], hidden)
            loss = criterion(output, category_tensor)
            loss.backward()
            for p in rnn.parameters():
                p.data.add_(p.grad.data, alpha=-learning_rate)
            guess, guess_i = label_from_output(output)
            record += [output, loss.item(), guess, rnn.i2h.weight.grad]
        with lib.no_grad():
            line_tensor = lineToTensor("Rossi")
            hidden = rnn.initHidden()
            for i in range(line_tensor.size()[0]):
                output, hidden = rnn(line_tensor[i], hidden)
            topv, topi = output.topk(2, 1, True)
        return record + [topv, topi] + params(rnn)

    alldata = NamesDataset()
    train_set, test_set = lib.utils.data.random_split(alldata, [0.8, 0.2], generator=lib.Generator().manual_seed(2024))
    record += [len(train_set), len(test_set), " ".join(map(str, test_set.indices))]
    rnn = CharRNN(n_letters, 16, len(categories))
    optimizer = lib.optim.SGD(rnn.parameters(), lr=0.15)
    rnn.train()
    all_losses = []
    for _ in range(3):
        rnn.zero_grad()
        batches = list(range(len(train_set)))
        rng.shuffle(batches)
        batches = np.array_split(batches, len(batches) // 4)
        current_loss = 0
        for batch in batches:
            batch_loss = 0
            for i in batch:
                label_tensor, text_tensor, label, text = train_set[i]
                output = rnn.forward(text_tensor)
                loss = criterion(output, label_tensor)
                batch_loss += loss
            batch_loss.backward()
            nn.utils.clip_grad_norm_(rnn.parameters(), 3)
            optimizer.step()
            optimizer.zero_grad()
            current_loss += batch_loss.item() / len(batch)
            record += [batch_loss, rnn.rnn.weight_hh_l0]
        all_losses.append(current_loss / len(batches))
    record += all_losses
    rnn.eval()
    confusion = lib.zeros(len(categories), len(categories))
    with lib.no_grad():
        for i in range(len(alldata)):
            label_tensor, text_tensor, label, text = alldata[i]
            guess, guess_i = label_from_output(rnn(text_tensor))
            confusion[categories.index(label)][guess_i] += 1
    for i in range(len(categories)):
        denom = confusion[i].sum()
        if denom > 0:
            confusion[i] = confusion[i] / denom
    return record + [confusion] + params(rnn)


@pytest.mark.parametrize("flavour", ["by-hand", "nn.RNN"])
def test_char_rnn_name_classification_trains_as_torch(flavour):
    both(char_rnn_classification, flavour)
    both_in_float64(char_rnn_classification, flavour)


def char_rnn_generation(lib):
    nn = lib.nn
    n_letters = len(ALL_LETTERS) + 1  # and EOS
    categories = list(NAMES)
    n_categories = len(categories)

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
            self.o2o = nn.Linear(hidden_size + output_size, output_size)
            self.dropout = nn.Dropout(0.1)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, category, input, hidden):
            input_combined = lib.cat((category, input, hidden), 1)
            hidden = self.i2h(input_combined)
            output = self.i2o(input_combined)
            output_combined = lib.cat((hidden, output), 1)
            output = self.o2o(output_combined)
            output = self.dropout(output)
            output = self.softmax(output)
            return output, hidden

        def initHidden(self):
            return lib.zeros(1, self.hidden_size)

    def categoryTensor(category):
        tensor = lib.zeros(1, n_categories)
        tensor[0][categories.index(category)] = 1
        return tensor

    def inputTensor(line):
        tensor = lib.zeros(len(line), 1, n_letters)
        for li in range(len(line)):
            tensor[li][0][ALL_LETTERS.find(line[li])] = 1
        return tensor

    def targetTensor(line):
        letter_indexes = [ALL_LETTERS.find(line[li]) for li in range(1, len(line))]
        letter_indexes.append(n_letters - 1)  # EOS
        return lib.LongTensor(letter_indexes)

    lib.manual_seed(0)
    rng = random.Random(0)
    rnn = RNN(n_letters, 12, n_letters)
    criterion = nn.NLLLoss()
    learning_rate = 0.05
    record = []
    for _ in range(6):
        category = rng.choice(categories)
        line = rng.choice(NAMES[category])
        category_tensor, input_line_tensor = categoryTensor(category), inputTensor(line)
        target_line_tensor = targetTensor(line)
        target_line_tensor.unsqueeze_(-1)
        hidden = rnn.initHidden()
        rnn.zero_grad()
        loss = lib.Tensor([0])
        for i in range(input_line_tensor.size(0)):
            output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
            loss += criterion(output, target_line_tensor[i])
        loss.backward()
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        record += [output, loss.item() / input_line_tensor.size(0), loss, rnn.o2o.bias.grad]

    def sample(category, start_letter="A", max_length=8):
        with lib.no_grad():
            category_tensor = categoryTensor(category)
            input = inputTensor(start_letter)
            hidden = rnn.initHidden()
            output_name = start_letter
            for _ in range(max_length):
                output, hidden = rnn(category_tensor, input[0], hidden)
                topv, topi = output.topk(1)
                topi = topi[0][0]
                if topi == n_letters - 1:
                    break
                letter = ALL_LETTERS[topi]
                output_name += letter
                input = inputTensor(letter)
            return output_name, output

    rnn.eval()
    for category, start in [("English", "W"), ("French", "M"), ("Italian", "R")]:
        record += list(sample(category, start))
    return record + params(rnn)


def test_char_rnn_name_generation_trains_and_samples_as_torch():
    both(char_rnn_generation)
    both_in_float64(char_rnn_generation)


# -- NLP From Scratch: translation with a sequence to sequence network and attention ----------------------------


def seq2seq_translation(lib, attention):
    nn, F = lib.nn, lib.nn.functional
    SOS_token, EOS_token, MAX_LENGTH = 0, 1, 6

    class EncoderRNN(nn.Module):
        def __init__(self, input_size, hidden_size, dropout_p=0.1):
            super().__init__()
            self.hidden_size = hidden_size
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input):
            embedded = self.dropout(self.embedding(input))
            output, hidden = self.gru(embedded)
            return output, hidden

    class DecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size):
            super().__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            batch_size = encoder_outputs.size(0)
            decoder_input = lib.empty(batch_size, 1, dtype=lib.long).fill_(SOS_token)
            decoder_hidden = encoder_hidden
            decoder_outputs = []
            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden = self.forward_step(decoder_input, decoder_hidden)
                decoder_outputs.append(decoder_output)
                if target_tensor is not None:
                    decoder_input = target_tensor[:, i].unsqueeze(1)
                else:
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()
            decoder_outputs = lib.cat(decoder_outputs, dim=1)
            decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
            return decoder_outputs, decoder_hidden, None

        def forward_step(self, input, hidden):
            output = self.embedding(input)
            output = F.relu(output)
            output, hidden = self.gru(output, hidden)
            output = self.out(output)
            return output, hidden

    class BahdanauAttention(nn.Module):
        def __init__(self, hidden_size):
            super().__init__()
            self.Wa = nn.Linear(hidden_size, hidden_size)
            self.Ua = nn.Linear(hidden_size, hidden_size)
            self.Va = nn.Linear(hidden_size, 1)

        def forward(self, query, keys):
            scores = self.Va(lib.tanh(self.Wa(query) + self.Ua(keys)))
            scores = scores.squeeze(2).unsqueeze(1)
            weights = F.softmax(scores, dim=-1)
            context = lib.bmm(weights, keys)
            return context, weights

    class AttnDecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size, dropout_p=0.1):
            super().__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attention = BahdanauAttention(hidden_size)
            self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            batch_size = encoder_outputs.size(0)
            decoder_input = lib.empty(batch_size, 1, dtype=lib.long).fill_(SOS_token)
            decoder_hidden = encoder_hidden
            decoder_outputs = []
            attentions = []
            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden, attn_weights = self.forward_step(
                    decoder_input, decoder_hidden, encoder_outputs
                )
                decoder_outputs.append(decoder_output)
                attentions.append(attn_weights)
                if target_tensor is not None:
                    decoder_input = target_tensor[:, i].unsqueeze(1)
                else:
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()
            decoder_outputs = lib.cat(decoder_outputs, dim=1)
            decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
            attentions = lib.cat(attentions, dim=1)
            return decoder_outputs, decoder_hidden, attentions

        def forward_step(self, input, hidden, encoder_outputs):
            embedded = self.dropout(self.embedding(input))
            query = hidden.permute(1, 0, 2)
            context, attn_weights = self.attention(query, encoder_outputs)
            input_gru = lib.cat((embedded, context), dim=2)
            output, hidden = self.gru(input_gru, hidden)
            output = self.out(output)
            return output, hidden, attn_weights

    rs = np.random.RandomState(0)
    n = 8
    input_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
    target_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
    for idx in range(n):
        L = rs.randint(2, MAX_LENGTH)
        inp = list(rs.randint(2, 10, size=L - 1)) + [EOS_token]
        tgt = list(rs.randint(2, 12, size=L - 1)) + [EOS_token]
        input_ids[idx, : len(inp)] = inp
        target_ids[idx, : len(tgt)] = tgt
    train_data = lib.utils.data.TensorDataset(lib.LongTensor(input_ids), lib.LongTensor(target_ids))
    lib.manual_seed(0)
    train_dataloader = lib.utils.data.DataLoader(
        train_data, sampler=lib.utils.data.RandomSampler(train_data), batch_size=4
    )
    hidden_size = 10
    encoder = EncoderRNN(10, hidden_size)
    decoder = AttnDecoderRNN(hidden_size, 12) if attention else DecoderRNN(hidden_size, 12)
    if attention:  # the score bias cancels in the softmax: its gradient is rounding noise, which Adam amplifies
        decoder.attention.Va.bias.requires_grad_(False)
    encoder_optimizer = lib.optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = lib.optim.Adam(decoder.parameters(), lr=0.01)
    criterion = nn.NLLLoss()
    record = []
    for _epoch in range(2):
        total_loss = 0
        for data in train_dataloader:
            input_tensor, target_tensor = data
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            decoder_outputs, _, attn = decoder(encoder_outputs, encoder_hidden, target_tensor)
            loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
            loss.backward()
            encoder_optimizer.step()
            decoder_optimizer.step()
            total_loss += loss.item()
            record += [loss, input_tensor, decoder_outputs, encoder.gru.weight_hh_l0.grad]
            if attn is not None:
                record.append(attn)
        record.append(total_loss / len(train_dataloader))
    encoder.eval()
    decoder.eval()
    with lib.no_grad():
        encoder_outputs, encoder_hidden = encoder(lib.LongTensor(input_ids[:3]))
        decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs, encoder_hidden)
        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze()
        words = []
        for row in decoded_ids:
            ws = []
            for idx in row:
                if idx.item() == EOS_token:
                    ws.append("<EOS>")
                    break
                ws.append(str(idx.item()))
            words.append(" ".join(ws))
    record += [decoded_ids, decoder_hidden, decoder_attn] + words
    return record + params(encoder) + params(decoder)


@pytest.mark.parametrize("attention", [False, True])
def test_seq2seq_translation_with_bahdanau_attention_trains_and_decodes_as_torch(attention):
    both(seq2seq_translation, attention, rtol=1e-3, atol=1e-4)
    both_in_float64(seq2seq_translation, attention)


# -- Learning PyTorch with Examples: a polynomial fitted to sin, five ways -------------------------------------


def learning_with_examples(lib, part):
    dtype = lib.get_default_dtype()  # the tutorial's torch.float, float64 under both_in_float64
    lib.manual_seed(0)
    x = lib.linspace(-math.pi, math.pi, 200, dtype=dtype)
    y = lib.sin(x)
    record = []
    if part == "tensors":
        a, b, c, d = (lib.randn((), dtype=dtype) for _ in range(4))
        learning_rate = 1e-6
        for t in range(300):
            y_pred = a + b * x + c * x**2 + d * x**3
            loss = (y_pred - y).pow(2).sum().item()
            grad_y_pred = 2.0 * (y_pred - y)
            grad_a = grad_y_pred.sum()
            grad_b = (grad_y_pred * x).sum()
            grad_c = (grad_y_pred * x**2).sum()
            grad_d = (grad_y_pred * x**3).sum()
            a -= learning_rate * grad_a
            b -= learning_rate * grad_b
            c -= learning_rate * grad_c
            d -= learning_rate * grad_d
            if t % 99 == 0:
                record += [loss, a, d]
        record.append(f"Result: y = {a.item():.5f} + {b.item():.5f} x + {c.item():.5f} x^2 + {d.item():.5f} x^3")
        return record + [a, b, c, d]
    if part == "autograd":
        a, b, c, d = (lib.randn((), dtype=dtype, requires_grad=True) for _ in range(4))
        learning_rate = 1e-6
        for t in range(300):
            y_pred = a + b * x + c * x**2 + d * x**3
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                a -= learning_rate * a.grad
                b -= learning_rate * b.grad
                c -= learning_rate * c.grad
                d -= learning_rate * d.grad
                a.grad = None
                b.grad = None
                c.grad = None
                d.grad = None
            if t % 99 == 0:
                record += [loss, a, d, a.is_leaf, a.requires_grad, a.grad is None]
        return record + [a, b, c, d]
    if part == "legendre":

        class LegendrePolynomial3(lib.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return 0.5 * (5 * input**3 - 3 * input)

            @staticmethod
            def backward(ctx, grad_output):
                (input,) = ctx.saved_tensors
                return grad_output * 1.5 * (5 * input**2 - 1)

        a = lib.full((), 0.0, dtype=dtype, requires_grad=True)
        b = lib.full((), -1.0, dtype=dtype, requires_grad=True)
        c = lib.full((), 0.0, dtype=dtype, requires_grad=True)
        d = lib.full((), 0.3, dtype=dtype, requires_grad=True)
        learning_rate = 5e-6
        for t in range(300):
            P3 = LegendrePolynomial3.apply
            y_pred = a + b * P3(c + d * x)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                a -= learning_rate * a.grad
                b -= learning_rate * b.grad
                c -= learning_rate * c.grad
                d -= learning_rate * d.grad
                a.grad = None
                b.grad = None
                c.grad = None
                d.grad = None
            if t % 99 == 0:
                record += [loss, type(y_pred.grad_fn).__name__, type(P3(c + d * x).grad_fn).__name__]
        xx = (c + d * x)[:5].detach().double().requires_grad_()
        record.append(lib.autograd.gradcheck(LegendrePolynomial3.apply, (xx,)))
        return record + [a, b, c, d]
    if part == "nn":
        p = lib.tensor([1, 2, 3])
        xx = x.unsqueeze(-1).pow(p)
        record += [xx, p.dtype]
        model = lib.nn.Sequential(lib.nn.Linear(3, 1), lib.nn.Flatten(0, 1))
        loss_fn = lib.nn.MSELoss(reduction="sum")
        learning_rate = 1e-6
        for t in range(300):
            y_pred = model(xx)
            loss = loss_fn(y_pred, y)
            model.zero_grad()
            loss.backward()
            with lib.no_grad():
                for param in model.parameters():
                    param -= learning_rate * param.grad
            if t % 99 == 0:
                record += [loss, y_pred]
        linear_layer = model[0]
        record.append(
            f"Result: y = {linear_layer.bias.item():.5f} + {linear_layer.weight[:, 0].item():.5f} x + "
            f"{linear_layer.weight[:, 1].item():.5f} x^2 + {linear_layer.weight[:, 2].item():.5f} x^3"
        )
        # optim
        model = lib.nn.Sequential(lib.nn.Linear(3, 1), lib.nn.Flatten(0, 1))
        optimizer = lib.optim.RMSprop(model.parameters(), lr=1e-3)
        for t in range(300):
            loss = loss_fn(model(xx), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if t % 99 == 0:
                record.append(loss)
        return record + params(model)
    if part == "custom":

        class Polynomial3(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Parameter(lib.randn(()))
                self.b = lib.nn.Parameter(lib.randn(()))
                self.c = lib.nn.Parameter(lib.randn(()))
                self.d = lib.nn.Parameter(lib.randn(()))

            def forward(self, x):
                return self.a + self.b * x + self.c * x**2 + self.d * x**3

            def string(self):
                return f"y = {self.a.item():.5f} + {self.b.item():.5f} x + {self.c.item():.5f} x^2 + {self.d.item():.5f} x^3"

        model = Polynomial3()
        criterion = lib.nn.MSELoss(reduction="sum")
        optimizer = lib.optim.SGD(model.parameters(), lr=1e-6)
        for t in range(300):
            loss = criterion(model(x), y)
            if t % 99 == 0:
                record.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        record.append(model.string())

        class DynamicNet(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Parameter(lib.randn(()))
                self.b = lib.nn.Parameter(lib.randn(()))
                self.c = lib.nn.Parameter(lib.randn(()))
                self.d = lib.nn.Parameter(lib.randn(()))
                self.e = lib.nn.Parameter(lib.randn(()))

            def forward(self, x):
                y = self.a + self.b * x + self.c * x**2 + self.d * x**3
                for exp in range(4, rng.randint(4, 6)):
                    y = y + self.e * x**exp
                return y

        rng = random.Random(0)
        model = DynamicNet()
        optimizer = lib.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
        for t in range(300):
            loss = criterion(model(x), y)
            if t % 99 == 0:
                record.append(loss)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return record + params(model)


@pytest.mark.parametrize("part", ["tensors", "autograd", "legendre", "nn", "custom"])
def test_learning_pytorch_with_examples_fits_as_torch(part):
    both(learning_with_examples, part, rtol=1e-3, atol=1e-4)
    both_in_float64(learning_with_examples, part)


# -- What is torch.nn really? ---------------------------------------------------------------------------------


def nn_really(lib, stage):
    nn, F, optim = lib.nn, lib.nn.functional, lib.optim
    TensorDataset, DataLoader = lib.utils.data.TensorDataset, lib.utils.data.DataLoader
    rs = np.random.RandomState(0)
    x_train_np = rs.rand(64, 784).astype(np.float32)
    y_train_np = rs.randint(0, 10, 64).astype(np.int64)
    x_valid_np = rs.rand(32, 784).astype(np.float32)
    y_valid_np = rs.randint(0, 10, 32).astype(np.int64)
    x_train, y_train, x_valid, y_valid = map(lib.tensor, (x_train_np, y_train_np, x_valid_np, y_valid_np))
    x_train, x_valid = x_train.to(lib.get_default_dtype()), x_valid.to(lib.get_default_dtype())
    n, c = x_train.shape
    record = [x_train.dtype, y_train.dtype, y_train.min(), y_train.max()]
    bs, lr, epochs = 16, 0.5, 2
    lib.manual_seed(0)

    def accuracy(out, yb):
        preds = lib.argmax(out, dim=1)
        return (preds == yb).float().mean()

    if stage == "scratch":
        weights = lib.randn(784, 10) / math.sqrt(784)
        weights.requires_grad_()
        bias = lib.zeros(10, requires_grad=True)

        def log_softmax(x):
            return x - x.exp().sum(-1).log().unsqueeze(-1)

        def model(xb):
            return log_softmax(xb @ weights + bias)

        def nll(input, target):
            return -input[range(target.shape[0]), target].mean()

        loss_func = nll
        preds = model(x_train[0:bs])
        record += [preds[0], preds.shape, loss_func(preds, y_train[0:bs]), accuracy(preds, y_train[0:bs])]
        for _epoch in range(epochs):
            for i in range((n - 1) // bs + 1):
                start_i = i * bs
                end_i = start_i + bs
                xb = x_train[start_i:end_i]
                yb = y_train[start_i:end_i]
                pred = model(xb)
                loss = loss_func(pred, yb)
                loss.backward()
                with lib.no_grad():
                    weights -= weights.grad * lr
                    bias -= bias.grad * lr
                    weights.grad.zero_()
                    bias.grad.zero_()
                record.append(loss)
        record += [loss_func(model(xb), yb), accuracy(model(xb), yb), F.cross_entropy(xb @ weights + bias, yb)]
        return record + [weights, bias]

    if stage == "module":

        class Mnist_Logistic(nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = nn.Parameter(lib.randn(784, 10) / math.sqrt(784))
                self.bias = nn.Parameter(lib.zeros(10))

            def forward(self, xb):
                return xb @ self.weights + self.bias

        class Mnist_Logistic2(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(784, 10)

            def forward(self, xb):
                return self.lin(xb)

        loss_func = F.cross_entropy
        for Model in (Mnist_Logistic, Mnist_Logistic2):
            model = Model()
            record.append(loss_func(model(x_train[0:bs]), y_train[0:bs]))
            for _epoch in range(epochs):
                for i in range((n - 1) // bs + 1):
                    xb, yb = x_train[i * bs : i * bs + bs], y_train[i * bs : i * bs + bs]
                    loss = loss_func(model(xb), yb)
                    loss.backward()
                    with lib.no_grad():
                        for p in model.parameters():
                            p -= p.grad * lr
                        model.zero_grad()
            record.append(loss_func(model(xb), yb))
            record += params(model)
            opt = optim.SGD(model.parameters(), lr=lr)
            train_ds = TensorDataset(x_train, y_train)
            train_dl = DataLoader(train_ds, batch_size=bs, shuffle=True)
            for _epoch in range(epochs):
                for xb, yb in train_dl:
                    loss = loss_func(model(xb), yb)
                    loss.backward()
                    opt.step()
                    opt.zero_grad()
                    record.append(loss)
        return record + params(model)

    # fit/loss_batch with a CNN, Lambda, WrappedDataLoader
    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
        for _epoch in range(epochs):
            model.train()
            for xb, yb in train_dl:
                loss_batch(model, loss_func, xb, yb, opt)
            model.eval()
            with lib.no_grad():
                losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
            val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
            record.append(val_loss)

    def get_data(train_ds, valid_ds, bs):
        return (DataLoader(train_ds, batch_size=bs, shuffle=True), DataLoader(valid_ds, batch_size=bs * 2))

    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    class WrappedDataLoader:
        def __init__(self, dl, func):
            self.dl = dl
            self.func = func

        def __len__(self):
            return len(self.dl)

        def __iter__(self):
            for b in self.dl:
                yield (self.func(*b))

    class Mnist_CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(4, 4, kernel_size=3, stride=2, padding=1)
            self.conv3 = nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1)

        def forward(self, xb):
            xb = xb.view(-1, 1, 28, 28)
            xb = F.relu(self.conv1(xb))
            xb = F.relu(self.conv2(xb))
            xb = F.relu(self.conv3(xb))
            xb = F.avg_pool2d(xb, 4)
            return xb.view(-1, xb.size(1))

    train_ds, valid_ds = TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid)
    loss_func = F.cross_entropy
    model = Mnist_CNN()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    record += params(model)

    def preprocess(x, y):
        return x.view(-1, 1, 28, 28), y

    train_dl = WrappedDataLoader(train_dl, preprocess)
    valid_dl = WrappedDataLoader(valid_dl, preprocess)
    model = nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    record.append(len(valid_dl))
    record.append(repr(model).replace(lib.__name__, "lib"))
    return record + params(model)


@pytest.mark.parametrize("stage", ["scratch", "module", "cnn"])
def test_what_is_torch_nn_really_trains_as_torch(stage):
    both(nn_really, stage, rtol=1e-3, atol=1e-4)
    both_in_float64(nn_really, stage)


# -- The Parametrizations tutorial ---------------------------------------------------------------------------


def parametrizations_tutorial(lib):
    nn, parametrize = lib.nn, lib.nn.utils.parametrize
    record = []

    def symmetric(X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    class Skew(nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.transpose(-1, -2)

    class MatrixExponential(nn.Module):
        def forward(self, X):
            return lib.matrix_exp(X)

    class CayleyMap(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.register_buffer("Id", lib.eye(n))

        def forward(self, X):
            return lib.linalg.solve(self.Id - X, self.Id + X)

    class NotATensor(nn.Module):
        def forward(self, X):
            return X.tolist()

    class NoiseParametrization(nn.Module):
        def __init__(self, std, dim):
            super().__init__()
            self.std, self.dim = std, dim

        def forward(self, X):
            return X + self.std * lib.eye(X.size(self.dim), dtype=X.dtype)

    lib.manual_seed(0)
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    A = layer.weight
    record += [A, lib.allclose(A, A.T), parametrize.is_parametrized(layer), parametrize.is_parametrized(layer, "bias")]
    record += [repr(layer).replace(lib.__name__, "lib"), " ".join(layer.state_dict()), type(layer).__name__]
    record += [layer.parametrizations.weight.original, " ".join(n for n, _ in layer.named_parameters())]

    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Skew())
    X = layer.weight
    record += [X, lib.dist(X, -X.T) < 1e-6]

    layer_orthogonal = nn.Linear(3, 3)
    parametrize.register_parametrization(layer_orthogonal, "weight", Skew())
    parametrize.register_parametrization(layer_orthogonal, "weight", CayleyMap(3))
    X = layer_orthogonal.weight
    record += [X, lib.dist(X.T @ X, lib.eye(3)), " ".join(layer_orthogonal.state_dict())]
    record += [repr(layer_orthogonal.parametrizations.weight).replace(lib.__name__, "lib")]

    layer_spd = nn.Linear(3, 3)
    parametrize.register_parametrization(layer_spd, "weight", Symmetric())
    parametrize.register_parametrization(layer_spd, "weight", MatrixExponential())
    X = layer_spd.weight
    record += [X, lib.dist(X, X.T), (lib.linalg.eigvalsh(X) > 0.0).all()]

    # caching
    class Counting(nn.Module):
        calls = 0

        def forward(self, X):
            Counting.calls += 1
            return X.triu() + X.triu(1).transpose(-1, -2)

    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Counting())
    with parametrize.cached():
        foo = layer.weight + layer.weight.T
        bar = layer.weight.sum()
    record += [Counting.calls, foo, bar]

    # concatenating / right_inverse
    class CayleyMapInv(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.register_buffer("Id", lib.eye(n))

        def forward(self, X):
            return lib.linalg.solve(self.Id + X, self.Id - X)

        def right_inverse(self, A):
            return lib.linalg.solve(A + self.Id, self.Id - A)

    class Skew2(nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu(1)

    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Skew())
    parametrize.register_parametrization(layer, "weight", CayleyMapInv(3))
    try:
        layer.weight = lib.eye(3)
    except RuntimeError as e:
        record.append(str(e))
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Skew2())
    parametrize.register_parametrization(layer, "weight", CayleyMapInv(3))
    X = lib.rand(3, 3)
    X = X - X.T
    Q = lib.linalg.solve(lib.eye(3) + X, lib.eye(3) - X)  # an orthogonal matrix
    layer.weight = Q
    record += [layer.weight, lib.dist(layer.weight, Q), layer.parametrizations.weight.original]

    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Skew2())
    with lib.no_grad():
        layer.weight = lib.tensor([[0.0, 1.0, 2.0], [-1.0, 0.0, 3.0], [-2.0, -3.0, 0.0]])
    record += [layer.parametrizations.weight.original, layer.weight]
    try:
        layer.weight = lib.ones(3, 3) * 2  # not skew: right_inverse of Skew2 drops the lower triangle
        record.append(layer.weight)
    except Exception as e:
        record.append(type(e).__name__)

    # remove
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", NoiseParametrization(0.5, 0))
    before = layer.weight
    parametrize.remove_parametrizations(layer, "weight")
    record += [before, layer.weight, type(layer).__name__, " ".join(layer.state_dict())]
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    orig = layer.parametrizations.weight.original.detach().clone()
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    record += [layer.weight, orig]

    # training a symmetric layer with the original's gradient
    model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    parametrize.register_parametrization(model[0], "weight", Symmetric())
    lib.nn.utils.parametrizations.orthogonal(model[2], orthogonal_map="matrix_exp")
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = lib.randn(8, 4), lib.randn(8, 2)
    for _ in range(3):
        with parametrize.cached():
            loss = lib.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        record += [loss, model[0].parametrizations.weight.original.grad, model[0].weight]
        record += [model[2].weight @ model[2].weight.T]
    record.append(" ".join(model.state_dict()))
    # the whole model cannot be pickled: it is saved through its state_dict
    try:
        lib.save(model, io.BytesIO())
    except RuntimeError as error:
        record.append(str(error))
    buffer = io.BytesIO()
    lib.save(model.state_dict(), buffer)
    buffer.seek(0)
    restored = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    parametrize.register_parametrization(restored[0], "weight", Symmetric())
    lib.nn.utils.parametrizations.orthogonal(restored[2], orthogonal_map="matrix_exp")
    restored.load_state_dict(lib.load(buffer, weights_only=True))
    record += [restored(x), type(copy.deepcopy(restored)[2]).__name__, copy.deepcopy(restored)[2].weight]
    try:
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", NotATensor())
    except ValueError as error:
        record.append(str(error))
    return record + params(model)


def test_parametrizations_tutorial_runs_as_torch():
    both(parametrizations_tutorial, rtol=1e-4, atol=1e-5)
    both_in_float64(parametrizations_tutorial, rtol=1e-7, atol=1e-9)


# -- Forward-mode automatic differentiation ------------------------------------------------------------------


def forward_mode_ad(lib):
    fwAD, nn, F = lib.autograd.forward_ad, lib.nn, lib.nn.functional
    record = []
    lib.manual_seed(0)
    primal = lib.randn(10, 10)
    tangent = lib.randn(10, 10)

    def fn(x, y):
        return x**2 + y**2

    with fwAD.dual_level():
        dual_input = fwAD.make_dual(primal, tangent)
        record += [fwAD.unpack_dual(dual_input).tangent is tangent]
        dual_input_alt = fwAD.make_dual(primal, tangent.T)
        record += [fwAD.unpack_dual(dual_input_alt).tangent is tangent.T]
        plain_tensor = lib.randn(10, 10)
        dual_output = fn(dual_input, plain_tensor)
        jvp = fwAD.unpack_dual(dual_output).tangent
        record += [
            jvp,
            fwAD.unpack_dual(dual_output).primal,
            fwAD.unpack_dual(dual_output)[1],
            fwAD.unpack_dual(plain_tensor).tangent,
        ]
        record += [type(fwAD.unpack_dual(dual_output)).__name__, " ".join(fwAD.unpack_dual(dual_output)._fields)]
    record += [fwAD.unpack_dual(dual_output).tangent]

    model = nn.Linear(5, 5)
    input = lib.randn(16, 5)
    params_ = {name: p for name, p in model.named_parameters()}
    tangents = {name: lib.rand_like(p) for name, p in params_.items()}
    with fwAD.dual_level():
        for name, p in params_.items():
            delattr(model, name)
            setattr(model, name, fwAD.make_dual(p, tangents[name]))
        out = model(input)
        jvp = fwAD.unpack_dual(out).tangent
        record += [out.detach(), jvp]

    from_func = lib.func.functional_call
    model = nn.Linear(5, 5)
    dual_params = {}
    with fwAD.dual_level():
        for name, p in params_.items():
            dual_params[name] = fwAD.make_dual(p, tangents[name])
        out = from_func(model, dual_params, input)
        jvp = fwAD.unpack_dual(out).tangent
        record += [jvp]

    class Fn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, foo):
            result = lib.exp(foo)
            ctx.result = result
            return result

        @staticmethod
        def jvp(ctx, gI):
            gO = gI * ctx.result
            del ctx.result
            return gO

    fn2 = Fn.apply
    primal = lib.randn(10, 10, dtype=lib.double, requires_grad=True)
    tangent = lib.randn(10, 10)
    with fwAD.dual_level():
        dual_input = fwAD.make_dual(primal, tangent)
        dual_output = fn2(dual_input)
        jvp = fwAD.unpack_dual(dual_output).tangent
        record += [jvp, dual_output.dtype, jvp.dtype]
    record.append(
        lib.autograd.gradcheck(
            Fn.apply,
            (primal,),
            check_forward_ad=True,
            check_backward_ad=False,
            check_undefined_grad=False,
            check_batched_grad=False,
        )
    )

    # functorch's jvp
    from_jvp = lib.func.jvp
    x, t = lib.randn(10), lib.randn(10)

    def f(x):
        return x * lib.tensor([1.0, 2.0, 3.0] * 3 + [4.0])

    primal_out, tangent_out = from_jvp(f, (x,), (t,))
    record += [primal_out, tangent_out]
    model = nn.Linear(5, 5)
    func, p = lib.func.functional_call, dict(model.named_parameters())

    def func_params_only(p):
        return func(model, p, input)

    _, jvp_out = from_jvp(func_params_only, (p,), (tangents,))
    record.append(jvp_out)
    # jacfwd vs jacrev vs forward-AD through a small MLP with tanh
    mlp = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = lib.randn(3)
    record += [lib.func.jacfwd(mlp)(x), lib.func.jacrev(mlp)(x)]
    with fwAD.dual_level():
        cols = []
        for i in range(3):
            out = mlp(fwAD.make_dual(x, lib.eye(3)[i]))
            cols.append(fwAD.unpack_dual(out).tangent)
        record.append(lib.stack(cols, dim=1))
        # ops the tutorial's models use, in forward mode
        d = fwAD.make_dual(lib.randn(4, 6), lib.randn(4, 6))
        for op in (F.softmax, F.log_softmax):
            record.append(fwAD.unpack_dual(op(d, dim=-1)).tangent)
        record.append(fwAD.unpack_dual(F.layer_norm(d, (6,))).tangent)
        record.append(fwAD.unpack_dual(F.gelu(d)).tangent)
        record.append(fwAD.unpack_dual(d.sum(0)).tangent)
        record.append(fwAD.unpack_dual(d @ d.T).tangent)
    return record


def test_forward_mode_ad_tutorial_runs_as_torch():
    both(forward_mode_ad)
    both_in_float64(forward_mode_ad)


# -- Recipes: warm-starting, checkpoints, zeroing gradients, autograd mechanics ------------------------------


def recipes(lib, which):
    nn, F, optim = lib.nn, lib.nn.functional, lib.optim
    record = []
    lib.manual_seed(0)

    class NetA(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 12)
            self.fc2 = nn.Linear(12, 8)
            self.fc3 = nn.Linear(8, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    class NetB(NetA):
        def __init__(self):
            super().__init__()
            del self.fc3
            self.fc_out = nn.Linear(8, 4)
            self.bn = nn.BatchNorm1d(8)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            return self.fc_out(self.bn(F.relu(self.fc2(x))))

    def show(v):
        return repr(v).replace(lib.__name__, "lib")

    if which == "warmstart":
        netA = NetA()
        netB = NetB()
        buffer = io.BytesIO()
        lib.save(netA.state_dict(), buffer)
        buffer.seek(0)
        result = netB.load_state_dict(lib.load(buffer, weights_only=True), strict=False)
        record += [show(result), " ".join(result.missing_keys), " ".join(result.unexpected_keys), bool(result)]
        record += [type(result).__name__, len(result), show(tuple(result))]
        record += [netB.conv1.weight, netB.fc_out.weight]
        # a layer of another shape is an error even with strict=False
        sd = netA.state_dict()
        sd["fc2.weight"] = lib.zeros(7, 12)
        try:
            netB.load_state_dict(sd, strict=False)
        except RuntimeError as e:
            record.append(str(e).replace(lib.__name__, "lib"))
        try:
            netB.load_state_dict(netA.state_dict())
        except RuntimeError as e:
            record.append(str(e).replace(lib.__name__, "lib"))
        # renamed keys, loaded into a submodule
        renamed = {k.replace("fc", "head."): v for k, v in netA.state_dict().items()}
        r2 = netB.load_state_dict(renamed, strict=False)
        record += [show(r2), show(netA.load_state_dict(netA.state_dict()))]
        # fine tune with the transferred layers frozen
        for name, p in netB.named_parameters():
            if name.startswith("conv"):
                p.requires_grad_(False)
        opt = optim.SGD(filter(lambda p: p.requires_grad, netB.parameters()), lr=0.01, momentum=0.9)
        x, y = lib.randn(4, 3, 32, 32), lib.tensor([0, 1, 2, 3])
        for _ in range(3):
            loss = F.cross_entropy(netB(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            record += [loss, netB.conv1.weight.grad is None, netB.fc1.weight.grad]
        record.append(netB.bn.num_batches_tracked)
        return record + params(netB)

    if which == "checkpoint":
        net = NetA()
        optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
        x, y = lib.randn(4, 3, 32, 32), lib.tensor([0, 1, 2, 3])
        for _ in range(2):
            loss = F.cross_entropy(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        EPOCH, LOSS = 5, 0.4
        buffer = io.BytesIO()
        lib.save(
            {
                "epoch": EPOCH,
                "model_state_dict": net.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "loss": LOSS,
            },
            buffer,
        )
        buffer.seek(0)
        model = NetA()
        opt2 = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
        checkpoint = lib.load(buffer, weights_only=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        opt2.load_state_dict(checkpoint["optimizer_state_dict"])
        epoch, loss = checkpoint["epoch"], checkpoint["loss"]
        record += [epoch, loss, " ".join(checkpoint), show(checkpoint["optimizer_state_dict"]["param_groups"])]
        record += [checkpoint["optimizer_state_dict"]["state"][0]["momentum_buffer"]]
        model.eval()
        record.append(model(x))
        model.train()
        for _ in range(2):
            for m, o in ((model, opt2), (net, optimizer)):
                l = F.cross_entropy(m(x), y)
                o.zero_grad()
                l.backward()
                o.step()
                record.append(l)
        record += [show(opt2.state_dict()["param_groups"])]
        # several models in one file: a GAN's two networks and their optimizers
        netB = NetB()
        optimizerB = optim.SGD(netB.parameters(), lr=0.01, momentum=0.5, nesterov=True)
        F.cross_entropy(netB(x), y).backward()
        optimizerB.step()
        buffer = io.BytesIO()
        lib.save({"modelA_state_dict": net.state_dict(), "modelB_state_dict": netB.state_dict(),
                  "optimizerA_state_dict": optimizer.state_dict(), "optimizerB_state_dict": optimizerB.state_dict()},
                 buffer)  # fmt: skip
        buffer.seek(0)
        checkpoint = lib.load(buffer, weights_only=True)
        modelA, modelB = NetA(), NetB()
        optimizerA = optim.SGD(modelA.parameters(), lr=0.001, momentum=0.9)
        optimizerB = optim.SGD(modelB.parameters(), lr=0.01, momentum=0.5, nesterov=True)
        modelA.load_state_dict(checkpoint["modelA_state_dict"])
        modelB.load_state_dict(checkpoint["modelB_state_dict"])
        optimizerA.load_state_dict(checkpoint["optimizerA_state_dict"])
        optimizerB.load_state_dict(checkpoint["optimizerB_state_dict"])
        modelA.eval()
        modelB.train()
        loss = F.cross_entropy(modelB(x), y)
        optimizerB.zero_grad()
        loss.backward()
        optimizerB.step()
        record += [modelA(x), loss, optimizerB.state_dict()["state"][0]["momentum_buffer"], modelB.bn.running_mean]
        return record + params(model) + params(net) + params(modelB)

    if which == "zeroing":
        net = NetA()
        optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
        criterion = nn.CrossEntropyLoss()
        x, y = lib.randn(4, 3, 32, 32), lib.tensor([0, 1, 2, 3])
        record.append(net.conv1.weight.grad is None)
        for _i in range(3):
            optimizer.zero_grad()
            record.append(net.conv1.weight.grad is None)
            loss = criterion(net(x), y)
            loss.backward()
            record.append(net.conv1.bias.grad)
        optimizer.zero_grad(set_to_none=False)
        record += [net.conv1.bias.grad, net.conv1.bias.grad.requires_grad]
        loss = criterion(net(x), y)
        loss.backward()
        loss = criterion(net(x), y)
        loss.backward()
        record.append(net.conv1.bias.grad)  # accumulated twice
        net.zero_grad()
        record.append(net.conv1.bias.grad is None)
        # the grad of a view: zero_grad(set_to_none=False) detaches a grad that has a grad_fn
        w = lib.randn(3, requires_grad=True)
        (w * 2).sum().backward(create_graph=True)
        record += [w.grad.requires_grad, type(w.grad.grad_fn).__name__ if w.grad.grad_fn else None]
        o = optim.SGD([w], lr=0.1)
        o.zero_grad(set_to_none=False)
        record += [w.grad, w.grad.requires_grad, w.grad.grad_fn is None]
        return record + params(net)

    if which == "autograd":
        # autograd mechanics / reproducibility snippets
        x = lib.ones(2, 2, requires_grad=True)
        y = x + 2
        record += [type(y.grad_fn).__name__, y.is_leaf, x.is_leaf, y.requires_grad]
        z = y * y * 3
        out = z.mean()
        y.retain_grad()
        out.backward()
        record += [x.grad, y.grad, z.grad is None, y.retains_grad, x.retains_grad]
        a = lib.randn(2, 2)
        a = (a * 3) / (a - 1)
        record.append(a.requires_grad)
        a.requires_grad_(True)
        record.append(a.requires_grad)
        b = (a * a).sum()
        record.append(type(b.grad_fn).__name__)
        # hooks
        v = lib.tensor([0.0, 0.0, 0.0], requires_grad=True)
        seen = []
        h = v.register_hook(lambda grad: grad * 2)
        v.backward(lib.tensor([1.0, 2.0, 0.0001]))
        record.append(v.grad)
        h.remove()
        v.grad = None
        v.backward(lib.tensor([1.0, 2.0, 0.0001]))
        record.append(v.grad)
        # hooks on a non-leaf, and the order of tensor and post-accumulate hooks
        p = lib.randn(3, requires_grad=True)
        q = p * 2
        q.register_hook(lambda g: seen.append(("q", g.clone())))
        p.register_hook(lambda g: seen.append(("p", g.clone())))
        p.register_post_accumulate_grad_hook(lambda t: seen.append(("acc", t.grad.clone())))
        (q**2).sum().backward()
        record += [s[0] for s in seen] + [s[1] for s in seen]
        # no_grad / enable_grad / set_grad_enabled / inference_mode
        x = lib.randn(3, requires_grad=True)
        with lib.no_grad():
            y = x * 2
            with lib.enable_grad():
                w = x * 2
        record += [y.requires_grad, w.requires_grad]

        @lib.no_grad()
        def doubler(x):
            return x * 2

        record.append(doubler(x).requires_grad)

        @lib.enable_grad()
        def tripler(x):
            return x * 3

        with lib.no_grad():
            record.append(tripler(x).requires_grad)
        is_train = False
        with lib.set_grad_enabled(is_train):
            y = x * 2
        record.append(y.requires_grad)
        lib.set_grad_enabled(True)
        y = x * 2
        record.append(y.requires_grad)
        mode = lib.set_grad_enabled(False)  # a notebook cell's last line shows it
        y = x * 2
        record += [y.requires_grad, show(mode), show(mode.clone()), lib.is_grad_enabled()]
        lib.set_grad_enabled(True)
        record += [lib.inference_mode().mode, lib.inference_mode(False).clone().mode]
        with lib.inference_mode():
            y = x * x
        record += [y.requires_grad, y.is_inference(), x.is_inference()]
        try:
            (y * x).sum().backward()
        except RuntimeError as e:
            record.append(str(e).replace(lib.__name__, "lib"))
        try:
            y.add_(1)
            record.append("inplace ok")
        except RuntimeError as e:
            record.append(str(e))
        with lib.inference_mode(mode=False):
            z = x * 2
        record.append(z.requires_grad)
        # a module's parameters frozen by requires_grad_(False) in eval
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
        model.requires_grad_(False)
        model[2].requires_grad_()
        out = model(lib.randn(5, 3)).sum()
        out.backward()
        record += [model[0].weight.grad is None, model[2].weight.grad, out.requires_grad]
        record.append(type(out.grad_fn).__name__)
        # an error: backward twice
        x = lib.randn(3, requires_grad=True)
        y = (x.exp() * 2).sum()
        y.backward()
        try:
            y.backward()
        except RuntimeError as e:
            record.append(str(e))
        # in-place on a leaf that requires grad
        try:
            x.add_(1)
        except RuntimeError as e:
            record.append(str(e))
        # modified saved tensor
        a = lib.randn(3, requires_grad=True)
        b = a.sigmoid()
        c = (b * 2).sum()
        b.mul_(2)
        try:
            b.sum().backward()
            c.backward()
        except RuntimeError as e:
            record.append(str(e).replace(lib.__name__, "lib"))
        return record


@pytest.mark.parametrize("which", ["warmstart", "checkpoint", "zeroing", "autograd"])
def test_recipes_run_as_torch(which):
    both(recipes, which)
    both_in_float64(recipes, which)
