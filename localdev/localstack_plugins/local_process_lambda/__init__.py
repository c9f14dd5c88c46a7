"""A LocalStack Lambda runtime executor that runs Python functions as local processes.

LocalStack normally runs each Lambda execution environment in a Docker container.
Where there is no Docker engine (CI, this project's machines), this executor starts
``runtime_shim.py`` as a child process in the function's unzipped code folder; the
shim speaks the same small HTTP protocol as LocalStack's container runtime.

- ``plugin.py``: the plux plugin LocalStack finds by ``LAMBDA_RUNTIME_EXECUTOR=local-process``.
- ``executor.py``: the executor (runs inside LocalStack's process).
- ``runtime_shim.py``: the runtime (runs in the child; standard library only).
"""
