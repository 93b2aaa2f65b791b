"""The kql target: exact KQL for each Sigma construct, and clear refusals."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.elastic.kql_backend import quote_kql
from backends.elastic.kql_evaluator import KqlEvaluator
from backends.elastic.target import KqlTarget
from compiler.build import compile_one
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE, Profile
from compiler.rules import load_rule
from tests.support import SEED_RULE, case_id

DS = 'data_stream.dataset: "aws.cloudtrail"\n    and '
TARGET = KqlTarget()

SEED_KQL = (
    'data_stream.dataset: "aws.cloudtrail"\n'
    '    and event.provider: "kms.amazonaws.com"\n'
    '    and event.action: "DeleteImportedKeyMaterial"\n'
    "    and not aws.cloudtrail.error_code: *\n"
    '    and not aws.cloudtrail.user_identity.type: "AWSService"'
)


def kql(rule_from, detection, profile: Profile = DEFAULT_PROFILE) -> str:
    return compile_one(TARGET, rule_from(detection), profile).query


def test_kql_seed_rule() -> None:
    compiled = compile_one(TARGET, load_rule(SEED_RULE), DEFAULT_PROFILE)
    assert compiled.query == SEED_KQL
    assert compiled.details == {"index": ["logs-aws.cloudtrail-*"], "language": "kuery"}
    assert any(c.startswith("case: Kibana KQL") for c in compiled.caveats)


@pytest.mark.parametrize(
    ("detection", "expected"),
    [
        ({"sel": {"eventName": "StopLogging"}, "condition": "sel"}, 'event.action: "StopLogging"'),
        (
            {"sel": {"eventName": ["A", "B"]}, "condition": "sel"},
            'event.action: ("A" or "B")',
        ),
        ({"sel": {"userAgent|contains": "S3 Browser"}, "condition": "sel"}, "user_agent.original: *S3 Browser*"),
        ({"sel": {"userAgent|startswith": "aws-cli/"}, "condition": "sel"}, "user_agent.original: aws-cli/*"),
        ({"sel": {"userAgent|endswith": "(x)"}, "condition": "sel"}, "user_agent.original: *\\(x\\)"),
        (
            {"sel": {"userAgent|contains": 'a:b<c>d"e\\f{g}h'}, "condition": "sel"},
            'user_agent.original: *a\\:b\\<c\\>d\\"e\\\\f\\{g\\}h*',
        ),
        ({"sel": {"userAgent|contains": "cannot do this"}, "condition": "sel"}, "user_agent.original: *can\\u006eot do this*"),
        ({"sel": {"userAgent|contains": "this or that"}, "condition": "sel"}, "user_agent.original: *this \\or that*"),
        ({"sel": {"userAgent": 'say "hi" \\o/'}, "condition": "sel"}, 'user_agent.original: "say \\"hi\\" \\\\o/"'),
        ({"sel": {"userAgent": "a*b"}, "condition": "sel"}, "user_agent.original: a*b"),
        ({"sel": {"userAgent": "a\\*b"}, "condition": "sel"}, 'user_agent.original: "a*b"'),
        ({"sel": {"errorCode": None}, "condition": "sel"}, "not aws.cloudtrail.error_code: *"),
        ({"sel": {"errorCode": None}, "condition": "not sel"}, "aws.cloudtrail.error_code: *"),
        ({"sel": {"errorCode|exists": True}, "condition": "sel"}, "aws.cloudtrail.error_code: *"),
        ({"sel": {"errorCode|exists": False}, "condition": "sel"}, "not aws.cloudtrail.error_code: *"),
        ({"sel": {"sourceIPAddress|cidr": "10.0.0.0/8"}, "condition": "sel"}, 'source.ip: "10.0.0.0/8"'),
        ({"sel": {"sourceIPAddress": "192.0.2.1"}, "condition": "sel"}, 'source.address: "192.0.2.1"'),
        ({"sel": {"readOnly": False}, "condition": "sel"}, "aws.cloudtrail.read_only: false"),
        ({"sel": {"requestParameters.keyId": "k"}, "condition": "sel"}, 'aws.cloudtrail.flattened.request_parameters.keyId: "k"'),
        ({"sel": {"recipientAccountId": "1"}, "condition": "sel"}, 'aws.cloudtrail.recipient_account_id: "1"'),
        ({"sel": {"userIdentity.userName": "alice"}, "condition": "sel"}, 'user.name: "alice"'),
        ({"sel": {"eventName": "DeleteKey|cased"}, "condition": "sel"}, 'event.action: "DeleteKey|cased"'),
        ({"sel": {"eventName|cased": "DeleteKey"}, "condition": "sel"}, 'event.action: "DeleteKey"'),
        ({"sel": ["Alice"], "condition": "sel"}, "*Alice*"),
        (
            {"a": {"eventName": "x"}, "b": {"eventSource": "y"}, "c": {"awsRegion": "z"}, "condition": "a or (b and not c)"},
            '(event.action: "x" or event.provider: "y" and not cloud.region: "z")',
        ),
        (
            {"a": {"eventName": "x"}, "b": {"eventSource": "y"}, "condition": "(a or b) and not (a and b)"},
            '(event.action: "x" or event.provider: "y")\n    and not (event.action: "x" and event.provider: "y")',
        ),
        ({"a": {"eventName": "x"}, "condition": "not not a"}, 'not (not event.action: "x")'),
        (
            {"sel": {"requestParameters|contains|all": ["a", "b"]}, "condition": "sel"},
            "aws.cloudtrail.request_parameters: *a*\n    and aws.cloudtrail.request_parameters: *b*",
        ),
    ],
    ids=case_id,
)
def test_kql_constructs(rule_from, detection, expected) -> None:
    query = kql(rule_from, detection)
    assert query == DS + expected
    KqlEvaluator(query)  # every emitted query parses with the kuery grammar


@pytest.mark.parametrize(
    ("detection", "reason"),
    [
        ({"sel": {"eventName|re": "^Delete"}, "condition": "sel"}, "regular expression"),
        ({"sel": {"eventName": "Delete?ey"}, "condition": "sel"}, "single-character wildcard"),
        ({"sel": {"eventName|fieldref": "eventSource"}, "condition": "sel"}, "field reference"),
        ({"sel": {"requestParameters.days|gt": 7}, "condition": "sel"}, "compares text"),
        ({"sel": {"awsRegion|cidr": "10.0.0.0/8"}, "condition": "sel"}, "only sourceIPAddress"),
        ({"sel": {"src_ip": "1.2.3.4"}, "condition": "sel"}, "field 'src_ip'"),
        ({"sel": {"sharedEventID": "x"}, "condition": "sel"}, "sharedEventId"),
        ({"sel": {"eventTime": "x"}, "condition": "sel"}, "@timestamp"),
        ({"sel": {"userAgent|startswith": " x"}, "condition": "sel"}, "whitespace"),
    ],
    ids=case_id,
)
def test_kql_unsupported(rule_from, detection, reason) -> None:
    with pytest.raises(UnsupportedFeature) as err:
        kql(rule_from, detection)
    assert reason in err.value.message
    assert err.value.target == "kql"


def test_kql_unsupported_logsource(rule_from) -> None:
    rule = rule_from({"sel": {"Image": "x"}, "condition": "sel"}, logsource={"product": "linux", "category": "process_creation"})
    with pytest.raises(UnsupportedFeature, match="logsource linux/process_creation: detc has no definition of it"):
        compile_one(TARGET, rule, DEFAULT_PROFILE)


def test_kql_client_settings_and_field_renames(rule_from) -> None:
    profile = Profile(
        name="client",
        target_settings={"kql": {"index": ["client-cloudtrail-*"]}},
        field_mappings={"kql": {"event.action": "client.action"}},
    )
    compiled = compile_one(TARGET, rule_from({"sel": {"eventName": "X"}, "condition": "sel"}), profile)
    assert compiled.query == DS + 'client.action: "X"'
    assert compiled.details["index"] == ["client-cloudtrail-*"]
    doc = profile.rename_fields("kql", TARGET.shape({"eventName": "X"}, profile))
    assert TARGET.evaluator(compiled.query)(doc)


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_kql_any_quoted_literal_matches_itself_only(value: str) -> None:
    query = f"user_agent.original: {quote_kql(value)}"
    match = KqlEvaluator(query)
    assert match({"user_agent": {"original": value}})
    assert not match({"user_agent": {"original": value + "x"}})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXT.filter(lambda s: s.strip() == s and s != ""), TEXT.filter(lambda s: s.strip() == s and s != ""))
def test_kql_any_compiled_contains_matches_itself(rule_from, left: str, right: str) -> None:
    value = left + " " + right
    sigma_literal = value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")
    query = kql(rule_from, {"sel": {"userAgent|contains": sigma_literal}, "condition": "sel"})
    match = KqlEvaluator(query)
    doc = TARGET.shape({"userAgent": "<" + value + ">"}, DEFAULT_PROFILE)
    assert match(doc)
    assert not match(TARGET.shape({"userAgent": left + right}, DEFAULT_PROFILE))
