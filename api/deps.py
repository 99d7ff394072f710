"""FastAPI dependencies: the process context and a read session per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.context import AppContext
from models.db import unit_of_work


async def get_context(request: Request) -> AppContext:
    """The AppContext built at start-up."""
    context: AppContext = request.app.state.context
    return context


def get_session(context: Annotated[AppContext, Depends(get_context)]) -> Iterator[Session]:
    """A session for the request, committed by the unit of work when the handler succeeds."""
    with unit_of_work(context.factory) as session:
        yield session


ContextDep = Annotated[AppContext, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session)]
