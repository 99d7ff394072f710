"""The public health probes say ok or not ok and nothing more; staff see what is behind them."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import make_client, staff_headers, staff_login


def test_readiness_details_are_for_staff_only(tmp_path: Path, weights_cache: Path) -> None:
    data = tmp_path / "var"
    with make_client(data, weights_cache, worker_enabled=False) as client:
        store = str(data / "audio")
        assert client.get("/healthz").json() == {"status": "ok"}

        public = client.get("/readyz")
        assert public.status_code == 200 and public.json() == {"status": "ready"}
        assert store not in public.text
        bad_token = client.get("/readyz", headers={"Authorization": "Bearer msk_" + "x" * 40})
        assert bad_token.status_code == 200 and bad_token.json() == {"status": "ready"}

        token = client.get("/readyz", headers=staff_headers(client, "handler", "power_station"))
        assert token.status_code == 200
        checks = token.json()["checks"]
        assert checks["audio_store"] == store and checks["database"] == "ok"
        assert checks["classifier"].startswith("ok (version ")

        staff_login(client, "deputy")  # a browser session
        assert client.get("/readyz").json()["checks"]["audio_store"] == store
