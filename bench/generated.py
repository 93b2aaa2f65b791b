"""Generated fixtures, measured: events generated per CPU second, generated cases run per second on every
target, and the whole-corpus ``detc test --generated`` run beside ``detc test`` on the hand-written
fixtures. Not a test: figures move with the machine.

    python3 bench/generated.py [--rules ../shared/corpus/sigmahq-aws/rules] [--json FILE]
        [--corpus-run ../shared/corpus/sigmahq-all] [--corpus-run ../shared/corpus/sigmahq-regression/rules]

``--corpus-run DIR`` (repeatable) also runs ``detc test --generated --rules DIR`` once over a whole rule
set (minutes, so once, not best of three) and records its wall-clock and CPU time, peak memory,
generated cases per second and, per target, generated cases, stated and silent differences.
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


def _corpus_run(rules: Path, out: Path) -> dict[str, object]:
    """One ``detc test --generated`` over a whole rule set, in a fresh process: its figures."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "compiler", "test", "--generated", "--rules", str(rules), "--json", str(out)],
        cwd=ROOT, capture_output=True, check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = json.loads(out.read_text())
    summary = report["summary"]
    per_target: dict[str, dict[str, int]] = {}
    for result in report["results"]:
        if result.get("origin") == "generated":
            counts = per_target.setdefault(result["target"], {"generated": 0, "stated": 0, "silent": 0})
            counts["generated"] += 1
            if result.get("difference"):
                counts[result["difference"]] += 1
    generated = summary.get("generated", {}).get("total", 0)
    return {
        "rules_with_generated_cases": len({r["rule"] for r in report["results"] if r.get("origin") == "generated"}),
        "exit_code": done.returncode,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024),
        "results": summary["total"],
        "generated_results": generated,
        "generated_results_per_wall_s": round(generated / wall),
        "generated_results_per_cpu_s": round(generated / cpu),
        "silent_differences": summary.get("generated", {}).get("silent_differences", 0),
        "stated_differences": summary.get("generated", {}).get("stated_differences", 0),
        "regression_missing": summary.get("regression_missing", 0),
        "failed": summary["fail"],
        "targets": dict(sorted(per_target.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=Path, default=ROOT.parent / "shared" / "corpus" / "sigmahq-aws" / "rules")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--corpus-run", type=Path, action="append", default=[])
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
    if args.corpus_run:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            figures["corpus_runs"] = {
                rules.resolve().relative_to(ROOT.parent.resolve()).as_posix() if rules.resolve().is_relative_to(ROOT.parent.resolve())
                else str(rules): _corpus_run(rules, Path(tmp) / "report.json")
                for rules in args.corpus_run
            }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
