"""The background job that regroups recent suggestions into themes (never run inside a request)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from classify.themes import ThemeOptions, cluster, key_phrases
from models import queries, theme_store
from models.db import unit_of_work, utcnow
from models.tables import Job

RECOMPUTE_THEMES_JOB = "recompute_themes"


@dataclass(frozen=True)
class ThemeSettings:
    """Which suggestions are grouped (the last ``window_days``) and how tightly."""

    window_days: int = 90
    options: ThemeOptions = field(default_factory=ThemeOptions)


class ThemeBuilder:
    """Recomputes the automatic themes; staff-curated themes and their members stay as they are."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: ThemeSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.factory = factory
        self.settings = settings or ThemeSettings()
        self.clock = clock

    def recompute(self, _target: int = 0) -> None:
        """Regroup the window's suggestions per category (the job handler)."""
        self.recompute_count()

    def recompute_count(self) -> int:
        """Regroup the window's suggestions per category; returns how many themes were stored."""
        now = self.clock()
        with unit_of_work(self.factory) as session:
            items = theme_store.clusterable(session, now - timedelta(days=self.settings.window_days))
        labels = cluster([i.text for i in items], self.settings.options, groups=[i.category for i in items])
        clusters: dict[int, list[theme_store.Clusterable]] = defaultdict(list)
        for item, label in zip(items, labels, strict=True):
            clusters[label].append(item)
        groups: list[theme_store.NewTheme] = []
        for found in clusters.values():
            if len(found) < self.settings.options.min_size:
                continue
            phrases = key_phrases([m.text for m in found])
            title = " · ".join(phrases[:3]) or found[0].text[:40]
            groups.append(theme_store.NewTheme(found[0].category, title, phrases, [m.id for m in found]))
        with unit_of_work(self.factory) as session:
            stored = theme_store.replace_automatic_themes(session, groups, now)
            return len(stored)

    def give_up(self, _target: int, _error: str) -> None:
        """Nothing to undo: the previous themes stay until a later recompute succeeds."""


def request_recompute(session: Session) -> Job:
    """Queue a recompute unless one is already waiting (what the API and the intake call)."""
    waiting = session.scalar(
        select(Job).where(Job.kind == RECOMPUTE_THEMES_JOB, Job.state == "queued").order_by(Job.id).limit(1)
    )
    return waiting or queries.enqueue_job(session, RECOMPUTE_THEMES_JOB, None)
