"""detc benchmarks, reported as ratios measured side by side in one run.

    python3 bench/run.py [--copies 55] [--events 100000] [--large-list 100000] [--json bench/results.json]
    python3 bench/run.py --only-large-list --repeat 1

Needs the ``bench`` extra (sigma-cli) and the third-party corpus (``DETC_CORPUS``, see CONTRIBUTING.md).
Each timing is the best of --repeat runs of a fresh process, detc and sigma-cli taking turns;
peak memory is the largest maxrss of a process (or of one of its workers) over the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.large_list import (  # noqa: E402 (after the repository is on the path)
    byte_compile,
    measure,
    write_large_list_rule,
    write_report,
)
from tests.support import corpus_path  # noqa: E402

CORPUS = corpus_path()
AWS_RULES = CORPUS / "sigmahq-aws" / "rules"
RECORDS = CORPUS / "cloudtrail"


def run(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time and peak resident memory (KiB) of one child process (and its workers)."""
    measured = measure(cmd, cwd)
    return measured["wall_s"], int(measured["peak_kib"])


def side_by_side(commands: dict[str, tuple[list[str], Any]], cwd: Path, repeat: int) -> dict[str, tuple[float, int]]:
    """Best wall time and largest peak memory of each command, the commands taking turns in each
    round (a drift of the machine's speed then weighs on all of them alike)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[int]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, (cmd, before) in commands.items():
            if before:
                before()
            t, m = run(cmd, cwd)
            times[name].append(t)
            peaks[name].append(m)
    return {name: (min(times[name]), max(peaks[name])) for name in commands}


# ---------------------------------------------------------------- corpora

def _vary(node: Any, suffix: str, key: str = "") -> Any:
    """Vary string values, keeping each rule's logic: modifiers that parse values are left alone."""
    if isinstance(node, dict):
        return {k: _vary(v, suffix, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_vary(v, suffix, key) for v in node]
    if isinstance(node, str) and not any(m in key for m in ("|cidr", "|re", "|lt", "|gt", "|exists")):
        return node + suffix if not node.endswith("*") else node[:-1] + suffix + "*"
    return node


def generate_rules(target: Path, copies: int) -> int:
    """copies × the SigmaHQ AWS rules, with new ids, titles and values."""
    target.mkdir(parents=True)
    count = 0
    for path in sorted(AWS_RULES.rglob("*.yml")):
        data = yaml.safe_load(path.read_text())
        for i in range(copies):
            rule = dict(data)
            rule["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{data['id']}/{i}"))
            rule["title"] = f"{data['title']} (variant {i})"
            detection = {k: (_vary(v, f"-v{i}") if k != "condition" else v) for k, v in data["detection"].items()}
            rule["detection"] = detection if i else data["detection"]
            rule.pop("related", None)
            (target / f"{path.stem}_{i:03}.yml").write_text(yaml.safe_dump(rule, sort_keys=False))
            count += 1
    return count


