"""``out=``: the result is written into the given tensor, which is returned, with PyTorch's checks."""

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

A = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]]
B = [[2.0, 1.0, -1.0], [3.0, 0.25, 2.0]]
M = [[1.0, 2.0], [3.0, -1.0], [0.5, 2.0]]


def _args(lib, device, dtype_name):
    """The operands of the ops below, in ``lib`` (ember or torch)."""
    dt = getattr(lib, dtype_name)
    dev = device if lib is ember else "cpu"
    t = lambda v, d=dt: lib.tensor(v, dtype=d, device=dev)  # noqa: E731
    return {
        "a": t(A),
        "b": t(B),
        "pos": t(A).abs() + 0.5,
        "m": t(M),
        "sq": t(A)[:, :2],
        "batch": t(A).reshape(1, 2, 3),
        "batch2": t(M).reshape(1, 3, 2),
        "index": t([2, 0], lib.int64),
        "gindex": t([[0, 2, 1], [1, 1, 0]], lib.int64),
        "cond": t(A) > 0,
    }


# name -> (function of (lib, operands), whether torch insists on the exact dtype)
CASES = {
    "add": lambda lib, x, out: lib.add(x["a"], x["b"], alpha=2, out=out),
    "sub": lambda lib, x, out: lib.sub(x["a"], x["b"], out=out),
    "mul": lambda lib, x, out: lib.mul(x["a"], 3, out=out),
    "div": lambda lib, x, out: lib.div(x["a"], x["b"], out=out),
    "div_floor": lambda lib, x, out: lib.div(x["a"], x["b"], rounding_mode="floor", out=out),
    "true_divide": lambda lib, x, out: lib.true_divide(x["a"], 2, out=out),
    "pow": lambda lib, x, out: lib.pow(x["a"], 2, out=out),
    "exp": lambda lib, x, out: lib.exp(x["a"], out=out),
    "log": lambda lib, x, out: lib.log(x["pos"], out=out),
    "sqrt": lambda lib, x, out: lib.sqrt(x["pos"], out=out),
    "tanh": lambda lib, x, out: lib.tanh(x["a"], out=out),
    "sigmoid": lambda lib, x, out: lib.sigmoid(x["a"], out=out),
    "abs": lambda lib, x, out: lib.abs(x["a"], out=out),
    "neg": lambda lib, x, out: lib.neg(x["a"], out=out),
    "clamp": lambda lib, x, out: lib.clamp(x["a"], -1.0, 1.0, out=out),
    "where": lambda lib, x, out: lib.where(x["cond"], x["a"], x["b"], out=out),
    "matmul": lambda lib, x, out: lib.matmul(x["a"], x["m"], out=out),
    "mm": lambda lib, x, out: lib.mm(x["a"], x["m"], out=out),
    "bmm": lambda lib, x, out: lib.bmm(x["batch"], x["batch2"], out=out),
    "addmm": lambda lib, x, out: lib.addmm(x["sq"], x["a"], x["m"], beta=0.5, alpha=2, out=out),
    "baddbmm": lambda lib, x, out: lib.baddbmm(x["sq"][None], x["batch"], x["batch2"], out=out),
    "cat": lambda lib, x, out: lib.cat([x["a"], x["b"]], 1, out=out),
    "stack": lambda lib, x, out: lib.stack([x["a"], x["b"]], out=out),
    "sum": lambda lib, x, out: lib.sum(x["a"], 1, out=out),
    "mean": lambda lib, x, out: lib.mean(x["a"], 0, keepdim=True, out=out),
    "cumsum": lambda lib, x, out: lib.cumsum(x["a"], 1, out=out),
    "index_select": lambda lib, x, out: lib.index_select(x["a"], 1, x["index"], out=out),
    "gather": lambda lib, x, out: lib.gather(x["a"], 1, x["gindex"], out=out),
    "floor": lambda lib, x, out: lib.floor(x["a"], out=out),
    "sign": lambda lib, x, out: lib.sign(x["a"], out=out),
    "round": lambda lib, x, out: lib.round(x["a"] * 1.7, out=out),
    "round_decimals": lambda lib, x, out: lib.round(x["a"] / 3, decimals=2, out=out),
    "frac": lambda lib, x, out: lib.frac(x["a"] * 1.7, out=out),
    "maximum": lambda lib, x, out: lib.maximum(x["a"], x["b"], out=out),
    "minimum": lambda lib, x, out: lib.minimum(x["a"], x["b"], out=out),
    "remainder": lambda lib, x, out: lib.remainder(x["a"], x["b"], out=out),
    "fmod": lambda lib, x, out: lib.fmod(x["a"], x["b"], out=out),
    "floor_divide": lambda lib, x, out: lib.floor_divide(x["a"], x["b"], out=out),
    "atan2": lambda lib, x, out: lib.atan2(x["a"], x["b"], out=out),
    "square": lambda lib, x, out: lib.square(x["a"], out=out),
    "lerp": lambda lib, x, out: lib.lerp(x["a"], x["b"], 0.25, out=out),
    "addcmul": lambda lib, x, out: lib.addcmul(x["a"], x["a"], x["b"], value=0.5, out=out),
    "addcdiv": lambda lib, x, out: lib.addcdiv(x["a"], x["a"], x["b"], value=0.5, out=out),
    "softmax": lambda lib, x, out: lib.softmax(x["a"], 1, out=out),
    "log_softmax": lambda lib, x, out: lib.log_softmax(x["a"], 0, out=out),
    "mv": lambda lib, x, out: lib.mv(x["a"], x["b"][0], out=out),
    "addmv": lambda lib, x, out: lib.addmv(x["b"][:, 0], x["a"], x["b"][1], alpha=2, out=out),
    "outer": lambda lib, x, out: lib.outer(x["a"][0], x["b"][1], out=out),
    "addr": lambda lib, x, out: lib.addr(x["a"], x["b"][:, 0], x["b"][0], beta=0.5, out=out),
    "tril": lambda lib, x, out: lib.tril(x["a"], out=out),
    "triu": lambda lib, x, out: lib.triu(x["a"], 1, out=out),
    "clamp_min": lambda lib, x, out: lib.clamp_min(x["a"], 0.0, out=out),
    "clamp_max": lambda lib, x, out: lib.clamp_max(x["a"], 0.0, out=out),
    "prod": lambda lib, x, out: lib.prod(x["a"], 1, out=out),
    "hstack": lambda lib, x, out: lib.hstack([x["a"], x["b"]], out=out),
    "amax": lambda lib, x, out: lib.amax(x["a"], 1, out=out),
    "amin": lambda lib, x, out: lib.amin(x["a"], (0, 1), out=out),
    "dot": lambda lib, x, out: lib.dot(x["a"][0], x["b"][1], out=out),
    "masked_select": lambda lib, x, out: lib.masked_select(x["a"], x["cond"], out=out),
    "take": lambda lib, x, out: lib.take(x["a"], x["index"], out=out),
    "kron": lambda lib, x, out: lib.kron(x["a"], x["b"], out=out),
    "cross": lambda lib, x, out: lib.cross(x["a"], x["b"], dim=1, out=out),
    "logaddexp": lambda lib, x, out: lib.logaddexp(x["a"], x["b"], out=out),
    "hypot": lambda lib, x, out: lib.hypot(x["a"], x["b"], out=out),
    "var": lambda lib, x, out: lib.var(x["a"], 1, out=out),
    "std": lambda lib, x, out: lib.std(x["a"], 0, correction=0, keepdim=True, out=out),
    "logsumexp": lambda lib, x, out: lib.logsumexp(x["a"], 1, out=out),
    "cumprod": lambda lib, x, out: lib.cumprod(x["a"], 1, out=out),
    "xlogy": lambda lib, x, out: lib.xlogy(x["a"], x["pos"], out=out),
    "logaddexp2": lambda lib, x, out: lib.logaddexp2(x["a"], x["b"], out=out),
    "logit": lambda lib, x, out: lib.logit(x["pos"] / 5, eps=0.01, out=out),
    "sinc": lambda lib, x, out: lib.sinc(x["a"], out=out),
    "copysign": lambda lib, x, out: lib.copysign(x["a"], x["b"], out=out),
    "fmax": lambda lib, x, out: lib.fmax(x["a"], x["b"], out=out),
    "fmin": lambda lib, x, out: lib.fmin(x["a"], x["b"], out=out),
    "rad2deg": lambda lib, x, out: lib.rad2deg(x["a"], out=out),
    "deg2rad": lambda lib, x, out: lib.deg2rad(x["a"], out=out),
    "heaviside": lambda lib, x, out: lib.heaviside(x["a"], x["b"], out=out),
    "nan_to_num": lambda lib, x, out: lib.nan_to_num(x["a"].log(), nan=0.5, out=out),
    "index_add": lambda lib, x, out: lib.index_add(x["a"], 1, x["index"], x["sq"], alpha=2, out=out),
    "diag": lambda lib, x, out: lib.diag(x["a"], 1, out=out),
    "dstack": lambda lib, x, out: lib.dstack([x["a"], x["b"]], out=out),
    "column_stack": lambda lib, x, out: lib.column_stack([x["a"], x["b"]], out=out),
    "nansum": lambda lib, x, out: lib.nansum(x["a"].log(), 1, out=out),
    "nanmean": lambda lib, x, out: lib.nanmean(x["a"].log(), 0, out=out),
    "logcumsumexp": lambda lib, x, out: lib.logcumsumexp(x["a"], 1, out=out),
    "norm": lambda lib, x, out: lib.norm(x["a"], dim=1, out=out),
    "diff": lambda lib, x, out: lib.diff(x["a"], out=out),
    "tensordot": lambda lib, x, out: lib.tensordot(x["a"], x["m"], 1, out=out),
    "addbmm": lambda lib, x, out: lib.addbmm(x["sq"], x["batch"], x["batch2"], beta=0.5, out=out),
    "inverse": lambda lib, x, out: lib.inverse(x["sq"], out=out),
    "matrix_power": lambda lib, x, out: lib.matrix_power(x["sq"], 3, out=out),
    "nextafter": lambda lib, x, out: lib.nextafter(x["a"], x["b"], out=out),
    "polygamma": lambda lib, x, out: lib.polygamma(1, x["pos"], out=out),
    "mvlgamma": lambda lib, x, out: lib.mvlgamma(x["pos"] + 2, 2, out=out),
    "renorm": lambda lib, x, out: lib.renorm(x["a"], 2, 0, 1.0, out=out),
    "linalg.norm": lambda lib, x, out: lib.linalg.norm(x["a"], out=out),
    "linalg.vector_norm": lambda lib, x, out: lib.linalg.vector_norm(x["a"], 3, dim=1, out=out),
    "linalg.matrix_norm": lambda lib, x, out: lib.linalg.matrix_norm(x["batch"], "nuc", out=out),
    "linalg.inv": lambda lib, x, out: lib.linalg.inv(x["sq"], out=out),
    "linalg.solve": lambda lib, x, out: lib.linalg.solve(x["sq"], x["a"], out=out),
    "linalg.det": lambda lib, x, out: lib.linalg.det(x["sq"], out=out),
    "linalg.cholesky": lambda lib, x, out: lib.linalg.cholesky(x["sq"] @ x["sq"].mT + 1, out=out),
    "linalg.pinv": lambda lib, x, out: lib.linalg.pinv(x["a"], out=out),
    "linalg.cross": lambda lib, x, out: lib.linalg.cross(x["a"], x["b"], out=out),
    "linalg.multi_dot": lambda lib, x, out: lib.linalg.multi_dot([x["a"], x["m"], x["sq"]], out=out),
    "linalg.vecdot": lambda lib, x, out: lib.linalg.vecdot(x["a"], x["b"], out=out),
    "linalg.eigvalsh": lambda lib, x, out: lib.linalg.eigvalsh(x["sq"] @ x["sq"].mT, out=out),
    "special.ndtr": lambda lib, x, out: lib.special.ndtr(x["a"], out=out),
    "special.bessel_j0": lambda lib, x, out: lib.special.bessel_j0(x["a"], out=out),
    "special.bessel_j1": lambda lib, x, out: lib.special.bessel_j1(x["a"], out=out),
    "special.modified_bessel_i0": lambda lib, x, out: lib.special.modified_bessel_i0(x["a"], out=out),
    "special.modified_bessel_i1": lambda lib, x, out: lib.special.modified_bessel_i1(x["a"], out=out),
    "special.spherical_bessel_j0": lambda lib, x, out: lib.special.spherical_bessel_j0(x["a"], out=out),
    "special.xlog1py": lambda lib, x, out: lib.special.xlog1py(x["a"], x["pos"], out=out),
    "special.zeta": lambda lib, x, out: lib.special.zeta(x["pos"] + 1, x["pos"], out=out),
    "special.gammainc": lambda lib, x, out: lib.special.gammainc(x["pos"], x["b"].abs(), out=out),
    "special.gammaincc": lambda lib, x, out: lib.special.gammaincc(x["pos"], x["b"].abs(), out=out),
    "sgn": lambda lib, x, out: lib.sgn(x["a"], out=out),
    "fix": lambda lib, x, out: lib.fix(x["a"] * 1.7, out=out),
    "inner": lambda lib, x, out: lib.inner(x["a"], x["b"], out=out),
    "msort": lambda lib, x, out: lib.msort(x["a"], out=out),
    "scatter": lambda lib, x, out: lib.scatter(x["a"], 1, x["gindex"][:, :1], x["b"], out=out),
    "scatter_add": lambda lib, x, out: lib.scatter_add(x["a"], 1, x["gindex"], x["b"], out=out),
    "index_copy": lambda lib, x, out: lib.index_copy(x["a"], 1, x["index"], x["sq"], out=out),
    "hardshrink": lambda lib, x, out: lib.hardshrink(x["a"], 1.0, out=out),
    "quantile": lambda lib, x, out: lib.quantile(x["a"], 0.3, dim=1, out=out),
    "nanquantile": lambda lib, x, out: lib.nanquantile(x["a"].log(), 0.7, dim=0, keepdim=True, out=out),
    "histc": lambda lib, x, out: lib.histc(x["a"], 4, out=out),
    "conj_physical": lambda lib, x, out: lib.conj_physical(x["a"], out=out),
    "take_along_dim": lambda lib, x, out: lib.take_along_dim(x["a"], x["gindex"], 1, out=out),
    "linalg.svdvals": lambda lib, x, out: lib.linalg.svdvals(x["a"], out=out),
    "linalg.cond": lambda lib, x, out: lib.linalg.cond(x["sq"], out=out),
    "linalg.solve_triangular": lambda lib, x, out: lib.linalg.solve_triangular(
        x["sq"].triu(), x["a"], upper=True, out=out
    ),
    "linalg.tensorinv": lambda lib, x, out: lib.linalg.tensorinv(x["sq"], 1, out=out),
    "linalg.tensorsolve": lambda lib, x, out: lib.linalg.tensorsolve(x["sq"], x["a"][:, 0], out=out),
    "cholesky_solve": lambda lib, x, out: lib.cholesky_solve(
        x["a"], lib.linalg.cholesky(x["sq"] @ x["sq"].mT + 1), out=out
    ),
    "linalg.householder_product": lambda lib, x, out: lib.linalg.householder_product(x["m"], x["b"][0, :2], out=out),
    "view_copy": lambda lib, x, out: lib.view_copy(x["a"], (3, 2), out=out),
    "t_copy": lambda lib, x, out: lib.t_copy(x["a"], out=out),
    "narrow_copy": lambda lib, x, out: lib.narrow_copy(x["a"], 1, 1, 2, out=out),
    "expand_copy": lambda lib, x, out: lib.expand_copy(x["a"][:1], (2, 3), out=out),
    "cholesky_inverse": lambda lib, x, out: lib.cholesky_inverse(
        lib.linalg.cholesky(x["sq"] @ x["sq"].mT + 1), out=out
    ),
    "vstack": lambda lib, x, out: lib.vstack([x["a"], x["b"]], out=out),
    "angle": lambda lib, x, out: lib.angle(x["a"], out=out),
    "vdot": lambda lib, x, out: lib.vdot(x["a"][0], x["b"][1], out=out),
    "igamma": lambda lib, x, out: lib.igamma(x["pos"], x["b"].abs(), out=out),
    "igammac": lambda lib, x, out: lib.igammac(x["pos"], x["b"].abs(), out=out),
    "ldexp": lambda lib, x, out: lib.ldexp(x["a"], x["b"], out=out),
    "index_reduce": lambda lib, x, out: lib.index_reduce(x["a"], 1, x["index"], x["sq"], "amax", out=out),
    "special.bessel_y0": lambda lib, x, out: lib.special.bessel_y0(x["pos"], out=out),
    "special.bessel_y1": lambda lib, x, out: lib.special.bessel_y1(x["pos"], out=out),
    "special.modified_bessel_k0": lambda lib, x, out: lib.special.modified_bessel_k0(x["pos"], out=out),
    "special.modified_bessel_k1": lambda lib, x, out: lib.special.modified_bessel_k1(x["pos"], out=out),
    "special.scaled_modified_bessel_k0": lambda lib, x, out: lib.special.scaled_modified_bessel_k0(x["pos"], out=out),
    "special.scaled_modified_bessel_k1": lambda lib, x, out: lib.special.scaled_modified_bessel_k1(x["pos"], out=out),
    "special.airy_ai": lambda lib, x, out: lib.special.airy_ai(x["a"], out=out),
    "special.hermite_polynomial_h": lambda lib, x, out: lib.special.hermite_polynomial_h(x["a"], 3, out=out),
    "special.hermite_polynomial_he": lambda lib, x, out: lib.special.hermite_polynomial_he(
        x["a"], x["index"][:, None], out=out
    ),
    "special.laguerre_polynomial_l": lambda lib, x, out: lib.special.laguerre_polynomial_l(x["a"], 4, out=out),
    "special.legendre_polynomial_p": lambda lib, x, out: lib.special.legendre_polynomial_p(x["a"] / 5, 3, out=out),
    **{
        f"special.{shifted}chebyshev_polynomial_{kind}": (
            lambda name: lambda lib, x, out: getattr(lib.special, name)(x["a"] / 5, 3, out=out)
        )(f"{shifted}chebyshev_polynomial_{kind}")
        for shifted in ("", "shifted_")
        for kind in "tuvw"
    },
}
EXACT_DTYPE = {
    *("abs", "neg", "clamp", "clamp_min", "clamp_max", "floor", "sign", "round", "round_decimals", "frac"),
    *("where", "index_select", "gather", "amax", "amin", "dot", "masked_select", "take", "cross"),
    *("heaviside", "nan_to_num", "index_add", "diag", "logcumsumexp", "norm", "tensordot"),
    *("addbmm", "inverse", "matrix_power", "renorm", "linalg.norm", "linalg.vector_norm", "linalg.matrix_norm"),
    *("linalg.inv", "linalg.solve", "linalg.det", "linalg.cholesky", "linalg.cross", "linalg.multi_dot"),
    *("linalg.vecdot", "linalg.eigvalsh", "sgn", "fix", "inner", "msort", "scatter", "scatter_add", "index_copy"),
    *("hardshrink", "quantile", "nanquantile", "histc", "conj_physical", "take_along_dim", "linalg.svdvals"),
    *("linalg.solve_triangular", "view_copy", "t_copy", "narrow_copy", "expand_copy"),
    *("matmul", "mm", "bmm", "addmm", "baddbmm", "mv", "addmv", "tril", "triu", "softmax", "log_softmax"),
    *("vdot", "index_reduce"),
}


