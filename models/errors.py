"""Domain errors shared by every layer; the API turns them into HTTP errors in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a clerk or villager may see. ``kind`` names it in API responses."""

    kind = "Error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """A record that was asked for does not exist."""

    kind = "NotFound"


class InvalidInput(DomainError):
    """The request is well-formed but its content cannot be used."""

    kind = "InvalidInput"
