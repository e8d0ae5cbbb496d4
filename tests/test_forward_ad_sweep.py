"""Forward mode and second derivatives across tensor ops, against PyTorch: for each op of a table, the
tangent ``J t`` of dual inputs (``ember.autograd.forward_ad``) and the double backward
``d/dx <grad(f)(x) . v, w>`` equal torch's, in float64; complex duals; and the ops whose derivative
forward mode cannot give (a backward off the graph, ``out=``) raise PyTorch's error rather than
give a zero tangent."""

from __future__ import annotations

import operator
import re
import warnings

import numpy as np
import pytest
from complex_support import holds_complex
from reference import randn, reseed

import ember
import ember.autograd.forward_ad as fwAD
from ember.func import hessian, jacfwd, jacrev

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _inputs():
    reseed(7)


def _index(L, device, values):
    return L.tensor(values, device=device) if L is ember else L.tensor(values)


# name -> (fn(L, index, *xs), the inputs' shapes, needs complex dtypes); inputs are uniform in [0.2, 0.9)
OPS = {
    "fft": (lambda L, i, x: L.fft.fft(x), [(3, 4)], True),
    "ifft2": (lambda L, i, x: L.fft.ifft2(x), [(3, 4)], True),
    "rfft": (lambda L, i, x: L.fft.rfft(x, norm="ortho"), [(3, 4)], True),
    "irfft": (lambda L, i, x: L.fft.irfft(x), [(3, 4)], True),
    "irfftn": (lambda L, i, x: L.fft.irfftn(x, s=(3, 5)), [(3, 4)], True),
    "hfft": (lambda L, i, x: L.fft.hfft(x), [(3, 4)], True),
    "ihfft": (lambda L, i, x: L.fft.ihfft(x), [(3, 4)], True),
    "complex": (lambda L, i, x, y: L.complex(x, y) * L.complex(y, x), [(4,), (4,)], True),
    "polar": (lambda L, i, x, y: L.polar(x, y), [(4,), (4,)], True),
    "to complex": (lambda L, i, x: (x.to(L.complex128) * (1 + 2j)).exp(), [(4,)], True),
    "view_as_real": (lambda L, i, x, y: L.view_as_real(L.complex(x, y).sin()), [(4,), (4,)], True),
    "abs angle sgn": (
        lambda L, i, x, y: (L.complex(x, -y).abs(), L.complex(x, -y).angle(), L.complex(x, -y).sgn()),
        [(4,), (4,)],
        True,
    ),
    "vander complex": (lambda L, i, x, y: L.vander(L.complex(x, y), 3), [(3,), (3,)], True),
    "stft": (
        lambda L, i, x: L.stft(x, 8, return_complex=True, window=L.hann_window(8, dtype=x.dtype, device=x.device)),
        [(24,)],
        True,
    ),
    "eigvals": (lambda L, i, x: L.linalg.eigvals(x + 3 * L.eye(3, dtype=x.dtype, device=x.device)), [(3, 3)], True),
    "sin exp": (lambda L, i, x: x.sin() * x.exp(), [(3, 4)], False),
    "cat stack": (lambda L, i, x, y: (L.cat([x, y], 1), L.stack([x * y, y])), [(2, 3), (2, 3)], False),
    "gather scatter": (
        lambda L, i, x, y: (x.gather(1, i([[0, 2], [1, 1]])) ** 2, L.scatter(x, 1, i([[0, 2], [1, 0]]), y * y)),
        [(2, 3), (2, 2)],
        False,
    ),
    "index_add put": (
        lambda L, i, x, y: (L.index_add(x, 0, i([0, 0, 2]), y.exp(), alpha=2), L.index_put(x, (i([2, 0]),), y[:2])),
        [(3, 2), (3, 2)],
        False,
    ),
    "masked": (
        lambda L, i, x, y: (
            L.masked_scatter(x, i([True, False, True]), y.exp()),
            L.masked_select(x * x, i([True, False, True])),
        ),
        [(2, 3), (2, 3)],
        False,
    ),
    "where": (lambda L, i, x, y: L.where(x > 0.5, x * x, y.exp()), [(2, 3), (2, 3)], False),
    "addmm baddbmm": (
        lambda L, i, c, a, b: (L.addmm(c, a, b, beta=0.5, alpha=2), L.baddbmm(c, a.unsqueeze(0), b.unsqueeze(0))),
        [(2, 2), (2, 3), (3, 2)],
        False,
    ),
    "einsum": (lambda L, i, a, b: L.einsum("ij,jk->ik", a * a, b), [(2, 3), (3, 2)], False),
    "conv2d": (lambda L, i, x, w: L.conv2d(x, w, stride=2, padding=1), [(1, 2, 5, 5), (3, 2, 3, 3)], False),
    "conv_transpose1d": (lambda L, i, x, w: L.conv_transpose1d(x, w, stride=2), [(1, 2, 4), (2, 3, 3)], False),
    "layer_norm": (lambda L, i, x, w, b: L.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)], False),
    "cumprod logcumsumexp": (lambda L, i, x: (L.cumprod(x, 1), L.logcumsumexp(x, 1)), [(2, 4)], False),
    "topk kthvalue": (lambda L, i, x: (L.topk(x, 2, 1).values, L.kthvalue(x, 2, 1).values), [(2, 4)], False),
    "quantile": (lambda L, i, x: L.quantile(x, 0.3, dim=1), [(2, 5)], False),
    "norm dist": (lambda L, i, x, y: (L.norm(x, 3, 1), L.dist(x, y, 3)), [(2, 5), (2, 5)], False),
    "cov": (lambda L, i, x: L.cov(x), [(3, 5)], False),
    "special": (
        lambda L, i, x: (L.special.digamma(x), L.special.i1e(x), L.special.ndtri(x), L.special.erfcx(x)),
        [(5,)],
        False,
    ),
    "polygamma": (lambda L, i, x: L.polygamma(2, x), [(5,)], False),
    "solve det": (
        lambda L, i, a, b: (L.linalg.solve(a + 3 * L.eye(3, dtype=a.dtype, device=a.device), b), L.linalg.det(a)),
        [(3, 3), (3, 2)],
        False,
    ),
    "eigh": (  # eigenvectors up to sign (a backend's may differ from LAPACK's): v * v
        lambda L, i, a: (lambda w, v: (w, v * v))(*L.linalg.eigh(a @ a.mT + L.eye(3, dtype=a.dtype, device=a.device))),
        [(3, 3)],
        False,
    ),
    "clone then in place": (
        lambda L, i, x, y: (x.clone().mul_(2), L.masked_scatter(x, i([True, False]), y), x * 1),
        [(3, 2), (3, 2)],
        False,
    ),
}
SECOND_DERIVATIVE_FAILS_IN_TORCH = {"vander complex"}  # torch's double backward trips on its own in-place write


