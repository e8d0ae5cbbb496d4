"""Numeric limits of dtypes: ``finfo``, ``iinfo``, and the casting rule ``can_cast``.

The limits are host constants (read from NumPy's tables once per call); no tensor compute.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes

__all__ = ["finfo", "iinfo", "can_cast"]


class finfo:  # noqa: N801 - the public name mirrors torch.finfo
    """Limits of a floating dtype (default: the default dtype); a complex dtype has its parts' limits.

    Attributes:
        bits (int): bits per element.
        eps (float): the gap between 1.0 and the next representable number.
        max (float), min (float): the largest and smallest (most negative) finite values.
        tiny (float), smallest_normal (float): the smallest positive normal number.
        resolution (float): ``10 ** -precision`` (decimal digits of precision).
        dtype (str): the dtype's name.

    Example::

        >>> ember.finfo(ember.float32).eps
        1.1920928955078125e-07
    """

    def __init__(self, type: dtypes.dtype | None = None) -> None:  # noqa: A002 - PyTorch's argument name
        type = dtypes.get_default_dtype() if type is None else dtypes.as_dtype(type)  # noqa: A001
        if type.is_complex:  # the limits of its real and imaginary parts, as PyTorch's
            type = type.to_real()  # noqa: A001
        if not type.is_floating_point:
            raise TypeError(
                "torch.finfo() requires a floating point input type. Use torch.iinfo to handle 'torch.finfo'"
            )
        if type in dtypes.float8_dtypes:
            self.eps, self.max, self.min, self.tiny = _FLOAT8_LIMITS[type.name]
            self.bits = 8
            self.smallest_normal, self.resolution, self.dtype = self.tiny, 1.0, type.name
            return
        info = _bfloat16_finfo() if type is dtypes.bfloat16 else np.finfo(type.name)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = type.name

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
            f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})"
        )


#: PyTorch's limits of the float8 types: (eps, max, min, smallest normal); its resolution is 1 for each
#: and its eps of float8_e5m2fnuz is 2**-3 (ml_dtypes says 2**-2)
_FLOAT8_LIMITS = {
    "float8_e4m3fn": (0.125, 448.0, -448.0, 2.0**-6),
    "float8_e5m2": (0.25, 57344.0, -57344.0, 2.0**-14),
    "float8_e4m3fnuz": (0.125, 240.0, -240.0, 2.0**-7),
    "float8_e5m2fnuz": (0.125, 57344.0, -57344.0, 2.0**-15),
    "float8_e8m0fnu": (1.0, 2.0**127, 2.0**-127, 2.0**-127),
}


def _bfloat16_finfo() -> Any:
    """``ml_dtypes``' limits of bfloat16 (NumPy's finfo does not know the type)."""
    import ml_dtypes

    return ml_dtypes.finfo(dtypes.host_dtype(dtypes.bfloat16))


class iinfo:  # noqa: N801 - the public name mirrors torch.iinfo
    """Limits of an integer dtype.

    Attributes:
        bits (int): bits per element.
        max (int), min (int): the largest and smallest values.
        dtype (str): the dtype's name.

    Example::

        >>> ember.iinfo(ember.int8).max
        127
    """

    def __init__(self, type: dtypes.dtype) -> None:  # noqa: A002 - PyTorch's argument name
        type = dtypes.as_dtype(type)  # noqa: A001
        if type is dtypes.bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if type.is_floating_point or type.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        # a quantized type has the limits of the integers that hold it (quint4x2 and quint2x4: a byte's), as PyTorch
        held = {"qint8": "int8", "quint8": "uint8", "qint32": "int32", "quint4x2": "uint8", "quint2x4": "uint8"}
        info = np.iinfo(held.get(type.name, type.name))
        self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), int(info.min), type.name

    def __repr__(self) -> str:
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"


def can_cast(from_: dtypes.dtype, to: dtypes.dtype) -> bool:
    """True if PyTorch's casting rule allows ``from_`` -> ``to``: never to a lower kind (float -> int -> bool).

    Example::

        >>> ember.can_cast(ember.float64, ember.int32)
        False
    """
    return dtypes.as_dtype(from_)._category <= dtypes.as_dtype(to)._category
