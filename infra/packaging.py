"""Build what the stack runs: the producer's Lambda zip and the Glue job's script and wheel.

Every artifact is reproducible (sorted entries, fixed timestamps, no bytecode)
and named by its content hash, so an unchanged build uploads nothing and does
not update the Lambda function or the Glue job.

Each artifact holds only the modules that run there: its entry module and every module
of this project it imports, directly or through others (read from the code, so nothing
local-only or test-only can ride along).

* Lambda zip: ``producer.handler``, ``producer.imports`` and ``producer.reconcile`` (the three Lambdas it serves) and
  what they import (``producer``, ``firehose``)
  plus the runtime dependencies of ``pyproject.toml``, pinned by ``requirements.lock``
  and installed as wheels for the Lambda runtime's platform (Python 3.12, Linux,
  x86_64 or arm64), whatever machine builds it.
* Glue: ``glue_streaming/job.py`` as the script, and a pure-Python wheel of
  ``glue_streaming.job`` and what it imports (``glue_streaming``; ``firehose.contract``,
  ``firehose.ledger``, ``firehose.run_lease``);
  Glue 5.1 installs it from S3 with ``--additional-python-modules``; it has no
  dependencies: Glue provides Spark, pyarrow and pandas.
"""
from __future__ import annotations

import ast
import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ENTRY_MODULE = "producer.handler"
# Every handler module the one Lambda zip serves: the producer's, the chart-export import's, the reconciler's.
LAMBDA_ENTRY_MODULES = (LAMBDA_ENTRY_MODULE, "producer.imports", "producer.reconcile")
GLUE_ENTRY_MODULE = "glue_streaming.job"
# The project's packages an artifact may take modules from.
DEPLOYED_PACKAGES = ("producer", "firehose", "glue_streaming")
GLUE_SCRIPT = REPO_ROOT / "glue_streaming" / "job.py"
GLUE_WHEEL_NAME = "spotify_chart_pipeline_glue"

