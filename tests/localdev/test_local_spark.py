"""The local-only Spark settings reach the JVMs of local runs, and only them."""
from __future__ import annotations

import shlex

from localdev.local_spark.session import LOCAL_JAVA_OPTIONS, LOCAL_SPARK_SETTINGS, s3_settings, submit_environ


def test_a_child_job_gets_every_local_setting_through_pyspark_submit_args():
    argv = shlex.split(submit_environ()["PYSPARK_SUBMIT_ARGS"])
    assert argv[-1] == "pyspark-shell" and argv[:-1:2] == ["--conf"] * (len(argv) // 2)
    settings = dict(value.split("=", 1) for value in argv[1:-1:2])
    # The S3 connector's settings join when its jars are in the cache (make venv fetches them).
    assert settings == {**LOCAL_SPARK_SETTINGS, **s3_settings(), "spark.driver.extraJavaOptions": LOCAL_JAVA_OPTIONS}


def test_the_test_session_runs_with_the_local_settings(spark):
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.extraJavaOptions").endswith(LOCAL_JAVA_OPTIONS)  # (Spark puts its own first)
    assert all(conf.get(key) == value for key, value in LOCAL_SPARK_SETTINGS.items())
    flags = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
    assert set(LOCAL_JAVA_OPTIONS.split()) <= set(flags)  # the driver JVM really started with them
