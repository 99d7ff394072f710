"""The server with its audio in an S3-compatible store: notes go in, a cut-off upload stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.context import AppContext
from tests.api.conftest import make_client, wait_until_processed
from tests.databases import fetch, fresh_database_url
from tests.s3_server import CREDENTIALS, CuttingProxy, S3Server


@pytest.mark.slow
def test_notes_are_stored_in_s3_and_an_upload_cut_midway_stores_nothing(
    tmp_path: Path, weights_cache: Path, data_dir: Path
) -> None:
    s3 = S3Server()
    proxy = CuttingProxy(s3.port)
    try:
        s3.client().create_bucket(Bucket="audio")
        data = tmp_path / "var"
        settings = {
            "audio_store": "s3://audio/township",
            "s3_endpoint_url": proxy.url,
            "s3_region": "us-east-1",
            "s3_access_key_id": CREDENTIALS["access_key_id"],
            "s3_secret_access_key": CREDENTIALS["secret_access_key"],
        }
        db = fresh_database_url()
        with make_client(data, weights_cache, database_url=db, **settings) as client:
            context: AppContext = client.app.state.context  # type: ignore[attr-defined]
            with (data_dir / "voice_power.ogg").open("rb") as fh:
                first = client.post("/api/v1/suggestions", files={"audio": ("a.ogg", fh)})
            assert first.status_code == 202, first.text
            body = wait_until_processed(client, first.json()["id"])
            assert body["status"] in {"routed", "needs_review"} and "power" in body["transcript"].lower()

            proxy.cut_after = 15_000  # the link to the object store drops halfway through the upload
            with (data_dir / "voice_transport.ogg").open("rb") as fh:
                cut = client.post("/api/v1/suggestions", files={"audio": ("b.ogg", fh)})
            assert cut.status_code == 503
            assert cut.json()["error"] == "StorageUnavailable"
            assert "Nothing was stored" in cut.json()["detail"]
            assert fetch(db, "SELECT count(*) FROM suggestions") == [(1,)]
            assert fetch(db, "SELECT count(*) FROM audio") == [(1,)]
            assert list(context.store.incoming.iterdir()) == []
            keys = [o["Key"] for o in s3.client().list_objects_v2(Bucket="audio")["Contents"]]
            assert len(keys) == 1 and keys[0].startswith("township/")

            proxy.cut_after = None  # the villager sends it again
            with (data_dir / "voice_transport.ogg").open("rb") as fh:
                again = client.post("/api/v1/suggestions", files={"audio": ("b.ogg", fh)})
            assert again.status_code == 202, again.text
            assert wait_until_processed(client, again.json()["id"])["status"] in {"routed", "needs_review"}
        assert len(s3.client().list_objects_v2(Bucket="audio")["Contents"]) == 2
    finally:
        proxy.close()
        s3.stop()
