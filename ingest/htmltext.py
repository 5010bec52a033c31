"""HTML to readable plain text with the stdlib `html.parser`.

Script/style/head content is dropped, entities are decoded, whitespace is collapsed as a
browser would, block elements (p, br, div, li, tr, headings, ...) start new lines, `<pre>`
keeps its layout and `<blockquote>` content is prefixed with `> ` so the quote splitter
recognises it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_BLOCK = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "table",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "pre",
        "blockquote",
        "section",
        "article",
        "header",
        "footer",
        "address",
        "center",
        "form",
        "title",
    }
)
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "blockquote"})
_DROP = frozenset({"script", "style", "head", "noscript", "template", "xml"})
_SPACES = re.compile(r"[ \t\r\n\f\u00a0\u200b]+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.drop = 0
        self.pre = 0
        self.quote = 0
        self.line_quote = 0

    def _newline(self, blank: bool = False, hard: bool = False) -> None:
        """End the current line; `hard` (a <br>) keeps even an empty line, `blank` (a paragraph
        boundary) makes sure one empty line separates blocks."""
        text = "".join(self.current)
        text = text if self.pre else text.strip()
        if text or hard:
            self.lines.append(("> " * self.line_quote + text).rstrip())
        if blank and self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.current = []
        self.line_quote = self.quote

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.drop = 0
            return
        if tag in _DROP:
            self.drop += 1
            return
        if tag == "li":
            self._newline()
            self.current.append("- ")
            return
        if tag in _BLOCK:
            self._newline(blank=tag in _PARAGRAPH, hard=tag == "br")
        if tag == "pre":
            self.pre += 1
        elif tag == "blockquote":
            self.quote += 1
            self.line_quote = self.quote
        elif tag in ("td", "th") and self.current:
            self.current.append("\t")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._newline(hard=tag == "br")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self.drop = max(0, self.drop - 1)
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in _BLOCK and tag != "br":
            self._newline(blank=tag in _PARAGRAPH)
        if tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self.line_quote = self.quote

    def handle_data(self, data: str) -> None:
        if self.drop:
            return
        if self.pre:
            parts = data.split("\n")
            for index, part in enumerate(parts):
                if index:
                    self._newline()
                self.current.append(part)
            return
        text = _SPACES.sub(" ", data)
        if not text.strip() and (not self.current or self.current[-1].endswith(" ")):
            return
        if not self.current:
            text = text.lstrip()
        self.current.append(text)

    def result(self) -> str:
        self._newline()
        text = "\n".join(self.lines)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return text.strip("\n")


def html_to_text(markup: str) -> str:
    """Readable text of an HTML document or fragment (never raises)."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup can trip the parser
        return _SPACES.sub(" ", re.sub(r"<[^>]*>", " ", markup)).strip()
    return parser.result()
