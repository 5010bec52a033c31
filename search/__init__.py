"""Search behind one interface (SQLite FTS5 embedded, Elasticsearch)."""

SQLITE_FILENAME = "search-fts.db"
"""The SQLite FTS5 index's file in the data directory (here, so that a caller that only checks
for the file imports no backend: `listarchive.app.refuse_store_over_index`)."""
