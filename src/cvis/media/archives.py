"""Archives as containers: zip, tar (plain, gz, bz2, xz), 7z and single compressed streams.

Listing yields one media item per member, named ``outer.zip!inner/file.jpg``;
hostile members (bombs, encrypted, links) become items with their reason in
``error`` and are never read. Opening a member streams it; nothing is extracted.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO, cast

import py7zr
from py7zr.io import Py7zBytesIO, Py7zIO, WriterFactory

from cvis.media.items import MediaItem
from cvis.media.limits import IntakeLimits
from cvis.media.locate import (
    SEEKABLE,
    ContainerError,
    NotSeekable,
    Step,
    Where,
    open_member,
    register_container,
    register_lister,
)
from cvis.media.ranged import RangedFile

_STREAM_OPENERS: dict[str, Any] = {
    "gzip": lambda f: gzip.GzipFile(fileobj=f), "bzip2": bz2.BZ2File, "xz": lzma.LZMAFile,
}
_STREAM_SUFFIXES = {"gzip": (".gz", ".tgz"), "bzip2": (".bz2", ".tbz2"), "xz": (".xz", ".txz")}


def unsafe_name_flags(name: str) -> tuple[str, ...]:
    """Names that would escape an extraction folder are evidence of intent; say so."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return ("unsafe member name: absolute path",)
    if ".." in parts:
        return ("unsafe member name: path traversal",)
    return ()


def bomb_reason(size: int, packed: int, expanded_total: int, limits: IntakeLimits) -> str | None:
    if size > limits.ratio_floor and size > limits.max_ratio * max(packed, 1):
        return (f"zip bomb: expands {size // max(packed, 1)}:1, over the "
                f"{limits.max_ratio}:1 limit")
    if expanded_total > limits.max_archive_bytes:
        return f"zip bomb: archive expands past {limits.max_archive_bytes} bytes"
    return None


# --- zip -----------------------------------------------------------------------------------


class ZipContainer:
    def __init__(self, stream: BinaryIO, stack: ExitStack) -> None:
        self.zip = stack.enter_context(zipfile.ZipFile(stream))
        self.by_offset = {info.header_offset: info for info in self.zip.infolist()}

        self._stream = stream

    def open_member(self, step: Step) -> BinaryIO:
        info = self.by_offset[int(step[1])]
        if step[2:] == (SEEKABLE,):
            return self._in_place(info)
        return self.zip.open(info)  # type: ignore[return-value]

    def _in_place(self, info: zipfile.ZipInfo) -> BinaryIO:
        """A member stored uncompressed, as a window on the zip (a disk image seeks about;
        zipfile would re-read from the start on every seek back). Its CRC is not checked."""
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise NotSeekable("compressed or encrypted zip member")
        self._stream.seek(info.header_offset)
        header = self._stream.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise OSError("corrupt zip member header")
        start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") \
            + int.from_bytes(header[28:30], "little")
        return Window(self._stream, start, info.file_size)  # type: ignore[return-value]

    def close(self) -> None:
        self.zip.close()


class Window(RangedFile):
    """``size`` bytes of a seekable stream from ``start``, itself seekable; it seeks the stream
    before each read, so others may share the stream (zipfile does the same)."""

    def __init__(self, stream: BinaryIO, start: int, size: int) -> None:
        super().__init__()
        self._stream, self._start, self._size, self._pos = stream, start, size, 0

    def _read_range(self, pos: int, want: int) -> bytes:
        self._stream.seek(self._start + pos)
        data: bytes = self._stream.read(want)
        return data


def _zip_is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def list_zip(stream: BinaryIO, where: Where, limits: IntakeLimits) -> Iterator[MediaItem]:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise ContainerError("corrupt archive: not a readable zip directory") from None
    total = 0
    for info in archive.infolist():
        if info.is_dir():
            continue
        flags = unsafe_name_flags(info.filename)
        size, name = info.file_size, info.filename
        total += size
        if info.flag_bits & 0x1:
            yield where.listed(name, size, "encrypted: member is password-protected", flags)
        elif _zip_is_link(info):
            yield where.listed(name, size, "symbolic link: not followed", flags)
        elif reason := bomb_reason(size, info.compress_size, total, limits):
            yield where.listed(name, size, reason, flags)
        else:
            yield where.member(("zip", str(info.header_offset)), name, size, flags=flags)


# --- tar -----------------------------------------------------------------------------------


class TarContainer:
    def __init__(self, stream: BinaryIO, stack: ExitStack) -> None:
        self.tar = stack.enter_context(tarfile.open(fileobj=stream, mode="r:*"))

    def open_member(self, step: Step) -> BinaryIO:
        self.tar.fileobj.seek(int(step[1]))
        info = tarfile.TarInfo.fromtarfile(self.tar)
        member = self.tar.extractfile(info)
        if member is None:
            raise OSError(f"tar member at {step[1]} is not a regular file")
        return cast(BinaryIO, member)

    def close(self) -> None:
        self.tar.close()


def _tar_problem(info: tarfile.TarInfo) -> str | None:
    if info.issym():
        return f"symbolic link: not followed (to {info.linkname})"
    if info.islnk():
        return f"hard link: same content as {info.linkname}"
    return None if info.isfile() else "not a regular file"


