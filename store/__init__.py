"""Durable SQLite store: the source of truth."""
