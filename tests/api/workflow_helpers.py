"""Helpers for workflow API tests: a movable clock, acting as a given staff member, routed rows."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import accounts
from api.context import AppContext
from api.staff import get_clock
from models.db import unit_of_work
from models.directory import queries as directory
from models.suggestions import queries, rating
from models.vocabulary import Status

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Staffing:
    """Acts as real staff accounts (bearer API tokens through api.auth) on one TestClient.

    ``as_(username, *roles, department=...)`` creates the account the first time, then sends its
    token with every request of the block. The clock is the app's, replaced by a movable one.
    """

    clock: Clock = field(default_factory=Clock)
    client: TestClient | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    def install(self, client: TestClient) -> None:
        self.client = client
        app = client.app
        assert isinstance(app, FastAPI)
        app.dependency_overrides[get_clock] = lambda: self.clock

    def token(self, username: str, roles: tuple[str, ...], department: str | None) -> str:
        if username not in self.tokens:
            assert self.client is not None
            with unit_of_work(context_of(self.client).factory) as session:
                staff = accounts.create_staff(
                    session,
                    username=username,
                    password=secrets.token_urlsafe(12),
                    roles=roles,
                    department_code=department,
                )
                self.tokens[username] = accounts.create_api_token(session, staff.id, "tests")
        return self.tokens[username]

    @contextmanager
    def as_(self, username: str, *roles: str, department: str | None = None) -> Iterator[None]:
        assert self.client is not None
        self.client.headers["Authorization"] = f"Bearer {self.token(username, roles, department)}"
        try:
            yield
        finally:
            self.client.headers.pop("Authorization", None)

    def sign_out(self) -> None:
        if self.client is not None:
            self.client.headers.pop("Authorization", None)


ADMIN = ("boss", "admin")


def context_of(client: TestClient) -> AppContext:
    """The app's context (database factory etc.)."""
    app = client.app
    assert isinstance(app, FastAPI)
    context: AppContext = app.state.context
    return context


def routed_suggestion(
    client: TestClient,
    category: str = "power",
    village: str | None = None,
    text: str = "村口路灯坏了",
    submitted_at: datetime | None = None,
) -> tuple[int, str]:
    """Store a suggestion as the pipeline leaves it after routing; returns (id, tracking code).

    ``submitted_at`` backdates it (default: now), for tests whose reports cover a fixed period.
    """
    with unit_of_work(context_of(client).factory) as session:
        dept = directory.department_for(session, category, village)
        s = queries.create_suggestion(
            session,
            status=Status.ROUTED,
            actor="worker",
            channel="text",
            text=text,
            category=category,
            village=village,
            department_id=dept.id if dept else None,
            submitter_name="张三",
            submitter_phone="13800000000",
            address="河西村3组",
        )
        if submitted_at is not None:
            s.submitted_at = submitted_at
        return s.id, s.tracking_code


def villager_rating_key(client: TestClient, suggestion_id: int) -> str:
    """The rating key the villager's receipt would show for a ``routed_suggestion`` (which skips the
    intake desk): stored as the desk stores it, as a hash."""
    key = rating.new_rating_key()
    with unit_of_work(context_of(client).factory) as session:
        queries.get_suggestion(session, suggestion_id).rating_key_hash = rating.rating_key_hash(key)
    return key
