"""Charset handling: turn bytes and RFC 2047 header values into `str`, never failing.

Every function returns the decoded text plus a `fallback` boolean telling the caller that the
declared (or assumed) charset did not work and a guess was used; the parser turns that into the
`charset-fallback` flag.

Rules, in order:

* `gbk`/`cp936` are read as `gb18030`, and `gb2312` text that is not valid GB2312 (nor UTF-8)
  as `gb18030` too (the superset real senders actually use);
  `ks_c_5601-1987` and `euc-kr` as `cp949`; `unknown-8bit`/`x-unknown`/`8bit` mean "not said".
* ASCII or Latin-1 declared but bytes 0x80-0x9F present: the text is really windows-1252.
* No charset (or ASCII declared) and 8-bit bytes: UTF-8 when valid, else windows-1252.
* A declared charset whose bytes do not decode: UTF-8, then (for a mostly-right multi-byte
  text) the declared charset with replacement characters, then windows-1252, then Latin-1.
* An unknown charset name: UTF-8, then Latin-1.
"""

from __future__ import annotations

import binascii
import codecs
import re
from functools import lru_cache

__all__ = [
    "decode_bytes",
    "fix_iso2022_runs",
    "decode_header",
    "surrogates_to_bytes",
]

_ALIASES = {
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "iso-2022-jp": "iso2022_jp_ext",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-874": "cp874",
    "big5": "big5hkscs",
}
_UNSAID = frozenset({"", "unknown-8bit", "x-unknown", "unknown", "8bit", "default", "none"})
_ASCII_LIKE = frozenset({"ascii", "latin-1", "cp1252"})
_SINGLE_BYTE = frozenset(
    {f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16)}
    | {f"cp125{n}" for n in range(9) if n != 2}
    | {"koi8-r", "koi8-u", "mac-roman", "cp850", "cp437"}
)
_C1 = re.compile(rb"[\x80-\x9f]")
_MULTIBYTE = frozenset(
    {
        "gb2312",
        "gb18030",
        "cp949",
        "big5hkscs",
        "big5",
        "iso2022_jp_ext",
        "cp932",
        "euc_jp",
        "utf-8",
    }
)


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: read the offending bytes as windows-1252 (Latin-1 for holes)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return chunk.decode("cp1252", "ignore") if _try(chunk, "cp1252") else chunk.decode(
        "latin-1"
    ), error.end


codecs.register_error("listarchive-cp1252", _cp1252_bytes)

_ISO2022_RUN = re.compile(r"\x1b\$[@B(].*?(?:\x1b\([BJ]|$)", re.DOTALL | re.MULTILINE)


def fix_iso2022_runs(text: str) -> str:
    """Decode ISO-2022-JP escape runs embedded in otherwise decoded text."""

    def run(match: re.Match[str]) -> str:
        chunk = match.group(0)
        if not chunk.isascii():
            return chunk
        decoded = _try(chunk.encode("ascii"), "iso2022_jp_ext")
        return decoded if decoded is not None else _iso2022jp_via_cp932(chunk.encode("ascii"))

    return _ISO2022_RUN.sub(run, text)


def _iso2022jp_via_cp932(data: bytes) -> str:
    """ISO-2022-JP with vendor (NEC/IBM) kanji: map each JIS pair to Shift_JIS, read cp932."""
    out: list[str] = []
    mode = "ascii"
    index = 0
    while index < len(data):
        if data[index] == 0x1B and index + 2 < len(data):
            seq = data[index + 1 : index + 3]
            mode = "jis" if seq in (b"$B", b"$@") else "kana" if seq == b"(I" else "ascii"
            index += 3
            continue
        if mode == "jis" and index + 1 < len(data) and data[index] > 0x20:
            c1, c2 = data[index], data[index + 1]
            s1 = ((c1 + 1) >> 1) + (0x70 if c1 <= 0x5E else 0xB0)
            s2 = c2 + (0x1F if c1 % 2 else 0x7E)
            if c1 % 2 and c2 >= 0x60:
                s2 += 1
            out.append(bytes([s1 & 0xFF, s2 & 0xFF]).decode("cp932", "replace"))
            index += 2
            continue
        if mode == "kana" and 0x21 <= data[index] <= 0x5F:
            out.append(bytes([data[index] + 0x80]).decode("cp932", "replace"))
        else:
            out.append(chr(data[index]))
        index += 1
    return "".join(out)


