"""Odd numbers in requests get a clear 4xx, never a 500: ids beyond 64 bits (SQLite cannot bind them)
and digits of other scripts (``²``, ``٣``) that Python's ``int()`` or ``str.isdigit()`` let through,
in every route's path and in the numbers staff type into the HTML forms (api/ids.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.api.conftest import make_client, staff_headers
from tests.api.workflow_helpers import routed_suggestion

HOSTILE = [str(2**64), str(2**70), "²", "٣", "1²"]
_PARAM = re.compile(r"\{([^}]+)\}")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("ids"), weights_cache, worker_enabled=False) as c:
        yield c


@pytest.fixture(scope="module")
def admin(app: TestClient) -> dict[str, str]:
    return staff_headers(app, "admin")


def _routes(app: TestClient) -> list[tuple[str, str]]:
    found = []
    for ctx in iter_route_contexts(app.app.routes):  # type: ignore[attr-defined]
        if isinstance(ctx.original_route, APIRoute) and ctx.path and "{" in ctx.path:
            found += [(m, ctx.path) for m in sorted(ctx.methods or ()) if m != "HEAD"]
    return found


def test_every_path_parameter_refuses_absurd_numbers_plainly(app: TestClient, admin: dict[str, str]) -> None:
    routes = _routes(app)
    assert ("POST", "/staff/appointments/items/{item_id}/rating") in routes  # pages are walked too
    refused = 0
    for method, path in routes:
        names = _PARAM.findall(path)
        for name in names:
            for value in HOSTILE:
                url = path
                for other in names:
                    url = url.replace(f"{{{other}}}", value if other == name else "1")
                response = app.request(method, url, headers=admin, follow_redirects=False)
                assert 400 <= response.status_code < 500, (method, url, response.status_code, response.text)
                refused += 1
    assert refused > 200


@pytest.fixture(scope="module")
def targets(app: TestClient, admin: dict[str, str]) -> dict[str, int]:
    """An invitation, a planned session and a routed suggestion to aim the forms at."""
    request = app.post("/api/v1/appointments", json={"title": "t", "mode": "invitation"}, headers=admin)
    [meeting] = app.post(
        "/api/v1/appointments/sessions/plan", json={"first": "2097-01-01", "count": 1}, headers=admin
    ).json()
    suggestion, _ = routed_suggestion(app)
    return {"request": request.json()["id"], "session": meeting["id"], "suggestion": suggestion}


# (url template, form field, other fields, words the refusal must contain)
FORM_NUMBERS: list[tuple[str, str, dict[str, str], str]] = [
    ("/staff/suggestions/{suggestion}/dispatch", "deputy_id", {}, "deputy number"),
    ("/staff/appointments/items/1/rating", "score", {}, "rating must be a whole number from 1 to 5"),
    ("/staff/appointments/sessions/plan", "count", {"first": "2099-01-01"}, "number of sessions"),
    (
        "/staff/appointments/sessions/{session}/items",
        "days",
        {"title": "t", "actions": "a"},
        "number of days",
    ),
    ("/staff/appointments/sessions/{session}/items", "request_id", {"title": "t", "actions": "a"}, "topic"),
    ("/staff/appointments/{request}/schedule", "session_id", {}, "session"),
    ("/staff/appointments/raise", "suggestion_ids", {"title": "t"}, "separated by commas"),
    ("/staff/appointments/raise", "theme_ids", {"title": "t"}, "separated by commas"),
    ("/staff/admin/deadlines", "days_transport", {}, "deadline for Transport"),
    ("/staff/themes/1/merge", "theme_ids", {}, "separated by commas"),
    ("/staff/themes/1/split", "suggestion_ids", {}, "separated by commas"),
]


@pytest.mark.parametrize(("url", "field", "others", "words"), FORM_NUMBERS, ids=[f[1] for f in FORM_NUMBERS])
@pytest.mark.parametrize("value", HOSTILE)
def test_form_numbers_in_other_scripts_or_beyond_range_are_refused_plainly(
    app: TestClient,
    admin: dict[str, str],
    targets: dict[str, int],
    url: str,
    field: str,
    others: dict[str, str],
    words: str,
    value: str,
) -> None:
    target = url.format(**targets)
    response = app.post(
        target + ("&" if "?" in target else "?") + "lang=en",  # the words below are the English page's
        data={**others, field: value},
        headers={**admin, "accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 422, (target, field, value, response.status_code, response.text[:300])
    assert words in response.text


def test_full_width_digits_from_a_chinese_input_method_are_read(
    app: TestClient, admin: dict[str, str]
) -> None:
    # The township's staff type with a Chinese input method, which may give full-width digits.
    planned = app.post(
        "/staff/appointments/sessions/plan",
        data={"first": "2098-01-01", "count": "２"},
        headers=admin,
        follow_redirects=False,
    )
    assert planned.status_code == 303, planned.text
    sessions = app.get("/api/v1/appointments/sessions", headers=admin).json()
    assert len([s for s in sessions if s["scheduled_for"][:4] == "2098"]) == 2
