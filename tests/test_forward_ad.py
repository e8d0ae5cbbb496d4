"""ember.autograd.forward_ad against torch.autograd.forward_ad: tangents of ops on dual tensors
(element-wise, matmul, reductions, views, softmax, conv2d, an MLP), the autograd state of duals
and results, backward mode beside forward mode, grad modes, in-place ops and views, custom
Functions' jvp, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, randn, reseed

import ember
import ember.autograd.forward_ad as fwAD
import ember.nn.functional as F

torch = pytest.importorskip("torch")
tfwAD = torch.autograd.forward_ad
TF = torch.nn.functional


@pytest.fixture(autouse=True)
def _inputs():
    reseed(11)


def _pair(array, device, requires_grad=False):
    e = ember.tensor(array, dtype=ember.float64, device=device, requires_grad=requires_grad)
    t = torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad)
    return e, t


def _duals(lib, level, arrays, device):
    """Dual tensors of ``lib`` made from ``(primal, tangent)`` array pairs, in float64."""
    out = []
    for primal, tangent in arrays:
        if lib is ember:
            out.append(
                level.make_dual(
                    ember.tensor(primal, dtype=ember.float64, device=device),
                    ember.tensor(tangent, dtype=ember.float64, device=device),
                )
            )
        else:
            out.append(level.make_dual(torch.tensor(primal), torch.tensor(tangent)))
    return out


class _On:
    """ember, with ``tensor`` making its tensors (indices) on ``device``."""

    def __init__(self, device):
        self.device = device

    def __getattr__(self, name):
        return getattr(ember, name)

    def tensor(self, data):
        return ember.tensor(data, device=self.device)


def _flat(out):
    return [o for item in out for o in _flat(item)] if isinstance(out, (tuple, list)) else [out]


# fn(lib, functional, *duals) -> a tensor or tuple; shapes of the dual inputs
CASES = {
    "sin": (lambda L, F, x: x.sin(), [(3, 4)]),
    "exp_log": (lambda L, F, x: (x.exp() + 1).log(), [(3, 4)]),
    "mul_div": (lambda L, F, x, y: x * y / (y * y + 1), [(3, 4), (3, 4)]),
    "broadcast": (lambda L, F, x, y: x - y, [(3, 4), (4,)]),
    "pow": (lambda L, F, x, y: (x * x + 1).pow(y), [(3,), (3,)]),
    "tanh_sigmoid": (lambda L, F, x: x.tanh() * x.sigmoid(), [(5,)]),
    "relu_abs": (lambda L, F, x: F.relu(x) + x.abs(), [(6,)]),
    "where_clamp": (lambda L, F, x, y: L.where(x > 0, x, y).clamp(-0.5, 0.5), [(6,), (6,)]),
    "sqrt": (lambda L, F, x: (x * x + 1).sqrt(), [(4,)]),
    "matmul": (lambda L, F, x, w: x @ w, [(3, 4), (4, 2)]),
    "bmm": (lambda L, F, x, w: L.bmm(x, w), [(2, 3, 4), (2, 4, 2)]),
    "sum_mean": (lambda L, F, x: (x.sum(), x.mean(1), x.sum((0, 1), keepdim=True)), [(3, 4)]),
    "max_prod": (lambda L, F, x: (x.max(1).values, x.prod(0), x.amax()), [(3, 4)]),
    "var_norm": (lambda L, F, x: (x.var(0), x.norm(), L.logsumexp(x, 1)), [(3, 4)]),
    "cumsum": (lambda L, F, x: x.cumsum(1), [(3, 4)]),
    "views": (
        lambda L, F, x: (
            x.t(),
            x[1:, ::2],
            x.reshape(4, 3),
            x.permute(1, 0),
            x.unsqueeze(0).expand(2, 3, 4),
            x.narrow(1, 1, 2),
            x.select(0, 1),
            x.diagonal(),
            x.view(-1),
        ),
        [(3, 4)],
    ),
    "split": (lambda L, F, x: x.split(2, 1), [(3, 4)]),
    "cat_stack": (lambda L, F, x, y: (L.cat([x, y]), L.stack([x, y], 1)), [(2, 3), (2, 3)]),
    "indexing": (
        lambda L, F, x: (
            x[L.tensor([0, 2, 0])],
            x.index_select(1, L.tensor([3, 1])),
            x.gather(1, L.tensor([[0], [1], [3]])),
        ),
        [(3, 4)],
    ),
    "softmax": (lambda L, F, x: (F.softmax(x, 1), F.log_softmax(x, 0)), [(3, 5)]),
    "conv2d": (lambda L, F, x, w, b: F.conv2d(x, w, b, stride=1, padding=1), [(2, 3, 5, 5), (4, 3, 3, 3), (4,)]),
    "mlp": (
        lambda L, F, x, w1, b1, w2: F.linear(F.linear(x, w1, b1).tanh(), w2).sum(1),
        [(5, 4), (8, 4), (8,), (3, 8)],
    ),
    "mse": (lambda L, F, x, y: F.mse_loss(x, y), [(4, 3), (4, 3)]),
    # composites that reshape to the same shape (a view made without recording when nothing requires grad)
    "same_shape_reshape": (
        lambda L, F, x, y: (
            x.reshape(3, 4),
            x.repeat(2, 1),
            x.repeat_interleave(2),
            x.median(),
            L.take_along_dim(x, L.tensor([[0], [1], [3]]), 1),
            x.masked_select(x > 0),
            L.linalg.cross(x[:, :3], y[:, :3]),
            L.linalg.solve(x[:, :3], y),
            F.prelu(x, y[0]),
        ),
        [(3, 4), (3, 4)],
    ),
    # backward formulas that select by the gradient's value (zero where it is zero)
    "det_logcumsumexp": (lambda L, F, x: (L.linalg.det(x), x.logcumsumexp(1)), [(3, 3)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_tangents_equal_torchs(case, device):
    fn, shapes = CASES[case]
    arrays = [(randn(*s), randn(*s)) for s in shapes]
    with fwAD.dual_level():
        out = _flat(fn(_On(device), F, *_duals(ember, fwAD, arrays, device)))
        e = [(fwAD.unpack_dual(o).primal, fwAD.unpack_dual(o).tangent) for o in out]
    with tfwAD.dual_level():
        expected = [tfwAD.unpack_dual(o) for o in _flat(fn(torch, TF, *_duals(torch, tfwAD, arrays, None)))]
    assert len(e) == len(expected)
    for i, ((primal, tangent), (tp, tt)) in enumerate(zip(e, expected)):
        assert_close(primal, tp, what=f"{case}: primal {i}")
        assert tangent is not None, f"{case}: output {i} has no tangent"
        assert tangent.dtype is ember.float64
        assert_close(tangent, tt, what=f"{case}: tangent {i}")


@pytest.mark.parametrize("case", ["sin", "views", "softmax", "mlp"])
def test_only_some_inputs_dual(case, device):
    """Inputs that are not dual carry no tangent: the tangent is J t over the dual ones."""
    fn, shapes = CASES[case]
    arrays = [(randn(*s), randn(*s)) for s in shapes]
    with fwAD.dual_level():
        inputs = _duals(ember, fwAD, arrays[:1], device) + [ember.tensor(p, device=device) for p, _ in arrays[1:]]
        out = [fwAD.unpack_dual(o).tangent for o in _flat(fn(_On(device), F, *inputs))]
    with tfwAD.dual_level():
        inputs = _duals(torch, tfwAD, arrays[:1], None) + [torch.tensor(p) for p, _ in arrays[1:]]
        expected = [tfwAD.unpack_dual(o).tangent for o in _flat(fn(torch, TF, *inputs))]
    for tangent, tt in zip(out, expected):
        assert_close(tangent, tt)


def test_float32(device):
    x, t = randn(3, 4), randn(3, 4)
    with fwAD.dual_level():
        d = fwAD.make_dual(
            ember.tensor(x, dtype=ember.float32, device=device), ember.tensor(t, dtype=ember.float32, device=device)
        )
        tangent = fwAD.unpack_dual(F.softmax(d.sin(), 1)).tangent
    with tfwAD.dual_level():
        d = tfwAD.make_dual(torch.tensor(x, dtype=torch.float32), torch.tensor(t, dtype=torch.float32))
        expected = tfwAD.unpack_dual(TF.softmax(d.sin(), 1)).tangent
    assert tangent.dtype is ember.float32
    assert_close(tangent, expected)


def test_unpack_and_state_of_duals(device):
    """A dual is a view of its primal with the primal's autograd state; results likewise."""
    x = ember.tensor([1.0, 2.0], device=device)
    t = ember.tensor([0.5, -1.0], device=device)
    assert fwAD.unpack_dual(x) == (x, None) and fwAD.unpack_dual(x).primal is x  # outside a level
    with fwAD.dual_level() as level:
        assert level == 0
        d = fwAD.make_dual(x, t)
        assert (d.requires_grad, d.grad_fn, d.is_leaf, d._base is x) == (False, None, True, True)
        primal, tangent = fwAD.unpack_dual(d)
        assert tangent is t and primal._base is x and fwAD.unpack_dual(primal).tangent is None
        assert fwAD.unpack_dual(x).tangent is None
        y = d * 2
        assert (y.requires_grad, y.grad_fn, y.is_leaf) == (False, None, True)
        primal = fwAD.unpack_dual(y).primal
        assert primal._base is y and fwAD.unpack_dual(primal).tangent is None
        assert "tangent=tensor([ 1., -2.]" in repr(y)
        for no_tangent in (d.detach(), d.data, d.argmax(), d > 0, d.long(), ember.zeros_like(d)):
            assert fwAD.unpack_dual(no_tangent).tangent is None
        assert type(fwAD.unpack_dual(d)).__name__ == "UnpackedDualTensor"
    assert fwAD.unpack_dual(d).tangent is None and fwAD.unpack_dual(y).tangent is None
    assert "tangent" not in repr(y)


