"""Differences from PyTorch found by the round-15 public programs (tests/test_public_programs_15.py), each
checked against torch on its own."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _run(call):
    try:
        out = call()
    except Exception as error:  # noqa: BLE001 - the error is the result compared
        return type(error).__name__, str(error).replace("torch.", "lib.").replace("ember.", "lib.")
    out = out[0] if isinstance(out, tuple) else out
    return tuple(out.shape), np.nan_to_num(out.detach().cpu().numpy(), nan=-1.0).round(5).tolist()


_ADAPTIVE = {
    "adaptive_avg_pool1d": 2,
    "adaptive_max_pool1d": 2,
    "adaptive_avg_pool2d": (1, 2),
    "adaptive_max_pool2d": (1, 2),
    "adaptive_avg_pool3d": (1, 1, 2),
    "adaptive_max_pool3d": (1, 1, 2),
}


@pytest.mark.parametrize("op", list(_ADAPTIVE))
@pytest.mark.parametrize("rank", ["low", "high"])
def test_adaptive_pool_of_the_wrong_rank_is_refused_as_torch(device, op, rank):
    """The feature pooling of the distillation tutorial's student on an input of the wrong rank:
    ``adaptive_avg_pool1d`` of a 1-D or 4-D input averaged it (PyTorch refuses it, "Expected 2 to 3 dimensions,
    but got 1-dimensional tensor for argument #1 'self' ..."), the 1-d max pool said "Expected 2D or 3D
    tensor", and the 2-d and 3-d max pools left out PyTorch's colon ("Expected 3D or 4D tensor, but got: [...]")."""
    nd = int(op[-2])
    shape = (3,) * (nd if rank == "low" else nd + 3)

    def run(lib, dev):
        return _run(lambda: getattr(lib.nn.functional, op)(lib.ones(shape, device=dev), _ADAPTIVE[op]))

    theirs = run(torch, "cpu")
    assert theirs[0] in ("RuntimeError", "ValueError")
    assert run(ember, device) == theirs


@pytest.mark.parametrize("op", list(_ADAPTIVE))
@pytest.mark.parametrize("empty", ["batch", "channels", "spatial", "unbatched-channels"])
@pytest.mark.parametrize("to_ones", [False, True])
def test_adaptive_pool_of_empty_input_as_torch(device, op, empty, to_ones):
    """Adaptive pools of an input with an empty dim: PyTorch pools an empty batch, the empty channels of an
    unbatched input and (its 1-d and 2-d average pools) empty channels of a batch, and averages into sizes of
    all 1 by ``mean`` (NaN for an empty spatial dim); it refuses any other empty dim ("Expected input to have
    non-zero size for non-batch dimensions, but input has sizes [...] with dimension 1 being empty"). ember
    refused every empty dim but the batch, saying "Expected 3D or 4D tensor"."""
    nd = int(op[-2])
    spatial = [2] * nd
    shape = {
        "batch": [0, 3] + spatial,
        "channels": [2, 0] + spatial,
        "spatial": [2, 3] + spatial[:-1] + [0],
        "unbatched-channels": [0] + spatial,
    }[empty]
    size = 1 if to_ones else _ADAPTIVE[op]

    def run(lib, dev):
        return _run(lambda: getattr(lib.nn.functional, op)(lib.ones(shape, device=dev), size))

    assert run(ember, device) == run(torch, "cpu")


def _bag(lib, dev, input, offsets):
    weight = lib.ones(10, 3, device=dev)
    return lib.nn.functional.embedding_bag(input, weight, offsets)


@pytest.mark.parametrize(
    "case",
    ["float offsets", "double offsets", "2-D input with offsets", "2-D input with a list of offsets"],
)
def test_embedding_bag_argument_errors_as_torch(device, case):
    """The text-classification tutorial's ``EmbeddingBag`` given wrong offsets: PyTorch checks float offsets as
    it checks the indices ("Expected tensor for argument #1 'indices' ... (while checking arguments for
    embedding_bag)"; ember had its own words), and its refusal of offsets beside a 2-D input names the type it
    found ("However, found offsets of type <class 'list'>"), which ember left out."""

    def run(lib, dev):
        args = {
            "float offsets": (lib.tensor([1, 2], device=dev), lib.tensor([0.0, 1.0], device=dev)),
            "double offsets": (lib.tensor([1, 2], device=dev), lib.tensor([0.0, 1.0], dtype=lib.float64, device=dev)),
            "2-D input with offsets": (lib.tensor([[1, 2]], device=dev), lib.tensor([0], device=dev)),
            "2-D input with a list of offsets": (lib.tensor([[1, 2]], device=dev), [0]),
        }[case]
        return _run(lambda: _bag(lib, dev, *args))

    theirs = run(torch, "cpu")
    ours = run(ember, device)
    # (ember names a dtype where PyTorch names its legacy tensor type, and its Tensor class lives in ember.tensor)
    legacy = {"lib.FloatTensor": "lib.float32", "lib.DoubleTensor": "lib.float64", "lib.Tensor": "lib.tensor.Tensor"}
    expected = theirs[1]
    for old, new in legacy.items():
        expected = expected.replace(old, new)
    assert ours == (theirs[0], expected)


@pytest.mark.parametrize(
    "mode,form",
    [(mode, form) for mode in ("sum", "mean", "max") for form in ("offsets", "2-D", "padding_idx")]
    + [("sum", "per_sample_weights")],  # (for mode='sum' only)
)
def test_embedding_bag_node_is_named_as_torch(device, mode, form):
    """The text-classification tutorial's ``EmbeddingBag`` output: PyTorch's one node, "EmbeddingBagBackward0",
    in every mode; ember's output came from the last op of its composition ("DivBackward0" for the tutorial's
    ``mode='mean'``, "IndexAddBackward0", "WhereBackward0"). Its gradient stays PyTorch's."""

    def run(lib, dev):
        weight = lib.tensor(np.arange(15.0, dtype=np.float32).reshape(5, 3), device=dev, requires_grad=True)
        input = lib.tensor([[1, 2], [3, 4]] if form == "2-D" else [1, 2, 3], device=dev)
        kwargs = {
            "offsets": {"offsets": lib.tensor([0, 1], device=dev)},
            "2-D": {},
            "padding_idx": {"offsets": lib.tensor([0, 1], device=dev), "padding_idx": 2},
            "per_sample_weights": {
                "offsets": lib.tensor([0, 1], device=dev),
                "per_sample_weights": lib.ones(3, device=dev),
            },
        }[form]
        out = lib.nn.functional.embedding_bag(input, weight, mode=mode, **kwargs)
        (out * lib.arange(out.numel(), device=dev).view(out.shape)).sum().backward()
        return type(out.grad_fn).__name__, out.grad_fn.name(), weight.grad.cpu().numpy().tolist()

    assert run(ember, device) == run(torch, "cpu")
