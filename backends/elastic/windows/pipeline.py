"""Sigma's Windows field names → where Elastic's Windows and System integrations store them.

Read from the integrations' ingest pipelines (elastic/integrations, commits in ``shaper.py``, which
transcribes the same processors) and field definitions (``sysmon_operational/fields/ecs.yml`` @
4670aa0aab043fdc7f8b8ee05272ba428e4a36fc, ``powershell_operational/fields/fields.yml`` @
07af1c554f35c72952ed43264074430f61956229), not from pySigma's ``ecs_windows``:

- a field the pipeline leaves in ``winlog.event_data`` is queried there, under its own name;
- a field it renames to ECS (and so deletes from ``event_data``) is queried where it puts it
  (Sysmon ``Image`` → ``process.executable``, ``TargetObject`` → ``registry.path``, Security 4688
  ``NewProcessName`` → ``process.executable`` …); when it moves a field only for some EventIDs, the
  query says so: ``(event.code: (…) and process.executable: v) or winlog.event_data.ProcessName: v``;
- a field it converts is compared as the stored type: ``ip`` fields take addresses and CIDR blocks
  (a Sigma ``startswith: '10.'`` becomes ``10.0.0.0/8``), ``long`` fields numbers, hashes are stored
  lower-cased, Sysmon ``Initiated`` is ``network.direction`` (egress/ingress);
- ``ScriptBlockText``, which the PowerShell/Operational pipeline keeps only in the analysed ``text``
  field ``powershell.file.script_block_text``, is queried as Elastic's own rules query it
  (elastic/detection-rules @ 14cf530f0d2177023092449cd9d9348b4a8884c2
  ``rules/windows/collection_mailbox_export_winlog.toml``: ``powershell.file.script_block_text :
  ("-FilePath" or ".pst")``): a Sigma ``contains`` becomes a quoted value, a phrase of its analysed
  tokens in a row, with a caveat saying
  how that differs from a substring; what a phrase cannot say (an anchored, wildcarded, regex or
  case-sensitive value) is ``unsupported``;
- a field it deletes is ``unsupported`` with the reason, never queried under a name that matches nothing.

Every category rule also carries its logsource's condition (``winlog.channel`` and ``event.code``,
as the documents store them), added after Lucene's case folding so it stays an exact term.
"""

from __future__ import annotations

import ipaddress
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sigma.conditions import ConditionAND, ConditionOR
from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations.base import DetectionItemTransformation, PreprocessingTransformation
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaDetections, SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaType,
    SpecialChars,
)

from backends.elastic.errors import ElasticUnsupported
from backends.elastic.phrase import SigmaPhrase
from backends.elastic.windows.caveats import caveats as windows_caveats
from backends.elastic.windows.index_mapping import TYPED
from backends.elastic.windows.shaper import SECURITY_PROCESS_EVENTS, SYSMON_CHANNEL
from compiler.conditions import value_text
from compiler.logsources import find
from compiler.patterns import detection_items
from compiler.rules import detached

EVENT_CODE = "event.code"
CHANNEL = "winlog.channel"
EVENT_DATA = "winlog.event_data."
USER_DATA = "winlog.user_data."

SYSMON_CODES = frozenset(str(c) for c in (*range(1, 30), 255))


@dataclass(frozen=True)
class Place:
    """One place a Sigma field's value is stored: the ECS field, how values compare there, and the
    event codes for which the pipeline puts it there (None: every event of the stream)."""

    field: str
    kind: str = "keyword"
    codes: frozenset[str] | None = None
    always: bool = False
    """For those codes the pipeline moves every value (so the other places never hold one)."""


def _data(name: str) -> tuple[Place, ...]:
    return (Place(EVENT_DATA + name),)


def _codes(*codes: str) -> frozenset[str]:
    return frozenset(codes)


NOT_7 = SYSMON_CODES - {"7"}
PROCESS_HASH_CODES = _codes("1", "23", "24", "25")
FILE_HASH_CODES = _codes("6", "7", "15", "26", "29")

SYSMON_FIELDS: Mapping[str, tuple[Place, ...]] = {
    "Image": (Place("process.executable"),),
    "SourceImage": (Place("process.executable"),),
    "Destination": (Place("process.executable"),),
    "CommandLine": (Place("process.command_line"),),
    "CurrentDirectory": (Place("process.working_directory"),),
    "ParentImage": (Place("process.parent.executable"),),
    "ParentCommandLine": (Place("process.parent.command_line"),),
    "ProcessGuid": (Place("process.entity_id"),),
    "SourceProcessGuid": (Place("process.entity_id"),),
    "SourceProcessGUID": (Place("process.entity_id"),),
    "ParentProcessGuid": (Place("process.parent.entity_id"),),
    "ProcessId": (Place("process.pid", "long"),),
    "SourceProcessId": (Place("process.pid", "long"),),
    "SourceThreadId": (Place("process.thread.id", "long"),),
    "ParentProcessId": (Place("process.parent.pid", "long"),),
    "OriginalFileName": (
        Place("process.pe.original_file_name", codes=NOT_7),
        Place("file.pe.original_file_name", codes=_codes("7")),
    ),
    "TargetFilename": (Place("file.path"),),
    "Device": (Place("file.path"),),
    "ImageLoaded": (Place("file.path"),),
    "PipeName": (Place("file.name"),),
    "Protocol": (Place("network.transport"),),
    "DestinationPortName": (Place("network.protocol", codes=SYSMON_CODES - {"22"}),),
    "SourcePortName": (Place("network.protocol", codes=SYSMON_CODES - {"22"}),),
    "SourceIp": (Place("source.ip", "ip"),),
    "DestinationIp": (Place("destination.ip", "ip"),),
    "SourcePort": (Place("source.port", "long"),),
    "DestinationPort": (Place("destination.port", "long"),),
    "SourceHostname": (Place("source.domain"),),
    "DestinationHostname": (Place("destination.domain"),),
    "QueryName": (Place("dns.question.name"),),
    "RuleName": (Place("rule.name"),),
    "Initiated": (Place("network.direction", "direction"),),
    "SourceIsIpv6": (Place("network.type", "ipversion"),),
    "Archived": (Place("sysmon.file.archived", "boolean"),),
    "IsExecutable": (Place("sysmon.file.is_executable", "boolean"),),
    "TargetObject": (Place("registry.path", codes=_codes("12", "13", "14")),),
    "TargetProcessGuid": _data("TargetProcessGUID"),
    "User": (Place("user", "user"),),
    "Hashes": (Place("process", "hashes", PROCESS_HASH_CODES), Place("file", "hashes", FILE_HASH_CODES)),
    "Hash": (Place("process", "hashes", PROCESS_HASH_CODES), Place("file", "hashes", FILE_HASH_CODES)),
}
"""Sysmon fields the ``windows.sysmon_operational`` pipeline moves out of ``event_data``."""

