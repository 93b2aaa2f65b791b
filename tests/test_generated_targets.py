"""Differences between targets and the reference that generated events found, and how each is now
stated on the artifact (with the allowance that reads the statement) or no longer possible."""

from __future__ import annotations

import pytest

from compiler.allowances import stated_difference
from compiler.build import compile_one
from compiler.conditions import Conditions
from compiler.dotted import ABSENT
from compiler.logsources import find
from compiler.profile import DEFAULT_PROFILE
from compiler.rawforms import CLOUDTRAIL, NotInThisSource
from compiler.target import load_registry

REGISTRY = load_registry()


def verdict(name: str, rule, record) -> tuple[bool, tuple[str, ...]]:
    target = REGISTRY.get(name)
    compiled = compile_one(target, rule, DEFAULT_PROFILE)
    return bool(target.evaluator(compiled.query)(target.shape(record, DEFAULT_PROFILE))), compiled.caveats


def record(**fields):
    out = CLOUDTRAIL.base_record()
    for field, value in fields.items():
        CLOUDTRAIL.set_field(out, field.replace("__", "."), value)
    return out


STAR_EMPTY = (
    "requestParameters.layers: '*' also matches '' in Sigma; Elastic's ingest pipeline drops empty strings, "
    "so a record whose requestParameters.layers is '' is not found by it"
)


@pytest.mark.parametrize("name", ["kql", "lucene"], ids=["kql", "lucene"])
def test_elastic_drops_empty_strings_and_says_so_for_a_star(rule_from, name):
    rule = rule_from({"sel": {"eventName": "UpdateFunctionConfiguration", "requestParameters.layers": "*"}, "condition": "sel"})
    event = record(eventName="UpdateFunctionConfiguration", requestParameters__layers="")
    got, caveats = verdict(name, rule, event)
    assert got is False  # the ingest pipeline removed the empty value; Sigma's * matches ""
    assert STAR_EMPTY in caveats
    assert stated_difference(caveats, Conditions.of(rule), event, got) == (
        "empty strings and nulls dropped at ingest (stated in the artifact's caveats)"
    )
    # the statement names its field: an empty string elsewhere excuses nothing
    other = record(eventName="UpdateFunctionConfiguration", requestParameters__layers="x", userAgent="")
    assert stated_difference(caveats, Conditions.of(rule), other, False) is None


def test_elastic_says_nothing_of_empty_values_where_they_cannot_matter(rule_from):
    _, caveats = verdict("kql", rule_from({"sel": {"eventName": "DeleteKey"}, "condition": "sel"}), record())
    assert not any("empty strings" in c for c in caveats)


def test_eventbridge_star_is_exists_and_its_null_caveat_covers_it(rule_from):
    rule = rule_from({"sel": {"eventName": "ModifyDBInstance", "responseElements.pendingModifiedValues.masterUserPassword": "*"}, "condition": "sel"})
    event = record(eventName="ModifyDBInstance", responseElements__pendingModifiedValues__masterUserPassword=None)
    got, caveats = verdict("eventbridge", rule, event)
    assert got is True  # exists:true holds for JSON null on EventBridge; Sigma's * does not match null
    assert stated_difference(caveats, Conditions.of(rule), event, got) == (
        "exists on a JSON null (stated in the artifact's caveats)"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("eventSource", ABSENT), ("eventName", None), ("eventName", ["DeleteKey"]), ("userAgent", ["x", "y"])],
    ids=["eventSource-removed", "eventName-null", "eventName-array", "userAgent-array"],
)
def test_cloudtrail_raw_form_refuses_what_no_record_holds(field, value):
    with pytest.raises(NotInThisSource):
        CLOUDTRAIL.set_field(CLOUDTRAIL.base_record(), field, value)


def test_cloudtrail_raw_form_writes_array_paths_as_arrays():
    out = record(requestParameters__containerDefinitions__command="curl $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    assert out["requestParameters"]["containerDefinitions"] == [{"command": ["curl $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]}]
    CLOUDTRAIL.set_field(out, "requestParameters.containerDefinitions.command", ABSENT)
    assert "containerDefinitions" not in out["requestParameters"]


