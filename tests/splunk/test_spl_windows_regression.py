"""SigmaHQ's regression rules and their real Windows events (EVTX), on ``spl``.

``sigmahq-regression`` in the corpus: 153 rules, each with an ``info.yml`` naming its EVTX sample and
``match_count``, the least number of the sample's events the rule must match. Every rule must
match its samples on ``spl``, and every sample run against every rule of its logsource must give
the reference's verdict.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from compiler.logsources import find
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import DetcRule
from compiler.target import load_registry
from compiler.testing import Sample, run_rule
from tests.support import sigmahq_regression

pytestmark = pytest.mark.usefixtures("corpus")


def test_spl_windows_every_rule_matches_its_samples() -> None:
    spl = load_registry().get("spl")
    results = [r for rule, samples in sigmahq_regression() for r in run_rule(rule, None, [spl], DEFAULT_PROFILE, samples)]
    assert len(sigmahq_regression()) == 153
    failed = [(r.rule_path, r.case, r.actual, r.message) for r in results if r.status != "pass"]
    assert failed == []


def test_spl_windows_cross_rule_verdicts_are_the_reference_verdicts() -> None:
    """Every sample against every rule of the same logsource: spl's verdict is the reference's."""
    registry = load_registry()
    targets = [registry.get("sigma"), registry.get("spl")]
    groups: dict[str, list[tuple[DetcRule, tuple[Sample, ...]]]] = defaultdict(list)
    for rule, samples in sigmahq_regression():
        groups[find(rule.sigma.logsource).name].append((rule, samples))
    compared, differences = 0, []  # every rule compiles, so every pair is compared
    for members in groups.values():
        pooled = [Sample(f"{other.id} {sample.name}", sample.events) for other, samples in members for sample in samples]
        for rule, _ in members:
            results = run_rule(rule, None, targets, DEFAULT_PROFILE, pooled)
            reference = {r.case: r.actual for r in results if r.target == "sigma"}
            for result in results:
                if result.target == "spl":
                    compared += 1
                    if result.actual != reference[result.case]:
                        differences.append((rule.path, result.case, reference[result.case], result.actual))
    assert compared > 1_000
    assert differences == []
