"""Retraining runs whose worker stops part-way: they resume or close, and never stay open for ever."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.context import AppContext
from classify import retraining
from classify.model import Classifier, Prediction
from intake.jobs import JobExecutor
from models.jobs.tables import Job
from tests.api.conftest import make_client, staff_headers

OPEN_TEXTS = [
    "Street lamp flickering all night on Mill Lane",
    "Bins not collected and rubbish piling up near the school",
    "The bus to town only comes twice a day",
    "河边有人倒垃圾，臭味很大",
    "变压器老化，村里经常停电",
    "公交车班次太少，上学很不方便",
    "路面坑洼很多，下雨天积水",
]
LEASE = timedelta(seconds=0.3)


class WorkerKilled(BaseException):
    """Stands for the process dying (SIGKILL, out of memory): no ``except Exception`` sees it."""


class StopsAfter:
    """The active classifier, except that its ``calls``-th batch raises ``error`` (a worker that dies)."""

    def __init__(self, inner: Classifier, calls: int, error: BaseException) -> None:
        self.inner, self.calls, self.error = inner, calls, error

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify, or die on the chosen call."""
        self.calls -= 1
        if self.calls == 0:
            raise self.error
        return self.inner.predict(texts)


@pytest.fixture()
def app(tmp_path: Path, weights_cache: Path) -> Iterator[tuple[TestClient, AppContext]]:
    """An app with its embedded worker off, open suggestions tagged by the seed model, two reviewed."""
    manual: dict[str, Any] = {"worker_enabled": False, "retrain_after_reviews": 0}
    with make_client(tmp_path / "var", weights_cache, **manual) as client:
        context: AppContext = client.app.state.context  # type: ignore[attr-defined]
        client.headers.update(staff_headers(client, "admin"))
        ids = [client.post("/api/v1/suggestions", data={"text": t}).json()["id"] for t in OPEN_TEXTS]
        context.runner.drain()
        for sid, label in zip(ids[:2], ("transport", "other"), strict=True):
            response = client.post(f"/api/v1/suggestions/{sid}/review", json={"category": label})
            assert response.status_code == 200, response.text
        yield client, context


def _start_run(client: TestClient, context: AppContext) -> tuple[int, int]:
    """Ask for a retraining run through the API: (run id, its job's id)."""
    response = client.post("/api/v1/classifier/retrain")
    assert response.status_code == 202, response.text
    with context.factory() as session:
        job_id = session.scalars(select(Job.id).where(Job.kind == retraining.RETRAIN_JOB)).one()
    return int(response.json()["run"]["id"]), int(job_id)


def _die_while_reclassifying(
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
    executor: JobExecutor,
    job_id: int,
    error: BaseException,
) -> None:
    """Run the retraining job so that re-classification by the promoted model stops in its second
    batch of two (the active model before it, which scores as the baseline, works as ever)."""
    monkeypatch.setattr(retraining, "_BATCH", 2)
    registry = context.learner.registry
    real_active = registry.active
    baseline, _ = real_active()

    def active() -> tuple[int, Any]:
        version_id, classifier = real_active()
        return version_id, classifier if version_id == baseline else StopsAfter(classifier, 2, error)

    monkeypatch.setattr(registry, "active", active)
    job = executor.claim(job_id, "first")
    assert job is not None
    if isinstance(error, Exception):
        executor.run(job, "first")
    else:
        with pytest.raises(type(error)):
            executor.run(job, "first")
    monkeypatch.setattr(registry, "active", real_active)


def _open_items(client: TestClient) -> list[dict[str, Any]]:
    """Every suggestion as staff see it."""
    return [client.get(f"/api/v1/suggestions/{n}").json() for n in range(1, len(OPEN_TEXTS) + 1)]


def _versions(client: TestClient) -> dict[int, dict[str, Any]]:
    return {v["id"]: v for v in client.get("/api/v1/classifier/versions").json()}


