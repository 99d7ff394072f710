"""classifier artefacts in the database (every node can load every version)

Revision ID: 0008_classifier_artefacts
Revises: 0007_themes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_classifier_artefacts"
down_revision = "0007_themes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classifier_artefacts",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("model_file", sa.String(length=200), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["classifier_versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("version_id"),
    )


def downgrade() -> None:
    op.drop_table("classifier_artefacts")
