"""Walk evidence into media items: folders, then whatever containers the files turn out to be.

Links are reported, never followed (no loops, no escapes); types come from
content, not names; archives are opened to ``max_depth`` levels; a container
that fails part-way keeps the members listed so far and reports why it stopped.
"""

from __future__ import annotations

import logging
import os
import stat
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from cvis.media import disks
from cvis.media.items import MediaItem
from cvis.media.limits import IntakeLimits
from cvis.media.locate import (
    SEEKABLE,
    ContainerError,
    NotSeekable,
    Step,
    Where,
    archive_lister,
    open_member,
)
from cvis.media.objects import is_uri, list_objects
from cvis.media.sniff import Sniffed, extension_mismatch, sniff

PEEK_BYTES = 4096
PEEKS_IN_FLIGHT = 16  # objects in a store peeked at once while listing
log = logging.getLogger(__name__)


def file_item(path: Path) -> MediaItem:
    try:
        info = path.stat()
    except OSError as exc:
        return MediaItem(str(path), None, error=f"unreadable: {exc.strerror or exc}")
    if not stat.S_ISREG(info.st_mode):
        return MediaItem(str(path), None, error="not a regular file: device, pipe or socket")
    return MediaItem(str(path), info.st_size, opener=partial(open_member, str(path), ()))


def whole_file(item: MediaItem) -> str | None:
    """The local file whose bytes the item is, whole (a file of a folder, or a container as a
    file), else None: a member, an object in a store, or nothing to read."""
    opener = item.opener
    if (isinstance(opener, partial) and opener.func is open_member and not opener.keywords
            and len(opener.args) == 2 and opener.args[1] == () and not is_uri(opener.args[0])):
        return str(opener.args[0])
    return None


def walk_folder(root: Path) -> Iterator[MediaItem]:
    """Entries under root, in a stable order; links are reported, not followed."""
    for dirpath, dirnames, filenames in os.walk(root, onerror=None, followlinks=False):
        linked = [d for d in dirnames if (Path(dirpath) / d).is_symlink()]
        dirnames[:] = sorted(set(dirnames) - set(linked))
        for name in sorted(filenames + linked):
            path = Path(dirpath) / name
            if path.is_symlink():
                yield MediaItem(str(path), None, error="symbolic link: not followed")
            else:
                yield file_item(path)


def _peek(item: MediaItem) -> bytes:
    with item.open() as stream:
        return stream.read(PEEK_BYTES)


def _unreadable(exc: Exception) -> str:
    """What an examiner can act on; library exception text stays in the log."""
    log.info("unreadable item: %r", exc)
    if isinstance(exc, OSError) and str(exc).startswith("zip bomb"):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"unreadable: {exc.strerror.lower()}"
    return "unreadable: corrupt or truncated content"


@dataclass
class Expansion:
    """Bytes that the archives under one evidence file expand to, nested levels together:
    a nested bomb (42.zip) is small at every level and huge in all."""

    packed: int
    expanded: int = 0

    def over(self, limits: IntakeLimits) -> str | None:
        ceiling = min(limits.max_archive_bytes,
                      max(limits.ratio_floor, limits.max_ratio * max(self.packed, 1)))
        if self.expanded <= ceiling:
            return None
        return (f"zip bomb: nested archives expand past the {ceiling}-byte limit "
                f"({limits.max_ratio}:1 of the {self.packed}-byte file, at most "
                f"{limits.max_archive_bytes} bytes)")


def looks_like_disk(head: bytes) -> bool:
    boot_sector = len(head) >= 512 and head[510:512] == b"\x55\xaa"
    ext_superblock = head[1080:1082] == b"\x53\xef"
    return boot_sector or ext_superblock or head[3:11] in (b"NTFS    ", b"EXFAT   ")


