"""Dev tooling and local stand-ins: everything that runs the pipeline on one machine.

Uses the deployed code (producer, firehose, glue_streaming, snowflake, infra), the
monitoring command (spotify_charts) and the local Spotify server (local_spotify); none
of them uses this package (tests/test_layers.py checks it)."""
