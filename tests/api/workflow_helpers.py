"""Helpers for workflow API tests: a movable clock, acting as a given staff member, routed rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from api.context import AppContext
from api.staff import admin_actor, any_staff, get_clock, handler_actor
from models import queries
from models.db import unit_of_work
from models.lifecycle import Actor
from models.tables import Status

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
    """Who the requests act as; the role checks mirror the auth layer's require_roles."""

    actor: Actor | None = None
    clock: Clock = field(default_factory=Clock)

    def _need(self, *roles: str) -> Actor:
        if self.actor is None:
            raise HTTPException(401, "Staff sign-in is required for this page.")
        if not set(roles) & set(self.actor.roles):
            raise HTTPException(403, "Your role may not do this.")
        return self.actor

    def install(self, app: FastAPI) -> None:
        app.dependency_overrides[admin_actor] = lambda: self._need("admin")
        app.dependency_overrides[handler_actor] = lambda: self._need("admin", "handler", "deputy")
        app.dependency_overrides[any_staff] = lambda: self._need("admin", "handler", "deputy", "reviewer")
        app.dependency_overrides[get_clock] = lambda: self.clock

    @contextmanager
    def as_(self, username: str, *roles: str, department: str | None = None) -> Iterator[None]:
        previous = self.actor
        self.actor = Actor(username, roles, department)
        try:
            yield
        finally:
            self.actor = previous


ADMIN = ("boss", "admin")


def context_of(client: TestClient) -> AppContext:
    """The app's context (database factory etc.)."""
    app = client.app
    assert isinstance(app, FastAPI)
    context: AppContext = app.state.context
    return context


def routed_suggestion(
    client: TestClient, category: str = "power", village: str | None = None, text: str = "村口路灯坏了"
) -> tuple[int, str]:
    """Store a suggestion as the pipeline leaves it after routing; returns (id, tracking code)."""
    with unit_of_work(context_of(client).factory) as session:
        dept = queries.department_for(session, category, village)
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
        return s.id, s.tracking_code
