"""SigmaHQ's Windows rules on kql, lucene and eql: the committed support matrix, checked on a sample.

``tests/data/sigmahq_windows_elastic_support.json`` (written by ``tools/elastic_windows_support.py``)
holds, for each of SigmaHQ's 2,872 Windows rules, whether each Elastic target compiles it or the reason
it does not. Compiling them all takes minutes, so this test compiles every 40th rule and every rule whose
reason is rare, and requires the committed status; the summary must be the tally of the per-rule
statuses, and no rule may be an error.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from compiler.build import compile_one
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import load_rule
from compiler.target import load_registry
from tests.support import DATA, corpus_path

MATRIX = json.loads((DATA / "sigmahq_windows_elastic_support.json").read_text(encoding="utf-8"))
SIGMAHQ_ALL = corpus_path() / "sigmahq-all"
TARGETS = ("kql", "lucene", "eql")


def _grouped(reason: str) -> str:
    import re

    return re.sub(r"'[^']*'", "'…'", reason)


def _sample() -> list[str]:
    paths = sorted(MATRIX["rules"])
    rare = {
        path for path, statuses in MATRIX["rules"].items()
        for t in TARGETS
        if statuses[t] != "ok" and MATRIX["targets"][t]["reasons"][_grouped(statuses[t])] <= 2
    }
    return sorted(set(paths[::40]) | rare)


def test_summary_is_the_tally_of_the_rules() -> None:
    assert MATRIX["windows_rules"] == len(MATRIX["rules"]) == 2872
    for t in TARGETS:
        statuses = [s[t] for s in MATRIX["rules"].values()]
        reasons = Counter(_grouped(s) for s in statuses if s != "ok")
        summary = MATRIX["targets"][t]
        assert summary["ok"] == statuses.count("ok")
        assert summary["reasons"] == dict(reasons) and summary["unsupported"] == sum(reasons.values())
        assert summary["error"] == 0
    assert MATRIX["targets"]["lucene"]["ok"] >= 2_600 and MATRIX["targets"]["kql"]["ok"] >= 2_600
    assert MATRIX["targets"]["eql"]["ok"] >= 2_550


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize("path", _sample(), ids=str)
def test_sampled_rule_has_its_committed_status(path: str) -> None:
    registry = load_registry()
    rule = load_rule(SIGMAHQ_ALL / path)
    for t in TARGETS:
        try:
            compile_one(registry.get(t), rule, DEFAULT_PROFILE)
            status = "ok"
        except UnsupportedFeature as err:
            status = err.message
        assert status == MATRIX["rules"][path][t], (t, path)