def test_a_run_cut_off_while_reclassifying_resumes_there_and_counts_each_change_once(
    app: tuple[TestClient, AppContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, context = app
    before = _open_items(client)
    seed_id = before[0]["prediction"]["classifier_version"]
    run_id, job_id = _start_run(client, context)
    executor = JobExecutor(context.factory, context.handlers, LEASE, timedelta(0))
    _die_while_reclassifying(context, monkeypatch, executor, job_id, WorkerKilled())

    # The candidate is active, but the run says it is not done, and it is still the open run.
    run = client.get(f"/api/v1/classifier/runs/{run_id}").json()
    assert run["state"] == "reclassifying", run
    candidate = run["candidate_version_id"]
    assert _versions(client)[candidate]["active"] is True
    joined = client.post("/api/v1/classifier/retrain").json()
    assert joined["created"] is False and joined["run"]["id"] == run_id
    page = client.get("/staff/review/model").text
    assert "已启用，正在重新分类" in page
    halfway = [item["prediction"]["classifier_version"] for item in _open_items(client)[2:]]
    assert halfway[:2] == [candidate, candidate] and seed_id in halfway  # one batch of two was stored

    time.sleep(LEASE.total_seconds() + 0.1)  # the heartbeat died with the worker: the lease runs out
    again = executor.claim(job_id, "second")
    assert again is not None and again.attempt == 2
    executor.run(again, "second")

    run = client.get(f"/api/v1/classifier/runs/{run_id}").json()
    assert run["state"] == "promoted" and run["candidate_version_id"] == candidate, run
    assert len(_versions(client)) == 2  # resumed: no second candidate was trained
    after = _open_items(client)
    for old, new in zip(before[:2], after[:2], strict=True):  # reviewed: never re-classified
        assert new["prediction"] == old["prediction"] and new["category_source"] == "staff"
    assert all(item["prediction"]["classifier_version"] == candidate for item in after[2:])
    changes = [e for item in after for e in item["history"] if e["kind"] == "reclassified"]
    assert run["reclassified"] == len(changes)
    assert all(e["detail"]["classifier_version"] == candidate for e in changes)
    with context.factory() as session:
        job = session.get(Job, job_id)
        assert job is not None and (job.state, job.attempts) == ("done", 2)


def test_an_error_while_reclassifying_ends_the_run_promoted_and_a_follow_up_job_finishes(
    app: tuple[TestClient, AppContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, context = app
    run_id, job_id = _start_run(client, context)
    executor = JobExecutor(context.factory, context.handlers, LEASE, timedelta(0))
    _die_while_reclassifying(context, monkeypatch, executor, job_id, RuntimeError("database went away"))

    run = client.get(f"/api/v1/classifier/runs/{run_id}").json()
    assert run["state"] == "promoted", run
    assert "Re-classifying the open suggestions stopped (RuntimeError: database went away)" in run["reason"]
    assert context.runner.drain() == 1  # the follow-up re-classification job
    candidate = run["candidate_version_id"]
    assert all(item["prediction"]["classifier_version"] == candidate for item in _open_items(client)[2:])


def test_a_run_whose_worker_keeps_dying_is_closed_and_a_new_request_starts_afresh(
    app: tuple[TestClient, AppContext],
) -> None:
    client, context = app
    run_id, job_id = _start_run(client, context)
    executor = JobExecutor(context.factory, context.handlers, timedelta(seconds=0.05), timedelta(0))
    for n in range(retraining.RETRAIN_ATTEMPTS):  # every worker that took it died without a word
        assert executor.claim(job_id, f"dies-{n}") is not None
        time.sleep(0.1)
    last = executor.claim(job_id, "last")
    assert last is not None
    executor.run(last, "last")

    run = client.get(f"/api/v1/classifier/runs/{run_id}").json()
    assert run["state"] == "failed" and "stopped 2 time(s)" in run["reason"], run
    assert run["finished_at"] is not None
    fresh = client.post("/api/v1/classifier/retrain").json()
    assert fresh["created"] is True and fresh["run"]["id"] != run_id