SYSMON_DROPPED: Mapping[str, str] = {
    "UtcTime": "the pipeline parses UtcTime into @timestamp and deletes it",
    "DestinationIsIpv6": "the pipeline deletes DestinationIsIpv6",
    "QueryResults": "the pipeline splits QueryResults into dns.answers and dns.resolved_ip and deletes the text",
    "QueryStatus": "the pipeline replaces the status code with its name (sysmon.dns.status)",
    "Type": (
        "the pipeline moves process tampering's Type (event 25) to message, an analysed text field: a query "
        "there matches tokens, not the value"
    ),
}

SECURITY_FIELDS: Mapping[str, tuple[Place, ...]] = {
    "ProcessName": (Place("process.executable", codes=SECURITY_PROCESS_EVENTS, always=True), *_data("ProcessName")),
    "WorkstationName": (
        Place("source.domain", codes=SECURITY_PROCESS_EVENTS, always=True), *_data("WorkstationName"),
    ),
    "IpAddress": (Place("source.ip", "ip", SECURITY_PROCESS_EVENTS), *_data("IpAddress")),
    "IpPort": (Place("source.port", "long", SECURITY_PROCESS_EVENTS), *_data("IpPort")),
    "NewProcessName": (Place("process.executable", codes=_codes("4688"), always=True), *_data("NewProcessName")),
    "ParentProcessName": (
        Place("process.parent.executable", codes=_codes("4688"), always=True), *_data("ParentProcessName"),
    ),
    "AccessList": (Place(EVENT_DATA + "AccessList", "access_list"),),
    "AccessMask": (Place(EVENT_DATA + "AccessMask", "mask"),),
    "PrivilegeList": (
        Place(EVENT_DATA + "PrivilegeList", "token_list", _codes("4672", "4673", "4674", "4741", "4742", "4743")),
        *_data("PrivilegeList"),
    ),
}
"""Security fields the ``system.security`` pipeline moves or splits (standard.yml)."""

SECURITY_DROPPED: Mapping[str, str] = {
    "ProcessId": "the pipeline decodes it into process.pid (a number) for most events and deletes the text",
    "NewProcessId": "the pipeline decodes it into process.pid (a number) and deletes the text",
}

POWERSHELL_FIELDS: Mapping[str, tuple[Place, ...]] = {
    "HostApplication": (Place("process.command_line"),),
    "HostName": (Place("process.title"),),
    "HostID": (Place("process.entity_id"),),
    "Path": (Place("file.path"),),
    "ScriptName": (Place("file.path"),),
    "CommandName": (Place("powershell.command.name"),),
    "CommandPath": (Place("powershell.command.path"),),
    "CommandType": (Place("powershell.command.type"),),
    "ScriptBlockId": (Place("powershell.file.script_block_id"),),
    "ScriptBlockText": (Place("powershell.file.script_block_text", "phrase"),),
    "EngineVersion": (Place("powershell.engine.version"),),
    "HostVersion": (Place("powershell.process.executable_version"),),
    "RunspaceId": (Place("powershell.runspace_id"),),
    "PipelineId": (Place("powershell.pipeline_id"),),
    "ShellID": (Place("powershell.id"),),
}
"""PowerShell fields the ``windows.powershell_operational`` pipeline renames."""

POWERSHELL_DROPPED: Mapping[str, str] = {
    "Payload": "the pipeline parses Payload into powershell.command.invocation_details and deletes the text",
    "ContextInfo": "the pipeline splits ContextInfo into separate fields and deletes the text",
    "CommandLine": "Elastic stores it only in powershell.command.value, an analysed text field",
    "UserId": "the pipeline splits it into user.domain and user.name and deletes the text",
    "User": "the pipeline splits it into user.domain and user.name and deletes the text",
    "Data": "the pipeline parses the unnamed Data elements into fields and deletes them",
}

POWERSHELL_CLASSIC_DROPPED: Mapping[str, str] = {
    "Data": "the pipeline parses the unnamed Data elements of the event (param1-3) into fields and deletes them",
    "ScriptBlockText": (
        "classic Windows PowerShell events (400, 600, 800) carry no ScriptBlockText (script blocks are "
        "event 4104 of the PowerShell/Operational channel), and their pipeline moves none"
    ),
    **{k: v for k, v in POWERSHELL_DROPPED.items() if k not in ("Data",)},
}

PARAMS = EVENT_DATA + "param*"
"""Unnamed ``<Data>`` elements: the agent names them ``param1``, ``param2`` … (winlog.yml); Sigma's
``Data`` is any of them, which a wildcard field name says exactly in KQL and in query_string."""
WILDCARD_FIELDS = frozenset({PARAMS})
BACKEND_OPTIONS = {
    "wildcard_fields": WILDCARD_FIELDS,
    "numeric_fields": frozenset(n for n, spec in TYPED.items() if spec.type == "long"),
    "boolean_fields": frozenset(n for n, spec in TYPED.items() if spec.type == "boolean"),
}
"""What the Elastic backends need to know of this cell's field names (kuery must leave the ``*`` of a
field-name pattern unescaped; query_string reads an escaped ``\\*`` in a field name as one; EQL compares
number and boolean fields with ``==``, since its ``:`` compares strings only)."""

COMMON_FIELDS: Mapping[str, tuple[Place, ...]] = {
    "EventID": (Place(EVENT_CODE, "code"),),
    "Channel": (Place(CHANNEL),),
    "Provider_Name": (Place("winlog.provider_name"),),
    "Computer": (Place("winlog.computer_name"),),
    "EventRecordID": (Place("winlog.record_id"),),
    "Data": (Place(PARAMS),),
}
"""``System`` fields, as the agent stores them on every document."""

