"""The build pipeline: each rule file read and parsed once, compiled for every target and cut into
its share of every artifact by forked workers, cached per rule; the parent assembles.

Per rule the cache keeps one entry (``rule`` kind), keyed on the rule's path and bytes, the
profile, the targets asked for and detc's code and libraries. Inside it, each target's
compilation and each emitter's fragment carries the fingerprint of the code that made it, so a
change to one platform's code remakes that platform's part of every rule and nothing else, and a
change to one rule remakes that rule's entry only.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.build import (
    RuleUnit,
    assemble,
    compile_one,
    emitters_for,
    make_fragment,
    plain,
    rule_manifest,
)
from compiler.cache import Cache, environment_fingerprint, file_digests, key, package_fingerprint, target_fingerprint
from compiler.clients import apply_profile, select_rules
from compiler.errors import DetcError, RuleLoadError, UnsupportedFeature
from compiler.fixtures import load_fixtures
from compiler.paths import display_path, display_paths, orphan_tests_files, rule_files, tests_path_for
from compiler.profile import Profile
from compiler.rules import load_rule
from compiler.target import Compiled, Emitter, Fragment, Outcome, Registry, RuleResult, Target

SERIAL_BELOW = 32
"""Fewer rules to make than this are made in-process: a worker pool costs more than it saves."""

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Task:
    """One rule to make: its file, bytes, and what the cache still has of it."""

    index: int
    path: Path
    display: str
    raw: bytes
    old: dict[str, Any] | None


@dataclass(frozen=True)
class Plan:
    """Per build: the code fingerprints each part of an entry must carry to be reused."""

    targets: tuple[Target, ...]
    emitters: tuple[Emitter, ...]
    profile: Profile
    target_fps: dict[str, str]
    emitter_fps: dict[str, str]

    @classmethod
    def make(cls, registry: Registry, targets: Sequence[Target], profile: Profile) -> "Plan":
        target_fps = {t.name: target_fingerprint(t) for t in targets}
        emitters = emitters_for(registry, targets)
        emitter_fps = {
            e.name: key(target_fingerprint(e), sorted((n, target_fps[n]) for n in e.targets if n in target_fps))
            for e in emitters
        }
        return cls(tuple(targets), tuple(emitters), profile, target_fps, emitter_fps)

    def fresh(self, entry: dict[str, Any], tests_sha: str | None) -> bool:
        """Whether a cached entry serves as it is: same tests file and event files, every part made
        by today's code."""
        if entry.get("tests_sha") != tests_sha:
            return False
        events = entry.get("events", {})
        if events and file_digests(events) != events:
            return False
        if not entry.get("selected", False):
            return True
        targets, fragments = entry.get("targets", {}), entry.get("fragments", {})
        return all(targets.get(n, {}).get("fp") == fp for n, fp in self.target_fps.items()) and all(
            fragments.get(n, {}).get("fp") == fp for n, fp in self.emitter_fps.items()
        )


def _compiled_json(compiled: Compiled) -> dict[str, Any]:
    compiled = plain(compiled)
    return {"query": compiled.query, "caveats": list(compiled.caveats), "details": dict(compiled.details)}


def _compiled(name: str, data: dict[str, Any]) -> Compiled:
    return Compiled(target=name, query=data["query"], caveats=tuple(data["caveats"]), details=data["details"])


