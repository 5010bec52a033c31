"""A parsed query (`search.query`, which re-exports these): the nodes of its text expression
(`Term`, `And`, `Or`, `Not`) and the `Query` itself.

They behave as the frozen dataclasses they were (`search.frozen.Frozen`: `==` only between
records of one kind, `hash`, `repr`, no assignment; `Query._replace` for `dataclasses.replace`)
but cost nothing to create at import (issue 14, CLI start-up; tests/search/test_query_nodes.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from search.frozen import Frozen

if TYPE_CHECKING:
    from datetime import date


class Term(Frozen):
    """A word or phrase to match; `text` is lower-cased, `words` are its letter/digit runs."""

    __slots__ = __match_args__ = ("text", "words", "quoted")
    text: str
    words: tuple[str, ...]
    quoted: bool

    def __init__(self, text: str, words: tuple[str, ...], quoted: bool = False) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "words", words)
        object.__setattr__(self, "quoted", quoted)

    @property
    def phrase(self) -> bool:
        """True if the words must be adjacent (quoted, or one word with punctuation)."""
        return len(self.words) > 1


class And(Frozen):
    __slots__ = __match_args__ = ("items",)
    items: tuple[Node, ...]

    def __init__(self, items: tuple[Node, ...]) -> None:
        object.__setattr__(self, "items", items)


class Or(Frozen):
    __slots__ = __match_args__ = ("items",)
    items: tuple[Node, ...]

    def __init__(self, items: tuple[Node, ...]) -> None:
        object.__setattr__(self, "items", items)


class Not(Frozen):
    __slots__ = __match_args__ = ("item",)
    item: Node

    def __init__(self, item: Node) -> None:
        object.__setattr__(self, "item", item)


Node = Term | And | Or | Not


class Query(Frozen):  # a frozen record, not a dataclass (search.frozen; issue 14)
    """A parsed query: a text expression plus filters that apply to the whole of it."""

    __slots__ = __match_args__ = (
        "terms",
        "excluded",
        "lists",
        "after",
        "before",
        "from_terms",
        "subject_terms",
        "persons",
        "identities",
        "threads",
    )
    terms: tuple[Node, ...]
    """Required text expressions (AND); never contains a top-level `Not`."""
    excluded: tuple[Node, ...]
    """Expressions no result may match (the operand of each top-level exclusion)."""
    lists: tuple[str, ...]
    """Any of these lists (lower-case); empty means all lists."""
    after: date | None
    """Inclusive lower bound on the message date (UTC)."""
    before: date | None
    """Exclusive upper bound on the message date (UTC)."""
    from_terms: tuple[Term, ...]
    """Any of these senders: an exact address if it contains ``@``, else name/address words."""
    subject_terms: tuple[Term, ...]
    """All of these must occur in the subject."""
    persons: tuple[str, ...]
    """Sent by any of these persons (keys, lower-case, as written)."""
    identities: tuple[int, ...] | None
    """The sender identities `persons` resolve to (`resolve_persons`); None until resolved,
    and the builders refuse an unresolved ``person:`` filter."""
    threads: tuple[str, ...]
    """In any of these threads (thread ids, lower-case)."""

    def __init__(
        self,
        terms: tuple[Node, ...] = (),
        excluded: tuple[Node, ...] = (),
        lists: tuple[str, ...] = (),
        after: date | None = None,
        before: date | None = None,
        from_terms: tuple[Term, ...] = (),
        subject_terms: tuple[Term, ...] = (),
        persons: tuple[str, ...] = (),
        identities: tuple[int, ...] | None = None,
        threads: tuple[str, ...] = (),
    ) -> None:
        for name, value in (
            ("terms", terms),
            ("excluded", excluded),
            ("lists", lists),
            ("after", after),
            ("before", before),
            ("from_terms", from_terms),
            ("subject_terms", subject_terms),
            ("persons", persons),
            ("identities", identities),
            ("threads", threads),
        ):
            object.__setattr__(self, name, value)

    @property
    def text(self) -> Node | None:
        """The whole free-text expression (with exclusions as `Not`), or None if there is none."""
        items = self.terms + tuple(Not(node) for node in self.excluded)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(items)

    @property
    def has_filters(self) -> bool:
        return bool(
            self.lists
            or self.after
            or self.before
            or self.from_terms
            or self.subject_terms
            or self.persons
            or self.threads
        )

    @property
    def filter_only(self) -> bool:
        """True if nothing ranks the results (no required text or subject terms)."""
        return not self.terms and not self.subject_terms
