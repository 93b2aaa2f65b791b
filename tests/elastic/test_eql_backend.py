"""The eql target: upstream EqlBackend with the ECS pipeline, fixed where it means something else.

Each fix is pinned twice: what upstream (pySigma-backend-elasticsearch) writes, and what detc
writes with the verdict that differs. When upstream changes, the first assertion says so.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from sigma.backends.elasticsearch import EqlBackend
from sigma.collection import SigmaCollection

from backends.elastic.cloudtrail.pipeline import processing_pipeline
from backends.elastic.eql_backend import eql_field, eql_string
from backends.elastic.errors import ElasticUnsupported
from backends.elastic.target import EqlTarget
from compiler.build import compile_one
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rule
from compiler.target import load_registry
from tests.support import SEED_RULE, SEED_TESTS, rule_dict

TARGET = EqlTarget()
DS = 'any where data_stream.dataset : "aws.cloudtrail" and '

SEED_EQL = (
    'any where data_stream.dataset : "aws.cloudtrail" and ((event.provider : "kms.amazonaws.com" and '
    'event.action : "DeleteImportedKeyMaterial" and (?aws.cloudtrail.error_code == null)) and '
    '(not aws.cloudtrail.user_identity.type : "AWSService"))'
)


def eql(rule_from, detection: dict[str, Any]) -> str:
    return compile_one(TARGET, rule_from(detection), DEFAULT_PROFILE).query


def upstream(detection: dict[str, Any]) -> str:
    """What pySigma's own EqlBackend writes with the same pipeline."""
    rule = SigmaCollection.from_dicts([rule_dict(detection)])
    return EqlBackend(processing_pipeline=processing_pipeline({})).convert(rule)[0]


def verdict(query: str, record: dict[str, Any]) -> bool:
    return TARGET.evaluator(query)(TARGET.shape(record, DEFAULT_PROFILE))


def test_eql_seed_rule_and_fixtures_without_waivers() -> None:
    compiled = compile_one(TARGET, load_rule(SEED_RULE), DEFAULT_PROFILE)
    assert compiled.query == SEED_EQL
    assert compiled.details == {"index": ["logs-aws.cloudtrail-*"], "language": "eql"}
    # what Elastic's storage does to the seed's fields (ingest drops, ignore_above), as on kql; no case caveat
    kql = compile_one(load_registry().get("kql"), load_rule(SEED_RULE), DEFAULT_PROFILE)
    assert compiled.caveats == tuple(c for c in kql.caveats if "case" not in c.lower())
    assert not any("case" in c.lower() for c in compiled.caveats)
    match = TARGET.evaluator(compiled.query)
    cases = yaml.safe_load(SEED_TESTS.read_text())["cases"]
    assert any("kql" in case.get("waive", {}) for case in cases)  # the case-only cases are there
    for case in cases:
        assert "eql" not in case.get("waive", {})
        got = match(TARGET.shape(case["event"], DEFAULT_PROFILE))
        assert got is (case["expect"] == "match"), case["name"]


