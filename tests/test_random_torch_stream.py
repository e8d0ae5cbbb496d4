"""The ``cpu`` device's random numbers are PyTorch's, bit for bit: the same seed and the same calls
give the same samples, initial weights, dropout masks and shuffles (the NumPy backend reproduces
PyTorch's CPU generator; see ``backends/numpy/cpu_generator.py``)."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _same_stream(make, seed=0):
    torch.manual_seed(seed)
    expected = make(torch)
    ember.manual_seed(seed)
    got = make(ember)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    got = got if isinstance(got, (list, tuple)) else [got]
    for want, have in zip(expected, got, strict=True):
        if isinstance(want, torch.Tensor):
            assert str(have.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
            want, have = want.detach().float() if want.dtype == torch.bfloat16 else want.detach(), have.detach()
            have = have.float() if have.dtype == ember.bfloat16 else have
            np.testing.assert_array_equal(have.numpy(), want.numpy())
        else:
            assert have == want


FACTORIES = {
    "rand": lambda T: T.rand(3, 50),
    "rand float64": lambda T: T.rand(37, dtype=T.float64),
    "rand float16": lambda T: T.rand(300, dtype=T.float16),
    "rand bfloat16": lambda T: T.rand(300, dtype=T.bfloat16),
    "randn below 16": lambda T: [T.randn(3), T.randn(5), T.randn(2, dtype=T.float64)],
    "randn float32": lambda T: T.randn(10_000),
    "randn float64 tail": lambda T: T.randn(7, 5, dtype=T.float64),
    "randn large": lambda T: T.randn(200_003),
    "randn float64 large": lambda T: [
        T.randn(100_000, dtype=T.float64),
        T.empty(1000, dtype=T.float64).normal_(1.5, 0.3),
    ],
    "randn 16-bit tails": lambda T: [
        T.randn(40, dtype=T.float16),
        T.randn(1000, dtype=T.bfloat16),
        T.empty(17, dtype=T.float16).normal_(1.0, 3.0),
    ],
    "randn below 16, pairs across calls": lambda T: [
        T.randn(15),
        T.randn(1, dtype=T.float64),
        T.randn(7, dtype=T.float16),
        T.empty(3, dtype=T.bfloat16).normal_(2.0, 0.5),
        T.randn(0),
        T.randn(4),
    ],
    "normal_ std 1": lambda T: [T.empty(1000).normal_(3.0, 1.0), T.empty(999, dtype=T.float64).normal_(-2.0, 1.0)],
    "rand large": lambda T: [T.rand(100_001), T.rand(100_001, dtype=T.float64), T.empty(5000).uniform_(-3, 5)],
    "complex": lambda T: [
        T.randn(5, dtype=T.complex64),
        T.randn(3, dtype=T.complex128),
        T.randn(1000, dtype=T.complex128),
        T.rand(30, dtype=T.complex64),
        T.empty(9, dtype=T.complex64).normal_(1.0, 2.0),
    ],
    "randint": lambda T: T.randint(-3, 11, (40,)),
    "randint 64-bit range": lambda T: T.randint(-(2**40), 2**40, (40,)),
    "randperm": lambda T: [T.randperm(500), T.randperm(2), T.randperm(1), T.randperm(0), T.randperm(100_000)],
    "uniform_": lambda T: [T.empty(64).uniform_(-0.37, 0.91), T.empty(20, dtype=T.float64).uniform_(-2.5, 3.0)],
    "uniform_ 16-bit": lambda T: [
        T.empty(20_000, dtype=dtype).uniform_(low, high)
        for dtype in (T.float16, T.bfloat16)
        for low, high in ((-3, 7), (-0.37, 0.91), (2.0, 1000.0))
    ],
    "normal_": lambda T: [T.empty(64).normal_(2.0, 0.3), T.empty(9).normal_(-1.0, 2.0)],
    "normal of tensors": lambda T: T.normal(T.zeros(20), T.ones(20) * 2),
    "bernoulli": lambda T: [T.bernoulli(T.full((100,), 0.3)), T.empty(100).bernoulli_(0.7)],
    "bernoulli by the dtype of p": lambda T: [
        T.empty(2000).bernoulli_(T.rand(2000, dtype=T.float64)),
        T.bernoulli(T.rand(2000, dtype=T.float16)),
        T.bernoulli(T.rand(2000), 0.3),
    ],
    "normal of numbers and tensors": lambda T: [
        T.normal(2.0, 3.0, size=(1000,)),
        T.normal(2.0, 3.0, size=(100,), dtype=T.float64),
        T.normal(T.arange(100.0).half(), 0.3),
        T.normal(T.zeros(50), T.ones(50, dtype=T.float64)),
    ],
    "out= of normal and bernoulli": lambda T: [
        T.normal(T.zeros(20), 1.0, out=T.empty(20, dtype=T.float64)),
        T.normal(0.0, 1.0, (20,), out=T.empty(3)),
        T.normal(2.0, T.ones(30), out=T.empty(0, dtype=T.float64)),
        T.bernoulli(T.full((20,), 0.3), out=T.empty(3, dtype=T.int64)),
        T.bernoulli(T.full((20,), 0.3, dtype=T.float64), out=T.empty(20, dtype=T.bool)),
    ],
    "exponential_": lambda T: T.empty(100).exponential_(2.0),
    "geometric_": lambda T: [
        T.empty(size, dtype=dtype).geometric_(p)
        for size in (40, 20_000)
        for dtype, p in ((T.float32, 0.3), (T.float64, 0.01), (T.float16, 0.5), (T.int64, 0.2), (T.uint8, 0.6))
    ],
    "random_": lambda T: [T.empty(6, dtype=d).random_() for d in (T.float32, T.int32, T.int64, T.uint8, T.bool)],
    "random_ and randint ranges": lambda T: [
        T.empty(50, dtype=T.int32).random_(0, None),
        T.empty(50, dtype=T.int32).random_(-5, None),
        T.empty(50, dtype=T.int32).random_(-(2**31), 2**31 - 1),
        T.empty(50, dtype=T.int64).random_(0, 2**28 - 1),
        T.empty(50, dtype=T.int64).random_(0, 2**28),
        T.empty(50, dtype=T.int64).random_(-(2**63), None),
        T.empty(50, dtype=T.float64).random_(3, None),
        T.randint(0, 2**30, (50,)),
        T.randint(-(2**62), 2**62, (50,)),
    ],
    "poisson, then the stream goes on": lambda T: [
        T.poisson(T.tensor([0.0, 0.5, 1.0, 3.0, 9.99, 10.0, 20.0, 100.0, 1e4] * 20)),
        T.poisson(T.tensor([[2.5, 15.0], [0.1, 70.0]], dtype=T.float64)),
        T.distributions.Poisson(T.tensor([3.0, 40.0])).sample((30,)),
        T.rand(5),
    ],
    "rrelu": lambda T: [
        T.nn.functional.rrelu(T.linspace(-3, 3, 1001), training=True),
        T.nn.functional.rrelu(T.linspace(-3, 3, 101, dtype=T.float64), 0.1, 0.7, training=True),
    ],
    "Exponential and Cauchy distributions": lambda T: [
        T.distributions.Exponential(T.full((30,), 2.0)).sample((2,)),
        T.distributions.Cauchy(T.zeros(30), T.full((30,), 3.0)).sample((2,)),
    ],
    "Gamma, Chi2 and StudentT": lambda T: [
        T.distributions.Gamma(T.tensor([0.3, 0.5, 1.0, 2.0, 7.5, 100.0] * 20), T.full((120,), 3.0)).sample((2,)),
        T.distributions.Gamma(T.tensor([0.2, 4.0] * 30, dtype=T.float64), 1.0).sample(),
        T.distributions.Chi2(T.full((50,), 3.0)).sample(),
        T.distributions.StudentT(T.full((50,), 3.0)).sample(),
        T.rand(4),
    ],
    "Beta and Dirichlet": lambda T: [
        T.distributions.Beta(T.full((200,), 2.0), T.full((200,), 0.5)).sample(),
        T.distributions.Dirichlet(T.tensor([0.5, 1.0, 3.0])).sample((100,)),
        T.distributions.Dirichlet(T.tensor([0.05, 1.0, 3.0, 7.0], dtype=T.float64)).sample((100,)),
    ],
    "binomial": lambda T: [
        T.binomial(T.tensor([0.0, 5.0, 10.0, 30.0, 60.0, 200.0] * 40), T.tensor([0.0, 0.01, 0.3, 0.5, 0.8, 1.0] * 40)),
        T.binomial(T.full((100,), 80.0, dtype=T.float64), T.linspace(0, 1, 100, dtype=T.float64)),
        T.distributions.Binomial(50, T.full((100,), 0.3)).sample(),
        T.rand(3),
    ],
    "multinomial": lambda T: [
        T.multinomial(T.tensor([0.1, 0.2, 0.3, 0.4]), 3),
        T.multinomial(T.tensor([[0.1, 0.2, 0.3, 0.4], [0.5, 0.1, 0.1, 0.3]]), 20, replacement=True),
        T.multinomial(T.rand(3, 50, dtype=T.float64) ** 4, 500, replacement=True),
        T.multinomial(T.rand(50).half(), 500, replacement=True),
    ],
    "generator objects": lambda T: [
        T.rand(5, generator=T.Generator().manual_seed(42)),
        T.randperm(30, generator=T.Generator().manual_seed(7)),
    ],
}


def _filled(method, dtype, *args):
    """Tensors of ``dtype`` filled by ``method(*args)``: small, and large enough for compiled loops."""
    return lambda T: [getattr(T.empty(size, dtype=getattr(T, dtype)), method)(*args) for size in (40, 20_000)]


FACTORIES.update(
    {
        f"{method}{args} {dtype}": _filled(method, dtype, *args)
        for method, args in (
            ("exponential_", (1.5,)),
            ("log_normal_", ()),
            ("log_normal_", (0.5, 0.7)),
            ("cauchy_", (0.5, 2.0)),
        )
        for dtype in ("float32", "float64", "float16", "bfloat16")
    }
)


@pytest.mark.parametrize("name", FACTORIES)
def test_samples_are_torchs(name):
    _same_stream(FACTORIES[name])


MODULES = {
    "Linear": lambda T: list(T.nn.Linear(20, 30).parameters()),
    "Conv2d": lambda T: list(T.nn.Conv2d(3, 8, 3).parameters()),
    "Embedding": lambda T: T.nn.Embedding(10, 8).weight,
    "LSTM": lambda T: list(T.nn.LSTM(4, 8, 2).parameters()),
    "TransformerEncoderLayer": lambda T: list(T.nn.TransformerEncoderLayer(16, 2, 32).parameters()),
    "xavier and kaiming": lambda T: [
        T.nn.init.xavier_uniform_(T.empty(5, 7)),
        T.nn.init.xavier_normal_(T.empty(5, 7)),
        T.nn.init.kaiming_normal_(T.empty(50, 7)),
    ],
    "trunc_normal_": lambda T: [
        T.nn.init.trunc_normal_(T.empty(50, 7), std=0.02),
        T.nn.init.trunc_normal_(T.empty(50, 7), mean=0.5, std=1.0, a=-1.0, b=1.5),
        T.nn.init.trunc_normal_(T.empty(50, 7), std=1.0, a=2.0, b=4.0),  # by uniform candidates
    ],
}


@pytest.mark.parametrize("name", MODULES)
def test_initial_weights_are_torchs(name):
    _same_stream(MODULES[name], seed=3)


def test_dropout_masks_are_torchs():
    _same_stream(
        lambda T: [
            T.nn.functional.dropout(T.arange(1.0, 101.0), 0.1),
            T.nn.functional.dropout(T.ones(1000, dtype=T.float16), 0.3),
            T.nn.functional.dropout(T.ones(100, dtype=T.float64), 0.3),
            T.nn.Dropout(0.5)(T.ones(4, 25)),
            T.nn.functional.dropout2d(T.ones(2, 4, 3, 3), 0.5),
        ]
    )


def test_data_loader_order_is_torchs():
    def epochs(T):
        data = T.utils.data.TensorDataset(T.arange(20))
        loader = T.utils.data.DataLoader(data, batch_size=4, shuffle=True)
        with_replacement = T.utils.data.DataLoader(
            data, batch_size=4, sampler=T.utils.data.RandomSampler(data, replacement=True)
        )
        return [T.cat([b[0] for b in loader]) for _ in range(2)] + [T.cat([b[0] for b in with_replacement])]

    _same_stream(epochs)
    _same_stream(lambda T: T.utils.data.random_split(range(10), [0.5, 0.5])[0].indices)


def test_data_loader_order_from_its_own_generator_is_torchs_every_epoch():
    # PyTorch's RandomSampler draws a trailing permutation for num_samples % n even when that is 0,
    # so a generator handed to the loader has moved on by two permutations (and the base seed) per epoch
    def epochs(T):
        data = T.utils.data.TensorDataset(T.arange(10))
        loader = T.utils.data.DataLoader(data, batch_size=4, shuffle=True, generator=T.Generator().manual_seed(5))
        sampler = T.utils.data.RandomSampler(range(5), num_samples=10, generator=T.Generator().manual_seed(1))
        return [T.cat([b[0] for b in loader]) for _ in range(3)] + [T.tensor(list(sampler)) for _ in range(2)]

    _same_stream(epochs)


def test_a_training_run_from_a_seed_gives_torchs_losses():
    def run(T):
        T.manual_seed(1)
        model = T.nn.Sequential(T.nn.Linear(8, 16), T.nn.ReLU(), T.nn.Dropout(0.2), T.nn.Linear(16, 2))
        optimizer = T.optim.SGD(model.parameters(), lr=0.1)
        x, y = T.randn(32, 8), T.randint(0, 2, (32,))
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = T.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
        return losses

    torch_losses, ember_losses = run(torch), run(ember)
    for want, have in zip(torch_losses, ember_losses):
        assert have.item() == pytest.approx(want.item(), rel=1e-6)


def test_state_round_trip_keeps_the_cached_normal():
    ember.manual_seed(0)
    ember.randn(1)  # leaves the second of a Box-Muller pair cached
    state = ember.get_rng_state()
    first = ember.randn(3)
    ember.set_rng_state(state)
    assert (ember.randn(3) == first).all()


def test_distributed_sampler_order_is_torchs():
    def ranks(T):
        data = list(range(11))
        samplers = [
            T.utils.data.DistributedSampler(data, num_replicas=3, rank=r, shuffle=True, seed=5) for r in range(3)
        ]
        for sampler in samplers:
            sampler.set_epoch(2)
        return [list(sampler) for sampler in samplers]

    assert ranks(ember) == ranks(torch)


def test_out_of_normal_and_bernoulli_is_returned():
    out = ember.empty(3, dtype=ember.float64)
    assert ember.normal(ember.zeros(5), 2.0, out=out) is out and out.shape == (5,)
    out = ember.empty(0, dtype=ember.uint8)
    assert ember.bernoulli(ember.full((4,), 0.5), out=out) is out and out.dtype == ember.uint8


@pytest.mark.parametrize(
    "draws", [[], [("rand", 3)], [("randn", 3)], [("rand", 624)], [("randn", 1), ("rand", 700)], [("randperm", 999)]]
)
def test_state_bytes_are_torchs(draws):
    """get_rng_state is PyTorch's 5056-byte CPUGeneratorImplState, byte for byte."""
    for T in (torch, ember):
        T.manual_seed(2**40 + 7)
        for name, n in draws:
            getattr(T, name)(n)
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()
    assert (
        ember.Generator().manual_seed(4).get_state().tolist() == torch.Generator().manual_seed(4).get_state().tolist()
    )


def test_a_state_from_torch_continues_torchs_stream():
    torch.manual_seed(11)
    torch.randn(1)  # the second of a pair cached in the state
    torch.rand(10)
    ember.set_rng_state(ember.tensor(torch.get_rng_state().tolist(), dtype=ember.uint8))
    for make in (lambda T: T.randn(5), lambda T: T.rand(50), lambda T: T.randperm(20)):
        np.testing.assert_array_equal(make(ember).numpy(), make(torch).numpy())


def test_a_state_of_another_size_is_refused_as_torch_refuses_it():
    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="Expected a CPUGeneratorImplState of size 5056 but found .* 10$"):
            T.set_rng_state(T.zeros(10, dtype=T.uint8))
