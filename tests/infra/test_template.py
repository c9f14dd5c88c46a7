"""The stack passes the code exactly what the code reads, and follows the issue's rules.

These read the templates as data (infra.template) and compare them with the
modules that define the interfaces: producer.config.ENV_VARS,
glue_streaming.job.JOB_ARGUMENTS, firehose.settings, glue_streaming.curated,
glue_streaming.metrics and the producer's metric names.
"""
from __future__ import annotations

import importlib
import json
import re

import pytest

from firehose import settings
from infra import deploy, packaging
from infra.template import BOOTSTRAP_TEMPLATE, PIPELINE_TEMPLATE, load_template
from firehose.writer import CALL_TIMEOUT_SECONDS
from producer import config as producer_config
from producer.config import ENV_VARS
from producer.handler import SAFETY_MARGIN_SECONDS

REPO = packaging.REPO_ROOT
POWERTOOLS_ENV = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}
# Values that must never be plain environment variables of the deployed function.
SECRET_ENV = {"SPOTIFY_CLIENT_SECRET", "SPOTIFY_REFRESH_TOKEN", "SPOTIFY_CLIENT_ID"}
# Glue's own job parameters (not the job script's).
GLUE_SPECIAL_ARGUMENTS = {"--additional-python-modules", "--job-bookmark-option", "--TempDir", "--enable-metrics",
                          "--custom-logGroup-prefix"}
ATHENA_TYPES = {"string": "string", "long": "bigint", "boolean": "boolean", "timestamp": "timestamp",
                "date": "date", "array<string>": "array<string>"}


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template(PIPELINE_TEMPLATE)


@pytest.fixture(scope="module")
def resources(template) -> dict:
    return template["Resources"]


def of_type(resources: dict, type_name: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == type_name}


