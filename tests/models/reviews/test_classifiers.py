"""Classifier versions: one active at a time."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work
from models.reviews import classifiers


def test_one_active_classifier_at_a_time(db_factory: sessionmaker[Session]) -> None:
    fields = dict(artefact_path="a", sha256="0" * 64, data_fingerprint="f", n_examples=1)
    with unit_of_work(db_factory) as session:
        v1 = classifiers.add_classifier_version(session, **fields)
        v2 = classifiers.add_classifier_version(session, **fields)
        classifiers.activate_classifier(session, v1.id)
        classifiers.activate_classifier(session, v2.id)
    with db_factory() as session:
        active = classifiers.active_classifier(session)
        assert active is not None and active.id == v2.id
        assert session.get(type(active), v1.id).state == "retired"  # type: ignore[union-attr]
