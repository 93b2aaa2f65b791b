"""Compile rules for targets, cut each rule's share of the artifacts, assemble artifacts and manifest.

A build is made of ``RuleUnit``\\ s, one per rule: its compiled queries (or why a target cannot
express it) and each emitter's ``Fragment`` of it. A unit depends on its rule alone, so build
workers make units side by side and the cache keeps them; ``assemble`` then joins every unit
into the artifacts and the manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sigma.exceptions import SigmaError, SigmaFeatureNotSupportedByBackendError

from compiler import __version__
from compiler.errors import (
    CompileError,
    DetcError,
    EmitError,
    UnsupportedFeature,
    reason_of,
)
from compiler.jsonio import compact, dumps, plain_value
from compiler.naming import check_relative
from compiler.profile import Profile
from compiler.rules import DetcRule
from compiler.target import Compiled, Emitter, Fragment, Registry, RuleResult, Target

MANIFEST = "manifest.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def part_digest(part: Any) -> str:
    """The digest of one rule's share of a shared artifact (canonical JSON of the share)."""
    return sha256(compact(part))


def compile_one(target: Target, rule: DetcRule, profile: Profile) -> Compiled:
    """Compile, turning every failure into a located detc error (UnsupportedFeature or CompileError)."""
    where = {"path": rule.path, "rule_id": rule.id, "target": target.name}
    try:
        return target.compile(rule, profile)
    except DetcError as err:
        raise err.located(**where) from None
    except SigmaFeatureNotSupportedByBackendError as err:
        raise UnsupportedFeature(reason_of(err), **where) from err
    except SigmaError as err:
        raise CompileError(reason_of(err), **where) from err
    except Exception as err:  # a bug in a target must still surface as one located line
        raise CompileError(f"internal error: {type(err).__name__}: {err}", **where) from err


def parse_check(target: Target, compiled: Compiled, rule: DetcRule) -> None:
    """Parse the emitted query with the target's own evaluator grammar (the one its tests run):
    a query the platform could not parse is a located error, never an artifact. A target's
    ``check_syntax`` parses without building the matcher; without one the evaluator is built."""
    check = getattr(target, "check_syntax", None) or target.evaluator
    try:
        check(compiled.query)
    except Exception as err:
        raise CompileError(
            f"the compiled query does not parse with the {target.name} grammar: {reason_of(err)}",
            path=rule.path, rule_id=rule.id, target=target.name,
        ) from err


def compile_rule(
    rule: DetcRule, targets: Sequence[Target], profile: Profile, kept: Mapping[str, Compiled | str] | None = None,
) -> tuple[RuleResult, list[DetcError]]:
    """A rule compiled for every target (``kept``: what a target made before and still holds, its
    compilation or why it cannot express the rule, taken as it is); each fresh query is parsed
    with its target's grammar (``parse_check``) before anything can carry it."""
    compiled: dict[str, Compiled] = {}
    unsupported: dict[str, str] = {}
    errors: list[DetcError] = []
    for target in targets:
        if kept is not None and target.name in kept:
            before = kept[target.name]
            if isinstance(before, str):
                unsupported[target.name] = before
            else:
                compiled[target.name] = before
            continue
        try:
            one = compile_one(target, rule, profile)
            parse_check(target, one, rule)
            compiled[target.name] = one
        except UnsupportedFeature as err:
            unsupported[target.name] = err.message
        except DetcError as err:
            errors.append(err)
    return RuleResult(rule=rule, compiled=compiled, unsupported=unsupported), errors


def compile_rules(
    rules: Sequence[DetcRule], targets: Sequence[Target], profile: Profile
) -> tuple[list[RuleResult], list[DetcError]]:
    results: list[RuleResult] = []
    errors: list[DetcError] = []
    for rule in rules:
        result, errs = compile_rule(rule, targets, profile)
        results.append(result)
        errors.extend(errs)
    return results, errors