def sub_text(value) -> str:
    """The text of a plain string, an ``!Sub`` (either form) or a ``!Join`` of strings and Refs as ${Name}."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(p if isinstance(p, str) else "${%s}" % p["Ref"] for p in parts)
    sub = value["Fn::Sub"]
    return sub if isinstance(sub, str) else sub[0]


def job_module():
    try:
        return importlib.import_module("glue_streaming.job")
    except ModuleNotFoundError as error:
        pytest.fail(f"glue_streaming.job cannot be imported ({error}); the template's job arguments "
                    "cannot be checked against it")


# --- producer -----------------------------------------------------------------------
def test_producer_environment_matches_producer_config(resources):
    env = resources["ProducerFunction"]["Properties"]["Environment"]["Variables"]
    required = {name for name, needed in ENV_VARS.items() if needed}
    assert required <= set(env), f"the stack does not set {sorted(required - set(env))}"
    unknown = set(env) - set(ENV_VARS) - POWERTOOLS_ENV
    assert not unknown, f"the stack sets variables producer.config does not read: {sorted(unknown)}"
    assert not SECRET_ENV & set(env), "credentials must come from Secrets Manager, not the environment"
    assert env["SPOTIFY_SECRET_ARN"] == {"Ref": "SpotifySecret"}
    assert env["DELIVERY_STREAM_NAME"] == {"Ref": "DeliveryStream"}
    assert env["STATE_BUCKET"] == {"Ref": "StateBucket"}
    assert env["POWERTOOLS_SERVICE_NAME"] == "chart-producer"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}


def test_producer_function_runs_the_handler_without_reserved_concurrency_by_default(template, resources):
    props = resources["ProducerFunction"]["Properties"]
    assert props["Runtime"] == f"python{packaging.LAMBDA_PYTHON_VERSION}"
    module_name, _, function_name = props["Handler"].rpartition(".")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, function_name, None)), f"{props['Handler']} does not exist"
    assert module_name == packaging.LAMBDA_ENTRY_MODULE  # the module the zip is built from
    # Reserved only on request: a new account cannot reserve any (polls are serialised by the lease).
    assert props["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "ProducerReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert template["Parameters"]["ProducerReservedConcurrency"]["Default"] == ""
    assert template["Conditions"]["HasReservedConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ProducerReservedConcurrency"}, ""]}]}
    assert props["Code"] == {"S3Bucket": {"Ref": "ArtifactsBucketName"}, "S3Key": {"Ref": "ProducerCodeKey"}}
    assert props["Architectures"] == [{"Ref": "ProducerArchitecture"}]
    invoke = resources["ProducerInvokeConfig"]["Properties"]
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["ProducerDeadLetterQueue", "Arn"]}


def test_schedule_fires_every_minute_for_adaptive_polling_by_default_else_every_interval(template, resources):
    parameter = template["Parameters"]["PollIntervalMinutes"]
    assert parameter["Default"] == "15"
    assert template["Parameters"]["PollSchedule"]["Default"] == "adaptive"
    assert set(template["Parameters"]["PollSchedule"]["AllowedValues"]) == {"adaptive", "fixed"}
    assert template["Conditions"]["AdaptivePolling"] == {"Fn::Equals": [{"Ref": "PollSchedule"}, "adaptive"]}
    rule = resources["ProducerScheduleRule"]["Properties"]
    condition, adaptive, fixed = rule["ScheduleExpression"]["Fn::If"]
    assert condition == "AdaptivePolling" and adaptive == "rate(1 minute)"
    assert sub_text(fixed) == "rate(${PollIntervalMinutes} minutes)"
    seconds = template["Mappings"]["PollInterval"]
    assert {int(k): int(v["Seconds"]) for k, v in seconds.items()} == {int(m): 60 * int(m) for m in parameter["AllowedValues"]}
    # An event queued longer than the schedule's period is superseded by the next one.
    age = resources["ProducerInvokeConfig"]["Properties"]["MaximumEventAgeInSeconds"]["Fn::If"]
    assert age[:2] == ["AdaptivePolling", 60]


def test_adaptive_polling_settings_reach_the_producer_with_the_configs_defaults(template, resources):
    from producer.schedule import ScheduleSettings

    env = resources["ProducerFunction"]["Properties"]["Environment"]["Variables"]
    names = {"POLL_SCHEDULE": "PollSchedule", "POLL_INTERVAL_MINUTES": "PollIntervalMinutes",
             "FLIP_WINDOW_MINUTES": "FlipWindowMinutes", "SAFETY_INTERVAL_MINUTES": "SafetyIntervalMinutes",
             "FLIP_HISTORY_DAYS": "FlipHistoryDays"}
    assert {k: env[k] for k in names} == {k: {"Ref": v} for k, v in names.items()}
    defaults = {k: float(template["Parameters"][v]["Default"]) for k, v in names.items() if k != "POLL_SCHEDULE"}
    settings = ScheduleSettings()
    assert defaults == {"POLL_INTERVAL_MINUTES": settings.interval_seconds / 60,
                        "FLIP_WINDOW_MINUTES": settings.window_seconds / 60,
                        "SAFETY_INTERVAL_MINUTES": settings.safety_seconds / 60,
                        "FLIP_HISTORY_DAYS": settings.history_days}
    # The safety interval can never be shorter than the plain interval (producer.config refuses it).
    assert template["Parameters"]["SafetyIntervalMinutes"]["MinValue"] >= max(
        int(m) for m in template["Parameters"]["PollIntervalMinutes"]["AllowedValues"])


def test_producer_policy_is_scoped_to_its_resources(resources):
    statements = {s["Sid"]: s for s in
                  resources["ProducerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    assert statements["PutChartRecords"]["Action"] == "firehose:PutRecordBatch"
    assert statements["PutChartRecords"]["Resource"] == {"Fn::GetAtt": ["DeliveryStream", "Arn"]}
    assert sub_text(statements["StateObjects"]["Resource"]) == "${StateBucket.Arn}/${StatePrefix}*"
    assert statements["StateListing"]["Action"] == "s3:ListBucket"
    assert "s3:prefix" in statements["StateListing"]["Condition"]["StringLike"]
    assert statements["SpotifyCredentials"]["Resource"] == {"Ref": "SpotifySecret"}
    # Read, and write back a rotated refresh token; never create, delete or list secrets.
    assert statements["SpotifyCredentials"]["Action"] == ["secretsmanager:GetSecretValue",
                                                          "secretsmanager:PutSecretValue"]


def test_producer_caps_and_reserve_are_parameters_with_the_code_s_defaults(template, resources):
    env = resources["ProducerFunction"]["Properties"]["Environment"]["Variables"]
    parameters = template["Parameters"]
    for variable, parameter, default in (
            ("MAX_PAGES_PER_CHART", "MaxPagesPerChart", producer_config.DEFAULT_MAX_PAGES_PER_CHART),
            ("MAX_ENTRIES_PER_CHART", "MaxEntriesPerChart", producer_config.DEFAULT_MAX_ENTRIES_PER_CHART),
            ("DELIVERY_RESERVE_SECONDS", "DeliveryReserveSeconds", producer_config.DEFAULT_DELIVERY_RESERVE_SECONDS),
            ("SPOTIFY_RETRY_DELAY_MS", "SpotifyRetryDelayMs", producer_config.DEFAULT_SPOTIFY_RETRY_DELAY_MS)):
        assert env[variable] == {"Ref": parameter}
        assert parameters[parameter]["Default"] == default
    # A Spotify playlist holds at most 10,000 entries; the reserve fits one Firehose call at least.
    assert parameters["MaxEntriesPerChart"]["MaxValue"] == 10_000
    assert parameters["DeliveryReserveSeconds"]["MinValue"] == CALL_TIMEOUT_SECONDS
    # The shortest Lambda timeout still leaves time to read after the margin and the reserve.
    shortest = parameters["ProducerTimeoutSeconds"]["MinValue"]
    assert shortest - SAFETY_MARGIN_SECONDS - parameters["DeliveryReserveSeconds"]["Default"] >= 30


def test_secret_has_no_value_in_the_template(resources):
    props = resources["SpotifySecret"]["Properties"]
    assert "SecretString" not in props and "GenerateSecretString" not in props


# --- Firehose -------------------------------------------------------------------------
def test_delivery_stream_matches_firehose_settings(template, resources):
    destination = resources["DeliveryStream"]["Properties"]["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"] == settings.RAW_PREFIX
    assert destination["ErrorOutputPrefix"] == settings.ERROR_OUTPUT_PREFIX
    assert destination["CompressionFormat"] == settings.COMPRESSION
    assert destination["BufferingHints"] == {"IntervalInSeconds": {"Ref": "FirehoseBufferIntervalSeconds"},
                                             "SizeInMBs": {"Ref": "FirehoseBufferSizeMiB"}}
    assert template["Parameters"]["FirehoseBufferIntervalSeconds"]["Default"] == settings.BUFFER_INTERVAL_SECONDS
    assert template["Parameters"]["FirehoseBufferSizeMiB"]["Default"] == settings.BUFFER_SIZE_MIB
    assert destination["CloudWatchLoggingOptions"]["Enabled"] is True
    assert resources["DeliveryStream"]["Properties"]["DeliveryStreamType"] == "DirectPut"


# --- Glue -------------------------------------------------------------------------------
def glue_arguments(resources) -> dict:
    return resources["GlueJob"]["Properties"]["DefaultArguments"]


def test_glue_job_arguments_match_the_job():
    module = job_module()
    if not hasattr(module, "JOB_ARGUMENTS"):
        pytest.fail("glue_streaming.job has no JOB_ARGUMENTS: the template's job arguments cannot be checked")
    job_arguments = {name.removeprefix("--") for name in module.JOB_ARGUMENTS}
    required = {name.removeprefix("--") for name in getattr(
        module, "REQUIRED_JOB_ARGUMENTS", ("source_path", "target_path", "quarantine_path", "checkpoint_path"))}
    passed = {name.removeprefix("--") for name in glue_arguments(load_template(PIPELINE_TEMPLATE)["Resources"])
              if name not in GLUE_SPECIAL_ARGUMENTS}
    assert required <= passed, f"the stack does not pass {sorted(required - passed)}"
    assert passed <= job_arguments, f"the stack passes arguments the job does not read: {sorted(passed - job_arguments)}"


def test_glue_job_reads_what_firehose_writes_and_writes_where_snowpipe_listens(resources):
    args = glue_arguments(resources)
    static_raw_prefix = settings.RAW_PREFIX.split("!{")[0].rsplit("/", 1)[0] + "/"
    assert sub_text(args["--source_path"]) == f"s3://${{RawBucket}}/{static_raw_prefix}"
    assert sub_text(args["--target_path"]) == "s3://${CuratedBucket}/curated/"
    rules = resources["CuratedBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"][0]
    filters = {r["Name"]: r["Value"] for r in rules["Filter"]["S3Key"]["Rules"]}
    assert filters == {"prefix": "curated/", "suffix": ".parquet"}
    # Checkpoints (and staged files) live outside the notified prefix.
    assert not sub_text(args["--checkpoint_path"]).startswith("s3://${CuratedBucket}/curated/")
    assert sub_text(args["--additional-python-modules"]) == "s3://${ArtifactsBucketName}/${GlueWheelKey}"
    props = resources["GlueJob"]["Properties"]
    assert props["GlueVersion"] == "5.1"
    assert sub_text(props["Command"]["ScriptLocation"]) == "s3://${ArtifactsBucketName}/${GlueScriptKey}"
    assert props["ExecutionProperty"]["MaxConcurrentRuns"] == 1


def test_glue_logs_go_to_the_stacks_log_groups_the_glue_5_way(resources):
    """Glue 5.x ignores the 4.0 continuous-logging arguments; it honours --custom-logGroup-prefix."""
    args = glue_arguments(resources)
    assert not {"--enable-continuous-cloudwatch-log", "--continuous-log-logGroup"} & set(args)
    prefix = sub_text(args["--custom-logGroup-prefix"])
    groups = {sub_text(g["Properties"]["LogGroupName"]) for g in of_type(resources, "AWS::Logs::LogGroup").values()}
    assert {f"{prefix}/output", f"{prefix}/error"} <= groups
    assert set(resources["GlueJob"]["DependsOn"]) == {"GlueOutputLogGroup", "GlueErrorLogGroup"}
    statements = {s["Sid"]: s for s in
                  resources["GlueJobRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    logs = sub_text(statements["Logs"]["Resource"])
    assert logs.endswith(f":log-group:{prefix}/*"), "the Glue role may write only the job's own log groups"


def test_glue_trigger_runs_the_job_daily(template, resources):
    trigger = resources["GlueJobTrigger"]["Properties"]
    assert trigger["Type"] == "SCHEDULED" and trigger["Schedule"] == {"Ref": "GlueSchedule"}
    assert trigger["Actions"] == [{"JobName": {"Ref": "GlueJob"}}]
    minute, hour, day, month, weekday, year = template["Parameters"]["GlueSchedule"]["Default"][5:-1].split()
    assert minute.isdigit() and hour.isdigit() and (day, month, weekday, year) == ("*", "*", "?", "*")


def test_catalog_tables_match_the_curated_datasets(resources):
    from glue_streaming import curated

    tables = {r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
              for r in of_type(resources, "AWS::Glue::Table").values()}
    assert set(tables) == set(curated.ALL_DATASETS)
    for name, dataset in curated.ALL_DATASETS.items():
        table = tables[name]
        partition = dataset.partition_column
        expected = [(c.name, ATHENA_TYPES[c.type]) for c in dataset.columns if c.name != partition]
        actual = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
        assert actual == expected, f"table {name} differs from glue_streaming.curated"
        assert table["PartitionKeys"] == [{"Name": partition, "Type": "date"}]
        params = table["Parameters"]
        assert params["projection.enabled"] == "true"
        assert params[f"projection.{partition}.type"] == "date"
        bucket = "QuarantineBucket" if name == curated.QUARANTINE else "CuratedBucket"
        root = "" if name == curated.QUARANTINE else "curated/"
        location = f"s3://${{{bucket}}}/{root}{name}/"
        assert sub_text(table["StorageDescriptor"]["Location"]) == location
        assert sub_text(params["storage.location.template"]) == f"{location}{partition}=${{{partition}}}/"


def test_quarantine_location_is_where_the_job_writes(resources):
    from glue_streaming import curated

    args = glue_arguments(resources)
    # The job writes run_date=... partitions right under it: the quarantine table, its
    # partition projection and the job's IAM grant all expect them under quarantine/.
    assert sub_text(args["--quarantine_path"]) == "s3://${QuarantineBucket}/quarantine/"
    table = next(r["Properties"]["TableInput"] for r in of_type(resources, "AWS::Glue::Table").values()
                 if r["Properties"]["TableInput"]["Name"] == curated.QUARANTINE)
    assert sub_text(table["StorageDescriptor"]["Location"]) == f"s3://${{QuarantineBucket}}/{curated.QUARANTINE}/"


# --- storage -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", [PIPELINE_TEMPLATE, BOOTSTRAP_TEMPLATE], ids=lambda p: p.name)
def test_buckets_are_encrypted_private_and_tls_only(path):
    resources = load_template(path)["Resources"]
    policies = {r["Properties"]["Bucket"]["Ref"]: r["Properties"]["PolicyDocument"]
                for r in of_type(resources, "AWS::S3::BucketPolicy").values()}
    buckets = of_type(resources, "AWS::S3::Bucket")
    assert buckets
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        assert all(props["PublicAccessBlockConfiguration"][k] is True for k in (
            "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
        assert props["LifecycleConfiguration"]["Rules"], f"{name} has no lifecycle rules"
        deny = [s for s in policies[name]["Statement"] if s["Effect"] == "Deny"]
        assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and s["Action"] == "s3:*"
                   for s in deny), f"{name} accepts plain HTTP"


def test_raw_data_moves_to_cheaper_storage_then_expires(resources):
    rules = resources["RawBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    raw = [r for r in rules if r.get("Prefix") == "raw/"]
    assert any(r.get("Transitions") for r in raw) and any(r.get("ExpirationInDays") for r in raw)


def test_raw_bucket_keeps_overwritten_and_deleted_versions_for_a_while(template, resources):
    """Raw is the only copy of chart history: versioned, old versions expire, delete markers too."""
    props = resources["RawBucket"]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = props["LifecycleConfiguration"]["Rules"]
    noncurrent = [r for r in rules if "NoncurrentVersionExpiration" in r]
    assert len(noncurrent) == 1 and "Prefix" not in noncurrent[0] and noncurrent[0]["Status"] == "Enabled"
    assert noncurrent[0]["NoncurrentVersionExpiration"] == {"NoncurrentDays": {"Ref": "RawNoncurrentVersionDays"}}
    assert template["Parameters"]["RawNoncurrentVersionDays"]["Default"] >= 7
    assert any(r.get("ExpiredObjectDeleteMarker") is True and r["Status"] == "Enabled" for r in rules)


def test_curated_bucket_keeps_overwritten_and_deleted_versions_for_a_while(template, resources):
    """Snowpipe loads what the curated bucket holds: a mistaken overwrite or delete can be undone."""
    props = resources["CuratedBucket"]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = [r for r in props["LifecycleConfiguration"]["Rules"] if r["Status"] == "Enabled"]
    noncurrent = {r.get("Prefix"): r["NoncurrentVersionExpiration"]["NoncurrentDays"]
                  for r in rules if "NoncurrentVersionExpiration" in r}
    assert noncurrent == {"curated/": {"Ref": "CuratedNoncurrentVersionDays"}, "_checkpoints/": 7}
    assert template["Parameters"]["CuratedNoncurrentVersionDays"]["Default"] >= 7
    assert any(r.get("ExpiredObjectDeleteMarker") is True and "Prefix" not in r for r in rules)


def deleting_statements(resources) -> list[tuple[str, dict]]:
    """(role, statement) of every IAM statement that allows deleting S3 objects or versions."""
    found = []
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if statement["Effect"] == "Allow" and any(a.startswith("s3:Delete") or a == "s3:*" for a in actions):
                    found.append((name, statement))
    return found


def test_only_the_glue_job_deletes_and_only_its_checkpoints_and_scratch(resources):
    """No role may delete curated or quarantine files: what Snowpipe loads and what was set aside stay."""
    deleting = deleting_statements(resources)
    assert [name for name, _ in deleting] == ["GlueJobRole"]
    (statement,) = [s for _, s in deleting]
    assert sorted(sub_text(r) for r in statement["Resource"]) == [
        "${CuratedBucket.Arn}/_checkpoints/*", "arn:${AWS::Partition}:s3:::${ArtifactsBucketName}/glue-temp/*"]
    assert statement["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    # ... while it still writes (and reads back) curated and quarantine files, and reads raw.
    glue = {s["Sid"]: s for s in resources["GlueJobRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    assert sorted(sub_text(r) for r in glue["WriteCuratedAndQuarantine"]["Resource"]) == [
        "${CuratedBucket.Arn}/curated/*", "${QuarantineBucket.Arn}/quarantine/*"]
    assert "s3:PutObject" in glue["WriteCuratedAndQuarantine"]["Action"]


def test_the_glue_job_s_checkpoint_and_staging_lie_where_the_role_may_delete(resources):
    """The job deletes its batch staging folder and rewrites its checkpoint: both under --checkpoint_path."""
    arguments = resources["GlueJob"]["Properties"]["DefaultArguments"]
    assert sub_text(arguments["--checkpoint_path"]).startswith("s3://${CuratedBucket}/_checkpoints/")
    assert sub_text(arguments["--target_path"]) == "s3://${CuratedBucket}/curated/"
    from glue_streaming.job import JobPaths

    paths = JobPaths("s3://r/raw", "s3://c/curated", "s3://q/quarantine", "s3://c/_checkpoints/curate-charts")
    for deleted in (paths.staging("b1"), paths.stream_checkpoint, paths.run_metrics):
        assert deleted.startswith("s3://c/_checkpoints/")


# --- Snowflake ---------------------------------------------------------------------------
def test_snowpipe_queue_is_created_only_without_an_arn(template, resources):
    assert template["Conditions"]["CreateSnowpipeQueue"] == {"Fn::Equals": [{"Ref": "SnowpipeQueueArn"}, ""]}
    assert resources["SnowpipeLocalQueue"]["Condition"] == "CreateSnowpipeQueue"
    queue = resources["CuratedBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"][0]["Queue"]
    assert queue == {"Fn::If": ["CreateSnowpipeQueue", {"Fn::GetAtt": ["SnowpipeLocalQueue", "Arn"]},
                                {"Ref": "SnowpipeQueueArn"}]}
    assert template["Outputs"]["SnowpipeQueueArn"]["Value"] == queue


def test_snowflake_role_requires_the_external_id_and_reads_only_curated(resources):
    props = resources["SnowflakeIntegrationRole"]["Properties"]
    trust = props["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "SnowflakeExternalId"}}}
    actions = {a for s in props["Policies"][0]["PolicyDocument"]["Statement"]
               for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"}


def test_snowflake_error_notifications_have_their_topic_and_a_publish_only_role(resources):
    props = resources["SnowflakeNotificationRole"]["Properties"]
    trust = props["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "SnowflakeNotificationExternalId"}}}
    assert trust["Principal"]["AWS"]["Fn::If"][:2] == ["HasSnowflakeNotificationUser",
                                                       {"Ref": "SnowflakeNotificationIamUserArn"}]
    statements = props["Policies"][0]["PolicyDocument"]["Statement"]
    assert statements == [{"Sid": "PublishErrors", "Effect": "Allow", "Action": "sns:Publish",
                           "Resource": {"Ref": "SnowflakeErrorsTopic"}}]
    subscription = resources["SnowflakeErrorsEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "SnowflakeErrorsTopic"}


# --- imports -----------------------------------------------------------------------------
IMPORTS_BUCKET = "${AWS::StackName}-imports-${AWS::AccountId}-${AWS::Region}"


def test_uploads_and_continuations_notify_the_import_lambda(resources):
    bucket = resources["ImportsBucket"]
    assert sub_text(bucket["Properties"]["BucketName"]) == IMPORTS_BUCKET
    assert bucket["DependsOn"] == "ImportInvokePermission"  # S3 checks the permission when it is configured
    configs = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    prefixes = [c["Filter"]["S3Key"]["Rules"] for c in configs]
    assert prefixes == [[{"Name": "prefix", "Value": "incoming/"}], [{"Name": "prefix", "Value": "results/continue/"}]]
    assert all(c["Event"] == "s3:ObjectCreated:*" and c["Function"] == {"Fn::GetAtt": ["ImportFunction", "Arn"]}
               for c in configs)
    permission = resources["ImportInvokePermission"]["Properties"]
    assert (permission["Principal"], permission["FunctionName"]) == ("s3.amazonaws.com", {"Ref": "ImportFunction"})
    assert sub_text(permission["SourceArn"]) == f"arn:${{AWS::Partition}}:s3:::{IMPORTS_BUCKET}"
    function = resources["ImportFunction"]["Properties"]
    assert function["Handler"] == "producer.imports.lambda_handler"
    assert function["Code"] == resources["ProducerFunction"]["Properties"]["Code"]  # one artifact, two handlers
    assert sub_text(function["Environment"]["Variables"]["IMPORTS_BUCKET"]) == IMPORTS_BUCKET
    assert function["Environment"]["Variables"]["DELIVERY_STREAM_NAME"] == {"Ref": "DeliveryStream"}


def test_the_import_lambda_reads_uploads_writes_results_and_rejected_files_and_puts_to_its_stream(resources):
    statements = resources["ImportRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    granted = {}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            granted.setdefault(action, []).extend(sub_text(t) if not isinstance(t, dict) or "Fn::Sub" in t else t
                                                  for t in targets)
    arn = f"arn:${{AWS::Partition}}:s3:::{IMPORTS_BUCKET}"
    assert sorted(granted["s3:GetObject"]) == [f"{arn}/incoming/*", f"{arn}/results/*"]
    # Its results and rejected files; and the producer's sent ledger, nothing else of the state bucket.
    assert sorted(granted["s3:PutObject"]) == ["${StateBucket.Arn}/${StatePrefix}sent/*", f"{arn}/rejected/*",
                                               f"{arn}/results/*"]
    assert granted["s3:ListBucket"] == [arn]
    assert granted["firehose:PutRecordBatch"] == [{"Fn::GetAtt": ["DeliveryStream", "Arn"]}]
    assert not [a for a in granted if "Delete" in a], "the import Lambda never deletes"
    assert granted["sns:Publish"] == [{"Ref": "ChartEventsTopic"}]  # its chart events, and nothing else of SNS
    assert set(granted) == {"s3:GetObject", "s3:PutObject", "s3:ListBucket", "firehose:PutRecordBatch",
                            "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "sns:Publish"}


def test_the_import_lambda_records_what_it_sent_where_the_reconciler_reads_it(resources):
    from firehose import ledger
    from producer import imports

    env = resources["ImportFunction"]["Properties"]["Environment"]["Variables"]
    required = {name for name, needed in imports.ENV_VARS.items() if needed}
    assert required | {"STATE_PREFIX"} <= set(env)
    producer_env = resources["ProducerFunction"]["Properties"]["Environment"]["Variables"]
    reconciler_env = resources["ReconcilerFunction"]["Properties"]["Environment"]["Variables"]
    for name in ("STATE_BUCKET", "STATE_PREFIX"):
        assert env[name] == producer_env[name] == reconciler_env[name]
    statements = {s["Sid"]: s for s in
                  resources["ImportRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    written = statements["RecordSentRecords"]
    assert written["Action"] == "s3:PutObject"
    assert sub_text(written["Resource"]) == "${StateBucket.Arn}/${StatePrefix}" + ledger.SENT_FOLDER + "*"
    reconciler = {s["Sid"]: s for s in
                  resources["ReconcilerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    assert sub_text(reconciler["ReadSentLedger"]["Resource"]) == sub_text(written["Resource"])


# --- chart events ----------------------------------------------------------------------------
def sns_grants(resources, role: str) -> list[tuple[list[str], object]]:
    statements = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    found = []
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(a.startswith("sns:") for a in actions):
            found.append((actions, statement["Resource"]))
    return found


def test_both_lambdas_publish_chart_events_to_their_topic_only_and_failures_alarm(template, resources):
    from producer import imports
    from producer.chart_events import DEFAULT_CLIMB_PLACES
    from producer.import_events import DEFAULT_MAX_AGE_DAYS

    assert resources["ChartEventsTopic"]["Type"] == "AWS::SNS::Topic"
    parameters = template["Parameters"]
    assert parameters["ClimbEventPlaces"]["Default"] == DEFAULT_CLIMB_PLACES
    assert parameters["ChartEventsMaxAgeDays"]["Default"] == DEFAULT_MAX_AGE_DAYS
    for function, role, service in (("ProducerFunction", "ProducerRole", "chart-producer"),
                                    ("ImportFunction", "ImportRole", "chart-import")):
        env = resources[function]["Properties"]["Environment"]["Variables"]
        assert env["CHART_EVENTS_TOPIC_ARN"] == {"Ref": "ChartEventsTopic"}
        assert env["CLIMB_EVENT_PLACES"] == {"Ref": "ClimbEventPlaces"}
        assert sns_grants(resources, role) == [(["sns:Publish"], {"Ref": "ChartEventsTopic"})]
        alarm = next(a["Properties"] for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
                     if a["Properties"].get("MetricName") == "ChartEventsFailed"
                     and a["Properties"]["Dimensions"] == [{"Name": "service", "Value": service}])
        assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}] and alarm["Threshold"] == 1
    import_env = resources["ImportFunction"]["Properties"]["Environment"]["Variables"]
    assert import_env["CHART_EVENTS_MAX_AGE_DAYS"] == {"Ref": "ChartEventsMaxAgeDays"}
    assert set(import_env) - POWERTOOLS_ENV <= set(imports.ENV_VARS)
    assert template["Outputs"]["ChartEventsTopicArn"]["Value"] == {"Ref": "ChartEventsTopic"}


def test_chart_histories_do_not_expire(resources):
    rules = resources["ImportsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = [r for r in rules if "ExpirationInDays" in r]
    assert expiring and all(r.get("Prefix") for r in expiring), "a rule without a prefix expires the whole bucket"
    assert not [r for r in expiring if "results/history/".startswith(r["Prefix"])]
    assert {r["Prefix"] for r in expiring} >= {"incoming/", "rejected/", "results/uploads/"}


def test_rejected_imports_and_import_failures_alarm(resources):
    rejected = resources["ImportRejectedFilesAlarm"]["Properties"]
    assert (rejected["MetricName"], rejected["Dimensions"]) == ("RejectedFiles", [{"Name": "service",
                                                                                  "Value": "chart-import"}])
    assert rejected["AlarmActions"] == [{"Ref": "AlertsTopic"}] and rejected["Threshold"] == 1
    errors = resources["ImportErrorsAlarm"]["Properties"]
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "ImportFunction"}}]
    env = resources["ImportFunction"]["Properties"]["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "chart-import"  # the metric's service dimension


# --- IAM ---------------------------------------------------------------------------------
def test_iam_policies_name_actions_and_resources(resources):
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        props = role["Properties"]
        assert "ManagedPolicyArns" not in props, f"{name}: managed policies are broader than needed"
        for policy in props["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all(a != "*" and not a.endswith(":*") for a in actions), f"{name}: wildcard action"
                if statement["Resource"] == "*":
                    assert actions == ["cloudwatch:PutMetricData"] and statement.get("Condition"), \
                        f"{name}: Resource * without a condition"


# --- monitoring --------------------------------------------------------------------------
def producer_metric_names() -> set[str]:
    source = "\n".join(p.read_text() for p in (REPO / "producer").rglob("*.py"))
    return set(re.findall(r'"([A-Z][A-Za-z]+)"', source))


def dashboard(resources) -> dict:
    body, variables = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == "MetricsNamespace":
            return "SpotifyCharts"
        return "900" if name in variables or name.endswith("Seconds") else f"<{name}>"

    return json.loads(re.sub(r"\$\{([A-Za-z0-9:.]+)\}", value, body))


def dashboard_metrics(resources) -> list[tuple[str, str]]:
    """(namespace, metric name) of every metric line of the dashboard, '.' resolved."""
    found = []
    for widget in dashboard(resources)["widgets"]:
        previous: list = []
        for line in widget.get("properties", {}).get("metrics", []):
            names = [x for x in line if isinstance(x, str)]
            if not names:
                continue
            names = [p if n == "." else n for n, p in zip(names, previous + names[len(previous):])]
            previous = names
            found.append((names[0], names[1]))
    return found


def alarm_metrics(resources) -> list[tuple[object, str]]:
    found = []
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if "MetricName" in props:
            found.append((props["Namespace"], props["MetricName"]))
        for query in props.get("Metrics", []):
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                found.append((metric["Namespace"], metric["MetricName"]))
    return found


def test_producer_metrics_watched_are_metrics_the_producer_emits(resources):
    emitted = producer_metric_names()
    watched = {m for ns, m in alarm_metrics(resources) if ns == {"Ref": "MetricsNamespace"}}
    watched |= {m for ns, m in dashboard_metrics(resources) if ns == "SpotifyCharts"}
    watched -= {"ChartMovementEvents"}  # the template's own log metric filter
    assert {"PollSucceeded", "PlaylistsFailed", "ChartNewNumberOne"} <= watched
    assert watched <= emitted, f"not emitted by the producer: {sorted(watched - emitted)}"
    from producer import observability

    assert observability.NAMESPACE == load_template(PIPELINE_TEMPLATE)["Parameters"]["MetricsNamespace"]["Default"]


def test_glue_metrics_watched_are_metrics_the_job_publishes(resources):
    try:
        from glue_streaming import metrics
    except ModuleNotFoundError as error:
        pytest.fail(f"glue_streaming.metrics is missing ({error}): cannot check the Glue alarms")
    watched = {m for ns, m in alarm_metrics(resources) if ns == {"Fn::Sub": "${MetricsNamespace}/Glue"}}
    watched |= {m for ns, m in dashboard_metrics(resources) if ns == "SpotifyCharts/Glue"}
    assert {"RecordsRead", "RecordsQuarantined"} <= watched
    assert watched <= set(metrics.CLOUDWATCH_METRICS)
    assert metrics.DEFAULT_NAMESPACE == "SpotifyCharts/Glue"
    assert {"Name": "JobName", "Value": "x"} in metrics.metric_data(metrics.RunMetrics(started_at="t"), "x")[0][
        "Dimensions"]
    assert sub_text(glue_arguments(resources)["--metrics_namespace"]) == "${MetricsNamespace}/Glue"


def test_no_successful_poll_alarm_treats_missing_data_as_breaching(resources):
    props = resources["NoSuccessfulPollAlarm"]["Properties"]
    assert props["MetricName"] == "PollSucceeded"
    assert props["TreatMissingData"] == "breaching"
    assert props["EvaluationPeriods"] == {"Ref": "MissedPollsBeforeAlarm"}
    assert props["Dimensions"] == [{"Name": "service", "Value": "chart-producer"}]


def test_glue_alarm_fires_when_no_run_read_anything_for_about_a_day(template, resources):
    props = resources["GlueNoRecordsReadAlarm"]["Properties"]
    assert (props["Namespace"], props["MetricName"]) == ({"Fn::Sub": "${MetricsNamespace}/Glue"}, "RecordsRead")
    assert props["Dimensions"] == [{"Name": "JobName", "Value": {"Ref": "GlueJob"}}]
    assert props["TreatMissingData"] == "breaching"  # a job that never runs publishes nothing
    assert (props["Statistic"], props["ComparisonOperator"], props["Threshold"]) == ("Sum", "LessThanThreshold", 1)
    hours = template["Parameters"]["GlueNoReadsAlarmHours"]
    assert props["Period"] == 3600 and props["EvaluationPeriods"] == props["DatapointsToAlarm"] == {
        "Ref": "GlueNoReadsAlarmHours"}
    assert 24 < hours["Default"] <= 30  # a daily job: more than a day, so one late run does not alarm
    assert hours["MaxValue"] * 3600 <= 604800  # CloudWatch: period x evaluation periods <= 7 days


def test_firehose_failure_alarm_ignores_one_retried_delivery(resources):
    props = resources["FirehoseDeliveryFailureAlarm"]["Properties"]
    assert props["MetricName"] == "DeliveryToS3.Success"
    # Maximum < 1: not one attempt succeeded in the period; several periods in a row.
    assert props["Statistic"] == "Maximum" and props["ComparisonOperator"] == "LessThanThreshold"
    assert props["EvaluationPeriods"] == props["DatapointsToAlarm"] >= 2
    assert props["TreatMissingData"] == "notBreaching"  # no deliveries attempted: nothing failed


def test_every_alarm_and_failure_rule_notifies_the_alerts_topic(resources):
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        assert {"Ref": "AlertsTopic"} in alarm["Properties"]["AlarmActions"], name
    rule = resources["GlueJobFailedRule"]["Properties"]
    assert rule["EventPattern"]["detail-type"] == ["Glue Job State Change"]
    assert set(rule["EventPattern"]["detail"]["state"]) >= {"FAILED", "TIMEOUT"}
    assert rule["Targets"][0]["Arn"] == {"Ref": "AlertsTopic"}


def test_dashboard_is_valid_json_with_movements_and_health(resources):
    titles = [w.get("properties", {}).get("title", "") for w in dashboard(resources)["widgets"]]
    assert "Alarms" in titles
    movements = {m for ns, m in dashboard_metrics(resources) if m.startswith("Chart")}
    assert movements >= {"ChartNewEntries", "ChartExits", "ChartClimbs", "ChartFalls", "ChartNewNumberOne"}


def test_log_groups_have_retention(resources):
    for name, group in of_type(resources, "AWS::Logs::LogGroup").items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_movement_events_are_counted_from_the_producer_log(resources):
    props = resources["ChartMovementEventsFilter"]["Properties"]
    assert props["LogGroupName"] == {"Ref": "ProducerLogGroup"}
    assert props["FilterPattern"] == '{ $.event = "chart_movements" }'
    poll_source = (REPO / "producer" / "poll.py").read_text()
    assert '"event": "chart_movements"' in poll_source


# --- the deploy command and the outputs ----------------------------------------------------
def test_deploy_command_sets_parameters_the_template_has(template):
    params = set(template["Parameters"])
    assert set(deploy.ARTIFACT_PARAMETERS) <= params
    assert {"Playlists", "AlertEmail", "SnowpipeQueueArn", "ProducerArchitecture"} <= params
    assert set(template["Parameters"]["ProducerArchitecture"]["AllowedValues"]) == set(packaging.LAMBDA_PLATFORMS)
    assert load_template(BOOTSTRAP_TEMPLATE)["Outputs"]["ArtifactsBucketName"]


def test_outputs_name_what_the_readme_and_snowflake_need(template):
    assert {"RawBucketName", "CuratedBucketName", "CuratedLocation", "QuarantineBucketName", "StateBucketName",
            "DeliveryStreamName", "ProducerFunctionName", "SpotifySecretArn", "GlueJobName", "GlueDatabaseName",
            "SnowflakeRoleArn", "SnowpipeQueueArn", "AlertsTopicArn", "DashboardUrl", "SnowflakeErrorsTopicArn",
            "SnowflakeNotificationRoleArn", "GlueLogGroupPrefix", "ChartEventsTopicArn"} <= set(template["Outputs"])



# --- reconciliation (#21 item 3) ----------------------------------------------------------
def test_the_reconciler_gets_what_its_config_reads_and_the_manifests_glue_writes(resources):
    from firehose import ledger
    from producer import reconcile

    props = resources["ReconcilerFunction"]["Properties"]
    assert props["Handler"] == "producer.reconcile.lambda_handler" and "producer.reconcile" in packaging.LAMBDA_ENTRY_MODULES
    assert props["Code"] == {"S3Bucket": {"Ref": "ArtifactsBucketName"}, "S3Key": {"Ref": "ProducerCodeKey"}}
    env = props["Environment"]["Variables"]
    required = {name for name, needed in reconcile.ENV_VARS.items() if needed}
    assert required <= set(env) and set(env) - set(reconcile.ENV_VARS) <= POWERTOOLS_ENV
    assert (env["DELIVERY_STREAM_NAME"], env["STATE_BUCKET"], env["CURATED_BUCKET"]) == (
        {"Ref": "DeliveryStream"}, {"Ref": "StateBucket"}, {"Ref": "CuratedBucket"})
    assert env["STATE_PREFIX"] == resources["ProducerFunction"]["Properties"]["Environment"]["Variables"]["STATE_PREFIX"]
    # The Glue job writes its manifests under its checkpoint (firehose/ledger.py): the same prefix.
    checkpoint = sub_text(glue_arguments(resources)["--checkpoint_path"]).removeprefix("s3://${CuratedBucket}/")
    assert env["MANIFEST_PREFIX"] == ledger.manifest_key(checkpoint, "x").removesuffix("x.json")
    assert env["POWERTOOLS_SERVICE_NAME"] == "chart-reconciler" == reconcile.SERVICE
    rule = resources["ReconcilerScheduleRule"]["Properties"]
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ReconcilerFunction", "Arn"]}
    assert resources["ReconcilerSchedulePermission"]["Properties"]["SourceArn"] == {
        "Fn::GetAtt": ["ReconcilerScheduleRule", "Arn"]}


def test_the_reconciler_reads_ledgers_restores_versions_and_sends_but_never_deletes(resources):
    statements = {s["Sid"]: s for s in
                  resources["ReconcilerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    actions = {a for s in statements.values() for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert not {a for a in actions if "Delete" in a}
    assert sub_text(statements["ReadSentLedger"]["Resource"]) == "${StateBucket.Arn}/${StatePrefix}sent/*"
    assert statements["ReadSentLedger"]["Action"] == "s3:GetObject"  # the producer's records: read only
    assert sub_text(statements["KeepProgress"]["Resource"]) == "${StateBucket.Arn}/${StatePrefix}reconcile/*"
    assert sub_text(statements["ReadManifests"]["Resource"]) == \
        "${CuratedBucket.Arn}/_checkpoints/curate-charts/manifests/*"
    assert statements["RestoreCuratedFiles"]["Action"] == ["s3:GetObjectVersion", "s3:PutObject"]
    assert sub_text(statements["RestoreCuratedFiles"]["Resource"]) == "${CuratedBucket.Arn}/curated/*"
    assert statements["ResendRecords"] == {"Sid": "ResendRecords", "Effect": "Allow",
                                           "Action": "firehose:PutRecordBatch",
                                           "Resource": {"Fn::GetAtt": ["DeliveryStream", "Arn"]}}
    for sid in ("ListSentLedger", "ListManifestsAndCuratedVersions"):
        assert "s3:prefix" in statements[sid]["Condition"]["StringLike"]


def test_the_sent_ledger_outlives_the_reconciliation_window(template, resources):
    from firehose import ledger

    rules = resources["StateBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [rule] = [r for r in rules if r["Id"] == "sent-ledger-expire"]
    assert sub_text(rule["Prefix"]) == "${StatePrefix}" + ledger.SENT_FOLDER
    parameters = template["Parameters"]
    assert parameters["SentLedgerExpirationDays"]["Default"] > parameters["ReconcileWindowDays"]["MaxValue"]
    # A curated file's published version is still there for the whole window.
    assert parameters["CuratedNoncurrentVersionDays"]["Default"] >= parameters["ReconcileWindowDays"]["Default"]


def test_what_reconciliation_cannot_repair_alarms_and_so_does_a_reconciler_that_never_runs(resources):
    from producer import reconcile

    emitted = set(re.findall(r'add_metric\("([A-Za-z]+)"', (REPO / "producer" / "reconcile.py").read_text()))
    unrepaired = resources["ReconcileUnrepairedAlarm"]["Properties"]
    assert (unrepaired["MetricName"], unrepaired["ComparisonOperator"], unrepaired["Threshold"]) == (
        "ReconcileUnrepaired", "GreaterThanOrEqualToThreshold", 1)
    never = resources["NoReconcileRunAlarm"]["Properties"]
    assert (never["MetricName"], never["TreatMissingData"], never["Period"]) == ("ReconcileSucceeded", "breaching", 86400)
    for props in (unrepaired, never):
        assert props["MetricName"] in emitted
        assert props["Dimensions"] == [{"Name": "service", "Value": reconcile.SERVICE}]
    errors = resources["ReconcilerErrorsAlarm"]["Properties"]
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "ReconcilerFunction"}}]
