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
-- Stored by the merge task (V11__chart_store.sql, refresh_chart_store in
-- snowflake_only/R__chart_store_refresh.sql), which computes them from chart_reads and
-- chart_snapshots by these rules:
-- * the day editions: each day's chart, the snapshot of the day's latest read (latest
--   observed_at, then the greatest snapshot id);
-- * the snapshot editions: every snapshot of a playlist, dated by its first sighting; for
--   an export, the day charts' snapshots (a replaced file is no edition);
-- * numbered per grain and playlist by chart_date, observed_at, snapshot_id, each with
--   the previous edition's date and snapshot; missing_days = the days between the two
--   less the cadence (7 for a weekly export, else 1), never below 0.
CREATE OR REPLACE VIEW chart_editions AS
SELECT grain, playlist_id, chart_label, edition_no, chart_date, snapshot_id, observed_at,
       previous_chart_date, previous_snapshot_id, missing_days
FROM chart_edition_rows;

-- One row per chart (playlist or export): its label, name and origin, its first and last
-- day charts and how many it has (the chart picker, the commands' --chart).
CREATE OR REPLACE VIEW chart_list AS
SELECT playlist_id, MAX(chart_label) AS chart_label, MAX(playlist_name) AS playlist_name,
       MIN(chart_date) AS first_date, MAX(chart_date) AS last_date, COUNT(*) AS days,
       MAX(origin) AS origin
FROM chart_edition_rows
WHERE grain = 'day'
GROUP BY playlist_id;

-- Position, previous position, change and status of every track of every edition, stored
-- by the merge task (chart_movement_rows): an edition's tracks are its snapshot's entries
-- with a track id, each track once at its best position; each is compared with its
-- previous appearance on the chart. previous_position and change only when that is the
-- previous edition; status NEW (no earlier appearance), RE-ENTRY (an earlier one, not on
-- the previous edition), UP / DOWN / SAME. last_chart_date / last_chart_position: the
-- track's previous appearance on this chart (for a RE-ENTRY, when it was last on it).
CREATE OR REPLACE VIEW chart_movements AS
SELECT grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at, edition_no,
       position, previous_position, change, status,
       track_id, track_name, artist_ids, artist_names, streams,
       previous_chart_date, previous_snapshot_id, missing_days,
       last_chart_date, last_chart_position
FROM chart_movement_rows;

-- The tracks of every edition.
CREATE OR REPLACE VIEW chart_edition_entries AS
SELECT grain, playlist_id, chart_label, edition_no, chart_date, snapshot_id,
       observed_at, previous_chart_date, previous_snapshot_id, missing_days,
       position, track_id, track_name, artist_ids, artist_names, streams
FROM chart_movement_rows;

-- Tracks of an edition's previous edition that are not on it: the exits, stored by the
-- merge task (chart_exit_rows). last_position is the track's position on the previous edition.
CREATE OR REPLACE VIEW chart_exits AS
SELECT grain, playlist_id, chart_label, chart_date, snapshot_id, observed_at,
       edition_no, last_position, track_id, track_name, artist_ids,
       artist_names, previous_chart_date, previous_snapshot_id, missing_days
FROM chart_exit_rows;

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

-- Per daily chart and track: its peak position and days on chart up to that date, that day
-- included (what track_chart_stats says of a track, as of the date: old reports stay true).
CREATE OR REPLACE VIEW daily_chart_track_stats AS
SELECT chart_date, playlist_id, chart_label, track_id, peak_position, appearances AS days_on_chart
FROM chart_movement_rows
WHERE grain = 'day';

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
-- Stored by the merge task (chart_artist_rows), flattened from daily_chart's rows this way:
--   FROM daily_chart AS d, LATERAL FLATTEN(input => d.artist_ids) AS a,
--        LATERAL FLATTEN(input => d.artist_names) AS n WHERE a.index = n.index
-- artist_id = a.value, artist_name = n.value, artist_key = COALESCE(artist_id, artist_name).
CREATE OR REPLACE VIEW daily_chart_artists AS
SELECT chart_date, playlist_id, chart_label, position, status, track_id, artist_id, artist_name, artist_key
FROM chart_artist_rows;

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
