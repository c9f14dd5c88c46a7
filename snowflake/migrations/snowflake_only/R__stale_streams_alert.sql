-- Real Snowflake only: an alert before a landing stream goes stale (#21 item 5).
--
-- Every landed row waits in its stream until the merge task consumes it. When the task is
-- suspended or keeps failing, rows wait; after MAX_DATA_EXTENSION_TIME_IN_DAYS (35 days,
-- V12__landing_stream_retention.sql) the stream goes stale and the rows it held would be
-- skipped. This alert checks every 6 hours that no row has waited more than 2 days
-- (batch_at: when the Glue job curated it, within hours of landing) and otherwise
-- publishes to the stack's SnowflakeErrorsTopic. Reading a stream outside a DML
-- statement does not consume it. A stream that is already stale makes this condition
-- and the merge task fail; the task's failures notify (ERROR_INTEGRATION).
CREATE OR REPLACE ALERT stale_streams_alert
    WAREHOUSE = {{ warehouse }}
    SCHEDULE = 'USING CRON 0 */6 * * * UTC'
    COMMENT = 'Landed rows unmerged for 2 days: the merge task is suspended or failing (streams go stale after 35)'
    IF (EXISTS (
        SELECT 'landing_chart_entries_stream' AS stream_name, MIN(batch_at) AS oldest_unmerged
        FROM landing_chart_entries_stream
        HAVING MIN(batch_at) < DATEADD(day, -2, SYSDATE())
        UNION ALL
        SELECT 'landing_chart_observations_stream' AS stream_name, MIN(batch_at) AS oldest_unmerged
        FROM landing_chart_observations_stream
        HAVING MIN(batch_at) < DATEADD(day, -2, SYSDATE())
    ))
    THEN
        CALL SYSTEM$SEND_SNOWFLAKE_NOTIFICATION(
            SNOWFLAKE.NOTIFICATION.APPLICATION_JSON(
                '{"source": "stale_streams_alert", "problem": "rows landed more than 2 days ago are not merged: the merge task is suspended or failing; its streams go stale 35 days after their offset; see the runbook in infra/README.md"}'),
            SNOWFLAKE.NOTIFICATION.INTEGRATION('{{ notification_integration }}'));

ALTER ALERT stale_streams_alert RESUME;
