"""The AWS side of the local pipeline: LocalStack, the real stack deployed to it
(``python -m infra.deploy``), its teardown, a LocalStack restart. The producer's
schedule on it: ``schedule``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from typing import Any

from localdev.localstack import LocalStack, ensure_localstack
from localdev.pipeline.progress import Say
from localdev.pipeline.schedule import ProducerSchedule
from localdev.pipeline.settings import REPO_ROOT, PipelineError, PipelineSettings

# Every bucket whose objects a LocalStack restart must not lose (the Glue checkpoint is
# in the curated bucket, under _checkpoints/).
KEPT_BUCKETS = ("RawBucketName", "StateBucketName", "QuarantineBucketName", "CuratedBucketName",
                "ImportsBucketName")
# The Glue job's checkpoints (the template's --checkpoint_path lies below it).
CHECKPOINTS_PREFIX = "_checkpoints/"
# The template's slowest schedule; the pipeline drives the polls itself (``set_schedule``
# removes the rule's target), but LocalStack starts a rule's timer when the deploy puts
# the target: a rule firing every minute (adaptive polling) could poll once before that.
DEPLOYED_POLL_MINUTES = "5"
DEPLOYED_SCHEDULE = {"PollSchedule": "fixed", "PollIntervalMinutes": DEPLOYED_POLL_MINUTES}
# LocalStack answers a stack's status at once and creates resources in seconds: a wait that
# looks 4 times a second ends nearer the change than the deploy command's 5-second default.
LOCAL_POLL_SECONDS = 0.25
# Template parameters of every local deploy (PipelineSettings.stack_parameters override them):
# the pipeline runs Glue itself and reconciles after a Glue run, so what was sent before
# is due in the curated data at once (localdev/pipeline/reconciliation.py). The local Spotify
# server answers in milliseconds and a replayed chart day passes in under a second, while
# AWS's retry waits (0.5, 1 and 2 s) made each of the history's 4 outage days a 5-second poll.
LOCAL_STACK_PARAMETERS = {"ReconcileGraceHours": "0", "SpotifyRetryDelayMs": "20"}


class Stack:
    """LocalStack (a given one is used as is and never stopped here) and the stack on it."""

    def __init__(self, settings: PipelineSettings, say: Say, localstack: LocalStack | None = None):
        self.settings, self.say = settings, say
        self.localstack = localstack
        self.outputs: dict[str, str] = {}
        self.queue_url: str | None = None  # the Snowpipe queue the curated bucket notifies
        self.schedule: ProducerSchedule | None = None
        self._clients: dict[str, Any] = {}
        self._deploying = False  # a deploy started: the stack may exist
        self._spotify: tuple[dict[str, str], dict[str, str]] = ({}, {})  # parameters and secret, for a redeploy

    def start(self, cleanup: ExitStack) -> None:
        if self.localstack is None:
            self.localstack = ensure_localstack(self.settings.localstack_endpoint)
            cleanup.callback(self.localstack.stop)
            owned = self.localstack.mode != "reused"
        else:
            owned = False
        if not owned:  # someone else's LocalStack outlives us: delete what we deploy there
            cleanup.callback(self.teardown)
        self.say("localstack", f"{self.localstack.mode} at {self.localstack.endpoint}")

    def aws(self, service: str):
        """A boto3 client for the LocalStack in use (cached)."""
        if service not in self._clients:
            self._clients[service] = self.localstack.client(service)
        return self._clients[service]

    def aws_environ(self) -> dict[str, str]:
        """This process's environment, with boto3 pointed at LocalStack and nothing else of AWS."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        return {**clean, **self.localstack.environ()}

    def deploy(self, spotify_parameters: dict[str, str], spotify_secret: dict[str, str]) -> dict[str, str]:
        """Package and deploy the stack (``python -m infra.deploy``), then make it usable here:
        the Spotify secret's value, the schedule, the Snowpipe queue's URL."""
        s = self.settings
        self._spotify = (spotify_parameters, spotify_secret)
        argv = [sys.executable, "-m", "infra.deploy", "--stack-name", s.stack_name, "--build-dir", str(s.build_dir),
                "--poll-seconds", str(LOCAL_POLL_SECONDS), "--json", "--playlists", s.playlists]
        for name, value in {**DEPLOYED_SCHEDULE, **LOCAL_STACK_PARAMETERS, **spotify_parameters,
                            **s.stack_parameters}.items():
            argv += ["-p", f"{name}={value}"]
        started = time.monotonic()
        self._deploying = True
        self.say("deploy", f"stack {s.stack_name} (packaging, change sets; log {s.logs / 'deploy.log'}) ...")
        with open(s.logs / "deploy.log", "a") as log:
            result = subprocess.run(argv, cwd=REPO_ROOT, env=self.aws_environ(), stdout=subprocess.PIPE,
                                    stderr=log, text=True, timeout=900)
        if result.returncode != 0:
            raise PipelineError(f"deploy failed (exit {result.returncode}); see {s.logs / 'deploy.log'}")
        self.outputs = json.loads(result.stdout)
        self._configure(spotify_secret)
        self.say("deploy", f"stack {s.stack_name} ready in {time.monotonic() - started:.1f} s: producer "
                           f"{self.outputs['ProducerFunctionName']}, stream {self.outputs['DeliveryStreamName']}")
        return self.outputs

    def _configure(self, spotify_secret: dict[str, str]) -> None:
        self.aws("secretsmanager").put_secret_value(
            SecretId=self.outputs["SpotifySecretArn"], SecretString=json.dumps(spotify_secret))
        function_arn = self.aws("lambda").get_function(
            FunctionName=self.outputs["ProducerFunctionName"])["Configuration"]["FunctionArn"]
        rules = self.aws("events").list_rule_names_by_target(TargetArn=function_arn)["RuleNames"]
        if len(rules) != 1:
            raise PipelineError(f"expected one schedule rule for the producer, found {rules}")
        self.schedule = ProducerSchedule(self.aws("events"), rules[0], self.settings.poll_schedule)
        self.schedule.set(False)  # polls are driven from here until keep_running() turns it on
        queue_name = self.outputs["SnowpipeQueueArn"].rsplit(":", 1)[1]
        self.queue_url = self.aws("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]

    def teardown(self) -> None:
        """Delete the stacks and their data (``python -m infra.teardown``)."""
        if not self._deploying:
            return
        argv = [sys.executable, "-m", "infra.teardown", "--stack-name", self.settings.stack_name, "--yes",
                "--poll-seconds", str(LOCAL_POLL_SECONDS)]
        with open(self.settings.logs / "deploy.log", "a") as log:
            result = subprocess.run(argv, cwd=REPO_ROOT, env=self.aws_environ(), stdout=log, stderr=log, timeout=600)
        self.say("teardown", f"stack {self.settings.stack_name} "
                             + ("deleted" if result.returncode == 0 else f"NOT deleted (exit {result.returncode})"))
        self.outputs, self._deploying = {}, False

    def restart(self) -> float:
        """Restart LocalStack and bring the stack back with the objects of every bucket;
        returns the seconds.

        LocalStack's community edition keeps nothing across a restart, so before it the
        objects of every bucket (raw, producer state, quarantine, curated with the Glue
        job's checkpoint) are read into memory; after it the stack is deployed again and
        they are put back. The new stack's buckets have new names; the Glue checkpoint's
        paths are moved to them.
        """
        started = time.monotonic()
        kept = {output: self._read_objects(self.outputs[output]) for output in KEPT_BUCKETS}
        old_names = {output: self.outputs[output] for output in KEPT_BUCKETS}
        counts = ", ".join(f"{len(objects)} {output.removesuffix('BucketName').lower()}"
                           for output, objects in kept.items())
        self.say("restart", f"kept the objects of every bucket ({counts}); restarting LocalStack ...")
        self.localstack.restart()  # host mode only: raises LocalStackError otherwise
        self._clients.clear()
        self.deploy(*self._spotify)
        s3 = self.aws("s3")
        # On AWS a bucket keeps its name; here the redeployed stack's buckets get new ones, so
        # the Glue checkpoint's file paths (its source log names every raw object it read)
        # move with them: a Glue run after the restart takes only what is new, as on AWS.
        renames = {f"s3://{old_names[o]}/".encode(): f"s3://{self.outputs[o]}/".encode() for o in KEPT_BUCKETS}
        for output, objects in kept.items():
            for key, body in objects.items():
                if key.startswith(CHECKPOINTS_PREFIX):
                    for old, new in renames.items():
                        body = body.replace(old, new)
                s3.put_object(Bucket=self.outputs[output], Key=key, Body=body)
        seconds = time.monotonic() - started
        self.say("restart", f"LocalStack restarted, stack redeployed, objects restored ({counts}) ({seconds:.1f} s)")
        return seconds

    def _read_objects(self, bucket: str) -> dict[str, bytes]:
        s3 = self.aws("s3")
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                for page in pages for o in page.get("Contents", [])}
