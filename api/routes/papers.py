"""The suggestion paper (建议书) of a theme: the editable draft page, the printable A4 page, the PDF
and .docx downloads, and the same draft as JSON.

Only the township office writes papers: reviewers (clerks) and admins (``ClerkDep``). The text is
generated from the theme (``models.papers``) until staff save their own; saving keeps it across
reloads until someone regenerates it. Files are rendered in the request (one paper is small).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ContextDep, SessionDep
from api.ids import PathId
from api.paper_files import paper_docx, paper_pdf, paragraphs
from api.paper_schemas import DepartmentHandlingOut, PaperFactsOut, PaperIn, PaperOut
from api.security_headers import user_content_headers
from api.staff import ClerkDep, ClockDep
from api.web.templating import page_language, render
from models.papers import compose, store
from models.papers.compose import HEADINGS, Draft

router = APIRouter(tags=["papers"])

OptionalText = Annotated[str | None, Form()]
Lang = Annotated[
    Literal["zh", "en"], Query(description="Language of generated text; a saved draft keeps its own.")
]
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _paper(
    session: SessionDep, context: ContextDep, clock: ClockDep, theme_id: int, lang: str
) -> store.Paper:
    return store.current_paper(
        session,
        theme_id,
        clock(),
        lang=lang,
        tz=context.settings.timezone,
        min_ratings=context.settings.report_min_ratings,
    )


def paper_out(paper: store.Paper) -> PaperOut:
    """The API shape of a paper."""
    f = paper.facts
    return PaperOut(
        theme_id=f.theme_id,
        lang=paper.lang,
        saved=paper.saved,
        updated_by=paper.updated_by,
        updated_at=paper.updated_at,
        title=paper.draft.title,
        background=paper.draft.background,
        quotes=paper.draft.quotes,
        handling=paper.draft.handling,
        proposal=paper.draft.proposal,
        facts=PaperFactsOut(
            suggestions=f.suggestions,
            villagers=f.villagers,
            villages=f.villages,
            months=f.months,
            first_on=f.first_on,
            last_on=f.last_on,
            statuses=f.statuses,
            done=f.done,
            open=f.open,
            departments=[DepartmentHandlingOut(**vars(d)) for d in f.departments],
            ratings=f.ratings,
            satisfaction_mean=f.satisfaction_mean,
        ),
    )


@router.get("/api/v1/themes/{theme_id}/paper", response_model=PaperOut)
def read_paper(
    theme_id: PathId,
    session: SessionDep,
    context: ContextDep,
    actor: ClerkDep,
    clock: ClockDep,
    lang: Lang = "zh",
) -> PaperOut:
    """A theme's suggestion paper: the saved text, or text generated now in ``lang``."""
    return paper_out(_paper(session, context, clock, theme_id, lang))


@router.put("/api/v1/themes/{theme_id}/paper", response_model=PaperOut)
def write_paper(
    theme_id: PathId,
    body: PaperIn,
    session: SessionDep,
    context: ContextDep,
    actor: ClerkDep,
    clock: ClockDep,
    lang: Lang = "zh",
) -> PaperOut:
    """Save staff's text of the paper (names, phone and ID numbers are replaced)."""
    draft = Draft(body.title, body.background, body.quotes, body.handling, body.proposal)
    store.save_draft(session, theme_id, draft, lang=lang, actor=actor.username, now=clock())
    return paper_out(_paper(session, context, clock, theme_id, lang))


@router.delete("/api/v1/themes/{theme_id}/paper", status_code=204)
def discard_paper(theme_id: PathId, session: SessionDep, actor: ClerkDep) -> Response:
    """Forget the saved text: the paper is generated afresh from the theme."""
    store.discard_draft(session, theme_id)
    return Response(status_code=204)


