"""The CuPy backend's CUDA sources compile (NVRTC only: runs without a GPU, skips without NVRTC)."""

from importlib import resources

import pytest

nvrtc = pytest.importorskip("cupy_backends.cuda.libs.nvrtc")
source = pytest.importorskip("ember.backends.cupy.source")


def _nvrtc_available():
    try:
        nvrtc.getVersion()
    except Exception:  # noqa: BLE001 - any loading failure means "no NVRTC here"
        return False
    return True


FILES = sorted(
    p.name for p in resources.files("ember.backends.cupy").joinpath("cu").iterdir() if p.name.endswith(".cu")
)


@pytest.mark.skipif(not _nvrtc_available(), reason="NVRTC (libnvrtc) is not installed")
@pytest.mark.parametrize("file", FILES)
def test_cu_file_compiles_for_float_and_double(file):
    code = source._read("common.cuh") + source._read(file)
    names = [f"{kernel}<{c}>" for kernel in source._TEMPLATE.findall(code) for c in ("float", "double")]
    names += source._PLAIN.findall(code)
    program = nvrtc.createProgram(code, file, [], [])
    for name in names:
        nvrtc.addNameExpression(program, name)
    try:
        nvrtc.compileProgram(program, ["-std=c++17", "--gpu-architecture=compute_80"])
    except Exception as exc:  # noqa: BLE001 - show the compiler's log
        pytest.fail(f"{file} does not compile: {exc}\n{nvrtc.getProgramLog(program)}")
    for name in names:
        assert nvrtc.getLoweredName(program, name)
