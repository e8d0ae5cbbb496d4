"""PyTorch's alias names (top level and Tensor), the top-level in-place forms and the functional ops
PyTorch exposes at the top level, against PyTorch: values, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, check, randn

import ember

torch = pytest.importorskip("torch")

_BINARY = ["greater", "greater_equal", "less", "less_equal", "not_equal", "arctan2"]
_UNARY = ["arccos", "arcsin", "arctan", "absolute", "negative", "fix"]


@pytest.mark.parametrize("name", _BINARY + _UNARY)
def test_alias_functions_and_methods(device, dtype, name):
    a, b = randn(3, 4, low=-0.9, high=0.9), randn(3, 4, low=-0.9, high=0.9)
    arrays = [a, b] if name in _BINARY else [a]
    differentiable = name not in _BINARY[:-1] and name != "fix"
    check(getattr(ember, name), getattr(torch, name), arrays, device=device, dtype=dtype, grad=differentiable)
    method = lambda x, *rest: getattr(x, name)(*rest)  # noqa: E731
    check(method, method, arrays, device=device, dtype=dtype, grad=differentiable)


_INPLACE_ALIASES = [
    "greater_", "greater_equal_", "less_", "less_equal_", "not_equal_", "arccos_", "arcsin_", "arctan_", "arctan2_",
    "arccosh_", "arcsinh_", "arctanh_", "acosh_", "asinh_", "atanh_", "exp2_", "erfc_", "logit_", "sinc_",
    "deg2rad_", "rad2deg_", "heaviside_", "copysign_", "hypot_", "xlogy_", "sgn_", "fix_", "clip_",
]  # fmt: skip


def _inplace_args(name, module, device=None):
    other = module.tensor([0.3, -0.2, 0.9], dtype=module.float64)
    if device is not None:
        other = other.to(device)
    if name in ("arctan2_", "heaviside_", "copysign_", "hypot_", "xlogy_") or name.startswith(
        ("greater", "less", "not")
    ):
        return (other,)
    return (-0.5, 0.5) if name == "clip_" else ()


@pytest.mark.parametrize("name", _INPLACE_ALIASES)
def test_inplace_methods(device, name):
    values = [1.5, 2.0, 3.0] if "cosh" in name else [0.25, -0.5, 0.75]
    if name in ("logit_",):
        values = [0.25, 0.5, 0.75]
    e = ember.tensor(values, dtype=ember.float64, device=device)
    t = torch.tensor(values, dtype=torch.float64)
    out = getattr(e, name)(*_inplace_args(name, ember, device))
    assert out is e
    getattr(t, name)(*_inplace_args(name, torch))
    assert_close(e, t)


def test_inplace_twin_gradient(device, dtype):
    def f(module):
        def run(x):
            y = (x * 1.0).exp2_()
            z = (y * 1.0).hypot_(x)
            return (z * 1.0).xlogy_(x + 2), (x * 1.0).deg2rad_(), (x * 1.0).copysign_(x - 0.5)

        return run

    check(f(ember), f(torch), [randn(5)], device=device, dtype=dtype)


def test_top_level_inplace_forms(device):
    names = [n for n in dir(torch) if n.endswith("_") and not n.startswith("_")]
    present = [n for n in names if hasattr(ember, n) and hasattr(ember.Tensor, n)]
    assert {"exp_", "sigmoid_", "abs_", "clip_", "arccos_", "xlogy_", "zero_", "fill_"} <= set(present)
    for name in ("exp_", "sigmoid_", "tanh_", "abs_", "neg_", "sqrt_", "arcsinh_", "logit_", "round_"):
        e = ember.tensor([0.25, 0.5, 0.75], dtype=ember.float64, device=device)
        t = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)
        assert getattr(ember, name)(e) is e
        getattr(torch, name)(t)
        assert_close(e, t)
    e = ember.zeros(3, device=device)
    ember.clip_(e, 1.0, 2.0)
    assert ember.equal(e.cpu(), ember.ones(3))


def test_moveaxis_and_row_stack(device, dtype):
    check(
        lambda x: ember.moveaxis(x, 0, -1),
        lambda x: torch.moveaxis(x, 0, -1),
        [randn(2, 3, 4)],
        device=device,
        dtype=dtype,
    )
    check(
        lambda x: x.moveaxis((0, 1), (2, 0)),
        lambda x: x.moveaxis((0, 1), (2, 0)),
        [randn(2, 3, 4)],
        device=device,
        dtype=dtype,
    )
    check(
        lambda a, b: ember.row_stack([a, b]),
        lambda a, b: torch.row_stack([a, b]),
        [randn(3), randn(3)],
        device=device,
        dtype=dtype,
    )


def _cases():
    return [
        ("conv1d", [randn(2, 3, 8), randn(4, 3, 3), randn(4)], (), {"stride": 2, "padding": 1}),
        ("conv2d", [randn(1, 3, 5, 5), randn(4, 3, 3, 3)], (), {"padding": "same", "dilation": 2}),
        ("conv3d", [randn(1, 2, 4, 4, 4), randn(3, 2, 2, 2, 2)], (), {}),
        ("conv_transpose1d", [randn(2, 4, 5), randn(4, 3, 3)], (), {"stride": 2}),
        ("conv_transpose2d", [randn(1, 4, 3, 3), randn(4, 2, 3, 3)], (), {"stride": 2, "output_padding": 1}),
        ("conv_transpose3d", [randn(1, 2, 2, 2, 2), randn(2, 2, 2, 2, 2)], (), {}),
        ("layer_norm", [randn(3, 5)], ([5],), {}),
        ("pixel_shuffle", [randn(1, 8, 2, 3)], (2,), {}),
        ("pixel_unshuffle", [randn(1, 2, 4, 6)], (2,), {}),
        ("prelu", [randn(2, 3, 4), randn(3)], (), {}),
        ("selu", [randn(3, 4)], (), {}),
        ("celu", [randn(3, 4)], (0.7,), {}),
        ("threshold", [randn(3, 4)], (0.1, -1.0), {}),
        ("pdist", [randn(5, 3)], (), {}),
        ("pairwise_distance", [randn(4, 3), randn(4, 3)], (1.5,), {}),
        ("cosine_similarity", [randn(4, 3), randn(4, 3)], (), {}),
        ("bilinear", [randn(2, 3), randn(2, 4), randn(5, 3, 4), randn(5)], (), {}),
        ("rms_norm", [randn(3, 5)], ([5],), {}),
        ("max_pool1d", [randn(2, 3, 8)], (3, 2, 1), {}),
        ("max_pool2d", [randn(1, 2, 6, 6)], (2,), {}),
        ("max_pool3d", [randn(1, 1, 4, 4, 4)], (2, [], 0, 1, True), {}),
        ("avg_pool1d", [randn(2, 3, 8)], (3, 2, 1, False, False), {}),
        ("adaptive_avg_pool1d", [randn(2, 3, 7)], (3,), {}),
        ("adaptive_max_pool1d", [randn(2, 3, 7)], (3,), {}),
    ]


@pytest.mark.parametrize("index", range(24), ids=[c[0] for c in _cases()])
def test_functional_at_top_level(device, dtype, index):
    name, arrays, args, kwargs = _cases()[index]

    def call(module):
        return lambda *tensors: getattr(module, name)(*tensors, *args, **kwargs)

    check(call(ember), call(torch), arrays, device=device, dtype=dtype)


def test_normalization_with_top_level_signatures(device, dtype):
    def norms(module):
        def run(x, w, b, mean, var):
            mean, var = mean.detach().abs(), var.detach().abs() + 0.5
            return (
                module.batch_norm(x, w, b, mean.clone(), var.clone(), True, 0.1, 1e-5, False),
                module.batch_norm(x, w, b, mean, var, False, 0.1, 1e-5, False),
                module.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
                module.group_norm(x, 2, w, b, 1e-5, False),
                module.layer_norm(x, [4, 5], None, None, 1e-5, False),
            )

        return run

    check(
        norms(ember), norms(torch), [randn(3, 4, 5), randn(4), randn(4), randn(4), randn(4)], device=device, dtype=dtype
    )


def test_losses_with_reduction_codes(device, dtype):
    x, t = randn(3, 4), randn(3, 4, low=0.05, high=0.95)
    for code in (None, 0, 1, 2):
        args = () if code is None else (code,)

        def losses(module, args=args):
            def run(x, t):
                return (
                    module.kl_div(x.log_softmax(1), t, *args),
                    module.kl_div(x, t, *args, log_target=True),
                    module.binary_cross_entropy_with_logits(x, t, None, None, *args),
                    module.binary_cross_entropy_with_logits(x, t, t.detach(), t.detach() + 1, *args),
                )

            return run

        check(losses(ember), losses(torch), [x, t], device=device, dtype=dtype)
    log_probs = randn(6, 2, 4)
    for args in ((), (0, 1), (0, 2)):

        def ctc(module, args=args):
            return lambda lp: module.ctc_loss(
                lp.log_softmax(2), module.tensor([[1, 2], [3, 3]], device=lp.device), [6, 5], [2, 2], *args
            )

        check(ctc(ember), ctc(torch), [log_probs], device=device, dtype=dtype)
    for module in (ember, torch):
        with pytest.raises(TypeError, match="kl_div.*reduction.*int"):
            module.kl_div(module.zeros(2), module.zeros(2), "mean")


def test_dropout_embedding_activations(device):
    x = ember.randn(3, 4, device=device)
    assert ember.equal(ember.dropout(x, 0.5, False), x)
    assert float((ember.dropout(ember.ones(1000, device=device), 0.5, True) == 0).float().mean()) == pytest.approx(
        0.5, abs=0.08
    )
    with pytest.raises(TypeError):
        ember.dropout(x, 0.5)
    y = ember.ones(4, device=device)
    assert ember.dropout_(y, 0.0, True) is y
    w = randn(5, 3)
    idx = np.array([[0, 4], [2, 2]])
    check(lambda w, i: ember.embedding(w, i), lambda w, i: torch.embedding(w, i), [w, idx], device=device)
    check(lambda w, i: ember.embedding(w, i, 2), lambda w, i: torch.embedding(w, i, 2), [w, idx], device=device)
    e, t = ember.tensor([-1.0, 0.5], device=device), torch.tensor([-1.0, 0.5])
    for name, args in (("selu_", ()), ("celu_", (0.5,)), ("threshold_", (0.0, 7.0)), ("rrelu_", (0.2, 0.2))):
        assert getattr(ember, name)(e, *args) is e
        getattr(torch, name)(t, *args)
    assert_close(e, t, ember.float32)
    assert_close(
        ember.rrelu(ember.tensor([-1.0, 2.0], device=device)), torch.rrelu(torch.tensor([-1.0, 2.0])), ember.float32
    )


@pytest.mark.parametrize("name", ["__div__", "__rdiv__", "__idiv__"])
def test_python2_division_operator_names(device, dtype, name):
    """PyTorch keeps ``__div__``, ``__rdiv__`` and ``__idiv__`` (OpInfo's ``__rdiv__`` entry calls them)."""
    data = np.array([2.0, -4.0, 0.5])
    for divisor in (3, 2.5):
        expected = getattr(torch.tensor(data, dtype=getattr(torch, dtype.name)), name)(divisor)
        x = ember.tensor(data, dtype=dtype, device=device)
        actual = getattr(x, name)(divisor)
        assert (actual is x) == (name == "__idiv__")
        assert_close(actual, expected)
