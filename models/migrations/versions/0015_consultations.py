"""published consultation topics: short link, clauses, villagers' opinions, meetings and outcome

Revision ID: 0015_consultations
Revises: 0014_township_terms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_consultations"
down_revision = "0014_township_terms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("short_code", sa.String(length=16), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("outcome_by", sa.String(length=200), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["topic_id"], ["consultation_topics.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("short_code"),
        sa.UniqueConstraint("topic_id"),
    )
    op.create_table(
        "consultation_clauses",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultations.id"]),
        sa.PrimaryKeyConstraint("consultation_id", "number"),
    )
    op.create_table(
        "consultation_opinions",
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("clause_number", sa.Integer(), nullable=True),
        sa.Column("stance", sa.String(length=16), nullable=True),
        sa.Column("stance_source", sa.String(length=16), nullable=True),
        sa.Column("stance_by", sa.String(length=200), nullable=True),
        sa.Column("stance_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultations.id"]),
        sa.ForeignKeyConstraint(["suggestion_id"], ["suggestions.id"]),
        sa.PrimaryKeyConstraint("suggestion_id"),
    )
    op.create_index(
        op.f("ix_consultation_opinions_consultation_id"), "consultation_opinions", ["consultation_id"]
    )
    op.create_table(
        "consultation_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("deputies", sa.Text(), nullable=True),
        sa.Column("departments", sa.Text(), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("decisions", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_consultation_meetings_consultation_id"), "consultation_meetings", ["consultation_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_consultation_meetings_consultation_id"), table_name="consultation_meetings")
    op.drop_table("consultation_meetings")
    op.drop_index(op.f("ix_consultation_opinions_consultation_id"), table_name="consultation_opinions")
    op.drop_table("consultation_opinions")
    op.drop_table("consultation_clauses")
    op.drop_table("consultations")
