"""The host-mode plugins as LocalStack loads them, in LocalStack's own virtualenv (localdev/localstack_plugins).

tests/integration/test_lambda_on_localstack.py runs the Lambda executor and
tests/infra/test_deploy_localstack.py the Firehose keys; this file checks the garbage-collection hooks and where shared Lambda code is unzipped.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from localdev import localstack as ls

pytestmark = pytest.mark.localstack  # needs LocalStack's virtualenv (created here if missing)

SHUTDOWN_HOOKS = """
import gc, json
from localstack.runtime import hooks
plugins = hooks.on_infra_shutdown.manager.load_all_sorted()
before = gc.get_freeze_count()
plugins[-1]()
print(json.dumps({"order": [p.name for p in plugins], "frozen": gc.get_freeze_count() - before}))
"""


def test_the_last_shutdown_hook_freezes_what_localstack_loaded_after_its_services_stopped():
    ls.ensure_venv()
    answer = subprocess.run([str(ls.venv_python()), "-c", SHUTDOWN_HOOKS], capture_output=True, text=True,
                            timeout=120, check=True)
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    order = result["order"]
    assert order[-1] == "freeze_objects_for_a_quick_exit", order
    # After LocalStack's own: the services (and persistence) and the gateway have stopped.
    assert order.index("shutdown_services") < order.index("stop_server") < len(order) - 1, order
    assert result["frozen"] > 10_000  # the loaded modules' objects, left out of exit's collections


START_HOOKS = """
import gc, json
from localstack.runtime import hooks
plugins = hooks.on_infra_start.manager.load_all_sorted()
next(p for p in plugins if p.name == "freeze_what_survives_full_collections")()
from gc_freeze.hook import full_collections
before = gc.get_freeze_count()
survivors = [[n] for n in range(100_000)]  # objects a service keeps, such as stored S3 objects
gc.collect()
print(json.dumps({"order": [p.name for p in plugins], "frozen": gc.get_freeze_count() - before,
                  "collections": full_collections.count, "summary": full_collections.summary()}))
"""


def test_what_survives_a_full_collection_is_frozen_so_the_next_ones_skip_it():
    ls.ensure_venv()
    answer = subprocess.run([str(ls.venv_python()), "-c", START_HOOKS], capture_output=True, text=True,
                            timeout=120, check=True)
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    assert result["order"][0] == "freeze_what_survives_full_collections", result["order"]  # before any service loads
    assert result["frozen"] >= 100_000, result  # the survivors (and what LocalStack loaded) are left out from now on
    # Creating them may start a full collection of its own before gc.collect().
    assert result["collections"] >= 1 and result["summary"].startswith(f"{result['collections']} full"), result


SHARED_CODE_FOLDERS = """
import json, sys, tempfile
tempfile.tempdir = sys.argv[1]
from local_process_lambda.executor import shared_code_folder
digests = ["/b8U/FejsuVaEJI+M+JgJQhlQ9rl0RGZc02fnca1we8=", "not base64!", "c2hvcnQ=", None]
print(json.dumps([str(f) if (f := shared_code_folder(d)) else None for d in digests]))
"""


def test_shared_lambda_code_is_named_by_the_hex_digest_inside_the_temporary_folder(tmp_path):
    """Lambda's CodeSha256 is base64: it holds "/" and "+", and may start with "/" (CI once made /b8U)."""
    ls.ensure_venv()
    answer = subprocess.run([str(ls.venv_python()), "-c", SHARED_CODE_FOLDERS, str(tmp_path)], capture_output=True,
                            text=True, timeout=120, check=True)
    slashed, not_base64, too_short, missing = json.loads(answer.stdout.strip().splitlines()[-1])
    assert slashed == str(tmp_path / "lambda-shared-code" /
                          "fdbf14fc57a3b2e55a10923e33e26025086543dae5d11199734d9f9dc6b5c1ef")
    assert not_base64 is None and too_short is None and missing is None  # each function unzips its own copy
