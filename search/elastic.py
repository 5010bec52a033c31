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
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers

from search.base import (
    IndexDoc,
    PersonResolver,
    SearchResult,
    SearchUnavailableError,
    Sort,
)
from search.cursor import decode_cursor, encode_cursor
from search.es_docs import es_document as es_document
from search.es_docs import facets_of, hit_of
from search.es_query import search_body
from search.persons import resolve_query
from search.query import DEFAULT_LIMITS, QueryLimits, parse_query
from search.snippets import DEFAULT_TEXT_LIMITS, TextLimits, bounded_doc

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
        hidden: Collection[str] = (),
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
                after = self._skip_to(parsed, lists, sort, offset, include_private, hidden)
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
                hidden=hidden,
            )
            response = self.client.search(index=self.alias, **body)
        except (TransportError, ApiError) as exc:
            raise _unavailable(self.url, exc) from exc
        total = int(response["hits"]["total"]["value"])
        raw_hits = response["hits"]["hits"]
        hits = [hit_of(h) for h in raw_hits]
        next_cursor = None
        if raw_hits and offset + len(raw_hits) < total and len(raw_hits) == limit:
            next_cursor = encode_cursor({"after": raw_hits[-1]["sort"], "offset": offset + limit})
        facet_counts: dict[str, list[tuple[str, int]]] = {}
        names: dict[str, str] = {}
        if facets:
            facet_counts, names = facets_of(response["aggregations"], persons)
        return SearchResult(
            total=total,
            hits=hits,
            facets=facet_counts,
            next_cursor=next_cursor,
            person_names=names,
        )

    def _skip_to(
        self,
        parsed: Any,
        lists: tuple[str, ...],
        sort: Sort,
        offset: int,
        include_private: bool,
        hidden: Collection[str],
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
                hidden=hidden,
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
