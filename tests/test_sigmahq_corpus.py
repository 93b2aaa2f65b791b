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
from tests.conftest import CORPUS, ROOT

SIGMAHQ_AWS = CORPUS / "sigmahq-aws"
EXPECTED = Path(__file__).parent / "data" / "sigmahq_aws_support.json"
pytestmark = pytest.mark.skipif(not SIGMAHQ_AWS.is_dir(), reason="shared corpus not present")


def test_every_rule_compiles_or_is_cleanly_unsupported():
    registry = load_registry()
    ruleset = load_rules(SIGMAHQ_AWS)
    results, errors = compile_rules(ruleset.rules, list(registry.targets.values()), DEFAULT_PROFILE)
    assert [str(e) for e in errors] == []
    for result in results:
        for name in registry.targets:
            assert (name in result.compiled) != (name in result.unsupported)
            if name in result.unsupported:
                reason = result.unsupported[name]
                assert reason and "\n" not in reason and "Traceback" not in reason


def test_support_matrix_matches_the_committed_numbers(tmp_path: Path):
    """A regression in any target's coverage shows here; regenerate the file deliberately when coverage improves."""
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["build", "--rules", str(SIGMAHQ_AWS), "--report", "--report-json", str(out)])
    assert result.exit_code == 0, result.output
    assert _relative(json.loads(out.read_text())) == json.loads(EXPECTED.read_text())


def _relative(report: dict) -> dict:
    """The report with rule paths relative to the corpus folder (they are shown as the cwd allows)."""
    for row in report["targets"].values():
        for item in row["unsupported_rules"]:
            item["path"] = Path(os.path.relpath(Path(item["path"]).resolve(), SIGMAHQ_AWS.resolve())).as_posix()
    return report


def _build(out: Path, seed: str) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "compiler", "build", "--rules", str(SIGMAHQ_AWS / "rules"), "--output", str(out)],
        check=True, env=env, cwd=ROOT, capture_output=True,
    )
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_corpus_builds_are_byte_identical_across_hash_seeds(tmp_path: Path):
    first = _build(tmp_path / "a", "1")
    second = _build(tmp_path / "b", "4242")
    assert first == second
    assert len(json.loads(first["manifest.json"])["rules"]) == len(list((SIGMAHQ_AWS / "rules").rglob("*.yml")))
