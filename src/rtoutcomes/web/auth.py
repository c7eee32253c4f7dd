"""Users, passwords and sessions of the web app.

Users file: one user per line, ``name:role:hash`` (``#`` starts a comment), the hash being
``scrypt$n$r$p$salt_hex$key_hex`` (salted, memory-hard: hashlib's scrypt). Roles, each including
the one before: ``viewer`` (read every page, run studies), ``editor`` (add and correct records,
import), ``admin`` (freeze, verify). ``add_user`` writes the file; passwords are never stored.

Sessions live in the server's memory (a random 256-bit id in an HttpOnly, SameSite=Strict
cookie): a restart logs everyone out. Every session, even before log-in, carries its own CSRF
token, which every form posts back (``check_csrf``); the id changes at log-in (no fixation).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rtoutcomes.errors import RtOutcomesError

ROLES = ("viewer", "editor", "admin")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SESSION_COOKIE = "rtoutcomes_session"
SESSION_SECONDS = 12 * 3600
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class UsersFileError(RtOutcomesError):
    """The users file cannot be read or breaks its format."""

    exit_code = 2


@dataclass(frozen=True)
class User:
    """A person who may log in; ``role`` is one of ``ROLES``."""

    name: str
    role: str
    password_hash: str = field(repr=False, default="")

    def may(self, role: str) -> bool:
        """Whether this user has ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A salted scrypt hash of ``password`` in the users file's format."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison of the keys)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(key)
        found = hashlib.scrypt(
            password.encode("utf-8"),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(found, expected)


def load_users(path: str | Path) -> dict[str, User]:
    """The users of ``path`` by name; a malformed line is an error naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsersFileError(f"{path}: cannot read the users file ({error})") from None
    users: dict[str, User] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) != 3 or not parts[2].startswith("scrypt$"):
            raise UsersFileError(f"{path}, line {number}: expected name:role:scrypt$... ")
        name, role, stored = parts
        if not _NAME.match(name):
            raise UsersFileError(
                f"{path}, line {number}: user name {name!r} is not allowed "
                "(letters, digits, _ . @ -)"
            )
        if role not in ROLES:
            raise UsersFileError(
                f"{path}, line {number}: role {role!r} is not one of {', '.join(ROLES)}"
            )
        if name in users:
            raise UsersFileError(f"{path}, line {number}: user {name!r} appears twice")
        users[name] = User(name, role, stored)
    return users


def add_user(path: str | Path, name: str, role: str, password: str) -> None:
    """Add ``name`` with ``role`` to the users file ``path`` (created if missing), or replace
    that user's role and password."""
    if not _NAME.match(name):
        raise UsersFileError(f"user name {name!r} is not allowed (letters, digits, _ . @ -)")
    if role not in ROLES:
        raise UsersFileError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise UsersFileError("the password must have at least 8 characters")
    path = Path(path)
    users = load_users(path) if path.exists() else {}
    users[name] = User(name, role, hash_password(password))
    lines = ["# rtoutcomes serve users: name:role:scrypt hash (rtoutcomes adduser)"]
    lines += [f"{u.name}:{u.role}:{u.password_hash}" for u in users.values()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


@dataclass
class Session:
    """One browser's session: its CSRF token and, once logged in, its user."""

    csrf: str
    user: User | None = None
    created: float = field(default_factory=time.monotonic)


class Sessions:
    """The server's sessions by id (thread-safe; expired ones are dropped on access)."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            found = self._sessions.get(session_id)
            if found is not None and time.monotonic() - found.created > SESSION_SECONDS:
                del self._sessions[session_id]
                return None
            return found

    def new(self, user: User | None = None) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(32)
        session = Session(csrf=secrets.token_urlsafe(32), user=user)
        with self._lock:
            self._sessions[session_id] = session
        return session_id, session

    def drop(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)


def check_csrf(session: Session | None, posted: object) -> bool:
    """Whether the form's ``csrf_token`` is this session's (constant-time)."""
    if session is None or not isinstance(posted, str) or not posted:
        return False
    return hmac.compare_digest(session.csrf.encode(), posted.encode())
