"""The query language's lexer (pure): query text to tokens; see `search.query` for the syntax.

Parentheses are counted here, so a query nested deeper than the parser's limit is refused
before anything recurses over it."""

from __future__ import annotations

from typing import Literal, NamedTuple

from search.base import SearchQueryError

FILTER_FIELDS = frozenset({"from", "person", "subject", "list", "thread", "after", "before"})

# --- tokens -----------------------------------------------------------------------------------

TokenKind = Literal["word", "phrase", "field", "or", "and", "not", "minus", "lparen", "rparen"]


class Token(NamedTuple):  # not a dataclass: ~1 ms less at import (issue 14, CLI start-up)
    kind: TokenKind
    text: str = ""
    field: str = ""
    quoted: bool = False
    start: int = 0
    """Where the token begins in the query text (`search.query_edit` cuts filters out)."""
    end: int = 0
    """Where it ends (exclusive)."""


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The text between the quote at `start` and the next quote, and the index after it."""
    end = text.find('"', start + 1)
    if end < 0:
        raise SearchQueryError('unbalanced quote: a phrase opened with " is never closed')
    return text[start + 1 : end], end + 1


def tokenize(text: str, max_depth: int) -> list[Token]:
    tokens: list[Token] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "(":
            tokens.append(Token("lparen"))
            depth += 1
            if depth > max_depth:
                raise SearchQueryError(
                    f"the query nests parentheses deeper than {max_depth} levels"
                )
            i += 1
        elif char == ")" and depth > 0:
            tokens.append(Token("rparen"))
            depth -= 1
            i += 1
        elif char == '"':
            value, i = _read_quoted(text, i)
            tokens.append(Token("phrase", value, quoted=True))
        elif char == "-" and i + 1 < n and (text[i + 1].isalnum() or text[i + 1] in '"('):
            tokens.append(Token("minus"))
            i += 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] != '"':
                end += 1
            word = text[i:end]
            closers = 0
            while depth - closers > 0 and word.endswith(")"):
                word = word[:-1]
                closers += 1
            start, i = i, end
            prefix, colon, rest = word.partition(":")
            field = prefix.lower()
            if colon and field in FILTER_FIELDS:
                if not rest and i < n and text[i] == '"':
                    rest, i = _read_quoted(text, i)
                    tokens.append(Token("field", rest, field, True, start, i))
                else:
                    tokens.append(Token("field", rest, field, False, start, start + len(word)))
            elif word in ("OR", "AND", "NOT"):
                kind: TokenKind = "or" if word == "OR" else "and" if word == "AND" else "not"
                tokens.append(Token(kind, start=start, end=start + len(word)))
            elif word:
                tokens.append(Token("word", word))
            tokens.extend(Token("rparen") for _ in range(closers))
            depth -= closers
    return tokens