def test_kql_ipv6_network_parses_and_matches(rule_from):
    """An IPv6 CIDR was written unquoted with its colons bare, which kuery does not parse (found by
    generated events; main quotes the network now)."""
    rule = rule_from({"sel": {"sourceIPAddress|cidr": "2001:db8::/32"}, "condition": "sel"})
    compiled = compile_one(REGISTRY.get("kql"), rule, DEFAULT_PROFILE)
    assert compiled.query.endswith('\n    and source.ip: "2001:db8::/32"')
    inside, outside = record(sourceIPAddress="2001:db8::1"), record(sourceIPAddress="2001:db9::")
    assert verdict("kql", rule, inside)[0] is True
    assert verdict("kql", rule, outside)[0] is False


def _reference(rule, event) -> bool:
    sigma = REGISTRY.get("sigma")
    return bool(sigma.evaluator(compile_one(sigma, rule, DEFAULT_PROFILE).query)(event))


@pytest.mark.parametrize(
    ("arn", "user", "expected"),
    [("Bob", "bob", False), ("Bob", "Alice", True), ("Bob", None, True)],
    ids=["equal-but-case", "different", "reference-missing"],
)
def test_splunk_negated_field_reference_keeps_sigmas_meaning(rule_from, arn, user, expected):
    """Upstream's ``| where NOT 'a'='b'`` compared case-sensitively and was null (false) when a field
    was missing; Sigma compares case-insensitively and ``not`` holds when the reference cannot."""
    rule = rule_from({"sel": {"eventName": "UpdateLoginProfile"}, "filter_main": {"userIdentity.arn|fieldref": "requestParameters.userName"},
                      "condition": "sel and not 1 of filter_main*"})
    fields = {"eventName": "UpdateLoginProfile", "userIdentity__arn": arn}
    if user is not None:
        fields["requestParameters__userName"] = user
    event = record(**fields)
    if user is None:
        CLOUDTRAIL.set_field(event, "requestParameters.userName", ABSENT)
    assert _reference(rule, event) is expected
    got, _ = verdict("spl", rule, event)
    assert got is expected
    compiled = compile_one(REGISTRY.get("spl"), rule, DEFAULT_PROFILE)
    assert (
        "NOT (isnotnull('userIdentity.arn') AND isnotnull('requestParameters.userName') "
        "AND lower('userIdentity.arn') == lower('requestParameters.userName'))"
    ) in compiled.query.splitlines()[1]


@pytest.mark.parametrize(
    ("name", "arn", "user"),
    [("X", "Bob", "bob"), ("X", "Bob", "Alice"), ("Y", "Bob", "bob"), ("X", "Bob", None)],
    ids=["both-hold", "reference-differs", "other-test-fails", "reference-missing"],
)
def test_splunk_field_reference_negated_with_other_tests_gives_the_reference_verdict(rule_from, name, arn, user):
    """A field reference under a NOT beside another test is written in the | where form, where the
    NOT covers the whole conjunction as Sigma's does."""
    rule = rule_from({"sel": {"eventName": "X", "userIdentity.arn|fieldref": "requestParameters.userName"}, "condition": "not sel"})
    fields = {"eventName": name, "userIdentity__arn": arn}
    if user is not None:
        fields["requestParameters__userName"] = user
    event = record(**fields)
    if user is None:
        CLOUDTRAIL.set_field(event, "requestParameters.userName", ABSENT)
    got, _ = verdict("spl", rule, event)
    assert got is _reference(rule, event)


def test_eventbridge_negated_comparison_holds_on_a_json_null(rule_from):
    """``not count > 5`` is true for a JSON null in Sigma; the pattern lacked the null alternative."""
    rule = rule_from({"sel": {"requestParameters.memorySize|gt": 5}, "condition": "not sel"})
    event = record(requestParameters__memorySize=None)
    assert _reference(rule, event) is True
    assert verdict("eventbridge", rule, event)[0] is True


