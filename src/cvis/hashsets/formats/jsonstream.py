"""Read the objects of one top-level JSON array without loading the document: bounded memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

CHUNK = 1 << 16
_decoder = json.JSONDecoder()


class JsonStreamError(ValueError):
    pass


class _Buffer:
    def __init__(self, stream: TextIO) -> None:
        self.stream, self.text, self.pos, self.eof = stream, "", 0, False

    def fill(self) -> bool:
        chunk = self.stream.read(CHUNK)
        self.text = self.text[self.pos :] + chunk
        self.pos = 0
        self.eof = not chunk
        return bool(chunk)

    def skip_space(self) -> str:
        """The next non-blank character ('' at end of input), not consumed."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return ""

    def decode(self) -> Any:
        self.skip_space()
        while True:
            try:
                value, end = _decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError:
                if self.fill() or not self.eof:
                    continue
                raise
            if end == len(self.text) and not self.eof and self.fill():
                continue  # a number may go on in the next chunk
            self.pos = end
            return value


def iter_array(stream: TextIO, key: str, header: dict[str, Any]) -> Iterator[Any]:
    """Yield the items of ``document[key]`` one by one; other top-level keys go into header."""
    buf = _Buffer(stream)
    if buf.skip_space() != "{":
        raise JsonStreamError("expected a JSON object at the top level")
    buf.pos += 1
    while (char := buf.skip_space()) not in ("}", ""):
        if char == ",":
            buf.pos += 1
            continue
        name = buf.decode()
        if buf.skip_space() != ":":
            raise JsonStreamError(f"expected ':' after key {name!r}")
        buf.pos += 1
        if name != key:
            header[name] = buf.decode()
            continue
        if buf.skip_space() != "[":
            raise JsonStreamError(f"{key!r} must be an array")
        buf.pos += 1
        while (char := buf.skip_space()) != "]":
            if char == "":
                raise JsonStreamError(f"unterminated {key!r} array")
            if char == ",":
                buf.pos += 1
                continue
            yield buf.decode()
        buf.pos += 1
