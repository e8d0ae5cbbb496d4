"""First-party plugins that are not backends: checkpoint formats, communicators."""
