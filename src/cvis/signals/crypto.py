"""Cryptographic digests: exact-match signals, all computed from one read of the bytes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO, ClassVar

from cvis.signals.base import InvalidSignalValue, SignalType

CHUNK_SIZE = 1 << 20


class _HexDigestSignal(SignalType):
    hex_length: ClassVar[int]
    media_kinds = frozenset({"image", "video", "file"})

    @classmethod
    def validate(cls, value: str) -> str:
        normal = value.strip().lower()
        if len(normal) != cls.hex_length or not re.fullmatch(r"[0-9a-f]+", normal):
            raise InvalidSignalValue(
                f"{cls.name} must be {cls.hex_length} hexadecimal characters, got {value!r}"
            )
        return normal


class Md5Signal(_HexDigestSignal):
    name = "md5"
    hex_length = 32
    examples = ("d41d8cd98f00b204e9800998ecf8427e",)


class Sha1Signal(_HexDigestSignal):
    name = "sha1"
    hex_length = 40
    examples = ("da39a3ee5e6b4b0d3255bfef95601890afd80709",)


class Sha256Signal(_HexDigestSignal):
    name = "sha256"
    hex_length = 64
    examples = ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",)


@dataclass(frozen=True)
class CryptoDigests:
    size: int
    md5: str
    sha1: str
    sha256: str


class DigestAccumulator:
    """Feeds the same chunks to md5, sha1 and sha256 so the bytes are read once."""

    def __init__(self) -> None:
        self._hashers = (hashlib.md5(), hashlib.sha1(), hashlib.sha256())
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        for hasher in self._hashers:
            hasher.update(chunk)

    def result(self) -> CryptoDigests:
        md5, sha1, sha256 = (h.hexdigest() for h in self._hashers)
        return CryptoDigests(self.size, md5, sha1, sha256)


def digest_chunks(chunks: Iterable[bytes]) -> CryptoDigests:
    acc = DigestAccumulator()
    for chunk in chunks:
        acc.update(chunk)
    return acc.result()


def digest_stream(stream: BinaryIO) -> CryptoDigests:
    return digest_chunks(iter(lambda: stream.read(CHUNK_SIZE), b""))
