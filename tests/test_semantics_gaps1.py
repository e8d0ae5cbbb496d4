"""Small gaps against PyTorch 2.13's CPU semantics, each checked against torch itself:
``Tensor.is_inference``, ``Tensor.data_ptr`` and ``untyped_storage``, linalg's refusal of
float16/bfloat16, ``avg_pool3d``'s refusal of float16/bfloat16, and uint8 bilinear/bicubic
``interpolate`` (PyTorch's integer arithmetic, bit for bit)."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest

import ember
import ember.nn.functional as EF

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _narrow_types(device):
    """float16 and bfloat16, less bfloat16 where the device has no such arrays (OpenCL)."""
    return ["float16"] if device.startswith("opencl") else ["float16", "bfloat16"]


def _outcome(fn, *args):
    try:
        return fn(*args), None
    except Exception as error:  # noqa: BLE001 - the outcome under test is the exception itself
        return None, error


def _same_error(fn, e_args, t_args, exact=True):
    """``fn(ember, *e_args)`` raises what ``fn(torch, *t_args)`` raises (type, and text when ``exact``)."""
    _, expected = _outcome(fn, torch, *t_args)
    _, actual = _outcome(fn, ember, *e_args)
    assert expected is not None and actual is not None, (expected, actual)
    assert type(actual).__name__ == type(expected).__name__, (actual, expected)
    if exact:
        assert str(actual) == str(expected)
    return actual


# -- Tensor.is_inference ------------------------------------------------------------------------
def _inference_flags(M, device):
    kw = {"device": device} if M is ember else {}
    x = M.ones(3, **kw)
    with M.inference_mode():
        made, view, detached, cloned, product = M.ones(3, **kw), x.view(3), x.detach(), x.clone(), x * 2
        x.add_(1)
        with M.inference_mode(False):
            normal = M.ones(3, **kw)
        param = M.nn.Parameter(M.ones(2, **kw), requires_grad=False)

    @M.inference_mode()
    def decorated():
        return M.ones(1, **kw)

    return [
        x.is_inference(), made.is_inference(), view.is_inference(), detached.is_inference(),
        cloned.is_inference(), product.is_inference(), normal.is_inference(), param.is_inference(),
        made[1:].is_inference(), made.detach().is_inference(), (made + 1).is_inference(),
        made.clone().is_inference(), decorated().is_inference(), M.ones(1, **kw).is_inference(),
    ]  # fmt: skip


def test_is_inference_matches_torch(device):
    assert _inference_flags(ember, device) == _inference_flags(torch, "cpu")


@pytest.mark.parametrize("M", [torch, ember], ids=["torch", "ember"])
def test_inference_mode_is_per_thread(M):
    """A tensor made in another thread while this one is in inference mode is ordinary."""
    entered, made, flags = threading.Event(), threading.Event(), {}

    def other():
        entered.wait()
        flags["other"] = M.ones(2).is_inference()
        made.set()

    thread = threading.Thread(target=other)
    thread.start()
    with M.inference_mode():
        entered.set()
        made.wait()
        flags["this"] = M.ones(2).is_inference()
    thread.join()
    assert flags == {"other": False, "this": True}


# -- Tensor.data_ptr and untyped_storage ----------------------------------------------------------
def _storage_facts(M, t):
    base = t.data_ptr()
    views = [t[1:], t[:, 1], t.t(), t.view(-1), t[2:, 3:], t.reshape(4, 5)]
    storage = t[1:].untyped_storage()
    return {
        "offsets": [v.data_ptr() - base for v in views],
        "clone shares": t.clone().data_ptr() == base,
        "nbytes": storage.nbytes(),
        "size": storage.size(),
        "len": len(storage),
        "storage start": storage.data_ptr() - base,
        "view storage start": t[2:, 1:].untyped_storage().data_ptr() - base,
        "empty": M.empty(0).data_ptr(),
        "empty storage": M.empty(0).untyped_storage().data_ptr(),
        "device": str(storage.device),
    }


def test_data_ptr_and_untyped_storage_match_torch(device, dtype):
    if device.startswith("opencl"):
        pytest.skip("OpenCL buffers have no address: test_opencl_storage_has_a_size_but_no_address")
    data = np.arange(20.0).reshape(4, 5)
    e, t = ember.tensor(data, dtype=dtype, device=device), torch.tensor(data, dtype=getattr(torch, str(dtype)[6:]))
    facts = _storage_facts(ember, e)
    assert facts.pop("device") == str(e.device)
    expected = _storage_facts(torch, t)
    expected.pop("device")
    assert facts == expected
    assert e.data_ptr() != 0 and e.untyped_storage().element_size() == 1


def test_opencl_storage_has_a_size_but_no_address(device):
    if not device.startswith("opencl"):
        pytest.skip("the OpenCL backend's refusal")
    x = ember.zeros(4, 5, device=device)
    storage = x[1:].untyped_storage()
    assert storage.nbytes() == torch.zeros(4, 5).untyped_storage().nbytes()
    for ask, op in ((x.data_ptr, "data_ptr"), (storage.data_ptr, "untyped_storage().data_ptr")):
        with pytest.raises(RuntimeError, match=rf"^{re.escape(op)}: .*{device}"):
            ask()
    assert ember.empty(0, device=device).data_ptr() == 0


# -- linalg on float16 / bfloat16 -----------------------------------------------------------------
_SPD = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]

#: name -> fn(M, A): each raises on float16/bfloat16 with PyTorch's exception
LINALG = {
    "det": lambda M, A: M.linalg.det(A),
    "torch.det": lambda M, A: M.det(A),
    "solve": lambda M, A: M.linalg.solve(A, A),
    "solve_ex": lambda M, A: M.linalg.solve_ex(A, A),
    "lu_factor": lambda M, A: M.linalg.lu_factor(A),
    "lu_factor_ex": lambda M, A: M.linalg.lu_factor_ex(A),
    "lu": lambda M, A: M.linalg.lu(A),
    "lu_solve": lambda M, A: M.linalg.lu_solve(A, M.ones(3, dtype=M.int32, device=A.device), A),
    "cholesky": lambda M, A: M.linalg.cholesky(A),
    "cholesky_ex": lambda M, A: M.linalg.cholesky_ex(A),
    "torch.cholesky": lambda M, A: M.cholesky(A),
    "cholesky_solve": lambda M, A: M.cholesky_solve(A, A),
    "cholesky_inverse": lambda M, A: M.cholesky_inverse(A),
    "qr": lambda M, A: M.linalg.qr(A),
    "torch.qr": lambda M, A: M.qr(A),
    "svd": lambda M, A: M.linalg.svd(A),
    "torch.svd": lambda M, A: M.svd(A),
    "svdvals": lambda M, A: M.linalg.svdvals(A),
    "eigh": lambda M, A: M.linalg.eigh(A),
    "eigvalsh": lambda M, A: M.linalg.eigvalsh(A),
    "solve_triangular": lambda M, A: M.linalg.solve_triangular(A, A, upper=True),
    "triangular_solve": lambda M, A: M.triangular_solve(A, A),
    "householder_product": lambda M, A: M.linalg.householder_product(A, A[0, :2]),
    "inv": lambda M, A: M.linalg.inv(A),
    "inv_ex": lambda M, A: M.linalg.inv_ex(A),
    "inverse": lambda M, A: M.inverse(A),
    "slogdet": lambda M, A: M.linalg.slogdet(A),
    "logdet": lambda M, A: M.logdet(A),
}
#: ops whose refusal ember words its own way (PyTorch's omits the op or the dtype): same type only
OWN_WORDS = {
    "pinv": lambda M, A: M.linalg.pinv(A),
    "matrix_rank": lambda M, A: M.linalg.matrix_rank(A),
    "lstsq": lambda M, A: M.linalg.lstsq(A, A),
}


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's deprecation notes (torch.qr, triangular_solve)
@pytest.mark.parametrize("op", list(LINALG))
def test_linalg_refuses_low_precision_as_torch(device, op):
    for name in _narrow_types(device):
        e = ember.tensor(_SPD, device=device).to(getattr(ember, name))
        _same_error(LINALG[op], (e,), (torch.tensor(_SPD).to(getattr(torch, name)),))


@pytest.mark.parametrize("op", list(OWN_WORDS))
def test_linalg_refusals_in_ember_words_keep_torchs_type(device, op):
    for name in _narrow_types(device):
        e = ember.tensor(_SPD, device=device).to(getattr(ember, name))
        error = _same_error(OWN_WORDS[op], (e,), (torch.tensor(_SPD).to(getattr(torch, name)),), exact=False)
        assert op in str(error) and ("Half" if name == "float16" else "BFloat16") in str(error)


CHECKED_FIRST = {
    "solve dtypes": lambda M, A: M.linalg.solve(A, A.half()),
    "solve dtypes (low A)": lambda M, A: M.linalg.solve(A.half(), A),
    "det not square": lambda M, A: M.linalg.det(A[:2].half()),
    "cholesky 1-D": lambda M, A: M.linalg.cholesky(A[0].half()),
    "householder tau rank": lambda M, A: M.linalg.householder_product(A.half(), A.half()),
    "householder tau dtype": lambda M, A: M.linalg.householder_product(A.half(), A[0, :2]),
}


@pytest.mark.parametrize("case", list(CHECKED_FIRST))
def test_linalg_argument_errors_come_before_the_dtype_refusal(device, dtype, case):
    e = ember.tensor(_SPD, dtype=dtype, device=device)
    _same_error(CHECKED_FIRST[case], (e,), (torch.tensor(_SPD, dtype=getattr(torch, str(dtype)[6:])),))


@pytest.mark.parametrize("op", ["det", "solve", "cholesky", "eigvalsh", "solve_triangular", "householder_product"])
def test_linalg_values_in_float32_and_float64(device, dtype, op):
    e = ember.tensor(_SPD, dtype=dtype, device=device)
    expected = LINALG[op](torch, torch.tensor(_SPD, dtype=getattr(torch, str(dtype)[6:])))
    tolerance = 1e-12 if dtype is ember.float64 else 1e-5
    np.testing.assert_allclose(LINALG[op](ember, e).cpu().numpy(), expected.numpy(), rtol=tolerance, atol=tolerance)


# -- avg_pool3d on float16 / bfloat16 -------------------------------------------------------------
def test_avg_pool3d_refuses_low_precision_as_torch(device):
    if not device.startswith(("cpu", "restricted")):
        pytest.skip("PyTorch's CUDA avg_pool3d takes float16/bfloat16: see the off-CPU test below")
    x = torch.randn(2, 3, 4, 4, 4)
    for name in _narrow_types(device):
        e, t = ember.tensor(x.numpy(), device=device).to(getattr(ember, name)), x.to(getattr(torch, name))
        _same_error(lambda M, v: M.nn.functional.avg_pool3d(v, 2), (e,), (t,))
        _same_error(lambda M, v: M.nn.functional.avg_pool3d(v[0], 2), (e,), (t,))  # unbatched
        _same_error(lambda M, v: M.nn.AvgPool3d(2)(v), (e,), (t,))
        _same_error(lambda M, v: M.nn.functional.lp_pool3d(v, 2, 2), (e,), (t,))
        # the argument checks come first (RuntimeError in both; ember words the geometry its own way)
        _same_error(lambda M, v: M.nn.functional.avg_pool3d(v, 9), (e,), (t,), exact=False)
        _same_error(lambda M, v: M.nn.functional.avg_pool3d(v, 2, divisor_override=0), (e,), (t,))
        # avg_pool2d keeps its float16/bfloat16 kernel
        got, want = EF.avg_pool2d(e[0], 2), F.avg_pool2d(t[0], 2)
        assert got.dtype is getattr(ember, name)
        np.testing.assert_allclose(got.float().cpu().numpy(), want.float().numpy(), rtol=1e-2, atol=1e-2)


def test_avg_pool3d_off_the_cpu_takes_low_precision(device):
    """Off the CPU (PyTorch's CUDA kernel takes float16/bfloat16), avg_pool3d computes them in float32
    and rounds back once."""
    if device.startswith(("cpu", "restricted")):
        pytest.skip("the CPU refuses them, as PyTorch's CPU kernel")
    x = torch.randn(2, 3, 4, 4, 4)
    for name in _narrow_types(device):
        e = ember.tensor(x.numpy(), device=device).to(getattr(ember, name))
        got = EF.avg_pool3d(e, 2)
        assert got.dtype is getattr(ember, name)
        want = F.avg_pool3d(x.to(getattr(torch, name)).float(), 2).to(getattr(torch, name))
        np.testing.assert_array_equal(got.float().cpu().numpy(), want.float().numpy())


def test_avg_pool3d_under_autocast_computes_in_float32_as_torch():
    x = torch.randn(2, 3, 4, 4, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        want = F.avg_pool3d(x.bfloat16(), 2)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        got = EF.avg_pool3d(ember.tensor(x.numpy()).to(ember.bfloat16), 2)
    assert want.dtype == torch.float32 and got.dtype is ember.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["float64", "float32", "int64"])
def test_avg_pool3d_values_in_the_types_torch_takes(device, name):
    if name == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    x = torch.randn(2, 3, 5, 4, 6) * 10
    t = x.to(getattr(torch, name))
    e = ember.tensor(t.numpy(), device=device)
    for kwargs in ({}, {"stride": 1, "padding": 1}, {"ceil_mode": True, "count_include_pad": False}):
        want = F.avg_pool3d(t, 2, **kwargs)
        got = EF.avg_pool3d(e, 2, **kwargs)
        assert str(got.dtype) == f"ember.{name}"
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


# -- uint8 bilinear / bicubic interpolate ---------------------------------------------------------
RESIZES = [
    {"size": (8, 9)}, {"size": (3, 4)}, {"size": (11, 3)}, {"size": (5, 12)}, {"size": (5, 7)},
    {"scale_factor": 2.0}, {"scale_factor": 0.5}, {"scale_factor": (0.3, 2.5)}, {"scale_factor": 1.7},
    {"scale_factor": 1.7, "recompute_scale_factor": True},
]  # fmt: skip


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("channels", [3, 5])  # PyTorch's AVX2 path takes up to 4 channels, its generic path more
def test_uint8_interpolate_equals_torch(device, mode, align_corners, channels):
    rng = np.random.default_rng(channels)
    image = rng.integers(0, 256, size=(2, channels, 5, 7), dtype=np.uint8)
    image[0, 0] = 255 * (np.arange(35).reshape(5, 7) % 2)  # a checkerboard: bicubic overshoots, the clamp bites
    for kwargs in RESIZES:
        want = F.interpolate(torch.from_numpy(image), mode=mode, align_corners=align_corners, **kwargs)
        got = EF.interpolate(ember.tensor(image, device=device), mode=mode, align_corners=align_corners, **kwargs)
        assert got.dtype is ember.uint8
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy(), err_msg=f"{mode} {kwargs}")


def test_uint8_interpolate_copies_when_no_size_changes(device):
    image = ember.tensor(np.arange(12, dtype=np.uint8).reshape(1, 1, 3, 4), device=device)
    out = EF.interpolate(image, size=(3, 4), mode="bicubic")
    np.testing.assert_array_equal(out.cpu().numpy(), image.cpu().numpy())
    out.add_(1)
    np.testing.assert_array_equal(image.cpu().numpy(), np.arange(12).reshape(1, 1, 3, 4))


INTERPOLATE_ERRORS = {
    "int64 bilinear": lambda M, x: M.nn.functional.interpolate(x.long(), size=(4, 4), mode="bilinear"),
    "int8 bicubic": lambda M, x: M.nn.functional.interpolate(x.to(M.int8), size=(4, 4), mode="bicubic"),
    "uint8 area": lambda M, x: M.nn.functional.interpolate(x, size=(2, 3), mode="area"),
    "uint8 linear": lambda M, x: M.nn.functional.interpolate(x[0], size=9, mode="linear"),
    "uint8 trilinear": lambda M, x: M.nn.functional.interpolate(x[None], size=(2, 8, 9), mode="trilinear"),
    "uint8 no size": lambda M, x: M.nn.functional.interpolate(x, mode="bilinear"),
    "int64 no size": lambda M, x: M.nn.functional.interpolate(x.long(), mode="bicubic"),
    "uint8 bilinear 3-D": lambda M, x: M.nn.functional.interpolate(x[0], size=3, mode="bilinear"),
}


@pytest.mark.parametrize("case", list(INTERPOLATE_ERRORS))
def test_integer_interpolate_errors_match_torch(device, case):
    image = np.zeros((1, 2, 5, 7), dtype=np.uint8)
    _same_error(INTERPOLATE_ERRORS[case], (ember.tensor(image, device=device),), (torch.from_numpy(image),))
