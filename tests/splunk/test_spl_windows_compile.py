"""The Splunk Windows cell: exact searches per logsource, what is refused, and verdicts on shaped events."""

from __future__ import annotations

from typing import Any

import pytest

from backends.splunk.spl_evaluator import evaluator
from backends.splunk.target import SplTarget
from backends.splunk.windows import storage
from backends.splunk.windows.pipeline import CAVEAT_EMPTY, CAVEAT_ENTITIES
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE, Profile
from compiler.target import load_registry

SPL = SplTarget()

HEAD = 'index="main" sourcetype="XmlWinEventLog" '
SYSMON = 'source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"'
PROCESS = f'({SYSMON} EventCode=1) OR (source="XmlWinEventLog:Security" EventCode=4688) '
"""The search command reads OR before AND, so the selection needs no outer parentheses."""

PROCESS_CREATION = {"product": "windows", "category": "process_creation"}


def profile(**settings: Any) -> Profile:
    return Profile(name="windows-test", target_settings={"spl": settings}) if settings else DEFAULT_PROFILE


def compiled(rule_from, detection: dict[str, Any], logsource: dict[str, str] = PROCESS_CREATION, **settings: Any):
    return SPL.compile(rule_from(detection, logsource=logsource), profile(**settings))


def shape(event: dict[str, Any], **settings: Any):
    return SPL.shape(event, profile(**settings))


def search(rule_from, detection: dict[str, Any], logsource: dict[str, str] = PROCESS_CREATION, **settings: Any) -> str:
    return compiled(rule_from, detection, logsource, **settings).query


