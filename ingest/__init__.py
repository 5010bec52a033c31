"""Ingest: sources that fetch archives, the parser, and the sync pipeline."""
