"""The one place where errors become HTTP responses: ``{"error": kind, "detail": message, ...}``.

A message is a catalogue id and its parameters (``api.i18n``): a page shows it in the page's
language; a JSON body gives ``detail`` in the language of ``?lang=``, the page's language cookie
or ``Accept-Language`` (Chinese by default), plus ``message_id`` and ``params`` for clients that
translate for themselves. Open311 and OpenAI-compatible clients are machines following an English
specification: they get the English text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from api import i18n
from api.accounts import NotAuthenticated
from api.openai_errors import is_openai_path, openai_error
from api.web.templating import render, wants_html
from models.errors import (
    N_,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthenticated,
    Unavailable,
    UnsupportedMedia,
)

log = logging.getLogger(__name__)

#: Each semantic base of models.errors and its HTTP status; every domain error has one of them.
STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    InvalidInput: 422,
    Conflict: 409,
    Forbidden: 403,
    Unauthenticated: 401,
    Unavailable: 503,
    TooLarge: 413,
    UnsupportedMedia: 415,
    RateLimited: 429,
}


def status_for(exc: DomainError) -> int:
    """HTTP status of a domain error: the one of its semantic base (500 for a bare DomainError)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _json_value(value: object) -> object:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def error_response(
    request: Request, status: int, kind: str, message: str, params: Mapping[str, object] | None = None
) -> JSONResponse:
    """The error body every endpoint uses, ``detail`` in the response language."""
    values = dict(params or {})
    lang = i18n.response_language(request)
    detail = i18n.gettext(message, lang, **i18n.translated_params(values, lang))
    body = {
        "error": kind,
        "detail": detail,
        "message_id": message,
        "params": {k: _json_value(v) for k, v in values.items()},
    }
    return JSONResponse(body, status_code=status)


def _respond(
    request: Request,
    status: int,
    kind: str,
    message: str,
    params: Mapping[str, object] | None = None,
    *,
    retry_after: int | None = None,
    param: str | None = None,
) -> Response:
    """JSON for API clients; the same message as a page for a browser on a web page.

    Open311 clients get the GeoReport v2 error shape: a list of ``{code, description}``; a
    malformed request is 400 there, as the spec says. OpenAI clients (``/v1/``) get OpenAI's
    shape (api.openai_errors), ``param`` naming the form field at fault.
    """
    response: Response
    values = dict(params or {})
    english = i18n.interpolate(message, values)
    if is_openai_path(request.url.path):
        response = openai_error(status, kind, english, param)
    elif request.url.path.startswith("/open311/"):
        code = 400 if status == 422 else status
        response = JSONResponse([{"code": code, "description": english}], status_code=code)
    elif wants_html(request):
        lang = i18n.page_language(request)
        detail = i18n.gettext(message, lang, **i18n.translated_params(values, lang))
        response = render(
            request, "error.html", {"status": status, "kind": kind, "detail": detail}, status_code=status
        )
    else:
        response = error_response(request, status, kind, message, values)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
    """A browser on a page is sent to the sign-in form (and back here after); API clients get 401."""
    if is_openai_path(request.url.path):
        response = openai_error(401, exc.kind, exc.detail)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    if wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":  # a form posted after the session ended: come back to a page
            target = "/staff"
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    response = error_response(request, 401, exc.kind, exc.message, exc.params)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _validation_message(exc: RequestValidationError) -> tuple[str, dict[str, object]]:
    """The message for a request that fails validation: pydantic's own (English) words per field."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    if not parts:
        return N_("The request is not valid."), {}
    return N_("Please check these fields: %(problems)s"), {"problems": "; ".join(parts)}


#: Starlette's words for the HTTP errors it raises itself (an unknown address, a wrong method),
#: marked for the catalogue so that they are translated like any message.
HTTP_MESSAGES = {404: N_("Not Found"), 405: N_("Method Not Allowed")}


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, NotAuthenticated):
            return _not_authenticated(request, exc)
        status = status_for(exc)
        if status >= 500:
            log.error("%s: %s", exc.kind, exc.detail)
        response = _respond(
            request, status, exc.kind, exc.message, exc.params, param=getattr(exc, "param", None)
        )
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        message, params = _validation_message(exc)
        return _respond(request, 422, "ValidationError", message, params)

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # The client hung up before its request was read (an upload cut off midway): nothing was
        # stored and nobody is left to answer. One line, no traceback: anyone can repeat this.
        log.info("client hung up before its request was read: %s %r", request.method, request.url.path[:200])
        return Response(status_code=400)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        # Starlette's own words ("Not Found") are in the catalogue (HTTP_MESSAGES); others show as they are.
        response = _respond(request, exc.status_code, kind, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def _db_down(request: Request, exc: Exception) -> Response:
        log.error("database unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0][:300])
        return _respond(
            request,
            503,
            "DatabaseUnavailable",
            N_("The database cannot be reached right now; nothing was saved. Please try again shortly."),
            retry_after=5,
        )

    # Connection refused or lost (OperationalError, InterfaceError) and an exhausted connection
    # pool (TimeoutError) all mean: the database is not answering. The request's transaction
    # was rolled back, so the client may safely retry.
    for db_error in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(db_error, _db_down)

    @app.exception_handler(DataError)
    async def _bad_value(request: Request, exc: DataError) -> Response:
        # The database refused a value the request carried (a number beyond its integer range, say):
        # the client's input, not a server fault. The transaction was rolled back.
        log.info("database refused a request value: %s", str(exc.orig).splitlines()[0][:200])
        return _respond(
            request,
            422,
            "ValidationError",
            N_("A number or value in the request is out of range. Please check it."),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return _respond(
            request, 500, "InternalError", N_("Something went wrong on the server; it has been logged.")
        )
