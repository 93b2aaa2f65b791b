"""The Windows shaper against the raw XML events and field lists Splunk publishes for its add-ons.

Each ``data_sources/*.yml`` of splunk/security_content (``../shared/corpus/splunk-security-content``)
gives the fields Splunk extracts from one kind of event and a real ``example_log`` as ``_raw`` holds
it. The XML is read with the standard library into evtx_dump's JSON form, shaped, and compared:
``_raw`` must be the example byte for byte, every field the shaper makes must be in the documented
list, and every value must be the XML's.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from xml.dom import minidom
from xml.parsers.expat import ExpatError

import pytest
import yaml

from backends.splunk.windows.shaper import render_xml, shape_event
from compiler.errors import ShapeError
from tests.support import corpus_ids

DATA_SOURCES = Path("splunk-security-content") / "data_sources"

SPLUNK_DEFAULT_FIELDS = {"_raw", "index", "source", "sourcetype"}
"""Fields every Splunk event has; some documented lists leave them out."""

UNDOCUMENTED = {"windows_event_log_security_4688.yml": {"ProcessId"}}
"""Fields the list omits that Splunk documents elsewhere: 4688's field_mappings map ``ProcessId``
(the creator process) to ``Processes.parent_process_id``."""

NOT_ROUND_TRIPPED = {"windows_event_log_security_1100.yml"}
"""Windows writes this empty UserData element as ``<ServiceShutdown …></ServiceShutdown>``; the
shaper writes an empty element as ``<X/>``, as Windows writes ``<Correlation/>``."""


def _text(node: minidom.Element) -> str:
    return "".join(c.data for c in node.childNodes if c.nodeType == c.TEXT_NODE)


def evtx_json(node: minidom.Element) -> Any:
    """An XML element in evtx_dump's JSON form: attributes under ``#attributes``, text under
    ``#text`` beside them (or as the value), ``<Data Name='x'>`` as key ``x``."""
    attrs = {a.name: a.value for a in node.attributes.values()} if node.attributes else {}
    children = [c for c in node.childNodes if c.nodeType == c.ELEMENT_NODE]
    if node.tagName == "EventData":
        out: dict[str, Any] = {"#attributes": attrs} if attrs else {}
        for child in children:
            if child.tagName == "Data":
                out[child.getAttribute("Name")] = _text(child) or None
            else:
                out[child.tagName] = evtx_json(child)
        return out
    if not children:
        if attrs:
            return {"#attributes": attrs, **({"#text": _text(node)} if _text(node) else {})}
        return _text(node) or None
    return {**({"#attributes": attrs} if attrs else {}), **{c.tagName: evtx_json(c) for c in children}}


@cache
def _documents(folder: Path) -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.yml"))}


def _whole(doc: dict[str, Any]) -> minidom.Document | None:
    try:
        return minidom.parseString((doc.get("example_log") or "").encode("utf-8"))
    except ExpatError:
        return None  # security_content cuts long examples short: not XML any more


def _whole_examples(corpus: Path) -> list[str]:
    docs = _documents(corpus / DATA_SOURCES)
    return [name for name, doc in docs.items() if _whole(doc) is not None]


def test_spl_windows_corpus_examples_that_are_whole_xml(corpus):
    assert len(_documents(corpus / DATA_SOURCES)) == 65
    assert len(_whole_examples(corpus)) == 44


@pytest.mark.parametrize("name", corpus_ids(_whole_examples), ids=str)
def test_spl_windows_shaper_matches_splunk_documented_event(corpus, name):
    doc = _documents(corpus / DATA_SOURCES)[name]
    root = _whole(doc).documentElement
    shaped = shape_event({"Event": evtx_json(root)}, index="main")
    if name not in NOT_ROUND_TRIPPED:
        assert shaped["_raw"] == (doc["example_log"].strip(),)
    assert set(shaped) - set(doc["fields"]) - SPLUNK_DEFAULT_FIELDS == UNDOCUMENTED.get(name, set())
    assert shaped["source"] == (doc["source"],)
    assert shaped["sourcetype"][0].lower() == doc["sourcetype"].lower()
    system = root.getElementsByTagName("System")[0]
    attributes = {a.name: a.value for e in system.getElementsByTagName("*") for a in e.attributes.values()}
    for data in root.getElementsByTagName("Data"):
        data_name = data.getAttribute("Name")
        if _text(data):  # a Data name that is also a System attribute is one multivalue field
            assert shaped[data_name] == tuple(v for v in (attributes.get(data_name), _text(data)) if v is not None)
    event_id = system.getElementsByTagName("EventID")[0]
    assert shaped["EventCode"] == (_text(event_id),)
    assert ("EventID" in shaped) is (not event_id.attributes.length)
    assert shaped["Computer"] == (_text(system.getElementsByTagName("Computer")[0]),)
    assert shaped["Name"][0] == system.getElementsByTagName("Provider")[0].getAttribute("Name")


