"""The search syntax help (`/search/help`, from docs/search.md; a test keeps the two in step)."""

from __future__ import annotations

from typing import Any

# -- the syntax help (from docs/search.md; a test keeps the two in step) -----------------------

HELP: dict[str, Any] = {
    "syntax": [
        {"examples": ["deferred callback"], "meaning": "both words (AND)"},
        {"examples": ['"maybe deferred"'], "meaning": "the phrase"},
        {"examples": ["-windows", '-"event loop"'], "meaning": "without the word / phrase"},
        {
            "examples": ["deferred OR callback"],
            "meaning": "either; OR binds tighter than AND: `twisted deferred OR callback` is "
            "`twisted AND (deferred OR callback)`; parentheses group: `(a b) OR c`; `AND` and "
            "`NOT` are accepted",
        },
        {"examples": ["from:glyph@twistedmatrix.com"], "meaning": "sender address exactly"},
        {
            "examples": ["from:calder", 'from:"Jean-Paul Calderone"'],
            "meaning": "sender name or address (a word prefix match on the last word)",
        },
        {
            "examples": ["person:pjxq4hwqwq2ma"],
            "meaning": "sent by that person, from any of their addresses or names (person keys: "
            "the sender facet, `listarchive persons`); several `person:` terms mean any of them",
        },
        {
            "examples": ["subject:release", 'subject:"release candidate"'],
            "meaning": "in the subject; several `subject:` terms must all match",
        },
        {
            "examples": ["list:twisted-python"],
            "meaning": "on that list; several `list:` terms mean any of them; a list that "
            "does not exist (or that you may not see) is refused",
        },
        {
            "examples": ["thread:tabc123"],
            "meaning": "in that thread (its id, as in `/threads/<id>`); several `thread:` terms "
            "mean any of them",
        },
        {
            "examples": ["after:2014-09-01", "before:2015"],
            "meaning": "date filters: `after` inclusive, `before` exclusive; `YYYY-MM-DD`, "
            "`YYYY-MM` or `YYYY`",
        },
        {
            "examples": [
                "foo@bar.com",
                "http://twistedmatrix.com/trac/ticket/1234",
                "2.5.0",
                "CVE-2021-33038",
                "twisted.internet.defer",
            ],
            "meaning": "matched whole, as an adjacent sequence of their parts",
        },
    ],
    "notes": [
        "Matching is case-insensitive, ignores accents, and stems English prose: `deferred` "
        "also finds `defer` and `deferreds`; phrases match stems in order.",
        "A query of filters alone (`list:twisted-python after:2014-09-01`) lists every matching "
        "message, newest first. Otherwise results are ranked by relevance (subject weighs "
        "most, then the sender, then the author's own text, then quoted text) or sorted by date.",
        "Filters (`from:`, `person:`, `subject:`, `list:`, `thread:`, `after:`, `before:`) "
        "apply to the whole query: they cannot be excluded or put inside parentheses, and `OR` "
        "joins them only as `list:a OR list:b`, `from:a OR from:b`, `person:a OR person:b` or "
        "`thread:a OR thread:b`.",
        "Such queries, unbalanced quotes, bad dates and queries made only of exclusions are "
        "rejected with a message saying why. Messages without a date are left out by date "
        "filters.",
        "The total is always the true number of matches; facets count the whole match set. "
        "The sender facet is by person (name, and messages summed over all their addresses), "
        "never by address.",
        "The date histogram beside the results counts the matches by month (when they span at "
        "most 36 months) or by year; a bar narrows the search to its period by replacing its "
        "`after:` and `before:` filters. Each filter of the query is shown as a chip whose "
        "link is the same search without it.",
        "Queries are bounded in length and in how deeply parentheses nest; a longer or deeper "
        "query is refused with a message saying so.",
    ],
    "parameters": {
        "q": "the query",
        "list": "restrict to a list (repeatable)",
        "sort": "relevance (default), date (newest first) or date_asc",
        "page": "page number, 20 results a page",
        "group": "thread: show the hits of one thread together",
        "cursor": "opaque cursor of a deep page (next links carry it)",
    },
}
