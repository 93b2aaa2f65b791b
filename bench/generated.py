"""Generated fixtures, measured: events generated per second, generated cases run per second on every
target, and the whole-corpus ``detc test --generated`` run beside ``detc test`` on the hand-written
fixtures. Not a test: figures move with the machine.

    python3 bench/generated.py [--rules ../shared/corpus/sigmahq-aws/rules] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cli(*args: str) -> float:
    """Best of three fresh ``python -m compiler`` processes, in seconds."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "compiler", *args], cwd=ROOT, capture_output=True, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=Path, default=ROOT.parent / "shared" / "corpus" / "sigmahq-aws" / "rules")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from compiler.profile import DEFAULT_PROFILE
    from compiler.rules import load_rules
    from compiler.target import load_registry
    from compiler.testing import generated_cases, run_rule

    rules = load_rules(args.rules).rules
    registry = load_registry()
    targets = list(registry.targets.values())
    start = time.perf_counter()
    made = {r.id: generated_cases(r, 200) or () for r in rules}
    generate_s = time.perf_counter() - start
    events = sum(len(c) for c in made.values())
    start = time.perf_counter()
    results = [x for r in rules for x in run_rule(r, None, targets, DEFAULT_PROFILE, made[r.id])]
    run_s = time.perf_counter() - start
    figures = {
        "rules": len(rules),
        "generated_events": events,
        "events_generated_per_s": round(events / generate_s),
        "results": len(results),
        "results_per_s_all_targets": round(len(results) / run_s),
        "detc_test_generated_s": round(_cli("test", "--rules", str(args.rules), "--generated"), 2),
        "detc_test_fixtures_s": round(_cli("test", "--rules", str(ROOT / "sigma")), 2),
        "detc_test_fixtures_and_generated_bundled_s": round(_cli("test", "--rules", str(ROOT / "sigma"), "--generated"), 2),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
