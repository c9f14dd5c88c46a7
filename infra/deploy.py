"""Package and deploy the whole pipeline: ``python -m infra.deploy --help``.

Steps: check credentials -> check what would fail or be unsafe (infra/checks.py)
-> build the Lambda zip, Glue script and wheel -> create/update the bootstrap
stack (artifacts bucket) -> upload what is not there yet -> create/update the
pipeline stack through a change set -> print its outputs -> warn about alerts
nobody receives. Against LocalStack or moto, set AWS_ENDPOINT_URL; nothing else
changes.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Sequence

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from infra import checks, packaging
from infra.checks import CheckFailedError, StackView
from infra.packaging import Artifact, PackagingError
from infra.stacks import DeployError, StackDeployer
from infra.template import BOOTSTRAP_TEMPLATE, PIPELINE_TEMPLATE, load_template, parameter_names

DEFAULT_STACK_NAME = "spotify-charts"
# The curated bucket is named <stack>-curated-<account>-<region> (<= 63 characters).
STACK_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,25}$")
# Parameters the command sets itself from what it built and uploaded.
ARTIFACT_PARAMETERS = ("ArtifactsBucketName", "ProducerCodeKey", "GlueScriptKey", "GlueWheelKey")

EXIT_OK, EXIT_DEPLOY_FAILED, EXIT_USAGE, EXIT_PACKAGING_FAILED, EXIT_NO_AWS = 0, 1, 2, 3, 4

EPILOG = f"""\
examples:
  first deploy:   python -m infra.deploy --playlists "<id>:global,<id>:us" --alert-email you@example.com
  code update:    python -m infra.deploy            (other parameters keep their current values)
  Snowpipe ready: python -m infra.deploy --snowpipe-queue-arn arn:aws:sqs:...
  local:          AWS_ENDPOINT_URL=http://127.0.0.1:4566 python -m infra.deploy --playlists ...

exit codes:
  {EXIT_OK} deployed, or nothing to change     {EXIT_DEPLOY_FAILED} a stack or change set failed
  {EXIT_USAGE} bad arguments, or a check failed     {EXIT_PACKAGING_FAILED} an artifact could not be built
  {EXIT_NO_AWS} no credentials, region or endpoint
"""


class UsageError(ValueError):
    """The command line asks for something impossible."""


class NoAwsAccessError(RuntimeError):
    """No credentials, region or reachable endpoint."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy", description=__doc__.split("\n\n")[1].replace("\n", " "),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME,
                        help=f"pipeline stack name, lowercase (default {DEFAULT_STACK_NAME}); "
                             "the bootstrap stack is <name>-artifacts")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / profile)")
    parser.add_argument("--playlists", help='charts to poll: "id:label,id:label" (required on the first deploy)')
    parser.add_argument("--alert-email", help="e-mail for alarm notifications")
    parser.add_argument("--snowpipe-queue-arn", help="the pipe's notification_channel (DESC PIPE)")
    parser.add_argument("--architecture", choices=sorted(packaging.LAMBDA_PLATFORMS),
                        help="Lambda architecture (default: the stack's current one, else x86_64)")
    parser.add_argument("--parameter", "-p", action="append", default=[], metavar="KEY=VALUE",
                        help="any other template parameter; repeatable")
    parser.add_argument("--build-dir", type=Path, default=packaging.REPO_ROOT / "build",
                        help="where artifacts are built (default ./build)")
    parser.add_argument("--package-only", action="store_true",
                        help="build the artifacts, print their keys and stop (no AWS calls)")
    parser.add_argument("--no-execute", action="store_true",
                        help="create the pipeline change set and list its changes, but do not execute it")
    parser.add_argument("--json", action="store_true", help="print the stack outputs as JSON")
    parser.add_argument("--poll-seconds", type=float, default=5.0, help="stack status polling interval")
    return parser.parse_args(argv)


