"""MSSP client profiles: validation, selection, exclusions, packaging and diffs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compiler.build import compile_one
from compiler.cli import app
from compiler.clients import ProfileError, apply_profile, load_profile, select_rules
from compiler.fixtures import load_fixtures
from compiler.profile import Profile
from compiler.rules import load_rule
from compiler.target import emit, load_registry
from compiler.testing import run_rule, with_client_cases
from tests.support import ROOT, SEED_RULE, case_id

REGISTRY = load_registry()
TARGETS = REGISTRY.settings()
runner = CliRunner()


def write_profile(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / f"{data.get('name', 'client')}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "c", "colour": "red"}, "unknown key 'colour'"),
        ({"name": "Bad Name"}, "name must be lowercase"),
        ({"name": "c", "targets": {"nope": {}}}, "targets: unknown target 'nope'"),
        ({"name": "c", "targets": {"sigma": []}}, "targets.sigma must be a mapping"),
        ({"name": "c", "schedule": {"interval": "soon"}}, "schedule.interval must look like 5m"),
        ({"name": "c", "select": {"include": {"colour": ["x"]}}}, "unknown key select.include.colour"),
        ({"name": "c", "select": {"include": {"levels": ["urgent"]}}}, "unknown level 'urgent'"),
        ({"name": "c", "overrides": {"x": {"risk_score": 101}}}, "risk_score must be an integer from 0 to 100"),
        ({"name": "c", "overrides": {"x": {"colour": 1}}}, "unknown key overrides.x.colour"),
        ({"name": "c", "exclusions": [{"field": "a|contains", "values": ["x"]}]}, "field must be a plain field name"),
        ({"name": "c", "exclusions": [{"field": "a", "values": []}]}, "values must be a non-empty list"),
        ({"name": "c", "exclusions": [{"field": "a", "values": ["x"], "why": "?"}]}, "unknown key exclusions[0].why"),
        ({"name": "c", "exclusions": {"field": "a"}}, "exclusions must be a list"),
        ({"name": "c", "targets": {"kql": {"indices": ["x"]}}}, "targets.kql.indices: unknown setting (known: index,"),
        ({"name": "c", "targets": {"sigma": {"x": 1}}}, "targets.sigma.x: unknown setting (known: none)"),
        ({"name": "c", "targets": {"kql": {"index": "logs-*"}}}, "targets.kql.index must be a non-empty list of strings"),
        ({"name": "c", "targets": {"spl": {"index": 7}}}, "targets.spl.index must be a string"),
        ({"name": "c", "targets": {"eventbridge": {"strict_case": "yes"}}}, "strict_case must be true or false"),
        ({"name": "c", "targets": {"eventbridge": {"max_pattern_chars": True}}}, "must be an integer"),
    ],
    ids=case_id,
)
def test_profile_errors_are_one_clear_line(tmp_path: Path, data: dict, message: str):
    path = write_profile(tmp_path, data)
    with pytest.raises(ProfileError) as info:
        load_profile(path, TARGETS)
    assert message in str(info.value)
    assert str(info.value).count("\n") == 0


def test_profile_name_must_match_file(tmp_path: Path):
    path = tmp_path / "other.yml"
    path.write_text("name: c\n")
    with pytest.raises(ProfileError, match="must equal the file name"):
        load_profile(path, TARGETS)


def test_selection_include_and_exclude(tmp_path: Path):
    seed = load_rule(SEED_RULE)
    for include, exclude, selected in [
        ({}, {}, True),
        ({"tags": ["attack.impact"]}, {}, True),
        ({"tags": ["attack.persistence"]}, {}, False),
        ({"levels": ["medium"]}, {}, True),
        ({"logsources": ["aws/*"]}, {}, True),
        ({"logsources": ["gcp/*"]}, {}, False),
        ({}, {"ids": [seed.id]}, False),
        ({"statuses": ["stable"]}, {"levels": ["medium"]}, False),
    ]:
        profile = load_profile(
            write_profile(tmp_path, {"name": "c", "select": {"include": include, "exclude": exclude}}), TARGETS
        )
        assert (select_rules([seed], profile) == [seed]) is selected, (include, exclude)


HOSTILE = ['a"b', "a\\b", "a*b", "a?b", '{"x": 1}', "a' OR 1=1 --", "x)|(y", "tab\there", "ünïcode", "a\\*b"]


def test_hostile_exclusion_values_keep_every_fixture_passing(tmp_path: Path):
    profile = load_profile(
        write_profile(
            tmp_path,
            {"name": "hostile", "exclusions": [{"field": "userIdentity.arn", "values": HOSTILE}]},
        ),
        TARGETS,
    )
    rule = apply_profile(load_rule(SEED_RULE), profile)
    fixtures = with_client_cases(load_fixtures(rule), rule, profile)
    assert len(fixtures.cases) == 10 + len(HOSTILE)
    results = run_rule(rule, fixtures, list(REGISTRY.targets.values()), profile)
    failures = [(r.target, r.case, r.actual) for r in results if r.status == "fail"]
    assert failures == []


def test_exclusion_values_are_literal_not_wildcards(tmp_path: Path):
    profile = load_profile(
        write_profile(tmp_path, {"name": "lit", "exclusions": [{"field": "userIdentity.userName", "values": ["Al*"]}]}),
        TARGETS,
    )
    rule = apply_profile(load_rule(SEED_RULE), profile)
    sigma = REGISTRY.get("sigma")
    matcher = sigma.evaluator(sigma.compile(rule, profile).query)
    event = load_fixtures(rule).cases[0].event
    assert matcher(event)  # userName "Alice" is not excluded by the literal "Al*"
    assert not matcher({**event, "userIdentity": {**event["userIdentity"], "userName": "Al*"}})


def test_overrides_and_schedule_apply(tmp_path: Path):
    profile = load_profile(ROOT / "clients" / "globex.yml", TARGETS)
    rule = apply_profile(load_rule(SEED_RULE), profile)
    assert rule.level == "critical" and rule.meta.risk_score == 99
    assert rule.meta.schedule.interval == "15m"


def test_bundled_clients_differ_in_every_setting():
    a = yaml.safe_load((ROOT / "clients" / "acme.yml").read_text())
    b = yaml.safe_load((ROOT / "clients" / "globex.yml").read_text())
    assert set(a) == set(b)
    for key in a:
        if key != "name":
            assert a[key] != b[key], key


def test_client_build_is_checked_and_package_is_reproducible(tmp_path: Path):
    out = tmp_path / "out"
    assert runner.invoke(app, ["build", "--all-clients", "--output", str(out)]).exit_code == 0
    assert runner.invoke(app, ["build", "--all-clients", "--output", str(out), "--check"]).exit_code == 0
    assert (out / "clients" / "acme" / "manifest.json").is_file()
    first = runner.invoke(app, ["package", "--client", "acme", "--output", str(tmp_path / "p1")])
    second = runner.invoke(app, ["package", "--client", "acme", "--output", str(tmp_path / "p2")])
    assert first.exit_code == 0 and second.exit_code == 0
    assert (tmp_path / "p1" / "acme.tar.gz").read_bytes() == (tmp_path / "p2" / "acme.tar.gz").read_bytes()
    manifest = json.loads((tmp_path / "p1" / "acme.package.json").read_text())
    rule = manifest["rules"]["f6fee40d-8a5e-4cc8-9f73-8688419c6d68"]
    assert rule["version"] == "2026-06-18" and len(rule["source_sha256"]) == 64
    assert manifest["profile_sha256"]


def test_diff_reports_added_removed_changed(tmp_path: Path):
    rules = tmp_path / "sigma"
    shutil.copytree(ROOT / "sigma", rules)
    clients = tmp_path / "clients"
    shutil.copytree(ROOT / "clients", clients)
    args = ["--client", "acme", "--clients-dir", str(clients), "--rules", str(rules)]
    assert runner.invoke(app, ["package", *args, "--output", str(tmp_path / "old")]).exit_code == 0
    seed = next(rules.rglob("aws_kms_imported_key_material_deleted.yml"))
    seed.write_text(seed.read_text().replace("level: medium", "level: low"))
    extra = rules / "aws" / "extra.yml"
    extra.write_text(
        seed.read_text()
        .replace("f6fee40d-8a5e-4cc8-9f73-8688419c6d68", "0b5ddc9e-3f5e-4c3b-9f61-2d1a8a0e4f11")
        .replace("title: AWS KMS Imported Key Material Deleted", "title: Extra")
    )
    shutil.copy(seed.with_name("aws_kms_imported_key_material_deleted.tests.yml"), rules / "aws" / "extra.tests.yml")
    assert runner.invoke(app, ["package", *args, "--output", str(tmp_path / "new")]).exit_code == 0
    result = runner.invoke(
        app, ["diff", str(tmp_path / "old" / "acme.package.json"), str(tmp_path / "new" / "acme.tar.gz"), "--json"]
    )
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)
    assert [a["id"] for a in changes["added"]] == ["0b5ddc9e-3f5e-4c3b-9f61-2d1a8a0e4f11"]
    assert changes["removed"] == []
    assert changes["changed"][0]["id"] == "f6fee40d-8a5e-4cc8-9f73-8688419c6d68"
    assert "rule source changed" in changes["changed"][0]["changes"]


def test_diff_names_only_the_rules_that_changed(tmp_path: Path):
    """A rule added to shared files (rules.ndjson, savedsearches.conf, the templates) changes no
    other rule's share of them: the others are not reported as changed."""
    rules = tmp_path / "sigma"
    shutil.copytree(ROOT / "sigma", rules)
    args = ["--client", "acme", "--clients-dir", str(ROOT / "clients"), "--rules", str(rules)]
    assert runner.invoke(app, ["package", *args, "--output", str(tmp_path / "old")]).exit_code == 0
    seed = next(rules.rglob("aws_kms_imported_key_material_deleted.yml"))
    (rules / "aws" / "extra.yml").write_text(
        seed.read_text()
        .replace("f6fee40d-8a5e-4cc8-9f73-8688419c6d68", "0b5ddc9e-3f5e-4c3b-9f61-2d1a8a0e4f11")
        .replace("title: AWS KMS Imported Key Material Deleted", "title: Extra")
    )
    assert runner.invoke(app, ["package", *args, "--output", str(tmp_path / "new")]).exit_code == 0
    result = runner.invoke(
        app, ["diff", str(tmp_path / "old" / "acme.package.json"), str(tmp_path / "new" / "acme.package.json"), "--json"]
    )
    changes = json.loads(result.stdout)
    assert [a["id"] for a in changes["added"]] == ["0b5ddc9e-3f5e-4c3b-9f61-2d1a8a0e4f11"]
    assert changes["changed"] == []


