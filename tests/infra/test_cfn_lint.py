"""cfn-lint passes on both templates: no errors, no warnings.

Runs cfn-lint's own API (the same rules as the ``cfn-lint`` command) in this
process. A rule a template switches off must be justified in infra/README.md
(test_template.test_readme_documents_every_cfn_lint_exception).
"""
from __future__ import annotations

import pytest
from cfnlint.api import ManualArgs, lint_file

from infra.template import BOOTSTRAP_TEMPLATE, PIPELINE_TEMPLATE


@pytest.mark.parametrize("path", [PIPELINE_TEMPLATE, BOOTSTRAP_TEMPLATE], ids=lambda p: p.name)
def test_cfn_lint_finds_nothing(path):
    # Errors and warnings, in the regions a data engineer is likely to pick.
    matches = lint_file(path, ManualArgs(regions=["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"]))
    assert [str(m) for m in matches] == []
