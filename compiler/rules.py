"""Load Sigma rules and their detc metadata: the single representation every target compiles."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import pickle
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.rule import SigmaDetection, SigmaRule

from compiler.errors import RuleLoadError, reason_of
from compiler.paths import display_path, rule_files, scan, tests_path_for
from compiler.yamlio import load_yaml

LEVEL_TO_SEVERITY = {
    "informational": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "critical": "critical",
}
"""Sigma level to the four-step severity scale of Elastic, Splunk ES and others."""

DEFAULT_RISK = {"informational": 21, "low": 21, "medium": 47, "high": 73, "critical": 99}
"""Elastic's conventional risk score per severity, used when a rule gives none."""

REQUIRED_ATTRIBUTES = ("title", "id", "status", "description", "author", "date", "level", "logsource")
CUSTOM_BLOCK = "detc"
_DURATION = re.compile(r"^([1-9][0-9]*)([smhd])$")


def duration_parts(text: str) -> tuple[int, str] | None:
    """(count, unit) of a schedule duration such as ``5m``; None when the text is not one."""
    match = _DURATION.match(text)
    return (int(match.group(1)), match.group(2)) if match else None


def lookback_parts(text: str) -> tuple[int, str] | None:
    """(count, unit) of a lookback such as ``now-6m`` (Elastic's ``from``); None when the text is not one."""
    return duration_parts(text[4:]) if text.startswith("now-") else None


@dataclass(frozen=True, kw_only=True)
class Schedule:
    interval: str = "5m"
    """How often the detection runs."""
    lookback: str = "now-6m"
    """Start of the window each run searches (Elastic's ``from``), overlapping the interval."""


@dataclass(frozen=True, kw_only=True)
class DetcMeta:
    """The rule metadata Sigma has no standard attribute for (the ``detc:`` block)."""

    risk_score: int
    schedule: Schedule = Schedule()
    note: str | None = None
    setup: str | None = None
    timestamp_override: str | None = None
    license: str | None = None
    maturity: str = "production"
    integration: tuple[str, ...] = ()
    elastic_tags: tuple[str, ...] = ()


_META_KEYS = {
    "risk_score", "schedule", "note", "setup", "timestamp_override", "license",
    "maturity", "integration", "elastic_tags",
}


@dataclass(frozen=True, kw_only=True)
class DetcRule:
    """A rule file read once: its bytes, the parsed pySigma rule and detc's metadata."""

    path: str
    source: bytes
    sigma: SigmaRule
    meta: DetcMeta
    tests_path: Path | None = None
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> str:
        return str(self.sigma.id)

    @property
    def title(self) -> str:
        return str(self.sigma.title)

    @property
    def level(self) -> str:
        return self.sigma.level.name.lower() if self.sigma.level else "medium"

    @property
    def severity(self) -> str:
        return LEVEL_TO_SEVERITY[self.level]

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.source).hexdigest()

    @functools.cached_property
    def conditions(self) -> tuple[Any, ...]:
        """The condition trees of the rule as written, parsed once (pySigma parses anew, and
        deep-copies, on every access to a condition's ``parsed``)."""
        return tuple(condition.parsed for condition in self.sigma.detection.parsed_condition)

    @functools.cached_property
    def _frozen_sigma(self) -> bytes:
        with detached(self.sigma.detection.detections.values()):
            return pickle.dumps(self.sigma, protocol=pickle.HIGHEST_PROTOCOL)

    def fresh_sigma(self) -> SigmaRule:
        """A private copy for one conversion: pySigma pipelines rewrite rules in place.

        Unpickling a snapshot taken once is about four times faster than a deepcopy per target.
        """
        copy: SigmaRule = pickle.loads(self._frozen_sigma)
        return copy

    @functools.cached_property
    def _prepared(self) -> dict[str, bytes]:
        return {}

    def prepared_sigma(self, key: str, prepare: Callable[[SigmaRule], Any]) -> SigmaRule:
        """A private copy of the rule as ``prepare`` rewrites it, for targets that share that step
        (Elastic's query languages apply one cell pipeline before each their own): the rewrite is
        made once per ``key`` and each later caller gets a copy of its result. An error of
        ``prepare`` is not kept: each caller meets it anew."""
        frozen = self._prepared.get(key)
        if frozen is not None:
            copy: SigmaRule = pickle.loads(frozen)
            return copy
        copy = self.fresh_sigma()
        prepare(copy)
        with detached(copy.detection.detections.values()):
            self._prepared[key] = pickle.dumps(copy, protocol=pickle.HIGHEST_PROTOCOL)
        return copy


@contextlib.contextmanager
def detached(detections: Iterable[SigmaDetection]) -> Iterator[None]:
    """The detections without their ``parent`` while the block runs, to copy them: once a condition is
    parsed, a detection's parent is a node of its condition tree, through which a copy would take the
    tree and every other detection along. pySigma attaches the copies again when it parses the
    condition it converts."""
    held = [(detection, detection.parent) for detection in detections]
    try:
        for detection, _ in held:
            detection.parent = None
        yield
    finally:
        for detection, parent in held:
            detection.parent = parent


def _err(message: str, path: str, rule_id: str | None = None) -> RuleLoadError:
    return RuleLoadError(message, path=path, rule_id=rule_id)


def _str(block: Mapping[str, Any], key: str, path: str, rid: str) -> str | None:
    value = block.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _err(f"detc.{key} must be a string, not {type(value).__name__}", path, rid)
    return value


def _str_list(block: Mapping[str, Any], key: str, path: str, rid: str) -> tuple[str, ...]:
    value = block.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(f"detc.{key} must be a list of strings", path, rid)
    return tuple(value)


