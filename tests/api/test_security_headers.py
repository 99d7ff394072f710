"""Every response carries the security headers, error pages and crashes included."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

PAGES = {"page", "404 page", "static"}


def test_every_kind_of_response_has_the_headers(tmp_path: Path, weights_cache: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, weights_cache=weights_cache, worker_enabled=False))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("an unexpected bug")

    html = {"accept": "text/html"}
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        responses = {
            "json": client.get("/healthz"),
            "page": client.get("/login", headers=html),
            "404 page": client.get("/nowhere", headers=html),
            "401": client.get("/api/v1/staff/me"),
            "303": client.get("/staff", headers=html, follow_redirects=False),
            "static": client.get("/static/minsheng.css"),
            "500": client.get("/boom"),
        }
        docs = client.get("/docs")
    assert responses["500"].status_code == 500
    for what, response in responses.items():
        h = response.headers
        assert h["x-content-type-options"] == "nosniff", what
        assert h["x-frame-options"] == "DENY", what
        assert h["referrer-policy"] == "same-origin", what
        assert "microphone=(self)" in h["permissions-policy"], what
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, what
        if what in PAGES:
            assert "script-src 'self'" in csp, what
            assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], what
            assert "style-src 'self' 'unsafe-inline'" in csp, what
        else:  # data, which may carry a villager's bytes, never runs as a page
            assert csp.startswith("sandbox;") and "default-src 'none'" in csp, what
        assert "strict-transport-security" not in h  # plain http
    assert docs.status_code == 200 and "cdn.jsdelivr.net" in docs.headers["content-security-policy"]


def test_https_gets_hsts(tmp_path: Path, weights_cache: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, weights_cache=weights_cache, worker_enabled=False))
    with TestClient(app, base_url="https://minsheng.example.org") as client:
        assert client.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
