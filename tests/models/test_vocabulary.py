"""Statuses, channels and roles: every one has words in both languages, and the groups hold together."""

from __future__ import annotations

import re

import pytest

from models.suggestions.action_table import ACTIONS
from models.taxonomy import CATEGORIES
from models.vocabulary import (
    AWAITING_HANDLING,
    BEING_PROCESSED,
    CHANNEL_NAMES,
    DONE,
    IN_PROCESSING,
    NOT_YET_DISPATCHED,
    ON_THE_CLOCK,
    OPEN,
    PUBLIC_CHANNELS,
    ROLE_NAMES,
    ROUTED_OR_LATER,
    STATUS_NAMES,
    VILLAGER_NEXT_STEP,
    VILLAGER_STATUS_WORDS,
    Channel,
    Role,
    Status,
    status_name,
)

# Opens no database: runs in the SQLite pass only (see tests/conftest.py).
pytestmark = pytest.mark.database_free

HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _bilingual(zh: str, en: str) -> bool:
    return (
        bool(HAN.search(zh))
        and not LATIN_WORD.search(zh.replace("Open311", ""))
        and bool(LATIN_WORD.search(en))
    )


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_staff_and_villager_words_in_both_languages(status: Status) -> None:
    assert _bilingual(*STATUS_NAMES[status]), status
    assert _bilingual(*VILLAGER_STATUS_WORDS[status]), status
    assert _bilingual(*VILLAGER_NEXT_STEP[status]), status  # what happens next, on the tracking page


@pytest.mark.parametrize("category", CATEGORIES, ids=lambda c: c.code)
def test_every_category_and_its_department_have_words_in_both_languages(category: object) -> None:
    c = category
    assert _bilingual(c.zh, c.en) and _bilingual(c.department.zh, c.department.en)  # type: ignore[attr-defined]


def test_every_channel_role_and_action_has_words_in_both_languages() -> None:
    assert set(CHANNEL_NAMES) == set(Channel) and all(_bilingual(*w) for w in CHANNEL_NAMES.values())
    assert set(ROLE_NAMES) == set(Role) and all(_bilingual(*w) for w in ROLE_NAMES.values())
    assert all(_bilingual(*a.words) for a in ACTIONS.values())


def test_the_groups_follow_the_work() -> None:
    assert ON_THE_CLOCK == (Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS)
    assert DONE == (Status.RESOLVED, Status.CLOSED)
    assert set(AWAITING_HANDLING) == {Status.ROUTED, *ON_THE_CLOCK}
    assert set(OPEN) == {Status.CLASSIFIED, Status.NEEDS_REVIEW, Status.ROUTED, *ON_THE_CLOCK}
    assert set(ROUTED_OR_LATER) == {Status.ROUTED, *ON_THE_CLOCK, *DONE}
    assert not set(OPEN) & set(DONE) and not set(IN_PROCESSING) & set(OPEN)
    # The villager's page refreshes itself only while the machine works: never once a person has it.
    assert set(IN_PROCESSING) < set(BEING_PROCESSED) and not set(BEING_PROCESSED) & {
        *ROUTED_OR_LATER,
        Status.NEEDS_REVIEW,
        Status.FAILED,
    }
    assert not set(NOT_YET_DISPATCHED) & set(ON_THE_CLOCK)
    assert set(Channel) - set(PUBLIC_CHANNELS) == {Channel.APPOINTMENT, Channel.CONSULTATION}


def test_every_status_an_action_leads_to_or_starts_from_is_a_status() -> None:
    for action in ACTIONS.values():
        assert set(action.sources) <= set(Status) and (action.target is None or action.target in Status)
    # "returned" was listed as a status once but never set: a returned suggestion needs review again.
    assert ACTIONS["return"].target == Status.NEEDS_REVIEW and "returned" not in set(Status)


def test_status_name_reads_the_page_language_and_keeps_unknown_codes() -> None:
    assert (status_name("in_progress"), status_name("in_progress", "en")) == ("办理中", "In progress")
    assert status_name("something_new") == "something_new"


def test_every_event_kind_has_words_in_both_languages_and_no_other_can_be_stored() -> None:
    from models.suggestions.tables import Event
    from models.vocabulary import EVENT_NAMES, event_name

    for kind, (zh, en) in EVENT_NAMES.items():
        assert zh and en and zh != kind, kind
        assert event_name(kind) == zh and event_name(kind, "en") == en
    for action in ACTIONS.values():  # every staff action's event among them
        assert action.event in EVENT_NAMES, action.name
    with pytest.raises(ValueError, match="has no words"):
        Event(kind="teleported")


def test_record_fields_show_words_not_codes() -> None:
    from models.vocabulary import AUDIT_ACTION_NAMES, AUDIT_ENTITY_NAMES, FIELD_NAMES, record_fields

    for zh, en in [*FIELD_NAMES.values(), *AUDIT_ENTITY_NAMES.values(), *AUDIT_ACTION_NAMES.values()]:
        assert _bilingual(zh, en), (zh, en)
    detail = {
        "department": "power_station",
        "deputy": None,
        "due_at": "2026-12-09T08:00:00+00:00",
        "channel": "text",
        "category": "power",
        "returned_by": "li",
        "username": "wangjg",
        "active": True,
    }
    departments = {"power_station": ("供电所", "Power Supply Station")}
    assert record_fields(detail, "zh", departments) == [
        ("部门", "供电所"),
        ("办理期限", "2026-12-09"),
        ("渠道", "文字"),
        ("类别", "电力供应"),
        ("在任", "是"),
    ]
    assert record_fields(detail, "en", departments)[0] == ("Department", "Power Supply Station")
    assert record_fields(None) == []


def test_a_report_s_unclassified_count_has_a_name() -> None:
    from models.taxonomy import UNCLASSIFIED, category_name

    assert (category_name(UNCLASSIFIED), category_name(UNCLASSIFIED, "en")) == ("未分类", "Not classified")
