"""The command line parses, reports its version and lists its commands."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rtoutcomes import __version__
from rtoutcomes.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"rtoutcomes {__version__}"


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: rtoutcomes" in capsys.readouterr().out


def test_cli_import_does_not_pull_heavy_libraries(python_output: Callable[..., str]) -> None:
    """``rtoutcomes --help`` must start fast: no numpy/pandas/matplotlib/sqlalchemy at import."""
    code = (
        "import sys; from rtoutcomes.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('numpy', 'pandas', 'matplotlib', 'scipy', 'sqlalchemy', 'pydicom') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    assert python_output(code).strip() == ""