def test_spl_windows_user_data_leaves_are_fields(corpus):
    doc = _documents(corpus / DATA_SOURCES)["windows_event_log_security_1102.yml"]
    shaped = shape_event({"Event": evtx_json(minidom.parseString(doc["example_log"]).documentElement)}, index="main")
    assert shaped["SubjectUserName"] == ("Administrator",)
    assert shaped["SubjectLogonId"] == ("0x34a3a27",)
    assert "xmlns" not in shaped


def _event(data: dict[str, Any], **system: Any) -> dict[str, Any]:
    return {"Event": {"System": {"EventID": 1119, "Channel": "Microsoft-Windows-Windows Defender/Operational",
                                 **system}, "EventData": data}}


@pytest.mark.parametrize(
    ("data", "field", "values"),
    [
        ({"Threat Name": "Virus:DOS/EICAR_Test_File"}, "Threat_Name", ("Virus:DOS/EICAR_Test_File",)),
        ({"ProcessId": 6180}, "ProcessId", ("6180",)),
        ({"CommandLine": "a & b <c>"}, "CommandLine", ("a & b <c>",)),
        ({"Empty": None, "Blank": ""}, "Empty", None),
        ({"Data": {"#text": ["NewEngineState=Available", "HostName=ConsoleHost"]}}, "Data", None),
    ],
    ids=["clean-keys", "integer-as-decimal", "entities-decoded", "empty-makes-no-field", "unnamed-data-no-field"],
)
def test_spl_windows_event_data_fields(data, field, values):
    shaped = shape_event(_event(data), index="main")
    assert shaped.get(field) == values


def test_spl_windows_raw_escapes_and_keeps_unnamed_data():
    raw = shape_event(_event({"CommandLine": "a & b <c> 'q'", "Data": {"#text": ["x=1", "y"]}},
                             Provider={"#attributes": {"Name": "O'Brien"}}), index="main")["_raw"][0]
    assert raw == (
        "<Event><System><EventID>1119</EventID><Channel>Microsoft-Windows-Windows Defender/Operational</Channel>"
        "<Provider Name='O&apos;Brien'/></System><EventData><Data Name='CommandLine'>a &amp; b &lt;c&gt; 'q'</Data>"
        "<Data>x=1</Data><Data>y</Data></EventData></Event>"
    )


def test_spl_windows_same_name_twice_is_multivalue():
    shaped = shape_event(_event({"Name": "task"}, Provider={"#attributes": {"Name": "Provider"}}), index="main")
    assert shaped["Name"] == ("Provider", "task")


@pytest.mark.parametrize(
    "record",
    [[], {"Event": []}, {"Event": {"EventData": {}}}, {"Event": {"System": {"EventID": 1}}},
     {"Event": {"System": {"Channel": "Security", "EventID": [1.5j]}}}],
    ids=["not-an-object", "event-not-an-object", "no-system", "no-channel", "not-a-json-value"],
)
def test_spl_windows_shaper_refuses_what_is_not_an_event(record):
    with pytest.raises(ShapeError):
        shape_event(record, index="main")


def test_spl_windows_render_xml_of_nested_user_data():
    event = {"System": {"Channel": "Security"}, "UserData": {"LogFileCleared": {
        "#attributes": {"xmlns": "urn:x"}, "SubjectUserName": "admin"}}}
    assert render_xml(event) == (
        "<Event><System><Channel>Security</Channel></System><UserData><LogFileCleared xmlns='urn:x'>"
        "<SubjectUserName>admin</SubjectUserName></LogFileCleared></UserData></Event>"
    )
