"""Open a member anywhere in nested evidence from plain values: a root path and steps.

A worker process gets ``(root, steps)`` and opens the member itself, so media
items stay picklable and no member is ever extracted to disk. Each process
keeps the few containers it opened last, so reading the members of one large
archive in order does not re-parse it (or re-decompress it) per member.
"""

from __future__ import annotations

import importlib
import io
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any, BinaryIO, Protocol

from cvis.media.items import MediaItem
from cvis.media.limits import IntakeLimits

Step = tuple[str, ...]
# Modules that register the built-in containers (imported on first need, in any process)
BUILT_IN_CONTAINERS = ("cvis.media.archives", "cvis.media.disks")

CACHED_CONTAINERS = 4


class Container(Protocol):
    def open_member(self, step: Step) -> BinaryIO: ...

    def close(self) -> None: ...


class NotSeekable(OSError):
    """The member cannot be read in place (compressed): a disk image in it is not opened."""


# The last element of a step that asks for a member as a seekable stream read in place
SEEKABLE = "in place"


class ContainerError(Exception):
    """The container itself is unreadable; its members so far stand, the reason is reported."""


@dataclass(frozen=True)
class Where:
    """Where a container sits: the root evidence file and the steps into it; its display name."""

    root: str
    steps: tuple[Step, ...]
    name: str

    def member(self, step: Step, name: str, size: int | None, **kw: Any) -> MediaItem:
        opener = partial(open_member, self.root, self.steps + (step,), size)
        return MediaItem(f"{self.name}!{name}", size, opener=opener, **kw)

    def listed(self, name: str, size: int | None, error: str, flags: tuple[str, ...]) -> MediaItem:
        return MediaItem(f"{self.name}!{name}", size, error=error, flags=flags)


ContainerFactory = Callable[[BinaryIO, ExitStack], Container]
# Lists a container's members: (stream, sniffed format, where it sits, limits)
Lister = Callable[[BinaryIO, str, Where, IntakeLimits], Iterator[MediaItem]]
_FACTORIES: dict[str, ContainerFactory] = {}
_LISTERS: dict[str, Lister] = {}
_cache: OrderedDict[tuple[str, tuple[Step, ...]], tuple[Container, ExitStack]] = OrderedDict()


def register_container(kind: str, factory: ContainerFactory) -> None:
    """Built-in containers register here the way a plug-in would: ``factory`` opens the
    members that steps of this ``kind`` address."""
    _FACTORIES[kind] = factory


def register_lister(fmt: str, lister: Lister) -> None:
    """Content sniffed as archive format ``fmt`` is listed by ``lister`` (its members are
    opened through the container kinds their steps name)."""
    _LISTERS[fmt] = lister


def _load_built_ins() -> None:
    for module in BUILT_IN_CONTAINERS:
        importlib.import_module(module)


def archive_lister(fmt: str) -> Lister:
    """The lister of an archive format; ContainerError when nothing here reads it."""
    if fmt not in _LISTERS:
        _load_built_ins()
    if fmt not in _LISTERS:
        raise ContainerError(f"no reader for {fmt} archives on this machine")
    return _LISTERS[fmt]


class BoundedStream(io.RawIOBase):
    """Reads at most ``limit`` bytes; a member that outgrows what its header said is a bomb."""

    def __init__(self, inner: BinaryIO, limit: int | None, owner: ExitStack | None = None):
        self._inner, self._limit, self._owner, self._read = inner, limit, owner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        self._read += len(data)
        if self._limit is not None and self._read > self._limit:
            raise OSError(f"zip bomb: member expands past {self._limit} bytes")
        buffer[: len(data)] = data
        return len(data)

    def seekable(self) -> bool:
        return bool(self._inner.seekable())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._read = self._inner.seek(offset, whence)
        return self._read

    def tell(self) -> int:
        return self._read

    def close(self) -> None:
        if not self.closed and self._owner is not None:
            self._owner.close()
        super().close()


def open_member(root: str, steps: tuple[Step, ...], limit: int | None = None) -> BinaryIO:
    """The bytes that ``steps`` lead to inside the file at ``root``.

    Each step is ``(container kind, member address...)``: the stream so far is
    a container of that kind, and the address picks one member of it.
    """
    if not steps:
        return open_root(root)
    container = _container_at(root, steps[:-1], steps[-1][0])
    return BoundedStream(container.open_member(steps[-1]), limit)  # type: ignore[return-value]


def open_root(root: str) -> BinaryIO:
    """The root evidence file: a local path, or an object in a store (read where it is)."""
    from cvis.media.objects import is_uri, open_object

    return open_object(root) if is_uri(root) else open(root, "rb")


def _container_root(root: str) -> BinaryIO:
    """The root file of a container: an object in a store is read in cached ranged blocks
    (containers seek about; `cvis.media.objects.ObjectFile`) and keeps its URI as its name."""
    from cvis.media.objects import ObjectFile, is_uri

    return ObjectFile(root) if is_uri(root) else open(root, "rb")  # type: ignore[return-value]


def open_container(root: str, steps: tuple[Step, ...], kind: str) -> Container:
    """The container of ``kind`` that ``steps`` lead to (cached like any other): a disk image
    is listed through the same container its members are read through."""
    return _container_at(root, steps, kind)


def _factory(kind: str) -> ContainerFactory:
    if kind not in _FACTORIES:  # a fresh worker process: load the built-in containers
        _load_built_ins()
    if kind not in _FACTORIES:
        raise OSError(f"no reader for {kind} containers on this machine")
    return _FACTORIES[kind]


def _container_at(root: str, prefix: tuple[Step, ...], kind: str) -> Container:
    key = (root, prefix + ((kind,),))
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key][0]
    stack = ExitStack()
    try:
        if prefix:
            parent = _container_at(root, prefix[:-1], prefix[-1][0])
            stream = stack.enter_context(parent.open_member(prefix[-1]))
        else:
            stream = stack.enter_context(_container_root(root))
        container = _factory(kind)(stream, stack)
    except BaseException:
        stack.close()
        raise
    _cache[key] = (container, stack)
    while len(_cache) > CACHED_CONTAINERS:
        # never the containers this one is read through (a chain deeper than the cache)
        victim = next((k for k in _cache if k != key and not _encloses(k, key)), None)
        if victim is None:
            break
        _evict(victim)
    return container


def _encloses(outer: tuple[str, tuple[Step, ...]], inner: tuple[str, tuple[Step, ...]]) -> bool:
    """Whether the container at ``outer`` is one that ``inner`` is read through."""
    (root, path), (inner_root, inner_path) = outer, inner
    depth = len(path) - 1
    return (root == inner_root and len(inner_path) > len(path)
            and inner_path[:depth] == path[:-1] and inner_path[depth][0] == path[-1][0])


def _evict(key: tuple[str, tuple[Step, ...]]) -> None:
    """Drop a container and, first, every container read through it."""
    root, path = key
    for other in [k for k in _cache if k[0] == root and len(k[1]) > len(path)]:
        if other[1][: len(path) - 1] == path[:-1] and other[1][len(path) - 1][0] == path[-1][0]:
            if other in _cache:
                _evict(other)
    _cache.pop(key)[1].close()


def clear_cache() -> None:
    """Close every cached container (tests; a worker about to exit)."""
    while _cache:
        _, (_c, stack) = _cache.popitem()
        stack.close()
