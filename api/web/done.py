"""The success message a staff page shows after its form redirected back (``?done=<key>``): every
such message in one place, by its English message id (the catalogue has the Chinese)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import RedirectResponse

from models.errors import N_

DONE_WORDS: dict[str, str] = {
    "dispatch": N_("Dispatched; the holder sees it in their to-do list."),
    "accept": N_("Accepted."),
    "start": N_("Work started."),
    "resolve": N_("Resolved; the villager now sees the result."),
    "close": N_("Closed."),
    "return": N_("Returned to the township for triage."),
    "extend": N_("Extension requested; waiting for an administrator."),
    "chase": N_("Chase recorded."),
    "approve_extension": N_("Extension approved; the deadline moved."),
    "reject_extension": N_("Extension rejected."),
    "department": N_("Department saved."),
    "deputy": N_("Deputy saved."),
    "rule": N_("Routing rule saved."),
    "rule_deleted": N_("Routing rule removed."),
    "deadlines": N_("Deadlines saved."),
    "account": N_("Account saved."),
    "vocabulary": N_("Vocabulary saved."),
    "renamed": N_("Renamed."),
    "merged": N_("Merged."),
    "split": N_("Split into a new theme."),
    "promoted": N_("Made a consultation topic."),
    "published": N_("Published; share the link or the QR code."),
    "stance": N_("Stance corrected."),
    "meeting": N_("Meeting recorded."),
    "outcome": N_("Outcome saved; the villagers who raised it see it."),
    "raised": N_("Topic raised; it waits for the township head."),
    "accepted_invitation": N_("Accepted; the meeting is on the calendar."),
    "declined": N_("Declined; the deputy sees the reason."),
    "scheduled": N_("Put on the session's agenda."),
    "visited": N_("Site visit recorded."),
    "planned": N_("Fixed sessions planned."),
    "held": N_("Marked held; its topics are now discussed."),
    "item": N_("Item added and dispatched to its department."),
    "rated": N_("Rating recorded."),
}


def done_words(request: Request) -> str | None:
    """The message id for this page's ``?done=``, if it names one."""
    return DONE_WORDS.get(request.query_params.get("done") or "")


def redirect_done(path: str, done: str) -> RedirectResponse:
    """303 to ``path`` (its query and #fragment kept), saying ``done`` there."""
    assert done in DONE_WORDS, done
    parts = urlsplit(path)
    query = "&".join(q for q in (parts.query, urlencode({"done": done})) if q)
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=303)
