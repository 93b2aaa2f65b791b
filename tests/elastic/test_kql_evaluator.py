"""The KQL evaluator, construct by construct, on ECS documents (Elasticsearch keyword semantics)."""

from __future__ import annotations

import pytest

from backends.elastic.kql_evaluator import KqlEvaluator
from compiler.errors import EvaluationError
from tests.support import case_id

DOC = {
    "event": {"action": "DeleteKey", "provider": "kms.amazonaws.com", "outcome": "success"},
    "user_agent": {"original": "aws-cli/2.0 (x) a:b"},
    "source": {"address": "192.0.2.10", "ip": "192.0.2.10"},
    "aws": {
        "cloudtrail": {
            "read_only": False,
            "resources": [{"arn": "arn:one", "type": "AWS::KMS::Key"}, {"arn": "arn:two"}],
            "flattened": {"request_parameters": {"pendingWindowInDays": 7, "nested": {"flag": True}, "tags": ["a", "b"]}},
            "request_parameters": "x" * 9000,
        }
    },
    "odd": {"key": 'quote"back\\slash*star(paren) or and not'},
    "tags": ["t1", "t2"],
}


def run(query: str, doc: dict = DOC) -> bool:
    return KqlEvaluator(query)(doc)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # terms: exact and case-sensitive on keywords, quoted or not
        ('event.action: "DeleteKey"', True),
        ("event.action: DeleteKey", True),
        ('event.action: "deletekey"', False),
        ('event.action: "Delete"', False),
        # wildcards only unquoted; inside quotes * is a literal
        ("event.action: Delete*", True),
        ("event.action: *key", False),
        ('event.action: "Delete*"', False),
        ("user_agent.original: *\\(x\\)*", True),
        ("user_agent.original: *a\\:b", True),
        # missing fields: positive never matches, negation matches
        ('missing.field: "x"', False),
        ('not missing.field: "x"', True),
        ("missing.field: *", False),
        ("event.action: *", True),
        # arrays: any element
        ('aws.cloudtrail.resources.arn: "arn:two"', True),
        ('aws.cloudtrail.resources.type: "AWS::KMS::Key"', True),
        ('tags: "t2"', True),
        ('tags: ("t3" or "t1")', True),
        ('tags: ("t1" and "t2")', True),
        ('tags: ("t1" and "t3")', False),
        ('tags: (not "t3")', True),
        # ip fields: addresses and CIDR blocks
        ("source.ip: 192.0.2.10", True),
        ('source.ip: "192.0.2.0/24"', True),
        ("source.ip: 198.51.100.0/24", False),
        # booleans
        ("aws.cloudtrail.read_only: false", True),
        ("aws.cloudtrail.read_only: true", False),
        # flattened: leaves are keywords, numbers as text, ranges compare text
        ('aws.cloudtrail.flattened.request_parameters.pendingWindowInDays: "7"', True),
        ("aws.cloudtrail.flattened.request_parameters.pendingWindowInDays: 7", True),
        ("aws.cloudtrail.flattened.request_parameters.nested.flag: true", True),
        ('aws.cloudtrail.flattened.request_parameters: "b"', True),
        ("aws.cloudtrail.flattened.request_parameters.pendingWindowInDays > 10", True),
        ("aws.cloudtrail.flattened.request_parameters.pendingWindowInDays < 10", False),
        # values over ignore_above are not indexed
        ("aws.cloudtrail.request_parameters: *", False),
        ("aws.cloudtrail.request_parameters: x*", False),
        # escaped special characters and keywords in unquoted values
        ('odd.key: "quote\\"back\\\\slash*star(paren) or and not"', True),
        ("odd.key: quote\\\"back\\\\slash\\*star\\(paren\\) \\or \\and \\u006eot", True),
        # kuery reads "\\n" before "\\not": an escaped not must spell its n another way
        ("odd.key: *\\and \\not", False),
        ("odd.key: *\\*star*", True),
        # boolean operators and precedence: not > and > or
        ('event.action: "X" or event.action: "DeleteKey" and event.outcome: "success"', True),
        ('(event.action: "X" or event.action: "DeleteKey") and event.outcome: "failure"', False),
        ('event.action: "X" or event.action: "DeleteKey" and event.outcome: "failure"', False),
        ('not event.action: "X" and not event.outcome: "failure"', True),
        ('NOT event.action: "DeleteKey" OR event.outcome: "success"', True),
        # free text searches every field
        ('"DeleteKey"', True),
        ("*amazonaws*", True),
        ('"deletekey"', False),
        # field-name wildcards
        ("event.*: DeleteKey", True),
        # an empty query matches everything
        ("", True),
    ],
    ids=case_id,
)
def test_kql_evaluator_constructs(query: str, expected: bool) -> None:
    assert run(query) is expected


@pytest.mark.parametrize(
    "query",
    [
        "event.action: (",
        'event.action: "unterminated',
        "event.action: a\\b",  # backslash before a non-special character
        "not not event.action: x",
        "a: b c: d",
    ],
    ids=case_id,
)
def test_kql_evaluator_refuses_what_does_not_parse(query: str) -> None:
    with pytest.raises(EvaluationError, match="does not parse"):
        KqlEvaluator(query)


def test_kql_evaluator_type_errors_fail_loudly() -> None:
    with pytest.raises(EvaluationError, match="not an IP"):
        run("source.ip: banana")
    with pytest.raises(EvaluationError, match="keyword field"):
        run("source.ip: 192.*")
    with pytest.raises(EvaluationError, match="nested"):
        KqlEvaluator("event: { action: x }")


def test_kql_evaluator_trims_unquoted_values() -> None:
    assert run("event.action:    DeleteKey   ")
    assert run('event.action : "DeleteKey"')
