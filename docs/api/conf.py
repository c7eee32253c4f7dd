"""Sphinx configuration of the API reference (docs/api): numpydoc docstrings, warnings as
errors (tests/test_api_docs.py builds it with -W). Build: ``sphinx-build -W -b html docs/api
OUT``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

import rtoutcomes

project = "rtoutcomes"
author = "the rtoutcomes developers"
copyright = "2026, the rtoutcomes developers"
release = version = rtoutcomes.__version__
extensions = ["sphinx.ext.autodoc", "numpydoc"]
autodoc_typehints = "none"  # signatures carry the annotations; numpydoc lays out the text
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
html_theme = "basic"
exclude_patterns = ["_build"]
suppress_warnings = ["config.cache"]
