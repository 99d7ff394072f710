"""The message catalogue: every message of the code and templates has its Chinese, with the same
parameters; no inline ``tr("中文", "English")`` pair is left; languages are chosen and times shown
as the township reads them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from starlette.requests import Request

from api import i18n
from models.errors import DomainError, NotFound

pytestmark = pytest.mark.database_free

PARAM = re.compile(r"%\((\w+)\)[sd]")
TR_PAIR = re.compile(r"""\btr\(\s*(?:"[^"]*"|'[^']*')\s*,\s*(?:"[^"]*"|'[^']*')""")


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return i18n.extract()


@pytest.fixture(scope="module")
def chinese() -> Catalog:
    with i18n.catalogue_path("zh").open("rb") as f:
        return read_po(f, locale="zh")


def _key(message_id: object) -> str:
    return message_id if isinstance(message_id, str) else str(message_id[0])  # type: ignore[index]


def test_every_message_has_a_chinese_translation(extracted: Catalog, chinese: Catalog) -> None:
    missing = []
    for message in extracted:
        if not message.id:
            continue
        translated = chinese.get(message.id, context=message.context)
        if translated is None or not translated.string or translated.fuzzy:
            missing.append((message.context, _key(message.id), sorted(message.locations)[:1]))
    assert missing == [], f"{len(missing)} messages without Chinese; run `make messages` and translate"


def test_the_extraction_finds_templates_errors_and_marked_fragments(extracted: Catalog) -> None:
    ids = {_key(m.id) for m in extracted if m.id}
    assert "Something went wrong" in ids  # a template (error.html)
    assert "No suggestion has the tracking code '%(code)s'. Please check the code and try again." in ids
    assert "meeting date" in ids  # a fragment a message takes as a parameter (N_)
    assert "Not Found" in ids  # api/errors.py's own


def test_every_domain_error_class_is_an_extraction_keyword() -> None:
    names = i18n.domain_error_names()
    assert {"DomainError", "NotFound", "RatingRefused", "AccountPaused", "InvalidParameter"} <= names
    assert set(i18n.keywords()) >= names | {"_", "gettext", "ngettext", "N_"}


def test_translations_have_the_parameters_of_their_message(chinese: Catalog) -> None:
    wrong = []
    for message in chinese:
        if not message.id or not message.string:
            continue
        source, text = _key(message.id), message.string if isinstance(message.string, str) else ""
        if set(PARAM.findall(source)) != set(PARAM.findall(text)):
            wrong.append((source, text))
            continue
        values = dict.fromkeys(PARAM.findall(source), "x")
        if values:
            text % values  # a stray % in the translation raises here
    assert wrong == []


def test_no_inline_pair_is_left() -> None:
    root = Path(i18n.ROOT)
    left = [
        f"{path.relative_to(root)}:{n}"
        for folder in i18n.PACKAGES
        for path in sorted((root / folder).rglob("*"))
        if path.suffix in (".py", ".html")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TR_PAIR.search(line)
    ]
    assert left == []


def test_gettext_fills_parameters_in_the_chosen_language() -> None:
    message = "No suggestion has the tracking code '%(code)s'. Please check the code and try again."
    assert (
        i18n.gettext(message, "zh", code="AB12-CD34") == "没有查询码为“AB12-CD34”的建议。请核对查询码后再试。"
    )
    assert i18n.gettext(message, "en", code="AB12-CD34").startswith(
        "No suggestion has the tracking code 'AB12"
    )


def test_a_domain_error_keeps_its_message_id_and_parameters_and_english_detail() -> None:
    error = NotFound("No theme with id %(theme_id)s.", theme_id=7)
    assert (error.message, error.params, error.detail) == (
        "No theme with id %(theme_id)s.",
        {"theme_id": 7},
        "No theme with id 7.",
    )
    assert str(DomainError("50% done")) == "50% done"  # no parameters: the text as written


def _request(query: str = "", headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request(
        {"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": raw}
    )


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ("", {}, "zh"),
        ("", {"Accept-Language": "en-GB,en;q=0.9"}, "en"),
        ("", {"Accept-Language": "fr, en;q=0.5, zh;q=0.8"}, "zh"),
        ("", {"Accept-Language": "de"}, "zh"),
        ("lang=en", {"Accept-Language": "zh-CN"}, "en"),
        ("", {"Accept-Language": "en", "Cookie": f"{i18n.LANG_COOKIE}=zh"}, "zh"),
    ],
)
def test_response_language(query: str, headers: dict[str, str], expected: str) -> None:
    assert i18n.response_language(_request(query, headers)) == expected


def test_times_are_shown_in_the_township_zone() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    moment = datetime(2026, 12, 7, 17, 30, 12, 345678, tzinfo=UTC)
    assert i18n.format_time(moment, "zh", zone) == "2026-12-08 01:30"
    assert i18n.format_time(moment, "zh", zone, form="date") == "2026年12月8日"
    assert i18n.format_time(moment, "en", zone, form="date") == "8 Dec 2026"
    assert i18n.format_time(date(2026, 1, 2), "zh", zone) == "2026年1月2日"
    assert i18n.format_time(None, "zh", zone) == "–"
