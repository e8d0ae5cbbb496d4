"""PyTorch's flag modules ``ember.backends.cudnn``, ``.cuda`` and ``.mps`` (no GPU needed)."""

import importlib
import subprocess
import sys

import pytest

import ember
import ember.backends.cuda
import ember.backends.cudnn
import ember.backends.mps

torch = pytest.importorskip("torch")


def test_flag_modules_without_importing_them():
    code = "import ember; ember.backends.cudnn.benchmark = True; print(ember.backends.cuda.matmul.allow_tf32)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_import_spellings_match_torch():
    for name in ("cudnn", "cuda", "mps"):
        module = importlib.import_module(f"ember.backends.{name}")
        assert getattr(ember.backends, name) is module
    # the flag modules are not compute backends
    assert {spec.name for spec, _ in ember.backends.list_backends()}.isdisjoint({"cudnn", "cuda", "mps"})


def test_cudnn_defaults_are_pytorchs():
    # a fresh process: conftest.py turns allow_tf32 off for the differential tests
    names = ("enabled", "benchmark", "deterministic", "allow_tf32")  # benchmark_limit: None without cuDNN
    code = f"import ember.backends.cudnn as c; print([getattr(c, n) for n in {names!r}])"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert fresh.strip() == str([getattr(torch.backends.cudnn, n) for n in names])


def test_cudnn_flags_context_sets_and_restores():
    cudnn = ember.backends.cudnn
    saved = (cudnn.enabled, cudnn.deterministic, cudnn.allow_tf32)
    with cudnn.flags(enabled=True, deterministic=True, allow_tf32=False):
        assert (cudnn.enabled, cudnn.deterministic, cudnn.allow_tf32, cudnn.benchmark) == (True, True, False, False)
    assert (cudnn.enabled, cudnn.deterministic, cudnn.allow_tf32) == saved
    with pytest.raises(KeyError), cudnn.flags(allow_tf32=not saved[2]):
        raise KeyError("restored on the way out")
    assert (cudnn.enabled, cudnn.deterministic, cudnn.allow_tf32) == saved


def test_cudnn_availability_agrees_with_cuda():
    cudnn = ember.backends.cudnn
    assert cudnn.is_available() is (cudnn.version() is not None and ember.cuda.is_available())
    if not ember.cuda.is_available():
        assert cudnn.is_available() is False


def test_cuda_matmul_flags():
    matmul = ember.backends.cuda.matmul
    assert matmul.allow_tf32 is False and matmul.fp32_precision == "ieee"
    seen = []
    matmul._subscribe(lambda: seen.append(matmul.allow_tf32))
    try:
        matmul.fp32_precision = "tf32"
        assert matmul.allow_tf32 is True
        matmul.allow_tf32 = 0
        assert matmul.fp32_precision == "ieee"
        with pytest.raises(ValueError, match="fp32_precision must be one of"):
            matmul.fp32_precision = "bf16x"
        assert seen == [False, True, False]
    finally:
        matmul._listeners.pop()
        matmul.allow_tf32 = False
    with pytest.raises(AttributeError):
        matmul.allow_tf3 = True


def test_cuda_is_built_and_mps():
    assert isinstance(ember.backends.cuda.is_built(), bool)
    assert ember.backends.mps.is_available() is False
    assert ember.backends.mps.is_built() is False


