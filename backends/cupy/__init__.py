"""The CuPy backend plugin: device type ``cuda`` (``cuda``, ``cuda:N``) on NVIDIA GPUs.

Registered by the entry point ``cupy = "ember.backends.cupy"``. Install with
``pip install "ember[cupy]"`` (CUDA 13; ``ember[cupy-cuda12]`` for CUDA 12). Without CuPy
or without a GPU the backend is listed as unavailable by ``ember info``, with the reason.
"""

from ember.plugin import hookimpl


@hookimpl
def ember_register_backends(registry):
    registry.register_backend(name="cupy", device_type="cuda", loader="ember.backends.cupy.backend:CupyBackend")