def _check(r, expected, device):
    assert r.dtype == getattr(ember, str(expected.dtype).split(".")[1])
    assert tuple(r.shape) == tuple(expected.shape)
    assert str(r.device) == str(ember.device(device))
    np.testing.assert_allclose(r.numpy(force=True), expected.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_result_written_into_out(device, name):
    for dtype_name in ("float32", "float64"):
        x, tx = _args(ember, device, dtype_name), _args(torch, "cpu", dtype_name)
        expected = CASES[name](torch, tx, None)
        o = ember.full(tuple(expected.shape), 7.0, dtype=getattr(ember, dtype_name), device=device)
        version = o._version
        r = CASES[name](ember, x, o)
        assert r is o
        assert o._version > version
        _check(o, expected, device)


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_of_another_shape_is_resized(device, name):
    x, tx = _args(ember, device, "float32"), _args(torch, "cpu", "float32")
    expected = CASES[name](torch, tx, None)
    o = ember.zeros(0, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty out resizes without a warning
        assert CASES[name](ember, x, o) is o
    _check(o, expected, device)
    with warnings.catch_warnings(record=True) as torch_warnings:
        warnings.simplefilter("always")
        CASES[name](torch, tx, torch.zeros(5))
    o = ember.zeros(5, device=device)
    with warnings.catch_warnings(record=True) as ember_warnings:
        warnings.simplefilter("always")
        assert CASES[name](ember, x, o) is o
    resized = [str(w.message) for w in ember_warnings if "resized" in str(w.message)]
    assert len(resized) == len([w for w in torch_warnings if "resized" in str(w.message)])  # addbmm does not warn
    assert all("had shape [5], which does not match the required output shape" in m for m in resized)
    _check(o, expected, device)


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_dtype_rule(device, name):
    """Float results go into a wider float out (castable ops) and never into an integer out."""
    x, tx = _args(ember, device, "float32"), _args(torch, "cpu", "float32")
    if ember.device(device).type != "cpu" and not ember.ones(1, device=device).double().dtype == ember.float64:
        pytest.skip("no float64 on this device")
    for dtype_name in ("float64", "int64"):
        try:
            expected = CASES[name](torch, tx, torch.zeros(0, dtype=getattr(torch, dtype_name)))
        except (RuntimeError, TypeError) as error:
            with pytest.raises(RuntimeError if isinstance(error, RuntimeError) else TypeError):
                CASES[name](ember, x, ember.zeros(0, dtype=getattr(ember, dtype_name), device=device))
            continue
        assert name not in EXACT_DTYPE
        o = ember.zeros(0, dtype=getattr(ember, dtype_name), device=device)
        assert CASES[name](ember, x, o) is o
        _check(o, expected, device)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ember.add(x["a"], 1, out=ember.zeros(2, 3, dtype=ember.int64, device=device))


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_refuses_autograd(device, name):
    """Refused while recording when an argument requires grad, as torch (which allows it for the ops it does not
    differentiate, as heaviside; for softmax, diag, floor_divide, ... torch defers the error to backward through an
    out that requires grad with a NotImplemented node: ember raises at once)."""
    x = _args(ember, device, "float32")
    x = {k: v.requires_grad_() if v.dtype.is_floating_point else v for k, v in x.items()}
    tx = _args(torch, "cpu", "float32")
    tx = {k: v.requires_grad_() if v.dtype.is_floating_point else v for k, v in tx.items()}
    torch_out = torch.zeros(0)
    try:
        CASES[name](torch, tx, torch_out)
        refused = torch_out.requires_grad and name != "heaviside"  # ember's heaviside records no node at all
    except RuntimeError:
        refused = True
    if refused:
        with pytest.raises(
            RuntimeError, match="functions with out=... arguments don't support automatic differentiation"
        ):
            CASES[name](ember, x, ember.zeros(0, device=device))
    else:
        o = ember.zeros(0, device=device)
        assert CASES[name](ember, x, o) is o
    with ember.no_grad():  # no graph to record: allowed
        o = ember.zeros(0, device=device)
        assert CASES[name](ember, x, o) is o
    plain = _args(ember, device, "float32")
    with pytest.raises(RuntimeError, match="^add\\(\\): functions with out=... arguments"):
        ember.add(plain["a"], 1, out=ember.zeros(2, 3, device=device, requires_grad=True))


def test_out_aliasing_an_input_works_as_the_inplace_op(device):
    a = ember.tensor(A, device=device)
    b = ember.tensor(B, device=device)
    ta, tb = torch.tensor(A), torch.tensor(B)
    assert ember.add(a, b, out=a) is a
    torch.add(ta, tb, out=ta)
    _check(a, ta, device)
    out = b[:, :2]  # a view: written through to b
    assert ember.matmul(a[:, :2], a[:, :2].T, out=out) is out
    torch.matmul(ta[:, :2], ta[:, :2].T, out=tb[:, :2])
    _check(b, tb, device)


def test_out_on_another_device_raises(device):
    if ember.device(device).type == "cpu":
        pytest.skip("needs a second device")
    a = ember.tensor(A, device=device)
    with pytest.raises(RuntimeError, match="cpu"):
        ember.add(a, a, out=ember.zeros(2, 3))


def test_out_must_be_a_tensor(device):
    a = ember.tensor(A, device=device)
    with pytest.raises(TypeError, match="argument 'out' must be Tensor"):
        ember.add(a, a, out=[1.0])


def test_tuple_outs(device):
    x, tx = _args(ember, device, "float32"), _args(torch, "cpu", "float32")
    for call in (
        lambda lib, x, out: lib.max(x["a"], 1, out=out),
        lambda lib, x, out: lib.min(x["a"], 0, keepdim=True, out=out),
        lambda lib, x, out: lib.sort(x["a"], descending=True, out=out),
        lambda lib, x, out: lib.topk(x["a"], 2, out=out),
        lambda lib, x, out: lib.kthvalue(x["a"], 2, 1, out=out),
        lambda lib, x, out: lib.median(x["a"], 1, keepdim=True, out=out),
        lambda lib, x, out: lib.cummax(x["a"], 1, out=out),
        lambda lib, x, out: lib.cummin(x["a"], 0, out=out),
        lambda lib, x, out: lib.mode(x["a"].round(), 1, out=out),
        lambda lib, x, out: lib.nanmedian(x["a"], 1, out=out),
    ):
        expected = call(torch, tx, None)
        values, indices = ember.zeros(0, device=device), ember.zeros(0, dtype=ember.int64, device=device)
        r = call(ember, x, (values, indices))
        assert r.values is values and r.indices is indices
        assert type(r).__name__ == type(expected).__name__
        _check(values, expected.values, device)
        _check(indices, expected.indices, device)
        with pytest.raises(RuntimeError):  # indices must be int64
            call(ember, x, (ember.zeros(0, device=device), ember.zeros(0, dtype=ember.int32, device=device)))
        with pytest.raises(RuntimeError, match="automatic differentiation"):
            call(ember, {"a": x["a"].clone().requires_grad_()}, (values, indices))
    o = ember.zeros(0, device=device)
    assert ember.max(x["a"], out=o) is o
    _check(o, torch.max(tx["a"]), device)


CREATION = {
    "zeros": lambda lib, out, **kw: lib.zeros(2, 3, out=out, **kw),
    "ones": lambda lib, out, **kw: lib.ones((2, 3), out=out, **kw),
    "full": lambda lib, out, **kw: lib.full((3,), 1.5, out=out, **kw),
    "arange": lambda lib, out, **kw: lib.arange(1, 7, 2, out=out, **kw),
    "arange_float": lambda lib, out, **kw: lib.arange(0, 1, 0.25, out=out, **kw),
    "arange_int": lambda lib, out, **kw: lib.arange(5, out=out, **kw),
    "linspace": lambda lib, out, **kw: lib.linspace(0, 1, 5, out=out, **kw),
    "logspace": lambda lib, out, **kw: lib.logspace(0, 1, 3, out=out, **kw),
    "eye": lambda lib, out, **kw: lib.eye(3, out=out, **kw),
    "range": lambda lib, out, **kw: lib.range(1, 4, out=out, **kw),
}


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
@pytest.mark.parametrize("name", sorted(CREATION))
def test_creation_ops_make_out_dtype(device, name):
    for dtype_name in ("float32", "float64", "int64") if name != "arange_float" else ("float32", "float64"):
        expected = CREATION[name](torch, torch.empty(0, dtype=getattr(torch, dtype_name)))
        o = ember.ones(2, dtype=getattr(ember, dtype_name), device=device)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            warnings.filterwarnings("ignore", "torch.range is deprecated")  # as torch's, not a resize warning
            assert CREATION[name](ember, o) is o
        _check(o, expected, device)
    with pytest.raises(RuntimeError, match=r"dtype Double does not match dtype of out parameter \(Float\)"):
        CREATION[name](ember, ember.empty(0, device=device), dtype=ember.float64)
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        CREATION[name](ember, ember.empty(0, device=device, requires_grad=True))


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_frequencies_made_in_out_dtype(device, name):
    for dtype_name in ("float32", "float64"):
        expected = getattr(torch.fft, name)(6, 0.5, out=torch.empty(0, dtype=getattr(torch, dtype_name)))
        o = ember.empty(0, dtype=getattr(ember, dtype_name), device=device)
        assert getattr(ember.fft, name)(6, 0.5, out=o) is o
        _check(o, expected, device)
    o = ember.empty(0, dtype=ember.float64, device=device)
    assert getattr(ember.fft, name)(5, out=o, requires_grad=True) is o and o.requires_grad
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="requires a floating point or complex dtype"):
            getattr(lib.fft, name)(6, out=lib.empty(0, dtype=lib.int64))
        with pytest.raises(RuntimeError, match=r"dtype Double does not match dtype of out parameter \(Float\)"):
            getattr(lib.fft, name)(6, dtype=lib.float64, out=lib.empty(0))


@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
def test_chain_matmul_out(device):
    x, tx = _args(ember, device, "float32"), _args(torch, "cpu", "float32")
    expected = torch.chain_matmul(tx["a"], tx["m"], tx["sq"])
    o = ember.empty(0, device=device)
    assert ember.chain_matmul(x["a"], x["m"], x["sq"], out=o) is o
    _check(o, expected, device)
    for lib, args, dev in ((torch, tx, "cpu"), (ember, x, device)):
        with pytest.raises(RuntimeError, match="(?i)out tensor to have dtype"):
            lib.chain_matmul(args["a"], args["m"], out=lib.empty(0, dtype=lib.float64, device=dev))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, out: lib.rand(2, 3, out=out),
        lambda lib, out: lib.randn(2, 3, out=out),
        lambda lib, out: lib.randint(0, 10, (2, 3), out=out),
        lambda lib, out: lib.randperm(6, out=out),
    ],
)
def test_random_creation_ops_fill_out(device, call):
    expected = call(torch, torch.empty(0, dtype=torch.float64))
    o = ember.empty(0, dtype=ember.float64, device=device)
    assert call(ember, o) is o
    assert o.dtype is ember.float64 and o.shape == tuple(expected.shape)
    assert bool((o != 0).any())


