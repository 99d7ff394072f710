"""Learning from corrections through the public interfaces: retrain job, gate, rollback, re-classification."""

from __future__ import annotations

import csv
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.cli import main
from classify.learning import in_eval_split
from classify.train import read_labelled_csv, seed_paths
from tests.api.conftest import make_client, staff_headers
from tests.api.test_review import submit
from tests.databases import fresh_database_url

OPEN_TEXTS = [
    ("Street lamp flickering all night on Mill Lane", "en"),
    ("Bins not collected and rubbish piling up near the school", "en"),
    ("The bus to town only comes twice a day", "en"),
    ("河边有人倒垃圾，臭味很大", "zh"),
    ("变压器老化，村里经常停电", "zh"),
    ("公交车班次太少，上学很不方便", "zh"),
]


def wait_for_run(client: TestClient, run_id: int, timeout: float = 180.0) -> dict[str, Any]:
    """Poll a retraining run until it has finished."""
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = client.get(f"/api/v1/classifier/runs/{run_id}").json()
        if run["state"] not in ("queued", "running", "reclassifying") or time.monotonic() > deadline:
            return run
        time.sleep(0.3)


def wait_for_predictions(
    client: TestClient, items: list[dict[str, Any]], version_id: int, timeout: float = 60.0
) -> None:
    """Poll until every item's latest prediction comes from ``version_id``; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        latest = [client.get(f"/api/v1/suggestions/{item['id']}").json() for item in items]
        versions = [body["prediction"]["classifier_version"] for body in latest]
        if all(v == version_id for v in versions):
            return
        assert time.monotonic() < deadline, f"predictions still from versions {versions}, not {version_id}"
        time.sleep(0.3)


def active_version(client: TestClient) -> dict[str, Any]:
    """The version the active pointer names."""
    versions = client.get("/api/v1/classifier/versions").json()
    (active,) = [v for v in versions if v["active"]]
    return dict(active)


def test_retraining_promotes_a_candidate_and_reclassifies_only_unreviewed_items_and_rollback_works(
    tmp_path: Path, weights_cache: Path
) -> None:
    with make_client(tmp_path / "var", weights_cache, retrain_after_reviews=0, reviewed_weight=2.5) as client:
        client.headers.update(staff_headers(client, "admin"))
        seed = active_version(client)
        assert seed["metrics"]["eval_set"]["n"] > 100 and "per_class" in seed["metrics"]
        items = [submit(client, text, language=lang) for text, lang in OPEN_TEXTS]
        reviewed, unreviewed = items[:2], items[2:]
        for item, label in zip(reviewed, ("transport", "other"), strict=True):
            response = client.post(f"/api/v1/suggestions/{item['id']}/review", json={"category": label})
            assert response.status_code == 200

        response = client.post("/api/v1/classifier/retrain")
        assert response.status_code == 202, response.text
        queued = response.json()
        assert queued["created"] is True and queued["run"]["state"] in ("queued", "running", "promoted")
        again = client.post("/api/v1/classifier/retrain").json()  # joins the open run, or starts a new one
        run = wait_for_run(client, queued["run"]["id"])
        assert run["state"] == "promoted", run
        assert run["baseline_version_id"] == seed["id"]
        assert run["eval_set"]["version"].startswith("eval-") and run["eval_set"]["n"] > 100
        assert run["candidate_metrics"]["eval_set"] == run["eval_set"]
        assert "macro_f1" in run["baseline_metrics"] and "cv" in run["candidate_metrics"]
        # The candidate weighed the staff's reviews as configured.
        (metadata,) = (tmp_path / "var").rglob(f"run-{run['id']}/metadata.json")
        assert json.loads(metadata.read_text(encoding="utf-8"))["reviewed_weight"] == 2.5
        if again["run"]["id"] != run["id"]:
            wait_for_run(client, again["run"]["id"])
        new = active_version(client)
        assert new["id"] == run["candidate_version_id"] != seed["id"]
        versions = {v["id"]: v for v in client.get("/api/v1/classifier/versions").json()}
        assert versions[seed["id"]]["state"] == "retired"

        # "promoted" is written once the open items follow the new model, each change in their history.
        latest = [client.get(f"/api/v1/suggestions/{item['id']}").json() for item in unreviewed]
        assert [body["prediction"]["classifier_version"] for body in latest] == [new["id"]] * len(unreviewed)
        changes = [e for body in latest for e in body["history"] if e["kind"] == "reclassified"]
        assert run["reclassified"] == len(changes)
        for item, label in zip(reviewed, ("transport", "other"), strict=True):
            body = client.get(f"/api/v1/suggestions/{item['id']}").json()
            assert body["category"] == label and body["category_source"] == "staff"
            assert body["prediction"]["classifier_version"] == seed["id"]  # reviewed items never change

        # Roll back to the seed model: the pointer moves and open items follow it (in a background job).
        response = client.post(f"/api/v1/classifier/versions/{seed['id']}/activate")
        assert response.status_code == 200 and response.json()["active"] is True
        assert active_version(client)["id"] == seed["id"]
        wait_for_predictions(client, unreviewed, seed["id"])
        assert client.post("/api/v1/classifier/versions/9999/activate").status_code == 404

        # Live accuracy of auto-tags on the reviewed items, per day and per version.
        points = client.get("/api/v1/classifier/accuracy").json()
        assert sum(p["reviewed"] for p in points) == 2
        assert versions[seed["id"]]["reviewed"] == 2


def test_automatic_retraining_starts_after_n_reviews(tmp_path: Path, weights_cache: Path) -> None:
    with make_client(tmp_path / "var", weights_cache, retrain_after_reviews=3) as client:
        client.headers.update(staff_headers(client, "reviewer"))
        items = [submit(client, text, language=lang) for text, lang in OPEN_TEXTS[:4]]
        runs = []
        for item in items:
            url = f"/api/v1/suggestions/{item['id']}/review"
            runs.append(client.post(url, json={"category": "other"}).json()["retrain_run_id"])
        assert runs[:2] == [None, None] and runs[2] is not None
        run = wait_for_run(client, runs[2])
        assert run["trigger"] == "auto" and run["state"] in ("promoted", "rejected"), run
        assert client.get("/api/v1/classifier/runs").json()[0]["id"] == run["id"]


def _shuffled_seed_csv(path: Path) -> Path:
    """The seed texts outside the evaluation set with their labels shuffled: a deliberately bad teacher."""
    examples = [e for e in read_labelled_csv(seed_paths()) if not in_eval_split(e.text)]
    labels = [e.label for e in examples]
    random.Random(0).shuffle(labels)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows((e.text, label) for e, label in zip(examples, labels, strict=True))
    return path


def test_a_candidate_trained_on_shuffled_labels_is_rejected_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weights_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = fresh_database_url()
    monkeypatch.setenv("MINSHENG_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    monkeypatch.setenv("MINSHENG_WEIGHTS_CACHE", str(weights_cache))
    assert main(["import", "--data", str(_shuffled_seed_csv(tmp_path / "bad.csv"))]) == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported["read"] > 700 and imported["added"] == imported["read"]

    assert main(["retrain"]) == 0
    run = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert run["state"] == "rejected", run
    assert run["candidate_macro_f1"] < run["baseline_macro_f1"] - 0.01
    assert "below the active model" in run["reason"]

    with make_client(tmp_path / "var", weights_cache, database_url=database_url) as client:
        client.headers.update(staff_headers(client, "reviewer"))
        versions = client.get("/api/v1/classifier/versions").json()
        rejected = next(v for v in versions if v["id"] == run["candidate_version"])
        assert rejected["state"] == "rejected" and "below the active model" in rejected["note"]
        assert active_version(client)["id"] == run["baseline_version"]


def test_import_refuses_bad_files_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MINSHENG_DATA_DIR", str(tmp_path / "var"))
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\n路灯坏了,lights\n", encoding="utf-8")
    assert main(["import", "--data", str(bad)]) == 2
    assert "unknown label 'lights'" in capsys.readouterr().err
