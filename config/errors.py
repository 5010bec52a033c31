"""The configuration's one error."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration is invalid; the message says which setting and why."""
