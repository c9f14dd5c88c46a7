-- Real Snowflake only: one auto-ingest pipe per curated dataset.
--
-- S3 notifies the pipes' SQS queue (SHOW PIPES -> notification_channel; every
-- auto-ingest pipe of an account and region shares it) and each pipe loads the new
-- files under its own path. Locally, the local Snowpipe (localdev/local_snowflake/snowpipe.py) reads these
-- very COPY statements and runs them on the file named by the notification, with the
-- stage pointed at a local copy of the object (see snowflake/charts/pipes.py).
--
-- Snowpipe keeps 14 days of load history per pipe: a file notified twice loads once.
-- A file loaded again anyway (a rerun under a new name, a replaced pipe) is harmless:
-- the merges deduplicate by natural key.
--
-- A file Snowpipe cannot load is skipped (ON_ERROR = SKIP_FILE for pipes): every pipe
-- names ERROR_INTEGRATION, so each such file is reported to the stack's
-- SnowflakeErrorsTopic instead of being skipped in silence. A new pipe does the same.

CREATE PIPE IF NOT EXISTS chart_entries_pipe
    AUTO_INGEST = TRUE
    ERROR_INTEGRATION = {{ notification_integration }}
    COMMENT = 'Curated chart entries -> landing_chart_entries'
AS
COPY INTO landing_chart_entries
    FROM @curated_stage/chart_entries/
    PATTERN = '.*[.]parquet'
    FILE_FORMAT = (FORMAT_NAME = 'parquet_format')
    MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE;

CREATE PIPE IF NOT EXISTS tracks_pipe
    AUTO_INGEST = TRUE
    ERROR_INTEGRATION = {{ notification_integration }}
    COMMENT = 'Curated tracks -> landing_tracks'
AS
COPY INTO landing_tracks
    FROM @curated_stage/tracks/
    PATTERN = '.*[.]parquet'
    FILE_FORMAT = (FORMAT_NAME = 'parquet_format')
    MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE;

CREATE PIPE IF NOT EXISTS chart_daily_pipe
    AUTO_INGEST = TRUE
    ERROR_INTEGRATION = {{ notification_integration }}
    COMMENT = 'Curated daily chart aggregates -> landing_chart_daily'
AS
COPY INTO landing_chart_daily
    FROM @curated_stage/chart_daily/
    PATTERN = '.*[.]parquet'
    FILE_FORMAT = (FORMAT_NAME = 'parquet_format')
    MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE;
