-- Real Snowflake only: the task that merges landed rows into the final tables.
--
-- These MERGEs are the pipeline's one deduplication: Firehose and Snowpipe deliver at
-- least once, and the Glue job passes every valid record through, so a record sent,
-- landed or loaded twice meets its twin here, on the contract's natural key, against
-- all history (firehose/contract.py: NATURAL_KEY, OBSERVATION_KEY).
-- Each MERGE reads one landing stream (rows landed since the last successful run) and
-- is idempotent and order-independent: a row merged twice, or rows of two batches
-- merged in either order, give the same final table. Before them, the task notes which
-- playlists the landed rows can change, and from which date (chart_refresh_requests);
-- after them it has the chart store recomputed from there (refresh_chart_store,
-- R__chart_store_refresh.sql). The requests and the MERGEs are one transaction: every
-- statement in it sees the same stream offsets, and the streams advance at its COMMIT
-- (a failed run consumes nothing and is retried whole). Locally, the local Snowpipe
-- (localdev/local_snowflake/snowpipe.py) runs these same statements after each load,
-- with every stream replaced by its landing table (see snowflake/charts/pipes.py).
CREATE OR REPLACE TASK merge_curated_task
    WAREHOUSE = {{ warehouse }}
    SCHEDULE = '{{ merge_schedule }}'
    -- Every failed run is reported to the stack's SnowflakeErrorsTopic; after 10 failures
    -- in a row Snowflake suspends the task (so a suspended task has reported 10 times).
    SUSPEND_TASK_AFTER_NUM_FAILURES = 10
    ERROR_INTEGRATION = {{ notification_integration }}
    COMMENT = 'Merge landed curated rows into chart_entries and chart_observations'
    WHEN SYSTEM$STREAM_HAS_DATA('landing_chart_entries_stream')
      OR SYSTEM$STREAM_HAS_DATA('landing_chart_observations_stream')
