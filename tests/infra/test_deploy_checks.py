"""The deploy command's checks (infra/checks.py) with real boto3 against a moto server.

The Lambda concurrency check needs Lambda's account settings, which moto does not
serve: tests/infra/test_deploy_localstack.py checks it on a LocalStack configured
with a new account's limits.
"""
from __future__ import annotations

import json

import boto3
import pytest

from infra import checks, deploy
from infra.checks import CheckFailedError, StackView
from tests.conftest import unique_name

SNOWFLAKE_USER = "arn:aws:iam::123456789012:user/abc1-s-v2st0000"
SNOWFLAKE_EXTERNAL_ID = "MYACCOUNT_SFCRole=2_a1b2c3d4e5f6g7h8i9j0k1l2m3n4="


def view(requested=None, previous=None, region="us-east-1") -> StackView:
    return StackView(region, requested or {}, previous or {}, deploy.template_defaults())


@pytest.mark.parametrize("arn, ok", [
    ("arn:aws:sqs:us-east-1:123456789012:sf-snowpipe-AIDA-abc", True),
    ("arn:aws:sqs:eu-west-1:123456789012:sf-snowpipe-AIDA-abc", False),
    ("arn:aws:sns:us-east-1:123456789012:not-a-queue", False),
])
def test_snowpipe_queue_must_be_in_the_stacks_region(arn, ok):
    for candidate in (view({"SnowpipeQueueArn": arn}), view(previous={"SnowpipeQueueArn": arn})):
        if ok:
            checks.check_snowpipe_queue_region(candidate)
        else:
            with pytest.raises(CheckFailedError, match="region"):
                checks.check_snowpipe_queue_region(candidate)
    checks.check_snowpipe_queue_region(view())  # no ARN: the stack's own queue


def role_template(external_id: str) -> str:
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": SNOWFLAKE_USER}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]}
    return json.dumps({"Resources": {"SnowflakeIntegrationRole": {
        "Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}}}})


@pytest.fixture
def deployed_role(aws_endpoint):
    """A stack whose Snowflake role trusts a Snowflake user with a given external id."""

    def deploy_role(external_id: str):
        name = unique_name("trust")
        cfn = boto3.client("cloudformation")
        cfn.create_stack(StackName=name, TemplateBody=role_template(external_id))
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
        logged = []
        return name, checks.deployed_external_id_reader(cfn, boto3.client("iam"), name, logged.append), logged

    return deploy_role


def test_a_deployed_role_that_trusts_snowflake_with_a_published_external_id_stops_the_deploy(deployed_role):
    name, reader, _ = deployed_role("0000")
    assert reader("SnowflakeIntegrationRole") == "0000"  # read from the live trust policy, not the NoEcho parameter
    existing = {"SnowflakeIamUserArn": SNOWFLAKE_USER, "SnowflakeExternalId": "****"}
    with pytest.raises(CheckFailedError, match="published external id '0000'.*SnowflakeExternalId"):
        checks.check_snowflake_external_ids(view(previous=existing), reader)  # even a code-only update
    # Giving the integration's external id fixes it.
    checks.check_snowflake_external_ids(view({"SnowflakeExternalId": SNOWFLAKE_EXTERNAL_ID}, existing), reader)


def test_a_role_with_snowflakes_external_id_passes(deployed_role):
    _, reader, logged = deployed_role(SNOWFLAKE_EXTERNAL_ID)
    existing = {"SnowflakeIamUserArn": SNOWFLAKE_USER, "SnowflakeExternalId": "****"}
    checks.check_snowflake_external_ids(view(previous=existing), reader)
    assert logged == []
    # The notification role is not in this stack yet: its default would apply, so a user needs an id.
    with pytest.raises(CheckFailedError, match="SnowflakeNotificationRole.*SnowflakeNotificationExternalId"):
        checks.check_snowflake_external_ids(
            view({"SnowflakeNotificationIamUserArn": SNOWFLAKE_USER}, existing), reader)


def test_a_first_deploy_that_names_a_snowflake_user_needs_its_external_id():
    def nothing_deployed(role):
        raise AssertionError("a first deploy has no role to read")

    with pytest.raises(CheckFailedError, match="SnowflakeExternalId"):
        checks.check_snowflake_external_ids(view({"SnowflakeIamUserArn": SNOWFLAKE_USER}), nothing_deployed)
    checks.check_snowflake_external_ids(
        view({"SnowflakeIamUserArn": SNOWFLAKE_USER, "SnowflakeExternalId": SNOWFLAKE_EXTERNAL_ID}), nothing_deployed)
    checks.check_snowflake_external_ids(view(), nothing_deployed)  # no Snowflake user: the account trusts itself


def test_alert_topics_without_a_subscriber_are_reported(aws_endpoint):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    alerts = sns.create_topic(Name=unique_name("alerts"))["TopicArn"]
    errors = sns.create_topic(Name=unique_name("sf-errors"))["TopicArn"]
    outputs = {"AlertsTopicArn": alerts, "SnowflakeErrorsTopicArn": errors, "RawBucketName": "x"}
    warnings = checks.alert_warnings(sns, outputs)
    assert len(warnings) == 2 and all("nobody is subscribed" in w and "--alert-email" in w for w in warnings)
    queue = sqs.create_queue(QueueName=unique_name("pager"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=alerts, Protocol="sqs", Endpoint=queue_arn)  # "another subscriber"
    warnings = checks.alert_warnings(sns, outputs)
    assert len(warnings) == 1 and "SnowflakeErrorsTopicArn" in warnings[0]
