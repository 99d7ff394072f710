"""The background job that groups recent suggestions into themes (never run inside a request).

One job kind, two passes. Without a target it re-forms every automatic theme from scratch (staff's
"recompute" and the nightly run). With a suggestion as target it is incremental: suggestions in the
window that no theme holds join the nearest automatic theme of their category when close enough
(classify.themes.join), the rest may form new themes among themselves, and the other themes keep
their ids and members. An incremental pass that finds no full re-form since the last nightly hour
(``reform_hour``, UTC) re-forms instead, so themes are regrouped at least once a day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from classify.themes import ThemeOptions, add_places, cluster, join, theme_phrases, theme_title
from models.db import unit_of_work, utcnow
from models.jobs import queue as job_queue
from models.jobs.queue import Handlers
from models.jobs.tables import Job
from models.suggestions.tables import Suggestion
from models.themes import store as theme_store
from models.themes.tables import Theme, ThemeMember

RECOMPUTE_THEMES_JOB = "recompute_themes"  # the full re-form
JOIN_THEMES_JOB = "join_themes"  # the incremental pass: suggestions no theme holds yet join one


@dataclass(frozen=True)
class ThemeSettings:
    """Which suggestions are grouped (the last ``window_days``), how tightly, and when the nightly
    full re-form is due (the first pass after ``reform_hour`` o'clock UTC each day)."""

    window_days: int = 90
    options: ThemeOptions = field(default_factory=ThemeOptions)
    reform_hour: int = 2


def _last_nightly(now: datetime, hour: int) -> datetime:
    """The latest ``hour`` o'clock (UTC) at or before ``now``."""
    today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def _members(suggestion_ids: Sequence[int], theme_id: int, now: datetime) -> list[ThemeMember]:
    return [
        ThemeMember(suggestion_id=sid, theme_id=theme_id, added_by=theme_store.JOB_ACTOR, added_at=now)
        for sid in suggestion_ids
    ]


def _last_reform(session: Session) -> datetime | None:
    """When the last full re-form finished."""
    return session.scalar(
        select(Job.updated_at)
        .where(Job.kind == RECOMPUTE_THEMES_JOB, Job.state == "done")
        .order_by(Job.updated_at.desc())
        .limit(1)
    )


class ThemeBuilder:
    """Forms and extends the automatic themes; staff-curated themes and their members stay as they are."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: ThemeSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.factory = factory
        self.settings = settings or ThemeSettings()
        self.clock = clock

    def handlers(self) -> Handlers:
        """The job kinds this class runs: the full re-form and the incremental join."""
        return {
            RECOMPUTE_THEMES_JOB: (self.recompute, self.give_up),
            JOIN_THEMES_JOB: (self.join, self.give_up),
        }

    def recompute(self, _target: int = 0) -> None:
        """The full re-form's job handler."""
        self.recompute_count()

    def join(self, _target: int = 0) -> None:
        """The incremental pass's job handler; when the nightly re-form is due it is queued too (a
        job of its own, so its time is recorded)."""
        if self.reform_due():
            with unit_of_work(self.factory) as session:
                request_recompute(session)
        self.update()

    def reform_due(self) -> bool:
        """Whether no full re-form has finished since the last nightly hour."""
        now = self.clock()
        with self.factory() as session:
            last = _last_reform(session)
        if last is None:
            return True
        last = last if last.tzinfo is not None else last.replace(tzinfo=now.tzinfo)
        return last < _last_nightly(now, self.settings.reform_hour)

    def _learn_places(self, session: Session) -> None:
        """Villages and addresses of the window's suggestions: the segmenter keeps them whole."""
        since = self.clock() - timedelta(days=self.settings.window_days)
        rows = session.execute(
            select(Suggestion.village, Suggestion.address)
            .where(Suggestion.submitted_at >= since)
            .distinct()
            .limit(5000)
        ).all()
        add_places(name for row in rows for name in row if name)

    def _named(self, groups: Sequence[list[theme_store.Clusterable]]) -> list[tuple[str, list[str]]]:
        """(title, key phrases) per group, phrases weighed against the other groups of its category."""
        by_category: dict[str, list[int]] = defaultdict(list)
        for index, group in enumerate(groups):
            by_category[group[0].category].append(index)
        named: list[tuple[str, list[str]]] = [("", [])] * len(groups)
        for indexes in by_category.values():
            texts = [[m.text for m in groups[i]] for i in indexes]
            for i, phrases, members in zip(indexes, theme_phrases(texts), texts, strict=True):
                named[i] = (theme_title(phrases, members), phrases)
        return named

    def recompute_count(self) -> int:
        """Regroup the window's suggestions per category; returns how many themes were stored."""
        now = self.clock()
        with unit_of_work(self.factory) as session:
            items = theme_store.clusterable(session, now - timedelta(days=self.settings.window_days))
            self._learn_places(session)
        labels = cluster([i.text for i in items], self.settings.options, groups=[i.category for i in items])
        clusters: dict[int, list[theme_store.Clusterable]] = defaultdict(list)
        for item, label in zip(items, labels, strict=True):
            clusters[label].append(item)
        found = [c for c in clusters.values() if len(c) >= self.settings.options.min_size]
        groups = [
            theme_store.NewTheme(members[0].category, title, phrases, [m.id for m in members])
            for members, (title, phrases) in zip(found, self._named(found), strict=True)
        ]
        with unit_of_work(self.factory) as session:
            stored = theme_store.replace_automatic_themes(session, groups, now)
            return len(stored)

    def update(self) -> tuple[int, int]:
        """The incremental pass; returns (suggestions that joined a theme, new themes)."""
        now = self.clock()
        with unit_of_work(self.factory) as session:
            items = theme_store.clusterable(session, now - timedelta(days=self.settings.window_days))
            self._learn_places(session)
            held = dict(
                session.execute(
                    select(ThemeMember.suggestion_id, ThemeMember.theme_id)
                    .join(Theme, Theme.id == ThemeMember.theme_id)
                    .where(Theme.curated.is_(False), Theme.state == "active")
                ).all()
            )
        themes: dict[int, list[theme_store.Clusterable]] = defaultdict(list)
        loose: dict[str, list[theme_store.Clusterable]] = defaultdict(list)
        for item in items:
            if item.id in held:
                themes[held[item.id]].append(item)
            else:
                loose[item.category].append(item)
        joined: dict[int, list[int]] = defaultdict(list)
        formed: list[list[theme_store.Clusterable]] = []
        options = self.settings.options
        for category, new in loose.items():
            ids = [t for t, members in themes.items() if members[0].category == category]
            places = join([n.text for n in new], [[m.text for m in themes[t]] for t in ids], options)
            rest = []
            for item, place in zip(new, places, strict=True):
                if place is None:
                    rest.append(item)
                else:
                    joined[ids[place]].append(item.id)
                    themes[ids[place]].append(item)
            if len(rest) >= options.min_size:
                labels = cluster([r.text for r in rest], options)
                by_label: dict[int, list[theme_store.Clusterable]] = defaultdict(list)
                for item, label in zip(rest, labels, strict=True):
                    by_label[label].append(item)
                formed.extend(g for g in by_label.values() if len(g) >= options.min_size)
        if not joined and not formed:
            return 0, 0
        changed = [themes[t] for t in joined]
        names = self._named([*changed, *formed])
        with unit_of_work(self.factory) as session:
            for theme_id, (title, phrases) in zip(joined, names, strict=False):
                theme = session.get(Theme, theme_id)
                if theme is None or theme.curated:  # staff took it over meanwhile: leave it
                    continue
                theme.title = title[: theme_store.MAX_TITLE_CHARS]
                theme.key_phrases = phrases
                theme.updated_at = now
                session.add_all(_members(joined[theme_id], theme_id, now))
            for members, (title, phrases) in zip(formed, names[len(changed) :], strict=True):
                theme = Theme(
                    category=members[0].category,
                    title=title[: theme_store.MAX_TITLE_CHARS],
                    key_phrases=phrases,
                    curated=False,
                    state="active",
                    created_at=now,
                    updated_at=now,
                )
                session.add(theme)
                session.flush()
                session.add_all(_members([m.id for m in members], theme.id, now))
        return sum(len(v) for v in joined.values()), len(formed)

    def give_up(self, _target: int, _error: str) -> None:
        """Nothing to undo: the previous themes stay until a later pass succeeds."""


def request_recompute(session: Session) -> Job:
    """Queue a full re-form unless one is already waiting (what the API's recompute calls)."""
    waiting = session.scalar(
        select(Job).where(Job.kind == RECOMPUTE_THEMES_JOB, Job.state == "queued").order_by(Job.id).limit(1)
    )
    return waiting or job_queue.enqueue(session, RECOMPUTE_THEMES_JOB, None)


def request_join(session: Session) -> Job:
    """Queue the incremental pass after a suggestion was classified, unless one is already waiting
    (one pass places every suggestion no theme holds yet)."""
    waiting = session.scalar(
        select(Job).where(Job.kind == JOIN_THEMES_JOB, Job.state == "queued").order_by(Job.id).limit(1)
    )
    return waiting or job_queue.enqueue(session, JOIN_THEMES_JOB, None)


def request_nightly(session: Session, now: datetime, settings: ThemeSettings | None = None) -> Job | None:
    """Queue the full re-form when none finished since the last nightly hour (for a scheduler or
    cron: calling it often is harmless); None when it is not due."""
    hour = (settings or ThemeSettings()).reform_hour
    last = _last_reform(session)
    if last is not None:
        last = last if last.tzinfo is not None else last.replace(tzinfo=now.tzinfo)
        if last >= _last_nightly(now, hour):
            return None
    return request_recompute(session)
