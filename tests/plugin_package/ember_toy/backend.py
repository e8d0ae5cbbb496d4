"""The toy backends: NumPy arrays, exposed only through the declared primitives and portable kernels."""

from types import SimpleNamespace

from ember.backend import PRIMITIVES
from ember.backends.numpy.backend import NumpyBackend
from ember.backends.numpy.namespace import namespace
from ember.kernels import Kernels


class ToyBackend(NumpyBackend):
    """Device type ``toy``: two devices, NumPy behind the primitives, no kernel overrides."""

    device_type = "toy"
    xp = SimpleNamespace(**{name: getattr(namespace, name) for name in PRIMITIVES})
    flavour = "toy"

    def __init__(self):
        super().__init__()
        self.kernels = Kernels(self)

    def device_count(self):
        return 2

    def device_name(self, index):
        return f"Toy accelerator #{index} ({self.flavour})"


class ToyAltBackend(ToyBackend):
    """A second backend claiming ``toy``, with a lower priority."""

    flavour = "alt"


def missing_driver():
    raise RuntimeError("no toy accelerator driver found (libtoy.so)")
