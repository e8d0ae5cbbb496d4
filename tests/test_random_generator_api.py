"""Seeds, generators and the checks of the sampling ops, against PyTorch: what ``initial_seed`` says
after a restored state, a new ``Generator``'s stream, ``clone_state``, the refusals of ``multinomial``,
``randint``, ``randperm`` and ``normal`` (error type and message), and the zero gradient an in-place
sampler gives the values it overwrites."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _same_error(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as got:
        call(ember)
    # PyTorch's notes of the overloads that "didn't match" left out
    lines = [line for line in str(expected.value).splitlines() if "didn't match" not in line]
    assert str(got.value).replace("ember", "torch").splitlines() == lines


def _same_values(call):
    want, have = call(torch), call(ember)
    if isinstance(want, torch.Tensor):
        assert str(have.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_array_equal(have.numpy(), want.numpy())
    else:
        assert have == want


SEEDS = {
    "initial_seed after set_rng_state": lambda T: (
        T.manual_seed(5),
        state := T.get_rng_state(),
        T.manual_seed(9),
        T.set_rng_state(state),
        T.initial_seed(),
    )[-1],
    "Generator.initial_seed after set_state": lambda T: (
        g := T.Generator().manual_seed(5),
        state := g.get_state(),
        g.manual_seed(9),
        g.set_state(state),
        g.initial_seed(),
    )[-1],
    "initial_seed after fork_rng": lambda T: (T.manual_seed(1), _fork_and_reseed(T), T.initial_seed())[-1],
    "default_generator.manual_seed": lambda T: (T.default_generator.manual_seed(12), T.initial_seed(), T.rand(3))[1:],
    "a new Generator after manual_seed": lambda T: (T.manual_seed(3), T.rand(3, generator=T.Generator()))[-1],
    "negative seeds": lambda T: (T.manual_seed(-1).initial_seed(), T.Generator().manual_seed(-(2**63)).initial_seed()),
    "clone_state": lambda T: (
        g := T.Generator().manual_seed(4),
        T.rand(2, generator=g),
        c := g.clone_state(),
        c is g,
        c.initial_seed(),
        T.rand(5, generator=c).tolist() == T.rand(5, generator=g).tolist(),
    )[3:],
}


def _fork_and_reseed(T):
    with T.random.fork_rng():
        T.manual_seed(2)
        T.rand(3)


@pytest.mark.parametrize("name", SEEDS)
def test_seeds_are_torchs(name):
    want, have = SEEDS[name](torch), SEEDS[name](ember)
    want = want if isinstance(want, tuple) else (want,)
    have = have if isinstance(have, tuple) else (have,)
    for w, h in zip(want, have, strict=True):
        if isinstance(w, torch.Tensor):
            np.testing.assert_array_equal(h.numpy(), w.numpy())
        else:
            assert h == w


REFUSALS = {
    "seed past 64 bits": lambda T: T.manual_seed(2**64),
    "seed below -2**63": lambda T: T.Generator().manual_seed(-(2**63) - 1),
    "Generator seed of a float": lambda T: T.Generator().manual_seed(1.5),
    "Generator seed of a bool": lambda T: T.Generator().manual_seed(True),
    "graphsafe_get_state": lambda T: T.Generator().graphsafe_get_state(),
    "graphsafe_set_state": lambda T: T.Generator().graphsafe_set_state(T.Generator()),
    "set_rng_state of a list": lambda T: T.set_rng_state([1, 2]),
    "multinomial negative weight": lambda T: T.multinomial(T.tensor([0.5, -0.1, 0.3]), 2),
    "multinomial negative weight, replacement": lambda T: T.multinomial(T.tensor([0.5, -0.1, 0.3]), 2, True),
    "multinomial inf": lambda T: T.multinomial(T.tensor([0.5, float("inf")]), 1),
    "multinomial inf, replacement": lambda T: T.multinomial(T.tensor([0.5, float("inf")]), 2, True),
    "multinomial nan, replacement": lambda T: T.multinomial(T.tensor([0.5, float("nan")]), 2, True),
    "multinomial zero sum": lambda T: T.multinomial(T.tensor([[0.0, 0.0], [1.0, 1.0]]), 2, True),
    "multinomial too many": lambda T: T.multinomial(T.tensor([0.5, 0.5]), 3),
    "multinomial no categories": lambda T: T.multinomial(T.ones(2, 0), 1, True),
    "multinomial no samples": lambda T: T.multinomial(T.ones(3), 0),
    "multinomial 3-d": lambda T: T.multinomial(T.ones(2, 2, 2, dtype=T.int64), 1),
    "multinomial 2**24 categories": lambda T: T.multinomial(T.ones(2**24 + 1), 1, True),
    "randint bool": lambda T: T.randint(0, 3, (3,), dtype=T.bool),
    "randint int8": lambda T: T.randint(0, 300, (3,), dtype=T.int8),
    "randint uint8 from": lambda T: T.randint(-1, 3, (3,), dtype=T.uint8),
    "randint float16": lambda T: T.randint(0, 2**25, (3,), dtype=T.float16),
    "randint_like uint8": lambda T: T.randint_like(T.ones(2, dtype=T.uint8), 300),
    "randperm float16": lambda T: T.randperm(3000, dtype=T.float16),
    "randperm int8": lambda T: T.randperm(200, dtype=T.int8),
    "randperm bool": lambda T: T.randperm(2, dtype=T.bool),
    "randperm complex": lambda T: T.randperm(2, dtype=T.complex64),
    "normal negative std": lambda T: T.normal(0.0, -1.0, (3,)),
    "normal nan std": lambda T: T.normal(0.0, float("nan"), (3,)),
    "normal nan std tensor": lambda T: T.normal(T.zeros(3), T.tensor([float("nan")] * 3)),
    "normal tensor and size": lambda T: T.normal(T.zeros(3), 1.0, size=(3,)),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_refusals_are_torchs(name):
    _same_error(REFUSALS[name])


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.randperm(256, dtype=T.uint8).sort().values,
        lambda T: T.randperm(0, dtype=T.float16),
        lambda T: T.multinomial(T.ones(0, 3), 2, True),
        lambda T: T.randint(0, 2**11, (4,), dtype=T.float16).dtype is T.float16,
    ],
)
def test_edges_are_torchs(call):
    _same_values(call)


@pytest.mark.parametrize("method", ["normal_", "uniform_", "bernoulli_", "exponential_", "random_", "cauchy_"])
def test_an_in_place_sampler_gives_the_overwritten_values_a_zero_gradient(method):
    def gradient(T):
        p = T.full((4,), 0.5, requires_grad=True)
        y = p * 2
        getattr(y[1:3], method)()
        (y * 3).sum().backward()
        whole = p.clone()
        getattr(whole, method)()
        assert whole.requires_grad
        return p.grad

    _same_values(gradient)


DRAWS = {
    "normal(mean)": lambda T, p, q: T.normal(p, 1.0),
    "normal(mean, std)": lambda T, p, q: T.normal(p, q),
    "normal(0, std)": lambda T, p, q: T.normal(0.0, q),
    "bernoulli": lambda T, p, q: T.bernoulli(p),
    "poisson": lambda T, p, q: T.poisson(q),
}


@pytest.mark.parametrize("name", DRAWS)
def test_samples_of_parameters_that_require_grad_give_them_a_zero_gradient(name):
    def gradients(T):
        p = T.full((3,), 0.5, requires_grad=True)
        q = T.full((3,), 2.0, requires_grad=True)
        samples = DRAWS[name](T, p, q)
        assert samples.requires_grad
        (samples * 3).sum().backward()
        with T.no_grad():
            assert not DRAWS[name](T, p, q).requires_grad
        return [None if g is None else g.tolist() for g in (p.grad, q.grad)]

    assert gradients(ember) == gradients(torch)


def test_thread_safe_generator_outside_thread_workers_is_none():
    assert torch.random.thread_safe_generator() is None
    assert ember.random.thread_safe_generator() is None
