"""Classifier versions: which one is active, registering a new one, promoting one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.db import utcnow
from models.errors import NotFound
from models.reviews.tables import ClassifierVersion


def active_classifier(session: Session) -> ClassifierVersion | None:
    """The version the active pointer names, if any."""
    return session.scalar(select(ClassifierVersion).where(ClassifierVersion.state == "active"))


def add_classifier_version(session: Session, **fields: Any) -> ClassifierVersion:
    """Record a trained artefact (as a candidate unless ``state`` says otherwise)."""
    fields.setdefault("state", "candidate")
    version = ClassifierVersion(created_at=utcnow(), **fields)
    session.add(version)
    session.flush()
    return version


def activate_classifier(session: Session, version_id: int) -> ClassifierVersion:
    """Point the active pointer at ``version_id``; the previously active one is retired."""
    version = session.get(ClassifierVersion, version_id)
    if version is None:
        raise NotFound("No classifier version %(version_id)s.", version_id=version_id)
    session.execute(
        update(ClassifierVersion)
        .where(ClassifierVersion.state == "active", ClassifierVersion.id != version_id)
        .values(state="retired")
    )
    version.state = "active"
    session.flush()
    return version