COMMON_DROPPED: Mapping[str, str] = {
    "Level": "the agent stores the name of the level (log.level: information, error …), not the number Sigma compares",
    "Keywords": "the agent stores the keyword names (winlog.keywords), not the bit mask",
}

CODE_FIELD_KINDS = frozenset({"code"})


@dataclass(frozen=True)
class Stream:
    """How one data stream's pipeline stores Sigma's fields."""

    name: str
    """The data stream Elastic's integration writes these events to."""
    fields: Mapping[str, tuple[Place, ...]] = field(default_factory=dict)
    dropped: Mapping[str, str] = field(default_factory=dict)
    drops_dash: bool = False
    """The Sysmon pipeline drops ``-``, empty and all-zero-GUID values from event_data."""
    spaced_names: bool = False
    """Windows Defender names its data with spaces (``Source Name``); Sigma writes ``SourceName``."""
    user_data: bool = True
    """Events of the stream may carry ``UserData`` instead of ``EventData`` (the agent stores it as
    ``winlog.user_data``; the two are mutually exclusive): a Sigma field is looked up in both."""
    user_data_codes: frozenset[str] | None = None
    """The event codes that carry ``UserData``, when known (None: any may)."""


SYSMON = Stream("windows.sysmon_operational", SYSMON_FIELDS, SYSMON_DROPPED, drops_dash=True, user_data=False)
SECURITY = Stream(
    "system.security", SECURITY_FIELDS, SECURITY_DROPPED,
    user_data_codes=frozenset({"1100", "1101", "1102", "1104", "1105", "1108"}),
)
"""In the Security log only the event log service's own events (provider Microsoft-Windows-Eventlog:
shutdown, audit log cleared, log full …) carry ``UserData``; the auditing events carry ``EventData``."""
POWERSHELL_OPERATIONAL = Stream(
    "windows.powershell_operational", POWERSHELL_FIELDS, POWERSHELL_DROPPED, user_data=False,
)
POWERSHELL_CLASSIC = Stream(
    "windows.powershell", {k: v for k, v in POWERSHELL_FIELDS.items() if k not in ("Path", "ScriptBlockText")},
    POWERSHELL_CLASSIC_DROPPED,
    user_data=False,
)
OTHER = Stream("windows.forwarded")
DEFENDER = Stream("windows.forwarded", spaced_names=True)

CHANNEL_STREAMS: Mapping[str, Stream] = {
    SYSMON_CHANNEL: SYSMON,
    "Security": SECURITY,
    "Microsoft-Windows-PowerShell/Operational": POWERSHELL_OPERATIONAL,
    "Windows PowerShell": POWERSHELL_CLASSIC,
    "System": Stream("system.system"),
    "Application": Stream("system.application"),
    "Microsoft-Windows-Windows Defender/Operational": DEFENDER,
}
"""The data stream (and so the pipeline) each channel's events go through; other channels are stored as
the agent sends them. The ``windows.forwarded`` stream routes by the same channels
(elastic/integrations ``packages/windows/data_stream/forwarded/elasticsearch/ingest_pipeline/default.yml``
@ 12c1d8fe5bed28c72a5e98e3733f5a3895de80ba): PowerShell 7's ``PowerShellCore/Operational`` is not among them."""


def spelled_otherwise(name: str, stream: Stream) -> str | None:
    """How the stream's pipeline (or every event's ``System``) spells a field whose name differs from
    ``name`` only in letter case, or None. Event data names are case-sensitive and each kind of event
    spells its own (Sysmon ``Image``, OpenSSH ``payload``): within the names a stream's pipeline is
    known to store or drop, a name in the wrong case names no field its events write, and is refused
    rather than queried in event_data, where it would silently match nothing (a client exclusion on
    it would never exclude)."""
    for known in (*stream.fields, *stream.dropped, *COMMON_FIELDS, *COMMON_DROPPED):
        if known != name and known.lower() == name.lower():
            return known
    return None