def list_tar(stream: BinaryIO, where: Where, limits: IntakeLimits) -> Iterator[MediaItem]:
    packed = _remaining(stream)
    try:
        archive = tarfile.open(fileobj=stream, mode="r:*")
        total = 0
        for info in archive:
            if info.isdir():
                continue
            flags = unsafe_name_flags(info.name)
            total += info.size
            if problem := _tar_problem(info):
                yield where.listed(info.name, info.size, problem, flags)
            elif reason := bomb_reason(total, packed, total, limits):
                yield where.listed(info.name, info.size, reason, flags)
            else:
                yield where.member(("tar", str(info.offset)), info.name, info.size, flags=flags)
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError):
        raise ContainerError("corrupt archive: the tar listing is damaged or truncated") from None


def _remaining(stream: BinaryIO) -> int:
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end - here
    except (OSError, ValueError):
        return 0


# --- 7z ------------------------------------------------------------------------------------


class _Capture(WriterFactory):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.products: dict[str, Py7zBytesIO] = {}

    def create(self, filename: str) -> Py7zIO:
        product = Py7zBytesIO(filename, self.limit)
        self.products[filename] = product
        return product


class SevenZipContainer:
    """py7zr decompresses a solid block from its start, so members come into memory (bounded)."""

    def __init__(self, stream: BinaryIO, stack: ExitStack) -> None:
        self.archive = stack.enter_context(py7zr.SevenZipFile(stream, mode="r"))

    def open_member(self, step: Step) -> BinaryIO:
        name, limit = step[1], int(step[2])
        capture = _Capture(limit + 1)
        self.archive.reset()
        self.archive.extract(targets=[name], factory=capture)
        product = capture.products.get(name)
        if product is None:
            raise OSError(f"7z member {name} could not be read")
        product.seek(0)
        return io.BytesIO(product.read())

    def close(self) -> None:
        self.archive.close()


def list_7z(stream: BinaryIO, where: Where, limits: IntakeLimits) -> Iterator[MediaItem]:
    try:
        archive = py7zr.SevenZipFile(stream, mode="r")
        encrypted = archive.needs_password()
        entries = archive.list()
    except (py7zr.Bad7zFile, py7zr.PasswordRequired, EOFError, OSError, lzma.LZMAError) as exc:
        if isinstance(exc, py7zr.PasswordRequired):
            raise ContainerError("encrypted: archive names are password-protected") from None
        raise ContainerError("corrupt archive: not a readable 7z archive") from None
    packed, total = _remaining(stream) or 1, 0
    for entry in entries:
        if entry.is_directory:
            continue
        name, size = entry.filename, entry.uncompressed
        flags = unsafe_name_flags(name)
        total += size
        if encrypted:
            yield where.listed(name, size, "encrypted: member is password-protected", flags)
        elif entry.is_symlink:
            yield where.listed(name, size, "symbolic link: not followed", flags)
        elif reason := bomb_reason(total, packed, total, limits):
            yield where.listed(name, size, reason, flags)
        elif size > limits.max_in_memory_member:
            yield where.listed(name, size, "too large: 7z member over the in-memory limit", flags)
        else:
            yield where.member(("7z", name, str(size)), name, size, flags=flags)


# --- single compressed streams (file.gz, file.xz) -----------------------------------------


class CompressedStream:
    def __init__(self, stream: BinaryIO, stack: ExitStack) -> None:
        self.stream = stream

    def open_member(self, step: Step) -> BinaryIO:
        self.stream.seek(0)
        return cast(BinaryIO, _STREAM_OPENERS[step[1]](self.stream))

    def close(self) -> None:
        pass


def _is_tar(stream: BinaryIO, fmt: str) -> bool:
    stream.seek(0)
    try:
        with _STREAM_OPENERS[fmt](stream) as inner:
            head = inner.read(512)
        tarfile.TarInfo.frombuf(head, "utf-8", "surrogateescape")
        return True
    except (tarfile.TarError, EOFError, OSError, lzma.LZMAError, zlib.error):
        return False
    finally:
        stream.seek(0)


def list_compressed(
    stream: BinaryIO, fmt: str, where: Where, limits: IntakeLimits
) -> Iterator[MediaItem]:
    """A .tar.gz is a tar; a lone .gz holds one member named after the file."""
    if _is_tar(stream, fmt):
        yield from list_tar(stream, where, limits)
        return
    base = where.name.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    inner = next((base[: -len(s)] for s in _STREAM_SUFFIXES[fmt] if base.lower().endswith(s)), base)
    # The expanded size is unknown until read: the stream is cut at the ratio limit.
    cap = max(limits.ratio_floor, limits.max_ratio * (_remaining(stream) or 1))
    yield MediaItem(
        f"{where.name}!{inner or 'content'}", None,
        opener=partial(open_member, where.root, where.steps + (("stream", fmt),), cap),
    )


register_container("zip", ZipContainer)
register_container("tar", TarContainer)
register_container("7z", SevenZipContainer)
register_container("stream", CompressedStream)
register_lister("zip", lambda stream, _fmt, where, limits: list_zip(stream, where, limits))
register_lister("tar", lambda stream, _fmt, where, limits: list_tar(stream, where, limits))
register_lister("7z", lambda stream, _fmt, where, limits: list_7z(stream, where, limits))
for _fmt in _STREAM_OPENERS:
    register_lister(_fmt, list_compressed)
