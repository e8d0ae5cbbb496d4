"""Sweep 26, against PyTorch: the strides of ``expand`` and its kin (a size-1 dimension, new or kept, steps
as in a dense layout, not 0), a tensor ``ignore_index`` of the class-index losses, ``_sample_dirichlet``
(the sampler of ``Dirichlet``), a Tensor surface without the methods ``torch.Tensor`` lacks, and the
AttributeError of PyTorch's Python functionals that read an attribute of their input first."""

from __future__ import annotations

import numpy as np
import pytest
from against_torch import same_error

import ember

torch = pytest.importorskip("torch")


def _dtype(lib, name):
    return getattr(lib, name)


# -- 1. expand's strides ----------------------------------------------------------------------------------

# (input shape, how it is laid out, target shape)
EXPANSIONS = [
    ((3,), "dense", (1, 3)),
    ((3,), "dense", (2, 3)),
    ((1,), "dense", (1, 1, 1)),
    ((1,), "dense", (3, 1, 1)),
    ((2, 1), "dense", (1, 2, 3)),
    ((2, 1), "dense", (1, 2, 1)),
    ((2, 1, 3), "dense", (1, 2, 4, 3)),
    ((2, 3), "dense", (1, 1, 2, 3)),
    ((1, 3), "dense", (4, 1, 3)),
    ((1, 1), "dense", (1, 1, 1)),
    ((), "dense", (1,)),
    ((), "dense", (2, 1)),
    ((), "dense", (1, 1, 2)),
    ((0,), "dense", (1, 0)),
    ((0,), "dense", (1, 1, 0)),
    ((3, 0), "dense", (1, 3, 0)),
    ((0, 1), "dense", (2, 0, 4)),
    ((0, 3), "dense", (1, 0, 3)),
    ((4, 6), "step", (1, 4, 3)),
    ((4, 6), "t", (1, 1, 6, 4)),
    ((4, 1), "t", (1, 5, 4)),
    ((3, 1), "t", (2, 1, 3)),
]


def _laid_out(lib, shape, how, device=None):
    kwargs = {} if device is None else {"device": device}
    x = lib.arange(float(np.prod(shape, dtype=int)), **kwargs).reshape(shape)
    if how == "t":
        return x.t()
    if how == "step":
        return x[:, ::2]
    return x


@pytest.mark.parametrize("shape, how, target", EXPANSIONS, ids=[f"{s}-{h}-{t}" for s, h, t in EXPANSIONS])
def test_expand_strides_are_torchs(device, shape, how, target):
    expected_input = _laid_out(torch, shape, how)
    got_input = _laid_out(ember, shape, how, device)
    assert got_input.stride() == expected_input.stride()
    forms = {
        "expand": lambda x, L: x.expand(target),
        "expand ints": lambda x, L: x.expand(*target),
        "expand_as": lambda x, L: x.expand_as(L.zeros(target)),
        "broadcast_to": lambda x, L: L.broadcast_to(x, target),
        "Tensor.broadcast_to": lambda x, L: x.broadcast_to(target),
        "broadcast_tensors": lambda x, L: L.broadcast_tensors(x, L.zeros(target))[0],
    }
    for name, form in forms.items():
        expected = form(expected_input, torch)
        got = form(got_input, ember)
        assert tuple(got.shape) == tuple(expected.shape), name
        assert got.stride() == expected.stride(), name
        assert got.is_contiguous() == expected.is_contiguous(), name
        np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())


def test_expand_of_a_leading_size_one_dimension_is_a_view_that_reads_its_base(device):
    x = ember.arange(3.0, device=device)
    y = x.expand(1, 3)
    assert y.stride() == (3, 1) and y.is_contiguous() and y._base is x
    x.add_(1)
    assert y.tolist() == [[1.0, 2.0, 3.0]]
    z = ember.arange(3.0, device=device, requires_grad=True)
    z.expand(1, 1, 3).sum().backward()
    assert z.grad.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "size, target",
    [((3,), (-1, 3)), ((3,), (2, -1, 3)), ((3,), (-5, 3)), ((3,), (4, -7, 3)), ((1,), (-2, 1)), ((1,), (3, -2, 1))],
)
def test_expand_of_a_negative_or_leading_minus_one_size_refused_as_torch(size, target):
    same_error(lambda L: L.zeros(size).expand(*target))


# -- 2. a tensor ignore_index --------------------------------------------------------------------------------

