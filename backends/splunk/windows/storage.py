"""Where Splunk keeps Windows events: index, source and sourcetype, and the search that selects a logsource.

- The forwarder's ``[WinEventLog://<channel>]`` input writes ``source = XmlWinEventLog:<channel>``
  and ``sourcetype = XmlWinEventLog`` with ``renderXml = 1``, ``WinEventLog:<channel>`` and
  ``WinEventLog`` with the classic rendering (Splunk Add-on for Microsoft Windows 5.0+ folded the
  per-channel sourcetypes into these two; the Splunk Add-on for Sysmon 4.x ships its stanzas for
  ``XmlWinEventLog:Microsoft-Windows-Sysmon/Operational``). Splunk's own data-source definitions
  say the same: splunk/security_content @ b13b314aed0e1778335a55620474e7d27289a20a,
  ``data_sources/sysmon_eventid_1.yml`` (``source: XmlWinEventLog:Microsoft-Windows-Sysmon/Operational``,
  ``sourcetype: xmlwineventlog``, Splunk Add-on for Sysmon 4.0.2) and
  ``data_sources/windows_event_log_security_4688.yml`` (``source: XmlWinEventLog:Security``,
  Splunk Add-on for Microsoft Windows 8.9.0).
- The index: an input without ``index =`` writes to ``main`` (inputs.conf.spec: "index = <string>
  ... Default: main"); a deployment names its own with the ``windows_index`` setting.
- ``EventCode`` is the add-on's name for the EventID (security_content's searches select
  ``EventCode=4688``); the logsource's channel is in ``source``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sigma.conditions import ConditionAND, ConditionOR
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaDetections, SigmaRule
from sigma.types import SigmaNumber, SigmaString

from backends.splunk.spl_backend import SplBackend
from backends.splunk.windows.classic import xml_always
from backends.splunk.windows.names import EVENT_FIELDS, RENDERINGS, XML
from compiler.logsources import Variant, require
from compiler.settings import SPL_FIELD, SPLUNK_INDEX, SPLUNK_TOKEN, Kind

CHANNEL = "Channel"
"""The Sigma name of the event's channel, which Splunk keeps in ``source``."""

DEFAULTS: Mapping[str, Any] = {
    "windows_index": "main",
    "windows_rendering": XML,
    "windows_risk_object_field": "Computer",
    "windows_risk_object_type": "system",
}
"""Per-deployment settings of the Windows cell (``targets: spl:`` in a client profile)."""

SETTING_KINDS: Mapping[str, Any] = {
    "windows_index": SPLUNK_INDEX,
    "windows_rendering": Kind("a Windows event rendering", "xml|classic", "xml or classic", max_len=7),
    "windows_risk_object_field": SPL_FIELD,
    "windows_risk_object_type": SPLUNK_TOKEN,
}
"""What each setting may be, checked when a profile loads."""

RISK_OBJECT_FIELD = "windows_risk_object_field"
"""The setting naming the field an ES risk event is about: by default the host, the event's
``<Computer>`` as the XML rendering extracts it (a classic or CIM-normalised deployment may name
``ComputerName`` or the add-ons' CIM ``dest``, as splunk/security_content's Windows searches do)."""
RISK_OBJECT_TYPE = "windows_risk_object_type"


def rendering_of(settings: Mapping[str, Any]) -> str:
    value = str(settings.get("windows_rendering", XML))
    if value not in RENDERINGS:
        raise ValueError(f"windows_rendering must be one of {', '.join(RENDERINGS)}, not {value!r}")
    return value


def sourcetype(rendering: str) -> str:
    return "XmlWinEventLog" if rendering == XML else "WinEventLog"


def source(channel: str, rendering: str) -> str:
    return f"{sourcetype(rendering)}:{channel}"


def variant_rendering(variant: Variant, rendering: str) -> str:
    """How the events of a variant are rendered: Sysmon's always as XML, others as deployed."""
    channels = variant.conditions.get(CHANNEL, ())
    return XML if channels and all(xml_always(str(c)) for c in channels) else rendering


def kinds_of_event(logsource: Any) -> tuple[Variant, ...]:
    """The kinds of event a rule's Windows logsource covers (the logsource layer's variants)."""
    return require(logsource).variants


def storage(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What a correlation search over Windows events needs: its index and sourcetype, and the risk
    object (the host)."""
    return {
        "index": str(settings["windows_index"]),
        "sourcetype": sourcetype(rendering_of(settings)),
        "risk_object_field": str(settings[RISK_OBJECT_FIELD]),
        "risk_object_type": str(settings[RISK_OBJECT_TYPE]),
    }


def _value(value: Any) -> SigmaString | SigmaNumber:
    if isinstance(value, int) and not isinstance(value, bool):
        return SigmaNumber(value)
    plain = SigmaString()
    plain.s = [str(value)]  # literal: channel names are never patterns
    return plain


def _items(variant: Variant, rendering: str, with_sourcetype: bool) -> list[SigmaDetectionItem]:
    items = [SigmaDetectionItem("sourcetype", [], [_value(sourcetype(rendering))])] if with_sourcetype else []
    for name, values in variant.conditions.items():
        if name == CHANNEL:
            items.append(SigmaDetectionItem("source", [], [_value(source(str(c), rendering)) for c in values]))
        else:
            items.append(SigmaDetectionItem(EVENT_FIELDS.get(name, name), [], [_value(v) for v in values]))
    return items


def selection(logsource: Any, settings: Mapping[str, Any]) -> SigmaDetection:
    """The events of a rule's logsource as a Sigma detection (what ``search_head`` writes)."""
    kinds = kinds_of_event(logsource)
    deployed = rendering_of(settings)
    renderings = [variant_rendering(v, deployed) for v in kinds]
    uniform = len(set(renderings)) == 1
    head: list[SigmaDetectionItem | SigmaDetection] = [SigmaDetectionItem("index", [], [_value(str(settings["windows_index"]))])]
    if uniform:
        head.append(SigmaDetectionItem("sourcetype", [], [_value(sourcetype(renderings[0]))]))
    parts = [_items(v, r, not uniform) for v, r in zip(kinds, renderings, strict=True)]
    if len(parts) == 1:
        return SigmaDetection([*head, *parts[0]], item_linking=ConditionAND)
    either = SigmaDetection(
        [SigmaDetection(list[SigmaDetectionItem | SigmaDetection](p), item_linking=ConditionAND) for p in parts],
        item_linking=ConditionOR,
    )
    return SigmaDetection([*head, either], item_linking=ConditionAND)


def search_head(logsource: Any, settings: Mapping[str, Any]) -> str:
    """The base search of a where-form rule: the selection as the search command writes it (the
    same text a search-form rule starts with). The search command reads OR before AND, so terms
    after it are ANDed with the whole selection."""
    detection = SigmaDetections({"selection": selection(logsource, settings)}, ["selection"])
    rule = SigmaRule(title="selection", logsource=logsource, detection=detection)
    return str(SplBackend().convert_rule(rule)[0])
