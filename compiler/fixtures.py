"""Fixture cases: raw records of the rule's logsource with the verdict each rule must give."""

from __future__ import annotations

import errno
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from compiler.errors import RuleLoadError
from compiler.events import MAX_EVENT_BYTES, read_events  # noqa: F401 (re-exported)
from compiler.paths import display_path
from compiler.rules import DetcRule
from compiler.yamlio import load_yaml

Expect = Literal["match", "no_match"]
_CASE_KEYS = {"name", "expect", "event", "event_file", "waive"}


@dataclass(frozen=True, kw_only=True)
class Case:
    name: str
    expect: Expect
    event: Mapping[str, Any]
    waive: Mapping[str, str] = field(default_factory=dict)
    """Target name to the documented reason this target cannot give the expected verdict."""


@dataclass(frozen=True, kw_only=True)
class FixtureFile:
    path: str
    rule_id: str
    cases: tuple[Case, ...]
    event_files: tuple[str, ...] = ()
    """The ``event_file`` entries the cases were read from (resolved paths): inputs of the build's checks."""


def _cases(
    raw: Any, index: int, base: Path, root: Path, path: str, rid: str, seen: set[str], read: list[str]
) -> list[Case]:
    """One case of a tests file: one Case per event (an event file may hold several)."""

    def err(msg: str) -> RuleLoadError:
        return RuleLoadError(f"case {index + 1}: {msg}", path=path, rule_id=rid)

    if not isinstance(raw, dict):
        raise err("a case must be a mapping")
    unknown = sorted(set(map(str, raw)) - _CASE_KEYS)
    if unknown:
        raise err(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_CASE_KEYS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise err("'name' must be a non-empty string")
    if name in seen:
        raise err(f"duplicate case name {name!r}")
    seen.add(name)
    expect = raw.get("expect")
    if expect not in ("match", "no_match"):
        raise err(f"'expect' must be match or no_match, not {expect!r}")
    if ("event" in raw) == ("event_file" in raw):
        raise err("give exactly one of 'event' and 'event_file'")
    events = _event_file(raw["event_file"], base, root, err, read) if "event_file" in raw else [raw["event"]]
    for event in events:
        if not isinstance(event, dict):
            raise err(f"the event must be a JSON object, not {type(event).__name__}")
    waive = raw.get("waive") or {}
    if not isinstance(waive, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in waive.items()
    ):
        raise err("'waive' maps target names to non-empty reasons")
    if len(events) == 1:
        return [Case(name=name, expect=expect, event=events[0], waive=waive)]
    return [
        Case(name=f"{name} [event {i} of {len(events)}]", expect=expect, event=event, waive=waive)
        for i, event in enumerate(events, 1)
    ]


def _event_file(ref: Any, base: Path, root: Path, err: Any, read: list[str]) -> list[Any]:
    """The events of an event file: JSON (one object, or several back to back), NDJSON/JSONL or EVTX
    by its suffix; every one must be expected to give the case's verdict. The file must be inside
    the rules folder (``root``, links followed) and a regular file (``read_events``)."""
    if not isinstance(ref, str) or not ref or "\x00" in ref:
        raise err("'event_file' must be a relative path")
    try:
        target = (base / ref).resolve(strict=True)
    except RuntimeError as exc:  # Python 3.11 reports a symbolic link loop so
        raise err(f"cannot read event_file {ref!r}: a symbolic link that loops") from exc
    except OSError as exc:
        why = "a symbolic link that loops" if exc.errno == errno.ELOOP else exc.strerror
        raise err(f"cannot read event_file {ref!r}: {why}") from exc
    allowed = root.resolve()
    if target != allowed and allowed not in target.parents:
        raise err(f"event_file {ref!r} is outside the rules folder")
    read.append(str(target))
    try:
        events = read_events(target, shown=f"event_file {ref!r}")
    except RuleLoadError as exc:
        raise err(exc.message) from exc
    if not events:
        raise err(f"event_file {ref!r} holds no event")
    return events


def load_fixtures(rule: DetcRule, root: Path | None = None) -> FixtureFile | None:
    """The fixture cases beside a rule, or None when it has no tests file. ``root``: the rules
    folder, which every ``event_file`` must be inside (default: the tests file's folder)."""
    if rule.tests_path is None:
        return None
    path = display_path(rule.tests_path)
    try:
        raw = rule.tests_path.read_bytes()
    except OSError as exc:
        raise RuleLoadError(f"cannot read: {exc.strerror}", path=path, rule_id=rule.id) from exc
    data = load_yaml(raw, path)
    if not isinstance(data, dict) or set(map(str, data)) != {"cases"} or not isinstance(data["cases"], list):
        raise RuleLoadError("a tests file is a mapping with one key, 'cases', holding a list", path=path, rule_id=rule.id)
    seen: set[str] = set()
    read: list[str] = []
    cases = tuple(
        case
        for i, raw_case in enumerate(data["cases"])
        for case in _cases(raw_case, i, rule.tests_path.parent, _root(root, rule.tests_path), path, rule.id, seen, read)
    )
    expects = {c.expect for c in cases}
    for needed in ("match", "no_match"):
        if needed not in expects:
            raise RuleLoadError(f"needs at least one {needed!r} case", path=path, rule_id=rule.id)
    return FixtureFile(path=path, rule_id=rule.id, cases=cases, event_files=tuple(dict.fromkeys(read)))



def _root(root: Path | None, tests_path: Path) -> Path:
    """The folder event files must be inside: the rules folder (a rule file given alone: its folder)."""
    if root is None:
        return tests_path.parent
    return root.parent if root.is_file() else root
