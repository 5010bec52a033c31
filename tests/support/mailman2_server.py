"""A local server that behaves like a hosted Mailman 2.1 install, for the tests.

What it imitates (from Mailman 2.1's `Cgi/private.py`, `SecurityManager.py` and the
`private.html` login form):

* list names are `<list>_<domain>` on hosted installs: `/mailman/listinfo/<name>` is the list's
  page, a public archive is `/pipermail/<name>/` (served like Apache: with ETags), a private one
  `/mailman/private/<name>/`;
* every private page without a valid member cookie answers the login form (HTML, status 200);
  the form posts `username`, `password` and `submit` back to the page asked for;
* a correct POST answers the page asked for and sets the session cookie
  `<name>+user+<address with @ as --at--, quoted>` (path `/mailman/`, no expiry); a wrong one
  answers the form again with status 401 and "Authorization failed.";
* private volumes stored gzipped are served decompressed as `text/plain`, without validators;
  a private directory is served as its index page (here: a generated one linking every volume).

Tests may `expire_sessions()` to imitate a cookie that stopped being accepted mid-sync.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, quote

from tests.support.httpbase import QuietHandler, QuietServer, serve_in_thread, shut_down


@dataclass
class HostedList:
    folder: Path
    """The archive folder (pipermail volumes) served for this list."""
    private: bool = False
    members: dict[str, str] = field(default_factory=dict)
    """Member address -> password (who may read a private archive)."""


def cookie_name(list_name: str, address: str) -> str:
    """Mailman 2's member cookie key for `address` on `list_name`."""
    return f"{list_name}+user+{quote(address.replace('@', '--at--'), safe='')}"


@dataclass
class Mailman2Server:
    lists: dict[str, HostedList] = field(default_factory=dict)
    """Mailman list name (e.g. `bpf-cybersecurity_example.org`) -> list."""
    requests: Counter[str] = field(default_factory=Counter)
    logins: Counter[str] = field(default_factory=Counter)
    """List name -> successful password logins."""
    refused: Counter[str] = field(default_factory=Counter)
    port: int = 0
    _sessions: dict[str, str] = field(default_factory=dict)
    """Cookie value -> cookie name it was issued under."""
    _server: QuietServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def expire_sessions(self) -> None:
        self._sessions.clear()

    def start(self) -> None:
        self._server = serve_in_thread(_make_handler(self))
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        shut_down(self._server)

    # -- what the handler asks -------------------------------------------------------------

    def issue_cookie(self, list_name: str, address: str) -> tuple[str, str]:
        name, value = cookie_name(list_name, address), secrets.token_hex(16)
        self._sessions[value] = name
        return name, value

    def has_session(self, list_name: str, cookies: dict[str, str]) -> bool:
        prefix = f"{list_name}+user+"
        return any(
            name.startswith(prefix) and self._sessions.get(value) == name
            for name, value in cookies.items()
        )


def _split(path: str, prefix: str) -> tuple[str, str] | None:
    """(list name, rest of the path) for a path under `prefix`."""
    if not path.startswith(prefix):
        return None
    name, _, rest = path[len(prefix) :].partition("/")
    return (name, rest) if name else None


def _index_page(title: str, folder: Path) -> bytes:
    names = sorted(p.name for p in folder.iterdir() if ".txt" in p.name)
    links = "\n".join(f'<tr><td><a href="{n}">[ Gzip\'d Text ]</a></td></tr>' for n in names)
    head = f"<html><head><title>The {title} Archives</title></head><body><table>"
    return f"{head}\n{links}\n</table></body></html>".encode()


def _login_form(list_name: str, action: str, message: str = "") -> bytes:
    return (
        f"<html><head><title>{escape(list_name)} Private Archives Authentication</title></head>"
        f'<body><FORM METHOD=POST ACTION="{escape(action)}">{message}'
        '<INPUT TYPE="text" NAME="username" SIZE="30">'
        '<INPUT TYPE="password" NAME="password" SIZE="30">'
        '<INPUT type="SUBMIT" name="submit" value="Let me in...">'
        '<INPUT name="login-remind" type="SUBMIT" value="Remind"></FORM></body></html>'
    ).encode()


