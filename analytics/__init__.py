"""Participation analytics over the store: engagement, cohorts, responses, the reply network,
per-person activity, the migration audit and roster reports.

Everything starts from a `Frame` (`analytics.frame.load_frame`): the posts of the lists in a
`Scope`, each with its person (`store.identities`), thread and the person it replies to.  Metric
functions are pure functions of a frame and a date window, so they are tested on small
hand-checked frames without a web server.  Reads only: analytics never writes to the store.
"""