def _tensors(L, arrays, device, requires_grad=False):
    if L is ember:
        return [ember.tensor(a, dtype=ember.float64, device=device, requires_grad=requires_grad) for a in arrays]
    return [torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad) for a in arrays]


def _flat(out):
    return [o for item in out for o in _flat(item)] if isinstance(out, (tuple, list)) else [out]


def _differentiable(L, out):
    return [o for o in _flat(out) if isinstance(o, L.Tensor) and (o.dtype.is_floating_point or o.dtype.is_complex)]


def _tangents(L, fn, arrays, tangents, device):
    index = lambda values: _index(L, device, values)  # noqa: E731
    with L.autograd.forward_ad.dual_level():
        duals = [
            L.autograd.forward_ad.make_dual(p, t)
            for p, t in zip(_tensors(L, arrays, device), _tensors(L, tangents, device))
        ]
        return [L.autograd.forward_ad.unpack_dual(o).tangent for o in _differentiable(L, fn(L, index, *duals))]


def _second_derivatives(L, fn, arrays, device):
    """``d/dx sum(grad(f)(x, v) * w)`` for fixed cotangents ``v`` and weights ``w`` (seeded)."""
    rng = np.random.default_rng(3)
    xs = _tensors(L, arrays, device, requires_grad=True)
    outs = [o for o in _differentiable(L, fn(L, lambda v: _index(L, device, v), *xs)) if o.requires_grad]

    def like(t):
        values = rng.uniform(-1, 1, tuple(t.shape))
        if t.dtype.is_complex:
            values = values + 1j * rng.uniform(-1, 1, tuple(t.shape))
        return ember.tensor(values, device=device) if L is ember else torch.tensor(values)

    grads = L.autograd.grad(outs, xs, [like(o) for o in outs], create_graph=True, allow_unused=True)
    terms = [(g * like(g)).sum() for g in grads if g is not None and g.requires_grad]
    if not terms:  # a linear op
        return [None] * len(xs)
    return L.autograd.grad(sum(t.real if t.dtype.is_complex else t for t in terms), xs, allow_unused=True)


