"""Versioned index files beside the database: checksummed .npy arrays plus a manifest.

A directory holds ``MANIFEST.json`` and one folder per saved version. The manifest is
replaced atomically, so a reader sees the old version or the new one, never a mix. Each
array file's size and CRC-32 are in the manifest; the manifest carries the CRC-32 of its
own content. Nothing is unpickled. See docs/index.md.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

MANIFEST = "MANIFEST.json"
FORMAT_VERSION = 1
_CHUNK = 1 << 24


class IndexFileError(Exception):
    """The saved index cannot be used: rebuild it from the database."""


class IndexMissing(IndexFileError):
    """No saved index in the directory."""


class IndexCorrupt(IndexFileError):
    """A file is missing, truncated, altered or of an unknown format version."""


class IndexStale(IndexFileError):
    """The saved index reflects another database generation than the caller's."""

    def __init__(self, generation: int, expected: int) -> None:
        super().__init__(f"index files are generation {generation}, database is {expected}")
        self.generation = generation
        self.expected = expected


def write_version(
    directory: Path, kind: str, generation: int, arrays: Mapping[str, np.ndarray],
    meta: Mapping[str, Any],
) -> None:
    """Write arrays into a fresh version folder, then switch the manifest to it."""
    directory.mkdir(parents=True, exist_ok=True)
    folder = f"v{generation:08d}-{secrets.token_hex(4)}"
    (directory / folder).mkdir()
    files = {}
    for name, array in arrays.items():
        path = directory / folder / f"{name}.npy"
        np.save(path, np.ascontiguousarray(array), allow_pickle=False)
        files[name] = {"bytes": path.stat().st_size, "crc32": _crc32(path),
                       "dtype": array.dtype.str, "shape": list(array.shape)}
        _fsync(path)
    body = {"format": kind, "version": FORMAT_VERSION, "generation": int(generation),
            "folder": folder, "meta": dict(meta), "files": files}
    manifest = {**body, "checksum": _body_crc(body)}
    tmp = directory / f"{MANIFEST}.{folder}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    _fsync(tmp)
    os.replace(tmp, directory / MANIFEST)
    for old in directory.iterdir():
        if old.is_dir() and old.name != folder and old.name.startswith("v"):
            shutil.rmtree(old, ignore_errors=True)


def read_version(
    directory: Path, kind: str, generation: int | None, verify: bool
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Manifest meta and memory-mapped arrays, or IndexMissing/IndexCorrupt/IndexStale."""
    manifest = _read_manifest(directory, kind)
    if generation is not None and manifest["generation"] != generation:
        raise IndexStale(manifest["generation"], generation)
    folder = directory / manifest["folder"]
    files: dict[str, dict[str, Any]] = manifest["files"]
    for name, info in files.items():
        path = folder / f"{name}.npy"
        if not path.is_file() or path.stat().st_size != info["bytes"]:
            raise IndexCorrupt(f"{path} is missing or has the wrong size")
    if verify:
        _verify_checksums(folder, files)
    arrays = {name: _map(folder / f"{name}.npy", info) for name, info in files.items()}
    return {**manifest["meta"], "generation": manifest["generation"]}, arrays


def saved_generation(directory: Path, kind: str) -> int:
    """The generation recorded in the manifest (cheap: no array is read)."""
    return int(_read_manifest(directory, kind)["generation"])


def _read_manifest(directory: Path, kind: str) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise IndexMissing(f"no {MANIFEST} in {directory}")
    try:
        manifest = json.loads(path.read_text())
        body = {k: v for k, v in manifest.items() if k != "checksum"}
        ok = manifest["checksum"] == _body_crc(body)
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"{path} is unreadable: {exc}") from exc
    if not ok:
        raise IndexCorrupt(f"{path} fails its checksum")
    if manifest.get("format") != kind or manifest.get("version") != FORMAT_VERSION:
        raise IndexCorrupt(f"{path}: format {manifest.get('format')!r} "
                           f"version {manifest.get('version')!r}, expected {kind!r} "
                           f"version {FORMAT_VERSION}")
    return dict(manifest)


def _verify_checksums(folder: Path, files: dict[str, dict[str, Any]]) -> None:
    names = list(files)
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # zlib releases the GIL
        sums = list(pool.map(lambda n: _crc32(folder / f"{n}.npy"), names))
    for name, crc in zip(names, sums, strict=True):
        if crc != files[name]["crc32"]:
            raise IndexCorrupt(f"{folder / name}.npy fails its checksum")


def _map(path: Path, info: dict[str, Any]) -> np.ndarray:
    try:
        mapped = info["bytes"] > 4096 and int(np.prod(info["shape"])) > 0
        array = np.load(path, mmap_mode="r" if mapped else None, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise IndexCorrupt(f"{path} is unreadable: {exc}") from exc
    if array.dtype.str != info["dtype"] or list(array.shape) != info["shape"]:
        raise IndexCorrupt(f"{path} has dtype/shape {array.dtype.str}{array.shape}")
    return array.view(np.ndarray)  # same mapped pages, without np.memmap's per-call overhead


def _crc32(path: Path) -> int:
    crc = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


def _body_crc(body: dict[str, Any]) -> int:
    return zlib.crc32(json.dumps(body, sort_keys=True).encode())


def _fsync(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())
