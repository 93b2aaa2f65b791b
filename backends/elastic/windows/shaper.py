"""Raw Windows event → the document Elastic's Windows and System integrations store.

Two halves. ``evtx.to_winlog`` renders the evtx_dump event as the agent's ``winlog`` input sends it;
:func:`ingest` then applies the ingest pipeline of the data stream the event's channel lands in —
the form Elastic's own pipeline tests take as input, so this half is tested field by field against
their ``-expected.json`` documents. Pipelines transcribed (elastic/integrations):

- ``windows.sysmon_operational``: ``packages/windows/data_stream/sysmon_operational/elasticsearch/
  ingest_pipeline/default.yml`` @ 029004a3821403de824489377e0efd74447e6098 (ECS 8.0.0 generation);
- ``system.security``: ``packages/system/data_stream/security/elasticsearch/ingest_pipeline/
  standard.yml`` @ 057f555bb5d6348460fcfdb1f6bfe18e6b3fb890, plus the ``AccessList``/``AccessMask``
  split that ``_dev/test/pipeline/test-4663.json-expected.json`` @ 062a8fd1170c4901c87ca81549172fdfecd3cc3b
  shows (codes without ``%%``, masks as a list);
- ``windows.powershell_operational``: ``packages/windows/data_stream/powershell_operational/
  elasticsearch/ingest_pipeline/default.yml`` @ 023613e1344fb39c141a3b831f4f912db448417e;
- ``windows.powershell``: ``packages/windows/data_stream/powershell/elasticsearch/ingest_pipeline/
  default.yml`` @ e64bbb54c02dee8844def3a0a35aff783e150d71.

Every other channel (System, Application, Defender, Task Scheduler …) is stored as the agent sent
it (``winlog.*``, ``event.code``): the integrations' pipelines for those streams add categorisation
only. Not reproduced, because no Sigma field is mapped onto what they write (``NOT_REPRODUCED`` in
the tests lists them): enrichment (GeoIP, ``related.*``, ``process.args``, ``network.community_id``,
``dns.question.registered_domain``, description lookups, ``event.category/type/action``,
``ecs.version``, ``event.ingested``), the DNS answer parsing (``dns.answers``, ``dns.resolved_ip``)
and the DNS status translation (``sysmon.dns.status``): Sigma's ``QueryResults`` and ``QueryStatus``
are refused on Elastic.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from backends.elastic.windows.evtx import to_winlog

SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
SECURITY_CHANNEL = "Security"
POWERSHELL_OPERATIONAL_CHANNELS = ("Microsoft-Windows-PowerShell/Operational",)
"""Only Windows PowerShell's channel: the integration (and the forwarded stream's routing) leaves
PowerShell 7's ``PowerShellCore/Operational`` events as the agent sends them."""
POWERSHELL_CLASSIC_CHANNEL = "Windows PowerShell"
SECURITY_PROVIDERS = ("Microsoft-Windows-Eventlog", "Microsoft-Windows-Security-Auditing")

_EMPTY_SYSMON = (None, "", "-", "{00000000-0000-0000-0000-000000000000}")
"""Values the Sysmon pipeline's first script drops from event_data."""

HIVES: Mapping[str, str] = {
    "HKEY_CLASSES_ROOT": "HKCR", "HKCR": "HKCR", "HKEY_CURRENT_CONFIG": "HKCC", "HKCC": "HKCC",
    "HKEY_CURRENT_USER": "HKCU", "HKCU": "HKCU", "HKEY_DYN_DATA": "HKDD", "HKDD": "HKDD",
    "HKEY_LOCAL_MACHINE": "HKLM", "HKLM": "HKLM", "HKEY_PERFORMANCE_DATA": "HKPD", "HKPD": "HKPD",
    "HKEY_USERS": "HKU", "HKU": "HKU",
}
"""The Sysmon pipeline's registry script ``params``."""

SYSMON_REMOVED: tuple[str, ...] = (
    "ProcessId", "ParentProcessId", "SourceProcessId", "SourceThreadId", "SourceIp", "SourcePort",
    "SourcePortName", "DestinationIp", "DestinationPort", "DestinationPortName", "RuleName", "User",
    "Initiated", "SourceIsIpv6", "DestinationIsIpv6", "QueryStatus", "Archived", "IsExecutable",
    "QueryResults", "UtcTime", "Hash", "Hashes", "TargetObject",
)
"""The Sysmon pipeline's final ``remove`` of event_data fields (after moving them to ECS)."""

