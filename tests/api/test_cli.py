"""The ``minsheng`` command line, called through its entry point."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from api.cli import main
from classify.train import seed_paths


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


@pytest.fixture()
def data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weights_cache: Path, database_url: str) -> Path:
    monkeypatch.setenv("MINSHENG_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MINSHENG_WEIGHTS_CACHE", str(weights_cache))
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    return tmp_path


def test_transcribe_prints_one_json_line_per_file(
    data_env: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(data_dir / "voice_transport.ogg"), str(data_dir / "speech.amr")]
    assert main(["transcribe", *files, "--language", "en", "--json"]) == 0
    lines = _lines(capsys)
    assert [line["file"] for line in lines] == files
    for line in lines:
        assert set(line) == {"file", "language", "text", "segments", "confidence", "seconds"}
        assert line["language"] == "en"
    assert "bus" in str(lines[0]["text"]).lower()


def test_transcribe_reports_bad_files_and_exits_non_zero(
    data_env: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["transcribe", str(data_dir / "not_audio.mp3"), str(data_dir / "voice_power.ogg"), "--json"])
    assert code == 1
    bad, good = _lines(capsys)
    assert bad["error"] == "NotAudio" and "detail" in bad
    assert "power" in str(good["text"]).lower()


def test_train_evaluate_classify_round_trip(
    data_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model"
    args = ["train", *[a for p in seed_paths() for a in ("--data", str(p))], "--out", str(out)]
    assert main(args) == 0
    trained = _lines(capsys)[0]
    assert trained["n_examples"] == sum(1 for p in seed_paths() for _ in csv.DictReader(p.open()))

    test_csv = tmp_path / "test.csv"
    test_csv.write_text(
        "text,label,extra\n"
        "公交车太少了，等一个小时都不来,transport,x\n"
        "The river smells of sewage again,environment,y\n"
        "停电了一整天，电压还不稳,power,z\n",
        encoding="utf-8",
    )
    assert main(["evaluate", "--model", str(out), "--data", str(test_csv), "--json"]) == 0
    report = _lines(capsys)[0]
    assert set(report) == {"n", "accuracy", "macro_f1", "per_class"}
    assert report["n"] == 3
    assert set(next(iter(report["per_class"].values()))) == {"precision", "recall", "f1", "support"}  # type: ignore[attr-defined]

    # --labels: macro-F1 over the named categories only (the shared eval README leaves out power).
    args = ["evaluate", "--model", str(out), "--data", str(test_csv), "--labels", "transport,environment"]
    assert main([*args, "--json"]) == 0
    assert list(_lines(capsys)[0]["per_class"]) == ["transport", "environment"]  # type: ignore[call-overload]
    assert main([*args[:-1], "transport,electricity"]) == 2
    assert "electricity" in capsys.readouterr().err

    assert main(["classify", "路灯坏了好几天，晚上一片漆黑", "--model", str(out), "--json"]) == 0
    line = _lines(capsys)[0]
    assert set(line) == {"text", "label", "confidence", "probabilities"}
    assert line["label"] == "power"


def test_classify_without_a_model_uses_the_active_one(
    data_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["classify", "Potholes all along the main road", "--json"]) == 0
    assert _lines(capsys)[0]["label"] == "transport"


def test_bad_input_gets_a_message_and_a_non_zero_exit(
    data_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("words,category\nhello,transport\n", encoding="utf-8")
    assert main(["train", "--data", str(bad), "--out", str(tmp_path / "m")]) == 2
    assert "text" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(tmp_path / "nothing"), "--data", str(bad), "--json"]) == 2
    assert capsys.readouterr().err.startswith("minsheng: ")


def test_create_admin_then_create_token(data_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from api import accounts
    from api.settings import Settings
    from models.db import make_session_factory, unit_of_work

    assert main(["create-admin", "--username", "root.admin", "--password", "a long password"]) == 0
    assert "root.admin" in capsys.readouterr().out
    assert main(["create-token", "--username", "root.admin", "--name", "nightly report"]) == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    assert token.startswith("msk_") and "shown only this once" in captured.err

    engine = accounts.open_database(Settings().resolved_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            staff = accounts.token_identity(session, token)
            assert staff is not None and staff.username == "root.admin" and staff.is_admin
            assert accounts.authenticate(session, "root.admin", "a long password").id == staff.id
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["create-admin", "--username", "root.admin", "--password", "another password"], "already exists"),
        (["create-admin", "--username", "x", "--password", "a long password"], "username"),
        (["create-admin", "--username", "second.admin", "--password", "short"], "at least 8"),
        (["create-token", "--username", "nobody", "--name", "n"], "no staff account"),
        (["create-token", "--username", "root.admin", "--name", " "], "name"),
    ],
)
def test_create_admin_and_token_refuse_bad_input(
    data_env: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    assert main(["create-admin", "--username", "root.admin", "--password", "a long password"]) == 0
    capsys.readouterr()
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("minsheng: ") and needle in captured.err
    assert "msk_" not in captured.out


def test_create_admin_reads_a_piped_password(
    data_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("piped password\n"))
    assert main(["create-admin", "--username", "pipe.admin"]) == 0
    assert "pipe.admin" in capsys.readouterr().out


def test_worker_without_a_broker_explains_what_to_set(
    data_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MINSHENG_BROKER_URL", raising=False)
    assert main(["worker"]) == 2
    assert "MINSHENG_BROKER_URL" in capsys.readouterr().err


def test_a_visibility_timeout_shorter_than_the_lease_is_refused(
    data_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import ValidationError

    from api.settings import Settings

    monkeypatch.setenv("MINSHENG_JOB_LEASE_SECONDS", "120")
    monkeypatch.setenv("MINSHENG_BROKER_VISIBILITY_TIMEOUT", "60")
    with pytest.raises(ValidationError, match="VISIBILITY_TIMEOUT must be longer"):
        Settings()


def test_invalid_settings_get_a_message_naming_the_variable(
    data_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--processes", "0"]) == 2
    assert "invalid setting MINSHENG_API_PROCESSES" in capsys.readouterr().err
    monkeypatch.setenv("MINSHENG_PORT", "eighty")
    assert main(["serve"]) == 2
    assert "invalid setting MINSHENG_PORT" in capsys.readouterr().err
    monkeypatch.delenv("MINSHENG_PORT")
    monkeypatch.setenv("MINSHENG_JOB_LEASE_SECONDS", "120")
    monkeypatch.setenv("MINSHENG_BROKER_VISIBILITY_TIMEOUT", "60")
    assert main(["worker"]) == 2
    assert "VISIBILITY_TIMEOUT must be longer" in capsys.readouterr().err
