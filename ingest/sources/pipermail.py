"""Mailman 2 pipermail archives: the index page, then one text volume per period.

Volumes are monthly (`2008-May`), quarterly (`2016q1`), yearly (`1997`) or weekly
(`Week-of-Mon-20080505`), linked as `.txt.gz` or (the current period, not yet gzipped) `.txt`.
Mailman appends to the plain `.txt` and regenerates the `.txt.gz` from it by cron, so a
`.txt.gz` can be stale: when both exist the plain `.txt` is used.  Whether a server keeps the
plain twins of its gzipped volumes is learned once per list: the first volume linked only as
`.txt.gz` is asked as `.txt` first (one probe); the answer is remembered in the list's volume
states (a gzip-only volume stored from its `.txt.gz` says there are none), so the others are
asked where they are.  Later syncs make one conditional request to the URL that worked.

A private archive (`/mailman/private/<list>/`) is logged in to first (see `mailman_auth`); the
session cookie then rides along with every volume request, and a session that expires during
a sync is renewed once.  A list re-pointed at another host keeps its volume states, but a
volume whose URL changed is fetched in full once (the old host's ETag says nothing about the
new one); identical bytes are then recognised by their sha256 and not parsed again.

The index page is untrusted: only volumes on the list's own origin (or one declared for it,
see `ingest.origins`) are fetched; links elsewhere are skipped with a warning in the run.  Its
links are relative to where the index really came from: an archive that moved to a declared
host, whose old host redirects the index only, is read from the new host.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from urllib.parse import urljoin

from config.secrets import ArchiveCredentials, SecretsError
from ingest.errors import SourceError
from ingest.http import HttpFetcher
from ingest.origins import OriginPolicy
from ingest.sources.base import Download, Volume, carry, remembered, split_text_volume
from ingest.sources.mailman_auth import LoginResult, is_login_form, is_private_url, login
from store.models import RawMessage
from store.records import VolumeState
from store.redact import redact

logger = logging.getLogger(__name__)

_MONTHS = {name: number for number, name in enumerate(calendar.month_name) if name}
_LINK = re.compile(r"""href\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_VOLUME = re.compile(
    r"^(?P<name>(?P<year>\d{4})-(?P<month>[A-Z][a-z]+)|(?P<qyear>\d{4})q(?P<quarter>[1-4])"
    r"|(?P<yyear>\d{4})|Week-of-Mon-(?P<week>\d{8}))\.txt(?P<gz>\.gz)?$"
)


def volume_sort_key(name: str) -> tuple[int, int, int]:
    """(year, month, day) of a volume's first day, for ordering oldest first."""
    match = _VOLUME.match(name + ".txt")
    if not match:
        return (9999, 99, 99)
    if match["year"]:
        return (int(match["year"]), _MONTHS.get(match["month"], 0), 1)
    if match["qyear"]:
        return (int(match["qyear"]), 3 * int(match["quarter"]) - 2, 1)
    if match["yyear"]:
        return (int(match["yyear"]), 1, 1)
    week = match["week"]
    return (int(week[:4]), int(week[4:6]), int(week[6:]))


def _volume_links(html: str, base_url: str) -> Iterator[tuple[str, str, bool]]:
    """(volume name, absolute URL, gzipped) of every archive volume link on a page."""
    for href in _LINK.findall(html):
        target = href.split("?", 1)[0].split("#", 1)[0]
        filename = target.rsplit("/", 1)[-1]
        match = _VOLUME.match(filename)
        if not match:
            continue
        if match["month"] and match["month"] not in _MONTHS:
            continue
        yield match["name"], urljoin(base_url, target), bool(match["gz"])


def parse_index(html: str, base_url: str, policy: OriginPolicy | None = None) -> list[Volume]:
    """Find every archive volume linked from a pipermail index page (or a directory listing);
    with a `policy`, only those on an origin it allows (see `foreign_links`)."""
    found: dict[str, tuple[str, bool]] = {}
    for name, url, gz in _volume_links(html, base_url):
        if policy is not None and not policy.allows(url):
            continue
        previous = found.get(name)
        if previous is None or (previous[1] and not gz):
            found[name] = (url, gz)
    volumes = []
    for name, (url, gz) in found.items():
        # The current period is linked as plain .txt until cron gzips it; older ones as .txt.gz
        # (whose plain twin is fresher when it exists).  Try .txt, fall back to .txt.gz.
        plain = url[: -len(".gz")] if gz else url
        volumes.append(Volume(name=name, url=plain, fallback_url=plain + ".gz"))
    volumes.sort(key=lambda v: volume_sort_key(v.name))
    return volumes


