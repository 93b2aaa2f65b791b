"""The reference evaluator, construct by construct, with negative cases."""

from __future__ import annotations

from typing import Any

import pytest

from backends.sigma.target import SigmaTarget
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE

TARGET = SigmaTarget()


def verdict(rule_from, detection: dict[str, Any], event: dict[str, Any]) -> bool:
    compiled = TARGET.compile(rule_from(detection), DEFAULT_PROFILE)
    return TARGET.evaluator(compiled.query)(TARGET.shape(event, DEFAULT_PROFILE))


CASES = [
    # (id, detection, event, expected)
    ("eq-exact", {"sel": {"eventName": "StopLogging"}, "condition": "sel"}, {"eventName": "StopLogging"}, True),
    ("eq-case-insensitive", {"sel": {"eventName": "StopLogging"}, "condition": "sel"}, {"eventName": "STOPLOGGING"}, True),
    ("eq-other-value", {"sel": {"eventName": "StopLogging"}, "condition": "sel"}, {"eventName": "StartLogging"}, False),
    ("eq-no-substring", {"sel": {"eventName": "Stop"}, "condition": "sel"}, {"eventName": "StopLogging"}, False),
    ("eq-missing-field", {"sel": {"eventName": "StopLogging"}, "condition": "sel"}, {}, False),
    ("cased-match", {"sel": {"eventName|cased": "StopLogging"}, "condition": "sel"}, {"eventName": "StopLogging"}, True),
    ("cased-other-case", {"sel": {"eventName|cased": "StopLogging"}, "condition": "sel"}, {"eventName": "stoplogging"}, False),
    ("wildcard-star", {"sel": {"eventName": "Delete*Policy"}, "condition": "sel"}, {"eventName": "DeleteBucketPolicy"}, True),
    ("wildcard-star-empty", {"sel": {"eventName": "Delete*Policy"}, "condition": "sel"}, {"eventName": "DeletePolicy"}, True),
    ("wildcard-star-no", {"sel": {"eventName": "Delete*Policy"}, "condition": "sel"}, {"eventName": "PutBucketPolicy"}, False),
    ("wildcard-question", {"sel": {"eventName": "Get?"}, "condition": "sel"}, {"eventName": "GetX"}, True),
    ("wildcard-question-one-only", {"sel": {"eventName": "Get?"}, "condition": "sel"}, {"eventName": "GetXY"}, False),
    ("escaped-star-literal", {"sel": {"f": "a\\*b"}, "condition": "sel"}, {"f": "a*b"}, True),
    ("escaped-star-not-wildcard", {"sel": {"f": "a\\*b"}, "condition": "sel"}, {"f": "axxb"}, False),
    ("escaped-question-literal", {"sel": {"f": "a\\?"}, "condition": "sel"}, {"f": "a?"}, True),
    ("escaped-question-not-wildcard", {"sel": {"f": "a\\?"}, "condition": "sel"}, {"f": "ab"}, False),
    ("regex-special-chars-literal", {"sel": {"f": "a.b(c)[d]+"}, "condition": "sel"}, {"f": "a.b(c)[d]+"}, True),
    ("regex-special-chars-not-regex", {"sel": {"f": "a.b"}, "condition": "sel"}, {"f": "axb"}, False),
    ("contains", {"sel": {"userAgent|contains": "python"}, "condition": "sel"}, {"userAgent": "Boto3/1 Python/3.11"}, True),
    ("contains-no", {"sel": {"userAgent|contains": "python"}, "condition": "sel"}, {"userAgent": "aws-cli/2"}, False),
    ("startswith", {"sel": {"eventName|startswith": "Delete"}, "condition": "sel"}, {"eventName": "deleteTrail"}, True),
    ("startswith-no", {"sel": {"eventName|startswith": "Delete"}, "condition": "sel"}, {"eventName": "UndeleteTrail"}, False),
    ("endswith", {"sel": {"eventName|endswith": "Trail"}, "condition": "sel"}, {"eventName": "DeleteTRAIL"}, True),
    ("endswith-no", {"sel": {"eventName|endswith": "Trail"}, "condition": "sel"}, {"eventName": "TrailDeleted"}, False),
    ("list-is-or", {"sel": {"eventName": ["A", "B"]}, "condition": "sel"}, {"eventName": "b"}, True),
    ("list-is-or-no", {"sel": {"eventName": ["A", "B"]}, "condition": "sel"}, {"eventName": "C"}, False),
    ("all-is-and", {"sel": {"f|contains|all": ["x", "y"]}, "condition": "sel"}, {"f": "..y..x.."}, True),
    ("all-is-and-no", {"sel": {"f|contains|all": ["x", "y"]}, "condition": "sel"}, {"f": "..x.."}, False),
    ("map-is-and", {"sel": {"a": "1", "b": "2"}, "condition": "sel"}, {"a": "1", "b": "3"}, False),
    ("list-of-maps-is-or", {"sel": [{"a": "1"}, {"b": "2"}], "condition": "sel"}, {"b": "2"}, True),
    ("re-unanchored", {"sel": {"f|re": "b+c"}, "condition": "sel"}, {"f": "abbbcd"}, True),
    ("re-case-sensitive", {"sel": {"f|re": "ABC"}, "condition": "sel"}, {"f": "abc"}, False),
    ("re-i-flag", {"sel": {"f|re|i": "ABC"}, "condition": "sel"}, {"f": "xabcx"}, True),
    ("re-m-flag", {"sel": {"f|re|m": "^b$"}, "condition": "sel"}, {"f": "a\nb\nc"}, True),
    ("re-no-m-flag", {"sel": {"f|re": "^b$"}, "condition": "sel"}, {"f": "a\nb\nc"}, False),
    ("re-s-flag", {"sel": {"f|re|s": "a.b"}, "condition": "sel"}, {"f": "a\nb"}, True),
    ("re-no-s-flag", {"sel": {"f|re": "a.b"}, "condition": "sel"}, {"f": "a\nb"}, False),
    ("cidr-in", {"sel": {"sourceIPAddress|cidr": "10.0.0.0/8"}, "condition": "sel"}, {"sourceIPAddress": "10.1.2.3"}, True),
    ("cidr-out", {"sel": {"sourceIPAddress|cidr": "10.0.0.0/8"}, "condition": "sel"}, {"sourceIPAddress": "11.1.2.3"}, False),
    ("cidr-hostname", {"sel": {"sourceIPAddress|cidr": "10.0.0.0/8"}, "condition": "sel"}, {"sourceIPAddress": "kms.amazonaws.com"}, False),
    ("cidr-v6", {"sel": {"sourceIPAddress|cidr": "2001:db8::/32"}, "condition": "sel"}, {"sourceIPAddress": "2001:db8::1"}, True),
    ("exists-true", {"sel": {"errorCode|exists": True}, "condition": "sel"}, {"errorCode": "AccessDenied"}, True),
    ("exists-true-missing", {"sel": {"errorCode|exists": True}, "condition": "sel"}, {}, False),
    ("exists-false-missing", {"sel": {"errorCode|exists": False}, "condition": "sel"}, {}, True),
    ("exists-false-present", {"sel": {"errorCode|exists": False}, "condition": "sel"}, {"errorCode": "x"}, False),
    # presence, "be it empty or null" (Sigma specification, modifier exists)
    ("exists-true-json-null", {"sel": {"errorCode|exists": True}, "condition": "sel"}, {"errorCode": None}, True),
    ("exists-true-empty", {"sel": {"errorCode|exists": True}, "condition": "sel"}, {"errorCode": ""}, True),
    ("exists-true-empty-array", {"sel": {"a.b|exists": True}, "condition": "sel"}, {"a": {"b": []}}, True),
    ("exists-true-empty-array-on-way", {"sel": {"a.b|exists": True}, "condition": "sel"}, {"a": []}, False),
    ("exists-false-json-null", {"sel": {"errorCode|exists": False}, "condition": "sel"}, {"errorCode": None}, False),
    ("exists-true-object", {"sel": {"requestParameters|exists": True}, "condition": "sel"}, {"requestParameters": {"a": 1}}, True),
    ("null-missing", {"sel": {"errorCode": None}, "condition": "sel"}, {"eventName": "x"}, True),
    ("null-json-null", {"sel": {"errorCode": None}, "condition": "sel"}, {"errorCode": None}, True),
    ("null-present", {"sel": {"errorCode": None}, "condition": "sel"}, {"errorCode": "AccessDenied"}, False),
    ("gt", {"sel": {"n|gt": 5}, "condition": "sel"}, {"n": 6}, True),
    ("gt-equal", {"sel": {"n|gt": 5}, "condition": "sel"}, {"n": 5}, False),
    ("gte", {"sel": {"n|gte": 5}, "condition": "sel"}, {"n": 5}, True),
    ("lt", {"sel": {"n|lt": 5}, "condition": "sel"}, {"n": 4.5}, True),
    ("lte-no", {"sel": {"n|lte": 5}, "condition": "sel"}, {"n": 6}, False),
    ("compare-numeric-string", {"sel": {"n|gt": 8}, "condition": "sel"}, {"n": "10"}, True),
    ("compare-not-a-number", {"sel": {"n|gt": 8}, "condition": "sel"}, {"n": "ten"}, False),
    ("number-eq", {"sel": {"n": 7}, "condition": "sel"}, {"n": 7}, True),
    ("number-eq-string", {"sel": {"n": 7}, "condition": "sel"}, {"n": "7"}, True),
    ("number-ne", {"sel": {"n": 7}, "condition": "sel"}, {"n": 70}, False),
    # Sigma compares values as strings: 22 is not "022" (every platform target says so too)
    ("number-leading-zero", {"sel": {"fromPort": 22}, "condition": "sel"}, {"fromPort": "022"}, False),
    ("number-padded", {"sel": {"fromPort": 22}, "condition": "sel"}, {"fromPort": " 22"}, False),
    ("number-float-text", {"sel": {"fromPort": 22}, "condition": "sel"}, {"fromPort": "22.0"}, False),
    ("number-json-float", {"sel": {"fromPort": 22}, "condition": "sel"}, {"fromPort": 22.0}, True),
    ("bool-true", {"sel": {"readOnly": True}, "condition": "sel"}, {"readOnly": True}, True),
    ("bool-false-no", {"sel": {"readOnly": True}, "condition": "sel"}, {"readOnly": False}, False),
    ("string-matches-bool", {"sel": {"readOnly": "true"}, "condition": "sel"}, {"readOnly": True}, True),
    ("dotted-nested", {"sel": {"userIdentity.type": "Root"}, "condition": "sel"}, {"userIdentity": {"type": "Root"}}, True),
    ("dotted-nested-no", {"sel": {"userIdentity.type": "Root"}, "condition": "sel"}, {"userIdentity": {"type": "IAMUser"}}, False),
    ("dotted-literal-key", {"sel": {"a.b": "x"}, "condition": "sel"}, {"a.b": "x"}, True),
    ("array-any-element", {"sel": {"resources.ARN|endswith": ":key/k2"}, "condition": "sel"},
     {"resources": [{"ARN": "arn:a:key/k1"}, {"ARN": "arn:a:key/k2"}]}, True),
    ("array-no-element", {"sel": {"resources.ARN|endswith": ":key/k3"}, "condition": "sel"},
     {"resources": [{"ARN": "arn:a:key/k1"}, {"ARN": "arn:a:key/k2"}]}, False),
    ("array-of-scalars", {"sel": {"tags": "b"}, "condition": "sel"}, {"tags": ["a", "B"]}, True),
    ("object-is-not-a-string", {"sel": {"userIdentity": "x"}, "condition": "sel"}, {"userIdentity": {"type": "x"}}, False),
    ("not-matches-missing", {"sel": {"a": "1"}, "f": {"userIdentity.type": "AWSService"}, "condition": "sel and not f"}, {"a": "1"}, True),
    ("not-excludes", {"sel": {"a": "1"}, "f": {"userIdentity.type": "AWSService"}, "condition": "sel and not f"},
     {"a": "1", "userIdentity": {"type": "awsservice"}}, False),
    ("one-of", {"s1": {"a": "1"}, "s2": {"b": "2"}, "condition": "1 of s*"}, {"b": "2"}, True),
    ("one-of-none", {"s1": {"a": "1"}, "s2": {"b": "2"}, "condition": "1 of s*"}, {"c": "3"}, False),
    ("all-of", {"s1": {"a": "1"}, "s2": {"b": "2"}, "condition": "all of s*"}, {"a": "1", "b": "2"}, True),
    ("all-of-partial", {"s1": {"a": "1"}, "s2": {"b": "2"}, "condition": "all of s*"}, {"a": "1"}, False),
    ("all-of-them", {"s1": {"a": "1"}, "s2": {"b": "2"}, "condition": "all of them"}, {"a": "1", "b": "2"}, True),
    ("one-of-them", {"s1": {"a": "1"}, "s2": {"b": "2"}, "condition": "1 of them"}, {"a": "1"}, True),
    ("precedence-and-over-or", {"a": {"a": "1"}, "b": {"b": "1"}, "c": {"c": "1"}, "condition": "a or b and c"}, {"a": "1"}, True),
    ("parentheses", {"a": {"a": "1"}, "b": {"b": "1"}, "c": {"c": "1"}, "condition": "(a or b) and c"}, {"a": "1"}, False),
    ("keyword-anywhere", {"kw": ["evil.exe"], "condition": "kw"}, {"requestParameters": {"cmd": "run EVIL.EXE now"}}, True),
    ("keyword-absent", {"kw": ["evil.exe"], "condition": "kw"}, {"requestParameters": {"cmd": "run good.exe"}}, False),
    ("fieldref-equal", {"sel": {"a|fieldref": "b"}, "condition": "sel"}, {"a": "X", "b": "x"}, True),
    ("fieldref-different", {"sel": {"a|fieldref": "b"}, "condition": "sel"}, {"a": "X", "b": "y"}, False),
    ("windash-expansion", {"sel": {"cmd|windash|contains": "-f"}, "condition": "sel"}, {"cmd": "tool /f"}, True),
]


