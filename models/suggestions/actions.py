"""One way to take a staff action: ``perform`` checks the role and the holder from the action table
and runs the transition; ``available`` tells the pages and the API which actions a person may take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models.errors import InvalidInput
from models.suggestions import lifecycle, queries
from models.suggestions.action_table import ACTIONS, Action, role_may
from models.suggestions.lifecycle import Actor, NotPermitted
from models.suggestions.tables import ExtensionRequest, Suggestion


@dataclass(frozen=True)
class ActionInput:
    """What a person filled in for an action (each action reads the fields it needs)."""

    department_code: str | None = None
    deputy_id: int | None = None
    note: str | None = None
    result_note: str | None = None
    reason: str | None = None
    days: int | None = None


Outcome = Suggestion | ExtensionRequest | None
_Runner = Callable[[Session, int, str, datetime, ActionInput], Outcome]


def _days(given: ActionInput) -> int:
    if given.days is None:
        raise InvalidInput("Say how many more days are needed.")
    return given.days


_RUNNERS: dict[str, _Runner] = {
    "dispatch": lambda s, i, who, now, g: lifecycle.dispatch(
        s, i, actor=who, now=now, department_code=g.department_code, deputy_id=g.deputy_id, note=g.note
    ),
    "accept": lambda s, i, who, now, g: lifecycle.accept(s, i, actor=who, now=now),
    "start": lambda s, i, who, now, g: lifecycle.start(s, i, actor=who, now=now),
    "resolve": lambda s, i, who, now, g: lifecycle.resolve(
        s, i, actor=who, now=now, result_note=g.result_note
    ),
    "close": lambda s, i, who, now, g: lifecycle.close(s, i, actor=who, now=now),
    "return": lambda s, i, who, now, g: lifecycle.return_to_triage(s, i, actor=who, now=now, reason=g.reason),
    "extend": lambda s, i, who, now, g: lifecycle.request_extension(
        s, i, actor=who, now=now, days=_days(g), reason=g.reason
    ),
    "chase": lambda s, i, who, now, g: lifecycle.chase(s, i, actor=who, now=now, note=g.note),
    "approve_extension": lambda s, i, who, now, g: lifecycle.decide_extension(
        s, i, actor=who, now=now, approve=True, note=g.note
    ),
    "reject_extension": lambda s, i, who, now, g: lifecycle.decide_extension(
        s, i, actor=who, now=now, approve=False, note=g.note
    ),
}
assert set(_RUNNERS) == set(ACTIONS), "every action in the table has exactly one runner"


def _check_role(action: Action, actor: Actor) -> None:
    if not role_may(action, actor.roles):
        raise NotPermitted(
            "%(username)s may not %(replace)s: it needs another role.",
            username=actor.username,
            replace=action.name.replace("_", " "),
        )


def perform(
    session: Session,
    name: str,
    target_id: int,
    *,
    actor: Actor,
    now: datetime,
    given: ActionInput | None = None,
) -> Outcome:
    """Take action ``name`` on a suggestion (or, for extension decisions, an extension request).

    The role, then the holder, then the state are checked, in that order; nothing is committed.
    """
    action = ACTIONS[name]
    _check_role(action, actor)
    if action.holder_only:
        lifecycle.check_may_handle(session, queries.get_suggestion(session, target_id), actor)
    return _RUNNERS[name](session, target_id, actor.username, now, given or ActionInput())


def available(session: Session, suggestion: Suggestion, actor: Actor, now: datetime) -> list[str]:
    """The actions on this suggestion that ``actor`` may take now, in the table's order.

    Extension decisions act on a request: ``may_decide_extensions`` answers for those.
    """
    holder: bool | None = None
    names = []
    for action in ACTIONS.values():
        if action.on != "suggestion" or suggestion.status not in action.sources:
            continue
        if not role_may(action, actor.roles):
            continue
        if action.overdue_only and (suggestion.due_at is None or suggestion.due_at >= now):
            continue
        if action.holder_only:
            if holder is None:
                holder = lifecycle.holds(session, suggestion, actor)
            if not holder:
                continue
        names.append(action.name)
    return names


def may_decide_extensions(actor: Actor) -> bool:
    """Whether ``actor`` may approve or reject extension requests."""
    return role_may(ACTIONS["approve_extension"], actor.roles) and role_may(
        ACTIONS["reject_extension"], actor.roles
    )
