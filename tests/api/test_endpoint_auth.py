"""Every route refuses anonymous callers unless it is on the public list, and wrong roles get 403.

Routes are found by walking ``app.routes``, so pages and endpoints added later are checked too.
To make a new route public, add it to PUBLIC below with the reason; everything else must use
``require_roles`` (api/auth.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from api.accounts import ADMIN, ROLES, TRANSCRIBER
from api.auth import REQUIRED_ROLES_ATTR
from tests.api.conftest import make_client, staff_headers

PUBLIC: set[tuple[str, str]] = {
    ("POST", "/api/v1/suggestions"),  # villagers submit anonymously (rate-limited)
    ("GET", "/api/v1/track/{tracking_code}"),  # villagers follow up by code (rate-limited, no PII)
    ("GET", "/healthz"),  # probes
    ("GET", "/readyz"),
    ("GET", "/docs"),  # API documentation
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    ("GET", "/login"),  # signing in
    ("POST", "/login"),
    ("GET", "/"),  # the villager's recording page
    ("POST", "/submit"),  # the recording page's form (no JavaScript, or typed text; rate-limited)
    ("GET", "/submit"),  # an old address of the form's answer: back to the recording page
    ("GET", "/receipt/{tracking_code}/{rating_key}"),  # the receipt page, behind the receipt's key
    ("GET", "/manifest.webmanifest"),  # the recording page as an installable app
    ("GET", "/sw.js"),  # its service worker (offline copy of the recording page)
    ("GET", "/track"),  # villagers look up a tracking code
    ("GET", "/track/{tracking_code}"),  # the tracking page (rate-limited, no PII)
    ("GET", "/track/{tracking_code}/{rating_key}"),  # the receipt's link: the same page, rating form
    ("POST", "/track/{tracking_code}/rating"),  # the villager rates once after resolution
    ("POST", "/track/{tracking_code}/fixed"),  # "问题解决了吗？" after a poor rating (receipt's key)
    ("POST", "/api/v1/track/{tracking_code}/satisfaction"),  # the same as JSON
    ("POST", "/open311/v2/requests.json"),  # Open311 clients authenticate with an api_key instead
    ("GET", "/t/{short_code}"),  # a published consultation topic's page (the poster's QR code)
    ("POST", "/t/{short_code}/opinion"),  # a villager's opinion on it (rate-limited, like /submit)
    ("POST", "/api/v1/t/{short_code}/opinions"),  # the same as JSON
}
# Open311 GeoReport v2 reads (service list, public request views) are public by design.
PUBLIC_GET_PREFIXES: tuple[str, ...] = ("/open311/",)
PUBLIC_MOUNTS = {"/static"}
# The OpenAI-compatible endpoints answer in OpenAI's error shape (api/openai_errors.py).
OPENAI_PREFIX = "/v1/"
OPENAI_CODES = {"NotAuthenticated": "invalid_api_key", "PermissionDenied": "permission_denied"}
_PARAM = re.compile(r"\{[^}]+\}")


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("routes"), weights_cache, worker_enabled=False) as c:
        yield c


def _is_public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC or (method == "GET" and path.startswith(PUBLIC_GET_PREFIXES))


def _endpoints(client: TestClient) -> list[tuple[str, str, RouteContext]]:
    """(method, path, route) of every route, with included routers' prefixes applied."""
    found = []
    for ctx in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        assert ctx.path is not None, ctx
        if isinstance(ctx.original_route, Mount):
            assert ctx.path in PUBLIC_MOUNTS, f"mounted app {ctx.path} is not checked: add it or protect it"
            continue
        for method in sorted(ctx.methods or ()):
            if method != "HEAD":
                found.append((method, ctx.path, ctx))
    return found


def _required_roles(dependant: Dependant | None) -> list[frozenset[str]]:
    if dependant is None:
        return []
    found = []
    for sub in dependant.dependencies:
        roles = getattr(sub.call, REQUIRED_ROLES_ATTR, None)
        if roles is not None:
            found.append(roles)
        found.extend(_required_roles(sub))
    return found