def make_entry(task: Task, plan: Plan) -> tuple[dict[str, Any] | None, list[DetcError]]:
    """Load, check, select, compile and cut one rule, reusing what its old entry still holds.

    The entry is plain JSON data; it is None (and not cached) when the rule has a problem."""
    try:
        rule = load_rule(task.path, task.display, task.raw)
        fixtures = load_fixtures(rule)  # a broken tests file stops the build as surely as a broken rule
    except DetcError as err:
        return None, [err]
    tests_sha = hashlib.sha256(rule.tests_path.read_bytes()).hexdigest() if rule.tests_path else None
    events = file_digests(fixtures.event_files) if fixtures else {}
    entry: dict[str, Any] = {"id": rule.id, "tests_sha": tests_sha, "events": events, "selected": False}
    profile = plan.profile
    if not select_rules([rule], profile):
        return entry, []
    try:
        rule = apply_profile(rule, profile)
    except DetcError as err:
        return None, [err]
    old = task.old or {}
    old_targets: dict[str, Any] = old.get("targets", {})
    old_fragments: dict[str, Any] = old.get("fragments", {})
    errors: list[DetcError] = []
    compiled: dict[str, Compiled] = {}
    unsupported: dict[str, str] = {}
    targets: dict[str, Any] = {}
    for target in plan.targets:
        fp = plan.target_fps[target.name]
        hit = old_targets.get(target.name)
        if hit is not None and hit.get("fp") == fp:
            targets[target.name] = hit
            if "reason" in hit:
                unsupported[target.name] = hit["reason"]
            else:
                compiled[target.name] = _compiled(target.name, hit)
            continue
        try:
            result = compile_one(target, rule, profile)
        except UnsupportedFeature as err:
            unsupported[target.name] = err.message
            targets[target.name] = {"fp": fp, "reason": err.message}
            continue
        except DetcError as err:
            errors.append(err)
            continue
        compiled[target.name] = result
        targets[target.name] = {"fp": fp, **_compiled_json(result)}
    if errors:
        return None, errors
    result = RuleResult(rule=rule, compiled=compiled, unsupported=unsupported)
    fragments: dict[str, Any] = {}
    for emitter in plan.emitters:
        fp = plan.emitter_fps[emitter.name]
        hit = old_fragments.get(emitter.name)
        if hit is not None and hit.get("fp") == fp:  # its fingerprint covers its targets' code too
            fragments[emitter.name] = hit
            continue
        try:
            fragment = make_fragment(emitter, result, profile)
        except DetcError as err:
            errors.append(err)
            continue
        fragments[emitter.name] = {"fp": fp, "fragment": fragment.to_json() if fragment is not None else None}
    if errors:
        return None, errors
    made = {n: Fragment.from_json(f["fragment"]) for n, f in fragments.items() if f["fragment"] is not None}
    entry.update(
        selected=True, path=rule.path, targets=targets, fragments=fragments,
        manifest=rule_manifest(rule, compiled, unsupported, made, [t.name for t in plan.targets]),
        unsupported=len(unsupported),
    )
    return entry, []


def unit_from_entry(entry: dict[str, Any]) -> RuleUnit:
    fragments = {
        name: Fragment.from_json(data["fragment"]) for name, data in entry["fragments"].items() if data["fragment"] is not None
    }
    return RuleUnit(
        path=entry["path"], rule_id=entry["id"], manifest=entry["manifest"], fragments=fragments,
        unsupported=entry["unsupported"],
    )


# Worker state, inherited by forked workers: the plan and the tasks (never pickled to them).
_WORKER: dict[str, Any] = {}


def _work(position: int) -> tuple[int, str | None, list[DetcError]]:
    """One entry, sent back as the JSON text the cache stores (the parent parses it once)."""
    task: Task = _WORKER["tasks"][position]
    entry, errors = make_entry(task, _WORKER["plan"])
    return position, json.dumps(entry, sort_keys=True) if entry is not None else None, errors