@pytest.mark.parametrize(
    ("detection", "condition", "reference", "spl"),
    [
        ({"eventName": "DeleteBucket", "errorCode": None}, "sel", True, True),
        ({"eventName": "DeleteBucket", "responseElements.pendingModifiedValues.masterUserPassword": "*"}, "sel", False, True),
        ({"eventName": "DeleteBucket", "responseElements.pendingModifiedValues.masterUserPassword": "*"}, "not sel", True, False),
    ],
    ids=["errorCode-null-finds-json-null", "star-wider", "star-under-not"],
)
def test_splunk_json_null_reads_as_the_text_null_and_is_stated(rule_from, detection, condition, reference, spl):
    """Splunk's JSON extraction gives a JSON null the text null: ``errorCode: null`` now also finds it
    (the add-on keeps that text), and a value the text fits says the search is wider."""
    rule = rule_from({"sel": detection, "condition": condition})
    field = next(k for k in detection if k != "eventName")
    event = record(eventName="DeleteBucket", **{field.replace(".", "__"): None})
    assert _reference(rule, event) is reference
    got, caveats = verdict("spl", rule, event)
    assert got is spl
    if got != reference:  # a wider search may match more; under NOT, the null's own statement
        assert stated_difference(caveats, Conditions.of(rule), event, got) in (
            "a wider search (stated in the artifact's caveats)",
            "JSON null read as the text null (stated in the artifact's caveats)",
        )
    assert any(c.startswith(f"{field}: ") and "JSON null" in c for c in caveats)


@pytest.mark.parametrize("name", ["lucene", "eql"], ids=["lucene", "eql"])
def test_elastic_states_that_initiated_maps_in_sysmons_case_only(name):
    """Elastic's pipeline maps Initiated 'true' to network.direction; 'TRUE' (which Sigma matches) is
    not mapped: found by a recased witness, now stated on the artifact."""
    from compiler.rawforms import raw_form
    from compiler.rules import load_rule
    from tests.support import ROOT

    rule = load_rule(ROOT / "sigma" / "windows" / "network_connection" / "net_connection_win_certutil_initiated_connection.yml")
    form = raw_form(rule)
    event = form.base_record()
    for field, value in (("Image", "C:\\Windows\\System32\\certutil.exe"), ("Initiated", "TRUE"), ("DestinationPort", 443)):
        form.set_field(event, field, value)
    assert _reference(rule, event) is True
    target = REGISTRY.get(name)
    compiled = compile_one(target, rule, DEFAULT_PROFILE)
    got = bool(target.evaluator(compiled.query)(target.shape(event, DEFAULT_PROFILE, find(rule.sigma.logsource))))
    assert got is False
    assert any(c.startswith("Initiated: ") for c in compiled.caveats)
    assert stated_difference(compiled.caveats, Conditions.of(rule), event, got) == "case (stated in the artifact's caveats)"


WINDOWS_PROCESS = {"product": "windows", "category": "process_creation"}


def _windows_event(rule, **fields):
    from compiler.rawforms import raw_form

    form = raw_form(rule)
    event = form.base_record()
    for field, value in fields.items():
        form.set_field(event, field, value)
    return event


def test_kql_states_the_letter_case_of_windash_values(rule_from):
    """A |windash value is one expansion of five variants: KQL's case caveat covers it as it covers a
    plain value (the allowance once saw no case-dependent leaf in an expansion: a silent difference)."""
    rule = rule_from({"sel": {"CommandLine|contains|windash": "-encode"}, "condition": "sel"}, logsource=WINDOWS_PROCESS)
    event = _windows_event(rule, CommandLine="certutil /ENCODE in.txt")
    assert _reference(rule, event) is True
    target = REGISTRY.get("kql")
    compiled = compile_one(target, rule, DEFAULT_PROFILE)
    got = bool(target.evaluator(compiled.query)(target.shape(event, DEFAULT_PROFILE, find(rule.sigma.logsource))))
    assert got is False
    assert stated_difference(compiled.caveats, Conditions.of(rule), event, got) == "case (stated in the artifact's caveats)"
    other = _windows_event(rule, CommandLine="certutil /encodex in.txt")  # the rule's own case: no difference to state
    assert stated_difference(compiled.caveats, Conditions.of(rule), other, False) is None


@pytest.mark.parametrize(
    "value",
    ["x IMPHASH=1195F7935954A2CD09157390C33F8E8C x", "IMPHASH=1195F7935954A2CD09157390C33F8E8", "MD5=", "SHA1=0,MD5=1", ""],
    ids=["text-around", "short-digest", "empty-digest", "short-pairs", "empty"],
)
def test_windows_raw_form_refuses_hashes_sysmon_never_writes(rule_from, value):
    rule = rule_from({"sel": {"Hashes|contains": "IMPHASH="}, "condition": "sel"}, logsource=WINDOWS_PROCESS)
    with pytest.raises(NotInThisSource):
        _windows_event(rule, Hashes=value)