def _elastic_ids(profile_name: str | None, tmp_path: Path, data: dict | None = None) -> set[str]:
    from backends.elastic.emit import ElasticEmitter
    from compiler.build import compile_rules
    from compiler.profile import DEFAULT_PROFILE

    profile = DEFAULT_PROFILE
    if profile_name:
        folder = tmp_path / f"{profile_name}-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        profile = load_profile(write_profile(folder, {"name": profile_name, **(data or {})}), TARGETS)
    seed = load_rule(SEED_RULE)
    results, errors = compile_rules([seed], [REGISTRY.get("kql"), REGISTRY.get("lucene")], profile)
    assert not errors
    ids = set()
    for artifact in emit(ElasticEmitter(), results, profile):
        if artifact.path.endswith(".ndjson"):
            ids |= {json.loads(line)["rule_id"] for line in artifact.data.decode().splitlines()}
    return ids


def test_elastic_rule_ids_are_namespaced_per_client(tmp_path: Path):
    default = _elastic_ids(None, tmp_path)
    one = _elastic_ids("one", tmp_path)
    two = _elastic_ids("two", tmp_path)
    assert "f6fee40d-8a5e-4cc8-9f73-8688419c6d68" in default  # the seed's own id, unchanged
    assert len(default) == len(one) == len(two) == 2  # KQL and Lucene variants
    assert not (default & one) and not (default & two) and not (one & two)
    assert one == _elastic_ids("one", tmp_path)  # stable