def test_tangent_kept_in_the_primal_layout(device):
    with fwAD.dual_level():
        tangent = ember.ones(3, 2, device=device).t()
        d = fwAD.make_dual(ember.zeros(2, 3, device=device), tangent)
        kept = fwAD.unpack_dual(d).tangent
        assert kept is not tangent and kept.stride() == (3, 1)
        assert_close(kept, torch.ones(2, 3, dtype=torch.float32))


def test_backward_mode_beside_forward_mode(device):
    """A dual of a tensor that requires grad records the graph as a view; the primal's gradient
    and the gradient through the tangent (backward over forward) are torch's."""
    xa, ta = randn(3), randn(3)
    x, tx = _pair(xa, device, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ember.tensor(ta, dtype=ember.float64, device=device))
        assert d.requires_grad and d.grad_fn is not None and not d.is_leaf
        y = (d.sin() * d).sum()
        y.backward(retain_graph=True)
        grad = x.grad.clone()
        tangent = fwAD.unpack_dual(y).tangent
        assert tangent.requires_grad
        tangent.backward()
    with tfwAD.dual_level():
        d = tfwAD.make_dual(tx, torch.tensor(ta))
        y = (d.sin() * d).sum()
        y.backward(retain_graph=True)
        expected = tx.grad.clone()
        expected_tangent = tfwAD.unpack_dual(y).tangent
        expected_tangent.backward()
    assert_close(grad, expected)
    assert_close(tangent, expected_tangent)
    assert_close(x.grad, tx.grad)


