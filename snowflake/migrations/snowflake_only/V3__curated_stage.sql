-- Real Snowflake only: the external stage on the curated S3 prefix.
--
-- Its storage integration {{ storage_integration }} is an account object: an administrator
-- creates it once and lets the pipeline role use it (snowflake/admin/account_setup.sql).
-- DESC INTEGRATION {{ storage_integration }}; then gives STORAGE_AWS_IAM_USER_ARN and
-- STORAGE_AWS_EXTERNAL_ID, which the CloudFormation stack's Snowflake role trusts.
CREATE STAGE IF NOT EXISTS curated_stage
    URL = '{{ curated_s3_url }}'
    STORAGE_INTEGRATION = {{ storage_integration }}
    FILE_FORMAT = (FORMAT_NAME = 'parquet_format')
    COMMENT = 'Curated Parquet: <dataset>/chart_date=YYYY-MM-DD/*.parquet';
