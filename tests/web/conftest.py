"""Fixtures of the web app's tests: registries, a users file, a live server, a real Chromium.

The server is the real thing: uvicorn serving ``create_app`` on a free loopback port in a
thread. Browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright's Python
package (``executable_path``: no browser download). Screenshots go to ``test-artefacts/web/``
in the repository (or ``$RTOUTCOMES_TEST_ARTEFACTS/web``).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web_helpers import PASSWORD, USERS

pytest.importorskip("starlette", reason="web extra not installed (pip install '.[web]')")
httpx = pytest.importorskip("httpx", reason="httpx not installed (test extra)")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rtoutcomes.demo import build_demo_registry

    folder = tmp_path_factory.mktemp("demo")
    build_demo_registry(folder)
    return folder / "registry.db"


@pytest.fixture
def demo_db(demo_db_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo registry (tests may change it)."""
    target = tmp_path / "registry.db"
    shutil.copyfile(demo_db_template, target)
    return target


@pytest.fixture(scope="session")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rtoutcomes.web.auth import add_user

    path = tmp_path_factory.mktemp("users") / "users.txt"
    for name, role in USERS.items():
        add_user(path, name, role, PASSWORD)
    return path


@dataclass
class LiveServer:
    url: str
    app: Any
    server: Any

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the background derivation and data-quality check have finished."""
        state = self.app.state.web
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if state.derived.tried and state.quality.report and not state.quality.checking:
                return
            time.sleep(0.05)
        raise AssertionError("the server's background work did not finish")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """``serve(db, users=None)``: a live server on a free loopback port, stopped afterwards."""
    import uvicorn

    from rtoutcomes.web import WebConfig, create_app
    from rtoutcomes.web.auth import load_users

    started: list[tuple[Any, threading.Thread]] = []

    def start(db: Path | str, users: Path | None = None) -> LiveServer:
        config = WebConfig(
            db=str(db),
            workdir=tmp_path / f"runs{len(started)}",
            users=load_users(users) if users else None,
            local_user="tester",
        )
        app = create_app(config)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        end = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < end, "the server did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        started.append((server, thread))
        return LiveServer(f"http://127.0.0.1:{port}", app, server)

    yield start
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (skipped without either)."""
    if CHROMIUM is None:
        pytest.skip("Chromium not installed (Debian package 'chromium')")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed (test extra)"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()
