"""The workflow's action table: what each staff action needs and does, read by the domain, the API
and the pages alike (``actions.perform`` runs an action; the routes and buttons ask here)."""

from __future__ import annotations

from dataclasses import dataclass

from models.vocabulary import ON_THE_CLOCK, Role, Status


@dataclass(frozen=True)
class Action:
    """One staff action.

    ``sources``: the statuses it may start from (empty: any; the extension decisions act on a
    request, not a status). ``target``: the status it leads to (``None``: the status stays).
    ``roles``: who may (administrators always may). ``holder_only``: only the department or deputy
    holding the suggestion (or an administrator). ``overdue_only``: only past the deadline.
    ``required``: form fields that must not be blank. ``on``: what the id in its route names.
    """

    name: str
    sources: tuple[Status, ...]
    target: Status | None
    event: str
    past: str
    roles: tuple[Role, ...]
    words: tuple[str, str]
    holder_only: bool = False
    overdue_only: bool = False
    required: tuple[str, ...] = ()
    on: str = "suggestion"


_HOLDERS = (Role.HANDLER, Role.DEPUTY)
_ADMIN = (Role.ADMIN,)

#: Every staff action on a suggestion (and its extension requests), in the order the work goes.
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "dispatch",
            (Status.ROUTED, Status.DISPATCHED),
            Status.DISPATCHED,
            "dispatched",
            "dispatched",
            _ADMIN,
            ("交办", "Dispatch"),
        ),
        Action(
            "accept",
            (Status.DISPATCHED,),
            Status.ACCEPTED,
            "accepted",
            "accepted",
            _HOLDERS,
            ("签收", "Accept"),
            holder_only=True,
        ),
        Action(
            "start",
            (Status.ACCEPTED,),
            Status.IN_PROGRESS,
            "in_progress",
            "started",
            _HOLDERS,
            ("开始办理", "Start work"),
            holder_only=True,
        ),
        Action(
            "resolve",
            (Status.IN_PROGRESS,),
            Status.RESOLVED,
            "resolved",
            "resolved",
            _HOLDERS,
            ("办结", "Resolve"),
            holder_only=True,
            required=("result_note",),
        ),
        Action(
            "close",
            (Status.RESOLVED,),
            Status.CLOSED,
            "closed",
            "closed",
            _ADMIN,
            ("关闭", "Close"),
        ),
        Action(
            "return",
            (Status.ROUTED, *ON_THE_CLOCK),
            Status.NEEDS_REVIEW,
            "returned",
            "returned",
            _HOLDERS,
            ("退单", "Return"),
            holder_only=True,
            required=("reason",),
        ),
        Action(
            "extend",
            ON_THE_CLOCK,
            None,
            "extension_requested",
            "given more time",
            _HOLDERS,
            ("申请延期", "Request extension"),
            holder_only=True,
            required=("days", "reason"),
        ),
        Action(
            "chase",
            ON_THE_CLOCK,
            None,
            "chased",
            "chased",
            _ADMIN,
            ("催办", "Chase"),
            overdue_only=True,
        ),
        Action(
            "approve_extension",
            (),
            None,
            "extension_approved",
            "approved",
            _ADMIN,
            ("批准", "Approve"),
            on="extension",
        ),
        Action(
            "reject_extension",
            (),
            None,
            "extension_rejected",
            "rejected",
            _ADMIN,
            ("不批准", "Reject"),
            on="extension",
        ),
    )
}

#: The actions that move a suggestion from one status to another.
TRANSITIONS: dict[str, Action] = {name: a for name, a in ACTIONS.items() if a.target is not None}


def allowed_from(status: str) -> list[str]:
    """The transitions the table allows from ``status`` (whoever acts)."""
    return [name for name, a in TRANSITIONS.items() if status in a.sources]


def role_may(action: Action, roles: tuple[str, ...] | frozenset[str]) -> bool:
    """Whether an account with ``roles`` may take ``action`` on some suggestion."""
    return Role.ADMIN in roles or any(role in roles for role in action.roles)