def requested_parameters(args: argparse.Namespace, allowed: set[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--parameter {item!r}: expected KEY=VALUE")
        values[key.strip()] = value
    for key, value in (("Playlists", args.playlists), ("AlertEmail", args.alert_email),
                       ("SnowpipeQueueArn", args.snowpipe_queue_arn),
                       ("ProducerArchitecture", args.architecture)):
        if value is not None:
            values[key] = value
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise UsageError(f"unknown template parameters: {', '.join(unknown)}")
    reserved = sorted(set(values) & set(ARTIFACT_PARAMETERS))
    if reserved:
        raise UsageError(f"{', '.join(reserved)} are set by this command from what it uploads")
    return values


def build_artifacts(build_dir: Path, architecture: str) -> dict[str, Artifact]:
    log(f"building artifacts in {build_dir} (Lambda: python{packaging.LAMBDA_PYTHON_VERSION}, {architecture})")
    return {
        "ProducerCodeKey": packaging.build_lambda_zip(build_dir, architecture),
        "GlueScriptKey": packaging.glue_script(),
        "GlueWheelKey": packaging.build_glue_wheel(build_dir),
    }


def is_custom_endpoint(client) -> bool:
    return "amazonaws.com" not in (client.meta.endpoint_url or "")


def s3_client(session: boto3.session.Session):
    client = session.client("s3")
    if is_custom_endpoint(client):  # local endpoints serve buckets by path, not by host name
        client = session.client("s3", config=Config(s3={"addressing_style": "path"}))
    return client


def upload(s3, bucket: str, artifact: Artifact) -> None:
    try:
        s3.head_object(Bucket=bucket, Key=artifact.key)
        log(f"  present   s3://{bucket}/{artifact.key}")
        return
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.upload_file(str(artifact.path), bucket, artifact.key)
    log(f"  uploaded  s3://{bucket}/{artifact.key} ({artifact.path.stat().st_size:,} bytes)")


def template_url(s3, bucket: str, key: str, region: str) -> str:
    if is_custom_endpoint(s3):
        return f"{s3.meta.endpoint_url.rstrip('/')}/{bucket}/{key}"
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_outputs(outputs: dict[str, str], as_json: bool) -> None:
    if as_json:
        print(json.dumps(outputs, indent=2, sort_keys=True))
        return
    width = max((len(k) for k in outputs), default=0)
    for key in sorted(outputs):
        print(f"{key:<{width}}  {outputs[key]}")


def deploy(args: argparse.Namespace) -> int:
    if not STACK_NAME_PATTERN.match(args.stack_name):
        raise UsageError(f"--stack-name {args.stack_name!r}: use 1-26 lowercase letters, digits or '-', "
                         "starting with a letter (it names S3 buckets)")
    pipeline_template = load_template(PIPELINE_TEMPLATE)
    template_parameters = parameter_names(pipeline_template)
    values = requested_parameters(args, template_parameters)
    if args.package_only:
        artifacts = build_artifacts(args.build_dir, args.architecture or "x86_64")
        for name, artifact in artifacts.items():
            print(f"{name}  {artifact.key}  {artifact.path}")
        return EXIT_OK

    session = boto3.session.Session(region_name=args.region)
    region = session.region_name
    if not region:
        raise NoAwsAccessError("no region: pass --region or set AWS_REGION")
    try:
        identity = session.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        raise NoAwsAccessError(str(error)) from None
    cfn = session.client("cloudformation")
    endpoint = cfn.meta.endpoint_url if is_custom_endpoint(cfn) else "AWS"
    log(f"account {identity['Account']}, region {region}, endpoint {endpoint}")
    deployer = StackDeployer(cfn, poll_seconds=args.poll_seconds)

    existing = deployer.describe(args.stack_name)
    if existing is None and "Playlists" not in values:
        raise UsageError("--playlists is required on the first deploy")
    previous = deployer.parameters(args.stack_name)
    run_checks(session, args.stack_name, StackView(region, values, previous, template_defaults(pipeline_template)))
    architecture = values.get("ProducerArchitecture") or previous.get("ProducerArchitecture") or "x86_64"
    artifacts = build_artifacts(args.build_dir, architecture)

    bootstrap = f"{args.stack_name}-artifacts"
    deployer.deploy(bootstrap, template_body=BOOTSTRAP_TEMPLATE.read_text(), template_parameters=set(),
                    parameters={})
    bucket = deployer.outputs(bootstrap)["ArtifactsBucketName"]
    s3 = s3_client(session)
    template = packaging.template_artifact(PIPELINE_TEMPLATE)
    for artifact in (*artifacts.values(), template):
        upload(s3, bucket, artifact)

    parameters = {**values, "ArtifactsBucketName": bucket, "ProducerArchitecture": architecture,
                  **{name: artifact.key for name, artifact in artifacts.items()}}
    deployer.deploy(args.stack_name, template_url=template_url(s3, bucket, template.key, region),
                    template_parameters=template_parameters, parameters=parameters,
                    capabilities=("CAPABILITY_IAM",), execute=not args.no_execute)
    if args.no_execute:
        if not (values.get("AlertEmail") or previous.get("AlertEmail")):
            log("warning: no --alert-email: unless another endpoint subscribes to the alerts topics, alarms go nowhere")
        return EXIT_OK
    outputs = deployer.outputs(args.stack_name)
    print_outputs(outputs, args.json)
    for warning in checks.alert_warnings(session.client("sns"), outputs):
        log(f"warning: {warning}")
    return EXIT_OK


def template_defaults(template: dict | None = None) -> dict[str, str]:
    parameters = (template or load_template(PIPELINE_TEMPLATE))["Parameters"]
    return {name: str(p["Default"]) for name, p in parameters.items() if "Default" in p}


def run_checks(session: boto3.session.Session, stack_name: str, view: StackView) -> None:
    """Everything that can be checked before anything changes (CheckFailedError stops the deploy)."""
    checks.check_snowpipe_queue_region(view)
    cfn = session.client("cloudformation")
    reader = checks.deployed_external_id_reader(cfn, session.client("iam"), stack_name, log)
    checks.check_snowflake_external_ids(view, reader)
    log(checks.check_reserved_concurrency(view, session.client("lambda"), f"{stack_name}-producer"))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return deploy(args)
    except UsageError as error:
        log(f"error: {error}")
        return EXIT_USAGE
    except CheckFailedError as error:
        log(f"deploy check failed (nothing was changed): {error}")
        return EXIT_USAGE
    except PackagingError as error:
        log(f"packaging failed: {error}")
        return EXIT_PACKAGING_FAILED
    except DeployError as error:
        log(f"deploy failed: {error}")
        return EXIT_DEPLOY_FAILED
    except NoAwsAccessError as error:
        log(f"no AWS access: {error} (set credentials and a region, or AWS_ENDPOINT_URL for a local endpoint)")
        return EXIT_NO_AWS
    except (ClientError, BotoCoreError) as error:
        log(f"AWS call failed: {error}")
        return EXIT_DEPLOY_FAILED


if __name__ == "__main__":
    sys.exit(main())
