"""Find the picture inside uniform borders (added frames, letterboxing, pillarboxing).

A few percent of padding moves PDQ far past its threshold, because the 64x64
grid then samples a different part of the picture. Each side is trimmed on its
own while its outermost line is one colour (within ``TOLERANCE`` levels per channel,
which absorbs JPEG ringing); the trimmed picture is hashed as an extra signal.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 24  # saturated colours ring by more than grey does in JPEG
MIN_TRIM_FRACTION = 0.01  # trims below 1% of a side change the hash by a bit or two
MIN_KEEP_FRACTION = 0.2  # never trim a picture down to a sliver


def _uniform(line: np.ndarray, colour: np.ndarray) -> bool:
    return bool(np.abs(line.astype(np.int16) - colour).max() <= TOLERANCE)


def _depth(lines: np.ndarray, limit: int) -> int:
    """How many leading lines (axis 0) are the colour of the first line."""
    first = lines[0].reshape(-1, *lines.shape[2:])
    if (first.max(axis=0).astype(np.int16) - first.min(axis=0) > 2 * TOLERANCE).any():
        return 0  # no colour is within TOLERANCE of every pixel: the common case, no median
    colour = np.median(first, axis=0).astype(np.int16)
    if not _uniform(lines[0], colour):
        return 0
    depth, step = 1, 8
    while depth < limit:  # blocks of lines at once, doubling: a wide border costs few calls
        block = lines[depth:min(limit, depth + step)]
        worst = np.abs(block.astype(np.int16) - colour).reshape(len(block), -1).max(axis=1)
        outside = np.flatnonzero(worst > TOLERANCE)
        if outside.size:
            return depth + int(outside[0])
        depth, step = depth + len(block), step * 2
    return depth


def content_box(pixels: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the picture inside uniform borders, or None if none.

    ``pixels`` is H x W grey or H x W x 3; bottom and right are exclusive.
    """
    h, w = pixels.shape[:2]
    top = _depth(pixels, h - 1)
    bottom = h - _depth(pixels[::-1], h - 1 - top)
    left = _depth(pixels.swapaxes(0, 1), w - 1)
    right = w - _depth(pixels.swapaxes(0, 1)[::-1], w - 1 - left)
    kept_h, kept_w = bottom - top, right - left
    if kept_h < MIN_KEEP_FRACTION * h or kept_w < MIN_KEEP_FRACTION * w:
        return None  # blank or nearly: nothing to find inside
    if h - kept_h < MIN_TRIM_FRACTION * h and w - kept_w < MIN_TRIM_FRACTION * w:
        return None
    return top, bottom, left, right
