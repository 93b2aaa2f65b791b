"""The support matrix of all of SigmaHQ's rules on ``spl``, and its Windows share.

``tests/data/sigmahq_all_spl_support.json`` is ``detc build --report --rules <corpus>/sigmahq-all
--target spl --report-json``: a change in what spl supports shows here; regenerate the file
deliberately when coverage changes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from compiler.build import compile_rules
from compiler.profile import DEFAULT_PROFILE
from compiler.report import support_report
from compiler.rules import load_rules
from compiler.target import load_registry
from tests.support import DATA

EXPECTED = DATA / "sigmahq_all_spl_support.json"


def test_spl_support_matrix_of_sigmahq_and_its_windows_rules(corpus: Path) -> None:
    spl = load_registry().get("spl")
    ruleset = load_rules(corpus / "sigmahq-all")
    results, errors = compile_rules(ruleset.rules, [spl], DEFAULT_PROFILE)
    report = support_report(results, [spl], ruleset.errors, errors)
    for item in report["targets"]["spl"]["unsupported_rules"]:  # paths as the committed file holds them
        item["path"] = Path(item["path"]).resolve().relative_to((corpus / "sigmahq-all").resolve()).as_posix()
    assert report == json.loads(EXPECTED.read_text(encoding="utf-8"))
    windows = [r for r in results if r.rule.sigma.logsource.product == "windows"]
    counts = Counter("ok" if "spl" in r.compiled else "unsupported" for r in windows)
    assert len(windows) == 2872
    assert counts == {"ok": 2803, "unsupported": 69}
    assert [e for e in errors if e.target == "spl"] == []
