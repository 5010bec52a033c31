"""Development scripts (not shipped in the wheel)."""
