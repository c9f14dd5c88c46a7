"""Errors shown to a browser by an id, never by their text: the text (a connector's message,
an SQL statement, a bucket name, a path) stays in the server's log, under that id."""
from __future__ import annotations

import logging
import secrets


def log_error(log: logging.Logger, message: str, *args: object) -> str:
    """Log the exception being handled, with its traceback, under a new short id; returns the id."""
    error_id = secrets.token_hex(4)
    log.error(message + " [error id %s]", *args, error_id, exc_info=True)
    return error_id


def error_reference(error_id: str) -> str:
    """What a page shows in place of an error's text."""
    return f"error id {error_id}; the details are in the dashboard's log"
