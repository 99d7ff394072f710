"""Suggestion papers as staff see them: the saved draft if there is one, else the generated text.

Saving checks and cleans every field (no control characters, bounded lengths, the guard against
personal data); its errors are message ids, shown in the reader's language by the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.errors import InvalidInput, NotFound
from models.papers.compose import Draft, compose, guard, heading
from models.papers.facts import DEFAULT_MIN_RATINGS, PaperFacts, known_personal, paper_facts
from models.papers.tables import PaperDraft
from models.themes import store as theme_store

MAX_TITLE_CHARS = 300
MAX_TEXT_CHARS = 20_000
MAX_QUOTE_CHARS = 2_000
MAX_QUOTES = 10
LANGS = ("zh", "en")
# Control characters (C0 and C1, DEL) other than tab and line feed, and the non-characters that XML
# (a .docx) cannot hold: they have no place in a paper.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Paper:
    """A theme's paper: its facts, its text, and whether the text is a saved edit."""

    facts: PaperFacts
    draft: Draft
    lang: str  # the language the text was written in
    saved: bool
    updated_by: str | None = None
    updated_at: datetime | None = None


def _active_theme(session: Session, theme_id: int) -> None:
    theme = theme_store.get_theme(session, theme_id)
    if theme.state != "active":
        raise NotFound(
            "Theme %(theme_id)s was merged into theme %(merged_into_id)s.",
            theme_id=theme_id,
            merged_into_id=theme.merged_into_id,
        )


def current_paper(
    session: Session,
    theme_id: int,
    now: datetime,
    *,
    lang: str = "zh",
    tz: tzinfo = UTC,
    min_ratings: int = DEFAULT_MIN_RATINGS,
) -> Paper:
    """The paper of an active theme: the saved draft, or text generated now in ``lang``."""
    facts = paper_facts(session, theme_id, now, tz=tz, min_ratings=min_ratings)
    row = session.scalar(select(PaperDraft).where(PaperDraft.theme_id == theme_id))
    if row is None:
        return Paper(facts, compose(facts, lang), lang, saved=False)
    draft = Draft(row.title, row.background, [str(q) for q in row.quotes or []], row.handling, row.proposal)
    # Guarded again on the way out: a villager's name given after the draft was saved stays out too.
    draft = guard(draft, facts.known_names, facts.known_phones)
    return Paper(facts, draft, row.lang, saved=True, updated_by=row.updated_by, updated_at=row.updated_at)


def _clean(text: str | None) -> str:
    return _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


def _bounded(text: str, key: str, limit: int) -> str:
    if len(text) > limit:
        raise InvalidInput(
            "The %(what)s is too long (%(count)s characters; at most %(limit)s).",
            what=heading(key, "en"),
            count=len(text),
            limit=limit,
        )
    return text


def clean_draft(draft: Draft) -> Draft:
    """``draft`` as it may be stored; InvalidInput for a missing title or a field too long."""
    title = _bounded(_clean(draft.title), "title", MAX_TITLE_CHARS)
    if not title:
        raise InvalidInput("Please give the paper a title.")
    quotes = [_bounded(q, "quotes", MAX_QUOTE_CHARS) for q in map(_clean, draft.quotes) if q]
    if len(quotes) > MAX_QUOTES:
        raise InvalidInput("Keep at most %(count)s quotes.", count=MAX_QUOTES)
    return Draft(
        title=title,
        background=_bounded(_clean(draft.background), "background", MAX_TEXT_CHARS),
        quotes=quotes,
        handling=_bounded(_clean(draft.handling), "handling", MAX_TEXT_CHARS),
        proposal=_bounded(_clean(draft.proposal), "proposal", MAX_TEXT_CHARS),
    )


def save_draft(
    session: Session, theme_id: int, draft: Draft, *, lang: str, actor: str, now: datetime
) -> PaperDraft:
    """Store staff's text of a theme's paper (replacing an earlier save), cleaned and guarded.

    ``lang`` is the language of the page the edit came from, the language of the text.
    """
    lang = lang if lang in LANGS else "zh"
    _active_theme(session, theme_id)
    names, phones = known_personal(session, theme_id)
    text = guard(clean_draft(draft), names, phones)
    row = session.scalar(select(PaperDraft).where(PaperDraft.theme_id == theme_id))
    if row is None:
        row = PaperDraft(theme_id=theme_id, created_by=actor, created_at=now)
        session.add(row)
    row.lang = lang
    row.title = text.title
    row.background = text.background
    row.quotes = list(text.quotes)
    row.handling = text.handling
    row.proposal = text.proposal
    row.updated_by = actor
    row.updated_at = now
    session.flush()
    return row


def discard_draft(session: Session, theme_id: int) -> bool:
    """Forget the saved text, so the paper is generated afresh; True if there was one."""
    theme_store.get_theme(session, theme_id)
    result = session.execute(delete(PaperDraft).where(PaperDraft.theme_id == theme_id))
    return bool(getattr(result, "rowcount", 0))
