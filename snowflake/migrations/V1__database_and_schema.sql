-- The database and schema every other migration runs in.
-- {{ database }} and {{ schema }} come from SNOWFLAKE_DATABASE / SNOWFLAKE_SCHEMA
-- (defaults SPOTIFY_CHARTS / CHARTS); the runner fills them in.
CREATE DATABASE IF NOT EXISTS {{ database }};
CREATE SCHEMA IF NOT EXISTS {{ database }}.{{ schema }};
USE SCHEMA {{ database }}.{{ schema }};
