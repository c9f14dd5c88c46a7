"""File operations on any path Spark can reach (``file://`` locally, ``s3://`` on Glue),
through the Hadoop FileSystem of the running Spark session."""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession


@dataclass(frozen=True)
class Entry:
    name: str
    path: str
    is_dir: bool


class HadoopFiles:
    def __init__(self, spark: SparkSession):
        jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        # Looked up once: py4j asks the JVM about every package level of a class name,
        # and a batch publishing a file per date (a backfill: hundreds) would ask per file.
        self._path_class = jvm.org.apache.hadoop.fs.Path
        self._file_util = jvm.org.apache.hadoop.fs.FileUtil

    def _resolve(self, path: str):
        jpath = self._path_class(path)
        return jpath.getFileSystem(self._conf), jpath

    def exists(self, path: str) -> bool:
        fs, jpath = self._resolve(path)
        return fs.exists(jpath)

    def list(self, path: str) -> list[Entry]:
        """Direct children of ``path``, by name; empty when it does not exist."""
        fs, jpath = self._resolve(path)
        if not fs.exists(jpath):
            return []
        entries = [Entry(s.getPath().getName(), s.getPath().toString(), s.isDirectory())
                   for s in fs.listStatus(jpath)]
        return sorted(entries, key=lambda e: e.name)

    def delete(self, path: str) -> None:
        fs, jpath = self._resolve(path)
        if fs.exists(jpath):
            fs.delete(jpath, True)

    def publish_copy(self, source: str, destination: str) -> bool:
        """Copy one file to ``destination`` unless it exists; True when copied.

        A file at ``destination`` is always complete: on S3 an object appears whole
        when its PUT ends; on other file systems the copy goes to a hidden name in the
        same folder first and is renamed (atomic there)."""
        src_fs, src = self._resolve(source)
        dst_fs, dst = self._resolve(destination)
        if dst_fs.exists(dst):
            return False
        if dst.toUri().getScheme() in ("s3", "s3a", "s3n"):
            self._file_util.copy(src_fs, src, dst_fs, dst, False, True, self._conf)
            return True
        partial = self._path_class(dst.getParent(), f".{dst.getName()}.partial")
        self._file_util.copy(src_fs, src, dst_fs, partial, False, True, self._conf)
        if not dst_fs.rename(partial, dst):
            raise OSError(f"could not rename {partial.toString()} to {destination}")
        return True

    def write_text(self, path: str, text: str) -> None:
        fs, jpath = self._resolve(path)
        stream = fs.create(jpath, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
