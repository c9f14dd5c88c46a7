"""Delivery stream settings shared by the stack, the local run and the tests.

Real Firehose buffers records and writes gzip objects under the prefix below;
local emulators (LocalStack, moto) write each PutRecordBatch as one plain object
and append ``YYYY/MM/DD/HH/`` themselves. Nothing downstream may depend on the
key layout or the compression.
"""

# Near-real-time defaults: a new S3 object at least every minute while polling.
BUFFER_INTERVAL_SECONDS = 60
BUFFER_SIZE_MIB = 5
COMPRESSION = "GZIP"

RAW_PREFIX = "raw/chart_entries/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"
ERROR_OUTPUT_PREFIX = "raw-errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"

# PutRecordBatch limits (AWS service quotas, not tunable).
MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