FIXES = [
    # (detection, upstream's query, detc's condition, a record, Sigma's verdict on it)
    pytest.param(
        {"sel": {"eventName|re": "^Delete"}, "condition": "sel"},
        'event.action regex~ "^Delete"',
        'event.action regex "Delete.*"',
        {"eventName": "deleteKey"}, False,  # |re is case-sensitive; Lucene's regex is anchored
        id="re-is-case-sensitive-and-lucene-anchored",
    ),
    pytest.param(
        {"sel": {"eventName|re": "Key$"}, "condition": "sel"},
        'event.action regex~ "Key$"',
        'event.action regex ".*Key\\n?"',
        {"eventName": "DeleteKey"}, True,  # unanchored at the start in Sigma; $ is no anchor in Lucene
        id="re-unanchored-start",
    ),
    pytest.param(
        {"sel": {"eventName": "Get\\*"}, "condition": "sel"},
        'event.action:"Get\\*"',  # and \* is no EQL escape: Elastic's parser rejects it
        'event.action regex "[Gg][Ee][Tt]\\\\*"',
        {"eventName": "GetKey"}, False,  # a literal *: no escape exists in a : pattern
        id="literal-asterisk",
    ),
    pytest.param(
        {"sel": {"eventName|cased": "Delete*"}, "condition": "sel"},
        'event.action == "Delete*"',
        'event.action like "Delete*"',
        {"eventName": "DeleteKey"}, True,  # == has no wildcards
        id="cased-wildcard",
    ),
    pytest.param(
        {"sel": {"userAgent": "a\tb"}, "condition": "sel"},
        'user_agent.original:"a\\\tb"',
        'user_agent.original : "a\\tb"',
        {"userAgent": "A\tB"}, True,  # a backslash before a raw tab is no EQL escape
        id="tab-escape",
    ),
    pytest.param(
        {"sel": {"sourceIPAddress": "2001:DB8::1"}, "condition": "sel"},
        'source.address=="2001:DB8::1"',
        'source.address : "2001:DB8::1"',
        {"sourceIPAddress": "2001:db8::1"}, True,  # Sigma compares case-insensitively
        id="ip-looking-value",
    ),
    pytest.param(
        {"sel": {"readOnly": True}, "condition": "sel"},
        "aws.cloudtrail.read_only:true",
        "aws.cloudtrail.read_only == true",
        {"readOnly": True}, True,  # : compares strings only
        id="boolean",
    ),
    pytest.param(
        {"sel": {"recipientAccountId": 111122223333}, "condition": "sel"},
        "aws.cloudtrail.recipient_account_id:111122223333",
        'aws.cloudtrail.recipient_account_id : "111122223333"',
        {"recipientAccountId": "111122223333"}, True,  # : compares strings; Sigma compares the number's text
        id="number",
    ),
    pytest.param(
        {"sel": {"eventName": "été"}, "condition": "sel"},
        'event.action:"été"',
        'event.action regex "[Éé][Tt][Éé]"',
        {"eventName": "ÉTÉ"}, True,  # Elasticsearch folds ASCII letters only
        id="letter-outside-ascii",
    ),
]


@pytest.mark.parametrize(("detection", "theirs", "ours", "record", "sigma"), FIXES, ids=[p.id for p in FIXES])
def test_eql_fixes_upstream(rule_from, detection, theirs, ours, record, sigma) -> None:
    assert upstream(detection) == f'any where data_stream.dataset:"aws.cloudtrail" and {theirs}'
    query = eql(rule_from, detection)
    assert query == DS + ours
    assert verdict(query, record) is sigma


def test_eql_exists_upstream_cannot(rule_from) -> None:
    with pytest.raises(NotImplementedError, match="exists"):
        upstream({"sel": {"errorCode|exists": True}, "condition": "sel"})
    present = eql(rule_from, {"sel": {"errorCode|exists": True}, "condition": "sel"})
    absent = eql(rule_from, {"sel": {"errorCode|exists": False}, "condition": "sel"})
    assert present == DS + "?aws.cloudtrail.error_code != null"
    assert absent == DS + "?aws.cloudtrail.error_code == null"
    assert verdict(present, {"errorCode": "X"}) and not verdict(absent, {"errorCode": "X"})


def test_eql_keywords_upstream_writes_a_bare_string(rule_from) -> None:
    assert upstream({"sel": ["stratus"], "condition": "sel"}).endswith(' and "stratus"')
    with pytest.raises(UnsupportedFeature, match="keyword .*no free-text search"):
        eql(rule_from, {"sel": ["stratus"], "condition": "sel"})


