"""Sphinx configuration of ember's documentation (built by ``tox -e docs``)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

project = "ember"
author = "the ember developers"
copyright = "the ember developers"
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "ember_docs",  # generates the API pages and the conformance table before reading
]

exclude_patterns = ["_build", "contributing.md", "**/.pytest_cache"]
html_theme = "alabaster"
html_static_path = []
templates_path = []

autosummary_generate = False
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = [("Shape", "params_style"), ("Attributes", "params_style")]

doctest_global_setup = """
import ember
import ember.nn as nn
import ember.nn.functional as F
ember.manual_seed(0)
"""
