"""Message and thread keys: the 10-bit table base32 gives base64's exact characters (task IN4)."""

from __future__ import annotations

import base64
import random

import pytest

from store.models import _b32, message_key, thread_key


def _reference(data: bytes, length: int) -> str:
    """The keys' encoding before task IN4: the stdlib's base32, lower case, cut."""
    return base64.b32encode(data[: (length * 5 + 7) // 8]).decode("ascii").lower()[:length]


def test_random_digests_encode_as_the_stdlib_does() -> None:
    rng = random.Random(14)
    digests = [bytes(32), b"\xff" * 32] + [rng.randbytes(32) for _ in range(20000)]
    for digest in digests:
        for length in (20, 15, 1, 2, 7, 8, 16, 50):
            assert _b32(digest, length) == _reference(digest, length), (digest.hex(), length)


@pytest.mark.parametrize(
    ("message_id_norm", "content_hash", "key"),
    [
        ("a@example.org", "0" * 64, "q4acxnw33563rrumt64m"),
        ("<x>", "abc", "o45sbyuqnkodmpsqzhyd"),
        ("\ud800@x", "h", "sx6qfmpr34xr5v6yvo7u"),
    ],
)
def test_message_keys_are_unchanged(message_id_norm: str, content_hash: str, key: str) -> None:
    # computed with the code before task IN4: stored keys must never change (scheme v1)
    assert message_key(message_id_norm, content_hash) == key


@pytest.mark.parametrize(
    ("root", "key"), [("root@example.org", "t2zfg5h5zt6s4qx6"), ("", "tewzovkersnaxfbz")]
)
def test_thread_keys_are_unchanged(root: str, key: str) -> None:
    assert thread_key(root) == key
