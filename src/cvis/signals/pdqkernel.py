"""PDQ's 64 x 64 downsample, compiled (numba): only the tent filter's nonzero taps, in one pass.

The filter is separable and each of the 64 output rows (and columns) weights one short band
of the picture's rows (columns): about 2 x 64 / 64 of them, 24 for a 1,500-row picture. In
numpy that was a float32 copy of the whole picture and 128 small products; here each pixel
is converted as it is read, and each band is summed in the same order (tap by tap, in float32)
as the numpy products summed it.

Compiled with the signatures below when this module is imported (numba's cache beside this
file, or ``NUMBA_CACHE_DIR``): the scan's fork server imports it once for every worker.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

_F32 = types.Array(types.float32, 2, "C")
_BANDS = types.Array(types.int64, 1, "C")
# Decoded pixels come read-only (Pillow's buffer) or writable (a copy, a crop made contiguous)
_PIXELS = [types.Array(types.uint8, 2, "C", readonly=readonly) for readonly in (True, False)]


@njit([_F32(pixels, _F32, _BANDS, _BANDS) for pixels in _PIXELS], nogil=True, cache=True)
def band_rows(pixels: np.ndarray, kernel: np.ndarray, lo: np.ndarray,
              hi: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """(64, W): output row i is the sum over rows lo[i]..hi[i] of kernel[i, y] * pixels[y]."""
    width = pixels.shape[1]
    out = np.zeros((64, width), np.float32)
    for i in range(64):
        row = out[i]
        for y in range(lo[i], hi[i]):
            tap = kernel[i, y]
            line = pixels[y]
            for x in range(width):
                row[x] += tap * np.float32(line[x])
    return out


@njit(_F32(_F32, _F32, _BANDS, _BANDS), nogil=True, cache=True)
def band_columns(rows: np.ndarray, kernel: np.ndarray, lo: np.ndarray,
                 hi: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """(R, 64): output column k is the sum over columns lo[k]..hi[k] of rows * kernel[k]."""
    out = np.zeros((rows.shape[0], 64), np.float32)
    for r in range(rows.shape[0]):
        line = rows[r]
        for k in range(64):
            total = np.float32(0.0)
            for x in range(lo[k], hi[k]):
                total += line[x] * kernel[k, x]
            out[r, k] = total
    return out
