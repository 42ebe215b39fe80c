"""Splink backends: DuckDB embedded by default, Spark when one machine is not enough."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

ENGINES = ("duckdb", "spark")
MEMORY_ENV = "CVIS_LINKAGE_MEMORY"  # DuckDB's memory limit per linker, e.g. "6GB"
DEFAULT_MEMORY = "3GB"
THREADS_ENV = "CVIS_LINKAGE_THREADS"  # DuckDB threads per linker (default: DuckDB's own)


class EngineUnavailable(RuntimeError):
    """The requested engine's optional dependencies are missing."""


def spark_available() -> str | None:
    """None when Spark local mode can run here, else the reason it cannot."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'cvis[spark]')"
    if shutil.which("java") is None:
        return "java is not on PATH (Spark needs a JVM)"
    return None


def _spark_session() -> Any:
    from cvis.spark import spark_session

    spark = spark_session(app="cvis-linkage")
    # Splink breaks long query lineages with checkpoints; Spark needs somewhere to put them.
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="cvis-spark-"))
    return spark


class Engine:
    """A Splink database API plus how to hand it a pandas table."""

    def __init__(self, name: str, threads: int | None = None) -> None:
        if name not in ENGINES:
            raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
        self.name = name
        self.threads = threads or int(os.environ.get(THREADS_ENV) or 0) or None
        self.spark: Any = None
        if name == "spark":
            reason = spark_available()
            if reason:
                raise EngineUnavailable(reason)
            self.spark = _spark_session()

    def linker(self, frames: list[pd.DataFrame], settings: Any) -> Any:
        """A Splink Linker over registry and index (or one table to dedupe) with a fresh database
        API: Splink caches intermediate tables per API, and a training linker's cache
        must not leak into the prediction linker."""
        from splink import Linker

        self._linkers = getattr(self, "_linkers", 0) + 1
        names = [f"registry_{self._linkers}", f"index_{self._linkers}"][: len(frames)]
        if self.spark is not None:
            from splink import SparkAPI

            tables = [self._spark_table(f) for f in frames]
            return Linker(tables, settings, SparkAPI(spark_session=self.spark),
                          input_table_aliases=names, set_up_basic_logging=False)
        import duckdb
        from splink import DuckDBAPI

        con = duckdb.connect()
        if self.threads:
            con.execute(f"SET threads TO {int(self.threads)}")
        con.execute("SET preserve_insertion_order = false")
        # Stay within the memory budget (spill to disk beyond it) on a shared machine.
        con.execute(f"SET memory_limit = '{os.environ.get(MEMORY_ENV, DEFAULT_MEMORY)}'")
        con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/cvis-duckdb'")
        con.execute("SET enable_progress_bar = false")
        # Materialise once: a pandas view would convert Python objects on every query.
        import pyarrow as pa

        for name, frame in zip(names, frames, strict=True):
            con.register("_frame", pa.Table.from_pandas(frame, preserve_index=False))
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _frame")
            con.unregister("_frame")
        # Splink would otherwise configure the root logger and print ~160 lines a run;
        # the CLI shows them with --verbose.
        return Linker(names, settings, DuckDBAPI(connection=con), input_table_aliases=names,
                      set_up_basic_logging=False)

    def release(self, linker: Any) -> None:
        """Free a finished linker's database now (DuckDB: close its connection, tables and
        all) rather than whenever the garbage collector reaches Splink's reference cycles."""
        if self.spark is None:
            linker._db_api._con.close()

    def _spark_table(self, frame: pd.DataFrame) -> Any:
        from pyspark.sql import types as T

        schema = T.StructType([
            T.StructField(
                c,
                T.ArrayType(T.StringType()) if c in ("given_groups", "family_tokens")
                else T.StringType(),
            )
            for c in frame.columns
        ])
        rows = frame.astype(object).where(frame.notna(), None).values.tolist()
        return self.spark.createDataFrame(rows, schema=schema)
