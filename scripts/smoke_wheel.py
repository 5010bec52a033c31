"""Smoke test of the installed package (`scripts/smoke-wheel`; CI runs it, and so does
tests/test_wheel.py).

Builds the wheel, installs it into a fresh venv in a temporary directory outside the checkout,
and, from another temporary directory (the source tree is not importable there), uses it as an
operator would: add a small pipermail list served over local HTTP, sync it, search it, reindex,
with the embedded backend and with Elasticsearch (when LISTARCHIVE_TEST_ES_URL names a node;
required when CI is set), then start the web UI the way the container does (gunicorn with
`--config python:webui.gunicorn_conf`) and fetch the main pages, a chart asset and /healthz.

    scripts/smoke-wheel [--venv DIR] [--source TREE] [--keep]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.wheelenv import (
    ROOT,
    SmokeError,
    WheelEnv,
    build_wheel,
    copy_context,
    free_port,
    make_env,
    missing_from_wheel,
    run,
    stop,
    wait_http,
)

CORPUS = Path(os.environ.get("LISTARCHIVE_CORPUS", ROOT.parent / "shared" / "corpus"))
LIST_FOLDER = CORPUS / "pipermail" / "twisted"  # served at /, the list at /divunal-devel/
LIST_NAME = "divunal-devel"
QUERY = "perspectives"  # "The Problem with Perspectives": a 12-message thread
GUNICORN = ["--config", "python:webui.gunicorn_conf", "--workers", "1", "webui:create_app()"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """A local archive server for `folder`; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str, *, expect: int = 200) -> tuple[int, str, str]:
    """GET `url`: (status, content type, text); another status than `expect` fails."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, ctype, body = response.status, response.headers.get_content_type(), response
            text = body.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status, ctype = exc.code, exc.headers.get_content_type()
        text = exc.read().decode("utf-8", "replace")
        exc.close()
    if status != expect:
        raise SmokeError(f"GET {url}: {status} (expected {expect})\n{text[:2000]}")
    return status, ctype, text


def _contains(url: str, text: str, *needles: str) -> None:
    for needle in needles:
        if needle not in text:
            raise SmokeError(f"GET {url}: {needle!r} not in the answer:\n{text[:2000]}")


def cli_steps(env: WheelEnv, work: Path, extra: dict[str, str], archive: str) -> dict[str, str]:
    """lists add, sync, search, reindex, search; returns a message key and its thread."""
    cli_env = env.env(extra)
    la = [env.exe("listarchive")]
    url = f"{archive}/{LIST_NAME}/"
    run([*la, "lists", "add", LIST_NAME, "--pipermail", url], cwd=work, env=cli_env)
    synced = json.loads(run([*la, "sync", "--json"], cwd=work, env=cli_env).stdout)
    new = sum(r["new_messages"] for r in synced["runs"])
    if new < 50 or synced["index_error"] or synced["indexed"] < new:
        raise SmokeError(f"sync stored or indexed too little: {json.dumps(synced)[:2000]}")
    found = json.loads(run([*la, "search", QUERY, "--json"], cwd=work, env=cli_env).stdout)
    if found["total"] < 5:
        raise SmokeError(f"search {QUERY!r} found {found['total']} messages")
    done = run([*la, "reindex"], cwd=work, env=cli_env)
    if f"reindexed {synced['indexed']} messages" not in done.stdout:
        raise SmokeError(f"reindex: {done.stdout}{done.stderr}")
    again = json.loads(run([*la, "search", QUERY, "--json"], cwd=work, env=cli_env).stdout)
    if again["total"] != found["total"]:
        raise SmokeError(f"after reindex {QUERY!r} found {again['total']}, was {found['total']}")
    hit = found["hits"][0]
    return {"key": hit["id"], "thread": hit["thread_id"], "subject": hit["subject"]}


@contextmanager
def web(env: WheelEnv, work: Path, extra: dict[str, str]) -> Iterator[str]:
    """gunicorn as the container runs it, from the venv; yields its base URL."""
    port = free_port()
    args = [env.exe("gunicorn"), "--bind", f"127.0.0.1:{port}", *GUNICORN]
    process = subprocess.Popen(
        args,
        cwd=work,
        env=env.env(extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz", process)
        yield base
    except SmokeError as exc:
        raise SmokeError(f"{exc}\n--- gunicorn\n{stop(process)[-4000:]}") from exc
    finally:
        stop(process)


def web_steps(base: str, found: dict[str, str], backend: str) -> None:
    q = urllib.parse.quote(QUERY)
    _, _, home = fetch(f"{base}/")
    _contains("/", home, LIST_NAME, "/static/style.css")
    _, _, page = fetch(f"{base}/search?q={q}")
    _contains("/search", page, found["subject"])
    _, _, twin = fetch(f"{base}/search.json?q={q}")
    if json.loads(twin)["total"] < 5:
        raise SmokeError(f"/search.json?q={q}: {twin[:500]}")
    _, _, thread = fetch(f"{base}/threads/{found['thread']}")
    _contains("/threads/...", thread, found["subject"])
    _, _, message = fetch(f"{base}/messages/{found['key']}")
    _contains("/messages/...", message, found["subject"])
    _, _, stats = fetch(f"{base}/stats")
    _contains("/stats", stats, "charts.js", "chart.umd.min.js")
    _, ctype, chart = fetch(f"{base}/static/vendor/chart.umd.min.js")
    _contains("/static/vendor/chart.umd.min.js", chart, "Chart")
    _, _, charts = fetch(f"{base}/static/charts.js")
    if ctype not in ("text/javascript", "application/javascript") or len(charts) < 100:
        raise SmokeError(f"/static/charts.js: {ctype}, {len(charts)} characters")
    fetch(f"{base}/static/favicon.svg")
    _, _, health = fetch(f"{base}/healthz")
    report = json.loads(health)
    if report["status"] != "ok" or report["checks"]["index"]["backend"] != backend:
        raise SmokeError(f"/healthz: {health}")


def es_cleanup(es_url: str, prefix: str) -> None:
    """Delete the smoke test's indices (by name: wildcard deletes are refused)."""
    try:
        listing = f"{es_url}/_cat/indices/{prefix}*?format=json&h=index"
        with urllib.request.urlopen(listing, timeout=30) as response:
            names = [row["index"] for row in json.load(response)]
        for name in names:
            request = urllib.request.Request(f"{es_url}/{name}", method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()
    except OSError as exc:
        print(f"smoke: could not delete the {prefix}* indices: {exc}", file=sys.stderr)


def smoke(env: WheelEnv, work: Path, es_url: str) -> list[str]:
    """Every step against the installed package, run from `work`; returns what was done."""
    done = [f"installed from {env.wheel.name}: {env.check_installed(work)['listarchive']}"]
    backends: list[tuple[str, dict[str, str]]] = [("sqlite", {})]
    prefix = f"smoke-{secrets.token_hex(4)}"
    if es_url:
        es = {
            "LISTARCHIVE_SEARCH_BACKEND": "elasticsearch",
            "LISTARCHIVE_SEARCH_URL": es_url,
            "LISTARCHIVE_SEARCH_INDEX": prefix,
        }
        backends.append(("elasticsearch", es))
    try:
        with serve_folder(LIST_FOLDER) as archive:
            for backend, extra in backends:
                started = time.monotonic()
                extra = {**extra, "LISTARCHIVE_DATA_DIR": str(work / f"data-{backend}")}
                found = cli_steps(env, work, extra, archive)
                with web(env, work, extra) as base:
                    web_steps(base, found, backend)
                took = time.monotonic() - started
                done.append(f"{backend}: sync, search, reindex, pages, assets ({took:.1f} s)")
    finally:
        if es_url:
            es_cleanup(es_url, prefix)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, help="build (or reuse) the venv here")
    parser.add_argument("--source", type=Path, default=ROOT, help="the tree to build from")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = parser.parse_args(argv)
    es_url = os.environ.get("LISTARCHIVE_TEST_ES_URL", "").rstrip("/")
    if not es_url and os.environ.get("CI"):
        print("smoke: CI is set but LISTARCHIVE_TEST_ES_URL is not", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="listarchive-smoke-"))
    started = time.monotonic()
    try:
        context = copy_context(scratch / "context", args.source.resolve())
        wheel = build_wheel(scratch / "dist", context)
        print(f"smoke: built {wheel.name} in {time.monotonic() - started:.1f} s")
        missing = missing_from_wheel(wheel, context)
        lacks = f"the wheel lacks {len(missing)} files: {', '.join(missing)}" if missing else ""
        installing = time.monotonic()
        env = make_env(args.venv or scratch / "venv", wheel)
        print(f"smoke: installed it in a fresh venv in {time.monotonic() - installing:.1f} s")
        work = scratch / "work"
        work.mkdir()
        try:
            for line in smoke(env, work, es_url):
                print(f"smoke: {line}")
        except SmokeError as exc:
            raise SmokeError(f"{lacks}\n{exc}" if lacks else str(exc)) from exc
        if lacks:
            raise SmokeError(lacks)
        if not es_url:
            print("smoke: Elasticsearch skipped (set LISTARCHIVE_TEST_ES_URL)")
    except SmokeError as exc:
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"smoke: kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"smoke: ok in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
