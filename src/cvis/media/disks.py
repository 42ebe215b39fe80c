"""Forensic disk images (raw/dd and E01) read through their file systems with The Sleuth Kit.

Files are named ``disk.E01!/Users/x/file.jpg`` (``disk.img!/partition2/...`` when the
image holds several partitions). Deleted files whose content is still there are
listed and flagged; deleted names whose content is gone are listed with an error.

TSK and libewf read through Python streams, so an image is read where it lives: a local
file, an object in a store (ranged reads, an E01's segments found beside it) or a zip
member stored uncompressed; nothing is copied.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from functools import partial
from typing import Any, BinaryIO

from cvis.media.items import MediaItem
from cvis.media.locate import Step, open_container, open_member, register_container
from cvis.media.objects import ObjectFile, SegmentMissing, segment_uris

try:  # optional at import so a machine without the bindings still lists everything else
    import pytsk3
except ImportError:  # pragma: no cover - depends on the machine
    pytsk3 = None
try:
    import pyewf
except ImportError:  # pragma: no cover
    pyewf = None

DELETED = "deleted: recovered from unallocated space, content may be partly overwritten"
TRUNCATED = "disk image truncated: part of this file lies past its end (missing or zeros)"
_FAT_VIRTUAL = {"$MBR", "$FAT1", "$FAT2"}


class DiskImageError(OSError):
    """The image cannot be opened, in words an examiner can act on (a segment missing)."""


def tsk_available() -> str | None:
    """None when disk images can be read, else why not."""
    return None if pytsk3 is not None else "pytsk3 is not installed"


if pytsk3 is not None:

    class _StreamImage(pytsk3.Img_Info):
        """A disk image TSK reads through a Python stream (a raw file or an EWF handle)."""

        def __init__(self, stream: Any, size: int) -> None:
            self._stream, self._size = stream, size
            super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

        def close(self) -> None:
            pass

        def read(self, offset: int, size: int) -> bytes:
            self._stream.seek(offset)
            return self._stream.read(size)

        def get_size(self) -> int:
            return self._size


def open_ewf(path: str, stack: ExitStack) -> Any:
    """An E01 image (all its segments) as a readable, seekable handle."""
    if pyewf is None:
        raise OSError("libewf-python is not installed")
    handle = pyewf.handle()
    handle.open(pyewf.glob(path))
    stack.callback(handle.close)
    return handle


def _ewf_handle(stream: BinaryIO, stack: ExitStack) -> Any:
    """The E01 whose first segment is ``stream``: a local file with its segments beside it,
    an object with its segments beside it in the store, or one stream (inside a zip)."""
    name = getattr(stream, "name", None)
    if isinstance(stream, ObjectFile):
        try:
            uris = segment_uris(stream.name)
        except SegmentMissing as exc:
            raise DiskImageError(str(exc)) from None
        segments: list[Any] = [stream if uri == stream.name else stack.enter_context(
            ObjectFile(uri, stream.cache)) for uri in uris]
    elif isinstance(name, str) and os.path.isfile(name):
        return open_ewf(name, stack)
    else:
        segments = [stream]
    if pyewf is None:
        raise OSError("libewf-python is not installed")
    handle = pyewf.handle()
    handle.open_file_objects(segments)
    stack.callback(handle.close)
    return handle


def open_ewf_object(uri: str, stack: ExitStack) -> Any:
    """An E01 in a store (all its segments, found beside it) as a readable, seekable handle,
    read in place."""
    stream: Any = stack.enter_context(ObjectFile(uri))
    return _ewf_handle(stream, stack)


INCOMPLETE = ("E01 segment set incomplete or damaged: the end of the media cannot be read (a "
              "last segment missing?); files in the part that reads are listed")


def _incomplete(handle: Any) -> str | None:
    """Why the E01 is not whole, if its last chunk does not read: libewf opens a set whose last
    segments are missing and fails only on reading their part of the media."""
    size = handle.get_media_size()
    try:
        handle.read_buffer_at_offset(1, size - 1) if size else None
    except OSError:
        return INCOMPLETE
    return None


def _image(stream: BinaryIO, fmt: str, stack: ExitStack) -> tuple[Any, str | None]:
    """The image TSK reads, and what is wrong with it as a whole (if anything)."""
    if fmt == "e01":
        handle = _ewf_handle(stream, stack)
        return _StreamImage(handle, handle.get_media_size()), _incomplete(handle)
    size = stream.seek(0, io.SEEK_END)
    return _StreamImage(stream, size), None


def _file_systems(image: Any) -> list[tuple[str, int]]:
    """(name prefix, byte offset) of each file system: partitions, or the whole image."""
    try:
        volume = pytsk3.Volume_Info(image)
    except (OSError, RuntimeError):  # RuntimeError: a read failed (an E01 missing its end)
        return [("", 0)]
    block = volume.info.block_size
    starts = [p.start * block for p in volume if p.flags == pytsk3.TSK_VS_PART_FLAG_ALLOC]
    if len(starts) == 1:
        return [("", starts[0])]
    return [(f"/partition{n}", start) for n, start in enumerate(starts, 1)]


class DiskContainer:
    def __init__(self, stream: BinaryIO, stack: ExitStack, fmt: str = "raw") -> None:
        self.image, self.problem = _image(stream, fmt, stack)
        self._fs: dict[int, Any] = {}

    def fs(self, offset: int) -> Any:
        if offset not in self._fs:
            self._fs[offset] = pytsk3.FS_Info(self.image, offset=offset)
        return self._fs[offset]

    def open_member(self, step: Step) -> BinaryIO:
        tsk_file = self.fs(int(step[1])).open_meta(inode=int(step[2]))
        return io.BufferedReader(_TskFile(tsk_file), 1 << 20)

    def close(self) -> None:
        pass


class _TskFile(io.RawIOBase):
    def __init__(self, tsk_file: Any) -> None:
        self._file, self._pos = tsk_file, 0
        self._size = tsk_file.info.meta.size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        data = self._file.read_random(self._pos, want)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def _entry_name(entry: Any) -> str:
    return entry.info.name.name.decode("utf-8", "replace")


def _is_deleted(entry: Any) -> bool:
    name_gone = entry.info.name.flags & pytsk3.TSK_FS_NAME_FLAG_UNALLOC
    meta = entry.info.meta
    return bool(name_gone or (meta is not None and meta.flags & pytsk3.TSK_FS_META_FLAG_UNALLOC))


def _skips_system_files(fs: Any) -> bool:
    """FAT and NTFS keep file-system records as root files named $...; they are not evidence."""
    return bool(int(fs.info.ftype) & (pytsk3.TSK_FS_TYPE_FAT_DETECT
                                      | pytsk3.TSK_FS_TYPE_NTFS_DETECT))


def _is_system(name: str) -> bool:
    """TSK's made-up FAT entries and NTFS metadata files; orphaned deleted files are kept."""
    if name.endswith("(Volume Label Entry)") or name in _FAT_VIRTUAL:
        return True
    return name.startswith("$") and name != "$OrphanFiles"


