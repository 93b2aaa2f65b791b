"""The build pipeline: each rule file read and parsed once, whatever the number of targets and
client profiles; compiled for every target and cut into its share of every artifact by forked
workers; cached per rule and profile; the parent assembles each profile's build.

Per rule and profile the cache keeps one entry (``rule`` kind, with the compilations apart under
``compiled``), keyed on the rule's path and bytes, the profile, the targets asked for and detc's
code and libraries. Inside it, each target's compilation and each emitter's fragment carries the
fingerprint of the code that made it, so a change to one platform's code remakes that platform's
part of every rule and nothing else, and a change to one rule remakes that rule's entries only.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from compiler.build import (
    RuleUnit,
    assemble,
    compile_rule,
    emitters_for,
    make_unit,
    plain,
)
from compiler.cache import Cache, encode, key
from compiler.clients import apply_profile, select_rules
from compiler.errors import DetcError, RuleLoadError
from compiler.fingerprint import environment_fingerprint, events_unchanged, file_digests, target_fingerprint
from compiler.fixtures import load_fixtures
from compiler.paths import Sources, orphan_errors, read_sources
from compiler.profile import Profile
from compiler.rules import DetcRule, duplicate_id, load_rule
from compiler.target import Compiled, Emitter, Fragment, Outcome, Registry, Target
from compiler.uptodate import record_build

SERIAL_BELOW = 32
"""Fewer rules to make than this are made in-process: a worker pool costs more than it saves."""

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Task:
    """One rule to make: its file and bytes, and per profile (by its position in the build's
    plans) the cache key and what the cache still has of it; ``todo``: the profiles to make."""

    index: int
    path: Path
    display: str
    raw: bytes
    keys: tuple[str, ...]
    olds: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    todo: tuple[int, ...] = ()
    root: Path | None = None
    """The rules folder (event files must be inside it)."""


@dataclass(frozen=True)
class Plan:
    """Per profile: the code fingerprints each part of an entry must carry to be reused."""

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
        if not events_unchanged(entry.get("events", {})):
            return False
        if not entry.get("selected", False):
            return True
        fps, fragments = entry.get("fps", {}), entry.get("fragments", {})
        return fps == self.target_fps and all(fragments.get(n, {}).get("fp") == fp for n, fp in self.emitter_fps.items())

    def key(self, display: str, sha256: str) -> str:
        profile = self.profile
        return key(
            "rule", display, sha256, profile.name, profile.sha256, sorted(self.target_fps), environment_fingerprint()
        )


def _compiled_json(compiled: Compiled) -> dict[str, Any]:
    compiled = plain(compiled)
    return {
        "query": compiled.query, "caveats": list(compiled.caveats), "details": dict(compiled.details),
        "deployment": dict(compiled.deployment),
    }


def _compiled(name: str, data: dict[str, Any]) -> Compiled:
    return Compiled(
        target=name, query=data["query"], caveats=tuple(data["caveats"]), details=data["details"],
        deployment=data["deployment"],
    )


@dataclass(frozen=True)
class Loaded:
    """A rule read and checked once, for every profile of the build."""

    rule: DetcRule
    tests_sha: str | None
    events: dict[str, str | None]


def load(task: Task) -> Loaded:
    """Parse the rule and check its tests file (a broken tests file stops the build as surely as
    a broken rule); DetcError when either is bad."""
    rule = load_rule(task.path, task.display, task.raw)
    fixtures = load_fixtures(rule, task.root)
    tests_sha = hashlib.sha256(rule.tests_path.read_bytes()).hexdigest() if rule.tests_path else None
    return Loaded(rule, tests_sha, file_digests(fixtures.event_files) if fixtures else {})


def make_entry(
    loaded: Loaded, plan: Plan, old: dict[str, Any] | None = None, old_compiled: dict[str, Any] | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[DetcError]]:
    """Select, compile and cut one loaded rule for one profile, reusing what its old entry holds.

    Returns the rule's entry (what the parent assembles: manifest entry and fragments), its
    compilations (what a later partial rebuild reuses), both plain JSON data, and its problems;
    the entry is None (and nothing is cached) when the rule has a problem."""
    rule = loaded.rule
    entry: dict[str, Any] = {"id": rule.id, "tests_sha": loaded.tests_sha, "events": loaded.events, "selected": False}
    profile = plan.profile
    if not select_rules([rule], profile):
        return entry, {}, []
    try:
        rule = apply_profile(rule, profile)
    except DetcError as err:
        return None, None, [err]
    kept_compiled: dict[str, Compiled | str] = {
        name: hit["reason"] if "reason" in hit else _compiled(name, hit)
        for name, hit in (old_compiled or {}).items()
        if hit.get("fp") == plan.target_fps.get(name)
    }
    result, errors = compile_rule(rule, plan.targets, profile, kept_compiled)
    if errors:
        return None, None, errors
    kept_fragments = {  # an emitter's fingerprint covers its targets' code too
        name: Fragment.from_json(hit["fragment"]) if hit["fragment"] is not None else None
        for name, hit in (old or {}).get("fragments", {}).items()
        if hit.get("fp") == plan.emitter_fps.get(name)
    }
    try:
        unit = make_unit(result, plan.emitters, [t.name for t in plan.targets], profile, kept_fragments)
    except DetcError as err:
        return None, None, [err]
    targets = {name: {"fp": plan.target_fps[name], "reason": reason} for name, reason in result.unsupported.items()}
    targets.update({name: {"fp": plan.target_fps[name], **_compiled_json(c)} for name, c in result.compiled.items()})
    fragments = {
        e.name: {"fp": plan.emitter_fps[e.name], "fragment": f.to_json() if (f := unit.fragments.get(e.name)) else None}
        for e in plan.emitters
    }
    entry.update(
        selected=True, path=rule.path, fps=dict(plan.target_fps), fragments=fragments,
        manifest=unit.manifest, unsupported=unit.unsupported,
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


# Worker state, inherited by forked workers: the plans, the tasks and where the cache is (never
# pickled to them; each process opens the cache file itself).
_WORKER: dict[str, Any] = {}

Made = tuple[int, dict[int, dict[str, Any]], list[tuple[int | None, DetcError]]]
"""A task's position, its entries by plan, and its problems (by plan; None: every plan's)."""


def make_batch(tasks: Sequence[Task], positions: Sequence[int], plans: Sequence[Plan], cache: Cache) -> list[Made]:
    """Entries of some tasks, stored in the cache in one transaction: each rule parsed once, then
    made for every profile that needs it."""
    wanted = [tasks[p].keys[j] for p in positions for j in tasks[p].todo if tasks[p].olds.get(j) is not None]
    olds = cache.get_many("compiled", wanted) if wanted else {}
    out: list[Made] = []
    rows: dict[str, dict[str, str]] = {"rule": {}, "compiled": {}}
    for position in positions:
        task = tasks[position]
        try:
            loaded = load(task)
        except DetcError as err:
            out.append((position, {}, [(None, err)]))
            continue
        entries: dict[int, dict[str, Any]] = {}
        problems: list[tuple[int | None, DetcError]] = []
        for j in task.todo:
            entry, compiled, errors = make_entry(loaded, plans[j], task.olds.get(j), olds.get(task.keys[j]))
            problems.extend((j, e) for e in errors)
            if entry is None:
                continue
            entries[j] = entry
            if cache.root is not None:
                rows["rule"][task.keys[j]] = encode(entry)
                rows["compiled"][task.keys[j]] = encode(compiled)
        out.append((position, entries, problems))
    for kind, texts in rows.items():
        cache.put_texts(kind, texts)
    return out


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stops the build and says so in one line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _work(positions: list[int]) -> list[Made]:
    cache = _WORKER.get("cache")
    if cache is None:  # first batch in this process: a connection of its own
        cache = _WORKER["cache"] = Cache(_WORKER["cache_root"])
    return make_batch(_WORKER["tasks"], positions, _WORKER["plans"], cache)


def _batches(n: int, jobs: int) -> list[list[int]]:
    """Positions in batches: enough of them (four per worker) to keep every worker busy, each
    large enough for one cache transaction to pay; the last ones smaller, so that the workers
    finish together (a worker left with a large last batch keeps the others waiting)."""
    size = max(1, min(32, -(-n // (jobs * 4))))
    tail = min(size, max(4, size // 4))
    out: list[list[int]] = []
    start = 0
    while start < n:
        step = size if n - start > 2 * jobs * size else tail
        out.append(list(range(start, min(n, start + step))))
        start += step
    return out


def make_entries(
    tasks: Sequence[Task], plans: Sequence[Plan], cache: Cache, *, jobs: int = 1, progress: Progress | None = None,
) -> Iterator[Made]:
    """What each task makes, in task order, whatever ``jobs`` is; yielded as it is made, so that
    the caller works while the workers do. Workers store what they make in the cache themselves."""
    if jobs <= 1 or len(tasks) < SERIAL_BELOW or "fork" not in multiprocessing.get_all_start_methods():
        for batch in _batches(len(tasks), 1):
            yield from make_batch(tasks, batch, plans, cache)
            if progress:
                progress(len(batch))
        return
    cache.close()  # a SQLite connection must not cross a fork
    _WORKER.update(tasks=list(tasks), plans=list(plans), cache_root=cache.root)
    # Objects that exist before the fork are left out of the workers' garbage collections: they
    # are never garbage, and scanning them would copy every memory page they sit on.
    gc.freeze()
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context("fork"), initializer=_ignore_interrupts
    )
    try:
        for made in pool.map(_work, _batches(len(tasks), jobs)):
            yield from made
            if progress:
                progress(len(made))
    except BaseException:
        # Interrupted (Ctrl-C) or failed: drop the batches not started; running ones end soon.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        gc.unfreeze()
        _WORKER.clear()


def run_build(
    root: Path | Sources, registry: Registry, targets: Sequence[Target], profile: Profile, *,
    jobs: int = 1, cache: Cache | None = None, progress: Callable[[int], Progress] | None = None,
    whole: str = "",
) -> Outcome:
    """One profile's build: ``run_builds`` of one."""
    return run_builds(
        root, registry, targets, [profile], jobs=jobs, cache=cache, progress=progress,
        wholes={profile.name: whole} if whole else None,
    )[0]


