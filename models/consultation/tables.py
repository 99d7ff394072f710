"""Tables of published consultations: the topic's public page, its clauses, opinions and meetings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class Consultation(Base):
    """A published topic: its short public link, what it asks, and (once set) its outcome.

    ``topic_id`` is the promoted theme's consultation topic it was published from, if any: the
    villagers whose suggestions are in that theme see the outcome on their tracking page.
    """

    __tablename__ = "consultations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation_topics.id"), unique=True, nullable=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)  # words.Outcome
    outcome_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Clause(Base):
    """One numbered clause of the draft text a topic asks opinions on (立法征求意见)."""

    __tablename__ = "consultation_clauses"
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class Opinion(Base):
    """A villager's opinion: a suggestion of the consultation channel, on the topic or one clause.

    ``stance_source`` is ``machine`` (classify.stance) until a staff member corrects it (``staff``);
    a later machine pass never overwrites a staff decision.
    """

    __tablename__ = "consultation_opinions"
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    clause_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stance: Mapped[str | None] = mapped_column(String(16), nullable=True)  # words.Stance
    stance_source: Mapped[str | None] = mapped_column(String(16), nullable=True)  # machine | staff
    stance_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    stance_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Meeting(Base):
    """A themed reception or consultation meeting held on a topic, as staff recorded it."""

    __tablename__ = "consultation_meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # words.MeetingKind
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(300))
    deputies: Mapped[str | None] = mapped_column(Text, nullable=True)
    departments: Mapped[str | None] = mapped_column(Text, nullable=True)
    minutes: Mapped[str | None] = mapped_column(Text, nullable=True)
    decisions: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