@pytest.mark.parametrize(
    ("detection", "expected"),
    [
        ({"sel": {"eventName": ["A", "b*", "c?d"]}, "condition": "sel"}, '(event.action : ("A", "b*", "c?d"))'),
        ({"sel": {"eventName": ["A", "b\\*"]}, "condition": "sel"}, '(event.action : "A" or event.action regex "[Bb]\\\\*")'),
        ({"sel": {"eventName|contains|all": ["a", "b"]}, "condition": "sel"}, '(event.action : "*a*" and event.action : "*b*")'),
        ({"sel": {"eventName|cased": "DeleteKey"}, "condition": "sel"}, 'event.action == "DeleteKey"'),
        ({"sel": {"eventName|cased": "Get\\*"}, "condition": "sel"}, 'event.action == "Get*"'),  # == has no wildcards
        ({"sel": {"eventName|cased": "Get\\**"}, "condition": "sel"}, 'event.action regex "Get\\\\*.*"'),
        ({"sel": {"errorCode": None}, "condition": "not sel"}, "?aws.cloudtrail.error_code != null"),
        ({"sel": {"sourceIPAddress|cidr": "10.0.0.0/8"}, "condition": "sel"}, 'cidrMatch(source.ip, "10.0.0.0/8")'),
        ({"sel": {"userAgent": 'x"y\\z'}, "condition": "sel"}, 'user_agent.original : "x\\"y\\\\z"'),
        ({"sel": {"readOnly": "False"}, "condition": "sel"}, "aws.cloudtrail.read_only == false"),
        (
            {"a": {"eventName": "x"}, "b": {"eventSource": "y"}, "c": {"awsRegion": "z"}, "condition": "a or b and not c"},
            '(event.action : "x" or (event.provider : "y" and (not cloud.region : "z")))',
        ),
    ],
    ids=["list", "list-with-literal-star", "all", "cased", "cased-literal-star", "cased-literal-star-and-wildcard", "not-null", "cidr", "escapes",
         "boolean-string", "precedence"],
)
def test_eql_compiles(rule_from, detection, expected) -> None:
    assert eql(rule_from, detection) == DS + expected


@pytest.mark.parametrize(
    ("detection", "reason"),
    [
        ({"sel": {"userIdentity.arn|fieldref": "requestParameters.userName"}, "condition": "sel"}, "field reference"),
        ({"sel": {"readOnly": "maybe"}, "condition": "sel"}, "boolean field"),
        ({"sel": {"requestParameters.keyId": "x"}, "condition": "sel"}, "cannot query fields of type flattened"),
        ({"sel": {"eventName|re": "a(?=b)"}, "condition": "sel"}, "Lucene regexes have no such construct"),
        ({"sel": {"eventName|contains": "é" * 400}, "condition": "sel"}, "max_regex_length"),
    ],
    ids=["fieldref", "boolean", "flattened", "lookahead", "regex-length"],
)
def test_eql_unsupported(rule_from, detection, reason) -> None:
    with pytest.raises(UnsupportedFeature, match=reason) as err:
        eql(rule_from, detection)
    assert err.value.target == "eql"


@pytest.mark.parametrize(
    ("name", "theirs", "written"),
    [("event.action", "event.action", "event.action"), ("@timestamp", "@timestamp", "`@timestamp`"),
     ("a.0b", "a.0b", "a.`0b`"), ("a.and", "a.and", "a.`and`"), ("a.b-c", "a.b-c", "a.`b-c`"),
     ("a.b c", "`a.b c`", "a.`b c`")],
    ids=["plain", "at", "digit", "keyword", "hyphen", "space"],
)
def test_eql_field_names(name: str, theirs: str, written: str) -> None:
    assert EqlBackend(processing_pipeline=processing_pipeline({})).escape_and_quote_field(name) == theirs
    assert eql_field(name) == written
    assert TARGET.evaluator(f"any where ?{written} == null")({}) is True  # Elastic's parser accepts it


def test_eql_field_name_with_a_backtick_has_no_spelling() -> None:
    with pytest.raises(ElasticUnsupported, match="cannot be written in EQL"):
        eql_field("a.b`c")


def test_eql_strings_read_back() -> None:
    from backends.elastic.eql_evaluator import string_value

    text = 'q"\\\t\n\r\x01é*?'
    assert string_value(eql_string(text)) == text


