"""FastAPI dependencies: the process context and a read session per request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.context import AppContext
from models.db import unit_of_work


async def get_context(request: Request) -> AppContext:
    """The AppContext built at start-up."""
    context: AppContext = request.app.state.context
    return context


def get_session(context: Annotated[AppContext, Depends(get_context)]) -> Iterator[Session]:
    """A session for the request, committed by the unit of work when the handler succeeds.

    Used with ``scope="function"`` (SessionDep): the commit happens before the response is sent.
    FastAPI's default for a dependency with yield runs the code after the yield once the response
    has gone out, so a client could be told "stored" (or follow a redirect and read the old state)
    before the commit, which could still fail.
    """
    with unit_of_work(context.factory) as session:
        yield session


T = TypeVar("T")


async def in_unit_of_work(context: AppContext, work: Callable[[Session], T]) -> T:
    """Run ``work(session)`` in one unit of work on a worker thread, for the busiest read endpoints.

    A sync endpoint with SessionDep goes through the thread pool three times per request (opening
    the session, the endpoint, closing the session); this goes once. Server CPU per tracking
    look-up, measured with bench/load.py's read client (machine loaded, so compare as a ratio):
    2.3 ms before, 1.7 ms after (with the rate-limit dependency made async too).
    """

    def run() -> T:
        with unit_of_work(context.factory) as session:
            return work(session)

    return await run_in_threadpool(run)


ContextDep = Annotated[AppContext, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
