"""detc benchmarks, reported as ratios measured side by side in one run.

    python3 bench/run.py [--copies 55] [--events 100000] [--large-list 100000] [--json bench/results.json]
    python3 bench/run.py --only-large-list --repeat 1
    python3 bench/run.py --only sigmahq_all --only regression --json bench/results.json

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
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
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
ALL_RULES = CORPUS / "sigmahq-all"
REGRESSION_RULES = CORPUS / "sigmahq-regression" / "rules"
WINDOWS_PIPELINES = {"lucene": "ecs_windows", "splunk": "splunk_windows"}
"""sigma-cli's target and its Windows pipeline, side by side with detc's build of every target."""
SECTIONS = ("large_list", "sigmahq_aws", "generated", "evaluation", "sigmahq_all", "regression")


def run(cmd: list[str], cwd: Path, allowed: tuple[int, ...] = (0,)) -> tuple[float, int, float]:
    """Wall time, peak resident memory (KiB) and CPU seconds of one child process (and its workers)."""
    measured = measure(cmd, cwd, allowed)
    return measured["wall_s"], int(measured["peak_kib"]), measured["cpu_s"]


def side_by_side(
    commands: dict[str, tuple[list[str], Any]], cwd: Path, repeat: int, allowed: tuple[int, ...] = (0,),
) -> dict[str, tuple[float, int, float]]:
    """Best wall time, largest peak memory and least CPU time of each command, the commands taking
    turns in each round (a drift of the machine's speed then weighs on all of them alike)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[int]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, (cmd, before) in commands.items():
            if before:
                before()
            t, m, c = run(cmd, cwd, allowed)
            times[name].append(t)
            peaks[name].append(m)
            cpus[name].append(c)
    return {name: (min(times[name]), max(peaks[name]), min(cpus[name])) for name in commands}


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
            t, m, _ = measured[f"sigma_cli_{backend}"]
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
    return {"values": values, **{f"{k}_s": t for k, (t, _, _) in measured.items()},
            **{f"{k}_peak_kib": m for k, (_, m, _) in measured.items()}}


# ---------------------------------------------------------------- SigmaHQ: every rule, Windows pipelines

def rule_products(rules: Path) -> dict[str, str]:
    """Each rule file (absolute path) and its logsource product ('' when it names none)."""
    out: dict[str, str] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(rules.rglob("*.yml")):
        try:
            data = yaml.load(path.read_bytes(), Loader=loader)
        except yaml.YAMLError:
            data = None
        logsource = data.get("logsource") if isinstance(data, dict) else None
        out[str(path)] = str(logsource.get("product") or "") if isinstance(logsource, dict) else ""
    return out


def sigma_cli_skipped(stderr: str, known: Mapping[str, str]) -> dict[str, str]:
    """The rule files sigma-cli names under ``Ignored errors:`` (``--skip-unsupported``), with the reason."""
    out: dict[str, str] = {}
    listing = False
    for line in stderr.splitlines():
        if line.strip() == "Ignored errors:":
            listing = True
            continue
        path, _, reason = line.partition(": ")
        if listing and path in known:
            out[path] = reason
    return out


def sigma_cli_counts(rules: Path, products: Mapping[str, str], work: Path) -> dict[str, Any]:
    """What sigma-cli converts with each Windows pipeline: the rule files it converts and those it
    skips (with its most frequent reasons), over all rules and over the Windows ones."""
    out: dict[str, Any] = {}
    windows = {p for p, product in products.items() if product == "windows"}
    for backend, pipeline in WINDOWS_PIPELINES.items():
        done = subprocess.run(
            ["sigma", "convert", "-t", backend, "-p", pipeline, "--skip-unsupported", str(rules)],
            cwd=work, capture_output=True, text=True, check=True,
        )
        skipped = sigma_cli_skipped(done.stderr, products)
        reasons: dict[str, int] = {}
        for reason in skipped.values():
            short = re.sub(r"placeholder '[^']*'", "placeholder", reason.split(" in /", 1)[0]).strip()
            reasons[short] = reasons.get(short, 0) + 1
        out[f"sigma_cli_{backend}"] = {
            "rules": len(products), "converted": len(products) - len(skipped), "skipped": len(skipped),
            "windows_rules": len(windows), "windows_converted": len(windows - set(skipped)),
            "skipped_reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:6]),
        }
    return out


def detc_counts(manifest_path: Path, products: Mapping[str, str], cwd: Path) -> dict[str, Any]:
    """Per target, the rules detc's build compiled (``ok``) and those it states it cannot (``unsupported``),
    over all rules and over the Windows ones, from the build's manifest."""
    manifest = json.loads(manifest_path.read_text())
    out: dict[str, Any] = {"rules": len(manifest["rules"])}
    for name in manifest["targets"]:
        counts = {"ok": 0, "unsupported": 0, "windows_ok": 0, "windows_unsupported": 0}
        for entry in manifest["rules"].values():
            status = entry["targets"][name]["status"]
            counts[status] = counts.get(status, 0) + 1
            if products.get(str((cwd / entry["source"]).resolve())) == "windows":
                counts[f"windows_{status}"] = counts.get(f"windows_{status}", 0) + 1
        out[name] = counts
    return out


def bench_sigmahq_all(work: Path, repeat: int) -> dict[str, Any]:
    """Every SigmaHQ rule (rules, emerging threats, threat hunting, compliance, placeholders) built for
    every target by detc with an empty cache (the output folder holding the same files, as in the
    other build sections), against sigma-cli converting the same files for one target with its
    Windows pipeline; then detc's no-change rebuild, the full build into an emptied output folder
    and the full build in one process."""
    rules = ALL_RULES.resolve()
    products = rule_products(rules)
    detc = [sys.executable, "-m", "compiler", "build", "--rules", str(rules)]
    out = work / "out-sigmahq-all"
    cache = work / ".detc-cache"

    fresh = work / "fresh-sigmahq-all"

    def clear() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def empty() -> None:
        clear()
        shutil.rmtree(fresh, ignore_errors=True)

    run([*detc, "--output", str(out)], work)  # the output a full build finds, and a warm file cache
    # Everything compiled (cache emptied); the output folder already holds the same files, as in the
    # other build sections (into an empty folder: the row after it).
    commands: dict[str, tuple[list[str], Any]] = {"detc_full": ([*detc, "--output", str(out)], clear)}
    sigma = shutil.which("sigma")
    if sigma:
        for backend, pipeline in WINDOWS_PIPELINES.items():
            commands[f"sigma_cli_{backend}"] = (
                [sigma, "convert", "-t", backend, "-p", pipeline, "--skip-unsupported", str(rules)], None
            )
    measured = side_by_side(commands, work, repeat)
    counts = detc_counts(out / "manifest.json", products, work)  # the output and cache of the last full build
    measured.update(side_by_side({"detc_no_change": ([*detc, "--output", str(out)], None)}, work, repeat))
    measured.update(side_by_side({"detc_fresh_output": ([*detc, "--output", str(fresh)], empty)}, work, repeat))
    measured.update(side_by_side({"detc_serial": ([*detc, "--output", str(out), "--jobs", "1"], clear)}, work, repeat))
    full, peak, cpu = measured["detc_full"]
    results: dict[str, Any] = {
        "rule_files": len(products),
        "windows_rule_files": sum(1 for p in products.values() if p == "windows"),
        "detc_full_all_targets_s": full, "detc_full_cpu_s": cpu, "detc_full_peak_kib": peak,
        "detc_full_into_empty_output_s": measured["detc_fresh_output"][0],
        "detc_full_into_empty_output_cpu_s": measured["detc_fresh_output"][2],
        "detc_full_one_process_s": measured["detc_serial"][0], "detc_full_one_process_cpu_s": measured["detc_serial"][2],
        "detc_full_one_process_peak_kib": measured["detc_serial"][1],
        "detc_no_change_rebuild_s": measured["detc_no_change"][0],
        "detc_no_change_peak_kib": measured["detc_no_change"][1],
        "no_change_speedup_vs_full": full / measured["detc_no_change"][0],
        "detc_counts": counts,
    }
    if sigma:
        for backend, pipeline in WINDOWS_PIPELINES.items():
            t, m, c = measured[f"sigma_cli_{backend}"]
            results[f"sigma_cli_{backend}_{pipeline}_s"] = t
            results[f"sigma_cli_{backend}_{pipeline}_cpu_s"] = c
            results[f"sigma_cli_{backend}_{pipeline}_peak_kib"] = m
            results[f"detc_all_targets_vs_sigma_cli_{backend}"] = full / t
            results[f"detc_all_targets_cpu_vs_sigma_cli_{backend}_cpu"] = cpu / c
        results["sigma_cli_counts"] = sigma_cli_counts(rules, products, work)
    return results


# ---------------------------------------------------------------- detc test on SigmaHQ's regression samples

def sample_events(results: list[dict[str, Any]]) -> dict[str, int]:
    """Per target, the sample events ``detc test`` ran through its evaluator (from each regression
    test's ``N of M events match`` message; a rule the target cannot express runs none)."""
    out: dict[str, int] = {}
    for result in results:
        found = SAMPLE_MESSAGE.match(str(result.get("message", "")))
        if found:
            out[result["target"]] = out.get(result["target"], 0) + int(found.group(1))
    return out


SAMPLE_MESSAGE = re.compile(r"\d+ of (\d+) events match")


def regression_evaluations(rules: Path, rounds: int = 200) -> dict[str, Any]:
    """Evaluations per second per evaluator on the regression samples: each rule's matcher built
    once and its sample events shaped beforehand (as ``bench_eval``), every rule's events run
    through its matcher ``rounds`` times (the samples hold a few events each), best of three."""
    from compiler.logsources import find
    from compiler.profile import DEFAULT_PROFILE
    from compiler.regression import load_regression
    from compiler.rules import load_rules
    from compiler.target import load_registry
    from compiler.testing import read_samples

    loaded = load_rules(rules).rules
    events = {rule.id: [e for sample in read_samples(load_regression(rule)) for e in sample.events] for rule in loaded}
    out: dict[str, Any] = {}
    for target in load_registry().targets.values():
        pairs = []
        for rule in loaded:
            try:
                matcher = target.evaluator(target.compile(rule, DEFAULT_PROFILE).query)
            except Exception:
                continue  # unsupported for this target
            logsource = find(rule.sigma.logsource)
            docs = [
                DEFAULT_PROFILE.rename_fields(target.name, target.shape(event, DEFAULT_PROFILE, logsource))
                for event in events[rule.id]
            ]
            pairs.append((matcher, docs))
        count = sum(len(docs) for _, docs in pairs)
        if not count:
            continue
        elapsed = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(rounds):
                hits = sum(1 for matcher, docs in pairs for doc in docs if matcher(doc))
            elapsed = min(elapsed, time.perf_counter() - start)
        out[target.name] = {"rules": len(pairs), "events": count, "hits": hits, "evals_per_s": count * rounds / elapsed}
    return out


def bench_regression(work: Path, repeat: int) -> dict[str, Any]:
    """``detc test`` on SigmaHQ's regression rules and their sample events: the whole run (every
    target) and each target alone, fresh processes (start-up, rule loading, compiling, shaping and
    evaluating included), with the events each target evaluated per second of that run."""
    from compiler.target import load_registry

    rules = REGRESSION_RULES.resolve()
    detc = [sys.executable, "-m", "compiler", "test", "--rules", str(rules)]
    names = list(load_registry().targets)
    commands: dict[str, tuple[list[str], Any]] = {"all": ([*detc, "--json", str(work / "regression-all.json")], None)}
    for name in names:
        commands[name] = ([*detc, "-t", name, "--json", str(work / f"regression-{name}.json")], None)
    measured = side_by_side(commands, work, repeat, allowed=(0, 1))  # exit 1: a case failed (counted below)
    everything = json.loads((work / "regression-all.json").read_text())
    statuses: dict[str, dict[str, int]] = {}
    for result in everything["results"]:
        per = statuses.setdefault(result["target"], {})
        per[result["status"]] = per.get(result["status"], 0) + 1
    events = sample_events(everything["results"])
    out: dict[str, Any] = {
        "evaluator_only": regression_evaluations(rules),
        "rules": len(list(rules.rglob("*.yml"))),
        "all_targets_s": measured["all"][0], "all_targets_cpu_s": measured["all"][2],
        "all_targets_peak_kib": measured["all"][1],
        "events_evaluated_all_targets": sum(events.values()),
        "events_per_s_all_targets": sum(events.values()) / measured["all"][0],
        "statuses": statuses,
    }
    for name in names:
        evaluated = events.get(name, 0)
        out[name] = {
            "s": measured[name][0], "cpu_s": measured[name][2], "events_evaluated": evaluated,
            "events_per_s": evaluated / measured[name][0],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=55, help="variants per SigmaHQ AWS rule (55 x 57 = 3,135)")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--large-list", type=int, default=100_000, help="values of the large-list rule (0: skip)")
    parser.add_argument("--only-large-list", action="store_true", help="run the large-list case alone")
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, default=None,
        help="measure these sections alone (repeatable); with --json, the file's other sections are kept",
    )
    args = parser.parse_args()
    sections = set(args.only or (["large_list"] if args.only_large_list else SECTIONS))
    if not args.large_list:
        sections.discard("large_list")
    rng = random.Random(20261129)
    report: dict[str, Any] = {}
    if args.json and args.only and args.json.exists():
        report = json.loads(args.json.read_text())  # the sections not measured now stay as they were
    report["machine"] = {
        "python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }
    byte_compile()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "large_list" in sections:
            report["large_list"] = bench_large_list(work, args.large_list, args.repeat)
        if "sigmahq_aws" in sections:
            report["sigmahq_aws"] = bench_build(AWS_RULES, work, args.repeat, "aws")
        if "generated" in sections:
            generated = work / "generated"
            generate_rules(generated, args.copies)
            report["generated"] = bench_build(generated, work, args.repeat, "gen")
        if "evaluation" in sections:
            events = vary_events(load_records(), args.events, rng)
            seed = ROOT / "sigma" / "aws" / "kms" / "aws_kms_imported_key_material_deleted.yml"
            report["evaluation"] = {"events": len(events), **bench_eval(events, [seed, *sorted(AWS_RULES.rglob("*.yml"))])}
        if "sigmahq_all" in sections:
            report["sigmahq_all"] = bench_sigmahq_all(work, args.repeat)
        if "regression" in sections:
            report["regression"] = bench_regression(work, args.repeat)
    write_report(report, None if args.only_large_list and not args.only else args.json)


if __name__ == "__main__":
    main()
