"""Languages: the message catalogues, the language of a page or a response, and local times.

The one home of translation. Message ids are the English source strings; ``locale/zh/LC_MESSAGES/
messages.po`` holds their Chinese, the default language. The ``.po`` file is compiled in memory on
first use (no build step after a clone). Parameters are named, ``%(name)s``. ``python -m api.i18n
extract`` (``make messages``) re-reads the code and templates and updates the ``.po`` files,
keeping what was translated; every ``DomainError`` subclass is an extraction keyword by itself.
"""

from __future__ import annotations

import argparse
import importlib
import io
import pkgutil
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import NullTranslations, Translations
from starlette.requests import HTTPConnection

from models.errors import N_, DomainError
from models.suggestions import reasons

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "Lang",
    "error_text",
    "gettext",
    "ngettext",
    "page_language",
    "response_language",
]

Lang = Literal["zh", "en"]
#: The languages offered; the first is the default and the one every message must be translated to.
LANGUAGES: tuple[Lang, ...] = ("zh", "en")
DEFAULT: Lang = "zh"
#: The language the message ids are written in (no catalogue needed).
SOURCE: Lang = "en"
#: The cookie that remembers a ``?lang=`` choice.
LANG_COOKIE = "minsheng_lang"

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
#: The packages whose code holds messages (and DomainError subclasses).
PACKAGES = ("models", "intake", "classify", "api")
#: The keywords every extraction knows, besides the DomainError subclasses.
BASE_KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "N_": None,
}


def catalogue_path(lang: str) -> Path:
    """Where the ``.po`` file of ``lang`` lives."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (the message ids themselves for the source language)."""
    path = catalogue_path(lang)
    if lang == SOURCE or not path.exists():
        return NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def interpolate(text: str, params: Mapping[str, object]) -> str:
    """``text % params`` when there are parameters (a message without any is left as written)."""
    return text % params if params else text


def gettext(message: str, lang: str, /, **params: object) -> str:
    """``message`` in ``lang``, with its ``%(name)s`` parameters filled in."""
    return interpolate(translations(lang).gettext(message), params)


def ngettext(singular: str, plural: str, n: int, lang: str, /, **params: object) -> str:
    """The singular or plural form for ``n`` in ``lang``; ``%(num)s`` is ``n``."""
    return interpolate(translations(lang).ngettext(singular, plural, n), {"num": n, **params})


def translated_params(params: Mapping[str, object], lang: str) -> dict[str, object]:
    """Parameters as shown in ``lang``: a fragment that is itself a message (marked ``N_``, e.g. a
    field's name) is translated too; anything else is shown as it is."""
    return {k: gettext(v, lang) if isinstance(v, str) and v else v for k, v in params.items()}


def error_text(error: DomainError, lang: str) -> str:
    """A domain error's message in ``lang``, its parameters filled in (and translated where they
    are messages themselves)."""
    return gettext(error.message, lang, **translated_params(error.params, lang))


def _choice(value: str | None) -> Lang | None:
    if not value:
        return None
    short = value.strip().lower().replace("_", "-").split("-")[0]
    return next((lang for lang in LANGUAGES if lang == short), None)


def page_language(request: HTTPConnection) -> Lang:
    """A page's language: ``?lang=`` if given, else the remembered cookie, else Chinese."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGUAGES:
            return _choice(value) or DEFAULT
    return DEFAULT


def response_language(request: HTTPConnection) -> Lang:
    """An API response's language: ``?lang=``, the page's cookie, then ``Accept-Language``, else
    Chinese. The first language of the header (by its q-values) that we offer wins."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGUAGES:
            return _choice(value) or DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        if rest.strip().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag))
    for neg_q, _i, tag in sorted(ranked):
        lang = _choice(tag)
        if lang is not None and neg_q < 0:
            return lang
    return DEFAULT


