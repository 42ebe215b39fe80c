"""One Spark session per process for every cvis job on Spark (scans and registry linkage).

Spark keeps one context per process and a later builder's settings never reach it, so both
engines build it the same way, whichever starts first: this interpreter for the Python
workers (so they have cvis), and Splink's similarity functions (``damerau_levenshtein``,
``jaro_winkler``) on the classpath for the linkage's comparisons.
"""

from __future__ import annotations

import os
import sys
from typing import Any

MASTER_ENV = "CVIS_SPARK_MASTER"


def spark_session(master: str | None = None, app: str = "cvis") -> Any:
    """The process's session: CVIS_SPARK_MASTER (default local[*]), or the one running."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(master or os.environ.get(MASTER_ENV, "local[*]"))
        .appName(app)
        .config("spark.jars", similarity_jar_location())
        .config("spark.ui.enabled", "false")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
