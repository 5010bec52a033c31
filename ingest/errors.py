"""Ingest errors: a small hierarchy, mapped to user-facing messages at the edges."""

from __future__ import annotations


class IngestError(Exception):
    """Base class of ingest errors."""


class ParseError(IngestError):
    """The bytes are not a message at all (the message is quarantined with this reason)."""


class SourceError(IngestError):
    """A source or one of its volumes could not be fetched or read."""

    def __init__(self, url: str, reason: str) -> None:
        # a reason that names the URL already is not prefixed with it again
        super().__init__(reason if url and url in reason else f"{url}: {reason}")
        self.url = url
        self.reason = reason
