-- Contract version 3 (firehose/contract.py): charts imported from charts.spotify.com's
-- CSV exports travel beside the producer's playlists. Every row says its origin
-- ('playlist' or 'chart_export'; rows of earlier versions came from playlists), and an
-- export's entries carry what the file states: streams, Spotify's previous and peak rank,
-- days or weeks on chart, the record label (null for a playlist's entries).
-- Columns as glue_streaming/curated.py derives them from the contract
-- (tests/snowflake/test_schema.py checks every table against it).
ALTER TABLE landing_chart_entries ADD COLUMN origin VARCHAR DEFAULT 'playlist' NOT NULL;
ALTER TABLE landing_chart_entries ADD COLUMN streams NUMBER(38,0);
ALTER TABLE landing_chart_entries ADD COLUMN previous_rank NUMBER(38,0);
ALTER TABLE landing_chart_entries ADD COLUMN peak_rank NUMBER(38,0);
ALTER TABLE landing_chart_entries ADD COLUMN days_on_chart NUMBER(38,0);
ALTER TABLE landing_chart_entries ADD COLUMN weeks_on_chart NUMBER(38,0);
ALTER TABLE landing_chart_entries ADD COLUMN label VARCHAR;

ALTER TABLE chart_entries ADD COLUMN origin VARCHAR DEFAULT 'playlist' NOT NULL;
ALTER TABLE chart_entries ADD COLUMN streams NUMBER(38,0);
ALTER TABLE chart_entries ADD COLUMN previous_rank NUMBER(38,0);
ALTER TABLE chart_entries ADD COLUMN peak_rank NUMBER(38,0);
ALTER TABLE chart_entries ADD COLUMN days_on_chart NUMBER(38,0);
ALTER TABLE chart_entries ADD COLUMN weeks_on_chart NUMBER(38,0);
ALTER TABLE chart_entries ADD COLUMN label VARCHAR;

ALTER TABLE landing_chart_observations ADD COLUMN origin VARCHAR DEFAULT 'playlist' NOT NULL;
ALTER TABLE chart_observations ADD COLUMN origin VARCHAR DEFAULT 'playlist' NOT NULL;
