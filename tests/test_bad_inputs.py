"""Hostile and broken input: one clear line, exit 2, no traceback, output untouched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compiler.cli import app
from compiler.errors import RuleLoadError
from compiler.yamlio import load_yaml
from tests.support import ROOT

BAD_INPUTS = Path(__file__).parent / "bad_inputs"
CASES = sorted(p.name for p in BAD_INPUTS.iterdir() if p.is_dir())
runner = CliRunner()


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", CASES, ids=CASES)
@pytest.mark.parametrize("command", ["test", "build"], ids=["test", "build"])
def test_bad_input_is_refused_cleanly(name: str, command: str, tmp_path: Path, monkeypatch):
    work = tmp_path / "case"
    shutil.copytree(BAD_INPUTS / name, work)
    expected = (work / "expected.txt").read_text()
    (work / "expected.txt").unlink()
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{\n  "detc_version": "0.0.0",\n  "previous": "build"\n}\n')
    before = snapshot(out)
    monkeypatch.chdir(work)
    args = [command, "--rules", "."] + (["--output", str(out)] if command == "build" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == expected
    assert "Traceback" not in result.output
    assert all(line.count(": ") >= 1 for line in result.stderr.splitlines())
    assert snapshot(out) == before


def test_corpus_covers_the_issue_list():
    assert {
        "malformed_yaml", "unknown_modifier", "condition_names_missing_selection", "duplicate_rule_ids",
        "tests_file_without_rule", "duplicate_case_name", "event_not_an_object", "non_utf8_bytes",
        "alias_bomb", "deeply_nested", "enormous_value",
    } <= set(CASES)


@pytest.mark.parametrize("name", ["alias_bomb", "deeply_nested"], ids=str)
def test_bombs_are_refused_with_bounded_memory(name: str):
    raw = (BAD_INPUTS / name / "rule.yml").read_bytes()
    tracemalloc.start()
    try:
        with pytest.raises(RuleLoadError):
            load_yaml(raw, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024


def test_hostile_file_names_stay_inside_output(tmp_path: Path, monkeypatch):
    rules = tmp_path / "sigma"
    shutil.copytree(ROOT / "sigma", rules)
    seed = next(rules.rglob("aws_kms_imported_key_material_deleted.yml"))
    hostile = seed.with_name("..;$(touch pwned)`id`|&.yml")
    seed.rename(hostile)
    seed.with_name(seed.name.replace(".yml", ".tests.yml")).rename(hostile.with_name(hostile.name[:-4] + ".tests.yml"))
    text = hostile.read_text().replace(
        "title: AWS KMS Imported Key Material Deleted", "title: '../../etc/passwd; rm -rf / $(id) `x`'"
    )
    hostile.write_text(text)
    out = tmp_path / "nested" / "output"
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["build", "--rules", str(rules), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "pwned").exists()
    for path in (tmp_path / "nested").rglob("*"):
        assert path.resolve().is_relative_to(out.resolve())


def _write_script(tmp_path: Path) -> Path:
    script = tmp_path / "slow_write.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, sys, time
            sys.path.insert(0, {str(ROOT)!r})
            from pathlib import Path
            from compiler import outputs
            real = os.fsync
            done = []
            def slow(fd):  # after a few files, the writer stops until it is killed
                real(fd)
                done.append(fd)
                if len(done) >= 8:
                    time.sleep(3600)
            outputs.os.fsync = slow
            files = {{f"f{{i:03}}.txt": b"new" for i in range(200)}}
            print("writing", flush=True)
            outputs.write_tree(Path(sys.argv[1]), files)
            print("done", flush=True)
            """
        )
    )
    return script


def test_build_killed_midway_leaves_old_output(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    old = {f"f{i:03}.txt": b"old" for i in range(200)}
    for name, data in old.items():
        (out / name).write_bytes(data)
    proc = subprocess.Popen(
        [sys.executable, str(_write_script(tmp_path)), str(out)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    # Wait until the staging tree holds some new files, then kill the writer mid-build.
    stage = tmp_path / f".out.detc-stage-{proc.pid}"
    deadline = time.monotonic() + 120
    while not (stage.is_dir() and len(list(stage.iterdir())) > 5) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stage.is_dir() and len(list(stage.iterdir())) > 5, "the writer never staged its files"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert snapshot(out) == old
    # The next build cleans the abandoned staging tree and writes the new content whole.
    from compiler.outputs import write_tree

    write_tree(out, {"a.txt": b"new"})
    assert snapshot(out) == {"a.txt": b"new"}
    assert not stage.exists()


WRONG_TYPES = {
    "title": (["a"], "attribute 'title' must be a string, not list"),
    "id": (5, "attribute 'id' must be a string, not int"),
    "status": ("sure", "'sure' is not a valid Sigma rule status"),
    "description": ({"a": 1}, "attribute 'description' must be a string, not dict"),
    "author": (3, "attribute 'author' must be a string, not int"),
    "date": ("yesterday", "Rule date 'yesterday' is invalid"),
    "modified": ("soon", "Rule modified 'soon' is invalid"),
    "level": (["high"], "attribute 'level' must be a string, not list"),
    "references": ("http://x", "references must be a list"),
    "tags": ("attack.t1485", "tags fields must be a list"),
    "falsepositives": (5, "falsepositives must be a list"),
    "fields": ("user.name", "fields must be a list"),
    "logsource": ("aws", "logsource must be a valid YAML map"),
    "detection": ("sel", "detection must be a valid YAML map"),
    "related": ("x", "related must be a list"),
    "license": (["MIT"], "license must be a string"),
    "detc": ("x", "the detc block must be a mapping"),
}


@pytest.mark.parametrize("field", sorted(WRONG_TYPES), ids=str)
def test_a_wrong_type_for_any_rule_field_is_one_line(field: str, tmp_path: Path):
    import yaml

    from tests.support import rule_dict

    value, message = WRONG_TYPES[field]
    data = rule_dict({"sel": {"eventName": "X"}, "condition": "sel"})
    data[field] = value
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["build", "--rules", str(rules), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith(f"{rules / 'r.yml'}: ")
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()