def _chunks(n: int, jobs: int) -> int:
    return max(1, min(32, n // (jobs * 8) or 1))


def make_entries(
    tasks: Sequence[Task], plan: Plan, *, jobs: int = 1, progress: Progress | None = None,
) -> Iterator[tuple[int, str | None, list[DetcError]]]:
    """Each task's position, entry (as JSON text) and errors, in task order, whatever ``jobs`` is;
    yielded as they are made, so that the caller works while the workers do."""
    if jobs <= 1 or len(tasks) < SERIAL_BELOW or "fork" not in multiprocessing.get_all_start_methods():
        for position, task in enumerate(tasks):
            entry, errors = make_entry(task, plan)
            yield position, json.dumps(entry, sort_keys=True) if entry is not None else None, errors
            if progress:
                progress(1)
        return
    _WORKER.update(tasks=list(tasks), plan=plan)
    # Objects that exist before the fork are left out of the workers' garbage collections: they
    # are never garbage, and scanning them would copy every memory page they sit on.
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            for made in pool.map(_work, range(len(tasks)), chunksize=_chunks(len(tasks), jobs)):
                yield made
                if progress:
                    progress(1)
    finally:
        gc.unfreeze()
        _WORKER.clear()


def rule_key(display: str, raw: bytes, plan: Plan) -> str:
    profile = plan.profile
    return key(
        "rule", display, hashlib.sha256(raw).hexdigest(), profile.name, profile.sha256,
        sorted(plan.target_fps), environment_fingerprint(),
    )


def run_build(
    root: Path, registry: Registry, targets: Sequence[Target], profile: Profile, *,
    jobs: int = 1, cache: Cache | None = None, progress: Callable[[int], Progress] | None = None,
    whole: str = "",
) -> Outcome:
    """A whole build in memory; each rule from the cache where nothing it depends on changed.

    With ``whole`` (the build's key, ``cache.build_key``), a successful build also records the
    digest of every file it made, so that the next unchanged build can stop at comparing them."""
    cache = cache or Cache(None)
    plan = Plan.make(registry, targets, profile)
    problems: list[DetcError] = []
    tasks: list[Task] = []
    keys: list[str] = []
    tests_shas: list[str | None] = []
    paths = rule_files(root)
    for path, shown in zip(paths, display_paths(paths)):
        tests = tests_path_for(path)
        try:
            raw = path.read_bytes()
            tests_shas.append(hashlib.sha256(tests.read_bytes()).hexdigest() if tests.exists() else None)
        except OSError as err:
            problems.append(RuleLoadError(f"cannot read: {err.strerror}", path=shown))
            continue
        keys.append(rule_key(shown, raw, plan))
        tasks.append(Task(len(tasks), path, shown, raw, None))
    found = cache.get_many("rule", keys) if cache.root else {}
    entries: list[dict[str, Any] | None] = [None] * len(tasks)
    errors: list[list[DetcError]] = [[] for _ in tasks]
    pending: list[Task] = []
    for task in tasks:
        old = found.get(keys[task.index])
        if old is not None and plan.fresh(old, tests_shas[task.index]):
            entries[task.index] = old
        else:
            pending.append(Task(task.index, task.path, task.display, task.raw, old))
    step = progress(len(pending)) if progress and pending else None
    new: dict[str, str] = {}
    for position, text, errs in make_entries(pending, plan, jobs=jobs, progress=step):
        task = pending[position]
        errors[task.index] = errs
        if text is not None:
            entries[task.index] = json.loads(text)
            new[keys[task.index]] = text
    cache.put_texts("rule", new)
    # Problems in path order: rules that do not load, duplicate ids, orphan tests files; then
    # what does not compile or emit.
    load_problems: list[DetcError] = list(problems)
    later: list[DetcError] = []
    seen: dict[str, str] = {}
    units: list[RuleUnit] = []
    for task, entry, errs in zip(tasks, entries, errors):
        load_problems.extend(e for e in errs if isinstance(e, RuleLoadError))
        later.extend(e for e in errs if not isinstance(e, RuleLoadError))
        if entry is None:
            continue
        rule_id = entry["id"]
        if rule_id in seen:
            load_problems.append(
                RuleLoadError(f"duplicate rule id (also in {seen[rule_id]})", path=task.display, rule_id=rule_id)
            )
            continue
        seen[rule_id] = task.display
        if entry["selected"]:
            units.append(unit_from_entry(entry))
    load_problems.extend(
        RuleLoadError("tests file without a rule beside it", path=display_path(p)) for p in orphan_tests_files(root)
    )
    if load_problems or later:
        return Outcome(files={}, problems=tuple(load_problems or later))
    files, emit_problems = assemble(units, plan.emitters, plan.targets, profile)
    if whole and not emit_problems:
        events = {name: sha for entry in entries if entry for name, sha in entry.get("events", {}).items()}
        digests = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
        cache.put_json("build", whole, {"files": digests, "events": events})
    return Outcome(
        files=files,
        rules=len(units),
        unsupported=sum(u.unsupported for u in units),
        problems=tuple(emit_problems),
        stats={"hits": len(tasks) - len(pending), "misses": len(pending)},
    )


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
