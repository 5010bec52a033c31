"""The facts and the /stats metrics as they were before issue 14's task VX (per-post Python
loops, commit 7a3c40a): the reference the vectorised `analytics.facts`, `analytics.activity`
and `analytics.responses` are compared with (tests/analytics/test_fast_facts.py).  Kept
verbatim apart from their imports; not used by the application."""
