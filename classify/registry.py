"""Stored classifier versions and the active pointer (MLflow "alias" convention, not "newest file")."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from classify.learning import SEED, SourcedExample, assemble, train_candidate
from classify.model import Classifier, ModelIntegrityError
from classify.train import read_labelled_csv, seed_paths
from models import queries
from models.db import unit_of_work
from models.errors import DomainError
from models.tables import ClassifierVersion


class NoActiveClassifier(DomainError):
    """No classifier version is active yet."""

    kind = "NoActiveClassifier"


def register_artefact(
    session: Session, model_dir: Path, root: Path, *, state: str, note: str | None
) -> ClassifierVersion:
    """Record a saved artefact directory (path stored relative to ``root``)."""
    meta = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
    return queries.add_classifier_version(
        session,
        artefact_path=str(model_dir.relative_to(root)),
        sha256=meta["sha256"],
        data_fingerprint=meta["data_fingerprint"],
        n_examples=int(meta["n_examples"]),
        metrics=meta.get("metrics", {}),
        library_versions=meta.get("library_versions", {}),
        state=state,
        note=note,
    )


class ClassifierRegistry:
    """Loads the active classifier once and reloads it when the pointer moves."""

    def __init__(self, factory: sessionmaker[Session], root: Path) -> None:
        self.factory = factory
        self.root = root
        self._lock = threading.Lock()
        self._loaded: tuple[int, Classifier] | None = None

    def ensure_active(self) -> int:
        """Make sure a version is active; on first start train the seed model (deterministic).

        The seed model learns from the seed set minus its share of the fixed evaluation set
        (classify.learning), so later candidates are compared with it on texts neither has seen.
        """
        with unit_of_work(self.factory) as session:
            active = queries.active_classifier(session)
            if active is not None:
                return active.id
        out_dir = self.root / "seed-v1"
        if not (out_dir / "metadata.json").is_file():
            seed = [SourcedExample(e.text, e.label, SEED) for e in read_labelled_csv(seed_paths())]
            train_candidate(assemble(seed), out_dir, random_state=0, note="seed model")
        with unit_of_work(self.factory) as session:
            active = queries.active_classifier(session)
            if active is not None:  # another process got there first
                return active.id
            version = register_artefact(
                session, out_dir, self.root, state="candidate", note="seed model trained on first start"
            )
            queries.activate_classifier(session, version.id)
            return version.id

    def active(self) -> tuple[int, Classifier]:
        """(version id, loaded classifier) of the active version."""
        with unit_of_work(self.factory) as session:
            version = queries.active_classifier(session)
            if version is None:
                raise NoActiveClassifier("No classifier is active. Train one or restart the server.")
            version_id, path, expected = version.id, version.artefact_path, version.sha256
        with self._lock:
            if self._loaded is None or self._loaded[0] != version_id:
                classifier = Classifier.load(self.root / path)
                if classifier.metadata.get("sha256") != expected:
                    raise ModelIntegrityError(
                        f"Classifier version {version_id} at {path} is not the artefact that was registered "
                        "(its sha256 differs from the database record)."
                    )
                self._loaded = (version_id, classifier)
            return self._loaded
