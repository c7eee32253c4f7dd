"""Every output folder is written one way: staged beside the target, moved into place whole.

``staged_output(out_dir)`` gives a temporary folder created next to ``out_dir`` (same file
system, so a rename is atomic); the caller writes everything there. Only when the caller's
block ends without an error are the top-level entries it wrote moved into ``out_dir``, each
replacing the entry of the same name (a folder such as ``figures/`` is replaced whole, so no
stale figure of an earlier run survives beside the new ones). Any other file in ``out_dir`` is
left alone. If writing fails, the temporary folder is removed and ``out_dir`` is exactly as it
was: never half old, half new.

``check_output_folder`` refuses targets that cannot be an output folder (the file system root, an
existing file, a folder that cannot be written), so commands can refuse before computing.

``cell_text`` is the one function that makes text inert in a spreadsheet or Word cell: a
leading ``=``, ``+``, ``-``, ``@``, tab or carriage return (unless the text is a plain number)
gets an apostrophe (OWASP's defence
against CSV/formula injection; the registry importer removes it again), and control characters
that XML (xlsx, docx) cannot hold become U+FFFD, the replacement character, so that a stray ESC
or NUL in a registry text shows as a visible mark instead of breaking the file.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.results.columns import Column

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 allows tab, line feed and carriage return among the C0 controls, nothing else.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
REPLACEMENT = "\ufffd"
T = TypeVar("T")
# A signed number, alone or followed only by digits, spaces and typographic punctuation
# ("-24.0–68.0", "-0.5 (0.1–0.9) %"): no letter, no operator, so no formula a spreadsheet runs.
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[\d.,% ()\u2013\u2014]*$")


class OutputError(RtOutcomesError):
    """The output folder cannot be used (root, a file, not writable) or writing failed."""


def neutralise_formula(text: str) -> str:
    """``text`` with a leading apostrophe if a spreadsheet could take it for a formula.

    A plain number (``-670.089``, ``+1e-3``), also followed by digits, spaces and typographic
    punctuation (a range ``-24.0–68.0``), is no formula and is left as it is, so that a negative
    log-likelihood or range in a table reads as written.
    """
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def xml_safe(text: str) -> str:
    """``text`` with the control characters XML cannot hold replaced by U+FFFD."""
    return _XML_ILLEGAL.sub(REPLACEMENT, text)


def xml_safe_tree(value: T) -> T:
    """A copy of nested dicts/lists with every string (keys too) through ``xml_safe``, and
    carriage returns as line feeds (fonts have no glyph for them)."""
    result: Any = value
    if isinstance(value, str):
        result = xml_safe(value.replace("\r\n", "\n").replace("\r", "\n"))
    elif isinstance(value, dict):
        result = {xml_safe_tree(k): xml_safe_tree(v) for k, v in value.items()}
    elif isinstance(value, Column):  # a curve's numbers, never changed: kept, with its array
        result = value
    elif isinstance(value, list | tuple):
        if all(type(v) is float for v in value):  # a curve (most of results): nothing to make safe
            result = type(value)(value)
        else:
            result = type(value)(xml_safe_tree(v) for v in value)
    return cast(T, result)


def cell_text(text: str) -> str:
    """Text made inert for a spreadsheet (CSV, xlsx) or Word cell; see the module docstring."""
    return xml_safe(neutralise_formula(text))


def check_output_folder(out_dir: str | Path) -> Path:
    """``out_dir`` as an absolute path, or ``OutputError`` if it cannot be an output folder."""
    path = Path(out_dir).expanduser()
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as error:
        raise OutputError(f"--out {out_dir}: cannot use this folder ({error})") from None
    if resolved == Path(resolved.anchor):
        raise OutputError(
            f"--out {out_dir}: refusing to write into the file system root; give a folder of its "
            "own"
        )
    if resolved.exists() and not resolved.is_dir():
        raise OutputError(f"--out {out_dir}: a file of that name exists; give a folder")
    existing = resolved
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"--out {out_dir}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"--out {out_dir}: {existing} is not writable")
    return resolved


@contextmanager
def staged_output(out_dir: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``out_dir`` to write into; moved into ``out_dir`` on success.

    On an exception the temporary folder is removed and ``out_dir`` is untouched.
    """
    target = check_output_folder(out_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        )
    except OSError as error:
        raise OutputError(f"--out {out_dir}: cannot write here ({error.strerror})") from None
    try:
        try:
            yield stage
        except OSError as error:
            raise OutputError(
                f"--out {out_dir}: writing the outputs failed, nothing was changed "
                f"({error.strerror or error})"
            ) from error
        _move_into_place(stage, target, out_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _move_into_place(stage: Path, target: Path, shown: str | Path) -> None:
    """Swap ``stage``'s entries into ``target``; on failure put the old entries back."""
    entries = sorted(stage.iterdir())
    try:
        target.mkdir(exist_ok=True)
        old = Path(tempfile.mkdtemp(prefix=".replaced.", dir=stage))
    except OSError as error:
        raise OutputError(f"--out {shown}: cannot write here ({error.strerror})") from None
    moved: list[tuple[Path, Path | None]] = []
    try:
        for entry in entries:
            destination = target / entry.name
            kept = None
            if destination.exists() or destination.is_symlink():
                kept = old / entry.name
                os.replace(destination, kept)
            moved.append((destination, kept))
            os.replace(entry, destination)
    except OSError as error:
        for destination, kept in reversed(moved):
            if destination.is_dir() and not destination.is_symlink():
                shutil.rmtree(destination, ignore_errors=True)
            else:
                destination.unlink(missing_ok=True)
            if kept is not None:
                os.replace(kept, destination)
        raise OutputError(
            f"--out {shown}: moving the outputs into place failed, nothing was changed "
            f"({error.strerror or error})"
        ) from error
