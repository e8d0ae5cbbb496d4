"""The NumPy backend plugin: device type ``cpu``.

Registered by the entry point ``numpy = "ember.backends.numpy"`` in ember's
``pyproject.toml``, the same way a third-party backend registers.
"""

from ember.plugin import hookimpl


@hookimpl
def ember_register_backends(registry):
    registry.register_backend(name="numpy", device_type="cpu", loader="ember.backends.numpy.backend:NumpyBackend")
