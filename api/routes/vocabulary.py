"""The township vocabulary: the admin's page and JSON endpoints to see, add, enable and disable the
words speech recognition is told to expect (models.township)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import SessionDep
from api.ids import PathId
from api.staff import AdminDep, ClockDep
from api.vocabulary_schemas import TermIn, TermOut
from api.web.done import redirect_done
from api.web.templating import render
from models.township import queries as township
from models.township.tables import MAX_TERM_CHARS, SOURCE_NAMES, Term

router = APIRouter()
PAGE = "/staff/admin/vocabulary"


def term_out(term: Term) -> TermOut:
    """The API shape of a term."""
    return TermOut(
        id=term.id,
        text=term.text,
        source=term.source,
        count=term.count,
        enabled=term.enabled,
        created_at=term.created_at,
    )


@router.get(PAGE, response_class=HTMLResponse, include_in_schema=False)
def vocabulary_page(request: Request, session: SessionDep, actor: AdminDep, clock: ClockDep) -> HTMLResponse:
    """Every term with its source and count; the directory's new village and department names are
    added first."""
    township.sync_directory(session, clock())
    return render(
        request,
        "staff_vocabulary.html",
        {
            "terms": township.terms(session),
            "source_names": SOURCE_NAMES,
            "hint": township.recognition_hint(session),
            "max_chars": MAX_TERM_CHARS,
            "actor": actor,
        },
    )


@router.post(PAGE, include_in_schema=False)
def add_term_form(
    session: SessionDep, actor: AdminDep, clock: ClockDep, text: Annotated[str, Form()]
) -> RedirectResponse:
    """Add a term (or enable a disabled one)."""
    township.add_term(session, text, clock())
    return redirect_done(PAGE, "vocabulary")


@router.post(PAGE + "/{term_id}/enabled", include_in_schema=False)
def enable_term_form(
    term_id: PathId,
    session: SessionDep,
    actor: AdminDep,
    clock: ClockDep,
    enabled: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    """Enable (``enabled=1``) or disable (no value) a term."""
    township.set_enabled(session, term_id, bool(enabled), clock())
    return redirect_done(PAGE, "vocabulary")


@router.get("/api/v1/admin/vocabulary", response_model=list[TermOut], tags=["admin"])
def list_terms(session: SessionDep, actor: AdminDep, clock: ClockDep) -> list[TermOut]:
    """Every term, enabled first, most often seen first (directory names added first)."""
    township.sync_directory(session, clock())
    return [term_out(t) for t in township.terms(session)]


@router.post("/api/v1/admin/vocabulary", response_model=TermOut, status_code=201, tags=["admin"])
def add_term(body: TermIn, session: SessionDep, actor: AdminDep, clock: ClockDep) -> TermOut:
    """Add a term, or enable a disabled one again (409 when it is already enabled)."""
    return term_out(township.add_term(session, body.text, clock()))


@router.delete("/api/v1/admin/vocabulary/{term_id}", response_model=TermOut, tags=["admin"])
def disable_term(term_id: PathId, session: SessionDep, actor: AdminDep, clock: ClockDep) -> TermOut:
    """Disable a term: recognition stops using it; it is kept (and never collected again)."""
    return term_out(township.set_enabled(session, term_id, False, clock()))