def test_elastic_rule_id_namespace_setting_decides_the_ids(tmp_path: Path):
    named = {"targets": {"kql": {"rule_id_namespace": "shared-tenant"}}}
    assert _elastic_ids("a", tmp_path, named) == _elastic_ids("b", tmp_path, named) != _elastic_ids("a", tmp_path)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("userIdentity.Arn", "exclusions[0].field: kql cannot map 'userIdentity.Arn' on cloudtrail rules (field "
         "'userIdentity.Arn': "
         "Elastic's AWS CloudTrail ingest pipeline does not store it"),
        ("useridentity.arn", "exclusions[0].field: kql cannot map 'useridentity.arn'"),
        ("requestParameters", "exclusions[0].field: spl cannot map 'requestParameters'"),
    ],
    ids=["wrong-case-leaf", "wrong-case-root", "whole-object"],
)
def test_an_exclusion_field_a_target_cannot_map_is_refused_at_load(tmp_path: Path, field: str, message: str):
    path = write_profile(tmp_path, {"name": "c", "exclusions": [{"field": field, "values": ["x"]}]})
    with pytest.raises(ProfileError) as info:
        load_profile(path, TARGETS)
    assert str(info.value).startswith(f"{path}: {message}") or f": {message}" in str(info.value)


@pytest.mark.parametrize(
    "field", ["userIdentity.arn", "requestParameters.keyId", "sourceIPAddress", "userAgent", "errorCode"],
    ids=["arn", "request-parameter", "address", "agent", "error-code"],
)
def test_exclusion_fields_every_target_maps_load(tmp_path: Path, field: str):
    path = write_profile(tmp_path, {"name": "c", "exclusions": [{"field": field, "values": ["x"]}]})
    assert load_profile(path, TARGETS).exclusions[0].field == field


