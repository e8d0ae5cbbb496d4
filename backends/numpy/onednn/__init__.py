"""oneDNN, the library behind PyTorch's CPU convolutions, LSTMs and products, for the NumPy backend's
float32 and bfloat16 convolutions (:mod:`.convolution`), LSTM layers (:mod:`.lstm`), matrix products
(:mod:`.gemm`), SGD steps (:mod:`.multiply_add`) and the cross entropy's exponentials
(:mod:`.exponential`), where the optional ``onednn-cpu-gomp`` wheel is installed
(``pip install ember[onednn]``; Linux on x86-64). Elsewhere, or with
``ember.backends.mkldnn.enabled = False``, the NumPy kernels serve alone.
"""

from .library import OnednnError, load

__all__ = ["OnednnError", "load"]
