"""embedding cache: each text's sentence vector, computed once and shared by every node

Revision ID: 0010_embedding_cache
Revises: 0009_rating_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_embedding_cache"
down_revision = "0009_rating_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embedding_cache",
        sa.Column("encoder", sa.String(length=64), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("encoder", "text_sha256"),
    )


def downgrade() -> None:
    op.drop_table("embedding_cache")
