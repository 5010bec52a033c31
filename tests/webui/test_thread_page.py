"""The thread page: a whole outline of the visible messages, messages in pages of
`THREAD_PAGE`, the participants in one line, previous/next thread on the list, reply links and
the keyboard script; on a store synced from an mbox written here (a 60-message thread with a
private reply in it, and a thread before and after it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from webui import create_app
from webui.thread_view import THREAD_PAGE

LONG = 60
SECRET = "Hush-hush private reply"


def _msg(n: int, subject: str, parent: int | None, day: int, sender: int) -> bytes:
    head = (
        f"From: Person {sender} <p{sender}@example.org>\n"
        f"Subject: {subject}\n"
        f"Date: Mon, {day:02d} Oct 2020 {n // 60:02d}:{n % 60:02d}:00 +0000\n"
        f"Message-ID: <m{n}@example.org>\n"
    )
    if parent is not None:
        head += f"In-Reply-To: <m{parent}@example.org>\nReferences: <m{parent}@example.org>\n"
    return (head + f"\nBody of message {n}.\n").encode()


def _mbox(path: Path, messages: list[bytes]) -> Path:
    with path.open("wb") as out:
        for raw in messages:
            out.write(b"From x@example.org Mon Oct  5 10:00:00 2020\n" + raw + b"\n")
    return path


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    root = tmp_path_factory.mktemp("thread")
    data = root / "data"
    messages = [_msg(1000, "Before", None, 1, 1)]
    messages.append(_msg(0, "Long thread", None, 5, 0))
    for n in range(1, LONG):
        parent = n - 1 if n % 3 else 0  # chains and returns to the root: depths vary
        messages.append(_msg(n, "Re: Long thread", parent, 5, n % 35))
    messages.append(_msg(2000, "After", None, 9, 1))
    pub = _mbox(root / "pub.mbox", messages)
    priv = _mbox(root / "priv.mbox", [_msg(500, SECRET, 3, 6, 99)])
    store = Store(data / "store.db")
    try:
        store.add_list("pub", "mbox", paths=[str(pub)], address="pub@example.org")
        store.add_list("priv", "mbox", paths=[str(priv)], private=True)
        for name, path in (("pub", pub), ("priv", priv)):
            assert sync_list(store, name, MboxSource([str(path)]), workers=1).clean
        tid = store.conn.execute(
            "SELECT thread_id FROM messages WHERE message_id = '<m0@example.org>'"
        ).fetchone()[0]
        assert (
            store.conn.execute(
                "SELECT thread_id FROM messages WHERE message_id = '<m500@example.org>'"
            ).fetchone()[0]
            == tid
        ), "the private reply is in the long thread"
    finally:
        store.close()
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    yield app.test_client()


def _thread_id(client: FlaskClient, subject: str) -> str:
    for p in client.get("/lists/pub.json").get_json()["periods"]:
        for m in client.get(p["url"].rstrip("/") + ".json").get_json()["messages"]:
            if m["subject"] == subject:
                return str(m["thread_id"])
    raise AssertionError(subject)


def _get(client: FlaskClient, url: str) -> tuple[str, dict[str, Any]]:
    html = client.get(url)
    assert html.status_code == 200, url
    path, _, query = url.partition("?")
    twin = client.get(f"{path}.json{'?' + query if query else ''}")
    assert twin.status_code == 200
    return html.get_data(as_text=True), twin.get_json()


def test_outline_is_whole_and_messages_come_in_pages(client: FlaskClient) -> None:
    tid = _thread_id(client, "Long thread")
    text, data = _get(client, f"/threads/{tid}")
    assert data["pages"] == 2 and data["page"] == 1 and data["per_page"] == THREAD_PAGE
    assert len(data["outline"]) == LONG
    assert len(data["messages"]) == THREAD_PAGE
    assert len(re.findall(r'<li class="msg', text)) == THREAD_PAGE
    assert text.count('data-level="') == LONG
    on_page = {m["key"] for m in data["messages"]}
    for entry in data["outline"]:
        if entry["key"] in on_page:
            assert entry["url"] == f"#m-{entry['key']}"
        else:
            assert entry["url"] == f"/threads/{tid}?page=2#m-{entry['key']}"
        assert f'href="{entry["url"]}"' in text
    assert max(e["depth"] for e in data["outline"]) >= 2
    # the replies' "Re: Long thread" is the thread's subject: the outline names the author
    # instead of repeating it 59 times (the JSON keeps the subject)
    assert [e["same_subject"] for e in data["outline"]] == [False] + [True] * (LONG - 1)
    assert all(e["subject"] == "Re: Long thread" for e in data["outline"][1:])
    second = data["outline"][1]
    name = second["from"]["name"] or second["from"]["address"]
    assert f'data-key="{second["key"]}">{name}</a>' in text
    assert text.count(">Re: Long thread</a>") == THREAD_PAGE - 1  # the message headings only
    text2, data2 = _get(client, f"/threads/{tid}?page=2")
    assert len(data2["messages"]) == LONG - THREAD_PAGE
    assert {m["key"] for m in data2["messages"]}.isdisjoint(on_page)
    assert data2["prev_page"] == f"/threads/{tid}" and data2["next_page"] is None
    assert 'rel="prev"' in text2
    assert client.get(f"/threads/{tid}?page=3").status_code == 404
    assert client.get(f"/threads/{tid}?page=x").status_code == 400
    for odd in ("\u00b2", "0" * 5000 + "1"):  # str.isdigit(), but int() refuses it: not a 500
        assert client.get(f"/threads/{tid}", query_string={"page": odd}).status_code == 400
    flat = client.get(f"/threads/{tid}.json?view=flat&page=2").get_json()
    assert flat["page"] == 2 and len(flat["messages"]) == LONG - THREAD_PAGE


def test_anonymous_outline_has_no_hidden_message(client: FlaskClient) -> None:
    tid = _thread_id(client, "Long thread")
    for url in (f"/threads/{tid}", f"/threads/{tid}?page=2", f"/threads/{tid}?view=flat"):
        text, data = _get(client, url)
        assert SECRET not in text and SECRET not in str(data)
        assert all("m500" not in e["key"] for e in data["outline"])
        assert "Person 99" not in text


def test_participants_in_one_line(client: FlaskClient) -> None:
    tid = _thread_id(client, "Long thread")
    text, data = _get(client, f"/threads/{tid}")
    people = data["thread"]["participants"]
    assert len(people) == 35
    summary = re.search(
        r"<summary>(.*?)</summary>", text[text.index("participants-summary") :], re.S
    )
    assert summary is not None
    line = " ".join(summary.group(1).split())
    assert line.startswith("35 participants: Person 0, Person 1, Person 2 and 32 more"), line
    assert '<details class="participants" id="participants-summary">' in text  # closed


def test_previous_and_next_thread_on_the_list(client: FlaskClient) -> None:
    tid = _thread_id(client, "Long thread")
    _, data = _get(client, f"/threads/{tid}")
    assert data["prev_thread"]["subject"] == "Before"
    assert data["next_thread"]["subject"] == "After"
    before, _ = _get(client, data["prev_thread"]["url"])
    assert f'id="next-thread" rel="next" href="/threads/{tid}"' in before
    _, first = _get(client, data["prev_thread"]["url"])
    assert first["prev_thread"] is None


def test_reply_links_and_keyboard_script(client: FlaskClient) -> None:
    tid = _thread_id(client, "Long thread")
    text, data = _get(client, f"/threads/{tid}")
    assert all(m["reply_url"].startswith("mailto:pub@example.org?") for m in data["messages"])
    assert text.count('class="reply"') == THREAD_PAGE
    assert '<script src="/static/thread.js" defer></script>' in text
    assert "<script>" not in text
    with client.get("/static/thread.js") as script:
        assert script.status_code == 200 and b'"j"' in script.data
