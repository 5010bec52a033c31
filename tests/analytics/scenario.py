"""The hand-built scenario most unit tests share (times UTC; A = Alice, B = Bob, ...).

#   when              thread  who    replies to
1   2020-01-06 10:00  T1      Alice  -          Monday
2   2020-01-06 12:00  T1      Bob    1          Monday      first reply to T1 after 2 h
3   2020-01-07 09:00  T1      Alice  2          Tuesday
4   2020-01-20 08:00  T2      Carol  -          Monday      on lists alpha and beta
5   2020-02-03 15:00  T3      Bob    -          Monday
6   2020-02-04 15:00  T3      Bob    5          Tuesday     self-reply
7   2020-02-05 03:00  T3      Alice  5          Wednesday   first reply to T3 after 36 h
8   2020-03-10 11:00  T4      Dave   -          Tuesday
9   2020-03-11 11:00  T1      Carol  2          Wednesday
10  2020-03-12 11:00  T1      Alice  9          Thursday    Alice answers Bob and Carol in T1
11  2020-09-01 10:00  T5      Alice  -          Tuesday
"""

from __future__ import annotations

from datetime import date

from analytics.frame import Frame
from tests.analytics.framekit import build

ROWS: list[tuple[str, str, str, int | None] | tuple[str, str, str, int | None, tuple[int, ...]]] = [
    ("2020-01-06T10:00", "T1", "Alice", None),
    ("2020-01-06T12:00", "T1", "Bob", 1),
    ("2020-01-07T09:00", "T1", "Alice", 2),
    ("2020-01-20T08:00", "T2", "Carol", None, (1, 2)),
    ("2020-02-03T15:00", "T3", "Bob", None),
    ("2020-02-04T15:00", "T3", "Bob", 5),
    ("2020-02-05T03:00", "T3", "Alice", 5),
    ("2020-03-10T11:00", "T4", "Dave", None),
    ("2020-03-11T11:00", "T1", "Carol", 2),
    ("2020-03-12T11:00", "T1", "Alice", 9),
    ("2020-09-01T10:00", "T5", "Alice", None),
]


def scenario(start: date | None = None, end: date | None = None, undated: int = 0) -> Frame:
    return build(ROWS, start=start, end=end, undated=undated)


def person_id(frame: Frame, name: str) -> int:
    return next(p.id for p in frame.persons.values() if p.name == name)
