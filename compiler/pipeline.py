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
from compiler.cache import Cache, encode, environment_fingerprint, file_digests, key, target_fingerprint
from compiler.clients import apply_profile, select_rules
from compiler.errors import DetcError, RuleLoadError, UnsupportedFeature
from compiler.fixtures import load_fixtures
from compiler.paths import Sources, read_sources
from compiler.profile import Profile
from compiler.rules import load_rule
from compiler.target import Compiled, Emitter, Fragment, Outcome, Registry, RuleResult, Target

SERIAL_BELOW = 32
"""Fewer rules to make than this are made in-process: a worker pool costs more than it saves."""

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Task:
    """One rule to make: its file, bytes, cache key, and what the cache still has of it."""

    index: int
    path: Path
    display: str
    raw: bytes
    key: str
    old: dict[str, Any] | None = None


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
        fps, fragments = entry.get("fps", {}), entry.get("fragments", {})
        return fps == self.target_fps and all(fragments.get(n, {}).get("fp") == fp for n, fp in self.emitter_fps.items())


def _compiled_json(compiled: Compiled) -> dict[str, Any]:
    compiled = plain(compiled)
    return {"query": compiled.query, "caveats": list(compiled.caveats), "details": dict(compiled.details)}


def _compiled(name: str, data: dict[str, Any]) -> Compiled:
    return Compiled(target=name, query=data["query"], caveats=tuple(data["caveats"]), details=data["details"])


def make_entry(
    task: Task, plan: Plan, old_compiled: dict[str, Any] | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[DetcError]]:
    """Load, check, select, compile and cut one rule, reusing what its old entry still holds.

    Returns the rule's entry (what the parent assembles: manifest entry and fragments), its
    compilations (what a later partial rebuild reuses), both plain JSON data, and its problems;
    the entry is None (and nothing is cached) when the rule has a problem."""
    try:
        rule = load_rule(task.path, task.display, task.raw)
        fixtures = load_fixtures(rule)  # a broken tests file stops the build as surely as a broken rule
    except DetcError as err:
        return None, None, [err]
    tests_sha = hashlib.sha256(rule.tests_path.read_bytes()).hexdigest() if rule.tests_path else None
    events = file_digests(fixtures.event_files) if fixtures else {}
    entry: dict[str, Any] = {"id": rule.id, "tests_sha": tests_sha, "events": events, "selected": False}
    profile = plan.profile
    if not select_rules([rule], profile):
        return entry, {}, []
    try:
        rule = apply_profile(rule, profile)
    except DetcError as err:
        return None, None, [err]
    old = task.old or {}
    old_compiled = old_compiled or {}
    old_fragments: dict[str, Any] = old.get("fragments", {})
    errors: list[DetcError] = []
    compiled: dict[str, Compiled] = {}
    unsupported: dict[str, str] = {}
    targets: dict[str, Any] = {}
    for target in plan.targets:
        fp = plan.target_fps[target.name]
        hit = old_compiled.get(target.name)
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
        return None, None, errors
    result = RuleResult(rule=rule, compiled=compiled, unsupported=unsupported)
    fragments: dict[str, Any] = {}
    made: dict[str, Fragment] = {}
    for emitter in plan.emitters:
        fp = plan.emitter_fps[emitter.name]
        hit = old_fragments.get(emitter.name)
        if hit is not None and hit.get("fp") == fp:  # its fingerprint covers its targets' code too
            fragments[emitter.name] = hit
            if hit["fragment"] is not None:
                made[emitter.name] = Fragment.from_json(hit["fragment"])
            continue
        try:
            fragment = make_fragment(emitter, result, profile)
        except DetcError as err:
            errors.append(err)
            continue
        fragments[emitter.name] = {"fp": fp, "fragment": fragment.to_json() if fragment is not None else None}
        if fragment is not None:
            made[emitter.name] = fragment
    if errors:
        return None, None, errors
    entry.update(
        selected=True, path=rule.path, fps=dict(plan.target_fps), fragments=fragments,
        manifest=rule_manifest(rule, compiled, unsupported, made, [t.name for t in plan.targets]),
        unsupported=len(unsupported),
    )
    return entry, targets, []


def unit_from_entry(entry: dict[str, Any]) -> RuleUnit:
    fragments = {
        name: Fragment.from_json(data["fragment"]) for name, data in entry["fragments"].items() if data["fragment"] is not None
    }
    return RuleUnit(
        path=entry["path"], rule_id=entry["id"], manifest=entry["manifest"], fragments=fragments,
        unsupported=entry["unsupported"],
    )


# Worker state, inherited by forked workers: the plan, the tasks and where the cache is (never
# pickled to them; each process opens the cache file itself).
_WORKER: dict[str, Any] = {}

Made = tuple[int, dict[str, Any] | None, list[DetcError]]


def make_batch(tasks: Sequence[Task], positions: Sequence[int], plan: Plan, cache: Cache) -> list[Made]:
    """Entries of some tasks, stored in the cache in one transaction: (position, entry, errors)."""
    wanted = [tasks[p].key for p in positions if tasks[p].old is not None]
    olds = cache.get_many("compiled", wanted) if wanted else {}
    out: list[Made] = []
    rows: dict[str, dict[str, str]] = {"rule": {}, "compiled": {}}
    for position in positions:
        task = tasks[position]
        entry, compiled, errors = make_entry(task, plan, olds.get(task.key))
        out.append((position, entry, errors))
        if entry is not None and cache.root is not None:
            rows["rule"][task.key] = encode(entry)
            rows["compiled"][task.key] = encode(compiled)
    for kind, texts in rows.items():
        cache.put_texts(kind, texts)
    return out


