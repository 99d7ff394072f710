"""Open311 GeoReport v2 (JSON): discovery, services, service requests; POST with an api_key.

Field names follow http://wiki.open311.org/GeoReport_v2 exactly. Errors are a list of
``{"code", "description"}`` (see api/errors.py). ``service_request_id`` is the suggestion's
numeric id, never its tracking code; only the poster gets the tracking code and the receipt's
rating link (in the POST's ``service_notice``).

Who reads decides what they see, as on FixMyStreet. The public (anonymous, rate-limited per
address) gets category, status, department, dates, the village as the place, and the description
with personal data scrubbed (models/privacy.py); exact address and coordinates only when the
operator sets ``MINSHENG_OPEN311_PUBLIC_LOCATION``. Open311 clients with an ``api_key`` and
signed-in staff get the full record; only staff see internal channels (appointment agenda items).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api import submission
from api.accounts import ANY_STAFF, PermissionDenied
from api.auth import identify
from api.context import AppContext
from api.deps import ContextDep, SessionDep
from api.ids import MAX_ID
from api.ratelimit import enforce, limit_submissions, limits_of
from api.staff import ClockDep
from api.submission import track_path
from api.upload import read_form
from intake.submission import Submitter
from models.errors import N_, InvalidInput, NotFound
from models.privacy import scrub
from models.suggestions.open311 import RequestFilter, find_requests
from models.suggestions.tables import Open311Request, Suggestion
from models.taxonomy import CATEGORIES, category
from models.vocabulary import DONE, IN_PROCESSING, VILLAGER_STATUS_WORDS, Channel, Status

router = APIRouter(prefix="/open311/v2", tags=["open311"])

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23T00:00:00Z"
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_FORM_BYTES = 64 * 1024


def w3c(value: datetime | None) -> str | None:
    """A W3C date-time with its zone, e.g. 2026-11-02T08:00:00Z."""
    if value is None:
        return None
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _locale(request: Request) -> str:
    return "en" if request.query_params.get("locale", "zh").lower().startswith("en") else "zh"


def _service(code: str, locale: str) -> dict[str, Any]:
    cat = category(code)
    return {
        "service_code": cat.code,
        "service_name": cat.en if locale == "en" else cat.zh,
        "description": f"{cat.zh} / {cat.en}",
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(cat.keywords),
        "group": "民声 minsheng",
    }


@router.get("/discovery.json")
def discovery(request: Request, context: ContextDep) -> dict[str, Any]:
    """Where the GeoReport v2 endpoint is and what it speaks."""
    base = str(request.base_url).rstrip("/") + "/open311/v2"
    return {
        "changeset": CHANGESET,
        "contact": context.settings.open311_contact or "The township people's congress office.",
        "key_service": "Ask the township office for an api_key; it is needed to POST requests.",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json"],
            }
        ],
    }


@router.get("/services.json")
def services(request: Request) -> list[dict[str, Any]]:
    """One service per suggestion category."""
    locale = _locale(request)
    return [_service(c.code, locale) for c in CATEGORIES]


@router.get("/services/{service_code}.json")
def service_definition(service_code: str) -> dict[str, Any]:
    """A service's definition: no extra attributes are asked for (``metadata`` is false)."""
    try:
        cat = category(service_code)
    except InvalidInput:
        raise NotFound(
            "No service with the service_code '%(service_code)s'.", service_code=service_code
        ) from None
    return {"service_code": cat.code, "attributes": []}


@dataclass(frozen=True)
class Audience:
    """Who reads the feed, and so how much of each request they see."""

    full: bool  # the description as written, exact address and coordinates, media
    internal: bool  # internal channels listed too
    location: bool = False  # exact address and coordinates (the operator's choice for the public)


CLIENT = Audience(full=True, internal=False, location=True)  # an Open311 client with an api_key
STAFF = Audience(full=True, internal=True, location=True)


def _client(key: str | None, keys: dict[str, str]) -> str | None:
    """The Open311 client that ``key`` belongs to (compared in constant time), else None."""
    found = None
    for known, client in keys.items():
        if key is not None and hmac.compare_digest(known.encode(), key.encode()):
            found = client
    return found


def _audience(request: Request, context: AppContext) -> Audience:
    """The caller's view: an Open311 client with a valid ``api_key``, signed-in staff, else the public.

    Public reads count against the per-address limit, and so does a wrong ``api_key`` (no guessing).
    Blocking when a staff credential is sent (one query): call it from a sync endpoint.
    """
    key = request.query_params.get("api_key")
    if key is not None and _client(key, context.settings.open311_keys) is not None:
        return CLIENT
    identity = identify(request) if key is None else None
    if identity is not None and identity.staff.has_role(*ANY_STAFF):
        return STAFF
    enforce(limits_of(request).open311, request, N_("Open311 reads"))
    if key is not None:
        raise PermissionDenied("This api_key is not valid. Leave it out to read the public view.")
    return Audience(full=False, internal=False, location=context.settings.open311_public_location)


