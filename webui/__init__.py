"""Web UI (Flask app factory)."""
