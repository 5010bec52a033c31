"""The Elasticsearch backend's documents (`search.elastic`): a message as indexed
(`es_document`, the fields of the mapping file), and a hit and the facets read back from an
answer (`hit_of`, `facets_of`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from search.base import Hit, IndexDoc, PersonResolver
from search.persons import sender_facet
from search.query import HIGHLIGHT_START
from search.snippets import retag
from search.textprep import identifiers, stem_text


def es_document(doc: IndexDoc) -> dict[str, Any]:
    """The indexed form of one message (see the mapping file)."""
    sender = f"{doc.from_name} {doc.from_addr}".strip()
    return {
        "key": doc.key,
        "message_id": doc.message_id,
        "lists": list(doc.lists),
        "list_names": list(doc.lists),
        "community": list(doc.community),
        "thread_id": doc.thread_id,
        "from_name": doc.from_name,
        "from_addr": doc.from_addr,
        "sender_stem": stem_text(sender),
        "date": int(doc.date.timestamp()) if doc.date else None,
        "year": f"{doc.date.astimezone(UTC).year:04d}" if doc.date else None,
        "subject": doc.subject,
        "subject_stem": stem_text(doc.subject),
        "body_own": doc.body_own,
        "body_own_stem": stem_text(doc.body_own),
        "body_quoted": doc.body_quoted,
        "body_quoted_stem": stem_text(doc.body_quoted),
        # quoted identifiers are indexed whole in the message they come from
        "identifiers": identifiers(doc.subject, doc.body_own),
        "attachments": " ".join(doc.attachments),
        "private": doc.private,
        "identity": doc.identity,
    }


def hit_of(raw: dict[str, Any]) -> Hit:
    """A search hit from the document Elasticsearch answered (its source and highlights)."""
    source = raw["_source"]
    highlight = raw.get("highlight", {})
    own = " ".join(map(retag, highlight.get("body_own", [])))
    quoted = " ".join(map(retag, highlight.get("body_quoted", [])))
    snippet = own if HIGHLIGHT_START in own else quoted if HIGHLIGHT_START in quoted else own
    date = source.get("date")
    score = raw.get("_score")
    return Hit(
        key=source["key"],
        message_id=source.get("message_id", ""),
        lists=tuple(source.get("list_names", [])),
        subject=source.get("subject", ""),
        from_name=source.get("from_name", ""),
        from_addr=source.get("from_addr", ""),
        date=datetime.fromtimestamp(int(date), UTC) if date is not None else None,
        thread_id=source.get("thread_id", ""),
        snippet=" ".join((snippet or source.get("subject", "")).split()),
        score=float(score) if score is not None else 0.0,
    )


def facets_of(
    aggregations: dict[str, Any], persons: PersonResolver | None
) -> tuple[dict[str, list[tuple[str, int]]], dict[str, str]]:
    """The facet counts of an answer's aggregations, and the names of the sender facet's
    persons (its buckets are identities: `search.persons.sender_facet`, with `persons`)."""
    counts: dict[str, list[tuple[str, int]]] = {}
    names: dict[str, str] = {}
    for name, agg in aggregations.items():
        if name != "sender":
            counts[name] = [
                (str(b.get("key_as_string", b["key"])), int(b["doc_count"])) for b in agg["buckets"]
            ]
    if persons is not None:
        senders = [(int(b["key"]), int(b["doc_count"])) for b in aggregations["sender"]["buckets"]]
        counts["sender"], names = sender_facet(senders, persons)
    return counts, names
