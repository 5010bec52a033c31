"""A message body cut into blocks for display, in order: own text, quoted text (consecutive
lines starting with `>`), and the signature after the last `-- ` line."""

from __future__ import annotations

from typing import Literal, TypedDict

BlockKind = Literal["text", "quote", "signature"]
SIGNATURE_MAX_LINES = 25
"""A `-- ` line further than this from the end is taken as text, not a signature marker."""


class Block(TypedDict):
    kind: BlockKind
    text: str


def _signature_start(lines: list[str]) -> int | None:
    for index in range(len(lines) - 1, max(-1, len(lines) - SIGNATURE_MAX_LINES - 2), -1):
        if lines[index] in ("-- ", "--"):
            return index
    return None


def split_body(body: str, *, signature: bool = True) -> list[Block]:
    """The blocks of `body`; `signature=False`: no signature is looked for (a body cut short
    has lost its real end)."""
    lines = body.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    tail: list[str] = []
    start = _signature_start(lines) if signature else None
    if start is not None:
        tail = lines[start + 1 :]
        lines = lines[:start]
    blocks: list[Block] = []
    kinds: list[BlockKind] = []
    for line in lines:
        kinds.append("quote" if line.lstrip().startswith(">") else "text")
    # a blank line between two quoted lines belongs to the quote
    for i, line in enumerate(lines):
        if not line.strip() and 0 < i < len(lines) - 1:
            before = next((kinds[j] for j in range(i - 1, -1, -1) if lines[j].strip()), None)
            after = next((kinds[j] for j in range(i + 1, len(lines)) if lines[j].strip()), None)
            if before == after == "quote":
                kinds[i] = "quote"
    current: list[str] = []
    current_kind: BlockKind | None = None
    for line, kind in zip(lines, kinds, strict=True):
        if kind != current_kind and current:
            blocks.append(_block(current_kind or "text", current))
            current = []
        current_kind = kind
        current.append(line)
    if current:
        blocks.append(_block(current_kind or "text", current))
    if any(line.strip() for line in tail):
        blocks.append(_block("signature", tail))
    return [b for b in blocks if b["text"].strip()]


def _block(kind: BlockKind, lines: list[str]) -> Block:
    return {"kind": kind, "text": "\n".join(lines).strip("\n")}
