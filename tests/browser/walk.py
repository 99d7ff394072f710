"""What the page-walking browser tests look at on each page: the words a person sees (for English
words and raw codes), axe-core's accessibility findings, and sideways overflow on a phone."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

#: axe-core from the npm package of tests/browser (package.json; `make test` runs `npm ci` there).
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"

#: Latin words a Chinese page may show: the product's name, file formats, standards, the language
#: switch, paper and other units, key caps, a metric's name. Everything else in Latin letters is an
#: untranslated word or a raw code, unless the page marks it as data not to translate
#: (``translate="no"``: an account's user name, a department's code and English name).
ALLOWED_WORDS = frozenset(
    {"minsheng", "csv", "json", "pdf", "word", "qr", "open311", "english", "a4", "km", "kg", "mm", "cm"}
    | {"ctrl", "enter", "esc", "f1"}
)

#: Visible text: the body's rendered text, the title, and the words of controls that are not text
#: nodes (placeholders, aria-labels, titles, button values).
_VISIBLE_TEXT_JS = """() => {
  const kept = [...document.querySelectorAll("[translate=no]")].map(el => [el, el.style.display]);
  for (const [el] of kept) el.style.display = "none";
  const parts = [document.title, document.body ? document.body.innerText : ""];
  for (const [el, display] of kept) el.style.display = display;
  const shown = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const named = "[placeholder], [aria-label], [title], button, input[type=submit], input[type=button]";
  for (const el of document.querySelectorAll(named)) {
    if (!shown(el) || el.closest("[translate=no]")) continue;
    for (const a of ["placeholder", "aria-label", "title"]) {
      if (el.getAttribute(a)) parts.push(el.getAttribute(a));
    }
    if (el.tagName === "INPUT" && (el.type === "submit" || el.type === "button") && el.value) {
      parts.push(el.value);
    }
  }
  return parts.join("\\n");
}"""

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
_URL = re.compile(r"https?://\S+|/[A-Za-z0-9_\-/]+")
_TRACKING_CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")


def visible_text(page: Page) -> str:
    """Everything a sighted person reads on the page, as one string."""
    return str(page.evaluate(_VISIBLE_TEXT_JS))


def latin_words(text: str, data: Iterable[str] = ()) -> list[str]:
    """The English words and codes in ``text`` outside the allow-list.

    ``data`` are strings the test itself stored (user names, short codes) that a page rightly
    shows as they are; addresses and tracking codes are data too.
    """
    for item in sorted(data, key=len, reverse=True):
        text = text.replace(item, " ")
    text = _TRACKING_CODE.sub(" ", _URL.sub(" ", text))
    found = []
    for word in _WORD.findall(text):
        if len(word) < 2 or word.lower() in ALLOWED_WORDS:
            continue
        found.append(word)
    return sorted(set(found))


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ["violations"]});
          return r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(
              n => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\\n").slice(0, 2).join(" ")
            )
          }));
        }"""
    )
    return list(result)


def overflow_width(page: Page) -> int:
    """How wide the document is (more than the viewport means the page scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth"))


def screenshot_dir() -> Path:
    """Where phone-width screenshots go: $MINSHENG_SCREENSHOTS, else a fresh temporary folder."""
    given = os.environ.get("MINSHENG_SCREENSHOTS")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="minsheng-shots-"))
