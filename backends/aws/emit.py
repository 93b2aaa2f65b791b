"""EventBridge artifacts: a pattern file per rule, a CloudFormation template and a Terraform JSON file.

One model (``DeployedRule``) is built per rule and serialized twice, so the two templates cannot drift.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backends.aws.target import DEFAULTS, NAME, compact
from compiler.build import dumps
from compiler.errors import EmitError
from compiler.naming import rule_stem
from compiler.profile import Profile
from compiler.target import Artifact, RuleResult
from compiler.yamlio import dump_yaml

RULE_NAME = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
"""PutRule Name: 1-64 characters of [.-_A-Za-z0-9] (API Reference, PutRule; botocore events model)."""
DESCRIPTION_MAX = 512
"""PutRule Description: at most 512 characters (API Reference, PutRule)."""
TARGET_ID = "detc-alert"


@dataclass(frozen=True, kw_only=True)
class DeployedRule:
    rule_id: str
    stem: str
    name: str
    description: str
    state: str
    pattern: dict[str, Any]
    requirements: tuple[str, ...]
    caveats: tuple[str, ...]
    regions: str


def rule_name(prefix: str, stem: str, rule_id: str) -> str:
    """The EventBridge rule name: prefix + file stem, shortened with an id suffix to fit 64 characters."""
    name = prefix + stem
    if len(name) > 64:
        name = f"{name[:55]}-{rule_id.replace('-', '')[:8]}"
    if not RULE_NAME.fullmatch(name):
        raise EmitError(f"rule name {name!r} does not satisfy PutRule's [.-_A-Za-z0-9]{{1,64}}", target=NAME)
    return name


def _description(title: str, rule_id: str) -> str:
    text = f"{title} (Sigma {rule_id})"
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"


def deployed_rules(results: Sequence[RuleResult], profile: Profile) -> list[DeployedRule]:
    settings = profile.settings(NAME, DEFAULTS)
    out: list[DeployedRule] = []
    names: dict[str, str] = {}
    for result in sorted(results, key=lambda r: r.rule.path):
        compiled = result.compiled.get(NAME)
        if compiled is None:
            continue
        stem = rule_stem(result.rule.path)
        name = rule_name(str(settings["name_prefix"]), stem, result.rule.id)
        if name in names:
            raise EmitError(f"rule name {name!r} is used by {names[name]} too", path=result.rule.path, target=NAME)
        names[name] = result.rule.path
        details = compiled.details
        out.append(
            DeployedRule(
                rule_id=result.rule.id,
                stem=stem,
                name=name,
                description=_description(result.rule.title, result.rule.id),
                state=str(details["rule_state"]),
                pattern=json.loads(compiled.query),
                requirements=tuple(details["delivery_requirements"]),
                caveats=compiled.caveats,
                regions=str(details["deploy_regions"]),
            )
        )
    return out


def _unique(base: str, used: set[str], rule_id: str) -> str:
    name = base if base not in used else f"{base}{hashlib.sha256(rule_id.encode()).hexdigest()[:8]}"
    used.add(name)
    return name


def cloudformation(rules: Sequence[DeployedRule], settings: dict[str, Any]) -> bytes:
    topic: dict[str, Any] = {
        "Type": "String",
        "Description": "ARN of the SNS topic that receives matching events (its policy must allow events.amazonaws.com to publish)",
    }
    if settings["alert_topic_arn"]:
        topic["Default"] = settings["alert_topic_arn"]
    resources: dict[str, Any] = {}
    used: set[str] = set()
    for rule in rules:
        logical = _unique("Rule" + "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", rule.stem) if w), used, rule.rule_id)
        resources[logical] = {
            "Type": "AWS::Events::Rule",
            "Metadata": {
                "detc": {
                    "sigma_id": rule.rule_id,
                    "deploy_regions": rule.regions,
                    "delivery_requirements": list(rule.requirements),
                    "caveats": list(rule.caveats),
                }
            },
            "Properties": {
                "Name": rule.name,
                "Description": rule.description,
                "State": rule.state,
                "EventBusName": {"Ref": "EventBusName"},
                "EventPattern": rule.pattern,
                "Targets": [{"Id": TARGET_ID, "Arn": {"Ref": "AlertTopicArn"}}],
            },
        }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"detc: {len(rules)} EventBridge rule(s) compiled from Sigma",
        "Parameters": {
            "AlertTopicArn": topic,
            "EventBusName": {"Type": "String", "Default": settings["event_bus"], "Description": "Event bus of the rules"},
        },
        "Resources": resources,
    }
    text = dump_yaml(template, sort_keys=True, allow_unicode=True, default_flow_style=False, width=4096)
    return text.encode("utf-8")


def _tf_literal(text: str) -> str:
    # Terraform reads "${" and "%{" in JSON strings as template syntax; "$${" and "%%{" are literal.
    return text.replace("${", "$${").replace("%{", "%%{")


def terraform(rules: Sequence[DeployedRule], settings: dict[str, Any]) -> bytes:
    topic: dict[str, Any] = {"type": "string", "description": "ARN of the SNS topic that receives matching events"}
    if settings["alert_topic_arn"]:
        topic["default"] = settings["alert_topic_arn"]
    event_rules: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    used: set[str] = set()
    for rule in rules:
        key = _unique("detc_" + re.sub(r"[^A-Za-z0-9_]+", "_", rule.stem), used, rule.rule_id)
        event_rules[key] = {
            "name": rule.name,
            "description": _tf_literal(rule.description),
            "event_bus_name": "${var.event_bus_name}",
            "event_pattern": _tf_literal(compact(rule.pattern)),
            "state": rule.state,
        }
        targets[key] = {
            "rule": f"${{aws_cloudwatch_event_rule.{key}.name}}",
            "event_bus_name": "${var.event_bus_name}",
            "target_id": TARGET_ID,
            "arn": "${var.alert_topic_arn}",
        }
    document = {
        "variable": {
            "alert_topic_arn": topic,
            "event_bus_name": {"type": "string", "default": settings["event_bus"]},
        },
        "resource": {"aws_cloudwatch_event_rule": event_rules, "aws_cloudwatch_event_target": targets},
    }
    return dumps(document)


class EventBridgeEmitter:
    name = "aws"
    targets = (NAME,)

    def emit(self, results: Sequence[RuleResult], profile: Profile) -> list[Artifact]:
        rules = deployed_rules(results, profile)
        if not rules:
            return []
        settings = profile.settings(NAME, DEFAULTS)
        ids = tuple(r.rule_id for r in rules)
        artifacts = [
            Artifact(
                path=f"aws/patterns/{rule.stem}.json",
                data=dumps(rule.pattern),
                rules=(rule.rule_id,),
                targets=self.targets,
            )
            for rule in rules
        ]
        artifacts.append(Artifact(path="aws/cloudformation.yaml", data=cloudformation(rules, settings), rules=ids, targets=self.targets))
        artifacts.append(Artifact(path="aws/eventbridge.tf.json", data=terraform(rules, settings), rules=ids, targets=self.targets))
        return artifacts
