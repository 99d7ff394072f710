"""Why a suggestion waits for a person: message ids with their parameters, kept as JSON in
``Suggestion.review_reason`` so that each reader sees them in their own language.

A stored value that is not such a list (written before reasons were kept this way) is one reason
whose message is that text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from models.errors import N_

Param = str | int | float


@dataclass(frozen=True)
class Reason:
    """One reason: an English message id (marked ``N_`` where it is written) and its parameters."""

    message: str
    params: dict[str, Param] = field(default_factory=dict)

    def english(self) -> str:
        """The reason in English, as written in the code (for logs, the CLI and tests)."""
        return self.message % self.params if self.params else self.message


def dump(reasons: Sequence[Reason]) -> str | None:
    """The reasons as stored (None for no reason)."""
    if not reasons:
        return None
    return json.dumps([{"message": r.message, "params": r.params} for r in reasons], ensure_ascii=False)


def load(stored: str | None) -> list[Reason]:
    """The reasons of a stored value (an older plain text is one reason)."""
    if not stored:
        return []
    try:
        items = json.loads(stored)
    except ValueError:
        return [Reason(stored)]
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("message"), str) and isinstance(i.get("params", {}), dict)
        for i in items
    ):
        return [Reason(stored)]
    return [Reason(i["message"], dict(i.get("params") or {})) for i in items]


def english(stored: str | None) -> str | None:
    """The stored reasons in English, one after another (None for none)."""
    reasons = load(stored)
    return " ".join(r.english() for r in reasons) if reasons else None


def no_department(category: str | None) -> Reason:
    """No department is set up for the category: a clerk routes the suggestion by hand."""
    return Reason(N_("No department handles the category '%(category)s'."), {"category": category or "?"})


def returned_by(actor: str, reason: str) -> Reason:
    """A handler sent the suggestion back to triage, saying why."""
    return Reason(N_("Returned by %(actor)s: %(reason)s"), {"actor": actor, "reason": reason})
