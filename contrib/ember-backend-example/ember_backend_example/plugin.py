"""The plugin module named by the entry point ``example = "ember_backend_example.plugin"``."""

from ember.plugin import hookimpl


@hookimpl
def ember_register_backends(registry):
    # The loader string is imported only when a tensor first asks for device "example".
    registry.register_backend(
        name="example", device_type="example", loader="ember_backend_example.backend:ExampleBackend"
    )