def _public(s: Suggestion, text: str | None) -> str | None:
    """``text`` (of ``s``) without personal data, for the public."""
    if text is None:
        return None
    return scrub(text, names=[s.submitter_name], phones=[s.submitter_phone], addresses=[s.address])


def request_out(
    s: Suggestion, extra: Open311Request | None, locale: str, *, extensions: bool, audience: Audience
) -> dict[str, Any]:
    """One service request in GeoReport v2 fields, as much of it as ``audience`` may see."""
    code = s.category or (extra.service_code if extra else None)
    dept = s.department if s.status not in (*IN_PROCESSING, Status.CLASSIFIED, Status.NEEDS_REVIEW) else None
    words = VILLAGER_STATUS_WORDS.get(s.status, (s.status, s.status))
    notes = s.result_note if s.status in DONE else None
    out: dict[str, Any] = {
        "service_request_id": str(s.id),
        "status": "closed" if s.status in DONE else "open",
        "status_notes": notes if audience.full else _public(s, notes),
        "service_name": _service(code, locale)["service_name"] if code else None,
        "service_code": code,
        "description": s.text if audience.full else _public(s, s.text),
        "agency_responsible": (dept.name_en if locale == "en" else dept.name_zh) if dept else None,
        "service_notice": words[1] if locale == "en" else words[0],
        "requested_datetime": w3c(s.submitted_at),
        "updated_datetime": w3c(s.updated_at),
        "expected_datetime": w3c(s.due_at),
        "address": (s.address or s.village) if audience.location else _public(s, s.village),
        "address_id": None,
        "zipcode": None,
        "lat": s.latitude if audience.location else None,
        "long": s.longitude if audience.location else None,
        "media_url": extra.media_url if extra and audience.full else None,
    }
    if extensions:
        out["extended_attributes"] = {
            "minsheng_status": s.status,
            "channel": s.channel,
            "satisfaction": s.satisfaction,
        }
    return out


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: str.isdigit() also takes "²", which int() refuses


def _whole(value: str, low: int, high: int) -> int | None:
    """``value`` as a whole number from ``low`` to ``high`` written in ASCII digits, else None."""
    number = int(value) if _DIGITS.fullmatch(value) else None
    return number if number is not None and low <= number <= high else None


def _date(request: Request, name: str) -> datetime | None:
    """A W3C date-time parameter, in UTC; one without a zone, out of range or garbled is refused."""
    value = request.query_params.get(name)
    if not value:
        return None
    example = "e.g. 2026-11-01T00:00:00Z or 2026-11-01T08:00:00+08:00"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
        if parsed.tzinfo is None:
            raise InvalidInput(
                "%(name)s has no time zone; give one, %(example)s.", name=name, example=example
            )
        return parsed.astimezone(UTC)  # years 1 and 9999 overflow here with their offset
    except (ValueError, OverflowError):
        raise InvalidInput(
            "%(name)s must be a W3C date-time with a time zone, %(example)s.", name=name, example=example
        ) from None


