"""The artifacts the stack runs: Glue wheel and script, and the producer's Lambda zip."""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import packaging


def wheel_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as wheel:
        return wheel.namelist()


def test_glue_wheel_holds_the_glue_packages_with_a_valid_record(tmp_path):
    artifact = packaging.build_glue_wheel(tmp_path)
    version = packaging.project_version()
    assert artifact.path.name == f"{packaging.GLUE_WHEEL_NAME}-{version}-py3-none-any.whl"
    assert artifact.key.endswith("/" + artifact.path.name)  # pip needs the real file name
    names = wheel_names(artifact.path)
    code = sorted(n for n in names if not n.startswith(f"{packaging.GLUE_WHEEL_NAME}-"))
    # The job's modules and nothing else: not the Firehose writer, no local tuning, no test hook.
    job_modules = {p.name for p in (packaging.REPO_ROOT / "glue_streaming").glob("*.py")}
    # firehose/ledger.py: the manifests' format, shared with the reconciler; firehose/run_lease.py: the checkpoint's
    # lease, written as the producer writes its state (firehose/s3_json.py).
    assert code == ["firehose/__init__.py", "firehose/contract.py", "firehose/ledger.py", "firehose/run_lease.py",
                    "firehose/s3_json.py"] + \
        [f"glue_streaming/{m}" for m in sorted(job_modules)]
    assert job_modules >= {"__init__.py", "job.py", "publish.py", "transforms.py", "lines.py"}
    with zipfile.ZipFile(artifact.path) as wheel:
        dist_info = f"{packaging.GLUE_WHEEL_NAME}-{version}.dist-info"
        record = wheel.read(f"{dist_info}/RECORD").decode().splitlines()
        assert "Tag: py3-none-any" in wheel.read(f"{dist_info}/WHEEL").decode()
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if name.endswith("RECORD"):
                continue
            data = wheel.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data), name
        assert len(record) == len(names)


def test_an_artifact_takes_its_entry_module_and_what_it_imports_directly_or_not(tmp_path):
    files = {"app/__init__.py": "", "app/main.py": "import os\nfrom app import helpers\nfrom lib.sub import thing\n",
             "app/helpers.py": "from . import text\n", "app/text.py": "import yaml\n", "app/unused.py": "",
             "app/local_only.py": "import app.main\n", "lib/__init__.py": "", "lib/sub/__init__.py": "",
             "lib/sub/thing.py": "", "lib/other.py": "", "tests/test_main.py": "import app.main\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    names = [name for name, _ in packaging.module_files(tmp_path, "app.main", ("app", "lib"))]
    assert names == ["app/__init__.py", "app/helpers.py", "app/main.py", "app/text.py", "lib/__init__.py",
                     "lib/sub/__init__.py", "lib/sub/thing.py"]
    with pytest.raises(packaging.PackagingError, match="no module app.missing"):
        packaging.module_files(tmp_path, "app.missing", ("app",))


def test_artifacts_are_reproducible_and_content_addressed(tmp_path):
    first = packaging.build_glue_wheel(tmp_path / "a")
    second = packaging.build_glue_wheel(tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes() and first.key == second.key
    script = packaging.glue_script()
    assert script.path == packaging.GLUE_SCRIPT and script.key.endswith("/job.py")
    assert packaging.content_hash(script.path) in script.key


@pytest.mark.pip
def test_glue_wheel_installs_with_pip_and_imports(tmp_path):
    wheel = packaging.build_glue_wheel(tmp_path / "build").path
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "--target", str(target), str(wheel)], check=True)
    probe = "import glue_streaming.curated, firehose.contract; print(glue_streaming.curated.__file__)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)},
                            capture_output=True, text=True, check=True)
    assert Path(result.stdout.strip()).is_relative_to(target)


def python312() -> str | None:
    """A Python 3.12 interpreter that runs (pyenv shims may not, so try them)."""
    candidates = [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]
    candidates += [shutil.which("python3.12") or ""]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                          capture_output=True).returncode == 0:
            return candidate
    return None


@pytest.fixture(scope="module")
def lambda_zip(tmp_path_factory):
    return packaging.build_lambda_zip(tmp_path_factory.mktemp("lambda-build"), "x86_64")


@pytest.mark.pip
def test_lambda_zip_holds_code_and_linux_312_dependencies(lambda_zip):
    names = wheel_names(lambda_zip.path)
    ours = sorted(n for n in names if n.startswith(("producer/", "firehose/")))
    producer_modules = sorted(f"producer/{p.name}" for p in (packaging.REPO_ROOT / "producer").glob("*.py"))
    assert ours == [f"firehose/{m}.py" for m in ("__init__", "contract", "ledger", "s3_json", "settings", "writer")] + producer_modules
    assert not [n for n in names if n.startswith(("localdev/", "local_spotify/", "glue_streaming/", "tests/"))]
    assert not [n for n in names if n.endswith(".pyc") or n.startswith("bin/")]
    for package in ("spotipy", "boto3", "aws_lambda_powertools"):
        assert f"{package}/__init__.py" in names
    # Pinned versions from requirements.lock, not whatever is newest.
    lock = dict(line.split("==") for line in (packaging.REPO_ROOT / "requirements.lock").read_text().split()
                if "==" in line)
    assert f"spotipy-{lock['spotipy']}.dist-info/METADATA" in names
    assert f"boto3-{lock['boto3']}.dist-info/METADATA" in names
    # Compiled extensions are for the Lambda runtime, not for the building machine.
    extensions = [n for n in names if n.endswith(".so")]
    assert extensions and all("cpython-312-x86_64-linux-gnu" in n for n in extensions), extensions
    assert lambda_zip.key == f"lambda/producer-x86_64-{packaging.content_hash(lambda_zip.path)}.zip"


@pytest.mark.pip
def test_lambda_zip_rebuild_is_byte_identical(lambda_zip, tmp_path):
    build_dir = lambda_zip.path.parent
    rebuilt = packaging.build_lambda_zip(build_dir, "x86_64")  # reuses the installed dependencies
    assert rebuilt.key == lambda_zip.key


@pytest.mark.pip
def test_lambda_zip_imports_the_handler_on_python_312(lambda_zip, tmp_path):
    interpreter = python312()
    if interpreter is None:
        pytest.skip("no python3.12 on this machine to try the zip with (Lambda's runtime version)")
    code = tmp_path / "task"
    with zipfile.ZipFile(lambda_zip.path) as archive:
        archive.extractall(code)
    probe = ("import producer.handler, spotipy, aws_lambda_powertools, charset_normalizer.md as md; "
             "print(producer.handler.__file__, md.__file__)")
    # -I: only the zip's contents (and the standard library), as in Lambda's /var/task.
    result = subprocess.run([interpreter, "-I", "-c", f"import sys; sys.path.insert(0, {str(code)!r}); {probe}"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    handler_file, md_file = result.stdout.split()
    assert Path(handler_file).is_relative_to(code) and md_file.endswith(".so")


def test_unknown_architecture_is_a_clear_error(tmp_path):
    with pytest.raises(packaging.PackagingError, match="unknown Lambda architecture"):
        packaging.build_lambda_zip(tmp_path, "sparc")
