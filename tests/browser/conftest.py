"""Browser tests: headless Chromium (Debian's `chromium`, never a downloaded browser) driven by
Playwright, against the web UI served by a real WSGI server on 127.0.0.1.

Without /usr/bin/chromium or the playwright package the directory is skipped, unless the
environment variable CI is set: then it fails, because CI must run these tests.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from config.settings import load_settings
from store.store import Store
from tests.support.stores import index_store, sync_mbox
from webui import create_app

if TYPE_CHECKING:  # playwright is imported only when installed (see require_browser)
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CORPUS = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus").resolve()
LISTS = {
    "reality": CORPUS / "pipermail/twisted/reality",
    "divunal-author": CORPUS / "pipermail/twisted/divunal-author",
}


def _missing() -> str:
    problems = []
    if not CHROMIUM.is_file():
        problems.append(f"{CHROMIUM} not found (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        problems.append("the playwright package is not installed (pip install -e '.[dev]')")
    return "; ".join(problems)


def require_browser() -> None:
    """Skip the calling test module when Chromium or Playwright is missing; fail under CI.

    Called at the top of each test module, before it imports playwright."""
    reason = _missing()
    if not reason:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests need Chromium and Playwright: {reason}", allow_module_level=True)


@dataclass(frozen=True)
class Site:
    """A running web UI: its base URL and the data directory it serves."""

    url: str
    data_dir: Path


def build_store(data_dir: Path, lists: dict[str, list[Path]]) -> None:
    """Sync each list from its mbox-style files into a fresh store and index it (SQLite)."""
    store = Store(data_dir / "store.db")
    try:
        for name, files in lists.items():
            sync_mbox(store, name, [str(p) for p in files])
        index_store(store, data_dir)
    finally:
        store.close()


@contextmanager
def serve(data_dir: Path) -> Iterator[Site]:
    """Serve `webui.create_app` for `data_dir` on 127.0.0.1 from a background thread."""
    app = create_app(load_settings(env={}, overrides={"data_dir": data_dir}))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="webui-test-server", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", data_dir)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The web UI over real corpus mail: the `reality` and `divunal-author` pipermail lists."""
    for folder in LISTS.values():
        if not folder.is_dir():
            pytest.fail(f"corpus folder not found: {folder} (expected ../shared/corpus)")
    data_dir = tmp_path_factory.mktemp("browser-data")
    build_store(data_dir, {name: sorted(folder.glob("*.txt.gz")) for name, folder in LISTS.items()})
    with serve(data_dir) as site:
        yield site


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    browser = playwright_session.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture()
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (cookies, storage) with JavaScript on and downloads accepted."""
    ctx = browser.new_context(accept_downloads=True)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture()
def nojs_page(browser: Browser) -> Iterator[Page]:
    """A page in a separate context with JavaScript disabled."""
    ctx = browser.new_context(java_script_enabled=False)
    ctx.set_default_timeout(10_000)
    yield ctx.new_page()
    ctx.close()