def test_normalize_out(device):
    x = ember.tensor(A, device=device)
    o = ember.zeros(0, device=device)
    assert ember.nn.functional.normalize(x, out=o) is o
    _check(o, torch.nn.functional.normalize(torch.tensor(A)), device)


@pytest.mark.parametrize("op", ["sum", "mean", "cumsum", "prod", "cumprod"])
def test_reductions_compute_in_out_dtype(op):
    """A float32 input reduced into a float64 out is accumulated in float64, as PyTorch."""
    values = torch.linspace(1.0, 1.001, 1000, dtype=torch.float32)
    expected = getattr(torch, op)(values, 0, out=torch.empty(0, dtype=torch.float64))
    o = ember.empty(0, dtype=ember.float64)
    getattr(ember, op)(ember.tensor(values.numpy()), 0, out=o)
    np.testing.assert_allclose(o.numpy(), expected.numpy(), rtol=1e-12)  # float32 accumulation is ~1e-7 off
    with pytest.raises(RuntimeError):  # an explicit dtype must be out's
        getattr(ember, op)(ember.tensor(values.numpy()), 0, dtype=ember.float32, out=o)


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_write_into_any_dtype(device, name):
    """A bool result goes into an out of any dtype; no gradient flows, so inputs that require grad are fine."""
    a, b = torch.tensor(A), torch.tensor(B).clamp(max=1.0)
    for dtype_name in ("bool", "float32", "int64"):
        expected = getattr(torch, name)(a, b, out=torch.empty(0, dtype=getattr(torch, dtype_name)))
        o = ember.empty(0, dtype=getattr(ember, dtype_name), device=device)
        x = ember.tensor(A, device=device, requires_grad=True)
        assert getattr(ember, name)(x, ember.tensor(b.numpy(), device=device), out=o) is o
        _check(o, expected, device)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x, out: lib.argmax(x, 1, out=out),
        lambda lib, x, out: lib.argmin(x, out=out),
        lambda lib, x, out: lib.any(x > 1, 1, out=out),
        lambda lib, x, out: lib.all(x > -2, out=out),
        lambda lib, x, out: lib.logical_not(x, out=out),
        lambda lib, x, out: lib.signbit(x, out=out),
        lambda lib, x, out: lib.nonzero(x > 0, out=out),
        lambda lib, x, out: lib.gcd(x.long() * 6, x.long() + 4, out=out),
        lambda lib, x, out: lib.lcm(x.long(), x.long() + 4, out=out),
        lambda lib, x, out: lib.bitwise_not(x.long(), out=out),
        lambda lib, x, out: lib.bitwise_left_shift(x.long(), 2, out=out),
        lambda lib, x, out: lib.bitwise_right_shift(x.long(), 1, out=out),
        lambda lib, x, out: lib.isin(x, x[0], out=out),
        lambda lib, x, out: lib.searchsorted(x[0].sort().values, x, out=out),
        lambda lib, x, out: lib.searchsorted(x[0].sort().values, x, out_int32=True, right=True, out=out),
        lambda lib, x, out: lib.bucketize(x, x[1].sort().values, out=out),
        lambda lib, x, out: lib.float_power(x, 2, out=out),
        lambda lib, x, out: lib.isneginf(x.log(), out=out),
        lambda lib, x, out: lib.isposinf(x.exp() * 1e38, out=out),
        lambda lib, x, out: lib.linalg.matrix_rank(x[:, :2], out=out),
        lambda lib, x, out: lib.logical_and(x, x > 1, out=out),
        lambda lib, x, out: lib.logical_xor(x, x < 0, out=out),
        lambda lib, x, out: lib.bitwise_and(x.long(), 6, out=out),
        lambda lib, x, out: lib.bitwise_or(x.long(), x.long() * 3, out=out),
    ],
)
def test_integer_and_bool_results(device, call):
    """Ops whose result is int64 or bool: out of the result's dtype, and torch's answer for another."""
    x, tx = ember.tensor(A, device=device), torch.tensor(A)
    expected = call(torch, tx, None)
    dtype = getattr(ember, str(expected.dtype).split(".")[1])
    o = ember.zeros(0, dtype=dtype, device=device)
    assert call(ember, x, o) is o
    _check(o, expected, device)
    for other in ("float32", "int64", "bool"):
        try:
            expected = call(torch, tx, torch.zeros(0, dtype=getattr(torch, other)))
        except RuntimeError:
            with pytest.raises(RuntimeError):
                call(ember, x, ember.zeros(0, dtype=getattr(ember, other), device=device))
            continue
        o = ember.zeros(0, dtype=getattr(ember, other), device=device)
        assert call(ember, x, o) is o
        _check(o, expected, device)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x, out: lib.linalg.qr(x, out=out),
        lambda lib, x, out: lib.linalg.eigh(x @ x.mT, out=out),
        lambda lib, x, out: lib.linalg.svd(x, full_matrices=False, out=out),
        lambda lib, x, out: lib.linalg.slogdet(x[:2], out=out),
        lambda lib, x, out: lib.aminmax(x, dim=0, out=out),
    ],
)
def test_decompositions_write_their_tuple(device, call):
    x, tx = ember.tensor(M, device=device), torch.tensor(M)
    expected = call(torch, tx, None)
    outs = tuple(ember.empty(0, device=device) for _ in expected)
    r = call(ember, x, outs)
    assert type(r).__name__ == type(expected).__name__.replace("_out", "")
    assert all(a is b for a, b in zip(r, outs))
    for got, want in zip(outs, expected):
        np.testing.assert_allclose(got.numpy(force=True).__abs__(), want.numpy().__abs__(), rtol=1e-5, atol=1e-5)
    with pytest.raises(RuntimeError):
        call(ember, x, tuple(ember.empty(0, dtype=ember.float64, device=device) for _ in expected))


