"""HTTP fetching of untrusted archives: conditional GETs, retries and clear failure reasons.

Every request (and each hop of its redirects, followed here one by one) goes only to an
origin the list allows (`ingest.origins`); a form POST (the private archive login) is never
re-sent by a redirect.  Each request has a total deadline (`sync.request_deadline`, enforced
at the socket by `ingest.deadline`) and a size bound (`sync.max_download_bytes`, checked on the
announced length and while the body streams in); a body cut short of its announced length or
its last chunk fails the request, so it is never taken for a whole file.  An archive volume
is spooled (`get(..., spool=True)`): written to a private temporary file as it streams in
(`ingest.spool`), its sha256 computed on the way, never held in memory whole.

A host that cannot be reached (connection refused, its name does not resolve), once a
request to it has used up its retries, is not tried again by the same fetcher (one command or
sync run): its remaining requests fail at once with the same reason (`unreachable`), so a
list whose server is gone costs one failed request, not one per period or volume.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import httpx

from ingest.deadline import DeadlineBackend, DeadlineTransport
from ingest.origins import OriginPolicy
from ingest.spool import Spool, discard
from store.records import VolumeState
from store.redact import redact

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CLOCK_SLACK = 0.01
"""A socket timeout that ended within this of the deadline was the deadline's."""
HEAD = 64 * 1024
"""Bytes of a spooled body kept in memory (`HttpResult.head`) to tell what it is."""


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int
    content: bytes
    etag: str
    last_modified: str
    content_type: str
    error: str = ""
    requests: int = 1
    url: str = ""
    """Where the answer came from, after the (allowed) redirects: what its links are relative to."""
    path: str = ""
    """A spooled body: the temporary file holding it (`content` is then empty)."""
    size: int = 0
    sha256: str = ""
    head: bytes = b""
    """The body's first bytes (at most HEAD), spooled or not."""

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error

    def discard(self) -> None:
        """Delete the spooled body (when it is not handed on)."""
        discard(self.path)


