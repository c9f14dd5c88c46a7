"""Where a deployed stack's Glue job reads and writes: the path arguments the template
gives the job (``GlueJob``'s ``DefaultArguments`` in infra/cloudformation/pipeline.yaml),
with the stack's bucket names filled in from its outputs.

LocalStack keeps no real Glue job (it accepts ``AWS::Glue::Job`` without creating one),
so the local pipeline runs the job itself, on these same ``s3://`` paths.
"""
from __future__ import annotations

import re
from typing import Mapping

from glue_streaming.job import REQUIRED_JOB_ARGUMENTS
from infra.template import PIPELINE_TEMPLATE, load_template
from localdev.local_spark.glue_runner import GluePaths

_REFERENCE = re.compile(r"\$\{(\w+)\}")


class StackPathsError(ValueError):
    """The template's job arguments name something the stack's outputs do not give."""


def job_path_arguments(outputs: Mapping[str, str]) -> dict[str, str]:
    """``{"source_path": "s3://<raw bucket>/raw/chart_entries/", ...}`` for this stack.

    A ``${Bucket}`` reference is the bucket's name, which the stack outputs as ``BucketName``.
    """
    arguments = load_template(PIPELINE_TEMPLATE)["Resources"]["GlueJob"]["Properties"]["DefaultArguments"]

    def bucket_name(match: re.Match) -> str:
        output = f"{match[1]}Name"
        if output not in outputs:
            raise StackPathsError(f"the Glue job's arguments use ${{{match[1]}}}, but the stack has no output {output}")
        return outputs[output]

    resolved = {}
    for name in REQUIRED_JOB_ARGUMENTS:
        value = arguments[f"--{name}"]
        text = value["Fn::Sub"] if isinstance(value, dict) else value
        if not isinstance(text, str):
            raise StackPathsError(f"--{name} in the template is not a plain !Sub string: {value!r}")
        resolved[name] = _REFERENCE.sub(bucket_name, text)
    return resolved


def stack_glue_paths(outputs: Mapping[str, str]) -> GluePaths:
    arguments = job_path_arguments(outputs)
    return GluePaths(*(arguments[name] for name in ("source_path", "target_path", "quarantine_path",
                                                    "checkpoint_path")))
