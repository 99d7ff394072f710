"""paper drafts: the text staff edited of a theme's suggestion paper (建议书)

Revision ID: 0012_paper_drafts
Revises: 0011_job_target
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_paper_drafts"
down_revision = "0011_job_target"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("background", sa.Text(), nullable=False),
        sa.Column("quotes", sa.JSON(), nullable=False),
        sa.Column("handling", sa.Text(), nullable=False),
        sa.Column("proposal", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["theme_id"], ["themes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("theme_id"),
    )


def downgrade() -> None:
    op.drop_table("paper_drafts")
