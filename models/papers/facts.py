"""What a suggestion paper states about a theme: figures, representative quotes, handling, ratings.

One query reads the theme's suggestions with their assignment and department; the figures are
counted from those rows (a theme holds the suggestions of one issue: tens, at most hundreds).
Quotes and departments' result notes go through ``models.privacy.scrub`` with every member's own
name, phone and address, so no personal data reaches the paper.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import privacy
from models.directory.tables import Department
from models.errors import NotFound
from models.suggestions.tables import Assignment, Suggestion
from models.themes import store as theme_store
from models.themes.tables import ThemeMember
from models.vocabulary import DONE, OPEN, STATUS_NAMES, Status

MAX_QUOTES = 5
MIN_QUOTES = 3
QUOTE_CHARS = 150
MIN_QUOTE_CHARS = 4
RESULT_NOTES = 2
DEFAULT_MIN_RATINGS = 5
_NON_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class Quote:
    """A villager's words, personal data removed, with the village it came from."""

    text: str
    village: str | None
    submitted_on: date


@dataclass(frozen=True)
class DepartmentHandling:
    """What one department did with the theme's suggestions."""

    code: str
    name_zh: str
    name_en: str
    held: int
    resolved: int
    mean_days_to_resolve: float | None
    ratings: int
    satisfaction_mean: float | None


@dataclass
class PaperFacts:
    """The figures and quotes a suggestion paper is written from."""

    theme_id: int
    title: str
    category: str
    key_phrases: list[str]
    suggestions: int
    villagers: int
    villages: dict[str, int]  # most first
    months: list[tuple[str, int]]  # "2026-09" → count, oldest first, every month from the first
    first_on: date | None
    last_on: date | None
    statuses: dict[str, int]  # status code → count, in the workflow's order
    done: int
    open: int
    departments: list[DepartmentHandling]
    ratings: int
    satisfaction_mean: float | None  # None below ``min_ratings``
    satisfaction_distribution: dict[int, int]
    min_ratings: int
    generated_at: datetime
    quotes: list[Quote] = field(default_factory=list)
    result_notes: list[str] = field(default_factory=list)
    #: Every member's name and phone: ``guard`` replaces them wherever staff's edits bring them back.
    known_names: list[str] = field(default_factory=list)
    known_phones: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    id: int
    text: str | None
    village: str | None
    submitted_at: datetime
    name: str | None
    phone: str | None
    address: str | None
    status: str
    satisfaction: int | None
    result_note: str | None
    dispatched_at: datetime | None
    resolved_at: datetime | None
    department: tuple[str, str, str] | None


def _rows(session: Session, theme_id: int) -> list[_Row]:
    holder = Department.id == _holder()
    stmt = (
        select(
            Suggestion.id,
            Suggestion.text,
            Suggestion.village,
            Suggestion.submitted_at,
            Suggestion.submitter_name,
            Suggestion.submitter_phone,
            Suggestion.address,
            Suggestion.status,
            Suggestion.satisfaction,
            Suggestion.result_note,
            Assignment.dispatched_at,
            Assignment.resolved_at,
            Department.code,
            Department.name_zh,
            Department.name_en,
        )
        .join(ThemeMember, ThemeMember.suggestion_id == Suggestion.id)
        .outerjoin(Assignment, Assignment.suggestion_id == Suggestion.id)
        .outerjoin(Department, holder)
        .where(ThemeMember.theme_id == theme_id)
        .order_by(Suggestion.submitted_at, Suggestion.id)
    )
    rows = []
    for r in session.execute(stmt):
        sid, text, village, at, name, phone, address, status, satisfaction, note = r[:10]
        dispatched, resolved, code, zh, en = r[10:]
        rows.append(
            _Row(
                sid,
                text,
                (village or "").strip() or None,
                _aware(at),
                name,
                phone,
                address,
                status,
                satisfaction,
                note,
                _aware(dispatched) if dispatched else None,
                _aware(resolved) if resolved else None,
                (code, zh, en) if code else None,
            )
        )
    return rows


def _holder() -> Any:
    return func.coalesce(Assignment.department_id, Suggestion.department_id)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _months(days: list[date]) -> list[tuple[str, int]]:
    """Counts per calendar month, every month from the first to the last (empty ones as 0)."""
    if not days:
        return []
    counts = Counter(f"{d.year:04d}-{d.month:02d}" for d in days)
    first, last = min(days), max(days)
    index, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    months = []
    while index <= end:
        key = f"{index // 12:04d}-{index % 12 + 1:02d}"
        months.append((key, counts.get(key, 0)))
        index += 1
    return months


def _villagers(rows: list[_Row]) -> int:
    """People behind the suggestions: one per distinct phone number; one per suggestion without one."""
    phones = {_NON_DIGITS.sub("", privacy.ascii_digits(r.phone)) for r in rows if r.phone and r.phone.strip()}
    phones.discard("")
    return len(phones) + sum(1 for r in rows if not (r.phone and _NON_DIGITS.sub("", r.phone)))