@pytest.mark.parametrize(("detection", "event", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sigma_construct(rule_from, detection, event, expected):
    assert verdict(rule_from, detection, event) is expected


def test_sigma_unsupported_modifier_is_a_clear_error(rule_from):
    rule = rule_from({"sel": {"f|expand": "%admins%"}, "condition": "sel"})
    with pytest.raises(UnsupportedFeature, match="placeholder"):
        TARGET.compile(rule, DEFAULT_PROFILE)


def test_sigma_query_text_round_trips(rule_from):
    rule = rule_from({"sel": {"a|contains|all": ["x\\*", "y"], "n|gte": 3}, "condition": "sel"})
    text = TARGET.compile(rule, DEFAULT_PROFILE).query
    assert "a|contains|all" in text and "n|gte" in text
    assert TARGET.evaluator(text)({"a": "yx*", "n": 3})
    assert not TARGET.evaluator(text)({"a": "yx", "n": 3})


def test_sigma_evaluator_rejects_garbage():
    from compiler.errors import EvaluationError

    with pytest.raises(EvaluationError):
        TARGET.evaluator("detection: [unbalanced")


def test_sigma_query_is_json_where_json_is_exact_and_yaml_elsewhere(rule_from):
    plain = TARGET.compile(rule_from({"sel": {"eventName": "a\u2028b\x85"}, "condition": "sel"}), DEFAULT_PROFILE).query
    assert plain.startswith("{") and TARGET.evaluator(plain)({"eventName": "A\u2028B\x85"})
    # an integer beyond 64 bits has no exact JSON form (orjson's): YAML holds it
    text = TARGET.compile(rule_from({"sel": {"n": 2**70}, "condition": "sel"}), DEFAULT_PROFILE).query
    assert not text.startswith("{")
    assert TARGET.evaluator(text)({"n": 2**70})
