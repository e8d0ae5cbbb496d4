"""This CPU's instruction sets as PyTorch's oneDNN sees them, where they decide which kernels PyTorch runs.

PyTorch's CPU convolutions of float16 tensors go to oneDNN (``mkldnn_convolution``: float32
accumulation, each result rounded once) where its oneDNN has float16 kernels for the CPU, and to its
im2col kernels (each product rounded, a weight gradient rounded sample by sample) elsewhere
(``mkldnn_fp16_device_check``, which asks ideep's ``has_fp16_type_support``). oneDNN has them where
its effective instruction set includes AVX512-FP16 (``avx512_core_fp16``: Sapphire Rapids and later
Xeons) or AVX-NE-CONVERT (``avx2_vnni_2``). The effective set is the CPU's, capped by the
``ONEDNN_MAX_CPU_ISA`` environment variable (``DNNL_MAX_CPU_ISA`` its older name) that oneDNN reads once:
``ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16`` sends PyTorch's float16 convolutions back to its im2col
kernels on a Sapphire Rapids. :func:`onednn_takes_float16` follows both, read once per process.

Example::

    >>> from ember.cpu.isa import onednn_takes_float16
    >>> isinstance(onednn_takes_float16(), bool)
    True
"""

from __future__ import annotations

import functools
import os

__all__ = ["onednn_takes_float16"]

# oneDNN's instruction sets (dnnl_cpu_isa_t) are bit masks, each holding the bits of the sets below it;
# a cap admits the sets whose bits it holds all of
_AVX2_VNNI_2 = 0x1F
_AVX512_CORE_FP16 = 0x1EF
#: the caps ``ONEDNN_MAX_CPU_ISA`` names (case aside; a name oneDNN does not know caps nothing)
_CAPS = {
    "SSE41": 0x1,
    "AVX": 0x3,
    "AVX2": 0x7,
    "AVX2_VNNI": 0xF,
    "AVX2_VNNI_2": _AVX2_VNNI_2,
    "AVX512_CORE": 0x27,
    "AVX512_CORE_VNNI": 0x67,
    "AVX512_CORE_BF16": 0xE7,
    "AVX512_CORE_FP16": _AVX512_CORE_FP16,
    "AVX10_1_512": _AVX512_CORE_FP16,
    "AVX512_CORE_AMX": 0xFEF,
    "AVX10_1_512_AMX": 0xFEF,
    "AVX512_CORE_AMX_FP16": 0x1FEF,
    "AVX10_1_512_AMX_FP16": 0x1FEF,
}


def _cap():
    """The instruction-set mask the environment caps oneDNN at (all bits where it caps nothing)."""
    name = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or ""
    return _CAPS.get(name.upper(), ~0)


def _linux_flags():
    """The CPU's feature flags as Linux lists them in ``/proc/cpuinfo`` (none elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def _hardware():
    """The masks of the two instruction sets with float16 kernels that this CPU has (oneDNN's ``mayiuse``
    before the cap): AVX512-FP16 over AVX-512 with VNNI and BF16 (read from NumPy's CPU feature
    detection), AVX-NE-CONVERT with AVX-VNNI-INT8 (which NumPy does not detect: Linux's flags)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # NumPy's private module moved: detected as absent
        features = {}
    found = []
    if all(features.get(f) for f in ("AVX512_SKX", "AVX512VNNI", "AVX512BF16", "AVX512FP16")):
        found.append(_AVX512_CORE_FP16)
    if {"avx2", "avx_vnni", "avx_vnni_int8", "avx_ne_convert"} <= _linux_flags():
        found.append(_AVX2_VNNI_2)
    return found


@functools.cache
def onednn_takes_float16() -> bool:
    """Whether PyTorch's CPU build runs float16 convolutions through oneDNN on this machine (its
    ``mkldnn_fp16_device_check``): the CPU has AVX512-FP16 or AVX-NE-CONVERT and ``ONEDNN_MAX_CPU_ISA``
    does not cap oneDNN below them (see the module docstring). Decided on the first call, once.

    Example::

        >>> from ember.cpu.isa import onednn_takes_float16
        >>> onednn_takes_float16() in (True, False)
        True
    """
    cap = _cap()
    return any(mask & cap == mask for mask in _hardware())
