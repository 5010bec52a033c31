"""Hostile searches (issue 11, D4 and D6): time of a search whose hit is a 128 MiB message,
and of queries made of hundreds of short terms, without and with the limits.

The embedded index is filled directly (no store): `--docs` small synthetic messages whose
words include the very common ``t`` (as in "don't"), plus one public message whose body is
`--mib` MiB.  "before" runs what the code did before the limits, each in a child process
stopped after `--deadline` seconds: FTS5 ``snippet()`` over the whole indexed body, and
queries with the term limits off.  "after" is the backend as configured by default.

.venv/bin/python bench/hostile_search.py [--mib 128] [--docs 20000] [--deadline 60]
    [--es-url http://127.0.0.1:9200]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from search.base import IndexDoc, SearchBackend, SearchQueryError  # noqa: E402
from search.factory import open_backend  # noqa: E402
from search.query import QueryLimits  # noqa: E402
from search.snippets import TextLimits  # noqa: E402
from search.sqlite_fts import SqliteFtsBackend  # noqa: E402

LINE = "> a quoted line of the huge message, with someone@example.org in it -- and more\n"
VOCABULARY = (
    "t don reactor deferred callback errback protocol factory transport twisted the a of to "
    "and in is it that for with on as this be are was not but can have you we they"
).split()
OLD_SNIPPET = (
    "SELECT snippet(fts, 2, char(2), char(3), '…', 32), snippet(fts, 3, char(2), char(3), '…', 32)"
    " FROM fts WHERE fts MATCH ? AND rowid = ?"
)
UNLIMITED = QueryLimits(max_terms=10**6, max_prefix_terms=10**6, min_prefix_chars=1)
UNBOUNDED_TEXT = TextLimits(max_indexed_bytes=2**40, max_snippet_bytes=2**40)


def documents(count: int, mib: int) -> list[IndexDoc]:
    rng = random.Random(11)
    docs = []
    for n in range(count):
        body = " ".join(rng.choice(VOCABULARY) for _ in range(120))
        docs.append(_doc(f"s{n:06d}", f"note {n}", body, f"Sender {n % 300}"))
    huge = LINE * (mib * 1024 * 1024 // len(LINE))
    docs.append(_doc("huge", "A very long message", huge, "Big Sender"))
    return docs


def _doc(key: str, subject: str, body: str, name: str) -> IndexDoc:
    return IndexDoc(
        key=key,
        message_id=f"<{key}@bench>",
        lists=("bench",),
        thread_id=key,
        from_name=name,
        from_addr=f"{key}@example.org",
        subject=subject,
        date=datetime(2020, 1, 1, tzinfo=UTC),
        body_own="",
        body_quoted=body,
    )


QUERIES: tuple[tuple[str, str], ...] = (
    ("hit: the big message", "huge message"),
    ("333 x t*", " ".join(["t*"] * 333)),
    ("160 x t* OR", " OR ".join(["t*"] * 160)),
    ("32 x t (the most accepted)", " ".join(["t"] * 32)),
    ("32 common words", " ".join((VOCABULARY * 2)[:32])),
    ("8 from: names + t", " ".join(f'from:"Sender {n}"' for n in range(10, 18)) + " t"),
    ("from:t (one-letter prefix)", "from:t"),
)


def _timed(run: Callable[[], str]) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        outcome = run()
    except SearchQueryError as exc:
        outcome = f"refused: {exc}"
    return time.perf_counter() - start, outcome


def _before(path: Path, query: str, out: multiprocessing.Queue[str]) -> None:
    backend = SqliteFtsBackend(path, limits=UNLIMITED, text_limits=UNBOUNDED_TEXT)
    start = time.perf_counter()
    result = backend.search(query, limit=20)
    if query == QUERIES[0][1]:  # what the hits cost before: FTS5 snippet() over each body
        conn = backend._conn
        match = '"huge" "message"'
        for hit in result.hits:
            (rowid,) = conn.execute("SELECT id FROM docs WHERE key = ?", (hit.key,)).fetchone()
            conn.execute(OLD_SNIPPET, (match, rowid)).fetchone()
    out.put(f"{time.perf_counter() - start:8.2f} s  total {result.total}")


def before(path: Path, query: str, deadline: float) -> str:
    context = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[str] = context.Queue()
    child = context.Process(target=_before, args=(path, query, out))
    child.start()
    child.join(deadline)
    if child.is_alive():
        child.kill()
        child.join()
        return f"> {deadline:.0f} s (stopped)"
    return out.get() if not out.empty() else f"failed (exit {child.exitcode})"


def after(backend: SearchBackend, query: str) -> str:
    took, outcome = _timed(lambda: f"total {backend.search(query, limit=20).total}")
    return f"{took:8.3f} s  {outcome[:90]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=128)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--deadline", type=float, default=60.0)
    parser.add_argument("--es-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="la-hostile-"))
    docs = documents(args.docs, args.mib)
    old = SqliteFtsBackend(folder / "before.db", text_limits=UNBOUNDED_TEXT)
    new = SqliteFtsBackend(folder / "after.db")
    for label, target in (("before", old), ("after", new)):
        start = time.perf_counter()
        target.index(docs)
        sys.stdout.write(
            f"indexed {len(docs)} docs ({label}) in {time.perf_counter() - start:.1f} s\n"
        )
    old.close()
    backends: list[tuple[str, SearchBackend]] = [("sqlite", new)]
    if args.es_url:
        es = open_backend("elasticsearch", folder, args.es_url, index_prefix="bench-hostile")
        es.clear()
        es.index(docs)
        es.finish_rebuild()
        backends.append(("elasticsearch", es))
    for label, query in QUERIES:
        sys.stdout.write(
            f"{label}\n  sqlite before  {before(folder / 'before.db', query, args.deadline)}\n"
        )
        for name, backend in backends:
            sys.stdout.write(f"  {name:13} after {after(backend, query)}\n")
    for _, backend in backends:
        backend.close()


if __name__ == "__main__":
    main()
