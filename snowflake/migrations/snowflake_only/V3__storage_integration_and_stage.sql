-- Real Snowflake only: the storage integration (needs ACCOUNTADMIN or the
-- CREATE INTEGRATION privilege) and the external stage on the curated S3 prefix.
--
-- After this runs once: DESC INTEGRATION {{ storage_integration }}; gives
-- STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID, which the CloudFormation
-- stack's Snowflake role trusts (see snowflake/README.md).
CREATE STORAGE INTEGRATION IF NOT EXISTS {{ storage_integration }}
    TYPE = EXTERNAL_STAGE
    STORAGE_PROVIDER = 'S3'
    ENABLED = TRUE
    STORAGE_AWS_ROLE_ARN = '{{ storage_aws_role_arn }}'
    STORAGE_ALLOWED_LOCATIONS = ('{{ curated_s3_url }}')
    COMMENT = 'Curated chart datasets written by the Glue job';

CREATE STAGE IF NOT EXISTS curated_stage
    URL = '{{ curated_s3_url }}'
    STORAGE_INTEGRATION = {{ storage_integration }}
    FILE_FORMAT = (FORMAT_NAME = 'parquet_format')
    COMMENT = 'Curated Parquet: <dataset>/chart_date=YYYY-MM-DD/*.parquet';
