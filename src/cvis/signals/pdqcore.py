"""PDQ arithmetic in numpy, reshaped so large pictures cost little.

The reference (``pdqhash.compute``) converts every pixel to float luma, runs two
box-filter passes over the whole picture (the Jarosz tent filter) and then keeps
only 64 x 64 samples. That filter is linear and separable, so the 64 x 64 buffer
equals ``Kr @ luma @ Kc.T`` with two small banded matrices that we build once
per picture size: each pixel row is read once, and nothing else is allocated at
full size. The DCT, median threshold, quality metric and dihedral variants
follow the C++ reference (``pdq/cpp/hashing/pdqhashing.cpp``) step by step;
results agree with it bit for bit except when a coefficient sits within float
rounding (about 1e-7 relative) of the median.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])
_LUMA32 = LUMA.astype(np.float32)
MIN_HASHABLE_DIM = 5
# A 64x64 buffer whose luma varies less than this (std, grey levels) is blank:
# its DCT holds only rounding noise, so its hash is set to all zeros.
FLAT_STD = 1.0
# Contrast-normalised quality stretches the buffer to this std (a typical photo's).
NORMALISED_STD = 48.0
_DCT = np.sqrt(2.0 / 64) * np.cos(
    (np.pi / 2.0 / 64) * np.outer(np.arange(1, 17), 2 * np.arange(64) + 1)
)
# The eight dihedral variants, in pdqhash.compute_dihedral's order.
DIHEDRAL_NAMES = (
    "original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1",
)  # fmt: skip


@dataclass(frozen=True)
class PdqFloat:
    """The 16x16 DCT coefficients and quality of one picture, before thresholding."""

    dct16: np.ndarray
    quality: int
    contrast_quality: int = 0

    @property
    def is_flat(self) -> bool:
        return self.contrast_quality == 0


def jarosz_window(old: int, new: int = 64) -> int:
    return (old + 2 * new - 1) // (2 * new)


def _box_bounds(n: int, full: int) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi) of the reference's one-pass box filter around each output index."""
    half = (full + 2) // 2
    out = np.arange(n)
    return np.maximum(0, out - (full - half)), np.minimum(n, out + half)


