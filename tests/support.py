"""What the tests share besides fixtures: repository paths, rule boilerplate and the corpus setting.

Tests import it as ``tests.support``; ``conftest.py`` holds the fixtures and is never imported.

Third-party corpora (SigmaHQ's rules, Elastic's pipeline test pairs, AWS's recorded EventBridge
verdicts, real CloudTrail records) are not in the repository. One setting finds them:
``DETC_CORPUS``, a folder laid out as ``tools/fetch-corpus`` writes it (default ``../shared/corpus``,
relative paths taken from the repository root). A test that needs it takes the ``corpus`` fixture,
which skips with ``CORPUS_MISSING`` when the folder is absent, and fails instead under CI (``CI=true``),
where the corpus must be present.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SEED_RULE = ROOT / "sigma" / "aws" / "kms" / "aws_kms_imported_key_material_deleted.yml"
SEED_TESTS = SEED_RULE.with_name("aws_kms_imported_key_material_deleted.tests.yml")
SEED_ELASTIC_TOML = DATA / "elastic" / "aws_kms_imported_key_material_deleted.toml"
"""Elastic's own rule that the seed rule carries over (see tests/data/SOURCES.md)."""

CORPUS_SETTING = "DETC_CORPUS"
CORPUS_DEFAULT = "../shared/corpus"
CORPUS_MISSING = (
    f"third-party corpus not found ({CORPUS_SETTING}, default {CORPUS_DEFAULT}): "
    f"run tools/fetch-corpus DIR and set {CORPUS_SETTING}=DIR"
)
PLACEHOLDER = "corpus-missing"
"""The one parameter a corpus-parametrized test gets when the corpus is absent (it then skips)."""


def corpus_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the corpus should be: ``DETC_CORPUS``, or its default, from the repository root."""
    path = Path(environ.get(CORPUS_SETTING) or CORPUS_DEFAULT).expanduser()
    return path if path.is_absolute() else ROOT / path


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("CI", "").lower() in ("true", "1", "yes")


def require_corpus(environ: Mapping[str, str] = os.environ) -> Path:
    """The corpus folder; skips the calling test when it is absent (fails it under CI)."""
    import pytest  # here, so that the benchmark can read the setting without the test extra

    path = corpus_path(environ)
    if not path.is_dir():
        if in_ci(environ):
            pytest.fail(f"CI runs every test: {CORPUS_MISSING} (looked in {path})", pytrace=False)
        pytest.skip(CORPUS_MISSING)
    return path


def corpus_ids(names: Callable[[Path], list[str]]) -> list[str]:
    """Collection-time parameters of a test over corpus cases: the case names when the corpus is
    there, else one placeholder, whose test the ``corpus`` fixture then skips (or fails under CI)."""
    path = corpus_path()
    return names(path) if path.is_dir() else [PLACEHOLDER]


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


def case_id(value: object) -> str:
    """A readable test id for one parameter value (``ids=case_id``): text as it is, a verdict as
    match/no_match, a detection without its condition line, other values as compact JSON."""
    if isinstance(value, bool):
        return "match" if value else "no_match"
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "condition" in value:
        value = {k: v for k, v in value.items() if k != "condition"}
    return json.dumps(value, separators=(",", ":"), default=str)