SECURITY_PROCESS_EVENTS = frozenset({
    "1100", "1102", "1104", "1105", "1108", "4624", "4648", "4625", "4670", "4673", "4674", "4689", "4697",
    "4719", "4720", "4722", "4723", "4724", "4725", "4726", "4727", "4728", "4729", "4730", "4731", "4732",
    "4733", "4734", "4735", "4737", "4738", "4740", "4741", "4742", "4743", "4744", "4745", "4746", "4747",
    "4748", "4749", "4750", "4751", "4752", "4753", "4754", "4755", "4756", "4757", "4758", "4759", "4760",
    "4761", "4762", "4763", "4764", "4767", "4768", "4769", "4770", "4771", "4798", "4799", "4817", "4904",
    "4905", "4907", "4912", "5140", "5145",
})
"""Security events whose ProcessId/ProcessName/IpAddress/IpPort/WorkstationName the pipeline moves to
``process.*``/``source.*`` and deletes from event_data (standard.yml, the script after ``winlog.logon.id``)."""


def shape(raw: Mapping[str, Any], settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The stored document for one evtx_dump event (no target setting changes it)."""
    return ingest(to_winlog(raw))


def data_stream(doc: Mapping[str, Any]) -> str:
    """The data stream an agent document lands in, by its channel (as the integrations route it)."""
    winlog = doc.get("winlog", {})
    channel = winlog.get("channel")
    if channel == SYSMON_CHANNEL:
        return "windows.sysmon_operational"
    if channel == SECURITY_CHANNEL:
        return "system.security"
    if channel in POWERSHELL_OPERATIONAL_CHANNELS:
        return "windows.powershell_operational"
    if channel == POWERSHELL_CLASSIC_CHANNEL:
        return "windows.powershell"
    if channel == "System":
        return "system.system"
    if channel == "Application":
        return "system.application"
    return "windows.forwarded"


def ingest(agent_doc: Mapping[str, Any]) -> dict[str, Any]:
    """Apply the ingest pipeline of the event's data stream to the agent's document."""
    doc = copy.deepcopy(dict(agent_doc))
    doc.setdefault("winlog", {})
    stream = data_stream(doc)
    event = doc.setdefault("event", {})
    if doc["winlog"].get("event_id") is not None:
        event["code"] = str(doc["winlog"]["event_id"])
        doc["winlog"]["event_id"] = str(doc["winlog"]["event_id"])
    event["kind"] = "event"
    if stream == "windows.sysmon_operational":
        _sysmon(doc)
    elif stream == "system.security":
        if doc["winlog"].get("provider_name") in SECURITY_PROVIDERS:
            _security(doc)
        _security_default(doc)
    elif stream == "windows.powershell_operational":
        _powershell_operational(doc)
    elif stream == "windows.powershell":
        _powershell_classic(doc)
    if isinstance(doc["winlog"].get("record_id"), int):
        doc["winlog"]["record_id"] = str(doc["winlog"]["record_id"])
    return doc


# --- ingest processor helpers ------------------------------------------------------------------


def _get(doc: Mapping[str, Any], path: str) -> Any:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _put(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = doc
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[last] = value


def _rename(doc: dict[str, Any], data: dict[str, Any], name: str, target: str) -> None:
    """``rename`` of ``winlog.event_data.<name>`` guarded by ``!= null && != ""`` (a no-op when the
    target exists, as the processor fails and ignores the failure)."""
    value = data.get(name)
    if value is None or value == "" or _get(doc, target) is not None:
        return
    del data[name]
    _put(doc, target, value)


def _set_copy(doc: dict[str, Any], data: Mapping[str, Any], name: str, target: str) -> None:
    """``set`` with ``copy_from`` (and ``ignore_empty_value``)."""
    value = data.get(name)
    if value is not None and value != "":
        _put(doc, target, copy.deepcopy(value))


def _to_long(text: Any) -> int | None:
    """The ``convert`` processor to long (decimal), or Java's ``Long.decode`` for ``0x`` text."""
    if isinstance(text, int):
        return text
    if not isinstance(text, str):
        return None
    s = text.strip()
    try:
        if s.lower().startswith(("0x", "-0x")):
            return int(s, 16)
        return int(s, 10)
    except ValueError:
        return None


def _to_ip(text: Any) -> str | None:
    """The ``convert`` processor to ``ip``: the text when it parses as an address."""
    if not isinstance(text, str):
        return None
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return None
    return text


def _file_parts(doc: dict[str, Any], path: str) -> None:
    """The pipelines' "Adds file information" script: name, directory and extension of a path."""
    idx = path.rfind("\\")
    if idx > -1:
        doc.setdefault("file", {})
        doc["file"]["name"] = path[idx + 1:]
        doc["file"]["directory"] = path[:idx]
        ext = path.rfind(".")
        if ext > -1:
            doc["file"]["extension"] = path[ext + 1:]


def _split_user(doc: dict[str, Any], value: Any, prefix: str = "user") -> None:
    """``split`` on ``\\`` then domain/name set when there are exactly two parts."""
    if not isinstance(value, str):
        return
    parts = value.split("\\")
    if len(parts) == 2:
        if parts[0]:
            _put(doc, f"{prefix}.domain", parts[0])
        if parts[1]:
            _put(doc, f"{prefix}.name", parts[1])


def _iso_time(text: Any) -> str | None:
    """An ISO8601 time as Elasticsearch prints a date (UTC, milliseconds)."""
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})", text)
    if not match:
        return None
    try:
        parsed = datetime.fromisoformat(match.group(1) + (match.group(3).replace("Z", "+00:00")))
    except ValueError:
        return None
    millis = (match.group(2) or "0")[:3].ljust(3, "0")
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + millis + "Z"