def _disk_format(found: Sniffed, head: bytes, steps: tuple[Step, ...]) -> str | None:
    if found.kind == "disk":
        return found.format
    in_place = not steps or steps[-1][0] == "zip"  # a compressed member is never probed
    if found.format == "unknown" and in_place and looks_like_disk(head):
        return "raw"
    return None


def expand(
    item: MediaItem, steps: tuple[Step, ...], depth: int, limits: IntakeLimits,
    budget: Expansion | None = None, head: bytes | None = None,
) -> Iterator[MediaItem]:
    """The item, and if it is a container, its members first (recursively); ``head``: its
    first bytes when they were read ahead."""
    if item.opener is None:
        yield item
        return
    try:
        head = _peek(item) if head is None else head
    except Exception as exc:  # hostile containers raise anything; the item reports it
        yield MediaItem(item.name, item.size, error=_unreadable(exc), flags=item.flags)
        return
    found = sniff(head)
    if (mismatch := extension_mismatch(item.name, found)) is not None:
        item = replace(item, flags=item.flags + (mismatch,))
    disk = _disk_format(found, head, steps)
    if disk is not None:
        yield from _expand_disk(item, disk, steps, limits, head)
    elif found.kind == "archive":
        budget = budget or Expansion(item.size or 0)
        yield from _expand_archive(item, found.format, steps, depth, limits, budget)
    else:
        yield item


def _expand_disk(
    item: MediaItem, fmt: str, steps: tuple[Step, ...], limits: IntakeLimits, head: bytes
) -> Iterator[MediaItem]:
    """The image's files, read where it lives (a file, an object in a store, a zip member
    stored uncompressed); the image itself with a flag or an error when it cannot be."""
    if fmt == "e01" and (segment := int.from_bytes(head[9:11], "little")) > 1:
        flag = f"E01 segment {segment}: its files are listed under the set's first segment"
        if steps:  # in an archive the set is not joined: the member is hashed as a file
            yield replace(item, flags=item.flags + (flag,))
        else:  # part of the image, read through its first segment
            yield MediaItem(item.name, item.size, flags=item.flags + (flag,))
        return
    root = _root_of(item)
    if steps and steps[-1][0] != "zip":
        yield replace(item, flags=item.flags + (NOT_SEEKABLE,))
        return
    steps = steps[:-1] + (steps[-1] + (SEEKABLE,),) if steps else ()
    reason = disks.tsk_available()
    if reason is not None:
        yield replace(item, flags=item.flags + (f"disk image not opened: {reason}",))
        return
    if fmt == "raw" and not disks.probe(root, steps):
        yield item  # a boot-sector look-alike that holds no file system
        return
    try:
        for member in disks.list_disk(root, steps, fmt, item):
            yield from _nested(member, limits)
    except NotSeekable:
        yield replace(item, flags=item.flags + (NOT_SEEKABLE,))
    except disks.DiskImageError as exc:
        yield MediaItem(item.name, item.size, error=str(exc), flags=item.flags)
    except Exception as exc:  # TSK on a damaged image
        log.info("disk image %s stopped: %r", item.name, exc)
        yield MediaItem(item.name, item.size, flags=item.flags,
                        error="unreadable disk image: damaged or unsupported")


NOT_SEEKABLE = ("disk image inside a container: not opened (only one stored uncompressed in "
                "a zip is read in place)")


def _root_of(item: MediaItem) -> str:
    return item.opener.args[0] if isinstance(item.opener, partial) else item.name


def _steps_of(item: MediaItem) -> tuple[Step, ...]:
    """The steps into the root evidence file that the item's opener takes."""
    opener = item.opener
    return opener.args[1] if isinstance(opener, partial) and len(opener.args) > 1 else ()


def _nested(member: MediaItem, limits: IntakeLimits) -> Iterator[MediaItem]:
    """Files inside a disk image may be archives too; the disk counts as one level."""
    yield from expand(member, _steps_of(member), 1, limits)


