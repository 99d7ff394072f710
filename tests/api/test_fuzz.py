"""Fuzzing: generated requests never cause a 500, on every route — the JSON API, Open311, and the
staff and villager pages and forms that /openapi.json leaves out — and malformed audio of every
kind gets a clean 4xx (tests/api/test_bad_input.py covers the committed bad fixtures; this adds
damaged variants made from the good ones)."""

from __future__ import annotations

import random
import re
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import func, select

from api.app import create_app
from api.context import AppContext
from api.settings import Settings
from models.db import unit_of_work, utcnow
from models.suggestions.tables import Audio, Suggestion
from models.taxonomy import CATEGORIES
from models.themes import store as theme_store
from tests.api.conftest import make_client, staff_headers
from tests.api.workflow_helpers import routed_suggestion
from tests.conftest import DATA

OPEN311_KEY = "fuzz-open311-key"
OPEN311_TEXT_FIELDS = (
    "address_string", "address_id", "description", "first_name", "last_name", "phone", "email",
    "device_id", "account_id", "media_url",
)  # fmt: skip
_TEXT = {"type": "string"}
_NUMBER_OR_TEXT = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
# What hostile clients put where a number belongs: ids beyond 64 bits, zero and negatives, and digits
# of other scripts (², ٣, ३, full-width ３) that Python's int() or str.isdigit() let through.
HOSTILE_NUMBER: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "enum": [0, -1, 2**31, 2**63, 2**70]},
        {"type": "string", "pattern": "^(-?[0-9]{1,30}|[0-9]{0,3}[²³¹٠-٩۰-۹०-९０-９][0-9]{0,3})$"},
    ]
}
_NUMERIC_FIELD = re.compile(r"(^|_)(ids?|days|count|score|hour|page|page_size|lat|long)$")


def _form(
    properties: dict[str, Any], media_type: str = "application/x-www-form-urlencoded"
) -> dict[str, Any]:
    return {"content": {media_type: {"schema": {"type": "object", "properties": properties}}}}


# Handlers that read their form or query string themselves declare nothing to OpenAPI: these are the
# fields they read, so the fuzzer sends them too (added only where the route does not declare them).
HAND_READ_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/submit"): _form(
        {
            "audio": {"type": "string", "format": "binary"},
            **{name: _TEXT for name in ("text", "language", "phone", "village", "address")},
        },
        "multipart/form-data",
    ),
    ("post", "/staff/admin/deadlines"): _form({f"days_{c.code}": _TEXT for c in CATEGORIES}),
    ("post", "/open311/v2/requests.json"): _form(
        {
            "api_key": {"type": "string", "enum": [OPEN311_KEY]},
            "service_code": {"type": "string", "enum": [c.code for c in CATEGORIES] + ["nonsense"]},
            "lat": _NUMBER_OR_TEXT,
            "long": _NUMBER_OR_TEXT,
            **{name: _TEXT for name in OPEN311_TEXT_FIELDS},
        }
    ),
}
HAND_READ_QUERIES: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/open311/v2/requests.json"): {
        "service_request_id": _NUMBER_OR_TEXT,
        "page": _NUMBER_OR_TEXT,
        "page_size": _NUMBER_OR_TEXT,
        "service_code": _TEXT,
        "status": _TEXT,
        "start_date": _TEXT,
        "end_date": _TEXT,
        "extensions": _TEXT,
    },
    ("get", "/open311/v2/requests/{service_request_id}.json"): {"extensions": _TEXT},
}


class _Documented(RouteContext):
    """A route as OpenAPI sees it, shown even where the app hides it (pages, forms)."""

    include_in_schema = True


