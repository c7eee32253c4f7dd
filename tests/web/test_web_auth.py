"""Security of the web app: users file, log-in, roles, CSRF, cookies, hosts, loopback."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from web_helpers import PASSWORD, csrf_of, login

from rtoutcomes.cli import main
from rtoutcomes.web.auth import (
    UsersFileError,
    add_user,
    hash_password,
    load_users,
    verify_password,
)


def test_password_hash_is_salted_scrypt_and_verifies() -> None:
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first.startswith("scrypt$16384$8$1$") and first != second  # a new salt each time
    assert verify_password("s3cret-pass", first)
    assert not verify_password("s3cret-pasS", first)  # control: one letter off fails
    assert not verify_password("s3cret-pass", first[:-2] + "00")  # a tampered hash fails
    assert not verify_password("anything", "plain-text-password")


def test_users_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "users.txt"
    add_user(path, "ann", "editor", "long enough")
    assert "long enough" not in path.read_text()
    assert load_users(path)["ann"].role == "editor"
    path.write_text(path.read_text() + "bob:superuser:scrypt$1$1$1$00$00\n")
    with pytest.raises(UsersFileError, match=r"line 3: role 'superuser'"):
        load_users(path)
    with pytest.raises(UsersFileError, match="at least 8"):
        add_user(path, "cy", "viewer", "short")


def test_non_loopback_host_needs_a_users_file(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--db", str(demo_db), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0 without --users" in err
    assert err.count("\n") == 1  # one line, no traceback


def test_login_roles_and_cookie(demo_db: Path, users_file: Path, serve) -> None:
    live = serve(demo_db, users_file)
    with httpx.Client(follow_redirects=False) as client:
        assert client.get(f"{live.url}/").headers["location"].startswith("/login")
        wrong = login(client, live.url, "alice", "wrong password")
        assert wrong.status_code == 401 and "wrong password" in wrong.text
        ok = login(client, live.url, "alice")
        assert ok.status_code == 303
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        page = client.get(f"{live.url}/")
        assert page.status_code == 200 and "alice (admin)" in page.text
        headers = page.headers
        assert "script-src" not in headers["content-security-policy"]  # no script at all
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"


def test_session_id_changes_at_login(demo_db: Path, users_file: Path, serve) -> None:
    live = serve(demo_db, users_file)
    with httpx.Client() as client:
        client.get(f"{live.url}/login")
        before = client.cookies.get("rtoutcomes_session")
        login(client, live.url, "vera")
        assert client.cookies.get("rtoutcomes_session") not in (None, before)


def test_form_without_csrf_token_is_refused(demo_db: Path, users_file: Path, serve) -> None:
    live = serve(demo_db, users_file)
    with httpx.Client() as client:
        login(client, live.url, "alice")
        page = client.get(f"{live.url}/studies")
        token = csrf_of(page.text)
        refused = client.post(f"{live.url}/studies", data={"source": "model"})
        assert refused.status_code == 403 and "security token" in refused.text
        forged = client.post(
            f"{live.url}/studies", data={"source": "model", "csrf_token": token[:-1] + "x"}
        )
        assert forged.status_code == 403
        assert live.app.state.web.runner.runs() == []  # nothing was started
        # Control: the same form with its token is accepted.
        accepted = client.post(f"{live.url}/studies", data={"source": "bogus", "csrf_token": token})
        assert accepted.status_code == 400 and "Unknown kind of study" in accepted.text


def test_login_form_needs_its_csrf_token(demo_db: Path, users_file: Path, serve) -> None:
    live = serve(demo_db, users_file)
    with httpx.Client() as client:
        client.get(f"{live.url}/login")
        refused = client.post(f"{live.url}/login", data={"username": "alice", "password": PASSWORD})
        assert refused.status_code == 403


def test_viewer_may_read_but_not_run_or_edit(demo_db: Path, users_file: Path, serve) -> None:
    live = serve(demo_db, users_file)
    with httpx.Client() as client:
        login(client, live.url, "vera")
        page = client.get(f"{live.url}/studies")
        assert page.status_code == 200 and 'id="run-model"' not in page.text
        refused = client.post(
            f"{live.url}/studies", data={"source": "model", "csrf_token": csrf_of(page.text)}
        )
        assert refused.status_code == 403 and "viewer" in refused.text
        assert live.app.state.web.runner.runs() == []


def test_foreign_host_header_is_refused(demo_db: Path, serve) -> None:
    """DNS rebinding: a page of another site resolving to 127.0.0.1 must not reach the app."""
    live = serve(demo_db)
    with httpx.Client() as client:
        assert client.get(f"{live.url}/", headers={"Host": "evil.example"}).status_code == 400
        assert client.get(f"{live.url}/").status_code == 200  # control: loopback host


def test_next_after_login_stays_on_site(demo_db: Path, users_file: Path, serve) -> None:
    live = serve(demo_db, users_file)
    with httpx.Client(follow_redirects=False) as client:
        page = client.get(f"{live.url}/login")
        response = client.post(
            f"{live.url}/login",
            data={
                "csrf_token": csrf_of(page.text),
                "username": "vera",
                "password": PASSWORD,
                "next": "//evil.example/",
            },
        )
        assert response.headers["location"] == "/"


WRITE_FORMS = {
    "/records/lesions/DEMO-L002/correct": {"size_cm": "9", "reason": "forged"},
    "/patients/DEMO-P002/add/assessments": {
        "assessment_id": "X1",
        "lesion_id": "DEMO-L002",
        "assessment_date": "2010-11-20",
        "modality": "CT",
    },
    "/history/freeze": {"label": "forged"},
    "/import/confirm": {"token": "x", "reason": "forged"},
    "/logout": {},
}


def _audit_entries(live) -> int:
    from rtoutcomes.web import queries

    with live.app.state.web.connect() as connection:
        return queries.audit_entries(connection, limit=1)[1]


@pytest.mark.parametrize("url", sorted(WRITE_FORMS))
def test_every_write_form_refuses_a_post_without_its_token(
    url: str, demo_db: Path, users_file: Path, serve
) -> None:
    live = serve(demo_db, users_file)
    before = _audit_entries(live)
    with httpx.Client() as client:
        login(client, live.url, "alice")
        refused = client.post(f"{live.url}{url}", data=WRITE_FORMS[url])
        assert refused.status_code == 403
        assert client.get(f"{live.url}/").status_code == 200  # still logged in
    assert _audit_entries(live) == before


def test_viewer_post_with_a_valid_token_is_refused_by_role(
    demo_db: Path, users_file: Path, serve
) -> None:
    live = serve(demo_db, users_file)
    before = _audit_entries(live)
    with httpx.Client() as client:
        login(client, live.url, "vera")
        token = csrf_of(client.get(f"{live.url}/records/lesions/DEMO-L002").text)
        for url, data in WRITE_FORMS.items():
            if url == "/logout":
                continue
            response = client.post(f"{live.url}{url}", data={**data, "csrf_token": token})
            assert response.status_code == 403, url
        assert client.get(f"{live.url}/patients/DEMO-P002/add/assessments").status_code == 403
    assert _audit_entries(live) == before
