"""The staff review pages: the queue with one-key decisions, the model's versions, one suggestion's history.

Server-rendered; on the queue page a little JavaScript (static/review.js) fetches the next item and
posts decisions through the JSON API, so a decision needs no page reload.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from api import i18n
from api.deps import SessionDep
from api.ids import PathId
from api.review_views import KNOWN_STATUSES, ReviewerDep, review_item, run_out, version_out
from api.web.templating import page_language, render
from models.directory.tables import Department
from models.errors import N_
from models.reviews import classifiers
from models.reviews import queries as rq
from models.staff import queries as staff_queries
from models.suggestions import queries
from models.taxonomy import CATEGORIES
from models.vocabulary import CHANNEL_NAMES

router = APIRouter(prefix="/staff/review", include_in_schema=False)

QUEUE_PAGE = 20


#: Texts the queue page's script shows (static/review.js), by key.
SCRIPT_TEXTS: dict[str, str] = {
    "empty": N_("The queue is empty: nothing left to review."),
    "saved": N_("Saved"),
    "confirmed": N_("Confirmed"),
    "corrected": N_("Corrected"),
    "error": N_("Could not save"),
    "no_audio": N_("Typed, no recording"),
    "unsure": N_("The speech engine was unsure here: listen again"),
    "left": N_("left to review"),
    "model": N_("model"),
    "staff": N_("staff"),
    "history": N_("History"),
    "loading": N_("Loading…"),
    # {keys} and {pct} are filled in by the page's script
    "choose": N_("Choose a category first (press {keys} or click one), then confirm."),
    "unsure_word": N_("Heard with {pct}% certainty: listen again"),
    "lang_zh": N_("Chinese"),
    "lang_en": N_("English"),
}


def _strings(request: Request) -> dict[str, str]:
    """Texts the page's script shows, in the page language."""
    lang = page_language(request)
    texts = {key: i18n.gettext(message, lang) for key, message in SCRIPT_TEXTS.items()}
    channels = {f"channel_{code}": words[1 if lang == "en" else 0] for code, words in CHANNEL_NAMES.items()}
    return texts | channels


def _categories(request: Request) -> list[dict[str, Any]]:
    en = page_language(request) == "en"
    return [{"key": c.key, "code": c.code, "name": c.en if en else c.zh} for c in CATEGORIES]


@router.get("", response_class=HTMLResponse)
def review_page(
    request: Request,
    session: SessionDep,
    staff: ReviewerDep,
    status: Annotated[str, Query()] = "needs_review",
    language: Annotated[str, Query()] = "",
    category: Annotated[str, Query()] = "",
    department: Annotated[str, Query()] = "",
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
) -> HTMLResponse:
    """The review queue: the least confident suggestion first, decided with one key."""
    statuses = tuple(s for s in status.split(",") if s in KNOWN_STATUSES) or rq.DEFAULT_QUEUE_STATUSES
    flt = rq.QueueFilter(
        statuses=statuses,
        language=language or None,
        category=category or None,
        department=department or None,
        since=since,
        until=until,
    )
    total, page = rq.review_queue(session, flt, limit=QUEUE_PAGE)
    items = [review_item(session, s, page_language(request)).model_dump(mode="json") for s in page]
    active = classifiers.active_classifier(session)
    accuracy = rq.accuracy_by_version(session)
    departments = session.scalars(select(Department).order_by(Department.code)).all()
    filters = {
        "status": ",".join(statuses),
        "language": language,
        "category": category,
        "department": department,
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
    }
    return render(
        request,
        "review.html",
        {
            "total": total,
            "items": items,
            "filters": filters,
            "categories": _categories(request),
            "departments": departments,
            "statuses": KNOWN_STATUSES,
            "active": version_out(active, accuracy).model_dump(mode="json") if active else None,
            "live": rq.live_accuracy(session, days=30),
            "strings": _strings(request),
        },
    )


@router.get("/model", response_class=HTMLResponse)
def model_page(request: Request, session: SessionDep, staff: ReviewerDep) -> HTMLResponse:
    """Classifier versions with metrics, retraining runs, retrain and activate buttons."""
    accuracy = rq.accuracy_by_version(session)
    return render(
        request,
        "review_model.html",
        {
            "versions": [
                version_out(v, accuracy).model_dump(mode="json") for v in rq.classifier_versions(session)
            ],
            "runs": [run_out(r).model_dump(mode="json") for r in rq.recent_runs(session, 20)],
            "live": rq.live_accuracy(session, days=90),
            "categories": _categories(request),
        },
    )


@router.get("/{suggestion_id}", response_class=HTMLResponse)
def suggestion_page(
    suggestion_id: PathId, request: Request, session: SessionDep, staff: ReviewerDep
) -> HTMLResponse:
    """One suggestion: its texts, the model's guess, staff decisions and the full history."""
    suggestion = queries.get_suggestion(session, suggestion_id)
    history = queries.history(session, suggestion_id)
    return render(
        request,
        "review_item.html",
        {
            "item": review_item(session, suggestion, page_language(request)).model_dump(mode="json"),
            "reviews": rq.reviews_of(session, suggestion_id),
            "history": history,
            "actor_names": staff_queries.display_names(session, (e.actor for e in history)),
            "categories": {c["code"]: c["name"] for c in _categories(request)},
        },
    )
