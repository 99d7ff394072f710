"""Helpers of the villager's browser tests: the phone and desktop the pages are tried on, a server
without a worker (suggestions stay where a test puts them), and what its database holds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory, unit_of_work, utcnow
from models.directory import queries as directory
from models.suggestions import lifecycle, queries
from models.suggestions.tables import Suggestion
from models.vocabulary import Status
from tests.server import Server, start_server

#: A cheap phone (390×844, touch) and a laptop.
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
DEVICES = {"phone": PHONE, "desktop": DESKTOP}
CODE = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$")
RECEIPT_URL = re.compile(r"/receipt/([A-Z0-9]{4}-[A-Z0-9]{4})/([A-Za-z0-9_-]{22})(\?lang=(zh|en))?$")
HAN = re.compile(r"[\u4e00-\u9fff]")


def quiet_server(tmp: Path, weights_cache: Path) -> Iterator[Server]:
    """A real server with no worker: a suggestion stays 'received' until a test moves it."""
    server = start_server(tmp, weights_cache, env={"MINSHENG_WORKER_ENABLED": "false"})
    yield server
    server.stop()


def database(server: Server) -> Iterator[sessionmaker[Session]]:
    """The server's own database, to check what it stored."""
    engine = make_engine(server.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@dataclass
class Visit:
    """A page on a device, and every Content-Security-Policy complaint its console printed."""

    page: Page
    csp_violations: list[str]


def visit(browser: Browser, device: dict[str, Any], **context: Any) -> Visit:
    """A new browser context on ``device`` (extra context options allowed) and a page in it."""
    page = browser.new_context(**device, **context).new_page()
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return Visit(page, found)


def stored_with_text(db: sessionmaker[Session], text: str) -> list[Suggestion]:
    """The suggestions whose text is exactly ``text``."""
    with db() as session:
        return list(session.scalars(select(Suggestion).where(Suggestion.text == text)))


def count_suggestions(db: sessionmaker[Session]) -> int:
    with db() as session:
        return int(session.scalar(select(func.count()).select_from(Suggestion)) or 0)


def submit_by_api(server: Server, text: str) -> dict[str, Any]:
    """A typed suggestion through the public API: its receipt (tracking code, rating key)."""
    r = httpx.post(f"{server.url}/api/v1/suggestions", data={"text": text}, timeout=30)
    assert r.status_code == 202, r.text
    receipt: dict[str, Any] = r.json()
    return receipt


def route_to_power(db: sessionmaker[Session], code: str) -> int:
    """What the pipeline would do: the suggestion is routed to the power station."""
    with unit_of_work(db) as session:
        s = queries.get_by_tracking_code(session, code)
        dept = directory.department_for(session, "power", None)
        assert dept is not None
        s.category, s.department_id, s.status = "power", dept.id, Status.ROUTED
        return s.id


def handle_and_resolve(db: sessionmaker[Session], sid: int, note: str = "路灯已更换。") -> None:
    """Staff dispatch, accept, start and resolve it (their pages need a sign-in)."""
    with unit_of_work(db) as session:
        now = utcnow()
        for step in ("dispatch", "accept", "start"):
            getattr(lifecycle, step)(session, sid, actor="boss", now=now)
        lifecycle.resolve(session, sid, actor="boss", now=now + timedelta(minutes=1), result_note=note)
