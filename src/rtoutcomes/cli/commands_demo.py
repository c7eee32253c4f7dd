"""CLI commands: demo (not yet implemented; the module only reserves its place)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add this module's commands to ``subparsers``."""
