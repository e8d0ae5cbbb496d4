"""oneDNN, the library behind PyTorch's CPU convolutions and products, for the NumPy backend's float32
convolutions and matrix products, where the optional ``onednn-cpu-gomp`` wheel is installed
(``pip install ember[onednn]``; Linux on x86-64). Elsewhere, or with
``ember.backends.mkldnn.enabled = False``, the NumPy kernels serve alone.
"""

from .library import OnednnError, load

__all__ = ["OnednnError", "load"]
