"""One rule, the expected text for every target (in the style of sqlglot's ``validate_all``).

Each row is a detection and, per registered target, the exact query it compiles to on the CloudTrail
logsource, or the exact reason the target cannot express it. A row must name every registered target:
a new target adds its column to each row. JSON queries (``sigma``, ``eventbridge``) are compared as the
JSON they hold; the others as text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.build import compile_one
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import DetcRule, load_rule
from compiler.target import load_registry
from tests.support import rule_dict

REGISTRY = load_registry()
CLOUDTRAIL = {"product": "aws", "service": "cloudtrail"}


@dataclass(frozen=True)
class Unsupported:
    reason: str


def _rule(detection: dict[str, Any]) -> DetcRule:
    data = rule_dict(detection, id="5b1f6c1e-0d2a-4f0e-9c3a-000000000017", title="Table rule")
    return load_rule(Path("table.yml"), "table.yml", yaml.safe_dump(data, sort_keys=False).encode())


def validate_all(detection: dict[str, Any], expected: dict[str, str | dict[str, Any] | Unsupported]) -> None:
    assert sorted(expected) == sorted(REGISTRY.targets), "a row names every registered target"
    rule = _rule(detection)
    got: dict[str, Any] = {}
    for name, target in REGISTRY.targets.items():
        try:
            query = compile_one(target, rule, DEFAULT_PROFILE).query
        except UnsupportedFeature as err:
            got[name] = Unsupported(err.message)
            continue
        got[name] = json.loads(query) if isinstance(expected[name], dict) else query
    assert got == expected


KMS_DELETIONS = {
    "selection": {"eventSource": "kms.amazonaws.com", "eventName|startswith": ["Delete", "Disable"]},
    "filter": {"userIdentity.type": "AWSService"},
    "condition": "selection and not filter",
}

USER_AGENT_REGEX = {"sel": {"userAgent|re": r"^aws-cli/2\.[0-9]+"}, "condition": "sel"}

ROWS = {
    "and-not-startswith-list": (
        KMS_DELETIONS,
        {
            "sigma": {"logsource": CLOUDTRAIL, "detection": KMS_DELETIONS},
            "kql": 'data_stream.dataset: "aws.cloudtrail"\n'
            '    and event.provider: "kms.amazonaws.com"\n'
            "    and event.action: (Delete* or Disable*)\n"
            '    and not aws.cloudtrail.user_identity.type: "AWSService"',
            "lucene": "data_stream.dataset:aws.cloudtrail AND (("
            r"event.provider:/[Kk][Mm][Ss]\.[Aa][Mm][Aa][Zz][Oo][Nn][Aa][Ww][Ss]\.[Cc][Oo][Mm]/"
            " AND (event.action:/[Dd][Ee][Ll][Ee][Tt][Ee].*/ OR event.action:/[Dd][Ii][Ss][Aa][Bb][Ll][Ee].*/))"
            " AND (NOT aws.cloudtrail.user_identity.type:/[Aa][Ww][Ss][Ss][Ee][Rr][Vv][Ii][Cc][Ee]/))",
            "eql": 'any where data_stream.dataset : "aws.cloudtrail" and ((event.provider : "kms.amazonaws.com"'
            ' and (event.action : ("Delete*", "Disable*"))) and (not aws.cloudtrail.user_identity.type : "AWSService"))',
            "spl": 'index="aws" sourcetype="aws:cloudtrail" eventSource="kms.amazonaws.com"'
            ' eventName IN ("Delete*", "Disable*") NOT userIdentity.type="AWSService"',
            "eventbridge": {
                "source": ["aws.kms"],
                "detail-type": [
                    "AWS API Call via CloudTrail",
                    "AWS Console Action via CloudTrail",
                    "AWS Console Sign In via CloudTrail",
                    "AWS Insight via CloudTrail",
                    "AWS Service Event via CloudTrail",
                ],
                "detail": {
                    "eventName": [
                        {"prefix": {"equals-ignore-case": "Delete"}},
                        {"prefix": {"equals-ignore-case": "Disable"}},
                    ],
                    "eventSource": [{"equals-ignore-case": "kms.amazonaws.com"}],
                    "userIdentity": {
                        "type": [{"anything-but": {"equals-ignore-case": "AWSService"}}, {"exists": False}]
                    },
                },
            },
        },
    ),
    "regex": (
        USER_AGENT_REGEX,
        {
            "sigma": {"logsource": CLOUDTRAIL, "detection": USER_AGENT_REGEX},
            "kql": Unsupported("regular expression: KQL has no regex syntax"),
            "lucene": r"data_stream.dataset:aws.cloudtrail AND user_agent.original:/aws-cli\/2\.[0-9]+.*/",
            "eql": r'any where data_stream.dataset : "aws.cloudtrail" and user_agent.original regex "aws-cli/2\\.[0-9]+.*"',
            "spl": 'index="aws" sourcetype="aws:cloudtrail"\n'
            r"""| where (isnotnull('userAgent') AND match('userAgent', "^aws-cli/2\\.[0-9]+"))""",
            "eventbridge": Unsupported(
                "regular expression (|re): EventBridge event patterns have no regular-expression operator"
            ),
        },
    ),
}


@pytest.mark.parametrize(("detection", "expected"), list(ROWS.values()), ids=list(ROWS))
def test_validate_all(detection: dict[str, Any], expected: dict[str, Any]) -> None:
    validate_all(detection, expected)


def test_a_wrong_cell_fails_the_row() -> None:
    detection, expected = ROWS["regex"]
    with pytest.raises(AssertionError):
        validate_all(detection, {**expected, "lucene": "user_agent.original:/aws-cli.*/"})
    with pytest.raises(AssertionError, match="every registered target"):
        validate_all(detection, {k: v for k, v in expected.items() if k != "spl"})