@dataclass(frozen=True, kw_only=True)
class RuleUnit:
    """One rule's part of a build, in plain data: its manifest entry and its fragments."""

    path: str
    rule_id: str
    manifest: Mapping[str, Any]
    """The rule's entry in manifest.json."""
    fragments: Mapping[str, Fragment] = field(default_factory=dict)
    """Emitter name to this rule's fragment (emitters with nothing of this rule are absent)."""
    unsupported: int = 0
    """How many of the build's targets cannot express the rule."""


def emitters_for(registry: Registry, targets: Sequence[Target]) -> list[Emitter]:
    names = {t.name for t in targets}
    return [e for e in registry.emitters if names.intersection(e.targets)]


def make_fragment(emitter: Emitter, result: RuleResult, profile: Profile) -> Fragment | None:
    """An emitter's fragment of one rule, its errors located at the rule and the emitter."""
    rule = result.rule
    try:
        fragment = emitter.fragment(result, profile)
    except DetcError as err:
        raise err.located(path=rule.path, rule_id=rule.id, target=emitter.name) from None
    if fragment is not None:
        for path in (*fragment.files, *fragment.parts):
            try:
                check_relative(path)
            except EmitError as err:
                raise err.located(path=rule.path, rule_id=rule.id, target=emitter.name) from None
    return fragment


def plain(compiled: Compiled) -> Compiled:
    """The compilation with its details as JSON gives them back (tuples as lists, other values as
    text): what the manifest and the cache hold."""
    details = plain_value(dict(compiled.details))
    return Compiled(
        target=compiled.target, query=compiled.query, caveats=tuple(compiled.caveats), details=details,
        deployment=plain_value(dict(compiled.deployment)),
    )


def rule_manifest(
    rule: DetcRule, compiled: Mapping[str, Compiled], unsupported: Mapping[str, str],
    fragments: Mapping[str, Fragment], targets: Sequence[str],
) -> dict[str, Any]:
    """A rule's manifest entry: its source, and per target its status, caveats, details and the
    artifacts that carry it: a file of its own with that file's sha256, a shared file with the
    sha256 of this rule's share (``part_sha256``), so that one rule's change changes one rule's
    entry. (The digest of every whole file is under the manifest's ``files``.)"""
    carried: dict[str, list[dict[str, str]]] = {}
    for fragment in fragments.values():
        for path, text in fragment.files.items():
            digest = sha256(text.encode("utf-8"))
            for name in fragment.targets.get(path, ()):
                carried.setdefault(name, []).append({"path": path, "sha256": digest})
        for path, part in fragment.parts.items():
            names = fragment.targets.get(path, ())
            if names:
                digest = part_digest(part)
                for name in names:
                    carried.setdefault(name, []).append({"path": path, "part_sha256": digest})
    per_target: dict[str, Any] = {}
    for name in targets:
        if name in unsupported:
            per_target[name] = {"status": "unsupported", "reason": unsupported[name]}
            continue
        one = compiled.get(name)
        if one is None:
            per_target[name] = {"status": "error"}
            continue
        entry: dict[str, Any] = {"status": "ok", "artifacts": sorted(carried.get(name, []), key=lambda a: a["path"])}
        if one.caveats:
            entry["caveats"] = list(one.caveats)
        if one.details:
            entry["details"] = plain(one).details
        per_target[name] = entry
    return {
        "title": rule.title,
        "source": rule.path,
        "source_sha256": rule.sha256,
        "level": rule.level,
        "targets": per_target,
    }


def make_unit(
    result: RuleResult, emitters: Sequence[Emitter], targets: Sequence[str], profile: Profile,
    kept: Mapping[str, Fragment | None] | None = None,
) -> RuleUnit:
    """A rule's fragments for every emitter and its manifest entry (``kept``: fragments an emitter
    made before and that still hold, None for an emitter that had nothing of the rule)."""
    rule = result.rule
    fragments = {}
    for emitter in emitters:
        if kept is not None and emitter.name in kept:
            fragment = kept[emitter.name]
        else:
            fragment = make_fragment(emitter, result, profile)
        if fragment is not None:
            fragments[emitter.name] = fragment
    return RuleUnit(
        path=rule.path,
        rule_id=rule.id,
        manifest=rule_manifest(rule, result.compiled, result.unsupported, fragments, targets),
        fragments=fragments,
        unsupported=len(result.unsupported),
    )