IGNORE_INDICES = {
    "0-d int64": lambda L: L.tensor(2),
    "0-d int64 default": lambda L: L.tensor(-100),
    "0-d int32": lambda L: L.tensor(2, dtype=L.int32),
    "0-d uint8": lambda L: L.tensor(2, dtype=L.uint8),
    "1-element 1-d": lambda L: L.tensor([2]),
    "1-element 2-d": lambda L: L.tensor([[2]]),
    "numpy int64": lambda L: np.int64(2),
    "numpy int32": lambda L: np.int32(1),
}

CLASS_INDEX_LOSSES = {
    "cross_entropy": lambda L, x, t, ii: L.nn.functional.cross_entropy(x, t, ignore_index=ii),
    "nll_loss": lambda L, x, t, ii: L.nn.functional.nll_loss(x, t, ignore_index=ii),
    "CrossEntropyLoss": lambda L, x, t, ii: L.nn.CrossEntropyLoss(ignore_index=ii)(x, t),
    "NLLLoss": lambda L, x, t, ii: L.nn.NLLLoss(ignore_index=ii)(x, t),
    "cross_entropy none": lambda L, x, t, ii: L.nn.functional.cross_entropy(x, t, ignore_index=ii, reduction="none"),
    "cross_entropy smoothed": lambda L, x, t, ii: L.nn.functional.cross_entropy(
        x, t, ignore_index=ii, label_smoothing=0.1
    ),
}

_LOGITS = [[0.1, 0.2, 0.3], [0.5, 0.1, 0.2], [1.0, 2.0, 3.0], [-1.0, 0.5, 0.25]]
_TARGETS = [0, 2, 1, 2]


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("loss", CLASS_INDEX_LOSSES.values(), ids=CLASS_INDEX_LOSSES.keys())
@pytest.mark.parametrize("make", IGNORE_INDICES.values(), ids=IGNORE_INDICES.keys())
def test_tensor_ignore_index_as_torch(device, dtype_name, loss, make):
    results = []
    for L, kwargs in ((torch, {}), (ember, {"device": device})):
        x = L.tensor(_LOGITS, dtype=_dtype(L, dtype_name), requires_grad=True, **kwargs)
        t = L.tensor(_TARGETS, **kwargs)
        ignore_index = make(L)
        if isinstance(ignore_index, ember.Tensor):
            ignore_index = ignore_index.to(device)
        out = loss(L, x, t, ignore_index)
        out.sum().backward()
        results.append((str(out.dtype).split(".")[-1], out.detach().cpu().numpy(), x.grad.cpu().numpy()))
    (e_dtype, e_out, e_grad), (t_dtype, t_out, t_grad) = results[1], results[0]
    assert e_dtype == t_dtype
    rtol = 1e-6 if dtype_name == "float32" else 1e-12
    np.testing.assert_allclose(e_out, t_out, rtol=rtol)
    np.testing.assert_allclose(e_grad, t_grad, rtol=rtol, atol=1e-7)


REFUSED_IGNORE_INDICES = {
    "0-d float": lambda L: L.tensor(2.0),
    "0-d float64": lambda L: L.tensor(2.0, dtype=L.float64),
    "2 elements": lambda L: L.tensor([2, 1]),
    "no element": lambda L: L.tensor([], dtype=L.int64),
    "complex": lambda L: L.tensor(2 + 0j),
    "requires grad": lambda L: L.tensor(2.0, requires_grad=True),
    "float": lambda L: 2.0,
    "bool": lambda L: True,
}


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss", "CrossEntropyLoss", "NLLLoss"])
@pytest.mark.parametrize("make", REFUSED_IGNORE_INDICES.values(), ids=REFUSED_IGNORE_INDICES.keys())
def test_refused_ignore_index_as_torch(loss, make):
    def call(L):
        return CLASS_INDEX_LOSSES[loss](L, L.tensor(_LOGITS), L.tensor(_TARGETS), make(L))

    same_error(call)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_bool_tensor_ignore_index_is_refused_as_torch(loss):
    """PyTorch's parser takes a bool tensor as an integer, then fails an internal assert (a RuntimeError):
    ember refuses it with the same type, in words that name the op and the argument."""
    op = "cross_entropy_loss" if loss == "cross_entropy" else "nll_loss_nd"
    calls = [lambda L: CLASS_INDEX_LOSSES[loss](L, L.tensor(_LOGITS), L.tensor(_TARGETS), L.tensor(True))]
    with pytest.raises(RuntimeError):
        calls[0](torch)
    with pytest.raises(RuntimeError, match=rf"^{op}\(\): argument 'ignore_index' \(position 5\) .*bool Tensor$"):
        calls[0](ember)


# -- 3. _sample_dirichlet ---------------------------------------------------------------------------------

