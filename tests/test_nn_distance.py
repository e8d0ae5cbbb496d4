"""Distance functions against PyTorch: CosineSimilarity, PairwiseDistance, pdist."""

from __future__ import annotations

import numpy as np
import pytest
from reference import check, randn

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import Variable, gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def test_distance_modules(device, dtype):
    a, b = randn(4, 5), randn(4, 5)
    check(nn.CosineSimilarity(), torch.nn.CosineSimilarity(), [a, b], device=device, dtype=dtype)
    check(nn.CosineSimilarity(0, 1e-6), torch.nn.CosineSimilarity(0, 1e-6), [a, b], device=device, dtype=dtype)
    check(nn.PairwiseDistance(), torch.nn.PairwiseDistance(), [a, b], device=device, dtype=dtype)
    check(nn.PairwiseDistance(1.0, keepdim=True), torch.nn.PairwiseDistance(1.0, keepdim=True), [a, b],
          device=device, dtype=dtype)  # fmt: skip
    check(lambda x: F.pdist(x), lambda x: TF.pdist(x), [a], device=device, dtype=dtype)
    check(lambda x: F.pdist(x, 3), lambda x: TF.pdist(x, 3), [a], device=device, dtype=dtype)


def test_cosine_similarity_eps_and_broadcast(device):
    zeros = np.zeros((2, 3))
    check(F.cosine_similarity, TF.cosine_similarity, [zeros + 1e-10, randn(2, 3)], device=device)
    check(F.cosine_similarity, TF.cosine_similarity, [randn(1, 3), randn(4, 3)], device=device)


def test_gradcheck(device):
    a = ember.tensor(randn(3, 4), device=device, requires_grad=True)
    b = ember.tensor(randn(3, 4), device=device, requires_grad=True)
    assert gradcheck(F.cosine_similarity, (a, b))
    assert gradcheck(F.pairwise_distance, (a, b))


def test_errors(device):
    with pytest.raises(TypeError):
        F.cosine_similarity([1.0], ember.randn(1, device=device))
    with pytest.raises(RuntimeError, match="pdist only supports 2D"):
        F.pdist(ember.randn(3, device=device))


def test_seed_examples():
    input1 = Variable(ember.randn(100, 128))
    input2 = Variable(ember.randn(100, 128))
    cos = nn.CosineSimilarity(dim=1, eps=1e-6)
    assert cos(input1, input2).shape == (100,)
    pdist = nn.PairwiseDistance(p=2)
    assert pdist(input1, input2).shape == (100,)


@pytest.mark.parametrize(
    "dtype1, dtype2",
    [
        ("float32", "float64"),
        ("float16", "float32"),
        ("int64", "float32"),
        ("float64", "int32"),
        ("bfloat16", "float16"),
    ],
)
def test_cosine_similarity_of_mixed_dtypes_is_torchs(device, dtype1, dtype2):
    # each floating input is normalised in its own dtype and the products promote (a float16 input
    # rounds its norms in float16: torch's value, not the float32 one); integers join the common dtype
    if "bfloat16" in (dtype1, dtype2) and device.startswith("opencl"):
        pytest.skip("OpenCL has no bfloat16")
    a, b = randn(4, 5), randn(4, 5)
    expected = TF.cosine_similarity(
        torch.tensor(a).to(getattr(torch, dtype1)), torch.tensor(b).to(getattr(torch, dtype2)), dim=1
    )
    got = F.cosine_similarity(
        ember.tensor(a, device=device).to(getattr(ember, dtype1)),
        ember.tensor(b, device=device).to(getattr(ember, dtype2)),
    )
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(got.double().cpu().numpy(), expected.double().numpy(), rtol=1e-6, atol=1e-7)