def _make_handler(server: Mailman2Server) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            self._route({})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
            self._route({k: v[0] for k, v in form.items()})

        def _route(self, form: dict[str, str]) -> None:
            path = self.path.split("?", 1)[0]
            server.requests[path] += 1
            if found := _split(path, "/mailman/listinfo/"):
                self._listinfo(found[0])
            elif found := _split(path, "/pipermail/"):
                self._public(*found)
            elif found := _split(path, "/mailman/private/"):
                self._private(path, *found, form)
            else:
                self._send(404, b"<html><body>Not Found</body></html>", "text/html")

        def _listinfo(self, name: str) -> None:
            hosted = server.lists.get(name)
            if hosted is None:
                self._send(404, b"<html><body>No such list</body></html>", "text/html")
                return
            where = f"/mailman/private/{name}/" if hosted.private else f"/pipermail/{name}/"
            page = f'<html><body><h1>{name}</h1><a href="{where}">{name} Archives</a></body></html>'
            self._send(200, page.encode(), "text/html")

        def _public(self, name: str, rest: str) -> None:
            hosted = server.lists.get(name)
            if hosted is None or hosted.private:
                self._send(404, b"<html><body>Not Found</body></html>", "text/html")
                return
            if rest in ("", "index.html"):
                content, ctype = _index_page(name, hosted.folder), "text/html"
            elif (hosted.folder / rest).is_file() and "/" not in rest:
                content = (hosted.folder / rest).read_bytes()
                ctype = "application/x-gzip" if rest.endswith(".gz") else "text/plain"
            else:
                self._send(404, b"<html><body>Not Found</body></html>", "text/html")
                return
            etag = '"' + hashlib.sha1(content).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", "", etag=etag)
                return
            self._send(200, content, ctype, etag=etag)

        def _private(self, path: str, name: str, rest: str, form: dict[str, str]) -> None:
            hosted = server.lists.get(name)
            if hosted is None or not hosted.private:
                self._send(404, b"<html><body>No such list</body></html>", "text/html")
                return
            cookie = None
            if not server.has_session(name, self._cookies()):
                username, password = form.get("username", ""), form.get("password", "")
                if password and hosted.members.get(username.lower()) == password:
                    server.logins[name] += 1
                    cookie = server.issue_cookie(name, username.lower())
                elif "submit" in form:
                    server.refused[name] += 1
                    page = _login_form(name, path, "<b>Authorization failed.</b>")
                    self._send(401, page, "text/html")
                    return
                else:
                    self._send(200, _login_form(name, path), "text/html")
                    return
            if rest in ("", "index.html"):
                self._send(200, _index_page(name, hosted.folder), "text/html", cookie=cookie)
                return
            target = hosted.folder / rest
            if "/" in rest or not (target.is_file() or target.with_name(rest + ".gz").is_file()):
                self._send(
                    404, b"<html><body>Private archive file not found</body></html>", "text/html"
                )
                return
            if not target.is_file():
                target = target.with_name(rest + ".gz")
            data = target.read_bytes()
            if target.name.endswith(".gz"):
                data = gzip.decompress(data)
            self._send(200, data, "text/plain", cookie=cookie)

        def _cookies(self) -> dict[str, str]:
            found: dict[str, str] = {}
            for part in self.headers.get("Cookie", "").split(";"):
                key, _, value = part.strip().partition("=")
                if key:
                    found[key] = value.strip('"')
            return found

        def _send(
            self,
            status: int,
            body: bytes,
            ctype: str,
            *,
            etag: str = "",
            cookie: tuple[str, str] | None = None,
        ) -> None:
            headers = {"Content-Type": ctype, "ETag": etag}
            if etag:
                headers["Last-Modified"] = formatdate(1_600_000_000, usegmt=True)
            if cookie is not None:
                headers["Set-Cookie"] = f"{cookie[0]}={cookie[1]}; Path=/mailman/; Version=1"
            self.send_body(status, body, headers)

    return Handler
