"""ORB keypoints with geometric verification: a second perceptual signal for sets cvis builds
from media, which sees through what PDQ cannot (small crops and rotations, portrait crops of
landscape pictures, watermarks, padding, colour grading).

A known picture is stored as its strongest ORB keypoints (OpenCV's binary 256-bit
descriptor and the keypoint's position), one value each: ``64 hex descriptor + 4 hex x +
4 hex y`` (positions in the picture resized to a long side of ``LONG_SIDE`` pixels, scaled
to 0..65535 of that side, so a similarity stays a similarity). A query is all
of an item's keypoints in one value (comma-separated). The index finds, for each query
keypoint, known keypoints within ``DESCRIPTOR_DISTANCE`` bits (multi-table LSH on sampled
bits, then exact distances), groups them by known picture, and keeps a picture only if a
similarity transform (rotation, scale, shift) maps at least ``MIN_INLIERS`` of the pairs
onto each other (RANSAC). Its distance is ``100 - inliers`` (0 for 100 or more), so a
set's threshold reads like any other's: 85 means "at least 15 keypoints agree in place".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from cvis.signals.base import InvalidSignalValue, MatchQuery, PictureSignal, SignalType

if TYPE_CHECKING:
    import cv2

LONG_SIDE = 512  # pictures are resized to this before detection (known and query alike)
KNOWN_KEYPOINTS = 400
QUERY_KEYPOINTS = 1600  # a heavy watermark's letter corners take slots: look wider
DESCRIPTOR_DISTANCE = 64  # bits, of 256: ORB's usual ratio-free acceptance
MIN_INLIERS = 10  # spread-counted agreeing keypoints (see spread_count)
SCALE = 100  # distance = SCALE - inliers
RANSAC_PIXELS = 4.0  # reprojection error allowed, in LONG_SIDE pixels
GRID = 8  # keypoints spread over 8 x 8 cells, so text over a band leaves the rest
MAX_TILT = 20.0  # degrees from upright (or a quarter turn) a copy may be rotated
SCALES = (0.4, 2.5)  # a copy between 0.4 and 2.5 times the known picture's size
CELLS, PER_CELL = 8, 2  # agreement counted over the picture, not in one patch
BUCKET_CAP = 64  # LSH buckets fuller than this hold common, undistinctive descriptors
_VALUE = re.compile(r"[0-9a-f]{72}")


class OrbSignal(SignalType, PictureSignal):
    name = "orb"
    media_kinds = frozenset({"image"})
    default_threshold = SCALE - MIN_INLIERS
    max_threshold = SCALE - 8  # below 8 agreeing keypoints chance takes over
    index: ClassVar[Any] = None  # set below: KeypointIndex
    examples = ("0" * 64 + "80008000", "f" * 64 + "00000000")

    @classmethod
    def validate(cls, value: str) -> str:
        normal = value.strip().lower()
        if not _VALUE.fullmatch(normal):
            raise InvalidSignalValue(
                f"orb must be 72 hexadecimal characters (descriptor, x, y), got {value!r}")
        return normal

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        """Descriptor bits apart (positions are not compared one keypoint at a time)."""
        return (int(a[:64], 16) ^ int(b[:64], 16)).bit_count()

    @classmethod
    def from_pixels(cls, pixels: np.ndarray) -> list[str]:
        """A query's keypoints; a known picture keeps the first ``KNOWN_KEYPOINTS``."""
        return keypoint_values(pixels, QUERY_KEYPOINTS)

    @classmethod
    def known_values(cls, values: list[str]) -> list[str]:
        return values[:KNOWN_KEYPOINTS]  # spread over the grid, strongest first

    @classmethod
    def query_values(cls, values: list[str]) -> list[str]:
        """An item's keypoints are looked up together: one query."""
        return [",".join(values)] if values else []

    @classmethod
    def allows(cls, query: MatchQuery, distance: int, threshold: int) -> bool:
        return distance <= min(threshold, cls.max_threshold)


def _cv2() -> Any:
    """OpenCV, imported by the first keypoint computed or compared: hashing without ORB (``cvis
    hash``, a scan whose sets hold none) never pays its import."""
    import cv2

    return cv2


def _grey(pixels: np.ndarray) -> np.ndarray:
    cv2 = _cv2()
    grey = pixels if pixels.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(pixels),
                                                        cv2.COLOR_RGB2GRAY)
    h, w = grey.shape[:2]
    scale = LONG_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(grey), size, interpolation=interpolation)


