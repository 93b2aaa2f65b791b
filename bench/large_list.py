"""One rule with a very long value list: ``detc build`` and ``detc test`` on it, and where the time goes.

    python3 bench/large_list.py [--values 100000] [--repeat 3] [--json bench/large_list.json]

Writes the rule (CloudTrail, ``eventName`` with ``--values`` values) and its tests file (a case that
matches, the last value, and one that does not) into a temporary folder, then runs ``detc build``
(cache off) and ``detc test`` on it, each in a fresh process, ``--repeat`` times: wall time (best
run), CPU time (user + system of the process and its build workers, best run) and peak resident
memory (largest run). Then, in one more fresh process, the CPU time of each phase per target: loading
the rule, compiling it, the build's syntax check of the query, building the test's matcher, running
the two cases, and the test's fixture coverage. Needs no corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
RULE = "aws_bench_large_value_list.yml"


def write_large_list_rule(folder: Path, values: int) -> Path:
    """One rule whose selection is a list of ``values`` event names, with two fixture cases."""
    folder.mkdir(parents=True, exist_ok=True)
    rule = {
        "title": "Large value list", "id": "5b0c3b9e-6f1d-4d7a-9c6e-2f0b8a1d4e70", "status": "test",
        "description": "A benchmark rule: one selection holding a very long value list.", "author": "detc bench",
        "date": "2026-01-01", "level": "low", "logsource": {"product": "aws", "service": "cloudtrail"},
        "detection": {"sel": {"eventName": [f"BenchEvent{i:06d}" for i in range(values)]}, "condition": "sel"},
    }
    path = folder / RULE
    path.write_text(yaml.safe_dump(rule))
    cases = {"cases": [
        {"name": "last value", "expect": "match", "event": {"eventName": f"BenchEvent{values - 1:06d}"}},
        {"name": "no value", "expect": "no_match", "event": {"eventName": "Other"}},
    ]}
    path.with_name(RULE.replace(".yml", ".tests.yml")).write_text(yaml.safe_dump(cases))
    return folder


def byte_compile() -> None:
    """Write detc's bytecode (as ``pip install`` does for every installed package, sigma-cli's
    included), so that no measured run compiles detc's sources first."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", "compiler", "backends"], cwd=ROOT, env=env, check=True)


def write_report(report: dict[str, Any], path: Path | None) -> None:
    """The figures as sorted, indented JSON on stdout, and into ``path`` when given."""
    text = json.dumps(report, indent=2, sort_keys=True)
    print(text)
    if path:
        path.write_text(text + "\n")


def measure(cmd: list[str], cwd: Path, allowed: tuple[int, ...] = (0,)) -> dict[str, float]:
    """Wall time, CPU time (the process and its waited-for children) and peak memory of one command;
    an exit code outside ``allowed`` stops the benchmark."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # detc runs from its byte-compiled modules, as installed
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a long stderr must not block the child
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) not in allowed:
            errors.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed:\n{errors.read().decode()[-4000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_kib": usage.ru_maxrss}


def phases(folder: Path) -> dict[str, Any]:
    """CPU seconds of each phase of a build and a test of the rule, per target, in this process
    (the collector paused, as ``detc build`` and ``detc test`` run)."""
    import gc

    gc.disable()
    sys.path.insert(0, str(ROOT))
    from compiler.build import parse_check
    from compiler.errors import UnsupportedFeature
    from compiler.fixtures import load_fixtures
    from compiler.profile import DEFAULT_PROFILE
    from compiler.rules import load_rule
    from compiler.target import load_registry
    from compiler.testing import rule_coverage

    clock = time.process_time
    out: dict[str, Any] = {}
    start = clock()
    rule = load_rule(folder / RULE)
    fixtures = load_fixtures(rule, folder)
    assert fixtures is not None
    out["load_s"] = clock() - start
    for target in load_registry().targets.values():
        row: dict[str, Any] = {}
        start = clock()
        try:
            compiled = target.compile(rule, DEFAULT_PROFILE)
        except UnsupportedFeature as err:
            row["compile_s"] = clock() - start
            row["unsupported"] = err.message.split(":")[0]
            out[target.name] = row
            continue
        row["compile_s"] = clock() - start
        row["query_chars"] = len(compiled.query)
        start = clock()
        parse_check(target, compiled, rule)
        row["syntax_check_s"] = clock() - start
        start = clock()
        matcher = target.evaluator(compiled.query)
        row["matcher_s"] = clock() - start
        start = clock()
        verdicts = [bool(matcher(target.shape(case.event, DEFAULT_PROFILE))) for case in fixtures.cases]
        row["cases_s"] = clock() - start
        assert verdicts == [case.expect == "match" for case in fixtures.cases], (target.name, verdicts)
        out[target.name] = row
    start = clock()
    coverage = rule_coverage(rule, [case.event for case in fixtures.cases])
    out["coverage_s"] = clock() - start
    out["coverage_leaves"] = coverage["covered"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--phases-of", type=Path, default=None, help=argparse.SUPPRESS)  # the phase run, in its own process
    args = parser.parse_args()
    if args.phases_of:
        print(json.dumps(phases(args.phases_of)))
        return
    byte_compile()
    detc = [sys.executable, "-m", "compiler"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rules = write_large_list_rule(work / "rules", args.values)
        commands = {
            "build": [*detc, "build", "--rules", str(rules), "--output", str(work / "out"), "--no-cache"],
            "test": [*detc, "test", "--rules", str(rules)],
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, cmd in commands.items():  # taking turns: a drift of the machine weighs on both
                runs[name].append(measure(cmd, work))
        report: dict[str, Any] = {"values": args.values, "repeat": args.repeat}
        for name, measured in runs.items():
            report[name] = {
                "wall_s": round(min(m["wall_s"] for m in measured), 2),
                "cpu_s": round(min(m["cpu_s"] for m in measured), 2),
                "peak_mib": round(max(m["peak_kib"] for m in measured) / 1024),
            }
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, __file__, "--phases-of", str(rules)], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True)
        report["phases_cpu_s"] = json.loads(done.stdout, parse_float=lambda text: round(float(text), 2))
    report["machine"] = {
        "python": platform.python_version(), "cpus": os.cpu_count(), "load_average": [round(x, 1) for x in os.getloadavg()],
    }
    write_report(report, args.json)


if __name__ == "__main__":
    main()