def spaced(name: str) -> str:
    """A Defender data name as the event writes it: Sigma drops the spaces (``ThreatName``)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


# --- value conversions per stored type ----------------------------------------------------------------


def _show(value: SigmaType) -> str:
    """A Sigma value as a rule writes it, for reasons."""
    if isinstance(value, SigmaString):
        return repr(str(value))
    return repr(getattr(value, "regexp", None) or getattr(value, "number", None) or str(value))


def _plain(value: SigmaString) -> str | None:
    """The text of a Sigma string without wildcards, or None when it has any."""
    if value.contains_special():
        return None
    return "".join(str(p) for p in value.s)


def _prefix(value: SigmaString) -> str | None:
    """The literal before a single trailing ``*`` (a Sigma ``startswith``), else None."""
    parts = value.s
    if len(parts) == 2 and isinstance(parts[0], str) and parts[1] == SpecialChars.WILDCARD_MULTI:
        return parts[0]
    return None


def ipv4_prefix_networks(prefix: str) -> list[str] | None:
    """CIDR blocks holding exactly the IPv4 addresses whose dotted text starts with ``prefix``."""
    if not re.fullmatch(r"(\d{1,3}\.){0,3}\d{0,3}", prefix) or prefix == "":
        return None
    octets = prefix.split(".")
    whole, partial = octets[:-1], octets[-1]
    if any(int(o) > 255 or (len(o) > 1 and o[0] == "0") for o in whole):
        return []
    base = ".".join(whole)
    bits = 8 * len(whole)
    if partial == "":
        return [f"{base + '.0' * (4 - len(whole)) if whole else '0.0.0.0'}/{bits}"]
    if len(partial) > 1 and partial[0] == "0":
        return []
    out = []
    for octet in range(256):
        if str(octet).startswith(partial):
            address = ".".join([*whole, str(octet)] + ["0"] * (3 - len(whole)))
            out.append(f"{address}/{bits + 8}")
    return out


Converted = list[SigmaType]
"""What one Sigma value becomes on a stored field: no value (it can never match there), one, or
several that are ORed (a text prefix of an address is several CIDR blocks)."""


def _ip_value(value: SigmaType, name: str) -> Converted:
    if isinstance(value, (SigmaCIDRExpression, SigmaNull, SigmaExists)):
        return [value]
    if isinstance(value, SigmaString):
        text = _plain(value)
        if text is not None:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                return []  # no stored address has this text
            # the address as its one-address network: EQL's ':' compares strings only, and an ip field
            # is no string (its verifier refuses it); a network is cidrMatch there, a term elsewhere
            return [SigmaCIDRExpression(str(ipaddress.ip_network(address)))]
        literal = "".join(p for p in value.s if isinstance(p, str))
        if any(ch not in "0123456789abcdefABCDEF.:%" for ch in literal):
            return []  # no address is written with these characters
        prefix = _prefix(value)
        networks = ipv4_prefix_networks(prefix) if prefix is not None else None
        if networks is not None:
            return [SigmaCIDRExpression(n) for n in networks]
        if prefix is not None and re.fullmatch(r"[0-9a-fA-F]{1,4}:", prefix) and int(prefix[:-1], 16):
            # the first group written in full: that group's /16 (the text never starts with "0")
            return [SigmaCIDRExpression(f"{int(prefix[:-1], 16):x}::/16")]
    raise ElasticUnsupported(
        f"{name}: the integration stores it as an ip field, which takes addresses and CIDR blocks only "
        f"(value {_show(value)})"
    )


def _long_value(value: SigmaType, name: str) -> Converted:
    if isinstance(value, (SigmaNumber, SigmaNull, SigmaExists, SigmaCompareExpression)):
        return [value]
    if isinstance(value, SigmaString):
        text = _plain(value)
        if text is not None and re.fullmatch(r"-?[0-9]+", text):
            return [SigmaNumber(int(text))]
        if text is not None:
            return []  # not a number: no stored value equals it
    raise ElasticUnsupported(f"{name}: the integration stores it as a number (long); value {_show(value)} is not one")


def _mapped_value(value: SigmaType, name: str, table: Mapping[str, str]) -> Converted:
    if isinstance(value, (SigmaNull, SigmaExists)):
        return [value]
    if isinstance(value, SigmaBool):
        text: str | None = "true" if value.boolean else "false"
    else:
        text = _plain(value) if isinstance(value, SigmaString) else None
    if text is None:
        raise ElasticUnsupported(
            f"{name}: the integration stores it translated ({', '.join(f'{k} as {v}' for k, v in table.items())}); "
            f"value {_show(value)} has no stored form"
        )
    stored = table.get(text.lower())
    return [SigmaString(stored)] if stored is not None else []


def _boolean_value(value: SigmaType, name: str) -> Converted:
    if isinstance(value, (SigmaNull, SigmaExists, SigmaBool)):
        return [value]
    text = _plain(value) if isinstance(value, SigmaString) else None
    if text is None:
        raise ElasticUnsupported(f"{name}: the integration stores it as a boolean; value {_show(value)} is not one")
    return [SigmaBool(text.lower() == "true")] if text.lower() in ("true", "false") else []


def _keyword_value(value: SigmaType, name: str) -> Converted:
    if isinstance(value, SigmaCompareExpression):
        raise ElasticUnsupported(
            f"numeric comparison on {name!r}: the integration stores it as a keyword, so a range compares "
            "text ('10' < '8')"
        )
    if isinstance(value, SigmaCIDRExpression):
        raise ElasticUnsupported(f"cidr on {name!r}: the integration stores it as a keyword, not an ip")
    return [value]


def _code_value(value: SigmaType, name: str) -> Converted:
    if isinstance(value, SigmaNumber):
        return [SigmaString(str(value.number))]
    return _keyword_value(value, name)


def _contained(value: SigmaString) -> str | None:
    """The literal of a Sigma ``contains`` (``*text*``), else None."""
    parts = value.s
    if len(parts) == 3 and parts[0] == parts[2] == SpecialChars.WILDCARD_MULTI and isinstance(parts[1], str):
        return parts[1]
    return None


def _access_list_value(value: SigmaType, name: str) -> Converted:
    """AccessList ``%%4417 %%4418`` is stored as the codes ``["4417", "4418"]``: a contains of
    ``%%4417`` is one element starting with ``4417``; a contains of digits is one element containing them."""
    if isinstance(value, (SigmaNull, SigmaExists)):
        return [value]
    text = _contained(value) if isinstance(value, SigmaString) and not isinstance(value, SigmaCasedString) else None
    if text and not any(ch.isspace() for ch in text):
        body = text[2:] if text.startswith("%%") else None
        if body and "%" not in body:
            prefix = SigmaString()
            prefix.s = [body, SpecialChars.WILDCARD_MULTI]
            return [prefix]
        if "%" not in text:
            return [value]
    raise ElasticUnsupported(
        f"{name}: the integration splits it on spaces into a list of codes without '%%'; only a contains of "
        f"one code has the same meaning there (value {_show(value)})"
    )


def _token_value(value: SigmaType, name: str) -> Converted:
    """A whitespace-separated list stored as an array: a contains of text without whitespace is the
    same test on one element."""
    if isinstance(value, (SigmaNull, SigmaExists)):
        return [value]
    text = _contained(value) if isinstance(value, SigmaString) else None
    if text and not any(ch.isspace() for ch in text):
        return [value]
    raise ElasticUnsupported(
        f"{name}: the integration splits it on whitespace into a list; only a contains of the text of one "
        f"element has the same meaning there (value {_show(value)})"
    )


def _mask_value(value: SigmaType, name: str) -> Converted:
    """AccessMask is one hexadecimal mask that the pipeline wraps in a one-element list."""
    plain = _plain(value) if isinstance(value, SigmaString) else None
    if plain is not None and plain.strip() != plain:
        raise ElasticUnsupported(f"{name}: the pipeline trims the mask; value {_show(value)} has surrounding whitespace")
    return _keyword_value(value, name)


USER_PARTS = ("domain", "name")


def _user_detection(item: SigmaDetectionItem, prefix: str) -> SigmaDetection:
    """``DOMAIN\\name`` split by the pipeline into ``user.domain`` and ``user.name``."""
    alternatives: list[SigmaDetection | SigmaDetectionItem] = []
    for value in item.value:
        if isinstance(value, (SigmaNull, SigmaExists)):
            alternatives.append(_item(f"{prefix}.name", [value], item))
            continue
        if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
            raise ElasticUnsupported("User: the integration splits DOMAIN\\name into user.domain and user.name")
        parts = value.s
        backslashes = [i for i, p in enumerate(parts) if isinstance(p, str) and "\\" in p]
        text_parts = [p for p in parts if isinstance(p, str)]
        if len(backslashes) == 1 and "".join(text_parts).count("\\") == 1:
            i = backslashes[0]
            left, right = str(parts[i]).split("\\")  # a text part: backslashes lists only those
            domain = SigmaString()
            domain.s = [p for p in (*parts[:i], left) if p != ""]
            name = SigmaString()
            name.s = [p for p in (right, *parts[i + 1:]) if p != ""]
            pieces: list[SigmaDetection | SigmaDetectionItem] = []
            for part, sub in (("domain", domain), ("name", name)):
                if sub.s == [SpecialChars.WILDCARD_MULTI]:
                    continue
                if not sub.s:
                    raise ElasticUnsupported("User: an empty domain or name is not stored")
                pieces.append(_item(f"{prefix}.{part}", [sub], item))
            alternatives.append(SigmaDetection(pieces, item_linking=ConditionAND) if pieces else _item(f"{prefix}.name", [SigmaExists(True)], item))
            continue
        if not backslashes:
            inner = parts[1:-1] if len(parts) >= 3 and parts[0] == parts[-1] == SpecialChars.WILDCARD_MULTI else None
            if inner is not None:  # contains: inside the domain or inside the name
                alternatives.append(SigmaDetection(
                    [_item(f"{prefix}.domain", [value], item), _item(f"{prefix}.name", [value], item)],
                    item_linking=ConditionOR,
                ))
                continue
            if parts and parts[0] == SpecialChars.WILDCARD_MULTI and SpecialChars.WILDCARD_MULTI not in parts[1:]:
                alternatives.append(_item(f"{prefix}.name", [value], item))  # endswith: the name's end
                continue
            if parts and parts[-1] == SpecialChars.WILDCARD_MULTI and SpecialChars.WILDCARD_MULTI not in parts[:-1]:
                alternatives.append(_item(f"{prefix}.domain", [value], item))  # startswith: the domain's start
                continue
        raise ElasticUnsupported(
            f"User: the integration splits DOMAIN\\name into user.domain and user.name; {_show(value)} has no "
            "exact equivalent on the two parts"
        )
    linking = ConditionAND if item.value_linking is ConditionAND else ConditionOR
    return SigmaDetection(alternatives, item_linking=linking)


HASH_LENGTHS: Mapping[str, int] = {"md5": 32, "sha1": 40, "sha256": 64, "imphash": 32}


def _hash_detection(item: SigmaDetectionItem, root: str) -> SigmaDetection:
    """``Hashes`` (``SHA1=…,MD5=…``) as the pipeline stores it: one lower-cased field per algorithm
    (``<root>.hash.sha1``, ``<root>.pe.imphash``). ``contains: 'SHA1=<hex>'`` is that digest (or, for
    fewer hex digits than the algorithm has, a digest starting with them)."""
    alternatives: list[SigmaDetection | SigmaDetectionItem] = []
    for value in item.value:
        parts = value.s if isinstance(value, SigmaString) else []
        text = None
        if len(parts) in (2, 3) and parts[0] == SpecialChars.WILDCARD_MULTI and isinstance(parts[1], str):
            if len(parts) == 2 or parts[2] == SpecialChars.WILDCARD_MULTI:
                text = parts[1]
        match = re.fullmatch(r"(?i)(md5|sha1|sha256|imphash)=([0-9a-f]+)", text or "")
        if match is None:
            raise ElasticUnsupported(
                "Hashes: the integration splits it into lower-cased <process|file>.hash.<algorithm> fields; only "
                f"a contains of 'ALGORITHM=<hex>' has an exact equivalent there (value {_show(value)})"
            )
        algorithm, digest = match.group(1).lower(), match.group(2).lower()
        target = f"{root}.pe.imphash" if algorithm == "imphash" else f"{root}.hash.{algorithm}"
        stored = SigmaString(digest)
        if len(digest) < HASH_LENGTHS[algorithm]:
            if len(parts) == 2:
                raise ElasticUnsupported(f"Hashes: {_show(value)} ends with a partial digest")
            stored.s = [digest, SpecialChars.WILDCARD_MULTI]
        alternatives.append(_item(target, [stored], item))
    linking = ConditionAND if item.value_linking is ConditionAND else ConditionOR
    return SigmaDetection(alternatives, item_linking=linking)


def _phrase_value(value: SigmaType, name: str, stored: str) -> SigmaPhrase:
    """A Sigma ``contains`` on a field Elastic keeps only as analysed text, as the phrase of its
    literal; every other form of value has no query there that means it."""
    analyzer = TYPED[stored].analyzer
    assert analyzer is not None, stored  # a phrase place is an analysed text field
    where = (
        f"{name}: Elastic stores it only in {stored}, a text field analysed by {analyzer.name} "
        f"(tokens: runs of {analyzer.token}, with A-Z read as a-z); "
    )
    if isinstance(value, SigmaExpansion):
        raise ElasticUnsupported(
            where + "|windash writes variants the analyzer reduces to the bare word (a slash and the other "
            "dashes are separators there), so their phrases would find the word anywhere"
        )
    if isinstance(value, SigmaRegularExpression):
        raise ElasticUnsupported(where + "a regular expression there matches single tokens, never the text of the script")
    if isinstance(value, SigmaCasedString):
        raise ElasticUnsupported(where + "|cased: no query there tells the case of letters apart")
    if not isinstance(value, SigmaString):
        raise ElasticUnsupported(where + f"only a contains has a query there (a phrase), not {name} {value_text(value)}")
    if value.contains_placeholder():
        raise ElasticUnsupported(where + f"unresolved placeholder in {_show(value)}: a phrase needs the text")
    parts = list(value.s)
    starts, ends = parts[:1] == [SpecialChars.WILDCARD_MULTI], parts[-1:] == [SpecialChars.WILDCARD_MULTI]
    text = "".join(p for p in parts if isinstance(p, str))
    if not analyzer.tokens(text):
        raise ElasticUnsupported(where + f"{_show(value)} holds no token, and a phrase of no token matches nothing")
    if not (starts and ends):
        anchor = "the end of the script" if starts else "the start of the script" if ends else "the whole script"
        raise ElasticUnsupported(
            where + f"a phrase matches anywhere in the script, and nothing there anchors {_show(value)} to {anchor}"
        )
    if any(not isinstance(p, str) for p in parts[1:-1]):
        raise ElasticUnsupported(
            where + f"{_show(value)} holds a wildcard: a phrase has no gap for any text, and a wildcard query "
            "there matches single tokens"
        )
    return SigmaPhrase.of(text)


def _phrase_fields() -> dict[str, tuple[str, tuple[str, ...]]]:
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    for channel, stream in CHANNEL_STREAMS.items():
        for name, places in stream.fields.items():
            for place in places:
                if place.kind == "phrase":
                    stored, channels = found.get(name, (place.field, ()))
                    found[name] = (stored, (*channels, channel))
    return found


PHRASE_FIELDS: Mapping[str, tuple[str, tuple[str, ...]]] = _phrase_fields()
"""Sigma field → the text field it is matched on as a phrase, and the channels whose events put it there."""


def _item(name: str, values: list[SigmaType], like: SigmaDetectionItem) -> SigmaDetectionItem:
    new = SigmaDetectionItem(name, [], list(values), value_linking=like.value_linking, auto_modifiers=False,
                             source=like.source)
    new.negated = like.negated
    return new


# --- the transformation -------------------------------------------------------------------------------


@dataclass
class WindowsFields(DetectionItemTransformation):
    """Resolve every Sigma field of a Windows rule to where its data stream stores it."""

    stream: Stream = field(default_factory=lambda: OTHER)
    codes: frozenset[str] | None = None
    """The event codes the rule's logsource pins (None: any), to drop impossible alternatives."""
    renames: Mapping[str, str] = field(default_factory=dict)
    """Sigma field → the name this kind of event gives it (Security 4688 writes Image as NewProcessName)."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> SigmaDetection | SigmaDetectionItem | None:
        name = detection_item.field
        if name is not None and name in self.renames:
            name = detection_item.field = self.renames[name]
        if name is None:
            raise ElasticUnsupported(
                "keyword search: a query without a field searches the index.query.default_field list of the "
                "Elastic Windows index templates, which does not name the winlog.event_data fields"
            )
        if any(isinstance(v, SigmaFieldReference) for v in detection_item.value):
            raise ElasticUnsupported(f"field reference on {name!r}: Elastic queries compare fields to literals only")
        stream = self.stream
        if name in stream.dropped:
            raise ElasticUnsupported(f"field {name!r}: {stream.dropped[name]}")
        places = stream.fields.get(name) or COMMON_FIELDS.get(name)
        if places is None and name in COMMON_DROPPED:
            raise ElasticUnsupported(f"field {name!r}: {COMMON_DROPPED[name]}")
        spelled = spelled_otherwise(name, stream) if places is None else None
        if spelled is not None:
            raise ElasticUnsupported(
                f"field {name!r}: Windows event data names are case-sensitive, and {stream.name} events spell "
                f"this field {spelled!r}: {name!r} would match no event"
            )
        if places is None:
            key = spaced(name) if stream.spaced_names else name
            user_data = stream.user_data and (
                stream.user_data_codes is None or self.codes is None or bool(self.codes & stream.user_data_codes)
            )
            places = _data(key) + ((Place(USER_DATA + key),) if user_data else ())
        if stream.drops_dash:  # the pipeline's first script drops them, before it moves any field out of event_data
            _dropped_values(detection_item)
        covering = next(
            (p for p in places if p.always and p.codes is not None and self.codes is not None and self.codes <= p.codes),
            None,
        )
        if covering is not None:
            places = (covering,)  # every event of the logsource has it there, and only there
        places = tuple(p for p in places if p.codes is None or self.codes is None or p.codes & self.codes)
        absent = [v for v in detection_item.value if _absence(v)]
        if absent and len(places) > 1:
            return self._absent_everywhere(detection_item, places, absent)
        return self._anywhere(detection_item, places)

    def _anywhere(self, detection_item: SigmaDetectionItem, places: tuple[Place, ...]) -> SigmaDetection | SigmaDetectionItem:
        """The item's values in any of the places the field may be stored (each guarded by the event
        codes that store it there)."""
        alternatives: list[SigmaDetection | SigmaDetectionItem] = []
        for place in places:
            converted = self._convert(place, detection_item)
            if converted is None:
                continue
            guarded = place.codes is not None and not (self.codes is not None and self.codes <= place.codes)
            if guarded:
                codes = sorted(place.codes, key=lambda c: (len(c), c))  # type: ignore[arg-type]
                guard = SigmaDetectionItem(EVENT_CODE, [], [SigmaString(c) for c in codes], auto_modifiers=False)
                converted = SigmaDetection([guard, converted], item_linking=ConditionAND)
            alternatives.append(converted)
        if not alternatives:
            return _never(detection_item)
        if len(alternatives) == 1:
            return alternatives[0]
        return SigmaDetection(alternatives, item_linking=ConditionOR)

    def _absent_everywhere(
        self, item: SigmaDetectionItem, places: tuple[Place, ...], absent: list[SigmaType]
    ) -> SigmaDetection | SigmaDetectionItem:
        """``null`` (or ``|exists: false``) on a field stored in several places: absent from every one
        of them (ANDed, where a value is found in any: ORed), for the events each place serves. A
        place served by some event codes only is absent or of another code: the logsource's other
        codes, which must then be known."""
        name = item.field or ""
        if item.value_linking is ConditionAND and len(item.value) > 1:
            raise ElasticUnsupported(f"{name}: '|all' over null and values of a field stored in several places")
        parts: list[SigmaDetection | SigmaDetectionItem] = []
        for place in places:
            converted = self._convert(place, _item(name, absent, item))
            if converted is None:
                continue
            if place.codes is not None and not (self.codes is not None and self.codes <= place.codes):
                others = sorted(self.codes - place.codes, key=lambda c: (len(c), c)) if self.codes is not None else None
                if not others:
                    raise ElasticUnsupported(
                        f"{name}: null: the integration stores it in {place.field} for some event codes only, and "
                        "the logsource pins no event codes to state the others by"
                    )
                other = SigmaDetectionItem(EVENT_CODE, [], [SigmaString(c) for c in others], auto_modifiers=False)
                converted = SigmaDetection([converted, other], item_linking=ConditionOR)
            parts.append(converted)
        absence: SigmaDetection | SigmaDetectionItem = (
            parts[0] if len(parts) == 1 else SigmaDetection(parts, item_linking=ConditionAND)
        )
        present = [v for v in item.value if not _absence(v)]
        if not present:
            return absence
        return SigmaDetection([absence, self._anywhere(_item(name, present, item), places)], item_linking=ConditionOR)

    def _convert(self, place: Place, item: SigmaDetectionItem) -> SigmaDetection | SigmaDetectionItem | None:
        """The item on one stored field; None when none of its values can be stored there."""
        name = item.field or ""
        if place.kind == "user":
            return _user_detection(item, place.field)
        if place.kind == "hashes":
            return _hash_detection(item, place.field)
        if place.kind == "phrase":
            return _item(place.field, [_phrase_value(v, name, place.field) for v in item.value], item)
        convert = CONVERTERS[place.kind]
        per_value = [convert(value, name) for value in item.value]
        if item.value_linking is ConditionAND:
            if any(not v for v in per_value):
                return None  # one value can never hold here, so all of them cannot
            if any(len(v) > 1 for v in per_value):
                raise ElasticUnsupported(f"{name}: '|all' over values that each become several ip blocks")
        values = [v for vs in per_value for v in vs]
        if not values:
            return None
        return _item(place.field, values, item)


CONVERTERS = {
    "keyword": _keyword_value,
    "code": _code_value,
    "ip": _ip_value,
    "long": _long_value,
    "boolean": _boolean_value,
    "direction": lambda v, n: _mapped_value(v, n, {"true": "egress", "false": "ingress"}),
    "ipversion": lambda v, n: _mapped_value(v, n, {"true": "ipv6", "false": "ipv4"}),
    "access_list": _access_list_value,
    "token_list": _token_value,
    "mask": _mask_value,
}


def _absence(value: SigmaType) -> bool:
    """``null`` or ``|exists: false``: a test that the field has no value."""
    return isinstance(value, SigmaNull) or isinstance(value, SigmaExists) and not value.exists


def _never(item: SigmaDetectionItem) -> SigmaDetectionItem:
    raise ElasticUnsupported(
        f"field {item.field!r}: no stored document holds these values where the integration stores the field"
    )


AS_ABSENT = ("", "-")
"""Sysmon values its pipeline drops that a rule tests as such: searched as the field's absence (stated)."""


