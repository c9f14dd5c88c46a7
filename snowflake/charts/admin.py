"""The one-time administrator step on a real Snowflake account: ``snowflake/admin/account_setup.sql``.

    python -m snowflake.charts.admin --var curated_s3_url=<CuratedLocation> \\
        --var storage_aws_role_arn=<SnowflakeRoleArn> \\
        --var sns_topic_arn=<SnowflakeErrorsTopicArn> --var sns_role_arn=<SnowflakeNotificationRoleArn>
    python -m snowflake.charts.admin --print --var ...     # only print the SQL (to run it in a worksheet)

Connect as an administrator (``SNOWFLAKE_ROLE=ACCOUNTADMIN``; the stack outputs in ``<>``).
It creates the pipeline and reader roles, the warehouse, the database and schema owned by
the pipeline role, and the storage and notification integrations; then it reads both
integrations (DESC INTEGRATION) and prints the deploy command that makes the stack's two
roles trust them. Everything after this runs as the pipeline role (infra/README.md).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterable, Mapping

from snowflake.charts import connection
from snowflake.charts.migrate import _parse_vars, default_variables
from snowflake.charts.migrations import render, split_sql

ADMIN_SCRIPT = Path(__file__).resolve().parent.parent / "admin" / "account_setup.sql"
DEFAULT_PIPELINE_ROLE = "SPOTIFY_CHARTS_PIPELINE"
DEFAULT_READER_ROLE = "SPOTIFY_CHARTS_READER"
DEFAULT_WAREHOUSE = "SPOTIFY_CHARTS_WH"

# DESC INTEGRATION property -> the pipeline stack's parameter that must hold its value.
STORAGE_TRUST = {"STORAGE_AWS_IAM_USER_ARN": "SnowflakeIamUserArn", "STORAGE_AWS_EXTERNAL_ID": "SnowflakeExternalId"}
NOTIFICATION_TRUST = {"SF_AWS_IAM_USER_ARN": "SnowflakeNotificationIamUserArn",
                      "SF_AWS_EXTERNAL_ID": "SnowflakeNotificationExternalId"}


class AdminSetupError(RuntimeError):
    """The administrator step cannot run here, or Snowflake did not describe an integration."""


def admin_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Defaults for the script's placeholders; the stack outputs have none."""
    return {"warehouse": DEFAULT_WAREHOUSE, "pipeline_role": DEFAULT_PIPELINE_ROLE,
            "reader_role": DEFAULT_READER_ROLE, **default_variables(environ)}


def admin_statements(variables: Mapping[str, str]) -> list[str]:
    return split_sql(render(ADMIN_SCRIPT.read_text(encoding="utf-8"), variables))


def trust_parameters(desc_rows: Iterable[tuple], properties: Mapping[str, str]) -> dict[str, str]:
    """Stack parameters from DESC INTEGRATION rows (property, type, value, default)."""
    values = {row[0]: row[2] for row in desc_rows}
    missing = sorted(set(properties) - set(values))
    if missing:
        raise AdminSetupError(f"DESC INTEGRATION did not show {', '.join(missing)}")
    return {parameter: values[name] for name, parameter in properties.items()}


def deploy_command(parameters: Mapping[str, str]) -> str:
    options = " ".join(f"-p '{name}={value}'" for name, value in parameters.items())
    return f".venv/bin/python -m infra.deploy {options}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="value of a {{ NAME }} placeholder (repeatable)")
    parser.add_argument("--print", action="store_true", help="print the SQL instead of running it")
    args = parser.parse_args(argv)
    variables = {**admin_variables(), **_parse_vars(args.var)}
    statements = admin_statements(variables)
    if args.print:
        print(";\n\n".join(statements) + ";")
        return 0
    if connection.is_local():
        raise AdminSetupError("the local engine has no roles or integrations: run this against Snowflake")
    with connection.connect() as conn:
        cursor = conn.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f"DESC INTEGRATION {variables['storage_integration']}")
        trust = trust_parameters(cursor.fetchall(), STORAGE_TRUST)
        cursor.execute(f"DESC NOTIFICATION INTEGRATION {variables['notification_integration']}")
        trust.update(trust_parameters(cursor.fetchall(), NOTIFICATION_TRUST))
    print(f"ran {len(statements)} statements. Now let the stack's roles trust Snowflake:")
    print(deploy_command(trust))
    return 0


if __name__ == "__main__":
    sys.exit(main())
