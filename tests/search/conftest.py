"""Search fixtures: a `backend` (parametrised by kind, so every backend runs the same tests)
and `indexed`, that backend loaded with `DOCS`, a small hand-built mailing-list corpus."""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from search import SQLITE_FILENAME
from search.base import IndexDoc, PersonRef, SearchBackend
from search.factory import open_backend
from tests.support.fts_memory import RecordingBackend

ES_URL = os.environ.get("LISTARCHIVE_TEST_ES_URL", "")
"""A real Elasticsearch node for the tests (`scripts/elasticsearch start`); never a mock."""
BACKENDS = [
    "sqlite",
    pytest.param(
        "elasticsearch",
        marks=pytest.mark.skipif(
            not ES_URL, reason="no Elasticsearch node: set LISTARCHIVE_TEST_ES_URL"
        ),
    ),
]


def _doc(
    key: str,
    when: datetime | None,
    sender: tuple[str, str],
    subject: str,
    body: str,
    quoted: str = "",
    lists: tuple[str, ...] = ("twisted-python",),
) -> IndexDoc:
    return IndexDoc(
        key=key,
        message_id=f"<{key}@example.org>",
        lists=lists,
        thread_id=f"thread-{key}",
        from_name=sender[0],
        from_addr=sender[1],
        subject=subject,
        date=when,
        body_own=body,
        body_quoted=quoted,
        identity=IDENTITIES[sender[1]],
    )


GLYPH = ("Glyph Lefkowitz", "glyph@twistedmatrix.com")
JP = ("Jean-Paul Calderone", "exarkun@twistedmatrix.com")
JP_DIVMOD = ("Jean-Paul Calderone", "exarkun@divmod.com")
ITAMAR = ("Itamar Turner-Trauring", "itamar@itamarst.org")
AMBER = ("Amber Brown", "hawkowl@atleastfornow.net")
JURGEN = ("Jürgen Müller", "jm@example.de")
NOBODY = ("", "someone@example.com")

IDENTITIES = {
    address: number
    for number, (_, address) in enumerate((GLYPH, JP, JP_DIVMOD, ITAMAR, AMBER, JURGEN, NOBODY), 1)
}
"""The sender identity of each address (as the store numbers them)."""
PERSONS = {
    IDENTITIES[GLYPH[1]]: PersonRef("pglyph", "Glyph Lefkowitz"),
    IDENTITIES[JP[1]]: PersonRef("pjp", "Jean-Paul Calderone"),
    IDENTITIES[JP_DIVMOD[1]]: PersonRef("pjp", "Jean-Paul Calderone"),  # merged: two addresses
    IDENTITIES[ITAMAR[1]]: PersonRef("pitamar", "Itamar Turner-Trauring"),
    IDENTITIES[AMBER[1]]: PersonRef("pamber", "Amber Brown"),
    IDENTITIES[JURGEN[1]]: PersonRef("pjurgen", "Jürgen Müller"),
    IDENTITIES[NOBODY[1]]: PersonRef("psomeone", "someone"),
}


class DictPersons:
    """A `PersonResolver` from an identity -> person table (the store's, by hand)."""

    def __init__(self, persons: dict[int, PersonRef]) -> None:
        self.persons = persons

    def identities_of(self, key: str) -> frozenset[int] | None:
        found = frozenset(i for i, person in self.persons.items() if person.key == key)
        return found or None

    def persons_of(self, identities: Collection[int]) -> dict[int, PersonRef]:
        return {i: self.persons[i] for i in identities if i in self.persons}


