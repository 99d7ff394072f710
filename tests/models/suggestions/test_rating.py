"""Rating keys in the database: the 0009 upgrade on a database that already holds suggestions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, insert

from models.db import MIGRATIONS_DIR, make_engine, make_session_factory, unit_of_work, upgrade
from models.suggestions import rating
from models.suggestions.idempotency import find_key
from models.suggestions.queries import get_by_tracking_code
from tests.databases import TestDatabases

BEFORE = "0008_classifier_artefacts"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
OLD_ROW = {
    "tracking_code": "AB2C-D3EF",
    "channel": "text",
    "submitted_at": T0,
    "updated_at": T0,
    "requested_language": "auto",
    "text": "村口路灯坏了",
    "status": "resolved",
    "result_note": "已修好",
}


def test_upgrade_keeps_earlier_suggestions_which_then_cannot_be_rated_anonymously(
    test_databases: TestDatabases,
) -> None:
    engine = make_engine(test_databases.new(migrated=False))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, BEFORE)
    old = MetaData()
    old.reflect(engine, only=["suggestions", "idempotency_keys"])
    with engine.begin() as conn:
        inserted = conn.execute(insert(old.tables["suggestions"]).values(OLD_ROW)).inserted_primary_key
        assert inserted is not None
        sid = inserted[0]
        conn.execute(
            insert(old.tables["idempotency_keys"]).values(
                key="phone-retry-1", fingerprint="0" * 64, suggestion_id=sid, created_at=T0
            )
        )

    upgrade(engine)

    factory = make_session_factory(engine)
    with factory() as session:
        s = get_by_tracking_code(session, "AB2C-D3EF")
        assert (s.id, s.text, s.status, s.rating_key_hash) == (sid, "村口路灯坏了", "resolved", None)
        use = find_key(session, "phone-retry-1")
        assert use is not None and (use.suggestion_id, use.rating_key) == (sid, None)
    for key in (None, "", rating.new_rating_key()):
        with (
            pytest.raises(rating.RatingRefused, match="call the township office"),
            unit_of_work(factory) as session,
        ):
            rating.rate_as_villager(session, "AB2C-D3EF", key, score=5, comment=None, now=T0)
    with factory() as session:
        assert get_by_tracking_code(session, "AB2C-D3EF").satisfaction is None
    engine.dispose()
