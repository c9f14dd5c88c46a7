-- Real Snowflake only: the pipe and the landing stream of the chart observations
-- (V6__chart_observations.sql), as V4 and V5 made them for the other datasets. The merge
-- task (R__merge_task.sql) consumes the stream.
CREATE PIPE IF NOT EXISTS chart_observations_pipe
    AUTO_INGEST = TRUE
    ERROR_INTEGRATION = {{ notification_integration }}
    COMMENT = 'Curated chart observations -> landing_chart_observations'
AS
COPY INTO landing_chart_observations
    FROM @curated_stage/chart_observations/
    PATTERN = '.*[.]parquet'
    FILE_FORMAT = (FORMAT_NAME = 'parquet_format')
    MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE;

CREATE STREAM IF NOT EXISTS landing_chart_observations_stream
    ON TABLE landing_chart_observations APPEND_ONLY = TRUE;
