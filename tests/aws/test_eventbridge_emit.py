"""EventBridge artifacts: deterministic, valid for cfn-lint, deployable through the EventBridge API (moto)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import yaml
from cfnlint.api import lint_all
from moto import mock_aws

from backends.aws.emit import EventBridgeEmitter, rule_name
from backends.aws.target import EventBridgeTarget
from compiler.errors import EmitError
from compiler.profile import DEFAULT_PROFILE, Profile
from compiler.rules import load_rule
from compiler.target import RuleResult, emit
from tests.support import ROOT

SEED = ROOT / "sigma" / "aws" / "kms" / "aws_kms_imported_key_material_deleted.yml"
TOPIC = "arn:aws:sns:us-east-1:123456789012:detc-alerts"


def results(profile: Profile = DEFAULT_PROFILE) -> list[RuleResult]:
    rule = load_rule(SEED, "sigma/aws/kms/aws_kms_imported_key_material_deleted.yml")
    return [RuleResult(rule=rule, compiled={"eventbridge": EventBridgeTarget().compile(rule, profile)}, unsupported={})]


def artifacts(profile: Profile = DEFAULT_PROFILE) -> dict[str, bytes]:
    return {a.path: a.data for a in emit(EventBridgeEmitter(), results(profile), profile)}


def test_files_and_determinism() -> None:
    files = artifacts()
    assert sorted(files) == [
        "aws/cloudformation.yaml",
        "aws/eventbridge.tf.json",
        "aws/patterns/aws_kms_imported_key_material_deleted.json",
    ]
    assert files == artifacts()
    assert all(data.endswith(b"\n") for data in files.values())
    compiled = results()[0].compiled["eventbridge"]
    assert files["aws/patterns/aws_kms_imported_key_material_deleted.json"] == (compiled.query + "\n").encode()


def test_cloudformation_passes_cfn_lint() -> None:
    text = artifacts()["aws/cloudformation.yaml"].decode()
    template = yaml.safe_load(text)
    (resource,) = template["Resources"].values()
    assert resource["Type"] == "AWS::Events::Rule"
    assert resource["Properties"]["Targets"] == [{"Id": "detc-alert", "Arn": {"Ref": "AlertTopicArn"}}]
    assert resource["Metadata"]["detc"]["delivery_requirements"]
    assert findings(text) == []


def findings(text: str) -> list[str]:
    """cfn-lint's errors and warnings (its informational rules give advice, not defects)."""
    return [f"{m.rule.id}: {m.message}" for m in lint_all(text) if m.rule.severity in ("error", "warning")]


def test_cfn_lint_is_not_a_rubber_stamp() -> None:
    template = yaml.safe_load(artifacts()["aws/cloudformation.yaml"])
    (resource,) = template["Resources"].values()
    resource["Properties"]["State"] = "SOMETIMES"
    assert findings(yaml.safe_dump(template)) != []


def test_terraform_rules_and_targets() -> None:
    profile = Profile(target_settings={"eventbridge": {"event_bus": "security", "alert_topic_arn": TOPIC}})
    document = json.loads(artifacts(profile)["aws/eventbridge.tf.json"])
    (key, rule), = document["resource"]["aws_cloudwatch_event_rule"].items()
    target = document["resource"]["aws_cloudwatch_event_target"][key]
    assert rule["name"] == "detc-aws_kms_imported_key_material_deleted"
    assert rule["state"] == "ENABLED"
    assert json.loads(rule["event_pattern"]) == json.loads(results(profile)[0].compiled["eventbridge"].query)
    assert target["rule"] == f"${{aws_cloudwatch_event_rule.{key}.name}}"
    assert document["variable"]["event_bus_name"]["default"] == "security"
    assert document["variable"]["alert_topic_arn"]["default"] == TOPIC


def test_rule_names_fit_put_rule() -> None:
    long = rule_name("detc-", "x" * 80, "5f0b5f53-7a3a-4c1e-8f53-3f0a4c3e2a11")
    assert len(long) == 64 and long.endswith("-5f0b5f53")
    with pytest.raises(EmitError):
        rule_name("detc ", "bad name", "5f0b5f53")


@mock_aws
def test_every_rule_deploys_through_put_rule_and_put_targets() -> None:
    client = boto3.client("events", region_name="us-east-1")
    template = yaml.safe_load(artifacts()["aws/cloudformation.yaml"])
    for resource in template["Resources"].values():
        props: dict[str, Any] = resource["Properties"]
        client.put_rule(Name=props["Name"], EventPattern=json.dumps(props["EventPattern"]), State=props["State"],
                        Description=props["Description"], EventBusName="default")
        client.put_targets(Rule=props["Name"], EventBusName="default",
                           Targets=[{"Id": t["Id"], "Arn": TOPIC} for t in props["Targets"]])
    for resource in template["Resources"].values():
        props = resource["Properties"]
        back = client.describe_rule(Name=props["Name"], EventBusName="default")
        assert json.loads(back["EventPattern"]) == props["EventPattern"]
        assert back["State"] == props["State"]
        assert back["Description"] == props["Description"]
        listed = client.list_targets_by_rule(Rule=props["Name"], EventBusName="default")["Targets"]
        assert [(t["Id"], t["Arn"]) for t in listed] == [("detc-alert", TOPIC)]
