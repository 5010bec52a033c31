"""Bodies are cut into own text, quoted blocks and the signature, in order."""

from __future__ import annotations

from pathlib import Path

from config.settings import load_settings
from webui import create_app
from webui.body import split_body
from webui.wsgi import GunicornApp


def test_split_body_in_order() -> None:
    body = (
        "Hi,\n\n> first quoted\n>\n> second quoted\n\nMy answer.\n"
        ">> deeper\nMore.\n-- \nJane\nhttp://example.org\n\n"
    )
    blocks = split_body(body)
    assert [b["kind"] for b in blocks] == ["text", "quote", "text", "quote", "text", "signature"]
    assert blocks[1]["text"] == "> first quoted\n>\n> second quoted"
    assert blocks[-1]["text"] == "Jane\nhttp://example.org"


def test_blank_line_between_quotes_stays_in_the_quote() -> None:
    blocks = split_body("> a\n\n> b\nreply")
    assert blocks == [{"kind": "quote", "text": "> a\n\n> b"}, {"kind": "text", "text": "reply"}]


def test_far_dash_dash_line_is_not_a_signature() -> None:
    body = "-- \n" + "\n".join(f"line {i}" for i in range(40))
    assert [b["kind"] for b in split_body(body)] == ["text"]


def test_empty_body() -> None:
    assert split_body("") == []


def test_gunicorn_app_serves_the_flask_app(tmp_path: Path) -> None:
    app = create_app(load_settings(env={}, overrides={"data_dir": tmp_path}))
    server = GunicornApp(app, {"bind": "127.0.0.1:9", "workers": 3})
    assert server.load() is app
    assert server.cfg.bind == ["127.0.0.1:9"] and server.cfg.workers == 3