def every_route_schema(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with every route in it, and the hand-read fields of HAND_READ_*."""
    routes = [_Documented(c.route, c._route_context) for c in iter_route_contexts(app.routes)]
    document = get_openapi(title=app.title, version=app.version, routes=routes)
    for (method, path), body in HAND_READ_BODIES.items():
        document["paths"][path][method].setdefault("requestBody", body)
    for (method, path), fields in HAND_READ_QUERIES.items():
        operation = document["paths"][path][method]
        declared = {p["name"] for p in operation.setdefault("parameters", [])}
        operation["parameters"] += [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in fields.items()
            if name not in declared
        ]
    _hostile_numbers(document)
    return document


def _hostile_numbers(document: dict[str, Any]) -> None:
    """Let every number in ``document`` also be a HOSTILE_NUMBER: integer parameters and JSON fields,
    and form fields that hold numbers (by name) but are read as text."""

    def widen(schema: dict[str, Any]) -> dict[str, Any]:
        return schema if HOSTILE_NUMBER in schema.get("anyOf", []) else {"anyOf": [schema, HOSTILE_NUMBER]}

    def integer(schema: dict[str, Any]) -> bool:
        return schema.get("type") == "integer" or any(integer(s) for s in schema.get("anyOf", []))

    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if integer(parameter["schema"]) or _NUMERIC_FIELD.search(parameter["name"]):
                    parameter["schema"] = widen(parameter["schema"])
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                if media_type == "application/json":
                    continue
                form = content.get("schema", {})
                if "$ref" in form:  # FastAPI's Body_… model of a form
                    form = document["components"]["schemas"][form["$ref"].rsplit("/", 1)[-1]]
                properties = form.get("properties", {})
                for name, schema in properties.items():
                    if _NUMERIC_FIELD.search(name):
                        properties[name] = widen(schema)
    for model in document.get("components", {}).get("schemas", {}).values():
        for name, schema in model.get("properties", {}).items():
            if integer(schema):
                model["properties"][name] = widen(schema)


def _operations() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as scratch:  # the app is only built, never started
        paths = every_route_schema(create_app(Settings(data_dir=Path(scratch))))["paths"]
    return sorted((method.upper(), path) for path, operations in paths.items() for method in operations)


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[TestClient]:
    """The app with small limits and no worker (fuzzing checks the request handling only)."""
    with make_client(
        tmp_path_factory.mktemp("fuzz"),
        weights_cache,
        worker_enabled=False,
        max_upload_mb=0.2,
        max_audio_seconds=5.0,
        open311_api_keys=f"fuzz={OPEN311_KEY}",
    ) as client:
        yield client


def _seed(client: TestClient) -> None:
    """A few rows of each kind, so small generated ids also reach handlers past their lookups."""
    admin = staff_headers(client, "admin")
    assert client.post("/api/v1/suggestions", data={"text": "the bus never comes"}).status_code == 202
    routed = [  # routed, so the workflow actions get past their state checks
        routed_suggestion(client, category, "青山村")[0] for category in ("power", "transport")
    ]
    with unit_of_work(client.app.state.context.factory) as session:  # type: ignore[attr-defined]
        # a theme, so its pages and its suggestion paper get past their lookups
        theme_store.replace_automatic_themes(
            session, [theme_store.NewTheme("power", "路灯", ["路灯"], routed)], utcnow()
        )
    for mode in ("invitation", "session"):
        raised = client.post("/api/v1/appointments", json={"title": "fuzz", "mode": mode}, headers=admin)
        assert raised.status_code == 201, raised.text
    planned = client.post("/api/v1/appointments/sessions/plan", json={"first": "2099-01-01"}, headers=admin)
    assert planned.status_code == 201, planned.text


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_client: TestClient) -> schemathesis.BaseSchema:
    """Every route's operations, called straight on the ASGI app whose context fuzz_client started."""
    app = fuzz_client.app
    assert isinstance(app, FastAPI)
    _seed(fuzz_client)
    schema = schemathesis.openapi.from_dict(every_route_schema(app))
    schema.app = app
    return schema


def test_every_route_is_fuzzed() -> None:
    # The pages and forms really are in (they are left out of /openapi.json), and so is Open311.
    assert ("POST", "/staff/appointments/{request_id}/accept") in OPERATIONS
    assert ("POST", "/staff/suggestions/{suggestion_id}/dispatch") in OPERATIONS
    assert ("GET", "/open311/v2/requests.json") in OPERATIONS
    assert len(OPERATIONS) >= 100


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_generated_requests_never_cause_a_server_error(
    fuzz_client: TestClient, fuzz_schema: schemathesis.BaseSchema, method: str, path: str
) -> None:
    # As a new administrator each time (so the staff routes are exercised past the sign-in check,
    # whatever an earlier operation did to accounts); a bearer token needs no CSRF token.
    admin = staff_headers(fuzz_client, "admin")
    operation = fuzz_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        response = case.call(headers=admin)
        case.validate_response(response, checks=[not_a_server_error])

    call()


# --- malformed audio -------------------------------------------------------------------------------


def _wav(channels: int, rate: int, bits: int, data_size: int, payload: bytes) -> bytes:
    block = max(1, channels * bits // 8)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(payload))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data_size)
        + payload
    )


def _noise(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def _head(name: str, fraction: float) -> bytes:
    data = (DATA / name).read_bytes()
    return data[: int(len(data) * fraction)]


# (name, bytes, may it decode?) — a cut stream can legitimately keep its first part.
CORPUS: list[tuple[str, bytes, bool]] = [
    ("header only, no samples", _wav(1, 16000, 16, 0, b""), False),
    ("header cut inside fmt", _wav(1, 16000, 16, 0, b"")[:22], False),
    ("4 GB data claim, 1 KB present", _wav(1, 16000, 16, 0xFFFFFFFF, _noise(1024)), False),
    ("zero sample rate", _wav(1, 0, 16, 32000, _noise(32000)), False),
    ("zero channels", _wav(0, 16000, 16, 32000, _noise(32000)), False),
    # FFmpeg reads a zero sample size as 8-bit PCM: it decodes (as noise), which is not an error.
    ("zero bits per sample", _wav(1, 16000, 0, 32000, _noise(32000)), True),
    ("RIFF/WAVE magic then noise", b"RIFF\xff\xff\xff\xffWAVE" + _noise(20000), False),
    ("Ogg magic then noise", b"OggS\x00\x02" + _noise(20000), False),
    ("FLAC magic then noise", b"fLaC" + _noise(20000), False),
    ("ID3 tag then noise", b"ID3\x04\x00\x00\x00\x00\x00\x0a" + _noise(20000), False),
    ("EBML (WebM) magic then noise", b"\x1a\x45\xdf\xa3" + _noise(20000), False),
    ("AMR magic then noise", b"#!AMR\n" + _noise(20000, seed=3), True),
    ("MP4 ftyp then noise", b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isom" + _noise(20000), False),
    ("a single byte", b"\x00", False),
    ("Ogg cut after its headers", _head("speech.ogg", 0.05), True),
    ("WebM stream cut in half", _head("speech_stream.webm", 0.5), True),
    ("FLAC cut to a tenth", _head("speech.flac", 0.1), True),
    ("AMR cut to a third", _head("speech.amr", 0.33), True),
]


def _stored(client: TestClient) -> tuple[int, int]:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    with context.factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Suggestion)) or 0,
            session.scalar(select(func.count()).select_from(Audio)) or 0,
        )


@pytest.mark.parametrize(("case", "data", "may_decode"), CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed_audio_gets_a_clean_4xx(
    fuzz_client: TestClient, case: str, data: bytes, may_decode: bool
) -> None:
    before = _stored(fuzz_client)
    response = fuzz_client.post("/api/v1/suggestions", files={"audio": ("note.wav", data, "audio/wav")})
    body = response.json()
    if may_decode and response.status_code == 202:
        assert _stored(fuzz_client) == (before[0] + 1, before[1] + 1)
        return
    assert response.status_code in (413, 415, 422), (case, response.status_code, body)
    assert body["error"] in {"NotAudio", "CorruptAudio", "AudioTooShort", "AudioTooLong", "AudioTooLarge"}
    assert len(body["detail"]) > 20 and "Traceback" not in body["detail"]
    assert _stored(fuzz_client) == before
