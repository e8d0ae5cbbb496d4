"""The restricted backend plugin: device type ``restricted``.

It wraps NumPy but lets ember see nothing except the declared primitives (see
:mod:`ember.backend`): its arrays are opaque wrappers, its namespace holds exactly
:data:`ember.backend.REQUIRED` (the :data:`~ember.backend.DERIVED` primitives are the core's
portable compositions of those) and its kernel table overrides nothing. The whole test
suite runs on it, which proves that a third-party backend implementing only the required
primitives runs the entire catalogue.
"""

from ember.plugin import hookimpl


@hookimpl
def ember_register_backends(registry):
    registry.register_backend(
        name="restricted", device_type="restricted", loader="ember.backends.restricted.backend:RestrictedBackend"
    )
