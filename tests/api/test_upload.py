"""Uploaded files are stored under names the server makes, never under the client's file name."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.context import AppContext
from models.tables import Audio
from tests.api.conftest import make_client


def test_the_stored_name_is_the_content_hash_not_the_clients_name(
    tmp_path: Path, weights_cache: Path, data_dir: Path
) -> None:
    hostile = "../../../etc/cron.d/evil name;rm -rf.wav"
    with make_client(tmp_path / "var", weights_cache, worker_enabled=False) as client:
        client_: TestClient = client
        context: AppContext = client_.app.state.context  # type: ignore[attr-defined]
        with (data_dir / "speech.ogg").open("rb") as fh:
            response = client_.post("/api/v1/suggestions", files={"audio": (hostile, fh, "image/png")})
        assert response.status_code == 202, response.text
        with context.factory() as session:
            audio = session.scalars(select(Audio)).one()
        assert audio.original_name == hostile  # kept as data for staff, never used as a path
        assert audio.format == "ogg"  # sniffed from the bytes, not from the name or content type
        assert audio.path == f"{audio.sha256[:2]}/{audio.sha256}.ogg"
        stored = [p for p in context.store.root.rglob("*") if p.is_file()]
        assert [p.relative_to(context.store.root).as_posix() for p in stored] == [audio.path]
    assert not any("evil" in p.name for p in tmp_path.rglob("*"))