def _forward_over_reverse(L, fn, arrays, tangents, device):
    """The tangent of ``grad(f)(x) . v`` (for fixed cotangents ``v``) along the tangents: forward mode over
    backward mode, without create_graph."""
    rng = np.random.default_rng(4)
    fw = L.autograd.forward_ad
    with fw.dual_level():
        duals = [
            fw.make_dual(p.requires_grad_(), t)
            for p, t in zip(_tensors(L, arrays, device), _tensors(L, tangents, device))
        ]
        outs = [o for o in _differentiable(L, fn(L, lambda v: _index(L, device, v), *duals)) if o.requires_grad]
        cotangents = [rng.uniform(-1, 1, tuple(o.shape)) for o in outs]
        cotangents = [
            (ember.tensor(c, dtype=o.dtype, device=device) if L is ember else torch.tensor(c, dtype=o.dtype))
            for c, o in zip(cotangents, outs)
        ]
        grads = L.autograd.grad(outs, duals, cotangents, allow_unused=True)
        return [None if g is None else fw.unpack_dual(g).tangent for g in grads]


def _assert_same(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        if isinstance(a, type) or isinstance(e, type):  # an error's type (the sweep's outcome)
            assert a is e, (a, e)
            continue
        if e is None or a is None:  # no derivative: zeros on the other side (torch's for a piecewise-linear op)
            assert (a if e is None else e) is None or not (a if e is None else e).detach().cpu().numpy().any()
            continue
        assert str(a.dtype).split(".")[-1] == str(e.dtype).split(".")[-1]
        if e._is_zerotensor():  # torch's symbolic zeros, which numpy() refuses
            e = torch.zeros(e.shape, dtype=e.dtype)
        np.testing.assert_allclose(
            a.detach().cpu().numpy(), e.detach().resolve_conj().numpy(), rtol=1e-7, atol=1e-9, equal_nan=True
        )


@pytest.mark.parametrize("name", sorted(OPS))
def test_tangents_and_second_derivatives_as_torchs(name, device):
    fn, shapes, needs_complex = OPS[name]
    if needs_complex and not holds_complex(device):
        pytest.skip(f"{device} holds no complex dtypes")
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    arrays = [randn(*s, low=0.2, high=0.9) for s in shapes]
    tangents = [randn(*s) for s in shapes]
    _assert_same(_tangents(ember, fn, arrays, tangents, device), _tangents(torch, fn, arrays, tangents, "cpu"))
    if name not in SECOND_DERIVATIVE_FAILS_IN_TORCH:
        _assert_same(_second_derivatives(ember, fn, arrays, device), _second_derivatives(torch, fn, arrays, "cpu"))


COMPLEX_OPS = {
    "exp": lambda L, z, w: z.exp(),
    "mul div": lambda L, z, w: z * w / (w + 2),
    "conj": lambda L, z, w: z.conj() * w,
    "abs": lambda L, z, w: z.abs(),
    "angle": lambda L, z, w: z.angle(),
    "sgn": lambda L, z, w: z.sgn(),
    "real imag": lambda L, z, w: (z.real, (z * w).imag),
    "matmul": lambda L, z, w: z @ w.mH,
    "sum prod": lambda L, z, w: (z.sum(0), z.prod(1)),
    "view_as_real": lambda L, z, w: L.view_as_real(z.sin()),
    "fft": lambda L, z, w: L.fft.fft(z * w),
    "irfft": lambda L, z, w: L.fft.irfft(z),
    "pow": lambda L, z, w: z ** (1 - 0.5j),
}


@pytest.mark.parametrize("name", sorted(COMPLEX_OPS))
def test_complex_duals_as_torchs(name, device):
    if not holds_complex(device):
        pytest.skip(f"{device} holds no complex dtypes")
    fn = COMPLEX_OPS[name]
    z, w, t = (randn(2, 3) + 1j * randn(2, 3) for _ in range(3))
    results = []
    for L in (ember, torch):
        make = (lambda v: ember.tensor(v, device=device)) if L is ember else torch.tensor
        with L.autograd.forward_ad.dual_level():
            out = fn(L, L.autograd.forward_ad.make_dual(make(z), make(t)), make(w))
            results.append([L.autograd.forward_ad.unpack_dual(o).tangent for o in _flat(out)])
    _assert_same(*results)


def test_gradcheck_checks_complex_forward_mode():
    z = ember.tensor([[1 + 2j, 0.5 - 1j], [2 - 0.3j, -1 + 1j]], dtype=ember.complex128, requires_grad=True)
    w = ember.tensor([0.3 + 1j, -2 + 0.5j], dtype=ember.complex128)
    assert ember.autograd.gradcheck(
        lambda a: (a.exp() * w, a.abs(), a @ a.mT), (z,), check_forward_ad=True, check_backward_ad=False
    )


def test_sgn_double_backward_as_torchs():
    values = np.array([1 + 2j, 0.5 - 1j, -3 + 0.1j])
    grads = []
    for L in (ember, torch):
        z = L.tensor(values, requires_grad=True)
        (g,) = L.autograd.grad(z.sgn(), z, L.tensor(values[::-1].copy() * 0.5j), create_graph=True)
        grads.append(L.autograd.grad(g, z, L.tensor([1 + 1j, 0.5 + 0.25j, -1j])))
    _assert_same(*grads)


class _OffTheGraph(ember.autograd.Function):
    """An op as ember's own are written (no user-Function checks), whose backward computes off the graph,
    as a backward on native arrays does: the double-backward trick would give it a zero tangent."""

    _validates_gradients = False

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad.detach() * 2


def test_backward_off_the_graph_refuses_forward_mode():
    """Forward mode refuses such an op with PyTorch's error for an op without a forward formula (as
    torch's for ctc_loss: "Trying to use forward AD with _ctc_loss that does not support it"), and
    the transforms built on the double-backward trick refuse it too, rather than give zeros."""
    x = ember.tensor([0.5, 1.5], dtype=ember.float64)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, ember.ones(2, dtype=ember.float64))
        with pytest.raises(NotImplementedError, match="Trying to use forward AD with OffTheGraphBackward0 that does"):
            _OffTheGraph.apply(dual)
    with pytest.raises(NotImplementedError, match="jvp.*Trying to use forward AD with an op whose backward"):
        ember.func.jvp(_OffTheGraph.apply, (x,), (x,))
    with pytest.raises(NotImplementedError, match="linearize.*Trying to use forward AD with an op whose backward"):
        ember.func.linearize(_OffTheGraph.apply, x)
    with pytest.raises(RuntimeError, match="the derivative of an op's backward is not implemented"):
        ember.autograd.functional.jvp(_OffTheGraph.apply, x, x)


