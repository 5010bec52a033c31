"""A local HTTP server that serves corpus folders like a real archive host.

Supports ETag / Last-Modified conditional GETs, directory listings for folders without an
index page, request counting, extra (overlay) files and injected faults per path.  Tests fake
the network only here, at the HTTP boundary.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

from tests.support.httpbase import QuietHandler, QuietServer, serve_in_thread, shut_down


@dataclass
class ArchiveServer:
    mounts: dict[str, Path] = field(default_factory=dict)
    """URL prefix (e.g. `/pipermail/twisted-python/`) -> local folder."""
    overlay: dict[str, bytes] = field(default_factory=dict)
    """Exact URL path -> content, served instead of (or in addition to) files."""
    faults: dict[str, str] = field(default_factory=dict)
    """Exact URL path -> fault: `404`, `500`, `html`, `corrupt-gzip`, `timeout`, `reset`."""
    listings: set[str] = field(default_factory=set)
    """Mount prefixes served as a directory listing even when an index.html exists."""
    requests: Counter[str] = field(default_factory=Counter)
    etags: bool = True
    port: int = 0
    _server: QuietServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def resolve(self, path: str) -> bytes | None:
        if path in self.overlay:
            return self.overlay[path]
        for prefix, folder in self.mounts.items():
            if not path.startswith(prefix):
                continue
            relative = path[len(prefix) :]
            target = (folder / relative).resolve()
            if folder.resolve() not in target.parents and target != folder.resolve():
                return None
            if target.is_dir():
                index = target / "index.html"
                if index.is_file() and prefix not in self.listings:
                    return index.read_bytes()
                return _listing(target, path, self.overlay).encode()
            if target.is_file():
                return target.read_bytes()
        return None

    def start(self) -> None:
        self._server = serve_in_thread(_make_handler(self))
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        shut_down(self._server)


def _listing(folder: Path, path: str, overlay: dict[str, bytes]) -> str:
    names = sorted(p.name for p in folder.iterdir())
    extra = (k[len(path) :] for k in overlay if k.startswith(path))
    names += sorted(name for name in extra if "/" not in name)
    links = "\n".join(f'<li><a href="{name}">{name}</a></li>' for name in names)
    return f"<html><body><h1>Index of {path}</h1><ul>\n{links}\n</ul></body></html>"


def _make_handler(server: ArchiveServer) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            server.requests[path] += 1
            fault = server.faults.get(path)
            if fault == "timeout":
                time.sleep(3)
            if fault == "reset":
                self.close_connection = True
                self.connection.close()
                return
            if fault in ("404", "500"):
                self._send(int(fault), b"<html><body>error</body></html>", "text/html")
                return
            if fault == "html":
                self._send(
                    200, b"<!DOCTYPE html><html><body>Maintenance</body></html>", "text/html"
                )
                return
            content = server.resolve(path)
            if content is None:
                self._send(404, b"<html><body>Not Found</body></html>", "text/html")
                return
            if fault == "corrupt-gzip":
                content = content[: len(content) // 2] + b"\x00garbage"
            etag = '"' + hashlib.sha1(content).hexdigest() + '"'
            last_modified = formatdate(1_600_000_000 + len(content), usegmt=True)
            if server.etags and self.headers.get("If-None-Match") == etag:
                self._send(304, b"", "", etag=etag, last_modified=last_modified)
                return
            ctype = (
                "text/html"
                if path.endswith(("/", ".html"))
                else ("application/x-gzip" if path.endswith(".gz") else "text/plain")
            )
            self._send(200, content, ctype, etag=etag, last_modified=last_modified)

        def _send(
            self,
            status: int,
            body: bytes,
            ctype: str,
            *,
            etag: str = "",
            last_modified: str = "",
        ) -> None:
            headers = {
                "Content-Type": ctype,
                "ETag": etag if server.etags else "",
                "Last-Modified": last_modified,
            }
            self.send_body(status, body, headers)

    return Handler
