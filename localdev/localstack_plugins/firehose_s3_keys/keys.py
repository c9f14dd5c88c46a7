"""Evaluate a Firehose S3 prefix as AWS does (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html).

Pure functions of the prefix and the delivery time, so they are tested without LocalStack.
"""
from __future__ import annotations

import re
import secrets
import string
import uuid
from datetime import datetime

EXPRESSION = re.compile(r"!\{(?P<namespace>[A-Za-z-]+):(?P<argument>[^}]*)\}")
# The Java DateTimeFormatter letters a prefix uses in practice, as strftime directives.
JAVA_PATTERN = re.compile(r"'[^']*'|yyyy|yy|MM|dd|HH|mm|ss|[A-Za-z]")
STRFTIME = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
RANDOM_ALPHABET = string.ascii_letters + string.digits


class PrefixExpressionError(ValueError):
    """A prefix expression this stand-in does not evaluate (AWS would, or would reject it)."""


def format_java_timestamp(pattern: str, moment: datetime) -> str:
    def one(match: re.Match) -> str:
        token = match.group(0)
        if token.startswith("'"):
            return token[1:-1]
        if token not in STRFTIME:
            raise PrefixExpressionError(f"timestamp pattern letter {token!r} in {pattern!r} is not supported here")
        return moment.strftime(STRFTIME[token])

    return JAVA_PATTERN.sub(one, pattern)


def evaluate_prefix(prefix: str, moment: datetime) -> str:
    """``raw/dt=!{timestamp:yyyy-MM-dd}/`` -> ``raw/dt=2026-11-29/``; one instant for the whole key.

    Without a timestamp expression AWS appends ``!{timestamp:yyyy/MM/dd/HH/}``.
    """
    def one(match: re.Match) -> str:
        namespace, argument = match.group("namespace"), match.group("argument")
        if namespace == "timestamp":
            return format_java_timestamp(argument, moment)
        if namespace == "firehose" and argument == "random-string":
            return "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(11))
        raise PrefixExpressionError(f"prefix expression {match.group(0)!r} is not supported here")

    if not any(m.group("namespace") == "timestamp" for m in EXPRESSION.finditer(prefix)):
        prefix += "!{timestamp:yyyy/MM/dd/HH/}"
    return EXPRESSION.sub(one, prefix)


def object_key(prefix: str, stream_name: str, moment: datetime, file_extension: str = "") -> str:
    """The key of one delivered object: evaluated prefix, then ``<stream>-<time>-<uuid>``."""
    name = f"{stream_name}-{moment:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}{file_extension}"
    return evaluate_prefix(prefix, moment) + name
