"""Stored classifier versions and the active pointer (MLflow "alias" convention, not "newest file").

A version's files live under the registry's root on the node that trained it and, byte for
byte, in the database (models.artefacts): a node without the files (another machine of a
deployment, a fresh data directory) writes them back from the database before loading them, so
no shared directory is needed. Loading always checks the sha256 recorded with the version. The
registry's models keep the sentence vectors of the texts they read in the same database
(classify.vector_store), so a text is embedded once for every node and every later retraining.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from classify.learning import SEED, SourcedExample, assemble, train_candidate
from classify.meaning import kept_vectors
from classify.model import METADATA_FILE, MODEL_FILE, Classifier, ModelIntegrityError
from classify.train import read_labelled_csv, seed_paths
from classify.vector_store import DatabaseVectorStore
from models.db import unit_of_work
from models.errors import Unavailable
from models.reviews import artefacts, classifiers
from models.reviews import queries as review_queries
from models.reviews.tables import ClassifierVersion


class NoActiveClassifier(Unavailable):
    """No classifier version is active yet."""

    kind = "NoActiveClassifier"


def register_artefact(
    session: Session, model_dir: Path, root: Path, *, state: str, note: str | None
) -> ClassifierVersion:
    """Record a saved artefact directory (path stored relative to ``root``) and keep its files."""
    meta_text = (model_dir / METADATA_FILE).read_text(encoding="utf-8")
    meta = json.loads(meta_text)
    version = classifiers.add_classifier_version(
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
    model_file = str(meta.get("model_file", MODEL_FILE))
    artefacts.store_artefact(
        session, version.id, model_file, (model_dir / model_file).read_bytes(), meta_text
    )
    return version


class ClassifierRegistry:
    """Loads the active classifier once and reloads it when the pointer moves."""

    def __init__(self, factory: sessionmaker[Session], root: Path) -> None:
        self.factory = factory
        self.root = root
        self.vectors = DatabaseVectorStore(factory)
        self._lock = threading.Lock()
        self._loaded: tuple[int, Classifier] | None = None

    def ensure_active(self) -> int:
        """Make sure a version is active; on first start train the seed model (deterministic).

        The seed model learns from the seed set minus its share of the fixed evaluation set
        (classify.learning), so later candidates are compared with it on texts neither has seen.
        """
        with unit_of_work(self.factory) as session:
            active = classifiers.active_classifier(session)
            if active is not None:
                return active.id
        out_dir = self.root / "seed-v1"
        if not (out_dir / "metadata.json").is_file():
            seed = [SourcedExample(e.text, e.label, SEED) for e in read_labelled_csv(seed_paths())]
            with kept_vectors(self.vectors):
                train_candidate(assemble(seed), out_dir, random_state=0, note="seed model")
        with unit_of_work(self.factory) as session:
            active = classifiers.active_classifier(session)
            if active is not None:  # another process got there first
                return active.id
            version = register_artefact(
                session, out_dir, self.root, state="candidate", note="seed model trained on first start"
            )
            classifiers.activate_classifier(session, version.id)
            return version.id

    def active(self) -> tuple[int, Classifier]:
        """(version id, loaded classifier) of the active version."""
        with unit_of_work(self.factory) as session:
            version = classifiers.active_classifier(session)
            if version is None:
                raise NoActiveClassifier("No classifier is active. Train one or restart the server.")
            version_id = version.id
        with self._lock:
            if self._loaded is None or self._loaded[0] != version_id:
                classifier = self.load_version(version_id)
                classifier.prepare()  # its neighbour index now, not in the first note's classification
                self._loaded = (version_id, classifier)
            return self._loaded

    def load_version(self, version_id: int) -> Classifier:
        """Load a stored version, fetching its files from the database when this node lacks them.

        Raises ModelIntegrityError when the files are missing everywhere, or are not the artefact
        registered for this version (their sha256 differs from the database record).
        """
        with unit_of_work(self.factory) as session:
            version = review_queries.get_classifier_version(session, version_id)
            path, expected = version.artefact_path, version.sha256
        local = self.root / path
        if not (local / METADATA_FILE).is_file():
            self._fetch(version_id, local)
        classifier = Classifier.load(local)
        classifier.vector_store = self.vectors
        if classifier.metadata.get("sha256") != expected:
            raise ModelIntegrityError(
                "Classifier version %(version_id)s at %(path)s is not the artefact that was "
                "registered (its sha256 differs from the database record).",
                version_id=version_id,
                path=path,
            )
        with unit_of_work(self.factory) as session:
            if not artefacts.has_artefact(session, version_id):  # registered before artefacts were kept
                model_file = str(classifier.metadata.get("model_file", MODEL_FILE))
                data = (local / model_file).read_bytes()
                meta_text = (local / METADATA_FILE).read_text(encoding="utf-8")
                artefacts.store_artefact(session, version_id, model_file, data, meta_text)
        return classifier

    def _fetch(self, version_id: int, local: Path) -> None:
        """Write a version's files from the database to ``local`` (all at once, by a rename)."""
        with unit_of_work(self.factory) as session:
            row = artefacts.load_artefact(session, version_id)
            if row is None:
                return  # Classifier.load reports the missing files
            model_file, data, meta_text = row.model_file, row.model, row.metadata_json
        if Path(model_file).name != model_file:
            raise ModelIntegrityError(
                "Classifier version %(version_id)s names an odd model file '%(model_file)s'",
                version_id=version_id,
                model_file=model_file,
            )
        local.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=local.parent))
        try:
            (staging / model_file).write_bytes(data)
            (staging / METADATA_FILE).write_text(meta_text, encoding="utf-8")
            try:
                os.rename(staging, local)
            except OSError:
                if not (local / METADATA_FILE).is_file():  # not another process that got there first
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