@pytest.mark.parametrize("op", ["floor", "ceil", "round", "trunc", "sign"])
def test_zero_derivatives_give_zero_tangents(op):
    with fwAD.dual_level():
        dual = fwAD.make_dual(ember.tensor([0.3, -1.7, 2.5], dtype=ember.float64), ember.ones(3, dtype=ember.float64))
        tangent = fwAD.unpack_dual(getattr(dual, op)()).tangent
    assert tangent is not None and tangent.tolist() == [0.0, 0.0, 0.0]


def test_out_argument_refuses_duals():
    for L in (ember, torch):
        with L.autograd.forward_ad.dual_level():
            dual = L.autograd.forward_ad.make_dual(L.ones(3, dtype=L.float64), L.ones(3, dtype=L.float64))
            with pytest.raises(NotImplementedError, match="exp_out that does not support it because it is an out="):
                L.exp(dual, out=L.empty(3, dtype=L.float64))
            L.exp(L.ones(3), out=L.empty(3))  # not dual: fine


@pytest.mark.parametrize("transform", ["jacfwd", "jacrev", "hessian"])
def test_jacobians_refuse_complex_inputs(transform):
    for L, make in ((ember, {"jacfwd": jacfwd, "jacrev": jacrev, "hessian": hessian}), (torch, None)):
        fn = make[transform] if make else getattr(torch.func, transform)
        api = "jacrev" if transform == "jacrev" else "jacfwd"
        with pytest.raises(RuntimeError, match=f"{api}: Expected all inputs to be real but received complex"):
            fn(lambda a: a.abs().sum())(L.tensor([1 + 2j, 3 - 1j]))


