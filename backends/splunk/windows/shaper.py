"""A raw Windows event (evtx_dump JSON) → the event as a Splunk search sees it under the Windows/Sysmon add-ons.

The document maps field name → its values (a tuple; Splunk fields can be multivalue), each a string:

- ``_raw`` is the event's XML as the forwarder writes it with ``renderXml = 1``:
  ``<Event xmlns='…'><System><Provider Name='…' Guid='…'/><EventID>1</EventID>…</System><EventData>
  <Data Name='Image'>…</Data>…</EventData></Event>`` — single-quoted attributes, ``&``, ``<``, ``>``
  as entities, no whitespace between elements (the ``example_log`` events of splunk/security_content
  @ b13b314aed0e1778335a55620474e7d27289a20a, ``data_sources/*.yml``, are written so). Keyword
  searches and ``match(_raw, …)`` read it.
- ``index``, ``source`` (``XmlWinEventLog:<Channel>``) and ``sourcetype`` (``XmlWinEventLog``).
- ``<System>``: each element's text under its element name (``EventID``, ``Version``, ``Level``,
  ``Task``, ``Opcode``, ``Keywords``, ``EventRecordID``, ``Channel``, ``Computer``) and each
  attribute under its attribute name (``Name`` and ``Guid`` of ``<Provider>``, ``SystemTime``,
  ``ProcessID``/``ThreadID`` of ``<Execution>``, ``UserID``, ``ActivityID``, ``Qualifiers``,
  ``EventSourceName``), plus ``EventCode`` (= the EventID) and ``RecordNumber`` (= EventRecordID) —
  the names the add-ons' documented field lists carry (security_content ``data_sources/*.yml``,
  ``fields:``). An element with attributes gives its attributes only: ``<EventID Qualifiers='16384'>
  7036</EventID>`` makes ``Qualifiers`` and ``EventCode`` but no ``EventID`` (the System 7036/7040/7045
  and Application 2282/3000 field lists have none).
- ``<EventData>``: one field per ``<Data Name='…'>``, named as the element names it with Splunk's
  key cleaning (CLEAN_KEYS: ``Threat Name`` → ``Threat_Name``); ``<UserData>``: one field per leaf
  element, under its element name (the 1102 field list: ``SubjectUserSid``, ``SubjectUserName``…).
  Unnamed ``<Data>`` and ``<Binary>`` make no field (no documented field list has one).
- A name given twice (an attribute and a Data name, a repeated element) is one multivalue field;
  an empty value makes no field (Splunk keeps no field for an empty extraction).
- A classic deployment (``windows_rendering: classic``) sees non-Sysmon events as the header keys
  (``LogName``, ``EventCode``, ``ComputerName``, ``SourceName``, ``RecordNumber``) and, for
  Security 4688, the message's labels (``classic.py``); ``_raw`` holds the header and those
  ``Label:<TAB>value`` lines, not the full message text Windows writes (no rule searches it: keywords
  on these events are refused).
- Values are the element text as an XML parser reads it (entities decoded), integers in decimal as
  evtx_dump writes them. evtx_dump writes GUIDs without the braces Windows renders; they are kept
  as evtx_dump gives them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backends.splunk.windows.classic import classic_fields, xml_always
from backends.splunk.windows.names import CLASSIC, XML, clean_key
from backends.splunk.windows.storage import rendering_of, source, sourcetype
from compiler.errors import ShapeError

Document = Mapping[str, tuple[str, ...]]

ATTRIBUTES = "#attributes"
TEXT = "#text"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ShapeError(f"not a Windows event value: {type(value).__name__}")


def _escape(text: str, *, attribute: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("'", "&apos;") if attribute else text


def _attrs(attributes: Mapping[str, Any] | None) -> str:
    if not attributes:
        return ""
    return "".join(f" {k}='{_escape(_text(v), attribute=True)}'" for k, v in attributes.items() if v is not None)


def _element(name: str, value: Any) -> str:
    if isinstance(value, list):
        return "".join(_element(name, v) for v in value)
    if value is None:
        return f"<{name}/>"
    if not isinstance(value, Mapping):
        return f"<{name}>{_escape(_text(value))}</{name}>"
    head = name + _attrs(value.get(ATTRIBUTES))
    text = value.get(TEXT)
    children = [(k, v) for k, v in value.items() if k not in (ATTRIBUTES, TEXT)]
    if text is None and not children:
        return f"<{head}/>"
    body = "" if text is None else "".join(_escape(_text(t)) for t in (text if isinstance(text, list) else [text]))
    return f"<{head}>{body}{''.join(_element(k, v) for k, v in children)}</{name}>"


def _event_data(value: Any) -> str:
    if value is None:
        return "<EventData/>"
    if not isinstance(value, Mapping):
        raise ShapeError("EventData is an object of Data names")
    parts = []
    for key, item in value.items():
        if key == ATTRIBUTES:
            continue
        if key == "Data" and isinstance(item, Mapping):  # unnamed <Data> elements
            texts = item.get(TEXT)
            for text in texts if isinstance(texts, list) else [texts]:
                parts.append("<Data/>" if text is None else f"<Data>{_escape(_text(text))}</Data>")
        elif key == "Binary":
            parts.append(_element(key, item))
        else:
            name = _escape(key, attribute=True)
            for one in item if isinstance(item, list) else [item]:
                text = one.get(TEXT) if isinstance(one, Mapping) else one
                body = "" if text is None else _escape(_text(text))
                parts.append(f"<Data Name='{name}'>{body}</Data>")
    attrs = _attrs(value.get(ATTRIBUTES)) if isinstance(value.get(ATTRIBUTES), Mapping) else ""
    return f"<EventData{attrs}>{''.join(parts)}</EventData>"


def render_xml(event: Mapping[str, Any]) -> str:
    """The XML rendering of an evtx_dump event (the ``Event`` object)."""
    parts = []
    for key, value in event.items():
        if key == ATTRIBUTES:
            continue
        parts.append(_event_data(value) if key == "EventData" else _element(key, value))
    return f"<Event{_attrs(event.get(ATTRIBUTES))}>{''.join(parts)}</Event>"


def _add(fields: dict[str, list[str]], name: str, value: Any) -> None:
    if value is None or isinstance(value, Mapping):
        return
    for one in value if isinstance(value, list) else [value]:
        if one is None:
            continue
        text = _text(one)
        if text != "":
            fields.setdefault(name, []).append(text)


def _system_fields(system: Mapping[str, Any], fields: dict[str, list[str]]) -> None:
    for name, value in system.items():
        if isinstance(value, Mapping):
            attributes = value.get(ATTRIBUTES) or {}
            for attribute, attr_value in attributes.items():
                _add(fields, attribute, attr_value)
            if not attributes:
                _add(fields, name, value.get(TEXT))
        else:
            _add(fields, name, value)
    event_id = system.get("EventID")
    _add(fields, "EventCode", event_id.get(TEXT) if isinstance(event_id, Mapping) else event_id)
    if "EventRecordID" in fields:
        fields["RecordNumber"] = list(fields["EventRecordID"])


def _event_data_fields(data: Mapping[str, Any], fields: dict[str, list[str]]) -> None:
    for name, value in data.items():
        if name in (ATTRIBUTES, "Binary") or name == "Data" and isinstance(value, Mapping):
            continue
        if isinstance(value, Mapping):
            value = value.get(TEXT)
        _add(fields, clean_key(name), value)


def _user_data_fields(node: Mapping[str, Any], fields: dict[str, list[str]]) -> None:
    for name, value in node.items():
        if name == ATTRIBUTES:
            continue
        if isinstance(value, Mapping):
            if any(k not in (ATTRIBUTES, TEXT) for k in value):
                _user_data_fields(value, fields)
            else:
                _add(fields, clean_key(name), value.get(TEXT))
        else:
            _add(fields, clean_key(name), value)


def _classic(event: Mapping[str, Any], channel: str, index: str) -> Document:
    """The classic rendering's fields: the header keys, and the message labels detc knows."""
    system = event["System"]
    event_id = system.get("EventID")
    event_id = event_id.get(TEXT) if isinstance(event_id, Mapping) else event_id
    provider = system.get("Provider")
    fields: dict[str, list[str]] = {}
    _add(fields, "LogName", channel)
    _add(fields, "EventCode", event_id)
    _add(fields, "ComputerName", system.get("Computer"))
    _add(fields, "SourceName", (provider.get(ATTRIBUTES) or {}).get("Name") if isinstance(provider, Mapping) else None)
    _add(fields, "RecordNumber", system.get("EventRecordID"))
    header = [f"{k}={v[0]}" for k, v in fields.items()]
    data = event.get("EventData")
    labels = classic_fields(event_id, channel, data) if isinstance(data, Mapping) else {}
    lines = []
    for name, label in labels.items():
        assert isinstance(data, Mapping)  # labels are only found in a mapping
        value = data[name].get(TEXT) if isinstance(data[name], Mapping) else data[name]
        _add(fields, label, value)
        if value is not None:
            lines.append(f"{label.replace('_', ' ')}:\t{_text(value)}")
    fields["_raw"] = ["\n".join([*header, "Message=", *lines])]
    fields["index"] = [index]
    fields["source"] = [source(channel, CLASSIC)]
    fields["sourcetype"] = [sourcetype(CLASSIC)]
    return {name: tuple(values) for name, values in fields.items()}