def _int(request: Request, name: str, default: int, high: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    number = _whole(value, 1, high)
    if number is None:
        raise InvalidInput("%(name)s must be a whole number from 1 to %(high)s.", name=name, high=high)
    return number


def _extensions(request: Request) -> bool:
    return request.query_params.get("extensions", "").lower() == "true"


@router.get("/requests.json")
def list_requests(
    request: Request, session: SessionDep, clock: ClockDep, context: ContextDep
) -> list[dict[str, Any]]:
    """Service requests; filters service_request_id, service_code, start_date, end_date, status.

    Without dates, the last 90 days (spec default); at most 1000 per page (``page``/``page_size``).
    Add ``api_key`` for the full records (see the module's docstring).
    """
    audience = _audience(request, context)
    q = request.query_params
    ids_text = _csv(q.get("service_request_id"))
    ids = [_whole(i, 1, MAX_ID) for i in ids_text]
    if len(ids) > MAX_RESULTS or any(i is None for i in ids):
        raise InvalidInput(
            "service_request_id must be a comma-separated list of at most %(max_results)s "
            "request ids (whole numbers from 1 to %(max_id)s).",
            max_results=MAX_RESULTS,
            max_id=MAX_ID,
        )
    statuses = _csv(q.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise InvalidInput("status must be open, closed, or both comma-separated.")
    codes = _csv(q.get("service_code"))
    start, end = _date(request, "start_date"), _date(request, "end_date")
    if start is not None and end is not None and start > end:
        raise InvalidInput("start_date must not be after end_date.")
    if start is None and end is None and not ids_text:
        start = clock() - DEFAULT_WINDOW
    page_size = _int(request, "page_size", MAX_RESULTS, MAX_RESULTS)
    page = _int(request, "page", 1, 1_000_000)
    rows = find_requests(
        session,
        RequestFilter(
            ids=[i for i in ids if i is not None],
            service_codes=codes,
            start=start,
            end=end,
            statuses=statuses,
            offset=(page - 1) * page_size,
            limit=page_size,
            internal=audience.internal,
        ),
    )
    locale, ext = _locale(request), _extensions(request)
    return [request_out(s, extra, locale, extensions=ext, audience=audience) for s, extra in rows]


@router.get("/requests/{service_request_id}.json")
def read_request(
    service_request_id: str, request: Request, session: SessionDep, context: ContextDep
) -> list[dict[str, Any]]:
    """One service request (as a one-element list, per the spec); an internal one only for staff."""
    audience = _audience(request, context)
    rid = _whole(service_request_id, 1, MAX_ID)
    rows = (
        find_requests(session, RequestFilter(ids=[rid], limit=1, internal=audience.internal))
        if rid is not None
        else []
    )
    if not rows:
        raise NotFound(
            "No service request with the id '%(service_request_id)s'.",
            service_request_id=service_request_id[:40],
        )
    s, extra = rows[0]
    return [request_out(s, extra, _locale(request), extensions=_extensions(request), audience=audience)]


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    text = str(value).strip()
    return text or None


def _client_for(key: str | None, keys: dict[str, str]) -> str:
    client = _client(key, keys)
    if client is None:
        raise PermissionDenied("api_key was not provided or is not valid.")
    return client


@router.post("/requests.json", dependencies=[Depends(limit_submissions)])
async def create_request(request: Request, context: ContextDep) -> list[dict[str, Any]]:
    """Create a service request (form-encoded). ``description`` becomes the suggestion's text."""
    form = await _read(request)
    try:
        client = _client_for(_field(form, "api_key"), context.settings.open311_keys)
        code = _field(form, "service_code")
        if code is None:
            raise InvalidInput("service_code is required.")
        try:
            category(code)
        except InvalidInput:
            raise InvalidInput(
                "service_code '%(code)s' is not a service; see services.json.", code=code
            ) from None
        lat, lon = _field(form, "lat"), _field(form, "long")
        address = _field(form, "address_string") or _field(form, "address_id")
        if (lat is None) != (lon is None):
            raise InvalidInput("lat and long must be given together.")
        if lat is None and address is None:
            raise InvalidInput("A location is required: lat and long, address_string or address_id.")
        description = _field(form, "description")
        if description is None:
            raise InvalidInput("description is required: it is the text of the suggestion.")
        name = " ".join(p for p in (_field(form, "first_name"), _field(form, "last_name")) if p) or None
        submitter = Submitter(
            name=name,
            phone=_field(form, "phone"),
            address=address,
            latitude=_float(lat, "lat"),
            longitude=_float(lon, "long"),
        )
        media_url = _field(form, "media_url")
        if media_url is not None and not media_url.startswith(("http://", "https://")):
            raise InvalidInput("media_url must be an http or https URL.")
        extra = {
            "service_code": code,
            "client": client,
            "media_url": (media_url or "")[:1000] or None,
            "device_id": (_field(form, "device_id") or "")[:200] or None,
            "account_id": (_field(form, "account_id") or "")[:200] or None,
            "email": (_field(form, "email") or "")[:200] or None,
        }

        def attach(session: Session, suggestion_id: int) -> None:
            session.add(Open311Request(suggestion_id=suggestion_id, **extra))

        receipt = await submission.submit(
            context,
            submission.Submission(submitter, text=description, channel=Channel.OPEN311, attach=attach),
        )
    finally:
        await form.close()
    return [
        {
            "service_request_id": str(receipt.id),
            "service_notice": (
                f"Tracking code {receipt.tracking_code}: give the villager the link "
                f"{track_path(receipt.tracking_code, receipt.rating_key)} to follow it and rate the result "
                f"(the code alone does not allow rating). 查询码 {receipt.tracking_code}。"
            ),
            "account_id": extra["account_id"],
        }
    ]


def _float(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput("%(name)s must be a number, not '%(value)s'.", name=name, value=value) from None


async def _read(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        raise InvalidInput("Send the request form-encoded (application/x-www-form-urlencoded).")
    return await read_form(request, MAX_FORM_BYTES)


__all__ = ["request_out", "router", "w3c"]
