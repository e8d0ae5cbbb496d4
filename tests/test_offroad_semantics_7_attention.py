"""Off the main road, differential against PyTorch: ``torch.nn.attention.SDPBackend`` is a C++ enum, not an int
(``SDPBackend.MATH == 0`` is False, members neither order nor add, yet ``int()`` and indexing take them), and
``torch.nn.attention`` hands out ``SDPAParams``, ``can_use_flash_attention`` and ``can_use_efficient_attention``
(the very objects of ``torch.backends.cuda``; on the CPU both checks say False)."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")


def _b(L):
    return L.nn.attention.SDPBackend


# name -> f(lib): a use of SDPBackend's members
USES = {
    "== 0": lambda L: _b(L).MATH == 0,  # ember: True (an IntEnum)
    "!= 1": lambda L: _b(L).FLASH_ATTENTION != 1,
    "in {0}": lambda L: _b(L).MATH in {0},
    "isinstance int": lambda L: isinstance(_b(L).MATH, int),
    "int()": lambda L: [int(b) for b in (_b(L).ERROR, _b(L).MATH, _b(L).OVERRIDEABLE)],
    "index": lambda L: ["a", "b", "c"][_b(L).EFFICIENT_ATTENTION],
    "from value": lambda L: _b(L)(1) == _b(L).FLASH_ATTENTION,
    "value": lambda L: _b(L).CUDNN_ATTENTION.value,
    "hash": lambda L: hash(_b(L).FLASH_ATTENTION),
    "str": lambda L: str(_b(L).MATH),
    "format": lambda L: f"{_b(L).EFFICIENT_ATTENTION}",
    "members": lambda L: list(_b(L).__members__),
    "eq members": lambda L: _b(L).MATH == _b(L).MATH and _b(L).MATH != _b(L).FLASH_ATTENTION,
}


@pytest.mark.parametrize("case", list(USES))
def test_sdp_backend_is_no_int(case):
    assert USES[case](ember) == USES[case](torch)


REFUSED = {
    "+ 1": lambda L: _b(L).MATH + 1,  # ember gave 1
    "<": lambda L: _b(L).MATH < _b(L).FLASH_ATTENTION,  # ember gave True
    "sorted": lambda L: sorted([_b(L).FLASH_ATTENTION, _b(L).MATH]),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_sdp_backend_neither_adds_nor_orders(case):
    with pytest.raises(TypeError):
        REFUSED[case](torch)
    with pytest.raises(TypeError):
        REFUSED[case](ember)


@pytest.mark.parametrize("name", ["can_use_flash_attention", "can_use_efficient_attention"])
def test_can_use_checks_from_nn_attention(device, name):
    # ember.nn.attention had no such names (AttributeError)
    results = []
    for L, d in ((torch, "cpu"), (ember, device)):
        q = L.randn(1, 2, 3, 4, device=d)
        params = L.nn.attention.SDPAParams(q, q, q, None, 0.0, False, False)
        assert (params.dropout, params.is_causal, params.enable_gqa, params.attn_mask) == (0.0, False, False, None)
        assert getattr(L.nn.attention, name) is getattr(L.backends.cuda, name)
        results.append(getattr(L.nn.attention, name)(params))
    assert results[0] is results[1] is False


def test_sdpa_kernel_still_takes_the_members():
    q = ember.ones(1, 2, 3, 4)
    with ember.nn.attention.sdpa_kernel([ember.nn.attention.SDPBackend.MATH]):
        assert not ember.backends.cuda.flash_sdp_enabled() and ember.backends.cuda.math_sdp_enabled()
        out = ember.nn.functional.scaled_dot_product_attention(q, q, q)
    assert ember.backends.cuda.flash_sdp_enabled()
    assert out.shape == (1, 2, 3, 4)
