"""When a PDQ distance may count as a match, given how much the pictures hold.

Meta's rule (and HMA's) ignores pictures of quality < 50. PDQ's quality counts
strong gradients in absolute grey levels, so a dark or faint copy of a photo
scores low although its hash, a pattern of DCT signs, barely moves: such copies
were never found. Blank and flat pictures also score low, and their hashes are
rounding noise (cvis sets them to all zeros), so matching them naively pairs
every blank picture with every other.

The policy: pairs of ordinary quality match at the set's threshold. A
low-quality pair may still match, at a stricter distance, when cvis measured
the query itself and found structure in it: its contrast-normalised quality
(the quality of the picture stretched to a photo's contrast) is high, which a
blank or flat picture can never have (it scores 0). A query without that
measurement falls back to Meta's rule. ``benchmarks/hashing.md`` has the
measurements behind the numbers.
"""

from __future__ import annotations

PDQ_THRESHOLD = 31
MIN_QUALITY = 50
# Measured on generated dark / low-contrast copies (benchmarks/hashing.md).
LOW_QUALITY_THRESHOLD = 16
MIN_CONTRAST_QUALITY = 50
ZERO_HASH = "0" * 64


def allow_match(
    query_quality: int,
    known_quality: int | None,
    distance: int,
    *,
    query_contrast_quality: int | None = None,
    threshold: int = PDQ_THRESHOLD,
    query_hash: str | None = None,
) -> bool:
    """Whether a PDQ pair ``distance`` bits apart is a candidate match.

    ``known_quality`` None means the hash set did not say (sets that follow
    Meta's practice hold only quality >= 50 hashes). ``query_contrast_quality``
    is ``ImageSignals.contrast_quality`` (or a video frame's).
    """
    if query_hash == ZERO_HASH or query_contrast_quality == 0:
        return False  # blank or flat query: its hash says nothing
    if distance > threshold:
        return False
    known = MIN_QUALITY if known_quality is None else known_quality
    if min(query_quality, known) >= MIN_QUALITY:
        return True
    structured = query_contrast_quality is not None and (
        query_contrast_quality >= MIN_CONTRAST_QUALITY
    )
    return structured and distance <= min(threshold, LOW_QUALITY_THRESHOLD)
