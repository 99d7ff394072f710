"""An install whose active model predates a category: the next start queues one retraining run."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from classify.retraining import CATEGORIES_TRIGGER, RETRAIN_JOB
from models.db import unit_of_work
from models.jobs.tables import Job
from models.reviews import artefacts, classifiers
from models.reviews.tables import TrainingRun
from models.taxonomy import LABELS
from tests.api.conftest import make_client
from tests.databases import fresh_database_url

MANUAL = {"worker_enabled": False, "retrain_after_reviews": 0}


def _runs_and_jobs(client: object) -> tuple[list[str], int]:
    factory = client.app.state.context.factory  # type: ignore[attr-defined]
    with unit_of_work(factory) as session:
        triggers = list(session.scalars(select(TrainingRun.trigger).order_by(TrainingRun.id)))
        jobs = len(session.scalars(select(Job.id).where(Job.kind == RETRAIN_JOB)).all())
    return triggers, jobs


def _forget_last_category(client: object) -> None:
    """Make the active model's metadata say it was trained before the last category existed."""
    factory = client.app.state.context.factory  # type: ignore[attr-defined]
    with unit_of_work(factory) as session:
        active = classifiers.active_classifier(session)
        assert active is not None
        stored = artefacts.load_artefact(session, active.id)
        assert stored is not None
        meta = json.loads(stored.metadata_json)
        assert meta["labels"] == list(LABELS)
        meta["labels"] = list(LABELS[:-1])
        stored.metadata_json = json.dumps(meta)


def test_a_model_trained_on_todays_categories_queues_nothing(tmp_path: Path, weights_cache: Path) -> None:
    url = fresh_database_url()
    with make_client(tmp_path / "var", weights_cache, url, **MANUAL) as client:
        assert _runs_and_jobs(client) == ([], 0)
    with make_client(tmp_path / "var", weights_cache, url, **MANUAL) as client:  # a restart
        assert _runs_and_jobs(client) == ([], 0)


def test_a_new_category_queues_one_retraining_run_on_the_next_start(
    tmp_path: Path, weights_cache: Path
) -> None:
    url = fresh_database_url()
    with make_client(tmp_path / "var", weights_cache, url, **MANUAL) as client:
        _forget_last_category(client)
    with make_client(tmp_path / "var", weights_cache, url, **MANUAL) as client:  # the upgraded install
        assert _runs_and_jobs(client) == ([CATEGORIES_TRIGGER], 1)
        # The run ends without a new model (here: its worker died in every try; a rejected
        # candidate ends the same way for this purpose) ...
        client.app.state.context.learner.retrain_given_up(0, "worker died")  # type: ignore[attr-defined]
        with unit_of_work(client.app.state.context.factory) as session:  # type: ignore[attr-defined]
            assert session.scalars(select(TrainingRun.state)).all() == ["failed"]
    with make_client(tmp_path / "var", weights_cache, url, **MANUAL) as client:
        # ... and later starts do not queue the same run again and again.
        assert _runs_and_jobs(client) == ([CATEGORIES_TRIGGER], 1)
