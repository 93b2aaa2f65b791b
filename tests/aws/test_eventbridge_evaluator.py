"""Construct-by-construct checks of detc's EventBridge matcher, including where it departs from LocalStack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backends.aws.eventbridge_evaluator import evaluator
from compiler.errors import EvaluationError
from tests.support import case_id


def matches(pattern: dict[str, Any] | str, event: dict[str, Any]) -> bool:
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    return evaluator(text)(event)


WILDCARD = [
    # AWS: "*" is zero or more characters; LocalStack compiles it to one-or-more.
    ("zero characters between", "a*b", "ab", True),
    ("trailing star matches nothing", "abc*", "abc", True),
    ("leading star matches nothing", "*abc", "abc", True),
    ("star matches several", "a*b", "aXYZb", True),
    ("literal mismatch", "a*b", "aXc", False),
    # AWS: "\\*" is a literal asterisk; LocalStack ignores the escape.
    ("escaped star is literal", "a\\*b", "a*b", True),
    ("escaped star is not a wildcard", "a\\*b", "aXb", False),
    ("escaped star is not zero characters", "a\\*b", "ab", False),
    # AWS: "\\\\" is one literal backslash.
    ("escaped backslash is literal", "dir\\\\*", "dir\\file", True),
    ("escaped backslash needs the backslash", "dir\\\\*", "dirfile", False),
    ("whole value, not a search", "b*", "ab", False),
]


@pytest.mark.parametrize(("name", "wildcard", "value", "expected"), WILDCARD, ids=[w[0] for w in WILDCARD])
def test_wildcard_follows_aws(name: str, wildcard: str, value: str, expected: bool) -> None:
    assert matches({"f": [{"wildcard": wildcard}]}, {"f": value}) is expected


@pytest.mark.parametrize("bad", ["a**b", "a\\xb", "a\\"], ids=["consecutive", "bad-escape", "dangling"])
def test_invalid_wildcards_are_rejected(bad: str) -> None:
    with pytest.raises(EvaluationError):
        evaluator(json.dumps({"f": [{"wildcard": bad}]}))


def test_anything_but_does_not_match_a_missing_field() -> None:
    assert matches({"f": [{"anything-but": "x"}]}, {"f": "y"})
    assert not matches({"f": [{"anything-but": "x"}]}, {"g": "y"})
    assert matches({"f": [{"anything-but": "x"}, {"exists": False}]}, {"g": "y"})
    assert not matches({"f": [{"anything-but": "x"}, {"exists": False}]}, {"f": "x"})


def test_anything_but_ignore_case() -> None:
    pattern = {"f": [{"anything-but": {"equals-ignore-case": ["AWSService"]}}]}
    assert not matches(pattern, {"f": "awsservice"})
    assert matches(pattern, {"f": "IAMUser"})


def test_case_insensitive_prefix_and_suffix() -> None:
    assert matches({"f": [{"prefix": {"equals-ignore-case": "Get"}}]}, {"f": "GETOBJECT"})
    assert not matches({"f": [{"prefix": "Get"}]}, {"f": "GETOBJECT"})
    assert matches({"f": [{"suffix": {"equals-ignore-case": ".EXE"}}]}, {"f": "a.exe"})
    assert not matches({"f": [{"suffix": {"equals-ignore-case": ".EXE"}}]}, {"f": "x"})


def test_numeric_and_types() -> None:
    pattern = {"n": [{"numeric": [">", 0, "<=", 5]}]}
    assert matches(pattern, {"n": 5})
    assert not matches(pattern, {"n": 0})
    assert not matches(pattern, {"n": "3"})  # strings are not numbers
    assert not matches({"b": [1]}, {"b": True})  # a boolean is not the number 1


def test_cidr() -> None:
    pattern = {"ip": [{"cidr": "192.0.2.0/24"}]}
    assert matches(pattern, {"ip": "192.0.2.77"})
    assert not matches(pattern, {"ip": "198.51.100.1"})
    assert not matches(pattern, {"ip": "kms.amazonaws.com"})


def test_or_and_array_consistency() -> None:
    pattern = {"$or": [{"a": ["1"]}, {"b": ["2"]}]}
    assert matches(pattern, {"b": "2"})
    assert not matches(pattern, {"c": "2"})
    both = {"r": {"type": ["AWS::KMS::Key"], "ARN": ["arn:x"]}}
    assert matches(both, {"r": [{"type": "AWS::KMS::Key", "ARN": "arn:x"}]})
    # the two fields come from different elements of one array: event-ruler refuses the match
    assert not matches(both, {"r": [{"type": "AWS::KMS::Key", "ARN": "arn:y"}, {"type": "t", "ARN": "arn:x"}]})


@pytest.mark.parametrize(
    "bad",
    ['{"f": "x"}', '{"f": []}', '{"$or": [{"a": ["1"]}]}', '{"f": [{"NUMERIC": ["=", 1]}]}', "[]", "nope",
     '{"f": [{"anything-but": {"prefix": ""}}]}', '{"f": [{"numeric": [">", 1, ">", 2]}]}'],
    ids=case_id,
)
def test_invalid_patterns_raise(bad: str) -> None:
    with pytest.raises(EvaluationError):
        evaluator(bad)
