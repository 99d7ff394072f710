"""Reads and writes of the township vocabulary, and the rule that finds new terms in a correction.

A clerk's correction of a machine transcript teaches recognition the words it missed: the spans the
correction inserts or replaces (widened to whole words), kept when they are 2 to 8 Chinese
characters. Village and department names come from the directory. Nothing here commits.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.directory.tables import Department, Deputy, RoutingRule
from models.errors import Conflict, InvalidInput, NotFound
from models.township.tables import MAX_TERM_CHARS, Term, TermSource

MIN_LEARNED_CHARS = 2
MAX_LEARNED_CHARS = 8
# How much of the vocabulary recognition is given at most (Whisper's prompt window is small).
MAX_HINT_CHARS = 80
HINT_SEPARATOR = "，"
# Single characters that end or join phrases rather than belong to a name.
FUNCTION_CHARS = frozenset("的了在是和与及把被也都就还又很不没有我你他她它这那要会让给对从到向")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


class TermNotFound(NotFound):
    """No vocabulary term has this id."""

    kind = "TermNotFound"


class TermExists(Conflict):
    """The term is already in the vocabulary."""

    kind = "TermExists"


def clean_term(raw: str) -> str:
    """A term as stored: NFKC, spaces collapsed; refused when empty, too long or holding control
    characters (it is shown to staff and given to recognition, so it must be one short line)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise InvalidInput("The term holds control characters.")
    text = " ".join(text.split())
    if not text:
        raise InvalidInput("The term is empty.")
    if len(text) > MAX_TERM_CHARS:
        raise InvalidInput(
            "The term is too long (at most %(max_term_chars)s characters).",
            max_term_chars=MAX_TERM_CHARS,
        )
    return text


@cache
def _tokenizer() -> Any:
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def _word_bounds(text: str) -> list[tuple[int, int]]:
    return [(start, end) for _, start, end in _tokenizer().tokenize(text)]


def _loose_char(text: str, bound: tuple[int, int]) -> bool:
    piece = text[bound[0] : bound[1]]
    return len(piece) == 1 and bool(_CJK_RUN.match(piece)) and piece not in FUNCTION_CHARS


def correction_terms(heard: str, corrected: str) -> list[str]:
    """New terms in ``corrected`` compared with the machine's ``heard`` text, in reading order.

    Each inserted or replaced span of the corrected text is widened to the jieba words it touches
    and the lone characters next to them (an unknown name comes out of jieba in pieces); spans that
    overlap join while they stay short. Chinese runs of 2 to 8 characters are kept whole, longer
    runs give their words of 2 to 8.
    """
    matcher = difflib.SequenceMatcher(None, heard, corrected, autojunk=False)
    changed = [(j1, j2) for op, _, _, j1, j2 in matcher.get_opcodes() if op in ("replace", "insert")]
    if not changed:
        return []
    bounds = _word_bounds(corrected)
    spans: list[tuple[int, int]] = []
    for j1, j2 in changed:
        touched = [i for i, (s, e) in enumerate(bounds) if s < j2 and e > j1]
        first, last = touched[0], touched[-1]
        # A name jieba does not know falls apart into single characters: take them in.
        while first > 0 and _loose_char(corrected, bounds[first - 1]):
            first -= 1
        while last + 1 < len(bounds) and _loose_char(corrected, bounds[last + 1]):
            last += 1
        start, end = bounds[first][0], bounds[last][1]
        if spans and start < spans[-1][1]:
            if max(end, spans[-1][1]) - spans[-1][0] <= MAX_LEARNED_CHARS:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
                continue
            start = spans[-1][1]  # too long together: two terms, side by side
        if start < end:
            spans.append((start, end))
    found: list[str] = []
    for start, end in spans:
        for run in _CJK_RUN.finditer(corrected, start, end):
            if len(run.group()) <= MAX_LEARNED_CHARS:
                found.append(run.group())
            else:
                words = _tokenizer().lcut(run.group())
                found.extend(w for w in words if MIN_LEARNED_CHARS <= len(w) <= MAX_LEARNED_CHARS)
    return list(dict.fromkeys(t for t in found if len(t) >= MIN_LEARNED_CHARS))