def test_eql_event_category_comes_from_the_cell(rule_from) -> None:
    from types import SimpleNamespace

    rule = rule_from({"sel": {"eventName": "x"}, "condition": "sel"})
    process = SimpleNamespace(storage=SimpleNamespace(eql_event_category=lambda logsource: "process"))
    assert TARGET._query('a : "x"', process, rule) == 'process where a : "x"'
    assert TARGET._query('a : "x"', SimpleNamespace(storage=SimpleNamespace()), rule) == 'any where a : "x"'


def test_eql_is_held_to_the_properties_without_a_case_allowance(rule_from) -> None:
    """The Hypothesis properties (tests/test_properties.py) run every registered target and allow a
    case difference only where the artifact states a case caveat; eql is registered and states none."""
    from compiler.target import load_registry

    assert "eql" in load_registry().targets
    for detection in (
        {"sel": {"eventName|contains": "Key", "eventSource|re": "(?i)KMS"}, "condition": "sel"},
        {"sel": {"eventName": ["Dis?ble*", "été"], "userAgent|cased": "aws-cli*"}, "condition": "not sel"},
    ):
        caveats = compile_one(TARGET, rule_from(detection), DEFAULT_PROFILE).caveats
        assert not any("case" in c.lower() for c in caveats), caveats


@pytest.mark.parametrize(
    "detection",
    [
        {"sel": {"eventName|re": "^(Delete|Disable)Key$"}, "condition": "sel"},
        {"sel": {"eventName": "D?sableKey"}, "condition": "sel"},
        {"sel": {"eventName|startswith": "delete", "eventSource": "KMS.amazonaws.com"}, "condition": "sel"},
        {"sel": {"userIdentity.type": "awsservice"}, "condition": "not sel"},
    ],
    ids=["regex", "single-wildcard", "odd-case", "odd-case-under-not"],
)
def test_eql_says_what_kql_cannot(rule_from, detection) -> None:
    """The constructs kql refuses or caveats (regex, ?, letter case) compile on eql without a
    caveat and give the reference's verdict on every record, whatever its letter case."""
    from compiler.errors import UnsupportedFeature as Unsupported
    from compiler.target import load_registry

    registry = load_registry()
    rule = rule_from(detection)
    try:
        kql = compile_one(registry.get("kql"), rule, DEFAULT_PROFILE)
        assert any("case" in c for c in kql.caveats)
    except Unsupported:
        pass
    compiled = compile_one(TARGET, rule, DEFAULT_PROFILE)
    assert not any("case" in c.lower() or "regex" in c.lower() for c in compiled.caveats), compiled.caveats
    reference = registry.get("sigma")
    judge = reference.evaluator(compile_one(reference, rule, DEFAULT_PROFILE).query)
    ours = TARGET.evaluator(compiled.query)
    verdicts = set()
    for name in ("DeleteKey", "deletekey", "DISABLEKEY", "DisableKey", "DeleteAlias", "Dis-bleKey"):
        for source, kind in (("kms.amazonaws.com", "AWSService"), ("KMS.AMAZONAWS.COM", "IAMUser")):
            record = {"eventSource": source, "eventName": name, "userIdentity": {"type": kind}}
            expected = judge(reference.shape(record, DEFAULT_PROFILE))
            assert ours(TARGET.shape(record, DEFAULT_PROFILE)) == expected, (record, compiled.query)
            verdicts.add(bool(expected))
    assert verdicts == {True, False}


def test_eql_wildcard_value_holding_u0001_is_a_regex(rule_from) -> None:
    """Elasticsearch would read U+0001 in a wildcard ``:`` value as its LIKE escape."""
    query = eql(rule_from, {"sel": {"userAgent|contains": "a\x01b"}, "condition": "sel"})
    assert query == DS + 'user_agent.original regex ".*[Aa]\x01[Bb].*"'
    assert verdict(query, {"userAgent": "xA\x01By"}) and not verdict(query, {"userAgent": "xAby"})
    assert eql(rule_from, {"sel": {"userAgent": "a\x01b"}, "condition": "sel"}) == DS + 'user_agent.original : "a\x01b"'
