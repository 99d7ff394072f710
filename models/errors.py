"""Domain errors shared by every layer; the API turns them into HTTP errors in one place.

An error carries a message id (the English sentence, with ``%(name)s`` parameters) and its
parameters, never a finished sentence: ``NotFound("No department with code %(code)s.", code=key)``.
``api.errors`` shows it in the reader's language (``api.i18n``); ``detail`` is the English, for logs
and the command line. Each subclass's name is a message-extraction keyword (``make messages``).

Every domain error subclasses exactly one of the semantic bases below (what went wrong, for the
person who sees it); ``api.errors`` maps each base, not each error, to an HTTP status, so a new
error can never fall through to a 500.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message (or a fragment a message takes as a parameter) for the catalogue; it is
    translated where it is shown."""
    return message


class DomainError(Exception):
    """Base of every error a clerk or villager may see. ``kind`` names it in API responses."""

    kind = "Error"

    def __init__(self, message: str, /, **params: object) -> None:
        self.message = message
        self.params = params
        self.detail = message % params if params else message
        super().__init__(self.detail)


class NotFound(DomainError):
    """A record that was asked for does not exist."""

    kind = "NotFound"


class InvalidInput(DomainError):
    """The request is well-formed but its content cannot be used."""

    kind = "InvalidInput"


class Conflict(DomainError):
    """The request clashes with the current state of what it acts on."""

    kind = "Conflict"


class Forbidden(DomainError):
    """The person is known but may not do this."""

    kind = "Forbidden"


class Unauthenticated(DomainError):
    """Nobody is signed in, or the credentials given are wrong."""

    kind = "Unauthenticated"


class Unavailable(DomainError):
    """Something the request needs (database, storage, model, engine) cannot serve it now."""

    kind = "Unavailable"


class TooLarge(DomainError):
    """What was sent is bigger than the server accepts."""

    kind = "TooLarge"


class UnsupportedMedia(DomainError):
    """What was sent is not of a kind the server can read."""

    kind = "UnsupportedMedia"


class RateLimited(DomainError):
    """Too many requests; ``retry_after`` says in how many seconds to try again."""

    kind = "RateLimited"
    retry_after = 1


#: The semantic bases; ``api.errors`` gives each its HTTP status.
SEMANTIC_BASES: tuple[type[DomainError], ...] = (
    NotFound,
    InvalidInput,
    Conflict,
    Forbidden,
    Unauthenticated,
    Unavailable,
    TooLarge,
    UnsupportedMedia,
    RateLimited,
)
