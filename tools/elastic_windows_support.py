#!/usr/bin/env python3
"""Write the support matrix of SigmaHQ's Windows rules on the Elastic targets (kql, lucene).

Usage: tools/elastic_windows_support.py SIGMAHQ_ALL OUT.json

Every rule of the corpus whose logsource is ``product: windows`` is compiled for ``kql`` and
``lucene`` as ``detc build`` does; the file records, per target, the rules that compile, those that are
unsupported (reasons grouped and counted, quoted values elided as the build report does) and per rule
its status, so that tests/test_elastic_windows_support.py can check any rule against it. Regenerate it
deliberately when coverage changes.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compiler.build import compile_rules  # noqa: E402
from compiler.profile import DEFAULT_PROFILE  # noqa: E402
from compiler.rules import load_rules  # noqa: E402
from compiler.target import load_registry  # noqa: E402

TARGETS = ("kql", "lucene")


def grouped(reason: str) -> str:
    """A reason with its quoted values elided, so that rules refused for one cause count together."""
    return re.sub(r"'[^']*'", "'…'", reason)


def matrix(corpus: Path) -> dict:
    registry = load_registry()
    ruleset = load_rules(corpus)
    rules = [r for r in ruleset.rules if r.sigma.logsource.product == "windows"]
    results, errors = compile_rules(rules, [registry.get(t) for t in TARGETS], DEFAULT_PROFILE)
    if errors:
        raise SystemExit(f"{len(errors)} errors, first: {errors[0]}")
    per_rule = {
        Path(res.rule.path).resolve().relative_to(corpus.resolve()).as_posix(): {
            t: "ok" if t in res.compiled else res.unsupported[t] for t in TARGETS
        }
        for res in results
    }
    summary = {}
    for t in TARGETS:
        reasons = Counter(grouped(v[t]) for v in per_rule.values() if v[t] != "ok")
        summary[t] = {
            "ok": sum(1 for v in per_rule.values() if v[t] == "ok"),
            "unsupported": sum(reasons.values()),
            "error": 0,
            "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        }
    return {"windows_rules": len(per_rule), "targets": summary, "rules": dict(sorted(per_rule.items()))}


def main() -> None:
    corpus, out = Path(sys.argv[1]), Path(sys.argv[2])
    data = matrix(corpus)
    out.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(data["windows_rules"], {t: (s["ok"], s["unsupported"]) for t, s in data["targets"].items()})


if __name__ == "__main__":
    main()