def _as_absent(value: SigmaType) -> bool:
    return type(value) is SigmaString and _plain(value) in AS_ABSENT


def _dropped_values(item: SigmaDetectionItem) -> None:
    """Values the Sysmon pipeline drops from event_data (before it moves any field out): an empty value
    and ``-`` are searched as the field's absence (stated: ``dropped_as_absent``), the all-zero GUID
    refused."""
    for value in item.value:
        if isinstance(value, SigmaString) and _plain(value) == "{00000000-0000-0000-0000-000000000000}":
            raise ElasticUnsupported(
                f"{item.field}: the Sysmon pipeline drops '-', empty and all-zero GUID values from event_data, "
                f"so {_plain(value)!r} is never stored"
            )
    item.value = [SigmaNull() if _as_absent(v) else v for v in item.value]


def dropped_as_absent(field: str, values: Iterable[str]) -> str:
    """The statement on a Sysmon rule that tests a field for a value the pipeline drops."""
    shown = " and ".join(repr(v) for v in values)
    return (
        f"{field}: {shown} searched as 'no value' (the Sysmon pipeline drops '-' and empty values from "
        f"event_data before indexing): an event without {field} also matches"
    )


def _dropped_tests(rule: SigmaRule) -> list[str]:
    """The statements for the fields a rule of a Sysmon logsource tests for values the pipeline drops."""
    if not any(part.stream.drops_dash for part in parts(rule)):
        return []
    tested: dict[str, dict[str, None]] = {}
    for item in detection_items(rule):
        for value in item.value:
            if item.field and isinstance(value, SigmaString) and _as_absent(value):
                tested.setdefault(item.field, {})[str(_plain(value))] = None
    return [dropped_as_absent(f, values) for f, values in tested.items()]