def _utc_time(text: Any) -> str | None:
    """``date`` with ``yyyy-MM-dd HH:mm:ss.SSS`` in UTC, as Elasticsearch prints it."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


# --- windows.sysmon_operational -----------------------------------------------------------------


def sysmon_hashes(text: str) -> dict[str, str]:
    """The ``kv`` processor (``,`` then ``=``) and the script that lower-cases keys and values and
    drops empty or all-zero hashes."""
    out: dict[str, str] = {}
    for pair in text.split(","):
        if "=" not in pair:
            continue
        key, value = pair.split("=", 1)
        value = value.lower()
        if value == "" or re.fullmatch(r"0*", value):
            continue
        out[key.lower()] = value
    return out


def sysmon_registry(doc: dict[str, Any], data: Mapping[str, Any]) -> None:
    """The "Set registry fields" script (EventIDs 12, 13, 14)."""
    path = data["TargetObject"]
    registry: dict[str, Any] = {"path": path}
    tokens = path.split("\\")
    # Java's String.split drops trailing empty strings
    while len(tokens) > 1 and tokens[-1] == "":
        tokens.pop()
    hive = HIVES.get(tokens[0])
    if hive is not None:
        registry["hive"] = hive
        if len(tokens) > 1:
            registry["key"] = "\\".join(tokens[1:])
    registry["value"] = tokens[-1]
    details = data.get("Details")
    if details is not None and details != "":
        qword = re.fullmatch(r"(?i)QWORD \(((0x[0-9A-F]{8})-(0x[0-9A-F]{8}))\)", details)
        dword = re.fullmatch(r"(?i)DWORD \((0x[0-9A-F]{8})\)", details)
        if qword:
            high, low = int(qword.group(2)[2:], 16), int(qword.group(3)[2:], 16)
            registry["data"] = {"strings": [str((high << 8) + low)], "type": "SZ_QWORD"}
        elif dword:
            registry["data"] = {"strings": [str(int(dword.group(1)[2:], 16))], "type": "SZ_DWORD"}
        elif details == "Binary Data":
            registry["data"] = {"strings": [details], "type": "REG_BINARY"}
        else:
            registry["data"] = {"strings": [details], "type": "REG_SZ"}
    doc["registry"] = registry


def _sysmon(doc: dict[str, Any]) -> None:
    winlog = doc["winlog"]
    data: dict[str, Any] = winlog.get("event_data") or {}
    for key in [k for k, v in data.items() if v in _EMPTY_SYSMON]:
        del data[key]
    if winlog.get("level") not in (None, ""):
        _put(doc, "log.level", winlog.pop("level"))
    created = _iso_time(winlog.get("time_created"))
    if created is not None:
        _put(doc, "event.created", created)
    created = _utc_time(data.get("UtcTime"))
    if created is not None:
        doc["@timestamp"] = created
    code = doc["event"].get("code")
    if code == "255":
        _rename(doc, data, "ID", "error.code")
    _rename(doc, data, "RuleName", "rule.name")
    if code == "25":
        _rename(doc, data, "Type", "message")
    if data.get("Hash") not in (None, ""):
        data["Hashes"] = data.pop("Hash")
    hashes = sysmon_hashes(data["Hashes"]) if isinstance(data.get("Hashes"), str) else None
    if hashes is not None and code in ("1", "23", "24", "25"):
        imphash = hashes.pop("imphash", None)
        doc.setdefault("process", {})["hash"] = hashes
        if imphash is not None:
            _put(doc, "process.pe.imphash", imphash)
        hashes = None
    _rename(doc, data, "ProcessGuid", "process.entity_id")
    _convert_long(doc, data, "ProcessId", "process.pid")
    _rename(doc, data, "Image", "process.executable")
    _rename(doc, data, "SourceProcessGuid", "process.entity_id")
    _rename(doc, data, "SourceProcessGUID", "process.entity_id")
    _convert_long(doc, data, "SourceProcessId", "process.pid")
    _convert_long(doc, data, "SourceThreadId", "process.thread.id")
    _rename(doc, data, "SourceImage", "process.executable")
    _rename(doc, data, "Destination", "process.executable")
    _rename(doc, data, "CommandLine", "process.command_line")
    _rename(doc, data, "CurrentDirectory", "process.working_directory")
    _rename(doc, data, "ParentProcessGuid", "process.parent.entity_id")
    _convert_long(doc, data, "ParentProcessId", "process.parent.pid")
    _rename(doc, data, "ParentImage", "process.parent.executable")
    _rename(doc, data, "ParentCommandLine", "process.parent.command_line")
    if code != "7":
        _rename(doc, data, "OriginalFileName", "process.pe.original_file_name")
        for name, target in (("Company", "company"), ("Description", "description"),
                             ("FileVersion", "file_version"), ("Product", "product")):
            _set_copy(doc, data, name, f"process.pe.{target}")
    for prefix in ("process", "process.parent"):
        executable = _get(doc, f"{prefix}.executable")
        if isinstance(executable, str) and len(executable) > 1 and _get(doc, f"{prefix}.name") is None:
            idx = executable.rfind("\\")
            if idx > -1 and executable[idx + 1:]:
                _put(doc, f"{prefix}.name", executable[idx + 1:])
    if hashes is not None and code in ("6", "7", "15", "26", "29"):
        imphash = hashes.pop("imphash", None)
        doc.setdefault("file", {})["hash"] = hashes
        if imphash is not None:
            _put(doc, "file.pe.imphash", imphash)
    _rename(doc, data, "TargetFilename", "file.path")
    _rename(doc, data, "Device", "file.path")
    _rename(doc, data, "PipeName", "file.name")
    _rename(doc, data, "ImageLoaded", "file.path")
    _set_copy(doc, data, "Signature", "file.code_signature.subject_name")
    _set_copy(doc, data, "SignatureStatus", "file.code_signature.status")
    if code == "7":
        _rename(doc, data, "OriginalFileName", "file.pe.original_file_name")
        for name, target in (("Company", "company"), ("Description", "description"),
                             ("FileVersion", "file_version"), ("Product", "product")):
            _set_copy(doc, data, name, f"file.pe.{target}")
    if data.get("Signed") is True:  # the agent sends text, so this processor never fires
        _put(doc, "file.code_signature.signed", True)
    if data.get("SignatureStatus") == "Valid":
        _put(doc, "file.code_signature.valid", True)
    path = _get(doc, "file.path")
    if isinstance(path, str) and len(path) > 1:
        _file_parts(doc, path)
    _rename(doc, data, "Protocol", "network.transport")
    if code != "22":
        _rename(doc, data, "DestinationPortName", "network.protocol")
        _rename(doc, data, "SourcePortName", "network.protocol")
    else:
        _put(doc, "network.protocol", "dns")
    _convert_ip(doc, data, "SourceIp", "source.ip")
    _rename(doc, data, "SourceHostname", "source.domain")
    _convert_long(doc, data, "SourcePort", "source.port")
    _convert_ip(doc, data, "DestinationIp", "destination.ip")
    _rename(doc, data, "DestinationHostname", "destination.domain")
    _convert_long(doc, data, "DestinationPort", "destination.port")
    _rename(doc, data, "QueryName", "dns.question.name")
    direction = {"true": "egress", "false": "ingress"}.get(data.get("Initiated", ""))
    if direction:
        _put(doc, "network.direction", direction)
    network_type = {"false": "ipv4", "true": "ipv6"}.get(data.get("SourceIsIpv6", ""))
    if network_type:
        _put(doc, "network.type", network_type)
    identifier = _get(doc, "winlog.user.identifier")
    if identifier not in (None, ""):
        _put(doc, "user.id", identifier)
    _split_user(doc, data.get("User"))
    for name, target in (("Archived", "sysmon.file.archived"), ("IsExecutable", "sysmon.file.is_executable")):
        value = data.get(name)
        if value in ("true", "false"):
            _put(doc, target, value == "true")
    if data.get("TargetObject") not in (None, "") and code in ("12", "13", "14"):
        sysmon_registry(doc, data)
    if "TargetProcessGuid" in data:
        data["TargetProcessGUID"] = data.pop("TargetProcessGuid")
    for name in SYSMON_REMOVED:
        data.pop(name, None)
    for key in [k for k, v in data.items() if v == "-"]:
        del data[key]
    _drop_consumed(winlog, data)


def _convert(doc: dict[str, Any], data: Mapping[str, Any], name: str, target: str, to: Any) -> None:
    """The ``convert`` processor (``ignore_failure``): the converted value when it converts."""
    value = data.get(name)
    if value is None or value == "":
        return
    converted = to(value)
    if converted is not None:
        _put(doc, target, converted)


def _convert_long(doc: dict[str, Any], data: Mapping[str, Any], name: str, target: str) -> None:
    _convert(doc, data, name, target, _to_long)


def _convert_ip(doc: dict[str, Any], data: Mapping[str, Any], name: str, target: str) -> None:
    _convert(doc, data, name, target, _to_ip)


# --- system.security -------------------------------------------------------------------------------


def _split_whitespace(text: str) -> list[str]:
    """The security pipeline's ``split``: leading whitespace skipped, runs of whitespace separate."""
    return text.split()


