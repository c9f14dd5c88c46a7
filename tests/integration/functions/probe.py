"""A Lambda handler that shows what the local-process executor gives a function.

Deployed from a zip holding only this file: boto3 and powertools come from the
interpreter the executor runs (the project's virtualenv).
"""
import json
import os
import sys
import time

import boto3
from aws_lambda_powertools import Logger

logger = Logger(service="probe")


def handler(event, context):
    if event.get("source") == "aws.events":  # the EventBridge schedule
        key = f"scheduled/{event['id']}.json"
        boto3.client("s3").put_object(Bucket=os.environ["DATA_BUCKET"], Key=key, Body=json.dumps(event))
        return {"scheduled": key}
    action = event.get("action")
    if action == "echo":
        logger.info("probe echo", extra={"marker": event.get("marker")})
        print(f"printed {event.get('marker')}")
        return {
            "event": event,
            "function_name": context.function_name,
            "request_id": context.aws_request_id,
            "memory_limit_in_mb": int(context.memory_limit_in_mb),
            "remaining_ms": context.get_remaining_time_in_millis(),
            "python": sys.executable,
            "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
            "pid": os.getpid(),
            "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
            "code_folder": os.path.realpath(os.getcwd()),  # the unzipped code, links resolved
        }
    if action == "put":
        s3 = boto3.client("s3")
        s3.put_object(Bucket=os.environ["DATA_BUCKET"], Key=event["key"], Body=event["body"].encode())
        return {"written": event["key"]}
    if action == "fail":
        raise ValueError(event["message"])
    if action == "sleep":
        time.sleep(event["seconds"])
        return {"slept": event["seconds"]}
    raise KeyError(f"unknown action {action!r}")
