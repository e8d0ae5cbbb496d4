"""Maps the top-level folders into the one import package ``ember`` (metadata is in pyproject.toml)."""

import os

from setuptools import setup

FOLDERS = {"ember": "core", "ember.backends": "backends", "ember.plugins": "plugins", "ember.contrib": "contrib"}


def packages_under(package, folder):
    found = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_")) and "-" not in d]
        if "__init__.py" in files:
            relative = os.path.relpath(root, folder)
            name = package if relative == "." else package + "." + relative.replace(os.sep, ".")
            found[name] = root
    return found


package_dir = {}
for package, folder in FOLDERS.items():
    package_dir.update(packages_under(package, folder))

setup(packages=sorted(package_dir), package_dir=package_dir)