def gzip_only(html: str, base_url: str) -> set[str]:
    """The names of the volumes a page links as `.txt.gz` only (no plain `.txt` link)."""
    plain: set[str] = set()
    gzipped: set[str] = set()
    for name, _url, gz in _volume_links(html, base_url):
        (gzipped if gz else plain).add(name)
    return gzipped - plain


def plain_twins(states: Iterable[VolumeState], gz_only: set[str]) -> bool | None:
    """Whether the server keeps plain `.txt` twins of the volumes it links as `.txt.gz` only,
    as earlier syncs learned it (None: not known yet)."""
    for state in states:
        if state.name in gz_only and state.status == "ok" and state.url:
            return not state.url.endswith(".gz")
    return None


def foreign_links(html: str, base_url: str, policy: OriginPolicy) -> list[str]:
    """The volume links of a page that point to an origin `policy` does not allow."""
    links = (url for _name, url, _gz in _volume_links(html, base_url))
    return sorted({url for url in links if not policy.allows(url)})


MAX_SESSION_RENEWALS = 3
"""Logins after the first one in one run before volumes fail (a server that drops cookies;
`sync.max_login_renewals`)."""

CredentialLookup = Callable[[], ArchiveCredentials | None]
"""Finds a private archive's login when it is needed (may raise `SecretsError`)."""


