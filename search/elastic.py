"""The Elasticsearch backend (production, and for scale beyond one machine).

Documents live in a versioned index (`<prefix>-v<schema>-<n>`) behind an alias (`<prefix>`); the
mapping is `search/mappings/messages-v3.json` (`dynamic: strict`; v2 added `private`, v3 the
sender's `identity`). An alias
found pointing at an index of an older mapping is moved to a fresh, empty index (checkpoint 0),
so the indexer rebuilds it from the store, as the embedded backend does. `clear()` - used by
`reindex` - creates a fresh index and the indexer fills it; `set_checkpoint` on a fresh index
swaps the alias to it atomically once it is complete, so searches never see an empty index. The
checkpoint (store change sequence held by the index) is kept in the index mapping's `_meta`, so
it travels with the index it describes.

Any transport failure becomes `SearchUnavailableError` with a plain reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers

from search.base import (
    Hit,
    IndexDoc,
    PersonResolver,
    SearchResult,
    SearchUnavailableError,
    Sort,
)
from search.cursor import decode_cursor, encode_cursor
from search.es_query import search_body
from search.persons import resolve_query, sender_facet
from search.query import DEFAULT_LIMITS, HIGHLIGHT_START, QueryLimits, parse_query
from search.snippets import DEFAULT_TEXT_LIMITS, TextLimits, bounded_doc, retag
from search.textprep import identifiers, stem_text

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 3
MAPPING_NAME = f"messages-v{SCHEMA_VERSION}.json"
MAPPING_FILE = Path(__file__).parent / "mappings" / MAPPING_NAME
BULK_CHUNK = 500
MAX_WINDOW = 10_000


def load_mapping() -> dict[str, Any]:
    """The index mapping, read as package data; a missing file (a broken install) is
    SearchUnavailableError naming it, so sync, reindex and /healthz report it."""
    resource = resources.files(__package__ or "search").joinpath("mappings", MAPPING_NAME)
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SearchUnavailableError(
            f"the index mapping search/mappings/{MAPPING_NAME} is missing from the installed"
            " package: reinstall listarchive"
        ) from exc
    data: dict[str, Any] = json.loads(text)
    return data


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


def _unavailable(url: str, exc: Exception) -> SearchUnavailableError:
    if isinstance(exc, TransportConnectionError):
        return SearchUnavailableError(f"Elasticsearch at {url} is unreachable")
    if isinstance(exc, NotFoundError):
        return SearchUnavailableError(
            f"the search index is missing at {url}: run `listarchive reindex`"
        )
    if isinstance(exc, ApiError):
        return SearchUnavailableError(f"Elasticsearch at {url} refused the request: {exc.message}")
    return SearchUnavailableError(f"Elasticsearch at {url} failed: {type(exc).__name__}")


class ElasticBackend:
    """`SearchBackend` over an Elasticsearch cluster."""

    name = "elasticsearch"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "listarchive-messages",
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        max_window: int = MAX_WINDOW,
        limits: QueryLimits = DEFAULT_LIMITS,
        text_limits: TextLimits = DEFAULT_TEXT_LIMITS,
    ) -> None:
        self.url = url
        self.limits = limits
        self.text_limits = text_limits
        """What is indexed of a body, and how much of it is highlighted (`search.snippets`)."""
        self.max_window = max_window
        """Deepest `from + size` asked of Elasticsearch (its index.max_result_window); deeper
        offsets are reached with search_after."""
        self.alias = prefix
        auth = (username, password) if username else None
        self.client = Elasticsearch(
            url, basic_auth=auth, request_timeout=timeout, retry_on_timeout=True
        )
        self._building: str | None = None
        try:
            if not self.client.indices.exists_alias(name=self.alias):
                self._create_index(set_alias=True)
            elif (version := self._meta().get("schema_version")) != SCHEMA_VERSION:
                logger.warning(
                    "index %s has mapping version %s, not %d: starting a new one to rebuild",
                    self.alias,
                    version,
                    SCHEMA_VERSION,
                )
                self._swap_alias(self._create_index(set_alias=False))
        except (TransportError, ApiError) as exc:
            raise _unavailable(url, exc) from exc

    # --- index management -------------------------------------------------------------------

    def _new_index_name(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        return f"{self.alias}-v{SCHEMA_VERSION}-{stamp}"

    def _create_index(self, *, set_alias: bool) -> str:
        name = self._new_index_name()
        mapping = load_mapping()
        mapping["mappings"]["_meta"]["checkpoint"] = 0
        self.client.indices.create(
            index=name, settings=mapping["settings"], mappings=mapping["mappings"]
        )
        if set_alias:
            self.client.indices.update_aliases(
                actions=[{"add": {"index": name, "alias": self.alias}}]
            )
        logger.info("created index %s", name)
        return name

    def _live_indices(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).keys())
        except NotFoundError:
            return []

    def _write_target(self) -> str:
        return self._building or self.alias

    def _swap_alias(self, new: str) -> None:
        old = self._live_indices()
        actions: list[dict[str, Any]] = [{"add": {"index": new, "alias": self.alias}}]
        actions += [{"remove": {"index": name, "alias": self.alias}} for name in old if name != new]
        self.client.indices.update_aliases(actions=actions)
        for name in old:
            if name != new:
                self.client.indices.delete(index=name)
        logger.info("alias %s now points at %s", self.alias, new)

    # --- protocol: writing ------------------------------------------------------------------

    def index(self, docs: Iterable[IndexDoc]) -> int:
        target = self._write_target()
        batch = {d.key: d for d in docs}  # the last version of a key wins, as in SQLite
        actions = (
            {
                "_op_type": "index",
                "_index": target,
                "_id": d.key,
                "_source": es_document(bounded_doc(d, self.text_limits)),
            }
            for d in batch.values()
        )
        count = 0
        errors: list[Any] = []
        try:
            # two sender threads: Elasticsearch indexes one chunk while we prepare the next
            for ok, item in helpers.parallel_bulk(
                self.client,
                actions,
                thread_count=2,
                chunk_size=BULK_CHUNK,
                max_chunk_bytes=20 * 1024 * 1024,
                raise_on_error=False,
            ):
                if ok:
                    count += 1
                else:
                    errors.append(item)
        except (TransportError, ApiError) as exc:
            raise _unavailable(self.url, exc) from exc
        if errors:
            raise SearchUnavailableError(
                f"Elasticsearch rejected {len(errors)} documents: {errors[0]}"
            )
        try:  # searchable when index() returns, like the embedded backend
            self.client.indices.refresh(index=target)
        except (TransportError, ApiError) as exc:
            raise _unavailable(self.url, exc) from exc
        return int(count)

    def delete(self, keys: Iterable[str]) -> int:
        target = self._write_target()
        actions = ({"_op_type": "delete", "_index": target, "_id": k} for k in keys)
        try:
            count, _ = helpers.bulk(self.client, actions, raise_on_error=False)
            self.client.indices.refresh(index=target)
        except (TransportError, ApiError) as exc:
            raise _unavailable(self.url, exc) from exc
        return int(count)

    def clear(self) -> None:
        """Start a fresh index; it replaces the live one when the rebuild's checkpoint is set."""
        try:
            self._building = self._create_index(set_alias=False)
        except (TransportError, ApiError) as exc:
            raise _unavailable(self.url, exc) from exc

    def _meta(self) -> dict[str, Any]:
        target = self._write_target()
        try:
            mapping = self.client.indices.get_mapping(index=target)
        except (TransportError, ApiError) as exc:
            raise _unavailable(self.url, exc) from exc
        for value in mapping.values():
            meta: dict[str, Any] = value["mappings"].get("_meta", {})
            return meta
        return {}

    def _update_meta(self, **values: Any) -> None:
        meta = {**self._meta(), **values}
        try:
            self.client.indices.put_mapping(index=self._write_target(), meta=meta)
        except (TransportError, ApiError) as exc:
            raise _unavailable(self.url, exc) from exc

    def get_checkpoint(self) -> int:
        return int(self._meta().get("checkpoint", 0))

    def set_checkpoint(self, seq: int) -> None:
        self._update_meta(checkpoint=seq)

    def get_store_id(self) -> str:
        return str(self._meta().get("store_id", ""))

    def set_store_id(self, store_id: str) -> None:
        self._update_meta(store_id=store_id)

    def finish_rebuild(self) -> None:
        """Point the alias at the index built since `clear()` (atomic swap)."""
        if self._building is not None:
            try:
                self._swap_alias(self._building)
            except (TransportError, ApiError) as exc:
                raise _unavailable(self.url, exc) from exc
            self._building = None

    def count(self) -> int:
        try:
            return int(self.client.count(index=self._write_target())["count"])
        except (TransportError, ApiError) as exc:
            raise _unavailable(self.url, exc) from exc

    def close(self) -> None:
        self.client.close()

    # --- protocol: reading ------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        lists: tuple[str, ...] = (),
        sort: Sort = "relevance",
        limit: int = 20,
        offset: int = 0,
        facets: bool = False,
        cursor: str | None = None,
        include_private: bool = False,
        persons: PersonResolver | None = None,
    ) -> SearchResult:
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        parsed = resolve_query(parse_query(query, self.limits), persons)
        after: list[Any] | None = None
        if cursor is not None:
            state = decode_cursor(cursor)
            after, offset = state.get("after"), int(state.get("offset", 0))
        try:
            if after is None and offset + limit > self.max_window:
                after = self._skip_to(parsed, lists, sort, offset, include_private)
            body = search_body(
                parsed,
                lists=lists,
                sort=sort,
                size=limit,
                offset=offset if after is None else 0,
                search_after=after,
                facets=facets,
                include_private=include_private,
                sender_facet=persons is not None,
                snippet_chars=self.text_limits.max_snippet_bytes,
            )
            response = self.client.search(index=self.alias, **body)
        except (TransportError, ApiError) as exc:
            raise _unavailable(self.url, exc) from exc
        total = int(response["hits"]["total"]["value"])
        raw_hits = response["hits"]["hits"]
        hits = [_hit(h) for h in raw_hits]
        next_cursor = None
        if raw_hits and offset + len(raw_hits) < total and len(raw_hits) == limit:
            next_cursor = encode_cursor({"after": raw_hits[-1]["sort"], "offset": offset + limit})
        facet_counts: dict[str, list[tuple[str, int]]] = {}
        names: dict[str, str] = {}
        if facets:
            for name, agg in response["aggregations"].items():
                if name != "sender":
                    facet_counts[name] = [
                        (str(b.get("key_as_string", b["key"])), int(b["doc_count"]))
                        for b in agg["buckets"]
                    ]
            if persons is not None:
                counts = [
                    (int(b["key"]), int(b["doc_count"]))
                    for b in response["aggregations"]["sender"]["buckets"]
                ]
                facet_counts["sender"], names = sender_facet(counts, persons)
        return SearchResult(
            total=total,
            hits=hits,
            facets=facet_counts,
            next_cursor=next_cursor,
            person_names=names,
        )

    def _skip_to(
        self, parsed: Any, lists: tuple[str, ...], sort: Sort, offset: int, include_private: bool
    ) -> list[Any] | None:
        """Walk to `offset` with search_after (deep pages beyond the result window)."""
        after: list[Any] | None = None
        remaining = offset
        while remaining > 0:
            step = min(remaining, self.max_window)
            body = search_body(
                parsed,
                lists=lists,
                sort=sort,
                size=step,
                search_after=after,
                include_private=include_private,
            )
            body.pop("highlight")
            body["_source"] = False
            response = self.client.search(index=self.alias, **body)
            batch = response["hits"]["hits"]
            if not batch:
                return after
            after = batch[-1]["sort"]
            remaining -= len(batch)
        return after


def _hit(raw: dict[str, Any]) -> Hit:
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
