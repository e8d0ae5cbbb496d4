"""Attention off the main road, differential against PyTorch's CPU: a ``CausalBias``
(``torch.nn.attention.bias.causal_upper_left``/``causal_lower_right``) given to multi-head attention."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember
import ember.nn.attention.bias

torch_bias = pytest.importorskip("torch.nn.attention.bias")
E, H = 16, 2
_RNG = np.random.default_rng(0)
X = _RNG.standard_normal((2, 5, E)).astype(np.float32)
KV = _RNG.standard_normal((2, 7, E)).astype(np.float32)


def _modules(device):
    reference = torch.nn.MultiheadAttention(E, H, batch_first=True)
    module = ember.nn.MultiheadAttention(E, H, batch_first=True)
    module.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    return reference, module.to(device)


@pytest.mark.parametrize("self_attention", [True, False])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("variant", ["causal_upper_left", "causal_lower_right"])
@pytest.mark.parametrize("call", ["module", "functional"])
def test_causal_bias_given_to_multi_head_attention_is_refused_as_torch(
    device, variant, need_weights, self_attention, call
):
    """ember raised ``AttributeError: 'CausalBias' object has no attribute 'ndim'``. PyTorch's bias is a tensor
    subclass whose own data is a float32 tensor of shape ``(variant, L, S)``, which multi-head attention
    takes for a 3-D mask and refuses: 'The shape of the 3D attn_mask is torch.Size([1, 5, 5]), but should
    be (4, 5, 5).'"""
    messages = []
    for lib, module in zip((torch, ember), _modules(device)):
        q = lib.tensor(X) if lib is torch else ember.tensor(X, device=device)
        k = q if self_attention else lib.tensor(KV) if lib is torch else ember.tensor(KV, device=device)
        bias = getattr(torch_bias if lib is torch else ember.nn.attention.bias, variant)(q.shape[1], k.shape[1])
        with pytest.raises(RuntimeError) as caught:
            if call == "module":
                module(q, k, k, attn_mask=bias, need_weights=need_weights)
            else:
                qt, kt = q.transpose(0, 1), k.transpose(0, 1)
                lib.nn.functional.multi_head_attention_forward(
                    qt, kt, kt, E, H, module.in_proj_weight, module.in_proj_bias, None, None, False, 0.0,
                    module.out_proj.weight, module.out_proj.bias, need_weights=need_weights, attn_mask=bias,
                )  # fmt: skip
        messages.append(str(caught.value).replace("torch.Size", "ember.Size"))
    assert messages[1] == messages[0]
    assert "The shape of the 3D attn_mask is" in messages[1]


def test_causal_bias_of_a_matching_shape_masks_causally(device):
    """Where ``N * num_heads`` is the variant's number (one sequence, one head, upper-left: 1) PyTorch's
    attention reads the bias's uninitialised data as the mask; ember reads the causal bias (a deliberate
    difference: no uninitialised memory)."""
    from ember.nn.attention.bias import causal_upper_left

    module = ember.nn.MultiheadAttention(E, 1, batch_first=True).to(device)
    x = ember.tensor(X[:1], device=device)
    got, _ = module(x, x, x, attn_mask=causal_upper_left(5, 5))
    mask = ember.ones(5, 5, dtype=ember.bool, device=device).triu(1)
    want, _ = module(x, x, x, attn_mask=mask)
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().cpu().numpy(), rtol=1e-6, atol=1e-6)
