"""ember.func's differentiation transforms against torch.func: grad, grad_and_value, vjp, jvp,
linearize, jacrev, jacfwd, hessian -- values, composition, pytrees, argnums, has_aux, the link to the
enclosing autograd graph, and errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from reference import assert_close, randn, reseed

import ember
import ember.func
from ember.func.pytree import tree_flatten

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _inputs():
    reseed(7)


def scalar():
    """A 0-d float64 array."""
    return np.asarray(randn(1)[0])


def make(lib, value, device, dtype, requires_grad=False):
    """``value`` (a NumPy array or a pytree of them) as tensors of ``lib`` (ember or torch)."""
    if isinstance(value, dict):
        return {k: make(lib, v, device, dtype, requires_grad) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(make(lib, v, device, dtype, requires_grad) for v in value)
    if not isinstance(value, np.ndarray):
        return value
    if lib is ember:
        return ember.tensor(value, dtype=dtype, device=device, requires_grad=requires_grad)
    return torch.tensor(value, dtype=getattr(torch, dtype.name), requires_grad=requires_grad)


def compare_trees(actual, expected, dtype, what="result"):
    """Same pytree structure (each flattened by its own library), same values (tensors compared
    with the dtype's tolerance)."""
    a_leaves, a_spec = tree_flatten(actual)
    e_leaves, e_spec = torch.utils._pytree.tree_flatten(expected)
    assert repr(a_spec) == repr(e_spec), f"{what}: structure {a_spec} != torch's {e_spec}"
    for i, (a, e) in enumerate(zip(a_leaves, e_leaves)):
        if isinstance(e, torch.Tensor):
            assert isinstance(a, ember.Tensor), f"{what} leaf {i}: {type(a)} where torch has a tensor"
            assert a.dtype.name == str(e.dtype).split(".")[1], f"{what} leaf {i}: dtype {a.dtype} != {e.dtype}"
            assert_close(a, e, dtype, what=f"{what} leaf {i}")
        else:
            assert a == e, f"{what} leaf {i}: {a!r} != torch's {e!r}"


def both(case, inputs, device, dtype, requires_grad=False):
    """Run ``case(lib, func, *inputs)`` with ember/ember.func and torch/torch.func; compare results."""
    e = case(ember, ember.func, *make(ember, inputs, device, dtype, requires_grad))
    t = case(torch, torch.func, *make(torch, inputs, device, dtype, requires_grad))
    compare_trees(e, t, dtype)
    return e, t


def f_scalar(lib, x):
    return (x.sin() * x.exp()).sum()


def f_two(lib, x, y):
    return (x**3 * y.tanh()).sum() + (x * y).mean()


def f_vector(lib, x, y):
    return x.sin() * y, (x * y).sum()


GRAD_CASES = {
    "scalar": (lambda lib, fn, x: fn.grad(lambda x: f_scalar(lib, x))(x), [randn(4)]),
    "argnum1": (lambda lib, fn, x, y: fn.grad(lambda x, y: f_two(lib, x, y), argnums=1)(x, y), [randn(3), randn(3)]),
    "argnums": (
        lambda lib, fn, x, y: fn.grad(lambda x, y: f_two(lib, x, y), argnums=(0, 1))(x, y),
        [randn(2, 3), randn(3)],
    ),
    "negative": (lambda lib, fn, x, y: fn.grad(lambda x, y: f_two(lib, x, y), argnums=-2)(x, y), [randn(3), randn(3)]),
    "dict": (
        lambda lib, fn, p: fn.grad(lambda p: (p["w"] @ p["b"][0]).tanh().sum())(p),
        [{"w": randn(2, 3), "b": [randn(3), randn(1)]}],
    ),
    "unused": (lambda lib, fn, x, y: fn.grad(lambda x, y: (x**2).sum(), argnums=(0, 1))(x, y), [randn(3), randn(2)]),
    "aux": (lambda lib, fn, x: fn.grad(lambda x: ((x**2).sum(), {"a": x.cos()}), has_aux=True)(x), [randn(3)]),
    "value": (lambda lib, fn, x: fn.grad_and_value(lambda x: f_scalar(lib, x))(x), [randn(4)]),
    "value_aux": (
        lambda lib, fn, x: fn.grad_and_value(lambda x: ((x**2).sum(), x * 2), has_aux=True)(x),
        [randn(3)],
    ),
    "second": (lambda lib, fn, x: fn.grad(fn.grad(lambda x: x.sin() * x**2))(x), [scalar()]),
    "third": (lambda lib, fn, x: fn.grad(fn.grad(fn.grad(lambda x: x.exp() * x.cos())))(x), [scalar()]),
    "grad_of_grad_sum": (
        lambda lib, fn, x: fn.grad(lambda x: fn.grad(lambda y: (y.tanh() ** 2).sum())(x).pow(2).sum())(x),
        [randn(3)],
    ),
    "closure_over_outer": (
        lambda lib, fn, x: fn.grad(lambda x: fn.grad(lambda y: (x * y.sin()).sum())(x.cos()).sum())(x),
        [randn(3)],
    ),
    "inner_at_outer_input": (
        lambda lib, fn, x: fn.grad(lambda x: fn.grad(lambda y: (x * y**2).sum())(x).pow(2).sum())(x),
        [randn(3)],
    ),
    "kwargs": (lambda lib, fn, x: fn.grad(lambda x, scale: (x * scale).sum())(x, scale=3.0), [randn(3)]),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_grad(device, dtype, name):
    case, inputs = GRAD_CASES[name]
    both(case, inputs, device, dtype)


def _vjp_case(lib, fn, x, y, ct):
    out, vjp_fn = fn.vjp(lambda x, y: f_vector(lib, x, y), x, y)
    return out, vjp_fn((ct, ct.sum())), vjp_fn((ct * 2, ct.sum() * 0))


def _vjp_pytree(lib, fn, p, ct):
    out, vjp_fn, aux = fn.vjp(lambda p: ({"o": p["a"] * p["b"][1]}, p["a"].sum()), p, has_aux=True)
    return out, vjp_fn({"o": ct}), aux


def _vjp_of_identity(lib, fn, x, ct):
    out, vjp_fn = fn.vjp(lambda x, y: x, x, ct)
    return out, vjp_fn(ct)


def _jvp_case(lib, fn, x, y, tx, ty):
    return fn.jvp(lambda x, y: f_vector(lib, x, y), (x, y), (tx, ty))


def test_jvp_where_backward_selects_by_the_gradient(device):
    """det's backward is zero where ``grad * det`` is (singular inputs stay finite), logcumsumexp's takes
    the log of the gradient: the Jacobian-vector product is still torch's, not 0 or NaN."""
    x, t = randn(3, 3), randn(3, 3)
    for name in ("det", "logcumsumexp"):
        fn = {"det": lambda lib: lib.linalg.det, "logcumsumexp": lambda lib: lambda a: a.logcumsumexp(1)}[name]
        _, got = ember.func.jvp(fn(ember), (ember.tensor(x, device=device),), (ember.tensor(t, device=device),))
        _, expected = torch.func.jvp(fn(torch), (torch.tensor(x),), (torch.tensor(t),))
        assert_close(got, expected, what=name)


def _jvp_aux(lib, fn, x, t):
    return fn.jvp(lambda x: (x.exp(), x.sum()), (x,), (t,), has_aux=True)


def _jvp_pytree(lib, fn, x, t):
    return fn.jvp(lambda d: [d["a"].sin() * d["b"], d["b"]], ({"a": x, "b": x.cos()},), ({"a": t, "b": t * 2},))


def _jvp_constant(lib, fn, x, t):
    return fn.jvp(lambda x: x.new_ones(x.shape) * 2, (x,), (t,))


def _grad_of_jvp(lib, fn, x, t):
    return fn.grad(lambda x: fn.jvp(lambda y: (y**3).sin(), (x,), (t,))[1].sum())(x)


def _linearize(lib, fn, x, t):
    out, jvp_fn = fn.linearize(lambda x: x.sin() * x.exp(), x)
    return out, jvp_fn(t), jvp_fn(t * 3)


def _vjp_in_grad(lib, fn, x, ct):
    return fn.grad(lambda x: fn.vjp(lambda y: y.tanh() * y, x)[1](ct)[0].sum())(x)


PRODUCT_CASES = {
    "vjp": (_vjp_case, [randn(3), randn(3), randn(3)]),
    "vjp_pytree_aux": (_vjp_pytree, [{"a": randn(2), "b": [randn(2), randn(2)]}, randn(2)]),
    "vjp_identity": (_vjp_of_identity, [randn(3), randn(3)]),
    "vjp_in_grad": (_vjp_in_grad, [randn(3), randn(3)]),
    "jvp": (_jvp_case, [randn(3), randn(3), randn(3), randn(3)]),
    "jvp_aux": (_jvp_aux, [randn(2, 2), randn(2, 2)]),
    "jvp_pytree": (_jvp_pytree, [randn(3), randn(3)]),
    "jvp_constant": (_jvp_constant, [randn(3), randn(3)]),
    "grad_of_jvp": (_grad_of_jvp, [randn(3), randn(3)]),
    "linearize": (_linearize, [randn(4), randn(4)]),
}


@pytest.mark.parametrize("name", list(PRODUCT_CASES))
def test_products(device, dtype, name):
    case, inputs = PRODUCT_CASES[name]
    both(case, inputs, device, dtype)


def _mlp(lib, w1, w2, x):
    return (x @ w1).tanh() @ w2


JACOBIAN_CASES = {
    "jacrev": (lambda lib, fn, x: fn.jacrev(lambda x: x.sin() * x.sum())(x), [randn(3)]),
    "jacfwd": (lambda lib, fn, x: fn.jacfwd(lambda x: x.sin() * x.sum())(x), [randn(3)]),
    "jacrev_matrix": (lambda lib, fn, x: fn.jacrev(lambda x: (x @ x.T).exp())(x), [randn(2, 3)]),
    "jacrev_argnums": (
        lambda lib, fn, w1, w2, x: fn.jacrev(_mlp_of(lib), argnums=(0, 1))(w1, w2, x),
        [randn(3, 4), randn(4, 2), randn(5, 3)],
    ),
    "jacfwd_argnums": (
        lambda lib, fn, w1, w2, x: fn.jacfwd(_mlp_of(lib), argnums=(0, 2))(w1, w2, x),
        [randn(3, 4), randn(4, 2), randn(2, 3)],
    ),
    "jacrev_outputs": (lambda lib, fn, x, y: fn.jacrev(lambda x, y: f_vector(lib, x, y))(x, y), [randn(3), randn(3)]),
    "jacrev_dict": (
        lambda lib, fn, p: fn.jacrev(lambda p: {"s": p["a"] * p["b"]})(p),
        [{"a": randn(2), "b": randn(2)}],
    ),
    "jacrev_aux": (lambda lib, fn, x: fn.jacrev(lambda x: (x**2, x.sum()), has_aux=True)(x), [randn(3)]),
    "jacfwd_aux": (lambda lib, fn, x: fn.jacfwd(lambda x: (x**2, x.sum()), has_aux=True)(x), [randn(3)]),
    "jacrev_constant": (lambda lib, fn, x: fn.jacrev(lambda x: x.new_ones(2))(x), [randn(3)]),
    "jacrev_scalar": (lambda lib, fn, x: fn.jacrev(lambda x: (x**2).sum())(x), [randn(3)]),
    "jacrev_jacrev": (lambda lib, fn, x: fn.jacrev(fn.jacrev(lambda x: (x.sin() * x).sum()))(x), [randn(3)]),
    "jacrev_jacrev_vector": (lambda lib, fn, x: fn.jacrev(fn.jacrev(lambda x: x.exp() * x.sum()))(x), [randn(2)]),
    "hessian": (lambda lib, fn, x: fn.hessian(lambda x: (x.tanh() ** 3).sum() * x[0])(x), [randn(3)]),
    "hessian_argnums": (
        lambda lib, fn, x, y: fn.hessian(lambda x, y: (x.sin() * y**2).sum(), argnums=(0, 1))(x, y),
        [randn(2), randn(2)],
    ),
    "hessian_mlp": (
        lambda lib, fn, w1, w2, x: fn.hessian(lambda w: _mlp(lib, w, w2, x).pow(2).sum())(w1),
        [randn(2, 3), randn(3, 1), randn(4, 2)],
    ),
    "jacrev_of_vmap_grad": (
        lambda lib, fn, x: fn.jacrev(
            lambda x: lib.vmap(fn.grad(lambda y: (x * y).sin().sum()))(x.reshape(3, 1)).sum(0)
        )(x),
        [randn(3)],
    ),
    "grad_of_jacrev": (lambda lib, fn, x: fn.grad(lambda x: fn.jacrev(lambda y: y.sin() * y)(x).sum())(x), [randn(3)]),
}


def _mlp_of(lib):
    return lambda w1, w2, x: _mlp(lib, w1, w2, x)


@pytest.mark.parametrize("name", list(JACOBIAN_CASES))
def test_jacobians(device, dtype, name):
    case, inputs = JACOBIAN_CASES[name]
    both(case, inputs, device, dtype)


def test_results_join_the_enclosing_graph(device, dtype):
    """Inputs and closed-over tensors that require grad: the transforms' results are differentiable
    by ordinary autograd, as torch.func's are; without them the results are detached."""

    def case(lib, fn, x, w, v):
        g = fn.grad(lambda x: (x.sin() * w).sum())(x)
        j = fn.jacrev(lambda x: x * w)(x)
        _, t = fn.jvp(lambda x: x.exp() * w, (x,), (v,))
        out, vjp_fn = fn.vjp(lambda x: x.tanh() * w, x)
        (u,) = vjp_fn(v)
        total = g.sum() + (j**2).sum() + t.sum() + out.sum() + (u * v).sum()
        flags = [r.requires_grad for r in (g, j, t, out, u)]
        total.backward()
        return flags, x.grad, w.grad

    e, _ = both(case, [randn(3), randn(3), randn(3)], device, dtype, requires_grad=True)
    assert e[0] == [True] * 5


def test_results_detached_without_outer_graph(device, dtype):
    def case(lib, fn, x):
        g, (value, aux) = fn.grad_and_value(lambda x: ((x**3).sum(), x * 2), has_aux=True)(x)
        j = fn.hessian(lambda x: (x**3).sum())(x)
        with lib.no_grad():
            h = fn.grad(lambda x: (x**3).sum())(x.detach().requires_grad_(True))
        return [t.requires_grad for t in (g, value, aux, j, h)]

    both(case, [randn(3)], device, dtype)


def _errors(lib, fn):
    x = lib.ones(3, dtype=lib.float64)
    i = lib.tensor([1, 2])
    f = lambda a: (a**2).sum()  # noqa: E731
    return {
        "grad_nonscalar": lambda: fn.grad(lambda a: a)(x),
        "grad_not_tensor": lambda: fn.grad(lambda a: 3.0)(x),
        "grad_aux_not_pair": lambda: fn.grad(lambda a: a.sum(), has_aux=True)(x),
        "grad_argnum_range": lambda: fn.grad(f, argnums=1)(x),
        "grad_argnums_dup": lambda: fn.grad(lambda a, b: (a * b).sum(), argnums=(0, 0))(x, x),
        "grad_argnums_type": lambda: fn.grad(f, argnums=0.5)(x),
        "grad_argnums_empty": lambda: fn.grad(f, argnums=())(x),
        "grad_int_input": lambda: fn.grad(lambda a: a.sum())(i),
        "grad_not_tensor_input": lambda: fn.grad(f)(3.0),
        "grad_no_args": lambda: fn.grad(lambda: x.sum())(),
        "vjp_not_tensor_primal": lambda: fn.vjp(lambda a: a, 3.0),
        "vjp_cotangent_structure": lambda: fn.vjp(lambda a: a, x)[1]((x, x)),
        "vjp_cotangent_shape": lambda: fn.vjp(lambda a: a, x)[1](lib.ones(2, dtype=lib.float64)),
        "vjp_output_not_tensor": lambda: fn.vjp(lambda a: 3, x),
        "vjp_aux_not_pair": lambda: fn.vjp(lambda a: a, x, has_aux=True),
        "jvp_primals_not_tuple": lambda: fn.jvp(lambda a: a, x, (x,)),
        "jvp_tangents_structure": lambda: fn.jvp(lambda a: a, (x,), x),
        "jvp_tangents_length": lambda: fn.jvp(lambda a: a, (x,), (x, x)),
        "jvp_tangent_shape": lambda: fn.jvp(lambda a: a, (x,), (lib.ones(2, dtype=lib.float64),)),
        "jvp_output_not_tensor": lambda: fn.jvp(lambda a: 3, (x,), (x,)),
        "jvp_empty": lambda: fn.jvp(lambda: x, (), ()),
        "jvp_int": lambda: fn.jvp(lambda a: a, (i,), (i,)),
        "jvp_strict_constant": lambda: fn.jvp(lambda a: lib.ones(2), (x,), (x,), strict=True),
        "jvp_aux_not_pair": lambda: fn.jvp(lambda a: a, (x,), (x,), has_aux=True),
        "linearize_tangent_shape": lambda: fn.linearize(lambda a: a.sin(), x)[1](lib.ones(2, dtype=lib.float64)),
        "linearize_tangent_dtype": lambda: fn.linearize(lambda a: a.sin(), x)[1](lib.ones(3, dtype=lib.float32)),
        "linearize_tangents_structure": lambda: fn.linearize(lambda a: a.sin(), x)[1](x, x),
        "jacrev_chunk": lambda: fn.jacrev(lambda a: a, chunk_size=0)(x),
        "jacrev_not_tensor": lambda: fn.jacrev(lambda a: 3)(x),
        "jacrev_aux_not_pair": lambda: fn.jacrev(lambda a: a, has_aux=True)(x),
        "jacrev_int": lambda: fn.jacrev(lambda a: a)(i),
        "jacfwd_int": lambda: fn.jacfwd(lambda a: a)(i),
        "jacfwd_randomness": lambda: fn.jacfwd(lambda a: a, randomness="bad")(x),
        "hessian_argnum_range": lambda: fn.hessian(f, argnums=2)(x),
        "grad_aux_not_tensors": lambda: fn.grad(lambda a: (a.sum(), {"k": [a, 3]}), has_aux=True)(x),
        "grad_and_value_aux_none": lambda: fn.grad_and_value(lambda a: (a.sum(), None), has_aux=True)(x),
        "vjp_aux_not_tensors": lambda: fn.vjp(lambda a: (a, "s"), x, has_aux=True),
        "jvp_aux_not_tensors": lambda: fn.jvp(lambda a: (a, 1.0), (x,), (x,), has_aux=True),
        "jacrev_aux_not_tensors": lambda: fn.jacrev(lambda a: (a, 3), has_aux=True)(x),
        "jacfwd_aux_not_tensors": lambda: fn.jacfwd(lambda a: (a, 3), has_aux=True)(x),
        "vjp_bool_output": lambda: fn.vjp(lambda a: (a, a > 0), x),
        "jacrev_int_output": lambda: fn.jacrev(lambda a: a.long())(x),
        "hessian_int_output": lambda: fn.hessian(lambda a: (a > 0).sum())(x),
        "jacfwd_complex_output": lambda: fn.jacfwd(lambda a: a * (1 + 1j))(x),
    }


@pytest.mark.parametrize("source", ["float32", "float64"])
def test_jacfwd_blocks_have_the_outputs_dtypes(source):
    """Forward mode's tangents have their outputs' dtypes (jacrev's blocks have the inputs')."""

    def case(lib, fn, x):
        other = lib.float64 if x.dtype == lib.float32 else lib.float32
        both_ways = lambda a: (a.to(other) * 2, a.sin(), a > 0, a.long())  # noqa: E731
        return fn.jacfwd(both_ways)(x), fn.jacrev(lambda a: a.to(other) * 2)(x)

    e, t = both(case, [randn(3)], "cpu", getattr(ember, source))
    for mine, theirs in zip(tree_flatten(e)[0], tree_flatten(t)[0]):
        assert str(mine.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]


@pytest.mark.parametrize("remove", ["mutations", "mutations_and_views"])
def test_functionalize(remove):
    """Same values and input writes as torch's functionalize; no output aliases an input."""

    def case(lib, fn, x):
        def f(a):
            a.mul_(2)
            return a.view(-1), a[0], a.sum()

        y = x.clone()
        flat, row, total = fn.functionalize(f, remove=remove)(y)
        flat.add_(100)  # must not reach y
        return flat, row, total, y

    both(case, [randn(2, 3)], "cpu", ember.float64)


def test_functionalize_refuses_other_removals():
    same_error(
        "functionalize_remove",
        lambda: ember.func.functionalize(lambda a: a, remove="views"),
        lambda: torch.func.functionalize(lambda a: a, remove="views"),
    )


def test_debug_unwrap_gives_the_mapped_input():
    def case(lib, fn, x):
        whole = lib.vmap(lambda a: fn.debug_unwrap(a).sum() * a)(x)
        nested = lib.vmap(lib.vmap(lambda a: fn.debug_unwrap(a).sum() * a))(x)
        innermost = lib.vmap(lib.vmap(lambda a: fn.debug_unwrap(a, recurse=False).sum() * a))(x)
        return whole, nested, innermost, fn.debug_unwrap(x)

    both(case, [randn(2, 3)], "cpu", ember.float64)


def test_vjp_names_the_structures_as_torch():
    messages = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as error:
            lib.func.vjp(lambda a: {"a": a, "b": [a]}, lib.ones(2))[1]((lib.ones(2),))
        messages.append(str(error.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("name", list(_errors(torch, torch.func)))
def test_errors_as_torch(name):
    same_error(name, _errors(ember, ember.func)[name], _errors(torch, torch.func)[name])


def same_error(name, ember_call, torch_call):
    """``ember_call()`` raises the exception type ``torch_call()`` raises, with its message."""
    try:
        torch_call()
    except Exception as exc:  # noqa: BLE001 - the exception torch raises is the expectation
        expected = exc
    else:
        pytest.fail(f"torch raised nothing for {name}")
    with pytest.raises(type(expected)) as info:
        ember_call()
    assert_same_message(name, info.value, expected)


def assert_same_message(name, actual, expected):
    """The first line of torch's message (up to 60 characters, sizes printed as lists on both sides) in ember's."""
    message = re.sub(r"torch\.Size\((\[[^\]]*\])\)", r"\1", str(expected)).replace("torch.", "ember.")
    first = message.split("\n")[0].split(" (")[0][:60]
    said = re.sub(r"ember\.Size\((\[[^\]]*\])\)", r"\1", str(actual))
    assert first in said, f"{name}: {actual!s} does not say {first!r}"
