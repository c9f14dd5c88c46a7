-- The tables of the curated datasets `tracks` and `chart_daily` (V2): no view, command or
-- page read them, so the Glue job no longer writes them and their pipes and streams are
-- gone (snowflake_only/V8). The views build everything from chart_entries and
-- chart_observations.
DROP TABLE IF EXISTS landing_tracks;
DROP TABLE IF EXISTS landing_chart_daily;
DROP TABLE IF EXISTS tracks;
DROP TABLE IF EXISTS chart_daily;
