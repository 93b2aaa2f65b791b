"""Long value lists: the fast paths that keep them linear give exactly the verdicts and trees of
the slow ones (speed itself is measured in bench/, never here)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from luqum.parser import parser as luqum_parser
from sigma.conditions import ConditionAND, ConditionFieldEqualsValueExpression, ConditionNOT, ConditionOR
from sigma.types import SigmaCasedString, SigmaString

from backends.elastic.es_regexp import folded_literal
from backends.elastic.es_semantics import ascii_folded
from backends.elastic.lucene_evaluator import parse
from backends.sigma.sigma_evaluator import value_matcher
from compiler.build import compile_one
from compiler.conditions import Conditions
from compiler.errors import UnsupportedFeature
from compiler.patterns import sigma_string_pattern, value_fits
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import DetcRule, load_rule
from compiler.target import load_registry
from tests.support import case_id, rule_dict

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


# --- the set lookups of the evaluators give the verdicts of their values one by one ---------------

SET_TARGETS = ("kql", "lucene", "eql", "spl")
TRICKY = list("aAkKsSiI0 *?\\\"':()/é") + ["\u212a", "\u017f", "\u0130", "\u0131", "ß"]
"""Case variants, characters Python's IGNORECASE pairs with ASCII letters (KELVIN SIGN, LONG S,
dotted and dotless I), Sigma wildcards and escapes, characters each language escapes."""
LONG = "x" * 1030
"""Longer than the keyword mapping's ignore_above (1024): Elastic does not index it."""


def _rule(field: str, values: list[str]) -> DetcRule:
    raw = yaml.safe_dump(rule_dict({"sel": {field: values}, "condition": "sel"}), sort_keys=False).encode()
    return load_rule(Path("list.yml"), raw=raw)


def _event(field: str, value: str | list[str]) -> dict[str, Any]:
    event: dict[str, Any] = {"eventSource": "kms.amazonaws.com", "eventName": "ListKeys", "eventType": "AwsApiCall"}
    if field == "resources.ARN":
        event["resources"] = [{"ARN": v} for v in ([value] if isinstance(value, str) else value)]
    else:
        event[field] = value
    return event


def _variants(value: str) -> list[str]:
    return [value, value.swapcase(), value.upper(), value.lower(), value.replace("k", "\u212a"), value + "x", value[1:]]


def assert_list_is_its_values(field: str, values: list[str], docs: list[Any]) -> int:
    """On every set target: the rule with the whole list gives each event the verdict of the rules
    with one value each, OR-ed (those never take the set path). Returns how many verdicts matched."""
    hits = 0
    for name in SET_TARGETS:
        target = REGISTRY.get(name)
        try:
            whole = target.evaluator(compile_one(target, _rule(field, values), DEFAULT_PROFILE).query)
            singles = [target.evaluator(compile_one(target, _rule(field, [v]), DEFAULT_PROFILE).query) for v in values]
        except UnsupportedFeature:
            continue
        for value in docs:
            doc = target.shape(_event(field, value), DEFAULT_PROFILE)
            expected = any(single(doc) for single in singles)
            assert whole(doc) is expected, (name, values, value)
            hits += expected
    return hits


@settings(max_examples=25)
@given(
    field=st.sampled_from(["eventName", "resources.ARN"]),
    values=st.lists(st.text(st.sampled_from(TRICKY), min_size=1, max_size=6), min_size=2, max_size=4, unique=True),
    data=st.data(),
)
def test_a_value_list_gives_the_verdicts_of_its_values(field: str, values: list[str], data: st.DataObject) -> None:
    pool = [v.replace("\\", "") for value in values for v in _variants(value)] + ["ListKeys", ""]
    picked = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    docs: list[Any] = [*picked, picked] if field == "resources.ARN" else picked  # an array of them too
    assert_list_is_its_values(field, values, docs)


@pytest.mark.parametrize(
    ("values", "docs"),
    [
        (["DeleteKey", "CreateKey", "TagResource"], ["deletekey", "CREATEKEY", "TagResources", "\u212aey"]),
        (["key", "kms"], ["\u212aey", "KMS", "\u212aMS", "ke"]),
        (["ss", "is"], ["\u017f\u017f", "\u0131S", "\u0130s", "SS"]),
        (["a*b", "a\\*b", "c?d"], ["a*b", "aXb", "cxd", "c?d", "A*B"]),
        ([LONG, "short"], [LONG, LONG.upper(), "SHORT"]),
        (["ab\"c", "x'y", "p:q", "(r)", "s/t"], ["AB\"C", "x'Y", "P:Q", "(R)", "S/T"]),
    ],
    ids=["case-variants", "kelvin", "long-s-and-dotless-i", "wildcard-looking", "over-ignore-above", "escapes"],
)
def test_adversarial_value_lists(values: list[str], docs: list[str]) -> None:
    assert assert_list_is_its_values("eventName", values, docs) > 0
    assert_list_is_its_values("resources.ARN", values, [docs, *docs])


