-- Chart-monitoring views over chart_entries (one row per position of a snapshot) and
-- chart_observations (one row per successful read of a chart: the snapshot seen, when).
-- Repeatable migration: re-applied whenever this file changes.
--
-- Definitions (snowflake/README.md explains them with examples):
-- * Dates are UTC. A read is dated by its chart_date: the date its source stated (a daily
--   CSV export), else the UTC date of observed_at (when Spotify answered the producer).
-- * A DAY's chart of a playlist is the snapshot of the day's latest read. A day on which
--   the playlist was read and found unchanged has a chart: the snapshot in force. A day
--   with no successful read (the producer down, Spotify failing, a day missing from
--   replayed data) has no chart.
-- * The reads are the observation records, and for a snapshot no observation names
--   (records of contract version 1), its first sighting in its entries. A read of a
--   snapshot whose entries are not all loaded (yet) is left out: it would look like an
--   empty or a cut chart.
-- * Two origins: a playlist the producer read ('playlist') and a charts.spotify.com CSV
--   export a user imported ('chart_export', chart_label = the file's alias, e.g.
--   'regional-ar-daily'). An export is one read of its chart for its file's date; an
--   export imported again for a date already held replaces the earlier one in every view
--   (its read is later), and a weekly export ('...-weekly') is one edition per file date.
-- * An edition is one chart the movements compare: every snapshot of a playlist (grain
--   'snapshot', dated by its first sighting) or, for an export, the snapshot in force on
--   its date; or one per day with a chart (grain 'day'). Each edition
--   is compared with the playlist's previous AVAILABLE edition: a date with no chart is
--   never treated as a chart with no tracks, so nobody "exits" on it and nobody
--   "re-enters" after it. missing_days says how many calendar dates of the chart's
--   cadence lie between an edition and the one it is compared with (a weekly chart's
--   cadence is 7 days: consecutive weeks miss 0).
-- * status: NEW (never on this chart before), RE-ENTRY (on it before, but not on the
--   previous edition), UP / DOWN / SAME (on the previous edition). The first edition of
--   a chart in the data is all NEW: there is no earlier history to compare with.
-- * change = previous_position - position: positive means the track climbed.
-- * Entries without a track id (local files) are not tracked; a track listed twice in one
--   edition counts once, at its best position.
-- * streams: what an export states for the entry's day or week (null for a playlist, and
--   for viral charts, which state none); total_streams sums them over a track's editions.

-- One row per snapshot of a playlist, from its entries: when it was first seen.
CREATE OR REPLACE VIEW chart_snapshots AS
SELECT playlist_id,
       snapshot_id,
       MAX(origin) AS origin,
       MAX(chart_label) AS chart_label,
       MAX(playlist_name) AS playlist_name,
       MIN(chart_date) AS chart_date,
       MIN(observed_at) AS observed_at,
       COUNT(*) AS entries
FROM chart_entries
GROUP BY playlist_id, snapshot_id;

-- Every successful read of a chart, usable to date a chart: an observation once all the
-- entries of its snapshot are loaded (entry_count of them), and for a snapshot no
-- observation names (contract version 1), its first sighting in its entries (poll_id null).
CREATE OR REPLACE VIEW chart_reads AS
SELECT o.playlist_id, o.chart_label, o.snapshot_id, o.chart_date, o.observed_at, o.poll_id, s.origin
FROM chart_observations AS o
JOIN chart_snapshots AS s ON s.playlist_id = o.playlist_id AND s.snapshot_id = o.snapshot_id
WHERE s.entries >= o.entry_count
UNION ALL
SELECT s.playlist_id, s.chart_label, s.snapshot_id, s.chart_date, s.observed_at, NULL AS poll_id, s.origin
FROM chart_snapshots AS s
WHERE NOT EXISTS (SELECT 1 FROM chart_observations AS o
                  WHERE o.playlist_id = s.playlist_id AND o.snapshot_id = s.snapshot_id);

