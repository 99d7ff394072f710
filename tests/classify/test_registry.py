"""The classifier registry on a real database: seed model on first start, explicit active pointer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from classify.model import ModelIntegrityError
from classify.registry import ClassifierRegistry, NoActiveClassifier, register_artefact
from classify.train import read_labelled_csv, seed_paths, train_to_dir
from models.db import make_engine, make_session_factory, unit_of_work
from models.reviews import artefacts, classifiers
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
        version = classifiers.active_classifier(session)
        assert version is not None and version.state == "active"
        # Trained on the seed set minus its fixed evaluation share; scored on that share.
        seed_size = len(read_labelled_csv(seed_paths()))
        assert 0.6 * seed_size < version.n_examples < seed_size and version.metrics["macro_f1"] > 0.6
        assert version.metrics["eval_set"]["n"] + version.n_examples == seed_size


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
        classifiers.activate_classifier(session, english.id)
    assert registry.active()[0] == english.id
    with unit_of_work(db_factory) as session:
        classifiers.activate_classifier(session, seed_id)
    assert registry.active()[0] == seed_id
    # Someone replaces the registered artefact with another valid one: the database record catches it.
    with unit_of_work(db_factory) as session:
        version = classifiers.active_classifier(session)
        assert version is not None
        version.artefact_path = "english-only"
    with pytest.raises(ModelIntegrityError, match="sha256"):
        ClassifierRegistry(db_factory, root).active()  # the next process to load it


def test_another_node_loads_a_version_from_the_database_without_a_shared_directory(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    node_a = ClassifierRegistry(db_factory, tmp_path / "node-a")
    version_id = node_a.ensure_active()
    node_b = ClassifierRegistry(db_factory, tmp_path / "node-b")  # same database, empty data directory
    assert not (tmp_path / "node-b").exists()
    loaded_id, classifier = node_b.active()
    assert loaded_id == version_id
    texts = ["路灯坏了，晚上一片黑", "The bus stop has no shelter"]
    assert classifier.predict(texts) == node_a.active()[1].predict(texts)
    with db_factory() as session:
        path = classifiers.active_classifier(session).artefact_path  # type: ignore[union-attr]
    assert (tmp_path / "node-b" / path / "metadata.json").is_file()
    assert not [p for p in (tmp_path / "node-b").iterdir() if p.name.startswith(".fetch-")]


def test_files_changed_in_the_database_are_refused_by_the_next_node(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    version_id = ClassifierRegistry(db_factory, tmp_path / "node-a").ensure_active()
    with unit_of_work(db_factory) as session:
        row = artefacts.load_artefact(session, version_id)
        assert row is not None
        row.model = row.model[:-10] + b"0123456789"
    with pytest.raises(ModelIntegrityError, match="sha256"):
        ClassifierRegistry(db_factory, tmp_path / "node-c").active()


def test_a_version_registered_before_artefacts_were_kept_is_stored_on_first_load(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    root = tmp_path / "node-a"
    version_id = ClassifierRegistry(db_factory, root).ensure_active()
    with unit_of_work(db_factory) as session:  # as an older release left it: files on disk only
        session.delete(artefacts.load_artefact(session, version_id))
    ClassifierRegistry(db_factory, root).active()
    with db_factory() as session:
        assert artefacts.has_artefact(session, version_id)
    assert ClassifierRegistry(db_factory, tmp_path / "node-b").active()[0] == version_id
