-- Chart observations: one row per chart and successful poll, the snapshot it saw and
-- when (glue_streaming/curated.py: CHART_OBSERVATIONS_DATASET; tests/snowflake/test_schema.py
-- checks the columns). The views build each day's chart from them: the snapshot of the
-- day's latest observation, so a day on which the chart did not change still has a chart.
-- Types as in V2: string -> VARCHAR, long -> NUMBER(38,0), date -> DATE,
-- timestamp -> TIMESTAMP_NTZ (always UTC).

CREATE TABLE IF NOT EXISTS landing_chart_observations (
    chart_date DATE NOT NULL,
    playlist_id VARCHAR NOT NULL,
    chart_label VARCHAR NOT NULL,
    playlist_name VARCHAR NOT NULL,
    snapshot_id VARCHAR NOT NULL,
    poll_id VARCHAR NOT NULL,
    observed_at TIMESTAMP_NTZ NOT NULL,
    entry_count NUMBER(38,0) NOT NULL,
    source_file VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    batch_at TIMESTAMP_NTZ NOT NULL
);

-- Key (playlist_id, poll_id). The first observation of a key wins (a poll's records
-- delivered twice carry the same values).
CREATE TABLE IF NOT EXISTS chart_observations (
    chart_date DATE NOT NULL,
    playlist_id VARCHAR NOT NULL,
    chart_label VARCHAR NOT NULL,
    playlist_name VARCHAR NOT NULL,
    snapshot_id VARCHAR NOT NULL,
    poll_id VARCHAR NOT NULL,
    observed_at TIMESTAMP_NTZ NOT NULL,
    entry_count NUMBER(38,0) NOT NULL,
    source_file VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    batch_at TIMESTAMP_NTZ NOT NULL,
    PRIMARY KEY (playlist_id, poll_id)
);
