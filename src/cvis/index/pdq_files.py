"""The arrays and meta of a PDQ index <-> files (format ``cvis-pdq-index``, via storage.py).

Works on the index's parts (segments, removal flags, delta), not on ``PdqIndex`` itself,
so ``pdq_index`` imports this module and nothing here imports it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvis.index.packed import packed_words, row_bits
from cvis.index.plan import Layout
from cvis.index.segment import Segment
from cvis.index.storage import IndexCorrupt, read_version, write_version

KIND = "cvis-pdq-index"
# 3: hashes as two halves, (2, n, 2); 2: 32-bit id offsets, bit-packed row numbers and
# removal flags (1: int64, uint32, bool)
LAYOUT = 3


@dataclass(frozen=True)
class PdqParts:
    """Everything a PDQ index holds: segments with their removal flags, and the delta."""

    segments: list[Segment]
    dead: list[np.ndarray]
    delta_ids: np.ndarray
    delta_words: np.ndarray
    count: int  # live entries
    generation: int | None = None


def save_pdq(parts: PdqParts, directory: Path, generation: int) -> None:
    arrays: dict[str, np.ndarray] = {
        "delta.ids": parts.delta_ids, "delta.words": parts.delta_words,
    }
    segments = []
    for k, (seg, dead) in enumerate(zip(parts.segments, parts.dead, strict=True)):
        arrays.update({f"seg{k}.ids": seg.id_codes, f"seg{k}.halves": seg.halves,
                       f"seg{k}.offsets": seg.offsets, f"seg{k}.perm": seg.perm,
                       f"seg{k}.dead": dead})
        segments.append({"tables": seg.layout.tables, "key_bits": seg.layout.key_bits,
                         "rows": len(seg), "id_base": seg.id_base})
    write_version(directory, KIND, generation, arrays, {"segments": segments,
                                                        "count": parts.count,
                                                        "layout": LAYOUT})


def load_pdq(directory: Path, generation: int | None, verify: bool) -> PdqParts:
    """The saved parts; ``count`` is the manifest's, for the caller to check."""
    meta, arrays = read_version(directory, KIND, generation, verify)
    if meta.get("layout") != LAYOUT:
        raise IndexCorrupt(f"{directory}: index layout {meta.get('layout', 1)}, this version "
                           f"reads {LAYOUT}: rebuild it")
    segments, dead = [], []
    try:
        for k, info in enumerate(meta["segments"]):
            seg = Segment(Layout(info["tables"], info["key_bits"]), arrays[f"seg{k}.ids"],
                          int(info["id_base"]), arrays[f"seg{k}.halves"], arrays[f"seg{k}.offsets"],
                          arrays[f"seg{k}.perm"])
            _check(seg, info["rows"])
            segments.append(seg)
            dead.append(np.array(arrays[f"seg{k}.dead"], dtype=np.uint8))
        delta = (np.array(arrays["delta.ids"], dtype=np.int64),
                 np.array(arrays["delta.words"], dtype=np.uint64).reshape(-1, 4))
    except KeyError as exc:
        raise IndexCorrupt(f"{directory}: missing array {exc}") from exc
    if any(d.shape != ((len(s) + 7) // 8,) for s, d in zip(segments, dead, strict=True)) or \
            delta[0].size != delta[1].shape[0]:
        raise IndexCorrupt(f"{directory}: removal flags or delta of the wrong size")
    return PdqParts(segments, dead, delta[0], delta[1], int(meta["count"]),
                    meta["generation"])


def _check(seg: Segment, rows: int) -> None:
    """Shapes must agree with the layout, or a search could read out of bounds."""
    n, layout = rows, seg.layout
    ok = seg.id_codes.shape == (n,) and seg.halves.shape == (2, n, 2)
    ok = ok and seg.id_codes.dtype in (np.dtype(np.uint32), np.dtype(np.int64))
    if seg.indexed:
        ok = ok and seg.offsets.shape == (layout.tables, (1 << layout.key_bits) + 1)
        ok = ok and seg.perm.shape == (layout.tables - 1, packed_words(n, row_bits(n)))
        ok = ok and bool(np.all(seg.offsets[:, -1] == n))
    if not ok:
        raise IndexCorrupt(f"segment of {n} rows has inconsistent arrays")
