"""Elastic's storage limits are stated where a rule depends on them: ignore_above, dropped empty values."""

from __future__ import annotations

import pytest

from compiler.profile import DEFAULT_PROFILE
from compiler.target import load_registry

REGISTRY = load_registry()
KQL = REGISTRY.get("kql")
LUCENE = REGISTRY.get("lucene")
REFERENCE = REGISTRY.get("sigma")
BASE = {"eventVersion": "1.08", "eventTime": "2026-01-01T00:00:00Z", "eventType": "AwsApiCall",
        "eventSource": "kms.amazonaws.com", "eventName": "DescribeKey", "awsRegion": "us-east-1"}

IGNORE_ABOVE = (
    "ignore_above: values longer than the mapping's limit in characters are not indexed in {fields}; an event "
    "holding a longer value (a padded userAgent or ARN) is seen as lacking the field and escapes a match on it"
)


def verdicts(target, rule, record) -> tuple[bool, bool]:
    matcher = target.evaluator(target.compile(rule, DEFAULT_PROFILE).query)
    reference = REFERENCE.evaluator(REFERENCE.compile(rule, DEFAULT_PROFILE).query)
    return bool(matcher(target.shape(record, DEFAULT_PROFILE))), bool(reference(record))


@pytest.mark.parametrize("target", [KQL, LUCENE], ids=["kql", "lucene"])
def test_a_padded_value_escapes_and_the_artifact_says_so(rule_from, target) -> None:
    rule = rule_from({"sel": {"eventName": "DescribeKey", "userAgent|contains": "stratus"}, "condition": "sel"})
    caveats = target.compile(rule, DEFAULT_PROFILE).caveats
    assert IGNORE_ABOVE.format(fields="event.action (1024), user_agent.original (1024)") in caveats
    padded = {**BASE, "userAgent": "stratus-red-team " + "x" * 1100}
    assert verdicts(target, rule, padded) == (False, True)  # the limit is real: Sigma matches, Elastic cannot
    assert verdicts(target, rule, {**BASE, "userAgent": "stratus-red-team"}) == (True, True)


def test_fields_without_a_limit_carry_no_ignore_above_caveat(rule_from) -> None:
    rule = rule_from({"sel": {"sourceIPAddress|cidr": "10.0.0.0/8"}, "condition": "sel"})
    assert not any(c.startswith("ignore_above") for c in KQL.compile(rule, DEFAULT_PROFILE).caveats)


@pytest.mark.parametrize("target", [KQL, LUCENE], ids=["kql", "lucene"])
def test_an_empty_string_can_never_match_and_the_artifact_says_so(rule_from, target) -> None:
    rule = rule_from({"sel": {"eventName": "DescribeKey", "errorMessage": ""}, "condition": "sel"})
    assert (
        "errorMessage: '': Elastic's ingest pipeline drops empty strings, so no stored document holds '' in "
        "errorMessage; this test matches none (under NOT: every document)"
    ) in target.compile(rule, DEFAULT_PROFILE).caveats
    assert verdicts(target, rule, {**BASE, "errorMessage": ""}) == (False, True)


@pytest.mark.parametrize("target", [KQL, LUCENE], ids=["kql", "lucene"])
def test_null_also_matches_an_empty_string_and_the_artifact_says_so(rule_from, target) -> None:
    rule = rule_from({"sel": {"eventName": "DescribeKey", "errorCode": None}, "condition": "sel"})
    assert (
        "errorCode: null also matches a record whose errorCode is '' (Elastic's ingest pipeline drops empty "
        "strings and nulls before indexing)"
    ) in target.compile(rule, DEFAULT_PROFILE).caveats
    assert verdicts(target, rule, {**BASE, "errorCode": ""}) == (True, False)


@pytest.mark.parametrize("target", [KQL, LUCENE], ids=["kql", "lucene"])
def test_exists_on_a_null_field_and_the_artifact_says_so(rule_from, target) -> None:
    rule = rule_from({"sel": {"eventName": "DescribeKey", "errorCode|exists": True}, "condition": "sel"})
    assert (
        "errorCode|exists: a field present as JSON null or '' is dropped at ingest, so Elastic sees it absent "
        "where Sigma sees it present"
    ) in target.compile(rule, DEFAULT_PROFILE).caveats
    assert verdicts(target, rule, {**BASE, "errorCode": None}) == (False, True)


def test_the_seed_states_its_limits() -> None:
    from compiler.rules import load_rule
    from tests.support import SEED_RULE

    caveats = KQL.compile(load_rule(SEED_RULE), DEFAULT_PROFILE).caveats
    assert caveats[1:] == (
        "errorCode: null also matches a record whose errorCode is '' (Elastic's ingest pipeline drops empty "
        "strings and nulls before indexing)",
        IGNORE_ABOVE.format(fields="aws.cloudtrail.user_identity.type (1024), event.action (1024), event.provider (1024)"),
    )