-- The editions of every chart, numbered per playlist and grain, each with the previous one.
CREATE OR REPLACE VIEW chart_editions AS
WITH day_charts AS (
    SELECT playlist_id, chart_label, chart_date, snapshot_id, observed_at, origin
    FROM chart_reads
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY playlist_id, chart_date ORDER BY observed_at DESC, snapshot_id DESC) = 1
), editions AS (
    SELECT 'snapshot' AS grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at
    FROM chart_snapshots
    WHERE origin = 'playlist'
    UNION ALL  -- an export's snapshots: those in force (a replaced file is no edition)
    SELECT 'snapshot' AS grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at
    FROM day_charts
    WHERE origin = 'chart_export'
    UNION ALL
    SELECT 'day' AS grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at
    FROM day_charts
), numbered AS (
    SELECT grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at,
           IFF(playlist_id LIKE '%-weekly', 7, 1) AS cadence_days,
           ROW_NUMBER() OVER (PARTITION BY grain, playlist_id ORDER BY chart_date, observed_at, snapshot_id) AS edition_no,
           LAG(chart_date) OVER (PARTITION BY grain, playlist_id ORDER BY chart_date, observed_at, snapshot_id) AS previous_chart_date,
           LAG(snapshot_id) OVER (PARTITION BY grain, playlist_id ORDER BY chart_date, observed_at, snapshot_id) AS previous_snapshot_id
    FROM editions
)
SELECT grain, playlist_id, chart_label, edition_no, chart_date, snapshot_id, observed_at,
       previous_chart_date, previous_snapshot_id,
       GREATEST(DATEDIFF(day, previous_chart_date, chart_date) - cadence_days, 0) AS missing_days
FROM numbered;

-- The tracks of every edition.
CREATE OR REPLACE VIEW chart_edition_entries AS
SELECT e.grain, e.playlist_id, e.chart_label, e.edition_no, e.chart_date, e.snapshot_id,
       e.observed_at, e.previous_chart_date, e.previous_snapshot_id, e.missing_days,
       c.position, c.track_id, c.track_name, c.artist_ids, c.artist_names, c.streams
FROM chart_editions AS e
JOIN chart_entries AS c
  ON c.playlist_id = e.playlist_id AND c.snapshot_id = e.snapshot_id
WHERE c.track_id IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
    PARTITION BY e.grain, e.playlist_id, e.edition_no, c.track_id ORDER BY c.position) = 1;

-- Position, previous position, change and status of every track of every edition.
-- last_chart_date / last_chart_position: the track's previous appearance on this chart
-- (for a RE-ENTRY, when it was last on it).
CREATE OR REPLACE VIEW chart_movements AS
WITH appearances AS (
    SELECT x.*,
           LAG(edition_no) OVER (PARTITION BY grain, playlist_id, track_id ORDER BY edition_no) AS last_edition_no,
           LAG(position) OVER (PARTITION BY grain, playlist_id, track_id ORDER BY edition_no) AS last_chart_position,
           LAG(chart_date) OVER (PARTITION BY grain, playlist_id, track_id ORDER BY edition_no) AS last_chart_date
    FROM chart_edition_entries AS x
)
SELECT grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at, edition_no,
       position,
       IFF(last_edition_no = edition_no - 1, last_chart_position, NULL) AS previous_position,
       IFF(last_edition_no = edition_no - 1, last_chart_position - position, NULL) AS change,
       CASE
           WHEN last_edition_no IS NULL THEN 'NEW'
           WHEN last_edition_no < edition_no - 1 THEN 'RE-ENTRY'
           WHEN last_chart_position > position THEN 'UP'
           WHEN last_chart_position < position THEN 'DOWN'
           ELSE 'SAME'
       END AS status,
       track_id, track_name, artist_ids, artist_names, streams,
       previous_chart_date, previous_snapshot_id, missing_days,
       last_chart_date, last_chart_position
FROM appearances;

