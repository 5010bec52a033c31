"""Elasticsearch-only behaviour, against a real node (never a mock)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from elasticsearch import BadRequestError, Elasticsearch

from search.base import IndexDoc, PersonRef, SearchUnavailableError
from search.elastic import MAPPING_FILE, SCHEMA_VERSION, ElasticBackend, load_mapping
from tests.search.conftest import ES_URL, DictPersons, delete_es_indices

pytestmark = pytest.mark.skipif(
    not ES_URL, reason="no Elasticsearch node: set LISTARCHIVE_TEST_ES_URL"
)


def doc(key: str, body: str, subject: str = "s") -> IndexDoc:
    return IndexDoc(
        key=key,
        message_id=f"<{key}@x>",
        lists=("l",),
        thread_id="t",
        from_name="A",
        from_addr="a@example.org",
        subject=subject,
        date=datetime(2020, 1, 1, tzinfo=UTC),
        body_own=body,
        body_quoted="",
    )


@pytest.fixture()
def es() -> Iterator[ElasticBackend]:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    backend = ElasticBackend(ES_URL, prefix=prefix)
    yield backend
    backend.close()
    delete_es_indices(prefix)


def test_mapping_file_is_strict_and_versioned(es: ElasticBackend) -> None:
    mapping = load_mapping()
    assert mapping["mappings"]["dynamic"] == "strict"
    assert mapping["mappings"]["_meta"]["schema_version"] == SCHEMA_VERSION == 3
    assert MAPPING_FILE.name == f"messages-v{SCHEMA_VERSION}.json"
    client = Elasticsearch(ES_URL)
    with pytest.raises(BadRequestError, match="strict_dynamic_mapping_exception"):
        client.index(index=es.alias, document={"key": "x", "unexpected": 1})
    (live,) = client.indices.get_alias(name=es.alias)
    assert live.startswith(f"{es.alias}-v{SCHEMA_VERSION}-")
    client.close()


def test_rebuild_swaps_the_alias_without_an_empty_window(es: ElasticBackend) -> None:
    es.index([doc("old", "reactor talk")])
    es.set_checkpoint(5)
    es.clear()  # a rebuild starts: searches still see the old index
    assert es.search("reactor").total == 1
    assert es.get_checkpoint() == 0
    es.index([doc("new1", "reactor again"), doc("new2", "reactor once more")])
    assert es.search("reactor").total == 1
    es.set_checkpoint(9)
    es.finish_rebuild()
    assert {h.key for h in es.search("reactor").hits} == {"new1", "new2"}
    assert es.get_checkpoint() == 9
    client = Elasticsearch(ES_URL)
    # the old index is gone
    assert len(client.indices.get(index=f"{es.alias}-v{SCHEMA_VERSION}-*")) == 1
    client.close()


def test_identifier_kept_whole_ranks_first(es: ElasticBackend) -> None:
    es.index(
        [
            doc("whole", "Fixed in CVE-2021-33038 upstream, see the advisory text below."),
            doc("split", "cve 2021 33038 was mentioned in passing here with other words"),
            doc("other", "CVE-2021-33039 is a different one"),
        ]
    )
    result = es.search("CVE-2021-33038")
    assert [h.key for h in result.hits][0] == "whole"
    assert {h.key for h in result.hits} == {"whole", "split"}  # as the embedded backend


def test_missing_index_is_a_clear_error(es: ElasticBackend) -> None:
    client = Elasticsearch(ES_URL)
    (live,) = client.indices.get_alias(name=es.alias)
    client.indices.delete(index=live)
    client.close()
    with pytest.raises(SearchUnavailableError, match="reindex"):
        es.search("reactor")


def test_offsets_beyond_the_result_window_use_search_after() -> None:
    from tests.search.conftest import DOCS

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    narrow = ElasticBackend(ES_URL, prefix=prefix, max_window=4)
    try:
        narrow.index(DOCS)
        pages = [
            [h.key for h in narrow.search("list:twisted-python", limit=3, offset=o).hits]
            for o in (0, 3, 6, 9, 12)
        ]
        flat = [key for page in pages for key in page]
        assert len(flat) == len(set(flat)) == 13
        wide = [h.key for h in narrow.search("list:twisted-python", limit=13, offset=0).hits]
        assert flat == wide
    finally:
        narrow.close()
        delete_es_indices(prefix)


@pytest.mark.parametrize("version", [1, 2])
def test_an_index_with_a_previous_mapping_is_replaced_for_a_rebuild(version: int) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    client = Elasticsearch(ES_URL)
    old = json.loads((MAPPING_FILE.parent / f"messages-v{version}.json").read_text())
    old["mappings"]["_meta"].update(checkpoint=7, store_id="s1")
    client.indices.create(
        index=f"{prefix}-v{version}-old", settings=old["settings"], mappings=old["mappings"]
    )
    client.indices.put_alias(index=f"{prefix}-v{version}-old", name=prefix)
    try:
        backend = ElasticBackend(ES_URL, prefix=prefix)
        # a fresh, empty index of the current mapping: the indexer rebuilds it from the store
        assert (backend.get_checkpoint(), backend.get_store_id(), backend.count()) == (0, "", 0)
        backend.index([replace(doc("p1", "reactor"), private=True, identity=4)])
        assert backend.search("reactor").total == 0
        assert backend.search("reactor", include_private=True).total == 1
        persons = DictPersons({4: PersonRef("pfour", "Four")})
        found = backend.search("person:pfour", include_private=True, persons=persons, facets=True)
        assert (found.total, found.facets["sender"]) == (1, [("pfour", 1)])
        (live,) = client.indices.get_alias(name=prefix)
        assert live.startswith(f"{prefix}-v{SCHEMA_VERSION}-")
        backend.close()
    finally:
        client.close()
        delete_es_indices(prefix)
