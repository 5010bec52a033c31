"""The Elasticsearch query builder is pure: tested against dicts, without a server."""

from __future__ import annotations

from search.es_query import build_query, search_body, sort_clause, term_clause
from search.query import Term, parse_query

FIELDS = ["subject_stem^5", "sender_stem^3", "body_own_stem^1", "body_quoted_stem^0.3"]


def test_word_is_stemmed_and_searches_every_text_field() -> None:
    clause, ranked = build_query(parse_query("Deferreds"))
    assert ranked
    assert clause == {
        "bool": {
            "must": [{"multi_match": {"query": "defer", "fields": FIELDS, "type": "best_fields"}}]
        }
    }


def test_phrase_and_punctuated_identifier() -> None:
    phrase = term_clause(Term("connection lost", ("connection", "lost"), quoted=True))
    assert phrase == {"multi_match": {"query": "connect lost", "fields": FIELDS, "type": "phrase"}}
    ident = term_clause(Term("cve-2021-33038", ("cve", "2021", "33038")))
    assert ident["bool"]["must"] == [
        {"multi_match": {"query": "cve 2021 33038", "fields": FIELDS, "type": "phrase"}}
    ]
    assert ident["bool"]["should"] == [
        {"term": {"identifiers": {"value": "cve-2021-33038", "boost": 2.0}}}
    ]


def test_or_exclusion_and_filters() -> None:
    clause, ranked = build_query(
        parse_query("reactor OR loop -windows list:Twisted-Web after:2014-09-01 before:2015")
    )
    assert ranked
    body = clause["bool"]
    assert body["must"][0]["bool"]["minimum_should_match"] == 1
    assert len(body["must"][0]["bool"]["should"]) == 2
    assert body["must_not"][0]["multi_match"]["query"] == "window"
    assert {"terms": {"lists": ["twisted-web"]}} in body["filter"]
    assert {
        "range": {"date": {"format": "epoch_second", "gte": 1409529600, "lt": 1420070400}}
    } in body["filter"]


def test_from_address_and_name() -> None:
    clause, _ = build_query(parse_query('from:Glyph@TwistedMatrix.com from:"Jean-Paul"'))
    (sender,) = clause["bool"]["filter"]
    assert sender["bool"]["minimum_should_match"] == 1
    assert {"terms": {"from_addr": ["glyph@twistedmatrix.com"]}} in sender["bool"]["should"]
    assert {"match_phrase_prefix": {"sender_stem": {"query": "jean paul"}}} in sender["bool"][
        "should"
    ]


def test_filter_only_query_sorts_by_date_and_does_not_rank() -> None:
    clause, ranked = build_query(parse_query("list:x"))
    assert not ranked
    assert sort_clause("relevance", ranked) == [
        {"date": {"order": "desc", "missing": "_last"}},
        {"key": "asc"},
    ]
    assert build_query(parse_query("-spam list:x"))[0]["bool"]["must_not"]


def test_body_tracks_total_hits_and_pages() -> None:
    body = search_body(parse_query("reactor"), size=20, offset=40, facets=True)
    assert body["track_total_hits"] is True
    assert body["from"] == 40
    assert set(body["aggs"]) == {"list", "year", "month", "sender"}
    assert body["highlight"]["pre_tags"] == ["\x02"]
    after = search_body(parse_query("reactor"), search_after=[1.5, "k1"])
    assert after["search_after"] == [1.5, "k1"] and "from" not in after
    assert after["sort"] == [{"_score": "desc"}, {"key": "asc"}]
