"""Pure translation of a parsed `Query` into an Elasticsearch search body (tested as dicts).

Mirrors `search.fts_sql` clause by clause so both backends find the same messages:

* a word or phrase matches the folded, Porter-stemmed `*_stem` fields (subject 5, sender 3, own
  text 1, quoted text 0.3), as a phrase when it has several words (``"a b"``, ``foo@bar.com``);
  a punctuated term also boosts documents holding it whole in `identifiers`;
* ``-x`` is a ``must_not``; ``a OR b`` a ``bool.should`` with one required;
* ``from:`` an address is an exact (case-insensitive) `from_addr`; a name is a phrase-prefix
  on `sender_stem`; ``person:`` a `terms` filter on the resolved `identity` ids; ``subject:``
  a phrase on `subject_stem`; ``list:`` a `terms` filter;
  ``after:``/``before:`` a range on `date` (a date filter leaves undated messages out);
* private messages are left out (``must_not term private``) unless the search includes them;
  removed messages the index may still hold (`hidden`) by a ``must_not terms key``;
* sort: relevance (score, then key) when anything ranks, else date; date sorts put undated
  messages last; ties are broken by key, which also makes `search_after` cursors exact.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from search.base import FACET_SIZE, SENDER_BUCKETS, Sort
from search.fts_sql import day_epoch
from search.query import HIGHLIGHT_END, HIGHLIGHT_START, And, Node, Not, Or, Query, Term
from search.snippets import ES_MAX_ANALYZED_OFFSET
from search.textprep import stem

TEXT_FIELDS = ("subject_stem^5", "sender_stem^3", "body_own_stem^1", "body_quoted_stem^0.3")
SNIPPET_CHARS = 200

Json = dict[str, Any]


def _stems(term: Term) -> str:
    from search.textprep import fold

    return " ".join(stem(fold(word)) for word in term.words)


def term_clause(term: Term, fields: tuple[str, ...] = TEXT_FIELDS) -> Json:
    """The clause matching one word or phrase."""
    text = _stems(term)
    if not term.phrase:
        return {"multi_match": {"query": text, "fields": list(fields), "type": "best_fields"}}
    clause: Json = {"multi_match": {"query": text, "fields": list(fields), "type": "phrase"}}
    if not term.quoted:  # a punctuated identifier: prefer documents that hold it whole
        return {
            "bool": {
                "must": [clause],
                "should": [{"term": {"identifiers": {"value": term.text, "boost": 2.0}}}],
            }
        }
    return clause


def node_clause(node: Node) -> Json:
    if isinstance(node, Term):
        return term_clause(node)
    if isinstance(node, Or):
        return {"bool": {"should": [node_clause(i) for i in node.items], "minimum_should_match": 1}}
    if isinstance(node, And):
        must = [node_clause(i) for i in node.items if not isinstance(i, Not)]
        must_not = [node_clause(i.item) for i in node.items if isinstance(i, Not)]
        if not must:
            raise ValueError("an exclusion needs a positive term to be subtracted from")
        body: Json = {"must": must}
        if must_not:
            body["must_not"] = must_not
        return {"bool": body}
    raise ValueError("an exclusion needs a positive term to be subtracted from")


def _from_filter(terms: tuple[Term, ...]) -> Json:
    should: list[Json] = []
    addresses = list(dict.fromkeys(t.text for t in terms if "@" in t.text))
    if addresses:
        should.append({"terms": {"from_addr": addresses}})
    for term in terms:
        if "@" not in term.text:
            should.append({"match_phrase_prefix": {"sender_stem": {"query": _stems(term)}}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def build_query(query: Query, lists: tuple[str, ...] = ()) -> tuple[Json, bool]:
    """The `query` clause, and whether anything in it ranks (text or subject terms)."""
    filters: list[Json] = []
    for names in (query.lists, tuple(n for n in lists if n)):
        if names:
            filters.append({"terms": {"lists": [n.lower() for n in names]}})
    if query.threads:
        filters.append({"terms": {"thread_id": list(query.threads)}})
    if query.after is not None or query.before is not None:
        bounds: Json = {"format": "epoch_second"}
        if query.after is not None:
            bounds["gte"] = day_epoch(query.after)
        if query.before is not None:
            bounds["lt"] = day_epoch(query.before)
        filters.append({"range": {"date": bounds}})
    if query.from_terms:
        filters.append(_from_filter(query.from_terms))
    if query.persons:
        if query.identities is None:
            raise ValueError("person: filters must be resolved first (resolve_persons)")
        filters.append({"terms": {"identity": list(query.identities)}})
    must = [node_clause(node) for node in query.terms]
    must += [term_clause(t, ("subject_stem",)) for t in query.subject_terms]
    must_not = [node_clause(node) for node in query.excluded]
    body: Json = {}
    if must:
        body["must"] = must
    if must_not:
        body["must_not"] = must_not
    if filters:
        body["filter"] = filters
    if not body:
        return {"match_all": {}}, False
    return {"bool": body}, bool(must)


PRIVATE_FILTER: Json = {"term": {"private": True}}


def public_only(clause: Json) -> Json:
    """`clause` restricted to public messages (the filter does not change scores)."""
    if set(clause) == {"bool"}:
        inner = dict(clause["bool"])
        inner["must_not"] = [*inner.get("must_not", []), PRIVATE_FILTER]
        return {"bool": inner}
    return {"bool": {"must": [clause], "must_not": [PRIVATE_FILTER]}}


MAX_TERMS = 65_536
"""Values in one terms query: Elasticsearch refuses more (`index.max_terms_count`'s default);
more hidden keys go in several terms clauses of `must_not`."""


def without_keys(clause: Json, keys: Collection[str]) -> Json:
    """`clause` without the documents of `keys` (removed messages the index may still hold,
    `SearchBackend.search`'s `hidden`; a filter: scores unchanged); `clause` itself when
    there are none."""
    if not keys:
        return clause
    wanted = sorted(set(keys))
    out: list[Json] = [
        {"terms": {"key": wanted[start : start + MAX_TERMS]}}
        for start in range(0, len(wanted), MAX_TERMS)
    ]
    if set(clause) == {"bool"}:
        inner = dict(clause["bool"])
        inner["must_not"] = [*inner.get("must_not", []), *out]
        return {"bool": inner}
    return {"bool": {"must": [clause], "must_not": out}}


def sort_clause(sort: Sort, ranked: bool) -> list[Json]:
    if sort == "relevance" and ranked:
        return [{"_score": "desc"}, {"key": "asc"}]
    order = "asc" if sort == "date_asc" else "desc"
    return [{"date": {"order": order, "missing": "_last"}}, {"key": "asc"}]


def highlight_clause(query: Query, max_chars: int = ES_MAX_ANALYZED_OFFSET) -> Json:
    """Highlight the words as written (unstemmed) in the original text fields, in their first
    `max_chars` characters only (never more than the index allows, so a longer document is
    highlighted in part rather than refused with a 400)."""
    words = [t for t in _positive_terms(query)]
    fields = {
        "body_own": {
            "number_of_fragments": 1,
            "fragment_size": SNIPPET_CHARS,
            "no_match_size": SNIPPET_CHARS,
        },
        "body_quoted": {"number_of_fragments": 1, "fragment_size": SNIPPET_CHARS},
    }
    clause: Json = {
        "pre_tags": [HIGHLIGHT_START],
        "post_tags": [HIGHLIGHT_END],
        "fields": fields,
        "max_analyzed_offset": max(1, min(max_chars, ES_MAX_ANALYZED_OFFSET)),
    }
    if words:
        clause["highlight_query"] = {
            "bool": {
                "should": [
                    {
                        "multi_match": {
                            "query": t.text,
                            "fields": ["body_own", "body_quoted"],
                            "type": "phrase" if t.phrase else "best_fields",
                        }
                    }
                    for t in words
                ]
            }
        }
    return clause


def _positive_terms(query: Query) -> list[Term]:
    found: list[Term] = []

    def walk(node: Node) -> None:
        if isinstance(node, Term):
            found.append(node)
        elif isinstance(node, And | Or):
            for item in node.items:
                walk(item)

    for node in query.terms:
        walk(node)
    return found


FACET_AGGS: Json = {
    "list": {
        "terms": {
            "field": "list_names",
            "size": FACET_SIZE,
            "order": [{"_count": "desc"}, {"_key": "asc"}],
        }
    },
    "year": {"terms": {"field": "year", "size": 500, "order": {"_key": "desc"}}},
    "month": {
        "date_histogram": {
            "field": "date",
            "calendar_interval": "month",
            "format": "yyyy-MM",
            "time_zone": "UTC",
            "min_doc_count": 1,
        }
    },
    "sender": {
        "terms": {
            "field": "identity",
            "size": SENDER_BUCKETS,
            "order": [{"_count": "desc"}, {"_key": "asc"}],
        }
    },
}
"""Sender counts are per identity (summed into persons by the backend: `person_facet`); the
month histogram's buckets are oldest first, each keyed ``yyyy-MM`` (`key_as_string`), months
without a match left out (``min_doc_count``), as the embedded backend counts them."""


def search_body(
    query: Query,
    *,
    lists: tuple[str, ...] = (),
    sort: Sort = "relevance",
    size: int = 20,
    offset: int = 0,
    search_after: list[Any] | None = None,
    facets: bool = False,
    include_private: bool = False,
    sender_facet: bool = True,
    snippet_chars: int = ES_MAX_ANALYZED_OFFSET,
    hidden: Collection[str] = (),
) -> Json:
    """The whole request body for `Elasticsearch.search` (`sender_facet`: count senders too
    when `facets`; it needs the store's persons to name them; `snippet_chars`: highlight
    only that many characters at the start of each body; `hidden`: keys left out,
    `without_keys`)."""
    clause, ranked = build_query(query, lists)
    if not include_private:
        clause = public_only(clause)
    clause = without_keys(clause, hidden)
    body: Json = {
        "query": clause,
        "sort": sort_clause(sort, ranked),
        "size": size,
        "track_total_hits": True,
        "_source": [
            "key",
            "message_id",
            "list_names",
            "subject",
            "from_name",
            "from_addr",
            "date",
            "thread_id",
        ],
        "highlight": highlight_clause(query, snippet_chars),
    }
    if search_after is not None:
        body["search_after"] = search_after
    elif offset:
        body["from"] = offset
    if facets:
        body["aggs"] = {k: v for k, v in FACET_AGGS.items() if sender_facet or k != "sender"}
    return body