def test_frexp_writes_mantissa_and_exponent(device):
    x, tx = ember.tensor(A, device=device), torch.tensor(A)
    expected = torch.frexp(tx)
    outs = (ember.empty(0, device=device), ember.empty(0, dtype=ember.int32, device=device))
    r = ember.frexp(x, out=outs)
    assert r[0] is outs[0] and r[1] is outs[1]
    _check(outs[0], expected.mantissa, device)
    _check(outs[1], expected.exponent, device)


SQUARE = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.25], [0.5, 0.25, 2.0]]
FACTORED = {
    "qr": lambda lib, x, out: lib.qr(x, out=out),
    "svd": lambda lib, x, out: lib.svd(x, out=out),
    "triangular_solve": lambda lib, x, out: lib.triangular_solve(x, x.triu(), out=out),
    "linalg.cholesky_ex": lambda lib, x, out: lib.linalg.cholesky_ex(x, out=out),
    "linalg.lu": lambda lib, x, out: lib.linalg.lu(x, out=out),
    "linalg.lu_factor": lambda lib, x, out: lib.linalg.lu_factor(x, out=out),
    "linalg.lu_factor_ex": lambda lib, x, out: lib.linalg.lu_factor_ex(x, out=out),
    "linalg.inv_ex": lambda lib, x, out: lib.linalg.inv_ex(x, out=out),
    "linalg.solve_ex": lambda lib, x, out: lib.linalg.solve_ex(x, x[:, :2], out=out),
    "linalg.lu_solve": lambda lib, x, out: lib.linalg.lu_solve(*lib.linalg.lu_factor(x), x[:, :1], out=out),
    "lu_solve": lambda lib, x, out: lib.lu_solve(x[:, :1], *lib.linalg.lu_factor(x), out=out),
}


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's deprecation of qr, svd, triangular_solve
@pytest.mark.parametrize("name", sorted(FACTORED))
def test_factorizations_write_their_outs(device, name):
    x, tx = ember.tensor(SQUARE, device=device), torch.tensor(SQUARE)
    expected = FACTORED[name](torch, tx, None)
    single = isinstance(expected, torch.Tensor)
    wanted = (expected,) if single else tuple(expected)
    dtype_of = lambda t: getattr(ember, str(t.dtype).split(".")[1])  # noqa: E731
    outs = tuple(ember.empty(0, dtype=dtype_of(t), device=device) for t in wanted)
    r = FACTORED[name](ember, x, outs[0] if single else outs)
    assert r is outs[0] if single else all(a is b for a, b in zip(r, outs))
    for got, want in zip(outs, wanted):
        np.testing.assert_allclose(abs(got.numpy(force=True)), abs(want.numpy()), rtol=1e-5, atol=1e-5)
    wrong = tuple(
        ember.empty(0, dtype=ember.float64 if t.is_floating_point() else ember.int16, device=device) for t in wanted
    )
    with pytest.raises(RuntimeError):
        FACTORED[name](ember, x, wrong[0] if single else wrong)


