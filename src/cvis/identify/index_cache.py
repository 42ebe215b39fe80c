"""The matcher's indexes, cached as files beside the database and rebuilt when stale.

The database is the source of truth. A generation number derived from the
chosen sets' known signals (their count, highest id and id sum: any import,
update or removal changes it) names the cached files; files of another
generation, or that fail their checksums, are rebuilt from the store.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cvis.index import CryptoIndex, IndexFileError, PdqIndex, hex_to_array
from cvis.signals import CRYPTO_SIGNALS
from cvis.store.models import KnownMedia, KnownSignal

log = logging.getLogger(__name__)


@dataclass
class MatchIndexes:
    crypto: CryptoIndex  # md5, sha1 and sha256 side by side (their widths differ)
    pdq: PdqIndex


def _signals_of(set_ids: list[int]) -> Select[int, str, str]:
    return (
        select(KnownSignal.id, KnownSignal.signal_type, KnownSignal.value)
        .join(KnownMedia, KnownMedia.id == KnownSignal.media_pk)
        .where(KnownMedia.set_id.in_(set_ids))
    )


def store_generation(session: Session, set_ids: list[int]) -> int:
    """Changes whenever the known signals of these sets change."""
    count, highest, total = session.execute(
        select(func.count(KnownSignal.id), func.max(KnownSignal.id), func.sum(KnownSignal.id))
        .join(KnownMedia, KnownMedia.id == KnownSignal.media_pk)
        .where(KnownMedia.set_id.in_(set_ids))
    ).one()
    key = f"{sorted(set_ids)}:{count}:{highest}:{total}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:7], "big")


def build_indexes(session: Session, set_ids: list[int]) -> MatchIndexes:
    by_type: dict[str, tuple[list[int], list[str]]] = defaultdict(lambda: ([], []))
    for signal_id, signal_type, value in session.execute(_signals_of(set_ids)):
        ids, values = by_type[signal_type]
        ids.append(signal_id)
        values.append(value)
    crypto = CryptoIndex()
    for name in CRYPTO_SIGNALS:
        ids, values = by_type.get(name, ([], []))
        if ids:
            crypto.add(ids, [bytes.fromhex(v) for v in values])
    pdq_ids, pdq_values = by_type.get("pdq", ([], []))
    return MatchIndexes(crypto, PdqIndex.build(pdq_ids, hex_to_array(pdq_values)))


def load_indexes(session: Session, set_ids: list[int], directory: Path | None) -> MatchIndexes:
    """Cached files when they are current, else a rebuild from the store (then cached)."""
    if directory is None:
        return build_indexes(session, set_ids)
    generation = store_generation(session, set_ids)
    folder = directory / hashlib.sha1(repr(sorted(set_ids)).encode()).hexdigest()[:16]
    try:
        return MatchIndexes(CryptoIndex.load(folder / "crypto", generation),
                            PdqIndex.load(folder / "pdq", generation))
    except IndexFileError as exc:
        log.info("rebuilding match indexes from the store: %s", type(exc).__name__)
    indexes = build_indexes(session, set_ids)
    try:
        indexes.crypto.save(folder / "crypto", generation)
        indexes.pdq.save(folder / "pdq", generation)
    except OSError as exc:  # a read-only data directory still matches, only slower
        log.warning("could not cache match indexes in %s: %s", folder, exc)
    return indexes
