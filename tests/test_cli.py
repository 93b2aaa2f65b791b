"""The CLI contracts CI users rely on: exit codes, one-line errors, determinism, atomic output."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compiler.cli import app
from tests.support import ROOT, SEED_RULE

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_targets_lists_the_reference():
    result = run("targets")
    assert result.exit_code == 0
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert "sigma" in names


def test_check_passes_on_bundled_rules():
    result = run("check")
    assert result.exit_code == 0, result.output


def test_check_reports_each_problem_on_one_line(rules_dir: Path):
    tests_file = next(rules_dir.rglob("*.tests.yml"))
    data = yaml.safe_load(tests_file.read_text())
    for case in data["cases"]:
        case["expect"] = "match"
    tests_file.write_text(yaml.safe_dump(data))
    (rules_dir / "orphan.tests.yml").write_text("cases: []\n")
    result = run("check", "--rules", str(rules_dir))
    assert result.exit_code == 1
    assert result.stdout == ""  # problems go to stderr, as every error does
    lines = result.stderr.splitlines()
    assert any("needs at least one 'no_match' case" in line for line in lines)
    assert any("orphan.tests.yml: tests file without a rule beside it" in line for line in lines)


def test_convert_prints_the_query():
    result = run("convert", str(SEED_RULE), "--target", "sigma")
    assert result.exit_code == 0
    assert "DeleteImportedKeyMaterial" in result.stdout


def test_convert_prints_kql_and_lucene_for_the_seed():
    result = run("convert", str(SEED_RULE), "-t", "kql", "-t", "lucene")
    assert result.exit_code == 0, result.output
    sections = result.stdout.split("\n\n")
    assert [s.splitlines()[0] for s in sections] == ["# kql", "# lucene"]
    assert 'event.action: "DeleteImportedKeyMaterial"' in sections[0]
    assert "event.action:/[Dd][Ee][Ll]" in sections[1]
    assert "caveat [kql]: case:" in result.stderr


def test_convert_without_target_prints_every_target():
    from compiler.target import load_registry

    result = run("convert", str(SEED_RULE))
    assert result.exit_code == 0, result.output
    headers = [line[2:] for line in result.stdout.splitlines() if line.startswith("# ")]
    assert headers == list(load_registry().targets)


def test_convert_with_a_client_applies_its_exclusions():
    plain = run("convert", str(SEED_RULE), "-t", "kql")
    acme = run("convert", str(SEED_RULE), "-t", "kql", "--client", "acme")
    assert acme.exit_code == 0, acme.output
    assert "AcmeKeyRotation" in acme.stdout and "AcmeKeyRotation" not in plain.stdout


def test_convert_several_targets_one_unsupported_exits_1(tmp_path: Path):
    from tests.support import rule_dict

    path = tmp_path / "r.yml"
    path.write_text(yaml.safe_dump(rule_dict({"sel": {"eventName|re": "^Delete"}, "condition": "sel"})))
    result = run("convert", str(path), "-t", "sigma", "-t", "kql")
    assert result.exit_code == 1
    assert result.stdout.startswith("# sigma")
    assert result.stderr.startswith("unsupported:") and "regular expression" in result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [([], 1), (["--skip-unsupported"], 0), (["-t", "kql"], 1), (["-t", "kql", "--skip-unsupported"], 0),
     (["-t", "sigma"], 0)],
    ids=["default-all-targets", "default-skip", "one-target", "one-target-skip", "supported-target"],
)
def test_convert_exit_code_rule(tmp_path: Path, args: list[str], code: int):
    """Exit 1 when any target asked for, explicitly or by default, is unsupported, unless --skip-unsupported."""
    from tests.support import rule_dict

    path = tmp_path / "r.yml"
    path.write_text(yaml.safe_dump(rule_dict({"sel": {"eventName|re": "^Delete"}, "condition": "sel"})))
    result = run("convert", str(path), *args)
    assert result.exit_code == code, result.output
    unsupported = [line for line in result.stderr.splitlines() if line.startswith("unsupported: ")]
    assert ("kql" in " ".join(unsupported)) == ("sigma" not in args)
    assert result.stdout.startswith("# sigma") or result.stdout.startswith("{") or result.stdout == ""


def test_convert_unknown_target_is_a_usage_error():
    result = run("convert", str(SEED_RULE), "--target", "nope")
    assert result.exit_code == 2
    assert "unknown target 'nope'" in result.stderr


def test_convert_unsupported_exits_1_with_one_line(tmp_path: Path):
    from tests.support import rule_dict

    path = tmp_path / "r.yml"
    path.write_text(yaml.safe_dump(rule_dict({"sel": {"f|expand": "%x%"}, "condition": "sel"})))
    result = run("convert", str(path), "--target", "sigma")
    assert result.exit_code == 1
    assert result.stderr.startswith("unsupported:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_rule_is_one_line_exit_2(tmp_path: Path):
    path = tmp_path / "bad.yml"
    path.write_text("title: [unclosed\n")
    result = run("convert", str(path), "--target", "sigma")
    assert result.exit_code == 2
    assert "bad.yml: invalid YAML: line" in result.stderr
    assert "Traceback" not in result.output


def test_build_then_check_is_clean_and_deterministic(tmp_path: Path):
    out = tmp_path / "out"
    assert run("build", "--output", str(out)).exit_code == 0
    first = snapshot(out)
    assert run("build", "--output", str(out), "--check").exit_code == 0
    assert run("build", "--output", str(out)).exit_code == 0
    assert snapshot(out) == first
    manifest = json.loads(first["manifest.json"])
    assert manifest["rules"]["f6fee40d-8a5e-4cc8-9f73-8688419c6d68"]["targets"]["sigma"]["status"] == "ok"


def test_build_check_lists_stale_missing_and_extra(tmp_path: Path):
    out = tmp_path / "out"
    run("build", "--output", str(out))
    (out / "manifest.json").write_text("{}\n")
    (out / "leftover.txt").write_text("x")
    result = run("build", "--output", str(out), "--check")
    assert result.exit_code == 1
    assert "stale: manifest.json" in result.stdout
    assert "extra: leftover.txt" in result.stdout
    (out / "manifest.json").unlink()
    assert "missing: manifest.json" in run("build", "--output", str(out), "--check").stdout


def test_failing_build_leaves_output_untouched(tmp_path: Path, rules_dir: Path):
    out = tmp_path / "out"
    run("build", "--rules", str(rules_dir), "--output", str(out))
    (out / "clients").mkdir()
    (out / "clients" / "keep.txt").write_text("client build")
    before = snapshot(out)
    (rules_dir / "broken.yml").write_text("title: x\nid: [\n")
    result = run("build", "--rules", str(rules_dir), "--output", str(out))
    assert result.exit_code == 2
    assert "broken.yml" in result.stderr
    assert snapshot(out) == before


def test_build_preserves_client_builds(tmp_path: Path):
    out = tmp_path / "out"
    (out / "clients" / "acme").mkdir(parents=True)
    (out / "clients" / "acme" / "x.json").write_text("{}")
    assert run("build", "--output", str(out)).exit_code == 0
    assert (out / "clients" / "acme" / "x.json").read_text() == "{}"


def test_test_passes_and_writes_reports(tmp_path: Path):
    result = run("test", "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["fail"] == 0
    row = report["results"][0]
    assert set(row) >= {"rule", "case", "target", "expected", "actual", "status"}
    suites = ET.parse(tmp_path / "r.xml").getroot()
    assert suites.tag == "testsuites" and suites.get("failures") == "0"


@pytest.mark.parametrize("index", range(10), ids=lambda i: f"run{i}")
def test_test_fails_when_any_expectation_is_flipped(rules_dir: Path, tmp_path: Path, index: int):
    tests_file = next(rules_dir.rglob("aws_kms_imported_key_material_deleted.tests.yml"))
    data = yaml.safe_load(tests_file.read_text())
    case = data["cases"][index]
    case["expect"] = "no_match" if case["expect"] == "match" else "match"
    case.pop("waive", None)
    tests_file.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run("test", "--rules", str(rules_dir), "--target", "sigma", "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 1
    assert repr(case["name"]) in result.stdout
    failed = [r for r in json.loads((tmp_path / "r.json").read_text())["results"] if r["status"] == "fail"]
    assert [(r["case"], r["target"]) for r in failed] == [(case["name"], "sigma")]


def test_waived_case_is_reported_as_waived_not_passed(rules_dir: Path, tmp_path: Path):
    tests_file = next(rules_dir.rglob("aws_kms_imported_key_material_deleted.tests.yml"))
    data = yaml.safe_load(tests_file.read_text())
    data["cases"][0]["expect"] = "no_match"
    data["cases"][0]["waive"] = {"sigma": "documented limit, for the test"}
    tests_file.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run("test", "--rules", str(rules_dir), "--target", "sigma", "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 0
    rows = json.loads((tmp_path / "r.json").read_text())["results"]
    assert rows[0]["status"] == "waived"
    assert "waived" in result.stdout


def test_committed_output_is_current():
    """output/ in the repository is exactly what a fresh build writes, for the default and every client."""
    from tests.support import ROOT

    for extra in ([], ["--all-clients", "--clients-dir", str(ROOT / "clients")]):
        result = run("build", "--rules", str(ROOT / "sigma"), "--output", str(ROOT / "output"), "--check", *extra)
        assert result.exit_code == 0, result.stdout + result.stderr


def test_test_with_no_fixtures_fails_unless_allowed(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(SEED_RULE, rules / SEED_RULE.name)  # a rule without its tests file
    result = run("test", "--rules", str(rules))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"{rules}: no rule has fixture cases: nothing was tested (--allow-empty to accept)"
    assert run("test", "--rules", str(rules), "--allow-empty").exit_code == 0


def test_a_target_whose_every_match_case_is_waived_fails(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(SEED_RULE, rules / SEED_RULE.name)
    tests_file = rules / SEED_RULE.name.replace(".yml", ".tests.yml")
    data = yaml.safe_load(SEED_RULE.with_name(tests_file.name).read_text())
    for case in data["cases"]:
        if case["expect"] == "match":
            case["waive"] = {**case.get("waive", {}), "lucene": "waived by a test"}
    tests_file.write_text(yaml.safe_dump(data))
    report = tmp_path / "r.json"
    result = run("test", "--rules", str(rules), "--json", str(report))
    assert result.exit_code == 1
    failed = [r for r in json.loads(report.read_text())["results"] if r["status"] == "fail"]
    assert [(r["target"], r["case"]) for r in failed] == [("lucene", "(no match case tested)")]
    assert "every match case is waived on this target" in result.stdout
    assert run("test", "--rules", str(rules), "--allow-untested").exit_code == 0


def test_build_and_report_name_the_unsupported_rules(tmp_path: Path):
    from tests.support import rule_dict

    rules = tmp_path / "rules"
    rules.mkdir()
    data = rule_dict({"sel": {"eventName|re": "^Delete"}, "condition": "sel"}, id="11111111-2222-4333-8444-555555555555")
    (rules / "aws_regex_rule_here.yml").write_text(yaml.safe_dump(data))
    shown = f"{rules}/aws_regex_rule_here.yml"
    result = run("build", "--rules", str(rules), "--output", str(tmp_path / "out"), "--no-cache")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[1:] == [
        f"{shown}: 11111111-2222-4333-8444-555555555555: kql: unsupported: regular expression: KQL has no regex syntax",
        f"{shown}: 11111111-2222-4333-8444-555555555555: eventbridge: unsupported: regular expression (|re): "
        "EventBridge event patterns have no regular-expression operator",
    ]
    report = tmp_path / "report.json"
    result = run("build", "--rules", str(rules), "--report", "--report-json", str(report))
    assert result.exit_code == 0, result.output
    assert f"  {shown}: 11111111-2222-4333-8444-555555555555: regular expression: KQL has no regex syntax" in result.stdout
    assert json.loads(report.read_text())["targets"]["kql"]["unsupported_rules"] == [
        {"id": "11111111-2222-4333-8444-555555555555", "path": shown,
         "reason": "regular expression: KQL has no regex syntax"}
    ]


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["test", "--budget", "0"], "detc test: Invalid value for '--budget': 0 is not in the range x>=1. (see --help)"),
        (["build", "--colour"], "detc build: No such option: --colour (see --help)"),
        (["nosuch"], "detc: No such command 'nosuch'. (see --help)"),
        (["convert"], "detc convert: Missing argument 'rule'. (see --help)"),
    ],
    ids=["out-of-range", "unknown-option", "unknown-command", "missing-argument"],
)
def test_a_bad_option_or_argument_is_one_line_and_exit_2(argv: list[str], line: str) -> None:
    """The ``detc`` command itself (not the test runner's app): click's usage box becomes detc's one line."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "compiler", *argv], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
    )
    assert (done.returncode, done.stderr, done.stdout) == (2, line + "\n", "")


def test_help_still_prints_and_exits_0() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "compiler", "test", "--help"], cwd=ROOT, capture_output=True, text=True, check=False,
        timeout=60,
    )
    assert done.returncode == 0 and "Usage: detc test" in done.stdout and done.stderr == ""
