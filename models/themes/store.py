"""Themes, consultation topics and duplicate links: reading (aggregated in SQL) and the staff actions.

Nothing here commits. Staff actions take the acting username and the time explicitly, mark the
theme ``curated`` (so the background recompute leaves it alone) and append an audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, bindparam, case, delete, func, or_, select
from sqlalchemy.orm import Session, aliased

from models.directory.queries import audit
from models.errors import InvalidInput, NotFound
from models.suggestions import queries
from models.suggestions.lifecycle import WorkflowConflict
from models.suggestions.tables import Suggestion
from models.themes.tables import ConsultationTopic, DuplicateLink, Theme, ThemeMember
from models.vocabulary import OPEN, Channel, Status

JOB_ACTOR = "themes-job"
MAX_TITLE_CHARS = 300
TREND_WEEKS = 8


class ThemeConflict(WorkflowConflict):
    """The theme action clashes with the theme's state (merged away, already promoted)."""

    kind = "ThemeConflict"


@dataclass(frozen=True)
class Clusterable:
    """A suggestion the recompute may group."""

    id: int
    category: str
    text: str


@dataclass(frozen=True)
class NewTheme:
    """A group found by the recompute."""

    category: str
    title: str
    key_phrases: list[str]
    suggestion_ids: list[int]


@dataclass
class ThemeSummary:
    """A theme as staff see it in the list."""

    id: int
    category: str
    title: str
    key_phrases: list[str]
    curated: bool
    count: int
    villages: dict[str, int]
    weekly: list[int]  # oldest first, the last entry is the current week
    first_at: datetime | None
    last_at: datetime | None
    topic_id: int | None = None
    topic_title: str | None = None
    members: list[Suggestion] = field(default_factory=list)


# --- the background recompute -------------------------------------------------------------------


def clusterable(session: Session, since: datetime) -> list[Clusterable]:
    """Classified suggestions with text since ``since`` that no curated theme holds."""
    curated_members = (
        select(ThemeMember.suggestion_id).join(Theme, Theme.id == ThemeMember.theme_id).where(Theme.curated)
    )
    rows = session.execute(
        select(Suggestion.id, Suggestion.category, Suggestion.text)
        .where(
            Suggestion.submitted_at >= since,
            Suggestion.category.is_not(None),
            Suggestion.text.is_not(None),
            Suggestion.status != Status.FAILED,
            # agenda items of 乡长有约 are not villagers' suggestions; opinions belong to their topic
            Suggestion.channel.not_in((Channel.APPOINTMENT, Channel.CONSULTATION)),
            Suggestion.id.not_in(curated_members),
        )
        .order_by(Suggestion.id)
    ).all()
    return [Clusterable(r.id, r.category, r.text) for r in rows if r.text and r.text.strip()]


def replace_automatic_themes(session: Session, groups: Sequence[NewTheme], now: datetime) -> list[Theme]:
    """Drop every theme staff never touched and store ``groups`` in their place."""
    automatic = select(Theme.id).where(Theme.curated.is_(False))
    session.execute(delete(ThemeMember).where(ThemeMember.theme_id.in_(automatic)))
    session.execute(delete(Theme).where(Theme.curated.is_(False)))
    created = []
    for group in groups:
        theme = Theme(
            category=group.category,
            title=group.title[:MAX_TITLE_CHARS],
            key_phrases=list(group.key_phrases),
            curated=False,
            state="active",
            created_at=now,
            updated_at=now,
        )
        session.add(theme)
        session.flush()
        for sid in group.suggestion_ids:
            session.add(ThemeMember(suggestion_id=sid, theme_id=theme.id, added_by=JOB_ACTOR, added_at=now))
        created.append(theme)
    session.flush()
    return created


# --- reading --------------------------------------------------------------------------------------