@pytest.mark.parametrize(
    ("logsource", "detection", "expected"),
    [
        (
            PROCESS_CREATION,
            {"sel": {"Image|endswith": "\\cmd.exe", "CommandLine|contains": "/c"}, "condition": "sel"},
            HEAD + PROCESS + 'Image="*\\\\cmd.exe" OR NewProcessName="*\\\\cmd.exe" CommandLine="*/c*"',
        ),
        (
            PROCESS_CREATION,
            {"sel": {"ParentImage": None}, "condition": "sel"},
            HEAD + PROCESS + "NOT ParentImage=* NOT ParentProcessName=*",
        ),
        (
            PROCESS_CREATION,
            {"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "not sel"},
            HEAD + PROCESS + 'NOT (Image="*\\\\cmd.exe" OR NewProcessName="*\\\\cmd.exe")',
        ),
        (
            {"product": "windows", "category": "registry_set"},
            {"sel": {"TargetObject|contains": "\\Run\\"}, "condition": "sel"},
            HEAD + SYSMON + ' EventCode=13 TargetObject="*\\\\Run\\\\*"',
        ),
        (
            {"product": "windows", "category": "registry_delete"},
            {"sel": {"TargetObject|contains": "\\Run\\"}, "condition": "sel"},
            HEAD + SYSMON + ' EventCode=12 EventType IN ("DeleteKey", "DeleteValue") TargetObject="*\\\\Run\\\\*"',
        ),
        (
            {"product": "windows", "category": "ps_script"},
            {"sel": {"ScriptBlockText|contains": "Invoke-Mimikatz"}, "condition": "sel"},
            HEAD
            + 'source IN ("XmlWinEventLog:Microsoft-Windows-PowerShell/Operational", '
            '"XmlWinEventLog:PowerShellCore/Operational") EventCode=4104 ScriptBlockText="*Invoke-Mimikatz*"',
        ),
        (
            {"product": "windows", "service": "security"},
            {"sel": {"EventID": 4720, "TargetUserName|endswith": "$"}, "condition": "sel"},
            HEAD + 'source="XmlWinEventLog:Security" EventCode=4720 TargetUserName="*$"',
        ),
        (
            {"product": "windows", "service": "system"},
            {"sel": {"Provider_Name": "Service Control Manager", "EventID": 7045}, "condition": "sel"},
            HEAD + 'source="XmlWinEventLog:System" Name="Service Control Manager" EventCode=7045',
        ),
        (
            {"product": "windows", "service": "windefend"},
            {"sel": {"EventID": 1119, "ThreatName|endswith": "EICAR_Test_File", "Path": "x"}, "condition": "sel"},
            HEAD
            + 'source="XmlWinEventLog:Microsoft-Windows-Windows Defender/Operational" EventCode=1119 '
            'Threat_Name="*EICAR_Test_File" Path="x"',
        ),
        (
            {"product": "windows", "category": "process_creation", "service": "sysmon"},
            {"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "sel"},
            HEAD + PROCESS + 'Image="*\\\\cmd.exe" OR NewProcessName="*\\\\cmd.exe"',
        ),
    ],
    ids=[
        "process-creation-both-names", "null-needs-both-names-absent", "not-over-both-names", "registry-set",
        "registry-delete-event-type", "ps-script-two-channels", "security-service", "provider-name",
        "defender-clean-keys", "category-with-a-service-is-the-category",
    ],
)
def test_spl_windows_search_is_exact(rule_from, logsource, detection, expected):
    assert search(rule_from, detection, logsource) == expected


def test_spl_windows_where_form_keeps_the_logsource_in_the_base_search(rule_from):
    detection = {"sel": {"CommandLine|re": "-e(nc)? [A-Za-z0-9+/=]{20,}", "Image|endswith": "\\powershell.exe"},
                 "condition": "sel"}
    assert search(rule_from, detection) == (
        HEAD + PROCESS.rstrip() + "\n| where (isnotnull('CommandLine') AND match('CommandLine', "
        '"-e(nc)? [A-Za-z0-9+/=]{20,}")) AND ((isnotnull(\'Image\') AND match(\'Image\', '
        '"(?is)^.*\\\\\\\\powershell\\\\.exe$")) OR (isnotnull(\'NewProcessName\') AND '
        'match(\'NewProcessName\', "(?is)^.*\\\\\\\\powershell\\\\.exe$")))'
    )


def test_spl_windows_index_is_a_setting(rule_from):
    detection = {"sel": {"EventID": 1102}, "condition": "sel"}
    query = search(rule_from, detection, {"product": "windows", "service": "security"}, windows_index="wineventlog")
    assert query == 'index="wineventlog" sourcetype="XmlWinEventLog" source="XmlWinEventLog:Security" EventCode=1102'


def test_spl_windows_empty_value_is_no_value_with_a_caveat(rule_from):
    result = compiled(rule_from, {"sel": {"OriginalFileName": ""}, "condition": "not sel"})
    assert result.query == HEAD + PROCESS + "NOT NOT OriginalFileName=*"
    assert result.caveats == (CAVEAT_EMPTY,)


def test_spl_windows_entities_carry_a_caveat(rule_from):
    result = compiled(rule_from, {"sel": {"CommandLine|contains": " && "}, "condition": "sel"})
    assert result.caveats == (CAVEAT_ENTITIES,)
    plain = compiled(rule_from, {"sel": {"CommandLine|contains": " /c "}, "condition": "sel"})
    assert plain.caveats == ()


@pytest.mark.parametrize(
    ("logsource", "detection", "message"),
    [
        ({"product": "windows", "category": "file_access"}, {"sel": {"TargetFilename": "x"}, "condition": "sel"},
         "logsource windows/file_access: no Windows event log or Sysmon event records it"),
        ({"product": "windows", "service": "no-such-channel"}, {"sel": {"EventID": 1}, "condition": "sel"},
         "logsource windows/no-such-channel: detc has no definition of it"),
        ({"product": "windows", "category": "ps_classic_start"}, {"sel": {"Data|contains": "HostApplication="},
                                                                  "condition": "sel"},
         "field Data (the event's unnamed <Data> elements)"),
    ],
    ids=["no-event-for-category", "unknown-service", "unnamed-data"],
)
def test_spl_windows_refuses(rule_from, logsource, detection, message):
    with pytest.raises(UnsupportedFeature, match=message.replace("(", r"\(").replace(")", r"\)")):
        search(rule_from, detection, logsource)


def _event(channel: str, event_id: int, data: dict[str, Any], provider: str = "Microsoft-Windows-Sysmon") -> dict:
    return {
        "Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": provider}},
                "EventID": event_id,
                "Channel": channel,
                "Computer": "host-1",
            },
            "EventData": data,
        }
    }


