"""The S3 connector's set-up: jars taken out of the sdist only when their digests match,
and Spark's settings derived from the same AWS environment boto3 reads."""
from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from localdev.local_spark import s3a


def fake_sdist(path, contents: dict[str, bytes]):
    """A tar.gz laid out like sagemaker-pyspark's sdist, holding ``contents`` as its jars."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in contents.items():
            member = tarfile.TarInfo(s3a.SDIST_JAR_DIR + name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


@pytest.fixture
def small_jars(monkeypatch, tmp_path):
    """Two small stand-in jars with their real digests, and an sdist that holds them."""
    contents = {"hadoop-aws-3.3.1.jar": b"connector", "aws-java-sdk-bundle-1.11.901.jar": b"sdk bundle"}
    monkeypatch.setattr(s3a, "JARS", tuple(s3a.Jar(name, len(data), hashlib.sha256(data).hexdigest())
                                           for name, data in contents.items()))
    monkeypatch.setenv(s3a.CACHE_DIR_ENV, str(tmp_path / "cache"))
    return contents


def test_fetch_unpacks_the_jars_once_and_checks_their_digests(small_jars, tmp_path, monkeypatch):
    downloads = []

    def download(work):
        downloads.append(work)
        return fake_sdist(work / "sagemaker_pyspark-1.4.5.tar.gz", small_jars)

    monkeypatch.setattr(s3a, "_download_sdist", download)
    with pytest.raises(s3a.S3AJarsError, match="make venv"):
        s3a.require_jars()
    paths = s3a.fetch(say=lambda message: None)
    assert [p.read_bytes() for p in paths] == list(small_jars.values())
    assert s3a.require_jars() == paths and s3a.missing_jars() == []
    assert sorted(p.name for p in s3a.cache_dir().iterdir()) == sorted(small_jars)  # no download left behind
    s3a.fetch(say=lambda message: None)
    assert len(downloads) == 1  # already there: nothing downloaded again


def test_a_jar_with_another_digest_is_refused_and_nothing_is_left(small_jars, monkeypatch):
    tampered = {**small_jars, "aws-java-sdk-bundle-1.11.901.jar": b"SDK bundle"}  # same size, other bytes
    assert tampered != small_jars
    monkeypatch.setattr(s3a, "_download_sdist", lambda work: fake_sdist(work / "s.tar.gz", tampered))
    with pytest.raises(s3a.S3AJarsError, match="aws-java-sdk-bundle-1.11.901.jar .* expected"):
        s3a.fetch(say=lambda message: None)
    assert s3a.missing_jars() == ["aws-java-sdk-bundle-1.11.901.jar"]
    assert not [p for p in s3a.cache_dir().iterdir() if p.name.startswith(".fetch-")]


def test_a_failed_fetch_says_what_to_do(small_jars, monkeypatch, capsys):
    def unreachable(work):
        raise s3a.S3AJarsError("could not download sagemaker-pyspark==1.4.5 from PyPI (pip exited 1)")

    monkeypatch.setattr(s3a, "_download_sdist", unreachable)
    assert s3a.main(["fetch"]) == 1
    error = capsys.readouterr().err
    assert "S3 connector could not be set up" in error and "from PyPI" in error and "s3a fetch" in error


def test_spark_settings_follow_the_aws_environment(small_jars, monkeypatch):
    monkeypatch.setattr(s3a, "_download_sdist", lambda work: fake_sdist(work / "s.tar.gz", small_jars))
    s3a.fetch(say=lambda message: None)
    local = s3a.spark_settings({"AWS_ENDPOINT_URL": "http://127.0.0.1:4615", "AWS_ACCESS_KEY_ID": "testing"})
    assert local["spark.driver.extraClassPath"].split(":") == [str(p) for p in s3a.jar_paths()]
    assert local["spark.hadoop.fs.s3.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert (local["spark.hadoop.fs.s3a.endpoint"], local["spark.hadoop.fs.s3a.path.style.access"],
            local["spark.hadoop.fs.s3a.connection.ssl.enabled"]) == ("http://127.0.0.1:4615", "true", "false")
    assert "testing" not in " ".join(local.values())  # credentials stay in the environment
    # boto3's S3-only endpoint wins over the general one, as in boto3.
    assert s3a.hadoop_settings({"AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_S3": "https://s3.local:9"})[
        "fs.s3a.connection.ssl.enabled"] == "true"
    aws = s3a.hadoop_settings({"AWS_REGION": "eu-west-1"})
    assert aws["fs.s3a.endpoint"] == "s3.eu-west-1.amazonaws.com" and "fs.s3a.path.style.access" not in aws
