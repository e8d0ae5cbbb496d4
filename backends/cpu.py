"""``ember.backends.cpu``: PyTorch's ``torch.backends.cpu``.

Example::

    >>> import ember.backends.cpu
    >>> ember.backends.cpu.get_cpu_capability() in ("DEFAULT", "AVX2", "AVX512", "ZVECTOR", "VSX", "SVE256")
    True
"""

from __future__ import annotations

__all__ = ["get_cpu_capability"]


def get_cpu_capability():
    """The widest vector instruction set of this CPU that PyTorch's kernels would use, under PyTorch's
    names: ``"AVX512"`` (AVX-512 F, BW, VL and DQ), ``"AVX2"`` (AVX2 with FMA), or ``"DEFAULT"``; read
    from NumPy's CPU feature detection.

    Example::

        >>> import ember.backends.cpu
        >>> isinstance(ember.backends.cpu.get_cpu_capability(), str)
        True
    """
    from numpy._core._multiarray_umath import __cpu_features__ as features

    if all(features.get(f) for f in ("AVX512F", "AVX512BW", "AVX512VL", "AVX512DQ")):
        return "AVX512"
    if features.get("AVX2") and features.get("FMA3"):
        return "AVX2"
    return "DEFAULT"