def _url(path: str) -> str:
    return _PARAM.sub("1", path)


def _error_is(path: str, body: Any, kind: str) -> bool:
    """Whether ``body`` is the error ``kind`` in the shape that ``path`` answers in."""
    if path.startswith(OPENAI_PREFIX):
        return bool(body["error"]["code"] == OPENAI_CODES[kind])
    return bool(body["error"] == kind)


def test_the_walk_finds_the_known_staff_routes(app_client: TestClient) -> None:
    protected = {(m, p) for m, p, _ in _endpoints(app_client) if not _is_public(m, p)}
    assert {
        ("GET", "/api/v1/suggestions/{suggestion_id}"),
        ("GET", "/staff/accounts"),
        ("POST", "/logout"),
    } <= (protected)


def test_every_non_public_route_refuses_anonymous_callers(app_client: TestClient) -> None:
    app_client.cookies.clear()
    checked = 0
    for method, path, _ in _endpoints(app_client):
        if _is_public(method, path):
            continue
        url = _url(path)
        api = app_client.request(method, url, follow_redirects=False)
        assert api.status_code == 401, (
            f"{method} {path} answered {api.status_code} to an anonymous API client"
        )
        assert _error_is(path, api.json(), "NotAuthenticated"), f"{method} {path}: {api.text}"
        page = app_client.request(method, url, headers={"accept": "text/html"}, follow_redirects=False)
        if path.startswith(("/api/", "/open311/", OPENAI_PREFIX)):
            assert page.status_code == 401, f"{method} {path}"
        else:
            assert page.status_code == 303, (
                f"{method} {path} answered {page.status_code} to an anonymous browser"
            )
            assert page.headers["location"].startswith("/login?next="), f"{method} {path}"
        checked += 1
    assert checked >= 8


def test_every_non_public_route_declares_its_roles(app_client: TestClient) -> None:
    for method, path, route in _endpoints(app_client):
        if _is_public(method, path):
            continue
        assert isinstance(route.original_route, APIRoute), (
            f"{method} {path} is not a FastAPI route; protect it with require_roles"
        )
        assert _required_roles(route.dependant), f"{method} {path} does not use require_roles"


def test_wrong_roles_are_refused_on_every_route_that_names_roles(app_client: TestClient) -> None:
    tokens = {
        role: staff_headers(app_client, role, "power_station" if role == "handler" else None)
        for role in ROLES
    }
    checked = 0
    for method, path, route in _endpoints(app_client):
        if _is_public(method, path) or not isinstance(route.original_route, APIRoute):
            continue
        for allowed in _required_roles(route.dependant):
            if not allowed:
                continue  # any staff member may
            for role in ROLES:
                if role == ADMIN or role in allowed:
                    continue
                response = app_client.request(
                    method, _url(path), headers=tokens[role], follow_redirects=False
                )
                assert response.status_code == 403, f"{method} {path} let a {role} through"
                assert _error_is(path, response.json(), "PermissionDenied"), f"{method} {path}"
                checked += 1
    assert checked >= 3 * 5  # at least the five admin-only account routes


def test_a_transcription_client_is_not_staff(app_client: TestClient) -> None:
    # Routes open to "any staff member" refuse an account whose only role is transcriber: an
    # OpenAI-compatible client sees no suggestion.
    headers = staff_headers(app_client, TRANSCRIBER)
    checked = 0
    for method, path, route in _endpoints(app_client):
        if _is_public(method, path) or not isinstance(route.original_route, APIRoute):
            continue
        allowed = _required_roles(route.dependant)
        if any(TRANSCRIBER in roles for roles in allowed) or not any(not roles for roles in allowed):
            continue
        response = app_client.request(method, _url(path), headers=headers, follow_redirects=False)
        assert response.status_code == 403, f"{method} {path} let a transcription client through"
        assert _error_is(path, response.json(), "PermissionDenied"), f"{method} {path}"
        checked += 1
    assert checked >= 5
