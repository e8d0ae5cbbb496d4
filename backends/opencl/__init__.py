"""The OpenCL backend plugin: device type ``opencl`` (``opencl:N``, one index per OpenCL
device of every platform, GPUs first).

Registered by the entry point ``opencl = "ember.backends.opencl"``. Importing this module
needs nothing beyond ember: PyOpenCL and an OpenCL runtime (for example PoCL, ``pip install
pocl-binary-distribution``) are only needed when the backend is loaded, and their absence is
recorded by the registry as the reason the backend is unavailable (``python -m ember info``).
"""

from ember.plugin import hookimpl


@hookimpl
def ember_register_backends(registry):
    registry.register_backend(name="opencl", device_type="opencl", loader="ember.backends.opencl.backend:OpenCLBackend")
