"""Differential test of dtype dispatch, driven by PyTorch's OpInfo database (the ops of
``test_opinfo.py``): for every dtype whose CPU kernel PyTorch's OpInfo does not list, the op's
first float32 sample is cast to that dtype and run through torch and ember.

Where torch raises, ember must raise the same exception type (``NotImplementedError`` for a
kernel with no instance for the dtype, ``RuntimeError``, ``ValueError``, ...) with a message
naming the offending dtype; where torch accepts anyway (an OpInfo list can be narrower than
the kernel), ember must return the same values in the same dtype.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
from test_opinfo import OPS, TIED_INDICES, _compare, _find, _flatten, _resolve, _samples, _to_ember  # noqa: E402

DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool", "float16", "bfloat16"]

#: (op, dtype name) -> why ember's outcome differs from torch's: genuine differences only
ALLOWED: dict[tuple[str, str], str] = {
    # the OpInfo op is pinv(a @ b.mT) on an empty batch: PyTorch's matmul returns the empty bool product
    # without its kernel's dtype check (then pinv refuses bool), ember's matmul refuses bool whatever the size
    ("linalg.pinv/singular", "bool"): "an empty bool product: ember's matmul refuses it first",
}
#: (op, dtype) pairs that PyTorch's CPU kernel refuses but its CUDA kernel takes, which ember takes off
#: the CPU (the devices of other types: accelerators)
OFF_CPU_ALLOWED: dict[tuple[str, str], str] = {
    ("nn.functional.avg_pool3d", "float16"): "PyTorch's CUDA avg_pool3d takes it (tests/test_semantics_gaps1.py)",
    ("nn.functional.avg_pool3d", "bfloat16"): "PyTorch's CUDA avg_pool3d takes it (tests/test_semantics_gaps1.py)",
}


def _cast(value, tdtype):
    """The sample's floating tensors, scaled to spread small integers, cast to ``tdtype``."""
    if isinstance(value, torch.Tensor) and value.dtype.is_floating_point:
        return (value.detach() * 3).to(tdtype)
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, tdtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast(v, tdtype) for k, v in value.items()}
    return value


def _ember(value, device):
    """``_to_ember``, with bfloat16 tensors carried through float32 (NumPy has no bfloat16)."""
    if isinstance(value, torch.Tensor) and value.dtype == torch.bfloat16:
        return _to_ember(value.float(), device, {}).to(ember.bfloat16)
    if isinstance(value, (list, tuple)):
        return type(value)(_ember(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _ember(v, device) for k, v in value.items()}
    return _to_ember(value, device, {})


def _outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs), None
    except Exception as error:  # noqa: BLE001 - the outcome under test is the exception itself
        return None, error


def _compare_values(name, actual, expected, dtype_name):
    if name in TIED_INDICES:  # small integers tie: compare the values, not the indices
        actual, expected = _flatten(actual)[: TIED_INDICES[name]], _flatten(expected)[: TIED_INDICES[name]]
    narrow = [t.dtype for t in _flatten(expected) if isinstance(t, torch.Tensor)]
    if torch.float16 in narrow or torch.bfloat16 in narrow:  # 8 or 11 significant bits
        for x, y in zip(_flatten(actual), _flatten(expected)):
            assert str(x.dtype).split(".")[-1] == str(y.dtype).split(".")[-1], (x.dtype, y.dtype)
            np.testing.assert_allclose(x.float().cpu().numpy(), y.float().numpy(), rtol=2e-2, atol=2e-2)
        return
    _compare(actual, expected, dtype_name)


