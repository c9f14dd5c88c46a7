"""Errors shown to a browser by an id, never by their text: the text (a connector's message,
an SQL statement, a bucket name, a path) stays in the server's log, under that id."""
from __future__ import annotations

import logging
import secrets


class BadRequestError(ValueError):
    """A query parameter has an unusable value (the dashboard answers 400)."""


class NotFoundError(LookupError):
    """What a request asks for is not there (yet), or its source is not configured (the dashboard answers 404)."""


def log_error(log: logging.Logger, message: str, *args: object) -> str:
    """Log the exception being handled, with its traceback, under a new short id; returns the id."""
    error_id = secrets.token_hex(4)
    log.error(message + " [error id %s]", *args, error_id, exc_info=True)
    return error_id


def error_reference(error_id: str) -> str:
    """What a page shows in place of an error's text."""
    return f"error id {error_id}; the details are in the dashboard's log"