def run_builds(
    root: Path | Sources, registry: Registry, targets: Sequence[Target], profiles: Sequence[Profile], *,
    jobs: int = 1, cache: Cache | None = None, progress: Callable[[int], Progress] | None = None,
    wholes: dict[str, str] | None = None,
) -> list[Outcome]:
    """Whole builds in memory, one per profile, each rule parsed once for all of them and taken
    from the cache where nothing it depends on changed.

    ``root`` is the rules folder, or its files already read. With ``wholes`` (profile name to the
    build's key, ``fingerprint.build_key``), a successful build also records the digest of every file it
    made, so that the next unchanged build can stop at comparing them."""
    sources = root if isinstance(root, Sources) else read_sources(root)
    # The parent makes no garbage cycles while it gathers and assembles, but it holds a great many
    # objects, which the collector would scan again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        plans = [Plan.make(registry, targets, p) for p in profiles]
        return _run_builds(sources, plans, jobs, cache or Cache(None), progress, wholes or {})
    finally:
        if collecting:
            gc.enable()


def _run_builds(
    sources: Sources, plans: Sequence[Plan], jobs: int, cache: Cache,
    progress: Callable[[int], Progress] | None, wholes: dict[str, str],
) -> list[Outcome]:
    unreadable = [RuleLoadError(reason, path=shown) for shown, reason in sources.unreadable]
    count = len(sources.rules)
    keys = [tuple(plan.key(s.display, s.sha256) for plan in plans) for s in sources.rules]
    found = cache.get_many("rule", [k for ks in keys for k in ks]) if cache.root else {}
    entries: list[list[dict[str, Any] | None]] = [[None] * count for _ in plans]
    problems: list[list[DetcError]] = [[] for _ in plans]
    shared: list[list[DetcError]] = [[] for _ in range(count)]  # problems of a rule in every profile
    pending: list[Task] = []
    for i, source in enumerate(sources.rules):
        olds: dict[int, dict[str, Any] | None] = {}
        for j, plan in enumerate(plans):
            old = found.get(keys[i][j])
            if old is not None and plan.fresh(old, source.tests_sha):
                entries[j][i] = old
            else:
                olds[j] = old
        if not olds:
            continue
        if source.raw is None:  # known by its record, not read: read it now to make it
            try:
                source = source.read()
            except OSError as err:
                shared[i].append(RuleLoadError(f"cannot read: {err.strerror}", path=source.display))
                continue
            if source.sha256 != sources.rules[i].sha256:  # changed since it was recorded
                keys[i] = tuple(plan.key(source.display, source.sha256) for plan in plans)
                olds = {j: None for j in olds}
        pending.append(
            Task(i, source.path, source.display, source.raw or b"", keys[i], olds, tuple(olds), sources.root)
        )
    step = progress(len(pending)) if progress and pending else None
    made: list[dict[int, RuleUnit]] = [{} for _ in plans]  # units made as entries arrive, while workers go on
    for position, new, errs in make_entries(pending, plans, cache, jobs=jobs, progress=step):
        i = pending[position].index
        for j, err in errs:
            (shared[i] if j is None else problems[j]).append(err)
        for j, entry in new.items():
            entries[j][i] = entry
            if entry["selected"]:
                made[j][i] = unit_from_entry(entry)
    outcomes = []
    for j, plan in enumerate(plans):
        outcome = _assemble(
            sources, plan, entries[j], made[j], unreadable, shared, problems[j], cache, wholes.get(plan.profile.name, "")
        )
        misses = sum(j in task.todo for task in pending)
        outcomes.append(replace(outcome, stats={"hits": count - misses, "misses": misses}))
    return outcomes