def test_jacrev_refuses_complex_outputs():
    with pytest.raises(RuntimeError, match="jacrev: Expected all outputs to be real but received complex"):
        jacrev(lambda a: a * 1j)(ember.tensor([1.0, 2.0]))


def test_tangent_keeps_its_dtype():
    results = []
    for L in (ember, torch):
        with L.autograd.forward_ad.dual_level():
            dual = L.autograd.forward_ad.make_dual(L.ones(3, dtype=L.float64), L.tensor([1.0, 2.0, 3.0]))
            results.append(
                (
                    L.autograd.forward_ad.unpack_dual(dual).tangent,
                    L.autograd.forward_ad.unpack_dual(dual.sin()).tangent,
                )
            )
    _assert_same(*results)
    with fwAD.dual_level(), pytest.raises(NotImplementedError, match="complex128 for a primal of dtype ember.float64"):
        fwAD.make_dual(ember.ones(2, dtype=ember.float64), ember.ones(2, dtype=ember.complex128))


def test_nan_derivative_gives_nan_tangent():
    """logit's derivative is NaN outside [0, 1]: its tangent there is NaN (it was 0, the derivative of a
    constant NaN branch in grad)."""
    results = []
    for L in (ember, torch):
        with L.autograd.forward_ad.dual_level():
            dual = L.autograd.forward_ad.make_dual(
                L.tensor([-0.5, 0.3, 1.5], dtype=L.float64), L.tensor([1.0, 2.0, 3.0], dtype=L.float64)
            )
            results.append([L.autograd.forward_ad.unpack_dual(L.logit(dual)).tangent])
    _assert_same(*results)


FORWARD_OVER_REVERSE = {
    "exp": lambda L, x: x.exp(),
    "tanh sigmoid": lambda L, x: x.tanh() * x.sigmoid(),
    "sqrt rsqrt": lambda L, x: x.sqrt() + x.rsqrt(),
    "softmax": lambda L, x: L.softmax(x, 1),
    "log_softmax": lambda L, x: L.log_softmax(x, 0),
    "logsumexp": lambda L, x: L.logsumexp(x, 1),
    "cumprod": lambda L, x: L.cumprod(x, 1),
    "norm": lambda L, x: L.linalg.vector_norm(x, dim=1),
    "mlp": lambda L, x: L.nn.functional.gelu(x @ x.mT).sum(1),
    "linear relu": lambda L, x: L.nn.functional.linear(L.relu(x - 0.5), x[:2] * x[:2], x[0, :2]),
    "mean": lambda L, x: (x * x).mean(0),
    "layer_norm": lambda L, x: L.nn.functional.layer_norm(x * x, (4,)),
    "batch_norm": lambda L, x: L.nn.functional.batch_norm(x * x, None, None, training=True),
    "sdpa": lambda L, x: L.nn.functional.scaled_dot_product_attention(x[None], x[None] * x[None], x[None]),
    "cross_entropy": lambda L, x: L.nn.functional.cross_entropy(x * x, L.tensor([0, 3, 1], device=x.device)),
    "svdvals": lambda L, x: L.linalg.svdvals(x * x),
}


