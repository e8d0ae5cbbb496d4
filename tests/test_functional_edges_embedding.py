"""Embeddings off the main road, against PyTorch: bags with no entry at all, and the empty scatters
under them."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("include_last_offset", [False, True])
def test_embedding_bag_with_no_entries(device, dtype, mode, include_last_offset):
    # max mode raised IndexError (a max over no entries); sum and mean gave zeros off the weight's graph
    w = np.random.default_rng(0).uniform(-1, 1, (6, 4)).astype(str(dtype).split(".")[-1])
    offsets = [0, 0, 0, 0] if include_last_offset else [0, 0, 0]
    weight, tweight = ember.tensor(w, device=device, requires_grad=True), torch.tensor(w, requires_grad=True)
    out = ember.nn.functional.embedding_bag(
        ember.tensor([], dtype=ember.int64, device=device), weight, ember.tensor(offsets, device=device),
        mode=mode, include_last_offset=include_last_offset,
    )  # fmt: skip
    tout = torch.nn.functional.embedding_bag(
        torch.tensor([], dtype=torch.int64), tweight, torch.tensor(offsets), mode=mode,
        include_last_offset=include_last_offset,
    )  # fmt: skip
    np.testing.assert_array_equal(out.detach().cpu().numpy(), tout.detach().numpy())
    assert out.requires_grad == tout.requires_grad
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_array_equal(weight.grad.cpu().numpy(), tweight.grad.numpy())


@pytest.mark.parametrize(
    "op",
    [
        lambda T, x, s: x.index_add(0, T.zeros(0, dtype=T.int64, device=x.device), s),
        lambda T, x, s: x.index_copy(0, T.zeros(0, dtype=T.int64, device=x.device), s),
        lambda T, x, s: x.scatter_add(0, T.zeros(0, 2, dtype=T.int64, device=x.device), s),
        lambda T, x, s: x.scatter(0, T.zeros(0, 2, dtype=T.int64, device=x.device), s),
    ],
)
def test_an_empty_scatter_keeps_the_graph_of_its_source(device, op):
    # the copy of the input that an empty index gives was off the source's graph: a loss through it
    # had no gradient for the source (None, where PyTorch gives zeros of its shape)
    results = []
    for T, kw in ((torch, {}), (ember, {"device": device})):
        x, src = T.zeros(3, 2, requires_grad=True, **kw), T.ones(0, 2, requires_grad=True, **kw)
        out = op(T, x, src)
        out.sum().backward()
        results.append((out.requires_grad, tuple(src.grad.shape), x.grad.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize("num_classes", [0, -2])
def test_one_hot_of_an_empty_tensor_needs_a_positive_class_count(num_classes):
    # 0 classes gave a (0, 0) result and -2 an arange error; PyTorch refuses both as it refuses -1
    with pytest.raises(RuntimeError) as expected:
        torch.nn.functional.one_hot(torch.tensor([], dtype=torch.int64), num_classes)
    with pytest.raises(RuntimeError) as got:
        ember.nn.functional.one_hot(ember.tensor([], dtype=ember.int64), num_classes)
    assert str(got.value) == str(expected.value)