def _security(doc: dict[str, Any]) -> None:
    winlog = doc["winlog"]
    data: dict[str, Any] = winlog.get("event_data") or {}
    code = doc["event"].get("code")
    if data.get("ServiceName") is not None:
        _put(doc, "service.name", data["ServiceName"])
    access_list = data.get("AccessList")
    if isinstance(access_list, str):
        data["AccessList"] = [token.replace("%%", "").strip() for token in access_list.split(" ") if token.strip()]
    access_mask = data.get("AccessMask")
    if isinstance(access_mask, str):
        data["AccessMask"] = [m.replace("%%", "").strip() for m in _split_whitespace(access_mask) if m.strip()]
    if code in ("4624", "4625", "4634", "4647", "4648", "4768", "4769", "4770", "4771", "4776", "4964"):
        target_id = data.get("TargetUserSid", data.get("TargetSid"))
        if target_id is not None:
            _put(doc, "user.id", target_id)
        if data.get("TargetUserName") is not None:
            _put(doc, "user.name", data["TargetUserName"].split("@")[0])
        if data.get("TargetDomainName") is not None:
            _put(doc, "user.domain", data["TargetDomainName"])
    if code in ("4634", "4647", "4964") and data.get("TargetLogonId") not in (None, ""):
        _put(doc, "winlog.logon.id", data["TargetLogonId"])
    if code in SECURITY_PROCESS_EVENTS:
        pid = data.pop("ProcessId", None)
        if pid is not None:
            _put(doc, "process.pid", _to_long(pid))
        name = data.pop("ProcessName", None)
        if name is not None:
            _put(doc, "process.executable", name)
        if data.get("IpAddress") not in (None, "-"):
            _put(doc, "source.ip", data.pop("IpAddress"))
        if data.get("IpPort") not in (None, "-"):
            port = _to_long(data.pop("IpPort"))
            if port is not None:
                _put(doc, "source.port", port)
        if data.get("WorkstationName") is not None:
            _put(doc, "source.domain", data.pop("WorkstationName"))
    if data.get("SubjectLogonId") not in (None, ""):
        _put(doc, "winlog.logon.id", data["SubjectLogonId"])
    subject_logon = _get(doc, "winlog.user_data.SubjectLogonId")
    if code == "1102" and subject_logon not in (None, ""):
        _put(doc, "winlog.logon.id", subject_logon)
    if code == "4688":
        if data.get("NewProcessId") is not None:
            _put(doc, "process.pid", _to_long(data.pop("NewProcessId")))
        if data.get("NewProcessName") is not None:
            _put(doc, "process.executable", data.pop("NewProcessName"))
        if data.get("ParentProcessName") is not None:
            _put(doc, "process.parent.executable", data.pop("ParentProcessName"))
        for prefix in ("process", "process.parent"):
            executable = _get(doc, f"{prefix}.executable")
            if isinstance(executable, str) and _get(doc, f"{prefix}.name") is None:
                _put(doc, f"{prefix}.name", executable.split("\\")[-1])
        if data.get("ProcessId") is not None:
            _put(doc, "process.parent.pid", _to_long(data["ProcessId"]))
        if data.get("CommandLine") is not None:
            _put(doc, "process.command_line", data["CommandLine"])
    if code in ("4672", "4673", "4674", "4741", "4742", "4743") and isinstance(data.get("PrivilegeList"), str):
        data["PrivilegeList"] = re.split(r"\s+", data["PrivilegeList"])
    if code in ("5140", "5145"):
        if data.get("RelativeTargetName") not in (None, ""):
            _put(doc, "file.name", data["RelativeTargetName"])
        if data.get("ShareLocalPath") not in (None, ""):
            _put(doc, "file.directory", data["ShareLocalPath"])
        if _get(doc, "file.name") is not None and _get(doc, "file.directory") is not None:
            _put(doc, "file.path", f"{doc['file']['directory']}\\{doc['file']['name']}")
        if data.get("ShareName") not in (None, "") and _get(doc, "file.name") is not None:
            _put(doc, "file.target_path", f"{data['ShareName']}\\{doc['file']['name']}")
        name = _get(doc, "file.name")
        if isinstance(name, str) and name.rfind(".") > -1:
            _put(doc, "file.extension", name[name.rfind(".") + 1:])


