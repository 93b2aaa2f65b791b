"""SigmaHQ's regression rules and their real Windows events, on the Splunk Windows cell.

``../shared/corpus/sigmahq-regression``: 153 rules, each with an ``info.yml`` naming its EVTX sample
and ``match_count``, the least number of the sample's events the rule must match; the sample's
evtx_dump JSON lies beside it. Every supported rule must match its samples, and every sample run
against every rule of its logsource must give the reference's verdict.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from backends.splunk.evaluator import compile_search
from backends.splunk import windows
from backends.splunk.target import SplTarget
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import DetcRule, load_rule
from tests.conftest import CORPUS

REGRESSION = CORPUS / "sigmahq-regression"
needs_corpus = pytest.mark.skipif(not REGRESSION.is_dir(), reason="shared corpus not present")

SPL = SplTarget()

UNSUPPORTED = {
    "win_security_explicit_credential_local_logon.yml":
        "ORing FieldRef matching is not yet supported by Splunk backend",
    "proc_creation_win_susp_cross_user_process_spawn.yml":
        "ORing FieldRef matching is not yet supported by Splunk backend",
}
"""Rules the cell refuses, with the reason's text (a field reference under OR)."""


def read_events(path: Path) -> list[dict[str, Any]]:
    """Events written back to back as JSON objects (how SigmaHQ's samples are stored)."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    events, at = [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return events
        event, at = decoder.raw_decode(text, at)
        events.append(event)


def _rules() -> list[tuple[Path, DetcRule, list[tuple[Path, int]]]]:
    out = []
    for path in sorted(REGRESSION.glob("rules*/**/*.yml")) if REGRESSION.is_dir() else []:
        info = REGRESSION / yaml.safe_load(path.read_text(encoding="utf-8"))["regression_tests_path"]
        tests = yaml.safe_load(info.read_text(encoding="utf-8"))["regression_tests_info"]
        samples = [(REGRESSION / Path(t["path"]).with_suffix(".json"), int(t.get("match_count", 1))) for t in tests]
        out.append((path, load_rule(path), samples))
    return out


RULES = _rules()


@needs_corpus
def test_spl_windows_regression_corpus_size():
    assert len(RULES) == 153


@needs_corpus
@pytest.mark.parametrize(("path", "rule", "samples"), RULES, ids=[r[0].name for r in RULES])
def test_spl_windows_rule_matches_its_samples(path, rule, samples):
    try:
        query = SPL.compile_in(windows, rule, DEFAULT_PROFILE).query
    except UnsupportedFeature as err:
        assert UNSUPPORTED.get(path.name) and UNSUPPORTED[path.name] in str(err)
        return
    assert path.name not in UNSUPPORTED
    matches = compile_search(query)
    for sample, least in samples:
        events = read_events(sample)
        assert sum(matches(SPL.shape_in(windows, e, DEFAULT_PROFILE)) for e in events) >= least, query


def _reference_reads_windows() -> bool:
    try:
        from compiler.logsources import FAMILIES  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return False
    return "windows" in FAMILIES


@needs_corpus
@pytest.mark.skipif(
    not _reference_reads_windows(),
    reason="the reference evaluates Windows events once the logsource layer has its windows family",
)
def test_spl_windows_cross_rule_verdicts_agree_with_the_reference():
    from compiler.target import load_registry

    reference = load_registry().get("sigma")
    by_logsource: dict[tuple[str | None, str | None], list[dict[str, Any]]] = defaultdict(list)
    for _, rule, samples in RULES:
        key = (rule.sigma.logsource.category, rule.sigma.logsource.service)
        by_logsource[key].extend(e for sample, _ in samples for e in read_events(sample))
    differences, compared = [], 0
    for path, rule, _ in RULES:
        if path.name in UNSUPPORTED:
            continue
        spl = compile_search(SPL.compile(rule, DEFAULT_PROFILE).query)
        ref = reference.evaluator(reference.compile(rule, DEFAULT_PROFILE).query)
        for event in by_logsource[rule.sigma.logsource.category, rule.sigma.logsource.service]:
            compared += 1
            expected = ref(reference.shape(event, DEFAULT_PROFILE))
            if spl(SPL.shape(event, DEFAULT_PROFILE)) != expected:
                differences.append((path.name, event["Event"]["System"].get("EventRecordID"), expected))
    assert compared > 10_000
    assert differences == []
