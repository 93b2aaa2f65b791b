"""Every bundled rule's fixtures on ``spl``, and ``spl`` against the Sigma reference on real records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backends.sigma.target import SigmaTarget
from backends.splunk import CELLS
from backends.splunk.target import SplTarget
from compiler.errors import DetcError
from compiler.fixtures import load_fixtures
from compiler.logsources import require
from compiler.paths import rule_files
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rule
from compiler.testing import run_rule
from tests.support import ROOT, SEED_RULE

SPL = SplTarget()
REFERENCE = SigmaTarget()
RULES = rule_files(ROOT / "sigma")


@pytest.mark.parametrize("path", RULES, ids=[p.stem for p in RULES])
def test_bundled_fixtures_pass_on_spl(path: Path):
    """Every case passes, or (only for a logsource without a Splunk cell) is unsupported."""
    rule = load_rule(path)
    results = run_rule(rule, load_fixtures(rule), [SPL], DEFAULT_PROFILE)
    assert results
    accepted = {"pass", "waived"} if require(rule.sigma.logsource).family.name in CELLS else {"unsupported"}
    failures = [(r.case, r.expected, r.actual, r.message) for r in results if r.status not in accepted]
    assert failures == []


def _records(corpus: Path) -> list[dict[str, Any]]:
    """Real CloudTrail records: AWS's documented examples, Stratus Red Team detonations, trailscraper."""
    records: list[dict[str, Any]] = []
    for folder in ("aws-docs-cloudtrail-user-guide", "aws-docs-kms", "stratus-red-team", "trailscraper"):
        for file in sorted((corpus / "cloudtrail" / folder).glob("*.json")):
            data = json.loads(file.read_text())
            if isinstance(data, dict):
                data = data.get("Records", [data])
            records.extend(r for r in data if isinstance(r, dict))
    return records


def test_spl_agrees_with_the_reference_on_sigmahq_rules_and_real_records(corpus: Path):
    records = _records(corpus)
    assert len(records) > 300
    shaped = [SPL.shape(r, DEFAULT_PROFILE) for r in records]
    compared = unsupported = 0
    disagreements: list[tuple[str, str, bool, bool]] = []
    for path in sorted((corpus / "sigmahq-aws" / "rules" / "cloud" / "aws").rglob("*.yml")):
        rule = load_rule(path)
        try:
            compiled = SPL.compile(rule, DEFAULT_PROFILE)
        except DetcError:
            unsupported += 1
            continue
        spl = SPL.evaluator(compiled.query)
        reference = REFERENCE.evaluator(REFERENCE.compile(rule, DEFAULT_PROFILE).query)
        for record, doc in zip(records, shaped, strict=True):
            expected, actual = reference(record), spl(doc)
            if expected != actual:
                disagreements.append((path.name, str(record.get("eventName")), expected, actual))
        compared += 1
    assert compared >= 50 and unsupported <= 5
    assert disagreements == []


def test_upstream_null_form_would_never_match_add_on_events():
    """Why errorCode: null is rewritten: upstream's ``NOT errorCode=*`` misses every add-on event."""
    rule = load_rule(SEED_RULE)
    ours = SPL.compile(rule, DEFAULT_PROFILE).query
    filled = 'errorCode="success" OR errorCode="null" OR (errorCode="failure" responseElements.ConsoleLogin="Failure")'
    assert filled in ours
    naive = SPL.evaluator(ours.replace(filled, "NOT errorCode=*"))
    reference = REFERENCE.evaluator(REFERENCE.compile(rule, DEFAULT_PROFILE).query)
    cases = [c for c in load_fixtures(rule).cases if c.expect == "match"]
    assert cases
    for case in cases:
        assert reference(case.event)
        assert SPL.evaluator(ours)(SPL.shape(case.event, DEFAULT_PROFILE))
        assert not naive(SPL.shape(case.event, DEFAULT_PROFILE))