def _security_default(doc: dict[str, Any]) -> None:
    """The security stream's default.yml around standard.yml: IPv4-mapped prefix removed from source.ip,
    level copied to ``log.level``."""
    ip = _get(doc, "source.ip")
    if isinstance(ip, str):
        doc["source"]["ip"] = ip.replace("::ffff:", "")
    if doc["winlog"].get("level") not in (None, ""):
        _put(doc, "log.level", doc["winlog"]["level"])
    _timestamp(doc)


def _timestamp(doc: dict[str, Any]) -> None:
    """``date`` of ``winlog.time_created`` (ISO8601) into ``@timestamp``."""
    stamp = _iso_time(doc["winlog"].get("time_created"))
    if stamp is not None:
        doc["@timestamp"] = stamp


# --- windows.powershell_operational and windows.powershell -----------------------------------------


def _powershell_operational(doc: dict[str, Any]) -> None:
    winlog = doc["winlog"]
    data: dict[str, Any] = winlog.get("event_data") or {}
    if winlog.get("event_id") == "4103" and isinstance(data.get("ContextInfo"), str):
        data.update(_key_values(data["ContextInfo"], "\n", " \n\t"))
    data = {re.sub(r"\s", "", k): v for k, v in data.items()}
    if data:
        winlog["event_data"] = data
    identifier = _get(doc, "winlog.user.identifier")
    if identifier not in (None, ""):
        _put(doc, "user.id", identifier)
    _split_user(doc, data.get("User"))
    _split_user(doc, data.get("ConnectedUser"), "source.user")
    if _get(doc, "source.user") is not None:
        for part in ("domain", "name"):
            value = _get(doc, f"user.{part}")
            if value is not None:
                _put(doc, f"destination.user.{part}", value)
                del doc["user"][part]
            if _get(doc, f"source.user.{part}") not in (None, ""):
                _put(doc, f"user.{part}", doc["source"]["user"][part])
    if data.get("Path") not in (None, ""):
        data["ScriptName"] = data.pop("Path")
    _powershell(
        doc, data,
        renames=(
            ("HostID", "process.entity_id"), ("HostApplication", "process.command_line"), ("HostName", "process.title"),
            ("ShellID", "powershell.id"), ("EngineVersion", "powershell.engine.version"),
            ("PipelineID", "powershell.pipeline_id"), ("RunspaceID", "powershell.runspace_id"),
            ("RunspaceId", "powershell.runspace_id"), ("HostVersion", "powershell.process.executable_version"),
            ("CommandLine", "powershell.command.value"), ("CommandPath", "powershell.command.path"),
            ("CommandName", "powershell.command.name"), ("CommandType", "powershell.command.type"),
            ("ScriptBlockId", "powershell.file.script_block_id"),
            ("ScriptBlockText", "powershell.file.script_block_text"),
        ),
        numbers=(("MessageNumber", "powershell.sequence"), ("MessageTotal", "powershell.total"),
                 ("SequenceNumber", "event.sequence")),
        removed=("SequenceNumber", "User", "ConnectedUser", "ContextInfo", "Severity", "MessageTotal",
                 "MessageNumber", "Payload"),
    )


