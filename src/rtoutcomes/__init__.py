"""rtoutcomes: from a radiotherapy treatment registry to a publishable outcomes study.

Data flows one way: ``io`` -> ``registry`` -> ``clinical`` -> ``stats`` -> ``report``;
``study`` wires one study file through them and ``cli`` stays thin.
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)
