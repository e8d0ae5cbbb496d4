"""``ember.utils.dlpack``: PyTorch's home of the DLPack exchange functions and the device-type
codes of the DLPack standard.

Example::

    >>> from ember.utils.dlpack import from_dlpack, to_dlpack
    >>> from_dlpack(to_dlpack(ember.tensor([1.0, 2.0])))
    tensor([1., 2.])
    >>> ember.tensor([1.0]).__dlpack_device__()[0] == DLDeviceType.kDLCPU
    True
"""

from __future__ import annotations

import enum

from .. import overrides as _overrides
from ..dlpack import from_dlpack, to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """The device types of the DLPack standard (the first element of ``__dlpack_device__()``)."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


_overrides.wrap_module_functions(globals(), __name__)  # if Tensor subclasses already take part