@dataclass(frozen=True)
class BuildResult:
    results: tuple[RuleResult, ...]
    files: dict[str, bytes]
    errors: tuple[DetcError, ...]


def build(
    rules: Sequence[DetcRule], registry: Registry, targets: Sequence[Target], profile: Profile
) -> BuildResult:
    """Everything a build writes, as bytes in memory, in this process: nothing touches disk here."""
    results, errors = compile_rules(rules, targets, profile)
    emitters = emitters_for(registry, targets)
    units = []
    for result in results:
        try:
            units.append(make_unit(result, emitters, [t.name for t in targets], profile))
        except DetcError as err:
            errors.append(err)
    if errors:
        return BuildResult(results=tuple(results), files={}, errors=tuple(errors))
    files, _, problems = assemble(units, emitters, targets, profile)
    return BuildResult(results=tuple(results), files=files, errors=tuple(problems))


def assemble(
    units: Sequence[RuleUnit], emitters: Sequence[Emitter], targets: Sequence[Target], profile: Profile,
) -> tuple[dict[str, bytes], dict[str, str], list[DetcError]]:
    """Every artifact from the units (rule path order) and the manifest, with every file's sha256:
    the files that carry one rule alone as the fragments hold them, the shared ones as each
    emitter assembles them."""
    try:
        files, digests = own_files(units)
    except EmitError as err:
        return {}, {}, [err]
    errors: list[DetcError] = []
    for emitter in emitters:
        fragments = [u.fragments[emitter.name] for u in units if emitter.name in u.fragments]
        try:
            artifacts = emitter.assemble(fragments, profile)
        except DetcError as err:
            errors.append(err.located(target=emitter.name))
            continue
        for artifact in artifacts:
            try:
                check_relative(artifact.path)
            except EmitError as err:
                errors.append(err.located(target=emitter.name))
                continue
            if artifact.path in files or artifact.path == MANIFEST:
                errors.append(EmitError(f"two artifacts claim {artifact.path}", target=emitter.name))
                continue
            files[artifact.path] = artifact.data
            digests[artifact.path] = sha256(artifact.data)
    if errors:
        return files, {}, errors
    files[MANIFEST] = dumps(manifest(units, targets, digests, profile))
    digests[MANIFEST] = sha256(files[MANIFEST])
    return files, digests, errors


def own_files(units: Sequence[RuleUnit]) -> tuple[dict[str, bytes], dict[str, str]]:
    """The files that carry one rule alone, and their digests (those the manifest entries hold).
    Fragment paths were checked when the fragments were made; two rules claiming one file is an
    error (``EmitError``)."""
    files: dict[str, bytes] = {}
    digests: dict[str, str] = {}
    for unit in units:
        known = {a["path"]: a["sha256"] for t in unit.manifest["targets"].values() for a in t.get("artifacts", ()) if "sha256" in a}
        for fragment in unit.fragments.values():
            for path, text in fragment.files.items():
                if path in files:
                    raise EmitError(f"two rules write {path}", path=unit.path, rule_id=unit.rule_id)
                data = text.encode("utf-8")
                files[path] = data
                digests[path] = known.get(path) or sha256(data)
    return files, digests


def manifest(
    units: Sequence[RuleUnit], targets: Sequence[Target], digests: Mapping[str, str], profile: Profile
) -> dict[str, Any]:
    """Every rule's entry, and the digest of every other file the build writes."""
    return {
        "detc_version": __version__,
        "profile": profile.name,
        "targets": [t.name for t in targets],
        "rules": {unit.rule_id: unit.manifest for unit in units},
        "files": {path: digests[path] for path in sorted(digests) if path != MANIFEST},
    }
