"""A few end-to-end checks of the core on every test device."""

import numpy as np
from reference import check, randn

import ember


def test_mlp_like_chain(device, dtype):
    check(
        lambda x, w, b: ((x @ w + b).tanh() * 2).sum(-1),
        lambda x, w, b: ((x @ w + b).tanh() * 2).sum(-1),
        [randn(4, 3), randn(3, 5), randn(5)],
        device=device,
        dtype=dtype,
    )


def test_info_lists_numpy_backend(capsys):
    from ember.__main__ import main

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "numpy (cpu)" in out


def test_gradcheck_on_device(device):
    if not ember.backends.get_backend(device).supports_float64:
        return
    x = ember.tensor(np.linspace(-1, 1, 5), device=device, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
