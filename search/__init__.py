"""Search behind one interface (SQLite FTS5 embedded, Elasticsearch)."""
