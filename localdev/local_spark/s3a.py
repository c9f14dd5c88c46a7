"""Spark's S3 connector (S3A) for local runs: its jars, fetched once, and the settings
that point ``s3://`` at the local AWS endpoint (LocalStack, moto) or at AWS.

On Glue, ``s3://`` is Glue's own file system and the job receives ``s3://`` paths. PySpark's
wheel has no S3 connector, and Maven Central is out of reach here; the two jars Hadoop's
S3A needs ship inside the PyPI sdist ``sagemaker-pyspark==1.4.5`` (181 MB), fetched with
pip. ``make venv`` keeps them outside the checkout, in ``~/.cache/spotify-charts/jars``
(193 MB), each checked against its SHA-256 digest::

    python -m localdev.local_spark.s3a fetch     # once; again only if the cache is gone
    python -m localdev.local_spark.s3a status

``spark_settings`` maps the AWS environment boto3 reads (``AWS_ENDPOINT_URL``, the
``AWS_ACCESS_KEY_ID`` family) to Hadoop's settings, so Spark and boto3 always talk to the
same endpoint. Credentials stay in the environment: the connector reads them there
itself, so they never appear in a command line.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

from localdev.local_spark import user_cache_dir

SDIST = "sagemaker-pyspark==1.4.5"
SDIST_SHA256 = "05ca2d5081d7138ce29a8fb0a9cba077f28c825288ed07aed46a82e63c0bf1fb"
SDIST_JAR_DIR = "sagemaker_pyspark-1.4.5/deps/jars/"
CACHE_DIR_ENV = "SPOTIFY_CHARTS_JAR_DIR"


@dataclass(frozen=True)
class Jar:
    name: str
    size: int
    sha256: str


# hadoop-aws matches the Hadoop 3.3 client inside PySpark 3.5; the SDK bundle is the one
# hadoop-aws 3.3.1 was built against.
JARS = (
    Jar("hadoop-aws-3.3.1.jar", 870_644, "6be50ad8a8b445d2802381b085b2a3ede5c29d353450a6a21f16b2fefa962b6e"),
    Jar("aws-java-sdk-bundle-1.11.901.jar", 192_321_266,
        "b87175b32a16544cc1b37cf40390eb375833e62bed67f8ce6cde4b7ad6429ead"),
)
S3A_FILE_SYSTEM = "org.apache.hadoop.fs.s3a.S3AFileSystem"
ENVIRONMENT_CREDENTIALS = "com.amazonaws.auth.EnvironmentVariableCredentialsProvider"


class S3AJarsError(RuntimeError):
    """The S3A jars are not in the cache and could not be fetched."""


def cache_dir() -> Path:
    return user_cache_dir("jars", CACHE_DIR_ENV)


def jar_paths(directory: Path | None = None) -> list[Path]:
    directory = directory or cache_dir()
    return [directory / jar.name for jar in JARS]


def missing_jars(directory: Path | None = None) -> list[str]:
    """Names of the jars not in the cache (by size: digests are checked when fetched)."""
    return [jar.name for jar, path in zip(JARS, jar_paths(directory))
            if not path.is_file() or path.stat().st_size != jar.size]


def require_jars() -> list[Path]:
    """The jars' paths, or a clear error saying how to get them."""
    missing = missing_jars()
    if missing:
        raise S3AJarsError(f"Spark's S3 connector is not set up: {', '.join(missing)} missing in {cache_dir()}. "
                           "Run `make venv` (or `.venv/bin/python -m localdev.local_spark.s3a fetch`).")
    return jar_paths()


def fetch(directory: Path | None = None, say=print) -> list[Path]:
    """Put the jars in ``directory`` (the cache) unless they are there; returns their paths.

    pip downloads the pinned sdist (its digest checked by pip's ``--require-hashes``);
    the two jars are taken out of it, checked, and moved into place under their names
    only once complete, so an interrupted fetch leaves nothing that looks finished.
    """
    directory = directory or cache_dir()
    if not missing_jars(directory):
        return jar_paths(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".fetch-") as work:
        say(f"S3 connector: downloading {SDIST} (181 MB) with pip, for its two jars ...")
        sdist = _download_sdist(Path(work))
        say(f"S3 connector: unpacking {', '.join(j.name for j in JARS)} into {directory}")
        with tarfile.open(sdist) as archive:
            for jar in JARS:
                member = archive.getmember(SDIST_JAR_DIR + jar.name)
                partial = Path(work) / jar.name
                with archive.extractfile(member) as source, open(partial, "wb") as target:
                    digest = _copy_hashing(source, target)
                if digest != jar.sha256:
                    raise S3AJarsError(f"{jar.name} from {SDIST} has SHA-256 {digest}, expected {jar.sha256}")
                os.replace(partial, directory / jar.name)
    return jar_paths(directory)