def _walk(
    directory: Any, path: str, seen: set[int], skip_system: bool = False
) -> Iterator[tuple[str, Any]]:
    """(path, entry) for every regular file; each directory is entered once (no loops)."""
    for entry in directory:
        name = _entry_name(entry)
        if name in (".", "..") or (skip_system and _is_system(name)):
            continue
        meta = entry.info.meta
        if meta is not None and meta.type == pytsk3.TSK_FS_META_TYPE_DIR:
            if meta.addr in seen:
                continue
            seen.add(meta.addr)
            try:
                yield from _walk(entry.as_directory(), f"{path}/{name}", seen)
            except OSError:
                continue  # a deleted directory whose entries are gone
        elif meta is None or meta.type == pytsk3.TSK_FS_META_TYPE_REG:
            yield f"{path}/{name}", entry


def probe(root: str, steps: tuple[Step, ...] = ()) -> bool:
    """Whether TSK finds a file system in the raw image that ``steps`` lead to in ``root``."""
    try:
        container = open_container(root, steps, "raw")
        for _prefix, offset in _file_systems(container.image):  # type: ignore[attr-defined]
            container.fs(offset)  # type: ignore[attr-defined]
            return True
    except OSError:
        return False
    return False


def list_disk(root: str, steps: tuple[Step, ...], fmt: str, image: MediaItem
              ) -> Iterator[MediaItem]:
    """Every file in every file system of the image that ``steps`` lead to in ``root``; then
    the image itself (no digests) when something is wrong with it as a whole."""
    container: Any = open_container(root, steps, fmt)
    yield from _files(container, root, steps, fmt, image.name)
    if container.problem is not None:
        yield MediaItem(image.name, image.size, error=container.problem, flags=image.flags)


def _files(container: Any, root: str, steps: tuple[Step, ...], fmt: str, display: str
           ) -> Iterator[MediaItem]:
    for prefix, offset in _file_systems(container.image):
        try:
            fs = container.fs(offset)
        except OSError:
            yield MediaItem(f"{display}!{prefix or '/'}", None,
                            error="unreadable file system: damaged or unsupported")
            continue
        top = fs.open_dir(path="/")
        last = fs.info.last_block_act if fs.info.last_block_act < fs.info.last_block else None
        for path, entry in _walk(top, prefix, set(), _skips_system_files(fs)):
            item = _disk_item((root, steps), fmt, offset, f"{display}!{path}", entry)
            if last is not None and item.opener is not None and _past(entry, last):
                item = replace(item, flags=item.flags + (TRUNCATED,))
            yield item


def _past(entry: Any, last_block: int) -> bool:
    """Whether any of the file's blocks lie past ``last_block``, the image's last (TSK reads
    them as zeros or fails: either way the digest is not the file's)."""
    try:
        return any(run.addr + run.len - 1 > last_block
                   for attribute in entry for run in attribute
                   if not run.flags & (pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE
                                       | pytsk3.TSK_FS_ATTR_RUN_FLAG_FILLER))
    except OSError:
        return True


def _disk_item(
    where: tuple[str, tuple[Step, ...]], fmt: str, offset: int, name: str, entry: Any
) -> MediaItem:
    meta = entry.info.meta
    deleted = _is_deleted(entry)
    if meta is None or (deleted and meta.size == 0):
        return MediaItem(name, None, error="deleted: content not recoverable")
    root, steps = where
    step: Step = (fmt, str(offset), str(meta.addr))
    opener = partial(open_member, root, steps + (step,), meta.size)
    return MediaItem(name, meta.size, opener=opener, flags=(DELETED,) if deleted else ())


if pytsk3 is not None:
    register_container("raw", DiskContainer)
    register_container("e01", partial(DiskContainer, fmt="e01"))
