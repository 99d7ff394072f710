"""Who is acting: the staff dependencies of the workflow, board and admin endpoints.

Four fixed dependencies built on ``api.auth.require_roles`` (admins pass every check), each
returning the ``models.suggestions.lifecycle.Actor`` the domain functions take:
``admin_actor`` (dispatch, close, chase, extension decisions, departments, deputies, rules,
deadlines), ``clerk_actor`` (the township office: suggestion papers), ``handler_actor``
(department handlers and deputies: accept, start, resolve, return, extension requests; whether
they hold *this* suggestion is checked by ``lifecycle.check_may_handle``) and ``any_staff`` (the
board and read views).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends

from api.accounts import ADMIN, DEPUTY, HANDLER, REVIEWER, Staff
from api.auth import require_roles
from models.db import utcnow
from models.suggestions.action_table import ACTIONS
from models.suggestions.lifecycle import Actor, NotPermitted


def actor_of(staff: Staff) -> Actor:
    """The domain's view of a signed-in staff member."""
    return Actor(staff.username, tuple(sorted(staff.roles)), staff.department_code)


def admin_actor(staff: Annotated[Staff, Depends(require_roles(ADMIN))]) -> Actor:
    """An admin."""
    return actor_of(staff)


def handler_actor(staff: Annotated[Staff, Depends(require_roles(HANDLER, DEPUTY))]) -> Actor:
    """A department handler, a deputy, or an admin."""
    return actor_of(staff)


def clerk_actor(staff: Annotated[Staff, Depends(require_roles(REVIEWER))]) -> Actor:
    """A township clerk (the reviewer role: the office that triages, dispatches and reports) or an admin."""
    return actor_of(staff)


def any_staff(staff: Annotated[Staff, Depends(require_roles())]) -> Actor:
    """Any signed-in staff member."""
    return actor_of(staff)


def acting(name: str) -> Callable[..., Actor]:
    """A dependency admitting the roles that the action table gives action ``name``; the JSON and
    the form route of an action both use it, so they cannot disagree on who may."""
    gate = require_roles(*ACTIONS[name].roles)

    # The gate is a default, not an Annotated hint: hints are strings here, resolved in this module.
    def action_actor(staff: Staff = Depends(gate)) -> Actor:  # noqa: B008
        return actor_of(staff)

    return action_actor


def get_clock() -> Callable[[], datetime]:
    """The clock the workflow reads (tests replace it to move time)."""
    return utcnow


AdminDep = Annotated[Actor, Depends(admin_actor)]
HandlerDep = Annotated[Actor, Depends(handler_actor)]
ClerkDep = Annotated[Actor, Depends(clerk_actor)]
StaffDep = Annotated[Actor, Depends(any_staff)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]


CURATORS = ("admin", "reviewer")


def require_curator(actor: Actor) -> str:
    """The username of an admin or reviewer, else NotPermitted (403)."""
    if not set(CURATORS) & set(actor.roles):
        raise NotPermitted("Only an administrator or a reviewer may merge, split or promote themes.")
    return actor.username
