"""Windows rules compiled for kql and lucene: where each Sigma field is queried, exactly."""

from __future__ import annotations

from typing import Any

import pytest

from backends.elastic.windows.caveats import KQL_CASE
from backends.elastic.windows.pipeline import ipv4_prefix_networks
from compiler.build import compile_one
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE
from compiler.target import Compiled, load_registry

REGISTRY = load_registry()
SYSMON_11 = 'winlog.channel: "Microsoft-Windows-Sysmon/Operational"\n    and event.code: "11"\n    and '
SYSMON_11_LUCENE = "(winlog.channel:Microsoft\\-Windows\\-Sysmon\\/Operational AND event.code:11) AND "
SYSMON_3 = 'winlog.channel: "Microsoft-Windows-Sysmon/Operational"\n    and event.code: "3"\n    and '
SYSMON_25 = 'winlog.channel: "Microsoft-Windows-Sysmon/Operational"\n    and event.code: "25"\n    and '


@pytest.fixture
def compiled(rule_from):
    def make(logsource: dict[str, str], detection: dict[str, Any], target: str) -> Compiled:
        rule = rule_from(detection, logsource={"product": "windows", **logsource})
        return compile_one(REGISTRY.get(target), rule, DEFAULT_PROFILE)

    return make


@pytest.fixture
def compile_rule(compiled):
    return lambda logsource, detection, target: compiled(logsource, detection, target).query


CASES = [
    ("image-target-filename", {"category": "file_event"},
     {"sel": {"Image|endswith": "\\cmd.exe", "TargetFilename|contains": "/c"}, "condition": "sel"},
     SYSMON_11 + "process.executable: *\\\\cmd.exe\n    and file.path: */c*",
     SYSMON_11_LUCENE + "(process.executable:/.*\\\\[Cc][Mm][Dd]\\.[Ee][Xx][Ee]/ AND file.path:/.*\\/[Cc].*/)"),
    ("user-contains", {"category": "network_connection"},
     {"sel": {"User|contains": ["AUTHORI", "AUTORI"]}, "condition": "sel"},
     SYSMON_3 + "(user.domain: *AUTHORI* or user.name: *AUTHORI* or user.domain: *AUTORI* or user.name: *AUTORI*)",
     None),
    ("user-exact-negated", {"category": "network_connection"},
     {"sel": {"User": "NT AUTHORITY\\SYSTEM"}, "condition": "not sel"},
     SYSMON_3 + 'not (user.domain: "NT AUTHORITY" and user.name: "SYSTEM")', None),
    ("hashes", {"category": "process_tampering"},
     {"sel": {"Hashes|contains": ["IMPHASH=ABC", "SHA256=AA"]}, "condition": "sel"},
     SYSMON_25 + "(process.pe.imphash: abc* or process.hash.sha256: aa*)", None),
    ("network", {"category": "network_connection"},
     {"sel": {"DestinationIp|startswith": ["10.", "192.168.", "fe80:"], "Initiated": "true", "DestinationPort": 443},
      "condition": "sel"},
     'winlog.channel: "Microsoft-Windows-Sysmon/Operational"\n    and event.code: "3"\n'
     '    and (destination.ip: "10.0.0.0/8" or destination.ip: "192.168.0.0/16" or destination.ip: "fe80::/16")\n'
     '    and network.direction: "egress"\n    and destination.port: 443',
     "(winlog.channel:Microsoft\\-Windows\\-Sysmon\\/Operational AND event.code:3) AND ((destination.ip:10.0.0.0\\/8 "
     "OR destination.ip:192.168.0.0\\/16 OR destination.ip:fe80\\:\\:\\/16) AND "
     "network.direction:/[Ee][Gg][Rr][Ee][Ss][Ss]/ AND destination.port:443)"),
    ("application-data", {"service": "application"}, {"sel": {"Data|contains": "x"}, "condition": "sel"},
     'winlog.channel: "Application"\n    and winlog.event_data.param*: *x*',
     "winlog.channel:Application AND winlog.event_data.param\\*:/.*[Xx].*/"),
    ("defender-spaced", {"service": "windefend"},
     {"sel": {"EventID": 1116, "ThreatName|endswith": "EICAR"}, "condition": "sel"},
     'winlog.channel: "Microsoft-Windows-Windows Defender/Operational"\n    and event.code: "1116"\n'
     '    and ("winlog.event_data.Threat Name": *EICAR or "winlog.user_data.Threat Name": *EICAR)', None),
    ("image-load-pe-and-hash", {"category": "image_load"},
     {"sel": {"OriginalFileName": "a.dll", "Hashes|contains": "MD5=0123456789ABCDEF0123456789abcdef"}, "condition": "sel"},
     'winlog.channel: "Microsoft-Windows-Sysmon/Operational"\n    and event.code: "7"\n'
     '    and file.pe.original_file_name: "a.dll"\n    and file.hash.md5: "0123456789abcdef0123456789abcdef"', None),
    ("registry-delete-eventtype", {"category": "registry_delete"},
     {"sel": {"TargetObject|contains": "\\Run\\"}, "condition": "sel"},
     'winlog.channel: "Microsoft-Windows-Sysmon/Operational"\n    and event.code: "12"\n'
     '    and winlog.event_data.EventType: ("DeleteKey" or "DeleteValue")\n    and registry.path: *\\\\Run\\\\*', None),
]