def test_tangent_that_requires_grad(device):
    with fwAD.dual_level():
        t = ember.ones(3, device=device, requires_grad=True)
        d = fwAD.make_dual(ember.tensor([1.0, 2.0, 3.0], device=device), t)
        assert not d.requires_grad
        out = fwAD.unpack_dual((d * d).sum()).tangent
        out.backward()
    assert_close(t.grad, torch.tensor([2.0, 4.0, 6.0]))


def test_grad_modes(device):
    """no_grad keeps forward mode (as torch's); inference mode turns it off."""
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor([0.0, 1.0], device=device), ember.ones(2, device=device))
        with ember.no_grad():
            assert_close(fwAD.unpack_dual(d.sin()).tangent, torch.tensor([1.0, 0.5403023]))
        with ember.inference_mode():
            assert fwAD.unpack_dual(d.sin()).tangent is None


def _inplace_cases(L, level, device):
    """What torch's in-place ops do to tangents: the written tensor's tangent (a view's, through its base's)."""
    kwargs = {} if L is torch else {"device": device}
    ones = lambda *s: L.ones(*s, dtype=L.float64, **kwargs)  # noqa: E731
    zeros = lambda *s: L.zeros(*s, dtype=L.float64, **kwargs)  # noqa: E731
    arange = lambda n: L.arange(n, dtype=L.float64, **kwargs)  # noqa: E731
    T = lambda a: level.unpack_dual(a).tangent  # noqa: E731
    out = {}
    d = level.make_dual(arange(3), arange(3) + 1)
    kept = T(d)
    d.mul_(2)
    out["mul_"] = (T(d), T(d) is kept)
    base = level.make_dual(arange(6).reshape(2, 3), ones(2, 3))
    kept = T(base)
    base[0].mul_(3)
    out["view mul_"] = (T(base), T(base) is kept)
    source = level.make_dual(ones(3), arange(3) + 5)
    b = zeros(2, 3)
    b[1] = source
    out["setitem into plain"] = T(b)
    b = zeros(2, 3)
    earlier = b[1]
    b[0].copy_(source)
    out["copy_ into a view of plain"] = (T(b), T(earlier))
    b = zeros(3)
    b.add_(source)
    out["add_ into plain"] = T(b)
    b = level.make_dual(zeros(2, 3), zeros(2, 3))
    view = b[1]
    b.add_(source)
    out["base write seen by its view"] = T(view)
    for name in ("fill_", "zero_", "uniform_", "copy_"):
        d = level.make_dual(ones(3), arange(3))
        args = {"fill_": (2.0,), "zero_": (), "uniform_": (), "copy_": (zeros(3),)}[name]
        getattr(d, name)(*args)
        out[name] = T(d)
    d = level.make_dual(ones(3), arange(3))
    d[1] = 5.0
    out["setitem number"] = T(d)
    d = level.make_dual(ones(2, 3), arange(6).reshape(2, 3))
    d.t_()
    out["t_"] = T(d)
    d = level.make_dual(ones(2, 3), arange(6).reshape(2, 3))
    d.unsqueeze_(0)
    out["unsqueeze_"] = T(d)
    x = zeros(3)
    d = level.make_dual(x, arange(3))
    d[0:2].mul_(3)
    out["view of a dual made from a plain tensor"] = (T(d), T(x))
    with L.no_grad():
        d = level.make_dual(ones(3), arange(3))
        d.mul_(d)
        out["no_grad mul_"] = T(d)
    y = level.make_dual(ones(3), arange(3)) * 2
    primal = level.unpack_dual(y).primal
    primal.mul_(2)
    out["primal mul_"] = (T(y), T(primal))
    primal.copy_(source)  # a primal has a tangent of its own, not its base's
    out["primal copy_"] = (T(y), T(primal))
    y.detach_()
    out["detach_"] = T(y)
    return out