# --- logsource conditions and the pipeline -----------------------------------------------------------------


def stream_groups(channels: Iterable[str]) -> list[tuple[Stream, tuple[str, ...]]]:
    """A logsource's channels grouped by the pipeline their events go through, in first-seen order."""
    groups: dict[int, tuple[Stream, list[str]]] = {}
    for channel in channels:
        stream = CHANNEL_STREAMS.get(channel, OTHER)
        groups.setdefault(id(stream), (stream, []))[1].append(channel)
    return [(stream, tuple(names)) for stream, names in groups.values()]


@dataclass(frozen=True)
class Part:
    """The events of a logsource that one kind of event and one pipeline give: the rule is resolved
    for each part on its own, and the parts are ORed."""

    stream: Stream
    conditions: Mapping[str, tuple[str, ...]]
    """Stored field → the values it must hold (any), from the logsource's implied conditions."""
    codes: frozenset[str] | None
    renames: Mapping[str, str] = field(default_factory=dict)


def variants_of(logsource: Any) -> tuple[Any, ...] | None:
    """The kinds of event a Windows logsource covers, as the logsource layer defines them."""
    found = find(logsource)
    if found is None or found.family.name != "windows":
        return None
    return tuple(found.variants)


def parts(rule: SigmaRule) -> list[Part]:
    """A Windows rule's events, one part per kind of event and data stream."""
    return parts_of_logsource(rule.logsource)


