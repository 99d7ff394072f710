"""township vocabulary: terms recognition should expect (corrections, villages, departments, admin)

Revision ID: 0014_township_terms
Revises: 0013_transcription_requests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_township_terms"
down_revision = "0013_transcription_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "township_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("text"),
    )


def downgrade() -> None:
    op.drop_table("township_terms")
