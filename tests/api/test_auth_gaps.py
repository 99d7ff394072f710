"""Staff sign-in edges that tests/api/test_auth.py leaves open (issue 25's surviving mutants).

The session cookie's own flags off loopback, the loopback rule for plain http (``127.0.0.1``,
``localhost``), what logout's ``Set-Cookie`` says, CSRF tokens in multipart forms, and which
credential wins when a request carries two. All through HTTP, on the real app.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import accounts
from api.auth import CSRF_COOKIE, SESSION_COOKIE, require_roles
from api.context import AppContext
from models.db import unit_of_work
from tests.api.conftest import csrf_of, make_client, staff_headers

HTML = {"accept": "text/html"}
PUBLIC = "https://minsheng.example.org"


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    with make_client(
        tmp_path_factory.mktemp("auth-gaps"), weights_cache, worker_enabled=False, session_hours=2
    ) as c:
        yield c


@pytest.fixture()
def browser(app_client: TestClient) -> Iterator[TestClient]:
    """The shared app with an empty cookie jar (one 'browser' per test)."""
    app_client.cookies.clear()
    yield app_client
    app_client.cookies.clear()


def _account(client: TestClient, *roles: str) -> tuple[str, str]:
    username, password = f"staff-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    with unit_of_work(context.factory) as session:
        accounts.create_staff(session, username=username, password=password, roles=roles or ("reviewer",))
    return username, password


def _sign_in(client: TestClient, base: str, username: str, password: str) -> tuple[str, str]:
    """Sign in at ``base``; returns the session's Set-Cookie header and the signed-in page's CSRF token."""
    form = client.get(f"{base}/login", headers=HTML)
    response = client.post(
        f"{base}/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    (session_cookie,) = [
        c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
    ]
    home = client.get(f"{base}/staff", headers=HTML)
    assert home.status_code == 200
    return session_cookie, csrf_of(home.text)


def _attributes(set_cookie: str) -> set[str]:
    """The attributes of a Set-Cookie header, lower-cased, values kept (``max-age=0``, ``secure``)."""
    return {part.strip().lower() for part in set_cookie.split(";")[1:]}


def test_the_session_cookie_is_secure_httponly_lax_and_lasts_the_session_off_loopback(
    browser: TestClient,
) -> None:
    cookie, _ = _sign_in(browser, PUBLIC, *_account(browser))
    assert _attributes(cookie) >= {"secure", "httponly", "samesite=lax", "path=/", f"max-age={2 * 3600}"}
    assert browser.get(f"{PUBLIC}/api/v1/staff/me").status_code == 200


@pytest.mark.parametrize(
    ("base", "secure"),
    [
        ("http://127.0.0.1", False),
        ("http://localhost", False),
        ("http://LOCALHOST:8000", False),
        ("http://127.0.0.2", False),
        ("http://[::1]", False),
        ("http://minsheng.localhost", False),
        ("https://127.0.0.1", True),
        ("https://localhost", True),
        ("http://minsheng.example.org", True),
        ("http://10.0.0.5", True),
        ("http://localhost.example.org", True),
        ("http://128.0.0.1", True),
    ],
)
def test_cookies_are_secure_except_for_plain_http_on_a_loopback_host(
    browser: TestClient, base: str, secure: bool
) -> None:
    cookie = browser.get(f"{base}/login", headers=HTML).headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=")
    assert ("secure" in _attributes(cookie)) is secure


def test_a_developer_on_localhost_signs_in_without_secure_cookies(browser: TestClient) -> None:
    cookie, _ = _sign_in(browser, "http://localhost", *_account(browser))
    assert "secure" not in _attributes(cookie) and "httponly" in _attributes(cookie)
    assert browser.get("http://localhost/api/v1/staff/me").status_code == 200


def test_logout_tells_the_browser_to_forget_the_session_cookie(browser: TestClient) -> None:
    _, csrf = _sign_in(browser, PUBLIC, *_account(browser))
    out = browser.post(f"{PUBLIC}/logout", data={"csrf_token": csrf}, headers=HTML, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    (cleared,) = [c for c in out.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")]
    assert cleared.split(";")[0] in (f"{SESSION_COOKIE}=", f'{SESSION_COOKIE}=""')
    assert _attributes(cleared) >= {"max-age=0", "path=/", "secure", "httponly", "samesite=lax"}
    assert not browser.cookies.get(SESSION_COOKIE, domain="minsheng.example.org")
    assert browser.get(f"{PUBLIC}/api/v1/staff/me").status_code == 401


def test_a_multipart_form_from_a_signed_in_browser_needs_its_csrf_token(browser: TestClient) -> None:
    _, csrf = _sign_in(browser, "http://127.0.0.1", *_account(browser))
    upload = {"attachment": ("note.txt", b"hello", "text/plain")}
    refused = browser.post("/logout", data={"csrf_token": "x" * 43}, files=upload, follow_redirects=False)
    assert refused.status_code == 403 and refused.json()["error"] == "CsrfRejected"
    missing = browser.post("/logout", data={"other": "1"}, files=upload, follow_redirects=False)
    assert missing.status_code == 403
    assert browser.get("/api/v1/staff/me").status_code == 200  # still signed in
    accepted = browser.post("/logout", data={"csrf_token": csrf}, files=upload, follow_redirects=False)
    assert accepted.status_code == 303
    assert browser.get("/api/v1/staff/me").status_code == 401


def test_a_json_request_of_a_signed_in_browser_needs_the_csrf_header(browser: TestClient) -> None:
    _, csrf = _sign_in(browser, "http://127.0.0.1", *_account(browser))
    refused = browser.post("/logout", json={"csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 403 and refused.json()["error"] == "CsrfRejected"
    assert "Reload the page" in refused.json()["detail"]
    assert browser.post("/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False).status_code == 303


def test_a_bearer_token_wins_over_a_session_cookie_and_needs_no_csrf_token(browser: TestClient) -> None:
    username, password = _account(browser, "reviewer")
    _sign_in(browser, "http://127.0.0.1", username, password)
    deputy = staff_headers(browser, "deputy")
    me = browser.get("/api/v1/staff/me", headers=deputy)
    assert me.status_code == 200 and me.json()["roles"] == ["deputy"]
    assert (
        browser.get("/api/v1/staff/me", headers={"Authorization": "Basic abc"}).json()["username"] == username
    )
    lower = {"Authorization": "bearer " + deputy["Authorization"].split()[1]}
    assert browser.get("/api/v1/staff/me", headers=lower).json()["roles"] == ["deputy"]
    # A broken bearer header does not fall back to the cookie: the client meant the token.
    bad = browser.get("/api/v1/staff/me", headers={"Authorization": "Bearer msk_nonsense"})
    assert bad.status_code == 401 and "API token is not valid" in bad.json()["detail"]
    # A bearer request changing data needs no CSRF token, even with a session cookie beside it.
    assert browser.post("/logout", headers=deputy, follow_redirects=False).status_code == 303


def test_a_wrong_role_is_told_which_role_it_needs(browser: TestClient) -> None:
    refused = browser.get("/api/v1/admin/audit", headers=staff_headers(browser, "deputy"))
    assert refused.status_code == 403 and refused.json()["error"] == "PermissionDenied"
    detail = refused.json()["detail"]
    assert "roles: deputy" in detail and "it needs the role admin" in detail


def test_a_malformed_login_csrf_cookie_is_replaced(browser: TestClient) -> None:
    browser.cookies.set(CSRF_COOKIE, "short", domain="127.0.0.1")
    page = browser.get("/login", headers=HTML)
    fresh = browser.cookies.get(CSRF_COOKIE, domain="127.0.0.1")
    assert fresh and fresh != "short" and csrf_of(page.text) == fresh
    again = browser.get("/login", headers=HTML)  # a well-formed cookie is kept
    assert "set-cookie" not in again.headers and csrf_of(again.text) == fresh


def test_unknown_role_names_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        require_roles("superuser")


def test_the_busiest_staff_read_admits_staff_and_refuses_the_rest(browser: TestClient) -> None:
    reader = staff_headers(browser, "deputy")
    missing = browser.get("/api/v1/suggestions/987654", headers=reader)
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"  # admitted, then looked up
    assert browser.get("/api/v1/suggestions/987654").status_code == 401
    forged = browser.get("/api/v1/suggestions/987654", headers={"Authorization": "Bearer msk_forged"})
    assert forged.status_code == 401 and "API token is not valid" in forged.json()["detail"]


def test_the_sign_in_forms_csrf_cookie_is_httponly_lax_and_for_the_whole_site(browser: TestClient) -> None:
    """First visit on a page deep in the site: its form token's cookie must reach /login too (Path=/)."""
    page = browser.get(f"{PUBLIC}/staff/no/such/page", headers=HTML)
    (cookie,) = [c for c in page.headers.get_list("set-cookie") if c.startswith(f"{CSRF_COOKIE}=")]
    assert cookie.split(";")[0] == f"{CSRF_COOKIE}={csrf_of(page.text)}"
    assert _attributes(cookie) >= {"path=/", "httponly", "samesite=lax", "secure"}
