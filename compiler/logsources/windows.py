"""Windows event logs: one event as evtx_dump (the ``evtx`` Rust parser) writes it as JSON.

The raw form is the one SigmaHQ keeps beside its regression samples and that EVTX tools write::

    {"Event": {"System": {"Provider": {"#attributes": {"Name": ...}}, "EventID": 1, "Channel": ...,
               "Computer": ..., "Security": {"#attributes": {"UserID": ...}}, ...},
               "EventData": {"Image": ..., "CommandLine": ..., ...}}}

Its quirks, and how Sigma field names resolve on it:

- ``EventData`` holds the named values; an event may carry ``UserData`` instead (one element whose
  children are the values). A value may be an element with attributes, ``{"#attributes": ...,
  "#text": value}``: its text is the value. Unnamed ``Data`` elements stay under ``Data``.
- Numbers are JSON integers (``EventID: 1``, ``ProcessId: 4460``): Sigma compares numbers as numbers
  and text as text, so ``EventID: 4688`` and ``ProcessId: '4460'`` both hold.
- Microsoft Defender writes names with spaces (``Threat Name``); Sigma writes them without
  (``ThreatName``): both names resolve.
- ``System`` values resolve by name (``EventID``, ``Channel``, ``Computer``, ``Level`` ...) and element
  attributes as ``<element>_<attribute>``: ``Provider_Name``, ``Security_UserID`` (SigmaHQ's
  ``tests/logsource.json`` lists EventID, Provider_Name, Channel, Computer, Security_UserID as the
  fields common to every Windows logsource). These five always come from ``System``; any other
  name is the event's own value first (Sysmon's status event has its own ``Version``).

Logsources, and the conditions each implies, are SigmaHQ's own (SigmaHQ/sigma @
8eaafff1f2845a696050e05e72ba1140ee190698, ``tests/thor.yml``, the configuration of SigmaHQ's
regression run): a category is Sysmon events of given EventIDs on the Sysmon channel (registry_add
and registry_delete also by Sysmon's ``EventType``), ``process_creation`` is also Security 4688 with
``Image``/``ParentImage`` written as ``NewProcessName``/``ParentProcessName``, PowerShell categories
are EventIDs on the PowerShell channels, and a ``service`` is its channel(s). The services are
every ``service:`` that SigmaHQ's Windows rules name (rules/, rules-emerging-threats/,
rules-threat-hunting/, rules-placeholder/, rules-compliance/ at that commit), with their channel
from thor.yml or, for the four thor.yml lacks, from pySigma-pipeline-windows 2.0.1
(``sigma/pipelines/windows/windows.py``, ``windows_logsource_mapping``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from compiler.logsources.model import Family, Logsource, Record, Variant

SYSMON = "Microsoft-Windows-Sysmon/Operational"
SECURITY = "Security"
POWERSHELL = ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational")
POWERSHELL_CLASSIC = "Windows PowerShell"

SYSTEM_FIELDS: Mapping[str, tuple[str, ...]] = {
    "EventID": ("EventID",),
    "Channel": ("Channel",),
    "Computer": ("Computer",),
    "Provider_Name": ("Provider", "#attributes", "Name"),
    "Security_UserID": ("Security", "#attributes", "UserID"),
}
"""The fields every Windows logsource has (SigmaHQ tests/logsource.json ``common``) → their place in ``System``."""


DEFENDER = "Microsoft-Windows-Windows Defender/Operational"
DEFENDER_NAMES: tuple[str, ...] = (
    "Product Name", "Product Version", "Detection ID", "Detection Time", "Threat ID", "Threat Name",
    "Severity ID", "Severity Name", "Category ID", "Category Name", "Status Code", "Status Description",
    "Source ID", "Source Name", "Process Name", "Detection User", "Origin ID", "Origin Name",
    "Execution ID", "Execution Name", "Type ID", "Type Name", "Pre Execution Status", "Action ID",
    "Action Name", "Error Code", "Error Description", "Post Clean Status", "Additional Actions ID",
    "Additional Actions String", "Remediation User", "Security intelligence Version", "Engine Version",
    "New Value", "Old Value", "Feature Name", "Feature ID", "Scan ID", "Scan Type ID", "Scan Type Name",
    "Scan Parameters ID", "Scan Parameters Name", "Signature Version", "Platform Version",
)
"""Windows Defender/Operational ``<Data Name>``s with spaces (Microsoft, "Microsoft Defender
Antivirus event IDs and error codes"; the same names in SigmaHQ's regression sample of event 1119):
Sigma writes them without (``ThreatName``), an event always with."""
SPACED_NAMES: Mapping[str, Mapping[str, str]] = {DEFENDER: {n.replace(" ", ""): n for n in DEFENDER_NAMES}}
"""Per channel, Sigma's name → the name with spaces its events write."""
CHANNEL_PROVIDERS: Mapping[str, str] = {
    SYSMON: "Microsoft-Windows-Sysmon",
    SECURITY: "Microsoft-Windows-Security-Auditing",
    POWERSHELL[0]: "Microsoft-Windows-PowerShell",
    POWERSHELL[1]: "PowerShellCore",
    POWERSHELL_CLASSIC: "PowerShell",
}
"""The provider (``System/Provider/@Name``) that writes the events of a channel the logsources pin by
event id: Sysmon's, the Security auditing events (4688 …; the log's own 1100-1108 come from
Microsoft-Windows-Eventlog, and rules on them name that provider) and PowerShell's, as SigmaHQ's
regression samples and Elastic's pipeline test pairs show them. Platforms route on it (Elastic's
Security pipeline parses only these providers' events)."""
HASH_DIGITS: Mapping[str, int] = {"MD5": 32, "SHA1": 40, "SHA256": 64, "IMPHASH": 32}
"""Sysmon's hash algorithms (its ``HashAlgorithms`` setting: MD5, SHA1, SHA256, IMPHASH) and the
hexadecimal digits of each digest."""
_ONE_HASH = "|".join(f"{name}=[0-9A-F]{{{digits}}}" for name, digits in HASH_DIGITS.items())
SYSMON_HASHES = re.compile(f"(?:{_ONE_HASH})(?:,(?:{_ONE_HASH}))*", re.IGNORECASE)
"""How Sysmon writes ``Hashes`` (and event 15's ``Hash``): ``ALGORITHM=<hex digest>`` for each
configured algorithm, joined by commas (``SHA1=…,MD5=…,SHA256=…,IMPHASH=…``), as every Sysmon event
of SigmaHQ's regression data and of Elastic's pipeline test pairs (elastic/integrations
``packages/windows/data_stream/sysmon_operational/_dev/test/pipeline``) holds it; upper case as
Sysmon writes it, any case accepted (rules write digests in either)."""
ACCOUNT = re.compile(r"[^\\]+\\[^\\]+")
"""How Sysmon writes an account (``User``): ``DOMAIN\\name`` (``NT AUTHORITY\\SYSTEM``), as every
Sysmon event of SigmaHQ's regression data holds it."""
SYSMON_EVENT_TYPE = re.compile(r"(?:[A-Z][a-z]+)+")
"""Sysmon's ``EventType``: one CamelCase word, as Sysmon spells it (``CreateKey``, ``DeleteValue``,
``SetValue``, ``RenameKey``, ``CreatePipe``, ``ConnectPipe``, ``WmiBindingEvent``)."""
VALUE_FORMS: Mapping[str, Mapping[str, re.Pattern[str]]] = {
    SYSMON: {"Hashes": SYSMON_HASHES, "Hash": SYSMON_HASHES, "User": ACCOUNT, "EventType": SYSMON_EVENT_TYPE},
}
"""Per channel, the event data its source always writes in one form: a record holds nothing else there."""


def _text(value: Any) -> Any:
    """An element's value: its text when it carries attributes (``{"#attributes", "#text"}``)."""
    if isinstance(value, Mapping) and "#text" in value:
        return value["#text"]
    return value


class Windows(Family):
    name = "windows"
    description = "Windows events (evtx_dump JSON: Event.System, Event.EventData or Event.UserData)"

    def view(self, record: Record) -> Mapping[str, Any]:
        event = record.get("Event") if isinstance(record, Mapping) else None
        if not isinstance(event, Mapping):
            return {}
        system = event.get("System")
        view: dict[str, Any] = {}
        if isinstance(system, Mapping):
            for key, value in system.items():
                if isinstance(value, Mapping):
                    if "#text" in value:
                        view[key] = value["#text"]
                    attributes = value.get("#attributes")
                    if isinstance(attributes, Mapping):
                        for attribute, item in attributes.items():
                            view[f"{key}_{attribute}"] = item
                else:
                    view[key] = value
        for name, value in _values(event).items():
            view[name] = value
            if " " in name:
                view.setdefault(name.replace(" ", ""), value)
        if isinstance(system, Mapping):
            for name, path in SYSTEM_FIELDS.items():
                found = _at(system, path)
                if found is not _ABSENT:
                    view[name] = _text(found)
        return view

    def recognises(self, record: Any) -> bool:
        event = record.get("Event") if isinstance(record, Mapping) else None
        return isinstance(event, Mapping) and isinstance(event.get("System"), Mapping)

    def complete(self, record: Record) -> dict[str, Any]:
        """The record with its channel's provider, where one provider writes the channel's events."""
        channel = self.view(record).get("Channel")
        provider = CHANNEL_PROVIDERS.get(channel) if isinstance(channel, str) else None
        if provider is None or "Provider_Name" in self.view(record):
            return dict(record)
        return self.set_field(record, "Provider_Name", provider)

    def _form(self, record: Record, name: str) -> re.Pattern[str] | None:
        channel = self.view(record).get("Channel")
        return VALUE_FORMS.get(channel, {}).get(name) if isinstance(channel, str) else None

    def can_hold(self, record: Record, name: str, value: Any) -> bool:
        if name in ("Channel", "Provider_Name") and isinstance(value, str):  # Windows' own spelling only
            known = _SPELLINGS.get(value.casefold())
            return known is None or known == value
        form = self._form(record, name)
        return form is None or not isinstance(value, str) or form.fullmatch(value) is not None

    def fits(self, record: Record, name: str, value: Any) -> list[Any]:
        if self._form(record, name) is not ACCOUNT or not isinstance(value, str) or "\\" in value:
            return []
        return [f"WORKSTATION\\{value}", f"{value}\\user"]

    def set_field(self, record: Record, name: str, value: Any) -> dict[str, Any]:
        """System fields in System; any other in the event's data (EventData, else UserData's element)."""
        out: dict[str, Any] = copy.deepcopy(dict(record))
        event = out.setdefault("Event", {})
        if name in SYSTEM_FIELDS:
            node = event.setdefault("System", {})
            *parents, last = SYSTEM_FIELDS[name]
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
            return out
        if "EventData" not in event and isinstance(event.get("UserData"), Mapping):
            element = next((v for v in event["UserData"].values() if isinstance(v, dict)), None)
            if element is not None:
                element[name] = value
                return out
        data = event.get("EventData")
        if not isinstance(data, dict):
            data = event["EventData"] = {}
        spaced = next((k for k in data if " " in k and k.replace(" ", "") == name), None)
        channel = self.view(record).get("Channel")
        if spaced is None and isinstance(channel, str):
            spaced = SPACED_NAMES.get(channel, {}).get(name)
        data[spaced or name] = value
        return out


_ABSENT = object()


def _at(node: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _values(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's own named values: EventData's, or the children of UserData's element."""
    out: dict[str, Any] = {}
    data = event.get("EventData")
    if isinstance(data, Mapping):
        out.update((k, _text(v)) for k, v in data.items() if not k.startswith("#"))
    user = event.get("UserData")
    if isinstance(user, Mapping):
        for element in user.values():
            if isinstance(element, Mapping):
                out.update((k, _text(v)) for k, v in element.items() if not k.startswith("#"))
    return out


FAMILY = Windows()


def _sysmon(*event_ids: int, **conditions: tuple[str, ...]) -> tuple[Variant, ...]:
    return (Variant(conditions={"Channel": (SYSMON,), "EventID": event_ids, **conditions}),)


CATEGORIES: Mapping[str, tuple[Variant, ...]] = {
    # thor.yml logsources, category → Sysmon EventID (and EventType where thor.yml gives it)
    "process_creation": (
        *_sysmon(1),
        Variant(
            conditions={"Channel": (SECURITY,), "EventID": (4688,)},
            renames={"Image": "NewProcessName", "ParentImage": "ParentProcessName"},
        ),
    ),
    "file_change": _sysmon(2),
    "network_connection": _sysmon(3),
    "sysmon_status": _sysmon(4, 16),
    "process_termination": _sysmon(5),
    "driver_load": _sysmon(6),
    "image_load": _sysmon(7),
    "create_remote_thread": _sysmon(8),
    "raw_access_thread": _sysmon(9),
    "process_access": _sysmon(10),
    "file_event": _sysmon(11),
    "registry_event": _sysmon(12, 13, 14),
    "registry_add": _sysmon(12, EventType=("CreateKey",)),
    "registry_delete": _sysmon(12, EventType=("DeleteKey", "DeleteValue")),
    "registry_set": _sysmon(13),
    "registry_rename": _sysmon(14),
    "create_stream_hash": _sysmon(15),
    "pipe_created": _sysmon(17, 18),
    "wmi_event": _sysmon(19, 20, 21),
    "dns_query": _sysmon(22),
    "file_delete": _sysmon(23),
    # thor.yml names Sysmon's event 24 clipboard_change; SigmaHQ's rules and logsource.json say clipboard_capture
    "clipboard_capture": _sysmon(24),
    "process_tampering": _sysmon(25),
    "file_delete_detected": _sysmon(26),
    "file_block_executable": _sysmon(27),
    "file_block_shredding": _sysmon(28),
    "file_executable_detected": _sysmon(29),
    "sysmon_error": _sysmon(255),
    # PowerShell: Operational (4103 module logging, 4104 script block logging) and the classic log
    "ps_module": (Variant(conditions={"Channel": POWERSHELL, "EventID": (4103,)}),),
    "ps_script": (Variant(conditions={"Channel": POWERSHELL, "EventID": (4104,)}),),
    "ps_classic_start": (Variant(conditions={"Channel": (POWERSHELL_CLASSIC,), "EventID": (400,)}),),
    "ps_classic_provider_start": (Variant(conditions={"Channel": (POWERSHELL_CLASSIC,), "EventID": (600,)}),),
    "ps_classic_script": (Variant(conditions={"Channel": (POWERSHELL_CLASSIC,), "EventID": (800,)}),),
}

SERVICES: Mapping[str, tuple[str, ...]] = {
    "application": ("Application",),
    "applocker": (
        "Microsoft-Windows-AppLocker/MSI and Script",
        "Microsoft-Windows-AppLocker/EXE and DLL",
        "Microsoft-Windows-AppLocker/Packaged app-Deployment",
        "Microsoft-Windows-AppLocker/Packaged app-Execution",
    ),
    "appmodel-runtime": ("Microsoft-Windows-AppModel-Runtime/Admin",),
    "appxdeployment-server": ("Microsoft-Windows-AppXDeploymentServer/Operational",),
    "appxpackaging-om": ("Microsoft-Windows-AppxPackaging/Operational",),
    "bits-client": ("Microsoft-Windows-Bits-Client/Operational",),
    "capi2": ("Microsoft-Windows-CAPI2/Operational",),
    "certificateservicesclient-lifecycle-system": (
        "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational",
    ),
    "codeintegrity-operational": ("Microsoft-Windows-CodeIntegrity/Operational",),
    "diagnosis-scripted": ("Microsoft-Windows-Diagnosis-Scripted/Operational",),
    "dns-client": ("Microsoft-Windows-DNS Client Events/Operational",),
    "dns-server": ("DNS Server",),  # pySigma-pipeline-windows
    "dns-server-analytic": ("Microsoft-Windows-DNS-Server/Analytical",),  # pySigma-pipeline-windows
    "driver-framework": ("Microsoft-Windows-DriverFrameworks-UserMode/Operational",),  # pySigma-pipeline-windows
    "firewall-as": ("Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",),
    "iis-configuration": ("Microsoft-IIS-Configuration/Operational",),
    "ldap": ("Microsoft-Windows-LDAP-Client/Debug",),
    "lsa-server": ("Microsoft-Windows-LSA/Operational",),
    # thor.yml's servicebus-client (the rule notes it will be renamed so once validators allow)
    "microsoft-servicebus-client": ("Microsoft-ServiceBus-Client/Admin", "Microsoft-ServiceBus-Client/Operational"),
    "msexchange-management": ("MSExchange Management",),
    "ntlm": ("Microsoft-Windows-NTLM/Operational",),
    "openssh": ("OpenSSH/Operational",),
    "powershell": POWERSHELL,
    "powershell-classic": (POWERSHELL_CLASSIC,),
    "printservice-admin": ("Microsoft-Windows-PrintService/Admin",),
    "printservice-operational": ("Microsoft-Windows-PrintService/Operational",),
    "security": (SECURITY,),
    "security-mitigations": (
        "Microsoft-Windows-Security-Mitigations/Kernel Mode",
        "Microsoft-Windows-Security-Mitigations/User Mode",
    ),
    "shell-core": ("Microsoft-Windows-Shell-Core/Operational",),
    "smbclient-connectivity": ("Microsoft-Windows-SmbClient/Connectivity",),
    "smbclient-security": ("Microsoft-Windows-SmbClient/Security",),
    "smbserver-connectivity": ("Microsoft-Windows-SMBServer/Connectivity",),
    "sysmon": (SYSMON,),
    "system": ("System",),
    "taskscheduler": ("Microsoft-Windows-TaskScheduler/Operational",),
    "terminalservices-localsessionmanager": ("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",),
    "windefend": (DEFENDER,),
    "wmi": ("Microsoft-Windows-WMI-Activity/Operational",),
}
"""Every ``service:`` SigmaHQ's Windows rules name → its event log channel(s) (thor.yml ``sources``)."""

WITHOUT_EVENT_LOG: Mapping[str, str] = {
    "file_access": "no Windows event log or Sysmon event records it (SigmaHQ's tests/logsource.json lists its "
    "fields as 'addon': EDR telemetry, not an event log)",
    "file_rename": "no Windows event log or Sysmon event records it (SigmaHQ's tests/logsource.json lists its "
    "fields as 'addon': EDR telemetry, not an event log)",
}
"""Categories SigmaHQ's rules use that no event log holds: refused with the reason, never guessed."""

LOGSOURCES = (
    *(
        Logsource(family=FAMILY, product="windows", category=category, variants=variants)
        for category, variants in CATEGORIES.items()
    ),
    *(
        Logsource(family=FAMILY, product="windows", service=service, variants=(Variant(conditions={"Channel": channels}),))
        for service, channels in SERVICES.items()
    ),
)
UNDEFINED = {("windows", category, None): reason for category, reason in WITHOUT_EVENT_LOG.items()}
_SPELLINGS: Mapping[str, str] = {
    name.casefold(): name
    for name in (
        *(c for s in LOGSOURCES for v in s.variants for c in v.conditions.get("Channel", ())),
        *CHANNEL_PROVIDERS.values(),
    )
}
"""The channels and providers the logsources name, as Windows spells them (an event never holds
another letter case of them)."""
"""(product, category, service) → why detc does not define it."""
