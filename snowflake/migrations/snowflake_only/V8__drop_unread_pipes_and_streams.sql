-- Real Snowflake only: the pipes and streams of the curated datasets `tracks` and
-- `chart_daily`, which no view, command or page read (their tables go in V9). The Glue
-- job no longer writes them. The merge task reads the streams: it is suspended here and
-- R__merge_task.sql, which runs after every versioned file, re-creates it without them
-- and resumes it. On a new account V4 and V5 create these objects and this drops them:
-- migrations are history, and an applied one is never edited.
ALTER TASK IF EXISTS merge_curated_task SUSPEND;
DROP PIPE IF EXISTS tracks_pipe;
DROP PIPE IF EXISTS chart_daily_pipe;
DROP STREAM IF EXISTS landing_tracks_stream;
DROP STREAM IF EXISTS landing_chart_daily_stream;
