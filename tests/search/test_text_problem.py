"""`search.index_guard.text_problem`: a document with a text no backend can encode (a lone
surrogate) is named by its first such field; one encode of all its texts answers for the
common document (issue 14), with the same answers as a check field by field."""

from __future__ import annotations

import dataclasses

import pytest

from search.base import IndexDoc
from search.index_guard import text_problem

_DOC = IndexDoc(
    key="k",
    message_id="<m@x>",
    lists=("web",),
    thread_id="t",
    from_name="Jürgen",
    from_addr="j@x.org",
    subject="Grüße",
    date=None,
    body_own="日本語 and ascii",
    body_quoted="",
    attachments=("a.txt",),
)


def test_a_document_of_valid_text_has_no_problem() -> None:
    assert text_problem(_DOC) == ""
    assert text_problem(dataclasses.replace(_DOC, from_name="", subject="", body_own="")) == ""


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": "bad \udcff"}, "subject"),
        ({"body_quoted": "\ud800"}, "body_quoted"),
        ({"attachments": ("ok.txt", "x\udc80.pdf")}, "attachments"),
        ({"lists": ("web", "\udfff")}, "lists"),
        # two bad fields: the first in the document's order is named
        ({"body_own": "\ud83d", "from_name": "\ude00"}, "from_name"),
        # a high and a low surrogate in two fields make no pair once joined
        ({"from_addr": "x\ud83d", "subject": "\ude00y"}, "from_addr"),
    ],
)
def test_the_first_field_that_cannot_be_encoded_is_named(
    changes: dict[str, object], field: str
) -> None:
    problem = text_problem(dataclasses.replace(_DOC, **changes))  # type: ignore[arg-type]
    assert problem.startswith(f"field {field}: UnicodeEncodeError: 'utf-8' codec can't encode")
