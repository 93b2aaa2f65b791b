"""MSSP client profiles: load ``clients/<name>.yml`` and apply it to rules."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import importlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from compiler.errors import DetcError, RuleLoadError, UsageError
from compiler.paths import CLIENTS_DIR, display_path
from compiler.profile import Exclusion, Profile, RuleOverride, Selector, logsource_matches
from compiler.rules import DetcRule, Schedule, load_rule, parse_meta
from compiler.settings import SIGMA_FIELD
from compiler.yamlio import load_yaml

if TYPE_CHECKING:
    from compiler.logsources import Logsource
    from compiler.target import Registry

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_TOP = {"name", "description", "targets", "field_mappings", "schedule", "select", "overrides", "exclusions"}
_SELECTOR = {"ids", "tags", "levels", "statuses", "logsources"}
_LEVELS = ("informational", "low", "medium", "high", "critical")
EXCLUSION_PREFIX = "detc_exclusion_"


class ProfileError(RuleLoadError):
    """A client profile is malformed."""


def _str_list(value: Any, where: str, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ProfileError(f"{where} must be a list of non-empty strings", path=path)
    return tuple(value)


def _mapping(value: Any, where: str, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ProfileError(f"{where} must be a mapping", path=path)
    return value


def _selector(value: Any, where: str, path: str) -> Selector:
    block = _mapping(value, where, path)
    unknown = sorted(set(block) - _SELECTOR)
    if unknown:
        raise ProfileError(f"unknown key {where}.{unknown[0]} (known: {', '.join(sorted(_SELECTOR))})", path=path)
    levels = _str_list(block.get("levels", []), f"{where}.levels", path)
    for level in levels:
        if level not in _LEVELS:
            raise ProfileError(f"{where}.levels: unknown level {level!r}", path=path)
    return Selector(
        ids=_str_list(block.get("ids", []), f"{where}.ids", path),
        tags=tuple(t.lower() for t in _str_list(block.get("tags", []), f"{where}.tags", path)),
        levels=levels,
        statuses=_str_list(block.get("statuses", []), f"{where}.statuses", path),
        logsources=_str_list(block.get("logsources", []), f"{where}.logsources", path),
    )


def _check_settings(
    target: str, block: Mapping[str, Any], known: Mapping[str, Any], kinds: Mapping[str, Any], shown: str
) -> None:
    """Every key a known setting of the target, every value of its default's type and of the kind
    the target declares for it (a pattern for what the value becomes: index, field, app name ...)."""
    for key, value in block.items():
        where = f"targets.{target}.{key}"
        if key not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ProfileError(f"{where}: unknown setting (known: {listed})", path=shown)
        default = known[key]
        if isinstance(default, bool):
            ok, kind = isinstance(value, bool), "true or false"
        elif isinstance(default, int):
            ok, kind = isinstance(value, int) and not isinstance(value, bool), "an integer"
        elif isinstance(default, (list, tuple)):
            ok = isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)
            kind = "a non-empty list of strings"
        else:
            ok, kind = isinstance(value, str), "a string"
        if not ok:
            raise ProfileError(f"{where} must be {kind}", path=shown)
        if isinstance(default, bool):
            continue
        checker = kinds.get(key)
        if checker is None:
            if isinstance(default, (str, list, tuple)):  # a target must say what its text settings are
                raise ProfileError(f"{where}: the target declares no pattern for this setting", path=shown)
            continue
        for item in value if isinstance(value, list) else [value]:
            problem = checker.problem(item)
            if problem:
                raise ProfileError(f"{where}: {problem}", path=shown)


def load_profile(
    path: Path, known_targets: Mapping[str, Mapping[str, Any]], registry: Registry | None = None,
) -> Profile:
    """Read and validate one client profile; every bad key is a one-line error. ``known_targets``
    maps each registered target to its settings and their defaults (``Registry.settings()``); the
    registry (the installed one when not given) says what each setting and field name may be."""
    if registry is None:
        from compiler.target import load_registry

        registry = load_registry()
    setting_kinds, field_kinds = registry.setting_kinds(), registry.field_kinds()
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ProfileError(f"cannot read: {err.strerror}", path=shown) from err
    data = load_yaml(raw, shown)
    if not isinstance(data, dict):
        raise ProfileError("a client profile must be a mapping", path=shown)
    unknown = sorted(set(map(str, data)) - _TOP)
    if unknown:
        raise ProfileError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_TOP))})", path=shown)
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ProfileError("name must be lowercase letters, digits, '-' or '_'", path=shown)
    if name == "default":
        raise ProfileError("'default' is the name of the build without a client", path=shown)
    if name != path.stem:
        raise ProfileError(f"name {name!r} must equal the file name {path.stem!r}", path=shown)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ProfileError("description must be a string", path=shown)
    settings = _mapping(data.get("targets"), "targets", shown)
    mappings = _mapping(data.get("field_mappings"), "field_mappings", shown)
    for where, block in (("targets", settings), ("field_mappings", mappings)):
        for target, value in block.items():
            if target not in known_targets:
                raise ProfileError(f"{where}: unknown target {target!r}", path=shown)
            block_value = _mapping(value, f"{where}.{target}", shown)
            if where == "targets":
                _check_settings(target, block_value, known_targets[target], setting_kinds.get(target, {}), shown)
    for target, table in mappings.items():
        for source, dest in table.items():
            if not isinstance(dest, str) or not dest or not source:
                raise ProfileError(f"field_mappings.{target}.{source} must name one field", path=shown)
            field_kind = field_kinds.get(target, SIGMA_FIELD)
            for value in (source, dest):
                problem = field_kind.problem(value)
                if problem:
                    raise ProfileError(f"field_mappings.{target}: {problem}", path=shown)
    schedule = _mapping(data.get("schedule"), "schedule", shown)
    if schedule:
        # The same validation rules use, so a client cannot schedule what a rule could not.
        try:
            parse_meta({"schedule": schedule, "risk_score": 0}, "medium", shown, "")
        except RuleLoadError as err:
            raise ProfileError(err.message.replace("detc.", ""), path=shown) from None
    select = _mapping(data.get("select"), "select", shown)
    bad = sorted(set(select) - {"include", "exclude"})
    if bad:
        raise ProfileError(f"unknown key select.{bad[0]} (known: exclude, include)", path=shown)
    overrides: dict[str, RuleOverride] = {}
    for rid, value in _mapping(data.get("overrides"), "overrides", shown).items():
        block = _mapping(value, f"overrides.{rid}", shown)
        extra = sorted(set(block) - {"level", "risk_score"})
        if extra:
            raise ProfileError(f"unknown key overrides.{rid}.{extra[0]} (known: level, risk_score)", path=shown)
        level = block.get("level")
        if level is not None and level not in _LEVELS:
            raise ProfileError(f"overrides.{rid}.level: unknown level {level!r}", path=shown)
        risk = block.get("risk_score")
        if risk is not None and (isinstance(risk, bool) or not isinstance(risk, int) or not 0 <= risk <= 100):
            raise ProfileError(f"overrides.{rid}.risk_score must be an integer from 0 to 100", path=shown)
        overrides[rid] = RuleOverride(level=level, risk_score=risk)
    exclusions = []
    raw_exclusions = data.get("exclusions") or []
    if not isinstance(raw_exclusions, list):
        raise ProfileError("exclusions must be a list", path=shown)
    for i, item in enumerate(raw_exclusions):
        where = f"exclusions[{i}]"
        block = _mapping(item, where, shown)
        extra = sorted(set(block) - {"field", "values", "rules", "logsources", "reason"})
        if extra:
            raise ProfileError(
                f"unknown key {where}.{extra[0]} (known: field, logsources, reason, rules, values)", path=shown
            )
        fld = block.get("field")
        if not isinstance(fld, str) or not fld or "|" in fld:
            raise ProfileError(f"{where}.field must be a plain field name", path=shown)
        problem = SIGMA_FIELD.problem(fld)
        if problem:
            raise ProfileError(f"{where}.field: {problem}", path=shown)
        values = block.get("values")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise ProfileError(f"{where}.values must be a non-empty list of strings", path=shown)
        rules = block.get("rules", "all")
        for key in ("rules", "logsources"):  # an empty list would silently mean nowhere (rules) or everywhere
            if block.get(key, None) == []:
                raise ProfileError(
                    f"{where}.{key} is empty: name at least one, or leave the key out"
                    + (" (every rule)" if key == "rules" else " (every logsource)"),
                    path=shown,
                )
        reason = block.get("reason", "")
        if not isinstance(reason, str):
            raise ProfileError(f"{where}.reason must be a string", path=shown)
        exclusions.append(
            Exclusion(
                field=fld,
                values=tuple(values),
                rules=None if rules == "all" else _str_list(rules, f"{where}.rules", shown),
                logsources=_logsource_patterns(block.get("logsources", []), f"{where}.logsources", shown),
                reason=reason,
            )
        )
    profile = Profile(
        name=name,
        description=description,
        target_settings={k: dict(v) for k, v in settings.items()},
        field_mappings={k: dict(v) for k, v in mappings.items()},
        schedule=dict(schedule),
        include=_selector(select.get("include"), "select.include", shown),
        exclude=_selector(select.get("exclude"), "select.exclude", shown),
        overrides=overrides,
        exclusions=tuple(exclusions),
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    for i, exclusion in enumerate(profile.exclusions):
        _check_exclusion_field(f"exclusions[{i}].field", exclusion, profile, registry, shown)
    return profile


_PROBE_ID = "00000000-0000-4000-8000-00000000d37c"
_PATTERN = re.compile(r"[a-z0-9_*?\[\]-]+(/[a-z0-9_*?\[\]-]*){0,2}")


def _source_parts(source: Logsource) -> SimpleNamespace:
    return SimpleNamespace(product=source.product, service=source.service, category=source.category)


def _logsource_patterns(value: Any, where: str, shown: str) -> tuple[str, ...]:
    """Logsource patterns (``product/service/category``, ``fnmatch`` parts): each must match a
    logsource detc defines, so a typo is an error, not an exclusion that applies nowhere."""
    from compiler.logsources import LOGSOURCES

    patterns = _str_list(value, where, shown)
    for pattern in patterns:
        if not _PATTERN.fullmatch(pattern):
            raise ProfileError(f"{where}: {pattern!r} is not a logsource pattern (product/service/category)", path=shown)
        if not any(logsource_matches(_source_parts(s), (pattern,)) for s in LOGSOURCES):
            raise ProfileError(f"{where}: {pattern!r} matches no logsource detc defines", path=shown)
    return patterns


def probe_logsources(exclusion: Exclusion) -> dict[str, list[dict[str, str]]]:
    """Per logsource family, the logsources an exclusion reaches (all when it names none), as a rule's
    ``logsource`` mapping: where its field is probed."""
    from compiler.logsources import LOGSOURCES

    reached: dict[str, list[dict[str, str]]] = {}
    for source in LOGSOURCES:
        if exclusion.logsources and not logsource_matches(_source_parts(source), exclusion.logsources):
            continue
        parts = (("product", source.product), ("category", source.category), ("service", source.service))
        reached.setdefault(source.family.name, []).append({k: v for k, v in parts if v})
    return reached


def probe_rule(field: str, logsource: Mapping[str, str], values: Sequence[str] = ("x",)) -> DetcRule:
    """A one-test rule, ``field: [values]`` on a logsource (the values literal, as an exclusion adds
    them): compiled by a target, it tells whether the target's field mapping for that logsource knows
    the field and can compare it with those values. The values reach pySigma as data, never as text
    of a YAML document."""
    data = {
        "title": "detc field probe", "id": _PROBE_ID, "status": "test", "description": "field probe",
        "author": "detc", "date": "2026-01-01", "level": "low", "logsource": dict(logsource),
        "detection": {"probe": {field: "x"}, "condition": "probe"},
    }
    rule = load_rule(Path("/nonexistent/detc-field-probe.yml"), "field probe", json.dumps(data).encode("utf-8"))
    data["detection"] = {"probe": {field: [_escape(v) for v in values]}, "condition": "probe"}
    try:
        sigma = SigmaRule.from_dict(data, collect_errors=False, source=rule.sigma.source)
    except SigmaError as err:
        raise ProfileError(f"exclusion values: {err}") from err
    return dataclasses.replace(rule, sigma=sigma, data=data)


def _platform_of(target: Any) -> str:
    module = type(target).__module__
    return module.split(".")[1] if module.startswith("backends.") else str(target.name)


def _check_exclusion_field(where: str, exclusion: Exclusion, profile: Profile, registry: Registry, shown: str) -> None:
    """An exclusion on a field that no target of a platform can map would make every rule it reaches
    unsupported there, or the exclusion silently void: for each logsource family the exclusion reaches
    (its ``logsources``, else every family) and each platform with a cell for that family, each
    target compiles a probe rule on the field through its real pipeline (the client's field mappings
    included). A platform none of whose targets can express it on any logsource of the family refuses
    the profile; a platform where one language cannot query a field its cell maps (Elasticsearch EQL
    and flattened fields) keeps the profile, and the rules carrying that exclusion are
    ``unsupported`` on that language, with its reason."""
    from compiler.build import compile_one

    field = exclusion.field
    refused: dict[str, tuple[str, str]] = {}
    for family, sources in probe_logsources(exclusion).items():
        failures: dict[str, list[tuple[str, str]]] = {}
        platforms: dict[str, int] = {}
        for target in registry.targets.values():
            platform = _platform_of(target)
            cells = getattr(importlib.import_module(f"backends.{platform}"), "CELLS", None)
            if cells is not None and family not in cells:
                continue  # no rule of this family compiles there: nothing to probe
            platforms[platform] = platforms.get(platform, 0) + 1
            reasons = []
            for logsource in sources:
                try:
                    compile_one(target, probe_rule(field, logsource, exclusion.values), profile)
                    break
                except DetcError as err:  # UnsupportedFeature included
                    reasons.append(err.message)
            else:
                failures.setdefault(platform, []).append((target.name, reasons[0] if reasons else "no logsource"))
        for platform, failed in failures.items():
            if len(failed) == platforms[platform]:
                refused.setdefault(family, failed[0])
    if refused:
        family, (name, reason) = next(iter(refused.items()))
        hint = "" if exclusion.logsources else "; without logsources: an exclusion reaches rules of every logsource"
        raise ProfileError(f"{where}: {name} cannot map {field!r} on {family} rules ({reason}){hint}", path=shown)


def client_path(name: str, clients_dir: Path = CLIENTS_DIR) -> Path:
    if not _NAME.match(name):
        raise UsageError(f"invalid client name {name!r}")
    path = clients_dir / f"{name}.yml"
    if not path.is_file():
        raise UsageError(f"no client profile {display_path(path)}")
    return path


def _matches(rule: DetcRule, sel: Selector) -> bool:
    logsource = rule.sigma.logsource
    tags = {f"{t.namespace}.{t.name}".lower() for t in rule.sigma.tags}
    return (
        rule.id in sel.ids
        or bool(tags.intersection(sel.tags))
        or rule.level in sel.levels
        or (rule.sigma.status is not None and rule.sigma.status.name.lower() in sel.statuses)
        or logsource_matches(logsource, sel.logsources)
    )


def unmatched_ids(profile: Profile, rule_ids: Collection[str]) -> list[str]:
    """What a profile names by rule id that none of the client's rules has (a typo, or a rule not
    bought or not in this rule set): an exclusion or override that silently does nothing there."""
    out = [
        f"exclusions[{i}].rules: no rule the client builds has id {rid!r}: the exclusion does nothing for it"
        for i, exclusion in enumerate(profile.exclusions) for rid in (exclusion.rules or ()) if rid not in rule_ids
    ]
    out += [
        f"overrides.{rid}: no rule the client builds has this id: the override does nothing"
        for rid in profile.overrides if rid not in rule_ids
    ]
    return out


def select_rules(rules: Sequence[DetcRule], profile: Profile) -> list[DetcRule]:
    """The rules a client buys: included (all when no include is given) and not excluded."""
    chosen = [r for r in rules if profile.include.empty or _matches(r, profile.include)]
    return [r for r in chosen if profile.exclude.empty or not _matches(r, profile.exclude)]


def _escape(value: str) -> str:
    """Make a literal Sigma string: backslash, * and ? stand for themselves."""
    return re.sub(r"([\\*?])", r"\\\1", value)


def apply_profile(rule: DetcRule, profile: Profile) -> DetcRule:
    """The rule as this client runs it: exclusions as NOT clauses, overridden level, risk and schedule."""
    exclusions = [e for e in profile.exclusions if e.applies_to(rule.id, rule.sigma.logsource)]
    override = profile.overrides.get(rule.id, RuleOverride())
    if not exclusions and override == RuleOverride() and not profile.schedule:
        return rule
    data = copy.deepcopy(dict(rule.data))  # as written: SigmaRule.to_dict() loses literal backslashes
    if exclusions:
        detection = dict(data["detection"])
        conditions = detection.pop("condition")
        conditions = conditions if isinstance(conditions, list) else [conditions]
        names = []
        for i, exclusion in enumerate(exclusions):
            name = f"{EXCLUSION_PREFIX}{i}"
            if name in detection:
                raise ProfileError(f"rule already has a detection named {name}", path=rule.path, rule_id=rule.id)
            detection[name] = {exclusion.field: [_escape(v) for v in exclusion.values]}
            names.append(name)
        suffix = " and not ".join(names)
        detection["condition"] = [f"({c}) and not {suffix}" for c in conditions]
        data["detection"] = detection
    if override.level:
        data["level"] = override.level
    try:
        sigma = SigmaRule.from_dict(data, collect_errors=False, source=rule.sigma.source)
    except SigmaError as err:
        raise ProfileError(f"client {profile.name}: {err}", path=rule.path, rule_id=rule.id) from err
    meta = rule.meta
    if override.risk_score is not None:
        meta = dataclasses.replace(meta, risk_score=override.risk_score)
    if profile.schedule:
        meta = dataclasses.replace(
            meta,
            schedule=Schedule(
                interval=profile.schedule.get("interval", meta.schedule.interval),
                lookback=profile.schedule.get("lookback", meta.schedule.lookback),
            ),
        )
    return dataclasses.replace(rule, sigma=sigma, meta=meta, data=data)
