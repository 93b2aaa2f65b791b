"""EventBridge artifacts: a pattern file per rule, a CloudFormation template and a Terraform JSON file.

Each rule's fragment holds its pattern file, its CloudFormation resource (rendered YAML) and its
Terraform rule, all made from one name, description and pattern, so the two templates cannot drift.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from backends.aws.target import NAME, compact, deployment
from compiler.errors import EmitError
from compiler.jsonio import dumps
from compiler.naming import rule_stem
from compiler.profile import Profile
from compiler.target import Artifact, Fragment, RuleResult
from compiler.yamlio import dump_yaml

RULE_NAME = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
"""PutRule Name: 1-64 characters of [.-_A-Za-z0-9] (API Reference, PutRule; botocore events model)."""
DESCRIPTION_MAX = 512
"""PutRule Description: at most 512 characters (API Reference, PutRule)."""
TARGET_ID = "detc-alert"


CFN_PATH = "aws/cloudformation.yaml"
TF_PATH = "aws/eventbridge.tf.json"
_YAML = {"sort_keys": True, "allow_unicode": True, "default_flow_style": False, "width": 4096}
"""How the CloudFormation template is written (PyYAML, block style, keys sorted)."""


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


def _unique(base: str, used: set[str], rule_id: str) -> str:
    name = base if base not in used else f"{base}{hashlib.sha256(rule_id.encode()).hexdigest()[:8]}"
    used.add(name)
    return name


def cfn_resource(name: str, description: str, pattern: dict[str, Any], details: Any, caveats: Any, rule_id: str) -> dict[str, Any]:
    """One rule's ``AWS::Events::Rule`` resource, its topic and bus given as template parameters."""
    return {
        "Type": "AWS::Events::Rule",
        "Metadata": {
            "detc": {
                "sigma_id": rule_id,
                "deploy_regions": str(details["deploy_regions"]),
                "delivery_requirements": list(details["delivery_requirements"]),
                "caveats": list(caveats),
            }
        },
        "Properties": {
            "Name": name,
            "Description": description,
            "State": str(details["rule_state"]),
            "EventBusName": {"Ref": "EventBusName"},
            "EventPattern": pattern,
            "Targets": [{"Id": TARGET_ID, "Arn": {"Ref": "AlertTopicArn"}}],
        },
    }


_LINE_START = re.compile(r"^(?=.)", re.MULTILINE)


def resource_yaml(resource: dict[str, Any]) -> str:
    """A resource as PyYAML writes it, moved right to its place under ``Resources: <logical id>:``:
    every non-empty line gains four spaces (an empty line inside a quoted scalar stands for a line
    break and stays empty)."""
    return _LINE_START.sub("    ", dump_yaml(resource, **_YAML))


def cloudformation(resources: Sequence[tuple[str, str]], settings: dict[str, Any]) -> bytes:
    """The template: parameters, then each (logical id, resource YAML as ``resource_yaml`` writes
    it) under ``Resources``, sorted."""
    topic: dict[str, Any] = {
        "Type": "String",
        "Description": "ARN of the SNS topic that receives matching events (its policy must allow events.amazonaws.com to publish)",
    }
    if settings["alert_topic_arn"]:
        topic["Default"] = settings["alert_topic_arn"]
    head = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"detc: {len(resources)} EventBridge rule(s) compiled from Sigma",
        "Parameters": {
            "AlertTopicArn": topic,
            "EventBusName": {"Type": "String", "Default": settings["event_bus"], "Description": "Event bus of the rules"},
        },
    }
    # "Resources" sorts after every key of the head, as yaml.dump(sort_keys=True) would place it.
    text = dump_yaml(head, **_YAML) + "Resources:\n"
    text += "".join(f"  {logical}:\n" + body for logical, body in sorted(resources))
    return text.encode("utf-8")


def _tf_literal(text: str) -> str:
    # Terraform reads "${" and "%{" in JSON strings as template syntax; "$${" and "%%{" are literal.
    return text.replace("${", "$${").replace("%{", "%%{")


