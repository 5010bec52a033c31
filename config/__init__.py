"""Settings declared once, layered and checked at start-up."""