def test_multinomial_fills_an_int64_out(device):
    weights = ember.tensor([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]], device=device)
    o = ember.full((1,), 7, device=device, dtype=ember.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch resizes a multinomial out without the warning
        assert ember.multinomial(weights, 2, out=o) is o
    assert o.shape == (2, 2) and bool(((o >= 0) & (o < 3)).all())
    with pytest.raises(RuntimeError):  # torch: "multinomial expects Long tensor out"
        ember.multinomial(weights, 2, out=ember.empty(0, device=device))


@pytest.mark.parametrize(
    "make",
    [
        lambda t, o: t.arange(4, out=o),
        lambda t, o: t.linspace(0, 1, 4, out=o),
        lambda t, o: t.logspace(0, 1, 4, out=o),
        lambda t, o: t.arange(4, out=o.t()),
    ],
)
def test_range_ops_keep_the_shape_of_an_out_of_as_many_elements(device, make):
    # PyTorch resizes a range op's out only when its count differs: arange(4, out=empty(2, 2)) stays (2, 2)
    expected = torch.empty(2, 2)
    make(torch, expected)
    got = ember.empty(2, 2, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = make(ember, got)
    assert tuple(result.shape) == (2, 2) and tuple(got.shape) == (2, 2)
    np.testing.assert_allclose(got.cpu().numpy(), expected.numpy(), rtol=1e-6)
