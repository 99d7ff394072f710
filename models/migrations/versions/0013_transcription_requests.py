"""transcription requests of the OpenAI-compatible API: audio waiting for the worker, then its result

Revision ID: 0013_transcription_requests
Revises: 0012_paper_drafts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_transcription_requests"
down_revision = "0012_paper_drafts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcription_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("audio", sa.LargeBinary(), nullable=True),
        sa.Column("audio_format", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("word_timestamps", sa.Boolean(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error_kind", sa.String(length=64), nullable=True),
        sa.Column("error_base", sa.String(length=32), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_transcription_requests_state", "transcription_requests", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_transcription_requests_state", table_name="transcription_requests")
    op.drop_table("transcription_requests")
