"""``detc check``: every problem with the rules and their tests files, in path order."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from compiler.check import validate
from compiler.target import load_registry
from tests.support import rule_dict

REGISTRY = load_registry()
TESTS = {
    "cases": [
        {"name": "hit", "expect": "match", "event": {"eventName": "A"}},
        {"name": "miss", "expect": "no_match", "event": {"eventName": "B"}},
    ]
}


def _write(folder: Path, name: str, detection: dict, tests: dict | None = TESTS, **extra: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rule = rule_dict(detection, title=f"Rule {name}", **extra)
    (folder / f"{name}.yml").write_text(yaml.safe_dump(rule, sort_keys=False))
    if tests is not None:
        (folder / f"{name}.tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_bundled_rules_have_no_problems(rules_dir: Path) -> None:
    assert validate(rules_dir, REGISTRY) == []


def test_every_problem_is_reported_in_path_order(here: Path) -> None:
    rules = here / "rules"
    sel = {"sel": {"eventName": "A"}, "condition": "sel"}
    _write(rules, "aws_a_accepted", sel, id="00000000-0000-4000-8000-000000000001")
    _write(rules, "aws_b_same_id", sel, id="00000000-0000-4000-8000-000000000001")
    _write(rules, "aws_c_untested", sel, tests=None, id="00000000-0000-4000-8000-000000000003")
    waived = {"cases": [dict(TESTS["cases"][0], waive={"splunk": "no such target"}), TESTS["cases"][1]]}
    _write(rules, "aws_d_waives", sel, tests=waived, id="00000000-0000-4000-8000-000000000004")
    (rules / "aws_e_ghost.tests.yml").write_text(yaml.safe_dump(TESTS))
    _write(rules, "aws_f_dangling", {"sel": {"eventName": "A"}, "unused": {"eventName": "B"}, "condition": "sel"},
           id="00000000-0000-4000-8000-000000000006")
    lines = [str(p) for p in validate(rules, REGISTRY)]
    assert lines[:4] == [
        "rules/aws_b_same_id.yml: 00000000-0000-4000-8000-000000000001: duplicate rule id (also in rules/aws_a_accepted.yml)",
        "rules/aws_c_untested.yml: 00000000-0000-4000-8000-000000000003: has no tests file beside it",
        "rules/aws_d_waives.tests.yml: 00000000-0000-4000-8000-000000000004: case 'hit' waives unknown target 'splunk'",
        "rules/aws_e_ghost.tests.yml: tests file without a rule beside it",
    ]
    assert len(lines) == 5
    assert lines[4].startswith("rules/aws_f_dangling.yml: 00000000-0000-4000-8000-000000000006: ")
    assert "DanglingDetectionIssue" in lines[4]