@pytest.mark.parametrize("name", sorted(FORWARD_OVER_REVERSE))
def test_forward_over_reverse_as_torchs(name, device):
    """A Hessian-vector product by forward mode over backward mode: the tangent of ``grad(f)(x)``, without
    create_graph. Ops that save their output for backward (exp, tanh, softmax) gave it no tangent there,
    and backward formulas computed on native arrays when no graph was built gave none at all."""
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    fn = FORWARD_OVER_REVERSE[name]
    x, t = randn(3, 4, low=0.2, high=0.9), randn(3, 4)
    products = []
    for L in (ember, torch):
        make = (lambda v: ember.tensor(v, device=device)) if L is ember else torch.tensor
        with L.autograd.forward_ad.dual_level():
            dual = L.autograd.forward_ad.make_dual(make(x).requires_grad_(), make(t))
            out = fn(L, dual)
            (grad,) = L.autograd.grad(out, dual, make(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape))))
            products.append([L.autograd.forward_ad.unpack_dual(grad).tangent])
    _assert_same(*products)


def test_gradgradcheck_checks_forward_over_reverse():
    x = ember.tensor([0.3, 0.7, 1.1], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda a: (a * a.exp()).cumsum(0), (x,), check_fwd_over_rev=True, check_rev_over_rev=False,
        check_undefined_grad=False,
    )  # fmt: skip


def test_gradcheck_arguments_as_torchs():
    for L in (ember, torch):
        x = L.tensor([0.3, 0.7], dtype=L.float64, requires_grad=True)
        with pytest.raises(AssertionError, match="Expected at least one of check_forward_ad or check_backward_ad"):
            L.autograd.gradcheck(L.sin, (x,), check_forward_ad=False, check_backward_ad=False)
        with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to require gradient"):
            L.autograd.gradcheck(L.sin, (x.detach(),))
        with pytest.raises(TypeError, match="unexpected keyword argument 'tolerance'"):
            L.autograd.gradcheck(L.sin, (x,), tolerance=1e-3)
        with pytest.raises(AssertionError, match="Expected at least one of check_fwd_over_rev or check_rev_over_rev"):
            L.autograd.gradgradcheck(L.sin, (x,), check_rev_over_rev=False)
        with pytest.raises(AssertionError, match="check_undefined_grad=True requires check_rev_over_rev"):
            L.autograd.gradgradcheck(L.sin, (x,), check_fwd_over_rev=True, check_rev_over_rev=False)
        assert L.autograd.gradcheck(L.sin, (x,), fast_mode=True, nondet_tol=1e-9, check_batched_grad=False)


def test_geometry_changes_refuse_duals():
    """resize_ and set_ would leave a tangent of the old shape: PyTorch refuses them on dual tensors."""
    for L in (ember, torch):
        with L.autograd.forward_ad.dual_level():
            dual = L.autograd.forward_ad.make_dual(L.ones(2, 3, dtype=L.float64), L.ones(2, 3, dtype=L.float64))
            with pytest.raises(RuntimeError, match="cannot resize variables that has a forward grad"):
                dual.resize_(3, 2)
            with pytest.raises(RuntimeError, match="cannot resize variables that has a forward grad"):
                dual.resize_as_(L.ones(6))
            with pytest.raises(NotImplementedError, match="Trying to use forward AD with set_"):
                dual.set_(L.ones(4, dtype=L.float64))
            assert L.ones(2).resize_(3).shape == (3,)  # not dual: fine