DIRICHLET_INPUTS = {
    "1-d": lambda L, dt: L.tensor([0.5, 1.0, 3.0], dtype=dt),
    "2-d": lambda L, dt: L.tensor([[0.3, 2.0, 7.0, 1.0], [1.0, 1.0, 1.0, 1.0]], dtype=dt),
    "transposed": lambda L, dt: L.tensor([[0.3, 2.0], [7.0, 1.0], [0.05, 4.0]], dtype=dt).t(),
    "expanded": lambda L, dt: L.tensor([1.0, 2.0, 3.0], dtype=dt).expand(5, 3),
    "0-d": lambda L, dt: L.tensor(2.0, dtype=dt),
    "edges": lambda L, dt: L.tensor([[0.0, 0.0], [float("nan"), 1.0], [float("inf"), 1.0], [1e-3, 1e-3]], dtype=dt),
    "empty rows": lambda L, dt: L.zeros(0, 3, dtype=dt),
    "empty events": lambda L, dt: L.zeros(3, 0, dtype=dt),
}


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("make", DIRICHLET_INPUTS.values(), ids=DIRICHLET_INPUTS.keys())
def test_sample_dirichlet_is_torchs_stream_on_cpu(dtype_name, make):
    """ember's cpu generator is PyTorch's (tests/test_random_torch_stream.py): the same samples, bit for bit."""
    torch.manual_seed(7)
    expected = torch._sample_dirichlet(make(torch, _dtype(torch, dtype_name)))
    ember.manual_seed(7)
    got = ember._sample_dirichlet(make(ember, _dtype(ember, dtype_name)))
    assert str(got.dtype) == str(expected.dtype).replace("torch", "ember")
    assert tuple(got.shape) == tuple(expected.shape) and got.stride() == expected.stride()
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    generator = torch.Generator().manual_seed(3)
    expected = torch._sample_dirichlet(make(torch, _dtype(torch, dtype_name)), generator)
    got = ember._sample_dirichlet(make(ember, _dtype(ember, dtype_name)), ember.Generator().manual_seed(3))
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("make", [DIRICHLET_INPUTS[k] for k in ("1-d", "2-d", "transposed", "expanded")])
def test_sample_dirichlet_on_each_device(device, dtype, make):
    concentration = make(ember, dtype).to(device)
    sample = ember._sample_dirichlet(concentration)
    assert sample.dtype is dtype and sample.device == concentration.device
    assert tuple(sample.shape) == tuple(concentration.shape) and sample.is_contiguous()
    values = sample.cpu().numpy()
    assert ((values > 0) & (values < 1)).all()
    np.testing.assert_allclose(values.sum(-1), 1.0, rtol=1e-5 if dtype is ember.float32 else 1e-12)
    ember.manual_seed(11)
    first = ember._sample_dirichlet(concentration).cpu().numpy()
    ember.manual_seed(11)
    np.testing.assert_array_equal(ember._sample_dirichlet(concentration).cpu().numpy(), first)


@pytest.mark.parametrize("make", [DIRICHLET_INPUTS[k] for k in ("1-d", "2-d", "expanded")])
def test_dirichlet_distribution_draws_through_sample_dirichlet(device, dtype, make):
    """One sampler: Dirichlet's sample (and rsample's values) are _sample_dirichlet's draws of its concentration."""
    concentration = make(ember, dtype).to(device)
    distribution = ember.distributions.Dirichlet(concentration)
    ember.manual_seed(5)
    expected = ember._sample_dirichlet(concentration.expand((2,) + tuple(concentration.shape))).cpu().numpy()
    ember.manual_seed(5)
    np.testing.assert_array_equal(distribution.sample((2,)).cpu().numpy(), expected)
    ember.manual_seed(5)
    rsampled = ember.distributions.Dirichlet(concentration.clone().requires_grad_()).rsample((2,))
    np.testing.assert_allclose(rsampled.detach().cpu().numpy(), expected, rtol=1e-6, atol=1e-12)


def test_sample_dirichlet_records_no_derivative_as_torch():
    results = []
    for L in (torch, ember):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = L._sample_dirichlet(x)
        results.append((y.requires_grad, type(y.grad_fn).__name__.rsplit(".", 1)[-1]))
        with pytest.raises(RuntimeError, match="^derivative for aten::_sample_dirichlet is not implemented$"):
            y.sum().backward()
        with L.no_grad():
            assert not L._sample_dirichlet(x).requires_grad
    assert results[0] == results[1] == (True, "NotImplemented")


