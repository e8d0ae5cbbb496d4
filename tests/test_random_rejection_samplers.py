"""The ``cpu`` device's Poisson, Gamma, binomial and multinomial samples are PyTorch's, bit for bit, from
the same seed: by the compiled loops (``backends/numpy/loops/rejection.py``, where Numba is installed)
and by the Python samplers without them (``backends/numpy/serial_samplers.py``), over rates,
concentrations and counts from 0 and tiny to huge and infinite, and the stream goes on as PyTorch's."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

INF, NAN = float("inf"), float("nan")


def _assert_same_stream(make, seed):
    torch.manual_seed(seed)
    expected = make(torch)
    ember.manual_seed(seed)
    got = make(ember)
    for want, have in zip(expected, got, strict=True):
        assert str(have.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_array_equal(have.numpy(), want.numpy())


CASES = {
    "poisson edge rates": lambda T: [
        T.poisson(T.tensor([0.0, 1e-300, 1e-8, 0.5, 3.0, 9.99, 10.0, 20.0, 1e4, 1e8, 1e15, INF] * 20)),
        T.poisson(T.tensor([[2.5, 15.0], [0.1, 70.0]], dtype=T.float64)),
        T.rand(3),
    ],
    "poisson many": lambda T: [T.poisson(T.rand(3000, dtype=T.float64) * 30), T.poisson(T.rand(500).half() * 12)],
    "standard gamma edge concentrations": lambda T: [
        T._standard_gamma(T.tensor([0.0, 1e-30, 1e-3, 0.3, 0.999, 1.0, 7.5, 1e6, 1e30, INF, NAN] * 20)),
        T._standard_gamma(T.tensor([1e-300, 0.2, 4.0, 1e300], dtype=T.float64)),
        T.randn(1, dtype=T.float64),  # the cached normal of the last Box-Muller pair
        T.rand(2),
    ],
    "standard gamma after a cached normal": lambda T: [
        T.randn(1, dtype=T.float64),
        T._standard_gamma(T.full((7,), 2.0)),
        T.randn(3, dtype=T.float64),
    ],
    "gamma many": lambda T: [T._standard_gamma(T.rand(3000, dtype=T.float64) * 3), T._standard_gamma(T.rand(500))],
    "Beta and Dirichlet": lambda T: [
        T.distributions.Beta(T.full((500,), 2.0), T.full((500,), 0.5)).sample(),
        T.distributions.Dirichlet(T.tensor([0.05, 1.0, 3.0, 7.0], dtype=T.float64)).sample((200,)),
    ],
    "binomial edge counts and probabilities": lambda T: [
        T.binomial(
            T.tensor([0.0, 1.0, 5.0, 10.0, 30.0, 200.0, 1e6, 1e8, 5.0, 5.0] * 20),
            T.tensor([0.0, 1e-9, 0.01, 0.3, 0.5, 0.999, 1.0, 5e-8, NAN, 1.5] * 20),
        ),
        T.binomial(T.full((100,), 80.0, dtype=T.float64), T.linspace(0, 1, 100, dtype=T.float64)),
        T.rand(3),
    ],
    "binomial float32 counts above 2**24": lambda T: [T.binomial(T.full((500,), 1e8), T.full((500,), 5e-8))],
    "binomial many": lambda T: [
        T.binomial(T.full((3000,), 50.0, dtype=T.float64), T.rand(3000, dtype=T.float64)),
        T.binomial(T.full((500,), 3e7), T.rand(500)),
    ],
    "multinomial with replacement": lambda T: [
        T.multinomial(T.rand(3, 50, dtype=T.float64) ** 4, 500, replacement=True),
        T.multinomial(T.tensor([0.0, 0.0, 1e-30, 0.0, 1.0]), 300, replacement=True),
        T.multinomial(T.tensor([1e-40, 0.0, 3e38, 3e38]), 300, replacement=True),
        T.multinomial(T.rand(7, 100).bfloat16(), 100, replacement=True),
        T.multinomial(T.rand(1000), 1, replacement=True),  # one sample: the keys of no replacement
        T.multinomial(T.rand(4, 30), 1, replacement=True),
        T.rand(3),
    ],
}


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("name", CASES)
def test_samples_are_torchs(name, seed):
    _assert_same_stream(CASES[name], seed)


@pytest.mark.parametrize("name", [name for name in CASES if "many" not in name])
def test_samples_are_torchs_without_compiled_loops(name, no_loops):
    _assert_same_stream(CASES[name], 1)


@pytest.mark.parametrize("sample", ["poisson", "_standard_gamma", "binomial"])
def test_a_generator_draws_as_torchs(sample):
    def make(T):
        g = T.Generator().manual_seed(5)
        params = (T.full((40,), 12.0),) + ((T.full((40,), 0.3),) if sample == "binomial" else ())
        return [getattr(T, sample)(*params, generator=g), T.rand(2, generator=g), T.rand(2)]

    _assert_same_stream(make, 0)


def test_standard_gamma_is_differentiable():
    concentration = ember.tensor([0.5, 2.0, 9.0], requires_grad=True)
    ember._standard_gamma(concentration).sum().backward()
    assert concentration.grad is not None and bool((concentration.grad > 0).all())


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.poisson(T.tensor([1.0, NAN])),
        lambda T: T.poisson(T.tensor([-1.0])),
        lambda T: T.poisson(T.ones(2, dtype=T.int64)),
        lambda T: T._standard_gamma(T.ones(2, dtype=T.float16)),
        lambda T: T._standard_gamma(T.ones(2, dtype=T.int64)),
        lambda T: T.binomial(T.ones(2), T.ones(2, dtype=T.float64)),
        lambda T: T.binomial(T.ones(2, dtype=T.float64), T.ones(2)),
        lambda T: T.binomial(T.ones(2, dtype=T.int64), T.ones(2)),
        lambda T: T.binomial(T.ones(2), T.ones(2, dtype=T.int64)),
        lambda T: T.binomial(T.ones(2, dtype=T.bfloat16), T.ones(2, dtype=T.bfloat16)),
    ],
)
def test_refusals_are_torchs(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as got:
        call(ember)
    assert str(got.value).replace("ember", "torch") == str(expected.value)
