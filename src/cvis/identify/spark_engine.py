"""Hashing on Spark: the same supervised hashing, spread over a cluster's executors.

A national backlog or a platform's daily uploads outgrow one machine. The driver lists the
media items (cheap: names and sizes), Spark hands contiguous slices of them to executors,
and each executor hashes its slice with the same supervised worker pool a local scan uses
(per-item time limits, crash isolation, one decode per content). Records come back in input
order, so matching and storing on the driver are the local scan's own code and the results
are identical. Only hashes travel back; the media stay where the evidence lives: at the same
paths on every executor (a shared mount), or in an object store (``s3://bucket/prefix/``),
which each executor reads with its own credentials (`cvis.media.objects`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from cvis.hashing import HashingLimits, HashRecord
from cvis.media.items import MediaItem

ITEMS_PER_SLICE = 64


class SparkUnavailable(RuntimeError):
    """pyspark or a JVM is missing: say how to get them."""


def spark_unavailable() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'cvis[spark]')"
    if not os.environ.get("JAVA_HOME") and not _on_path("java"):
        return "java is not on PATH (Spark needs a JVM)"
    return None


def _on_path(name: str) -> bool:
    import shutil

    return shutil.which(name) is not None


def spark_session(master: str | None = None) -> Any:
    """The session scans run on: CVIS_SPARK_MASTER (default local[*]) or an existing one."""
    reason = spark_unavailable()
    if reason:
        raise SparkUnavailable(f"--engine spark: {reason}")
    from cvis.spark import spark_session as cvis_session

    return cvis_session(master, app="cvis-scan")


def _hash_slice(
    limits: HashingLimits, time_limit: float, rows: Iterable[tuple[int, MediaItem]]
) -> Iterator[tuple[int, HashRecord]]:
    """Runs on an executor: one supervised worker hashes the slice, in order."""
    from cvis.identify.hashpool import hash_items

    indexed = list(rows)
    records = hash_items((item for _, item in indexed), 1, limits, time_limit)
    for (index, _), record in zip(indexed, records, strict=True):
        yield index, record


def spark_hash_items(
    items: Iterable[MediaItem],
    limits: HashingLimits,
    time_limit: float,
    session: Any | None = None,
) -> Iterator[HashRecord]:
    """Records for items, in input order, hashed on Spark's executors."""
    from functools import partial

    listed = list(enumerate(items))
    if not listed:
        return
    spark = session or spark_session()
    slices = max(1, -(-len(listed) // ITEMS_PER_SLICE))
    rdd = spark.sparkContext.parallelize(listed, slices)
    hashed = rdd.mapPartitions(partial(_hash_slice, limits, time_limit))
    for _, record in hashed.toLocalIterator():  # partitions arrive in order, so items do
        yield record
