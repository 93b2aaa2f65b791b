"""SigmaHQ's own regression suite (153 Windows rules with real EVTX samples) on the reference target,
and a cross-rule run: every sample against every rule of the same logsource, on every target."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest
from sigma.rule import SigmaRule

from backends.sigma.sigma_evaluator import rule_predicate
from compiler.logsources import find
from compiler.profile import DEFAULT_PROFILE
from compiler.regression import load_regression
from compiler.rules import DetcRule, load_rules
from compiler.target import load_registry
from compiler.testing import Sample, read_samples, run_rule
from tests.support import corpus_path

REGRESSION = corpus_path() / "sigmahq-regression"
FOLDERS = ("rules", "rules-emerging-threats", "rules-threat-hunting")

pytestmark = pytest.mark.usefixtures("corpus")


@cache
def regression_corpus() -> tuple[tuple[DetcRule, tuple[Sample, ...]], ...]:
    out = []
    for folder in FOLDERS:
        ruleset = load_rules(REGRESSION / folder)
        assert not ruleset.errors, ruleset.errors[:3]
        out.extend((rule, tuple(read_samples(load_regression(rule)))) for rule in ruleset.rules)
    return tuple(out)


def test_every_sigmahq_regression_rule_passes_on_the_reference() -> None:
    sigma = load_registry().get("sigma")
    results = [r for rule, samples in regression_corpus() for r in run_rule(rule, None, [sigma], DEFAULT_PROFILE, samples)]
    assert len(regression_corpus()) == 153
    assert len(results) == sum(len(s) for _, s in regression_corpus()) >= 153
    failed = [(r.rule_path, r.case, r.message) for r in results if r.status != "pass"]
    assert failed == []


def test_cross_rule_run_gives_the_reference_verdicts_without_a_crash() -> None:
    """Every sample against every rule of the same logsource: the runner's verdict on ``sigma`` is the
    reference predicate's on the raw events, and no target errs."""
    registry = load_registry()
    groups: dict[str, list[tuple[DetcRule, tuple[Sample, ...]]]] = defaultdict(list)
    for rule, samples in regression_corpus():
        groups[find(rule.sigma.logsource).name].append((rule, samples))
    verdicts = {True: 0, False: 0}
    for name, members in groups.items():
        pooled = [
            Sample(f"{other.id} {sample.name}", sample.events) for other, samples in members for sample in samples
        ]
        for rule, _ in members:
            predicate = rule_predicate(SigmaRule.from_dict(dict(rule.data)))
            results = run_rule(rule, None, list(registry.targets.values()), DEFAULT_PROFILE, pooled)
            assert not [r for r in results if r.actual == "error"], (rule.path, name)
            reference = {r.case: r.actual for r in results if r.target == "sigma"}
            for sample in pooled:
                expected = any(predicate(event) for event in sample.events)
                assert reference[sample.name] == ("match" if expected else "no_match"), (rule.path, sample.name)
                verdicts[expected] += 1
    assert len(groups) >= 10
    assert verdicts[True] >= 153 and verdicts[False] > verdicts[True]  # own samples match, most others do not
