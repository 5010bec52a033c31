"""HTTP fetching with conditional GETs, retries and clear failure reasons."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

import httpx

from store.records import VolumeState

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int
    content: bytes
    etag: str
    last_modified: str
    content_type: str
    error: str = ""
    requests: int = 1

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error


class HttpFetcher:
    """A small wrapper over one `httpx.Client` shared by a sync run."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        user_agent: str = "listarchive",
        client: httpx.Client | None = None,
    ) -> None:
        self.retries = retries
        self.client = client or httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
        )

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, previous: VolumeState | None = None) -> HttpResult:
        headers: dict[str, str] = {}
        if previous is not None and previous.status == "ok":
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self.client.get(url, headers=headers)
            except httpx.TimeoutException:
                error = f"timeout fetching {url}"
            except httpx.ConnectError as exc:
                error = f"connection failed for {url}: {exc}"
            except httpx.HTTPError as exc:
                error = f"HTTP error for {url}: {exc}"
            else:
                if response.status_code >= 500 and attempts <= self.retries:
                    time.sleep(0.2 * attempts)
                    continue
                return HttpResult(
                    status=response.status_code,
                    content=response.content if response.status_code == 200 else b"",
                    etag=response.headers.get("ETag", ""),
                    last_modified=response.headers.get("Last-Modified", ""),
                    content_type=response.headers.get("Content-Type", ""),
                    error=""
                    if response.status_code in (200, 304)
                    else f"HTTP {response.status_code} for {url}",
                    requests=attempts,
                )
            if attempts > self.retries:
                logger.warning("%s (after %d attempts)", error, attempts)
                return HttpResult(0, b"", "", "", "", error=error, requests=attempts)
            time.sleep(0.2 * attempts)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
