"""Fixtures and Hypothesis profiles; shared names live in ``tests.support`` (this file is never imported)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, settings

from compiler.rules import DetcRule, load_rule
from tests.support import ROOT, require_corpus, rule_dict

# Hypothesis: "ci" (the default) is bounded and seeded, so the normal suite is repeatable;
# HYPOTHESIS_PROFILE=nightly searches much longer with fresh randomness.
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=60, derandomize=True, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("nightly", max_examples=3000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The third-party corpus folder (``DETC_CORPUS``); the test skips without it, and fails under CI."""
    return require_corpus()


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
