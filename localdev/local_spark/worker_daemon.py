"""Spark's Python worker daemon with the job's worker imports done once, before it forks.

Spark starts one daemon (``python -m pyspark.daemon``) and forks a worker from it for
each Python task. Every worker would then import pandas, pyarrow's compute and JSON
modules and ``glue_streaming.lines`` itself (about 0.4 s each, at the same moment on
every core); imported here, the forked workers start with them. Local mode sets
``spark.python.daemon.module`` to this module (see ``localdev.local_spark.session``).
"""
import pandas  # noqa: F401  (mapInArrow's serializers import it in every worker)
import pyarrow.compute  # noqa: F401
import pyarrow.json  # noqa: F401
import pyspark.sql.pandas.serializers  # noqa: F401
from pyspark.daemon import manager

import glue_streaming.lines  # noqa: F401

if __name__ == "__main__":
    manager()
