"""``python -m ember info``: the backends, their devices, and why any is unavailable."""

from __future__ import annotations

import sys

__all__ = ["main", "info"]


def info(stream=None):
    """Print every registered backend with its devices, or the reason it is unavailable."""
    from ember.backends import list_backends
    from ember.plugin import failed_plugins

    stream = stream or sys.stdout
    import ember

    print(f"ember {ember.__version__}", file=stream)
    print("backends:", file=stream)
    for spec, devices in list_backends():
        if spec.instance is None:
            print(f"  {spec.name} ({spec.device_type}): unavailable - {spec.error}", file=stream)
            continue
        print(f"  {spec.name} ({spec.device_type}): {len(devices)} device(s)", file=stream)
        for name, description in devices:
            print(f"    {name}: {description}", file=stream)
    for name, reason in failed_plugins().items():
        print(f"  plugin {name}: failed to load - {reason}", file=stream)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["info"] or not argv:
        info()
        return 0
    print(f"usage: python -m ember info (unknown command {argv[0]!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
