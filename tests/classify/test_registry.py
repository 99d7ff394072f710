"""The classifier registry on a real database: seed model on first start, explicit active pointer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from classify.model import ModelIntegrityError
from classify.registry import ClassifierRegistry, NoActiveClassifier, register_artefact
from classify.train import seed_paths, train_to_dir
from models import queries
from models.db import make_engine, make_session_factory, unit_of_work
from tests.databases import TestDatabases


def test_first_start_trains_and_activates_the_seed_model_once(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    registry = ClassifierRegistry(db_factory, tmp_path / "classifiers")
    with pytest.raises(NoActiveClassifier):
        registry.active()
    first = registry.ensure_active()
    assert registry.ensure_active() == first  # no second training, no second version
    version_id, classifier = registry.active()
    assert version_id == first
    assert classifier.predict(["路灯坏了，晚上一片黑"])[0].label == "power"
    with db_factory() as session:
        version = queries.active_classifier(session)
        assert version is not None and version.state == "active"
        assert version.n_examples == 1042 and version.metrics["macro_f1"] > 0.6


def test_the_seed_model_is_deterministic(
    db_factory: sessionmaker[Session], tmp_path: Path, test_databases: TestDatabases
) -> None:
    a = ClassifierRegistry(db_factory, tmp_path / "a")
    a.ensure_active()
    other = make_engine(test_databases.new())
    b = ClassifierRegistry(make_session_factory(other), tmp_path / "b")
    b.ensure_active()
    texts = ["The bus stop has no shelter", "河水发黑发臭", "my pension is late"]
    pa = a.active()[1].predict(texts)
    pb = b.active()[1].predict(texts)
    assert pa == pb
    other.dispose()


def test_moving_the_pointer_switches_the_model_and_a_swapped_artefact_is_refused(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    root = tmp_path / "classifiers"
    registry = ClassifierRegistry(db_factory, root)
    seed_id = registry.ensure_active()
    train_to_dir(seed_paths()[:1], root / "english-only")
    with unit_of_work(db_factory) as session:
        english = register_artefact(session, root / "english-only", root, state="candidate", note="test")
        queries.activate_classifier(session, english.id)
    assert registry.active()[0] == english.id
    with unit_of_work(db_factory) as session:
        queries.activate_classifier(session, seed_id)
    assert registry.active()[0] == seed_id
    # Someone replaces the registered artefact with another valid one: the database record catches it.
    with unit_of_work(db_factory) as session:
        version = queries.active_classifier(session)
        assert version is not None
        version.artefact_path = "english-only"
    with pytest.raises(ModelIntegrityError, match="sha256"):
        ClassifierRegistry(db_factory, root).active()  # the next process to load it