def _expand_archive(
    item: MediaItem, fmt: str, steps: tuple[Step, ...], depth: int, limits: IntakeLimits,
    budget: Expansion,
) -> Iterator[MediaItem]:
    if depth >= limits.max_depth:
        flag = f"nesting depth limit ({limits.max_depth}): not opened"
        yield replace(item, flags=item.flags + (flag,))
        return
    where = Where(_root_of(item), steps, item.name)
    problem = None
    try:
        with item.open() as stream:
            for member in archive_lister(fmt)(stream, fmt, where, limits):
                if member.error is not None:  # listed, never read: costs nothing
                    yield from expand(member, (), depth + 1, limits, budget)
                    continue
                budget.expanded += member.size or 0
                if (bomb := budget.over(limits)) is not None:
                    yield MediaItem(member.name, member.size, error=bomb, flags=member.flags)
                    continue
                yield from expand(member, _steps_of(member), depth + 1, limits, budget)
    except ContainerError as exc:
        problem = str(exc)
    except Exception as exc:  # archive libraries raise many types on hostile input
        log.info("archive %s stopped: %r", item.name, exc)
        problem = "corrupt archive: its listing could not be read to the end"
    yield replace(item, error=problem) if problem else item


def _read_ahead(items: Iterator[MediaItem]) -> Iterator[tuple[MediaItem, bytes | None]]:
    """Objects in a store with their first bytes, peeked a few dozen at a time: a peek is a
    round trip, and one after another they would bound the whole scan. In order; a peek
    that fails is left to `expand` (None), which says why."""
    from concurrent.futures import Future, ThreadPoolExecutor

    def peek(item: MediaItem) -> bytes | None:
        try:
            return _peek(item) if item.opener is not None else None
        except Exception:  # hostile content raises anything; expand peeks again and reports
            return None

    window: deque[tuple[MediaItem, Future[bytes | None]]] = deque()
    with ThreadPoolExecutor(PEEKS_IN_FLIGHT) as pool:
        for item in items:
            window.append((item, pool.submit(peek, item)))
            if len(window) >= 4 * PEEKS_IN_FLIGHT:
                first, ahead = window.popleft()
                yield first, ahead.result()
        while window:
            first, ahead = window.popleft()
            yield first, ahead.result()


EvidencePath = Path | str  # a str that is an object-store URI stays one; any other is a path


def _listed(paths: Iterable[EvidencePath], limits: IntakeLimits) -> Iterator[MediaItem]:
    for source in paths:
        if isinstance(source, str) and is_uri(source):
            for item, head in _read_ahead(list_objects(source)):
                yield from expand(item, (), 0, limits, head=head)
            continue
        path = Path(source)
        if path.is_dir():
            for item in walk_folder(path):
                yield from expand(item, (), 0, limits)
        elif path.exists():
            yield from expand(file_item(path), (), 0, limits)
        else:
            yield MediaItem(str(path), None, error="not found")


def _unique_name(name: str, seen: dict[str, object]) -> str:
    n = 2
    while f"{name}#{n}" in seen:
        n += 1
    return f"{name}#{n}"


def iter_media(
    paths: Iterable[EvidencePath], limits: IntakeLimits | None = None
) -> Iterator[MediaItem]:
    """Every media item in the evidence paths, containers opened, in a stable order.

    Names are unique: the same file reached twice (overlapping paths) is listed
    once; different members sharing a name (a zip or tar may hold several) get
    ``#2``, ``#3``... and a flag, so every one is hashed and none overwrites another.
    """
    seen: dict[str, object] = {}
    reached: set[object] = set()
    for item in _listed(paths, limits or IntakeLimits()):
        where = item.opener.args[:2] if isinstance(item.opener, partial) else (item.name,)
        if where in reached:
            continue
        reached.add(where)
        if item.name in seen:
            flag = f"duplicate name: another entry is also called {item.name}"
            item = replace(item, name=_unique_name(item.name, seen), flags=item.flags + (flag,))
        seen[item.name] = where
        yield item
