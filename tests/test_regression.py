"""SigmaHQ's regression-test convention, event files with several events, EVTX samples."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compiler.cli import app
from compiler.errors import RuleLoadError
from compiler.events import json_objects, read_events
from compiler.fixtures import load_fixtures
from compiler.rules import load_rule
from tests.support import ROOT

EVTX = ROOT / "tests" / "data" / "windows" / "aa37cbb0-da36-42cb-a90f-fdf216fc7467.evtx"
RULE_ID = "aa37cbb0-da36-42cb-a90f-fdf216fc7467"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def rule_text(regression_path: str | None = "regression_data/amsi/info.yml") -> str:
    rule = {
        "title": "Disable AMSI through the registry",
        "id": RULE_ID,
        "status": "test",
        "description": "AmsiEnable set to 0 (after SigmaHQ's registry_set_amsi_disable).",
        "author": "Swachchhanda Shrawan Poudel (Nextron Systems)",
        "date": "2025-12-25",
        "level": "high",
        "logsource": {"category": "registry_set", "product": "windows"},
        "detection": {
            "selection": {
                "TargetObject|endswith": "\\Software\\Microsoft\\Windows Script\\Settings\\AmsiEnable",
                "Details": "DWORD (0x00000000)",
            },
            "condition": "selection",
        },
    }
    if regression_path:
        rule["regression_tests_path"] = regression_path
    return yaml.safe_dump(rule, sort_keys=False)


def repository(root: Path, *, match_count: int | None = None, rule_id: str = RULE_ID, kind: str = "evtx") -> Path:
    """A SigmaHQ-like repository: rules/windows/registry/rule.yml and regression_data/amsi/."""
    rules = root / "rules" / "windows" / "registry"
    rules.mkdir(parents=True)
    (rules / "registry_set_amsi_disable.yml").write_text(rule_text())
    data = root / "regression_data" / "amsi"
    data.mkdir(parents=True)
    shutil.copyfile(EVTX, data / "sample.evtx")
    test = {"name": "Positive Detection Test", "type": kind, "provider": "Microsoft-Windows-Sysmon",
            "path": "regression_data/amsi/sample.evtx"}
    if match_count is not None:
        test["match_count"] = match_count
    info = {"id": "63b16abe-2d5c-4a2f-b0ae-f1bc4580e40c", "rule_metadata": [{"id": rule_id, "title": "x"}],
            "regression_tests_info": [test]}
    (data / "info.yml").write_text(yaml.safe_dump(info, sort_keys=False))
    return root / "rules"


def test_evtx_is_read_in_the_evtx_dump_form() -> None:
    (event,) = read_events(EVTX)
    assert event["Event"]["System"]["EventID"] == 13
    assert event["Event"]["System"]["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert event["Event"]["EventData"]["Details"] == "DWORD (0x00000000)"


def test_json_events_back_to_back_and_ndjson(tmp_path: Path) -> None:
    assert json_objects('{"a": 1}\n{\n  "b": [2]\n}  {"c": 3}\n') == [{"a": 1}, {"b": [2]}, {"c": 3}]
    assert json_objects("  \n") == []
    (tmp_path / "x.ndjson").write_text('{"a": 1}\n\n{"a": 2}\n')
    assert read_events(tmp_path / "x.ndjson") == [{"a": 1}, {"a": 2}]
    (tmp_path / "bad.json").write_text('{"a": 1} {"a": ')
    with pytest.raises(RuleLoadError, match="is not JSON"):
        read_events(tmp_path / "bad.json")
    (tmp_path / "bad.evtx").write_bytes(b"not an evtx file" * 10)
    with pytest.raises(RuleLoadError) as err:
        read_events(tmp_path / "bad.evtx", shown="events/bad.evtx")
    assert err.value.message.startswith("events/bad.evtx is not EVTX: ")  # named as the fixture names it
    assert "EVTX file header" in err.value.message


def test_an_event_file_with_several_events_is_one_case_per_event(tmp_path: Path) -> None:
    (tmp_path / "rule.yml").write_text(rule_text(None))
    (event,) = read_events(EVTX)
    other = json.loads(json.dumps(event))
    other["Event"]["EventData"]["Details"] = "DWORD (0x00000001)"
    (tmp_path / "events.json").write_text(json.dumps(event, indent=2) + "\n" + json.dumps(other, indent=2) + "\n")
    shutil.copyfile(EVTX, tmp_path / "one.evtx")
    (tmp_path / "rule.tests.yml").write_text(yaml.safe_dump({"cases": [
        {"name": "from evtx", "expect": "match", "event_file": "one.evtx"},
        {"name": "two events", "expect": "no_match", "event_file": "events.json"},
    ]}))
    fixtures = load_fixtures(load_rule(tmp_path / "rule.yml"))
    assert [c.name for c in fixtures.cases] == ["from evtx", "two events [event 1 of 2]", "two events [event 2 of 2]"]
    assert fixtures.cases[2].event == other
    result = run("test", "--rules", str(tmp_path), "-t", "sigma")
    assert result.exit_code == 1  # event 1 of 2 matches although the case says no_match
    assert "1 passed" not in result.stdout and "2 passed, 1 failed" in result.stdout


def test_regression_tests_run_and_report_like_fixture_cases(tmp_path: Path) -> None:
    rules = repository(tmp_path)
    out_json, out_junit = tmp_path / "r.json", tmp_path / "r.xml"
    result = run("test", "--rules", str(rules), "-t", "sigma", "-t", "kql", "--json", str(out_json),
                 "--junit", str(out_junit))
    assert result.exit_code == 0, result.output
    report = json.loads(out_json.read_text())
    assert report["results"] == [
        {"rule": RULE_ID, "case": "Positive Detection Test", "target": "sigma", "expected": "match",
         "actual": "match", "status": "pass", "message": "1 of 1 events match (at least 1 expected)"},
        {"rule": RULE_ID, "case": "Positive Detection Test", "target": "kql", "expected": "match",
         "actual": "match", "status": "pass", "message": "1 of 1 events match (at least 1 expected)"},
    ]
    cases = ET.parse(out_junit).getroot().iter("testcase")
    assert {c.get("name") for c in cases} == {"Positive Detection Test"}


def test_match_count_is_a_minimum(tmp_path: Path) -> None:
    rules = repository(tmp_path, match_count=2)
    out_json = tmp_path / "r.json"
    result = run("test", "--rules", str(rules), "-t", "sigma", "--json", str(out_json))
    assert result.exit_code == 1
    (only,) = json.loads(out_json.read_text())["results"]
    assert (only["actual"], only["status"]) == ("no_match", "fail")
    assert only["message"] == "1 of 1 events match (at least 2 expected)"


def test_the_path_resolves_against_the_rule_folder_then_each_parent(tmp_path: Path) -> None:
    rules = repository(tmp_path)
    rule = load_rule(rules / "windows" / "registry" / "registry_set_amsi_disable.yml")
    from compiler.regression import load_regression

    info = load_regression(rule)
    assert info.root == tmp_path.resolve() and [t.name for t in info.tests] == ["Positive Detection Test"]
    shutil.rmtree(tmp_path / "regression_data")
    with pytest.raises(RuleLoadError) as err:
        load_regression(rule)
    assert "regression_tests_path 'regression_data/amsi/info.yml': no such file under the rule's folder or any parent" in err.value.message
    assert f"tried {rules / 'windows' / 'registry'}, {rules / 'windows'}, {rules}, {tmp_path}" in err.value.message


def test_check_validates_regression_tests_path(tmp_path: Path) -> None:
    rules = repository(tmp_path, rule_id="00000000-0000-0000-0000-000000000000")
    result = run("check", "--rules", str(rules))
    assert result.exit_code == 1
    assert "rule_metadata does not name this rule's id aa37cbb0-da36-42cb-a90f-fdf216fc7467" in result.stderr
    assert "has no tests file" not in result.stderr
    ok = repository(tmp_path / "ok")
    assert run("check", "--rules", str(ok)).exit_code == 0
    (tmp_path / "ok" / "regression_data" / "amsi" / "sample.evtx").unlink()
    result = run("check", "--rules", str(ok))
    assert result.exit_code == 1 and "sample 'regression_data/amsi/sample.evtx' not found" in result.stderr
    assert run("test", "--rules", str(ok)).exit_code == 2  # bad input: nothing runs


def test_absolute_regression_paths_are_refused(tmp_path: Path) -> None:
    """SigmaHQ's paths are relative to its repository root: an absolute one would read any file."""
    rules = repository(tmp_path / "a")
    rule = rules / "windows" / "registry" / "registry_set_amsi_disable.yml"
    rule.write_text(rule_text(str(tmp_path / "a" / "regression_data" / "amsi" / "info.yml")))
    result = run("test", "--rules", str(rules))
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"{RULE_ID}: regression_tests_path must be a relative path (from SigmaHQ's repository root), "
        f"not '{tmp_path / 'a' / 'regression_data' / 'amsi' / 'info.yml'}'\n"
    )
    rules = repository(tmp_path / "b")
    info = tmp_path / "b" / "regression_data" / "amsi" / "info.yml"
    data = yaml.safe_load(info.read_text())
    data["regression_tests_info"][0]["path"] = str(tmp_path / "b" / "regression_data" / "amsi" / "sample.evtx")
    info.write_text(yaml.safe_dump(data))
    result = run("test", "--rules", str(rules))
    assert result.exit_code == 2
    assert "test 'Positive Detection Test': 'path' must be a relative path (from SigmaHQ's repository root), not '/" in (
        result.stderr
    )