SAMPLER_ERRORS = {
    "dirichlet float16": lambda L: L._sample_dirichlet(L.ones(2, dtype=L.float16)),
    "dirichlet bfloat16": lambda L: L._sample_dirichlet(L.ones(2, dtype=L.bfloat16)),
    "dirichlet int64": lambda L: L._sample_dirichlet(L.ones(2, dtype=L.int64)),
    "dirichlet bool": lambda L: L._sample_dirichlet(L.ones(2, dtype=L.bool)),
    "dirichlet complex": lambda L: L._sample_dirichlet(L.ones(2, dtype=L.complex64)),
    "dirichlet list": lambda L: L._sample_dirichlet([1.0, 2.0]),
    "standard_gamma list": lambda L: L._standard_gamma([1.0]),
    "poisson list": lambda L: L.poisson([1.0]),
    "binomial count list": lambda L: L.binomial([1.0], L.tensor([0.5])),
    "binomial prob list": lambda L: L.binomial(L.tensor([1.0]), [0.5]),
}


@pytest.mark.parametrize("call", SAMPLER_ERRORS.values(), ids=SAMPLER_ERRORS.keys())
def test_sampler_errors_as_torch(call):
    same_error(call)


# -- 4. the Tensor's surface is torch.Tensor's ----------------------------------------------------------------

REMOVED_METHODS = (
    "broadcast_tensors", "cat", "concat", "concatenate", "hstack", "vstack", "stack", "maximum_", "minimum_",
    "std_mean", "var_mean", "xp",
)  # fmt: skip


@pytest.mark.parametrize("name", REMOVED_METHODS)
def test_no_method_torch_tensor_lacks(name):
    assert not hasattr(torch.Tensor, name)
    assert not hasattr(ember.Tensor, name)
    with pytest.raises(AttributeError):
        getattr(ember.ones(2), name)


def test_every_public_tensor_attribute_is_torchs():
    extra = sorted(n for n in dir(ember.Tensor) if not n.startswith("_") and not hasattr(torch.Tensor, n))
    assert extra == []


def test_function_forms_of_the_removed_methods_remain():
    a, b = ember.tensor([[1.0, 5.0]]), ember.tensor([[3.0, 2.0]])
    assert ember.cat([a, b]).tolist() == ember.concat([a, b]).tolist() == ember.concatenate([a, b]).tolist()
    assert ember.vstack([a, b]).tolist() == ember.stack([a[0], b[0]]).tolist() == [[1.0, 5.0], [3.0, 2.0]]
    assert ember.hstack([a, b]).tolist() == [[1.0, 5.0, 3.0, 2.0]]
    assert [t.shape for t in ember.broadcast_tensors(a, ember.zeros(2, 1))] == [(2, 2), (2, 2)]
    assert ember.maximum(a, b).tolist() == [[3.0, 5.0]] and ember.minimum(a, b).tolist() == [[1.0, 2.0]]
    var, mean = ember.var_mean(a)
    std, _ = ember.std_mean(a)
    assert (var.item(), mean.item()) == (8.0, 3.0) and std.item() == pytest.approx(8.0**0.5)


# the callers that used the method forms
CALLERS = {
    "masked_select": lambda L: L.masked_select(L.arange(6.0).reshape(2, 3), L.tensor([True, False, True])),
    "masked_scatter": lambda L: L.zeros(2, 3).masked_scatter(L.tensor([True, False, True]), L.arange(6.0)),
    "cosine_similarity": lambda L: L.nn.functional.cosine_similarity(L.ones(3), L.arange(6.0).reshape(2, 3)),
    "mse_loss broadcast": lambda L: L.nn.functional.mse_loss(L.ones(2, 1), L.arange(6.0).reshape(2, 3)),
}


@pytest.mark.parametrize("call", CALLERS.values(), ids=CALLERS.keys())
def test_callers_of_the_removed_methods(call):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, got = call(torch), call(ember)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


# -- 5. PyTorch's Python functionals read their input first -----------------------------------------------------


class _Plain:
    pass


NOT_TENSORS = {
    "list": lambda L: [[[1.0, 2.0]]],
    "None": lambda L: None,
    "object": lambda L: _Plain(),
}

