"""Classic rendering (``renderXml = 0``): the deployment setting ``windows_rendering: classic``.

With the classic rendering the forwarder writes each event as text — a header of ``Key=Value``
lines (``LogName``, ``EventCode``, ``ComputerName``, ``SourceName``, ``RecordNumber``…) and the
message Windows renders from the event — with ``source = WinEventLog:<channel>`` and ``sourcetype =
WinEventLog``; the Splunk Add-on for Microsoft Windows extracts the header keys and the message's
``Label: value`` lines, a label's spaces becoming ``_`` (``New Process Name:`` → ``New_Process_Name``).
The labels of Security 4688 are those of its message template (Microsoft Learn, "4688(S): A new
process has been created": ``New Process ID``, ``New Process Name``, ``Token Elevation Type``,
``Mandatory Label``, ``Creator Process ID``, ``Creator Process Name``, ``Process Command Line``, and
``Security ID``/``Account Name``/``Account Domain``/``Logon ID`` under both Subject and Target
Subject); users' own searches name them so (``EventCode=4688 New_Process_Name=… Creator_Process_Name=…``).

What detc compiles for a classic deployment:

- Sysmon keeps the XML rendering: the Splunk Add-on for Sysmon reads
  ``XmlWinEventLog:Microsoft-Windows-Sysmon/Operational`` (its props.conf stanza; security_content's
  ``sysmon`` macro selects only XML sources), so its events are searched as in an XML deployment.
- process_creation's Security 4688 events are searched under their classic names.
- Rules of other channels may test only the header (``EventID`` → ``EventCode``, ``Provider_Name``
  → ``SourceName``, ``Computer`` → ``ComputerName``, ``Channel`` → ``LogName``): detc knows no
  other event's message labels, and keywords would search message text detc does not model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler.logsources import Variant
from compiler.logsources.windows import CATEGORIES, SYSMON

HEADER: Mapping[str, str] = {
    "EventID": "EventCode",
    "Provider_Name": "SourceName",
    "Computer": "ComputerName",
    "Channel": "LogName",
}
"""Sigma name → the classic header key."""

XML_HEADER: Mapping[str, str] = {"Provider_Name": "Name", "Computer": "Computer", "Channel": "Channel"}
"""The same header values' names in an XML-rendered event (``EventID`` is ``EventCode`` in both)."""

SECURITY_4688: Mapping[str, str] = {
    "NewProcessId": "New_Process_ID",
    "NewProcessName": "New_Process_Name",
    "TokenElevationType": "Token_Elevation_Type",
    "MandatoryLabel": "Mandatory_Label",
    "ProcessId": "Creator_Process_ID",
    "ParentProcessName": "Creator_Process_Name",
    "CommandLine": "Process_Command_Line",
    "SubjectUserSid": "Security_ID",
    "SubjectUserName": "Account_Name",
    "SubjectDomainName": "Account_Domain",
    "SubjectLogonId": "Logon_ID",
    "TargetUserSid": "Security_ID",
    "TargetUserName": "Account_Name",
    "TargetDomainName": "Account_Domain",
    "TargetLogonId": "Logon_ID",
}
"""4688's EventData name → the field the classic message's label gives it."""

SHARED_LABELS = frozenset(name for name, label in SECURITY_4688.items() if list(SECURITY_4688.values()).count(label) > 1)
"""Names whose label the message repeats (Subject and Target): one multivalue field holds both."""

CAVEAT_SHARED = (
    "classic rendering: the 4688 message repeats its Subject and Target labels (Account Name, "
    "Account Domain, Security ID, Logon ID), so a Subject* or Target* field is searched in the one "
    "multivalue field that holds both"
)


def xml_always(channel: str) -> bool:
    """Channels whose add-on reads XML whatever the Windows add-on's rendering (Sysmon)."""
    return channel == SYSMON


def is_classic_4688(variant: Variant) -> bool:
    return variant.conditions.get("Channel") == ("Security",) and variant.conditions.get("EventID") == (4688,)


def process_creation_alternatives() -> dict[str, tuple[str, ...]]:
    """For classic deployments: each Sigma name process_creation rules use → its Sysmon name and
    the classic field of its Security 4688 counterpart."""
    renames: dict[str, str] = {}
    for variant in CATEGORIES["process_creation"]:
        if is_classic_4688(variant):
            renames = dict(variant.renames)
    out: dict[str, tuple[str, ...]] = {}
    for own, label in SECURITY_4688.items():
        for sigma_name in [own, *(s for s, o in renames.items() if o == own)]:
            out[sigma_name] = tuple(dict.fromkeys((sigma_name, label)))
    for sigma_name, xml_name in XML_HEADER.items():
        out.setdefault(sigma_name, (xml_name, HEADER[sigma_name]))
    return out


def header_only_categories() -> list[str]:
    """Categories none of whose events are Sysmon's (their rules need the classic names)."""
    return sorted(
        name for name, found in CATEGORIES.items()
        if not any(SYSMON in v.conditions.get("Channel", ()) for v in found)
    )


def refusal(variants: tuple[Variant, ...], fields: list[str | None]) -> str | None:
    """Why a rule cannot be searched in a classic deployment, or None."""
    channels = [c for v in variants for c in v.conditions.get("Channel", ())]
    if all(xml_always(c) for c in channels) or any(is_classic_4688(v) for v in variants):
        return None
    for name in fields:
        if name is None:
            return "classic rendering: keywords would search the rendered message text, which detc does not model"
        if name not in HEADER:
            return (
                f"classic rendering: no classic field is known for {name} on {' or '.join(map(str, channels))} "
                "(detc knows the header keys and the message labels of Security 4688)"
            )
    return None


def classic_fields(event_id: Any, channel: str, data: Mapping[str, Any]) -> dict[str, str]:
    """EventData name → classic field, for the events whose labels detc knows."""
    if channel == "Security" and str(event_id) == "4688":
        return {name: SECURITY_4688[name] for name in data if name in SECURITY_4688}
    return {}
