"""The action table drives the API and the pages alike: for every action and every kind of staff
member, the JSON route, the form route and the buttons on the suggestion's page agree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.db import unit_of_work
from models.suggestions import lifecycle
from models.suggestions.action_table import ACTIONS
from tests.api.conftest import staffed_client
from tests.api.workflow_helpers import T0, Staffing, context_of, routed_suggestion

# Who may look at the page and press: (username, roles, department).
PEOPLE: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "admin": ("boss", ("admin",), None),
    "holder": ("li", ("handler",), "power_station"),  # a handler of the department holding it
    "other_department": ("zhao", ("handler",), "transport_bureau"),
    "deputy": ("wang", ("deputy",), None),  # a deputy it was not dispatched to
    "reviewer": ("qian", ("reviewer",), None),
}

# What each kind of person may do, written out here (not read from the table) so a wrong table fails.
EXPECTED: dict[str, set[str]] = {
    "admin": set(ACTIONS),
    "holder": {"accept", "start", "resolve", "return", "extend"},
    "other_department": set(),
    "deputy": set(),
    "reviewer": set(),
}

# The steps (as the admin and the holding handler) that bring a routed power suggestion to the
# state each action starts from.
Setup = Callable[[Any, int], None]


def _dispatch(session: Any, sid: int) -> None:
    lifecycle.dispatch(session, sid, actor="boss", now=T0)


def _accept(session: Any, sid: int) -> None:
    _dispatch(session, sid)
    lifecycle.accept(session, sid, actor="li", now=T0)


def _start(session: Any, sid: int) -> None:
    _accept(session, sid)
    lifecycle.start(session, sid, actor="li", now=T0)


def _resolve(session: Any, sid: int) -> None:
    _start(session, sid)
    lifecycle.resolve(session, sid, actor="li", now=T0, result_note="已修好")


def _ask_for_time(session: Any, sid: int) -> None:
    _dispatch(session, sid)
    lifecycle.request_extension(session, sid, actor="li", now=T0, days=3, reason="等配件")


SETUP: dict[str, Setup] = {
    "dispatch": lambda session, sid: None,
    "accept": _dispatch,
    "start": _accept,
    "resolve": _start,
    "close": _resolve,
    "return": _dispatch,
    "extend": _accept,
    "chase": _dispatch,  # and the clock past the deadline (power: 7 days)
    "approve_extension": _ask_for_time,
    "reject_extension": _ask_for_time,
}

JSON_BODY: dict[str, dict[str, Any] | None] = {
    "dispatch": {},
    "resolve": {"result_note": "已更换路灯"},
    "return": {"reason": "不归我们管"},
    "extend": {"days": 5, "reason": "等配件"},
    "chase": {},
    "approve_extension": {},
    "reject_extension": {},
}
FORM_BODY: dict[str, dict[str, str]] = {
    "resolve": {"result_note": "已更换路灯"},
    "return": {"reason": "不归我们管"},
    "extend": {"days": "5", "reason": "等配件"},
}
ROUTE_NAME = {"extend": "extensions", "approve_extension": "approve", "reject_extension": "reject"}


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, weights_cache: Path, staffing: Staffing
) -> Iterator[TestClient]:
    with staffed_client(staffing, tmp_path_factory.mktemp("var"), weights_cache, worker_enabled=False) as c:
        yield c


def _prepared(api: TestClient, staffing: Staffing, action: str) -> tuple[int, int | None]:
    """A power suggestion in the state ``action`` starts from: (suggestion id, extension id)."""
    sid, _ = routed_suggestion(api, category="power")
    with unit_of_work(context_of(api).factory) as session:
        SETUP[action](session, sid)
        pending = [r.id for r in lifecycle.extension_requests(session, sid) if r.state == "pending"]
    staffing.clock.now = T0 + (timedelta(days=8) if action == "chase" else timedelta(hours=1))
    return sid, (pending[0] if pending else None)


def _urls(action: str, sid: int, request_id: int | None) -> tuple[str, str]:
    name = ROUTE_NAME.get(action, action)
    if ACTIONS[action].on == "extension":
        return f"/api/v1/extensions/{request_id}/{name}", f"/staff/extensions/{request_id}/{name}"
    return f"/api/v1/suggestions/{sid}/{name}", f"/staff/suggestions/{sid}/{name}"


@pytest.mark.parametrize("person", sorted(PEOPLE))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_the_json_route_the_form_route_and_the_buttons_agree(
    api: TestClient, staffing: Staffing, action: str, person: str
) -> None:
    staffing.sign_out()
    username, roles, department = PEOPLE[person]
    # Two suggestions in the same state: one for the JSON route, one for the form route.
    (sid_json, rid_json), (sid_form, rid_form) = (_prepared(api, staffing, action) for _ in range(2))
    with staffing.as_(username, *roles, department=department):
        page = api.get(f"/staff/suggestions/{sid_form}")
        workflow = api.get(f"/api/v1/suggestions/{sid_json}/workflow").json()
        json_url, _ = _urls(action, sid_json, rid_json)
        _, form_url = _urls(action, sid_form, rid_form)
        by_json = api.post(json_url, json=JSON_BODY.get(action))
        by_form = api.post(form_url, data=FORM_BODY.get(action, {}), follow_redirects=False)
    assert page.status_code == 200
    button = f'action="{form_url}"' in page.text
    offered = action in workflow["your_actions"] if ACTIONS[action].on == "suggestion" else button
    expected = action in EXPECTED[person]
    assert (button, offered) == (expected, expected), (action, person)
    if expected:
        assert by_json.status_code in (200, 201), (action, person, by_json.text)
        assert by_form.status_code == 303, (action, person, by_form.text)
    else:
        assert by_json.status_code == 403, (action, person, by_json.text)
        assert by_form.status_code == 403, (action, person, by_form.text)


def test_an_action_the_state_does_not_allow_is_neither_offered_nor_taken(
    api: TestClient, staffing: Staffing
) -> None:
    staffing.sign_out()
    sid, _ = _prepared(api, staffing, "close")  # resolved: the holder has nothing left to do
    username, roles, department = PEOPLE["holder"]
    with staffing.as_(username, *roles, department=department):
        assert api.get(f"/api/v1/suggestions/{sid}/workflow").json()["your_actions"] == []
        page = api.get(f"/staff/suggestions/{sid}").text
        refused = api.post(f"/api/v1/suggestions/{sid}/start")
    assert f"/staff/suggestions/{sid}/start" not in page
    assert refused.status_code == 409 and refused.json()["error"] == "IllegalTransition"


def test_chase_is_offered_only_past_the_deadline(api: TestClient, staffing: Staffing) -> None:
    staffing.sign_out()
    sid, _ = _prepared(api, staffing, "accept")
    staffing.clock.now = T0 + timedelta(days=6)  # due after 7 days
    with staffing.as_("boss", "admin"):
        before = api.get(f"/api/v1/suggestions/{sid}/workflow").json()["your_actions"]
        staffing.clock.now = T0 + timedelta(days=7, minutes=1)
        after = api.get(f"/api/v1/suggestions/{sid}/workflow").json()["your_actions"]
    assert "chase" not in before and "chase" in after
