"""Who may see a villager's contact details: name, phone, address and coordinates.

The township office (administrators, and reviewers: the clerks who triage and dispatch) sees them
on every suggestion. A department handler or a deputy sees them only on the suggestions they hold
(the rule of ``lifecycle.check_may_handle``: the holding department's handlers, or the deputy it was
dispatched to point-to-point), so nobody reads the phone numbers of another department's villagers.
Lists of many suggestions (theme members, the suggestions export) carry addresses for the office only.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from models.suggestions import lifecycle
from models.suggestions.lifecycle import Actor, NotPermitted
from models.suggestions.tables import Suggestion

#: Roles that see every suggestion's contact details (role names as in api.accounts).
OFFICE_ROLES = frozenset({"admin", "reviewer"})


def sees_every_contact(actor: Actor) -> bool:
    """Whether ``actor`` is the township office, so lists and exports may carry addresses."""
    return bool(OFFICE_ROLES.intersection(actor.roles))


def may_see_contact(session: Session, suggestion: Suggestion, actor: Actor) -> bool:
    """Whether ``actor`` may see the contact details of ``suggestion``."""
    if sees_every_contact(actor):
        return True
    try:
        lifecycle.check_may_handle(session, suggestion, actor)
    except NotPermitted:
        return False
    return True
