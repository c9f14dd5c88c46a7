"""Build what AWS Glue needs to run the job: the entry script and a zip of the code.

    python -m glue_streaming.package OUT_DIR

writes ``OUT_DIR/glue_streaming_job.py`` (the job's ``ScriptLocation``) and
``OUT_DIR/glue_streaming.zip`` (its ``--extra-py-files``: the ``glue_streaming`` and
``firehose`` packages, which the job imports). Upload both to the artifacts bucket.
"""
from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("glue_streaming", "firehose")
SCRIPT_NAME = "glue_streaming_job.py"
ZIP_NAME = "glue_streaming.zip"
ENTRY_SCRIPT = '''"""AWS Glue entry script of the Glue streaming job; the code comes with --extra-py-files."""
from glue_streaming.job import main

main()
'''


def build(out_dir: str | Path) -> tuple[Path, Path]:
    """Write the entry script and the code zip; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    script = out / SCRIPT_NAME
    script.write_text(ENTRY_SCRIPT)
    archive = out / ZIP_NAME
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for package in PACKAGES:
            for path in sorted((REPO / package).rglob("*.py")):
                # A fixed timestamp: the same code gives the same zip (and S3 ETag).
                info = zipfile.ZipInfo(str(path.relative_to(REPO)), date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zipped.writestr(info, path.read_bytes())
    return script, archive


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m glue_streaming.package", description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    script, archive = build(parser.parse_args().out_dir)
    print(f"wrote {script} and {archive}")


if __name__ == "__main__":
    main()
