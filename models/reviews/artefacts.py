"""Classifier artefacts kept in the database, so every node of a deployment can load any version.

A version's files are first written to the data directory of the node that trained it; the same
bytes are stored here when the version is registered. A node that lacks the files (another
machine, a fresh data directory) writes them back from this table before loading them, and the
sha256 recorded with the version still decides whether they may be loaded.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base


class ClassifierArtefact(Base):
    """The stored files of one classifier version: the model file and its metadata.json."""

    __tablename__ = "classifier_artefacts"
    version_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("classifier_versions.id", ondelete="CASCADE"), primary_key=True
    )
    model_file: Mapped[str] = mapped_column(String(200))
    model: Mapped[bytes] = mapped_column(LargeBinary)
    metadata_json: Mapped[str] = mapped_column(Text)


def store_artefact(
    session: Session, version_id: int, model_file: str, model: bytes, metadata_json: str
) -> None:
    """Keep a version's files (replacing what was kept for it before)."""
    row = session.get(ClassifierArtefact, version_id)
    if row is None:
        session.add(
            ClassifierArtefact(
                version_id=version_id, model_file=model_file, model=model, metadata_json=metadata_json
            )
        )
    else:
        row.model_file, row.model, row.metadata_json = model_file, model, metadata_json
    session.flush()


def has_artefact(session: Session, version_id: int) -> bool:
    """Whether the database holds the files of this version (without reading them)."""
    found = session.scalar(
        select(ClassifierArtefact.version_id).where(ClassifierArtefact.version_id == version_id)
    )
    return found is not None


def load_artefact(session: Session, version_id: int) -> ClassifierArtefact | None:
    """The stored files of a version, if the database holds them."""
    return session.get(ClassifierArtefact, version_id)