-- Tracks of an edition's previous edition that are not on it: the exits.
-- last_position is the track's position on the previous edition.
CREATE OR REPLACE VIEW chart_exits AS
WITH appearances AS (
    SELECT x.*,
           LEAD(edition_no) OVER (PARTITION BY grain, playlist_id, track_id ORDER BY edition_no) AS next_edition_no
    FROM chart_edition_entries AS x
)
SELECT n.grain, n.playlist_id, n.chart_label, n.chart_date, n.snapshot_id, n.observed_at,
       n.edition_no, a.position AS last_position, a.track_id, a.track_name, a.artist_ids,
       a.artist_names, n.previous_chart_date, n.previous_snapshot_id, n.missing_days
FROM appearances AS a
JOIN chart_editions AS n
  ON n.grain = a.grain AND n.playlist_id = a.playlist_id AND n.edition_no = a.edition_no + 1
WHERE a.next_edition_no IS NULL OR a.next_edition_no > a.edition_no + 1;

-- The daily chart (the snapshot of each day's latest read; unchanged days included, days
-- without a read absent) with its movements and exits.
CREATE OR REPLACE VIEW daily_chart AS
SELECT chart_date, playlist_id, chart_label, position, previous_position, change, status,
       track_id, track_name, artist_ids, artist_names, previous_chart_date, missing_days,
       last_chart_date, last_chart_position, snapshot_id, observed_at, streams
FROM chart_movements
WHERE grain = 'day';

CREATE OR REPLACE VIEW daily_chart_exits AS
SELECT chart_date, playlist_id, chart_label, last_position, track_id, track_name,
       artist_ids, artist_names, previous_chart_date, missing_days
FROM chart_exits
WHERE grain = 'day';

-- Every snapshot with its movements and exits, compared with the previous snapshot.
CREATE OR REPLACE VIEW snapshot_chart AS
SELECT playlist_id, chart_label, snapshot_id, observed_at, chart_date, position,
       previous_position, change, status, track_id, track_name, artist_ids, artist_names,
       previous_snapshot_id, previous_chart_date, missing_days, last_chart_date,
       last_chart_position, streams
FROM chart_movements
WHERE grain = 'snapshot';

CREATE OR REPLACE VIEW snapshot_chart_exits AS
SELECT playlist_id, chart_label, snapshot_id, observed_at, chart_date, last_position,
       track_id, track_name, artist_ids, artist_names, previous_snapshot_id,
       previous_chart_date, missing_days
FROM chart_exits
WHERE grain = 'snapshot';

-- Per track and chart, over the daily charts: entry, peak, days on chart, current streak.
-- Days count daily charts in the data (a day the chart did not change counts; a day
-- without a chart does not). A streak is a run of consecutive AVAILABLE daily
-- charts: a gap does not break it, and current_streak_missing_days says how many
-- dates without a chart it spans. current_streak is 0 when the track is not on the
-- chart's latest daily chart.
CREATE OR REPLACE VIEW track_chart_stats AS
WITH days AS (
    SELECT playlist_id, chart_label, track_id, track_name, artist_names, chart_date,
           edition_no, position, missing_days, streams,
           edition_no - ROW_NUMBER() OVER (PARTITION BY playlist_id, track_id ORDER BY edition_no) AS run_id
    FROM chart_edition_entries
    WHERE grain = 'day'
), runs AS (
    SELECT days.*,
           MIN(edition_no) OVER (PARTITION BY playlist_id, track_id, run_id) AS run_first_edition_no,
           MAX(edition_no) OVER (PARTITION BY playlist_id, track_id, run_id) AS run_last_edition_no,
           MIN(position) OVER (PARTITION BY playlist_id, track_id) AS peak
    FROM days
), latest AS (
    SELECT playlist_id, MAX(edition_no) AS latest_edition_no, MAX(chart_date) AS latest_chart_date
    FROM chart_editions
    WHERE grain = 'day'
    GROUP BY playlist_id
)
SELECT r.playlist_id,
       MAX(r.chart_label) AS chart_label,
       r.track_id,
       MAX_BY(r.track_name, r.edition_no) AS track_name,
       MAX_BY(r.artist_names, r.edition_no) AS artist_names,
       MIN(r.chart_date) AS entry_date,
       MIN_BY(r.position, r.edition_no) AS entry_position,
       MIN(r.position) AS peak_position,
       MIN(IFF(r.position = r.peak, r.chart_date, NULL)) AS peak_date,
       COUNT_IF(r.position = r.peak) AS days_at_peak,
       COUNT(*) AS days_on_chart,
       MAX(r.chart_date) AS last_chart_date,
       MAX_BY(r.position, r.edition_no) AS last_position,
       MAX(l.latest_chart_date) AS latest_chart_date,
       COUNT_IF(r.run_last_edition_no = l.latest_edition_no) AS current_streak,
       MIN(IFF(r.run_last_edition_no = l.latest_edition_no, r.chart_date, NULL)) AS current_streak_since,
       SUM(IFF(r.run_last_edition_no = l.latest_edition_no AND r.edition_no > r.run_first_edition_no,
               r.missing_days, 0)) AS current_streak_missing_days,
       SUM(r.streams) AS total_streams
