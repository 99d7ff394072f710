"""Rendering pages: the Jinja2 environment (with its i18n extension) and each page's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from api import auth, i18n
from api.i18n import LANG_COOKIE, Lang, page_language
from api.web.done import done_words
from models.taxonomy import category_name
from models.vocabulary import actor_name, event_name, record_fields, status_name

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"

templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))  # autoescape on for .html
templates.env.add_extension("jinja2.ext.i18n")
templates.env.newstyle_gettext = True  # type: ignore[attr-defined]

__all__ = ["LANG_COOKIE", "Lang", "page_language", "render", "templates", "wants_html"]


def _escaped(text: str, context: Context, params: dict[str, Any]) -> str:
    """A translated text with its parameters: the text is ours, each parameter is escaped."""
    if context.eval_ctx.autoescape:
        return Markup(text) % params if params else Markup(text)
    return i18n.interpolate(text, params)


def gettext_callables(lang: str) -> dict[str, Any]:
    """``_``, ``gettext``, ``ngettext`` and ``pgettext`` for one page in ``lang`` (Jinja2's newstyle gettext:
    ``{{ _("Sent on %(day)s", day=d) }}``); made per request, so no two requests share a language."""
    catalogue = i18n.translations(lang)

    @pass_context
    def gettext(context: Context, message: str, /, **params: Any) -> str:
        return _escaped(str(catalogue.gettext(message)), context, params)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int, /, **params: Any) -> str:
        return _escaped(catalogue.ngettext(singular, plural, n), context, {"num": n, **params})

    @pass_context
    def pgettext(context: Context, message_context: str, message: str, /, **params: Any) -> str:
        return _escaped(str(catalogue.pgettext(message_context, message)), context, params)

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext, "pgettext": pgettext}


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


def _with_reason_in(detail: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """A history event's detail with its ``reason`` (why it went to review, or a handler's words)
    in the page language."""
    if not detail or not isinstance(detail.get("reason"), str):
        return detail
    return {**detail, "reason": i18n.reason_text(detail["reason"], lang)}


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` in the page language; a ``?lang=`` choice is remembered for a year.

    Every page also gets ``staff`` (the signed-in staff member, or None) and ``csrf_token``, which
    each form that changes data must send back as a hidden ``csrf_token`` field.
    """
    lang = page_language(request)
    zone = i18n.township_zone(request)
    staff, csrf_token = auth.page_identity(request)
    values: dict[str, Any] = {
        "lang": lang,
        **gettext_callables(lang),
        # A record stored in both languages (a department's name_zh/name_en): data, not a message.
        "pick": lambda zh, en: en if lang == "en" else zh,
        "local_time": lambda value, form="datetime": i18n.format_time(value, lang, zone, form=form),
        "staff": staff,
        "csrf_token": csrf_token,
        "lang_switch_href": language_switch_href(request, lang),
        "status_name": lambda code: status_name(code, lang),
        "event_name": lambda kind: event_name(kind, lang),
        "actor_name": lambda actor, names: actor_name(actor, names, lang),
        "category_name": lambda code: category_name(code, lang),
        "done": done_words(request),
        "record_fields": lambda detail, departments=(): record_fields(
            _with_reason_in(detail, lang), lang, {d.code: (d.name_zh, d.name_en) for d in departments}
        ),
        "reason_text": lambda stored: i18n.reason_text(stored, lang),
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
