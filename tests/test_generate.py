"""The event generator: witnesses the reference matches, near misses that change one thing, each
mutation kind, determinism across hash seeds, fixture coverage, and the CLI around it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compiler.cli import app
from compiler.fixtures import load_fixtures
from compiler.generate import AWKWARD, generate
from compiler.rawforms import CLOUDTRAIL
from compiler.rules import load_rule
from compiler.testing import rule_coverage
from tests.support import ROOT, SEED_RULE, rule_dict

SEED_NAMES = [
    ("match", "witness 1: selection: eventSource = 'kms.amazonaws.com'; selection: eventName = 'DeleteImportedKeyMaterial'; "
     "selection: errorCode is null; not filter_aws_service: userIdentity.type = 'AWSService'"),
    ("no_match", "near miss of witness 1: a character before the start 'kms.amazonaws.com' (selection: eventSource = 'kms.amazonaws.com')"),
    ("no_match", "near miss of witness 1: a character before the start 'DeleteImportedKeyMaterial' (selection: eventName = 'DeleteImportedKeyMaterial')"),
    ("no_match", "near miss of witness 1: the field given a value (selection: errorCode is null)"),
    ("no_match", "near miss of witness 1: the filter's field made to match (not filter_aws_service: userIdentity.type = 'AWSService')"),
]


def by_name(made):
    return {g.name: g for g in made}


def test_seed_rule_first_cases_are_one_witness_and_one_near_miss_per_leaf():
    made = generate(load_rule(SEED_RULE), CLOUDTRAIL)
    assert [(g.expect, g.name) for g in made[:5]] == SEED_NAMES
    witness = made[0].event
    assert witness["eventSource"] == "kms.amazonaws.com" and "errorCode" not in witness
    assert witness["userIdentity"]["type"] == "IAMUser"  # the filter's field present, not matching
    assert made[1].event["eventSource"] == "xkms.amazonaws.com"
    assert made[4].event["userIdentity"]["type"] == "AWSService"


def test_budget_caps_the_events_and_keeps_one_near_miss_per_leaf():
    rule = load_rule(SEED_RULE)
    assert len(generate(rule, CLOUDTRAIL, budget=5)) == 5
    assert rule_coverage(rule, [g.event for g in generate(rule, CLOUDTRAIL, budget=5)])["covered"] == 4
    assert len(generate(rule, CLOUDTRAIL)) > 5


def test_witnesses_match_and_every_verdict_is_the_references(rule_from):
    from backends.sigma.sigma_evaluator import conditions_predicate

    rule = rule_from(
        {
            "sel": {"eventSource": "iam.amazonaws.com", "eventName|contains": ["Policy", "Role*Attach"],
                    "userAgent|contains|all": ["aws", "cli"]},
            "filter_a": {"userIdentity.type": ["AWSService", "Ass?medRole"]},
            "filter_b": {"requestParameters.policyArn|endswith": "/AdministratorAccess"},
            "condition": "sel and not 1 of filter_*",
        }
    )
    reference = conditions_predicate(rule.conditions)
    made = generate(rule, CLOUDTRAIL)
    witnesses = [g for g in made if g.kind == "witness"]
    assert {g.expect for g in witnesses} == {"match"}
    assert all((g.expect == "match") == reference(g.event) for g in made)
    # each list value that matters has its own witness; |all puts both parts in one value
    plain = [g for g in witnesses if "—" not in g.name]
    assert [g.event["eventName"] for g in plain] == ["Policy", "RoleAttach"]
    assert all("aws" in g.event["userAgent"] and "cli" in g.event["userAgent"] for g in plain)
    awkward = next(g for g in witnesses if "awkward" in g.name)
    assert awkward.event["eventName"] == AWKWARD + "Policy" + AWKWARD
    recased = next(g for g in witnesses if "letter case" in g.name)
    assert recased.event["eventName"] == "pOLICY"
    filters = [g for g in made if "filter's field made to match" in g.name]
    assert {g.expect for g in filters} == {"no_match"} and len(filters) == 6  # 3 filter leaves, 2 witnesses
    assert rule_coverage(rule, [g.event for g in made])["uncovered"] == []


@pytest.mark.parametrize(
    ("item", "change", "field", "value", "expect"),
    [
        ({"eventName|startswith": "Delete"}, "a character before the start 'Delete'", "eventName", "xDelete", "no_match"),
        ({"eventName|endswith": "Key"}, "a character after the end 'Key'", "eventName", "Keyx", "no_match"),
        ({"eventName": "DeleteKey"}, "one character of 'DeleteKey' changed", "eventName", "DeleqeKey", "no_match"),
        ({"eventName": "DeleteKey"}, "the last character of 'DeleteKey' removed", "eventName", "DeleteKe", "no_match"),
        ({"userAgent|cased": "AWS-CLI"}, "letter case of 'AWS-CLI' changed under |cased", "userAgent", "aws-cli", "no_match"),
        ({"sourceIPAddress|cidr": "10.0.0.0/8"}, "an address just outside 10.0.0.0/8", "sourceIPAddress", "11.0.0.0", "no_match"),
        ({"sourceIPAddress|cidr": "2001:db8::/32"}, "an address just outside 2001:db8::/32", "sourceIPAddress", "2001:db9::", "no_match"),
        ({"requestParameters.count|gt": 5}, "a number across the bound 5", "requestParameters.count", 5, "no_match"),
        ({"requestParameters.count|lte": 5}, "a number across the bound 5", "requestParameters.count", 6, "no_match"),
        ({"errorCode": None}, "the field given a value", "errorCode", "x", "no_match"),
        ({"userAgent": "aws-cli"}, "the field removed", "userAgent", None, "no_match"),
        ({"userAgent": "aws-cli"}, "the field set to null", "userAgent", None, "no_match"),
        ({"userAgent": "aws-cli"}, "the value moved into eventVersion", "eventVersion", "aws-cli", "no_match"),
        ({"requestParameters.layers|contains": "arn"}, "the value among others in an array",
         "requestParameters.layers", ["detc-other", "arn"], "match"),
    ],
    ids=["startswith", "endswith", "char-changed", "char-removed", "cased", "cidr4", "cidr6", "gt", "lte",
         "null", "removed", "set-null", "moved", "array"],
)
def test_each_mutation_kind(rule_from, item, change, field, value, expect):
    rule = rule_from({"sel": item, "condition": "sel"})
    made = by_name(generate(rule, CLOUDTRAIL))
    (name,) = [n for n in made if n.startswith(f"near miss of witness 1: {change} (")]
    event = made[name].event
    node = event
    for part in field.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    assert node == value
    assert made[name].expect == expect
    if change == "the field removed":
        assert "userAgent" not in event


def test_regex_witnesses_respect_the_flags(rule_from):
    rule = rule_from({"sel": {"userIdentity.arn|re|i": "^arn:aws:iam::[0-9]{12}:root$"}, "condition": "sel"})
    made = generate(rule, CLOUDTRAIL)
    witnesses = {g.name.split(":")[0]: g.event["userIdentity"]["arn"] for g in made if g.kind == "witness"}
    assert witnesses["witness 1"] == "arn:aws:iam::000000000000:root"
    assert witnesses["witness 1 — letter case changed"] == "ARN:AWS:IAM::000000000000:ROOT"
    assert all(g.expect == "match" for g in made if g.kind == "witness")


_SCRIPT = """
import json, sys, yaml
from pathlib import Path
from compiler.rules import load_rule
from compiler.generate import generate
from compiler.rawforms import CLOUDTRAIL
out = []
for path in sys.argv[1:]:
    out.append([[g.name, g.expect, g.event] for g in generate(load_rule(Path(path)), CLOUDTRAIL)])