@lru_cache(maxsize=256)
def _codec(charset: str) -> str | None:
    """Canonical Python codec name for a MIME charset label, or None when unknown."""
    label = charset.strip().strip("\"'").lower()
    label = label.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*en
    if label in _UNSAID:
        return ""
    label = _ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    if name in ("ascii", "us-ascii"):
        return "ascii"
    if name in ("iso8859-1", "latin-1", "latin_1"):
        return "latin-1"
    return _ALIASES.get(name, name)


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _undeclared(data: bytes) -> tuple[str, bool]:
    """8-bit bytes without a usable declaration: UTF-8 if valid, else windows-1252."""
    text = _try(data, "utf-8")
    if text is not None:
        return text, False
    text = _try(data, "cp1252")
    if text is not None:
        return text, False
    return data.decode("latin-1"), True


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode `data` declared as `charset`; returns (text, fallback_used)."""
    if data.isascii():
        if b"\x1b" in data:  # 7-bit ISO-2022 escapes, declared or not
            text = _try(data, "iso2022_jp_ext") or _try(data, "iso2022_kr")
            if text is not None:
                return text, False
            return _iso2022jp_via_cp932(data), True
        elif charset and "utf-7" in charset.lower():
            text = _try(data, "utf-7")
            if text is not None:
                return text, False
            return data.decode("utf-7", "replace"), True
        return data.decode("ascii"), False
    codec = _codec(charset or "")
    if codec == "":
        return _undeclared(data)
    if codec is None:
        text = _try(data, "utf-8")
        if text is not None:
            return text, True
        return data.decode("latin-1"), True
    if codec in _ASCII_LIKE or codec in _SINGLE_BYTE:
        if codec == "ascii":
            return _undeclared(data)
        # valid multi-byte UTF-8 is practically never intended as a single-byte charset
        text = _try(data, "utf-8")
        if text is not None:
            return text, True
        if codec in _SINGLE_BYTE:
            return data.decode(codec, "replace"), False
        if codec == "latin-1" and not _C1.search(data):
            return data.decode("latin-1"), False
        text = _try(data, "cp1252")
        if text is not None:
            return text, False
        return data.decode("latin-1"), codec == "cp1252"
    text = _try(data, codec)
    if text is not None:
        return text, False
    if codec.startswith("iso2022_jp") and data.isascii():
        return _iso2022jp_via_cp932(data), True
    # the declaration is wrong
    if codec != "utf-8":
        text = _try(data, "utf-8")
        if text is not None:
            return (fix_iso2022_runs(text) if "\x1b" in text else text), True
    else:  # mostly UTF-8 with stray single-byte characters
        text = data.decode("utf-8", "listarchive-cp1252")
        return text, True
    if codec == "gb2312":  # senders label GBK/GB18030 (or UTF-8) text as gb2312
        as_utf8 = data.decode("utf-8", "replace")
        high = sum(1 for ch in as_utf8 if ch > "\x7f")
        if as_utf8.count("\ufffd") * 10 <= high:
            return data.decode("utf-8", "listarchive-cp1252"), True
        text = _try(data, "gb18030")
        if text is not None:
            return text, True
    if codec in _MULTIBYTE:
        text = data.decode(codec, "replace")
        bad = text.count("\ufffd")
        as_utf8 = data.decode("utf-8", "replace")
        if as_utf8.count("\ufffd") < bad:  # really UTF-8 with a few stray bytes
            return data.decode("utf-8", "listarchive-cp1252"), True
        if bad * 50 <= len(text):
            return text, True
    if codec not in ("gb18030", "utf-8") and codec in _MULTIBYTE:
        text = _try(data, "gb18030")
        if text is not None:
            return text, True
    text = _try(data, "cp1252")
    if text is not None:
        return text, True
    return data.decode("latin-1"), True


def surrogates_to_bytes(value: str) -> bytes:
    """The original bytes of a header value the stdlib decoded with `surrogateescape`."""
    return value.encode("utf-8", "surrogateescape")


_CJK = re.compile(r"[\u3400-\u9fff\uac00-\ud7af]")
_HIGH_PAIR_ONLY = re.compile(rb"(?:[\x00-\x7f]|[\xa1-\xfe][\xa1-\xfe])*")


def _repair_latin1_mojibake(text: str) -> str:
    """Undo one classic accident: GB/UTF-8 bytes that were read as Latin-1 and re-encoded
    as UTF-8 (`Ô¬´Ï`).  Only applied when every non-ASCII character is Latin-1 and the
    re-encoded bytes decode to UTF-8 or (as byte pairs) to CJK ideographs."""
    if text.isascii() or any(ord(ch) > 0xFF for ch in text):
        return text
    raw = text.encode("latin-1")
    fixed = _try(raw, "utf-8")
    if fixed is not None:
        return fixed
    if _HIGH_PAIR_ONLY.fullmatch(raw):
        fixed = _try(raw, "gb18030")
        if fixed is not None and all(_CJK.match(ch) for ch in fixed if not ch.isascii()):
            return fixed
    return text


def _decode_raw_header(value: str) -> tuple[str, bool]:
    """A header value holding undeclared 8-bit bytes (as surrogates or as Latin-1 text)."""
    data = surrogates_to_bytes(value)
    text = _try(data, "utf-8")
    if text is not None:
        if "\x1b" in text:
            text = fix_iso2022_runs(text)
        return _repair_latin1_mojibake(text), False
    if _HIGH_PAIR_ONLY.fullmatch(data):
        guess = _try(data, "gb18030")
        if guess is not None and all(_CJK.match(ch) for ch in guess if not ch.isascii()):
            return guess, True
    return _undeclared(data)[0], True


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?(.*?)\?=", re.DOTALL)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _qdecode(text: str) -> bytes:
    data = text.replace("_", " ").encode("ascii", "surrogateescape")
    return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def _bdecode(text: str) -> bytes:
    data = re.sub(r"[^A-Za-z0-9+/]", "", text)
    data += "=" * (-len(data) % 4)
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        try:
            return binascii.a2b_base64(data[: len(data) - len(data) % 4 or None])
        except binascii.Error:
            return b""


def _literal(segment: str) -> tuple[str, bool]:
    if segment.isascii():
        if "\x1b" in segment:  # raw ISO-2022-JP in a header
            return fix_iso2022_runs(segment), False
        return segment, False
    if any("\udc80" <= ch <= "\udcff" for ch in segment):
        return _decode_raw_header(segment)
    return _repair_latin1_mojibake(segment), False


def decode_header(value: str) -> tuple[str, bool]:
    """Decode a raw header value (RFC 2047 words, raw 8-bit bytes); unfolded, one line.

    Returns (text, fallback_used).  Adjacent encoded words in the same charset are joined
    before decoding, so a multi-byte character split across two words survives.
    """
    if "\n" in value:
        value = _FOLD.sub("", value)
    if "=?" not in value:
        text, fallback = _literal(value)
        return _CONTROL.sub(" ", text).strip(), fallback
    out: list[str] = []
    fallback = False
    pending: bytearray = bytearray()
    pending_charset = ""
    pos = 0

    def flush() -> None:
        nonlocal fallback, pending_charset
        if pending:
            text, fb = decode_bytes(bytes(pending), pending_charset)
            fallback = fallback or fb
            out.append(text)
            pending.clear()
        pending_charset = ""

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        if between and not (pos and between.isspace()):
            flush()
            text, fb = _literal(between)
            fallback = fallback or fb
            out.append(text)
        charset = match.group(1).lower()
        data = _qdecode(match.group(3)) if match.group(2) in "qQ" else _bdecode(match.group(3))
        if pending and charset != pending_charset:
            flush()
        pending_charset = charset
        pending.extend(data)
        pos = match.end()
    flush()
    tail = value[pos:]
    if tail:
        text, fb = _literal(tail)
        fallback = fallback or fb
        out.append(text)
    return _CONTROL.sub(" ", "".join(out)).strip(), fallback
