"""Staff pages for themes: the list with trends, one theme with its suggestions, and the curation forms.

Every form posts back here and redirects (303) to the page it came from; errors show as pages.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import SessionDep
from api.ids import PathId, form_ids
from api.staff import ClockDep, StaffDep, require_curator
from api.web.done import redirect_done
from api.web.templating import render
from classify.theme_jobs import request_recompute
from models.errors import N_
from models.staff import queries as staff_queries
from models.taxonomy import CATEGORIES
from models.themes import store as theme_store
from models.vocabulary import VILLAGER_STATUS_WORDS

router = APIRouter(prefix="/staff", include_in_schema=False)

OptionalText = Annotated[str | None, Form()]


def sparkline(values: list[int], width: int = 120, height: int = 28) -> str:
    """Points of an inline SVG polyline for a weekly trend (oldest left)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )


@router.get("/themes", response_class=HTMLResponse)
def themes_page(
    request: Request, session: SessionDep, actor: StaffDep, clock: ClockDep, category: str | None = None
) -> HTMLResponse:
    """Themes by category, largest first: count, villages, key phrases and an 8-week trend line."""
    summaries = theme_store.theme_summaries(session, clock(), category=category or None)
    topics = theme_store.topics(session)
    return render(
        request,
        "staff_themes.html",
        {
            "themes": summaries,
            "categories": CATEGORIES,
            "category": category,
            "sparkline": sparkline,
            "actor": actor,
            "may_curate": bool({"admin", "reviewer"} & set(actor.roles)),
            "topics": topics,
            "actor_names": staff_queries.display_names(session, (p.created_by for p in topics)),
        },
    )


@router.get("/themes/{theme_id}", response_class=HTMLResponse)
def theme_page(
    theme_id: PathId, request: Request, session: SessionDep, actor: StaffDep, clock: ClockDep
) -> HTMLResponse:
    """One theme: its suggestions (tick some to split them off), rename, merge and promote."""
    detail = theme_store.theme_detail(session, theme_id, clock())
    siblings = [
        t for t in theme_store.theme_summaries(session, clock(), category=detail.category) if t.id != theme_id
    ]
    return render(
        request,
        "staff_theme.html",
        {
            "t": detail,
            "siblings": siblings,
            "status_words": VILLAGER_STATUS_WORDS,
            "sparkline": sparkline,
            "actor": actor,
            "may_curate": bool({"admin", "reviewer"} & set(actor.roles)),
        },
    )


@router.post("/themes/recompute")
def recompute_form(session: SessionDep, actor: StaffDep) -> RedirectResponse:
    """Queue the background recompute."""
    request_recompute(session)
    return RedirectResponse("/staff/themes?queued=1", status_code=303)


@router.post("/themes/{theme_id}/rename")
def rename_form(
    theme_id: PathId, session: SessionDep, actor: StaffDep, clock: ClockDep, title: OptionalText = None
) -> RedirectResponse:
    """Rename."""
    theme_store.rename(session, theme_id, title or "", actor=actor.username, now=clock())
    return redirect_done(f"/staff/themes/{theme_id}", "renamed")


@router.post("/themes/{theme_id}/merge")
def merge_form(
    theme_id: PathId,
    session: SessionDep,
    actor: StaffDep,
    clock: ClockDep,
    theme_ids: Annotated[list[str] | None, Form()] = None,
) -> RedirectResponse:
    """Merge the ticked themes into this one."""
    theme_store.merge(
        session,
        theme_id,
        form_ids(theme_ids or [], N_("theme numbers")),
        actor=require_curator(actor),
        now=clock(),
    )
    return redirect_done(f"/staff/themes/{theme_id}", "merged")


@router.post("/themes/{theme_id}/split")
def split_form(
    theme_id: PathId,
    session: SessionDep,
    actor: StaffDep,
    clock: ClockDep,
    suggestion_ids: Annotated[list[str] | None, Form()] = None,
    title: OptionalText = None,
) -> RedirectResponse:
    """Split the ticked suggestions into a new theme and show it."""
    new = theme_store.split(
        session,
        theme_id,
        form_ids(suggestion_ids or [], N_("suggestion numbers")),
        title or "",
        actor=require_curator(actor),
        now=clock(),
    )
    return redirect_done(f"/staff/themes/{new.id}", "split")


@router.post("/themes/{theme_id}/promote")
def promote_form(
    theme_id: PathId,
    session: SessionDep,
    actor: StaffDep,
    clock: ClockDep,
    title: OptionalText = None,
    note: OptionalText = None,
) -> RedirectResponse:
    """Promote to a consultation topic (协商议题)."""
    theme_store.promote(session, theme_id, title or None, note, actor=require_curator(actor), now=clock())
    return redirect_done(f"/staff/themes/{theme_id}", "promoted")
