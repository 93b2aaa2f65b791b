"""A raw Windows event as evtx_dump writes it → the ``winlog`` form Elastic Agent's winlog input sends.

Elastic's ingest pipelines never see the raw event: the agent's ``winlog`` input (Winlogbeat's
``sys/winevent``, elastic/beats ``winlogbeat/sys/winevent/event.go``, ``Event.Fields``) first renders
each record into ``winlog.*`` fields. That is the input form of every pipeline test in
elastic/integrations (``packages/windows/data_stream/*/_dev/test/pipeline/*.json``, ``packages/system/
data_stream/security/_dev/test/pipeline/*.json``): ``winlog.event_id`` as text, ``winlog.channel``,
``winlog.provider_name``, ``winlog.computer_name``, ``winlog.event_data.<Name>`` with every value as
text (XML holds text only; evtx_dump prints numbers as JSON numbers), unnamed ``<Data>`` elements as
``param1``, ``param2`` …, and ``UserData``'s first element's children as ``winlog.user_data``.

Not rendered here (no Sigma field reads them): ``winlog.user.name/domain/type`` (a SID lookup on the
collecting host), ``winlog.task`` and ``winlog.opcode`` texts (the provider's message table), and
``message`` (the rendered event text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from compiler.errors import ShapeError

LEVELS: Mapping[int, str] = {0: "information", 1: "critical", 2: "error", 3: "warning", 4: "information", 5: "verbose"}
"""``System/Level`` → the level name Winlogbeat writes when the provider has no message table entry
(``winlogbeat/sys/winevent/level.go``: standard levels 0 LogAlways … 5 Verbose; 0 is rendered
"Information" by the Windows event log API)."""


def _text(value: Any) -> str:
    """A value as the XML text it was: numbers in decimal, booleans as evtx_dump read them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, Mapping) and "#text" in value:
        return _text(value["#text"])
    if isinstance(value, list):
        return "".join(_text(v) for v in value)
    return json.dumps(value, sort_keys=True)


def _attributes(node: Any) -> Mapping[str, Any]:
    if isinstance(node, Mapping):
        attrs = node.get("#attributes")
        if isinstance(attrs, Mapping):
            return attrs
    return {}


def _guid(text: str) -> str:
    """evtx_dump prints GUIDs bare; Windows' rendered XML (and so Winlogbeat) writes them in braces."""
    return text if not text or text.startswith("{") else "{" + text + "}"


def _event_data(node: Any) -> dict[str, str]:
    """EventData: named <Data> by name; unnamed ones (evtx_dump's ``Data``) as param1, param2 …"""
    out: dict[str, str] = {}
    if not isinstance(node, Mapping):
        return out
    for key, value in node.items():
        if key == "#attributes":
            continue
        if key == "Data":
            items = value.get("#text") if isinstance(value, Mapping) else value
            if not isinstance(items, list):
                items = [items]
            for i, item in enumerate(items, 1):
                out[f"param{i}"] = _text(item)
            continue
        if key == "Binary":
            out["Binary"] = _text(value)
            continue
        out[key] = _text(value)
    return out


def _user_data(node: Any) -> dict[str, Any]:
    """UserData's single child element: its children as fields, its name as ``xml_name``."""
    if not isinstance(node, Mapping):
        return {}
    for name, child in node.items():
        if name == "#attributes":
            continue
        out: dict[str, Any] = {"xml_name": name}
        if isinstance(child, Mapping):
            for key, value in child.items():
                if key != "#attributes":
                    out[key] = _text(value)
        return out
    return {}


def to_winlog(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The agent's document for one evtx_dump event (``{"Event": {"System": …, "EventData": …}}``)."""
    event = raw.get("Event") if isinstance(raw, Mapping) else None
    if not isinstance(event, Mapping) or not isinstance(event.get("System"), Mapping):
        raise ShapeError("a Windows event must be evtx_dump JSON: {\"Event\": {\"System\": {...}, ...}}")
    system = event["System"]
    provider = _attributes(system.get("Provider"))
    event_id = system.get("EventID")
    if isinstance(event_id, Mapping):  # <EventID Qualifiers="…">7036</EventID>
        event_id = event_id.get("#text")
    winlog: dict[str, Any] = {}
    if provider.get("Name") is not None:
        winlog["provider_name"] = _text(provider["Name"])
    if provider.get("Guid"):
        winlog["provider_guid"] = _guid(_text(provider["Guid"]))
    if event_id is not None:
        winlog["event_id"] = _text(event_id)
    for key, name in (("Channel", "channel"), ("Computer", "computer_name")):
        if system.get(key) is not None:
            winlog[name] = _text(system[key])
    if isinstance(system.get("EventRecordID"), (int, str)):
        winlog["record_id"] = int(system["EventRecordID"]) if str(system["EventRecordID"]).isdigit() else system["EventRecordID"]
    if isinstance(system.get("Version"), int):
        winlog["version"] = system["Version"]
    correlation = _attributes(system.get("Correlation"))
    for key, name in (("ActivityID", "activity_id"), ("RelatedActivityID", "related_activity_id")):
        if correlation.get(key):
            winlog[name] = _guid(_text(correlation[key]))
    execution = _attributes(system.get("Execution"))
    if execution:
        process: dict[str, Any] = {}
        if "ProcessID" in execution:
            process["pid"] = int(execution["ProcessID"])
        if "ThreadID" in execution:
            process["thread"] = {"id": int(execution["ThreadID"])}
        winlog["process"] = process
    user = _attributes(system.get("Security")).get("UserID")
    if user:
        winlog["user"] = {"identifier": _text(user)}
    created = _attributes(system.get("TimeCreated")).get("SystemTime")
    if created:
        winlog["time_created"] = _text(created)
    level = system.get("Level")
    if isinstance(level, int) and level in LEVELS:
        winlog["level"] = LEVELS[level]
    if "EventData" in event:
        data = _event_data(event["EventData"])
        if data:
            winlog["event_data"] = data
    if "UserData" in event:
        user_data = _user_data(event["UserData"])
        if user_data:
            winlog["user_data"] = user_data
    doc: dict[str, Any] = {"winlog": winlog, "event": {"kind": "event"}}
    if "event_id" in winlog:
        doc["event"]["code"] = winlog["event_id"]
    if "provider_name" in winlog:
        doc["event"]["provider"] = winlog["provider_name"]
    if "computer_name" in winlog:
        doc["host"] = {"name": winlog["computer_name"]}
    if "level" in winlog:
        doc["log"] = {"level": winlog["level"]}
    return doc
