"""Apps on a fresh database of the selected backend (tests.databases), with the real worker, Whisper
and the seed classifier; servers as subprocesses come from tests.server.

- ``make_client(data_dir, weights_cache, **settings)``: a TestClient over an in-process app, on a
  fresh database unless ``database_url=`` is given. ``client`` (module fixture) is one of them.
- ``wait_until_processed``: poll a suggestion until the worker is done with it.

Staff helpers for other tests: ``staff_headers`` (an API token for a new account with a role),
``staff_login`` (a TestClient signed in through the real /login form), ``create_staff`` (an
account in a data directory or database URL, e.g. for a server subprocess driven by a browser),
``create_staff_headers`` (the same, returning bearer headers) and ``reader_headers`` (a cached
reviewer token per TestClient, used by ``wait_until_processed``). Workflow tests act as staff
through ``staffing`` (module fixture) and ``staffed_client``.
"""

from __future__ import annotations

import re
import secrets
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api import accounts
from api.app import create_app
from api.context import AppContext
from api.settings import Settings
from models.db import make_session_factory, unit_of_work
from tests.api.workflow_helpers import Staffing
from tests.databases import fresh_database_url

FINAL = {"routed", "needs_review", "failed", "recorded"}
T = TypeVar("T")
TEST_SETTINGS: dict[str, Any] = {
    "job_retry_seconds": 0.05,
    "submit_rate_limit": 0,
    "track_rate_limit": 0,
    "login_rate_limit": 0,
    "login_account_rate_limit": 0,
    "open311_rate_limit": 0,
}
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def make_client(
    data_dir: Path, weights_cache: Path, database_url: str | None = None, **overrides: Any
) -> TestClient:
    """A TestClient over an app whose files live in ``data_dir``, on a fresh database by default.

    Rate limits are off unless a test turns them on (``submit_rate_limit=3`` etc.): every request
    of a TestClient comes from the same address. The base URL is plain http on loopback, where
    session cookies come without the Secure flag (as for a developer's browser), so the client's
    cookie jar sends them back. It asks for English (``Accept-Language: en``), the language the
    tests' expected error details are written in; pages stay Chinese unless ``?lang=en``.
    """
    settings = Settings(
        data_dir=data_dir,
        weights_cache=weights_cache,
        database_url=database_url or fresh_database_url(),
        **{**TEST_SETTINGS, **overrides},
    )
    # Error ``detail``s follow Accept-Language (Chinese by default): these tests read the English.
    return TestClient(create_app(settings), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    """A running app (worker on) shared by the tests of one module."""
    with make_client(tmp_path_factory.mktemp("var"), weights_cache) as c:
        yield c


@pytest.fixture(scope="module")
def staffing() -> Staffing:
    """Staff accounts and a movable clock for one module's ``staffed_client``."""
    return Staffing()


@contextmanager
def staffed_client(
    staffing: Staffing, data_dir: Path, weights_cache: Path, **overrides: Any
) -> Iterator[TestClient]:
    """``make_client`` whose staff requests go through ``staffing`` (tests.api.workflow_helpers)."""
    with make_client(data_dir, weights_cache, **overrides) as client:
        staffing.install(client)
        yield client


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def staff_headers(client: TestClient, role: str, department_code: str | None = None) -> dict[str, str]:
    """Bearer headers of a new staff account holding ``role`` (created with a hashed password)."""
    with unit_of_work(_context(client).factory) as session:
        staff = accounts.create_staff(
            session,
            username=f"{role}-{secrets.token_hex(4)}",
            password=secrets.token_urlsafe(12),
            roles=[role],
            department_code=department_code,
        )
        token = accounts.create_api_token(session, staff.id, "tests")
    return {"Authorization": f"Bearer {token}"}


def csrf_of(page_html: str) -> str:
    """The CSRF token a page carries in ``<meta name="csrf-token">``."""
    found = _CSRF_META.search(page_html)
    assert found, "the page has no csrf-token meta tag"
    return found.group(1)


def login(client: TestClient, username: str, password: str) -> str:
    """Sign ``client`` in through the /login form; returns the session's CSRF token for later forms."""
    form = client.get("/login", headers={"accept": "text/html"})
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text), "next": "/staff"},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/staff", headers={"accept": "text/html"})
    assert home.status_code == 200, home.text
    return csrf_of(home.text)


def staff_login(client: TestClient, role: str, department_code: str | None = None) -> str:
    """Create an account with ``role`` and sign ``client`` in as it; returns the CSRF token."""
    username, password = f"{role}-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    with unit_of_work(_context(client).factory) as session:
        accounts.create_staff(
            session, username=username, password=password, roles=[role], department_code=department_code
        )
    return login(client, username, password)


def _in_database(data_dir_or_db_url: Path | str, work: Callable[[Session], T]) -> T:
    target = str(data_dir_or_db_url)
    if "://" in target:
        url = target
    else:
        Path(target).mkdir(parents=True, exist_ok=True)
        url = Settings(data_dir=Path(target)).resolved_database_url
    engine = accounts.open_database(url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return work(session)
    finally:
        engine.dispose()


def create_staff(
    data_dir_or_db_url: Path | str,
    username: str,
    password: str,
    roles: Iterable[str],
    department_code: str | None = None,
) -> accounts.Staff:
    """Create an account in the database of a data directory (or at a database URL).

    Works before a server subprocess starts (the schema is created) and while it runs.
    """
    return _in_database(
        data_dir_or_db_url,
        lambda session: accounts.create_staff(
            session, username=username, password=password, roles=roles, department_code=department_code
        ),
    )


def create_staff_headers(
    data_dir_or_db_url: Path | str, role: str, department_code: str | None = None
) -> dict[str, str]:
    """``staff_headers`` for a server subprocess: a new account with ``role`` and its bearer header."""

    def work(session: Session) -> str:
        staff = accounts.create_staff(
            session,
            username=f"{role}-{secrets.token_hex(4)}",
            password=secrets.token_urlsafe(12),
            roles=[role],
            department_code=department_code,
        )
        return accounts.create_api_token(session, staff.id, "tests")

    return {"Authorization": f"Bearer {_in_database(data_dir_or_db_url, work)}"}


_READERS: weakref.WeakKeyDictionary[TestClient, dict[str, str]] = weakref.WeakKeyDictionary()


def reader_headers(client: TestClient) -> dict[str, str]:
    """Bearer headers of one reviewer account per client, to read suggestions back in tests."""
    if client not in _READERS:
        _READERS[client] = staff_headers(client, "reviewer")
    return _READERS[client]


def wait_until_processed(client: TestClient, suggestion_id: int, timeout: float = 90.0) -> dict[str, Any]:
    """Poll the suggestion until the worker has taken it as far as it goes."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(
            f"/api/v1/suggestions/{suggestion_id}", headers=reader_headers(client)
        ).json()
        if body["status"] in FINAL or time.monotonic() > deadline:
            return body
        time.sleep(0.2)
