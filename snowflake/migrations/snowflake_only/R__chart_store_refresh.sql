-- Real Snowflake: the procedure that keeps the chart store (V11__chart_store.sql) current.
--
-- The merge task calls it after its MERGEs; each request in chart_refresh_requests says
-- "playlist P changed on or after date D". For each such playlist it deletes the stored
-- editions, movements and exits dated D or later and computes them again, continuing
-- the numbering and the comparisons from what is stored before D. So a refresh costs
-- what changed, not all history, and the views that read the store cost what they show.
-- The definitions are those of R__chart_views.sql (read its header); this file computes
-- them incrementally. Locally, the local Snowpipe (localdev/local_snowflake/loader.py)
-- runs these same statements after its merges (snowflake/charts/pipes.py reads them).
--
-- Every statement is deterministic over the final tables: a refresh run twice, or a
-- request for an earlier date than needed, gives the same store.
CREATE OR REPLACE PROCEDURE refresh_chart_store()
    RETURNS VARCHAR
    LANGUAGE SQL
    COMMENT = 'Recompute the stored chart editions, movements and exits the merge task asked for'
AS
$$
BEGIN
    BEGIN TRANSACTION;

    DELETE FROM chart_edition_rows AS e
    USING (SELECT playlist_id, MIN(from_date) AS from_date FROM chart_refresh_requests GROUP BY playlist_id) AS s
    WHERE s.playlist_id = e.playlist_id AND e.chart_date >= s.from_date;

    -- Editions dated on or after a playlist's from_date: as chart_editions defines them,
    -- numbered after the last one kept, each compared with the edition before it.
    INSERT INTO chart_edition_rows (grain, playlist_id, chart_label, edition_no, chart_date, snapshot_id,
                                    observed_at, previous_chart_date, previous_snapshot_id, missing_days,
                                    origin, playlist_name)
    WITH scope AS (
        SELECT playlist_id, MIN(from_date) AS from_date FROM chart_refresh_requests GROUP BY playlist_id
    ), touched AS (  -- the snapshots with an entry or a read in the period
        SELECT c.playlist_id, c.snapshot_id
        FROM chart_entries AS c JOIN scope AS s ON s.playlist_id = c.playlist_id AND c.chart_date >= s.from_date
        UNION
        SELECT o.playlist_id, o.snapshot_id
        FROM chart_observations AS o JOIN scope AS s ON s.playlist_id = o.playlist_id AND o.chart_date >= s.from_date
    ), snapshots AS (  -- chart_snapshots' rows of those snapshots
        SELECT c.playlist_id, c.snapshot_id, MAX(c.origin) AS origin, MAX(c.chart_label) AS chart_label,
               MAX(c.playlist_name) AS playlist_name, MIN(c.chart_date) AS chart_date,
               MIN(c.observed_at) AS observed_at, COUNT(*) AS entries
        FROM chart_entries AS c
        JOIN touched AS t ON t.playlist_id = c.playlist_id AND t.snapshot_id = c.snapshot_id
        GROUP BY c.playlist_id, c.snapshot_id
    ), reads AS (  -- chart_reads' rows in the period
        SELECT o.playlist_id, o.chart_label, o.snapshot_id, o.chart_date, o.observed_at, n.origin, n.playlist_name
        FROM chart_observations AS o
        JOIN scope AS s ON s.playlist_id = o.playlist_id AND o.chart_date >= s.from_date
        JOIN snapshots AS n ON n.playlist_id = o.playlist_id AND n.snapshot_id = o.snapshot_id
        WHERE n.entries >= o.entry_count
        UNION ALL
        SELECT n.playlist_id, n.chart_label, n.snapshot_id, n.chart_date, n.observed_at, n.origin, n.playlist_name
        FROM snapshots AS n
        JOIN scope AS s ON s.playlist_id = n.playlist_id AND n.chart_date >= s.from_date
        WHERE NOT EXISTS (SELECT 1 FROM chart_observations AS o
                          WHERE o.playlist_id = n.playlist_id AND o.snapshot_id = n.snapshot_id)
    ), day_charts AS (
        SELECT * FROM reads
        QUALIFY ROW_NUMBER() OVER (
            PARTITION BY playlist_id, chart_date ORDER BY observed_at DESC, snapshot_id DESC) = 1
    ), fresh AS (
        SELECT 'snapshot' AS grain, n.playlist_id, n.chart_label, n.chart_date, n.snapshot_id, n.observed_at,
               n.origin, n.playlist_name
        FROM snapshots AS n
        JOIN scope AS s ON s.playlist_id = n.playlist_id AND n.chart_date >= s.from_date
        WHERE n.origin = 'playlist'
        UNION ALL  -- an export's snapshots: those in force (a replaced file is no edition)
        SELECT 'snapshot' AS grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at, origin,
               playlist_name
        FROM day_charts
        WHERE origin = 'chart_export'
        UNION ALL
        SELECT 'day' AS grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at, origin,
               playlist_name
        FROM day_charts
    ), kept AS (  -- the last edition kept of each grain and playlist in scope
        SELECT e.grain, e.playlist_id, e.chart_label, e.edition_no, e.chart_date, e.snapshot_id, e.observed_at,
               e.origin, e.playlist_name
        FROM chart_edition_rows AS e
        JOIN scope AS s ON s.playlist_id = e.playlist_id
        QUALIFY ROW_NUMBER() OVER (PARTITION BY e.grain, e.playlist_id ORDER BY e.edition_no DESC) = 1
    ), numbered AS (
        SELECT f.*, TRUE AS is_fresh,
               COALESCE(k.edition_no, 0) + ROW_NUMBER() OVER (
                   PARTITION BY f.grain, f.playlist_id ORDER BY f.chart_date, f.observed_at, f.snapshot_id) AS edition_no
        FROM fresh AS f
        LEFT JOIN kept AS k ON k.grain = f.grain AND k.playlist_id = f.playlist_id
        UNION ALL
        SELECT grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at, origin, playlist_name,
               FALSE AS is_fresh, edition_no
        FROM kept
    ), compared AS (
        SELECT numbered.*,
               IFF(playlist_id LIKE '%-weekly', 7, 1) AS cadence_days,
               LAG(chart_date) OVER (PARTITION BY grain, playlist_id ORDER BY edition_no) AS previous_chart_date,
               LAG(snapshot_id) OVER (PARTITION BY grain, playlist_id ORDER BY edition_no) AS previous_snapshot_id
        FROM numbered
    )
    SELECT grain, playlist_id, chart_label, edition_no, chart_date, snapshot_id, observed_at,
           previous_chart_date, previous_snapshot_id,
           GREATEST(DATEDIFF(day, previous_chart_date, chart_date) - cadence_days, 0) AS missing_days,
           origin, playlist_name
    FROM compared
    WHERE is_fresh;

    DELETE FROM chart_movement_rows AS m
    USING (SELECT playlist_id, MIN(from_date) AS from_date FROM chart_refresh_requests GROUP BY playlist_id) AS s
    WHERE s.playlist_id = m.playlist_id AND m.chart_date >= s.from_date;

    -- The tracks of the new editions (chart_edition_entries), each compared with its last
    -- appearance: in the new editions, or else the last one kept (chart_movements); with
    -- its appearances on the chart and its best position so far, this edition included.
    INSERT INTO chart_movement_rows (grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at,
                                     edition_no, position, previous_position, change, status, track_id,
                                     track_name, artist_ids, artist_names, streams, previous_chart_date,
                                     previous_snapshot_id, missing_days, last_chart_date, last_chart_position,
                                     appearances, peak_position)
    WITH scope AS (
        SELECT playlist_id, MIN(from_date) AS from_date FROM chart_refresh_requests GROUP BY playlist_id
    ), entries AS (
        SELECT e.grain, e.playlist_id, e.chart_label, e.edition_no, e.chart_date, e.snapshot_id, e.observed_at,
               e.previous_chart_date, e.previous_snapshot_id, e.missing_days,
               c.position, c.track_id, c.track_name, c.artist_ids, c.artist_names, c.streams
        FROM chart_edition_rows AS e
        JOIN scope AS s ON s.playlist_id = e.playlist_id AND e.chart_date >= s.from_date
        JOIN chart_entries AS c ON c.playlist_id = e.playlist_id AND c.snapshot_id = e.snapshot_id
        WHERE c.track_id IS NOT NULL
        QUALIFY ROW_NUMBER() OVER (
            PARTITION BY e.grain, e.playlist_id, e.edition_no, c.track_id ORDER BY c.position) = 1
    ), appearances AS (
        SELECT grain, playlist_id, track_id, edition_no, position, chart_date, 1 AS appearances,
               position AS peak_position, TRUE AS is_fresh
        FROM entries
        UNION ALL  -- what is kept of each track of the new editions: its last appearance, counts to it
        SELECT m.grain, m.playlist_id, m.track_id, MAX(m.edition_no), MAX_BY(m.position, m.edition_no),
               MAX(m.chart_date), MAX(m.appearances), MIN(m.peak_position), FALSE AS is_fresh
        FROM chart_movement_rows AS m
        JOIN scope AS s ON s.playlist_id = m.playlist_id AND m.chart_date < s.from_date
        JOIN (SELECT DISTINCT grain, playlist_id, track_id FROM entries) AS t
          ON t.grain = m.grain AND t.playlist_id = m.playlist_id AND t.track_id = m.track_id
        GROUP BY m.grain, m.playlist_id, m.track_id
    ), lagged AS (
        SELECT grain, playlist_id, track_id, edition_no, is_fresh,
               LAG(edition_no) OVER (PARTITION BY grain, playlist_id, track_id ORDER BY edition_no) AS last_edition_no,
               LAG(position) OVER (PARTITION BY grain, playlist_id, track_id ORDER BY edition_no) AS last_chart_position,
               LAG(chart_date) OVER (PARTITION BY grain, playlist_id, track_id ORDER BY edition_no) AS last_chart_date,
               SUM(appearances) OVER (PARTITION BY grain, playlist_id, track_id ORDER BY edition_no
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS appearances,
               MIN(peak_position) OVER (PARTITION BY grain, playlist_id, track_id ORDER BY edition_no
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS peak_position
        FROM appearances
    )
    SELECT x.grain, x.playlist_id, x.chart_label, x.chart_date, x.snapshot_id, x.observed_at, x.edition_no,
           x.position,
           IFF(l.last_edition_no = x.edition_no - 1, l.last_chart_position, NULL) AS previous_position,
           IFF(l.last_edition_no = x.edition_no - 1, l.last_chart_position - x.position, NULL) AS change,
           CASE
               WHEN l.last_edition_no IS NULL THEN 'NEW'
               WHEN l.last_edition_no < x.edition_no - 1 THEN 'RE-ENTRY'
               WHEN l.last_chart_position > x.position THEN 'UP'
               WHEN l.last_chart_position < x.position THEN 'DOWN'
               ELSE 'SAME'
           END AS status,
           x.track_id, x.track_name, x.artist_ids, x.artist_names, x.streams,
           x.previous_chart_date, x.previous_snapshot_id, x.missing_days,
           l.last_chart_date, l.last_chart_position, l.appearances, l.peak_position
    FROM entries AS x
    JOIN lagged AS l
      ON l.is_fresh AND l.grain = x.grain AND l.playlist_id = x.playlist_id AND l.track_id = x.track_id
     AND l.edition_no = x.edition_no;

    DELETE FROM chart_exit_rows AS x
    USING (SELECT playlist_id, MIN(from_date) AS from_date FROM chart_refresh_requests GROUP BY playlist_id) AS s
    WHERE s.playlist_id = x.playlist_id AND x.chart_date >= s.from_date;

    -- Exits from the new editions: the tracks of the edition before each (a new one, or
    -- the last one kept) that are not on it (chart_exits).
    INSERT INTO chart_exit_rows (grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at, edition_no,
                                 last_position, track_id, track_name, artist_ids, artist_names, previous_chart_date,
                                 previous_snapshot_id, missing_days)
    WITH scope AS (
        SELECT playlist_id, MIN(from_date) AS from_date FROM chart_refresh_requests GROUP BY playlist_id
    ), fresh AS (
        SELECT e.*
        FROM chart_edition_rows AS e
        JOIN scope AS s ON s.playlist_id = e.playlist_id AND e.chart_date >= s.from_date
    ), last_kept AS (
        SELECT e.grain, e.playlist_id, e.edition_no
        FROM chart_edition_rows AS e
        JOIN scope AS s ON s.playlist_id = e.playlist_id AND e.chart_date < s.from_date
        QUALIFY ROW_NUMBER() OVER (PARTITION BY e.grain, e.playlist_id ORDER BY e.edition_no DESC) = 1
    ), appearances AS (
        SELECT m.grain, m.playlist_id, m.edition_no, m.position, m.track_id, m.track_name, m.artist_ids,
               m.artist_names
        FROM chart_movement_rows AS m
        JOIN scope AS s ON s.playlist_id = m.playlist_id AND m.chart_date >= s.from_date
        UNION ALL
        SELECT m.grain, m.playlist_id, m.edition_no, m.position, m.track_id, m.track_name, m.artist_ids,
               m.artist_names
        FROM chart_movement_rows AS m
        JOIN last_kept AS k ON k.grain = m.grain AND k.playlist_id = m.playlist_id AND k.edition_no = m.edition_no
    ), followed AS (
        SELECT appearances.*,
               LEAD(edition_no) OVER (PARTITION BY grain, playlist_id, track_id ORDER BY edition_no) AS next_edition_no
        FROM appearances
    )
    SELECT n.grain, n.playlist_id, n.chart_label, n.chart_date, n.snapshot_id, n.observed_at, n.edition_no,
           a.position AS last_position, a.track_id, a.track_name, a.artist_ids, a.artist_names,
           n.previous_chart_date, n.previous_snapshot_id, n.missing_days
    FROM followed AS a
    JOIN fresh AS n ON n.grain = a.grain AND n.playlist_id = a.playlist_id AND n.edition_no = a.edition_no + 1
    WHERE a.next_edition_no IS NULL OR a.next_edition_no > a.edition_no + 1;

    DELETE FROM chart_artist_rows AS a
    USING (SELECT playlist_id, MIN(from_date) AS from_date FROM chart_refresh_requests GROUP BY playlist_id) AS s
    WHERE s.playlist_id = a.playlist_id AND a.chart_date >= s.from_date;

    -- One row per artist of every track of the new daily charts (daily_chart_artists).
    INSERT INTO chart_artist_rows (chart_date, playlist_id, chart_label, position, status, track_id, artist_id,
                                   artist_name, artist_key)
    SELECT d.chart_date, d.playlist_id, d.chart_label, d.position, d.status, d.track_id,
           a.value::VARCHAR AS artist_id, n.value::VARCHAR AS artist_name,
           COALESCE(a.value::VARCHAR, n.value::VARCHAR) AS artist_key
    FROM (SELECT m.*  -- the new rows, before flattening
          FROM chart_movement_rows AS m
          JOIN (SELECT playlist_id, MIN(from_date) AS from_date FROM chart_refresh_requests GROUP BY playlist_id) AS s
            ON s.playlist_id = m.playlist_id AND m.chart_date >= s.from_date
          WHERE m.grain = 'day') AS d,
         LATERAL FLATTEN(input => d.artist_ids) AS a,
         LATERAL FLATTEN(input => d.artist_names) AS n
    WHERE a.index = n.index;

    DELETE FROM chart_refresh_requests;

    COMMIT;
    RETURN 'chart store refreshed';
END;
$$;

-- What an upgrade enqueued (V11__chart_store.sql: every playlist held, from its first date).
CALL refresh_chart_store();