def test_windows_raw_form_takes_hashes_as_sysmon_writes_them(rule_from):
    rule = rule_from({"sel": {"Hashes|contains": "IMPHASH="}, "condition": "sel"}, logsource=WINDOWS_PROCESS)
    value = "SHA1=" + "A" * 40 + ",MD5=" + "b" * 32 + ",SHA256=" + "0" * 64 + ",IMPHASH=" + "C" * 32
    assert _windows_event(rule, Hashes=value)["Event"]["EventData"]["Hashes"] == value


@pytest.mark.parametrize("name", ["kql", "lucene", "eql"], ids=["kql", "lucene", "eql"])
def test_elastic_generated_windash_and_hashes_cases_have_no_silent_difference(rule_from, name):
    """Generated cases once found the Lucene windash variants exact (case-sensitive), KQL's case
    caveat unseen on them, and every Elastic target 'missing' a Hashes value no Sysmon event holds
    (text around ALGORITHM=digest): now none differs without a statement."""
    from compiler.testing import generated_cases, run_rule

    rule = rule_from({
        "sel_cli": {"CommandLine|contains|windash": ["-encode", " /f "]},
        "sel_hash": {"Hashes|contains": ["IMPHASH=1195F7935954A2CD09157390C33F8E8C", "IMPHASH=d144de8117df2beceaba2201ad304764"]},
        "condition": "1 of sel_*",
    }, logsource=WINDOWS_PROCESS)
    cases = generated_cases(rule, 200)
    assert cases
    results = run_rule(rule, None, [REGISTRY.get(name)], DEFAULT_PROFILE, generated=cases, allow_untested=True)
    assert [(r.case, r.actual) for r in results if r.difference == "silent"] == []
    assert sum(r.status == "pass" for r in results) > len(cases) // 2


SECURITY_SERVICE = {"product": "windows", "service": "security"}


def _verdict_on(name, rule, event):
    target = REGISTRY.get(name)
    compiled = compile_one(target, rule, DEFAULT_PROFILE)
    doc = target.shape(event, DEFAULT_PROFILE, find(rule.sigma.logsource))
    return bool(target.evaluator(compiled.query)(doc)), compiled


@pytest.mark.parametrize("name", ["kql", "lucene", "eql"], ids=["kql", "lucene", "eql"])
@pytest.mark.parametrize(("history", "expected"), [("x", True), (None, False)], ids=["present", "absent"])
def test_elastic_null_is_absent_from_event_data_and_user_data_alike(rule_from, name, history, expected):
    """A forwarded field is looked up in winlog.event_data and winlog.user_data: a value in either, but
    null only where both lack it (the two were ORed, so 'not null' never held on an EventData event)."""
    rule = rule_from({"sel": {"EventID": 4738}, "filter": {"SidHistory": None}, "condition": "sel and not filter"},
                     logsource=SECURITY_SERVICE)
    event = _windows_event(rule, EventID=4738, **({"SidHistory": history} if history else {}))
    assert _reference(rule, event) is expected
    got, compiled = _verdict_on(name, rule, event)
    assert got is expected
    if name == "lucene":
        assert "(NOT ((NOT _exists_:winlog.event_data.SidHistory) AND (NOT _exists_:winlog.user_data.SidHistory)))" in compiled.query


@pytest.mark.parametrize("name", ["kql", "lucene", "eql"], ids=["kql", "lucene", "eql"])
def test_elastic_refuses_the_tampering_type_it_keeps_as_text(rule_from, name):
    from compiler.errors import UnsupportedFeature

    rule = rule_from({"sel": {"Type": "Image is replaced"}, "condition": "sel"},
                     logsource={"product": "windows", "category": "process_tampering"})
    with pytest.raises(UnsupportedFeature) as err:
        compile_one(REGISTRY.get(name), rule, DEFAULT_PROFILE)
    assert "field 'Type': the pipeline moves process tampering's Type (event 25) to message, an analysed text field" in (
        err.value.message
    )


DROPPED_COMMAND_LINE = (
    "CommandLine: '' and '-' searched as 'no value' (the Sysmon pipeline drops '-' and empty values from "
    "event_data before indexing): an event without CommandLine also matches"
)


