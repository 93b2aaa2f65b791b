"""SigmaHQ's real AWS CloudTrail rules: every target compiles each one or says cleanly why not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compiler.build import compile_rules
from compiler.cli import app
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rules
from compiler.target import load_registry
from tests.support import DATA, ROOT

EXPECTED = DATA / "sigmahq_aws_support.json"


@pytest.fixture(scope="module")
def sigmahq_aws(corpus: Path) -> Path:
    return corpus / "sigmahq-aws"


def test_every_rule_compiles_or_is_cleanly_unsupported(sigmahq_aws: Path):
    registry = load_registry()
    ruleset = load_rules(sigmahq_aws)
    results, errors = compile_rules(ruleset.rules, list(registry.targets.values()), DEFAULT_PROFILE)
    assert [str(e) for e in errors] == []
    for result in results:
        for name in registry.targets:
            assert (name in result.compiled) != (name in result.unsupported)
            if name in result.unsupported:
                reason = result.unsupported[name]
                assert reason and "\n" not in reason and "Traceback" not in reason


def test_support_matrix_matches_the_committed_numbers(sigmahq_aws: Path, tmp_path: Path):
    """A regression in any target's coverage shows here; regenerate the file deliberately when coverage improves."""
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["build", "--rules", str(sigmahq_aws), "--report", "--report-json", str(out)])
    assert result.exit_code == 0, result.output
    assert _relative(json.loads(out.read_text()), sigmahq_aws) == json.loads(EXPECTED.read_text())


def _relative(report: dict, root: Path) -> dict:
    """The report with rule paths relative to the corpus folder (they are shown as the cwd allows)."""
    for row in report["targets"].values():
        for item in row["unsupported_rules"]:
            item["path"] = Path(os.path.relpath(Path(item["path"]).resolve(), root.resolve())).as_posix()
    return report


def _build(rules: Path, out: Path, seed: str) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "compiler", "build", "--rules", str(rules), "--output", str(out)],
        check=True, env=env, cwd=ROOT, capture_output=True,
    )
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_corpus_builds_are_byte_identical_across_hash_seeds(sigmahq_aws: Path, tmp_path: Path):
    rules = sigmahq_aws / "rules"
    first = _build(rules, tmp_path / "a", "1")
    second = _build(rules, tmp_path / "b", "4242")
    assert first == second
    assert len(json.loads(first["manifest.json"])["rules"]) == len(list(rules.rglob("*.yml")))
