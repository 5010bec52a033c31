"""Private messages are hidden from searches unless asked for; runs against every backend."""

from __future__ import annotations

from dataclasses import replace

from search.base import SearchBackend
from search.indexer import to_doc
from store.records import StoredMessage
from tests.search.conftest import DOCS

PRIVATE = {"m09", "m10", "m15"}
"""Connection-lost thread and a reactor question, posted to private archives only."""


def load(backend: SearchBackend) -> SearchBackend:
    docs = [replace(d, private=True) if d.key in PRIVATE else d for d in DOCS]
    assert backend.index(docs) == len(DOCS)
    return backend


def keys(backend: SearchBackend, query: str, **kwargs: bool) -> set[str]:
    result = backend.search(query, limit=100, **kwargs)  # type: ignore[arg-type]
    assert result.total == len(result.hits)
    return {hit.key for hit in result.hits}


def test_private_messages_are_left_out(backend: SearchBackend) -> None:
    load(backend)
    assert keys(backend, "reactor") == {"m08", "m11", "m14"}
    assert keys(backend, '"connection lost"') == set()
    assert keys(backend, "list:twisted-python") & PRIVATE == set()
    assert keys(backend, "after:1990-01-01") & PRIVATE == set()


def test_include_private_finds_them(backend: SearchBackend) -> None:
    load(backend)
    assert keys(backend, "reactor", include_private=True) == {"m08", "m11", "m14", "m15"}
    assert keys(backend, '"connection lost"', include_private=True) == {"m09", "m10"}
    assert PRIVATE <= keys(backend, "list:twisted-python", include_private=True)


def test_facets_and_totals_count_public_messages_only(backend: SearchBackend) -> None:
    load(backend)
    result = backend.search("list:twisted-python", facets=True, limit=0)
    assert result.total == 13 - len(PRIVATE)
    assert dict(result.facets["list"])["twisted-python"] == result.total


def test_a_message_made_public_is_found(backend: SearchBackend) -> None:
    load(backend)
    (m15,) = [d for d in DOCS if d.key == "m15"]
    backend.index([m15])
    assert "m15" in keys(backend, "reactor")


def test_a_message_is_private_only_when_all_its_lists_are() -> None:
    message = StoredMessage(
        key="k", message_id="<k@x>", message_id_norm="k@x", from_name="", from_addr="a@x",
        subject="s", subject_norm="s", date=None, body="b", body_own="b", body_quoted="",
        thread_id="t", parent_key=None, depth=0, lists=("board", "public"), attachments=(),
        flags=(), seq=1,
    )  # fmt: skip
    assert to_doc(message, None, frozenset({"board", "public"})).private
    assert not to_doc(message, None, frozenset({"board"})).private
    assert not to_doc(message).private
    assert not to_doc(replace(message, lists=()), None, frozenset({"board"})).private