def test_lucene_folded_literal_reads_only_one_value_in_case_classes() -> None:
    assert folded_literal(r"[Kk][Mm][Ss]\.[Aa][Ww][Ss]:01") == "kms.aws:01"
    assert folded_literal(r"[Kk][Mm][Ss]\.amazonaws") is None  # a bare letter is case-sensitive
    assert folded_literal(r"[Kk][Mm]") == "km"
    assert folded_literal(r"[Kk][mM]") == "km"
    for other in (r"[Kk]x*", r"[Kx]", r"[A-Z]b", r"\k", r'"ab"', "a.b", "[Kk][Ss", "[kK]@", "a|b"):
        assert folded_literal(other) is None, other
    assert ascii_folded("K\u212aSſ") == "k\u212asſ"  # ASCII letters only


# --- no step grows faster than the list (counted, never timed) ------------------------------------


def _regex_compilations(monkeypatch: pytest.MonkeyPatch, work: Any) -> int:
    """How many regexes ``work`` compiles (``re``'s cache emptied first: a pattern met again is
    compiled once)."""
    count = 0
    compile_pattern = re._compiler.compile

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return compile_pattern(*args, **kwargs)

    re.purge()
    with monkeypatch.context() as patch:
        patch.setattr(re._compiler, "compile", counting)
        work()
    return count