def load_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted(RECORDS.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        items = data.get("Records", [data]) if isinstance(data, dict) else data
        records.extend(r for r in items if isinstance(r, dict) and "eventName" in r)
    ndjson = RECORDS / "panther-analysis" / "records.ndjson"
    if ndjson.exists():
        records.extend(json.loads(line) for line in ndjson.read_text().splitlines() if line.strip())
    return [r for r in records if "eventName" in r and "eventSource" in r]


def vary_events(records: list[dict[str, Any]], n: int, rng: random.Random) -> list[dict[str, Any]]:
    """n events: real records with ids, principals, addresses and letter case varied."""
    out = []
    for i in range(n):
        event = json.loads(json.dumps(records[i % len(records)]))
        event["eventID"] = str(uuid.UUID(int=rng.getrandbits(128)))
        event["sourceIPAddress"] = f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"
        if rng.random() < 0.1:
            event["eventName"] = event["eventName"].lower()
        if rng.random() < 0.05:
            event["errorCode"] = "AccessDenied"
        out.append(event)
    return out


# ---------------------------------------------------------------- measurements

def bench_build(rules: Path, work: Path, repeat: int, label: str) -> dict[str, Any]:
    detc = [sys.executable, "-m", "compiler", "build", "--rules", str(rules)]
    out = work / f"out-{label}"
    cache = work / ".detc-cache"
    victim = sorted(rules.rglob("*.yml"))[0]
    original = victim.read_text()

    def clear() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def clear_all() -> None:
        clear()
        shutil.rmtree(work / f"fresh-{label}", ignore_errors=True)

    def touch_one() -> None:
        victim.write_text(original + f"\n# edited {time.perf_counter_ns()}\n")

    run([*detc, "--output", str(out)], work)  # the output a rebuild finds, and a warm file cache
    sigma = shutil.which("sigma")
    commands: dict[str, tuple[list[str], Any]] = {
        # everything compiled (no cache); the output folder already holds the same files
        "detc_full": ([*detc, "--output", str(out)], clear),
    }
    if sigma:
        for backend in ("lucene", "splunk"):
            commands[f"sigma_cli_{backend}"] = (["sigma", "convert", "-t", backend, "--without-pipeline", "-s", str(rules)], None)
    measured = side_by_side(commands, work, repeat)
    measured.update(
        side_by_side(
            {
                "detc_fresh_output": ([*detc, "--output", str(work / f"fresh-{label}")], clear_all),
                "detc_serial": ([*detc, "--output", str(out), "--jobs", "1", "--no-cache"], None),
            },
            work, repeat,
        )
    )
    run([*detc, "--output", str(out)], work)  # fill the cache
    measured.update(side_by_side({"detc_no_change": ([*detc, "--output", str(out)], None)}, work, repeat))
    measured.update(side_by_side({"detc_one_changed": ([*detc, "--output", str(out)], touch_one)}, work, repeat))
    victim.write_text(original)
    full = measured["detc_full"][0]
    results: dict[str, Any] = {
        "rules": len(list(rules.rglob("*.yml"))),
        "detc_full_all_targets_s": full, "detc_full_peak_kib": measured["detc_full"][1],
        "detc_full_into_empty_output_s": measured["detc_fresh_output"][0],
        "detc_full_serial_no_cache_s": measured["detc_serial"][0],
        "detc_no_change_rebuild_s": measured["detc_no_change"][0],
        "detc_no_change_peak_kib": measured["detc_no_change"][1],
        "detc_one_rule_changed_s": measured["detc_one_changed"][0],
        "detc_one_rule_changed_peak_kib": measured["detc_one_changed"][1],
        "no_change_speedup_vs_full": full / measured["detc_no_change"][0],
        "one_changed_ratio_vs_full": measured["detc_one_changed"][0] / full,
    }
    if sigma:
        for backend in ("lucene", "splunk"):
            t, m = measured[f"sigma_cli_{backend}"]
            results[f"sigma_cli_{backend}_s"] = t
            results[f"sigma_cli_{backend}_peak_kib"] = m
            results[f"detc_all_targets_vs_sigma_cli_{backend}"] = full / t
    return results


def bench_eval(events: list[dict[str, Any]], rule_paths: list[Path]) -> dict[str, Any]:
    """Evaluations per second per evaluator: matchers compiled once, documents shaped beforehand."""
    import resource

    from compiler.errors import ShapeError
    from compiler.profile import DEFAULT_PROFILE
    from compiler.rules import load_rule
    from compiler.target import load_registry

    registry = load_registry()
    out: dict[str, Any] = {}
    for target in registry.targets.values():
        docs = []
        for event in events:
            try:
                docs.append(target.shape(event, DEFAULT_PROFILE))
            except ShapeError:  # e.g. an event type EventBridge never delivers
                continue
        out[f"{target.name}_shaped_events"] = len(docs)
        for label, paths in (("seed", rule_paths[:1]), ("corpus", rule_paths[1:])):
            matchers = []
            for path in paths:
                try:
                    matchers.append(target.evaluator(target.compile(load_rule(path), DEFAULT_PROFILE).query))
                except Exception:
                    continue  # unsupported for this target
            if not matchers:
                continue
            sample = docs if label == "seed" else docs[: max(1000, len(docs) // len(matchers))]
            elapsed = float("inf")
            for _ in range(3):  # best of three: the machine is shared
                start = time.perf_counter()
                hits = sum(m(d) for m in matchers for d in sample)
                elapsed = min(elapsed, time.perf_counter() - start)
            out[f"{target.name}_{label}_evals_per_s"] = len(matchers) * len(sample) / elapsed
            out[f"{target.name}_{label}_hits"] = hits
    out["eval_peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def bench_large_list(work: Path, values: int, repeat: int) -> dict[str, Any]:
    """A rule with one very long value list, side by side with the other measures: build and test,
    all targets and each target alone (``bench/large_list.py`` measures it alone, phase by phase)."""
    from compiler.target import load_registry

    rules = write_large_list_rule(work / "large-list", values)
    detc = [sys.executable, "-m", "compiler"]
    out = work / "out-large-list"
    commands: dict[str, tuple[list[str], Any]] = {
        "build": ([*detc, "build", "--rules", str(rules), "--output", str(out), "--no-cache"], None),
        "test": ([*detc, "test", "--rules", str(rules)], None),
    }
    for name in load_registry().targets:
        commands[f"test_{name}"] = ([*detc, "test", "--rules", str(rules), "-t", name], None)
    measured = side_by_side(commands, work, repeat)
    return {"values": values, **{f"{k}_s": t for k, (t, _) in measured.items()},
            **{f"{k}_peak_kib": m for k, (_, m) in measured.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=55, help="variants per SigmaHQ AWS rule (55 x 57 = 3,135)")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--large-list", type=int, default=100_000, help="values of the large-list rule (0: skip)")
    parser.add_argument("--only-large-list", action="store_true", help="run the large-list case alone")
    args = parser.parse_args()
    rng = random.Random(20261129)
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        }
    }
    byte_compile()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.large_list:
            report["large_list"] = bench_large_list(work, args.large_list, args.repeat)
        if args.only_large_list:
            write_report(report, None)
            return
        report["sigmahq_aws"] = bench_build(AWS_RULES, work, args.repeat, "aws")
        generated = work / "generated"
        generate_rules(generated, args.copies)
        report["generated"] = bench_build(generated, work, args.repeat, "gen")
        events = vary_events(load_records(), args.events, rng)
        seed = ROOT / "sigma" / "aws" / "kms" / "aws_kms_imported_key_material_deleted.yml"
        report["evaluation"] = {"events": len(events), **bench_eval(events, [seed, *sorted(AWS_RULES.rglob("*.yml"))])}
    write_report(report, args.json)


if __name__ == "__main__":
    main()
