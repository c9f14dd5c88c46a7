"""The one-time administrator step (snowflake/admin/account_setup.sql, snowflake.charts.admin).

Nothing here can run it: the local engine has no roles, grants or integrations. These
check what it says against what the migrations, the stack and the deploy command need.
"""
from __future__ import annotations

import re

import pytest

from infra import checks
from infra.template import PIPELINE_TEMPLATE, load_template
from snowflake.charts import admin
from snowflake.charts.migrations import MigrationFileError, discover, placeholders

STACK_OUTPUTS = {  # the --var values the administrator takes from the stack's outputs
    "curated_s3_url": "CuratedLocation",
    "storage_aws_role_arn": "SnowflakeRoleArn",
    "sns_topic_arn": "SnowflakeErrorsTopicArn",
    "sns_role_arn": "SnowflakeNotificationRoleArn",
}
SAMPLE = {
    "curated_s3_url": "s3://charts-curated-123456789012-us-east-1/curated/",
    "storage_aws_role_arn": "arn:aws:iam::123456789012:role/charts-SnowflakeIntegrationRole-X",
    "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:charts-SnowflakeErrorsTopic-X",
    "sns_role_arn": "arn:aws:iam::123456789012:role/charts-SnowflakeNotificationRole-X",
}


@pytest.fixture(scope="module")
def variables():
    return {**admin.admin_variables({}), **SAMPLE}


@pytest.fixture(scope="module")
def statements(variables):
    return admin.admin_statements(variables)


def grants_to(statements, role) -> list[str]:
    return [s for s in statements if re.match(r"GRANT\b", s) and re.search(rf"\bTO ROLE {role}\b", s)]


def test_only_the_stack_outputs_have_no_default():
    needed = placeholders(admin.ADMIN_SCRIPT.read_text()) - set(admin.admin_variables({}))
    assert needed == set(STACK_OUTPUTS)
    assert set(STACK_OUTPUTS.values()) <= set(load_template(PIPELINE_TEMPLATE)["Outputs"])
    with pytest.raises(MigrationFileError, match="sns_role_arn"):
        admin.admin_statements({**admin.admin_variables({}), **{k: v for k, v in SAMPLE.items() if k != "sns_role_arn"}})


def test_the_admin_creates_both_integrations_the_migrations_use(statements, variables):
    migrations_use = set().union(*(placeholders(m.text) for m in discover()))
    assert {"storage_integration", "notification_integration"} <= migrations_use
    created = [s for s in statements if re.match(r"CREATE\s+\w*\s*INTEGRATION", s)]
    assert [re.search(r"INTEGRATION IF NOT EXISTS (\w+)", s)[1] for s in created] == [
        variables["storage_integration"], variables["notification_integration"]]
    notification = created[1]
    for setting in ("TYPE = QUEUE", "DIRECTION = OUTBOUND", "NOTIFICATION_PROVIDER = AWS_SNS",
                    f"AWS_SNS_TOPIC_ARN = '{SAMPLE['sns_topic_arn']}'", f"AWS_SNS_ROLE_ARN = '{SAMPLE['sns_role_arn']}'"):
        assert setting in notification
    assert f"STORAGE_ALLOWED_LOCATIONS = ('{SAMPLE['curated_s3_url']}')" in created[0]


def test_the_pipeline_role_owns_the_schema_uses_the_integrations_and_runs_tasks_and_alerts(statements, variables):
    role, database, schema = variables["pipeline_role"], variables["database"], variables["schema"]
    grants = grants_to(statements, role)
    expected = [
        f"GRANT OWNERSHIP ON DATABASE {database} TO ROLE {role} COPY CURRENT GRANTS",
        f"GRANT OWNERSHIP ON SCHEMA {database}.{schema} TO ROLE {role} COPY CURRENT GRANTS",
        f"GRANT USAGE ON INTEGRATION {variables['storage_integration']} TO ROLE {role}",
        f"GRANT USAGE ON INTEGRATION {variables['notification_integration']} TO ROLE {role}",
        f"GRANT EXECUTE TASK ON ACCOUNT TO ROLE {role}",
        f"GRANT EXECUTE ALERT ON ACCOUNT TO ROLE {role}",
        f"GRANT USAGE, OPERATE ON WAREHOUSE {variables['warehouse']} TO ROLE {role}",
    ]
    assert set(expected) <= set(grants)
    # Nothing that administers the account: no MANAGE GRANTS, no integrations, no roles.
    assert not [g for g in grants if re.search(r"MANAGE GRANTS|CREATE INTEGRATION|CREATE ROLE|ACCOUNTADMIN", g)]


def test_the_reader_role_only_reads_every_table_and_view_of_the_schema_present_and_future(statements, variables):
    role, target = variables["reader_role"], f"{variables['database']}.{variables['schema']}"
    grants = grants_to(statements, role)
    assert all(re.match(r"GRANT (USAGE|SELECT) ON ", g) for g in grants), grants  # read-only
    for scope in ("ALL", "FUTURE"):
        for kind in ("TABLES", "VIEWS"):
            assert f"GRANT SELECT ON {scope} {kind} IN SCHEMA {target} TO ROLE {role}" in grants
    assert f"GRANT USAGE ON WAREHOUSE {variables['warehouse']} TO ROLE {role}" in grants
    # The schema is managed access, so the pipeline role (its owner) cannot be bypassed by object owners.
    assert f"CREATE SCHEMA IF NOT EXISTS {target} WITH MANAGED ACCESS" in statements


def test_desc_integration_gives_the_deploy_command_the_stack_parameters_it_checks():
    rows = [  # DESC INTEGRATION: property, property_type, property_value, property_default
        ("ENABLED", "Boolean", "true", "false"),
        ("STORAGE_AWS_IAM_USER_ARN", "String", "arn:aws:iam::210987654321:user/abc1-s-v2st0000", ""),
        ("STORAGE_AWS_EXTERNAL_ID", "String", "MYACCOUNT_SFCRole=2_abc=", ""),
    ]
    parameters = admin.trust_parameters(rows, admin.STORAGE_TRUST)
    assert parameters == {"SnowflakeIamUserArn": "arn:aws:iam::210987654321:user/abc1-s-v2st0000",
                          "SnowflakeExternalId": "MYACCOUNT_SFCRole=2_abc="}
    assert admin.deploy_command(parameters).endswith(
        "-p 'SnowflakeIamUserArn=arn:aws:iam::210987654321:user/abc1-s-v2st0000' "
        "-p 'SnowflakeExternalId=MYACCOUNT_SFCRole=2_abc='")
    with pytest.raises(admin.AdminSetupError, match="SF_AWS_EXTERNAL_ID"):
        admin.trust_parameters(rows, admin.NOTIFICATION_TRUST)
    # The parameters it names are the ones the stack has and the deploy command checks.
    template_parameters = set(load_template(PIPELINE_TEMPLATE)["Parameters"])
    checked = {name for trust in checks.SNOWFLAKE_TRUSTS for name in trust[:2]}
    named = set(admin.STORAGE_TRUST.values()) | set(admin.NOTIFICATION_TRUST.values())
    assert named == checked and named <= template_parameters


def test_print_renders_the_sql_without_connecting(capsys, monkeypatch):
    monkeypatch.delenv("SNOWFLAKE_LOCAL_URL", raising=False)
    assert admin.main(["--print", *(f"--var={k}={v}" for k, v in SAMPLE.items())]) == 0
    printed = capsys.readouterr().out
    assert printed.count(";") >= 20 and "{{" not in printed and SAMPLE["sns_role_arn"] in printed
