"""Snowflake side of the chart pipeline (the repo's ``snowflake/`` is a namespace package)."""
