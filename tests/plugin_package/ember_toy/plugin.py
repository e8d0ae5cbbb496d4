"""The plugin module named by the entry point: registers two backends for ``toy`` and one that fails."""

from ember.plugin import hookimpl


@hookimpl
def ember_register_backends(registry):
    registry.register_backend(name="toy", device_type="toy", loader="ember_toy.backend:ToyBackend", priority=10)
    registry.register_backend(name="toy_alt", device_type="toy", loader="ember_toy.backend:ToyAltBackend", priority=1)
    registry.register_backend(name="toy_missing", device_type="toyfail", loader="ember_toy.backend:missing_driver")
