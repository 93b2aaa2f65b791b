"""Compile every rule for every target, collect artifacts and the manifest."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from sigma.exceptions import SigmaError, SigmaFeatureNotSupportedByBackendError

from compiler import __version__
from compiler.errors import CompileError, DetcError, EmitError, UnsupportedFeature
from compiler.naming import check_relative
from compiler.profile import Profile
from compiler.rules import DetcRule
from compiler.target import Artifact, Compiled, Emitter, Registry, RuleResult, Target

MANIFEST = "manifest.json"


def dumps(obj: Any) -> bytes:
    """The one JSON form detc writes: sorted keys, two-space indent, trailing newline."""
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def compile_one(target: Target, rule: DetcRule, profile: Profile) -> Compiled:
    """Compile, turning every failure into a located detc error (UnsupportedFeature or CompileError)."""
    where = {"path": rule.path, "rule_id": rule.id, "target": target.name}
    try:
        return target.compile(rule, profile)
    except DetcError as err:
        raise err.located(**where) from None
    except SigmaFeatureNotSupportedByBackendError as err:
        raise UnsupportedFeature(_first_line(err), **where) from err
    except SigmaError as err:
        raise CompileError(_first_line(err), **where) from err
    except Exception as err:  # a bug in a target must still surface as one located line
        raise CompileError(f"internal error: {type(err).__name__}: {err}", **where) from err


def _first_line(err: Exception) -> str:
    text = str(err.args[0]) if err.args else ""
    return " ".join(text.split()) or type(err).__name__


@dataclass(frozen=True)
class BuildResult:
    results: tuple[RuleResult, ...]
    files: dict[str, bytes]
    errors: tuple[DetcError, ...]


def compile_rules(
    rules: Sequence[DetcRule], targets: Sequence[Target], profile: Profile
) -> tuple[list[RuleResult], list[DetcError]]:
    results: list[RuleResult] = []
    errors: list[DetcError] = []
    for rule in rules:
        compiled: dict[str, Compiled] = {}
        unsupported: dict[str, str] = {}
        for target in targets:
            try:
                compiled[target.name] = compile_one(target, rule, profile)
            except UnsupportedFeature as err:
                unsupported[target.name] = err.message
            except DetcError as err:
                errors.append(err)
        results.append(RuleResult(rule=rule, compiled=compiled, unsupported=unsupported))
    return results, errors


def build(
    rules: Sequence[DetcRule], registry: Registry, targets: Sequence[Target], profile: Profile
) -> BuildResult:
    """Everything a build writes, as bytes in memory: nothing touches disk here."""
    results, errors = compile_rules(rules, targets, profile)
    emitted = emit_all(results, registry, targets, profile)
    return BuildResult(results=emitted.results, files=emitted.files, errors=tuple(errors) + emitted.errors)


_EMIT: dict[str, Any] = {}
"""What forked emitter workers inherit from the parent: the results, the profile, the emitters."""


def _emit_one(index: int) -> list[Artifact] | DetcError:
    emitter = _EMIT["emitters"][index]
    try:
        return emitter.emit(_EMIT["results"], _EMIT["profile"])
    except DetcError as err:
        return err


def _run_emitters(
    emitters: Sequence[Emitter], results: Sequence[RuleResult], profile: Profile, jobs: int
) -> list[list[Artifact] | DetcError]:
    """Each emitter's artifacts (or its error), in emitter order; emitters run side by side in
    forked workers when there is more than one core and enough rules to pay for it."""
    if jobs > 1 and len(emitters) > 1 and len(results) >= 200 and "fork" in multiprocessing.get_all_start_methods():
        _EMIT.update(emitters=list(emitters), results=results, profile=profile)
        try:
            with ProcessPoolExecutor(max_workers=min(jobs, len(emitters)), mp_context=multiprocessing.get_context("fork")) as pool:
                return list(pool.map(_emit_one, range(len(emitters))))
        finally:
            _EMIT.clear()
    out: list[list[Artifact] | DetcError] = []
    for emitter in emitters:
        try:
            out.append(emitter.emit(results, profile))
        except DetcError as err:
            out.append(err)
    return out


def emit_all(
    results: Sequence[RuleResult], registry: Registry, targets: Sequence[Target], profile: Profile,
    jobs: int = 1,
) -> BuildResult:
    """Run every emitter concerned by the targets over compiled results; add the manifest."""
    errors: list[DetcError] = []
    names = {t.name for t in targets}
    files: dict[str, bytes] = {}
    owners: dict[str, Artifact] = {}
    emitters = [e for e in registry.emitters if names.intersection(e.targets)]
    for emitter, emitted in zip(emitters, _run_emitters(emitters, results, profile, jobs)):
        if isinstance(emitted, DetcError):
            errors.append(emitted.located(target=emitter.name))
            continue
        for artifact in emitted:
            try:
                check_relative(artifact.path)
            except EmitError as err:
                errors.append(err.located(target=emitter.name))
                continue
            if artifact.path in files or artifact.path == MANIFEST:
                errors.append(EmitError(f"two artifacts claim {artifact.path}", target=emitter.name))
                continue
            files[artifact.path] = artifact.data
            owners[artifact.path] = artifact
    files[MANIFEST] = dumps(manifest(results, targets, owners, files, profile))
    return BuildResult(results=tuple(results), files=files, errors=tuple(errors))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(
    results: Sequence[RuleResult],
    targets: Sequence[Target],
    owners: dict[str, Artifact],
    files: dict[str, bytes],
    profile: Profile,
) -> dict[str, Any]:
    digests = {path: sha256(data) for path, data in files.items()}
    owned: dict[tuple[str, str], list[str]] = {}  # (rule id, target) -> artifact paths, in path order
    for path, art in sorted(owners.items()):
        for rule_id in dict.fromkeys(art.rules):
            for target_name in dict.fromkeys(art.targets):
                owned.setdefault((rule_id, target_name), []).append(path)
    rules: dict[str, Any] = {}
    for result in results:
        rule = result.rule
        per_target: dict[str, Any] = {}
        for target in targets:
            if target.name in result.unsupported:
                per_target[target.name] = {"status": "unsupported", "reason": result.unsupported[target.name]}
                continue
            compiled = result.compiled.get(target.name)
            if compiled is None:
                per_target[target.name] = {"status": "error"}
                continue
            artifacts = [{"path": path, "sha256": digests[path]} for path in owned.get((rule.id, target.name), [])]
            entry: dict[str, Any] = {"status": "ok", "artifacts": artifacts}
            if compiled.caveats:
                entry["caveats"] = list(compiled.caveats)
            if compiled.details:
                entry["details"] = json.loads(json.dumps(dict(compiled.details), sort_keys=True, default=str))
            per_target[target.name] = entry
        rules[rule.id] = {
            "title": rule.title,
            "source": rule.path,
            "source_sha256": rule.sha256,
            "level": rule.level,
            "targets": per_target,
        }
    return {
        "detc_version": __version__,
        "profile": profile.name,
        "targets": [t.name for t in targets],
        "rules": rules,
        "files": {path: digests[path] for path in sorted(files) if path != MANIFEST},
    }
