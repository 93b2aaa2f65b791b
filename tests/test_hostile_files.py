"""Hostile entries in a rules folder: FIFOs, devices, huge or deep event files, symbolic link loops,
broken links, folders named like rules, undecodable or multi-line file names, ``.yaml`` rules.
Each is one line (a warning, or an error with its exit code), never a traceback or a hang."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compiler.cli import app
from compiler.fixtures import MAX_EVENT_BYTES
from tests.support import SEED_RULE, SEED_TESTS

runner = CliRunner()
BASE = Path(__file__).parent / "bad_inputs" / "event_not_an_object" / "rule.yml"
RID = "9d7e1f4a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
EXIT = {"check": 1, "test": 2, "build": 2}


@pytest.fixture
def rules(tmp_path: Path, monkeypatch) -> Path:
    """A rules folder holding one valid rule with its tests, as the cwd."""
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(SEED_RULE, folder / "aws_kms_seed_rule.yml")
    shutil.copy(SEED_TESTS, folder / "aws_kms_seed_rule.tests.yml")
    monkeypatch.chdir(folder)
    return folder


def invoke(command: str, out: Path) -> tuple[int, str]:
    args = [command, "--rules", "."] + (["--output", str(out), "--no-cache"] if command == "build" else [])
    result = runner.invoke(app, args)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stderr


def with_event_file(folder: Path, ref: str) -> None:
    shutil.copy(BASE, folder / "hostile_event_rule.yml")
    cases = {"cases": [
        {"name": "match", "expect": "match", "event_file": ref},
        {"name": "no match", "expect": "no_match", "event": {"eventSource": "kms.amazonaws.com"}},
    ]}
    (folder / "hostile_event_rule.tests.yml").write_text(yaml.safe_dump(cases))


def problem_lines(command: str, stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.endswith("problem(s)")]


@pytest.mark.parametrize("command", ["check", "test", "build"], ids=["check", "test", "build"])
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda f: os.mkfifo(f / "pipe.json"), "event_file 'pipe.json' is not a regular file"),
        (lambda f: os.truncate(f / "big.json", MAX_EVENT_BYTES + 1) if (f / "big.json").touch() is None else None,
         f"event_file 'big.json' has {MAX_EVENT_BYTES + 1} bytes, more than the limit of {MAX_EVENT_BYTES}"),
        (lambda f: os.symlink("/dev/zero", f / "zero.json"), "event_file 'zero.json' is outside the rules folder"),
        (lambda f: os.symlink("loop.json", f / "loop.json"), "cannot read event_file 'loop.json': a symbolic link that loops"),
        (lambda f: (f / "deep.json").write_text('{"a": ' * 100_000 + "1" + "}" * 100_000),
         "event_file 'deep.json': the JSON document nested deeper than 64 levels"),
        (lambda f: (f / "deep.json").write_text('{"a": ' * 100 + "1" + "}" * 100),
         "event_file 'deep.json': the JSON document nested deeper than 64 levels"),
    ],
    ids=["fifo", "huge", "device-link", "link-loop", "deep-100000", "deep-100"],
)
def test_hostile_event_files_are_one_line(rules: Path, tmp_path: Path, command: str, make, message: str):
    make(rules)
    ref = {"fifo": "pipe.json"}.get("", None) or next(p.name for p in rules.iterdir() if p.name.endswith(".json"))
    with_event_file(rules, ref)
    code, stderr = invoke(command, tmp_path / "out")
    assert code == EXIT[command]
    assert problem_lines(command, stderr) == [f"hostile_event_rule.tests.yml: {RID}: case 1: {message}"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["check", "test", "build"], ids=["check", "test", "build"])
def test_entries_named_like_rules_that_are_not_files_are_warned_about(rules: Path, tmp_path: Path, command: str):
    os.symlink("self.yml", rules / "self.yml")
    os.symlink("nowhere.yml", rules / "gone.yml")
    os.mkfifo(rules / "pipe.yml")
    (rules / "folder.yml").mkdir()
    os.mkfifo(rules / "seed2.tests.yml")
    code, stderr = invoke(command, tmp_path / "out")
    assert code == 0, stderr
    warnings = [line for line in stderr.splitlines() if ": warning: " in line]
    assert warnings == [
        "folder.yml: warning: a folder named like a rule file; its contents are read as any folder's",
        "gone.yml: warning: a broken symbolic link; not read",
        "pipe.yml: warning: a FIFO, not a regular file; not read",
        "seed2.tests.yml: warning: a FIFO, not a regular file; not read",
        "self.yml: warning: a symbolic link that loops; not read",
    ]


@pytest.mark.parametrize("command", ["check", "test", "build"], ids=["check", "test", "build"])
def test_an_undecodable_file_name_is_one_quoted_line(rules: Path, tmp_path: Path, command: str):
    shutil.copy(BASE, os.fsencode(rules) + b"/bad\xff_byte_in_a_name.yml")
    code, stderr = invoke(command, tmp_path / "out")
    assert code == EXIT[command]
    assert problem_lines(command, stderr) == ["'bad\\udcff_byte_in_a_name.yml': the file name is not UTF-8; rename it"]


@pytest.mark.parametrize("command", ["check", "test", "build"], ids=["check", "test", "build"])
def test_a_line_break_in_a_file_name_is_quoted(rules: Path, tmp_path: Path, command: str):
    (rules / "two\nlines_in_a_name.yml").write_text(BASE.read_text().replace("title: Bad input base\n", ""))
    code, stderr = invoke(command, tmp_path / "out")
    assert code == EXIT[command]
    assert problem_lines(command, stderr) == [f"'two\\nlines_in_a_name.yml': {RID}: missing required attribute 'title'"]


@pytest.mark.parametrize("tests_suffix", [".tests.yml", ".tests.yaml"], ids=["tests-yml", "tests-yaml"])
def test_yaml_rules_are_rules(rules: Path, tmp_path: Path, tests_suffix: str):
    (rules / "aws_kms_seed_rule.yml").rename(rules / "aws_kms_seed_rule.yaml")
    (rules / "aws_kms_seed_rule.tests.yml").rename(rules / f"aws_kms_seed_rule{tests_suffix}")
    assert invoke("check", tmp_path / "out") == (0, "ok\n")
    code, stderr = invoke("build", tmp_path / "out")
    assert code == 0, stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [r["source"] for r in manifest["rules"].values()] == ["aws_kms_seed_rule.yaml"]
    assert (tmp_path / "out" / "splunk" / "aws_kms_seed_rule.spl").is_file()
    result = runner.invoke(app, ["test", "--rules", "."])
    assert result.exit_code == 0, result.output
    assert "aws_kms_seed_rule.yaml" in result.stdout and " 0 failed" in result.stdout.replace(",", "")
