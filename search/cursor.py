"""Opaque pagination cursors: what a backend needs to continue after a page."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from search.base import SearchQueryError


def encode_cursor(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise SearchQueryError("invalid page cursor") from exc
    if not isinstance(payload, dict):
        raise SearchQueryError("invalid page cursor")
    return payload
