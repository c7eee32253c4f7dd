"""Allow ``python -m rtoutcomes``."""

from rtoutcomes.cli import run

run()
