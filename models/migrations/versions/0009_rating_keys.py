"""rating keys: a villager rates with a secret from the receipt, not with the tracking code

Revision ID: 0009_rating_keys
Revises: 0008_classifier_artefacts

``suggestions.rating_key_hash`` holds the sha256 of the secret the receipt showed once; rows
stored before this revision get NULL and can no longer be rated anonymously (nobody holds a key
for them). ``idempotency_keys.rating_key`` keeps the secret itself for the client that chose the
Idempotency-Key, so that a retried submission gets the same receipt back; staff never read it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_rating_keys"
down_revision = "0008_classifier_artefacts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("suggestions", sa.Column("rating_key_hash", sa.String(length=64), nullable=True))
    op.add_column("idempotency_keys", sa.Column("rating_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("rating_key")
    with op.batch_alter_table("suggestions") as batch:
        batch.drop_column("rating_key_hash")
