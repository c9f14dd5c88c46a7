-- The chart store: the editions, movements, exits and artists of every chart, stored (#21 item 7).
--
-- The views used to compute every edition and movement from all history on every read,
-- so a dashboard refresh cost more every day. Now the merge task stores them once, as
-- the rows arrive: after its MERGEs it recomputes, for each playlist it touched, only the
-- editions from the earliest date the new rows can change (refresh_chart_store in
-- snowflake_only/R__chart_store_refresh.sql; locally the local Snowpipe runs the same
-- statements). The views (R__chart_views.sql) read these tables; their columns and
-- meaning are unchanged.
--
-- A late row (a duplicate weeks later, a re-sent snapshot, an export of an old date)
-- asks for a refresh from its own date, so everything after it is renumbered and
-- compared again; everything before it cannot depend on it and is kept.

-- What the merge task asks the refresh to recompute: a playlist from a date on.
CREATE TABLE IF NOT EXISTS chart_refresh_requests (
    playlist_id VARCHAR NOT NULL,
    from_date DATE NOT NULL
);

-- chart_editions' rows, with the snapshot's origin and playlist name (the chart list).
CREATE TABLE IF NOT EXISTS chart_edition_rows (
    grain VARCHAR NOT NULL,
    playlist_id VARCHAR NOT NULL,
    chart_label VARCHAR NOT NULL,
    edition_no NUMBER(38,0) NOT NULL,
    chart_date DATE NOT NULL,
    snapshot_id VARCHAR NOT NULL,
    observed_at TIMESTAMP_NTZ NOT NULL,
    previous_chart_date DATE,
    previous_snapshot_id VARCHAR,
    missing_days NUMBER(38,0),
    origin VARCHAR NOT NULL,
    playlist_name VARCHAR NOT NULL
);

-- chart_movements' rows: one per track of every edition.
CREATE TABLE IF NOT EXISTS chart_movement_rows (
    grain VARCHAR NOT NULL,
    playlist_id VARCHAR NOT NULL,
    chart_label VARCHAR NOT NULL,
    chart_date DATE NOT NULL,
    snapshot_id VARCHAR NOT NULL,
    observed_at TIMESTAMP_NTZ NOT NULL,
    edition_no NUMBER(38,0) NOT NULL,
    position NUMBER(38,0) NOT NULL,
    previous_position NUMBER(38,0),
    change NUMBER(38,0),
    status VARCHAR NOT NULL,
    track_id VARCHAR NOT NULL,
    track_name VARCHAR,
    artist_ids ARRAY,
    artist_names ARRAY,
    streams NUMBER(38,0),
    previous_chart_date DATE,
    previous_snapshot_id VARCHAR,
    missing_days NUMBER(38,0),
    last_chart_date DATE,
    last_chart_position NUMBER(38,0),
    -- The track's appearances on the chart (of this grain) and its best position so far,
    -- this edition included: a day's peak and days on chart without reading all history.
    appearances NUMBER(38,0) NOT NULL,
    peak_position NUMBER(38,0) NOT NULL
);

-- chart_exits' rows: a track of an edition's previous edition that is not on it.
CREATE TABLE IF NOT EXISTS chart_exit_rows (
    grain VARCHAR NOT NULL,
    playlist_id VARCHAR NOT NULL,
    chart_label VARCHAR NOT NULL,
    chart_date DATE NOT NULL,
    snapshot_id VARCHAR NOT NULL,
    observed_at TIMESTAMP_NTZ NOT NULL,
    edition_no NUMBER(38,0) NOT NULL,
    last_position NUMBER(38,0) NOT NULL,
    track_id VARCHAR NOT NULL,
    track_name VARCHAR,
    artist_ids ARRAY,
    artist_names ARRAY,
    previous_chart_date DATE,
    previous_snapshot_id VARCHAR,
    missing_days NUMBER(38,0)
);

-- daily_chart_artists' rows: one per artist of every track of every daily chart.
CREATE TABLE IF NOT EXISTS chart_artist_rows (
    chart_date DATE NOT NULL,
    playlist_id VARCHAR NOT NULL,
    chart_label VARCHAR NOT NULL,
    position NUMBER(38,0) NOT NULL,
    status VARCHAR NOT NULL,
    track_id VARCHAR NOT NULL,
    artist_id VARCHAR,
    artist_name VARCHAR,
    artist_key VARCHAR
);

-- An account that already holds charts: every playlist from its first date (the next
-- refresh_chart_store call, which snowflake_only/R__chart_store_refresh.sql makes at once).
INSERT INTO chart_refresh_requests (playlist_id, from_date)
SELECT playlist_id, MIN(chart_date)
FROM (SELECT playlist_id, chart_date FROM chart_entries
      UNION ALL
      SELECT playlist_id, chart_date FROM chart_observations) AS held
GROUP BY playlist_id;
