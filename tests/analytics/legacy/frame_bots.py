"""The frame without bots as it was before issue 14's task DB4 (the kept threads found with
np.unique over the kept posts and a dict made of them, commit 3917c4e): the reference
`analytics.frame._without_bots` is compared with (tests/analytics/test_without_bots.py).  Kept
verbatim apart from its imports; not used by the application."""

from __future__ import annotations

from typing import cast

import numpy as np

from analytics.frame import Frame, Post
from analytics.frame_posts import PostSource


def _without_bots(frame: Frame, marked: frozenset[int]) -> Frame:
    """`frame` as the metrics see it: without the posts of the persons in `marked` (when the
    scope excludes bots), and counting those posts either way (`bot_posts`).  A frame with
    columns is filtered on them, its posts left to be made when read."""
    cols = frame.columns
    if not marked:
        bot_posts = 0
    elif cols is not None:
        bot_posts = int(np.isin(cols.persons, np.array(sorted(marked), np.int64)).sum())
    else:
        bot_posts = sum(1 for p in frame.posts if p.person in marked)
    if frame.scope.include_bots or not marked:
        found = frame.with_scope(frame.scope)
        found.bot_posts = bot_posts
        return found
    source = cast(PostSource, frame.source)
    kept_cols = None if cols is None else cols.without(marked)
    if kept_cols is None:
        posts = PostSource(_posts_without(source.get(), marked))
        kept = {p.thread for p in posts.get()}
    else:
        count = len(kept_cols.dates)
        posts = PostSource(make=lambda: _posts_without(source.get(), marked), count=count)
        table = kept_cols.thread_table
        kept = set(map(table.__getitem__, np.unique(kept_cols.threads).tolist()))
    return Frame(
        frame.scope,
        posts,
        frame.undated - sum(frame.undated_by.get(b, 0) for b in marked),
        {k: v for k, v in frame.persons.items() if k not in marked},
        {k: v for k, v in frame.threads.items() if k in kept},
        frame.list_names,
        undated_by={k: v for k, v in frame.undated_by.items() if k not in marked},
        bot_posts=bot_posts,
        columns=kept_cols,
    )


def _posts_without(posts: list[Post], marked: frozenset[int]) -> list[Post]:
    return [
        p._replace(parent_person=None) if p.parent_person in marked else p
        for p in posts
        if p.person not in marked
    ]
