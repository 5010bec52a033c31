"""A volume's gunzip (`ingest.mboxstream._gunzip`, ISA-L's inflate since task IN3) gives
exactly what `gzip.decompress` gives, member after member, whatever the chunks; damaged data
(a flipped byte, a cut member: the CRC and the end marker are checked) is a SourceError."""

from __future__ import annotations

import gzip
import random
import zlib

import pytest

from ingest.errors import SourceError
from ingest.mboxstream import _gunzip


def _members(rng: random.Random) -> tuple[bytes, bytes]:
    plain, packed = [], []
    for _ in range(rng.randrange(1, 4)):
        size = rng.choice([0, 1, 100, 70_000, 1_500_000])
        text = rng.randbytes(size // 10) + bytes(rng.choices(b"From x\n abc:>", k=size))
        plain.append(text)
        packed.append(gzip.compress(text, compresslevel=rng.choice([1, 6, 9]), mtime=0))
    return b"".join(plain), b"".join(packed)


def _chunks(data: bytes, rng: random.Random) -> list[bytes]:
    """`data` in pieces: small ones for its first 20,000 bytes (1 to 7 bytes: the headers and
    block boundaries cut anywhere), then big ones."""
    size = rng.choice([1, 7, 4096, 1 << 20])
    head = min(len(data), 20_000 if size < 1000 else 0)
    pieces = [data[i : min(i + size, head)] for i in range(0, head, size)]
    return pieces + [data[i : i + (1 << 20)] for i in range(head, len(data), 1 << 20)]


@pytest.mark.parametrize("seed", range(12))
def test_members_come_out_as_gzip_gives_them(seed: int) -> None:
    rng = random.Random(seed)
    plain, packed = _members(rng)
    assert gzip.decompress(packed) == plain
    out = list(_gunzip(_chunks(packed, rng), "u"))
    assert b"".join(out) == plain and all(len(piece) <= 1 << 20 for piece in out)
    assert b"".join(_gunzip([packed + b"trailing junk"], "u")) == plain  # as gzip ignores it


@pytest.mark.parametrize("seed", range(24))
def test_damaged_data_is_a_source_error(seed: int) -> None:
    rng = random.Random(seed)
    plain, packed = _members(rng)
    damaged = bytearray(packed)
    where = rng.randrange(10, len(packed) - 8)  # the deflate data or the CRC: not the header
    damaged[where] ^= 1 << rng.randrange(8)
    try:  # a flip in a later member's header may not matter (its time, its OS byte)
        expected: bytes | None = gzip.decompress(bytes(damaged))
    except (OSError, EOFError, zlib.error):
        expected = None
    if expected is None:
        with pytest.raises(SourceError, match="corrupt gzip data"):
            b"".join(_gunzip(_chunks(bytes(damaged), rng), "u"))
    else:
        assert b"".join(_gunzip(_chunks(bytes(damaged), rng), "u")) == expected
    with pytest.raises(SourceError, match="corrupt gzip data"):
        b"".join(_gunzip([packed[: len(packed) - rng.randrange(1, 8)]], "u"))
