"""The one place where errors become HTTP responses: ``{"error": kind, "detail": message}``."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from api.accounts import NotAuthenticated
from api.openai_errors import is_openai_path, openai_error
from api.web.templating import render, wants_html
from models.errors import (
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


def error_response(status: int, kind: str, detail: str) -> JSONResponse:
    """The error body every endpoint uses."""
    return JSONResponse({"error": kind, "detail": detail}, status_code=status)


def _respond(
    request: Request,
    status: int,
    kind: str,
    detail: str,
    retry_after: int | None = None,
    param: str | None = None,
) -> Response:
    """JSON for API clients; the same message as a page for a browser on a web page.

    Open311 clients get the GeoReport v2 error shape: a list of ``{code, description}``; a
    malformed request is 400 there, as the spec says. OpenAI clients (``/v1/``) get OpenAI's
    shape (api.openai_errors), ``param`` naming the form field at fault.
    """
    response: Response
    if is_openai_path(request.url.path):
        response = openai_error(status, kind, detail, param)
    elif request.url.path.startswith("/open311/"):
        code = 400 if status == 422 else status
        response = JSONResponse([{"code": code, "description": detail}], status_code=code)
    elif wants_html(request):
        response = render(
            request, "error.html", {"status": status, "kind": kind, "detail": detail}, status_code=status
        )
    else:
        response = error_response(status, kind, detail)
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
    response = error_response(401, exc.kind, exc.detail)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "The request is not valid."


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, NotAuthenticated):
            return _not_authenticated(request, exc)
        status = status_for(exc)
        if status >= 500:
            log.error("%s: %s", exc.kind, exc.detail)
        response = _respond(request, status, exc.kind, exc.detail, param=getattr(exc, "param", None))
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _respond(request, 422, "ValidationError", _validation_message(exc))

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # The client hung up before its request was read (an upload cut off midway): nothing was
        # stored and nobody is left to answer. One line, no traceback: anyone can repeat this.
        log.info("client hung up before its request was read: %s %r", request.method, request.url.path[:200])
        return Response(status_code=400)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
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
            "The database cannot be reached right now; nothing was saved. Please try again shortly.",
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
            "A number or value in the request is out of range. Please check it.",
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return _respond(
            request, 500, "InternalError", "Something went wrong on the server; it has been logged."
        )
