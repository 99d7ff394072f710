"""Rendering pages: the Jinja2 environment, the page language, and the ``tr`` helper."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api import auth
from api.local_time import local
from api.web.done import done_words
from models.taxonomy import category_name
from models.vocabulary import actor_name, event_name, record_fields, status_name

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
LANG_COOKIE = "minsheng_lang"
Lang = Literal["zh", "en"]

templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))  # autoescape on for .html


def page_language(request: Request) -> Lang:
    """``?lang=`` if given, else the remembered cookie, else Chinese."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in ("zh", "en"):
            return "en" if value == "en" else "zh"
    return "zh"


def _with_language(path: str, query: list[tuple[str, str]], lang: Lang) -> str:
    return f"{path}?{urlencode([*((k, v) for k, v in query if k != 'lang'), ('lang', lang)])}"


def language_switch_href(request: Request, lang: Lang) -> str:
    """The link to this page in the other language: always a GET, never a repeated form.

    A page answering a GET keeps its address and query (``?lang=`` replaced). A page answering a
    form (an error after POST) links to the page of this site the form was sent from, else home.
    """
    other: Lang = "zh" if lang == "en" else "en"
    if request.method in ("GET", "HEAD"):
        return _with_language("", list(request.query_params.multi_items()), other)
    came_from = urlsplit(request.headers.get("referer", ""))
    same_site = came_from.scheme == request.url.scheme and came_from.netloc == request.url.netloc
    if same_site and came_from.path.startswith("/") and not came_from.path.startswith("//"):
        return _with_language(came_from.path, parse_qsl(came_from.query, keep_blank_values=True), other)
    return _with_language("/", [], other)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` in the page language; a ``?lang=`` choice is remembered for a year.

    Every page also gets ``staff`` (the signed-in staff member, or None) and ``csrf_token``, which
    each form that changes data must send back as a hidden ``csrf_token`` field.
    """
    lang = page_language(request)

    def tr(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    staff, csrf_token = auth.page_identity(request)
    context_ = getattr(request.app.state, "context", None)
    zone: tzinfo = context_.settings.timezone if context_ is not None else UTC

    def local_time(moment: datetime | None) -> str:
        return local(moment, zone).strftime("%Y-%m-%d %H:%M") if moment else "–"

    values: dict[str, Any] = {
        "lang": lang,
        "tr": tr,
        "staff": staff,
        "csrf_token": csrf_token,
        "lang_switch_href": language_switch_href(request, lang),
        "status_name": lambda code: status_name(code, lang),
        "event_name": lambda kind: event_name(kind, lang),
        "actor_name": lambda actor, names: actor_name(actor, names, lang),
        "category_name": lambda code: category_name(code, lang),
        "local_time": local_time,
        "done": done_words(request),
        "record_fields": lambda detail, departments=(): record_fields(
            detail, lang, {d.code: (d.name_zh, d.name_en) for d in departments}
        ),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    pre_csrf = getattr(request.state, "pre_csrf", None)
    if pre_csrf is not None and pre_csrf[1] and csrf_token == pre_csrf[0]:
        auth.set_pre_session_cookie(request, response, csrf_token)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


def wants_html(request: Request) -> bool:
    """Whether the client is a browser asking for a page (errors then come back as a page too)."""
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/open311/"):
        return False
    return "text/html" in request.headers.get("accept", "")