class PipermailSource:
    kind = "pipermail"

    def __init__(
        self,
        url: str,
        fetcher: HttpFetcher,
        *,
        list_name: str = "",
        credentials: CredentialLookup | None = None,
        allow_origins: Sequence[str] = (),
        max_renewals: int = MAX_SESSION_RENEWALS,
    ) -> None:
        self.base_url = url if url.endswith("/") else url + "/"
        self.max_renewals = max_renewals
        self.fetcher = fetcher
        self.list_name = list_name or redact(self.base_url)
        self.policy = OriginPolicy.for_url(self.base_url, allow_origins)
        """Where this list's requests may go: its URL's origin and the declared ones."""
        self.index_url = self.base_url
        """Where the index page came from (after redirects): its links are relative to it."""
        self.index_requests = 0
        """Requests the last `index` made (a login counts one)."""
        self.warnings: list[str] = []
        """Said once per run: index links that were not followed."""
        self.credentials = credentials
        self.private = is_private_url(self.base_url)
        self._login: ArchiveCredentials | None = None
        self._renewals = 0
        self._states: dict[str, VolumeState] = {}
        self._gz_only: set[str] = set()
        self.plain_twins: bool | None = None
        """Whether plain `.txt` twins of the gzip-only volumes exist (None: not learned yet)."""

    def remember(self, states: dict[str, VolumeState]) -> None:
        """What earlier syncs learned of this list (its volume states), before `volumes`."""
        self._states = dict(states)

    def _log_in(self) -> LoginResult:
        """Log in to the private archive; returns the index page Mailman answers with."""
        if self._login is None:
            try:
                found = self.credentials() if self.credentials is not None else None
            except SecretsError as exc:
                raise SourceError(
                    redact(self.base_url), f"credentials for {self.list_name}: {exc}"
                ) from exc
            if found is None:
                raise SourceError(
                    redact(self.base_url),
                    f"{self.list_name} is a private archive and no login is configured: see "
                    "docs/configuration.md (private archives)",
                )
            self._login = found
        return login(self.fetcher, self.list_name, self.base_url, self._login, self.policy)

    def index(self) -> str:
        """The index page (logged in first for a private archive); sets `index_url`."""
        if self.private:
            logged_in = self._log_in()
            content, final = logged_in.index_html, logged_in.url
            self.index_requests = logged_in.requests
        else:
            result = self.fetcher.get(self.base_url, policy=self.policy)
            if not result.ok:
                shown = redact(self.base_url)
                raise SourceError(shown, result.error or f"HTTP {result.status}")
            content, final = result.content, result.url
            self.index_requests = result.requests
        # every hop of a redirect was on an allowed origin (the fetcher checks each one)
        self.index_url = final or self.base_url
        if self.index_url != self.base_url:
            logger.info("%s: the index is at %s", self.list_name, redact(self.index_url))
        return content.decode("utf-8", "replace")

    def volumes(self) -> list[Volume]:
        html = self.index()
        volumes = parse_index(html, self.index_url, self.policy)
        self._gz_only = gzip_only(html, self.index_url)
        if self.plain_twins is None:
            self.plain_twins = plain_twins(self._states.values(), self._gz_only)
        self.warnings = [
            f"not fetched: the index links {redact(url)}: {self.policy.refusal(url)}"
            for url in foreign_links(html, self.index_url, self.policy)
        ]
        for warning in self.warnings:
            logger.warning("%s: %s", self.list_name, warning)
        logger.info("%s: %d volumes listed", redact(self.base_url), len(volumes))
        return volumes

    def download(self, volume: Volume, previous: VolumeState | None) -> Download:
        urls = [volume.url] + ([volume.fallback_url] if volume.fallback_url else [])
        if previous is not None and previous.url in urls:
            # fetch the URL that worked last time first
            urls.remove(previous.url)
            urls.insert(0, previous.url)
        elif volume.name in self._gz_only and self.plain_twins is False and volume.fallback_url:
            urls = [volume.fallback_url]  # this server keeps no plain twins: no 404 to ask
        probe = previous is None and volume.name in self._gz_only and self.plain_twins is None
        requests = 0
        error = ""
        for url in urls:
            # validators only hold for the URL they came from: a list re-pointed at another
            # host is fetched in full once (then compared by sha256)
            same_url = previous if previous is not None and previous.url == url else None
            result = self.fetcher.get(url, same_url, policy=self.policy, spool=True)
            requests += result.requests
            if self.private and result.status == 200 and is_login_form(result.head):
                result.discard()
                # the session ended (Mailman's cookie lifetime): log in again, a few times a run
                self._renewals += 1
                if self._renewals > self.max_renewals:
                    error = f"the archive keeps asking for a login at {redact(url)}"
                    break
                logger.info("%s: archive session expired, logging in again", self.list_name)
                try:
                    self._log_in()
                except SourceError as exc:
                    return Download(volume, "failed", error=exc.reason, requests=requests + 1)
                result = self.fetcher.get(url, same_url, policy=self.policy, spool=True)
                requests += result.requests + 1
            now = datetime.now(UTC).replace(microsecond=0).isoformat()
            if result.status == 304 and same_url is not None:
                return Download(volume, "unchanged", state=same_url, requests=requests)
            if probe and url == volume.url and result.status in (200, 304, 404):
                self.plain_twins = result.status != 404
                logger.info(
                    "%s: plain .txt volumes %s beside the .txt.gz ones",
                    self.list_name,
                    "exist" if self.plain_twins else "do not exist",
                )
            if result.status == 404 and url != urls[-1]:
                continue
            if not result.ok:
                error = result.error or f"HTTP {result.status} for {redact(url)}"
                break
            state = VolumeState(
                name=volume.name,
                url=url,
                etag=result.etag,
                last_modified=result.last_modified,
                sha256=result.sha256,
                size=result.size,
                fetched_at=now,
            )
            if remembered(previous) and previous is not None and previous.sha256 == state.sha256:
                result.discard()
                return Download(
                    volume, "unchanged", state=carry(previous, state), requests=requests
                )
            if "html" in result.content_type.lower() and not result.head.startswith(b"From "):
                result.discard()
                error = f"an HTML page was served instead of an archive at {redact(url)}"
                break
            return Download(
                volume,
                "fetched",
                state=state,
                requests=requests,
                path=result.path,
                temporary=True,
            )
        return Download(volume, "failed", error=error, requests=requests)

    @staticmethod
    def split(volume: Volume, data: bytes) -> Iterator[RawMessage]:
        return split_text_volume(volume, data)