def _week_start(now: datetime) -> datetime:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def theme_summaries(
    session: Session, now: datetime, *, category: str | None = None, theme_ids: Sequence[int] | None = None
) -> list[ThemeSummary]:
    """Active themes, largest first, with counts, villages and the weekly trend (all summed in SQL)."""
    current = _week_start(now)
    starts = [current - timedelta(weeks=TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    bounds = [*starts[1:], current + timedelta(weeks=1)]
    week_columns = [
        func.sum(case((and_(Suggestion.submitted_at >= lo, Suggestion.submitted_at < hi), 1), else_=0))
        for lo, hi in zip(starts, bounds, strict=True)
    ]
    filters = [Theme.state == "active"]
    if category is not None:
        filters.append(Theme.category == category)
    if theme_ids is not None:
        filters.append(Theme.id.in_(list(theme_ids)))
    rows = session.execute(
        select(
            Theme,
            func.count(Suggestion.id),
            func.min(Suggestion.submitted_at),
            func.max(Suggestion.submitted_at),
            *week_columns,
        )
        .join(ThemeMember, ThemeMember.theme_id == Theme.id)
        .join(Suggestion, Suggestion.id == ThemeMember.suggestion_id)
        .where(*filters)
        .group_by(Theme.id)
        .order_by(func.count(Suggestion.id).desc(), Theme.id)
    ).all()
    summaries = {
        row[0].id: ThemeSummary(
            id=row[0].id,
            category=row[0].category,
            title=row[0].title,
            key_phrases=list(row[0].key_phrases or []),
            curated=row[0].curated,
            count=int(row[1]),
            villages={},
            weekly=[int(x or 0) for x in row[4:]],
            first_at=_aware(row[2]),
            last_at=_aware(row[3]),
        )
        for row in rows
    }
    if not summaries:
        return []
    village_rows = session.execute(
        select(ThemeMember.theme_id, Suggestion.village, func.count())
        .join(Suggestion, Suggestion.id == ThemeMember.suggestion_id)
        .where(ThemeMember.theme_id.in_(list(summaries)), Suggestion.village.is_not(None))
        .group_by(ThemeMember.theme_id, Suggestion.village)
        .order_by(func.count().desc(), Suggestion.village)
    ).all()
    for theme_id, village, count in village_rows:
        summaries[theme_id].villages[str(village)] = int(count)
    for topic in session.scalars(
        select(ConsultationTopic).where(ConsultationTopic.theme_id.in_(list(summaries)))
    ):
        summaries[topic.theme_id].topic_id = topic.id
        summaries[topic.theme_id].topic_title = topic.title
    return list(summaries.values())


def _aware(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is None or isinstance(value, str):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def get_theme(session: Session, theme_id: int) -> Theme:
    """A theme by id, or NotFound."""
    theme = session.get(Theme, theme_id)
    if theme is None:
        raise NotFound("No theme with id %(theme_id)s.", theme_id=theme_id)
    return theme


def theme_detail(session: Session, theme_id: int, now: datetime) -> ThemeSummary:
    """One theme's summary with its member suggestions (oldest first)."""
    theme = get_theme(session, theme_id)
    if theme.state != "active":
        raise NotFound(
            "Theme %(theme_id)s was merged into theme %(merged_into_id)s.",
            theme_id=theme_id,
            merged_into_id=theme.merged_into_id,
        )
    found = theme_summaries(session, now, theme_ids=[theme_id])
    if found:
        summary = found[0]
    else:  # every member was split away
        summary = ThemeSummary(
            theme.id, theme.category, theme.title, list(theme.key_phrases or []), theme.curated,
            0, {}, [0] * TREND_WEEKS, None, None,
        )  # fmt: skip
    summary.members = list(
        session.scalars(
            select(Suggestion)
            .join(ThemeMember, ThemeMember.suggestion_id == Suggestion.id)
            .where(ThemeMember.theme_id == theme_id)
            .order_by(Suggestion.submitted_at, Suggestion.id)
        )
    )
    return summary


# --- staff actions --------------------------------------------------------------------------------


def _active(session: Session, theme_id: int) -> Theme:
    theme = get_theme(session, theme_id)
    if theme.state != "active":
        raise ThemeConflict(
            "Theme %(theme_id)s was merged into theme %(merged_into_id)s; use that one.",
            theme_id=theme_id,
            merged_into_id=theme.merged_into_id,
        )
    return theme


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise InvalidInput("Please give the theme a name.")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidInput(
            "The name is too long (at most %(max_title_chars)s characters).", max_title_chars=MAX_TITLE_CHARS
        )
    return title


def rename(session: Session, theme_id: int, title: str, *, actor: str, now: datetime) -> Theme:
    """Give a theme a staff-chosen name (and keep it through later recomputes)."""
    theme = _active(session, theme_id)
    before = theme.title
    theme.title = _clean_title(title)
    theme.curated = True
    theme.updated_at = now
    audit(session, actor=actor, now=now, entity="theme", key=str(theme.id), action="update",
          before={"title": before}, after={"title": theme.title})  # fmt: skip
    return theme


def merge(session: Session, keeper_id: int, other_ids: Sequence[int], *, actor: str, now: datetime) -> Theme:
    """Move every member of ``other_ids`` into ``keeper_id``; the others are marked merged."""
    others = sorted(set(other_ids) - {keeper_id})
    if not others:
        raise InvalidInput("Choose at least one other theme to merge into this one.")
    keeper = _active(session, keeper_id)
    themes = [_active(session, other) for other in others]
    for theme in themes:
        if theme.category != keeper.category:
            raise InvalidInput(
                "Theme %(id)s is about %(category)s, theme %(id2)s about %(category2)s: only "
                "themes of the same category can be merged.",
                id=theme.id,
                category=theme.category,
                id2=keeper.id,
                category2=keeper.category,
            )
        if session.scalar(select(ConsultationTopic.id).where(ConsultationTopic.theme_id == theme.id)):
            raise ThemeConflict(
                "Theme %(id)s is a consultation topic already; merge others into it.", id=theme.id
            )
    for theme in themes:
        for member in session.scalars(select(ThemeMember).where(ThemeMember.theme_id == theme.id)):
            member.theme_id = keeper.id
            member.added_by = actor
            member.added_at = now
        theme.state = "merged"
        theme.merged_into_id = keeper.id
        theme.curated = True
        theme.updated_at = now
    keeper.curated = True
    keeper.updated_at = now
    audit(session, actor=actor, now=now, entity="theme", key=str(keeper.id), action="update",
          after={"merged": others})  # fmt: skip
    session.flush()
    return keeper


def split(
    session: Session, theme_id: int, suggestion_ids: Sequence[int], title: str, *, actor: str, now: datetime
) -> Theme:
    """Move some of a theme's suggestions into a new theme of the same category."""
    theme = _active(session, theme_id)
    wanted = sorted(set(suggestion_ids))
    if not wanted:
        raise InvalidInput("Choose the suggestions that belong to the new theme.")
    members = list(
        session.scalars(
            select(ThemeMember).where(ThemeMember.theme_id == theme.id, ThemeMember.suggestion_id.in_(wanted))
        )
    )
    missing = sorted(set(wanted) - {m.suggestion_id for m in members})
    if missing:
        raise InvalidInput(
            "Suggestion(s) %(map)s are not in theme %(id)s.", map=", ".join(map(str, missing)), id=theme.id
        )
    total = session.scalar(select(func.count()).where(ThemeMember.theme_id == theme.id)) or 0
    if len(members) == total:
        raise InvalidInput("Leave at least one suggestion in the original theme (or rename it instead).")
    new = Theme(
        category=theme.category,
        title=_clean_title(title),
        key_phrases=[],
        curated=True,
        state="active",
        created_at=now,
        updated_at=now,
    )
    session.add(new)
    session.flush()
    for member in members:
        member.theme_id = new.id
        member.added_by = actor
        member.added_at = now
    theme.curated = True
    theme.updated_at = now
    audit(session, actor=actor, now=now, entity="theme", key=str(new.id), action="create",
          after={"split_from": theme.id, "suggestions": wanted})  # fmt: skip
    session.flush()
    return new


def promote(
    session: Session, theme_id: int, title: str | None, note: str | None, *, actor: str, now: datetime
) -> ConsultationTopic:
    """Make a theme a consultation topic (协商议题); the topic reaches its suggestions through the theme."""
    theme = _active(session, theme_id)
    if session.scalar(select(ConsultationTopic.id).where(ConsultationTopic.theme_id == theme.id)):
        raise ThemeConflict("Theme %(id)s is already a consultation topic.", id=theme.id)
    topic = ConsultationTopic(
        theme_id=theme.id,
        title=_clean_title(title or theme.title),
        note=(note or "").strip() or None,
        created_by=actor,
        created_at=now,
    )
    session.add(topic)
    theme.curated = True
    theme.updated_at = now
    session.flush()
    audit(session, actor=actor, now=now, entity="consultation_topic", key=str(topic.id), action="create",
          after={"theme": theme.id, "title": topic.title})  # fmt: skip
    return topic


def topic_suggestions(session: Session, topic_id: int) -> list[Suggestion]:
    """The suggestions linked to a consultation topic (through its theme)."""
    topic = session.get(ConsultationTopic, topic_id)
    if topic is None:
        raise NotFound("No consultation topic with id %(topic_id)s.", topic_id=topic_id)
    return list(
        session.scalars(
            select(Suggestion)
            .join(ThemeMember, ThemeMember.suggestion_id == Suggestion.id)
            .where(ThemeMember.theme_id == topic.theme_id)
            .order_by(Suggestion.id)
        )
    )


# --- duplicates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateCandidate:
    """An open suggestion a new one may repeat."""

    id: int
    text: str
    matched_on: str  # village | address


def duplicate_candidates(
    session: Session, suggestion: Suggestion, since: datetime
) -> list[DuplicateCandidate]:
    """Open suggestions since ``since`` from the same village or address (originals, not flagged repeats)."""
    places = []
    if suggestion.address and suggestion.address.strip():
        places.append(func.lower(func.trim(Suggestion.address)) == suggestion.address.strip().lower())
    if suggestion.village and suggestion.village.strip():
        places.append(Suggestion.village == suggestion.village.strip())
    if not places:
        return []
    rows = session.execute(
        select(Suggestion.id, Suggestion.text, Suggestion.village, Suggestion.address)
        .where(
            or_(*places),
            Suggestion.id != suggestion.id,
            Suggestion.submitted_at >= since,
            Suggestion.status.in_(OPEN),
            Suggestion.channel != Channel.CONSULTATION,  # an opinion belongs to its topic
            Suggestion.text.is_not(None),
            Suggestion.id.not_in(select(DuplicateLink.suggestion_id)),
        )
        .order_by(Suggestion.submitted_at.desc())
        .limit(500)
    ).all()
    address = (suggestion.address or "").strip().lower()
    return [
        DuplicateCandidate(
            r.id, r.text, "address" if address and (r.address or "").strip().lower() == address else "village"
        )
        for r in rows
        if r.text and r.text.strip()
    ]


def link_duplicate(
    session: Session,
    suggestion: Suggestion,
    original_id: int,
    similarity: float,
    matched_on: str,
    now: datetime,
) -> DuplicateLink:
    """Flag ``suggestion`` as a likely duplicate of ``original_id`` (its status does not change)."""
    link = DuplicateLink(
        suggestion_id=suggestion.id,
        duplicate_of_id=original_id,
        similarity=round(similarity, 4),
        matched_on=matched_on,
        detected_at=now,
    )
    session.add(link)
    queries.add_event(
        session,
        suggestion,
        actor="worker",
        kind="duplicate_suspected",
        detail={"duplicate_of": original_id, "similarity": round(similarity, 4), "matched_on": matched_on},
    )
    session.flush()
    return link


def _tracked_statement() -> Select[Suggestion, str]:
    original = aliased(Suggestion)
    return (
        select(Suggestion, original.status)
        .outerjoin(DuplicateLink, DuplicateLink.suggestion_id == Suggestion.id)
        .outerjoin(original, original.id == DuplicateLink.duplicate_of_id)
        .where(Suggestion.tracking_code == bindparam("code"))
    )


_TRACKED = _tracked_statement()  # built once: the public tracking look-up runs it on every request


def tracked(session: Session, code: str) -> tuple[Suggestion, str | None]:
    """A suggestion by tracking code (case and dash insensitive) and, when it is flagged as a
    likely duplicate, the status of the earlier suggestion it repeats; NotFound if unknown.

    One query for the villager's tracking page instead of three.
    """
    row = session.execute(_TRACKED, {"code": queries.normalise_tracking_code(code)}).first()
    if row is None:
        raise queries.unknown_tracking_code(code)
    return row[0], row[1]


def duplicate_link(session: Session, suggestion_id: int) -> DuplicateLink | None:
    """The duplicate flag of a suggestion, if any."""
    return session.get(DuplicateLink, suggestion_id)


def duplicates_of(session: Session, suggestion_id: int) -> list[DuplicateLink]:
    """Later suggestions flagged as likely duplicates of this one."""
    return list(
        session.scalars(
            select(DuplicateLink)
            .where(DuplicateLink.duplicate_of_id == suggestion_id)
            .order_by(DuplicateLink.suggestion_id)
        )
    )


def topics(session: Session) -> list[ConsultationTopic]:
    """Every consultation topic, newest first."""
    return list(session.scalars(select(ConsultationTopic).order_by(ConsultationTopic.id.desc())))


def get_topic(session: Session, topic_id: int) -> ConsultationTopic:
    """A consultation topic by id, or NotFound."""
    topic = session.get(ConsultationTopic, topic_id)
    if topic is None:
        raise NotFound("No consultation topic with id %(topic_id)s.", topic_id=topic_id)
    return topic
