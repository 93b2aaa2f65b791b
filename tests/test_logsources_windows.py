"""The Windows logsources: evtx_dump JSON events, Sigma field names on them, the conditions each category implies."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.errors import UnsupportedFeature
from compiler.logsources import FAMILIES, find, recognise, require
from compiler.logsources.windows import CATEGORIES, SERVICES, SYSMON
from tests.support import require_corpus


def event(event_id: Any, channel: str = SYSMON, provider: str = "Microsoft-Windows-Sysmon", **data: Any) -> dict[str, Any]:
    return {
        "Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": provider, "Guid": "5770385F-C22A-43E0-BF4C-06F5698FFBD9"}},
                "EventID": event_id,
                "Channel": channel,
                "Computer": "host1",
                "Security": {"#attributes": {"UserID": "S-1-5-18"}},
                "Version": 5,
            },
            "EventData": data,
        }
    }


def source(**logsource: str):
    return find({"product": "windows", **logsource})


def test_system_fields_and_event_data_resolve_by_sigma_name() -> None:
    record = event(1, Image="C:\\x.exe", ProcessId=4460)
    view = FAMILIES["windows"].view(record)
    assert view["EventID"] == 1 and view["Channel"] == SYSMON and view["Computer"] == "host1"
    assert view["Provider_Name"] == "Microsoft-Windows-Sysmon" and view["Security_UserID"] == "S-1-5-18"
    assert view["Image"] == "C:\\x.exe" and view["ProcessId"] == 4460
    assert view["Version"] == 5


def test_event_values_win_over_system_values_except_the_common_five() -> None:
    record = event(16, Version="15.0", EventID="999", Channel="spoofed")
    view = FAMILIES["windows"].view(record)
    assert view["Version"] == "15.0"  # Sysmon's status event has its own Version
    assert view["EventID"] == 16 and view["Channel"] == SYSMON


def test_text_elements_user_data_and_names_with_spaces() -> None:
    record = event({"#attributes": {"Qualifiers": 16384}, "#text": 7045}, channel="System")
    record["Event"]["EventData"] = {"Data": {"#text": ["a", "b"]}, "#attributes": {"Name": "x"}}
    view = FAMILIES["windows"].view(record)
    assert view["EventID"] == 7045 and view["EventID_Qualifiers"] == 16384
    assert view["Data"] == ["a", "b"] and "#attributes" not in view
    user = event(5858, channel="Microsoft-Windows-WMI-Activity/Operational")
    del user["Event"]["EventData"]
    user["Event"]["UserData"] = {"Operation_ClientFailure": {"#attributes": {"xmlns": "x"}, "Operation": "op", "ResultCode": "0x80041003"}}
    assert FAMILIES["windows"].view(user)["Operation"] == "op"
    defender = event(1116, channel="Microsoft-Windows-Windows Defender/Operational", **{"Threat Name": "EICAR"})
    view = FAMILIES["windows"].view(defender)
    assert view["Threat Name"] == "EICAR" and view["ThreatName"] == "EICAR"


def test_process_creation_is_sysmon_1_or_security_4688_with_its_names() -> None:
    creation = source(category="process_creation")
    sysmon = event(1, Image="C:\\a.exe", ParentImage="C:\\p.exe")
    security = event(4688, channel="Security", provider="Microsoft-Windows-Security-Auditing",
                     NewProcessName="C:\\a.exe", ParentProcessName="C:\\p.exe")
    assert creation.field_values(sysmon, "Image") == ["C:\\a.exe"]
    assert creation.field_values(security, "Image") == ["C:\\a.exe"]
    assert creation.field_values(security, "ParentImage") == ["C:\\p.exe"]
    assert creation.admits(sysmon) and creation.admits(security)
    assert creation.set_field(security, "Image", "C:\\b.exe")["Event"]["EventData"]["NewProcessName"] == "C:\\b.exe"


@pytest.mark.parametrize(
    ("category", "event_id", "extra", "admitted"),
    [
        ("process_creation", 13, {}, False),  # a registry event carrying an Image is no process creation
        ("process_creation", "1", {}, True),  # EventID as text (other exporters)
        ("registry_set", 13, {}, True),
        ("registry_set", 12, {}, False),
        ("registry_event", 14, {}, True),
        ("registry_add", 12, {"EventType": "CreateKey"}, True),
        ("registry_add", 12, {"EventType": "DeleteKey"}, False),
        ("registry_delete", 12, {"EventType": "DeleteValue"}, True),
        ("pipe_created", 18, {}, True),
        ("sysmon_status", 16, {}, True),
    ],
    ids=["pc-13", "pc-text-1", "rs-13", "rs-12", "re-14", "ra-create", "ra-delete", "rd-value", "pipe-18", "status-16"],
)
def test_a_category_implies_its_sysmon_event(category: str, event_id: Any, extra: dict[str, str], admitted: bool) -> None:
    assert source(category=category).admits(event(event_id, Image="C:\\a.exe", **extra)) is admitted


def test_a_sysmon_event_id_on_another_channel_is_not_sysmon() -> None:
    assert not source(category="process_creation").admits(event(1, channel="Application", provider="x"))


def test_services_are_channels_and_powershell_has_two() -> None:
    assert source(service="security").admits(event(4624, channel="Security"))
    assert not source(service="security").admits(event(4624, channel="System"))
    ps = source(category="ps_script")
    assert ps.admits(event(4104, channel="PowerShellCore/Operational"))
    assert ps.admits(event(4104, channel="Microsoft-Windows-PowerShell/Operational"))
    assert not ps.admits(event(4103, channel="Microsoft-Windows-PowerShell/Operational"))


def test_set_field_places_system_and_data_fields() -> None:
    base = event(1, Image="a")
    assert source(category="process_creation").set_field(base, "Computer", "h2")["Event"]["System"]["Computer"] == "h2"
    assert source(service="sysmon").set_field(base, "Provider_Name", "p")["Event"]["System"]["Provider"]["#attributes"]["Name"] == "p"
    defender = event(1116, **{"Threat Name": "x"})
    changed = source(service="windefend").set_field(defender, "ThreatName", "y")["Event"]["EventData"]
    assert changed == {"Threat Name": "y"}
    assert base["Event"]["EventData"] == {"Image": "a"}


def test_recognise_and_undefined_categories() -> None:
    assert recognise(event(1)) is FAMILIES["windows"]
    assert recognise({"Event": {}}) is None
    with pytest.raises(UnsupportedFeature, match=r"^logsource windows/file_access: no Windows event log"):
        require({"product": "windows", "category": "file_access"})


def test_every_windows_logsource_sigmahq_names_is_defined_or_refused_with_a_reason() -> None:
    """The lists come from the corpus: every product: windows rule's category or service."""
    import yaml

    root = require_corpus() / "sigmahq-all"
    named: set[tuple[str | None, str | None]] = set()
    for path in root.rglob("*.yml"):
        text = path.read_text(encoding="utf-8")
        if "product: windows" not in text:
            continue
        data = yaml.load(text, Loader=yaml.CSafeLoader)
        logsource = data.get("logsource") if isinstance(data, dict) else None
        if isinstance(logsource, dict) and logsource.get("product") == "windows":
            named.add((logsource.get("category"), logsource.get("service")))
    assert (None, None) in named  # one rule names the product alone: no definition, a plain reason
    named.discard((None, None))
    for category, service in sorted(named, key=str):
        logsource = {"product": "windows", "category": category, "service": service}
        if find(logsource) is None:
            with pytest.raises(UnsupportedFeature, match="no Windows event log"):
                require(logsource)
    assert {s for c, s in named if s and not c} <= set(SERVICES)
    assert {c for c, s in named if c} - set(CATEGORIES) == {"file_access", "file_rename"}


def test_the_reference_evaluates_windows_rules_on_raw_events(rule_from) -> None:
    from backends.sigma.target import SigmaTarget
    from compiler.build import compile_one
    from compiler.profile import DEFAULT_PROFILE

    target = SigmaTarget()
    rule = rule_from(
        {"sel": {"Image|endswith": "\\whoami.exe", "ProcessId": 42}, "filter": {"User": "SYSTEM"},
         "condition": "sel and not filter"},
        logsource={"product": "windows", "category": "process_creation"},
    )
    matcher = target.evaluator(compile_one(target, rule, DEFAULT_PROFILE).query)
    assert matcher(event(1, Image="C:\\Windows\\System32\\WHOAMI.EXE", ProcessId=42))
    assert matcher(event(4688, channel="Security", NewProcessName="C:\\x\\whoami.exe", ProcessId="42"))
    assert not matcher(event(13, Image="C:\\Windows\\System32\\whoami.exe", ProcessId=42))  # registry event
    assert not matcher(event(1, Image="C:\\whoami.exe", ProcessId=42, User="system"))
    assert not matcher({"eventName": "X"})  # a CloudTrail record is no Windows event