@pytest.mark.parametrize(("logsource", "detection", "kql", "lucene"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_compiled_queries(compile_rule, logsource: dict[str, str], detection: dict[str, Any], kql: str,
                          lucene: str | None) -> None:
    assert compile_rule(logsource, detection, "kql") == kql
    if lucene is not None:
        assert compile_rule(logsource, detection, "lucene") == lucene


def test_security_field_moved_for_some_event_ids_is_queried_in_both_places(compile_rule) -> None:
    query = compile_rule({"service": "security"},
                         {"sel": {"EventID": 4663, "ProcessName|endswith": "\\lsass.exe",
                                  "AccessList|contains": "%%4417"}, "condition": "sel"}, "kql")
    assert query.startswith('winlog.channel: "Security"\n    and event.code: "4663"\n    and (event.code: ("1100" or ')
    assert query.endswith(' or "5145") and process.executable: *\\\\lsass.exe or winlog.event_data.ProcessName: '
                          "*\\\\lsass.exe)\n    and winlog.event_data.AccessList: 4417*")


UNSUPPORTED = [
    ("script-block-text-classic", {"category": "ps_classic_script"},
     {"sel": {"ScriptBlockText|contains": "x"}, "condition": "sel"},
     "field 'ScriptBlockText': classic Windows PowerShell events (400, 600, 800) carry no ScriptBlockText"),
    ("payload", {"category": "ps_module"}, {"sel": {"Payload|contains": "x"}, "condition": "sel"},
     "field 'Payload': the pipeline parses Payload into powershell.command.invocation_details"),
    ("keywords", {"category": "process_creation"}, {"keywords": ["x"], "condition": "keywords"},
     "keyword search: a query without a field searches the index.query.default_field list"),
    ("cidr-on-keyword", {"service": "security"}, {"sel": {"IpAddress|cidr": "10.0.0.0/8"}, "condition": "sel"},
     "cidr on 'IpAddress': the integration stores it as a keyword, not an ip"),
    ("utctime", {"category": "process_creation"}, {"sel": {"UtcTime|startswith": "2020"}, "condition": "sel"},
     "field 'UtcTime': the pipeline parses UtcTime into @timestamp and deletes it"),
    ("dash-dropped", {"category": "image_load"}, {"sel": {"Signed": "-"}, "condition": "sel"},
     "Signed: the Sysmon pipeline drops '-', empty and all-zero GUID values"),
    ("ip-contains", {"category": "network_connection"}, {"sel": {"DestinationIp|contains": "10"}, "condition": "sel"},
     "DestinationIp: the integration stores it as an ip field"),
    ("access-list-exact", {"service": "security"}, {"sel": {"AccessList": "%%4417 %%4418"}, "condition": "sel"},
     "AccessList: the integration splits it on spaces into a list of codes"),
    ("unknown-category", {"category": "file_access"}, {"sel": {"FileName": "x"}, "condition": "sel"},
     "logsource windows/file_access: no Windows event log or Sysmon event records it"),
    ("hash-not-algorithm", {"category": "process_creation"}, {"sel": {"Hashes|contains": "abc"}, "condition": "sel"},
     "Hashes: the integration splits it into lower-cased"),
    ("name-in-wrong-case", {"category": "process_creation"}, {"sel": {"image|endswith": "x"}, "condition": "sel"},
     "field 'image': Windows event data names are case-sensitive, and windows.sysmon_operational events spell "
     "this field 'Image': 'image' would match no event"),
    ("name-in-wrong-case-on-security", {"service": "security"}, {"sel": {"processname": "x"}, "condition": "sel"},
     "field 'processname': Windows event data names are case-sensitive, and system.security events spell this "
     "field 'ProcessName': 'processname' would match no event"),
]


@pytest.mark.parametrize(("logsource", "detection", "reason"), [c[1:] for c in UNSUPPORTED], ids=[c[0] for c in UNSUPPORTED])
def test_unsupported_with_reason(compile_rule, logsource: dict[str, str], detection: dict[str, Any], reason: str) -> None:
    with pytest.raises(UnsupportedFeature) as err:
        compile_rule(logsource, detection, "kql")
    assert err.value.message.startswith(reason)


def test_a_name_another_channel_spells_otherwise_is_that_channels_own(compile_rule) -> None:
    """OpenSSH writes its message as ``payload``: PowerShell's ``Payload`` does not make it a wrong-case name."""
    query = compile_rule({"service": "openssh"}, {"sel": {"payload|startswith": "Server listening"}, "condition": "sel"},
                         "kql")
    assert query == ('winlog.channel: "OpenSSH/Operational"\n    and (winlog.event_data.payload: Server listening* '
                     "or winlog.user_data.payload: Server listening*)")


def test_caveats_case_on_kql_and_the_indexing_limit_of_each_matched_field(compiled) -> None:
    detection = {"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "sel"}
    kql = compiled({"category": "file_event"}, detection, "kql")
    lucene = compiled({"category": "file_event"}, detection, "lucene")
    ignore_above = (
        "ignore_above: values longer than the mapping's limit in characters are not indexed in "
        "process.executable (1024); an event holding a longer value (a long command line, script path or "
        "registry value) is seen as lacking the field and escapes a match on it"
    )
    assert kql.caveats == (KQL_CASE, ignore_above)
    assert lucene.caveats == (ignore_above,)
    eql = compiled({"category": "file_event"}, detection, "eql")
    assert eql.caveats == (ignore_above,)
    assert eql.query == ('any where (winlog.channel == "Microsoft-Windows-Sysmon/Operational" and event.code == "11") '
                         'and process.executable : "*\\\\cmd.exe"')
    assert kql.details["index"] == ["logs-windows.sysmon_operational-*", "logs-windows.forwarded*", "winlogbeat-*"]
    assert lucene.details["data_streams"] == ["windows.sysmon_operational"]


def test_powershell_7_channel_is_a_second_data_stream(compile_rule) -> None:
    query = compile_rule({"category": "ps_script"}, {"sel": {"Path|endswith": ".ps1"}, "condition": "sel"}, "kql")
    assert query == (
        'winlog.channel: "Microsoft-Windows-PowerShell/Operational" and event.code: "4104" and file.path: *.ps1 or '
        'winlog.channel: "PowerShellCore/Operational" and event.code: "4104" and '
        "(winlog.event_data.Path: *.ps1 or winlog.user_data.Path: *.ps1)"
    )


@pytest.mark.parametrize(
    ("prefix", "networks"),
    [("10.", ["10.0.0.0/8"]), ("192.168.", ["192.168.0.0/16"]), ("172.16.0.", ["172.16.0.0/24"]),
     ("10.1", ["10.1.0.0/16"] + [f"10.{n}.0.0/16" for n in range(10, 20)] + [f"10.{n}.0.0/16" for n in range(100, 200)]),
     ("256.", []), ("abc", None)],
    ids=["octet", "two-octets", "three-octets", "partial-octet", "impossible", "not-ipv4"],
)
def test_ipv4_text_prefix_as_networks(prefix: str, networks: list[str] | None) -> None:
    assert ipv4_prefix_networks(prefix) == networks


def test_no_field_is_typed_differently_by_two_cells() -> None:
    from backends.elastic import index_mapping
    from backends.elastic.cells import field_spec
    from backends.elastic.windows import index_mapping as windows_mapping

    for name, spec in windows_mapping.TYPED.items():
        assert index_mapping.typed(name) in (None, spec), name
        assert field_spec(name) == spec
    assert field_spec("aws.cloudtrail.read_only").type == "boolean"
    assert field_spec("process.pid").type == "long"
    assert field_spec("winlog.event_data.Image").type == "keyword"


def test_investigation_fields_where_the_integrations_store_them() -> None:
    from backends.elastic.windows.pipeline import investigation_fields

    assert investigation_fields(["Image", "User", "GrantedAccess", "EventID", "ProcessName"]) == [
        "process.executable", "user.name", "winlog.event_data.GrantedAccess", "event.code", "process.executable",
    ]


def test_kql_wildcard_field_option_only_for_named_fields() -> None:
    from backends.elastic.kql_backend import KqlBackend

    assert KqlBackend(wildcard_fields=frozenset({"a.b*"})).escape_and_quote_field("a.b*") == "a.b*"
    assert KqlBackend(wildcard_fields=frozenset({"a.b*"})).escape_and_quote_field("a.c*") == "a.c\\*"
    assert KqlBackend().escape_and_quote_field("a.b*") == "a.b\\*"


def test_process_creation_is_every_kind_of_event_the_logsource_layer_names(compile_rule) -> None:
    """Sysmon 1, and Security 4688 (which writes Image as NewProcessName, stored in process.executable)."""
    query = compile_rule({"category": "process_creation"},
                         {"sel": {"Image|endswith": "\\cmd.exe", "CommandLine|contains": "/c"}, "condition": "sel"}, "kql")
    assert query == (
        'winlog.channel: "Microsoft-Windows-Sysmon/Operational" and event.code: "1" and '
        "process.executable: *\\\\cmd.exe and process.command_line: */c* or "
        'winlog.channel: "Security" and event.code: "4688" and process.executable: *\\\\cmd.exe and '
        "winlog.event_data.CommandLine: */c*"
    )


def test_windows_index_patterns_by_data_stream_and_per_client() -> None:
    from backends.elastic.windows.storage import storage

    security = {"product": "windows", "service": "security"}
    assert storage({}, security) == {
        "index": ["logs-system.security*", "logs-windows.forwarded*", "winlogbeat-*"], "data_streams": ["system.security"],
    }
    assert storage({"windows_index": ["acme-win-*"]}, security)["index"] == ["acme-win-*"]
    assert storage({}, {"product": "windows", "service": "wmi"})["index"] == ["logs-windows.forwarded*", "winlogbeat-*"]


def test_eql_numbers_compare_as_numbers_and_field_patterns_are_refused(compile_rule) -> None:
    query = compile_rule({"category": "network_connection"},
                         {"sel": {"DestinationPort": [80, 443], "Archived": "true"}, "condition": "sel"}, "eql")
    assert query == ('any where (winlog.channel == "Microsoft-Windows-Sysmon/Operational" and event.code == "3") and '
                     "((destination.port == 80 or destination.port == 443) and sysmon.file.archived == true)")
    with pytest.raises(UnsupportedFeature) as err:
        compile_rule({"service": "application"}, {"sel": {"Data|contains": "x"}, "condition": "sel"}, "eql")
    assert err.value.message.startswith("field 'winlog.event_data.param*': a field-name pattern, and EQL has none")


def test_a_client_names_its_own_windows_indices(rule_from) -> None:
    from compiler.profile import Profile

    profile = Profile(name="client", target_settings={"kql": {"windows_index": ["client-winlogbeat-*"]}})
    rule = rule_from({"sel": {"Image|endswith": "\\x.exe"}, "condition": "sel"},
                     logsource={"product": "windows", "category": "file_event"})
    assert compile_one(REGISTRY.get("kql"), rule, profile).details["index"] == ["client-winlogbeat-*"]
    assert compile_one(REGISTRY.get("lucene"), rule, profile).details["index"][0] == "logs-windows.sysmon_operational-*"
