"""The CloudFormation templates and a loader that understands their short tags.

``!Ref X`` becomes ``{"Ref": "X"}``, ``!GetAtt A.B`` becomes
``{"Fn::GetAtt": ["A", "B"]}``, any other ``!Name v`` becomes ``{"Fn::Name": v}``:
the same structure CloudFormation sees, so the deploy command and the tests can
read parameters, environment variables and job arguments without cfn-lint.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEMPLATE_DIR = Path(__file__).resolve().parent / "cloudformation"
BOOTSTRAP_TEMPLATE = TEMPLATE_DIR / "bootstrap.yaml"
PIPELINE_TEMPLATE = TEMPLATE_DIR / "pipeline.yaml"


class _TemplateLoader(yaml.SafeLoader):
    """A safe YAML loader that turns CloudFormation short tags into intrinsics."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path | str) -> dict[str, Any]:
    return parse_template(Path(path).read_text(encoding="utf-8"))


def parse_template(text: str) -> dict[str, Any]:
    return yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass


def parameter_names(template: dict[str, Any]) -> set[str]:
    return set(template.get("Parameters", {}))
