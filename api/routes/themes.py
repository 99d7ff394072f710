"""Themes, consultation topics and duplicate flags: JSON API for staff.

Reading needs any staff sign-in; merging, splitting and promoting need an admin or a reviewer.
Themes are recomputed by the background job ``recompute_themes``; the API only queues it.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep
from api.ids import PathId
from api.staff import ClockDep, StaffDep, require_curator
from api.theme_schemas import (
    DuplicateOut,
    MergeIn,
    PromoteIn,
    RecomputeOut,
    RenameIn,
    SplitIn,
    ThemeDetailOut,
    ThemeMemberOut,
    ThemeOut,
    TopicOut,
)
from classify.theme_jobs import request_recompute
from models.errors import InvalidInput
from models.suggestions import contact, queries
from models.suggestions.lifecycle import Actor
from models.taxonomy import LABELS
from models.themes import store as theme_store
from models.themes.tables import ConsultationTopic

router = APIRouter(prefix="/api/v1", tags=["themes"])


def theme_out(summary: theme_store.ThemeSummary) -> ThemeOut:
    """The API shape of a theme summary."""
    return ThemeOut(
        id=summary.id,
        category=summary.category,
        title=summary.title,
        key_phrases=summary.key_phrases,
        curated=summary.curated,
        count=summary.count,
        villages=summary.villages,
        weekly=summary.weekly,
        first_at=summary.first_at,
        last_at=summary.last_at,
        topic_id=summary.topic_id,
        topic_title=summary.topic_title,
    )


def detail_out(summary: theme_store.ThemeSummary, actor: Actor) -> ThemeDetailOut:
    """A theme with its suggestions (addresses only for the township office, models.contact)."""
    office = contact.sees_every_contact(actor)
    return ThemeDetailOut(
        **theme_out(summary).model_dump(),
        suggestions=[
            ThemeMemberOut(
                id=s.id,
                tracking_code=s.tracking_code,
                village=s.village,
                address=s.address if office else None,
                status=s.status,
                submitted_at=s.submitted_at,
                text=s.text,
            )
            for s in summary.members
        ],
    )


def topic_out(session: SessionDep, topic: ConsultationTopic) -> TopicOut:
    """A consultation topic with its linked suggestion ids."""
    return TopicOut(
        id=topic.id,
        theme_id=topic.theme_id,
        title=topic.title,
        note=topic.note,
        created_by=topic.created_by,
        created_at=topic.created_at,
        suggestion_ids=[s.id for s in theme_store.topic_suggestions(session, topic.id)],
    )


@router.get("/themes", response_model=list[ThemeOut])
def list_themes(
    session: SessionDep, actor: StaffDep, clock: ClockDep, category: str | None = None
) -> list[ThemeOut]:
    """Current themes, largest first, optionally of one category."""
    if category is not None and category not in LABELS:
        raise InvalidInput(
            "Unknown category '%(category)s'; use one of %(labels)s.",
            category=category,
            labels=", ".join(LABELS),
        )
    return [theme_out(s) for s in theme_store.theme_summaries(session, clock(), category=category)]


@router.post("/themes/recompute", response_model=RecomputeOut, status_code=202)
def recompute(session: SessionDep, actor: StaffDep) -> RecomputeOut:
    """Queue a background recompute of the automatic themes (curated ones are kept)."""
    job = request_recompute(session)
    return RecomputeOut(job_id=job.id, state=job.state)


@router.get("/themes/{theme_id}", response_model=ThemeDetailOut)
def read_theme(theme_id: PathId, session: SessionDep, actor: StaffDep, clock: ClockDep) -> ThemeDetailOut:
    """One theme with its suggestions."""
    return detail_out(theme_store.theme_detail(session, theme_id, clock()), actor)


@router.patch("/themes/{theme_id}", response_model=ThemeDetailOut)
def rename_theme(
    theme_id: PathId, body: RenameIn, session: SessionDep, actor: StaffDep, clock: ClockDep
) -> ThemeDetailOut:
    """Rename a theme (any staff); the name survives later recomputes."""
    theme_store.rename(session, theme_id, body.title, actor=actor.username, now=clock())
    return detail_out(theme_store.theme_detail(session, theme_id, clock()), actor)


@router.post("/themes/{theme_id}/merge", response_model=ThemeDetailOut)
def merge_themes(
    theme_id: PathId, body: MergeIn, session: SessionDep, actor: StaffDep, clock: ClockDep
) -> ThemeDetailOut:
    """Move the suggestions of the listed themes into this one."""
    theme_store.merge(session, theme_id, body.theme_ids, actor=require_curator(actor), now=clock())
    return detail_out(theme_store.theme_detail(session, theme_id, clock()), actor)


@router.post("/themes/{theme_id}/split", response_model=ThemeDetailOut, status_code=201)
def split_theme(
    theme_id: PathId, body: SplitIn, session: SessionDep, actor: StaffDep, clock: ClockDep
) -> ThemeDetailOut:
    """Move some suggestions into a new theme; returns the new theme."""
    new = theme_store.split(
        session, theme_id, body.suggestion_ids, body.title, actor=require_curator(actor), now=clock()
    )
    return detail_out(theme_store.theme_detail(session, new.id, clock()), actor)


@router.post("/themes/{theme_id}/promote", response_model=TopicOut, status_code=201)
def promote_theme(
    theme_id: PathId, body: PromoteIn, session: SessionDep, actor: StaffDep, clock: ClockDep
) -> TopicOut:
    """Make the theme a consultation topic (协商议题) that keeps its suggestions."""
    topic = theme_store.promote(
        session, theme_id, body.title, body.note, actor=require_curator(actor), now=clock()
    )
    return topic_out(session, topic)


@router.get("/topics", response_model=list[TopicOut])
def list_topics(session: SessionDep, actor: StaffDep) -> list[TopicOut]:
    """Every consultation topic, newest first."""
    return [topic_out(session, t) for t in theme_store.topics(session)]


@router.get("/topics/{topic_id}", response_model=TopicOut)
def read_topic(topic_id: PathId, session: SessionDep, actor: StaffDep) -> TopicOut:
    """One consultation topic with its suggestions."""
    return topic_out(session, theme_store.get_topic(session, topic_id))


@router.get("/suggestions/{suggestion_id}/duplicate", response_model=DuplicateOut)
def duplicate_flag(suggestion_id: PathId, session: SessionDep, actor: StaffDep) -> DuplicateOut:
    """The likely-duplicate flag of a suggestion, both ways."""
    queries.get_suggestion(session, suggestion_id)
    link = theme_store.duplicate_link(session, suggestion_id)
    return DuplicateOut(
        suggestion_id=suggestion_id,
        duplicate_of=link.duplicate_of_id if link else None,
        similarity=link.similarity if link else None,
        matched_on=link.matched_on if link else None,
        duplicates=[d.suggestion_id for d in theme_store.duplicates_of(session, suggestion_id)],
    )
