"""ember.vmap against torch.vmap: in_dims/out_dims (ints, negatives, None, pytrees), keyword and
non-tensor arguments, nesting, composition with grad, empty batches, randomness, gradients through
the map, and errors."""

from __future__ import annotations

import pytest
from reference import randn, reseed
from test_func_transforms import both, same_error

import ember
import ember.func

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _inputs():
    reseed(11)


CASES = {
    "default": (lambda lib, x: lib.vmap(lambda a: a.sin() * a.sum())(x), [randn(4, 3)]),
    "in_dim1": (lambda lib, x: lib.vmap(lambda a: a.cumsum(0), in_dims=1)(x), [randn(2, 5)]),
    "in_dim_negative": (lambda lib, x: lib.vmap(lambda a: a @ a, in_dims=-1)(x), [randn(3, 4)]),
    "out_dim1": (lambda lib, x: lib.vmap(lambda a: a * 2, out_dims=1)(x), [randn(3, 2)]),
    "out_dim_negative": (lambda lib, x: lib.vmap(lambda a: a.exp(), out_dims=-1)(x), [randn(3, 2, 2)]),
    "two_args": (lambda lib, x, y: lib.vmap(lib.dot)(x, y), [randn(5, 3), randn(5, 3)]),
    "unmapped_arg": (
        lambda lib, x, w: lib.vmap(lambda a, w: a @ w, in_dims=(0, None))(x, w),
        [randn(4, 3), randn(3, 2)],
    ),
    "python_scalar": (lambda lib, x: lib.vmap(lambda a, s: a * s, in_dims=(0, None))(x, 2.5), [randn(3, 2)]),
    "kwargs": (lambda lib, x, w: lib.vmap(lambda a, scale: a * scale)(x, scale=w), [randn(3, 2), randn(2)]),
    "dict_in": (
        lambda lib, x, b: lib.vmap(lambda d: d["a"] + d["b"], in_dims=({"a": 0, "b": None},))({"a": x, "b": b}),
        [randn(3, 2), randn(2)],
    ),
    "nested_in": (
        lambda lib, x, y: lib.vmap(lambda p: p[0] * p[1][0], in_dims=((1, [0]),))((x, [y])),
        [randn(2, 4), randn(4, 2)],
    ),
    "tuple_out": (lambda lib, x: lib.vmap(lambda a: (a.sum(), a * 2), out_dims=(0, 1))(x), [randn(3, 2)]),
    "dict_out": (lambda lib, x: lib.vmap(lambda a: {"s": a.sum(), "m": [a.max()]})(x), [randn(3, 2)]),
    "out_dims_none": (lambda lib, x, w: lib.vmap(lambda a: (a * 2, w), out_dims=(0, None))(x), [randn(3, 2), randn(2)]),
    "unbatched_output": (lambda lib, x, w: lib.vmap(lambda a: w * 3)(x), [randn(3, 2), randn(2)]),
    "nested": (lambda lib, x: lib.vmap(lib.vmap(lambda a: a**2 + a.sin()))(x), [randn(2, 3, 2)]),
    "nested_dims": (
        lambda lib, x, y: lib.vmap(lib.vmap(lib.outer, in_dims=(None, 0)), in_dims=(0, None))(x, y),
        [randn(2, 3), randn(4, 3)],
    ),
    "matmul": (lambda lib, x, w: lib.vmap(lib.matmul, in_dims=(0, None))(x, w), [randn(4, 2, 3), randn(3, 5)]),
    "empty_batch": (lambda lib, x: lib.vmap(lambda a: (a * 2).sum(0))(x), [randn(0, 3, 2)]),
    "per_sample_grad": (
        lambda lib, x, w: lib.vmap(lib.func.grad(lambda w, a: (a @ w).tanh().sum()), in_dims=(None, 0))(w, x),
        [randn(5, 3), randn(3, 2)],
    ),
    "jacrev_in_vmap": (lambda lib, x: lib.vmap(lib.func.jacrev(lambda a: a.sin() * a.sum()))(x), [randn(3, 2)]),
    "hessian_in_vmap": (lambda lib, x: lib.vmap(lib.func.hessian(lambda v: (v**3).prod()))(x), [randn(3, 2)]),
    "vmap_in_grad": (
        lambda lib, x: lib.func.grad(lambda a: lib.vmap(lambda r: (r**3).sum())(a).sum())(x),
        [randn(3, 2)],
    ),
    "chunk_size": (lambda lib, x: lib.vmap(lambda a: a.sum(), chunk_size=2)(x), [randn(5, 2)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_vmap(device, dtype, name):
    case, inputs = CASES[name]
    both(lambda lib, fn, *args: case(lib, *args), inputs, device, dtype)


def test_gradient_through_vmap(device, dtype):
    def case(lib, fn, x, w):
        out = lib.vmap(lambda a, w: (a * w).tanh(), in_dims=(1, None), out_dims=1)(x, w)
        (out * out.cos()).sum().backward()
        return out, x.grad, w.grad

    both(case, [randn(3, 4), randn(3)], device, dtype, requires_grad=True)


def test_randomness(device):
    x = ember.zeros(4, 3, device=device)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        ember.vmap(lambda a: a + ember.rand(3, device=device))(x)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        ember.vmap(lambda a: ember.nn.functional.dropout(a, 0.5))(x)
    same = ember.vmap(lambda a: a + ember.rand(3, device=device), randomness="same")(x)
    assert bool((same == same[0]).all())
    different = ember.vmap(lambda a: a + ember.rand(3, device=device), randomness="different")(x)
    assert not bool((different == different[0]).all())
    assert ember.vmap(lambda a: a * 2)(x).shape == (4, 3)  # no random draw, no error


def test_randomness_same_replays_the_stream(device):
    """``same``: every entry sees the draws one call outside vmap would see; the stream moves on once."""
    ember.manual_seed(3)
    expected = ember.rand(2, device=device)
    after = ember.rand(2, device=device)
    ember.manual_seed(3)
    got = ember.vmap(lambda a: a + ember.rand(2, device=device), randomness="same")(ember.zeros(3, 2, device=device))
    assert bool((got == expected).all())
    assert bool((ember.rand(2, device=device) == after).all())


def test_randomness_with_an_explicit_generator(device):
    """torch checks every draw: one from a ``generator=`` raises under ``"error"`` and repeats under ``"same"``."""
    x = ember.zeros(4, 3, device=device)
    generator = ember.Generator(device=device).manual_seed(5)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        ember.vmap(lambda a: a + ember.rand(3, device=device, generator=generator))(x)
    same = ember.vmap(lambda a: a + ember.rand(3, device=device, generator=generator), randomness="same")(x)
    assert bool((same == same[0]).all())
    different = ember.vmap(lambda a: a + ember.rand(3, device=device, generator=generator), randomness="different")(x)
    assert not bool((different == different[0]).all())


def _random_errors(lib):
    fn = lib.func
    x = lib.ones(2, 3)
    return {
        "inner_different_outer_error": lambda: lib.vmap(lib.vmap(lambda a: a + lib.rand(()), randomness="different"))(
            x
        ),
        "jacfwd": lambda: fn.jacfwd(lambda a: a * lib.rand(3))(x[0]),
        "hessian": lambda: fn.hessian(lambda a: (a * lib.rand(3)).sum())(x[0]),
        "randint": lambda: lib.vmap(lambda a: lib.randint(0, 3, (2,)))(x),
        "normal_": lambda: lib.vmap(lambda a: a.normal_())(x.clone()),
    }


@pytest.mark.parametrize("name", list(_random_errors(torch)))
def test_random_draws_raise_as_torch(name):
    same_error(name, _random_errors(ember)[name], _random_errors(torch)[name])


def test_jacfwd_maps_tangents_only(device, dtype):
    """jacfwd runs under torch's vmap over the tangents: running statistics and one_hot's class count are fine."""

    def case(lib, fn, x):
        F = lib.nn.functional
        mean, var = lib.zeros(3, dtype=x.dtype, device=x.device), lib.ones(3, dtype=x.dtype, device=x.device)
        normed = fn.jacfwd(lambda a: F.batch_norm(a, mean, var, training=True))(x)
        hot = fn.jacfwd(lambda a: F.one_hot(a.detach().abs().long()).to(a.dtype) * a.sum())(x)
        return normed, hot, mean, var

    both(case, [randn(4, 3)], device, dtype)


def test_jacfwd_with_random_draws_allowed():
    x = ember.ones(3)
    for randomness in ("same", "different"):
        assert ember.func.jacfwd(lambda a: a * ember.rand(3), randomness=randomness)(x).shape == (3, 3)


def _scalar_read_errors(lib):
    x = lib.arange(6.0).reshape(2, 3)
    return {
        "item": lambda: lib.vmap(lambda a: a * a.sum().item())(x),
        "item_of_an_entry": lambda: lib.vmap(lambda a: a * a.item())(x[0]),
        "float": lambda: lib.vmap(lambda a: a * float(a.max()))(x),
        "int": lambda: lib.vmap(lambda a: a * int(a.max()))(x),
        "index": lambda: lib.vmap(lambda a: a * [1, 2, 3, 4, 5, 6][a.long().max()])(x),
        "if": lambda: lib.vmap(lambda a: a if a.sum() > 3 else -a)(x),
        "if_on_an_entry": lambda: lib.vmap(lambda a: a if a else -a)(x[0]),
        "tolist": lambda: lib.vmap(lambda a: a * a.tolist()[0])(x),
        "nested_outer": lambda: lib.vmap(lambda r: lib.vmap(lambda a: a * (r.sum() + 1).item())(r))(x),
    }


@pytest.mark.parametrize("name", list(_scalar_read_errors(torch)))
def test_scalar_reads_raise_as_torch(name):
    same_error(name, _scalar_read_errors(ember)[name], _scalar_read_errors(torch)[name])


def test_scalar_reads_of_unmapped_tensors_pass(device, dtype):
    def case(lib, fn, x, w):
        nan = lib.full((2,), float("nan"), dtype=x.dtype, device=x.device)
        read = lib.vmap(lambda a: a * w.sum().item() if w.sum() > 0 else a)(x)
        listed = lib.vmap(lambda a: a + len(nan.tolist()) + (nan.sum().item() != nan.sum().item()))(x)
        return read, listed

    both(case, [randn(3, 2), abs(randn(2))], device, dtype)


def test_inplace_write_into_a_shared_tensor_raises():
    """torch refuses ``w.add_(a)`` for an unmapped ``w`` and a mapped ``a`` (a RuntimeError); ember, looping,
    refuses a second entry's write into the same unmapped tensor (it would add every entry)."""
    theirs = torch.zeros(3)
    with pytest.raises(RuntimeError):
        torch.vmap(lambda a: theirs.add_(a))(torch.arange(6.0).reshape(2, 3))
    ours = ember.zeros(3)
    with pytest.raises(RuntimeError, match="vmap: inplace arithmetic"):
        ember.vmap(lambda a: ours.add_(a))(ember.arange(6.0).reshape(2, 3))


def test_inplace_writes_into_the_entries_own_tensors(device, dtype):
    def case(lib, fn, x, w):
        fresh = lib.vmap(lambda a: a.clone().add_(w).mul_(2))(x)
        derived = lib.vmap(lambda a: (a * 2).add_(a).div_(w.exp()))(x)
        mapped = lib.vmap(lambda a: a.sub_(w))(x.clone())
        return fresh, derived, mapped

    both(case, [randn(3, 2), randn(2)], device, dtype)


def _batch_norm_errors(lib):
    F = lib.nn.functional
    x = lib.ones(2, 3, 4)
    return {
        "functional": lambda: lib.vmap(lambda a: F.batch_norm(a, lib.zeros(4), lib.ones(4), training=True))(x),
        "module": lambda: lib.vmap(lib.nn.BatchNorm1d(4))(x),
        "instance_norm": lambda: lib.vmap(
            lambda a: F.instance_norm(a.unsqueeze(0), lib.zeros(3), lib.ones(3), use_input_stats=True)
        )(x),
        "one_hot_without_num_classes": lambda: lib.vmap(F.one_hot)(lib.tensor([[0, 1], [2, 3]])),
        "mean_mapped_var_not": lambda: lib.vmap(lambda a, m: F.batch_norm(a, m, lib.ones(4), training=True))(
            x, lib.zeros(2, 4)
        ),
    }


@pytest.mark.parametrize("name", list(_batch_norm_errors(torch)))
def test_batch_norm_with_unmapped_running_stats_raises_as_torch(name):
    same_error(name, _batch_norm_errors(ember)[name], _batch_norm_errors(torch)[name])


def test_batch_norm_with_mapped_running_stats(device, dtype):
    """Mapped running statistics (``stack_module_state``'s buffers) are each entry's own: updated in place."""

    def case(lib, fn, x, mean, var):
        F = lib.nn.functional
        out = lib.vmap(lambda a, m, v: F.batch_norm(a, m, v, training=True))(x, mean, var)
        evaluated = lib.vmap(lambda a: F.batch_norm(a, lib.zeros_like(a[0]), lib.ones_like(a[0])))(x)
        return out, mean, var, evaluated

    both(case, [randn(2, 5, 4), randn(2, 4), abs(randn(2, 4))], device, dtype)


def _errors(lib):
    x = lib.arange(6.0).reshape(2, 3)
    return {
        "sizes": lambda: lib.vmap(lambda a, b: a + b)(lib.ones(2, 3), lib.ones(3, 3)),
        "in_dims_none": lambda: lib.vmap(lambda a: a, in_dims=None)(x),
        "in_dims_list": lambda: lib.vmap(lambda a: a, in_dims=[0])(x),
        "in_dims_str": lambda: lib.vmap(lambda a: a, in_dims="a")(x),
        "in_dims_structure": lambda: lib.vmap(lambda a, b: a, in_dims=(0,))(x, x),
        "in_dim_range": lambda: lib.vmap(lambda a: a, in_dims=2)(x),
        "in_dim_scalar": lambda: lib.vmap(lambda a: a)(lib.tensor(1.0)),
        "in_dim_float": lambda: lib.vmap(lambda a: a, in_dims=(0.5,))(x),
        "in_dim_non_tensor": lambda: lib.vmap(lambda a, b: a, in_dims=(0, 0))(x, 3),
        "in_dim_none_input": lambda: lib.vmap(lambda a, b: a, in_dims=(0, 0))(x, None),
        "nothing_mapped": lambda: lib.vmap(lambda a, b: a, in_dims=(None, None))(x, x),
        "no_inputs": lambda: lib.vmap(lambda: x)(),
        "returns_int": lambda: lib.vmap(lambda a: 3)(x),
        "returns_none": lambda: lib.vmap(lambda a: None)(x),
        "out_dims_none_batched": lambda: lib.vmap(lambda a: a * 2, out_dims=None)(x),
        "out_dim_range": lambda: lib.vmap(lambda a: a, out_dims=5)(x),
        "out_dims_structure": lambda: lib.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(x),
        "out_dims_list_for_tuple": lambda: lib.vmap(lambda a: (a, a), out_dims=[0, 0])(x),
        "out_dims_type": lambda: lib.vmap(lambda a: a, out_dims="x")(x),
        "out_dims_type_nested": lambda: lib.vmap(lambda a: (a, a), out_dims=(0, "x"))(x),
        "randomness": lambda: lib.vmap(lambda a: a, randomness="bad")(x),
        "chunk_size": lambda: lib.vmap(lambda a: a, chunk_size=0)(x),
        "not_callable": lambda: lib.vmap(3)(x),
    }


@pytest.mark.parametrize("name", list(_errors(torch)))
def test_errors_as_torch(name):
    same_error(name, _errors(ember)[name], _errors(torch)[name])


def test_out_dims_none_needs_one_value():
    """An ``out_dims=None`` output that is the same for every entry is returned once (PyTorch
    returns unbatched outputs; ember, looping, compares the entries' values)."""
    w = ember.ones(2)
    out, same = ember.vmap(lambda a: (a * 2, w + 1), out_dims=(0, None))(ember.ones(3, 2))
    assert out.shape == (3, 2) and bool((same == 2).all())
