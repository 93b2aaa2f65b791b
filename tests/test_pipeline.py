"""Parse once, compile in parallel, rebuild only what changed: same bytes every way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler.cache import Cache
from compiler.pipeline import compile_all, load_checked, run_build
from compiler.profile import DEFAULT_PROFILE
from compiler.target import load_registry
from tests.conftest import CORPUS, ROOT

REGISTRY = load_registry()
TARGETS = list(REGISTRY.targets.values())
AWS_RULES = CORPUS / "sigmahq-aws" / "rules"
needs_corpus = pytest.mark.skipif(not AWS_RULES.is_dir(), reason="shared corpus not present")


@needs_corpus
def test_parallel_build_equals_serial_build():
    serial = run_build(AWS_RULES, REGISTRY, TARGETS, DEFAULT_PROFILE, jobs=1)
    parallel = run_build(AWS_RULES, REGISTRY, TARGETS, DEFAULT_PROFILE, jobs=2)
    assert serial.problems == () and parallel.problems == ()
    assert len(serial.results) > 32
    assert serial.files == parallel.files


@needs_corpus
def test_parallel_compile_keeps_rule_order_and_errors():
    rules = load_checked(AWS_RULES).rules
    results, errors = compile_all(rules, TARGETS, DEFAULT_PROFILE, jobs=2)
    assert [r.rule.id for r in results] == [r.id for r in rules]
    assert errors == []


def test_cache_serves_an_unchanged_build_and_invalidates_a_changed_rule(tmp_path: Path):
    rules = tmp_path / "sigma"
    shutil.copytree(ROOT / "sigma", rules)
    cache = Cache(tmp_path / "cache")
    first = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=cache)
    assert not first.cached
    again = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(tmp_path / "cache"))
    assert again.cached and again.files == first.files
    seed = next(rules.rglob("aws_kms_imported_key_material_deleted.yml"))
    seed.write_text(seed.read_text().replace("level: medium", "level: high"))
    changed = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(tmp_path / "cache"))
    assert not changed.cached and changed.files != first.files
    uncached = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(None))
    assert uncached.files == changed.files


def test_cache_invalidates_when_a_tests_file_changes(tmp_path: Path):
    rules = tmp_path / "sigma"
    shutil.copytree(ROOT / "sigma", rules)
    run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(tmp_path / "cache"))
    tests_file = next(rules.rglob("*.tests.yml"))
    tests_file.write_text(tests_file.read_text().replace("expect: no_match", "expect: nonsense", 1))
    outcome = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(tmp_path / "cache"))
    assert not outcome.cached
    assert any("'expect' must be match or no_match" in str(p) for p in outcome.problems)


def test_corrupt_cache_blob_is_a_miss_not_wrong_output(tmp_path: Path):
    rules = tmp_path / "sigma"
    shutil.copytree(ROOT / "sigma", rules)
    first = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(tmp_path / "cache"))
    for blob in (tmp_path / "cache" / "blob").rglob("*"):
        if blob.is_file():
            blob.write_bytes(b"corrupted")
    again = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(tmp_path / "cache"))
    assert not again.cached and again.files == first.files


def test_target_code_change_invalidates_compiled_entries(tmp_path: Path, monkeypatch):
    from compiler import cache as cache_module

    rules = tmp_path / "sigma"
    shutil.copytree(ROOT / "sigma", rules)
    run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=Cache(tmp_path / "cache"))
    real = cache_module.package_fingerprint

    def edited(package: str) -> str:
        return real(package) + ("-edited" if package.startswith("backends") else "")

    monkeypatch.setattr(cache_module, "package_fingerprint", edited)
    cache = Cache(tmp_path / "cache")
    outcome = run_build(rules, REGISTRY, TARGETS, DEFAULT_PROFILE, cache=cache)
    assert not outcome.cached and cache.hits == 0
