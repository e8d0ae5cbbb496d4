"""The address of a NumPy array's first element, read from the array object itself.

``array.ctypes.data`` builds a ctypes helper object on every call (about 2 us), and
``array.__array_interface__`` a dict; the storage offset of a view needs two addresses (the view's
and its storage's), so ``NumpyBackend.storage_offset`` and ``layout`` read them here instead: the
data pointer is the first field of NumPy's array object after the Python object header
(``PyArrayObject_fields.data``), at the address ``id()`` gives on CPython. The reading is checked against ``ctypes.data`` once, at
import, on arrays and views of each kind; where it disagrees (another interpreter, another layout)
``ctypes.data`` is used.
"""

from __future__ import annotations

import ctypes

import numpy as np

__all__ = ["data_address"]

_pointer_at = ctypes.c_void_p.from_address
_DATA_FIELD = object.__basicsize__  # the size of the object header: where the data pointer follows


def _read_address(array):
    return _pointer_at(id(array) + _DATA_FIELD).value or 0


def _ctypes_address(array):
    return array.ctypes.data


def _reading_agrees():
    base = np.arange(24.0).reshape(4, 6)
    probes = (base, base[1:, 2:], base[1:, 2:][1:, ::2], base.T[3:], np.empty(0), np.zeros(5, np.float32)[2:])
    try:
        return all(_read_address(a) == a.ctypes.data for a in probes)
    except (ValueError, OverflowError):  # an address that is no object's
        return False


#: ``data_address(array)``: the address of the first element of the NumPy array ``array`` (an int)
data_address = _read_address if _reading_agrees() else _ctypes_address