@pytest.mark.parametrize("name", [*SET_TARGETS, "sigma"], ids=[*SET_TARGETS, "sigma"])
def test_a_longer_list_compiles_no_more_regexes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiling a rule and building its matcher compile as many regexes for 400 values as for 11:
    none per value (the evaluators' set lookups, the caveat checks' length tests)."""
    target = REGISTRY.get(name)
    counts = []
    for size in (10, 11, 400):  # the first warms what is built once (grammars, backends)
        rule = _rule("eventName", [f"BenchEvent{i:05d}" for i in range(size)])

        def work() -> None:
            target.evaluator(compile_one(target, rule, DEFAULT_PROFILE).query)  # noqa: B023 (called at once)

        counts.append(_regex_compilations(monkeypatch, work))
    assert counts[2] == counts[1]


def _python_calls(work: Any) -> int:
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


def test_fixture_coverage_grows_with_the_list_not_its_square() -> None:
    """Coverage of a list rule by a no-match case: every value is a leaf the case flips; the work
    (Python calls) for 4x the values is about 4x, where a re-evaluation per leaf would be 16x."""
    calls = []
    for size in (100, 400):
        rule = _rule("eventName", [f"BenchEvent{i:05d}" for i in range(size)])
        conditions = Conditions.of(rule)
        truths = [False] * len(conditions.leaves)
        calls.append(_python_calls(lambda: conditions.flips(truths)))  # noqa: B023 (called at once)
        assert conditions.flips(truths) == list(range(size))
    assert calls[1] < 6 * calls[0]


def _tree(draw: st.DrawFn, leaves: list[Any], depth: int = 0) -> Any:
    kind = draw(st.sampled_from(["leaf", "leaf", "and", "or", "not"] if depth < 4 else ["leaf"]))
    if kind == "leaf":
        node = ConditionFieldEqualsValueExpression(f"f{len(leaves)}", SigmaString("x"))
        leaves.append(node)
        return node
    if kind == "not":
        return ConditionNOT(args=[_tree(draw, leaves, depth + 1)])
    args = [_tree(draw, leaves, depth + 1) for _ in range(draw(st.integers(1, 3)))]
    return (ConditionAND if kind == "and" else ConditionOR)(args=args)


@st.composite
def condition_trees(draw: st.DrawFn) -> tuple[list[Any], list[bool]]:
    leaves: list[Any] = []
    trees = [_tree(draw, leaves) for _ in range(draw(st.integers(1, 2)))]
    return trees, draw(st.lists(st.booleans(), min_size=len(leaves), max_size=len(leaves)))


@given(condition_trees())
def test_one_pass_coverage_flips_what_flipping_each_leaf_flips(trees_truths: tuple[list[Any], list[bool]]) -> None:
    trees, truths = trees_truths
    conditions = Conditions(trees)
    matched = conditions.verdict(truths)
    expected = [] if matched else [i for i in range(len(truths)) if conditions.verdict(truths, frozenset({i}))]
    assert conditions.flips(truths) == expected


# --- the grouped forms each evaluator reads, with verdicts pinned ---------------------------------

ES_DOC = {
    "event": {"action": "DeleteKey"},
    "aws": {"cloudtrail": {"resources": [{"arn": "arn:one"}, {"arn": "ARN:Two"}], "read_only": False}},
    "source": {"ip": "192.0.2.10"},
    "user_agent": {"original": "A" * 1030},
}


@pytest.mark.parametrize(
    ("language", "query", "expected"),
    [
        ("lucene", "event.action:/[Cc][Rr]/ OR event.action:/[Dd][Ee][Ll][Ee][Tt][Ee][Kk][Ee][Yy]/", True),
        ("lucene", "event.action:/[Cc][Rr]/ OR event.action:/[Dd][Ee][Ll][Ee][Tt][Ee]Key/", True),  # a bare letter
        ("lucene", "event.action:/[Cc][Rr]/ OR event.action:/[Dd][Ee][Ll][Ee][Tt][Ee]KEY/", False),
        ("lucene", "event.action:(CreateKey OR \"DeleteKey\" OR Tag*)", True),
        ("lucene", "event.action:(CreateKey OR deletekey OR Tag*)", False),
        ("lucene", "NOT event.action:CreateKey AND NOT event.action:DeleteKey", False),
        ("lucene", "NOT event.action:CreateKey AND NOT event.action:TagResource", True),
        ("lucene", "aws.cloudtrail.resources.arn:/[Aa][Rr][Nn]:[Tt][Ww][Oo]/ OR aws.cloudtrail.resources.arn:x", True),
        ("lucene", "user_agent.original:/" + "[Aa]" * 1030 + "/ OR user_agent.original:b", False),  # over ignore_above
        ("lucene", "source.ip:192.0.2.0/24 OR source.ip:10.0.0.1", True),  # an ip field: one term each, CIDR read
        ("kql", 'event.action: ("CreateKey" or "DeleteKey" or Tag*)', True),
        ("kql", 'event.action: ("CreateKey" or "deletekey")', False),
        ("kql", 'not event.action: ("CreateKey" or "DeleteKey")', False),
        ("kql", 'aws.cloudtrail.resources.arn: ("arn:two" or "ARN:Two")', True),
        ("kql", 'aws.cloudtrail.read_only: (true or false)', True),  # a boolean field: one term each
        ("kql", 'source.ip: ("192.0.2.0/24" or "10.0.0.0/8")', True),
        ("eql", 'any where event.action : ("createkey", "DELETEKEY")', True),
        ("eql", 'any where event.action like ("createkey", "DELETEKEY")', False),
        ("eql", 'any where event.action like ("createkey", "DeleteKey")', True),
        ("eql", 'any where event.action : ("x", "Delete*")', True),
        ("eql", 'any where event.action in ("DELETEKEY", "x")', False),
        ("eql", 'any where event.action in~ ("DELETEKEY", "x")', True),
        ("eql", 'any where aws.cloudtrail.resources.arn in~ ("arn:TWO", "y")', True),
    ],
    ids=case_id,
)
def test_grouped_alternatives_answer_as_each_would(language: str, query: str, expected: bool) -> None:
    matcher = REGISTRY.get(language).evaluator(query)
    assert matcher(ES_DOC) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('eventName IN ("CreateKey", "deletekey")', True),
        ('eventName IN ("CreateKey", CASE(deletekey))', False),
        ('eventName IN ("CreateKey", CASE(DeleteKey))', True),
        ('eventName IN ("CreateKey", "Delete*")', True),
        ('sourceIPAddress IN ("10.0.0.0/8", "192.0.2.0/24")', True),
        ('userAgent IN ("\u212aey", "x")', True),  # the value holds KELVIN SIGN, the event k
        ('userAgent IN ("KEY", "x")', True),
        ('userAgent IN ("KE", "x")', False),
    ],
    ids=case_id,
)
def test_spl_in_list_answers_as_each_value_would(query: str, expected: bool) -> None:
    event = {"eventName": ("DeleteKey",), "sourceIPAddress": ("192.0.2.10",), "userAgent": ("key",)}
    assert REGISTRY.get("spl").evaluator(query)(event) is expected


@given(st.text(st.sampled_from(TRICKY + ["l", "L", "u", "n"]), max_size=6), st.sampled_from(["", "null", "NULL", "nu\u017f", "\u212aey", "key", "a*b", "is"]))
def test_value_fits_without_a_regex_agrees_with_the_regex(value: str, text: str) -> None:
    """The caveat checks' ``value_fits`` (does '' or 'null' satisfy a value) settles lengths and
    ASCII without a regex: the same answer as the regex of the value, case ignored."""
    sigma = SigmaString(value)
    expected = re.fullmatch(sigma_string_pattern(sigma, re.escape), text, re.IGNORECASE | re.DOTALL) is not None
    assert value_fits(sigma, text) is expected