class _Failed(Exception):
    """One attempt failed; `retry` says whether trying again may help."""

    def __init__(self, message: str, *, retry: bool, host: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry
        self.host = host
        """Set when the host could not be reached at all (refused, no such name)."""


def _host(url: str) -> str:
    """`host:port` of `url` (the unit that fails fast), "" when it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    except ValueError:
        return ""
    return f"{parts.hostname}:{port}" if parts.hostname else ""


class HttpFetcher:
    """One `httpx.Client` (its cookie jar, its connections) shared by a command or sync run."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        user_agent: str = "listarchive",
        request_deadline: float = 600.0,
        max_bytes: int = 2 * 1024**3,
        client: httpx.Client | None = None,
        spool_root: Path | None = None,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self.retries = retries
        self.max_redirects = max_redirects
        """Redirects followed per request (`sync.max_redirects`)."""
        self.spool = Spool(spool_root)
        """Where spooled bodies go (removed by `close`)."""
        self.request_deadline = request_deadline
        self.max_bytes = max_bytes
        self._backend = DeadlineBackend()
        self.client = client or httpx.Client(
            timeout=timeout,
            follow_redirects=False,  # followed in `_attempt`, each hop checked
            transport=DeadlineTransport(self._backend),
            headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
        )
        self.unreachable: dict[str, str] = {}
        """`host:port` -> why it could not be reached: not tried again by this fetcher."""

    def close(self) -> None:
        self.client.close()
        self.spool.close()

    def get(
        self,
        url: str,
        previous: VolumeState | None = None,
        *,
        policy: OriginPolicy | None = None,
        spool: bool = False,
    ) -> HttpResult:
        """GET `url` (conditionally when `previous` has validators: a volume stored, or one
        that failed to parse, whose failure is then known to hold).  Without a `policy`,
        `url`'s own origin is the only one allowed (redirects elsewhere are refused).
        `spool`: a 200 body goes to a temporary file (`HttpResult.path`), which the caller
        deletes (`HttpResult.discard`) or hands on; `close` removes any left."""
        headers: dict[str, str] = {}
        if previous is not None and previous.status in ("ok", "failed"):
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        policy = policy or OriginPolicy.for_url(url)
        return self._request("GET", url, headers, None, policy, spool)

    def post_form(
        self, url: str, form: Mapping[str, str], *, policy: OriginPolicy | None = None
    ) -> HttpResult:
        """POST a form once (never retried: it may hold a password).  A 307/308 answer, which
        would re-send the form, is not followed; 301/302/303 are followed as a GET, on the
        allowed origins only."""
        policy = policy or OriginPolicy.for_url(url)
        known = self.unreachable.get(_host(url))
        if known:
            return HttpResult(0, b"", "", "", "", error=known, requests=0)
        try:
            return self._attempt("POST", url, {}, form, policy, False)
        except _Failed as exc:
            logger.warning("%s", exc.message)
            if exc.host:
                self.unreachable[exc.host] = exc.message
            return HttpResult(0, b"", "", "", "", error=exc.message)

    def _request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        form: Mapping[str, str] | None,
        policy: OriginPolicy,
        spool: bool = False,
    ) -> HttpResult:
        known = self.unreachable.get(_host(url))
        if known:  # refused earlier in this run: fail at once, with the same reason
            logger.debug("%s not requested: %s", redact(url), known)
            return HttpResult(0, b"", "", "", "", error=known, requests=0)
        attempts = 0
        while True:
            attempts += 1
            try:
                result = self._attempt(method, url, headers, form, policy, spool)
            except _Failed as exc:
                if not exc.retry or attempts > self.retries:
                    shown = redact(url)
                    where = "" if shown in exc.message else f"{shown}: "
                    logger.warning("%s%s (after %d attempts)", where, exc.message, attempts)
                    if exc.host:
                        self.unreachable[exc.host] = exc.message
                    return HttpResult(0, b"", "", "", "", error=exc.message, requests=attempts)
            else:
                if result.status < 500 or attempts > self.retries:
                    return dataclasses.replace(result, requests=attempts)
                result.discard()
            time.sleep(0.2 * attempts)

    def _attempt(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        form: Mapping[str, str] | None,
        policy: OriginPolicy,
        spool: bool,
    ) -> HttpResult:
        """One request and its redirects, all within one deadline."""
        deadline = time.monotonic() + self.request_deadline
        shown = redact(url)
        current = url
        try:
            with self._backend.until(deadline):
                for _hop in range(self.max_redirects + 1):
                    if not policy.allows(current):
                        raise _Failed(_foreign(shown, current, policy), retry=False)
                    with self.client.stream(
                        method, current, headers=headers, data=form
                    ) as response:
                        target = _redirect_target(response)
                        if target is None:
                            return self._result(response, shown, deadline, spool)
                    if method == "POST":
                        if response.status_code in (307, 308):
                            raise _Failed(
                                f"{shown} answered the form with HTTP {response.status_code} "
                                f"to {redact(target)}: not followed, it would re-send the form "
                                "(and any password in it)",
                                retry=False,
                            )
                        method, form = "GET", None
                    current = target
                raise _Failed(
                    f"{shown}: more than {self.max_redirects} redirects (sync.max_redirects)",
                    retry=False,
                )
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline - _CLOCK_SLACK:
                raise _Failed(self._too_slow(shown), retry=False) from exc
            raise _Failed(f"timeout fetching {shown}", retry=True) from exc
        except httpx.ConnectError as exc:
            host = _host(current)
            raise _Failed(
                f"cannot connect to {host or shown}: {redact(str(exc))}", retry=True, host=host
            ) from exc
        except httpx.HTTPError as exc:
            raise _Failed(f"HTTP error for {shown}: {redact(str(exc))}", retry=True) from exc

    def _too_slow(self, shown: str) -> str:
        return f"{shown} took longer than {self.request_deadline:g} s (sync.request_deadline)"

    def _result(
        self, response: httpx.Response, shown: str, deadline: float, spool: bool
    ) -> HttpResult:
        status = response.status_code
        result = HttpResult(
            status=status,
            content=b"",
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
            content_type=response.headers.get("Content-Type", ""),
            error="" if status in (200, 304) else f"HTTP {status} for {shown}",
            url=str(response.url),
        )
        if status != 200:
            return result
        if not spool:
            body = _Body(None)
            self._read(response, shown, deadline, body)
            return dataclasses.replace(
                result,
                content=b"".join(body.chunks),
                size=body.size,
                sha256=body.hexdigest(),
                head=body.head,
            )
        path = self.spool.new_file(".download")
        try:
            with path.open("wb") as handle:
                body = _Body(handle)
                self._read(response, shown, deadline, body)
        except BaseException:
            discard(path)
            raise
        return dataclasses.replace(
            result, path=str(path), size=body.size, sha256=body.hexdigest(), head=body.head
        )

    def _read(self, response: httpx.Response, shown: str, deadline: float, body: _Body) -> None:
        """The whole body, streamed into `body`: bounded in size and time, and complete."""
        announced = response.headers.get("Content-Length", "")
        too_big = f"{shown} is larger than {self.max_bytes} bytes (sync.max_download_bytes)"
        if announced.isdigit() and int(announced) > self.max_bytes:
            raise _Failed(too_big, retry=False)
        try:
            for chunk in response.iter_bytes():
                if (
                    body.size + len(chunk) > self.max_bytes
                    or response.num_bytes_downloaded > self.max_bytes
                ):
                    raise _Failed(too_big, retry=False)
                if time.monotonic() > deadline:
                    raise _Failed(self._too_slow(shown), retry=False)
                body.add(chunk)
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            expected = f"of {announced} " if announced.isdigit() else ""
            raise _Failed(
                f"{shown}: the server closed the connection before the whole file arrived "
                f"({response.num_bytes_downloaded} {expected}bytes received)",
                retry=True,
            ) from exc


class _Body:
    """Where a body goes as it streams in: a spool file, or memory (`handle` None)."""

    def __init__(self, handle: BinaryIO | None) -> None:
        self.handle = handle
        self.chunks: list[bytes] = []
        self.size = 0
        self.head = b""
        self._digest = hashlib.sha256()

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._digest.update(chunk)
        if len(self.head) < HEAD:
            self.head += chunk[: HEAD - len(self.head)]
        if self.handle is None:
            self.chunks.append(chunk)
        else:
            self.handle.write(chunk)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def _redirect_target(response: httpx.Response) -> str | None:
    location = response.headers.get("Location")
    if response.status_code not in _REDIRECTS or not location:
        return None
    return str(response.url.join(location))


def _foreign(shown: str, target: str, policy: OriginPolicy) -> str:
    if redact(target) == shown:
        return f"{shown} is on another origin than the list's archive ({policy.describe()})"
    return f"{shown} redirects to {redact(target)}: not followed: {policy.refusal(target)}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