def test_inplace_and_views(device):
    with fwAD.dual_level():
        got = _inplace_cases(ember, fwAD, device)
    with tfwAD.dual_level():
        expected = _inplace_cases(torch, tfwAD, None)
    assert got.keys() == expected.keys()
    for name in expected:
        for g, e in zip(_flat(got[name]), _flat(expected[name])):
            if isinstance(e, bool) or e is None:
                assert g is e, name
            else:
                assert_close(g, e, what=name)
                assert g.stride() == e.stride(), name


def test_inplace_with_backward_recording(device):
    """An in-place op on a dual view while the graph is recorded: tangents and gradients are torch's."""
    xa, ta, ya, tya = randn(2, 3), randn(2, 3), randn(3), randn(3)
    results = []
    for L, level in ((ember, fwAD), (torch, tfwAD)):
        kwargs = {"device": device} if L is ember else {}
        x = L.tensor(xa, requires_grad=True, **kwargs)
        y = L.tensor(ya, requires_grad=True, **kwargs)
        with level.dual_level():
            d = level.make_dual(x.clone(), L.tensor(ta, **kwargs))
            e = level.make_dual(y, L.tensor(tya, **kwargs))
            d.mul_(e)
            out = d.sin()
            out[1].mul_(e)  # out is no view: ember's views of views do not see a write through another view
            tangent = level.unpack_dual(out).tangent
            out.sum().backward()
            results.append((tangent, x.grad, y.grad))
    for got, expected in zip(*results):
        assert_close(got, expected)


