"""Powertools logger and metrics shared by the producer's modules.

Logs are JSON, correlated by ``poll_id``; metrics are CloudWatch EMF lines in
the log stream (no PutMetricData calls, so no extra latency or IAM).
"""
from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "chart-producer")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "SpotifyCharts")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
