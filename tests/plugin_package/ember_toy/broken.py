"""A plugin whose import fails: ember must record the reason and keep working."""

import ember_toy_nonexistent_dependency  # noqa: F401