def test_an_exclusion_one_language_of_a_platform_cannot_query_keeps_the_profile(tmp_path: Path):
    """requestParameters.* are flattened fields: kql and lucene query them, Elasticsearch EQL cannot.
    The profile loads; the excluded rule is unsupported on eql, with the reason, never compiled without it."""
    from compiler.build import compile_one
    from compiler.errors import UnsupportedFeature

    path = write_profile(tmp_path, {"name": "c", "exclusions": [{"field": "requestParameters.keyId", "values": ["k1"]}]})
    profile = load_profile(path, TARGETS)
    rule = apply_profile(load_rule(SEED_RULE), profile)
    assert "aws.cloudtrail.flattened.request_parameters.keyId" in compile_one(REGISTRY.get("kql"), rule, profile).query
    with pytest.raises(UnsupportedFeature, match="cannot query fields of type flattened"):
        compile_one(REGISTRY.get("eql"), rule, profile)


@pytest.mark.parametrize(
    ("target", "mapping", "in_query"),
    [
        ("kql", {"event.action": "act", "act": "act2"}, "act: "),
        ("lucene", {"event.action": "act", "act": "act2"}, "act:"),
        ("eql", {"event.action": "act", "act": "act2"}, "act : "),
        ("spl", {"eventName": "act", "act": "act2"}, "act="),
        ("eventbridge", {"detail.eventName": "detail.act", "detail.act": "detail.act2"}, '"act":'),
    ],
    ids=["kql", "lucene", "eql", "spl", "eventbridge"],
)
def test_chained_field_renames_keep_the_seed_fixtures_passing(target: str, mapping: dict[str, str], in_query: str):
    """pySigma renames a rule's fields in one simultaneous step; the shaped documents must be renamed
    the same way, once: the first name's value under the second name, not carried on to the third."""
    profile = Profile(name="chained", field_mappings={target: mapping})
    rule = load_rule(SEED_RULE)
    query = compile_one(REGISTRY.get(target), rule, profile).query
    assert in_query in query and "act2" not in query
    results = run_rule(rule, load_fixtures(rule), [REGISTRY.get(target)], profile)
    assert len(results) == 10
    assert [(r.case, r.actual) for r in results if r.status == "fail"] == []
    assert sum(r.status == "pass" for r in results) >= 8


