"""The build pipeline: read each rule file once, compile for every target (in parallel, cached), emit."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from compiler.build import BuildResult, compile_one, emit_all
from compiler.cache import Cache, build_key, key, target_fingerprint
from compiler.clients import apply_profile, select_rules
from compiler.errors import DetcError, RuleLoadError, UnsupportedFeature
from compiler.fixtures import load_fixtures, orphan_tests_files
from compiler.profile import Profile
from compiler.rules import DetcRule, display_path, load_rule, rule_files
from compiler.target import (
    Compiled,
    Outcome,
    Registry,
    RuleResult,
    Target,
    load_registry,
)

SERIAL_BELOW = 32
"""Rule sets smaller than this compile in-process: a worker pool costs more than it saves."""

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Loaded:
    """Rules read and validated (with their tests files), or the problems that stop a build."""

    rules: tuple[DetcRule, ...]
    problems: tuple[DetcError, ...] = ()


def _load_one(path: Path) -> DetcRule:
    rule = load_rule(path, display_path(path))
    load_fixtures(rule)  # a broken tests file stops the build as surely as a broken rule
    return rule


def _try_load(path: Path) -> DetcRule | DetcError:
    try:
        return _load_one(path)
    except DetcError as err:
        return err


def _load_many(paths: list[Path], jobs: int) -> list[DetcRule | DetcError]:
    """Each file read and parsed once, by forked workers when there are enough of them."""
    if jobs <= 1 or len(paths) < 4 * SERIAL_BELOW or "fork" not in multiprocessing.get_all_start_methods():
        return [_try_load(p) for p in paths]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_try_load, paths, chunksize=_chunks(len(paths), jobs)))


def load_checked(root: Path, jobs: int = 1) -> Loaded:
    """Every rule below root and its tests file, with duplicate ids and orphan tests files as problems."""
    rules: list[DetcRule] = []
    problems: list[DetcError] = []
    seen: dict[str, str] = {}
    for rule in _load_many(list(rule_files(root)), jobs):
        if isinstance(rule, DetcError):
            problems.append(rule)
            continue
        if rule.id in seen:
            problems.append(RuleLoadError(f"duplicate rule id (also in {seen[rule.id]})", path=rule.path, rule_id=rule.id))
            continue
        seen[rule.id] = rule.path
        rules.append(rule)
    problems.extend(
        RuleLoadError("tests file without a rule beside it", path=display_path(p)) for p in orphan_tests_files(root)
    )
    return Loaded(tuple(rules), tuple(problems))


def _compiled_key(rule: DetcRule, target: Target, profile: Profile) -> str:
    return key("compiled", rule.path, rule.sha256, target.name, target_fingerprint(target), profile.name, profile.sha256)


def _to_json(compiled: Compiled) -> dict[str, object] | None:
    entry = {"query": compiled.query, "caveats": list(compiled.caveats), "details": dict(compiled.details)}
    try:
        if json.loads(json.dumps(entry["details"])) != entry["details"]:
            return None  # tuples or other types JSON would not give back as they were
    except (TypeError, ValueError):
        return None
    return entry


def compile_rule(rule: DetcRule, targets: Sequence[Target], profile: Profile, cache: Cache) -> tuple[RuleResult, list[DetcError]]:
    compiled: dict[str, Compiled] = {}
    unsupported: dict[str, str] = {}
    errors: list[DetcError] = []
    for target in targets:
        entry_key = _compiled_key(rule, target, profile)
        hit = cache.get_json("compiled", entry_key)
        if isinstance(hit, dict) and "reason" in hit:
            unsupported[target.name] = hit["reason"]
            continue
        if isinstance(hit, dict):
            compiled[target.name] = Compiled(
                target=target.name, query=hit["query"], caveats=tuple(hit["caveats"]), details=hit["details"]
            )
            continue
        try:
            result = compile_one(target, rule, profile)
        except UnsupportedFeature as err:
            unsupported[target.name] = err.message
            cache.put_json("compiled", entry_key, {"reason": err.message})
            continue
        except DetcError as err:
            errors.append(err)
            continue
        compiled[target.name] = result
        entry = _to_json(result)
        if entry is not None:
            cache.put_json("compiled", entry_key, entry)
    return RuleResult(rule=rule, compiled=compiled, unsupported=unsupported), errors


# Worker state: set once per process by the pool initializer (fork keeps the parent's imports).
_WORKER: dict[str, object] = {}


def _init_worker(target_names: list[str], profile: Profile, cache_root: str | None) -> None:
    registry = load_registry()
    _WORKER["targets"] = [registry.get(n) for n in target_names]
    _WORKER["profile"] = profile
    _WORKER["cache"] = Cache(Path(cache_root) if cache_root else None)


def _work(index: int) -> tuple[int, dict[str, Compiled], dict[str, str], list[DetcError]]:
    """Compile the parent's rule number ``index`` (forked workers share the parent's rules, so no
    rule is pickled either way; only the compiled queries come back)."""
    rule = _WORKER["rules"][index]  # type: ignore[index]
    result, errors = compile_rule(
        rule, _WORKER["targets"], _WORKER["profile"], _WORKER["cache"]  # type: ignore[arg-type]
    )
    return index, dict(result.compiled), dict(result.unsupported), errors


def _chunks(n: int, jobs: int) -> int:
    return max(1, min(64, n // (jobs * 4) or 1))


def compile_all(
    rules: Sequence[DetcRule], targets: Sequence[Target], profile: Profile, *,
    jobs: int = 1, cache: Cache | None = None, progress: Progress | None = None,
) -> tuple[list[RuleResult], list[DetcError]]:
    """Compile rules for targets; the result is the same, in the same order, whatever ``jobs`` is."""
    cache = cache or Cache(None)
    results: list[RuleResult] = []
    errors: list[DetcError] = []

    def collect(pairs: Iterator[tuple[RuleResult, list[DetcError]]]) -> None:
        for result, errs in pairs:
            results.append(result)
            errors.extend(errs)
            if progress:
                progress(1)

    if jobs <= 1 or len(rules) < SERIAL_BELOW or "fork" not in multiprocessing.get_all_start_methods():
        collect(compile_rule(r, targets, profile, cache) for r in rules)
    else:
        _WORKER["rules"] = list(rules)  # inherited by the forked workers
        try:
            with ProcessPoolExecutor(
                max_workers=jobs, mp_context=multiprocessing.get_context("fork"), initializer=_init_worker,
                initargs=([t.name for t in targets], profile, str(cache.root) if cache.root else None),
            ) as pool:
                collect(
                    (RuleResult(rule=rules[i], compiled=c, unsupported=u), errs)
                    for i, c, u, errs in pool.map(_work, range(len(rules)), chunksize=_chunks(len(rules), jobs))
                )
        finally:
            _WORKER.pop("rules", None)
    return results, errors


def run_build(
    root: Path, registry: Registry, targets: Sequence[Target], profile: Profile, *,
    jobs: int = 1, cache: Cache | None = None, progress: Callable[[int], Progress] | None = None,
    selection: list[str] | None = None,
) -> Outcome:
    """A whole build in memory: from the cache when nothing it depends on changed."""
    cache = cache or Cache(None)
    if selection is None and len(targets) != len(registry.targets):
        selection = [t.name for t in targets]
    whole = build_key(root, selection, profile.name, profile.sha256) if cache.root else ""
    if whole:
        files = cache.get_files(whole)
        if files is not None:
            return Outcome(files=files, cached=True)
    loaded = load_checked(root, jobs)
    if loaded.problems:
        return Outcome(files={}, problems=loaded.problems)
    rules = [apply_profile(r, profile) for r in select_rules(loaded.rules, profile)]
    step = progress(len(rules)) if progress else None
    results, errors = compile_all(rules, targets, profile, jobs=jobs, cache=cache, progress=step)
    built: BuildResult = emit_all(results, registry, targets, profile, jobs=jobs)
    problems = tuple(errors) + built.errors
    if whole and not problems:
        cache.put_files(whole, built.files)
    return Outcome(
        files=built.files, results=built.results, problems=problems,
        stats={"hits": cache.hits, "misses": cache.misses},
    )


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
