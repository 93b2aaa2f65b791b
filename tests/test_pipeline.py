"""Parse once, compile in parallel, rebuild only what changed: same bytes every way."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from compiler import cache as cache_module
from compiler import fingerprint
from compiler.cache import Cache
from compiler.pipeline import SERIAL_BELOW, run_build
from compiler.profile import DEFAULT_PROFILE
from compiler.target import load_registry
from tests.support import SEED_RULE, SEED_TESTS

REGISTRY = load_registry()
TARGETS = list(REGISTRY.targets.values())


@pytest.fixture
def counted(monkeypatch):
    """Counts of compilations per target and fragments per emitter (in-process builds only)."""
    counts: Counter[str] = Counter()
    for target in TARGETS:
        real = target.compile

        def compile(rule, profile, _real=real, _name=target.name):
            counts[_name] += 1
            return _real(rule, profile)

        monkeypatch.setattr(target, "compile", compile)
    for emitter in REGISTRY.emitters:
        real_fragment = emitter.fragment

        def fragment(result, profile, _real=real_fragment, _name=emitter.name):
            counts["emit:" + _name] += 1
            return _real(result, profile)

        monkeypatch.setattr(emitter, "fragment", fragment)
    return counts


def _many_rules(folder: Path, count: int) -> Path:
    """count variants of the seed rule (new ids, one value changed), the first with its tests."""
    folder.mkdir(parents=True)
    data = yaml.safe_load(SEED_RULE.read_text())
    for i in range(count):
        rule = dict(data, id=f"00000000-0000-4000-8000-{i:012d}", title=f"Variant {i}")
        rule["detection"] = {**data["detection"], "extra": {"eventName": f"Variant{i}"}}
        rule["detection"]["condition"] = f"({data['detection']['condition']}) or extra"
        (folder / f"rule_{i:03}.yml").write_text(yaml.safe_dump(rule, sort_keys=False))
    shutil.copy(SEED_TESTS, folder / "rule_000.tests.yml")
    return folder


def test_parallel_build_equals_serial_build(corpus: Path):
    aws_rules = corpus / "sigmahq-aws" / "rules"
    serial = run_build(aws_rules, REGISTRY, TARGETS, DEFAULT_PROFILE, jobs=1)
    parallel = run_build(aws_rules, REGISTRY, TARGETS, DEFAULT_PROFILE, jobs=2)
    assert serial.problems == () and parallel.problems == ()
    assert serial.rules > SERIAL_BELOW
    assert serial.files == parallel.files


def test_parallel_build_reports_problems_in_path_order(tmp_path: Path):
    rules = _many_rules(tmp_path / "rules", SERIAL_BELOW + 8)
    (rules / "rule_005.yml").write_text("title: [unclosed\n")
    (rules / "rule_020.yml").write_text((rules / "rule_021.yml").read_text())  # same id as 021
    (rules / "rule_030.yml").write_text("- not\n- a mapping\n")
    serial = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, jobs=1)
    parallel = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, jobs=2)
    lines = [str(p) for p in serial.problems]
    assert lines == [str(p) for p in parallel.problems]
    assert [line.split(":")[0].rsplit("/", 1)[-1] for line in lines] == ["rule_005.yml", "rule_021.yml", "rule_030.yml"]
    assert "duplicate rule id (also in" in lines[1] and "rule_020.yml" in lines[1]


def test_cache_serves_an_unchanged_build_and_remakes_only_a_changed_rule(tmp_path: Path, counted: Counter[str]):
    rules = _many_rules(tmp_path / "rules", 5)
    store = tmp_path / "cache"
    first = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    assert first.problems == () and first.stats == {"hits": 0, "misses": 5}
    assert counted["sigma"] == 5 and counted["emit:elastic"] == 5
    counted.clear()
    again = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    assert again.files == first.files and again.stats == {"hits": 5, "misses": 0}
    assert sum(counted.values()) == 0  # nothing compiled, nothing emitted
    victim = rules / "rule_003.yml"
    victim.write_text(victim.read_text().replace("level: medium", "level: high"))
    changed = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    assert changed.stats == {"hits": 4, "misses": 1}
    assert {counted[t.name] for t in TARGETS} == {1}  # one rule, once per target
    assert changed.files != first.files
    uncached = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(None))
    assert uncached.files == changed.files


def test_a_tests_file_change_rechecks_the_fixtures_but_compiles_nothing(tmp_path: Path, counted: Counter[str]):
    rules = _many_rules(tmp_path / "rules", 2)
    store = tmp_path / "cache"
    run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    counted.clear()
    tests_file = rules / "rule_000.tests.yml"
    tests_file.write_text(tests_file.read_text().replace("expect: no_match", "expect: nonsense", 1))
    outcome = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    assert any("'expect' must be match or no_match" in str(p) for p in outcome.problems)
    tests_file.write_text(SEED_TESTS.read_text())
    fixed = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    assert fixed.problems == ()
    assert sum(counted.values()) == 0  # the compilations and fragments were reused


def test_an_event_file_change_is_seen(tmp_path: Path):
    rules = _many_rules(tmp_path / "rules", 1)
    cases = yaml.safe_load((rules / "rule_000.tests.yml").read_text())
    (rules / "event.json").write_text('{"eventName": "X"}')
    cases["cases"][0] = {"name": "from a file", "expect": cases["cases"][0]["expect"], "event_file": "event.json"}
    (rules / "rule_000.tests.yml").write_text(yaml.safe_dump(cases, sort_keys=False))
    store = tmp_path / "cache"
    assert run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store)).problems == ()
    (rules / "event.json").write_text("not json")
    outcome = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    assert any("is not JSON" in str(p) for p in outcome.problems)


def test_a_damaged_cache_is_started_afresh(tmp_path: Path):
    rules = _many_rules(tmp_path / "rules", 2)
    store = tmp_path / "cache"
    first = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    (store / cache_module.DB_NAME).write_bytes(b"this is not a database" * 100)
    again = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    assert again.files == first.files and again.stats["misses"] == 2
    served = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    assert served.files == first.files and served.stats["hits"] == 2


def test_one_platform_code_change_remakes_that_platform_only(tmp_path: Path, monkeypatch, counted: Counter[str]):
    rules = _many_rules(tmp_path / "rules", 3)
    store = tmp_path / "cache"
    first = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    real = fingerprint.package_fingerprint

    def edited(package: str) -> str:
        return real(package) + ("-edited" if package == "backends.splunk" else "")

    monkeypatch.setattr(fingerprint, "package_fingerprint", edited)
    counted.clear()
    outcome = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    assert outcome.files == first.files and outcome.stats == {"hits": 0, "misses": 3}
    assert counted == Counter({"spl": 3, "emit:splunk": 3})


def test_a_changed_target_selection_is_its_own_build(tmp_path: Path):
    rules = _many_rules(tmp_path / "rules", 2)
    store = tmp_path / "cache"
    kql_only = run_build(rules, REGISTRY, [REGISTRY.get("kql")], DEFAULT_PROFILE, cache=Cache(store))
    every = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(store))
    assert set(every.files) > set(kql_only.files)
    assert run_build(rules, REGISTRY, [REGISTRY.get("kql")], DEFAULT_PROFILE, cache=Cache(store)).files == kql_only.files


def test_two_rules_writing_one_artifact_is_an_error(tmp_path: Path):
    rules = tmp_path / "rules"
    for folder, rule_id in (("a", "0b5ddc9e-3f5e-4c3b-9f61-2d1a8a0e4f11"), ("b", "1c6eed0f-4f6f-4d4c-8a72-3e2b9b1f5a22")):
        (rules / folder).mkdir(parents=True)
        data = yaml.safe_load(SEED_RULE.read_text())
        (rules / folder / "same.yml").write_text(yaml.safe_dump(dict(data, id=rule_id), sort_keys=False))
    outcome = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE)
    assert [str(p).split(": ", 2)[-1] for p in outcome.problems] == ["two rules write elastic/same.toml"]
    assert outcome.files == {}


def test_several_profiles_parse_each_rule_once(tmp_path: Path, monkeypatch):
    from compiler import pipeline
    from compiler.clients import load_profile
    from tests.support import ROOT

    rules = _many_rules(tmp_path / "rules", 4)
    profiles = [DEFAULT_PROFILE] + [
        load_profile(ROOT / "clients" / f"{name}.yml", REGISTRY.settings()) for name in ("acme", "globex")
    ]
    apart = [run_build(rules, REGISTRY, TARGETS, p) for p in profiles]
    loads: list[str] = []
    real = pipeline.load_rule

    def counted(path, display=None, raw=None):
        loads.append(display)
        return real(path, display, raw)

    monkeypatch.setattr(pipeline, "load_rule", counted)
    together = pipeline.run_builds(rules, REGISTRY, TARGETS, profiles, cache=Cache(tmp_path / "cache"))
    assert len(loads) == 4  # once per rule, for three profiles
    assert [o.files for o in together] == [o.files for o in apart]
    assert all(o.problems == () for o in together)