@pytest.mark.parametrize(
    ("mapping", "document", "expected"),
    [
        ({"a": "b", "b": "c"}, {"a": 1, "b": 2, "d": 3}, {"b": 1, "c": 2, "d": 3}),
        ({"x.a": "x.b", "x.b": "x.c"}, {"x": {"a": 1, "b": 2}}, {"x": {"b": 1, "c": 2}}),
        ({"a": "b", "b": "c"}, {"b": 2}, {"c": 2}),
        ({"a": "b", "b": "a"}, {"a": 1, "b": 2}, {"a": 2, "b": 1}),
    ],
    ids=["flat", "nested", "second-only", "swap"],
)
def test_rename_fields_is_simultaneous(mapping: dict, document: dict, expected: dict) -> None:
    assert Profile(field_mappings={"t": mapping}).rename_fields("t", document) == expected
    assert Profile(field_mappings={"u": mapping}).rename_fields("t", document) == document


WMIC_RULE = ROOT / "sigma/windows/process_creation/proc_creation_win_wmic_recon_hotfix.yml"


def test_an_exclusion_scoped_to_a_logsource_reaches_only_its_rules(tmp_path: Path):
    """``logsources:`` scopes an exclusion as ``select`` scopes rules: a CloudTrail exclusion for every
    rule leaves the Windows rules' queries as they were."""
    profile = load_profile(
        write_profile(
            tmp_path,
            {"name": "c", "exclusions": [
                {"logsources": ["aws/cloudtrail"], "field": "userIdentity.userName", "values": ["breakglass"]},
            ]},
        ),
        TARGETS,
    )
    assert profile.exclusions[0].logsources == ("aws/cloudtrail",)
    windows, seed = load_rule(WMIC_RULE), load_rule(SEED_RULE)
    assert apply_profile(windows, profile) is windows
    kql = REGISTRY.get("kql")
    assert "breakglass" in compile_one(kql, apply_profile(seed, profile), profile).query
    assert "breakglass" not in compile_one(kql, apply_profile(windows, profile), profile).query


def test_a_windows_exclusion_is_probed_on_windows_cells_and_tested_on_every_target(tmp_path: Path):
    """A Windows field, scoped to Windows rules: it loads (every Elastic and Splunk Windows cell maps it),
    lands in the Windows rule's query on each target, and the generated case with the excluded value
    set on the rule's first matching fixture matches on no target."""
    profile = load_profile(
        write_profile(
            tmp_path,
            {"name": "c", "exclusions": [
                {"logsources": ["windows/*/process_creation"], "field": "User", "values": ["CORP\\svc-inventory"]},
            ]},
        ),
        TARGETS,
    )
    rule = apply_profile(load_rule(WMIC_RULE), profile)
    assert "svc-inventory" in compile_one(REGISTRY.get("spl"), rule, profile).query
    fixtures = with_client_cases(load_fixtures(rule), rule, profile)
    generated = [c for c in fixtures.cases if c.name.startswith("client c exclusion 0: User=")]
    assert len(generated) == 1
    results = run_rule(rule, fixtures, list(REGISTRY.targets.values()), profile)
    assert [(r.target, r.case, r.actual) for r in results if r.status == "fail"] == []
    on_generated = {r.target: r.actual for r in results if r.case == generated[0].name and r.status == "pass"}
    assert set(on_generated) >= {"sigma", "kql", "lucene", "eql", "spl"}
    assert set(on_generated.values()) == {"no_match"}