def _by_text(session: Session, texts: Iterable[str]) -> dict[str, Term]:
    wanted = list(dict.fromkeys(texts))
    if not wanted:
        return {}
    return {t.text: t for t in session.scalars(select(Term).where(Term.text.in_(wanted)))}


def _count(session: Session, texts: Sequence[str], source: TermSource, now: datetime) -> list[Term]:
    """Count one more sighting of each term, adding the new ones (a disabled term stays disabled)."""
    known = _by_text(session, texts)
    out = []
    for text in dict.fromkeys(texts):
        term = known.get(text)
        if term is None:
            term = Term(text=text, source=source, count=1, enabled=True, created_at=now, updated_at=now)
            session.add(term)
        else:
            term.count += 1
            term.updated_at = now
        out.append(term)
    session.flush()
    return out


def learn_from_correction(session: Session, heard: str, corrected: str, now: datetime) -> list[Term]:
    """Store what a clerk's correction adds to the machine transcript ``heard``."""
    return _count(session, correction_terms(heard, corrected), TermSource.CORRECTION, now)


def _directory_names(session: Session) -> list[tuple[str, TermSource]]:
    villages = [
        *session.scalars(select(RoutingRule.village).where(RoutingRule.village.is_not(None))),
        *session.scalars(select(Deputy.village).where(Deputy.village.is_not(None))),
    ]
    names = [(v, TermSource.VILLAGE) for v in villages if v]
    names += [(d, TermSource.DEPARTMENT) for d in session.scalars(select(Department.name_zh)) if d]
    return names


def sync_directory(session: Session, now: datetime) -> list[Term]:
    """Add the directory's village and department names that the vocabulary does not hold yet."""
    wanted: dict[str, TermSource] = {}
    for raw, source in _directory_names(session):
        try:
            wanted.setdefault(clean_term(raw), source)
        except InvalidInput:
            continue  # a name too long to be a useful hint is simply not offered
    known = _by_text(session, wanted)
    added = [
        Term(text=text, source=source, count=1, enabled=True, created_at=now, updated_at=now)
        for text, source in wanted.items()
        if text not in known
    ]
    session.add_all(added)
    session.flush()
    return added


def add_term(session: Session, raw: str, now: datetime) -> Term:
    """An admin's term; an existing disabled one is enabled again, an enabled one is a conflict."""
    text = clean_term(raw)
    term = _by_text(session, [text]).get(text)
    if term is not None:
        if term.enabled:
            raise TermExists("“%(text)s” is already in the vocabulary.", text=text)
        term.enabled = True
        term.updated_at = now
    else:
        term = Term(text=text, source=TermSource.ADMIN, count=1, enabled=True, created_at=now, updated_at=now)
        session.add(term)
    session.flush()
    return term


def get_term(session: Session, term_id: int) -> Term:
    """The term with this id."""
    term = session.get(Term, term_id)
    if term is None:
        raise TermNotFound("There is no term %(term_id)s.", term_id=term_id)
    return term


def set_enabled(session: Session, term_id: int, enabled: bool, now: datetime) -> Term:
    """Turn a term on or off for recognition (it is kept either way)."""
    term = get_term(session, term_id)
    term.enabled = enabled
    term.updated_at = now
    session.flush()
    return term


def terms(session: Session) -> Sequence[Term]:
    """Every term, enabled first, the most often seen first."""
    return session.scalars(select(Term).order_by(Term.enabled.desc(), Term.count.desc(), Term.id)).all()


def recognition_hint(session: Session, max_chars: int = MAX_HINT_CHARS) -> str:
    """The enabled terms, most often seen first, joined into one line of at most ``max_chars``."""
    picked: list[str] = []
    used = 0
    rows = session.scalars(select(Term.text).where(Term.enabled).order_by(Term.count.desc(), Term.id))
    for text in rows:
        extra = len(text) + (len(HINT_SEPARATOR) if picked else 0)
        if used + extra > max_chars:
            continue
        picked.append(text)
        used += extra
    return HINT_SEPARATOR.join(picked)
