-- One-time account set-up, run by an administrator (ACCOUNTADMIN) before the migrations:
--   python -m snowflake.charts.admin --var curated_s3_url=... --var storage_aws_role_arn=... \
--       --var sns_topic_arn=... --var sns_role_arn=...        (or --print, to run it in a worksheet)
-- Safe to run again: it creates what is missing and repeats the grants.
--
-- Who does what afterwards:
--   {{ pipeline_role }}  owns the database, the schema and every object in it; runs the
--                        migrations (python -m snowflake.charts.migrate), owns the pipes,
--                        the merge task and the watchdog alert. Cannot create integrations.
--   {{ reader_role }}    reads every table and view of the schema, present and future, with
--                        the warehouse: the chart report and the dashboard connect with it.
-- Integrations are account objects only an administrator creates; the pipeline role may
-- use them, not change them.

-- Roles, under SYSADMIN as Snowflake recommends for custom roles --------------------------
CREATE ROLE IF NOT EXISTS {{ pipeline_role }} COMMENT = 'Spotify charts: owns and loads the pipeline objects';
CREATE ROLE IF NOT EXISTS {{ reader_role }} COMMENT = 'Spotify charts: reads the chart tables and views';
GRANT ROLE {{ pipeline_role }} TO ROLE SYSADMIN;
GRANT ROLE {{ reader_role }} TO ROLE SYSADMIN;

-- Warehouse: the merge task, the watchdog alert, the report and the dashboard -------------
CREATE WAREHOUSE IF NOT EXISTS {{ warehouse }}
    WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
    COMMENT = 'Spotify charts pipeline';
GRANT USAGE, OPERATE ON WAREHOUSE {{ warehouse }} TO ROLE {{ pipeline_role }};
GRANT USAGE ON WAREHOUSE {{ warehouse }} TO ROLE {{ reader_role }};

-- Account privileges the pipeline role needs: run its task and its alert. CREATE DATABASE
-- only because V1__database_and_schema.sql (shared with the local engine) says CREATE
-- DATABASE IF NOT EXISTS; it runs once, so it can be revoked after the first migration.
GRANT EXECUTE TASK ON ACCOUNT TO ROLE {{ pipeline_role }};
GRANT EXECUTE ALERT ON ACCOUNT TO ROLE {{ pipeline_role }};
GRANT CREATE DATABASE ON ACCOUNT TO ROLE {{ pipeline_role }};

-- Database and schema, owned by the pipeline role. Managed access: grants on the schema's
-- objects are decided here and by the schema owner, never by whoever created an object.
CREATE DATABASE IF NOT EXISTS {{ database }};
CREATE SCHEMA IF NOT EXISTS {{ database }}.{{ schema }} WITH MANAGED ACCESS;
GRANT OWNERSHIP ON SCHEMA {{ database }}.{{ schema }} TO ROLE {{ pipeline_role }} COPY CURRENT GRANTS;
GRANT OWNERSHIP ON DATABASE {{ database }} TO ROLE {{ pipeline_role }} COPY CURRENT GRANTS;

-- The reader: the schema's tables and views, those there now and every later one (a new
-- dataset's tables and views need no grant of their own).
GRANT USAGE ON DATABASE {{ database }} TO ROLE {{ reader_role }};
GRANT USAGE ON SCHEMA {{ database }}.{{ schema }} TO ROLE {{ reader_role }};
GRANT SELECT ON ALL TABLES IN SCHEMA {{ database }}.{{ schema }} TO ROLE {{ reader_role }};
GRANT SELECT ON ALL VIEWS IN SCHEMA {{ database }}.{{ schema }} TO ROLE {{ reader_role }};
GRANT SELECT ON FUTURE TABLES IN SCHEMA {{ database }}.{{ schema }} TO ROLE {{ reader_role }};
GRANT SELECT ON FUTURE VIEWS IN SCHEMA {{ database }}.{{ schema }} TO ROLE {{ reader_role }};

-- Storage integration: Snowflake reads the curated bucket through the stack's role
-- (stack output SnowflakeRoleArn, which then trusts DESC INTEGRATION's user and id).
CREATE STORAGE INTEGRATION IF NOT EXISTS {{ storage_integration }}
    TYPE = EXTERNAL_STAGE
    STORAGE_PROVIDER = 'S3'
    ENABLED = TRUE
    STORAGE_AWS_ROLE_ARN = '{{ storage_aws_role_arn }}'
    STORAGE_ALLOWED_LOCATIONS = ('{{ curated_s3_url }}')
    COMMENT = 'Curated chart datasets written by the Glue job';
GRANT USAGE ON INTEGRATION {{ storage_integration }} TO ROLE {{ pipeline_role }};

-- Notification integration: pipe load errors, failed task runs and the watchdog alert go to
-- the stack's SnowflakeErrorsTopic through its SnowflakeNotificationRole.
CREATE NOTIFICATION INTEGRATION IF NOT EXISTS {{ notification_integration }}
    ENABLED = TRUE
    TYPE = QUEUE
    DIRECTION = OUTBOUND
    NOTIFICATION_PROVIDER = AWS_SNS
    AWS_SNS_TOPIC_ARN = '{{ sns_topic_arn }}'
    AWS_SNS_ROLE_ARN = '{{ sns_role_arn }}'
    COMMENT = 'Spotify charts: pipe, task and alert errors';
GRANT USAGE ON INTEGRATION {{ notification_integration }} TO ROLE {{ pipeline_role }};