@pytest.mark.parametrize("name", ["kql", "lucene", "eql"], ids=["kql", "lucene", "eql"])
@pytest.mark.parametrize(
    ("command_line", "reference", "elastic"),
    [("", True, True), ("-", True, True), ("x", False, False), (None, False, True)],
    ids=["empty", "dash", "other", "lacking"],
)
def test_elastic_searches_sysmon_values_it_drops_as_absent_and_says_so(rule_from, name, command_line, reference, elastic):
    """The Sysmon pipeline drops '' and '-' before it moves CommandLine to process.command_line: such a
    test is the field's absence (once process.command_line:"" on Sysmon, which never matched),
    stated on the artifact, and the statement explains the event that lacks the field."""
    rule = rule_from({"sel": {"Image|endswith": "\\x.exe", "CommandLine": ["", "-"]}, "condition": "sel"},
                     logsource=WINDOWS_PROCESS)
    fields = {"Image": "C:\\x.exe", **({"CommandLine": command_line} if command_line is not None else {})}
    event = _windows_event(rule, **fields)
    assert _reference(rule, event) is reference
    got, compiled = _verdict_on(name, rule, event)
    assert got is elastic
    assert DROPPED_COMMAND_LINE in compiled.caveats
    if reference != elastic:
        assert stated_difference(compiled.caveats, Conditions.of(rule), event, got) == (
            "'-' and empty values searched as no value (stated in the artifact's caveats)"
        )


@pytest.mark.parametrize("name", ["kql", "lucene", "eql"], ids=["kql", "lucene", "eql"])
def test_elastic_address_on_an_ip_field_is_its_one_address_network(rule_from, name):
    """EQL's ':' compares strings only (its verifier refuses it on source.ip): an address is written
    as its /32 or /128 network, which every Elastic target states exactly."""
    rule = rule_from({"sel": {"EventID": 4624, "IpAddress": "::1"}, "condition": "sel"}, logsource=SECURITY_SERVICE)
    for address, expected in (("::1", True), ("::2", False), ("127.0.0.1", False)):
        event = _windows_event(rule, EventID=4624, IpAddress=address)
        assert _reference(rule, event) is expected
        got, compiled = _verdict_on(name, rule, event)
        assert got is expected, address
    if name == "eql":
        assert 'cidrMatch(source.ip, "::1/128")' in compiled.query


def test_elastic_shapes_a_security_event_without_an_event_id(rule_from):
    doc = REGISTRY.get("lucene").shape({"Event": {"System": {
        "Channel": "Security", "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
    }, "EventData": {"SamAccountName": "x$"}}}, DEFAULT_PROFILE)
    assert doc["winlog"]["event_data"] == {"SamAccountName": "x$"}


def test_windows_raw_form_writes_events_as_their_sources_do(rule_from):
    """Defender's names with spaces, Sysmon's DOMAIN\\\\name accounts and CamelCase EventType,
    Windows' own spelling of channels and providers, no JSON null."""
    defender = rule_from({"sel": {"SourceName": "AMSI"}, "condition": "sel"},
                         logsource={"product": "windows", "service": "windefend"})
    assert _windows_event(defender, SourceName="AMSI")["Event"]["EventData"] == {"Source Name": "AMSI"}
    sysmon = rule_from({"sel": {"User|contains": "AUTHORI"}, "condition": "sel"}, logsource=WINDOWS_PROCESS)
    assert _windows_event(sysmon, User="NT AUTHORITY\\SYSTEM")["Event"]["EventData"]["User"] == "NT AUTHORITY\\SYSTEM"
    for field, value in (("User", "AUTHORI"), ("User", "a\\b\\c"), ("EventType", "dELETEvALUE"),
                         ("Channel", "microsoft-windows-sysmon/operational"), ("CommandLine", None)):
        with pytest.raises(NotInThisSource):
            _windows_event(sysmon, **{field: value})
    from compiler.rawforms import raw_form

    form = raw_form(sysmon)
    assert form.fit(form.base_record(), "User", "AUTHORI") == ["WORKSTATION\\AUTHORI", "AUTHORI\\user"]
    assert form.fit(form.base_record(), "CommandLine", "AUTHORI") == []
    from compiler.generate import generate

    witness = generate(sysmon, form)[0]
    assert witness.expect == "match" and witness.event["Event"]["EventData"]["User"] == "WORKSTATION\\AUTHORI"