class _Scale(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, k):
        ctx.save_for_forward(x, y)
        ctx.k = k
        return x * y * k, x + 1

    @staticmethod
    def backward(ctx, g, h):
        raise AssertionError("forward mode does not call backward")

    @staticmethod
    def jvp(ctx, tx, ty, tk):
        assert tk is None
        x, y = ctx.saved_tensors
        return (tx * y + ty * x) * ctx.k, tx


class _Double(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2

    @staticmethod
    def jvp(ctx, tx):
        return tx.mul_(2)


class _DoubleWrongly(_Double):
    @staticmethod
    def jvp(ctx, tx):
        return tx * 2


class _Sine(ember.autograd.Function):
    @staticmethod
    def forward(x):
        return x.sin()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        raise AssertionError

    @staticmethod
    def jvp(ctx, tx):
        (x,) = ctx.saved_tensors
        return tx * x.cos()


class _NoJvp(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_custom_function_jvp(device):
    x = ember.tensor([1.0, 2.0], device=device)
    y = ember.tensor([3.0, 4.0], device=device)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ember.ones(2, device=device))
        a, b = _Scale.apply(d, y, 2.0)  # y is not dual: its tangent comes as zeros
        assert_close(fwAD.unpack_dual(a).tangent, torch.tensor([6.0, 8.0]))
        assert_close(fwAD.unpack_dual(b).tangent, torch.tensor([1.0, 1.0]))
        with ember.no_grad():
            assert_close(fwAD.unpack_dual(_Sine.apply(d)).tangent, torch.tensor([1.0, 2.0]).cos())
        assert fwAD.unpack_dual(_Scale.apply(x, y, 2.0)[0]).tangent is None
        dirty = fwAD.make_dual(x.clone(), ember.ones(2, device=device))
        kept = fwAD.unpack_dual(dirty).tangent
        _Double.apply(dirty)  # forward's own mul_ leaves the tangent to jvp
        assert fwAD.unpack_dual(dirty).tangent is kept
        assert_close(kept, torch.tensor([2.0, 2.0]))
        assert fwAD.unpack_dual(_NoJvp.apply(x)).tangent is None
        with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
            _NoJvp.apply(d)
        with pytest.raises(RuntimeError, match="must modify the corresponding gradient inplace"):
            _DoubleWrongly.apply(fwAD.make_dual(x.clone(), ember.ones(2, device=device)))


def test_custom_function_jvp_checks(device):
    class Count(_Scale):
        @staticmethod
        def jvp(ctx, tx, ty, tk):
            return tx

    class Size(_Scale):
        @staticmethod
        def jvp(ctx, tx, ty, tk):
            return tx[:1], tx

    with fwAD.dual_level():
        d = fwAD.make_dual(ember.ones(2, device=device), ember.ones(2, device=device))
        y = ember.ones(2, device=device)
        with pytest.raises(RuntimeError, match=r"invalid number of forward gradients \(expected 2 but got 1\)"):
            Count.apply(d, y, 1.0)
        with pytest.raises(
            RuntimeError, match=r"Tensor is of size \[2\] while the given forward gradient is of size \[1\]"
        ):
            Size.apply(d, y, 1.0)


def _error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the type and words are compared
        return type(exc).__name__, str(exc).replace("torch.", "").replace("ember.", "")
    return None


def _error_cases(L, level):
    x = L.ones(3)
    cases = {
        "outside a level": lambda: level.make_dual(x, L.ones(3)),
        "exit outside a level": lambda: level.exit_dual_level(),
    }
    got = {name: _error(fn) for name, fn in cases.items()}
    with level.dual_level():
        d = level.make_dual(x, L.ones(3))
        cases = {
            "nested": level.enter_dual_level,
            "size": lambda: level.make_dual(x, L.ones(2)),
            "integer primal": lambda: level.make_dual(L.ones(3, dtype=L.int64), L.ones(3)),
            "integer tangent": lambda: level.make_dual(x, L.ones(3, dtype=L.int64)),
            "dual of a dual": lambda: level.make_dual(d, L.ones(3)),
            "tangent that is dual": lambda: level.make_dual(L.ones(3), d),
            "level 1": lambda: level.make_dual(x, L.ones(3), level=1),
            "unpack level 1": lambda: level.unpack_dual(d, level=1),
            "unpack a number": lambda: level.unpack_dual(3.0),
            "exit another level": lambda: level.exit_dual_level(level=1),
        }
        got.update({name: _error(fn) for name, fn in cases.items()})
    return got


def test_errors_as_torchs():
    got = _error_cases(ember, fwAD)
    expected = _error_cases(torch, tfwAD)
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] is not None, name
        assert got[name][0] == expected[name][0], (name, got[name], expected[name])
        if name not in ("unpack a number",):
            assert got[name][1] == expected[name][1], name
    assert fwAD.unpack_dual(3.0) == (3.0, None)  # outside a level, anything unpacks


