-- Real Snowflake only: append-only streams on the landing tables. The merge task
-- (R__merge_task.sql) consumes them, so each landed row is merged once; the merges
-- are idempotent anyway, so a row merged twice changes nothing.
CREATE STREAM IF NOT EXISTS landing_chart_entries_stream ON TABLE landing_chart_entries APPEND_ONLY = TRUE;
CREATE STREAM IF NOT EXISTS landing_tracks_stream ON TABLE landing_tracks APPEND_ONLY = TRUE;
CREATE STREAM IF NOT EXISTS landing_chart_daily_stream ON TABLE landing_chart_daily APPEND_ONLY = TRUE;
