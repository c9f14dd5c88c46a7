-- Real Snowflake only: curated files no pipe loaded are loaded again, and the ones that
-- cannot load are reported (#21 item 3, the Snowflake side of reconciliation).
--
-- A file lands in the curated bucket but its S3 notification never reaches Snowpipe (a
-- lost or misrouted event, a queue that changed): nothing errors, the file just stays
-- unloaded. Only Snowflake knows what it loaded (COPY_HISTORY), so this runs here, not in
-- the reconciler Lambda (producer/reconciler.py, which compares what the producer sent
-- with what the Glue job curated, and restores overwritten curated files).
--
-- Daily, after the Glue job's run (GlueSchedule: 01:30 UTC): ALTER PIPE ... REFRESH queues
-- every file of the pipe's path staged in the last 7 days that the pipe's load history
-- does not hold; files loaded before are skipped, and the MERGE drops any row loaded
-- twice anyway. Locally, localdev/local_snowflake/snowpipe.py (LocalSnowpipe.refresh)
-- does the same against the engine's load history.
CREATE OR REPLACE TASK reconcile_curated_loads_task
    WAREHOUSE = {{ warehouse }}
    SCHEDULE = 'USING CRON 0 5 * * * UTC'
    ERROR_INTEGRATION = {{ notification_integration }}
    COMMENT = 'Load curated files of the last 7 days that no pipe loaded (a lost notification)'
AS
EXECUTE IMMEDIATE $$
BEGIN
    ALTER PIPE chart_entries_pipe REFRESH;
    ALTER PIPE chart_observations_pipe REFRESH;
END;
$$;

ALTER TASK reconcile_curated_loads_task RESUME;

-- What no refresh can repair: a file that failed to load (corrupt, or not the dataset's
-- columns) and has not loaded since. Each such failure also notified when it happened
-- (the pipes' ERROR_INTEGRATION); this says, once a day, which are still not loaded. A
-- curated file overwritten after publication gets its first version back from the
-- reconciler Lambda, and then loads; the runbook (infra/README.md) covers the rest.
CREATE OR REPLACE ALERT unloaded_curated_files_alert
    WAREHOUSE = {{ warehouse }}
    SCHEDULE = 'USING CRON 0 7 * * * UTC'
    COMMENT = 'Curated files that failed to load in the last 7 days and have not loaded since'
    IF (EXISTS (
        SELECT file_name
        FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(
            TABLE_NAME => 'LANDING_CHART_ENTRIES', START_TIME => DATEADD(day, -7, CURRENT_TIMESTAMP())))
        GROUP BY file_name
        HAVING COUNT_IF(status = 'Loaded') = 0 AND COUNT_IF(status = 'Load failed') > 0
        UNION ALL
        SELECT file_name
        FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(
            TABLE_NAME => 'LANDING_CHART_OBSERVATIONS', START_TIME => DATEADD(day, -7, CURRENT_TIMESTAMP())))
        GROUP BY file_name
        HAVING COUNT_IF(status = 'Loaded') = 0 AND COUNT_IF(status = 'Load failed') > 0
    ))
    THEN
        CALL SYSTEM$SEND_SNOWFLAKE_NOTIFICATION(
            SNOWFLAKE.NOTIFICATION.APPLICATION_JSON(
                '{"source": "unloaded_curated_files_alert", "problem": "curated files failed to load and have not loaded since (COPY_HISTORY, last 7 days); see the runbook in infra/README.md"}'),
            SNOWFLAKE.NOTIFICATION.INTEGRATION('{{ notification_integration }}'));

ALTER ALERT unloaded_curated_files_alert RESUME;