def shape_event(record: Mapping[str, Any], *, index: str, rendering: str = XML) -> Document:
    """The Splunk event for one raw Windows event, as the deployment renders it (Sysmon: always XML)."""
    event = record.get("Event") if isinstance(record, Mapping) else None
    if not isinstance(event, Mapping) or not isinstance(event.get("System"), Mapping):
        raise ShapeError("a Windows event is {'Event': {'System': {...}, ...}} (evtx_dump JSON)")
    system = event["System"]
    channel = system.get("Channel")
    if not isinstance(channel, str) or not channel:
        raise ShapeError("a Windows event names its Channel in System")
    if rendering == CLASSIC and not xml_always(channel):
        return _classic(event, channel, index)
    fields: dict[str, list[str]] = {}
    _system_fields(system, fields)
    data = event.get("EventData")
    if isinstance(data, Mapping):
        _event_data_fields(data, fields)
    user_data = event.get("UserData")
    if isinstance(user_data, Mapping):
        _user_data_fields(user_data, fields)
    fields["_raw"] = [render_xml(event)]
    fields["index"] = [index]
    fields["source"] = [source(channel, XML)]
    fields["sourcetype"] = [sourcetype(XML)]
    return {name: tuple(values) for name, values in fields.items()}


def shape(record: Mapping[str, Any], settings: Mapping[str, Any]) -> Document:
    """The cell's shaper: the event as the deployment (``windows_index``, ``windows_rendering``) stores it."""
    return shape_event(record, index=str(settings["windows_index"]), rendering=rendering_of(settings))