def parts_of_logsource(source: Any) -> list[Part]:
    """A Windows logsource's events, one part per kind of event and data stream."""
    variants = variants_of(source)
    if variants is None:
        raise ElasticUnsupported(
            f"logsource windows/{source.category or source.service}: no event-log channel or EventID is known for it"
        )
    out: list[Part] = []
    for variant in variants:
        conditions: dict[str, tuple[str, ...]] = {}
        codes: frozenset[str] | None = None
        for name, values in variant.conditions.items():
            target = COMMON_FIELDS.get(name, _data(name))[0].field
            conditions[target] = tuple(str(v) for v in values)
            if target == EVENT_CODE:
                codes = frozenset(conditions[target])
        renames = dict(getattr(variant, "renames", {}) or {})
        channels = conditions.get(CHANNEL, ())
        if not channels:
            out.append(Part(OTHER, conditions, codes, renames))
            continue
        for stream, group in stream_groups(channels):
            out.append(Part(stream, {**conditions, CHANNEL: group}, codes, renames))
    return out


_KEYWORDS = frozenset({"and", "or", "not", "of", "all", "any", "them"})
_TOKEN = re.compile(r"[A-Za-z0-9_*]+")


def _prefixed(condition: str, prefix: str) -> str:
    """A condition over the part's copies of the detections (``sel`` → ``p0_sel``, ``them`` → ``p0_*``)."""

    def rename(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "them":
            return prefix + "*"
        if token.lower() in _KEYWORDS or token.isdigit():
            return token
        return prefix + token

    return _TOKEN.sub(rename, condition)


def detached_copies(detections: Mapping[str, SigmaDetection], count: int) -> list[dict[str, SigmaDetection]]:
    """``count`` deep copies of a rule's detections, without the condition tree they hang from
    (``compiler.rules.detached``; a deepcopy of one detection took every other one along): one
    snapshot, unpickled per copy, several times faster than a deepcopy each."""
    with detached(detections.values()):
        frozen = pickle.dumps(dict(detections), protocol=pickle.HIGHEST_PROTOCOL)
    return [pickle.loads(frozen) for _ in range(count)]


@dataclass
class WindowsRule(PreprocessingTransformation):
    """A Windows rule as Elastic's documents answer it: for each part (kind of event × data stream), a
    copy of the detections with every field resolved where that stream stores it, ANDed with the part's
    condition on the stored channel and event code; the parts ORed. The conditions' values are
    ``|cased`` strings: the stored channel names and codes are exact terms, which Lucene's case folding
    leaves as they are."""

    def apply(self, rule: SigmaRule | Any) -> None:
        super().apply(rule)
        if not isinstance(rule, SigmaRule):
            return
        original = rule.detection
        detections: dict[str, SigmaDetection] = {}
        per_part: list[tuple[str, str]] = []
        events = parts(rule)
        for i, (part, copies) in enumerate(zip(events, detached_copies(original.detections, len(events)), strict=True)):
            prefix = f"p{i}_"
            resolve = WindowsFields(stream=part.stream, codes=part.codes, renames=part.renames)
            item = self.processing_item  # a rule's pipeline step: a ProcessingItem (typed as its base upstream)
            resolve.processing_item = item if isinstance(item, ProcessingItem) else None
            for name, copied in copies.items():
                resolve.apply_detection(copied)
                detections[prefix + name] = copied
            condition_name = f"logsource{i}"
            detections[condition_name] = SigmaDetection(
                [
                    SigmaDetectionItem(stored, [], [SigmaCasedString(v) for v in values], auto_modifiers=False)
                    for stored, values in part.conditions.items()
                ],
                item_linking=ConditionAND,
            )
            per_part.append((prefix, condition_name))
        conditions = [
            " or ".join(f"({name} and ({_prefixed(c, prefix)}))" for prefix, name in per_part)
            if len(per_part) > 1 else f"{per_part[0][1]} and ({_prefixed(c, per_part[0][0])})"
            for c in original.condition
        ]
        rule.detection = SigmaDetections(detections, conditions, original.source)


def processing_pipeline(settings: Mapping[str, Any] | None = None) -> ProcessingPipeline:
    """The cell's pipeline: every Windows rule resolved onto Elastic's Windows documents."""
    return ProcessingPipeline(
        name="detc: Windows events to Elastic's Windows and System integrations",
        priority=20,
        items=[
            ProcessingItem(
                identifier="detc_windows_ecs",
                transformation=WindowsRule(),
                rule_conditions=[LogsourceCondition(product="windows")],
            )
        ],
    )


def caveats(rule: SigmaRule, target: str, mapped: SigmaRule) -> tuple[str, ...]:
    """What the query for a Windows rule cannot hold exactly (``backends.elastic.windows.caveats``)."""
    return (
        *windows_caveats(rule, target, mapped, constant=(CHANNEL, EVENT_CODE), phrases=PHRASE_FIELDS),
        *_dropped_tests(rule),
    )


INVESTIGATION_ORDER: tuple[Mapping[str, tuple[Place, ...]], ...] = (SYSMON_FIELDS, SECURITY_FIELDS, POWERSHELL_FIELDS)


def _investigated(place: Place) -> str:
    return {"user": "user.name", "hashes": "process.hash.sha256"}.get(place.kind, place.field)


def investigation_fields(names: Iterable[str], logsource: Any = None) -> list[str]:
    """A rule's ``fields:`` (Sigma's Windows names) as the fields a Kibana user investigates: where the
    integrations put them. With the rule's ``logsource``, for each kind of event it covers, where that
    event's data stream keeps the field, as the query looks it up (a 4688 ``Image`` under its 4688 name,
    a name the streams leave in place in ``winlog.event_data`` or, for events carrying UserData,
    ``winlog.user_data``); a field no part keeps is left out. Without it, the Sysmon, then Security,
    then PowerShell placement, else event_data."""
    if logsource is not None and variants_of(logsource) is not None:
        return _investigation_fields_of(names, parts_of_logsource(logsource))
    out: list[str] = []
    for name in names:
        stored = EVENT_DATA + name
        for table in INVESTIGATION_ORDER:
            if name in table:
                stored = _investigated(table[name][0])
                break
        else:
            if name in COMMON_FIELDS:
                stored = COMMON_FIELDS[name][0].field
        out.append(stored)
    return out


def _investigation_fields_of(names: Iterable[str], event_parts: Sequence[Part]) -> list[str]:
    out: list[str] = []
    for name in names:
        for part in event_parts:
            key, stream = part.renames.get(name, name), part.stream
            places = stream.fields.get(key) or COMMON_FIELDS.get(key)
            if places is None:
                if key in stream.dropped or key in COMMON_DROPPED:
                    continue
                key = spaced(key) if stream.spaced_names else key
                user_data = stream.user_data and (
                    stream.user_data_codes is None or part.codes is None or bool(part.codes & stream.user_data_codes)
                )
                places = _data(key) + ((Place(USER_DATA + key),) if user_data else ())
            for place in places:
                if place.codes is None or part.codes is None or place.codes & part.codes:
                    out.append(_investigated(place))
    return list(dict.fromkeys(out))