FROM runs AS r
JOIN latest AS l ON l.playlist_id = r.playlist_id
GROUP BY r.playlist_id, r.track_id;

-- Biggest climbers and fallers of each daily chart (tracks on both it and the previous
-- available chart): mover_rank 1 is the biggest move of its direction that day.
CREATE OR REPLACE VIEW daily_biggest_movers AS
WITH moves AS (
    SELECT chart_date, playlist_id, chart_label,
           IFF(change > 0, 'CLIMBER', 'FALLER') AS direction,
           track_id, track_name, artist_names, previous_position, position, change,
           previous_chart_date, missing_days
    FROM daily_chart
    WHERE change <> 0
)
SELECT chart_date, playlist_id, chart_label, direction,
       RANK() OVER (PARTITION BY playlist_id, chart_date, direction ORDER BY ABS(change) DESC) AS mover_rank,
       track_id, track_name, artist_names, previous_position, position, change,
       previous_chart_date, missing_days
FROM moves;

-- One row per artist of every track of every daily chart (artist_ids and artist_names
-- are aligned arrays). An export names its artists as one credited string and no ids
-- ('SZA, Phoebe Bridgers': a name may hold a comma, so it is not split): artist_id is
-- null there and artist_key, what the per-artist views group by, is the name.
CREATE OR REPLACE VIEW daily_chart_artists AS
SELECT d.chart_date, d.playlist_id, d.chart_label, d.position, d.status, d.track_id,
       a.value::VARCHAR AS artist_id, n.value::VARCHAR AS artist_name,
       COALESCE(a.value::VARCHAR, n.value::VARCHAR) AS artist_key
FROM daily_chart AS d,
     LATERAL FLATTEN(input => d.artist_ids) AS a,
     LATERAL FLATTEN(input => d.artist_names) AS n
WHERE a.index = n.index;

-- Per artist and daily chart: how many tracks, the best position, how many are new.
CREATE OR REPLACE VIEW daily_artist_counts AS
SELECT chart_date, playlist_id, MAX(chart_label) AS chart_label, MAX(artist_id) AS artist_id,
       MAX(artist_name) AS artist_name,
       COUNT(DISTINCT track_id) AS tracks_on_chart,
       MIN(position) AS best_position,
       COUNT(DISTINCT IFF(status = 'NEW', track_id, NULL)) AS new_tracks
FROM daily_chart_artists
GROUP BY chart_date, playlist_id, artist_key;

-- Per artist and chart over all daily charts.
CREATE OR REPLACE VIEW artist_chart_stats AS
SELECT playlist_id, MAX(chart_label) AS chart_label, MAX(artist_id) AS artist_id,
       MAX(artist_name) AS artist_name,
       COUNT(DISTINCT track_id) AS distinct_tracks,
       COUNT(DISTINCT chart_date) AS days_on_chart,
       COUNT(*) AS track_days,
       MIN(position) AS best_position,
       MIN(chart_date) AS first_chart_date,
       MAX(chart_date) AS last_chart_date
FROM daily_chart_artists
GROUP BY playlist_id, artist_key;
