"""Learn pipermail article numbers (`<period>/NNNNNN.html`) so old links can be redirected.

The `.txt` volumes carry no article numbers; the archive's per-period date index does:
`<LI><A HREF="NNNNNN.html">subject</A> ... <I>author</I>`, one entry per message.  Each entry
is matched to a message the list holds from that period's volume:

1. by exact subject and author name (whitespace and case folded); an entry and a message that
   are each the only one with their key are a match;
2. a key shared by several entries (a thread's replies by one person, a weekly report) is
   resolved by the Message-ID: pipermail's article page carries the message's own Message-ID
   in its reply link (`mailto:...&In-Reply-To=<id>`), one extra request per such entry (skipped
   with `fetch_pages=False`);
3. what is left of such a key is paired in archive order: pipermail numbers articles in the
   order it archived them, which is the order of the period's volume;
4. then the same again with looser subjects (list tags and `Re:` removed) and with the subject
   alone (an author name the index shows differently).

Entries without a held message (and held messages without an entry, e.g. re-archived copies'
other numbers) are reported, not guessed.

The pages are asked for where the list's index really is (`index_url`: after a declared host
move, the new host) and on the origins the list allows only (`policy`), like its volumes.
"""

from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin

from ingest.http import HttpFetcher
from ingest.origins import OriginPolicy
from ingest.parse import normalise_msgid
from store import pipermail_map
from store.pipermail_map import PeriodMessage
from store.records import ListInfo
from store.store import Store

logger = logging.getLogger(__name__)

