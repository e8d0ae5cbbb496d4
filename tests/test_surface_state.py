"""Tensor layout queries (stride, storage_offset, is_signed, is_nonzero, is_same_size) and the
generator-state API (get/set_rng_state, Generator.get/set_state, fork_rng, ember.cuda's RNG state),
against PyTorch."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")

_VIEWS = [
    ("plain", lambda x: x),
    ("t", lambda x: x.t()),
    ("slice", lambda x: x[1:, 2:]),
    ("row", lambda x: x[2]),
    ("step", lambda x: x[:, ::2]),
    ("expand", lambda x: x[:, :1].expand(4, 3)),
    ("permute", lambda x: x.reshape(2, 2, 6).permute(2, 0, 1)),
    ("unsqueeze", lambda x: x.unsqueeze(1)),
    ("scalar", lambda x: x[1, 1]),
]


@pytest.mark.parametrize("name,view", _VIEWS, ids=[n for n, _ in _VIEWS])
def test_stride_and_offset_match_torch(device, name, view):
    e = view(ember.arange(24.0, device=device).reshape(4, 6))
    t = view(torch.arange(24.0).reshape(4, 6))
    assert e.stride() == t.stride()
    assert e.storage_offset() == t.storage_offset()
    for d in range(-t.dim(), t.dim()):
        assert e.stride(d) == t.stride(d)


def test_stride_errors(device):
    x = ember.zeros(3, device=device)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 5"):
        x.stride(5)
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        ember.zeros((), device=device).stride(0)
    assert ember.zeros((), device=device).stride() == ()
    with pytest.raises(TypeError, match="stride"):
        x.stride("a")


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int8", "int64", "uint8", "bool"])
def test_is_signed(dtype):
    e, t = ember.zeros(2, dtype=getattr(ember, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
    assert e.is_signed() == t.is_signed() == ember.is_signed(e)


def test_is_nonzero_and_is_same_size(device):
    for values in ([0.0], [2.0], [[0]], [True]):
        assert ember.tensor(values, device=device).is_nonzero() == torch.tensor(values).is_nonzero()
    for values, message in (([1.0, 2.0], "more than one value"), ([], "no values")):
        with pytest.raises(RuntimeError, match=message):
            ember.is_nonzero(ember.tensor(values, device=device))
    a, b = ember.zeros(2, 3, device=device), ember.ones(2, 3, device=device)
    assert a.is_same_size(b) and not ember.is_same_size(a, b.t())
    with pytest.raises(TypeError, match="is_same_size"):
        a.is_same_size(3)


def test_rng_state_round_trips():
    state = ember.get_rng_state()
    assert state.dtype is ember.uint8 and state.ndim == 1 and state.device.type == "cpu"
    a = ember.rand(5)
    ember.set_rng_state(state)
    assert ember.equal(ember.rand(5), a)
    assert ember.equal(ember.random.get_rng_state(), ember.get_rng_state())
    g = ember.Generator().manual_seed(11)
    saved = g.get_state()
    b = ember.randn(4, generator=g)
    assert g.set_state(saved) is g
    assert ember.equal(ember.randn(4, generator=g), b)


def test_rng_state_errors():
    with pytest.raises(TypeError, match="ByteTensor"):
        ember.set_rng_state(ember.zeros(3))
    with pytest.raises(RuntimeError, match="CPUGeneratorImplState of size 5056"):  # torch's message
        ember.set_rng_state(ember.zeros(3, dtype=ember.uint8))


def test_fork_rng(device):
    device_type = ember.device(device).type
    with ember.random.fork_rng(device_type=device_type):
        a, da = ember.rand(3), ember.rand(3, device=device)
    assert ember.equal(ember.rand(3), a)
    assert ember.equal(ember.rand(3, device=device), da)
    with ember.random.fork_rng(enabled=False):
        b = ember.rand(3)
    assert not ember.equal(ember.rand(3), b)
    with ember.random.fork_rng(device_type="meta"):
        c = ember.rand(3)
    assert not ember.equal(ember.rand(3), c)
    with ember.random.fork_rng():  # no CUDA here: only the CPU stream, as torch's
        d = ember.rand(3)
    assert ember.equal(ember.rand(3), d)


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the behaviour without CUDA")
def test_cuda_rng_state_without_cuda():
    assert ember.cuda.get_rng_state_all() == torch.cuda.get_rng_state_all() == []
    with pytest.raises(AssertionError):
        torch.cuda.get_rng_state()
    with pytest.raises(AssertionError, match="get_rng_state"):
        ember.cuda.get_rng_state()
    assert ember.cuda.set_rng_state(ember.get_rng_state()) is None
    assert ember.cuda.set_rng_state_all([]) is None


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the behaviour without CUDA")
def test_cuda_seeding_without_cuda_is_a_no_op_as_torch():
    # programs seed CUDA unconditionally (torch.cuda.manual_seed(seed) beside torch.manual_seed)
    ember.manual_seed(3)
    expected = ember.rand(3)
    ember.manual_seed(3)
    for lib in (torch, ember):
        assert lib.cuda.manual_seed(5) is None
        assert lib.cuda.manual_seed_all(5) is None
        assert lib.cuda.seed() is None
        assert lib.cuda.seed_all() is None
    assert ember.equal(ember.rand(3), expected)  # the CPU stream is left alone


@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs CUDA")
def test_cuda_rng_state_round_trips():
    state = ember.cuda.get_rng_state()
    a = ember.rand(4, device="cuda")
    ember.cuda.set_rng_state(state)
    assert ember.equal(ember.rand(4, device="cuda"), a)
    states = ember.cuda.get_rng_state_all()
    ember.cuda.set_rng_state_all(states)
    assert len(states) == ember.cuda.device_count()
