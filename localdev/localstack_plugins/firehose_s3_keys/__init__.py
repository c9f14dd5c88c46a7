"""Firehose S3 object keys as AWS builds them, for LocalStack (localstack/localstack#10292).

LocalStack 2026.3 leaves a prefix's ``!{timestamp:...}`` expressions as literal text and
always appends ``YYYY/MM/DD/HH/``. AWS evaluates them, and appends nothing when the prefix
holds a timestamp expression. Keys full of ``{`` and ``}`` are not only wrong: Spark takes
them for glob patterns and lists the whole folder for each file (measured: 100 files, 5.2 s
with AWS's keys, 70.9 s with LocalStack's).
"""
