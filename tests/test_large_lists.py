"""Long value lists: the fast paths that keep them linear give exactly the verdicts and trees of
the slow ones (speed itself is measured in bench/, never here)."""

from __future__ import annotations

import re

import pytest
from luqum.parser import parser as luqum_parser
from sigma.types import SigmaCasedString, SigmaString

from backends.elastic.lucene_evaluator import parse
from backends.sigma.sigma_evaluator import value_matcher
from compiler.build import compile_one
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE
from compiler.target import load_registry

REGISTRY = load_registry()


@pytest.mark.parametrize(
    ("value", "cased", "text", "expected"),
    [
        ("DeleteKey", False, "deletekey", True),
        ("DeleteKey", False, "DeleteKeys", False),
        ("DeleteKey", True, "deletekey", False),
        ("DeleteKey", True, "DeleteKey", True),
        ("k", False, "\u212a", True),  # KELVIN SIGN: equal to k under Python's IGNORECASE, not under ASCII lower()
        ("s", False, "\u017f", True),  # LATIN SMALL LETTER LONG S
        ("straße", False, "STRASSE", False),  # IGNORECASE folds simply: ß is not ss
        ("straße", False, "STRAßE", True),
        ("a*b", False, "A*B", True),  # an escaped star is a literal star
        ("", False, "", True),
        ("", False, "x", False),
    ],
    ids=["folded", "longer", "cased-differs", "cased-equal", "kelvin", "long-s", "sharp-s", "sharp-s-upper",
         "literal-star", "empty", "empty-vs-text"],
)
def test_literal_fast_path_agrees_with_the_regex(value: str, cased: bool, text: str, expected: bool):
    sigma = SigmaString(value.replace("*", "\\*"))
    if cased:
        sigma = SigmaCasedString.from_sigma_string(sigma)
    flags = re.DOTALL | (0 if cased else re.IGNORECASE)
    assert (re.fullmatch(re.escape(value), text, flags) is not None) == expected
    assert value_matcher(sigma)(text) is expected


@pytest.mark.parametrize(
    "query",
    [
        "a:1 OR a:2 OR a:3 OR a:4",
        "a:1 AND b:2 AND c:3",
        "a:1 OR b:2 AND c:3 OR d:4",
        "(a:1 OR a:2) OR (b:1 OR b:2 OR b:3) AND NOT c:/[Xx]/",
        "x:(1 OR 2 OR 3) AND y:(4 OR 5)",
        "a:1 b:2 c:3",
    ],
    ids=["or-chain", "and-chain", "mixed", "groups", "field-groups", "implicit"],
)
def test_linear_lucene_parse_builds_luqums_tree(query: str):
    ours, theirs = parse(query), luqum_parser.parse(query)
    assert str(ours) == str(theirs) == query
    assert repr(ours) == repr(theirs)


def test_a_long_value_list_gives_the_same_verdicts_on_every_target(rule_from):
    values = [f"BenchEvent{i:05d}" for i in range(3000)]
    rule = rule_from({"sel": {"eventName": values, "eventSource": "kms.amazonaws.com"}, "condition": "sel"})
    last = {"eventName": values[-1], "eventSource": "kms.amazonaws.com", "eventType": "AwsApiCall"}
    other = {**last, "eventName": "BenchEvent99999"}
    for name, target in REGISTRY.targets.items():
        if name == "eventbridge":  # refused for its size (a test of its own); the others must agree
            with pytest.raises(UnsupportedFeature, match="pattern size"):
                compile_one(target, rule, DEFAULT_PROFILE)
            continue
        compiled = compile_one(target, rule, DEFAULT_PROFILE)
        matcher = target.evaluator(compiled.query)
        verdicts = [matcher(target.shape(event, DEFAULT_PROFILE)) for event in (last, other)]
        assert verdicts == [True, False], name