def _key_values(text: str, separator: str, trim: str) -> dict[str, str]:
    """The ``kv`` processor: ``key=value`` pairs split on ``separator``, keys and values trimmed."""
    out: dict[str, str] = {}
    for pair in text.split(separator):
        if "=" in pair:
            key, value = pair.split("=", 1)
            out[key.strip(trim)] = value.strip(trim)
    return out


_CLASSIC_KEY = re.compile(r"(^|(^[\n]?))?\t([^\s\W]+)=", re.MULTILINE)


def _powershell_classic(doc: dict[str, Any]) -> None:
    winlog = doc["winlog"]
    data: dict[str, Any] = winlog.get("event_data") or {}
    if winlog.get("event_id") == "800" and isinstance(data.get("param2"), str):
        data.update(_key_values(data["param2"], "\n\t", "\n\t"))
    elif isinstance(data.get("param3"), str):
        text = data["param3"]
        matches = list(_CLASSIC_KEY.finditer(text))
        for i, match in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            data[match.group(3).strip()] = text[match.end():end].strip()
    _split_user(doc, data.get("UserId"))
    _powershell(
        doc, data,
        renames=(
            ("HostId", "process.entity_id"), ("HostApplication", "process.command_line"), ("HostName", "process.title"),
            ("NewEngineState", "powershell.engine.new_state"),
            ("PreviousEngineState", "powershell.engine.previous_state"),
            ("NewProviderState", "powershell.provider.new_state"), ("ProviderName", "powershell.provider.name"),
            ("EngineVersion", "powershell.engine.version"), ("PipelineId", "powershell.pipeline_id"),
            ("RunspaceId", "powershell.runspace_id"), ("HostVersion", "powershell.process.executable_version"),
            ("CommandLine", "powershell.command.value"), ("CommandPath", "powershell.command.path"),
            ("CommandName", "powershell.command.name"), ("CommandType", "powershell.command.type"),
        ),
        numbers=(("DetailTotal", "powershell.total"), ("DetailSequence", "powershell.sequence"),
                 ("SequenceNumber", "event.sequence")),
        removed=("param1", "param2", "param3", "SequenceNumber", "DetailTotal", "DetailSequence", "UserId"),
    )