def _context(paper: store.Paper, lang: str) -> dict[str, object]:
    return {
        "p": paper,
        "d": paper.draft,
        "f": paper.facts,
        "h": {key: (en if lang == "en" else zh) for key, (zh, en) in HEADINGS.items()},
        "paper_h": {key: compose.heading(key, paper.lang) for key in HEADINGS},
        "paragraphs": paragraphs,
        "max_quotes": store.MAX_QUOTES,
        "limits": {
            "title": store.MAX_TITLE_CHARS,
            "text": store.MAX_TEXT_CHARS,
            "quote": store.MAX_QUOTE_CHARS,
        },
    }


@router.get("/staff/themes/{theme_id}/paper", response_class=HTMLResponse, include_in_schema=False)
def paper_page(
    theme_id: PathId,
    request: Request,
    session: SessionDep,
    context: ContextDep,
    actor: ClerkDep,
    clock: ClockDep,
    saved: str | None = None,
) -> HTMLResponse:
    """The editable draft: the generated (or saved) text in fields, with the figures beside it."""
    lang = page_language(request)
    paper = _paper(session, context, clock, theme_id, lang)
    return render(request, "staff_paper.html", {**_context(paper, lang), "just_saved": saved == "1"})


@router.post("/staff/themes/{theme_id}/paper", include_in_schema=False)
def save_paper_form(
    theme_id: PathId,
    request: Request,
    session: SessionDep,
    actor: ClerkDep,
    clock: ClockDep,
    title: OptionalText = None,
    background: OptionalText = None,
    quotes: Annotated[list[str] | None, Form()] = None,
    handling: OptionalText = None,
    proposal: OptionalText = None,
) -> RedirectResponse:
    """Save the edited draft and show it again."""
    draft = Draft(title or "", background or "", list(quotes or []), handling or "", proposal or "")
    store.save_draft(session, theme_id, draft, lang=page_language(request), actor=actor.username, now=clock())
    return RedirectResponse(f"/staff/themes/{theme_id}/paper?saved=1", status_code=303)


@router.post("/staff/themes/{theme_id}/paper/reset", include_in_schema=False)
def reset_paper_form(theme_id: PathId, session: SessionDep, actor: ClerkDep) -> RedirectResponse:
    """Forget the saved text and generate it again from the theme's current figures."""
    store.discard_draft(session, theme_id)
    return RedirectResponse(f"/staff/themes/{theme_id}/paper", status_code=303)


@router.get("/staff/themes/{theme_id}/paper/print", response_class=HTMLResponse, include_in_schema=False)
def paper_print_page(
    theme_id: PathId,
    request: Request,
    session: SessionDep,
    context: ContextDep,
    actor: ClerkDep,
    clock: ClockDep,
) -> HTMLResponse:
    """The paper as an A4 page to print (the browser's print dialog, or save as PDF)."""
    lang = page_language(request)
    paper = _paper(session, context, clock, theme_id, lang)
    return render(request, "staff_paper_print.html", _context(paper, lang))


@router.get("/staff/themes/{theme_id}/paper.pdf", include_in_schema=False)
def paper_pdf_file(
    theme_id: PathId,
    request: Request,
    session: SessionDep,
    context: ContextDep,
    actor: ClerkDep,
    clock: ClockDep,
) -> Response:
    """The paper as a PDF download."""
    paper = _paper(session, context, clock, theme_id, page_language(request))
    return Response(
        paper_pdf(paper),
        media_type="application/pdf",
        headers=user_content_headers(f"minsheng-paper-{theme_id}.pdf"),
    )


@router.get("/staff/themes/{theme_id}/paper.docx", include_in_schema=False)
def paper_docx_file(
    theme_id: PathId,
    request: Request,
    session: SessionDep,
    context: ContextDep,
    actor: ClerkDep,
    clock: ClockDep,
) -> Response:
    """The paper as a Word (.docx) download."""
    paper = _paper(session, context, clock, theme_id, page_language(request))
    return Response(
        paper_docx(paper),
        media_type=DOCX_TYPE,
        headers=user_content_headers(f"minsheng-paper-{theme_id}.docx"),
    )
