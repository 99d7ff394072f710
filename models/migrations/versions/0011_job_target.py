"""jobs.target_id: what a job works on, read by its kind (was suggestion_id, a foreign key to suggestions)

Revision ID: 0011_job_target
Revises: 0010_embedding_cache
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_job_target"
down_revision = "0010_embedding_cache"
branch_labels = None
depends_on = None

# 0001 left the foreign key unnamed: PostgreSQL named it, SQLite's batch copy names it by this rule.
_NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _foreign_key_name() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "jobs_suggestion_id_fkey"
    return "fk_jobs_suggestion_id_suggestions"


def upgrade() -> None:
    with op.batch_alter_table("jobs", naming_convention=_NAMING) as batch_op:
        batch_op.drop_constraint(_foreign_key_name(), type_="foreignkey")
        batch_op.drop_index("ix_jobs_suggestion_id")
        batch_op.alter_column("suggestion_id", new_column_name="target_id", existing_type=sa.Integer())
    op.create_index("ix_jobs_target_id", "jobs", ["target_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_jobs_target_id", "jobs")
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.alter_column("target_id", new_column_name="suggestion_id", existing_type=sa.Integer())
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.create_foreign_key(_foreign_key_name(), "suggestions", ["suggestion_id"], ["id"])
    op.create_index("ix_jobs_suggestion_id", "jobs", ["suggestion_id"], unique=False)