def terraform(event_rules: Sequence[tuple[str, dict[str, Any]]], settings: dict[str, Any]) -> bytes:
    topic: dict[str, Any] = {"type": "string", "description": "ARN of the SNS topic that receives matching events"}
    if settings["alert_topic_arn"]:
        topic["default"] = settings["alert_topic_arn"]
    targets = {
        key: {
            "rule": f"${{aws_cloudwatch_event_rule.{key}.name}}",
            "event_bus_name": "${var.event_bus_name}",
            "target_id": TARGET_ID,
            "arn": "${var.alert_topic_arn}",
        }
        for key, _ in event_rules
    }
    document = {
        "variable": {
            "alert_topic_arn": topic,
            "event_bus_name": {"type": "string", "default": settings["event_bus"]},
        },
        "resource": {"aws_cloudwatch_event_rule": dict(event_rules), "aws_cloudwatch_event_target": targets},
    }
    return dumps(document)


class EventBridgeEmitter:
    name = "aws"
    targets = (NAME,)

    def fragment(self, result: RuleResult, profile: Profile) -> Fragment | None:
        """The rule's pattern file, its CloudFormation resource and its Terraform rule."""
        compiled = result.compiled.get(NAME)
        if compiled is None:
            return None
        rule = result.rule
        settings = compiled.deployment
        stem = rule_stem(rule.path)
        name = rule_name(str(settings["name_prefix"]), stem, rule.id)
        description = _description(rule.title, rule.id)
        pattern = json.loads(compiled.query)
        details = compiled.details
        resource = cfn_resource(name, description, pattern, details, compiled.caveats, rule.id)
        pattern_path = f"aws/patterns/{stem}.json"
        return Fragment(
            rule_id=rule.id,
            rule_path=rule.path,
            files={pattern_path: dumps(pattern).decode("utf-8")},
            parts={
                CFN_PATH: {
                    "name": name,
                    "logical": "Rule" + "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", stem) if w),
                    "resource": resource_yaml(resource),
                },
                TF_PATH: {
                    "key": "detc_" + re.sub(r"[^A-Za-z0-9_]+", "_", stem),
                    "rule": {
                        "name": name,
                        "description": _tf_literal(description),
                        "event_bus_name": "${var.event_bus_name}",
                        "event_pattern": _tf_literal(compact(pattern)),
                        "state": str(details["rule_state"]),
                    },
                },
            },
            targets={pattern_path: self.targets, CFN_PATH: self.targets, TF_PATH: self.targets},
        )

    def assemble(self, fragments: Sequence[Fragment], profile: Profile) -> list[Artifact]:
        """The CloudFormation template and the Terraform file of every rule, names checked unique."""
        ordered = sorted(fragments, key=lambda f: f.rule_path)
        if not ordered:
            return []
        settings = deployment(profile)  # the templates' parameters: the build's, not one rule's
        names: dict[str, str] = {}
        for fragment in ordered:
            name = fragment.parts[CFN_PATH]["name"]
            if name in names:
                raise EmitError(f"rule name {name!r} is used by {names[name]} too", path=fragment.rule_path, target=NAME)
            names[name] = fragment.rule_path
        logical: set[str] = set()
        keys: set[str] = set()
        resources = [
            (_unique(f.parts[CFN_PATH]["logical"], logical, f.rule_id), f.parts[CFN_PATH]["resource"]) for f in ordered
        ]
        event_rules = [(_unique(f.parts[TF_PATH]["key"], keys, f.rule_id), f.parts[TF_PATH]["rule"]) for f in ordered]
        ids = tuple(f.rule_id for f in ordered)
        return [
            Artifact(path=CFN_PATH, data=cloudformation(resources, settings), rules=ids, targets=self.targets),
            Artifact(path=TF_PATH, data=terraform(event_rules, settings), rules=ids, targets=self.targets),
        ]