print(json.dumps(out, sort_keys=True))
"""


def test_same_events_under_every_hash_seed(tmp_path: Path):
    detection = {
        "sel": {"eventName": ["DeleteKey", "Disable*", "Sch?duleKeyDeletion"], "userAgent|re": "^aws-(cli|sdk)/[0-9]+\\.",
                "sourceIPAddress|cidr": "192.0.2.0/24"},
        "filter": {"userIdentity.type": ["AWSService", "Root"]},
        "condition": "sel and not filter",
    }
    path = tmp_path / "rule.yml"
    path.write_text(yaml.safe_dump(rule_dict(detection)))
    runs = []
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", _SCRIPT, str(path), str(SEED_RULE)], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        runs.append(done.stdout)
    assert runs[0] == runs[1] == runs[2]
    assert len(json.loads(runs[0])[0]) > 20


def test_coverage_counts_leaves_a_case_takes_from_match_to_no_match():
    rule = load_rule(SEED_RULE)
    cases = load_fixtures(rule).cases
    coverage = rule_coverage(rule, [c.event for c in cases])
    # the hand-written cases never change eventSource alone; the generated near misses do
    assert (coverage["leaves"], coverage["covered"]) == (4, 3)
    assert coverage["uncovered"] == ["selection: eventSource = 'kms.amazonaws.com'"]
    events = [c.event for c in cases] + [g.event for g in generate(rule, CLOUDTRAIL)]
    assert rule_coverage(rule, events)["covered"] == 4
    only_matches = rule_coverage(rule, [c.event for c in cases if c.expect == "match"])
    assert only_matches["covered"] == 0
    assert only_matches["uncovered"] == [
        "selection: eventSource = 'kms.amazonaws.com'",
        "selection: eventName = 'DeleteImportedKeyMaterial'",
        "selection: errorCode is null",
        "filter_aws_service: userIdentity.type = 'AWSService'",
    ]


# --- the CLI ---------------------------------------------------------------------------------


def test_fixtures_command_writes_a_tests_file_that_loads_checks_and_passes(tmp_path: Path):
    rules = tmp_path / "sigma"
    rules.mkdir()
    rule = rules / SEED_RULE.name
    rule.write_bytes(SEED_RULE.read_bytes())
    out = rules / SEED_RULE.name.replace(".yml", ".tests.yml")
    runner = CliRunner()
    result = runner.invoke(app, ["fixtures", str(rule), "--out", str(out), "--budget", "30"])
    assert result.exit_code == 0, result.output
    fixtures = load_fixtures(load_rule(rule))
    assert len(fixtures.cases) == 10
    assert fixtures.cases[0].name == SEED_NAMES[0][1]
    waived = {name for c in fixtures.cases for name in c.waive}
    assert waived <= {"kql", "spl", "lucene", "eventbridge"}
    assert runner.invoke(app, ["check", "--rules", str(rules)]).exit_code == 0
    tested = runner.invoke(app, ["test", "--rules", str(rules)])
    assert tested.exit_code == 0, tested.output
    assert "0 failed" in tested.output


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("rule", "refusing to replace a file detc fixtures did not write"),
        ("hand-written", "refusing to replace a file detc fixtures did not write"),
        ("other", "refusing to replace a file detc fixtures did not write"),
        ("folder", "not a regular file (refusing to replace it)"),
    ],
    ids=["the-rule-itself", "hand-written-tests-file", "any-other-file", "a-folder"],
)
def test_fixtures_out_never_replaces_what_a_user_wrote(tmp_path: Path, target: str, message: str):
    rule = tmp_path / SEED_RULE.name
    rule.write_bytes(SEED_RULE.read_bytes())
    tests_file = tmp_path / SEED_RULE.name.replace(".yml", ".tests.yml")
    tests_file.write_text("cases: []  # written by hand\n")
    other = tmp_path / "README.md"
    other.write_text("notes\n")
    (tmp_path / "folder").mkdir()
    out = {"rule": rule, "hand-written": tests_file, "other": other, "folder": tmp_path / "folder"}[target]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    result = CliRunner().invoke(app, ["fixtures", str(rule), "--out", str(out), "--budget", "5"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"--out {out}: {message}" + (
        " (give a new file name, or move the file away first)" if target != "folder" else "")]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_fixtures_out_rewrites_a_file_it_wrote(tmp_path: Path):
    rule = tmp_path / SEED_RULE.name
    rule.write_bytes(SEED_RULE.read_bytes())
    out = tmp_path / "generated.tests.yml"
    runner = CliRunner()
    assert runner.invoke(app, ["fixtures", str(rule), "--out", str(out), "--budget", "5"]).exit_code == 0
    first = out.read_bytes()
    result = runner.invoke(app, ["fixtures", str(rule), "--out", str(out), "--budget", "6"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() != first and out.read_bytes().startswith(b"# Fixture cases generated by `detc fixtures`")


def test_fixtures_command_refuses_a_logsource_it_cannot_build(tmp_path: Path):
    path = tmp_path / "win.yml"
    path.write_text(yaml.safe_dump(rule_dict({"sel": {"Image": "x"}, "condition": "sel"},
                                            logsource={"product": "linux", "service": "auditd"})))
    result = CliRunner().invoke(app, ["fixtures", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().endswith("no generated events for this logsource yet")


def test_test_generated_reports_cases_differences_and_coverage(tmp_path: Path):
    out, junit = tmp_path / "r.json", tmp_path / "r.xml"
    result = CliRunner().invoke(
        app, ["test", "--rules", str(ROOT / "sigma"), "--generated", "--budget", "20", "--json", str(out), "--junit", str(junit)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    seed_id = load_rule(SEED_RULE).id
    generated = [r for r in report["results"] if r.get("origin") == "generated" and r["rule"] == seed_id]
    assert len(generated) == 10 * 6  # the seed's 10 events (under the budget) on six targets
    assert report["summary"]["generated"]["total"] == len([r for r in report["results"] if r.get("origin")])
    assert report["summary"]["generated"]["silent_differences"] == 0
    stated = [r for r in generated if r.get("difference") == "stated"]
    assert stated and all(r["status"] == "waived" and r["message"].startswith("stated difference: ") for r in stated)
    (seed,) = [c for c in report["coverage"]["rules"] if c["rule"] == seed_id]
    assert (seed["leaves"], seed["covered"]) == (4, 4)
    assert "fixture coverage: " in result.output
    assert "near miss of witness 1: the field given a value (selection: errorCode is null)" in junit.read_text()


def test_a_silent_difference_fails(tmp_path: Path, monkeypatch):
    """A target whose verdict no stated limit explains fails, and is counted as silent."""
    import backends.elastic.caveats as caveats

    monkeypatch.setattr(caveats, "KQL_CASE", "no statement")  # kql no longer states its case limit
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["test", "--rules", str(ROOT / "sigma"), "-t", "kql", "--generated", "--json", str(out)])
    report = json.loads(out.read_text())
    assert result.exit_code == 1
    silent = [r for r in report["results"] if r.get("difference") == "silent"]
    assert [r["case"].split(":")[0] for r in silent] == ["witness 1 — letter case changed"]
    assert report["summary"]["generated"]["silent_differences"] == 1


def test_sigmahq_aws_rules_have_no_silent_difference_on_any_target(tmp_path: Path, corpus: Path):
    rules = corpus / "sigmahq-aws" / "rules"
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["test", "--rules", str(rules), "--generated", "--json", str(out)])
    report = json.loads(out.read_text())
    assert report["summary"]["generated"]["silent_differences"] == 0, [
        (r["target"], r["case"]) for r in report["results"] if r.get("difference") == "silent"
    ]
    assert result.exit_code == 0
    assert report["coverage"]["share"] >= 0.95
    assert len(report["coverage"]["rules"]) == len(list(rules.rglob("*.yml")))


def test_windows_events_are_built_through_the_logsource_layer():
    """A Sysmon process_creation rule: events carry the logsource's own conditions (Sysmon EventID 1
    on its channel), values go in EventData, and EventID is never removed."""
    from compiler.rawforms import NotInThisSource, raw_form

    rule = load_rule(ROOT / "sigma" / "windows" / "process_creation" / "proc_creation_win_wmic_recon_hotfix.yml")
    form = raw_form(rule)
    made = generate(rule, form)
    witness = made[0]
    assert witness.kind == "witness" and witness.expect == "match"
    assert witness.event["Event"]["System"] == {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1}
    assert witness.event["Event"]["EventData"]["OriginalFileName"] == "wmic.exe"
    removed = next(g for g in made if g.name.startswith("near miss of witness 1: the field removed (selection_img: OriginalFileName"))
    assert "OriginalFileName" not in removed.event["Event"]["EventData"] and removed.expect == "no_match"
    with pytest.raises(NotInThisSource):
        form.set_field(form.base_record(), "EventID", None)


def test_bundled_rules_fixture_coverage_is_at_least_95_percent(tmp_path: Path):
    out = tmp_path / "r.json"
    CliRunner().invoke(app, ["test", "--rules", str(ROOT / "sigma"), "--generated", "--json", str(out)])
    report = json.loads(out.read_text())
    assert report["coverage"]["share"] >= 0.95, [r["uncovered"] for r in report["coverage"]["rules"] if r["uncovered"]]
    assert report["summary"]["generated"]["silent_differences"] == 0