@pytest.mark.parametrize("what", ["primals", "tangents"])
def test_jvp_refuses_numbers_as_torch(what):
    for L in (ember, torch):
        x = L.ones(2, dtype=L.float64)
        primals, tangents = ((1.0,), (x,)) if what == "primals" else ((x,), (1.0,))
        with pytest.raises(RuntimeError, match=f"Expected {what} to only contain Tensors, got <class 'float'>"):
            L.func.jvp(lambda a: a, primals, tangents)


# -- the whole namespace: every function of torch's that ember has, on the first input form it takes ------
_FORMS = [(3, 4)], [(3, 4), (3, 4)], [(3, 4), (4, 3)], [(3, 3)], [(4,)]
#: names whose tangent or second derivative differ from torch's on purpose, or where torch's sweep breaks
_SWEEP_SKIPS = {
    # random, or iterative with random starts
    "pca_lowrank": "random", "svd_lowrank": "random", "lobpcg": "random", "binomial": "random",
    # torch refuses forward mode or double backward; ember's derivative exists (zero or exact)
    "floor_divide": "torch refuses", "heaviside": "torch refuses", "cdist": "torch refuses",
    "pdist": "torch refuses", "cholesky": "torch refuses", "geqrf": "torch refuses", "igamma": "torch refuses",
    "igammac": "torch refuses", "unique": "torch refuses", "unique_consecutive": "torch refuses",
    "detach_copy": "torch refuses", "gammainc": "torch refuses", "gammaincc": "torch refuses", "zeta": "torch refuses",
    "eig": "its eigenvectors' phase makes a random cotangent's loss ill-defined",
    "eigh": "eigenvectors up to sign (the table's case compares v * v)",
    # Tensor methods: torch refuses forward mode for these in-place forms, or keeps the input's tangent
    # through an in-place logical op (ember: zero, the derivative of a piecewise-constant op)
    "acosh_": "torch refuses", "arccosh_": "torch refuses", "asinh_": "torch refuses", "arcsinh_": "torch refuses",
    "atanh_": "torch refuses", "arctanh_": "torch refuses", "floor_divide_": "torch refuses",
    "heaviside_": "torch refuses", "igamma_": "torch refuses", "igammac_": "torch refuses",
    "resize_as": "torch refuses", "to_sparse": "torch refuses", "to_sparse_coo": "torch refuses",
    "to_sparse_csr": "torch refuses", "to_sparse_csc": "torch refuses", "bfloat16": "torch's numpy() refuses bfloat16",
    "logical_and_": "torch quirk", "logical_or_": "torch quirk", "logical_xor_": "torch quirk",
    "logical_not_": "torch quirk", "gumbel_softmax": "random", "rrelu": "random", "hardsigmoid": "torch refuses",
    "adaptive_avg_pool2d": "torch takes a 2-D input ember refuses (ember.nn's business)",
    # torch's tangent reads the whole matrix although the op reads one triangle; ember's matches finite
    # differences
    "triangular_solve": "torch quirk", "cholesky_inverse": "torch quirk",
    "vander": "torch's double backward trips on its own in-place write",
    "spmm": "ember takes a sparse matrix only", "histogram": "ember needs bins", "sparse_coo_tensor": "not an op",
    "dequantize": "torch refuses (of a float tensor: a cast to float32, whose tangent ember carries)",
    "chalf": "ember has no complex32: it raises",
}  # fmt: skip
#: torch refuses forward over reverse (silu_backward, huber_loss_backward and the like have no forward
#: formula), gives no tangent (logdet's, without create_graph) or a wrong one (det's without create_graph,
#: against finite differences); ember's agree with its second derivatives
_FORWARD_OVER_REVERSE_SKIPS = {"silu", "mish", "logit", "logit_", "logdet", "slogdet", "det", "huber_loss"}
#: random ops, factories, and the functions that change global state (print options, default dtype, threads,
#: seeds, flags): the sweep calls every name with tensors, and a setter given one would outlive the test
_SKIPPED_NAMES = re.compile(
    r"^_|rand|dropout|normal|bernoulli|multinomial|poisson|_like$|^new_|^empty|^zeros|^ones|^full"
    r"|^set_|^use_|seed|^init_|^compile|^export|^load|^save|^register|^enable|^disable|_enabled$|anomaly"
)