def parse_meta(block: Any, level: str, path: str, rid: str) -> DetcMeta:
    if block is None:
        block = {}
    if not isinstance(block, dict):
        raise _err(f"the {CUSTOM_BLOCK} block must be a mapping", path, rid)
    unknown = sorted(set(map(str, block)) - _META_KEYS)
    if unknown:
        raise _err(f"unknown key detc.{unknown[0]} (known: {', '.join(sorted(_META_KEYS))})", path, rid)
    risk = block.get("risk_score", DEFAULT_RISK[level])
    if isinstance(risk, bool) or not isinstance(risk, int) or not 0 <= risk <= 100:
        raise _err("detc.risk_score must be an integer from 0 to 100", path, rid)
    sched = block.get("schedule", {}) or {}
    if not isinstance(sched, dict) or set(map(str, sched)) - {"interval", "lookback"}:
        raise _err("detc.schedule takes only interval and lookback", path, rid)
    interval = sched.get("interval", Schedule.interval)
    lookback = sched.get("lookback", Schedule.lookback)
    if not isinstance(interval, str) or duration_parts(interval) is None:
        raise _err(f"detc.schedule.interval must look like 5m, not {interval!r}", path, rid)
    if not isinstance(lookback, str) or lookback_parts(lookback) is None:
        raise _err(f"detc.schedule.lookback must look like now-6m, not {lookback!r}", path, rid)
    maturity = _str(block, "maturity", path, rid) or "production"
    return DetcMeta(
        risk_score=risk,
        schedule=Schedule(interval=interval, lookback=lookback),
        note=_str(block, "note", path, rid),
        setup=_str(block, "setup", path, rid),
        timestamp_override=_str(block, "timestamp_override", path, rid),
        license=_str(block, "license", path, rid),
        maturity=maturity,
        integration=_str_list(block, "integration", path, rid),
        elastic_tags=_str_list(block, "elastic_tags", path, rid),
    )


def load_rule(path: Path, display: str | None = None, raw: bytes | None = None) -> DetcRule:
    """Read (unless its bytes are given) and parse one rule file; every problem is a RuleLoadError
    naming the file."""
    shown = display or str(path)
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as err:
            raise _err(f"cannot read: {err.strerror}", shown) from err
    data = load_yaml(raw, shown)
    if not isinstance(data, dict):
        raise _err("a rule must be a YAML mapping", shown)
    rid = data.get("id") if isinstance(data.get("id"), str) else None
    for key in REQUIRED_ATTRIBUTES:
        if key not in data or data[key] in (None, "", [], {}):
            raise _err(f"missing required attribute {key!r}", shown, rid)
    for key in ("title", "id", "description", "status", "level", "author"):
        if not isinstance(data[key], str):
            raise _err(f"attribute {key!r} must be a string, not {type(data[key]).__name__}", shown, rid)
    block = data.pop(CUSTOM_BLOCK, None)
    try:
        rule = SigmaRule.from_dict(data, collect_errors=False, source=SigmaRuleLocation(path))
        level = rule.level.name.lower() if rule.level else "medium"
    except SigmaError as err:
        raise _err(reason_of(err), shown, rid) from err
    except (TypeError, ValueError, AttributeError, KeyError) as err:
        raise _err(f"malformed rule: {type(err).__name__}: {err}", shown, rid) from err
    meta = parse_meta(block, level, shown, str(rule.id))
    tests = tests_path_for(path)
    loaded = DetcRule(
        path=shown,
        source=raw,
        sigma=rule,
        meta=meta,
        tests_path=tests if tests.is_file() else None,  # a FIFO or a folder is never read as one
        data=data,
    )
    try:
        _ = loaded.conditions  # pySigma parses conditions lazily; a bad one must fail at load
    except SigmaError as err:
        raise _err(reason_of(err), shown, rid) from err
    except (TypeError, ValueError, AttributeError, KeyError) as err:
        raise _err(f"malformed rule: {type(err).__name__}: {err}", shown, rid) from err
    return loaded


def duplicate_id(seen: dict[str, str], rule_id: str, shown: str) -> RuleLoadError | None:
    """Note where an id is first seen (``seen``: id -> display path); a later rule with it is an error."""
    if rule_id in seen:
        return _err(f"duplicate rule id (also in {seen[rule_id]})", shown, rule_id)
    seen[rule_id] = shown
    return None


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[DetcRule, ...]
    errors: tuple[RuleLoadError, ...]
    warnings: tuple[str, ...] = ()
    """One line per entry named like a rule file that is not one (a FIFO, a broken link ...)."""


def load_rules(root: Path) -> RuleSet:
    """Load every rule below root, collecting errors; duplicate ids are errors too."""
    rules: list[DetcRule] = []
    errors: list[RuleLoadError] = []
    warnings: list[str] = []
    seen: dict[str, str] = {}
    if root.is_dir():
        walked = scan(root)
        paths = [f.path for f in walked.rules]
        warnings.extend(f"{where}: warning: {why}" for where, why in walked.skipped)
        errors.extend(RuleLoadError(why, path=where) for where, why in walked.bad_names)
    else:
        paths = rule_files(root)
    for path in paths:
        shown = display_path(path)
        try:
            rule = load_rule(path, shown)
        except RuleLoadError as err:
            errors.append(err)
            continue
        duplicate = duplicate_id(seen, rule.id, shown)
        if duplicate:
            errors.append(duplicate)
            continue
        rules.append(rule)
    return RuleSet(tuple(rules), tuple(errors), tuple(warnings))


