"""Staff sign-in: sessions, CSRF, API tokens and role checks, through the real pages and endpoints."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import accounts
from api.auth import CSRF_COOKIE, SESSION_COOKIE
from api.context import AppContext
from models.db import unit_of_work, utcnow
from models.errors import InvalidInput
from models.staff import queries as staff_queries
from models.staff.tables import StaffSession
from tests.api.conftest import create_staff, csrf_of, login, make_client, staff_headers, staff_login
from tests.databases import fresh_database_url

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("auth"), weights_cache, worker_enabled=False) as c:
        yield c


@pytest.fixture()
def browser(app_client: TestClient) -> Iterator[TestClient]:
    """A client with its own cookie jar on the shared app (one 'browser' per test)."""
    app_client.cookies.clear()
    yield app_client
    app_client.cookies.clear()


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _account(
    client: TestClient, username: str, password: str, *roles: str, department: str | None = None
) -> accounts.Staff:
    with unit_of_work(_context(client).factory) as session:
        return accounts.create_staff(
            session, username=username, password=password, roles=roles, department_code=department
        )


def _post_login(client: TestClient, username: str, password: str, next_: str = "/staff") -> object:
    token = csrf_of(client.get("/login", headers=HTML).text)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_},
        headers=HTML,
        follow_redirects=False,
    )


def test_login_shows_the_home_page_and_logout_revokes_the_session(browser: TestClient) -> None:
    _account(browser, "clerk.li", "correct horse", "reviewer")
    response = _post_login(browser, "clerk.li", "correct horse")
    assert response.status_code == 303 and response.headers["location"] == "/staff"  # type: ignore[attr-defined]
    home = browser.get("/staff", headers=HTML)
    assert home.status_code == 200 and "clerk.li" in home.text
    csrf = csrf_of(home.text)
    stolen = browser.cookies.get(SESSION_COOKIE)
    assert stolen

    out = browser.post("/logout", data={"csrf_token": csrf}, headers=HTML, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    # The old cookie, replayed, no longer signs anyone in: the session row was revoked.
    browser.cookies.set(SESSION_COOKIE, stolen)
    again = browser.get("/staff", headers=HTML, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")
    assert browser.get("/api/v1/staff/me").status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_clear_refusal(browser: TestClient) -> None:
    _account(browser, "clerk.wang", "right password", "reviewer")
    for username, password in (("clerk.wang", "wrong password"), ("nobody", "right password")):
        response = _post_login(browser, username, password)
        assert response.status_code == 401  # type: ignore[attr-defined]
        assert "Wrong username or password" in response.text or "用户名" in response.text  # type: ignore[attr-defined]
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")  # type: ignore[attr-defined]
    assert browser.get("/staff", headers=HTML, follow_redirects=False).status_code == 303


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(browser: TestClient) -> None:
    staff = _account(browser, "clerk.zhao", "zhao password", "handler", department="power_station")
    login(browser, "clerk.zhao", "zhao password")
    assert browser.get("/api/v1/staff/me").json()["username"] == "clerk.zhao"
    with unit_of_work(_context(browser).factory) as session:
        accounts.update_staff(
            session,
            staff.id,
            display_name="Zhao",
            roles=["handler"],
            department_code="power_station",
            active=False,
        )
    assert browser.get("/api/v1/staff/me").status_code == 401
    browser.cookies.clear()
    response = _post_login(browser, "clerk.zhao", "zhao password")
    assert response.status_code == 401 and "此账号已停用" in response.text  # type: ignore[attr-defined]


def test_the_login_form_is_refused_without_its_csrf_token(browser: TestClient) -> None:
    _account(browser, "clerk.qian", "qian password", "reviewer")
    browser.get("/login", headers=HTML)
    assert browser.cookies.get(CSRF_COOKIE)
    for token in ("", "forged-token-forged-token-forged-token-0000"):
        response = browser.post(
            "/login",
            data={"username": "clerk.qian", "password": "qian password", "csrf_token": token},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 403 and "请刷新页面后再试" in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_forms_of_a_signed_in_browser_need_the_csrf_token(browser: TestClient) -> None:
    csrf = staff_login(browser, "reviewer")
    refused = browser.post("/logout", headers=HTML, follow_redirects=False)
    assert refused.status_code == 403 and "请刷新页面后再试" in refused.text
    wrong = browser.post("/logout", data={"csrf_token": "x" * 43}, follow_redirects=False)
    assert wrong.status_code == 403 and wrong.json()["error"] == "CsrfRejected"
    assert browser.get("/api/v1/staff/me").status_code == 200  # still signed in
    by_header = browser.post("/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert by_header.status_code == 303


def test_a_bearer_token_works_until_it_is_revoked(app_client: TestClient) -> None:
    headers = staff_headers(app_client, "deputy")
    me = app_client.get("/api/v1/staff/me", headers=headers)
    assert me.status_code == 200 and me.json()["roles"] == ["deputy"]
    # Bearer requests need no CSRF token: a browser never adds this header by itself.
    with unit_of_work(_context(app_client).factory) as session:
        staff = accounts.token_identity(session, headers["Authorization"].split()[1])
        assert staff is not None
        from models.staff import queries as staff_queries

        (token_row,) = staff_queries.tokens_of(session, staff.id)
        assert token_row.token_hash != headers["Authorization"].split()[1]  # only the hash is stored
        accounts.revoke_api_token(session, token_row.id)
    refused = app_client.get("/api/v1/staff/me", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"] == "NotAuthenticated"
    assert "revoked" in refused.json()["detail"]
    assert (
        app_client.get("/api/v1/staff/me", headers={"Authorization": "Bearer msk_nonsense"}).status_code
        == 401
    )


def test_roles_are_checked_and_admins_pass_every_check(app_client: TestClient) -> None:
    admin = staff_headers(app_client, "admin")
    for role in ("reviewer", "handler", "deputy"):
        headers = staff_headers(app_client, role, "power_station" if role == "handler" else None)
        response = app_client.get("/staff/accounts", headers=headers)
        assert response.status_code == 403, role
        assert response.json()["error"] == "PermissionDenied" and "admin" in response.json()["detail"]
    assert app_client.get("/staff/accounts", headers=admin).status_code == 200


def test_anonymous_api_clients_get_401_and_browsers_go_to_the_login_page(browser: TestClient) -> None:
    api = browser.get("/api/v1/staff/me")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    assert api.json() == {
        "error": "NotAuthenticated",
        "detail": "Please sign in with a staff account first.",  # the test client asks for English
        "message_id": "Please sign in with a staff account first.",
        "params": {},
    }
    chinese = browser.get("/api/v1/staff/me", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert chinese.json()["detail"] == "请先用工作人员账号登录。"
    page = browser.get("/staff/accounts?lang=en", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fstaff%2Faccounts%3Flang%3Den"
    # A form posted after the session ended comes back to the staff home, not to a POST-only URL.
    posted = browser.post("/staff/accounts", data={"username": "x"}, headers=HTML, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/login?next=%2Fstaff"
    # After signing in the browser lands where it wanted to go, and only ever on this site.
    _account(browser, "admin.sun", "sun password", "admin")
    back = _post_login(browser, "admin.sun", "sun password", next_="/staff/accounts?lang=en")
    assert back.headers["location"] == "/staff/accounts?lang=en"  # type: ignore[attr-defined]
    browser.cookies.clear()
    away = _post_login(browser, "admin.sun", "sun password", next_="//evil.example/phish")
    assert away.headers["location"] == "/staff"  # type: ignore[attr-defined]


def test_cookies_are_httponly_lax_and_secure_except_on_loopback_http(browser: TestClient) -> None:
    _account(browser, "clerk.zhou", "zhou password", "reviewer")
    response = _post_login(browser, "clerk.zhou", "zhou password")
    cookie = response.headers["set-cookie"]  # type: ignore[attr-defined]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # http://127.0.0.1: a developer's machine
    public = browser.get("http://minsheng.example.org/login", headers=HTML)
    assert "Secure" in public.headers["set-cookie"] and "HttpOnly" in public.headers["set-cookie"]


def test_cookie_secure_setting_overrides_the_default(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(tmp_path, weights_cache, worker_enabled=False, cookie_secure=True) as c:
        assert "Secure" in c.get("/login", headers=HTML).headers["set-cookie"]


def test_sessions_expire(tmp_path: Path, weights_cache: Path) -> None:
    # Five seconds: long enough to sign in and read on a loaded machine, then wait out the rest.
    with make_client(tmp_path, weights_cache, worker_enabled=False, session_hours=5 / 3600) as c:
        staff_login(c, "reviewer")
        assert c.get("/api/v1/staff/me").status_code == 200
        with unit_of_work(_context(c).factory) as session:
            expires = session.scalars(select(StaffSession.expires_at)).one()
        time.sleep(max(0.0, (expires - utcnow()).total_seconds()) + 0.3)
        assert c.get("/api/v1/staff/me").status_code == 401


def test_every_page_carries_the_csrf_meta_tag(browser: TestClient) -> None:
    anonymous = csrf_of(browser.get("/login", headers=HTML).text)
    assert anonymous == browser.cookies.get(CSRF_COOKIE)
    assert csrf_of(browser.get("/no-such-page", headers=HTML).text) == anonymous
    signed_in = staff_login(browser, "deputy")
    assert signed_in != anonymous and len(signed_in) >= 40


def test_the_admin_page_manages_accounts_and_tokens(browser: TestClient) -> None:
    csrf = staff_login(browser, "admin")
    created = browser.post(
        "/staff/accounts",
        data={
            "csrf_token": csrf,
            "username": "handler.wu",
            "display_name": "吴师傅",
            "password": "wu password",
            "department_code": "transport_bureau",
            "roles": ["handler"],
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    page = browser.get("/staff/accounts", headers=HTML)
    assert "handler.wu" in page.text and "吴师傅" in page.text

    again = browser.post(
        "/staff/accounts",
        data={"csrf_token": csrf, "username": "handler.wu", "password": "another one", "roles": ["handler"]},
        headers=HTML,
    )
    assert again.status_code == 409 and "已有名为" in again.text
    short = browser.post(
        "/staff/accounts",
        data={"csrf_token": csrf, "username": "x.y", "password": "short", "roles": ["reviewer"]},
        headers=HTML,
    )
    assert short.status_code == 422 and "至少要 8 个字符" in short.text

    with unit_of_work(_context(browser).factory) as session:
        from models.staff import queries as staff_queries

        account = staff_queries.staff_by_username(session, "handler.wu")
        assert account is not None and account.department is not None
        assert account.department.code == "transport_bureau" and account.roles == {"handler"}
        assert account.password_hash.startswith("$argon2id$")
        staff_id = account.id

    made = browser.post(
        f"/staff/accounts/{staff_id}/tokens", data={"csrf_token": csrf, "name": "report script"}
    )
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    token = made.text.split('<code class="token">')[1].split("</code>")[0]
    assert token.startswith("msk_")
    me = browser.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["department_code"] == "transport_bureau"
    assert token not in browser.get("/staff/accounts", headers=HTML).text  # shown once only

    with unit_of_work(_context(browser).factory) as session:
        (row,) = staff_queries.tokens_of(session, staff_id)
    assert browser.post(f"/staff/tokens/{row.id}/revoke", data={"csrf_token": csrf}).status_code == 200
    assert browser.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    # Roles and state change through the same page; a disabled account's tokens stop working too.
    token2 = browser.post(f"/staff/accounts/{staff_id}/tokens", data={"csrf_token": csrf, "name": "n2"}).text
    token2 = token2.split('<code class="token">')[1].split("</code>")[0]
    changed = browser.post(
        f"/staff/accounts/{staff_id}",
        data={
            "csrf_token": csrf,
            "display_name": "吴师傅",
            "roles": ["handler", "deputy"],
            "department_code": "transport_bureau",
            "active": "",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert browser.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token2}"}).status_code == 401


def test_a_handler_account_needs_a_department(browser: TestClient) -> None:
    csrf = staff_login(browser, "admin")
    form = {"csrf_token": csrf, "username": "handler.qin", "password": "qin password", "roles": ["handler"]}
    refused = browser.post("/staff/accounts", data=form, headers=HTML)
    assert refused.status_code == 422 and "必须有所属部门" in refused.text
    made = browser.post(
        "/staff/accounts",
        data={**form, "department_code": "power_station"},
        headers=HTML,
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    with unit_of_work(_context(browser).factory) as session:
        account = staff_queries.staff_by_username(session, "handler.qin")
        assert account is not None
        staff_id = account.id
        with pytest.raises(InvalidInput, match="needs a department"):
            accounts.update_staff(
                session, staff_id, display_name="秦", roles=["handler"], department_code=None, active=True
            )
    with unit_of_work(_context(browser).factory) as session:  # the refused change left it as it was
        account = staff_queries.get_staff(session, staff_id)
        assert account.department is not None and account.department.code == "power_station"


def test_the_last_administrator_cannot_be_disabled(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(tmp_path, weights_cache, worker_enabled=False) as c:
        admin = _account(c, "only.admin", "admin password", "admin")
        csrf = login(c, "only.admin", "admin password")
        response = c.post(
            f"/staff/accounts/{admin.id}",
            data={"csrf_token": csrf, "display_name": "x", "roles": ["admin"], "active": ""},
            headers=HTML,
        )
        assert response.status_code == 422 and "最后一个在用的管理员账号" in response.text
        assert c.get("/api/v1/staff/me").json()["username"] == "only.admin"


def test_create_staff_helper_works_on_a_database_before_the_server_starts(
    tmp_path: Path, weights_cache: Path
) -> None:
    url = fresh_database_url()
    create_staff(url, "deputy.he", "he password", ["deputy"])
    with make_client(tmp_path / "var", weights_cache, database_url=url, worker_enabled=False) as c:
        login(c, "deputy.he", "he password")
        assert c.get("/api/v1/staff/me").json()["roles"] == ["deputy"]


def test_the_staff_read_of_a_suggestion_checks_credentials_in_its_own_transaction(
    browser: TestClient,
) -> None:
    """GET /api/v1/suggestions/{id} checks the token or session inside the read's unit of work
    (api.auth.staff_gate): the same answers as every other staff endpoint, and the token's use is
    recorded by the read's own commit."""
    suggestion = browser.post("/api/v1/suggestions", data={"text": "五星路又停满了车"}).json()
    path = f"/api/v1/suggestions/{suggestion['id']}"
    anonymous = browser.get(path)
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "Please sign in with a staff account first."
    assert browser.get(path, headers={"Authorization": "Bearer msk_nonsense"}).status_code == 401

    headers = staff_headers(browser, "handler", "power_station")
    token = headers["Authorization"].split()[1]
    read = browser.get(path, headers=headers)
    assert read.status_code == 200 and read.json()["tracking_code"] == suggestion["tracking_code"]
    from models.staff import queries as staff_queries

    with unit_of_work(_context(browser).factory) as session:
        found = staff_queries.live_api_token(session, accounts.sha256_hex(token))  # reads only
        assert found is not None
        assert found.last_used_at is not None  # written and committed by the read above
        accounts.revoke_api_token(session, found.credential_id)
    revoked = browser.get(path, headers=headers)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]

    staff_login(browser, "reviewer")  # a signed-in browser reads without a CSRF token (a GET)
    assert browser.get(path).status_code == 200
