"""Public programs, round 15: the official PyTorch tutorials, condensed, each run on ember and on torch from
the same seeds, comparing losses, outputs, gradients, predictions and the trained weights.

- "Adversarial Example Generation": FGSM on a LeNet in ``eval`` (``data.requires_grad = True``,
  ``output.max(1, keepdim=True)[1]``, ``data.grad.data.sign()``, ``denorm``/re-``Normalize`` by hand,
  ``clamp(0, 1)``), swept over epsilons, the final accuracy and the adversarial examples as NumPy.
- "Advanced: Making Dynamic Decisions and the Bi-LSTM CRF": the tutorial's unbatched CRF (``argmax`` by
  ``max``/``item``, ``log_sum_exp`` by the max and ``log(sum(exp))``, the forward algorithm over ``full`` of
  -10000 with ``cat`` of per-tag alphas, the gold score from ``cat`` of a ``START`` tag, Viterbi by
  ``item`` loops and backpointers, ``transitions`` constrained in ``.data``), trained by ``SGD`` with decay.
- "Sequence Models and Long Short-Term Memory Networks": the LSTM part-of-speech tagger (``view(len, 1, -1)``,
  ``log_softmax`` tag scores, ``NLLLoss``) and its character-level augmentation (a char LSTM's final hidden
  state ``cat`` to each word embedding).
- "Word Embeddings: Encoding Lexical Semantics": the N-gram language model (``tensor([idx])`` lookups,
  ``view((1, -1))``, ``total_loss += loss.item()``) and CBOW (a summed context ``Embedding``).
- "Text classification with the torchtext library": ``EmbeddingBag`` (``mode='mean'``) over a flat text with
  ``offsets`` from ``cumsum``, ``uniform_`` init and ``bias.data.zero_()``, ``SGD(lr=5)``, ``clip_grad_norm_``,
  ``StepLR(gamma=0.1)`` stepped per epoch, ``argmax(1)`` accuracy, and prediction with ``tensor([0])``.
- "Knowledge Distillation": a teacher in ``eval`` under ``no_grad``; the hidden-representation variant
  (``flatten`` and ``avg_pool1d`` to a common size, ``CosineEmbeddingLoss`` against ``ones``) and the
  regressor variant (a ``Conv2d`` regressor on the student's feature map, ``MSELoss``), mixed with
  ``CrossEntropyLoss`` by weights.
- "Pruning Tutorial": ``random_unstructured`` and ``l1_unstructured`` on a bias by count, iterative
  ``ln_structured`` (the ``PruningContainer`` in ``_forward_pre_hooks`` and its ``_pruning_methods``),
  ``named_parameters``/``named_buffers``/``state_dict`` keys, ``remove``, pruning every layer of a kind in a
  loop, ``global_unstructured`` with sparsities, a custom ``BasePruningMethod`` (``FooBarPruningMethod``) and
  training through the masks.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from public_programs import both, both_in_float64, params

# -- Adversarial Example Generation (FGSM) -------------------------------------------------------------------


def fgsm(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, 1)
            self.conv2 = nn.Conv2d(4, 8, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(8 * 4 * 4, 16)
            self.fc2 = nn.Linear(16, 4)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    def fgsm_attack(image, epsilon, data_grad):
        sign_data_grad = data_grad.sign()
        perturbed_image = image + epsilon * sign_data_grad
        perturbed_image = lib.clamp(perturbed_image, 0, 1)
        return perturbed_image

    def denorm(batch, mean=(0.1307,), std=(0.3081,)):
        mean = lib.tensor(mean).to(batch.device)
        std = lib.tensor(std).to(batch.device)
        return batch * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)

    lib.manual_seed(0)
    model = Net()
    images = (lib.rand(10, 1, 12, 12) - 0.1307) / 0.3081
    targets = lib.randint(0, 4, (10,))
    model.train()
    optimizer = lib.optim.Adadelta(model.parameters(), lr=1.0)
    record = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = F.nll_loss(model(images), targets)
        loss.backward()
        optimizer.step()
        record.append(loss)
    model.eval()

    def test(epsilon):
        correct = 0
        adv_examples = []
        for i in range(len(images)):
            data, target = images[i : i + 1], targets[i : i + 1]
            data.requires_grad = True
            output = model(data)
            init_pred = output.max(1, keepdim=True)[1]
            if init_pred.item() != target.item():
                continue
            loss = F.nll_loss(output, target)
            model.zero_grad()
            loss.backward()
            data_grad = data.grad.data
            data_denorm = denorm(data)
            perturbed_data = fgsm_attack(data_denorm, epsilon, data_grad)
            perturbed_data_normalized = (perturbed_data - 0.1307) / 0.3081
            output = model(perturbed_data_normalized)
            final_pred = output.max(1, keepdim=True)[1]
            if final_pred.item() == target.item():
                correct += 1
                if epsilon == 0 and len(adv_examples) < 2:
                    adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                    adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))
            elif len(adv_examples) < 2:
                adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))
            record.extend([data_grad, output])
        final_acc = correct / float(len(images))
        return final_acc, adv_examples

    for eps in [0, 0.05, 0.1, 0.3]:
        acc, ex = test(eps)
        record.append(acc)
        for init, final, adv in ex:
            record += [init, final, adv]
    return record + params(model)


def test_fgsm_adversarial_examples_as_torch():
    both(fgsm)
    both_in_float64(fgsm)


# -- Advanced: Making Dynamic Decisions and the Bi-LSTM CRF --------------------------------------------------


def bilstm_crf(lib):
    nn = lib.nn
    START_TAG, STOP_TAG = "<START>", "<STOP>"

    def argmax(vec):
        _, idx = lib.max(vec, 1)
        return idx.item()

    def prepare_sequence(seq, to_ix):
        idxs = [to_ix[w] for w in seq]
        return lib.tensor(idxs, dtype=lib.long)

    def log_sum_exp(vec):
        max_score = vec[0, argmax(vec)]
        max_score_broadcast = max_score.view(1, -1).expand(1, vec.size()[1])
        return max_score + lib.log(lib.sum(lib.exp(vec - max_score_broadcast)))

    class BiLSTM_CRF(nn.Module):
        def __init__(self, vocab_size, tag_to_ix, embedding_dim, hidden_dim):
            super().__init__()
            self.embedding_dim = embedding_dim
            self.hidden_dim = hidden_dim
            self.vocab_size = vocab_size
            self.tag_to_ix = tag_to_ix
            self.tagset_size = len(tag_to_ix)
            self.word_embeds = nn.Embedding(vocab_size, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim // 2, num_layers=1, bidirectional=True)
            self.hidden2tag = nn.Linear(hidden_dim, self.tagset_size)
            self.transitions = nn.Parameter(lib.randn(self.tagset_size, self.tagset_size))
            self.transitions.data[tag_to_ix[START_TAG], :] = -10000
            self.transitions.data[:, tag_to_ix[STOP_TAG]] = -10000
            self.hidden = self.init_hidden()

        def init_hidden(self):
            return (lib.randn(2, 1, self.hidden_dim // 2), lib.randn(2, 1, self.hidden_dim // 2))

        def _forward_alg(self, feats):
            init_alphas = lib.full((1, self.tagset_size), -10000.0)
            init_alphas[0][self.tag_to_ix[START_TAG]] = 0.0
            forward_var = init_alphas
            for feat in feats:
                alphas_t = []
                for next_tag in range(self.tagset_size):
                    emit_score = feat[next_tag].view(1, -1).expand(1, self.tagset_size)
                    trans_score = self.transitions[next_tag].view(1, -1)
                    next_tag_var = forward_var + trans_score + emit_score
                    alphas_t.append(log_sum_exp(next_tag_var).view(1))
                forward_var = lib.cat(alphas_t).view(1, -1)
            terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
            return log_sum_exp(terminal_var)

        def _get_lstm_features(self, sentence):
            self.hidden = self.init_hidden()
            embeds = self.word_embeds(sentence).view(len(sentence), 1, -1)
            lstm_out, self.hidden = self.lstm(embeds, self.hidden)
            lstm_out = lstm_out.view(len(sentence), self.hidden_dim)
            return self.hidden2tag(lstm_out)

        def _score_sentence(self, feats, tags):
            score = lib.zeros(1)
            tags = lib.cat([lib.tensor([self.tag_to_ix[START_TAG]], dtype=lib.long), tags])
            for i, feat in enumerate(feats):
                score = score + self.transitions[tags[i + 1], tags[i]] + feat[tags[i + 1]]
            return score + self.transitions[self.tag_to_ix[STOP_TAG], tags[-1]]

        def _viterbi_decode(self, feats):
            backpointers = []
            init_vvars = lib.full((1, self.tagset_size), -10000.0)
            init_vvars[0][self.tag_to_ix[START_TAG]] = 0
            forward_var = init_vvars
            for feat in feats:
                bptrs_t, viterbivars_t = [], []
                for next_tag in range(self.tagset_size):
                    next_tag_var = forward_var + self.transitions[next_tag]
                    best_tag_id = argmax(next_tag_var)
                    bptrs_t.append(best_tag_id)
                    viterbivars_t.append(next_tag_var[0][best_tag_id].view(1))
                forward_var = (lib.cat(viterbivars_t) + feat).view(1, -1)
                backpointers.append(bptrs_t)
            terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
            best_tag_id = argmax(terminal_var)
            path_score = terminal_var[0][best_tag_id]
            best_path = [best_tag_id]
            for bptrs_t in reversed(backpointers):
                best_tag_id = bptrs_t[best_tag_id]
                best_path.append(best_tag_id)
            start = best_path.pop()
            assert start == self.tag_to_ix[START_TAG]
            best_path.reverse()
            return path_score, best_path

        def neg_log_likelihood(self, sentence, tags):
            feats = self._get_lstm_features(sentence)
            forward_score = self._forward_alg(feats)
            gold_score = self._score_sentence(feats, tags)
            return forward_score - gold_score

        def forward(self, sentence):
            lstm_feats = self._get_lstm_features(sentence)
            return self._viterbi_decode(lstm_feats)

    training_data = [
        (
            "the wall street journal reported today that apple corporation made money".split(),
            "B I I I O O O B I O O".split(),
        ),
        ("georgia tech is a university in georgia".split(), "B I O O O O B".split()),
    ]
    word_to_ix = {}
    for sentence, _tags in training_data:
        for word in sentence:
            if word not in word_to_ix:
                word_to_ix[word] = len(word_to_ix)
    tag_to_ix = {"B": 0, "I": 1, "O": 2, START_TAG: 3, STOP_TAG: 4}

    lib.manual_seed(1)
    model = BiLSTM_CRF(len(word_to_ix), tag_to_ix, 5, 4)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, weight_decay=1e-4)
    record = []
    with lib.no_grad():
        precheck_sent = prepare_sequence(training_data[0][0], word_to_ix)
        precheck_tags = lib.tensor([tag_to_ix[t] for t in training_data[0][1]], dtype=lib.long)
        score, path = model(precheck_sent)
        record += [score, " ".join(map(str, path)), precheck_tags]
    for _ in range(3):
        for sentence, tags in training_data:
            model.zero_grad()
            sentence_in = prepare_sequence(sentence, word_to_ix)
            targets = lib.tensor([tag_to_ix[t] for t in tags], dtype=lib.long)
            loss = model.neg_log_likelihood(sentence_in, targets)
            loss.backward()
            optimizer.step()
            record += [loss, model.transitions.grad]
    with lib.no_grad():
        score, path = model(prepare_sequence(training_data[0][0], word_to_ix))
        record += [score, " ".join(map(str, path))]
    return record + params(model)


def test_bilstm_crf_tutorial_trains_and_decodes_as_torch():
    both(bilstm_crf, rtol=1e-3, atol=1e-4)
    both_in_float64(bilstm_crf)


# -- Sequence Models and LSTM: the part-of-speech tagger ----------------------------------------------------

TAGGER_DATA = [
    ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
    ("Everybody read that book".split(), ["NN", "V", "DET", "NN"]),
]


def lstm_tagger(lib, chars):
    nn, F = lib.nn, lib.nn.functional

    def prepare_sequence(seq, to_ix):
        return lib.tensor([to_ix[w] for w in seq], dtype=lib.long)

    word_to_ix, char_to_ix = {}, {}
    for sent, _tags in TAGGER_DATA:
        for word in sent:
            word_to_ix.setdefault(word, len(word_to_ix))
            for c in word:
                char_to_ix.setdefault(c, len(char_to_ix))
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2}

    class LSTMTagger(nn.Module):
        def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size, char_dim=0, char_hidden=0):
            super().__init__()
            self.hidden_dim = hidden_dim
            self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
            if char_dim:
                self.char_embeddings = nn.Embedding(len(char_to_ix), char_dim)
                self.char_lstm = nn.LSTM(char_dim, char_hidden)
            self.lstm = nn.LSTM(embedding_dim + char_hidden, hidden_dim)
            self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

        def forward(self, sentence, words=None):
            embeds = self.word_embeddings(sentence)
            if words is not None:
                char_reps = []
                for word in words:
                    char_embeds = self.char_embeddings(prepare_sequence(word, char_to_ix))
                    _, (h_n, _) = self.char_lstm(char_embeds.view(len(word), 1, -1))
                    char_reps.append(h_n.view(1, -1))
                embeds = lib.cat([embeds, lib.cat(char_reps)], dim=1)
            lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
            tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
            return F.log_softmax(tag_space, dim=1)

    lib.manual_seed(1)
    model = LSTMTagger(6, 6, len(word_to_ix), len(tag_to_ix), *((3, 3) if chars else (0, 0)))
    loss_function = nn.NLLLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
    record = []
    with lib.no_grad():
        inputs = prepare_sequence(TAGGER_DATA[0][0], word_to_ix)
        record.append(model(inputs, TAGGER_DATA[0][0] if chars else None))
    for _ in range(5):
        for sentence, tags in TAGGER_DATA:
            model.zero_grad()
            sentence_in = prepare_sequence(sentence, word_to_ix)
            targets = prepare_sequence(tags, tag_to_ix)
            tag_scores = model(sentence_in, sentence if chars else None)
            loss = loss_function(tag_scores, targets)
            loss.backward()
            optimizer.step()
            record += [loss, model.hidden2tag.weight.grad]
    with lib.no_grad():
        tag_scores = model(prepare_sequence(TAGGER_DATA[0][0], word_to_ix), TAGGER_DATA[0][0] if chars else None)
        record += [tag_scores, tag_scores.argmax(dim=1)]
    return record + params(model)


@pytest.mark.parametrize("chars", [False, True], ids=["words", "with-chars"])
def test_lstm_pos_tagger_trains_as_torch(chars):
    both(lstm_tagger, chars)
    both_in_float64(lstm_tagger, chars)


# -- Word Embeddings: the N-gram language model and CBOW -----------------------------------------------------

SONNET = """When forty winters shall besiege thy brow, And dig deep trenches in thy beauty's field, Thy youth's proud
livery so gazed on now, Will be a totter'd weed of small worth held: Then being asked, where all thy beauty
lies""".split()


def ngram_language_model(lib):
    nn, F = lib.nn, lib.nn.functional
    CONTEXT_SIZE, EMBEDDING_DIM = 2, 6
    ngrams = [([SONNET[i - j - 1] for j in range(CONTEXT_SIZE)], SONNET[i]) for i in range(CONTEXT_SIZE, len(SONNET))]
    vocab = sorted(set(SONNET))
    word_to_ix = {word: i for i, word in enumerate(vocab)}

    class NGramLanguageModeler(nn.Module):
        def __init__(self, vocab_size, embedding_dim, context_size):
            super().__init__()
            self.embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.linear1 = nn.Linear(context_size * embedding_dim, 16)
            self.linear2 = nn.Linear(16, vocab_size)

        def forward(self, inputs):
            embeds = self.embeddings(inputs).view((1, -1))
            out = F.relu(self.linear1(embeds))
            out = self.linear2(out)
            return F.log_softmax(out, dim=1)

    lib.manual_seed(1)
    losses = []
    loss_function = nn.NLLLoss()
    model = NGramLanguageModeler(len(vocab), EMBEDDING_DIM, CONTEXT_SIZE)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(3):
        total_loss = 0
        for context, target in ngrams:
            context_idxs = lib.tensor([word_to_ix[w] for w in context], dtype=lib.long)
            model.zero_grad()
            log_probs = model(context_idxs)
            loss = loss_function(log_probs, lib.tensor([word_to_ix[target]], dtype=lib.long))
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        losses.append(total_loss)
    return losses + [model.embeddings.weight[word_to_ix["beauty"]]] + params(model)


def cbow(lib):
    nn, F = lib.nn, lib.nn.functional
    CONTEXT_SIZE = 2
    vocab = sorted(set(SONNET))
    word_to_ix = {word: i for i, word in enumerate(vocab)}
    data = []
    for i in range(CONTEXT_SIZE, len(SONNET) - CONTEXT_SIZE):
        context = [SONNET[i - j - 1] for j in range(CONTEXT_SIZE)] + [SONNET[i + j + 1] for j in range(CONTEXT_SIZE)]
        data.append((context, SONNET[i]))

    class CBOW(nn.Module):
        def __init__(self, vocab_size, embedding_dim):
            super().__init__()
            self.embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.linear = nn.Linear(embedding_dim, vocab_size)

        def forward(self, inputs):
            embeds = self.embeddings(inputs).sum(dim=0, keepdim=True)
            return F.log_softmax(self.linear(embeds), dim=-1)

    def make_context_vector(context, word_to_ix):
        idxs = [word_to_ix[w] for w in context]
        return lib.tensor(idxs, dtype=lib.long)

    lib.manual_seed(1)
    model = CBOW(len(vocab), 5)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.05)
    loss_function = nn.NLLLoss()
    record = []
    for _ in range(3):
        total_loss = lib.tensor(0.0)
        for context, target in data:
            model.zero_grad()
            log_probs = model(make_context_vector(context, word_to_ix))
            loss = loss_function(log_probs, lib.tensor([word_to_ix[target]]))
            loss.backward()
            optimizer.step()
            total_loss += loss.detach()
        record.append(total_loss)
    return record + params(model)


@pytest.mark.parametrize("program", [ngram_language_model, cbow], ids=["ngram", "cbow"])
def test_word_embedding_language_models_train_as_torch(program):
    both(program, rtol=1e-3, atol=1e-5)
    both_in_float64(program)


# -- Text classification with EmbeddingBag -------------------------------------------------------------------


def text_classification(lib):
    nn = lib.nn
    rng = np.random.default_rng(0)
    vocab_size, num_class = 30, 4
    dataset = [
        (int(rng.integers(0, num_class)), rng.integers(0, vocab_size, int(rng.integers(2, 9))).tolist())
        for _ in range(24)
    ]

    class TextClassificationModel(nn.Module):
        def __init__(self, vocab_size, embed_dim, num_class):
            super().__init__()
            self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
            self.fc = nn.Linear(embed_dim, num_class)
            self.init_weights()

        def init_weights(self):
            initrange = 0.5
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.fc.weight.data.uniform_(-initrange, initrange)
            self.fc.bias.data.zero_()

        def forward(self, text, offsets):
            embedded = self.embedding(text, offsets)
            return self.fc(embedded)

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(_label)
            processed_text = lib.tensor(_text, dtype=lib.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = lib.tensor(label_list, dtype=lib.int64)
        offsets = lib.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = lib.cat(text_list)
        return label_list, text_list, offsets

    lib.manual_seed(0)
    model = TextClassificationModel(vocab_size, 8, num_class)
    criterion = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=5)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    train, valid = dataset[:18], dataset[18:]
    loader = lib.utils.data.DataLoader(train, batch_size=6, shuffle=True, collate_fn=collate_batch)
    record = []
    total_accu = None
    for _ in range(3):
        model.train()
        total_acc, total_count = 0, 0
        for label, text, offsets in loader:
            optimizer.zero_grad()
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
            record += [offsets, loss, model.embedding.weight.grad]
        model.eval()
        with lib.no_grad():
            label, text, offsets = collate_batch(valid)
            predicted_label = model(text, offsets)
            accu_val = (predicted_label.argmax(1) == label).sum().item() / label.size(0)
        if total_accu is not None and total_accu > accu_val:
            scheduler.step()
        else:
            total_accu = accu_val
        record += [total_acc / total_count, accu_val, scheduler.get_last_lr()[0]]
    with lib.no_grad():
        text = lib.tensor([3, 1, 4, 1, 5])
        output = model(text, lib.tensor([0]))
        record += [output, output.argmax(1).item() + 1]
    return record + params(model)


def test_embedding_bag_text_classification_trains_as_torch():
    both(text_classification)
    both_in_float64(text_classification)


# -- Knowledge Distillation: hidden representations and feature-map regressors --------------------------------


def knowledge_distillation(lib, variant):
    nn, F = lib.nn, lib.nn.functional

    class DeepNN(nn.Module):
        def __init__(self, num_classes=4):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, kernel_size=3, padding=1), nn.ReLU(),
                nn.Conv2d(8, 8, kernel_size=3, padding=1), nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
            )  # fmt: skip
            self.classifier = nn.Sequential(
                nn.Linear(8 * 4 * 4, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, num_classes)
            )

        def forward(self, x):
            x = self.features(x)
            if variant == "regressor":
                return self.classifier(lib.flatten(x, 1)), x
            flattened_conv_output = lib.flatten(x, 1)
            x = self.classifier(flattened_conv_output)
            flattened_conv_output_after_pooling = F.avg_pool1d(flattened_conv_output, 2)
            return x, flattened_conv_output_after_pooling

    class LightNN(nn.Module):
        def __init__(self, num_classes=4):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 4, kernel_size=3, padding=1), nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
            )  # fmt: skip
            self.regressor = nn.Sequential(nn.Conv2d(4, 8, kernel_size=3, padding=1))
            self.classifier = nn.Sequential(
                nn.Linear(4 * 4 * 4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, num_classes)
            )

        def forward(self, x):
            x = self.features(x)
            if variant == "regressor":
                regressor_output = self.regressor(x)
                regressor_output = F.max_pool2d(regressor_output, 1)
                return self.classifier(lib.flatten(x, 1)), regressor_output
            flattened_conv_output = lib.flatten(x, 1)
            return self.classifier(flattened_conv_output), flattened_conv_output

    lib.manual_seed(42)
    teacher, student = DeepNN(), LightNN()
    images, labels = lib.randn(6, 3, 8, 8), lib.randint(0, 4, (6,))
    ce_loss = nn.CrossEntropyLoss()
    hidden_loss = nn.CosineEmbeddingLoss() if variant == "cosine" else nn.MSELoss()
    optimizer = lib.optim.Adam(student.parameters(), lr=0.001)
    teacher.eval()
    student.train()
    record = []
    for _ in range(4):
        optimizer.zero_grad()
        with lib.no_grad():
            _, teacher_hidden = teacher(images)
        student_logits, student_hidden = student(images)
        if variant == "cosine":
            loss_h = hidden_loss(student_hidden, teacher_hidden, target=lib.ones(images.size(0)))
        else:
            loss_h = hidden_loss(student_hidden, teacher_hidden)
        label_loss = ce_loss(student_logits, labels)
        loss = 0.25 * loss_h + 0.75 * label_loss
        loss.backward()
        optimizer.step()
        record += [loss_h, label_loss, student.features[0].weight.grad]
    student.eval()
    with lib.no_grad():
        outputs, _ = student(images)
        _, predicted = lib.max(outputs.data, 1)
        record += [outputs, (predicted == labels).sum().item() / labels.size(0) * 100]
    return record + params(student)


@pytest.mark.parametrize("variant", ["cosine", "regressor"])
def test_knowledge_distillation_hidden_losses_train_as_torch(variant):
    both(knowledge_distillation, variant)
    both_in_float64(knowledge_distillation, variant)


# -- Pruning Tutorial ----------------------------------------------------------------------------------------


def pruning(lib):
    nn, F = lib.nn, lib.nn.functional
    prune = importlib.import_module(f"{lib.__name__}.nn.utils.prune")

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3)
            self.conv2 = nn.Conv2d(6, 8, 3)
            self.fc1 = nn.Linear(8 * 2 * 2, 12)
            self.fc2 = nn.Linear(12, 8)
            self.fc3 = nn.Linear(8, 4)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, int(x.nelement() / x.shape[0]))
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    class FooBarPruningMethod(prune.BasePruningMethod):
        """Prune every other entry in a tensor"""

        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    def foobar_unstructured(module, name):
        FooBarPruningMethod.apply(module, name)
        return module

    def names(pairs):
        return " ".join(name for name, _ in pairs)

    lib.manual_seed(0)
    model = LeNet()
    module = model.conv1
    record = [names(module.named_parameters()), names(module.named_buffers())]
    prune.random_unstructured(module, name="weight", amount=0.3)
    record += [names(module.named_parameters()), names(module.named_buffers()), module.weight_mask, module.weight]
    record += [" ".join(type(h).__name__ for h in module._forward_pre_hooks.values())]
    prune.l1_unstructured(module, name="bias", amount=3)
    record += [names(module.named_buffers()), module.bias_mask, module.bias, len(module._forward_pre_hooks)]
    prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
    record.append(module.weight)
    for hook in module._forward_pre_hooks.values():
        if hook._tensor_name == "weight":
            break
    record += [type(hook).__name__, " ".join(type(m).__name__ for m in hook), list(hook)[-1].dim]
    record.append(" ".join(model.state_dict().keys()))
    prune.remove(module, "weight")
    record += [names(module.named_parameters()), names(module.named_buffers()), module.weight]

    new_model = LeNet()
    for _name, mod in new_model.named_modules():
        if isinstance(mod, nn.Conv2d):
            prune.l1_unstructured(mod, name="weight", amount=0.2)
        elif isinstance(mod, nn.Linear):
            prune.l1_unstructured(mod, name="weight", amount=0.4)
    record.append(" ".join(dict(new_model.named_buffers()).keys()))

    model = LeNet()
    parameters_to_prune = (
        (model.conv1, "weight"), (model.conv2, "weight"),
        (model.fc1, "weight"), (model.fc2, "weight"), (model.fc3, "weight"),
    )  # fmt: skip
    prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.2)
    for layer, _ in parameters_to_prune:
        record.append(100.0 * float(lib.sum(layer.weight == 0)) / float(layer.weight.nelement()))
    total_zeros = sum(float(lib.sum(layer.weight == 0)) for layer, _ in parameters_to_prune)
    record.append(100.0 * total_zeros / sum(float(layer.weight.nelement()) for layer, _ in parameters_to_prune))

    model.fc3 = foobar_unstructured(model.fc3, name="bias")
    record.append(model.fc3.bias_mask)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = lib.randn(5, 1, 14, 14), lib.randint(0, 4, (5,))
    for _ in range(3):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        record += [loss, model.fc1.weight_orig.grad, model.fc3.bias]
    for layer, name in parameters_to_prune:
        prune.remove(layer, name)
    record += [prune.is_pruned(model), " ".join(model.state_dict().keys())]
    return record + params(model)


def test_pruning_tutorial_as_torch():
    both(pruning)
    both_in_float64(pruning)
