"""``ember.masked`` against ``torch.masked``: every sample of PyTorch's OpInfo entries for the
masked reductions and normalizations (``masked.sum`` ... ``masked.logaddexp``; strided inputs),
values and input gradients, in float64 and float32 and for the integer inputs the ops take, on
every test device; and the errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_opinfo import _compare, _flatten, _to_ember, _torch_gradients

import ember

torch = pytest.importorskip("torch")
from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402

MASKED_OPS = [op for op in op_db if op.name.startswith("masked.")]
NAMES = [op.name for op in MASKED_OPS]


#: samples per op and dtype: PyTorch's first ones, which hold the edge shapes and the fully masked-out
#: slices (all of them: about 5x the time)
SAMPLES = 16


def _strided_samples(op, tdtype, requires_grad, count=SAMPLES):
    strided = (
        s
        for s in op.sample_inputs("cpu", tdtype, requires_grad=requires_grad)
        if all(
            getattr(t, "layout", torch.strided) == torch.strided
            for t in _flatten([s.input, *s.args, *s.kwargs.values()])
        )
    )
    return list(itertools.islice(strided, count))


def test_every_masked_op_of_torch_is_covered():
    assert len(MASKED_OPS) >= 19
    assert sorted(ember.masked.operations.__all__) == sorted(name.split(".")[1] for name in NAMES)


@pytest.mark.parametrize("op", MASKED_OPS, ids=NAMES)
def test_masked_op_matches_torch(device, dtype, op):
    fn = getattr(ember.masked, op.name.split(".")[1])
    tdtype = getattr(torch, dtype.name)
    samples = _strided_samples(op, tdtype, requires_grad=True)
    assert samples
    rng = np.random.default_rng(0)
    for sample in samples:
        expected = op.op(sample.input, *sample.args, **sample.kwargs)
        leaves = {}
        actual = fn(
            _to_ember(sample.input, device, leaves),
            *_to_ember(sample.args, device, leaves),
            **_to_ember(sample.kwargs, device, leaves),
        )
        _compare(actual, expected, dtype.name)
        flat = _flatten(expected)
        outputs = [i for i, t in enumerate(flat) if isinstance(t, torch.Tensor) and t.requires_grad]
        if not outputs:
            continue
        ups = [rng.standard_normal(tuple(flat[i].shape)) for i in outputs]
        _, _, torch_grads = _torch_gradients(op, sample, ups)
        if torch_grads is None:
            continue
        ember_outputs = [_flatten(actual)[i] for i in outputs]
        ember_grads = ember.autograd.grad(
            ember_outputs,
            [
                leaves[id(t)]
                for t in _flatten([sample.input, *sample.args])
                if isinstance(t, torch.Tensor) and t.requires_grad
            ],
            [ember.tensor(u, dtype=o.dtype, device=o.device) for u, o in zip(ups, ember_outputs)],
            allow_unused=True,
        )
        for ge, gt in zip(ember_grads, torch_grads):
            if gt is None:
                assert ge is None or not bool((ge != 0).any())
            else:
                _compare(ge, gt, dtype.name)


@pytest.mark.parametrize("int_dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("op", MASKED_OPS, ids=NAMES)
def test_masked_op_of_integers_matches_torch(device, op, int_dtype):
    fn = getattr(ember.masked, op.name.split(".")[1])
    tdtype = getattr(torch, int_dtype)
    if tdtype not in op.supported_dtypes("cpu"):
        pytest.skip(f"torch has no {int_dtype} {op.name}")
    for sample in _strided_samples(op, tdtype, requires_grad=False, count=6):
        try:
            expected = op.op(sample.input, *sample.args, **sample.kwargs)
        except Exception as exc:  # the same error type from ember
            with pytest.raises(type(exc)):
                fn(
                    _to_ember(sample.input, device, {}),
                    *_to_ember(sample.args, device, {}),
                    **_to_ember(sample.kwargs, device, {}),
                )
            continue
        actual = fn(
            _to_ember(sample.input, device, {}),
            *_to_ember(sample.args, device, {}),
            **_to_ember(sample.kwargs, device, {}),
        )
        _compare(actual, expected, "float32")


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda m, x: m.sum(x, (0, 0)), RuntimeError),
        (lambda m, x: m.sum(x, 3), IndexError),
        (lambda m, x: m.sum(x, 0, mask=m.__name__ and x.new_ones((1, 2, 3)).bool()), IndexError),
        (lambda m, x: m.mean(x.long(), 0), ValueError),
        (lambda m, x: m.amax(x.bool(), 0, mask=x > 0), NotImplementedError),
        (lambda m, x: m.median(x.long(), 0, mask=x > 100), ValueError),
        (lambda m, x: m.var(x, 0, True, correction=1), AssertionError),
    ],
    ids=[
        "repeated dim",
        "dim out of range",
        "mask of more dims",
        "mean of integers",
        "amax of bool",
        "median all masked",
        "unbiased and correction",
    ],
)
def test_masked_errors_match_torch(call, error):
    data = np.arange(6.0).reshape(2, 3)
    with pytest.raises(error) as expected:
        call(torch.masked, torch.tensor(data))
    with pytest.raises(error) as actual:
        call(ember.masked, ember.tensor(data))
    assert str(actual.value) == str(expected.value).replace("torch.", "ember.")
