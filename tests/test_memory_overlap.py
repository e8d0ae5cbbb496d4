"""In-place writes and ``out=`` whose operands share memory with the tensor written, against PyTorch:
a partial overlap is refused (the answer would depend on the order of the element writes), the
very elements written may be read, and layouts that are not dense are left alone."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_PARTIAL = "some elements of the input tensor and the written-to tensor refer to a single memory location"

#: programs on ``t`` (ember or torch) and ``x = t.arange(6.)`` on the device; they return the tensor to compare
CASES = {
    "add_shifted_view": lambda t, x: x[:2].add_(x[1:3]),
    "add_disjoint_view": lambda t, x: (x[:2].add_(x[2:4]), x)[1],
    "add_same_view": lambda t, x: (x[1:3].add_(x[1:3]), x)[1],
    "mul_shifted_view": lambda t, x: x[1:].mul_(x[:5]),
    "copy_shifted_view": lambda t, x: x[:2].copy_(x[1:3]),
    "copy_transposed_self": lambda t, x: x[:4].view(2, 2).copy_(x[:4].view(2, 2).t()),
    "add_strided_views": lambda t, x: (x[::2].add_(x[1::2]), x)[1],  # not dense: not compared
    "lerp_shifted_view": lambda t, x: x[1:3].lerp_(x[:2], 0.5),
    "index_copy_shifted": lambda t, x: x.index_copy_(0, t.tensor([1, 2]).to(x.device), x[:2]),
    "setitem_shifted_view": lambda t, x: x.__setitem__(slice(0, 2), x[1:3]) or x,
    "setitem_advanced_shifted": lambda t, x: x.__setitem__(t.tensor([0, 1]).to(x.device), x[1:3]) or x,
    "iadd_shifted_view": lambda t, x: x.__setitem__(slice(1, None), x[1:].__iadd__(x[:5])) or x,
    "out_shifted_view": lambda t, x: t.exp(x[:3], out=x[1:4]),
    "out_resized_view_of_input": lambda t, x: t.exp(x, out=x[1:]),
    "out_binary_shifted": lambda t, x: t.add(x[1:4], x[:3], out=x[:3]),
    "out_is_input": lambda t, x: t.mul(x, x, out=x),
    "out_expanded": lambda t, x: t.neg(x[:1], out=x[:1].expand(3)),
    "out_gather_is_input": lambda t, x: t.gather(x, 0, t.tensor([5, 4, 3, 2, 1, 0]).to(x.device), out=x),
    "out_index_select_is_input": lambda t, x: t.index_select(x, 0, t.tensor([1, 0, 2, 3, 4, 5]).to(x.device), out=x),
    "out_cat_of_input": lambda t, x: t.cat([x[:3], x[:3]], out=x),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_overlap_follows_torch(device, name):
    case = CASES[name]
    try:
        expected = case(torch, torch.arange(6.0))
    except RuntimeError as exc:
        assert _PARTIAL in str(exc) or "more than one element" in str(exc)
        with pytest.raises(RuntimeError, match=str(exc).split(":")[1].split(".")[0].strip()):
            case(ember, ember.arange(6.0, device=device))
        return
    got = case(ember, ember.arange(6.0, device=device))
    np.testing.assert_allclose(got.cpu().numpy(), expected.numpy(), rtol=1e-6)


def test_overlap_check_leaves_separate_tensors_alone():
    x, y = ember.arange(4.0), ember.arange(4.0)
    x.add_(y)
    x[1:].copy_(y[:3])
    ember.exp(y, out=x)
    assert x.tolist() == np.exp(np.arange(4.0, dtype=np.float32)).tolist()


@pytest.mark.parametrize(
    "write",
    [
        lambda t, r: r.masked_fill_(t.tensor([[True, False, False, False], [False] * 4]), 5.0),
        lambda t, r: r.masked_fill_(t.tensor([False, True, False, False]), t.tensor(5.0)),
        lambda t, r: r.index_fill_(1, t.tensor([0]), 5.0),
        lambda t, r: r.index_put_((t.tensor([0]),), t.tensor(5.0)),
    ],
)
def test_fills_into_an_expanded_tensor_write_the_selected_elements(write):
    # PyTorch still lets these write into aliased elements, with a deprecation warning
    x_t = torch.arange(4.0)
    with pytest.warns(UserWarning, match="on expanded tensors is deprecated"):
        write(torch, x_t.expand(2, 4))
    x_e = ember.arange(4.0)
    with pytest.warns(UserWarning, match="on expanded tensors is deprecated"):
        write(ember, x_e.expand(2, 4))
    assert x_e.tolist() == x_t.tolist()
