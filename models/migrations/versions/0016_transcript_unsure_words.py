"""transcripts: the share of words the speech engine was unsure of (orders the review queue)

Revision ID: 0016_transcript_unsure_words
Revises: 0015_consultations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_transcript_unsure_words"
down_revision = "0015_consultations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transcripts", sa.Column("unsure_word_share", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("transcripts", "unsure_word_share")