def _scrub(text: str, rows: list[_Row]) -> str:
    return privacy.scrub(
        text,
        names=[r.name for r in rows],
        phones=[r.phone for r in rows],
        addresses=[r.address for r in rows],
    )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quotes(rows: list[_Row], key_phrases: list[str], tz: tzinfo) -> list[Quote]:
    """Up to five quotes that name the theme's key phrases, from as many villages as possible."""

    def score(r: _Row) -> tuple[int, int, datetime]:
        text = r.text or ""
        hits = sum(1 for p in key_phrases if p and p in text)
        return (-hits, abs(len(text) - 60), r.submitted_at)

    candidates = sorted((r for r in rows if r.text and len(r.text.strip()) >= MIN_QUOTE_CHARS), key=score)
    picked: list[_Row] = []
    seen_texts: set[str] = set()
    cleaned: dict[int, str] = {}

    def clean(r: _Row) -> str:  # scrubbing is the slow part: only for the rows looked at
        if r.id not in cleaned:
            cleaned[r.id] = _shorten(_scrub(r.text or "", rows), QUOTE_CHARS)
        return cleaned[r.id]

    villages: set[str | None] = set()
    for r in candidates:  # first pass: one per village
        if len(picked) == MAX_QUOTES:
            break
        if r.village not in villages and clean(r) not in seen_texts:
            villages.add(r.village)
            picked.append(r)
            seen_texts.add(clean(r))
    for r in candidates:  # then fill up to the minimum with the best of the rest
        if len(picked) >= MIN_QUOTES:
            break
        if r not in picked and clean(r) not in seen_texts:
            picked.append(r)
            seen_texts.add(clean(r))
    picked.sort(key=lambda r: (r.submitted_at, r.id))
    return [Quote(cleaned[r.id], r.village, r.submitted_at.astimezone(tz).date()) for r in picked]


def _departments(rows: list[_Row], min_ratings: int) -> list[DepartmentHandling]:
    by_code: dict[str, list[_Row]] = {}
    names: dict[str, tuple[str, str, str]] = {}
    for r in rows:
        if r.department is not None and (r.dispatched_at is not None or r.status in DONE):
            by_code.setdefault(r.department[0], []).append(r)
            names[r.department[0]] = r.department
    result = []
    for code, held in sorted(by_code.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        durations = [
            (r.resolved_at - r.dispatched_at).total_seconds() / 86400
            for r in held
            if r.resolved_at is not None and r.dispatched_at is not None
        ]
        scores = [r.satisfaction for r in held if r.satisfaction is not None]
        result.append(
            DepartmentHandling(
                code=code,
                name_zh=names[code][1],
                name_en=names[code][2],
                held=len(held),
                resolved=sum(1 for r in held if r.status in DONE),
                mean_days_to_resolve=round(sum(durations) / len(durations), 1) if durations else None,
                ratings=len(scores),
                satisfaction_mean=_mean(scores, min_ratings),
            )
        )
    return result


def _mean(scores: list[int], min_ratings: int) -> float | None:
    return round(sum(scores) / len(scores), 2) if scores and len(scores) >= max(min_ratings, 1) else None


def paper_facts(
    session: Session,
    theme_id: int,
    now: datetime,
    *,
    tz: tzinfo = UTC,
    min_ratings: int = DEFAULT_MIN_RATINGS,
) -> PaperFacts:
    """The facts of an active theme's paper; NotFound for an unknown or merged-away theme.

    Dates and months are counted in ``tz`` (the township's zone).
    """
    theme = theme_store.get_theme(session, theme_id)
    if theme.state != "active":
        raise NotFound(
            "Theme %(theme_id)s was merged into theme %(merged_into_id)s.",
            theme_id=theme_id,
            merged_into_id=theme.merged_into_id,
        )
    rows = _rows(session, theme_id)
    key_phrases = [str(p) for p in (theme.key_phrases or [])]
    days = [r.submitted_at.astimezone(tz).date() for r in rows]
    villages = Counter(r.village for r in rows if r.village)
    status_counts = Counter(r.status for r in rows)
    statuses = {s.value: status_counts[s.value] for s in Status if status_counts[s.value]}
    statuses.update({s: n for s, n in status_counts.items() if s not in STATUS_NAMES})
    scores = [r.satisfaction for r in rows if r.satisfaction is not None]
    notes: list[str] = []
    for r in sorted(rows, key=lambda r: r.resolved_at or r.submitted_at, reverse=True):
        if len(notes) == RESULT_NOTES:
            break
        note = (
            _shorten(_scrub(r.result_note, rows), QUOTE_CHARS)
            if r.result_note and r.result_note.strip()
            else ""
        )
        if note and note not in notes:
            notes.append(note)
    return PaperFacts(
        theme_id=theme.id,
        title=_scrub(theme.title, rows),
        category=theme.category,
        key_phrases=key_phrases,
        suggestions=len(rows),
        villagers=_villagers(rows),
        villages=dict(sorted(villages.items(), key=lambda kv: (-kv[1], kv[0]))),
        months=_months(days),
        first_on=min(days) if days else None,
        last_on=max(days) if days else None,
        statuses=statuses,
        done=sum(1 for r in rows if r.status in DONE),
        open=sum(1 for r in rows if r.status in OPEN),
        departments=_departments(rows, min_ratings),
        ratings=len(scores),
        satisfaction_mean=_mean(scores, min_ratings),
        satisfaction_distribution={s: scores.count(s) for s in range(1, 6)},
        min_ratings=min_ratings,
        generated_at=now,
        quotes=_quotes(rows, key_phrases, tz),
        result_notes=notes,
        known_names=sorted({r.name.strip() for r in rows if r.name and len(r.name.strip()) >= 2}),
        known_phones=sorted({r.phone.strip() for r in rows if r.phone and len(r.phone.strip()) >= 2}),
    )


def known_personal(session: Session, theme_id: int) -> tuple[list[str], list[str]]:
    """The names and phone numbers the theme's villagers gave, for ``compose.guard``."""
    rows = session.execute(
        select(Suggestion.submitter_name, Suggestion.submitter_phone)
        .join(ThemeMember, ThemeMember.suggestion_id == Suggestion.id)
        .where(ThemeMember.theme_id == theme_id)
    ).all()
    names = sorted({n.strip() for n, _ in rows if n and len(n.strip()) >= 2})
    phones = sorted({p.strip() for _, p in rows if p and len(p.strip()) >= 2})
    return names, phones
