"""`IndexDoc`: what a backend indexes for one message (`search.base.IndexDoc`, where the
backends' protocol names it, is this class).  In a module of its own so that a search, which
never makes one, does not create the dataclass (~1 ms of CPU; issue 14, CLI start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """What a backend indexes for one message (denormalised, rebuilt from the store)."""

    key: str
    message_id: str
    lists: tuple[str, ...]
    thread_id: str
    from_name: str
    from_addr: str
    subject: str
    date: datetime | None
    body_own: str
    body_quoted: str
    attachments: tuple[str, ...] = ()
    community: tuple[str, ...] = ()
    private: bool = False
    """Every list of the message has a private archive: hidden unless a search includes
    private messages (a message also posted to a public list is public)."""
    identity: int = 0
    """The sender's identity id in the store (`store.identities`; 0: none).  Identities are
    stable; which person holds one changes with merges, so the index keeps the identity and
    searches map it to its person when they run (`PersonResolver`)."""
    body_chars: int = 0
    """Characters of the stored body (signature and footers included): the embedded backend
    keeps the indexed text of a long one (`search.fts_texts.KEEP_CHARS`)."""
