"""A new container kind is one file: its signature, its lister and its opener registered."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

import pytest

from cvis.media import locate, sniff
from cvis.media.folders import iter_media
from cvis.media.items import MediaItem
from cvis.media.limits import IntakeLimits
from cvis.media.locate import Step, Where

MAGIC = b"CVBUNDLE\n"  # a toy format: the magic, then "name<TAB>hex bytes" lines


def _members(stream: BinaryIO) -> dict[str, bytes]:
    lines = stream.read().split(b"\n")[1:]
    return {name.decode(): bytes.fromhex(body.decode())
            for name, _, body in (line.partition(b"\t") for line in lines if line)}


class Bundle:
    def __init__(self, stream: BinaryIO, stack: ExitStack) -> None:
        self.members = _members(stream)

    def open_member(self, step: Step) -> BinaryIO:
        return io.BytesIO(self.members[step[1]])

    def close(self) -> None:
        pass


def list_bundle(stream: BinaryIO, fmt: str, where: Where, limits: IntakeLimits
                ) -> Iterator[MediaItem]:
    for name, body in _members(stream).items():
        yield where.member(("cvbundle", name), name, len(body))


def test_a_registered_container_kind_is_listed_and_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locate.archive_lister("zip")  # the built-ins registered first, so they outlive the copies
    for module, name in ((sniff, "_EXTENSIONS"), (sniff, "_CLAIMED"), (locate, "_FACTORIES"),
                         (locate, "_LISTERS")):  # the toy kind is gone after this test
        monkeypatch.setattr(module, name, dict(getattr(module, name)))
    monkeypatch.setattr(sniff, "_PREFIXES", sniff._PREFIXES)
    sniff.register_signature(MAGIC, "cvbundle", "archive", {".cvb"})
    locate.register_container("cvbundle", Bundle)
    locate.register_lister("cvbundle", list_bundle)
    inner = b"PK\x05\x06" + b"\x00" * 18  # an empty zip inside: nesting works through it
    bundle = tmp_path / "seized.cvb"
    bundle.write_bytes(MAGIC + b"note.txt\t" + b"hello".hex().encode() + b"\n"
                       + b"empty.zip\t" + inner.hex().encode() + b"\n")
    items = {item.name: item for item in iter_media([tmp_path], IntakeLimits())}
    note = items[f"{bundle}!note.txt"]
    with note.open() as stream:
        assert stream.read() == b"hello"
    assert f"{bundle}!empty.zip" in items and items[f"{bundle}!empty.zip"].error is None
    assert not items[str(bundle)].error and not items[str(bundle)].flags


def test_no_module_pair_imports_each_other_in_index_and_media() -> None:
    """The registry (`media.locate`) knows no container module, `index.pdq_files` no index:
    any import, at the top or inside a function, counts."""
    import ast

    src = Path(__file__).resolve().parents[1] / "src"
    imports: dict[str, set[str]] = {}
    for area in ("index", "media"):
        for path in (src / "cvis" / area).glob("*.py"):
            names = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    names.add(node.module)
                elif isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
            imports[f"cvis.{area}.{path.stem}"] = names
    cycles = sorted((a, b) for a, names in imports.items() for b in names
                    if a < b and a in imports.get(b, set()))
    assert not cycles, cycles
