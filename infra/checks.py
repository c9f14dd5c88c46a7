"""What the deploy command checks before it changes anything, and after.

Before: mistakes AWS would only report half-way through a stack operation, or never.
- Snowpipe's queue must be in the stack's region: S3 sends event notifications only
  to queues in the bucket's region (the stack would fail on the bucket).
- A role that trusts a Snowflake IAM user must not accept a published external id
  (the template default ``0000``, Snowflake's documented placeholder): Snowflake's
  IAM user is shared, and the external id is what tells its customers apart.
- Reserved concurrency for the producer must leave the account its minimum of
  unreserved concurrency (a new account has none to spare).

After: every alerts topic has a subscriber, or the alarms go nowhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from botocore.exceptions import ClientError

# The template's default external id, and the placeholder Snowflake's set-up guide
# tells users to type before the integration exists.
PUBLISHED_EXTERNAL_IDS = frozenset({"0000"})
# (user parameter, external id parameter, role resource, where Snowflake shows the values)
SNOWFLAKE_TRUSTS = (
    ("SnowflakeIamUserArn", "SnowflakeExternalId", "SnowflakeIntegrationRole",
     "STORAGE_AWS_IAM_USER_ARN / STORAGE_AWS_EXTERNAL_ID of DESC INTEGRATION"),
    ("SnowflakeNotificationIamUserArn", "SnowflakeNotificationExternalId", "SnowflakeNotificationRole",
     "SF_AWS_IAM_USER_ARN / SF_AWS_EXTERNAL_ID of DESC NOTIFICATION INTEGRATION"),
)
# Lambda keeps this much account concurrency unreserved, or the whole quota when the
# quota is smaller (new accounts: 10, "below its minimum value of [10]").
MINIMUM_UNRESERVED_CONCURRENCY = 100
ALERT_TOPIC_OUTPUTS = ("AlertsTopicArn", "SnowflakeErrorsTopicArn")


class CheckFailedError(ValueError):
    """The deploy would fail, or would leave something unsafe: nothing was changed."""


@dataclass(frozen=True)
class StackView:
    """What the checks need of the stack as it would be after this deploy."""

    region: str
    requested: Mapping[str, str]  # parameters given on this command line
    previous: Mapping[str, str]  # the stack's current parameters (empty before the first deploy)
    template_defaults: Mapping[str, str]

    def value(self, name: str) -> str:
        """The parameter's value after this deploy: given, else kept, else the default."""
        for source in (self.requested, self.previous, self.template_defaults):
            if name in source:
                return str(source[name])
        return ""


def check_snowpipe_queue_region(view: StackView) -> None:
    arn = view.value("SnowpipeQueueArn")
    if not arn:
        return
    parts = arn.split(":")
    queue_region = parts[3] if len(parts) == 6 and parts[2] == "sqs" else ""
    if queue_region != view.region:
        raise CheckFailedError(
            f"SnowpipeQueueArn {arn} is in region {queue_region or '?'}, the stack in {view.region}: S3 notifies "
            f"only queues in the bucket's region. Create the Snowflake stage and pipes in a Snowflake account of "
            f"{view.region} (DESC PIPE shows its notification_channel), or deploy the stack to {queue_region}.")


def check_snowflake_external_ids(view: StackView, deployed_external_id: Callable[[str], str | None]) -> None:
    """``deployed_external_id(role_resource)``: the external id the deployed role accepts, if any."""
    for user_parameter, id_parameter, role, where in SNOWFLAKE_TRUSTS:
        user = view.value(user_parameter)
        if not user:
            continue  # the role trusts this account only: Snowflake cannot use it yet
        external_id = view.requested.get(id_parameter)
        if external_id is None:
            external_id = deployed_external_id(role) if view.previous else None
            if external_id is None:
                external_id = view.value(id_parameter)  # a first deploy takes the default
        if external_id in PUBLISHED_EXTERNAL_IDS:
            raise CheckFailedError(
                f"{role} would trust {user} with the published external id {external_id!r}: any Snowflake "
                f"account behind that IAM user could assume it. Pass -p {id_parameter}=<the value> "
                f"({where}).")


def check_reserved_concurrency(view: StackView, lambda_client: Any, function_name: str) -> str:
    """Raise if the reservation cannot be made; returns a line describing the account."""
    limits = lambda_client.get_account_settings()["AccountLimit"]
    quota, unreserved = limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]
    minimum = min(MINIMUM_UNRESERVED_CONCURRENCY, quota)
    summary = f"Lambda concurrency: account quota {quota}, unreserved {unreserved} (minimum {minimum})"
    wanted = view.value("ProducerReservedConcurrency")
    if not wanted:
        return f"{summary}; the producer reserves none (polls never overlap: they take a lease)"
    held = 0  # what the producer already reserves comes back to the pool when it changes
    try:
        held = lambda_client.get_function_concurrency(FunctionName=function_name).get(
            "ReservedConcurrentExecutions") or 0
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    left = unreserved + held - int(wanted)
    if left < minimum:
        raise CheckFailedError(
            f"ProducerReservedConcurrency={wanted} would leave {left} unreserved concurrent executions, below the "
            f"account's minimum of {minimum} ({summary.lower()}). Leave it unset (-p ProducerReservedConcurrency=): "
            f"polls never overlap without it. Or raise the quota first: Service Quotas > AWS Lambda > "
            f"Concurrent executions.")
    return f"{summary}; the producer reserves {wanted}"


def alert_warnings(sns: Any, outputs: Mapping[str, str]) -> list[str]:
    """One line per alerts topic nobody would hear from."""
    warnings = []
    for output in ALERT_TOPIC_OUTPUTS:
        topic = outputs.get(output)
        if not topic:
            continue
        subscriptions = [s for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
                         for s in page["Subscriptions"]]
        confirmed = [s for s in subscriptions if s["SubscriptionArn"].startswith("arn:")]
        if not subscriptions:
            warnings.append(f"nobody is subscribed to {output} ({topic}): its alerts go nowhere. Deploy with "
                            f"--alert-email you@example.com, or subscribe another endpoint (aws sns subscribe).")
        elif not confirmed:
            warnings.append(f"the subscriptions to {output} ({topic}) wait for confirmation: "
                            f"open the e-mail AWS sent and confirm it.")
    return warnings


def deployed_external_id_reader(cfn: Any, iam: Any, stack_name: str, log: Callable[[str], None]):
    """A ``deployed_external_id`` for check_snowflake_external_ids that reads the roles' trust policies."""

    def read(role_resource: str) -> str | None:
        try:
            role_name = cfn.describe_stack_resource(StackName=stack_name, LogicalResourceId=role_resource)[
                "StackResourceDetail"]["PhysicalResourceId"]
            document = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code != "ValidationError":  # ValidationError: the role is new in this template version
                log(f"warning: cannot read the trust policy of {role_resource} ({code}); its external id "
                    "is not checked")
            return None
        for statement in document.get("Statement", []):
            value = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
            if value is not None:
                return value
        return None

    return read
