"""Delete the pipeline and everything it stored: ``python -m infra.teardown --help``.

CloudFormation cannot delete buckets that hold objects, so this empties the
stack's buckets (every object version) first, then deletes the pipeline stack,
then the artifacts bucket and the bootstrap stack. Irreversible: it asks for
``--yes``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.deploy import DEFAULT_STACK_NAME, EXIT_DEPLOY_FAILED, EXIT_NO_AWS, EXIT_OK, EXIT_USAGE, log, s3_client
from infra.stacks import DeployError, StackDeployer


def stack_buckets(cfn, stack_name: str) -> list[str]:
    resources = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    return [r["PhysicalResourceId"] for r in resources
            if r["ResourceType"] == "AWS::S3::Bucket" and r.get("PhysicalResourceId")]


def empty_bucket(s3, bucket: str) -> int:
    """Delete every object version and delete marker; returns how many were deleted."""
    deleted = 0
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        for page in pages:
            keys = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            for start in range(0, len(keys), 1000):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[start:start + 1000], "Quiet": True})
            deleted += len(keys)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise
    log(f"  emptied s3://{bucket} ({deleted} object versions)")
    return deleted


def teardown(session: boto3.session.Session, stack_name: str, poll_seconds: float) -> None:
    cfn = session.client("cloudformation")
    s3 = s3_client(session)
    deployer = StackDeployer(cfn, poll_seconds=poll_seconds)
    for name in (stack_name, f"{stack_name}-artifacts"):
        if deployer.describe(name) is None:
            log(f"{name}: does not exist")
            continue
        for bucket in stack_buckets(cfn, name):
            empty_bucket(s3, bucket)
        deployer.delete(name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.teardown", description=__doc__.split("\n\n")[1])
    parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    parser.add_argument("--region")
    parser.add_argument("--yes", action="store_true", help="really delete the stacks and all their data")
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    if not args.yes:
        log(f"this deletes {args.stack_name}, {args.stack_name}-artifacts and all data in their buckets; "
            "run again with --yes")
        return EXIT_USAGE
    try:
        teardown(boto3.session.Session(region_name=args.region), args.stack_name, args.poll_seconds)
    except DeployError as error:
        log(f"teardown failed: {error}")
        return EXIT_DEPLOY_FAILED
    except (ClientError, BotoCoreError) as error:
        log(f"AWS call failed: {error}")
        return EXIT_NO_AWS if isinstance(error, BotoCoreError) else EXIT_DEPLOY_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
