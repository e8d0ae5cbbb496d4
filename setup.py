"""Maps the top-level folders into the one import package ``ember`` (metadata is in pyproject.toml).

Kernel sources (``*.cl``, ``*.cu``, ``*.h``) and data tables (``*.npz``) ship as package data of the nearest enclosing
package, including those in plain subfolders such as ``backends/opencl/cl/`` (no ``__init__.py``).
"""

import os

from setuptools import setup

FOLDERS = {"ember": "core", "ember.backends": "backends", "ember.plugins": "plugins", "ember.contrib": "contrib"}
DATA_SUFFIXES = (".cl", ".cu", ".h", ".npz")


def _walked(folder):
    for root, dirs, files in os.walk(folder):
        # dot folders and __pycache__ stay out; a package folder may start with one underscore (_dynamo)
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")) and "-" not in d)
        yield root, files


def packages_under(package, folder):
    found = {}
    for root, files in _walked(folder):
        if "__init__.py" in files:
            relative = os.path.relpath(root, folder)
            name = package if relative == "." else package + "." + relative.replace(os.sep, ".")
            found[name] = root
    return found


def kernel_sources(package_dir):
    """package -> its kernel source files (paths relative to the package folder)."""
    owner_of = {root: name for name, root in package_dir.items()}
    data = {}
    for name, root in package_dir.items():
        for sub, files in _walked(root):
            owner = sub
            while owner not in owner_of:
                owner = os.path.dirname(owner)
            if owner_of[owner] != name:
                continue
            data.setdefault(name, []).extend(
                os.path.relpath(os.path.join(sub, f), root).replace(os.sep, "/")
                for f in sorted(files)
                if f.endswith(DATA_SUFFIXES)
            )
    return {name: files for name, files in data.items() if files}


package_dir = {}
for package, folder in FOLDERS.items():
    package_dir.update(packages_under(package, folder))

setup(packages=sorted(package_dir), package_dir=package_dir, package_data=kernel_sources(package_dir))
