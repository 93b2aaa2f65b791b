"""Generated fixtures, measured: events generated per CPU second, generated cases run per second on every
target, and the whole-corpus ``detc test --generated`` run beside ``detc test`` on the hand-written
fixtures. Not a test: figures move with the machine.

    python3 bench/generated.py [--rules ../shared/corpus/sigmahq-aws/rules] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cli(*args: str) -> tuple[float, float]:
    """Best of three fresh ``python -m compiler`` processes: wall-clock and CPU seconds (the CPU time
    moves less when other work shares the machine)."""
    best_wall = best_cpu = float("inf")
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "compiler", *args], cwd=ROOT, capture_output=True, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    return round(best_wall, 2), round(best_cpu, 2)


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
    start = time.process_time()
    made = {r.id: generated_cases(r, 200) or () for r in rules}
    generate_s = time.process_time() - start
    events = sum(len(c) for c in made.values())
    start = time.process_time()
    results = [x for r in rules for x in run_rule(r, None, targets, DEFAULT_PROFILE, generated=made[r.id])]
    run_s = time.process_time() - start
    figures = {
        "rules": len(rules),
        "generated_events": events,
        "events_generated_per_cpu_s": round(events / generate_s),
        "results": len(results),
        "results_per_cpu_s_all_targets": round(len(results) / run_s),
        "detc_test_generated_wall_cpu_s": _cli("test", "--rules", str(args.rules), "--generated"),
        "detc_test_fixtures_bundled_wall_cpu_s": _cli("test", "--rules", str(ROOT / "sigma")),
        "detc_test_fixtures_and_generated_bundled_wall_cpu_s": _cli("test", "--rules", str(ROOT / "sigma"), "--generated"),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
