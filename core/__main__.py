"""``python -m ember <command>``: the same command line as the ``ember`` console script."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["main", "info", "INSTALL_HINTS"]

#: backend name -> how to install what it needs, printed under an unavailable backend
#: whose own error message does not already say it.
INSTALL_HINTS = {
    "cupy": 'pip install "ember[cupy]" (CUDA 13; "ember[cupy-cuda12]" for CUDA 12) and an NVIDIA driver',
    "opencl": 'pip install "ember[opencl]" and an OpenCL runtime (a GPU driver, or pip install pocl-binary-distribution)',
}


def info(stream: TextIO | None = None) -> None:
    """Print every registered backend with its devices, or the reason it is unavailable and how to install it."""
    from ember.backends import list_backends
    from ember.plugin import failed_plugins

    stream = stream or sys.stdout
    import ember

    print(f"ember {ember.__version__}", file=stream)
    print("backends:", file=stream)
    for spec, devices in list_backends():
        if spec.instance is None:
            print(f"  {spec.name} ({spec.device_type}): unavailable - {spec.error}", file=stream)
            hint = INSTALL_HINTS.get(spec.name)
            if hint and "pip install" not in str(spec.error):
                print(f"    to install: {hint}", file=stream)
            continue
        print(f"  {spec.name} ({spec.device_type}): {len(devices)} device(s)", file=stream)
        for name, description in devices:
            print(f"    {name}: {description}", file=stream)
    for name, reason in failed_plugins().items():
        print(f"  plugin {name}: failed to load - {reason}", file=stream)


def main(argv: list[str] | None = None) -> int:
    """Run the ``ember`` command line (:func:`ember.contrib.cli.main`); returns the exit status."""
    from ember.contrib.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