def _outcome(derivatives, L):
    """``derivatives(L)``, or the type of the error it raises (errors agree when their types do)."""
    try:
        return derivatives(L)
    except Exception as error:  # noqa: BLE001
        return [type(error)]


def _sweep_form(fn):
    """The first input form on which torch's function ``fn`` gives a differentiable output."""
    for shapes in _FORMS:
        try:
            xs = [torch.full(s, 0.5, dtype=torch.float64, requires_grad=True) for s in shapes]
            outs = _differentiable(torch, fn(*xs))
        except Exception:  # noqa: BLE001 - any refusal: try the next form
            continue
        if any(o.requires_grad for o in outs):
            return shapes
    return None


def _method(name):
    """``Tensor.name`` as a function of tensors; an in-place one on a copy of its first argument."""
    if name.endswith("_"):
        return lambda x, *rest: getattr(x.clone(), name)(*rest)
    return lambda x, *rest: getattr(x, name)(*rest)


class _Methods:
    """The Tensor methods of ``module`` (torch or ember) as a namespace of functions."""

    def __init__(self, module):
        self.tensor = module.Tensor

    def __dir__(self):
        return [n for n in dir(self.tensor) if callable(getattr(self.tensor, n, None))]

    def __getattr__(self, name):
        getattr(self.tensor, name)  # AttributeError where the class has none
        return _method(name)


@pytest.mark.parametrize(
    "namespace,least",
    [("", 150), ("special", 20), ("fft", 15), ("linalg", 20), ("nn.functional", 35), ("Tensor", 200)],
)
def test_sweep_of_the_namespace_as_torchs(namespace, least):
    """Tangents, second derivatives and forward over reverse of every function torch and ember share, on
    random inputs in [0.2, 0.9): a silent zero tangent (a backward off the graph) or a wrong one shows up."""
    reseed(5)
    spaces = {
        m: _Methods(m) if namespace == "Tensor" else operator.attrgetter(namespace)(m) if namespace else m
        for m in (torch, ember)
    }
    tspace, espace = spaces[torch], spaces[ember]
    names = [n for n in sorted(dir(tspace)) if not _SKIPPED_NAMES.search(n) and n not in _SWEEP_SKIPS]
    checked, failures = 0, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            if not callable(getattr(tspace, name)) or not callable(getattr(espace, name, None)):
                continue
            shapes = _sweep_form(getattr(tspace, name))
            if shapes is None:
                continue
            arrays = [randn(*s, low=0.2, high=0.9) for s in shapes]
            tangents = [randn(*s) for s in shapes]
            # square matrices symmetric and well conditioned, with symmetric tangents: cholesky and eigh
            # read one triangle, and torch's and ember's formulas differ for the other one
            arrays = [a + a.T + 3 * np.eye(3) if a.shape == (3, 3) else a for a in arrays]
            tangents = [t + t.T if t.shape == (3, 3) else t for t in tangents]
            fn = lambda L, i, *xs, n=name: getattr(spaces[L], n)(*xs)  # noqa: E731
            for derivatives in (
                lambda L, fn=fn, arrays=arrays, tangents=tangents: _tangents(L, fn, arrays, tangents, "cpu"),
                lambda L, fn=fn, arrays=arrays: _second_derivatives(L, fn, arrays, "cpu"),
                lambda L, fn=fn, arrays=arrays, tangents=tangents: _forward_over_reverse(
                    L, fn, arrays, tangents, "cpu"
                ),
            )[: 2 if name in _FORWARD_OVER_REVERSE_SKIPS else 3]:
                try:
                    _assert_same(*(_outcome(derivatives, L) for L in (ember, torch)))
                except Exception as error:  # noqa: BLE001 - collected, reported together
                    failures.append(f"{name}: {type(error).__name__}: {str(error).strip()[:200]}")
            checked += 1
    assert checked >= least, checked
    assert not failures, "\n".join(failures)
