"""Who is acting: staff dependencies for the workflow, board and admin endpoints.

Three fixed dependencies (so tests and the auth layer can swap them in one place):
``admin_actor`` (admins), ``handler_actor`` (department handlers, deputies, admins) and
``any_staff``. Each returns a ``models.lifecycle.Actor``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException

from models.db import utcnow
from models.lifecycle import Actor


def _no_login(*_: object) -> Actor:
    raise HTTPException(401, "Staff sign-in is required for this page.")


def admin_actor() -> Actor:
    """An admin (dispatch, extension approval, departments, deputies, rules, deadlines)."""
    return _no_login()


def handler_actor() -> Actor:
    """A handler of a department, a deputy, or an admin (accept, start, resolve, return, extend)."""
    return _no_login()


def any_staff() -> Actor:
    """Any signed-in staff member (the board)."""
    return _no_login()


def get_clock() -> Callable[[], datetime]:
    """The clock the workflow reads (tests replace it to move time)."""
    return utcnow


AdminDep = Annotated[Actor, Depends(admin_actor)]
HandlerDep = Annotated[Actor, Depends(handler_actor)]
StaffDep = Annotated[Actor, Depends(any_staff)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
