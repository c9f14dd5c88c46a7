-- Chart intelligence (#19): records, cross-market spread, the market grid, #1s, lead-lag.
--
-- Built on the views of R__chart_views.sql, whose conventions hold here: a chart's
-- editions are its dates held, in order, each compared with the previous available one;
-- a date without a chart is no edition (it neither breaks a run nor makes an exit); the
-- first edition held is all NEW; a track counts once per edition, at its best position.
-- Everything below reads the DAY editions (grain 'day': a daily chart's dates, a weekly
-- export's file dates) of every chart the pipeline holds, playlists and exports alike.
--
-- Repeatable migrations run in file-name order, so this file's name sorts after
-- R__chart_views.sql, whose views it reads (tests/snowflake/test_migrations.py checks).
--
-- A DAILY COUNTRY CHART is an imported daily regional chart of one market: a chart whose
-- id (an export's alias) has the form 'regional-<cc>-daily', <cc> two characters (the
-- market's ISO 3166-1 alpha-2 code, as charts.spotify.com names it). That leaves out
-- 'regional-global-daily', weekly and viral charts, and the producer's playlists.

-- Every track of every day edition: its best position there and that entry's streams
-- (one row per chart, edition and track). This is chart_edition_entries' day grain
-- narrowed to the columns the views below read: computed once per query, with no window
-- (a window over every entry costs more than all the rest of a query here).
CREATE OR REPLACE VIEW chart_day_entries AS
SELECT e.playlist_id, e.chart_label, e.edition_no, e.chart_date, c.track_id,
       MIN(c.position) AS position,
       MIN_BY(c.streams, c.position) AS streams
FROM chart_editions AS e
JOIN chart_entries AS c
  ON c.playlist_id = e.playlist_id AND c.snapshot_id = e.snapshot_id
WHERE e.grain = 'day' AND c.track_id IS NOT NULL
GROUP BY e.playlist_id, e.chart_label, e.edition_no, e.chart_date, c.track_id;

-- Per chart and track, over its day editions: the edition it ENTERED (its first: its NEW
-- entry in chart_movements; the first edition held is all NEW) and its position there.
CREATE OR REPLACE VIEW chart_track_entries AS
SELECT playlist_id, track_id,
       MIN(edition_no) AS entry_edition_no,
       MIN(chart_date) AS entry_date,
       MIN_BY(position, edition_no) AS entry_position
FROM chart_day_entries
GROUP BY playlist_id, track_id;

-- The records of every chart: one row per chart, record and holder (one per tied track;
-- for the one-edition records debut, climb and streams in a day, one per tied
-- occurrence). value is editions for the run and day counts, a position for the debut,
-- places for the climb, streams for the streams records (a weekly chart's streams are a
-- week's). A record nothing holds has no row: a chart without streams (a playlist, a
-- viral chart) has no streams records, one where nothing climbed no biggest_climb.
CREATE OR REPLACE VIEW chart_records AS
WITH days AS (
    SELECT playlist_id, chart_label, edition_no, chart_date, track_id, position, streams
    FROM chart_day_entries
), number_one_runs AS (
    -- Consecutive editions at #1 share edition_no - ROW_NUMBER(): a date without a chart
    -- is no edition, so it does not break a run.
    SELECT playlist_id, track_id, COUNT(*) AS editions,
           MIN(chart_date) AS from_date, MAX(chart_date) AS to_date
    FROM (SELECT playlist_id, track_id, edition_no, chart_date,
                 edition_no - ROW_NUMBER() OVER (PARTITION BY playlist_id, track_id ORDER BY edition_no) AS run_id
          FROM days
          WHERE position = 1) AS at_number_one
    GROUP BY playlist_id, track_id, run_id
    -- a track's longest run; of two equally long, its first
    QUALIFY ROW_NUMBER() OVER (PARTITION BY playlist_id, track_id ORDER BY editions DESC, from_date) = 1
), track_totals AS (
    -- One pass for the counts, the sum and the entry (as in chart_track_entries).
    SELECT playlist_id, track_id,
           COUNT_IF(position = 1) AS editions_at_number_one,
           COUNT_IF(position <= 10) AS editions_in_top_10,
           SUM(streams) AS total_streams,
           MIN(edition_no) AS entry_edition_no,
           MIN(chart_date) AS entry_date,
           MIN_BY(position, edition_no) AS entry_position
    FROM days
    GROUP BY playlist_id, track_id
), climbs AS (
    -- A climb is a move up from the previous edition (the previous AVAILABLE chart: a
    -- gap is no edition); a re-entry has no previous position, so it is no climb.
    SELECT d.playlist_id, d.track_id, d.chart_date, p.position - d.position AS places
    FROM days AS d
    JOIN days AS p
      ON p.playlist_id = d.playlist_id AND p.track_id = d.track_id AND p.edition_no = d.edition_no - 1
    WHERE p.position > d.position
), candidates AS (
    -- Every holder a record could have; score orders them (higher is better).
    SELECT playlist_id, 'longest_run_at_number_one' AS record, track_id, editions AS value,
           editions AS score, from_date, to_date
    FROM number_one_runs
    UNION ALL
    SELECT playlist_id, 'most_days_at_number_one', track_id, editions_at_number_one,
           editions_at_number_one, NULL, NULL
    FROM track_totals WHERE editions_at_number_one > 0
    UNION ALL
    SELECT playlist_id, 'most_days_in_top_10', track_id, editions_in_top_10,
           editions_in_top_10, NULL, NULL
    FROM track_totals WHERE editions_in_top_10 > 0
    UNION ALL
    SELECT playlist_id, 'most_streams_total', track_id, total_streams, total_streams, NULL, NULL
    FROM track_totals WHERE total_streams IS NOT NULL
    UNION ALL
    -- A debut is an entry after the chart's first edition (whose tracks are all NEW).
    SELECT playlist_id, 'biggest_debut', track_id, entry_position, -entry_position, entry_date, entry_date
    FROM track_totals WHERE entry_edition_no > 1
    UNION ALL
    SELECT playlist_id, 'biggest_climb', track_id, places, places, chart_date, chart_date
    FROM climbs
    UNION ALL
    SELECT playlist_id, 'most_streams_in_a_day', track_id, streams, streams, chart_date, chart_date
    FROM days WHERE streams IS NOT NULL
), best AS (
    -- The best score of each record; every candidate with it holds the record (ties).
    SELECT playlist_id, record, MAX(score) AS score
    FROM candidates
    GROUP BY playlist_id, record
), labels AS (
    SELECT playlist_id, MAX(chart_label) AS chart_label
    FROM days
    GROUP BY playlist_id
)
SELECT c.playlist_id, l.chart_label, c.record, c.track_id, CAST(c.value AS NUMBER(38, 0)) AS value,
       c.from_date, c.to_date
FROM candidates AS c
JOIN best AS b ON b.playlist_id = c.playlist_id AND b.record = c.record AND b.score = c.score
JOIN labels AS l ON l.playlist_id = c.playlist_id;

-- The daily country charts' entries (the markets of track_spread and market_lead_lag).
CREATE OR REPLACE VIEW country_chart_entries AS
SELECT *
FROM chart_day_entries
WHERE playlist_id LIKE 'regional-__-daily';

-- How each track spread over the daily country charts: one row per track that was on any.
-- first_charts: the charts holding it on its first date (aliases, sorted); charts_total:
-- how many charts it was ever on; max_charts: the most charts holding it on one date, and
-- max_charts_date the first date with that many.
CREATE OR REPLACE VIEW track_spread AS
WITH entries AS (
    SELECT playlist_id, chart_label, chart_date, track_id FROM country_chart_entries
), track_days AS (
    SELECT track_id, chart_date, COUNT(*) AS charts
    FROM entries
    GROUP BY track_id, chart_date
), tracks AS (
    SELECT track_id, MIN(chart_date) AS first_chart_date, MAX(charts) AS max_charts
    FROM track_days
    GROUP BY track_id
), first_charts AS (
    -- Arrays only for each track's first date: building one per track and date costs
    -- more than the rest of the view.
    SELECT e.track_id, ARRAY_AGG(e.chart_label) WITHIN GROUP (ORDER BY e.chart_label) AS first_charts
    FROM entries AS e
    JOIN tracks AS t ON t.track_id = e.track_id AND t.first_chart_date = e.chart_date
    GROUP BY e.track_id
), max_charts_dates AS (
    SELECT d.track_id, MIN(d.chart_date) AS max_charts_date
    FROM track_days AS d
    JOIN tracks AS t ON t.track_id = d.track_id AND t.max_charts = d.charts
    GROUP BY d.track_id
), charts_totals AS (
    SELECT track_id, COUNT(DISTINCT playlist_id) AS charts_total
    FROM entries
    GROUP BY track_id
)
SELECT t.track_id, t.first_chart_date, f.first_charts, c.charts_total, t.max_charts, m.max_charts_date
FROM tracks AS t
JOIN first_charts AS f ON f.track_id = t.track_id
JOIN charts_totals AS c ON c.track_id = t.track_id
JOIN max_charts_dates AS m ON m.track_id = t.track_id;

-- The grid of a track's positions across charts and dates (the track page's heat grid):
-- one row per track, chart and day edition holding it, with its streams that edition.
CREATE OR REPLACE VIEW track_market_grid AS
SELECT track_id, playlist_id, chart_label, chart_date, position, streams
FROM chart_day_entries;

-- The #1 of every day edition of every chart (the #1 calendar), with its streams. The
-- entry at position 1 is its track's best, so no deduplication is needed; an edition
-- whose first position is not a track (a playlist's local file) has no row.
CREATE OR REPLACE VIEW chart_number_ones AS
SELECT e.playlist_id, e.chart_label, e.chart_date, c.track_id, c.track_name, c.artist_names, c.streams
FROM chart_editions AS e
JOIN chart_entries AS c
  ON c.playlist_id = e.playlist_id AND c.snapshot_id = e.snapshot_id
WHERE e.grain = 'day' AND c.position = 1 AND c.track_id IS NOT NULL;

-- Which market leads which: for each ordered pair of daily country charts A and B, over
-- the tracks that ENTERED both (a track enters a chart with its NEW entry: its first
-- edition on that chart in the data, never a RE-ENTRY) after each chart's first edition
-- (whose tracks are all NEW, and may have entered long before the data starts).
-- lag_days = entry date on B - entry date on A: positive when A had it first. tracks:
-- how many; a_first_tracks / same_day_tracks: lag > 0 / lag = 0; median and mean lag;
-- share_a_first = a_first_tracks / tracks. Every ordered pair has a row; a pair without
-- such tracks has 0 tracks and null statistics.
CREATE OR REPLACE VIEW market_lead_lag AS
WITH country_charts AS (
    SELECT playlist_id, MAX(chart_label) AS chart_label
    FROM country_chart_entries
    GROUP BY playlist_id
), entries AS (
    SELECT playlist_id, track_id, entry_date
    FROM chart_track_entries
    WHERE entry_edition_no > 1 AND playlist_id LIKE 'regional-__-daily'
), lags AS (
    SELECT a.playlist_id AS chart_a, b.playlist_id AS chart_b,
           DATEDIFF(day, a.entry_date, b.entry_date) AS lag_days
    FROM entries AS a
    JOIN entries AS b ON b.track_id = a.track_id AND b.playlist_id <> a.playlist_id
)
SELECT a.chart_label AS chart_a, b.chart_label AS chart_b,
       COUNT(l.lag_days) AS tracks,
       COUNT_IF(l.lag_days > 0) AS a_first_tracks,
       COUNT_IF(l.lag_days = 0) AS same_day_tracks,
       MEDIAN(l.lag_days) AS median_lag_days,
       AVG(l.lag_days) AS mean_lag_days,
       COUNT_IF(l.lag_days > 0) / NULLIF(COUNT(l.lag_days), 0) AS share_a_first
FROM country_charts AS a
JOIN country_charts AS b ON b.playlist_id <> a.playlist_id
LEFT JOIN lags AS l ON l.chart_a = a.playlist_id AND l.chart_b = b.playlist_id
GROUP BY a.playlist_id, a.chart_label, b.playlist_id, b.chart_label;
