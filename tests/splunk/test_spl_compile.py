"""Compiling rules to SPL: the exact seed search, the pipeline's decisions, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.splunk.target import SplTarget
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE, Profile
from compiler.rules import load_rule
from tests.support import SEED_RULE

SPL = SplTarget()

SEED_SEARCH = (
    'index="aws" sourcetype="aws:cloudtrail" eventSource="kms.amazonaws.com" '
    'eventName="DeleteImportedKeyMaterial" '
    'errorCode="success" OR (errorCode="failure" responseElements.ConsoleLogin="Failure") '
    'NOT userIdentity.type="AWSService" '
    "| table _time,userName,userAgent,sourceIPAddress,userIdentity.arn,userIdentity.type,"
    "userIdentity.accessKeyId,resources{}.ARN,resources{}.type,eventName,errorCode,recipientAccountId,"
    "awsRegion,requestParameters.*,responseElements.*"
)


def query(rule_from, detection: dict, profile: Profile = DEFAULT_PROFILE, **extra) -> str:
    return SPL.compile(rule_from(detection, **extra), profile).query


def test_seed_search_is_exact():
    compiled = SPL.compile(load_rule(SEED_RULE), DEFAULT_PROFILE)
    assert compiled.query == SEED_SEARCH
    assert compiled.caveats == ()
    assert compiled.details["index"] == "aws"


def test_no_error_code_compiles_to_what_the_add_on_fills_in(rule_from):
    base = 'index="aws" sourcetype="aws:cloudtrail" '
    filled = 'errorCode="success" OR (errorCode="failure" responseElements.ConsoleLogin="Failure")'
    assert query(rule_from, {"sel": {"errorCode": None}, "condition": "sel"}) == base + filled
    assert query(rule_from, {"sel": {"errorCode|exists": False}, "condition": "sel"}) == base + filled
    assert query(rule_from, {"sel": {"errorCode": None}, "condition": "not sel"}) == (
        base + f"NOT ({filled})"
    )
    assert query(rule_from, {"sel": {"errorCode": "AccessDenied"}, "condition": "sel"}) == (
        base + 'errorCode="AccessDenied"'
    )


def test_error_code_values_the_add_on_could_have_filled_carry_a_caveat(rule_from):
    compiled = SPL.compile(rule_from({"sel": {"errorCode": "Success"}, "condition": "sel"}), DEFAULT_PROFILE)
    assert compiled.query.endswith('errorCode="Success"')
    assert any("'success'/'failure'" in c for c in compiled.caveats)


@pytest.mark.parametrize(
    ("detection", "message"),
    [
        ({"sel": {"errorCode|exists": True}, "condition": "sel"}, "fills errorCode on every"),
        ({"sel": {"errorCode|contains": "*"}, "condition": "not sel"}, "errorCode"),
        ({"sel": {"errorCode": "Succ*"}, "condition": "not sel"}, "under NOT would also exclude the calls without"),
        ({"sel": {"requestParameters|contains": "x"}, "condition": "sel"}, "requestParameters: a CloudTrail JSON object"),
        ({"sel": {"userIdentity": "x"}, "condition": "sel"}, "userIdentity: a CloudTrail JSON object"),
    ],
    ids=["exists-true", "error-code-star", "error-code-negated-filled", "object-field", "object-field-2"],
)
def test_unsupported_constructs_name_themselves(rule_from, detection: dict, message: str):
    with pytest.raises(UnsupportedFeature, match=message) as info:
        SPL.compile(rule_from(detection), DEFAULT_PROFILE)
    assert info.value.target == "spl"


@pytest.mark.parametrize(
    ("detection", "expected"),
    [
        ({"sel": {"eventName": "X?", "userAgent|fieldref": "eventName"}, "condition": "sel"},
         "(isnotnull('eventName') AND match('eventName', \"(?is)^X.$\")) AND (isnotnull('userAgent') AND "
         "isnotnull('eventName') AND lower('userAgent') == lower('eventName'))"),
        ({"a": {"userAgent|fieldref": "eventName"}, "b": {"awsRegion": "1"}, "condition": "a or b"},
         "(isnotnull('userAgent') AND isnotnull('eventName') AND lower('userAgent') == lower('eventName')) OR "
         "(isnotnull('awsRegion') AND match('awsRegion', \"(?is)^1$\"))"),
    ],
    ids=["with-a-where-construct", "under-or"],
)
def test_field_references_compare_ignoring_case_in_where(rule_from, detection: dict, expected: str):
    assert query(rule_from, detection) == 'index="aws" sourcetype="aws:cloudtrail"\n| where ' + expected


def test_other_logsources_are_unsupported(rule_from):
    rule = rule_from({"sel": {"a": "b"}, "condition": "sel"}, logsource={"product": "windows"})
    with pytest.raises(UnsupportedFeature, match="logsource"):
        SPL.compile(rule, DEFAULT_PROFILE)


def test_array_paths_get_braces_and_stay_unquoted(rule_from):
    q = query(rule_from, {"sel": {"resources.ARN|endswith": ":key/x", "requestParameters.layers": "l"}, "condition": "sel"})
    assert 'resources{}.ARN="*:key/x"' in q
    assert 'requestParameters.layers{}="l"' in q


def test_fields_become_a_table_with_add_on_names_and_the_risk_object(rule_from):
    q = query(rule_from, {"sel": {"eventName": "X"}, "condition": "sel"}, fields=["eventName", "resources.ARN"])
    assert q.endswith("| table eventName,resources{}.ARN,userIdentity.arn")
    assert "| table" not in query(rule_from, {"sel": {"eventName": "X"}, "condition": "sel"})


WHERE_BASE = 'index="aws" sourcetype="aws:cloudtrail"\n| where '


def test_literal_asterisk_is_matched_exactly_in_a_where_command(rule_from):
    compiled = SPL.compile(rule_from({"sel": {"userIdentity.arn": "a\\*b"}, "condition": "sel"}), DEFAULT_PROFILE)
    assert compiled.query == WHERE_BASE + """(isnotnull('userIdentity.arn') AND match('userIdentity.arn', "(?is)^a\\\\*b$"))"""
    assert compiled.caveats == ()
    match = SPL.evaluator(compiled.query)
    assert match(SPL.shape({"userIdentity": {"arn": "A*B"}}, DEFAULT_PROFILE))
    assert not match(SPL.shape({"userIdentity": {"arn": "axxb"}}, DEFAULT_PROFILE))


def test_negated_literal_asterisk_keeps_events_without_the_field(rule_from):
    compiled = SPL.compile(rule_from({"sel": {"userAgent": "a\\*b"}, "condition": "not sel"}), DEFAULT_PROFILE)
    match = SPL.evaluator(compiled.query)
    assert match(SPL.shape({"eventName": "X"}, DEFAULT_PROFILE))  # no userAgent: Sigma's NOT matches
    assert match(SPL.shape({"userAgent": "axb"}, DEFAULT_PROFILE))
    assert not match(SPL.shape({"userAgent": "a*b"}, DEFAULT_PROFILE))


def test_single_character_wildcard_is_one_character(rule_from):
    compiled = SPL.compile(rule_from({"sel": {"eventName": "Get?"}, "condition": "sel"}), DEFAULT_PROFILE)
    assert compiled.query == WHERE_BASE + """(isnotnull('eventName') AND match('eventName', "(?is)^Get.$"))"""
    match = SPL.evaluator(compiled.query)
    assert match(SPL.shape({"eventName": "getx"}, DEFAULT_PROFILE))
    assert not match(SPL.shape({"eventName": "GetKey"}, DEFAULT_PROFILE))


def test_regex_anywhere_in_the_condition_is_exact(rule_from):
    q = query(rule_from, {"sel": {"eventName": "X", "userAgent|re": '^aws-cli/\\d+ "q"'}, "condition": "sel"})
    assert q == WHERE_BASE.replace("\n", ' eventName="X"\n') + (
        """(isnotnull('eventName') AND match('eventName', "(?is)^X$")) AND """
        """(isnotnull('userAgent') AND match('userAgent', "^aws-cli/\\\\d+ \\"q\\""))"""
    )
    # upstream's rex/eval form dropped the left operand of an OR; the where form keeps it
    rule = rule_from({"a": {"userAgent|re": "^a"}, "b": {"eventName": "X"}, "condition": "b or not a"})
    match = SPL.evaluator(SPL.compile(rule, DEFAULT_PROFILE).query)
    assert match(SPL.shape({"eventName": "X", "userAgent": "abc"}, DEFAULT_PROFILE))
    assert match(SPL.shape({"eventName": "Y", "userAgent": "bcd"}, DEFAULT_PROFILE))
    assert not match(SPL.shape({"eventName": "Y", "userAgent": "abc"}, DEFAULT_PROFILE))


def test_cased_is_case_sensitive(rule_from):
    compiled = SPL.compile(rule_from({"sel": {"eventName|cased": "DeleteKey"}, "condition": "sel"}), DEFAULT_PROFILE)
    match = SPL.evaluator(compiled.query)
    assert match(SPL.shape({"eventName": "DeleteKey"}, DEFAULT_PROFILE))
    assert not match(SPL.shape({"eventName": "deletekey"}, DEFAULT_PROFILE))


def test_profile_overrides_index_and_mappings(rule_from):
    profile = Profile(
        name="client",
        target_settings={"spl": {"index": "client_ct", "risk_object_field": "user"}},
        field_mappings={"spl": {"eventName": "signature"}},
    )
    compiled = SPL.compile(rule_from({"sel": {"eventName": "X"}, "condition": "sel"}), profile)
    assert compiled.query == 'index="client_ct" sourcetype="aws:cloudtrail" signature="X"'
    assert compiled.details["risk_object_field"] == "user"
    assert SPL.shape({"eventName": "X"}, profile)["index"] == ("client_ct",)


def test_compiling_twice_gives_the_same_text(rule_from):
    rule = rule_from({"a": {"userAgent|re": "1"}, "b": {"eventName|re": "2"}, "condition": "a or b"})
    first = SPL.compile(rule, DEFAULT_PROFILE).query
    assert SPL.compile(rule, DEFAULT_PROFILE).query == first  # upstream's class-level regex counter is reset


VALUE = st.text(
    # printable ASCII but the wildcards, and letters whose case folds one to one
    alphabet=st.sampled_from([chr(c) for c in range(32, 127) if chr(c) not in "*?"] + list("äÖéÆøЖж日本")),
    min_size=1,
    max_size=24,
).filter(lambda s: s == s.strip() and not s.endswith("\\"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=VALUE, other=VALUE)
def test_any_literal_compiled_and_evaluated_matches_itself(rule_from, value: str, other: str):
    sigma_literal = value.replace("\\", "\\\\")  # in Sigma a backslash escapes \\, * and ?
    rule = rule_from({"sel": {"userAgent": sigma_literal}, "condition": "sel"})
    compiled = SPL.compile(rule, DEFAULT_PROFILE)
    matcher = SPL.evaluator(compiled.query)
    assert matcher(SPL.shape({"userAgent": value}, DEFAULT_PROFILE))
    assert matcher(SPL.shape({"userAgent": value.swapcase()}, DEFAULT_PROFILE))
    if other.lower() != value.lower():
        assert not matcher(SPL.shape({"userAgent": other}, DEFAULT_PROFILE))


def test_where_form_keeps_plain_positive_conjuncts_in_the_base_search(rule_from):
    rule = rule_from({"sel": {"eventSource": "kms.amazonaws.com", "eventName": ["A", "B"], "userAgent": "x?"},
                      "f": {"awsRegion": "us-east-1"}, "condition": "sel and not f"})
    first_line = SPL.compile(rule, DEFAULT_PROFILE).query.splitlines()[0]
    assert first_line == 'index="aws" sourcetype="aws:cloudtrail" eventSource="kms.amazonaws.com" (eventName="A" OR eventName="B")'
    negated = rule_from({"sel": {"eventName": "A", "userAgent": "x?"}, "condition": "not sel"})
    assert SPL.compile(negated, DEFAULT_PROFILE).query.splitlines()[0] == 'index="aws" sourcetype="aws:cloudtrail"'


def test_base_search_terms_keep_literal_question_marks_and_backslashes(rule_from):
    rule = rule_from({"sel": {"userAgent": "a\\?b\\\\c", "eventName": "X*\\*"}, "condition": "sel"})
    compiled = SPL.compile(rule, DEFAULT_PROFILE)
    assert compiled.query.splitlines()[0] == 'index="aws" sourcetype="aws:cloudtrail" userAgent="a?b\\\\c"'
    assert SPL.evaluator(compiled.query)(SPL.shape({"userAgent": "a?b\\c", "eventName": "xy*"}, DEFAULT_PROFILE))


BASE = 'index="aws" sourcetype="aws:cloudtrail" '


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("requestParameters.ipPermissions.items.ipv6Ranges.items.cidrIpv6",
         "requestParameters.ipPermissions.items{}.ipv6Ranges.items{}.cidrIpv6"),
        ("requestParameters.createVolumePermission.add.items.userId",
         "requestParameters.createVolumePermission.add.items{}.userId"),
        ("requestParameters.trailNameList", "requestParameters.trailNameList{}"),
        ("resources.ARN", "resources{}.ARN"),
        ("requestParameters.containerDefinitions.command", "requestParameters.containerDefinitions{}.command{}"),
        ("userIdentity.sessionContext.sessionIssuer.userName", "userIdentity.sessionContext.sessionIssuer.userName"),
    ],
    ids=["ipv6-ranges", "volume-permission", "trail-name-list", "resources", "documented-ecs", "scalar-path"],
)
def test_spl_names_every_array_on_a_path(rule_from, field: str, name: str):
    assert query(rule_from, {"sel": {field: "v1"}, "condition": "sel"}) == f'{BASE}{name}="v1"'


def test_spl_array_paths_match_the_records_they_came_from(rule_from):
    """The derived name finds the value in a real-shaped record (the evaluator reads the shaped event)."""
    rule = rule_from({"sel": {"requestParameters.trailNameList": "prod-trail"}, "condition": "sel"})
    matcher = SPL.evaluator(SPL.compile(rule, DEFAULT_PROFILE).query)
    record = {"eventSource": "cloudtrail.amazonaws.com", "eventName": "DescribeTrails",
              "requestParameters": {"trailNameList": ["dev-trail", "prod-trail"]}}
    assert matcher(SPL.shape(record, DEFAULT_PROFILE))
    record["requestParameters"]["trailNameList"] = ["dev-trail"]
    assert not matcher(SPL.shape(record, DEFAULT_PROFILE))


@pytest.mark.parametrize(
    ("detection", "message"),
    [
        ({"sel": {"status": "success"}, "condition": "sel"},
         "spl: status: no CloudTrail record or API reference detc knows shows this path, so whether it crosses "
         "an array (which Splunk's JSON extraction names with {}) is unknown"),
        ({"sel": {"requestParameters.noSuch.items.thing": "x"}, "condition": "sel"},
         "spl: requestParameters.noSuch.items.thing: no CloudTrail record or API reference detc knows shows this "
         "path, so whether it crosses an array (which Splunk's JSON extraction names with {}) is unknown"),
        ({"sel": {"eventName": "X"}, "keywords": ["tratus-red"], "condition": "sel and keywords"},
         "spl: keywords: a Splunk search term matches whole segments between breakers, Sigma keywords match "
         "anywhere inside a value (tratus-red in stratus-red-team), and _raw also holds the JSON keys"),
        ({"keywords": [42], "condition": "keywords"},
         "spl: keywords: a Splunk search term matches whole segments between breakers, Sigma keywords match "
         "anywhere inside a value (tratus-red in stratus-red-team), and _raw also holds the JSON keys"),
        ({"sel": {"requestParameters.ipPermissions": "x"}, "condition": "sel"},
         "spl: requestParameters.ipPermissions: a CloudTrail JSON object is not a Splunk field"),
    ],
    ids=["unknown-top-level", "unknown-nested", "keyword", "keyword-number", "object-from-records"],
)
def test_spl_refuses_what_it_cannot_name_or_search_exactly(rule_from, detection: dict, message: str):
    with pytest.raises(UnsupportedFeature) as info:
        SPL.compile(rule_from(detection), DEFAULT_PROFILE)
    assert str(info.value).startswith(message)


JSON_NULL = (
    "userAgent: null also matches the text 'null' in any letter form, which Splunk's JSON extraction gives a field "
    "present as JSON null, so the search is wider (under NOT it also leaves out a record holding that text)"
)


@pytest.mark.parametrize(
    ("condition", "expected", "verdicts"),
    [
        ("sel and f", 'eventName="DescribeKey" NOT userAgent=* OR userAgent="null"', (True, False, True)),
        ("sel and not f", 'eventName="DescribeKey" NOT (NOT userAgent=* OR userAgent="null")', (False, True, False)),
    ],
    ids=["null", "not-null"],
)
def test_spl_null_covers_a_field_present_as_json_null(rule_from, condition, expected, verdicts):
    """Sigma's null is absent or JSON null; Splunk's JSON extraction gives JSON null the text null."""
    from compiler.target import load_registry

    rule = rule_from({"sel": {"eventName": "DescribeKey"}, "f": {"userAgent": None}, "condition": condition})
    compiled = SPL.compile(rule, DEFAULT_PROFILE)
    assert compiled.query == BASE + expected
    assert compiled.caveats == (JSON_NULL,)
    matcher = SPL.evaluator(compiled.query)
    reference = load_registry().get("sigma")
    judge = reference.evaluator(reference.compile(rule, DEFAULT_PROFILE).query)
    record = {"eventSource": "kms.amazonaws.com", "eventName": "DescribeKey"}
    for value, verdict in zip((None, "aws-cli/2", "absent"), verdicts, strict=True):
        event = dict(record) if value == "absent" else {**record, "userAgent": value}
        assert matcher(SPL.shape(event, DEFAULT_PROFILE)) is verdict, value
        assert judge(event) is verdict, value


def test_a_regex_never_touches_upstreams_class_level_state(rule_from):
    """Upstream defers an OR-ed regex to ``| rex`` with counts kept on the class, shared by every
    conversion; detc writes regexes in the where form, and the search form refuses one outright."""
    from sigma.backends.splunk.splunk import SplunkDeferredORRegularExpression
    from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
    from sigma.processing.pipeline import ProcessingPipeline

    from backends.splunk.spl_backend import SplBackend

    detection = {"a": {"userAgent|re": "^x"}, "b": {"eventName": "Y"}, "condition": "a or b"}
    before = dict(SplunkDeferredORRegularExpression.field_counts)
    assert query(rule_from, detection).splitlines()[1] == (
        """| where (isnotnull('userAgent') AND match('userAgent', "^x")) OR (isnotnull('eventName') AND match('eventName', "(?is)^Y$"))"""
    )
    with pytest.raises(SigmaFeatureNotSupportedByBackendError, match="detc writes it in the | where form"):
        SplBackend(ProcessingPipeline()).convert_rule(rule_from(detection).fresh_sigma())
    assert SplunkDeferredORRegularExpression.field_counts == before
