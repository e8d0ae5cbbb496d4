"""``ember.quasirandom.SobolEngine`` against ``torch.quasirandom.SobolEngine``: the same points,
bit for bit, plain and scrambled, through draw, draw_base2, fast_forward and reset."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _same(ours, theirs):
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_direction_numbers_match_torchs_table_in_every_dimension():
    state = torch.zeros(21201, 30, dtype=torch.long)
    torch._sobol_engine_initialize_state_(state, 21201)
    _same(ember.quasirandom.SobolEngine(21201).sobolstate, state)


@pytest.mark.parametrize("scramble, seed", [(False, None), (True, 7), (True, 123)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_draws_match_torch(scramble, seed, dtype):
    ours = ember.quasirandom.SobolEngine(13, scramble=scramble, seed=seed)
    theirs = torch.quasirandom.SobolEngine(13, scramble=scramble, seed=seed)
    mine, torchs = getattr(ember, dtype), getattr(torch, dtype)
    _same(ours.draw(1, dtype=mine), theirs.draw(1, dtype=torchs))
    _same(ours.draw(37, dtype=mine), theirs.draw(37, dtype=torchs))
    ours.fast_forward(100), theirs.fast_forward(100)
    _same(ours.draw(5, dtype=mine), theirs.draw(5, dtype=torchs))
    ours.reset(), theirs.reset()
    ours.fast_forward(3), theirs.fast_forward(3)
    _same(ours.draw(1000, dtype=mine), theirs.draw(1000, dtype=torchs))
    ours.reset(), theirs.reset()
    _same(ours.draw_base2(4, dtype=mine), theirs.draw_base2(4, dtype=torchs))
    _same(ours.quasi, theirs.quasi)


def test_scrambling_without_a_seed_draws_from_the_default_generator():
    ember.manual_seed(3)
    torch.manual_seed(3)
    ours, theirs = ember.quasirandom.SobolEngine(300, scramble=True), torch.quasirandom.SobolEngine(300, scramble=True)
    _same(ours.draw(64), theirs.draw(64))
    assert repr(ours) == repr(theirs) == "SobolEngine(dimension=300, scramble=True)"


def test_draw_into_out():
    out = ember.zeros(1)
    assert ember.quasirandom.SobolEngine(2).draw(4, out=out) is out
    _same(out, torch.quasirandom.SobolEngine(2).draw(4))


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda m: m.quasirandom.SobolEngine(0), ValueError),
        (lambda m: m.quasirandom.SobolEngine(21202), ValueError),
        (lambda m: m.quasirandom.SobolEngine(3).draw(4, dtype=m.float16), NotImplementedError),
        (lambda m: m.quasirandom.SobolEngine(3).draw(0), RuntimeError),
        (lambda m: (lambda e: (e.draw(3), e.draw_base2(2)))(m.quasirandom.SobolEngine(3)), ValueError),
    ],
)
def test_errors_match_torch(call, error):
    with pytest.raises(error) as theirs:
        call(torch)
    with pytest.raises(error) as ours:
        call(ember)
    assert str(ours.value) == str(theirs.value)
