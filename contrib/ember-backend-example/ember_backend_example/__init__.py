"""ember-backend-example: device type ``example``, the required primitives over NumPy.

The tutorial backend of ember's backend-author guide. Its pieces:

- :mod:`.array`: ``ExampleArray``, the native array (a wrapper around a NumPy array);
- :mod:`.namespace`: the array namespace, one function per name in ``ember.backend.REQUIRED``;
- :mod:`.backend`: ``ExampleBackend``, the :class:`ember.backend.Backend` subclass;
- :mod:`.plugin`: the hook that registers it (announced by the entry point in ``pyproject.toml``).
"""

__version__ = "0.1.0"