def _assemble(
    sources: Sources, plan: Plan, entries: Sequence[dict[str, Any] | None], made: dict[int, RuleUnit],
    unreadable: Sequence[DetcError], shared: Sequence[Sequence[DetcError]], errors: Sequence[DetcError],
    cache: Cache, whole: str,
) -> Outcome:
    """One profile's build from its entries. Problems in path order: rules that cannot be read or
    do not load, duplicate ids, orphan tests files; then what does not compile or emit."""
    load_problems: list[DetcError] = list(unreadable)
    seen: dict[str, str] = {}
    units: list[RuleUnit] = []
    for i, (source, entry) in enumerate(zip(sources.rules, entries, strict=True)):
        load_problems.extend(shared[i])
        if entry is None:
            continue
        duplicate = duplicate_id(seen, entry["id"], source.display)
        if duplicate:
            load_problems.append(duplicate)
            continue
        if entry["selected"]:
            units.append(made.get(i) or unit_from_entry(entry))
    load_problems.extend(orphan_errors(sources.orphans))
    later = [e for e in errors if not isinstance(e, RuleLoadError)]
    load_problems.extend(e for e in errors if isinstance(e, RuleLoadError))
    if load_problems or later:
        return Outcome(files={}, problems=tuple(load_problems or later))
    files, digests, emit_problems = assemble(units, plan.emitters, plan.targets, plan.profile)
    if whole and not emit_problems:
        events = {name: sha for entry in entries if entry for name, sha in entry.get("events", {}).items()}
        record_build(cache, whole, digests, events)
    return Outcome(
        files=files,
        digests=digests,
        rules=len(units),
        unsupported=sum(u.unsupported for u in units),
        unsupported_pairs=tuple(
            (u.path, u.rule_id, name, entry["reason"])
            for u in units for name, entry in u.manifest["targets"].items() if entry.get("status") == "unsupported"
        ),
        problems=tuple(emit_problems),
    )


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
