"""Nothing private reaches an anonymous visitor, on any route (issue 11).

A crafted store mixes private and public messages in one thread: the root and a middle
message are on the private list `hushlist`, three replies on the public `pub-list` (one also on
`hushlist`); besides, a public thread and a private-only thread.  Every GET rule of the app is
requested as anonymous (parameters filled from the store, JSON/CSV twins, query variants), and
no private subject, key, sender, list, community, period, day or thread id may appear in any
body or header; the counts anonymous pages give are those of the visible messages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store import communities
from store.store import Store
from tests.support.route_walk import filled, leaks_in
from tests.support.stores import index_store
from tests.support.webauth import login
from webui import create_app

PUBLIC_LIST, PRIVATE_LIST = "pub-list", "hushlist"


def _mail(
    msgid: str,
    sender: str,
    subject: str,
    day: int,
    body: str,
    to: str = "pub-list@lists.example",
    reply_to: str = "",
    refs: str = "",
) -> str:
    head = [
        f"From {msgid}@mid.example Mon Jan  1 00:00:00 2001",
        f"Message-ID: <{msgid}@mid.example>",
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][(day + 5) % 7]}, "
        f"{day:02d} Mar 2020 09:30:00 +0000",
    ]
    if reply_to:
        head.append(f"In-Reply-To: <{reply_to}@mid.example>")
    if refs or reply_to:
        head.append(
            "References: " + " ".join(f"<{r}@mid.example>" for r in (refs or reply_to).split())
        )
    return "\n".join([*head, "", body, "", ""])


VALENTINA = "Valentina Hushwell <valentina@hush.example>"
HUBERT = "Hubert Quillfeather <hubert@hush.example>"
PAULA = "Paula Openshaw <paula@open.example>"
OSCAR = "Oscar Plainview <oscar@open.example>"
HUSH_TO = "hushlist@hush.example"

P1 = _mail("m1", VALENTINA, "Zanzibar kumquat plan", 11, "The plan is secret.", HUSH_TO)
P2 = _mail("m2", HUBERT, "Re: Zanzibar kumquat plan", 12, "Agreed, secret.", HUSH_TO, "m1")
R1 = _mail(
    "r1",
    PAULA,
    "Budget review for everyone",
    15,
    "Public budget talk.",
    reply_to="m2",
    refs="m1 m2",
)
R2 = _mail(
    "r2", OSCAR, "Re: Budget review for everyone", 16, "Looks fine.", reply_to="r1", refs="m1 m2 r1"
)
R3 = _mail("r3", PAULA, "Budget side note", 17, "One more public note.", reply_to="m1")
A1 = _mail("a1", OSCAR, "Picnic schedule", 20, "Saturday at noon.")
A2 = _mail("a2", PAULA, "Re: Picnic schedule", 21, "I will bring bread.", reply_to="a1")
X1 = _mail("x1", VALENTINA, "Xylophone yuzu matter", 25, "Only for members.", HUSH_TO)
X2 = _mail("x2", HUBERT, "Re: Xylophone yuzu matter", 26, "Noted.", HUSH_TO, "x1")
# a public poster who signs otherwise (and more often) on the private list only: the name the
# store gives them comes from private posts, which anonymous pages must never show (issue 11)
OSCAR_HUSH = "Oscar Zedwhisper <oscar@open.example>"
X3, X4, X5 = (
    _mail(f"x{n}", OSCAR_HUSH, "Re: Xylophone yuzu matter", 26, "Me too.", HUSH_TO, "x1")
    for n in (3, 4, 5)
)

SECRET_WORDS = (
    "Zanzibar",
    "kumquat",
    "Xylophone",
    "yuzu",
    "Valentina",
    "Hushwell",
    "Hubert",
    "Quillfeather",
    "Zedwhisper",
    "hush.example",
    PRIVATE_LIST,
    "hushcom",
    "hush-2020",
    "2020-03-11",
    "2020-03-12",
    "2020-03-25",
    "2020-03-26",
)


@dataclass(frozen=True)
class Mixed:
    data: Path
    keys: dict[str, str]  # msgid local part -> message key
    threads: dict[str, str]  # "mixed", "public", "private" -> thread id
    private_persons: tuple[str, ...]
    public_persons: tuple[str, ...]

    @property
    def secrets(self) -> tuple[str, ...]:
        private_keys = tuple(self.keys[m] for m in ("m1", "m2", "x1", "x2", "x3", "x4", "x5"))
        return (*SECRET_WORDS, *private_keys, self.threads["private"], *self.private_persons)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Mixed:
    root = tmp_path_factory.mktemp("mixed")
    data = root / "data"
    open_file, hush_file = root / "open-2020.mbox", root / "hush-2020.mbox"
    open_file.write_text("".join((R1, R2, R3, A1, A2)))
    hush_file.write_text("".join((P1, P2, R3, X1, X2, X3, X4, X5)))
    store = Store(data / "store.db")
    try:
        for name, path, private in (
            (PUBLIC_LIST, open_file, False),
            (PRIVATE_LIST, hush_file, True),
        ):
            store.add_list(name, "mbox", paths=[str(path)], private=private)
            summary = sync_list(store, name, MboxSource([str(path)]), workers=1)
            assert summary.clean, summary.as_dict()
        communities.upsert(store.conn, "opencom", [PUBLIC_LIST])
        communities.upsert(store.conn, "hushcom", [PRIVATE_LIST])
        index_store(store, data)
        conn = store.conn
        keys = {
            str(mid).strip("<").split("@")[0]: str(key)
            for key, mid in conn.execute("SELECT key, message_id FROM messages")
        }
        assert len(keys) == 12
        thread_of = dict(conn.execute("SELECT key, thread_id FROM messages").fetchall())
        threads = {
            "mixed": thread_of[keys["m1"]],
            "public": thread_of[keys["a1"]],
            "private": thread_of[keys["x1"]],
        }
        assert {thread_of[keys[m]] for m in ("m1", "m2", "r1", "r2", "r3")} == {threads["mixed"]}
        assert len(set(threads.values())) == 3

        def persons(domain: str) -> tuple[str, ...]:
            return tuple(
                str(r[0])
                for r in conn.execute(
                    "SELECT DISTINCT p.key FROM persons p JOIN identities i ON i.person = p.id "
                    "JOIN messages m ON m.identity = i.id WHERE m.from_addr LIKE ?",
                    (f"%@{domain}",),
                )
            )

        private_persons, public_persons = persons("hush.example"), persons("open.example")
        assert len(private_persons) == 2 and len(public_persons) == 2
    finally:
        store.close()
    return Mixed(data, keys, threads, private_persons, public_persons)


@pytest.fixture()
def app(mixed: Mixed) -> Flask:
    return create_app(load_settings(env={}, overrides={"data_dir": mixed.data}))


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# -- the walk ----------------------------------------------------------------------------------

_SEARCHES = (
    "?q=after:1990",
    "?q=after:1990&facets=1",
    "?q=after:1990&group=thread",
    "?q=budget&facets=1&sort=date",
    f"?q=list:{PRIVATE_LIST}&facets=1",
    "?q=Zanzibar",
    "?q=from:valentina",
    "?list=pub-list",
)
_STATS = (
    "",
    f"?list={PUBLIC_LIST}",
    f"?list={PRIVATE_LIST}",
    "?community=opencom",
    "?community=hushcom",
    "?table=threads_by_replies",
    "?table=threads_by_participants",
    "?period=week&limit=100",
)


def _variants(endpoint: str) -> tuple[str, ...]:
    if endpoint in (
        "search_pages.search",
        "api.search",
        "feeds.search_feed",
    ) or endpoint.startswith("exports.search"):
        return _SEARCHES
    if endpoint.startswith(("pages.list", "pages.period")):
        return ("", "?sort=date", "?sort=activity")
    if endpoint.startswith("stats."):
        return _STATS
    if endpoint.startswith("pages.thread"):
        return ("", "?view=flat", "?page=2")
    return ("", "?facets=1")


def _urls(app: Flask, mixed: Mixed) -> Iterator[tuple[str, str]]:
    store = Store(mixed.data / "store.db", readonly=True)
    try:
        message_keys = sorted(mixed.keys.values())
    finally:
        store.close()
    values: dict[str, list[str]] = {
        "name": [PUBLIC_LIST, PRIVATE_LIST],
        "old_name": [PUBLIC_LIST, PRIVATE_LIST],
        "period": ["open-2020", "hush-2020"],
        "page": ["index.html", "thread.html", "000000.html"],
        "thread_id": sorted(mixed.threads.values()),
        "key": [*message_keys, *mixed.private_persons, *mixed.public_persons],
        "community": ["opencom", "hushcom"],
        "event_id": ["1"],
        "run_id": ["1"],  # secretariat pages: anonymous gets the login redirect / 401
        "item_id": ["1"],
        "n": ["0", "1"],  # attachments of a message
    }
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        names = sorted(rule.arguments)
        missing = [n for n in names if n not in values]
        assert not missing, f"the walk has no values for {rule.rule}: {missing}"
        for path in filled(rule.rule, names, [values[n] for n in names]):
            for variant in _variants(rule.endpoint):
                yield rule.endpoint, path + variant


def test_anonymous_walk_of_every_route_shows_nothing_private(app: Flask, mixed: Mixed) -> None:
    client = app.test_client()
    leaks: list[str] = []
    errors: list[str] = []
    requested = 0
    for endpoint, url in _urls(app, mixed):
        response = client.get(url)
        requested += 1
        if response.status_code >= 500:
            errors.append(f"{url}: {response.status_code}")
        leaks += leaks_in(response, url, endpoint, mixed.secrets)
    assert requested > 300
    assert not errors, errors
    assert not leaks, "\n".join(leaks[:400]) + f"\n... {len(leaks)} leaks in all"


# -- the counts and links anonymous pages give -----------------------------------------------


def _json(client: FlaskClient, url: str) -> dict[str, object]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    found = response.get_json()
    assert isinstance(found, dict)
    return found


def test_a_mixed_thread_is_its_visible_messages_for_anonymous(
    client: FlaskClient, mixed: Mixed
) -> None:
    thread_id, keys = mixed.threads["mixed"], mixed.keys
    home = _json(client, "/index.json")
    recent = {t["thread_id"]: t for t in home["recent_threads"]}  # type: ignore[attr-defined]
    assert set(recent) == {thread_id, mixed.threads["public"]}
    assert recent[thread_id]["message_count"] == 3
    assert recent[thread_id]["subject"] == "Budget review for everyone"
    assert recent[thread_id]["first_date"].startswith("2020-03-15")
    assert [t["messages"] for t in home["lists"]] == [5]  # type: ignore[attr-defined]

    page = _json(client, f"/threads/{thread_id}.json")
    thread = page["thread"]
    assert isinstance(thread, dict)
    assert thread["message_count"] == 3 and thread["subject"] == "Budget review for everyone"
    assert thread["first_date"].startswith("2020-03-15") and thread["lists"] == [PUBLIC_LIST]
    messages = {m["key"]: m for m in page["messages"]}  # type: ignore[attr-defined]
    assert set(messages) == {keys["r1"], keys["r2"], keys["r3"]}
    # a reply to a message the visitor may not read is a reply to an unknown message
    assert messages[keys["r1"]]["parent_key"] is None
    assert messages[keys["r3"]]["parent_key"] is None
    assert messages[keys["r2"]]["parent_key"] == keys["r1"]
    assert [messages[keys[k]]["depth"] for k in ("r1", "r2", "r3")] == [0, 1, 0]

    message = _json(client, f"/messages/{keys['r2']}.json")
    link = message["thread"]
    assert isinstance(link, dict)
    assert link["message_count"] == 3 and link["subject"] == "Budget review for everyone"
    assert _json(client, f"/messages/{keys['r1']}.json")["prev"] is None

    stats = _json(client, "/stats.json")
    rows = {r["thread"]: r for r in stats["threads_by_replies"]}  # type: ignore[attr-defined]
    assert rows[thread_id]["messages"] == 3
    assert rows[thread_id]["subject"] == "Budget review for everyone"
    assert stats["totals"]["messages"] == 5  # type: ignore[index]
    csv = client.get("/stats.csv?table=threads_by_replies").get_data(as_text=True)
    assert "Budget review for everyone" in csv

    assert _json(client, "/api/search?q=after:1990")["total"] == 5


def test_healthz_counts_visible_messages_for_anonymous(client: FlaskClient) -> None:
    # the privacy rule on /healthz: anonymous callers get no count of private messages
    health = _json(client, "/healthz")
    assert health.get("messages") in (None, 5), health
    assert health.get("indexed") in (None, 5), health


def test_logged_in_accounts_still_see_the_whole_thread(
    app: Flask, client: FlaskClient, mixed: Mixed
) -> None:
    login(client, app, "facilitator")
    thread_id = mixed.threads["mixed"]
    thread = _json(client, f"/threads/{thread_id}.json")["thread"]
    assert isinstance(thread, dict)
    assert thread["message_count"] == 5 and thread["subject"] == "Zanzibar kumquat plan"
    assert thread["lists"] == [PRIVATE_LIST, PUBLIC_LIST]
    r1 = _json(client, f"/messages/{mixed.keys['r1']}.json")["message"]
    assert isinstance(r1, dict) and r1["parent_key"] == mixed.keys["m2"]
    home = _json(client, "/index.json")
    recent = {t["thread_id"]: t for t in home["recent_threads"]}  # type: ignore[attr-defined]
    assert recent[thread_id]["message_count"] == 5
    assert set(recent) == set(mixed.threads.values())
    stats = _json(client, "/stats.json?scope=all")  # two communities
    rows = {r["thread"]: r for r in stats["threads_by_replies"]}  # type: ignore[attr-defined]
    assert rows[thread_id]["subject"] == "Zanzibar kumquat plan"