@pytest.mark.parametrize("name", OPS, ids=[n.replace("/", "-") for n in OPS])
def test_refused_dtypes_match_torch(device, name):
    op = _find(name)
    fn = _resolve(name)
    supported = op.supported_dtypes("cpu")
    candidates = [d for d in DTYPES if getattr(torch, d) not in supported]
    if str(device).startswith("opencl") and "bfloat16" in candidates:
        candidates.remove("bfloat16")  # the OpenCL backend has no bfloat16 arrays
    if not candidates:
        pytest.skip(f"torch's CPU kernel of {name} takes every dtype checked")
    samples = _samples(op, name, torch.float32, count=1)
    off_cpu = not str(device).startswith(("cpu", "restricted"))
    for dtype_name in candidates:
        if (name, dtype_name) in ALLOWED or (off_cpu and (name, dtype_name) in OFF_CPU_ALLOWED):
            continue
        tdtype = getattr(torch, dtype_name)
        for sample in samples:
            input, args, kwargs = _cast(sample.input, tdtype), _cast(sample.args, tdtype), _cast(sample.kwargs, tdtype)
            expected, torch_error = _outcome(op.op, input, *args, **kwargs)
            actual, ember_error = _outcome(
                fn, _ember(input, device), *_ember(args, device), **_ember(kwargs, device)
            )  # fmt: skip
            where = f"{name} on {dtype_name}"
            if torch_error is None:
                assert ember_error is None, f"{where}: torch accepts, ember raises {ember_error!r}"
                _compare_values(name, actual, expected, "float32")
                continue
            assert ember_error is not None, f"{where}: torch raises {torch_error!r}, ember returns a value"
            assert type(ember_error) is type(torch_error), (
                f"{where}: torch raises {torch_error!r}, ember {ember_error!r}"
            )
            if isinstance(torch_error, NotImplementedError):  # PyTorch's dispatch error: the same text
                assert str(ember_error) == str(torch_error), f"{where}: {ember_error} (torch: {torch_error})"


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("nd", [1, 2])
def test_integer_convolution_is_exact(device, nd, transposed):
    """An int64 convolution beyond 2**53 (where float64 rounds) equals PyTorch's exactly."""
    rng = np.random.default_rng(0)
    x = rng.integers(-(2**44), 2**44, size=(2, 4) + (5,) * nd)
    w = rng.integers(-(2**12), 2**12, size=(4, 3) + (3,) * nd if transposed else (6, 2) + (3,) * nd)
    b = rng.integers(-(2**50), 2**50, size=(6,))
    conv = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
    kwargs = {"stride": 2, "padding": 1, "dilation": 1 if nd == 1 else 2, "groups": 2}
    if transposed:
        kwargs["output_padding"] = 1
    want = getattr(torch.nn.functional, conv)(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kwargs)
    got = getattr(ember.nn.functional, conv)(
        ember.tensor(x, device=device), ember.tensor(w, device=device), ember.tensor(b, device=device), **kwargs
    )
    assert got.dtype is ember.int64
    assert int(want.abs().max()) > 2**53
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_uint8_nearest_interpolation_matches_torch(device, mode, nd):
    """PyTorch's CPU interpolates uint8 images by nearest neighbours (the OpInfo lists it as supported)."""
    x = np.random.default_rng(nd).integers(0, 256, size=(2, 3) + (5,) * nd).astype(np.uint8)
    for kwargs in ({"scale_factor": 1.7}, {"size": (3,) * nd}):
        want = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, **kwargs)
        got = ember.nn.functional.interpolate(ember.tensor(x, device=device), mode=mode, **kwargs)
        assert got.dtype is ember.uint8
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def _t(lib, dtype, *shape):
    """A small tensor of 0, 1 and 2s (of 0s and 1s in bool) of the named dtype, in torch or ember."""
    return (lib.arange(int(np.prod(shape))).reshape(*shape) % 3).to(getattr(lib, dtype))