DOCS: tuple[IndexDoc, ...] = (
    _doc(
        "m01",
        datetime(2014, 9, 3, 10, 0, tzinfo=UTC),
        GLYPH,
        "Deferred cancellation semantics",
        "I think cancelling a Deferred should errback with CancelledError so the "
        "callback chain unwinds cleanly.",
        "> What should happen when somebody cancels it?",
    ),
    _doc(
        "m02",
        datetime(2014, 9, 4, 8, 30, tzinfo=UTC),
        JP,
        "Re: Deferred cancellation semantics",
        "See http://twistedmatrix.com/trac/ticket/1234 for the history of this discussion.",
        "> I think cancelling a Deferred should errback with CancelledError",
    ),
    _doc(
        "m03",
        datetime(2007, 1, 9, tzinfo=UTC),
        ITAMAR,
        "Twisted 2.5.0 released",
        "Twisted 2.5.0 is out, with many bug fixes. Download it from the usual place.",
    ),
    _doc(
        "m04",
        datetime(2013, 5, 10, tzinfo=UTC),
        JP_DIVMOD,
        "rendering resources",
        "Use twisted.internet.defer.inlineCallbacks in your render method and return NOT_DONE_YET.",
        lists=("twisted-web",),
    ),
    _doc(
        "m05",
        datetime(2021, 6, 1, tzinfo=UTC),
        AMBER,
        "Security advisory for twisted.web",
        "This release fixes CVE-2021-33038 in the HTTP/2 implementation; please upgrade.",
        lists=("twisted-python", "twisted-web"),
    ),
    _doc(
        "m06",
        datetime(2015, 2, 14, tzinfo=UTC),
        NOBODY,
        "Mailing list contact",
        "Please write to foo@bar.com with any questions about the sprint.",
    ),
    _doc(
        "m07",
        datetime(2015, 3, 1, tzinfo=UTC),
        GLYPH,
        "Scattered words",
        "The foo team met at the bar near the com office. In 2021 the cve tracker reached "
        "33038 entries. Ticket 1234 on trac was filed over http by twistedmatrix people. "
        "We ran 2 of 5 suites with 0 failures. Twisted docs on the internet say defer is fine.",
    ),
    _doc(
        "m08",
        None,
        NOBODY,
        "Undated message about the reactor",
        "The reactor runs forever unless you stop it.",
    ),
    _doc(
        "m09",
        datetime(2014, 11, 20, tzinfo=UTC),
        ITAMAR,
        "Client keeps reconnecting",
        "After connection lost the factory retries with exponential backoff.",
    ),
    _doc(
        "m10",
        datetime(2014, 11, 21, tzinfo=UTC),
        AMBER,
        "Re: Client keeps reconnecting",
        "The server lost its database connection, which is unrelated to the factory.",
        "> After connection lost the factory retries",
    ),
    _doc(
        "m11",
        datetime(2014, 8, 31, 23, 59, tzinfo=UTC),
        JURGEN,
        "Café meetup in Zürich",
        "We are meeting at a café near the station to talk about the reactor.",
    ),
    _doc(
        "m12",
        datetime(2014, 10, 1, tzinfo=UTC),
        GLYPH,
        "Logging overhaul",
        "The new logging system replaces twisted.python.log with structured events.",
        "> is inlineCallbacks affected?",
    ),
    _doc(
        "m13",
        datetime(2012, 4, 2, tzinfo=UTC),
        JP,
        "Trial test runner",
        "trial supports the -j option for parallel runs; Deferred results are awaited.",
        lists=("twisted-web",),
    ),
    _doc(
        "m14",
        datetime(2016, 7, 7, tzinfo=UTC),
        ITAMAR,
        "Plans for the sprint",
        "Topics: the reactor, Deferred cancellation, and the logging system.",
    ),
    _doc(
        "m15",
        datetime(2014, 9, 1, tzinfo=UTC),
        AMBER,
        "Reactor shutdown question",
        "How do I stop the reactor after all my callbacks have fired?",
    ),
)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    """An empty backend of each kind (Elasticsearch: a fresh alias, deleted afterwards)."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    opened: SearchBackend
    if request.param == "sqlite":  # hand-built documents: no store to read bodies back from
        opened = RecordingBackend(tmp_path / "search" / SQLITE_FILENAME)
    else:
        opened = open_backend(str(request.param), tmp_path / "search", ES_URL, index_prefix=prefix)
    yield opened
    if request.param == "elasticsearch":
        delete_es_indices(prefix)
    opened.close()


def delete_es_indices(prefix: str) -> None:
    from elasticsearch import Elasticsearch

    client = Elasticsearch(ES_URL)
    names = list(client.indices.get(index=f"{prefix}*", allow_no_indices=True))
    if names:
        client.indices.delete(index=",".join(names))
    client.close()


@pytest.fixture()
def indexed(backend: SearchBackend) -> SearchBackend:
    """The backend with `DOCS` indexed."""
    assert backend.index(DOCS) == len(DOCS)
    return backend
