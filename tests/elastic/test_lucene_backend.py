"""The lucene target: upstream LuceneBackend, the ECS pipeline and case folding into Lucene regexes."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigma.types import SigmaRegularExpression

from backends.elastic.lucene_evaluator import LuceneEvaluator
from backends.elastic.lucene_regex import sigma_regex_to_lucene
from backends.elastic.target import LuceneTarget
from compiler.build import compile_one
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rule
from tests.support import SEED_RULE, SEED_TESTS, case_id

DS = "data_stream.dataset:aws.cloudtrail AND "
TARGET = LuceneTarget()

SEED_LUCENE = (
    "data_stream.dataset:aws.cloudtrail AND ((event.provider:/[Kk][Mm][Ss]\\.[Aa][Mm][Aa][Zz][Oo][Nn]"
    "[Aa][Ww][Ss]\\.[Cc][Oo][Mm]/ AND event.action:/[Dd][Ee][Ll][Ee][Tt][Ee][Ii][Mm][Pp][Oo][Rr][Tt][Ee][Dd]"
    "[Kk][Ee][Yy][Mm][Aa][Tt][Ee][Rr][Ii][Aa][Ll]/ AND (NOT _exists_:aws.cloudtrail.error_code)) AND "
    "(NOT aws.cloudtrail.user_identity.type:/[Aa][Ww][Ss][Ss][Ee][Rr][Vv][Ii][Cc][Ee]/))"
)


def lucene(rule_from, detection) -> str:
    return compile_one(TARGET, rule_from(detection), DEFAULT_PROFILE).query


def test_lucene_seed_rule_and_fixtures_without_waivers() -> None:
    compiled = compile_one(TARGET, load_rule(SEED_RULE), DEFAULT_PROFILE)
    assert compiled.query == SEED_LUCENE
    assert compiled.details == {"index": ["logs-aws.cloudtrail-*"], "language": "lucene"}
    match = TARGET.evaluator(compiled.query)
    cases = yaml.safe_load(SEED_TESTS.read_text())["cases"]
    for case in cases:
        assert "lucene" not in case.get("waive", {})
        got = match(TARGET.shape(case["event"], DEFAULT_PROFILE))
        assert got is (case["expect"] == "match"), case["name"]


@pytest.mark.parametrize(
    ("detection", "expected"),
    [
        ({"sel": {"eventName": "Stop"}, "condition": "sel"}, "event.action:/[Ss][Tt][Oo][Pp]/"),
        (
            {"sel": {"eventName": ["A", "b*"]}, "condition": "sel"},
            "(event.action:/[Aa]/ OR event.action:/[Bb].*/)",
        ),
        ({"sel": {"userAgent|contains": "a/b c"}, "condition": "sel"}, "user_agent.original:/.*[Aa]\\/[Bb] [Cc].*/"),
        ({"sel": {"userAgent|contains": 'q"1.?'}, "condition": "sel"}, 'user_agent.original:/.*[Qq]\\"1\\...*/'),
        ({"sel": {"userAgent": "1\t2"}, "condition": "sel"}, "user_agent.original:/1\t2/"),
        ({"sel": {"userAgent": "x?y"}, "condition": "sel"}, "user_agent.original:/[Xx].[Yy]/"),
        ({"sel": {"recipientAccountId": "123"}, "condition": "sel"}, "aws.cloudtrail.recipient_account_id:123"),
        ({"sel": {"recipientAccountId": "1 2"}, "condition": "sel"}, 'aws.cloudtrail.recipient_account_id:"1 2"'),
        ({"sel": {"eventName|cased": "DeleteKey"}, "condition": "sel"}, "event.action:DeleteKey"),
        ({"sel": {"sourceIPAddress|cidr": "10.0.0.0/8"}, "condition": "sel"}, "source.ip:10.0.0.0\\/8"),
        ({"sel": {"errorCode": None}, "condition": "sel"}, "(NOT _exists_:aws.cloudtrail.error_code)"),
        ({"sel": {"eventName|re": "^Delete.*Key$"}, "condition": "sel"}, "event.action:/Delete[^\n]*Key\n?/"),
        ({"sel": {"eventName|re|i": "delete"}, "condition": "sel"}, "event.action:/.*[Dd][Ee][Ll][Ee][Tt][Ee].*/"),
        ({"sel": ["Alice"], "condition": "sel"}, "/.*[Aa][Ll][Ii][Cc][Ee].*/"),
        ({"sel": {"readOnly": True}, "condition": "sel"}, "aws.cloudtrail.read_only:true"),
    ],
    ids=case_id,
)
def test_lucene_constructs(rule_from, detection, expected) -> None:
    query = lucene(rule_from, detection)
    assert query == DS + expected
    LuceneEvaluator(query)


WINDASH_F = (
    "user_agent.original:/.*-[Ff].*/ OR user_agent.original:/.*\\/[Ff].*/ OR user_agent.original:/.*–[Ff].*/ OR "
    "user_agent.original:/.*—[Ff].*/ OR user_agent.original:/.*―[Ff].*/"
)


@pytest.mark.parametrize(
    ("detection", "expected"),
    [
        (
            {"sel": {"eventName": "x", "userAgent|contains|windash": "-f"}, "condition": "sel"},
            f"(event.action:/[Xx]/ AND ({WINDASH_F}))",
        ),
        (
            {"sel": {"userAgent|contains|windash": ["-f", "/g"]}, "condition": "not sel"},
            f"(NOT (({WINDASH_F}) OR ({WINDASH_F.replace('[Ff]', '[Gg]')})))",
        ),
        ({"sel": {"userAgent|windash": "-1"}, "condition": "sel"}, "user_agent.original:(\\-1 OR \\/1 OR –1 OR —1 OR ―1)"),
    ],
    ids=["inside-and", "list-under-not", "no-letter"],
)
def test_lucene_windash_variants_are_case_folded_and_grouped(rule_from, detection, expected) -> None:
    """Each |windash variant is folded like any value (they once stayed exact terms, so '/F' missed
    '-f'), and their OR is grouped inside an AND (upstream ranks OR above AND)."""
    assert lucene(rule_from, detection) == DS + expected


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [("tool -F", True), ("tool /F x", True), ("TOOL ―f", True), ("tool f", False), ("tool _F", False)],
    ids=case_id,
)
def test_lucene_windash_matches_each_variant_in_any_case(rule_from, user_agent, expected) -> None:
    query = lucene(rule_from, {"sel": {"eventName": "x", "userAgent|contains|windash": "-f"}, "condition": "sel"})
    record = {"eventSource": "iam.amazonaws.com", "eventName": "X", "userAgent": user_agent}
    assert TARGET.evaluator(query)(TARGET.shape(record, DEFAULT_PROFILE)) is expected


@pytest.mark.parametrize(
    ("detection", "reason"),
    [
        ({"sel": {"eventName|re": "\\bDelete"}, "condition": "sel"}, "anchor"),
        ({"sel": {"eventName|re": "(a)\\1"}, "condition": "sel"}, "groupref"),
        ({"sel": {"eventName|re": "a(?=b)"}, "condition": "sel"}, "assert"),
        ({"sel": {"eventName|fieldref": "eventSource"}, "condition": "sel"}, "field references"),
        ({"sel": {"src_ip": "1.2.3.4"}, "condition": "sel"}, "field 'src_ip'"),
        ({"sel": {"userAgent|contains": "x" * 300}, "condition": "sel"}, "max_regex_length"),
    ],
    ids=case_id,
)
def test_lucene_unsupported(rule_from, detection, reason) -> None:
    with pytest.raises(UnsupportedFeature) as err:
        lucene(rule_from, detection)
    assert reason in err.value.message
    assert err.value.target == "lucene"


@pytest.mark.parametrize(
    ("regex", "inside", "outside"),
    [
        (r"^Del\d+$", ["Del42", "Del42\n"], ["Del", "xDel1", "Del1x"]),
        (r"a.c", ["xxabcxx"], ["a\nc"]),
        (r"(?s)a.c", ["a\nc"], ["ac"]),
        (r"[^a-c]z", ["dz"], ["az", "z"]),
        (r"x{2,3}", ["axxa"], ["axa"]),
        (r"(?i)KmS", ["kms", "xKMSx"], ["km"]),
        (r"ab|cd", ["zcd"], ["ac"]),
        (r"\w+@\S+", ["me@host"], ["@host"]),
        (r"\.exe\Z", ["a.exe"], ["a.exe\n", "aexe"]),
    ],
    ids=case_id,
)
def test_lucene_regex_translation_agrees_with_python(regex, inside, outside) -> None:
    import re

    lucene_regex, _ = sigma_regex_to_lucene(SigmaRegularExpression(regex))
    from backends.elastic.es_regexp import lucene_regexp

    compiled = lucene_regexp(lucene_regex)
    python = re.compile(regex)
    for text in inside:
        assert python.search(text) and compiled.fullmatch(text), text
    for text in outside:
        assert not python.search(text) and not compiled.fullmatch(text), text


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=25)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXT)
def test_lucene_any_compiled_value_matches_itself_in_any_case(rule_from, value: str) -> None:
    sigma_literal = value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")
    query = lucene(rule_from, {"sel": {"userAgent": sigma_literal}, "condition": "sel"})
    match = TARGET.evaluator(query)
    assert match(TARGET.shape({"userAgent": value}, DEFAULT_PROFILE))
    assert match(TARGET.shape({"userAgent": value.swapcase()}, DEFAULT_PROFILE)) is (
        len(value.swapcase()) == len(value) and all(
            a == b or a.lower() == b.lower() or a.upper() == b.upper() for a, b in zip(value, value.swapcase(), strict=True)
        )
    )
    assert not match(TARGET.shape({"userAgent": value + "x"}, DEFAULT_PROFILE))