def test_splunk_refuses_binary_and_states_empty_values(rule_from):
    from compiler.errors import UnsupportedFeature

    system = {"product": "windows", "service": "system"}
    with pytest.raises(UnsupportedFeature) as err:
        compile_one(REGISTRY.get("spl"), rule_from({"sel": {"Binary|contains": "4d00"}, "condition": "sel"},
                                                   logsource=system), DEFAULT_PROFILE)
    assert "field Binary (the event's <Binary> element" in err.value.message
    star = rule_from({"sel": {"EventID": 5136, "AttributeValue": "*"}, "condition": "sel"}, logsource=SECURITY_SERVICE)
    event = _windows_event(star, EventID=5136, AttributeValue="")
    assert _reference(star, event) is True
    got, compiled = _verdict_on("spl", star, event)
    assert got is False  # Splunk makes no field of an empty element
    assert stated_difference(compiled.caveats, Conditions.of(star), event, got) == (
        "an empty value has no Splunk field (stated in the artifact's caveats)"
    )
    empty = rule_from({"sel": {"EventID": 29}, "filter": {"NewValue": ""}, "condition": "sel and not filter"},
                      logsource={"product": "windows", "service": "iis-configuration"})
    lacking = _windows_event(empty, EventID=29)
    assert _reference(empty, lacking) is True
    got, compiled = _verdict_on("spl", empty, lacking)
    assert got is False  # NOT NewValue=* leaves out the event without NewValue
    assert stated_difference(compiled.caveats, Conditions.of(empty), lacking, got) == (
        "an empty value searched as no value (stated in the artifact's caveats)"
    )


def test_splunk_states_that_null_also_matches_an_empty_value(rule_from):
    rule = rule_from({"sel": {"EventID": 2004}, "filter": {"ApplicationPath": None}, "condition": "sel and not filter"},
                     logsource={"product": "windows", "service": "firewall-as"})
    event = _windows_event(rule, EventID=2004, ApplicationPath="")
    assert _reference(rule, event) is True  # '' is a value, not null
    got, compiled = _verdict_on("spl", rule, event)
    assert got is False  # NOT ApplicationPath=* is true of the empty element, which has no Splunk field
    assert (
        "ApplicationPath: null also matches an event whose ApplicationPath is ''; Splunk makes no field of an empty "
        "value, so it cannot tell an empty value from none"
    ) in compiled.caveats
    assert stated_difference(compiled.caveats, Conditions.of(rule), event, got) == (
        "an empty value has no Splunk field (stated in the artifact's caveats)"
    )


INITIATED = (
    "Initiated: Elastic's Sysmon pipeline maps Initiated to network.direction only when it is 'true' or 'false' "
    "as Sysmon writes it (egress, ingress); the same text in another letter case is not mapped, where Sigma "
    "matches any case."
)


def test_a_case_caveat_naming_one_field_explains_only_that_field(rule_from):
    """A caveat that letter case decides one field's match (Elastic's Sysmon ``Initiated``) is no blanket
    waiver: a difference that letter case makes on another field stays unexplained; a target's whole-query
    case caveat (KQL's) explains it."""
    rule = rule_from({"sel": {"eventName": "DeleteKey"}, "condition": "sel"})
    event = record(eventName="deletekey")  # Sigma matches; a case-sensitive search would not
    conditions = Conditions.of(rule)
    assert stated_difference([INITIATED], conditions, event, False) is None
    kql_case = next(c for c in verdict("kql", rule, event)[1] if c.startswith("case:"))
    assert stated_difference([kql_case], conditions, event, False) == "case (stated in the artifact's caveats)"
    on_field = rule_from({"sel": {"eventName": "DeleteKey", "Initiated": "true"}, "condition": "sel"})
    turned = record(eventName="DeleteKey", Initiated="TRUE")
    assert stated_difference([INITIATED], Conditions.of(on_field), turned, False) == (
        "case (stated in the artifact's caveats)"
    )


def test_only_a_wider_search_statement_excuses_a_match(rule_from):
    """Elastic's regex-class caveat says Python's classes are *wider*: that makes Elastic's regex narrower,
    so it excuses no extra match; Splunk's 'so the search is wider' does."""
    from backends.elastic.caveats import ASCII_CLASSES

    rule = rule_from({"sel": {"eventName": "DeleteKey"}, "condition": "sel"})
    other = record(eventName="CreateKey")  # the reference says no match
    assert stated_difference([ASCII_CLASSES], Conditions.of(rule), other, True) is None
    splunk_null = "userAgent: Splunk's JSON extraction gives the text null, so the search is wider"
    assert stated_difference([splunk_null], Conditions.of(rule), other, True) == (
        "a wider search (stated in the artifact's caveats)"
    )