def _powershell(
    doc: dict[str, Any], data: dict[str, Any], *, renames: tuple[tuple[str, str], ...],
    numbers: tuple[tuple[str, str], ...], removed: tuple[str, ...],
) -> None:
    """What both PowerShell pipelines do alike: level and time, their renames and number conversions,
    the script path's file fields, then the removal of what they consumed."""
    winlog = doc["winlog"]
    if winlog.get("level") not in (None, ""):
        _put(doc, "log.level", winlog["level"])
    _timestamp(doc)
    for name, target in renames:
        _rename(doc, data, name, target)
    for name, target in numbers:
        _convert_long(doc, data, name, target)
    script = data.get("ScriptName")
    if isinstance(script, str) and len(script) > 1:
        _file_parts(doc, script)
    _rename(doc, data, "ScriptName", "file.path")
    for name in removed:
        data.pop(name, None)
    _drop_consumed(winlog, data)


def _drop_consumed(winlog: dict[str, Any], data: dict[str, Any]) -> None:
    """The pipelines' last steps: time and level removed, empty values dropped, an empty event_data gone."""
    winlog.pop("time_created", None)
    winlog.pop("level", None)
    for key in [k for k, v in data.items() if v is None or v == ""]:
        del data[key]
    if "event_data" in winlog and not data:
        del winlog["event_data"]
