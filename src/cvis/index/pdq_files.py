"""PdqIndex <-> the arrays and meta that storage.py writes (format ``cvis-pdq-index``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cvis.index.plan import Layout
from cvis.index.segment import Segment
from cvis.index.storage import IndexCorrupt, read_version, write_version

if TYPE_CHECKING:
    from cvis.index.pdq_index import PdqIndex

KIND = "cvis-pdq-index"


def save_pdq(index: PdqIndex, directory: Path, generation: int) -> None:
    arrays: dict[str, np.ndarray] = {
        "delta.ids": index.delta_ids, "delta.words": index.delta_words,
    }
    segments = []
    for k, (seg, dead) in enumerate(zip(index.segments, index.dead, strict=True)):
        arrays.update({f"seg{k}.ids": seg.ids, f"seg{k}.words": seg.words,
                       f"seg{k}.offsets": seg.offsets, f"seg{k}.perm": seg.perm,
                       f"seg{k}.dead": dead})
        segments.append({"tables": seg.layout.tables, "key_bits": seg.layout.key_bits,
                         "rows": len(seg)})
    write_version(directory, KIND, generation, arrays, {"segments": segments, "count": len(index)})


def load_pdq(index: PdqIndex, directory: Path, generation: int | None, verify: bool) -> PdqIndex:
    meta, arrays = read_version(directory, KIND, generation, verify)
    segments, dead = [], []
    try:
        for k, info in enumerate(meta["segments"]):
            seg = Segment(Layout(info["tables"], info["key_bits"]), arrays[f"seg{k}.ids"],
                          arrays[f"seg{k}.words"], arrays[f"seg{k}.offsets"],
                          arrays[f"seg{k}.perm"])
            _check(seg, info["rows"])
            segments.append(seg)
            dead.append(np.array(arrays[f"seg{k}.dead"], dtype=bool))
        delta = (np.array(arrays["delta.ids"], dtype=np.int64),
                 np.array(arrays["delta.words"], dtype=np.uint64).reshape(-1, 4))
    except KeyError as exc:
        raise IndexCorrupt(f"{directory}: missing array {exc}") from exc
    if any(d.shape != (len(s),) for s, d in zip(segments, dead, strict=True)) or \
            delta[0].size != delta[1].shape[0]:
        raise IndexCorrupt(f"{directory}: removal flags or delta of the wrong size")
    index.restore(segments, dead, delta)
    if len(index) != meta["count"]:
        raise IndexCorrupt(f"{directory}: {len(index)} live entries, manifest says "
                           f"{meta['count']}")
    index.generation = meta["generation"]
    return index


def _check(seg: Segment, rows: int) -> None:
    """Shapes must agree with the layout, or a search could read out of bounds."""
    n, layout = rows, seg.layout
    ok = seg.ids.shape == (n,) and seg.words.shape == (n, 4)
    if seg.indexed:
        ok = ok and seg.offsets.shape == (layout.tables, (1 << layout.key_bits) + 1)
        ok = ok and seg.perm.shape == (layout.tables - 1, n)
        ok = ok and bool(np.all(seg.offsets[:, -1] == n))
    if not ok:
        raise IndexCorrupt(f"segment of {n} rows has inconsistent arrays")
