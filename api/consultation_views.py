"""What staff and villagers see of a published topic, shared by the JSON API and the pages: the
topic with its clauses, counts and scrubbed opinions, and the poster's QR code."""

from __future__ import annotations

import io
from collections import Counter
from urllib.parse import quote

import segno
from markupsafe import Markup
from sqlalchemy.orm import Session

from api.consultation_schemas import (
    ClauseOut,
    ConsultationDetailOut,
    ConsultationOut,
    MeetingOut,
    OpinionOut,
    OpinionThemeOut,
)
from classify.opinion_themes import group_opinions
from models.consultation import queries
from models.consultation.tables import Consultation, Meeting
from models.privacy import scrub

UNCLASSIFIED = "unclassified"
WHOLE_TOPIC = "topic"


def public_path(consultation: Consultation) -> str:
    """The short public link of a topic (what the poster's QR code holds)."""
    return f"/t/{quote(consultation.short_code, safe='')}"


def summary(session: Session, consultation: Consultation) -> ConsultationOut:
    """A topic with its clauses."""
    return ConsultationOut(
        id=consultation.id,
        short_code=consultation.short_code,
        link=public_path(consultation),
        topic_id=consultation.topic_id,
        title=consultation.title,
        description=consultation.description,
        published_by=consultation.published_by,
        published_at=consultation.published_at,
        outcome=consultation.outcome,
        outcome_note=consultation.outcome_note,
        clauses=[ClauseOut(number=c.number, text=c.text) for c in queries.clauses(session, consultation.id)],
    )


def detail(session: Session, consultation: Consultation) -> ConsultationDetailOut:
    """A topic as staff read it: counts per stance and clause, opinions scrubbed of personal data
    (as the public feed does: a topic's page may be shown in a meeting) and grouped into themes,
    meetings."""
    counts = queries.counts(session, consultation.id)
    opinions = [
        OpinionOut(
            suggestion_id=s.id,
            tracking_code=s.tracking_code,
            channel=s.channel,
            status=s.status,
            clause_number=o.clause_number,
            stance=o.stance,
            stance_source=o.stance_source,
            text=scrub(s.text, names=[s.submitter_name], phones=[s.submitter_phone], addresses=[s.address])
            if s.text
            else None,
            submitted_at=s.submitted_at,
        )
        for o, s in queries.opinions(session, consultation.id)
    ]
    return ConsultationDetailOut(
        **summary(session, consultation).model_dump(),
        counts_by_stance={stance or UNCLASSIFIED: n for stance, n in counts.by_stance.items()},
        counts_by_clause={
            str(clause) if clause is not None else WHOLE_TOPIC: {s or UNCLASSIFIED: n for s, n in per.items()}
            for clause, per in sorted(counts.by_clause.items(), key=_whole_topic_first)
        },
        opinions=opinions,
        themes=themes_of(opinions),
        meetings=[meeting_out(m) for m in queries.meetings(session, consultation.id)],
    )


def themes_of(opinions: list[OpinionOut]) -> list[OpinionThemeOut]:
    """The opinions grouped by what they say (on the scrubbed texts: no name becomes a key phrase),
    each theme with its counts per stance."""
    out = []
    for theme in group_opinions([o.text for o in opinions]):
        members = [opinions[i] for i in theme.members]
        counts = Counter(o.stance or UNCLASSIFIED for o in members)
        out.append(
            OpinionThemeOut(
                title=theme.title,
                key_phrases=theme.key_phrases,
                counts_by_stance=dict(sorted(counts.items())),
                suggestion_ids=[o.suggestion_id for o in members],
            )
        )
    return out


def _whole_topic_first(item: tuple[int | None, object]) -> tuple[bool, int]:
    return item[0] is not None, item[0] or 0


def meeting_out(m: Meeting) -> MeetingOut:
    """A recorded meeting."""
    return MeetingOut(
        id=m.id, kind=m.kind, held_on=m.held_on, place=m.place, deputies=m.deputies,
        departments=m.departments, minutes=m.minutes, decisions=m.decisions,
        recorded_by=m.recorded_by, recorded_at=m.recorded_at,
    )  # fmt: skip


def qr_svg(url: str) -> Markup:
    """The QR code of ``url`` as an inline SVG element (no script, no external image: the pages'
    CSP holds). The URL is ours (base URL and a short code of our alphabet), so the markup is safe."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", xmldecl=False, svgns=True, nl=False, scale=8, border=4)
    return Markup(out.getvalue().decode("ascii"))
