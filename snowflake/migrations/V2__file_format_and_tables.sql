-- Parquet file format, landing tables (what Snowpipe copies into) and final tables
-- (deduplicated by natural key by the merges in snowflake_only/R__merge_task.sql).
--
-- Columns and types follow glue_streaming/curated.py, the Glue job's output schema
-- (tests/snowflake/test_schema.py checks them against it):
--   string -> VARCHAR, long -> NUMBER(38,0), boolean -> BOOLEAN, date -> DATE,
--   timestamp -> TIMESTAMP_NTZ (always UTC), array<string> -> ARRAY.
-- PRIMARY KEY constraints are informational in Snowflake (not enforced): the merges
-- are what keep the final tables unique.

CREATE FILE FORMAT IF NOT EXISTS parquet_format TYPE = PARQUET;

-- Landing: append-only, one row per row of a loaded file ---------------------------

CREATE TABLE IF NOT EXISTS landing_chart_entries (
    chart_date DATE NOT NULL,
    playlist_id VARCHAR NOT NULL,
    chart_label VARCHAR NOT NULL,
    playlist_name VARCHAR NOT NULL,
    snapshot_id VARCHAR NOT NULL,
    poll_id VARCHAR NOT NULL,
    observed_at TIMESTAMP_NTZ NOT NULL,
    position NUMBER(38,0) NOT NULL,
    entry_type VARCHAR NOT NULL,
    track_id VARCHAR,
    track_name VARCHAR,
    artist_ids ARRAY NOT NULL,
    artist_names ARRAY NOT NULL,
    album_id VARCHAR,
    album_name VARCHAR,
    album_release_date VARCHAR,
    album_release_date_precision VARCHAR,
    duration_ms NUMBER(38,0),
    explicit BOOLEAN,
    isrc VARCHAR,
    popularity NUMBER(38,0),
    added_at TIMESTAMP_NTZ,
    source_file VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    batch_at TIMESTAMP_NTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS landing_tracks (
    track_id VARCHAR NOT NULL,
    track_name VARCHAR,
    artist_ids ARRAY NOT NULL,
    artist_names ARRAY NOT NULL,
    album_id VARCHAR,
    album_name VARCHAR,
    album_release_date VARCHAR,
    album_release_date_precision VARCHAR,
    duration_ms NUMBER(38,0),
    explicit BOOLEAN,
    isrc VARCHAR,
    popularity NUMBER(38,0),
    first_seen_at TIMESTAMP_NTZ NOT NULL,
    last_seen_at TIMESTAMP_NTZ NOT NULL,
    chart_date DATE NOT NULL,
    batch_id VARCHAR NOT NULL,
    batch_at TIMESTAMP_NTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS landing_chart_daily (
    chart_date DATE NOT NULL,
    playlist_id VARCHAR NOT NULL,
    chart_label VARCHAR NOT NULL,
    track_id VARCHAR NOT NULL,
    best_position NUMBER(38,0) NOT NULL,
    worst_position NUMBER(38,0) NOT NULL,
    last_position NUMBER(38,0) NOT NULL,
    snapshots_seen NUMBER(38,0) NOT NULL,
    first_seen_at TIMESTAMP_NTZ NOT NULL,
    last_seen_at TIMESTAMP_NTZ NOT NULL,
    batch_id VARCHAR NOT NULL,
    batch_at TIMESTAMP_NTZ NOT NULL
);

-- Final: one row per natural key ----------------------------------------------------

-- Key (playlist_id, snapshot_id, position). The first observation of a key wins.
CREATE TABLE IF NOT EXISTS chart_entries (
    chart_date DATE NOT NULL,
    playlist_id VARCHAR NOT NULL,
    chart_label VARCHAR NOT NULL,
    playlist_name VARCHAR NOT NULL,
    snapshot_id VARCHAR NOT NULL,
    poll_id VARCHAR NOT NULL,
    observed_at TIMESTAMP_NTZ NOT NULL,
    position NUMBER(38,0) NOT NULL,
    entry_type VARCHAR NOT NULL,
    track_id VARCHAR,
    track_name VARCHAR,
    artist_ids ARRAY NOT NULL,
    artist_names ARRAY NOT NULL,
    album_id VARCHAR,
    album_name VARCHAR,
    album_release_date VARCHAR,
    album_release_date_precision VARCHAR,
    duration_ms NUMBER(38,0),
    explicit BOOLEAN,
    isrc VARCHAR,
    popularity NUMBER(38,0),
    added_at TIMESTAMP_NTZ,
    source_file VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    batch_at TIMESTAMP_NTZ NOT NULL,
    PRIMARY KEY (playlist_id, snapshot_id, position)
);

-- Key track_id. Attributes from the latest sighting; first_seen_at is the earliest.
CREATE TABLE IF NOT EXISTS tracks (
    track_id VARCHAR NOT NULL,
    track_name VARCHAR,
    artist_ids ARRAY NOT NULL,
    artist_names ARRAY NOT NULL,
    album_id VARCHAR,
    album_name VARCHAR,
    album_release_date VARCHAR,
    album_release_date_precision VARCHAR,
    duration_ms NUMBER(38,0),
    explicit BOOLEAN,
    isrc VARCHAR,
    popularity NUMBER(38,0),
    first_seen_at TIMESTAMP_NTZ NOT NULL,
    last_seen_at TIMESTAMP_NTZ NOT NULL,
    chart_date DATE NOT NULL,
    batch_id VARCHAR NOT NULL,
    batch_at TIMESTAMP_NTZ NOT NULL,
    PRIMARY KEY (track_id)
);

-- Key (chart_date, playlist_id, track_id). Each Glue batch writes complete-day
-- aggregates for the dates it touched, so the row of the latest batch supersedes.
CREATE TABLE IF NOT EXISTS chart_daily (
    chart_date DATE NOT NULL,
    playlist_id VARCHAR NOT NULL,
    chart_label VARCHAR NOT NULL,
    track_id VARCHAR NOT NULL,
    best_position NUMBER(38,0) NOT NULL,
    worst_position NUMBER(38,0) NOT NULL,
    last_position NUMBER(38,0) NOT NULL,
    snapshots_seen NUMBER(38,0) NOT NULL,
    first_seen_at TIMESTAMP_NTZ NOT NULL,
    last_seen_at TIMESTAMP_NTZ NOT NULL,
    batch_id VARCHAR NOT NULL,
    batch_at TIMESTAMP_NTZ NOT NULL,
    PRIMARY KEY (chart_date, playlist_id, track_id)
);