def test_cuda_sdp_switches_as_torch():
    # LLM training scripts switch attention kernels on and off before the first step
    kinds = ("flash", "mem_efficient", "math", "cudnn")
    theirs, ours = torch.backends.cuda, ember.backends.cuda
    try:
        for kind in kinds:
            assert getattr(ours, f"{kind}_sdp_enabled")() is getattr(theirs, f"{kind}_sdp_enabled")() is True
            for lib in (theirs, ours):
                getattr(lib, f"enable_{kind}_sdp")(False)
            assert getattr(ours, f"{kind}_sdp_enabled")() is getattr(theirs, f"{kind}_sdp_enabled")() is False
            with pytest.raises(RuntimeError):
                getattr(theirs, f"enable_{kind}_sdp")("yes")
            with pytest.raises(RuntimeError, match="expects a bool"):
                getattr(ours, f"enable_{kind}_sdp")("yes")
        # with every kernel off PyTorch's CPU refuses attention, and so does ember
        with pytest.raises(RuntimeError, match="No viable backend for scaled_dot_product_attention") as want:
            torch.nn.functional.scaled_dot_product_attention(*(torch.ones(1, 2, 3, 4),) * 3)
        q = ember.ones(1, 2, 3, 4)
        with pytest.raises(RuntimeError) as got:
            ember.nn.functional.scaled_dot_product_attention(q, q, q)
        assert str(got.value) == str(want.value)
    finally:
        for kind in kinds:
            for lib in (theirs, ours):
                getattr(lib, f"enable_{kind}_sdp")(True)


def test_deprecated_sdp_kernel_context_as_torch():
    for flags in ({}, {"enable_flash": False}, {"enable_math": False, "enable_cudnn": False}, dict.fromkeys(
        ("enable_flash", "enable_math", "enable_mem_efficient", "enable_cudnn"), False
    )):  # fmt: skip
        seen = []
        for module in (torch, ember):
            switches = module.backends.cuda
            with pytest.warns(FutureWarning, match=r"sdp_kernel\(\)` is deprecated"):
                with switches.sdp_kernel(**flags) as context:
                    assert context == {}
                    seen.append(
                        [getattr(switches, f"{k}_sdp_enabled")() for k in ("flash", "mem_efficient", "math", "cudnn")]
                    )
            assert switches.flash_sdp_enabled() and switches.math_sdp_enabled()
        assert seen[0] == seen[1], flags


def test_cuda_attention_queries_and_libraries_as_torch_without_a_gpu():
    q = ember.ones(1, 2, 3, 4)
    params = ember.backends.cuda.SDPAParams(q, q, q, None, 0.0, False, False)
    for check in ("can_use_flash_attention", "can_use_efficient_attention", "can_use_cudnn_attention"):
        assert getattr(ember.backends.cuda, check)(params) is False
    assert ember.backends.cuda.is_flash_attention_available() is False
    assert (
        ember.backends.cuda.fp16_bf16_reduction_math_sdp_allowed()
        is torch.backends.cuda.fp16_bf16_reduction_math_sdp_allowed()
    )
    ember.backends.cuda.allow_fp16_bf16_reduction_math_sdp(True)
    assert ember.backends.cuda.fp16_bf16_reduction_math_sdp_allowed() is True
    ember.backends.cuda.allow_fp16_bf16_reduction_math_sdp(False)
    assert repr(ember.backends.cuda.preferred_linalg_library()) == repr(torch.backends.cuda.preferred_linalg_library())
    assert repr(ember.backends.cuda.preferred_blas_library()) == repr(torch.backends.cuda.preferred_blas_library())
    with pytest.raises(RuntimeError, match="Unknown input value"):
        ember.backends.cuda.preferred_linalg_library("lapack")
    cache = ember.backends.cuda.cufft_plan_cache
    assert cache[0].size == 0 and cache.max_size == 4096
    cache.max_size = 10
    assert cache[0].max_size == 10
    cache.clear()


def test_cpu_mkl_openmp_opt_einsum_modules():
    import ember.backends.cpu
    import ember.backends.mkl
    import ember.backends.openmp
    import ember.backends.opt_einsum

    assert ember.backends.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability()
    assert ember.backends.mkl.is_available() is False
    with ember.backends.mkl.verbose(ember.backends.mkl.VERBOSE_ON):
        pass
    assert ember.backends.openmp.is_available() == ember.backends.mkldnn.is_available()
    assert ember.backends.opt_einsum.is_available() == torch.backends.opt_einsum.is_available()
    assert ember.backends.opt_einsum.enabled == torch.backends.opt_einsum.enabled
    assert ember.backends.opt_einsum.strategy == torch.backends.opt_einsum.strategy
