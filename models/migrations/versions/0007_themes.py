"""themes, theme members, consultation topics, duplicate links

Revision ID: 0007_themes
Revises: 0004_workflow
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_themes"
down_revision = "0004_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("key_phrases", sa.JSON(), nullable=False),
        sa.Column("curated", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merged_into_id"], ["themes.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_themes_category"), "themes", ["category"], unique=False)
    op.create_table(
        "theme_members",
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["suggestion_id"], ["suggestions.id"]),
        sa.ForeignKeyConstraint(["theme_id"], ["themes.id"]),
        sa.PrimaryKeyConstraint("suggestion_id"),
    )
    op.create_index(op.f("ix_theme_members_theme_id"), "theme_members", ["theme_id"], unique=False)
    op.create_table(
        "consultation_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["theme_id"], ["themes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("theme_id"),
    )
    op.create_table(
        "duplicate_links",
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("matched_on", sa.String(length=16), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["duplicate_of_id"], ["suggestions.id"]),
        sa.ForeignKeyConstraint(["suggestion_id"], ["suggestions.id"]),
        sa.PrimaryKeyConstraint("suggestion_id"),
    )
    op.create_index(
        op.f("ix_duplicate_links_duplicate_of_id"), "duplicate_links", ["duplicate_of_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_duplicate_links_duplicate_of_id"), table_name="duplicate_links")
    op.drop_table("duplicate_links")
    op.drop_table("consultation_topics")
    op.drop_index(op.f("ix_theme_members_theme_id"), table_name="theme_members")
    op.drop_table("theme_members")
    op.drop_index(op.f("ix_themes_category"), table_name="themes")
    op.drop_table("themes")