def detect(pixels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(descriptors (n, 32) uint8, positions (n, 2) float32 in resized pixels, (w, h)).

    Keypoints are spread over a ``GRID`` x ``GRID`` grid (the strongest of each cell first),
    so a watermark's text corners cannot take every slot from the picture around it.
    """
    grey = _grey(pixels)
    h, w = grey.shape[:2]
    orb = _cv2().ORB_create(nfeatures=count * 4, fastThreshold=10)
    found = orb.detect(grey, None)
    if not found:
        return np.zeros((0, 32), np.uint8), np.zeros((0, 2), np.float32), (w, h)
    chosen = _spread(found, count, w, h)
    keypoints, descriptors = orb.compute(grey, chosen)
    if descriptors is None or not keypoints:
        return np.zeros((0, 32), np.uint8), np.zeros((0, 2), np.float32), (w, h)
    positions = np.array([k.pt for k in keypoints], dtype=np.float32)
    return descriptors, positions, (w, h)


def _spread(found: Sequence[cv2.KeyPoint], count: int, w: int, h: int) -> list[cv2.KeyPoint]:
    """Up to ``count`` keypoints, the strongest of each grid cell in turn."""
    by_cell: dict[tuple[int, int], list[cv2.KeyPoint]] = {}
    for k in sorted(found, key=lambda k: -k.response):
        where = (min(GRID - 1, int(k.pt[0] * GRID / w)), min(GRID - 1, int(k.pt[1] * GRID / h)))
        by_cell.setdefault(where, []).append(k)
    chosen: list[cv2.KeyPoint] = []
    rank = 0
    while len(chosen) < count and any(len(c) > rank for c in by_cell.values()):
        for strongest in by_cell.values():
            if rank < len(strongest) and len(chosen) < count:
                chosen.append(strongest[rank])
        rank += 1
    return chosen


def keypoint_values(pixels: np.ndarray, count: int) -> list[str]:
    if min(pixels.shape[:2]) < 32:
        return []
    descriptors, positions, _ = detect(pixels, count)
    scaled = np.clip(np.rint(positions / LONG_SIDE * 65535), 0, 65535).astype(int)
    xs, ys = scaled[:, 0], scaled[:, 1]
    return [f"{d.tobytes().hex()}{x:04x}{y:04x}"
            for d, x, y in zip(descriptors, xs.tolist(), ys.tolist(), strict=True)]


def parse_values(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(descriptors (n, 32) uint8, positions (n, 2) float32 in 0..1 of the long side)."""
    if not values:
        return np.zeros((0, 32), np.uint8), np.zeros((0, 2), np.float32)
    raw = np.frombuffer(bytes.fromhex("".join(values)), dtype=np.uint8).reshape(-1, 36)
    where = raw[:, 32:].copy().view(">u2").astype(np.float32) / 65535.0
    return np.ascontiguousarray(raw[:, :32]), where


class KeypointIndex:
    """Keypoints of known pictures: LSH candidates, exact distances, geometric verification."""

    KIND: ClassVar[str] = "cvis-keypoint-index"
    TABLES: ClassVar[int] = 12
    KEY_BITS: ClassVar[int] = 20
    BIT_SAMPLES: ClassVar[np.ndarray] = np.random.default_rng(20261130).choice(
        256, size=(12, 20), replace=True)  # fixed: saved indexes depend on it

    def __init__(self, ids: np.ndarray, media: np.ndarray, descriptors: np.ndarray,
                 positions: np.ndarray) -> None:
        order = np.argsort(media, kind="stable")
        self.ids, self.media = ids[order], media[order]
        self.descriptors, self.positions = descriptors[order], positions[order]
        self._tables = [self._table(t) for t in range(self.TABLES)]

    def __len__(self) -> int:
        return int(self.ids.size)

    @classmethod
    def build(cls, ids: Sequence[int], values: Sequence[str],
              media: Sequence[int]) -> KeypointIndex:
        descriptors, positions = parse_values(values)
        return cls(np.asarray(list(ids), np.int64), np.asarray(list(media), np.int64),
                   descriptors, positions)

    def _keys(self, descriptors: np.ndarray, table: int) -> np.ndarray:
        keys = np.zeros(descriptors.shape[0], dtype=np.uint32)
        for bit in self.BIT_SAMPLES[table].tolist():
            column = (descriptors[:, bit >> 3] >> (7 - (bit & 7))) & 1
            keys = (keys << np.uint32(1)) | column.astype(np.uint32)
        return keys

    def _table(self, table: int) -> tuple[np.ndarray, np.ndarray]:
        keys = self._keys(self.descriptors, table)
        order = np.argsort(keys, kind="stable").astype(np.int64)
        return keys[order], order

    def _candidates(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query row, known row) pairs that share a key in some table (deduplicated)."""
        qs, rows = [], []
        for t, (keys, order) in enumerate(self._tables):
            qkeys = self._keys(query, t)
            lo = np.searchsorted(keys, qkeys, side="left")
            hi = np.searchsorted(keys, qkeys, side="right")
            counts = hi - lo
            counts[counts > BUCKET_CAP] = 0
            q = np.repeat(np.arange(qkeys.size), counts)
            ends = np.cumsum(counts)
            total = int(ends[-1]) if ends.size else 0
            offsets = np.arange(total) - np.repeat(ends - counts, counts)
            qs.append(q)
            rows.append(order[np.repeat(lo, counts) + offsets])
        q, r = np.concatenate(qs), np.concatenate(rows)
        pairs = np.unique(q.astype(np.int64) * (len(self) + 1) + r)
        return pairs // (len(self) + 1), pairs % (len(self) + 1)

    def search(self, values: Sequence[str], threshold: int) -> list[list[tuple[int, int]]]:
        return [self._search_one(value, threshold) for value in values]

    def _search_one(self, value: str, threshold: int) -> list[tuple[int, int]]:
        if not len(self) or not value:
            return []
        descriptors, positions = parse_values(value.split(","))
        q, r = self._candidates(descriptors)
        if not q.size:
            return []
        dist = np.bitwise_count(descriptors[q] ^ self.descriptors[r]).sum(axis=1)
        near = dist <= DESCRIPTOR_DISTANCE
        q, r, dist = q[near], r[near], dist[near]
        hits = []
        media_of = self.media[r]
        candidates, pairs = np.unique(media_of, return_counts=True)
        for media in candidates[pairs >= SCALE - threshold].tolist():
            mine = media_of == media
            inliers = _verified(positions, self.positions, q[mine], r[mine], dist[mine])
            distance = max(0, SCALE - inliers)
            if distance <= threshold:
                first = int(self.ids[np.searchsorted(self.media, media)])
                hits.append((first, distance))
        return sorted(hits, key=lambda h: (h[1], h[0]))

    def save(self, directory: Path, generation: int) -> None:
        from cvis.index.storage import write_version  # the index package: when persisting

        write_version(Path(directory), self.KIND, generation,
                      {"ids": self.ids, "media": self.media, "descriptors": self.descriptors,
                       "positions": self.positions}, {"count": len(self)})

    @classmethod
    def load(cls, directory: Path, generation: int) -> KeypointIndex:
        from cvis.index.storage import IndexCorrupt, read_version

        meta, arrays = read_version(Path(directory), cls.KIND, generation, True)
        try:
            index = cls(*(np.asarray(arrays[k]) for k in ("ids", "media", "descriptors",
                                                           "positions")))
        except KeyError as exc:
            raise IndexCorrupt(f"{directory}: missing array {exc}") from exc
        if len(index) != meta["count"]:
            raise IndexCorrupt(f"{directory}: arrays disagree with the manifest")
        return index


def _verified(query_xy: np.ndarray, known_xy: np.ndarray, q: np.ndarray, r: np.ndarray,
              dist: np.ndarray) -> int:
    """Keypoint pairs (best per keypoint, one-to-one) that a plausible similarity transform
    maps onto each other, with a scale within ``SCALES``, counted by ``spread_count``."""
    order = np.argsort(dist, kind="stable")
    q, r = q[order], r[order]
    _, first_q = np.unique(q, return_index=True)
    q, r = q[np.sort(first_q)], r[np.sort(first_q)]
    _, first_r = np.unique(r, return_index=True)
    q, r = q[np.sort(first_r)], r[np.sort(first_r)]
    if q.size < 4:
        return 0
    src = query_xy[q].astype(np.float32) * LONG_SIDE
    dst = known_xy[r].astype(np.float32) * LONG_SIDE
    cv2 = _cv2()
    model, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                              ransacReprojThreshold=RANSAC_PIXELS,
                                              maxIters=2000, confidence=0.995)
    if model is None or mask is None:
        return 0
    scale = float(np.hypot(model[0, 0], model[1, 0]))
    turn = abs((np.degrees(np.arctan2(model[1, 0], model[0, 0])) + 45) % 90 - 45)
    if not SCALES[0] <= scale <= SCALES[1] or turn > MAX_TILT:
        return 0  # copies are upright or a quarter turn off, at a plausible size
    return spread_count(dst[mask.ravel().astype(bool)])


def spread_count(points: np.ndarray) -> int:
    """Agreeing keypoints, at most ``PER_CELL`` counted in each cell of a ``CELLS`` x ``CELLS``
    grid over the known picture: a logo, a word or a watermark shared by two unrelated
    pictures agrees in one small patch and counts for little; a copy agrees all over."""
    if not points.shape[0]:
        return 0
    cells = np.clip((points / LONG_SIDE * CELLS).astype(int), 0, CELLS - 1)
    _, counts = np.unique(cells[:, 0] * CELLS + cells[:, 1], return_counts=True)
    return int(np.minimum(counts, PER_CELL).sum())


OrbSignal.index = KeypointIndex