SYSMON_1 = _event("Microsoft-Windows-Sysmon/Operational", 1,
                  {"Image": "C:\\Windows\\System32\\CMD.EXE", "CommandLine": "cmd /c whoami", "ParentImage": "x"})
SECURITY_4688 = _event("Security", 4688, {"NewProcessName": "C:\\Windows\\System32\\cmd.exe",
                                          "CommandLine": "cmd /c whoami", "ParentProcessName": "x"},
                       provider="Microsoft-Windows-Security-Auditing")
SYSMON_13 = _event("Microsoft-Windows-Sysmon/Operational", 13, {"Image": "C:\\Windows\\System32\\cmd.exe",
                                                                "TargetObject": "HKLM\\x"})
SECURITY_4624 = _event("Security", 4624, {"NewProcessName": "C:\\Windows\\System32\\cmd.exe"},
                       provider="Microsoft-Windows-Security-Auditing")
SYSMON_1_NO_PARENT = _event("Microsoft-Windows-Sysmon/Operational", 1, {"Image": "C:\\a\\cmd.exe"})


@pytest.mark.parametrize(
    ("detection", "event", "expected"),
    [
        ({"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "sel"}, SYSMON_1, True),
        ({"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "sel"}, SECURITY_4688, True),
        ({"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "sel"}, SYSMON_13, False),
        ({"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "sel"}, SECURITY_4624, False),
        ({"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "not sel"}, SECURITY_4688, False),
        ({"sel": {"Image|endswith": "\\powershell.exe"}, "condition": "not sel"}, SECURITY_4688, True),
        ({"sel": {"ParentImage": None}, "condition": "sel"}, SYSMON_1_NO_PARENT, True),
        ({"sel": {"ParentImage": None}, "condition": "sel"}, SECURITY_4688, False),
        ({"sel": {"ParentImage|exists": True}, "condition": "sel"}, SECURITY_4688, True),
        ({"sel": {"CommandLine|re": "^cmd /c"}, "condition": "sel"}, SECURITY_4688, True),
        ({"sel": {"CommandLine|re": "^CMD /c"}, "condition": "sel"}, SECURITY_4688, False),
        ({"sel": {"OriginalFileName|contains": "cmd"}, "condition": "sel"}, SECURITY_4688, False),
    ],
    ids=["sysmon-1", "security-4688-by-new-process-name", "registry-event-with-same-image",
         "other-security-event", "not-on-4688", "not-other-value-on-4688", "null-on-sysmon", "null-on-4688",
         "exists-on-4688", "regex-on-4688", "regex-is-case-sensitive", "field-4688-lacks"],
)
def test_spl_windows_verdicts_on_shaped_events(rule_from, detection, event, expected):
    query = search(rule_from, detection)
    assert evaluator(query)(shape(event)) is expected


CLASSIC = {"windows_rendering": "classic"}
CLASSIC_PROCESS = (
    'index="main" (sourcetype="XmlWinEventLog" ' + SYSMON + ' EventCode=1) OR '
    '(sourcetype="WinEventLog" source="WinEventLog:Security" EventCode=4688) '
)


@pytest.mark.parametrize(
    ("logsource", "detection", "expected"),
    [
        (
            PROCESS_CREATION,
            {"sel": {"Image|endswith": "\\cmd.exe", "CommandLine|contains": "/c"}, "condition": "sel"},
            CLASSIC_PROCESS + 'Image="*\\\\cmd.exe" OR New_Process_Name="*\\\\cmd.exe" '
            'CommandLine="*/c*" OR Process_Command_Line="*/c*"',
        ),
        (
            PROCESS_CREATION,
            {"sel": {"ParentImage": None}, "condition": "sel"},
            CLASSIC_PROCESS + "NOT ParentImage=* NOT Creator_Process_Name=*",
        ),
        (
            {"product": "windows", "service": "security"},
            {"sel": {"EventID": 1102, "Computer": "dc1"}, "condition": "sel"},
            'index="main" sourcetype="WinEventLog" source="WinEventLog:Security" EventCode=1102 ComputerName="dc1"',
        ),
        (
            {"product": "windows", "category": "registry_set"},
            {"sel": {"TargetObject|contains": "\\Run\\"}, "condition": "sel"},
            HEAD + SYSMON + ' EventCode=13 TargetObject="*\\\\Run\\\\*"',
        ),
    ],
    ids=["process-creation-4688-labels", "null-both-names", "security-header-only", "sysmon-stays-xml"],
)
def test_spl_windows_classic_search_is_exact(rule_from, logsource, detection, expected):
    assert search(rule_from, detection, logsource, **CLASSIC) == expected


def test_spl_windows_classic_shared_labels_carry_a_caveat(rule_from):
    result = compiled(rule_from, {"sel": {"SubjectUserName": "bob"}, "condition": "sel"}, **CLASSIC)
    assert result.query == CLASSIC_PROCESS + 'SubjectUserName="bob" OR Account_Name="bob"'
    assert len(result.caveats) == 1 and "repeats its Subject and Target labels" in result.caveats[0]


@pytest.mark.parametrize(
    ("logsource", "detection", "message"),
    [
        ({"product": "windows", "service": "security"}, {"sel": {"EventID": 4720, "TargetUserName": "x"},
                                                         "condition": "sel"},
         "classic rendering: no classic field is known for TargetUserName on Security"),
        ({"product": "windows", "category": "ps_script"}, {"sel": {"ScriptBlockText|contains": "x"},
                                                           "condition": "sel"},
         "classic rendering: no classic field is known for ScriptBlockText on Microsoft-Windows-PowerShell/Operational "
         "or PowerShellCore/Operational [(]detc knows"),
        ({"product": "windows", "service": "system"}, {"keywords": ["x"], "condition": "keywords"},
         "classic rendering: keywords would search the rendered message text"),
    ],
    ids=["unknown-label", "script-block-text", "keywords"],
)
def test_spl_windows_classic_refuses(rule_from, logsource, detection, message):
    with pytest.raises(UnsupportedFeature, match=message):
        search(rule_from, detection, logsource, **CLASSIC)


CLASSIC_4688 = _event("Security", 4688, {
    "SubjectUserName": "alice", "NewProcessName": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami",
    "TargetUserName": "bob", "ParentProcessName": "C:\\Windows\\explorer.exe"},
    provider="Microsoft-Windows-Security-Auditing")


def test_spl_windows_classic_shaper_gives_the_labels():
    shaped = shape(CLASSIC_4688, **CLASSIC)
    assert shaped["Account_Name"] == ("alice", "bob")
    assert shaped["New_Process_Name"] == ("C:\\Windows\\System32\\cmd.exe",)
    assert shaped["Creator_Process_Name"] == ("C:\\Windows\\explorer.exe",)
    assert shaped["sourcetype"] == ("WinEventLog",) and shaped["source"] == ("WinEventLog:Security",)
    assert shaped["SourceName"] == ("Microsoft-Windows-Security-Auditing",)
    assert "NewProcessName" not in shaped and "Image" not in shaped
    assert shaped["_raw"][0].startswith("LogName=Security\nEventCode=4688\nComputerName=host-1\n")
    assert shape(SYSMON_1, **CLASSIC) == shape(SYSMON_1)


@pytest.mark.parametrize(
    ("detection", "event", "expected"),
    [
        ({"sel": {"Image|endswith": "\\cmd.exe", "ParentImage|endswith": "\\explorer.exe"}, "condition": "sel"},
         CLASSIC_4688, True),
        ({"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "sel"}, SYSMON_1, True),
        ({"sel": {"CommandLine|contains": "whoami"}, "condition": "not sel"}, CLASSIC_4688, False),
        ({"sel": {"TargetUserName": "alice"}, "condition": "sel"}, CLASSIC_4688, True),
    ],
    ids=["4688-by-labels", "sysmon-in-classic-deployment", "not-over-label", "shared-label-widens"],
)
def test_spl_windows_classic_verdicts(rule_from, detection, event, expected):
    query = search(rule_from, detection, **CLASSIC)
    assert evaluator(query)(shape(event, **CLASSIC)) is expected


def test_spl_windows_details_name_the_host_as_risk_object(rule_from):
    result = compiled(rule_from, {"sel": {"Image": "x"}, "condition": "sel"}, windows_index="winlogs")
    assert result.details == {"index": "winlogs", "sourcetype": "XmlWinEventLog", "risk_object_field": "Computer",
                              "risk_object_type": "system", "security_domain": "threat",
                              "dispatch_app": "SplunkEnterpriseSecuritySuite"}


def test_spl_windows_table_carries_the_risk_object(rule_from):
    rule = rule_from({"sel": {"Image": "x"}, "condition": "sel"}, logsource=PROCESS_CREATION,
                     fields=["CommandLine", "ParentImage"])
    query = SPL.compile(rule, DEFAULT_PROFILE).query
    assert query.endswith(' | table CommandLine,ParentImage,ParentProcessName,Computer')


def test_spl_windows_risk_object_is_a_deployment_setting(rule_from):
    """A CIM-normalised deployment names the add-ons' ``dest``: the risk action and the table use it, and a
    value that is not a Splunk field name is refused by the setting's kind."""
    rule = rule_from({"sel": {"Image": "x"}, "condition": "sel"}, logsource=PROCESS_CREATION, fields=["CommandLine"])
    settings = {"windows_risk_object_field": "dest", "windows_risk_object_type": "system"}
    result = SPL.compile(rule, profile(**settings))
    assert result.query.endswith(" | table CommandLine,dest")
    assert (result.details["risk_object_field"], result.details["risk_object_type"]) == ("dest", "system")
    assert storage.SETTING_KINDS["windows_risk_object_field"].problem("dest | delete") is not None
    assert storage.SETTING_KINDS["windows_risk_object_type"].problem("system") is None


def test_spl_windows_setting_kinds_refuse_what_is_not_a_rendering():
    kinds = storage.SETTING_KINDS
    assert kinds["windows_rendering"].problem("classic") is None
    assert kinds["windows_rendering"].problem("xml") is None
    assert kinds["windows_rendering"].problem("json") == "'json' is not a Windows event rendering (xml or classic)"
    assert kinds["windows_index"].problem("main") is None


def test_spl_windows_field_reference_is_a_case_insensitive_where_test(rule_from):
    detection = {"sel": {"EventID": 4648}, "same": {"SubjectUserName|fieldref": "TargetUserName"},
                 "condition": "sel and not same"}
    query = search(rule_from, detection, {"product": "windows", "service": "security"})
    assert query == (
        HEAD + 'source="XmlWinEventLog:Security"\n| where (isnotnull(\'EventCode\') AND match(\'EventCode\', "^4648$")) '
        "AND NOT (isnotnull('SubjectUserName') AND isnotnull('TargetUserName') AND "
        "lower('SubjectUserName') == lower('TargetUserName'))"
    )
    matches = evaluator(query)
    event = _event("Security", 4648, {"SubjectUserName": "Alice", "TargetUserName": "alice"},
                   provider="Microsoft-Windows-Security-Auditing")
    other = _event("Security", 4648, {"SubjectUserName": "Alice", "TargetUserName": "bob"},
                   provider="Microsoft-Windows-Security-Auditing")
    lacking = _event("Security", 4648, {"SubjectUserName": "Alice"}, provider="Microsoft-Windows-Security-Auditing")
    assert [matches(shape(e)) for e in (event, other, lacking)] == [False, True, True]


def test_spl_windows_field_reference_pairs_each_kind_of_event_s_names(rule_from):
    query = search(rule_from, {"same": {"Image|fieldref": "ParentImage"}, "condition": "same"})
    assert query == (
        HEAD + PROCESS.rstrip() + "\n| where (isnotnull('Image') AND isnotnull('ParentImage') AND lower('Image') == "
        "lower('ParentImage')) OR (isnotnull('NewProcessName') AND isnotnull('ParentProcessName') AND "
        "lower('NewProcessName') == lower('ParentProcessName'))"
    )
    matches = evaluator(query)
    itself = _event("Security", 4688, {"NewProcessName": "C:\\a.exe", "ParentProcessName": "C:\\A.EXE"},
                    provider="Microsoft-Windows-Security-Auditing")
    assert [matches(shape(e)) for e in (itself, SECURITY_4688, SYSMON_1)] == [True, False, False]


def _planted(data: dict[str, Any], provider: str = "Microsoft-Windows-Security-Auditing",
             user_data: dict[str, Any] | None = None) -> dict[str, Any]:
    event = _event("Security", 4625, data, provider=provider)
    if user_data is not None:
        del event["Event"]["EventData"]
        event["Event"]["UserData"] = user_data
    return event


@pytest.mark.parametrize(
    ("keyword", "event", "verdict"),
    [
        ("mimikatz", _planted({"CommandLine": "C:\\tools\\MimiKatz.exe sekurlsa"}), True),
        ("mimikatz", _planted({"mimikatz": "x"}), False),
        ("Auditing", _planted({"CommandLine": "x"}), True),
        ("a & b", _planted({"CommandLine": "echo a & b"}), True),
        ("a & b", _planted({"CommandLine": "echo a &amp; b"}), False),
        ("o'brien", _planted({"TargetUserName": "x"}, provider="O'Brien"), True),
        ("CommandLine", _planted({"CommandLine": "x"}), False),
        ("x</Data>", _planted({"CommandLine": "x", "Other": "y"}), False),
        ("schemas.microsoft.com", _planted({}, user_data={"LogFileCleared": {
            "#attributes": {"xmlns": "http://manifests.microsoft.com/schemas.microsoft.com"}, "SubjectUserName": "a"}}),
         False),
        ("ev*ta", _planted({"CommandLine": "every data"}), True),
        ("ev*ta", _planted({"CommandLine": "ev", "Other": "ta"}), False),
        ("4625", _planted({"CommandLine": "x"}), True),
    ],
    ids=["inside-a-value-any-case", "only-a-data-name", "attribute-value", "ampersand-in-value",
         "entity-text-in-value", "apostrophe-in-attribute", "field-name-is-no-value", "markup-is-no-value",
         "xmlns-is-no-value", "wildcard-inside-one-value", "wildcard-across-values", "event-id-text"],
)
def test_spl_windows_keywords_give_the_reference_verdict(rule_from, keyword, event, verdict):
    rule = rule_from({"keywords": [keyword], "condition": "keywords"}, logsource={"product": "windows",
                                                                               "service": "security"})
    sigma = load_registry().get("sigma")
    reference = sigma.evaluator(sigma.compile(rule, DEFAULT_PROFILE).query)
    assert reference(sigma.shape(event, DEFAULT_PROFILE, rule.sigma.logsource)) is verdict
    query = SPL.compile(rule, DEFAULT_PROFILE).query
    assert query.startswith(HEAD + 'source="XmlWinEventLog:Security"\n| where (isnotnull(\'_raw\') AND match(\'_raw\', ')
    assert evaluator(query)(shape(event)) is verdict