PYTHON_FUNCTIONALS = {
    "group_norm": lambda F, x: F.group_norm(x, 1),
    "instance_norm": lambda F, x: F.instance_norm(x),
    "instance_norm without input stats": lambda F, x: F.instance_norm(x, use_input_stats=False),
    "normalize": lambda F, x: F.normalize(x),
    "local_response_norm": lambda F, x: F.local_response_norm(x, 2),
    "glu": lambda F, x: F.glu(x),
    "interpolate": lambda F, x: F.interpolate(x, scale_factor=2),
    "interpolate align_corners refused": lambda F, x: F.interpolate(x, scale_factor=2, align_corners=True),
    "dropout1d": lambda F, x: F.dropout1d(x),
    "dropout2d": lambda F, x: F.dropout2d(x),
    "dropout3d": lambda F, x: F.dropout3d(x, p=0.25),
    "softmax": lambda F, x: F.softmax(x, 0),
    "softmax without dim": lambda F, x: F.softmax(x),
    "log_softmax": lambda F, x: F.log_softmax(x, 1),
    "log_softmax without dim": lambda F, x: F.log_softmax(x),
    "softmin without dim": lambda F, x: F.softmin(x),
    "margin_ranking_loss input1": lambda F, x: F.margin_ranking_loss(x, F.torch_ones(2), F.torch_ones(2)),
    "margin_ranking_loss input2": lambda F, x: F.margin_ranking_loss(F.torch_ones(2), x, F.torch_ones(2)),
    "margin_ranking_loss target": lambda F, x: F.margin_ranking_loss(F.torch_ones(2), F.torch_ones(2), x),
    "margin_ranking_loss target, dims differ": lambda F, x: F.margin_ranking_loss(
        F.torch_ones(2), F.torch_ones(1, 2), x
    ),
    "dropout": lambda F, x: F.dropout(x),
    "alpha_dropout": lambda F, x: F.alpha_dropout(x, training=True),
    "feature_alpha_dropout": lambda F, x: F.feature_alpha_dropout(x, training=True),
}


class _Functional:
    """``lib.nn.functional`` with ``torch_ones``, a tensor of the library, for the calls above."""

    def __init__(self, lib):
        self._lib = lib

    def __getattr__(self, name):
        return getattr(self._lib.nn.functional, name)

    def torch_ones(self, *shape):
        return self._lib.ones(*shape)


@pytest.mark.parametrize("make", NOT_TENSORS.values(), ids=NOT_TENSORS.keys())
@pytest.mark.parametrize("call", PYTHON_FUNCTIONALS.values(), ids=PYTHON_FUNCTIONALS.keys())
def test_non_tensor_input_of_python_functionals_as_torch(call, make):
    same_error(lambda L: call(_Functional(L), make(L)))


@pytest.mark.parametrize(
    "call", [PYTHON_FUNCTIONALS[k] for k in ("group_norm", "normalize", "glu", "interpolate", "softmax", "dropout2d")]
)
def test_ndarray_input_of_python_functionals_as_torch(call):
    """Python's name of numpy's type in the AttributeError: 'numpy.ndarray'."""
    same_error(lambda L: call(_Functional(L), np.ones((1, 2, 2))))


TOP_LEVEL = {
    "group_norm": lambda L: L.group_norm([[1.0, 2.0]], 1),
    "instance_norm": lambda L: L.instance_norm([[[1.0, 2.0]]], None, None, None, None, True, 0.1, 1e-5, False),
    "margin_ranking_loss": lambda L: L.margin_ranking_loss([1.0], L.ones(1), L.ones(1)),
    "dropout": lambda L: L.dropout([1.0], 0.5, True),
    "feature_dropout": lambda L: L.feature_dropout([1.0], 0.5, True),
    "native_dropout": lambda L: L.native_dropout([1.0], 0.5, True),
    "softmax": lambda L: L.softmax([1.0], 0),
    "log_softmax": lambda L: L.log_softmax([1.0], 0),
}


@pytest.mark.parametrize("call", TOP_LEVEL.values(), ids=TOP_LEVEL.keys())
def test_top_level_forms_keep_the_argument_parsers_type_error(call):
    same_error(call)


def test_python_functionals_still_compute():
    F, TF = ember.nn.functional, torch.nn.functional
    values = np.arange(1.0, 9.0).reshape(1, 2, 4)
    for name, call in (
        ("group_norm", lambda F, x: F.group_norm(x, 1)),
        ("instance_norm", lambda F, x: F.instance_norm(x)),
        ("normalize", lambda F, x: F.normalize(x)),
        ("local_response_norm", lambda F, x: F.local_response_norm(x, 2)),
        ("glu", lambda F, x: F.glu(x)),
        ("interpolate", lambda F, x: F.interpolate(x, scale_factor=2)),
        ("softmax", lambda F, x: F.softmax(x, 1)),
        ("log_softmax", lambda F, x: F.log_softmax(x, -1)),
        ("softmin", lambda F, x: F.softmin(x, 0)),
        ("margin_ranking_loss", lambda F, x: F.margin_ranking_loss(x, x.flip(-1), x.sign())),
    ):
        expected = call(TF, torch.tensor(values))
        np.testing.assert_allclose(call(F, ember.tensor(values)).numpy(), expected.numpy(), rtol=1e-12, err_msg=name)
