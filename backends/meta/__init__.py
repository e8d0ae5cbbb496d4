"""The meta backend plugin: device type ``meta``, tensors with a shape, dtype and strides but no data.

As PyTorch's ``meta`` device, it builds models of any size without memory
(``with ember.device("meta"): model = Net()``, then ``model.to_empty(device="cpu")``) and infers
the shapes and dtypes of a computation without running it.
"""

from ember.plugin import hookimpl


@hookimpl
def ember_register_backends(registry):
    registry.register_backend(name="meta", device_type="meta", loader="ember.backends.meta.backend:MetaBackend")
