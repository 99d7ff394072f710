"""Every response carries the security headers, error pages and crashes included."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.security_headers import user_content_headers
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


# The policies spelled out here, not imported: a change to any directive must be deliberate.
PAGE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "media-src": "'self' blob:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
DOCS_POLICY = {
    "default-src": "'self'",
    "script-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net",
    "style-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
    "img-src": "'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
    "font-src": "'self' https://fonts.gstatic.com",
    "worker-src": "'self' blob:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}
DATA_POLICY = {"sandbox": "", "default-src": "'none'", "frame-ancestors": "'none'"}
OTHER_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "microphone=(self), geolocation=(self), camera=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
}


def _policy(header: str) -> dict[str, str]:
    """A Content-Security-Policy as {directive: sources}; a directive may appear only once."""
    directives = [part.strip().partition(" ") for part in header.split(";")]
    policy = {name: sources for name, _, sources in directives}
    assert len(policy) == len(directives), header
    return policy


def test_each_kind_of_response_gets_exactly_its_policy(tmp_path: Path, weights_cache: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, weights_cache=weights_cache, worker_enabled=False))
    html = {"accept": "text/html"}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        expected = {
            "/login": PAGE_POLICY,
            "/static/minsheng.css": PAGE_POLICY,
            "/sw.js": PAGE_POLICY,  # our service worker, served outside /static: it must fetch
            "/healthz": DATA_POLICY,
            "/manifest.webmanifest": DATA_POLICY,
            "/docs": DOCS_POLICY,
            "/redoc": DOCS_POLICY,
            "/docs/oauth2-redirect": DOCS_POLICY,
            "/docs/elsewhere": PAGE_POLICY,  # only the documentation pages themselves are looser
        }
        for path, policy in expected.items():
            response = client.get(path, headers=html)
            assert response.status_code in (200, 404), (path, response.status_code)
            assert _policy(response.headers["content-security-policy"]) == policy, path
            assert {name: response.headers.get(name) for name in OTHER_HEADERS} == OTHER_HEADERS, path
            assert "strict-transport-security" not in response.headers, path
    with TestClient(app, base_url="https://minsheng.example.org") as client:
        page = client.get("/login", headers=html)
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert _policy(page.headers["content-security-policy"]) == PAGE_POLICY


def test_a_download_names_the_file_in_plain_ascii_whatever_its_name() -> None:
    assert user_content_headers("suggestion-12.wav") == {
        "Content-Disposition": 'attachment; filename="suggestion-12.wav"',
        "Content-Security-Policy": "sandbox; default-src 'none'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
    }
    hostile = user_content_headers('报告 "x";\r\nSet-Cookie: a=b/../paper_1.pdf')
    assert hostile["Content-Disposition"] == 'attachment; filename="xSet-Cookieab..paper_1.pdf"'
    assert user_content_headers("报告")["Content-Disposition"] == 'attachment; filename="download"'