def _spread(weights: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    """weights (rows x n) @ B, where B's row j is uniform on [lo_j, hi_j): one box pass."""
    per_index = np.zeros((weights.shape[0], n + 1))
    per_index[:, 1:] = np.cumsum(weights / (hi - lo), axis=1)
    k = np.arange(n)
    # lo and hi never decrease, so the j whose window holds k form one run
    start = np.searchsorted(hi, k, side="right")
    end = np.searchsorted(lo, k, side="right")
    return per_index[:, end] - per_index[:, start]


@lru_cache(maxsize=32)  # a kernel is 64 x n float64: 2 MB for n = 4000
def tent_kernel(n: int) -> np.ndarray:
    """64 x n weights: two box passes of the reference's window, sampled at PDQ's centres."""
    lo, hi = _box_bounds(n, jarosz_window(n))
    centres = ((np.arange(64) + 0.5) * n / 64).astype(int)
    kernel = np.zeros((64, n))
    kernel[np.arange(64), centres] = 1.0
    kernel = _spread(_spread(kernel, lo, hi, n), lo, hi, n)
    kernel[np.abs(kernel) < 1e-12] = 0.0
    return kernel


@lru_cache(maxsize=32)  # a kernel is 64 x n float64: 2 MB for n = 4000
def scaled_kernel(full: int, decoded: int) -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
    """Kernel for a picture decoded at reduced size (JPEG DCT scaling, reduce-on-load).

    Each decoded pixel stands for the full-size pixels it covers (their mean), so
    its weight is the sum of theirs: the reference's answer on the full picture,
    up to what the reduced decode itself loses.
    """
    kernel = tent_kernel(full)
    if decoded != full:
        owner = np.arange(full) * decoded // full
        starts = np.searchsorted(owner, np.arange(decoded))
        kernel = np.add.reduceat(kernel, starts, axis=1)
    nz = kernel != 0
    first = nz.argmax(axis=1)
    last = decoded - nz[:, ::-1].argmax(axis=1)
    return kernel, tuple(zip(first.tolist(), last.tolist(), strict=True))


@lru_cache(maxsize=32)
def _kernel32(full: int, decoded: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernel in float32, and each output's band of nonzero taps [lo, hi)."""
    kernel, bands = scaled_kernel(full, decoded)
    lo, hi = (np.ascontiguousarray(b, dtype=np.int64) for b in zip(*bands, strict=True))
    return np.ascontiguousarray(kernel, dtype=np.float32), lo, hi


def downsample64(pixels: np.ndarray, full_size: tuple[int, int] | None = None) -> np.ndarray:
    """The reference's 64x64 luma buffer from an H x W x 3 RGB or H x W grey uint8 array.

    ``full_size`` (width, height) is the picture's size before a reduced decode.
    In float32, as the reference computes: each of the 64 output rows sums its kernel
    band's rows tap by tap, then luma, then each of the 64 columns its band's columns. Two
    ways, one result bit for bit (each a product rounded, then a sum rounded, taps in
    order): compiled (`cvis.signals.pdqkernel`, each pixel converted as it is read), where
    a process has loaded it, else numpy. No BLAS: its threads fight the scan workers for
    cores (10x slower on a loaded machine).
    """
    h, w = pixels.shape[:2]
    full_w, full_h = full_size or (w, h)
    kr, row_lo, row_hi = _kernel32(full_h, h)
    kc, col_lo, col_hi = _kernel32(full_w, w)
    compiled = _compiled_passes()
    if compiled is not None:
        flat = np.ascontiguousarray(pixels.reshape(h, -1), dtype=np.uint8)
        rows = compiled.band_rows(flat, kr, row_lo, row_hi)
    else:
        rows = _band_rows(pixels.reshape(h, -1), kr, row_lo, row_hi)
    if pixels.ndim == 3:
        rows = np.ascontiguousarray(np.einsum("rwc,c->rw", rows.reshape(64, w, 3), _LUMA32))
    if compiled is not None:
        return compiled.band_columns(rows, kc, col_lo, col_hi)
    return _band_columns(rows, kc, col_lo, col_hi)


def _compiled_passes() -> ModuleType | None:
    """The compiled passes once this process has imported them (the scan's fork server does,
    for its workers); never imported here: numba's JIT start (~0.7 s) is more than a
    `cvis hash` of one picture costs."""
    return sys.modules.get("cvis.signals.pdqkernel")


def _band_rows(flat: np.ndarray, kernel: np.ndarray, lo: np.ndarray,
               hi: np.ndarray) -> np.ndarray:
    """numpy's `band_rows`: the picture converted once (each band cast on its own cost 3x
    more), each row one product over its band (einsum's loop: tap after tap)."""
    values = flat.astype(np.float32)
    rows = np.empty((64, values.shape[1]), np.float32)
    for i in range(64):
        np.einsum("i,ij->j", kernel[i, lo[i]:hi[i]], values[lo[i]:hi[i]], out=rows[i])
    return rows


def _band_columns(rows: np.ndarray, kernel: np.ndarray, lo: np.ndarray,
                  hi: np.ndarray) -> np.ndarray:
    """numpy's `band_columns`: tap t of every column at once, in tap order; a band shorter
    than the longest adds zero-weight taps, which leave each sum as it is."""
    length = int((hi - lo).max())
    step = np.arange(length)
    inside = step[None, :] < (hi - lo)[:, None]
    index = np.where(inside, lo[:, None] + step[None, :], lo[:, None])
    taps = np.where(inside, kernel[np.arange(64)[:, None], index], np.float32(0))
    gathered = rows[:, index]  # (rows, 64, length)
    out = np.zeros((rows.shape[0], 64), np.float32)
    for t in range(length):
        out += gathered[:, :, t] * taps[:, t]
    return out


def quality_of(buffer64: np.ndarray) -> int:
    """The reference's gradient-count quality (0..100) of the 64x64 buffer."""
    b = buffer64.astype(np.float32)
    dv = np.trunc((b[:-1, :] - b[1:, :]) * np.float32(100) / np.float32(255))
    dh = np.trunc((b[:, :-1] - b[:, 1:]) * np.float32(100) / np.float32(255))
    total = int(np.abs(dv).sum() + np.abs(dh).sum())
    return min(total // 90, 100)


def contrast_quality_of(buffer64: np.ndarray) -> int:
    """Quality of the buffer stretched to a photo's contrast: high for dark or faint
    pictures that still hold structure, 0 for blank ones (std below FLAT_STD)."""
    std = float(buffer64.std())
    if std < FLAT_STD:
        return 0
    stretched = (buffer64 - buffer64.mean()) * (NORMALISED_STD / std) + 128.0
    return quality_of(stretched)


def pdq_float(pixels: np.ndarray, full_size: tuple[int, int] | None = None) -> PdqFloat:
    """DCT coefficients and qualities; ``full_size`` as in ``downsample64``."""
    if min(pixels.shape[:2]) < MIN_HASHABLE_DIM:
        return PdqFloat(np.zeros((16, 16)), 0, 0)
    buffer64 = downsample64(pixels, full_size)
    contrast = contrast_quality_of(buffer64)
    dct16 = _DCT @ buffer64.astype(np.float64) @ _DCT.T
    if contrast == 0:
        dct16 = np.zeros((16, 16))  # blank: rounding noise would give arbitrary bits
    return PdqFloat(dct16, quality_of(buffer64), contrast)


def bits_hex(dct16: np.ndarray) -> str:
    """Threshold at the lower median (Torben's) and pack in the reference's bit order."""
    flat = dct16.reshape(256)
    if not flat.any():
        return "0" * 64
    median = np.partition(flat, 127)[127]
    bits = (flat > median)[::-1]
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def dihedral_dct(dct16: np.ndarray) -> dict[str, np.ndarray]:
    """The reference's sign-and-transpose identities for flipped and rotated pictures."""
    i = np.arange(16)[:, None]
    j = np.arange(16)[None, :]
    odd_i, odd_j, odd_ij = (i & 1) == 1, (j & 1) == 1, ((i + j) & 1) == 1
    a = dct16
    return {
        "original": a,
        "rotate90": np.where(odd_j, a, -a).T,
        "rotate180": np.where(odd_ij, -a, a),
        "rotate270": np.where(odd_i, a, -a).T,
        "flipx": np.where(odd_i, a, -a),
        "flipy": np.where(odd_j, a, -a),
        "flipplus1": a.T,
        "flipminus1": np.where(odd_ij, -a, a).T,
    }