@pytest.mark.parametrize(
    ("exclusion", "message"),
    [
        ({"field": "User", "values": ["x"]},
         "exclusions[0].field: kql cannot map 'User' on cloudtrail rules"),
        ({"field": "userIdentity.arn", "values": ["x"], "logsources": ["linux/*"]},
         "exclusions[0].logsources: 'linux/*' matches no logsource detc defines"),
        ({"field": "userIdentity.arn", "values": ["x"], "logsources": ["aws cloudtrail"]},
         "exclusions[0].logsources: 'aws cloudtrail' is not a logsource pattern (product/service/category)"),
        ({"field": "userIdentity.arn", "values": ["x"], "logsources": [7]},
         "exclusions[0].logsources must be a list of non-empty strings"),
        ({"field": "commandline", "values": ["x"], "logsources": ["windows/*/process_creation"]},
         "exclusions[0].field: kql cannot map 'commandline' on windows rules (field 'commandline': Windows event "
         "data names are case-sensitive, and windows.sysmon_operational events spell this field 'CommandLine': "
         "'commandline' would match no event)"),
    ],
    ids=["unscoped-windows-field", "no-such-logsource", "not-a-pattern", "not-a-list", "windows-field-wrong-case"],
)
def test_exclusion_scopes_are_checked_at_load(tmp_path: Path, exclusion: dict, message: str):
    path = write_profile(tmp_path, {"name": "c", "exclusions": [exclusion]})
    with pytest.raises(ProfileError) as info:
        load_profile(path, TARGETS)
    assert f": {message}" in str(info.value)
    if "logsources" not in exclusion:
        assert str(info.value).endswith("; without logsources: an exclusion reaches rules of every logsource")


@pytest.mark.parametrize(
    ("key", "meaning"), [("rules", "every rule"), ("logsources", "every logsource")], ids=["no-rules", "no-logsources"]
)
def test_an_empty_exclusion_scope_is_refused_at_load(tmp_path: Path, key: str, meaning: str):
    """``rules: []`` would exclude on no rule and ``logsources: []`` on every logsource, both without a word."""
    path = write_profile(tmp_path, {"name": "c", "exclusions": [
        {"field": "userIdentity.arn", "values": ["x"], "logsources": ["aws/cloudtrail"], key: []}]})
    with pytest.raises(ProfileError) as info:
        load_profile(path, TARGETS)
    assert str(info.value) == f"{path}: exclusions[0].{key} is empty: name at least one, or leave the key out ({meaning})"


SEED_ID = "f6fee40d-8a5e-4cc8-9f73-8688419c6d68"
TYPO_ID = "f6fee40d-8a5e-4cc8-9f73-8688419c6d69"


@pytest.mark.parametrize("command", ["build", "test"], ids=["build", "test"])
def test_profile_ids_no_rule_has_are_warned_about(tmp_path: Path, command: str):
    """An exclusion or override on a mistyped rule id would otherwise do nothing, without a word."""
    rules = tmp_path / "sigma"
    shutil.copytree(ROOT / "sigma" / "aws", rules)
    clients = tmp_path / "clients"
    clients.mkdir()
    write_profile(clients, {
        "name": "c", "overrides": {TYPO_ID: {"level": "high"}, SEED_ID: {"level": "high"}},
        "exclusions": [{"rules": [SEED_ID, TYPO_ID], "field": "userIdentity.arn", "values": ["x"]}],
    })
    args = [command, "--rules", str(rules), "--clients-dir", str(clients), "--client", "c"]
    result = runner.invoke(app, [*args, "--output", str(tmp_path / "out")] if command == "build" else args)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert warnings == [
        f"{clients / 'c.yml'}: warning: exclusions[0].rules: no rule the client builds has id '{TYPO_ID}': "
        "the exclusion does nothing for it",
        f"{clients / 'c.yml'}: warning: overrides.{TYPO_ID}: no rule the client builds has this id: "
        "the override does nothing",
    ]