#: name -> (dtypes, call(lib, dtype)): the dispatch rules at inputs the OpInfo samples do not reach
#: (other shapes, dims, bound kinds and ops outside the OpInfo list)
CASES = {
    "matmul 1d@3d": (["bool"], lambda L, d: _t(L, d, 3) @ _t(L, d, 2, 3, 4)),
    "matmul 3d@1d": (["bool"], lambda L, d: _t(L, d, 2, 2, 3) @ _t(L, d, 3)),
    "matmul 3d@2d": (["bool"], lambda L, d: _t(L, d, 2, 2, 3) @ _t(L, d, 3, 4)),
    "einsum contraction": (["bool"], lambda L, d: L.einsum("ij,j->i", _t(L, d, 2, 3), _t(L, d, 3))),
    "einsum product": (["bool"], lambda L, d: L.einsum("i,j->ij", _t(L, d, 2), _t(L, d, 3))),
    "addbmm": (["bool", "int32", "uint8"], lambda L, d: L.addbmm(_t(L, d, 2, 2), _t(L, d, 2, 2, 3), _t(L, d, 2, 3, 2))),
    "softmax dim 0": (["int64", "bool"], lambda L, d: L.softmax(_t(L, d, 2, 3), 0)),
    "log_softmax dim 0": (["int32"], lambda L, d: L.log_softmax(_t(L, d, 2, 3), 0)),
    "round": (["int64", "bool"], lambda L, d: L.round(_t(L, d, 3))),
    "round decimals=0": (["int64", "bool"], lambda L, d: L.round(_t(L, d, 3), decimals=0)),
    "clamp tensor min": (["bool"], lambda L, d: L.clamp(_t(L, d, 3), min=_t(L, d, 3))),
    "clamp scalars": (["bool"], lambda L, d: L.clamp(_t(L, d, 3), True, True)),
    "clamp scalar min": (["bool"], lambda L, d: L.clamp(_t(L, d, 3), min=True)),
    "pow int base": (["bool"], lambda L, d: L.pow(2, _t(L, d, 3))),
    "pow bool base": (["bool"], lambda L, d: L.pow(True, _t(L, d, 3))),
    "lerp tensor weight": (["int64"], lambda L, d: L.lerp(_t(L, d, 3), _t(L, d, 3), _t(L, d, 3))),
    "median dim": (["bool"], lambda L, d: L.median(_t(L, d, 2, 3), 0)),
    "nanmedian": (["bool"], lambda L, d: L.nanmedian(_t(L, d, 2, 3))),
    "trapezoid": (["bool"], lambda L, d: L.trapezoid(_t(L, d, 3))),
    "searchsorted empty": (["bool"], lambda L, d: L.searchsorted(_t(L, d, 3), _t(L, d, 0))),
    "max_pool1d values": (["int64", "uint8"], lambda L, d: L.nn.functional.max_pool1d(_t(L, d, 1, 2, 6), 2)),
    "max_pool1d indices": (
        ["int64"],
        lambda L, d: L.nn.functional.max_pool1d(_t(L, d, 1, 2, 6), 2, return_indices=True),
    ),
    "adaptive_avg_pool2d 1x1": (["int64"], lambda L, d: L.nn.functional.adaptive_avg_pool2d(_t(L, d, 1, 2, 4, 4), 1)),
    "adaptive_avg_pool3d": (["int32"], lambda L, d: L.nn.functional.adaptive_avg_pool3d(_t(L, d, 1, 2, 4, 4, 4), 2)),
    "avg_pool2d": (["int64", "int32"], lambda L, d: L.nn.functional.avg_pool2d(_t(L, d, 1, 2, 4, 4), 2)),
    "fractional_max_pool2d": (
        ["int64"],
        lambda L, d: L.nn.functional.fractional_max_pool2d(_t(L, d, 1, 1, 4, 4), 2, output_size=2),
    ),
    "pad reflect 2d": (["bool"], lambda L, d: L.nn.functional.pad(_t(L, d, 1, 1, 3, 3), (1, 1, 1, 1), "reflect")),
    "pad replicate 3d": (["bool"], lambda L, d: L.nn.functional.pad(_t(L, d, 1, 1, 2, 2, 2), (1,) * 6, "replicate")),
    "interpolate area 3d": (
        ["int64"],
        lambda L, d: L.nn.functional.interpolate(_t(L, d, 1, 1, 2, 2, 2), scale_factor=2, mode="area"),
    ),
    "interpolate nearest 2d": (
        ["int64", "bool"],
        lambda L, d: L.nn.functional.interpolate(_t(L, d, 1, 1, 2, 2), scale_factor=2, mode="nearest"),
    ),
    "fold": (["int64", "bool"], lambda L, d: L.nn.functional.fold(_t(L, d, 1, 4, 4), (3, 3), 2)),
    "unfold": (["bool"], lambda L, d: L.nn.functional.unfold(_t(L, d, 1, 1, 3, 3), 2)),
    "grid_sample 3d": (
        ["int64"],
        lambda L, d: L.nn.functional.grid_sample(_t(L, d, 1, 1, 2, 2, 2), _t(L, d, 1, 1, 1, 1, 3), align_corners=False),
    ),
    "conv_transpose2d": (
        ["int32"],
        lambda L, d: L.nn.functional.conv_transpose2d(_t(L, d, 1, 1, 2, 2), _t(L, d, 1, 1, 2, 2)),
    ),
    "mse_loss mixed": (["int64"], lambda L, d: L.nn.functional.mse_loss(_t(L, d, 3), _t(L, "float32", 3))),
    "kl_div integer target": (["int64"], lambda L, d: L.nn.functional.kl_div(_t(L, "float32", 3), _t(L, d, 3))),
    "hinge_embedding_loss": (
        ["int64", "int32"],
        lambda L, d: L.nn.functional.hinge_embedding_loss(_t(L, d, 2, 3) - 1, _t(L, d, 2, 3) - 1, 1.5, reduction="sum"),
    ),
    "pdist half": (["float16"], lambda L, d: L.nn.functional.pdist(_t(L, d, 4, 3))),
    "matrix_norm 2 half": (["float16"], lambda L, d: L.linalg.matrix_norm(_t(L, d, 3, 3), 2)),
    "linear 3d": (["bool"], lambda L, d: L.nn.functional.linear(_t(L, d, 2, 2, 3), _t(L, d, 4, 3))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dispatch_rules_match_torch(device, case):
    dtype_names, call = CASES[case]
    for dtype_name in dtype_names:
        if dtype_name == "float16" and str(device).startswith("opencl"):
            continue  # (checked on the other devices: the rules are the same)
        expected, torch_error = _outcome(call, torch, dtype_name)
        previous = ember.get_default_device()
        ember.set_default_device(device)  # the case's tensors are made on the device under test
        try:
            actual, ember_error = _outcome(call, ember, dtype_name)
        finally:
            ember.set_default_device(previous)
        where = f"{case} on {dtype_name}"
        if torch_error is None:
            assert ember_error is None, f"{where}: torch accepts, ember raises {ember_error!r}"
            _compare_values(case, actual, expected, "float32")
            continue
        assert type(ember_error) is type(torch_error), f"{where}: torch raises {torch_error!r}, ember {ember_error!r}"
        if isinstance(torch_error, NotImplementedError):
            assert str(ember_error) == str(torch_error), f"{where}: {ember_error} (torch: {torch_error})"
