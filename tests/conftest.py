from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, settings

from compiler.rules import DetcRule, load_rule

# Hypothesis: "ci" (the default) is bounded and seeded, so the normal suite is repeatable;
# HYPOTHESIS_PROFILE=nightly searches much longer with fresh randomness.
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=60, derandomize=True, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("nightly", max_examples=3000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
SEED_RULE = ROOT / "sigma" / "aws" / "kms" / "aws_kms_imported_key_material_deleted.yml"
SEED_TESTS = SEED_RULE.with_name("aws_kms_imported_key_material_deleted.tests.yml")
CORPUS = ROOT.parent / "shared" / "corpus"


def rule_dict(detection: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A complete, valid rule around a detection."""
    return {
        "title": extra.pop("title", "Test rule"),
        "id": extra.pop("id", str(uuid.uuid4())),
        "status": "test",
        "description": "A rule written by a test.",
        "author": "detc tests",
        "date": "2026-01-01",
        "level": "medium",
        "logsource": {"product": "aws", "service": "cloudtrail"},
        "detection": detection,
        **extra,
    }


@pytest.fixture
def rule_from(tmp_path: Path):
    """Write a rule with the given detection and load it as detc does."""
    counter = iter(range(10_000))

    def make(detection: dict[str, Any], **extra: Any) -> DetcRule:
        path = tmp_path / f"rule_{next(counter)}.yml"
        path.write_text(yaml.safe_dump(rule_dict(detection, **extra), sort_keys=False))
        return load_rule(path)

    return make


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled rules."""
    target = tmp_path / "sigma"
    shutil.copytree(ROOT / "sigma", target)
    return target
