"""The secret key of de-identification: one file, shared by the registry's de-identified export
and the DICOM de-identification, so that both use the same secret.

A key file holds 64 hex digits (32 random bytes) and is readable by its owner only: every
command refuses a key file that group or others may read, and a key is never overwritten
(losing it means later exports no longer link to earlier ones).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from rtoutcomes.errors import RtOutcomesError

KEY_BYTES = 32


class KeyFileError(RtOutcomesError):
    """A key file that is missing, malformed or readable by others."""

    exit_code = 2


def init_key(path: str | Path) -> Path:
    """Write a new secret key to ``path``, readable by its owner only (0600); an existing file
    is never overwritten."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path}: already exists; a key is never overwritten") from None
    except OSError as error:
        raise KeyFileError(f"{path}: cannot create the key file: {error.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    os.chmod(path, 0o600)
    return path


def read_key(path: str | Path) -> bytes:
    """The secret key of ``path``; refused when the file is accessible by group or others."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KeyFileError(
            f"{path}: no such key file (make one with 'rtoutcomes init-key')"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise KeyFileError(f"{path}: cannot read the key file: {error}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path}: the key file is accessible by others (mode "
            f"{stat.S_IMODE(mode):04o}); make it private: chmod 600 {path}"
        )
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"{path}: not a key made by 'rtoutcomes init-key' ({2 * KEY_BYTES} hex digits)"
        )
    return key
