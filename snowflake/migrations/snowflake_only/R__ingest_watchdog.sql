-- Real Snowflake only: what error notifications cannot see.
--
-- A pipe whose S3 notifications stopped (a changed queue, a lost trust) and a task that
-- was suspended report no error: nothing runs, so nothing fails. Once a day, after the
-- Glue job's nightly run, this alert checks that every pipe loaded rows and the merge
-- task succeeded in the last 26 hours, and otherwise publishes to the stack's
-- SnowflakeErrorsTopic. Every pipe: observations land on every poll, and the entries of
-- a day whose charts all stayed unchanged are the only quiet day there can be (a new
-- pipe gets its check here too: tests/snowflake/test_migrations.py checks every pipe).
-- (Runs on the warehouse for a few seconds a day; the merge task's warehouse.)
CREATE OR REPLACE ALERT ingest_watchdog_alert
    WAREHOUSE = {{ warehouse }}
    SCHEDULE = 'USING CRON 0 6 * * * UTC'
    COMMENT = 'A pipe loaded no curated rows, or no successful merge, in 26 hours'
    IF (EXISTS (
        SELECT 'no curated file loaded into landing_chart_entries in 26 hours' AS problem
        WHERE NOT EXISTS (
            SELECT 1 FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(
                TABLE_NAME => 'LANDING_CHART_ENTRIES',
                START_TIME => DATEADD(hour, -26, CURRENT_TIMESTAMP()))))
        UNION ALL
        SELECT 'no curated file loaded into landing_chart_observations in 26 hours' AS problem
        WHERE NOT EXISTS (
            SELECT 1 FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(
                TABLE_NAME => 'LANDING_CHART_OBSERVATIONS',
                START_TIME => DATEADD(hour, -26, CURRENT_TIMESTAMP()))))
        UNION ALL
        SELECT 'merge_curated_task did not succeed in 26 hours' AS problem
        WHERE NOT EXISTS (
            SELECT 1 FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY(
                TASK_NAME => 'MERGE_CURATED_TASK',
                SCHEDULED_TIME_RANGE_START => DATEADD(hour, -26, CURRENT_TIMESTAMP())))
            WHERE STATE = 'SUCCEEDED')
    ))
    THEN
        CALL SYSTEM$SEND_SNOWFLAKE_NOTIFICATION(
            SNOWFLAKE.NOTIFICATION.APPLICATION_JSON(
                '{"source": "ingest_watchdog_alert", "problem": "a pipe loaded no curated rows or no merge succeeded in 26 hours; see the runbook in infra/README.md"}'),
            SNOWFLAKE.NOTIFICATION.INTEGRATION('{{ notification_integration }}'));

ALTER ALERT ingest_watchdog_alert RESUME;
