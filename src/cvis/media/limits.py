"""The limits that keep hostile evidence from exhausting memory, disk or time."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True)
class IntakeLimits:
    """What an examiner may tune; defaults suit a workstation.

    An archive member expanding more than ``max_ratio`` times its compressed
    size (and past ``ratio_floor`` bytes, so small text files are not caught)
    is a zip bomb and is listed, not read; so is everything past
    ``max_archive_bytes`` of expanded content in one archive.
    """

    max_depth: int = 8
    max_ratio: int = 100
    ratio_floor: int = 16 * MiB
    max_archive_bytes: int = 64 * GiB
    max_in_memory_member: int = 512 * MiB  # 7z members are decompressed into memory

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