def _work(positions: list[int]) -> list[Made]:
    cache = _WORKER.get("cache")
    if cache is None:  # first batch in this process: a connection of its own
        cache = _WORKER["cache"] = Cache(_WORKER["cache_root"])
    return make_batch(_WORKER["tasks"], positions, _WORKER["plan"], cache)


def _batches(n: int, jobs: int) -> list[list[int]]:
    """Positions in batches: enough of them (four per worker) to keep every worker busy to the end,
    each small enough to report progress and large enough for one cache transaction to pay."""
    size = max(1, min(32, -(-n // (jobs * 4))))
    return [list(range(start, min(n, start + size))) for start in range(0, n, size)]


def make_entries(
    tasks: Sequence[Task], plan: Plan, cache: Cache, *, jobs: int = 1, progress: Progress | None = None,
) -> Iterator[Made]:
    """Each task's position, entry and errors, in task order, whatever ``jobs`` is; yielded as
    they are made, so that the caller works while the workers do. Workers store what they make
    in the cache themselves."""
    if jobs <= 1 or len(tasks) < SERIAL_BELOW or "fork" not in multiprocessing.get_all_start_methods():
        for batch in _batches(len(tasks), 1):
            yield from make_batch(tasks, batch, plan, cache)
            if progress:
                progress(len(batch))
        return
    cache.close()  # a SQLite connection must not cross a fork
    _WORKER.update(tasks=list(tasks), plan=plan, cache_root=cache.root)
    # Objects that exist before the fork are left out of the workers' garbage collections: they
    # are never garbage, and scanning them would copy every memory page they sit on.
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            for made in pool.map(_work, _batches(len(tasks), jobs)):
                yield from made
                if progress:
                    progress(len(made))
    finally:
        gc.unfreeze()
        _WORKER.clear()


def rule_key(display: str, sha256: str, plan: Plan) -> str:
    profile = plan.profile
    return key(
        "rule", display, sha256, profile.name, profile.sha256,
        sorted(plan.target_fps), environment_fingerprint(),
    )


def run_build(
    root: Path | Sources, registry: Registry, targets: Sequence[Target], profile: Profile, *,
    jobs: int = 1, cache: Cache | None = None, progress: Callable[[int], Progress] | None = None,
    whole: str = "",
) -> Outcome:
    """A whole build in memory; each rule from the cache where nothing it depends on changed.

    ``root`` is the rules folder, or its files already read. With ``whole`` (the build's key,
    ``cache.build_key``), a successful build also records the digest of every file it made, so
    that the next unchanged build can stop at comparing them."""
    sources = root if isinstance(root, Sources) else read_sources(root)
    # The parent makes no garbage cycles while it gathers and assembles, but it holds a great many
    # objects, which the collector would scan again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run_build(sources, registry, targets, profile, jobs, cache or Cache(None), progress, whole)
    finally:
        if collecting:
            gc.enable()


def _run_build(
    sources: Sources, registry: Registry, targets: Sequence[Target], profile: Profile,
    jobs: int, cache: Cache, progress: Callable[[int], Progress] | None, whole: str,
) -> Outcome:
    plan = Plan.make(registry, targets, profile)
    problems: list[DetcError] = [RuleLoadError(reason, path=shown) for shown, reason in sources.unreadable]
    tasks = [Task(i, s.path, s.display, s.raw or b"", rule_key(s.display, s.sha256, plan)) for i, s in enumerate(sources.rules)]
    tests_shas = [s.tests_sha for s in sources.rules]
    found = cache.get_many("rule", [t.key for t in tasks]) if cache.root else {}
    entries: list[dict[str, Any] | None] = [None] * len(tasks)
    errors: list[list[DetcError]] = [[] for _ in tasks]
    pending: list[Task] = []
    for task in tasks:
        old = found.get(task.key)
        if old is not None and plan.fresh(old, tests_shas[task.index]):
            entries[task.index] = old
            continue
        source = sources.rules[task.index]
        if source.raw is None:  # known by its record, not read: read it now to make it
            try:
                source = source.read()
            except OSError as err:
                problems.append(RuleLoadError(f"cannot read: {err.strerror}", path=source.display))
                continue
            if source.sha256 != sources.rules[task.index].sha256:
                old = None  # changed since it was recorded: its entry is another rule's
        pending.append(
            Task(task.index, task.path, task.display, source.raw or b"", rule_key(task.display, source.sha256, plan), old)
        )
    step = progress(len(pending)) if progress and pending else None
    made: dict[int, RuleUnit] = {}  # units made as the entries arrive, while the workers go on
    for position, entry, errs in make_entries(pending, plan, cache, jobs=jobs, progress=step):
        task = pending[position]
        errors[task.index] = errs
        entries[task.index] = entry
        if entry is not None and entry["selected"]:
            made[task.index] = unit_from_entry(entry)
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
            units.append(made.get(task.index) or unit_from_entry(entry))
    load_problems.extend(RuleLoadError("tests file without a rule beside it", path=p) for p in sources.orphans)
    if load_problems or later:
        return Outcome(files={}, problems=tuple(load_problems or later))
    files, digests, emit_problems = assemble(units, plan.emitters, plan.targets, profile)
    if whole and not emit_problems:
        events = {name: sha for entry in entries if entry for name, sha in entry.get("events", {}).items()}
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
