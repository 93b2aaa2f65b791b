"""SigmaHQ's regression tests: a rule's ``regression_tests_path`` → ``info.yml`` → sample events.

SigmaHQ's convention (SigmaHQ/sigma ``regression_data/README.md``; its runner
``tests/regression_tests_runner.py``): a rule names an ``info.yml`` whose ``rule_metadata`` lists the
rule's id and whose ``regression_tests_info`` lists tests, each a sample file (``type``: evtx, json,
ndjson or jsonl; ``path``) and ``match_count``, the least number of the sample's events the rule must
match (one when absent). Both paths are relative to the repository root. detc resolves them against
the rule's folder, then each parent folder in turn, and takes the first that holds the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from compiler.errors import RuleLoadError
from compiler.events import KINDS, read_events
from compiler.paths import display_path
from compiler.rules import DetcRule
from compiler.yamlio import load_yaml

KEY = "regression_tests_path"


@dataclass(frozen=True, kw_only=True)
class RegressionTest:
    """One test of an info.yml: a sample's events, of which at least ``min_matches`` must match."""

    name: str
    sample: Path
    kind: str
    min_matches: int

    def events(self) -> list[Any]:
        return read_events(self.sample, self.kind, shown=display_path(self.sample))


@dataclass(frozen=True, kw_only=True)
class RegressionInfo:
    """A rule's info.yml, read and checked, with its tests."""

    path: Path
    root: Path
    """The folder the paths resolved against (SigmaHQ's repository root)."""
    tests: tuple[RegressionTest, ...]


def _resolve(rule: DetcRule, relative: str) -> tuple[Path, Path]:
    """(the file, the folder it resolved against): the rule's folder first, then each parent."""
    start = Path(rule.path).resolve().parent
    tried = [start, *start.parents]
    for folder in tried:
        candidate = folder / relative
        if candidate.is_file():
            return candidate, folder
    raise RuleLoadError(
        f"{KEY} {relative!r}: no such file under the rule's folder or any parent "
        f"(tried {', '.join(display_path(f) for f in tried)})",
        path=rule.path, rule_id=rule.id,
    )


def regression_path(rule: DetcRule) -> str | None:
    """The rule's ``regression_tests_path`` as written, if it has one."""
    value = rule.data.get(KEY)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or PurePath(value).is_absolute():
        shown = f", not {value!r}" if isinstance(value, str) and value.strip() else ""
        raise RuleLoadError(
            f"{KEY} must be a relative path (from SigmaHQ's repository root){shown}", path=rule.path, rule_id=rule.id
        )
    return value


def load_regression(rule: DetcRule) -> RegressionInfo | None:
    """The rule's regression tests (samples found, not read), or None when it names none."""
    relative = regression_path(rule)
    if relative is None:
        return None
    info_path, root = _resolve(rule, relative)
    shown = display_path(info_path)

    def err(message: str) -> RuleLoadError:
        return RuleLoadError(f"{shown}: {message}", path=rule.path, rule_id=rule.id)

    try:
        data = load_yaml(info_path.read_bytes(), shown)
    except OSError as exc:
        raise err(f"cannot read: {exc.strerror}") from exc
    if not isinstance(data, Mapping):
        raise err("an info.yml is a mapping")
    metadata = data.get("rule_metadata")
    ids = [m.get("id") for m in metadata if isinstance(m, Mapping)] if isinstance(metadata, list) else []
    if rule.id not in map(str, ids):
        raise err(f"rule_metadata does not name this rule's id {rule.id} (names: {', '.join(map(str, ids)) or 'none'})")
    raw_tests = data.get("regression_tests_info")
    if not isinstance(raw_tests, list) or not raw_tests:
        raise err("regression_tests_info must list at least one test")
    tests: list[RegressionTest] = []
    for i, raw in enumerate(raw_tests, 1):
        if not isinstance(raw, Mapping):
            raise err(f"test {i} must be a mapping")
        name = raw.get("name")
        kind = raw.get("type")
        sample = raw.get("path")
        count = raw.get("match_count", 1)
        if not isinstance(name, str) or not name.strip():
            raise err(f"test {i}: 'name' must be a non-empty string")
        if kind not in KINDS:
            raise err(f"test {name!r}: type {kind!r} is not one of {', '.join(KINDS)}")
        if not isinstance(sample, str) or not sample.strip() or PurePath(sample).is_absolute():
            shown = f", not {sample!r}" if isinstance(sample, str) and sample.strip() else ""
            raise err(f"test {name!r}: 'path' must be a relative path (from SigmaHQ's repository root){shown}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise err(f"test {name!r}: match_count must be a whole number of at least 1, not {count!r}")
        sample_path = root / sample
        if not sample_path.is_file():
            raise err(f"test {name!r}: sample {sample!r} not found under {display_path(root)}")
        tests.append(RegressionTest(name=name, sample=sample_path, kind=kind, min_matches=count))
    names = [t.name for t in tests]
    if len(set(names)) != len(names):
        raise err("test names must be unique")
    return RegressionInfo(path=info_path, root=root, tests=tuple(tests))
