"""The bundled Windows starter rules (``sigma/windows/``) in every Elastic and Splunk artifact.

Each rule is in the committed output (which other tests hold equal to what the emitters write): a
detection-rules TOML whose ``index`` is the cell's index patterns and whose ``investigation_fields``
are the rule's ``fields:`` where Elastic's integrations store them, a KQL, a Lucene and an EQL line in
``rules.ndjson``, and a correlation search in the Splunk app's ``savedsearches.conf`` ending in the
``| table`` of its fields.
"""

from __future__ import annotations

import configparser
import json
import tomllib
from pathlib import Path

import pytest

from backends.elastic.windows.pipeline import investigation_fields
from compiler.rules import load_rules
from tests.support import ROOT

OUTPUT = ROOT / "output"
STARTERS = sorted(
    (r for r in load_rules(ROOT / "sigma").rules if r.sigma.logsource.product == "windows"), key=lambda r: r.path
)
MANIFEST = json.loads((OUTPUT / "manifest.json").read_text(encoding="utf-8"))
NDJSON = [json.loads(line) for line in (OUTPUT / "elastic" / "rules.ndjson").read_text(encoding="utf-8").splitlines()]
EQL_REFUSED = {"posh_ps_clearing_windows_console_history"}
"""EQL does not search text fields (ScriptBlockText); KQL and Lucene match it as a phrase."""


def _savedsearches() -> configparser.RawConfigParser:
    conf = configparser.RawConfigParser(interpolation=None, strict=True, delimiters=("=",))
    conf.optionxform = str  # type: ignore[assignment,method-assign]
    text = (OUTPUT / "splunk" / "detc" / "default" / "savedsearches.conf").read_text(encoding="utf-8")
    conf.read_string(text.replace("\\\n", " "))
    return conf


def test_the_starter_set_is_eleven_rules_each_with_fields() -> None:
    assert len(STARTERS) == 11
    assert all(r.sigma.fields for r in STARTERS)


@pytest.mark.parametrize("rule", STARTERS, ids=[Path(r.path).stem for r in STARTERS])
def test_starter_rule_is_in_every_elastic_and_splunk_artifact(rule) -> None:
    stem = Path(rule.path).stem
    targets = MANIFEST["rules"][rule.id]["targets"]
    eql = "unsupported" if stem in EQL_REFUSED else "ok"
    assert {t: targets[t]["status"] for t in ("kql", "lucene", "eql")} == {"kql": "ok", "lucene": "ok", "eql": eql}
    toml = tomllib.loads((OUTPUT / "elastic" / f"{stem}.toml").read_text(encoding="utf-8"))["rule"]
    assert toml["index"] == targets["kql"]["details"]["index"] and toml["index"]
    fields = investigation_fields(rule.sigma.fields, rule.sigma.logsource)
    assert toml["investigation_fields"] == {"field_names": fields}
    assert fields[0] == "winlog.computer_name" and not any(f.startswith(("Image", "Computer")) for f in fields)
    lines = {line["language"]: line for line in NDJSON if line["meta"]["detc"]["sigma_id"] == rule.id}
    expected = {"kuery", "lucene"} | (set() if stem in EQL_REFUSED else {"eql"})
    assert set(lines) == expected
    assert lines["kuery"]["investigation_fields"] == {"field_names": fields}
    assert lines["kuery"]["query"].strip() == toml["query"].strip() and lines["kuery"]["index"] == toml["index"]
    assert targets["spl"]["status"] == "ok"
    search = (OUTPUT / "splunk" / f"{stem}.spl").read_text(encoding="utf-8").strip()
    assert " ".join(_savedsearches()[rule.title]["search"].split()) == " ".join(search.split())
    table = search.rsplit("| table ", 1)[1].split(",")
    assert "Computer" in table and len(table) >= len(rule.sigma.fields)


def test_investigation_fields_follow_the_kind_of_event_and_its_stream() -> None:
    from sigma.rule import SigmaLogSource

    process = SigmaLogSource(product="windows", category="process_creation")
    assert investigation_fields(["Image", "CommandLine"], process) == [
        "process.executable", "winlog.event_data.NewProcessName", "process.command_line", "winlog.event_data.CommandLine"
    ]
    wmi = SigmaLogSource(product="windows", service="wmi")  # 5858 carries UserData: the query looks in both
    assert investigation_fields(["Operation"], wmi) == ["winlog.event_data.Operation", "winlog.user_data.Operation"]
    sysmon_network = SigmaLogSource(product="windows", category="network_connection")
    assert investigation_fields(["DestinationIp", "User"], sysmon_network) == ["destination.ip", "user.name"]
