"""The Elastic cell's pipeline runs once per rule for KQL, Lucene and EQL (``DetcRule.prepared_sigma``),
and each language converts a copy of its result of its own."""

from __future__ import annotations

import pytest

from backends.elastic.windows import pipeline as windows_pipeline
from compiler.build import compile_one
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE
from compiler.target import load_registry

REGISTRY = load_registry()
ELASTIC = ("kql", "lucene", "eql")
PROCESS = {"product": "windows", "category": "process_creation"}


@pytest.fixture
def rewrites(monkeypatch):
    """How many times the Windows cell rewrites a rule."""
    count = {"n": 0}
    original = windows_pipeline.WindowsRule.apply

    def counted(self, rule):
        count["n"] += 1
        return original(self, rule)

    monkeypatch.setattr(windows_pipeline.WindowsRule, "apply", counted)
    return count


def test_the_cell_pipeline_runs_once_for_the_three_languages(rule_from, rewrites) -> None:
    rule = rule_from({"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "sel"}, logsource=PROCESS)
    queries = {name: compile_one(REGISTRY.get(name), rule, DEFAULT_PROFILE).query for name in ELASTIC}
    assert rewrites["n"] == 1
    assert queries == {
        "kql": 'winlog.channel: "Microsoft-Windows-Sysmon/Operational" and event.code: "1" and process.executable: '
               '*\\\\cmd.exe or winlog.channel: "Security" and event.code: "4688" and process.executable: *\\\\cmd.exe',
        "lucene": "((winlog.channel:Microsoft\\-Windows\\-Sysmon\\/Operational AND event.code:1) AND "
                  "process.executable:/.*\\\\[Cc][Mm][Dd]\\.[Ee][Xx][Ee]/) OR ((winlog.channel:Security AND "
                  "event.code:4688) AND process.executable:/.*\\\\[Cc][Mm][Dd]\\.[Ee][Xx][Ee]/)",
        "eql": 'any where ((winlog.channel == "Microsoft-Windows-Sysmon/Operational" and event.code == "1") and '
               'process.executable : "*\\\\cmd.exe") or ((winlog.channel == "Security" and event.code == "4688") and '
               'process.executable : "*\\\\cmd.exe")',
    }
    # a second compilation of the same rule reuses the rewrite; another rule makes its own
    compile_one(REGISTRY.get("kql"), rule, DEFAULT_PROFILE)
    assert rewrites["n"] == 1
    other = rule_from({"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "sel"}, logsource=PROCESS)
    compile_one(REGISTRY.get("kql"), other, DEFAULT_PROFILE)
    assert rewrites["n"] == 2


def test_each_caller_gets_a_copy_of_its_own(rule_from) -> None:
    """pySigma's backends rewrite the rule they convert in place: no two languages may share one."""
    rule = rule_from({"sel": {"Image|endswith": "\\cmd.exe"}, "condition": "sel"}, logsource=PROCESS)
    calls = []

    def prepare(copy):
        calls.append(copy)
        copy.title = "prepared"

    first = rule.prepared_sigma("test", prepare)
    second = rule.prepared_sigma("test", prepare)
    assert len(calls) == 1 and calls[0] is first
    assert second is not first and second.title == "prepared" == first.title
    assert second.detection is not first.detection
    first.detection.detections.clear()  # what one language does to its copy ...
    assert rule.prepared_sigma("test", prepare).detection.detections  # ... no later copy sees
    assert rule.sigma.title != "prepared"  # and the rule as written is left alone


def test_an_error_of_the_cell_pipeline_is_met_by_every_language(rule_from) -> None:
    """Nothing is kept of a rewrite that failed: each language says why it cannot express the rule."""
    rule = rule_from({"keywords": ["mimikatz"], "condition": "keywords"}, logsource=PROCESS)
    for name in ELASTIC:
        with pytest.raises(UnsupportedFeature, match="keyword search"):
            compile_one(REGISTRY.get(name), rule, DEFAULT_PROFILE)
