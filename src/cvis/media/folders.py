"""Walk folders into media items without following symbolic links (no loops, no escapes)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import BinaryIO

from cvis.media.items import MediaItem


def _open_file(path: str) -> BinaryIO:
    return open(path, "rb")


def file_item(path: Path) -> MediaItem:
    try:
        size = path.stat().st_size
    except OSError as exc:
        return MediaItem(str(path), None, error=f"unreadable: {exc.strerror or exc}")
    if not os.access(path, os.R_OK):
        return MediaItem(str(path), size, error="unreadable: permission denied")
    return MediaItem(str(path), size, opener=partial(_open_file, str(path)))


def walk_folder(root: Path) -> Iterator[MediaItem]:
    """Regular files under root, in a stable order; links are reported, not followed."""
    for dirpath, dirnames, filenames in os.walk(root, onerror=None, followlinks=False):
        linked = [d for d in dirnames if (Path(dirpath) / d).is_symlink()]
        dirnames[:] = sorted(set(dirnames) - set(linked))
        for name in sorted(filenames + linked):
            path = Path(dirpath) / name
            if path.is_symlink():
                yield MediaItem(str(path), None, error="symbolic link: not followed")
            elif path.is_file():
                yield file_item(path)


def iter_media(paths: Iterable[Path]) -> Iterator[MediaItem]:
    for path in paths:
        if path.is_dir():
            yield from walk_folder(path)
        elif path.is_file():
            yield file_item(path)
        else:
            yield MediaItem(str(path), None, error="not found")