_ENTRY = re.compile(
    r"<li>\s*<a\s+href=\"?(\d+)\.html\"?\s*>(.*?)</a>(.*?)<i>(.*?)</i>",
    re.IGNORECASE | re.DOTALL,
)
_CHARSET = re.compile(rb"charset=[\"']?([A-Za-z0-9_-]+)", re.IGNORECASE)
_REPLY_ID = re.compile(r"mailto:[^\"'>]*?[?&]In-Reply-To=([^\"'&>]*)", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_WS = re.compile(r"\s+")
_LIST_TAG = re.compile(r"\[[^\]]*\]")
_REPLY_PREFIX = re.compile(r"^(?:(?:re|aw|fwd?|sv)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_NOT_WORD = re.compile(r"\W+")


@dataclass(frozen=True, slots=True)
class IndexEntry:
    number: int
    subject: str
    author: str


@dataclass(slots=True)
class PeriodResult:
    period: str
    entries: int = 0
    matched: int = 0
    unmatched: list[int] = field(default_factory=list)
    """Article numbers in the index without a held message."""
    unlisted: int = 0
    """Held messages of the period that no index entry names."""
    by_message_id: int = 0
    """Matches decided by the article page's Message-ID."""
    requests: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period,
            "entries": self.entries,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "unlisted": self.unlisted,
            "by_message_id": self.by_message_id,
            "requests": self.requests,
            "error": self.error,
        }


def decode_page(content: bytes) -> str:
    match = _CHARSET.search(content[:2048])
    encoding = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return content.decode(encoding, "replace")
    except LookupError:
        return content.decode("utf-8", "replace")


def _text(fragment: str) -> str:
    return _WS.sub(" ", html.unescape(_TAGS.sub("", fragment))).strip()


def parse_date_index(page: str) -> list[IndexEntry]:
    """The entries of a pipermail `date.html` (or thread/subject/author) page, in page order."""
    return [
        IndexEntry(int(number), _text(subject), _text(author))
        for number, subject, _between, author in _ENTRY.findall(page)
    ]


def article_message_id(page: str) -> str:
    """The Message-ID an article page gives in its reply link (normalised; '' if none)."""
    match = _REPLY_ID.search(page)
    if not match:
        return ""
    value = html.unescape(unquote(match.group(1))).strip()
    return normalise_msgid(value) if value else ""


def _strict_subject(subject: str) -> str:
    return _WS.sub(" ", subject).strip().casefold()


def _loose_subject(subject: str) -> str:
    text = _LIST_TAG.sub(" ", subject)
    previous = None
    while previous != text:
        previous = text
        text = _REPLY_PREFIX.sub("", _WS.sub(" ", text).strip())
        text = _LIST_TAG.sub(" ", text)
    return _NOT_WORD.sub(" ", text).strip().casefold()


def _author(name: str, addr: str = "") -> str:
    """As pipermail shows a sender: the name, else the address; `@` spelt ` at `."""
    shown = (name or addr).replace("@", " at ")
    return _WS.sub(" ", shown).strip().casefold()


EntryKey = Callable[[IndexEntry], str]
MessageKey = Callable[[PeriodMessage], str]

PASSES: tuple[tuple[EntryKey, MessageKey], ...] = (
    (
        lambda e: f"{_strict_subject(e.subject)}\0{_author(e.author)}",
        lambda m: f"{_strict_subject(m.subject)}\0{_author(m.from_name, m.from_addr)}",
    ),
    (
        lambda e: f"{_loose_subject(e.subject)}\0{_author(e.author)}",
        lambda m: f"{_loose_subject(m.subject)}\0{_author(m.from_name, m.from_addr)}",
    ),
    (lambda e: _loose_subject(e.subject), lambda m: _loose_subject(m.subject)),
)


@dataclass(slots=True)
class _Matcher:
    page_id: Callable[[int], str] | None
    result: PeriodResult
    found: dict[int, str] = field(default_factory=dict)

    def run(self, entries: Sequence[IndexEntry], messages: Sequence[PeriodMessage]) -> None:
        left_entries = list(entries)
        left_messages = list(messages)
        for index, (entry_key, message_key) in enumerate(PASSES):
            groups: dict[str, list[IndexEntry]] = defaultdict(list)
            for entry in left_entries:
                groups[entry_key(entry)].append(entry)
            candidates: dict[str, list[PeriodMessage]] = defaultdict(list)
            for message in left_messages:
                candidates[message_key(message)].append(message)
            used: set[str] = set()
            for key, group in groups.items():
                if key in candidates:
                    used.update(self._resolve(group, candidates[key], strict=index == 0))
            left_entries = [e for e in left_entries if e.number not in self.found]
            left_messages = [m for m in left_messages if m.key not in used]
        self.result.unmatched = sorted(e.number for e in left_entries)
        self.result.unlisted = len(left_messages)

    def _resolve(
        self, entries: list[IndexEntry], messages: list[PeriodMessage], *, strict: bool
    ) -> set[str]:
        """Match one key's entries to its messages; returns the message keys used.

        The article page's reply-link id decides when the key is shared (or only loosely
        equal); what it leaves open is paired in archive order.  Two numbers whose pages name
        one message (a re-archived copy listed twice) both lead to it."""
        used: set[str] = set()
        if self.page_id is not None and (len(entries) > 1 or len(messages) > 1 or not strict):
            for entry in entries:
                message = _named_by(self.page_id(entry.number), messages)
                if message is not None:
                    self.found[entry.number] = message.key
                    self.result.by_message_id += 1
                    used.add(message.key)
        rest = sorted((e for e in entries if e.number not in self.found), key=lambda e: e.number)
        free = [m for m in messages if m.key not in used]  # already in volume order
        for entry, message in zip(rest, free, strict=False):
            self.found[entry.number] = message.key
            used.add(message.key)
        return used


def _named_by(page_id: str, messages: Sequence[PeriodMessage]) -> PeriodMessage | None:
    """The message an article page's reply-link id names among `messages`, if it is sure.

    Mailman 2.1 puts the article's own Message-ID there; older releases put the article's
    In-Reply-To (its parent's id).  An id that is one message's own and another's parent
    says nothing; an id that is only parent of exactly one message names that message."""
    if not page_id:
        return None
    own = [m for m in messages if m.message_id_norm == page_id]
    children = [m for m in messages if page_id in m.in_reply_to]
    if len(own) == 1 and not children:
        return own[0]
    if len(children) == 1 and not own:
        return children[0]
    return None


def match_period(
    entries: Sequence[IndexEntry],
    messages: Sequence[PeriodMessage],
    page_id: Callable[[int], str] | None = None,
    result: PeriodResult | None = None,
) -> tuple[dict[int, str], PeriodResult]:
    """Match a period's index entries to held messages: article number -> message key."""
    outcome = result or PeriodResult(period="")
    outcome.entries = len(entries)
    matcher = _Matcher(page_id, outcome)
    matcher.run(entries, messages)
    outcome.matched = len(matcher.found)
    return matcher.found, outcome


def map_period(
    store: Store,
    info: ListInfo,
    period: str,
    fetcher: HttpFetcher,
    *,
    fetch_pages: bool = True,
    index_url: str = "",
    policy: OriginPolicy | None = None,
) -> PeriodResult:
    """Fetch one period's date index, match it and store the period's map (replacing it).

    A period whose index cannot be fetched keeps the map it had."""
    base = index_url or (info.url if info.url.endswith("/") else info.url + "/")
    policy = policy or OriginPolicy.for_url(base)
    result = PeriodResult(period=period)
    index = fetcher.get(urljoin(base, f"{period}/date.html"), policy=policy)
    result.requests += index.requests
    if not index.ok:
        result.error = index.error or f"HTTP {index.status}"
        return result
    entries = parse_date_index(decode_page(index.content))
    ids: dict[int, str] = {}

    def page_id(number: int) -> str:
        if number not in ids:
            page = fetcher.get(urljoin(base, f"{period}/{number:06d}.html"), policy=policy)
            result.requests += page.requests
            ids[number] = article_message_id(decode_page(page.content)) if page.ok else ""
        return ids[number]

    messages = pipermail_map.period_messages(store.conn, info.id, period)
    numbers, _ = match_period(entries, messages, page_id if fetch_pages else None, result)
    pipermail_map.replace_period(store.conn, info.id, period, numbers)
    logger.info(
        "%s %s: %d of %d index entries matched", info.name, period, result.matched, len(entries)
    )
    return result


def map_list(
    store: Store,
    info: ListInfo,
    fetcher: HttpFetcher,
    *,
    periods: Sequence[str] = (),
    fetch_pages: bool = True,
    index_url: str = "",
    policy: OriginPolicy | None = None,
) -> list[PeriodResult]:
    """Build or refresh the article map of a pipermail list: every stored volume (or the
    `periods` given).  `index_url`: where the list's index is (default its URL); `policy`:
    the origins its archive may be fetched from (default its URL's own)."""
    if info.source != "pipermail":
        raise ValueError(f"list {info.name} is not a pipermail archive")
    stored = sorted(
        name for name, state in store.volume_states(info.id).items() if state.status == "ok"
    )
    wanted = [p for p in stored if p in periods] if periods else stored
    policy = policy or OriginPolicy.for_url(info.url)
    return [
        map_period(
            store, info, p, fetcher, fetch_pages=fetch_pages, index_url=index_url, policy=policy
        )
        for p in wanted
    ]
