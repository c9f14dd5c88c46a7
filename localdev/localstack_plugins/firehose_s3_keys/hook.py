"""The LocalStack hook: Firehose's S3 destination builds its keys with ``keys.object_key``."""
from __future__ import annotations

from datetime import datetime, timezone

from localstack.runtime import hooks


@hooks.on_infra_start()
def evaluate_firehose_s3_prefixes() -> None:
    from localstack.services.firehose.provider import FirehoseProvider

    from firehose_s3_keys.keys import object_key

    def _get_s3_object_path(self, stream_name, prefix, file_extension):
        return object_key(prefix or "", stream_name, datetime.now(timezone.utc), file_extension or "")

    FirehoseProvider._get_s3_object_path = _get_s3_object_path