def test_level_ends_with_an_error_and_decorates():
    with pytest.raises(ValueError):
        with fwAD.dual_level():
            d = fwAD.make_dual(ember.ones(2), ember.ones(2))
            raise ValueError
    assert fwAD.unpack_dual(d).tangent is None

    @fwAD.dual_level()
    def tangent_of_square(x, t):
        return fwAD.unpack_dual(fwAD.make_dual(x, t) ** 2).tangent

    assert_close(tangent_of_square(ember.tensor([3.0]), ember.tensor([1.0])), torch.tensor([6.0]))
    with fwAD.dual_level():  # the level was left: a new one may be entered
        pass


def test_func_jvp_matches_forward_ad(device):
    """ember.func.jvp (the same double-backward trick, over a whole function) agrees with dual tensors."""
    x, t = randn(4, 3), randn(4, 3)
    xe = ember.tensor(x, device=device)
    te = ember.tensor(t, device=device)
    _, by_func = ember.func.jvp(lambda a: F.softmax(a.tanh(), 1), (xe,), (te,))
    with fwAD.dual_level():
        by_duals = fwAD.unpack_dual(F.softmax(fwAD.make_dual(xe, te).tanh(), 1)).tangent
    np.testing.assert_allclose(by_duals.cpu().numpy(), by_func.cpu().numpy(), rtol=1e-6, atol=1e-7)


def test_gradcheck_checks_forward_mode(device):
    x = ember.tensor(randn(2, 3), dtype=ember.float64, device=device, requires_grad=True)
    w = ember.tensor(randn(4, 3), dtype=ember.float64, device=device, requires_grad=True)
    fn = lambda x, w: (F.softmax(F.linear(x, w).tanh(), 1), x.t()[1:])  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x, w), check_forward_ad=True)

    class WrongJvp(_Sine):
        @staticmethod
        def jvp(ctx, tx):
            (x,) = ctx.saved_tensors
            return tx * x.sin()

        @staticmethod
        def backward(ctx, g):
            return None

    with pytest.raises(
        ember.autograd.GradcheckError, match="Jacobian computed with forward mode mismatch for output 0"
    ):
        ember.autograd.gradcheck(WrongJvp.apply, (x,), check_forward_ad=True, check_backward_ad=False)
    assert not ember.autograd.gradcheck(
        WrongJvp.apply, (x,), check_forward_ad=True, check_backward_ad=False, raise_exception=False
    )


def test_module_with_batch_norm_beside_backward(device):
    """A dual input through modules (batch norm in training mode updates its statistics): the tangent,
    the parameters' gradients and the running statistics are torch's."""
    x, t = randn(5, 4), randn(5, 4)

    def build(lib):
        nn = lib.nn
        return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3), nn.LayerNorm(3)).double()

    expected_model, model = build(torch), build(ember).to(device)
    model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in expected_model.state_dict().items()})
    with tfwAD.dual_level():
        out = expected_model(tfwAD.make_dual(torch.tensor(x), torch.tensor(t)))
        expected = tfwAD.unpack_dual(out).tangent
        out.sum().backward()
    with fwAD.dual_level():
        out = model(fwAD.make_dual(ember.tensor(x, device=device), ember.tensor(t, device=device)))
        tangent = fwAD.unpack_dual(out).tangent
        out.sum().backward()
        assert fwAD.unpack_dual(model[1].running_mean).tangent is None
    assert_close(tangent, expected)
    assert_close(model[0].weight.grad, expected_model[0].weight.grad)
    assert_close(model[1].running_var, expected_model[1].running_var)
