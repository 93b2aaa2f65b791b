"""SigmaHQ's regression rules and their real Windows events, on kql, lucene and eql.

Each supported rule must match its own samples (at least ``match_count`` events, as SigmaHQ's
``info.yml`` says), and in the cross-rule run every sample is checked against every rule of the same
logsource: kql, lucene and eql must give the reference's verdict, unless the artifact states why not. The
only such statement is KQL's case caveat, checked precisely: KQL differs from the reference only where
the Lucene query (the same field mapping, with case folding) gives the reference's verdict.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest

from backends.elastic.windows.caveats import KQL_CASE
from compiler.build import compile_one
from compiler.errors import UnsupportedFeature
from compiler.logsources import find
from compiler.profile import DEFAULT_PROFILE
from compiler.regression import load_regression
from compiler.rules import DetcRule, load_rules
from compiler.target import load_registry
from compiler.testing import CaseResult, Sample, read_samples, run_rule
from tests.support import corpus_path

REGRESSION = corpus_path() / "sigmahq-regression"
FOLDERS = ("rules", "rules-emerging-threats", "rules-threat-hunting")
TARGETS = ("kql", "lucene", "eql")
pytestmark = pytest.mark.usefixtures("corpus")

REFUSED = {
    "proc_creation_win_susp_cross_user_process_spawn.yml":
        "field reference on 'User': Elastic queries compare fields to literals only",
    "win_security_explicit_credential_local_logon.yml":
        "field reference on 'SubjectUserName': Elastic queries compare fields to literals only",
}
"""The rules of the set no Elastic target can state (the others refused on kql lack regex, '?' or edge whitespace)."""
KQL_SYNTAX = ("regular expression: KQL has no regex syntax", "single-character wildcard",
              "leading or trailing whitespace next to a wildcard")


@cache
def regression_corpus() -> tuple[tuple[DetcRule, tuple[Sample, ...]], ...]:
    out = []
    for folder in FOLDERS:
        ruleset = load_rules(REGRESSION / folder)
        out.extend((rule, tuple(read_samples(load_regression(rule)))) for rule in ruleset.rules)
    return tuple(out)


CAVEATED: dict[str, bool] = {}


def case_caveated(rule: DetcRule) -> bool:
    if rule.path not in CAVEATED:
        try:
            CAVEATED[rule.path] = KQL_CASE in compile_one(load_registry().get("kql"), rule, DEFAULT_PROFILE).caveats
        except UnsupportedFeature:
            CAVEATED[rule.path] = False
    return CAVEATED[rule.path]


def explained(result: CaseResult, lucene: CaseResult | None, reference: str, rule: DetcRule) -> bool:
    """A KQL verdict off the reference's only by letter case: the rule carries the case caveat and the
    case-folded Lucene query of the same mapping gives the reference's verdict."""
    return (
        result.target == "kql" and lucene is not None and lucene.actual == reference and case_caveated(rule)
    )


def test_each_supported_rule_matches_its_samples() -> None:
    registry = load_registry()
    targets = [registry.get(t) for t in TARGETS]
    outcomes: dict[str, int] = defaultdict(int)
    failures = []
    refused: dict[str, dict[str, str]] = {t: {} for t in TARGETS}
    for rule, samples in regression_corpus():
        results = run_rule(rule, None, targets, DEFAULT_PROFILE, samples)
        lucene = {r.case: r for r in results if r.target == "lucene"}
        for r in results:
            if r.status == "unsupported":
                refused[r.target][rule.path.rsplit("/", 1)[-1]] = r.message
            if r.status == "fail" and explained(r, lucene.get(r.case), "match", rule):
                outcomes[f"{r.target} waived"] += 1
            elif r.status == "fail":
                failures.append((r.rule_path, r.target, r.case, r.message))
            else:
                outcomes[f"{r.target} {r.status}"] += 1
    assert failures == []
    assert len(regression_corpus()) == 153
    for target in TARGETS:
        syntax = {n for n, m in refused[target].items() if m.startswith(KQL_SYNTAX)}
        assert {n: m for n, m in refused[target].items() if n not in syntax} == REFUSED
        assert len(syntax) == (9 if target == "kql" else 0)
    assert dict(outcomes) == {"kql pass": 129, "kql waived": 13, "kql unsupported": 11,
                              "lucene pass": 151, "lucene unsupported": 2, "eql pass": 151, "eql unsupported": 2}


def test_cross_rule_run_agrees_with_the_reference() -> None:
    registry = load_registry()
    targets = [registry.get(t) for t in ("sigma", *TARGETS)]
    groups: dict[str, list[tuple[DetcRule, tuple[Sample, ...]]]] = defaultdict(list)
    for rule, samples in regression_corpus():
        groups[find(rule.sigma.logsource).name].append((rule, samples))
    tally: dict[str, int] = defaultdict(int)
    disagreements = []
    for members in groups.values():
        pooled = [Sample(f"{o.id} {s.name}", s.events) for o, samples in members for s in samples]
        for rule, _ in members:
            results = run_rule(rule, None, targets, DEFAULT_PROFILE, pooled)
            reference = {r.case: r.actual for r in results if r.target == "sigma"}
            lucene = {r.case: r for r in results if r.target == "lucene"}
            for r in results:
                if r.target == "sigma" or r.actual == "unsupported":
                    continue
                if r.actual == reference[r.case]:
                    tally[f"{r.target} agree"] += 1
                elif explained(r, lucene.get(r.case), reference[r.case], rule):
                    tally[f"{r.target} case"] += 1
                else:
                    disagreements.append((rule.path, r.target, r.case, reference[r.case], r.actual))
    assert disagreements == []
    assert tally["kql case"] == 29 and tally["lucene case"] == 0 and tally["eql case"] == 0
    assert min(tally["kql agree"], tally["lucene agree"], tally["eql agree"]) > 10_000
