"""Losses against PyTorch: every reduction, legacy size_average/reduce, weights, ignore_index,
N-d inputs, gradchecks (incl. double backward of NLL), bad-input errors, seed examples."""

from __future__ import annotations

import functools
import itertools
import re
import warnings

import numpy as np
import pytest
from reference import assert_close, check, randn

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import Variable, gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

X = randn(4, 5)
Y = randn(4, 5)
SIGNS = np.sign(randn(4, 5))
BINARY = (randn(4, 5) > 0).astype(np.float64)
CLASSES = np.array([1, 0, 4, 2])
PROBS = np.abs(Y) / np.abs(Y).sum(1, keepdims=True)
MULTILABEL = np.array([[1, 2, -1, 0, 0], [0, -1, 1, 1, 1], [4, 3, 2, 1, 0], [-1, 0, 0, 0, 0]])

# (functional name, inputs, indices of inputs that are targets without grad, keyword args)
CASES = [
    ("l1_loss", [X, Y], (), {}),
    ("mse_loss", [X, Y], (), {}),
    ("smooth_l1_loss", [X, Y], (), {"beta": 0.5}),
    ("huber_loss", [X, Y], (), {"delta": 0.7}),
    ("soft_margin_loss", [X, SIGNS], (1,), {}),
    ("poisson_nll_loss", [X, np.abs(Y) * 3], (1,), {"full": True}),
    ("poisson_nll_loss", [np.abs(X), np.abs(Y) * 3], (1,), {"log_input": False}),
    ("gaussian_nll_loss", [X, Y, np.abs(Y) + 0.1], (), {"full": True}),
    ("kl_div", [np.log(PROBS), np.abs(X) / 3], (1,), {}),
    ("kl_div", [X, Y], (1,), {"log_target": True}),
    ("binary_cross_entropy", [1 / (1 + np.exp(-X)), BINARY], (1,), {}),
    ("binary_cross_entropy_with_logits", [X, BINARY], (1,), {}),
    ("cross_entropy", [X, CLASSES], (), {}),
    ("cross_entropy", [X, np.array([1, -100, 4, 2])], (), {}),
    ("cross_entropy", [X, np.array([1, 3, 4, 2])], (), {"ignore_index": 3, "label_smoothing": 0.2}),
    ("cross_entropy", [X, PROBS], (1,), {"label_smoothing": 0.1}),
    ("cross_entropy", [randn(2, 3, 4, 2), np.array([[[0, 1]] * 4, [[2, 2]] * 4])], (), {}),
    ("nll_loss", [randn(2, 3, 4, 2), np.array([[[0, 1]] * 4, [[2, -100]] * 4])], (), {}),
    ("nll_loss", [randn(5), np.array(3)], (), {}),
    ("multi_margin_loss", [X, CLASSES], (), {}),
    ("multi_margin_loss", [X, CLASSES], (), {"p": 2, "margin": 0.5}),
    ("multilabel_margin_loss", [X, MULTILABEL], (), {}),
    ("multilabel_soft_margin_loss", [X, BINARY], (1,), {}),
    ("margin_ranking_loss", [X[0], Y[0], SIGNS[1]], (2,), {"margin": 0.1}),
    ("hinge_embedding_loss", [X, SIGNS], (1,), {"margin": 0.5}),
    ("cosine_embedding_loss", [X, Y, np.array([1.0, -1, 1, -1])], (2,), {"margin": 0.1}),
    ("triplet_margin_loss", [X, Y, X * 0.5 + Y], (), {"swap": True}),
    ("triplet_margin_loss", [X, Y, X * 0.5 + Y], (), {"p": 1, "margin": 2.0}),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def _run(name, arrays, targets, kwargs, device, dtype, **extra):
    """Compare ember and torch; targets are passed as constants (no grad)."""
    td = getattr(torch, dtype.name)

    def wrap(lib):
        def fn(*inputs):
            full = list(inputs)
            for i in targets:
                a = arrays[i]
                t = ember.tensor(a, dtype=dtype, device=device) if lib is F else torch.tensor(a, dtype=td)
                full.insert(i, t)
            return getattr(lib, name)(*full, **kwargs, **extra)

        return fn

    grads = [a for i, a in enumerate(arrays) if i not in targets]
    check(wrap(F), wrap(TF), grads, device=device, dtype=dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,arrays,targets,kwargs", CASES, ids=IDS)
def test_functional_matches_torch(name, arrays, targets, kwargs, reduction, device, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _run(name, arrays, targets, kwargs, device, dtype, reduction=reduction)


@pytest.mark.parametrize("size_average,reduce", [(False, None), (True, None), (None, False), (False, True)])
def test_legacy_size_average_reduce(size_average, reduce, device, dtype):
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        _run("mse_loss", [X, Y], (), {}, device, dtype, size_average=size_average, reduce=reduce)
    with pytest.warns(UserWarning, match="please use reduction="):
        m = nn.CrossEntropyLoss(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.nn.CrossEntropyLoss(size_average=size_average, reduce=reduce)
    assert m.reduction == tm.reduction
    check(lambda x: m(x, ember.tensor(CLASSES, device=device)), lambda x: tm(x, torch.tensor(CLASSES)), [X],
          device=device, dtype=dtype)  # fmt: skip


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_nll_and_cross_entropy(reduction, device, dtype):
    weight = np.abs(randn(5)) + 0.1
    target = np.array([1, -100, 4, 4])
    for ember_fn, torch_fn in ((F.nll_loss, TF.nll_loss), (F.cross_entropy, TF.cross_entropy)):
        check(
            lambda x, ember_fn=ember_fn: ember_fn(
                x,
                ember.tensor(target, device=device),
                ember.tensor(weight, dtype=dtype, device=device),
                reduction=reduction,
            ),  # fmt: skip
            lambda x, torch_fn=torch_fn: torch_fn(
                x, torch.tensor(target), torch.tensor(weight, dtype=getattr(torch, dtype.name)), reduction=reduction
            ),  # fmt: skip
            [X],
            device=device,
            dtype=dtype,
        )
    check(
        lambda x: F.cross_entropy(
            x,
            ember.tensor(target, device=device),
            ember.tensor(weight, dtype=dtype, device=device),
            reduction=reduction,
            label_smoothing=0.3,
        ),  # fmt: skip
        lambda x: TF.cross_entropy(
            x,
            torch.tensor(target),
            torch.tensor(weight, dtype=getattr(torch, dtype.name)),
            reduction=reduction,
            label_smoothing=0.3,
        ),  # fmt: skip
        [X],
        device=device,
        dtype=dtype,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_elementwise_losses(reduction, device, dtype):
    td = getattr(torch, dtype.name)
    w = np.abs(randn(5)) + 0.1
    ew, tw = ember.tensor(w, dtype=dtype, device=device), torch.tensor(w, dtype=td)
    et, tt = ember.tensor(BINARY, dtype=dtype, device=device), torch.tensor(BINARY, dtype=td)
    check(lambda x: F.binary_cross_entropy(x, et, ew, reduction=reduction),
          lambda x: TF.binary_cross_entropy(x, tt, tw, reduction=reduction), [1 / (1 + np.exp(-X))],
          device=device, dtype=dtype)  # fmt: skip
    check(lambda x: F.binary_cross_entropy_with_logits(x, et, ew, reduction=reduction, pos_weight=ew * 2),
          lambda x: TF.binary_cross_entropy_with_logits(x, tt, tw, reduction=reduction, pos_weight=tw * 2), [X],
          device=device, dtype=dtype)  # fmt: skip
    check(lambda x: F.multilabel_soft_margin_loss(x, et, ew, reduction=reduction),
          lambda x: TF.multilabel_soft_margin_loss(x, tt, tw, reduction=reduction), [X], device=device,
          dtype=dtype)  # fmt: skip
    ec, tc = ember.tensor(CLASSES, device=device), torch.tensor(CLASSES)
    check(lambda x: F.multi_margin_loss(x, ec, weight=ew, reduction=reduction),
          lambda x: TF.multi_margin_loss(x, tc, weight=tw, reduction=reduction), [X], device=device,
          dtype=dtype)  # fmt: skip


def test_kl_div_batchmean(device, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _run("kl_div", [np.log(PROBS), PROBS], (1,), {}, device, dtype, reduction="batchmean")


def test_bce_clamps_log(device):
    x = ember.tensor([0.0, 1.0, 0.5], device=device, requires_grad=True)
    t = ember.tensor([1.0, 0.0, 1.0], device=device)
    loss = F.binary_cross_entropy(x, t, reduction="none")
    assert_close(loss, TF.binary_cross_entropy(torch.tensor([0.0, 1.0, 0.5]), torch.tensor([1.0, 0.0, 1.0]),
                                               reduction="none"))  # fmt: skip


@pytest.mark.parametrize("cls,args,inputs", [
    ("L1Loss", (), 2), ("MSELoss", (), 2), ("SmoothL1Loss", (), 2), ("HuberLoss", (), 2), ("SoftMarginLoss", (), 2),
    ("PoissonNLLLoss", (), 2), ("KLDivLoss", (), 2), ("BCEWithLogitsLoss", (), 2), ("CrossEntropyLoss", (), 2),
    ("NLLLoss", (), 2), ("NLLLoss2d", (), 2), ("MultiMarginLoss", (), 2), ("MultiLabelSoftMarginLoss", (), 2),
    ("MultiLabelMarginLoss", (), 2), ("HingeEmbeddingLoss", (), 2), ("MarginRankingLoss", (), 3),
    ("CosineEmbeddingLoss", (), 3), ("TripletMarginLoss", (), 3), ("GaussianNLLLoss", (), 3), ("BCELoss", (), 2),
    ("TripletMarginWithDistanceLoss", (), 3),
])  # fmt: skip
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_modules(cls, args, inputs, reduction, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = getattr(nn, cls)(*args, reduction=reduction)
        tm = getattr(torch.nn, cls)(*args, reduction=reduction)
    assert repr(m) == repr(tm)
    case = next((c for c in CASES if _MODULE_OF.get(c[0]) == cls), None)
    if case is None:
        return
    _, arrays, targets, _ = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e_inputs = [ember.tensor(a, device=device) for a in arrays]
        t_inputs = [torch.tensor(a) for a in arrays]
        assert_close(m(*e_inputs), tm(*t_inputs))


_MODULE_OF = {
    "soft_margin_loss": "SoftMarginLoss", "poisson_nll_loss": "PoissonNLLLoss", "gaussian_nll_loss": "GaussianNLLLoss",
    "kl_div": "KLDivLoss", "binary_cross_entropy": "BCELoss", "binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
    "cross_entropy": "CrossEntropyLoss", "nll_loss": "NLLLoss", "multi_margin_loss": "MultiMarginLoss",
    "multilabel_margin_loss": "MultiLabelMarginLoss", "multilabel_soft_margin_loss": "MultiLabelSoftMarginLoss",
    "margin_ranking_loss": "MarginRankingLoss", "hinge_embedding_loss": "HingeEmbeddingLoss",
    "cosine_embedding_loss": "CosineEmbeddingLoss", "triplet_margin_loss": "TripletMarginLoss",
    "l1_loss": "L1Loss", "mse_loss": "MSELoss", "smooth_l1_loss": "SmoothL1Loss", "huber_loss": "HuberLoss",
}  # fmt: skip


def test_nll_double_backward_and_gradcheck(device):
    x = ember.tensor(randn(4, 5), device=device, requires_grad=True)
    target = ember.tensor(np.array([1, -100, 4, 2]), device=device)
    w = ember.tensor(np.abs(randn(5)) + 0.1, device=device)
    for reduction in ("mean", "sum", "none"):
        assert gradcheck(lambda t, r=reduction: F.cross_entropy(t, target, w, reduction=r), (x,))
        assert gradgradcheck(lambda t, r=reduction: F.cross_entropy(t, target, w, reduction=r), (x,))


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("name", ["binary_cross_entropy_with_logits", "soft_margin_loss", "smooth_l1_loss", "kl_div"])
def test_gradcheck_pointwise(name, device):
    x = ember.tensor(randn(3, 4) * 0.5, device=device, requires_grad=True)
    t = ember.tensor(np.abs(randn(3, 4)) / 4, device=device)
    assert gradcheck(lambda a: getattr(F, name)(a, t), (x,))


@pytest.mark.parametrize("dtype_name", ["uint8", "int32", "int8", "bool", "float32"])
@pytest.mark.parametrize("shape", [(4,), (3, 4), (3, 4, 2), (3, 4, 2, 2)])
@pytest.mark.parametrize(
    "kwargs", [{}, {"weight": True, "ignore_index": 1}, {"label_smoothing": 0.1, "reduction": "none"}]
)
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_index_target_dtypes(device, name, shape, dtype_name, kwargs):
    """PyTorch takes uint8 class indices besides int64 (not for spatial inputs) and names the two in
    its error for any other target dtype; ember refused uint8 with 'expected scalar type Long'."""
    if name == "nll_loss" and "label_smoothing" in kwargs:
        return
    x = randn(*shape)
    target = np.arange(int(np.prod((shape[0],) + shape[2:]) if len(shape) > 1 else 1)) % 4
    target = target.reshape((shape[0],) + shape[2:] if len(shape) > 1 else ())
    kw = dict(kwargs, weight=np.arange(1.0, 5.0)) if "weight" in kwargs else kwargs

    def run(lib, module, make):
        args = {k: make(v) if k == "weight" else v for k, v in kw.items()}
        return getattr(module, name)(make(x), make(target).to(getattr(lib, dtype_name)), **args)

    try:
        expected = run(torch, TF, torch.tensor)
    except RuntimeError as error:
        with pytest.raises(RuntimeError) as got:
            run(ember, F, lambda a: ember.tensor(a, device=device))
        assert str(got.value).split(": ")[-1] == str(error)
        return
    assert_close(run(ember, F, lambda a: ember.tensor(a, device=device)), expected)


def test_errors(device):
    x = ember.randn(3, 5, device=device)
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(4\)\."):
        F.nll_loss(x, ember.tensor([0, 1, 2, 3], device=device))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(4\)\."):
        nn.CrossEntropyLoss()(x, ember.tensor([0, 1, 2, 3], device=device))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        nn.NLLLoss()(x, ember.tensor([0.0, 1.0, 2.0], device=device))
    if device.startswith("cuda"):  # as PyTorch's device-side assert: checked on the GPU, raised at the next sync
        loss = F.nll_loss(x, ember.tensor([0, 7, 1], device=device))
        with pytest.raises(RuntimeError, match="device-side assert triggered: nll_loss: Target 7 is out of bounds"):
            loss.item()
    else:
        with pytest.raises(IndexError, match="Target 7 is out of bounds"):
            F.nll_loss(x, ember.tensor([0, 7, 1], device=device))
    with pytest.raises(ValueError, match="meanx is not a valid value for reduction"):
        F.mse_loss(x, x, reduction="meanx")
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        nn.L1Loss(reduction="avg")(x, x)
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.nll_loss(x, ember.tensor([0, 1, 2], device=device), ember.ones(4, device=device))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(x.sigmoid(), ember.rand(3, 4, device=device))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(x, ember.rand(3, 5, device=device))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, ember.rand(3, 4, device=device))
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, x, -ember.ones(3, 5, device=device))
    with pytest.raises(RuntimeError, match=re.escape("Expected target size [2, 4], got [2, 5]")):  # as PyTorch
        F.nll_loss(ember.randn(2, 3, 4, device=device), ember.zeros(2, 5, dtype=ember.int64, device=device))
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(x, ember.randn(5, device=device))
    # PyTorch's RuntimeError, for class indices and probabilities alike
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, ember.tensor([0, 1, 2], device=device), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        nn.CrossEntropyLoss(label_smoothing=1.5)(x, x.softmax(1))


def test_seed_examples():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for loss in (nn.L1Loss(), nn.MSELoss(), nn.L1Loss(size_average=False), nn.MSELoss(size_average=False)):
            input = Variable(ember.randn(3, 5), requires_grad=True)
            target = Variable(ember.randn(3, 5))
            output = loss(input, target)
            output.backward()
            assert input.grad.shape == (3, 5)
        loss = nn.CrossEntropyLoss()
        input = Variable(ember.randn(3, 5), requires_grad=True)
        target = Variable(ember.LongTensor(3).random_(5))
        loss(input, target).backward()
        m = nn.LogSoftmax()
        loss = nn.NLLLoss()
        input = Variable(ember.randn(3, 5), requires_grad=True)
        target = Variable(ember.LongTensor([1, 0, 4]))
        loss(m(input), target).backward()
        loss = nn.PoissonNLLLoss()
        log_input = Variable(ember.randn(5, 2), requires_grad=True)
        target = Variable(ember.randn(5, 2))
        loss(log_input, target).backward()
        loss = nn.NLLLoss2d()
        input = Variable(ember.randn(3, 16, 10, 10), requires_grad=True)
        target = Variable(ember.LongTensor(3, 10, 10).random_(0, 4))
        loss(input, target).backward()
        m = nn.Sigmoid()
        loss = nn.BCELoss()
        input = Variable(ember.randn(3), requires_grad=True)
        target = Variable(ember.FloatTensor(3).random_(2))
        loss(m(input), target).backward()
        triplet_loss = nn.TripletMarginLoss(margin=1.0, p=2)
        input1 = Variable(ember.randn(100, 128), requires_grad=True)
        input2 = Variable(ember.randn(100, 128))
        input3 = Variable(ember.randn(100, 128))
        triplet_loss(input1, input2, input3).backward()
        assert input1.grad.shape == (100, 128)


@pytest.mark.parametrize("threads,block_bytes", [(1, None), (1, 1), (2, 40)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_softmax_and_nll_kernels_agree_with_portable(dtype, threads, block_bytes, numpy_and_portable_kernels):
    """The NumPy softmax/log-softmax (forward, backward) and nll_loss_backward overrides against the
    portable kernels: -inf logits, a strided input, ignored targets, class weights, 'none' and scalar
    coefficients; rows in one block, one row a block, or blocks of a few rows split over 2 threads."""
    from ember.backends.numpy.kernels import softmax as numpy_softmax

    backend, portable = numpy_and_portable_kernels(numpy_softmax, threads, block_bytes)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 9)).astype(dtype)
    x[1, 2] = -np.inf
    strided = x[:, ::-1]
    g = rng.standard_normal(strided.shape).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    cases = ((strided, g, 0), (strided, g, 1), (np.ascontiguousarray(strided), g, -1), (strided.T, g.T, 1))
    for x, grad, axis in cases:
        for name in ("softmax", "log_softmax"):
            y = getattr(backend.kernels, name)(x, axis)
            np.testing.assert_allclose(y, getattr(portable, name)(x, axis), rtol=tol, atol=tol)
            assert y.dtype == dtype
            got = getattr(backend.kernels, name + "_backward")(grad, y, axis)
            np.testing.assert_allclose(got, getattr(portable, name + "_backward")(grad, y, axis), rtol=tol, atol=tol)
    target = np.array([0, 8, 3, -100, 3, 5])
    weight = rng.random(9).astype(dtype)
    for coeff in (np.asarray(0.25, dtype=dtype), rng.standard_normal(6).astype(dtype)):
        for w in (None, weight):
            got = backend.kernels.nll_loss_backward(coeff, target, w, -100, 9)
            assert got.dtype == dtype
            np.testing.assert_array_equal(got, portable.nll_loss_backward(coeff, target, w, -100, 9))


@pytest.mark.parametrize("threads,block_bytes", [(1, None), (2, 40)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_cross_entropy_backward_agrees_with_portable(dtype, threads, block_bytes, numpy_and_portable_kernels):
    """The NumPy cross_entropy (row log-sum-exps, no log-probabilities kept) and its backward (softmax -
    one-hot in one buffer) against the portable kernels: ignored targets, class weights, label
    smoothing, 'none' and scalar coefficients, blocks of a few rows split over 2 threads."""
    from ember.backends.numpy.kernels import softmax as numpy_softmax

    backend, portable = numpy_and_portable_kernels(numpy_softmax, threads, block_bytes)
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 9)).astype(dtype)
    target = np.array([0, 8, 3, 7, 3, 5])
    weight = rng.random(9).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    # C-contiguous logits, a transposed view (an (N, C, d) input's flattened classes are strided), and
    # rows far from 0 (their log-sum-exps shifted by the row maxima, the others' not)
    large = logits + np.array([-200, 0, 0, 150, 0, 0], dtype=dtype)[:, None]
    for x, smoothing, w in itertools.product((logits, np.asfortranarray(logits), large), (0.0, 0.25), (None, weight)):
        saved, losses, pw = backend.kernels.cross_entropy(x, target, w, 3, smoothing)
        logp, *want_losses = portable.cross_entropy(x, target, w, 3, smoothing)
        # the NumPy forward keeps each row's log-sum-exp, not the log-probabilities
        for got, want in zip((x - saved.lse[:, None], losses, pw), (logp, *want_losses)):
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        for coeff in (np.asarray(0.25, dtype=dtype), rng.standard_normal(6).astype(dtype)):
            got = backend.kernels.cross_entropy_backward(coeff, saved, target, w, 3, smoothing)
            want = portable.cross_entropy_backward(coeff, logp, target, w, 3, smoothing)
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
            assert not got[[2, 4]].any()  # the ignored rows


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(4, 5), (2, 5, 3, 2)])
def test_cross_entropy_double_backward_matches_torch(device, dtype, reduction, weighted, smoothing, shape):
    """Cross entropy over class indices (one node, softmax - one-hot backward) with ignored targets,
    class weights and label smoothing: the loss, its gradient and second derivatives through the
    gradient (create_graph) against PyTorch's."""
    rng = np.random.default_rng(4)
    x = randn(*shape)
    target = rng.integers(0, 5, (shape[0],) + shape[2:])
    target.reshape(-1)[1] = 3
    w = np.abs(randn(5)) + 0.1
    torch_dtype = getattr(torch, dtype.name)
    ex = ember.tensor(x, dtype=dtype, device=device, requires_grad=True)
    tx = torch.tensor(x, dtype=torch_dtype, requires_grad=True)
    ew = ember.tensor(w, dtype=dtype, device=device) if weighted else None
    tw = torch.tensor(w, dtype=torch_dtype) if weighted else None
    kwargs = {"ignore_index": 3, "reduction": reduction, "label_smoothing": smoothing}
    eloss = F.cross_entropy(ex, ember.tensor(target, device=device), ew, **kwargs)
    tloss = TF.cross_entropy(tx, torch.tensor(target), tw, **kwargs)
    assert_close(eloss, tloss, dtype)
    upstream = randn(*tloss.shape)
    eg = ember.tensor(upstream, dtype=dtype, device=device, requires_grad=True)
    tg = torch.tensor(upstream, dtype=torch_dtype, requires_grad=True)
    (egx,) = ember.autograd.grad(eloss, [ex], eg, create_graph=True)
    (tgx,) = torch.autograd.grad(tloss, [tx], tg, create_graph=True)
    assert_close(egx, tgx, dtype, what="input grad")
    (egx**2).sum().backward()
    (tgx**2).sum().backward()
    assert_close(ex.grad, tx.grad, dtype, what="second derivative in the input")
    assert_close(eg.grad, tg.grad, dtype, what="second derivative in the upstream gradient")


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("create_graph", [False, True])
def test_cross_entropy_every_target_ignored_matches_torch(device, smoothing, create_graph):
    """A batch whose targets are all ``ignore_index``: the mean loss is NaN (0 / 0) but the logits'
    gradient is 0, as PyTorch's kernels skip the ignored rows (ember once gave NaN: inf * 0)."""
    x = randn(3, 4)
    target = np.full(3, 2)
    ex = ember.tensor(x, device=device, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    kwargs = {"ignore_index": 2, "label_smoothing": smoothing}
    eloss = F.cross_entropy(ex, ember.tensor(target, device=device), **kwargs)
    tloss = TF.cross_entropy(tx, torch.tensor(target), **kwargs)
    assert_close(eloss, tloss)  # both NaN
    (egx,) = ember.autograd.grad(eloss, [ex], create_graph=create_graph)
    (tgx,) = torch.autograd.grad(tloss, [tx], create_graph=create_graph)
    assert_close(egx, tgx, what="input grad")
    assert not egx.detach().cpu().numpy().any()


@pytest.mark.parametrize("probabilities", [False, True])
def test_cross_entropy_negative_label_smoothing_is_none(device, probabilities):
    """PyTorch accepts a negative ``label_smoothing`` and smooths only for a positive one."""
    x = randn(4, 5)
    target = PROBS if probabilities else CLASSES
    check(
        lambda t, y: F.cross_entropy(t, y, label_smoothing=-0.3),
        lambda t, y: TF.cross_entropy(t, y, label_smoothing=-0.3),
        [x, target],
        device=device,
    )


@pytest.mark.parametrize("with_logits", [True, False])
@pytest.mark.parametrize("operand", ["target", "weight", "pos_weight"])
def test_binary_cross_entropy_mixed_dtypes_match_torch(device, with_logits, operand):
    """float32 predictions against a float64 target, weight or pos_weight (as NumPy labels give): the
    output's and gradients' dtypes and values are PyTorch's. ember's BCE-with-logits backward once failed
    on a float64 target, and the weights promoted the loss to float64."""
    if operand == "pos_weight" and not with_logits:
        pytest.skip("binary_cross_entropy has no pos_weight")
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((3, 4)).astype(np.float32)
    x = logits if with_logits else (1 / (1 + np.exp(-logits))).astype(np.float32)
    y = rng.uniform(size=(3, 4))
    w = rng.uniform(0.5, 2.0, size=4)
    results = []
    for lib, fn in ((ember, F), (torch, TF)):
        name = "binary_cross_entropy_with_logits" if with_logits else "binary_cross_entropy"
        new = functools.partial(ember.tensor, device=device) if lib is ember else torch.tensor
        inp = new(x, requires_grad=True)
        target = new(y if operand == "target" else y.astype(np.float32), requires_grad=operand == "target")
        kwargs = {operand: new(w)} if operand != "target" else {}
        if operand != "target" or with_logits:
            out = getattr(fn, name)(inp, target, reduction="none", **kwargs)
            out.sum().backward()
            results.append((out, inp.grad, target.grad))
        else:  # PyTorch's kernel takes one dtype
            with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
                getattr(fn, name)(inp, target)
    for e, t in zip(*results):
        if t is None:
            assert e is None
            continue
        assert e.dtype.name == str(t.dtype).removeprefix("torch.")
        assert_close(e, t, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_kl_div_zero_and_negative_targets_match_torch(device, reduction):
    """PyTorch's ``xlogy(target, target)``: a zero target adds 0 to the loss but NaN to its own gradient,
    a negative target is NaN (ember once gave finite values for both)."""
    x = np.array([-1.0, -2.0, -0.5, -0.3])
    target = np.array([-0.2, 0.0, 0.5, 1.0])
    check(
        lambda a, t: F.kl_div(a, t, reduction=reduction),
        lambda a, t: TF.kl_div(a, t, reduction=reduction),
        [x, target],
        device=device,
    )


@pytest.mark.parametrize("log_input", [True, False])
def test_poisson_nll_full_target_gradient_matches_torch(device, log_input):
    """Stirling's term is masked to 0 for targets up to 1, but its gradient is NaN at target 0, as PyTorch's
    masked_fill of ``target * log(target)`` (ember once gave 0 there)."""
    x = np.array([0.3, 1.2, 0.5, 2.0, 0.7])
    target = np.array([0.0, 0.5, 1.0, 3.0, 2.0])
    check(
        lambda a, t: F.poisson_nll_loss(a, t, log_input=log_input, full=True, reduction="none"),
        lambda a, t: TF.poisson_nll_loss(a, t, log_input=log_input, full=True, reduction="none"),
        [x, target],
        device=device,
    )


def test_cross_entropy_label_smoothing_gradgradcheck(device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip("no float64")
    x = ember.tensor(randn(4, 5), device=device, requires_grad=True)
    target = ember.tensor(np.array([1, -100, 4, 2]), device=device)
    w = ember.tensor(np.abs(randn(5)) + 0.1, device=device)
    for reduction in ("mean", "sum", "none"):
        fn = lambda t, r=reduction: F.cross_entropy(t, target, w, reduction=r, label_smoothing=0.3)  # noqa: E731
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize(
    "input_dtype, target_dtype",
    [("float32", "float64"), ("float64", "float32"), ("bfloat16", "float32"), ("float32", "float16")],
)
@pytest.mark.parametrize("name", ["huber_loss", "soft_margin_loss", "binary_cross_entropy_with_logits", "rms_norm"])
def test_mixed_dtype_result_is_torchs(name, input_dtype, target_dtype):
    # PyTorch writes these into a tensor of one operand's dtype: huber_loss and soft_margin_loss into
    # the input's, binary_cross_entropy_with_logits into the target's (its in-place body starts from
    # 1 - target), rms_norm returns the input's whatever the weight's
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (3, 4)).astype(np.float32), rng.uniform(0.1, 0.9, (3, 4)).astype(np.float32)
    calls = {
        "rms_norm": lambda lib, x, y: lib.nn.functional.rms_norm(x, (4,), y[0]),
        "soft_margin_loss": lambda lib, x, y: lib.nn.functional.soft_margin_loss(x, y, reduction="none"),
    }
    call = calls.get(name, lambda lib, x, y: getattr(lib.nn.functional, name)(x, y, reduction="none"))
    expected = call(
        torch, torch.tensor(a).to(getattr(torch, input_dtype)), torch.tensor(b).to(getattr(torch, target_dtype))
    )
    got = call(ember, ember.tensor(a).to(getattr(ember, input_dtype)), ember.tensor(b).to(getattr(ember, target_dtype)))
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(got.double().numpy(), expected.double().numpy(), rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize("name", ["mse_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss", "l1_loss"])
@pytest.mark.parametrize("bool_input", [False, True])
def test_a_boolean_operand_is_taken_as_torch_takes_it(name, bool_input):
    # a mask as the target (or the input): the fused kernels compute in the common type, l1_loss's
    # subtraction refuses it; an error where PyTorch raises one
    torch = pytest.importorskip("torch")
    x, mask = np.array([0.3, -1.2, 2.0], dtype=np.float32), np.array([True, False, True])
    args = (mask, x) if bool_input else (x, mask)
    try:
        expected = getattr(torch.nn.functional, name)(*(torch.tensor(a) for a in args))
    except RuntimeError:
        with pytest.raises(RuntimeError):
            getattr(F, name)(*(ember.tensor(a) for a in args))
        return
    got = getattr(F, name)(*(ember.tensor(a) for a in args))
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