def babel_locale(lang: str) -> Locale:
    """Babel's locale for ``lang`` (Chinese is simplified Chinese, China)."""
    return Locale.parse("zh_Hans_CN" if lang == "zh" else "en_GB")


def format_time(value: datetime | date | None, lang: str, zone: tzinfo, *, form: str = "datetime") -> str:
    """A stored (UTC) time as the township's wall-clock time, in ``lang``'s way (``form``: ``date``,
    ``datetime`` or ``time``); a dash when there is none. Naive times are taken as UTC."""
    if value is None:
        return "–"
    if not isinstance(value, datetime):
        return format_date(value, "medium", locale=babel_locale(lang))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if form == "date":
        return format_date(value.astimezone(zone).date(), "medium", locale=babel_locale(lang))
    pattern = {"datetime": "yyyy-MM-dd HH:mm", "time": "HH:mm"}[form]
    return format_datetime(value, pattern, tzinfo=zone, locale=babel_locale(lang))


def township_zone(request: HTTPConnection) -> tzinfo:
    """The township's time zone: the running app's setting (``MINSHENG_TIMEZONE``), else its default."""
    context = getattr(request.app.state, "context", None)
    if context is not None:
        zone: tzinfo = context.settings.timezone
        return zone
    from api.settings import Settings

    default: tzinfo = Settings.model_fields["timezone"].default
    return default


# --- extraction -------------------------------------------------------------------------------


def domain_error_names() -> set[str]:
    """The name of every DomainError subclass in our packages (imported to find them)."""
    from models.errors import DomainError

    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            try:
                importlib.import_module(info.name)
            except ImportError:  # an optional engine (torch, boto3) that is not installed
                continue

    def walk(cls: type) -> Iterator[type]:
        sub: type
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    return {"DomainError", *(cls.__name__ for cls in walk(DomainError))}


def keywords() -> dict[str, Any]:
    """Babel's extraction keywords: gettext's and each DomainError class (message first)."""
    return {**BASE_KEYWORDS, **dict.fromkeys(domain_error_names())}


def extract() -> Catalog:
    """Every message of the code and the templates, as a template catalogue."""
    catalog = Catalog(project="minsheng", charset="utf-8")
    words = keywords()
    mapping = [
        ("**/tests/**", "ignore"),
        ("**.py", "python"),
        ("**/templates/**.html", "jinja2.ext:babel_extract"),
    ]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
    for package in PACKAGES:
        found = extract_from_dir(
            ROOT / package, method_map=mapping, options_map=options, keywords=words, strip_comment_tags=True
        )
        for filename, lineno, message, comments, context in found:
            where = [(f"{package}/{filename}", lineno)]
            catalog.add(message, None, where, auto_comments=comments, context=context)
    return catalog


def update(langs: Iterable[str] = (DEFAULT,)) -> dict[str, int]:
    """Update each language's ``.po`` from the code (babel's update: translations are kept, new
    messages added empty, vanished ones dropped). Returns how many messages each has."""
    template = extract()
    counts = {}
    for lang in langs:
        path = catalogue_path(lang)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=lang)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, project="minsheng", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as f:
            write_po(f, catalog, width=0, sort_output=True, omit_header=False, include_lineno=False)
        counts[lang] = len(catalog)
    translations.cache_clear()
    return counts


def main(argv: list[str] | None = None) -> int:
    """``python -m api.i18n extract``: update the catalogues from the code and templates."""
    parser = argparse.ArgumentParser(prog="python -m api.i18n", description=main.__doc__)
    parser.add_argument("command", choices=["extract"])
    parser.parse_args(argv)
    for lang, n in update().items():
        print(f"{catalogue_path(lang).relative_to(ROOT)}: {n} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def reason_text(stored: str | None, lang: str) -> str | None:
    """Why a suggestion waits for a person (``Suggestion.review_reason``), in ``lang``."""
    found = reasons.load(stored)
    return " ".join(gettext(r.message, lang, **r.params) for r in found) if found else None
