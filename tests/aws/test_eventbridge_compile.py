"""Sigma to EventBridge pattern, construct by construct; each verdict is also checked against Sigma's reference."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sigma.rule import SigmaRule

from backends.aws.target import EventBridgeTarget
from backends.sigma.target import SigmaTarget
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE, Profile
from compiler.rules import DetcMeta, DetcRule, load_rule
from tests.support import ROOT

SEED = ROOT / "sigma" / "aws" / "kms" / "aws_kms_imported_key_material_deleted.yml"
TARGET = EventBridgeTarget()
REFERENCE = SigmaTarget()

ALL_DETAIL_TYPES = [
    "AWS API Call via CloudTrail",
    "AWS Console Action via CloudTrail",
    "AWS Console Sign In via CloudTrail",
    "AWS Insight via CloudTrail",
    "AWS Service Event via CloudTrail",
]

BASE_RECORD: dict[str, Any] = {
    "eventVersion": "1.11",
    "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/Alice", "accountId": "111122223333"},
    "eventTime": "2025-05-20T20:45:08Z",
    "eventSource": "kms.amazonaws.com",
    "eventName": "DeleteImportedKeyMaterial",
    "awsRegion": "us-west-2",
    "sourceIPAddress": "192.0.2.10",
    "eventID": "2afbb991-c668-4641-8a00-67d62e1fecbd",
    "eventType": "AwsApiCall",
    "recipientAccountId": "111122223333",
}


def rule_from(detection: dict[str, Any], **logsource: str) -> DetcRule:
    data = {
        "title": "test rule",
        "id": "5f0b5f53-7a3a-4c1e-8f53-3f0a4c3e2a11",
        "status": "test",
        "logsource": logsource or {"product": "aws", "service": "cloudtrail"},
        "detection": detection,
        "level": "medium",
    }
    return DetcRule(path="tests/rule.yml", source=yaml.safe_dump(data).encode(), sigma=SigmaRule.from_dict(data),
                    meta=DetcMeta(risk_score=47), data=data)


def pattern_of(rule: DetcRule, profile: Profile = DEFAULT_PROFILE) -> dict[str, Any]:
    return json.loads(TARGET.compile(rule, profile).query)


def record(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE_RECORD)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def verdicts(rule: DetcRule, rec: dict[str, Any]) -> tuple[bool, bool]:
    """(EventBridge verdict on the shaped event, Sigma reference verdict on the raw record)."""
    eb = TARGET.evaluator(TARGET.compile(rule, DEFAULT_PROFILE).query)(TARGET.shape(rec, DEFAULT_PROFILE))
    ref = REFERENCE.evaluator(REFERENCE.compile(rule, DEFAULT_PROFILE).query)(rec)
    return eb, ref


SEED_PATTERN = {
    "detail": {
        "errorCode": [None, {"exists": False}],
        "eventName": [{"equals-ignore-case": "DeleteImportedKeyMaterial"}],
        "eventSource": [{"equals-ignore-case": "kms.amazonaws.com"}],
        "userIdentity": {"type": [{"anything-but": {"equals-ignore-case": "AWSService"}}, {"exists": False}]},
    },
    "detail-type": ALL_DETAIL_TYPES,
    "source": ["aws.kms"],
}


def test_seed_pattern_exactly() -> None:
    compiled = TARGET.compile(load_rule(SEED), DEFAULT_PROFILE)
    assert json.loads(compiled.query) == SEED_PATTERN
    assert compiled.query == json.dumps(SEED_PATTERN, sort_keys=True, indent=2)
    assert compiled.caveats == ()
    assert compiled.details["rule_state"] == "ENABLED"
    assert compiled.details["source"] == ["aws.kms"]
    assert compiled.details["pattern_chars"] <= 2048


def test_not_over_a_missing_field_matches() -> None:
    rule = rule_from({"sel": {"eventName": "X"}, "f": {"userIdentity.type": "AWSService"}, "condition": "sel and not f"})
    assert pattern_of(rule)["detail"]["userIdentity"]["type"] == [
        {"anything-but": {"equals-ignore-case": "AWSService"}}, {"exists": False}]
    no_type = record(eventName="X", userIdentity={"accountId": "1"})
    assert verdicts(rule, no_type) == (True, True)
    assert verdicts(rule, record(eventName="X", userIdentity={"type": "awsservice"})) == (False, False)


def test_not_over_or_merges_into_one_anything_but_list() -> None:
    rule = rule_from({"sel": {"eventName": "X"}, "f": {"userIdentity.type": ["AWSService", "Root"]},
                      "condition": "sel and not f"})
    assert pattern_of(rule)["detail"]["userIdentity"]["type"] == [
        {"anything-but": {"equals-ignore-case": ["AWSService", "Root"]}}, {"exists": False}]
    for kind, expected in (("root", False), ("IAMUser", True)):
        assert verdicts(rule, record(eventName="X", userIdentity={"type": kind})) == (expected, expected)


def test_not_over_and_is_an_or_of_negations() -> None:
    rule = rule_from({"sel": {"eventName": "X"}, "f": {"userIdentity.type": "Root", "sourceIPAddress": "192.0.2.1"},
                      "condition": "sel and not f"})
    detail = pattern_of(rule)["detail"]
    assert detail["eventName"] == [{"equals-ignore-case": "X"}]
    assert detail["$or"] == [
        {"userIdentity": {"type": [{"anything-but": {"equals-ignore-case": "Root"}}, {"exists": False}]}},
        {"sourceIPAddress": [{"anything-but": "192.0.2.1"}, {"exists": False}]},
    ]
    for kind in ("Root", "IAMUser"):
        for ip in ("192.0.2.1", "192.0.2.2", None):
            rec = record(eventName="X", userIdentity={"type": kind}, sourceIPAddress=ip)
            eb, ref = verdicts(rule, rec)
            assert eb == ref, (kind, ip)


CASE_INSENSITIVE = [
    ({"eventName": "GetObject"}, [{"equals-ignore-case": "GetObject"}], "getobject", "PutObject"),
    ({"eventName|startswith": "Get"}, [{"prefix": {"equals-ignore-case": "Get"}}], "GETOBJECT", "PutObject"),
    ({"eventName|endswith": "Object"}, [{"suffix": {"equals-ignore-case": "Object"}}], "getOBJECT", "ListBuckets"),
    ({"eventName|cased": "GetObject"}, ["GetObject"], "GetObject", "getobject"),
]


@pytest.mark.parametrize(("selection", "expected", "hit", "miss"), CASE_INSENSITIVE,
                         ids=["exact", "startswith", "endswith", "cased"])
def test_case_insensitive_string_operators(selection: dict[str, Any], expected: list[Any], hit: str, miss: str) -> None:
    rule = rule_from({"sel": selection, "condition": "sel"})
    assert pattern_of(rule)["detail"]["eventName"] == expected
    assert verdicts(rule, record(eventName=hit)) == (True, True)
    assert verdicts(rule, record(eventName=miss)) == (False, False)


def test_not_startswith_is_anything_but_prefix_or_absent() -> None:
    rule = rule_from({"sel": {"eventSource": "kms.amazonaws.com"}, "f": {"userAgent|startswith": "aws-cli/"},
                      "condition": "sel and not f"})
    assert pattern_of(rule)["detail"]["userAgent"] == [{"anything-but": {"prefix": "aws-cli/"}}, {"exists": False}]
    assert verdicts(rule, record(userAgent="Boto3/1.0")) == (True, True)
    assert verdicts(rule, record(userAgent=None)) == (True, True)


def test_contains_is_a_case_sensitive_wildcard_with_a_caveat_or_refused_when_strict() -> None:
    rule = rule_from({"sel": {"userAgent|contains": "Kali"}, "condition": "sel"})
    compiled = TARGET.compile(rule, DEFAULT_PROFILE)
    assert json.loads(compiled.query)["detail"]["userAgent"] == [{"wildcard": "*Kali*"}]
    assert any("case-sensitively" in c for c in compiled.caveats)
    strict = Profile(target_settings={"eventbridge": {"strict_case": True}})
    with pytest.raises(UnsupportedFeature, match="wildcard/contains"):
        TARGET.compile(rule, strict)
    digits = rule_from({"sel": {"requestParameters.port|contains": "3389"}, "condition": "sel"})
    assert TARGET.compile(digits, strict).caveats == ()  # nothing to fold: exact either way


def test_wildcard_values_escape_literal_star_and_backslash() -> None:
    rule = rule_from({"sel": {"requestParameters.key": "a\\*b*c\\\\d*"}, "condition": "sel"})
    assert pattern_of(rule)["detail"]["requestParameters"]["key"] == [{"wildcard": "a\\*b*c\\\\d*"}]
    rec = record(requestParameters={"key": "a*bXYc\\dZ"})
    assert verdicts(rule, rec) == (True, True)


def test_numeric_comparison_and_its_negation() -> None:
    rule = rule_from({"sel": {"requestParameters.pendingWindowInDays|lt": 10}, "condition": "sel"})
    compiled = TARGET.compile(rule, DEFAULT_PROFILE)
    assert json.loads(compiled.query)["detail"]["requestParameters"]["pendingWindowInDays"] == [{"numeric": ["<", 10]}]
    assert any("JSON numbers only" in c for c in compiled.caveats)
    assert verdicts(rule, record(requestParameters={"pendingWindowInDays": 7})) == (True, True)
    assert verdicts(rule, record(requestParameters={"pendingWindowInDays": 30})) == (False, False)
    negated = rule_from({"sel": {"eventName": "X"}, "f": {"requestParameters.pendingWindowInDays|lt": 10},
                         "condition": "sel and not f"})
    assert pattern_of(negated)["detail"]["requestParameters"]["pendingWindowInDays"] == [
        None, {"exists": False}, {"numeric": [">=", 10]}, {"prefix": ""}]
    for days in (7, 30, None):
        rec = record(eventName="X", requestParameters={} if days is None else {"pendingWindowInDays": days})
        eb, ref = verdicts(negated, rec)
        assert eb == ref, days


def test_cidr() -> None:
    rule = rule_from({"sel": {"sourceIPAddress|cidr": "192.0.2.0/24"}, "condition": "sel"})
    assert pattern_of(rule)["detail"]["sourceIPAddress"] == [{"cidr": "192.0.2.0/24"}]
    assert verdicts(rule, record(sourceIPAddress="192.0.2.200")) == (True, True)
    assert verdicts(rule, record(sourceIPAddress="198.51.100.1")) == (False, False)
    negated = rule_from({"sel": {"eventName": "X"}, "f": {"sourceIPAddress|cidr": "192.0.2.0/24"},
                         "condition": "sel and not f"})
    with pytest.raises(UnsupportedFeature, match="cidr"):
        TARGET.compile(negated, DEFAULT_PROFILE)


def test_exists_and_null() -> None:
    present = rule_from({"sel": {"errorCode|exists": True}, "condition": "sel"})
    compiled = TARGET.compile(present, DEFAULT_PROFILE)
    assert json.loads(compiled.query)["detail"]["errorCode"] == [{"exists": True}]
    assert compiled.caveats == ()
    assert verdicts(present, record(errorCode="AccessDenied")) == (True, True)
    # Sigma's exists is presence, "be it empty or null", and so is EventBridge's on a leaf
    assert verdicts(present, {**record(), "errorCode": None}) == (True, True)
    assert verdicts(present, record()) == (False, False)
    missing = rule_from({"sel": {"errorCode|exists": False}, "condition": "sel"})
    assert pattern_of(missing)["detail"]["errorCode"] == [{"exists": False}]
    assert verdicts(missing, {**record(), "errorCode": None}) == (False, False)
    assert verdicts(missing, record()) == (True, True)
    absent = rule_from({"sel": {"errorCode": None}, "condition": "sel"})
    assert pattern_of(absent)["detail"]["errorCode"] == [None, {"exists": False}]
    assert verdicts(absent, record(errorCode=None)) == (True, True)


@pytest.mark.parametrize(
    ("detection", "caveat"),
    [
        ({"errorCode": "*"}, "errorCode: '*' is exists:true, which EventBridge also grants a field present as JSON null "
                             "(Sigma's '*' needs a value)"),
        ({"errorCode": None}, "not errorCode: null is exists:true, which EventBridge also grants a field present as "
                              "JSON null (Sigma's not null needs a value)"),
    ],
    ids=["star", "not-null"],
)
def test_null_caveats_say_what_eventbridge_does(detection, caveat) -> None:
    rule = rule_from({"sel": {"eventName": "X"}, "f": detection,
                      "condition": "sel and f" if "*" in detection.values() else "sel and not f"})
    compiled = TARGET.compile(rule, DEFAULT_PROFILE)
    assert compiled.caveats == (caveat,)
    assert verdicts(rule, {**record(eventName="X"), "errorCode": None}) == (True, False)


@pytest.mark.parametrize(
    ("detection", "reason"),
    [
        ({"requestParameters|exists": True}, "requestParameters|exists: requestParameters holds a JSON object"),
        ({"responseElements": None}, "responseElements: null: responseElements holds a JSON object"),
        ({"userIdentity.sessionContext|exists": False}, "userIdentity.sessionContext|exists: userIdentity.sessionContext holds"),
        ({"requestParameters.noSuchThing|exists": True}, "requestParameters.noSuchThing|exists: no CloudTrail record shows"),
    ],
    ids=["exists-object", "null-object", "not-exists-object", "unknown-path"],
)
def test_presence_on_objects_is_refused(detection, reason) -> None:
    rule = rule_from({"sel": {"eventName": "X", **detection}, "condition": "sel"})
    with pytest.raises(UnsupportedFeature, match=re.escape(reason)):
        TARGET.compile(rule, DEFAULT_PROFILE)


@pytest.mark.parametrize(
    "negated",
    [{"resources.type": "AWS::KMS::Key"}, {"resources.ARN|startswith": "arn:aws:kms:"}, {"resources.ARN|contains": "key/"}],
    ids=["equals", "startswith", "contains"],
)
def test_not_over_an_array_is_refused(negated) -> None:
    rule = rule_from({"sel": {"eventName": "DeleteImportedKeyMaterial"}, "f": negated, "condition": "sel and not f"})
    with pytest.raises(UnsupportedFeature, match="anything-but is satisfied by any one element of an array"):
        TARGET.compile(rule, DEFAULT_PROFILE)
    positive = rule_from({"sel": {"eventName": "DeleteImportedKeyMaterial"}, "f": negated, "condition": "sel and f"})
    TARGET.compile(positive, DEFAULT_PROFILE)  # any element may match: the same in both


def test_or_on_one_field_is_a_value_list_and_across_fields_an_or() -> None:
    one = rule_from({"sel": {"eventName": ["DisableKey", "ScheduleKeyDeletion"]}, "condition": "sel"})
    assert pattern_of(one)["detail"]["eventName"] == [
        {"equals-ignore-case": "DisableKey"}, {"equals-ignore-case": "ScheduleKeyDeletion"}]
    two = rule_from({"a": {"eventName": "DisableKey"}, "b": {"errorCode": "AccessDenied"}, "condition": "a or b"})
    assert pattern_of(two)["detail"]["$or"] == [
        {"eventName": [{"equals-ignore-case": "DisableKey"}]}, {"errorCode": [{"equals-ignore-case": "AccessDenied"}]}]


def test_two_independent_or_groups_use_two_levels() -> None:
    rule = rule_from({"a": {"eventName": "A"}, "b": {"errorCode": "E"}, "c": {"userAgent": "U"},
                      "d": {"sourceIPAddress": "192.0.2.1"}, "condition": "(a or b) and (c or d)"})
    pattern = pattern_of(rule)
    assert "$or" in pattern and "$or" in pattern["detail"]
    for name in ("A", "Z"):
        for agent in ("U", "V"):
            rec = record(eventName=name, userAgent=agent)
            assert verdicts(rule, rec)[0] == verdicts(rule, rec)[1], (name, agent)


UNSUPPORTED = [
    ({"sel": {"eventName|re": "^Get.*"}, "condition": "sel"}, "regular expression"),
    ({"keywords": ["mimikatz"], "condition": "keywords"}, "keyword"),
    ({"sel": {"eventName": "Get?bject"}, "condition": "sel"}, "single-character wildcard"),
    ({"sel": {"eventName|fieldref": "eventSource"}, "condition": "sel"}, "field reference"),
]


@pytest.mark.parametrize(("detection", "construct"), UNSUPPORTED, ids=[u[1] for u in UNSUPPORTED])
def test_unsupported_constructs_are_named(detection: dict[str, Any], construct: str) -> None:
    with pytest.raises(UnsupportedFeature, match=construct):
        TARGET.compile(rule_from(detection), DEFAULT_PROFILE)


def test_other_logsources_are_unsupported() -> None:
    rule = rule_from({"sel": {"Image": "x"}, "condition": "sel"}, product="windows", category="process_creation")
    with pytest.raises(UnsupportedFeature, match="logsource"):
        TARGET.compile(rule, DEFAULT_PROFILE)


def test_pattern_size_limit() -> None:
    many = rule_from({"sel": {"eventName": [f"Action{i:04d}" for i in range(80)]}, "condition": "sel"})
    with pytest.raises(UnsupportedFeature, match="2048"):
        TARGET.compile(many, DEFAULT_PROFILE)
    raised = Profile(target_settings={"eventbridge": {"max_pattern_chars": 4096}})
    assert TARGET.compile(many, raised).details["pattern_chars"] > 2048
    with pytest.raises(UnsupportedFeature, match="max_pattern_chars"):
        TARGET.compile(many, Profile(target_settings={"eventbridge": {"max_pattern_chars": 5000}}))


def test_numeric_range_limit() -> None:
    rule = rule_from({"sel": {"requestParameters.size|gt": 5_000_000_000}, "condition": "sel"})
    with pytest.raises(UnsupportedFeature, match="1.0e9"):
        TARGET.compile(rule, DEFAULT_PROFILE)


def test_two_conditions_on_one_field_under_and_are_refused() -> None:
    rule = rule_from({"sel": {"eventName|startswith": "Get"}, "f": {"eventName|endswith": "Policy"},
                      "condition": "sel and f"})
    with pytest.raises(UnsupportedFeature, match="single value list per field"):
        TARGET.compile(rule, DEFAULT_PROFILE)


def test_delivery_read_only_events_need_the_all_management_state() -> None:
    rule = rule_from({"sel": {"eventSource": "kms.amazonaws.com", "eventName|startswith": "Get"}, "condition": "sel"})
    details = TARGET.compile(rule, DEFAULT_PROFILE).details
    assert details["rule_state"] == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    assert any("read-only" in r for r in details["delivery_requirements"])


def test_delivery_data_events_and_sign_in_region() -> None:
    s3 = rule_from({"sel": {"eventSource": "s3.amazonaws.com", "eventName": "PutObject"}, "condition": "sel"})
    details = TARGET.compile(s3, DEFAULT_PROFILE).details
    assert any("data events for s3.amazonaws.com" in r for r in details["delivery_requirements"])
    assert details["source"] == ["aws.s3"]
    login = rule_from({"sel": {"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
                               "eventType": "AwsConsoleSignIn"}, "condition": "sel"})
    compiled = TARGET.compile(login, DEFAULT_PROFILE)
    assert json.loads(compiled.query)["detail-type"] == ["AWS Console Sign In via CloudTrail"]
    assert compiled.details["source"] == ["aws.signin"]
    assert "us-east-1" in compiled.details["deploy_regions"]
    iam = rule_from({"sel": {"eventSource": "iam.amazonaws.com", "eventName": "CreateUser"}, "condition": "sel"})
    assert TARGET.compile(iam, DEFAULT_PROFILE).details["deploy_regions"] == "us-east-1"


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
       .filter(lambda s: not set(s) & set("*?\\")))
def test_any_literal_compiled_and_evaluated_matches_itself(name: str) -> None:
    rule = rule_from({"sel": {"eventName": name}, "condition": "sel"})
    assert verdicts(rule, record(eventName=name))[0]
    if name.isascii():  # case folding beyond ASCII (ß, dotted İ) is not specified by AWS
        assert verdicts(rule, record(eventName=name.swapcase()))[0]


def test_numeric_strings_also_match_numbers_within_range_only() -> None:
    small = rule_from({"sel": {"requestParameters.pendingWindowInDays": "7"}, "condition": "sel"})
    assert pattern_of(small)["detail"]["requestParameters"]["pendingWindowInDays"] == ["7", 7]
    assert verdicts(small, record(requestParameters={"pendingWindowInDays": 7})) == (True, True)
    account = rule_from({"sel": {"recipientAccountId": "111122223333"}, "condition": "sel"})
    assert pattern_of(account)["detail"]["recipientAccountId"] == ["111122223333"]