AS
EXECUTE IMMEDIATE $$
BEGIN
    BEGIN TRANSACTION;

    -- A landed row can change the charts from its own date, and from the date of every
    -- read of its snapshot (its entries complete that read) and the snapshot's first
    -- sighting: refresh each playlist from the earliest of these.
    INSERT INTO chart_refresh_requests (playlist_id, from_date)
    WITH landed_snapshots AS (
        SELECT DISTINCT playlist_id, snapshot_id FROM landing_chart_entries_stream
    )
    SELECT playlist_id, MIN(chart_date)
    FROM (
        SELECT playlist_id, chart_date FROM landing_chart_entries_stream
        UNION ALL
        SELECT playlist_id, chart_date FROM landing_chart_observations_stream
        UNION ALL
        SELECT o.playlist_id, o.chart_date
        FROM chart_observations AS o
        JOIN landed_snapshots AS l ON l.playlist_id = o.playlist_id AND l.snapshot_id = o.snapshot_id
        UNION ALL
        SELECT c.playlist_id, c.chart_date
        FROM chart_entries AS c
        JOIN landed_snapshots AS l ON l.playlist_id = c.playlist_id AND l.snapshot_id = c.snapshot_id
    ) AS changed
    GROUP BY playlist_id;

    -- chart_entries: the first observation of a key wins (earliest observed_at, then
    -- the earliest batch). A rerun of a batch brings identical rows: nothing changes.
    MERGE INTO chart_entries AS t
    USING (
        SELECT chart_date, playlist_id, chart_label, playlist_name, snapshot_id, poll_id,
               observed_at, position, entry_type, track_id, track_name, artist_ids,
               artist_names, album_id, album_name, album_release_date,
               album_release_date_precision, duration_ms, explicit, isrc, popularity,
               added_at, source_file, batch_id, batch_at, origin, streams, previous_rank,
               peak_rank, days_on_chart, weeks_on_chart, label
        FROM landing_chart_entries_stream
        QUALIFY ROW_NUMBER() OVER (
            PARTITION BY playlist_id, snapshot_id, position
            ORDER BY observed_at, batch_at, batch_id, source_file) = 1
    ) AS s
    ON t.playlist_id = s.playlist_id AND t.snapshot_id = s.snapshot_id AND t.position = s.position
    WHEN MATCHED AND (
            s.observed_at < t.observed_at
         OR (s.observed_at = t.observed_at AND s.batch_at < t.batch_at)
         OR (s.observed_at = t.observed_at AND s.batch_at = t.batch_at AND s.batch_id < t.batch_id))
    THEN UPDATE SET
        chart_date = s.chart_date, chart_label = s.chart_label, playlist_name = s.playlist_name,
        poll_id = s.poll_id, observed_at = s.observed_at, entry_type = s.entry_type,
        track_id = s.track_id, track_name = s.track_name, artist_ids = s.artist_ids,
        artist_names = s.artist_names, album_id = s.album_id, album_name = s.album_name,
        album_release_date = s.album_release_date,
        album_release_date_precision = s.album_release_date_precision,
        duration_ms = s.duration_ms, explicit = s.explicit, isrc = s.isrc,
        popularity = s.popularity, added_at = s.added_at, source_file = s.source_file,
        batch_id = s.batch_id, batch_at = s.batch_at, origin = s.origin, streams = s.streams,
        previous_rank = s.previous_rank, peak_rank = s.peak_rank, days_on_chart = s.days_on_chart,
        weeks_on_chart = s.weeks_on_chart, label = s.label
    WHEN NOT MATCHED THEN INSERT (
        chart_date, playlist_id, chart_label, playlist_name, snapshot_id, poll_id,
        observed_at, position, entry_type, track_id, track_name, artist_ids, artist_names,
        album_id, album_name, album_release_date, album_release_date_precision,
        duration_ms, explicit, isrc, popularity, added_at, source_file, batch_id, batch_at,
        origin, streams, previous_rank, peak_rank, days_on_chart, weeks_on_chart, label)
    VALUES (
        s.chart_date, s.playlist_id, s.chart_label, s.playlist_name, s.snapshot_id, s.poll_id,
        s.observed_at, s.position, s.entry_type, s.track_id, s.track_name, s.artist_ids,
        s.artist_names, s.album_id, s.album_name, s.album_release_date,
        s.album_release_date_precision, s.duration_ms, s.explicit, s.isrc, s.popularity,
        s.added_at, s.source_file, s.batch_id, s.batch_at, s.origin, s.streams, s.previous_rank,
        s.peak_rank, s.days_on_chart, s.weeks_on_chart, s.label);

    -- chart_observations: the first observation of a key (playlist, poll) wins, by the
    -- same order as chart_entries. A rerun of a batch brings identical rows: nothing changes.
    MERGE INTO chart_observations AS t
    USING (
        SELECT chart_date, playlist_id, chart_label, playlist_name, snapshot_id, poll_id,
               observed_at, entry_count, source_file, batch_id, batch_at, origin
        FROM landing_chart_observations_stream
        QUALIFY ROW_NUMBER() OVER (
            PARTITION BY playlist_id, poll_id
            ORDER BY observed_at, batch_at, batch_id, source_file) = 1
    ) AS s
    ON t.playlist_id = s.playlist_id AND t.poll_id = s.poll_id
    WHEN MATCHED AND (
            s.observed_at < t.observed_at
         OR (s.observed_at = t.observed_at AND s.batch_at < t.batch_at)
         OR (s.observed_at = t.observed_at AND s.batch_at = t.batch_at AND s.batch_id < t.batch_id))
    THEN UPDATE SET
        chart_date = s.chart_date, chart_label = s.chart_label, playlist_name = s.playlist_name,
        snapshot_id = s.snapshot_id, observed_at = s.observed_at, entry_count = s.entry_count,
        source_file = s.source_file, batch_id = s.batch_id, batch_at = s.batch_at, origin = s.origin
    WHEN NOT MATCHED THEN INSERT (
        chart_date, playlist_id, chart_label, playlist_name, snapshot_id, poll_id, observed_at,
        entry_count, source_file, batch_id, batch_at, origin)
    VALUES (
        s.chart_date, s.playlist_id, s.chart_label, s.playlist_name, s.snapshot_id, s.poll_id,
        s.observed_at, s.entry_count, s.source_file, s.batch_id, s.batch_at, s.origin);

    COMMIT;
    CALL refresh_chart_store();
END;
$$;

ALTER TASK merge_curated_task RESUME;