def _download_sdist(work: Path) -> Path:
    requirements = work / "requirements.txt"
    requirements.write_text(f"{SDIST} --hash=sha256:{SDIST_SHA256}\n")
    argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--require-hashes",
            "--progress-bar", "off", "-r", str(requirements), "-d", str(work)]
    result = subprocess.run(argv, capture_output=True, text=True)
    found = sorted(work.glob("sagemaker_pyspark-*.tar.gz"))
    if result.returncode != 0 or not found:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-6:])
        raise S3AJarsError(f"could not download {SDIST} from PyPI (pip exited {result.returncode}):\n{tail}")
    return found[0]


def _copy_hashing(source, target) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: source.read(1 << 20), b""):
        digest.update(block)
        target.write(block)
    return digest.hexdigest()


def endpoint_url(environ: Mapping[str, str]) -> str | None:
    """The S3 endpoint boto3 would use: ``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL``."""
    return environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None


def hadoop_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """Hadoop settings (without the ``spark.hadoop.`` prefix) for ``s3://`` through S3A."""
    settings = {
        "fs.s3.impl": S3A_FILE_SYSTEM,  # the job's paths say s3://, as on Glue
        "fs.s3a.aws.credentials.provider": ENVIRONMENT_CREDENTIALS,
        # Uploads buffered in memory: the job's files are small, and S3A's default disk
        # buffer needs Hadoop's checksummed local file system, which the local tuning
        # replaces with the raw one (localdev.local_spark.session).
        "fs.s3a.fast.upload.buffer": "array",
        # Hadoop 3.4's default: keep directory markers rather than delete every parent's
        # marker after each write. A history batch on LocalStack: 11,157 -> 10,281 requests,
        # LocalStack's CPU 45.6 -> 37.1 s, the run 145 -> 127 s (one run each, same machine).
        "fs.s3a.directory.marker.retention": "keep",
    }
    endpoint = endpoint_url(environ)
    if endpoint:  # a local endpoint: one host for every bucket, plain HTTP
        settings["fs.s3a.endpoint"] = endpoint
        settings["fs.s3a.path.style.access"] = "true"
        settings["fs.s3a.connection.ssl.enabled"] = str(urlparse(endpoint).scheme == "https").lower()
    elif environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"):
        settings["fs.s3a.endpoint"] = f"s3.{environ.get('AWS_REGION') or environ['AWS_DEFAULT_REGION']}.amazonaws.com"
    return settings


def spark_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Spark settings for local runs that read and write ``s3://``: the jars on the
    driver's class path (in local mode the driver runs the tasks too; ``spark.jars``
    would copy the 190 MB bundle into every run) and the S3A settings."""
    environ = os.environ if environ is None else environ
    settings = {"spark.driver.extraClassPath": os.pathsep.join(str(p) for p in require_jars())}
    settings.update({f"spark.hadoop.{key}": value for key, value in hadoop_settings(environ).items()})
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.local_spark.s3a", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("fetch", "status"))
    args = parser.parse_args(argv)
    if args.action == "status":
        missing = missing_jars()
        print(f"S3 connector jars in {cache_dir()}: " + (f"missing {', '.join(missing)}" if missing else "present"))
        return 1 if missing else 0
    if not missing_jars():
        print(f"S3 connector: jars already in {cache_dir()}")
        return 0
    try:
        paths = fetch()
    except (S3AJarsError, OSError, tarfile.TarError, KeyError) as error:
        print(f"error: Spark's S3 connector could not be set up: {error}\n"
              f"Local Glue runs read and write s3:// through it. PyPI must be reachable (pip); "
              f"retry with `.venv/bin/python -m localdev.local_spark.s3a fetch`.", file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in paths) / 2**20
    print(f"S3 connector: {len(paths)} jars ({size:.0f} MiB) in {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