LAMBDA_PYTHON_VERSION = "3.12"
# Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34): manylinux2014
# (glibc 2.17) and manylinux_2_28 wheels both run there.
LAMBDA_PLATFORMS = {
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold


class PackagingError(RuntimeError):
    """An artifact could not be built."""


@dataclass(frozen=True)
class Artifact:
    path: Path  # the local file
    key: str  # its S3 key in the artifacts bucket (content-addressed)


def content_hash(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest[:16]


def _module_file(root: Path, module: str) -> Path | None:
    """The file of ``module`` (``a.b``: ``a/b.py`` or ``a/b/__init__.py``) under ``root``, if any."""
    base = root.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(path: Path, module: str) -> set[str]:
    """Module names ``path`` imports (``from a import b`` counts as ``a`` and ``a.b``)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def module_files(root: Path, entry: str, packages: tuple[str, ...] = DEPLOYED_PACKAGES) -> list[tuple[str, Path]]:
    """(archive name, file) of ``entry`` and of every module of ``packages`` it imports,
    directly or not, with the ``__init__.py`` of each package on the way."""
    if _module_file(root, entry) is None:
        raise PackagingError(f"no module {entry} under {root}")
    found: dict[str, Path] = {}
    pending = [entry]
    while pending:
        module = pending.pop()
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):  # the module and the packages it lives in
            name = ".".join(parts[:depth])
            path = _module_file(root, name)
            if path is None or name in found:
                continue
            found[name] = path
            pending += [m for m in _imports(path, name) if m.split(".")[0] in packages]
    return sorted((path.relative_to(root).as_posix(), path) for path in found.values())


def _tree_files(root: Path) -> list[tuple[str, Path]]:
    return [(p.relative_to(root).as_posix(), p) for p in root.rglob("*") if p.is_file()]


def write_zip(target: Path, entries: list[tuple[str, bytes]]) -> Path:
    """A reproducible zip: entries sorted by name, fixed dates and permissions."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return target


def runtime_requirements(root: Path = REPO_ROOT) -> list[str]:
    """The producer's runtime dependencies, as pyproject.toml declares them."""
    with open(root / "pyproject.toml", "rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def project_version(root: Path = REPO_ROOT) -> str:
    with open(root / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def install_lambda_dependencies(target: Path, architecture: str, root: Path = REPO_ROOT) -> Path:
    """pip-install the runtime dependencies as Lambda-platform wheels into ``target``.

    The folder is reused while the requirements, the lock and the platform are
    unchanged (a stamp file holds their hash).
    """
    if architecture not in LAMBDA_PLATFORMS:
        raise PackagingError(f"unknown Lambda architecture {architecture!r}; use one of {sorted(LAMBDA_PLATFORMS)}")
    requirements = runtime_requirements(root)
    lock = root / "requirements.lock"
    stamp_text = "\n".join([architecture, LAMBDA_PYTHON_VERSION, *requirements, lock.read_text()])
    stamp = target / ".build-stamp"
    if stamp.is_file() and stamp.read_text() == stamp_text:
        return target
    if target.exists():
        shutil.rmtree(target)
    platforms = [arg for p in LAMBDA_PLATFORMS[architecture] for arg in ("--platform", p)]
    argv = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--target", str(target), *platforms,
        "--implementation", "cp", "--python-version", LAMBDA_PYTHON_VERSION,
        "--only-binary=:all:", "--no-compile",  # bytecode would be for this Python, not 3.12
        "--constraint", str(lock), *requirements,
    ]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackagingError(f"pip could not install the Lambda dependencies:\n{result.stderr.strip()}")
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: useless in Lambda
    stamp.write_text(stamp_text)
    return target


def build_lambda_zip(build_dir: Path, architecture: str = "x86_64", root: Path = REPO_ROOT) -> Artifact:
    deps = install_lambda_dependencies(build_dir / f"lambda-deps-{architecture}", architecture, root)
    entries = {name: path.read_bytes() for name, path in _tree_files(deps) if name != ".build-stamp"}
    for entry in LAMBDA_ENTRY_MODULES:
        for name, path in module_files(root, entry):
            entries[name] = path.read_bytes()  # our code wins over any same-named dependency file
    staging = write_zip(build_dir / f"producer-{architecture}.zip", list(entries.items()))
    return Artifact(staging, f"lambda/producer-{architecture}-{content_hash(staging)}.zip")


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_glue_wheel(build_dir: Path, root: Path = REPO_ROOT) -> Artifact:
    """A py3-none-any wheel of the Glue job's packages, written without a build backend."""
    version = project_version(root)
    dist_info = f"{GLUE_WHEEL_NAME}-{version}.dist-info"
    entries = [(name, path.read_bytes()) for name, path in module_files(root, GLUE_ENTRY_MODULE)]
    entries.append((f"{dist_info}/METADATA", (
        f"Metadata-Version: 2.1\nName: {GLUE_WHEEL_NAME}\nVersion: {version}\n"
        "Summary: Spotify chart pipeline: the Glue job's modules (glue_streaming and the firehose modules it imports)\n"
        "Requires-Python: >=3.11\n").encode()))
    entries.append((f"{dist_info}/WHEEL", (
        "Wheel-Version: 1.0\nGenerator: infra.packaging\nRoot-Is-Purelib: true\nTag: py3-none-any\n").encode()))
    record = io.StringIO()
    for name, data in sorted(entries):
        record.write(f"{name},{_record_hash(data)},{len(data)}\n")
    record.write(f"{dist_info}/RECORD,,\n")
    entries.append((f"{dist_info}/RECORD", record.getvalue().encode()))
    wheel = write_zip(build_dir / f"{GLUE_WHEEL_NAME}-{version}-py3-none-any.whl", entries)
    # pip needs the wheel's own file name, so the hash goes in the folder.
    return Artifact(wheel, f"glue/{content_hash(wheel)}/{wheel.name}")


def glue_script(root: Path = REPO_ROOT) -> Artifact:
    script = root / "glue_streaming" / "job.py"
    if not script.is_file():
        raise PackagingError(f"{script} does not exist: the Glue job's entry point is missing")
    return Artifact(script, f"glue/{content_hash(script)}/job.py")


def template_artifact(template: Path) -> Artifact:
    return Artifact(template, f"templates/{template.stem}-{content_hash(template)}{template.suffix}")
