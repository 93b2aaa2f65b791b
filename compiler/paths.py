"""Where rules, tests files and profiles are: file-system facts only, cheap to import."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from compiler.errors import RuleLoadError

TESTS_SUFFIX = ".tests.yml"
CLIENTS_DIR = Path("clients")


def tests_path_for(rule_path: Path) -> Path:
    return rule_path.with_name(rule_path.name[: -len(".yml")] + TESTS_SUFFIX)


def rule_files(root: Path) -> list[Path]:
    """Rule files below root, sorted, without fixture files."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise RuleLoadError("no such rules directory", path=str(root))
    return sorted((p for p in root.rglob("*.yml") if not p.name.endswith(TESTS_SUFFIX) and p.is_file()), key=_order)


def _order(path: Path) -> tuple[str, ...]:
    return path.parts  # the order of PurePosixPath comparisons, without their cost


def orphan_tests_files(root: Path) -> list[Path]:
    """Tests files with no rule file beside them."""
    if not root.is_dir():
        return []
    return sorted(
        (p for p in root.rglob("*" + TESTS_SUFFIX) if not p.with_name(p.name[: -len(TESTS_SUFFIX)] + ".yml").exists()),
        key=_order,
    )


@dataclass(frozen=True)
class Source:
    """One rule file as a build reads it: its path, how errors name it, its bytes, and the digest
    of its tests file (None without one)."""

    path: Path
    display: str
    raw: bytes
    tests_sha: str | None


@dataclass(frozen=True)
class Sources:
    """Every rule file below a root, read once per build (for the build's key and for the build)."""

    root: Path
    rules: tuple[Source, ...]
    orphans: tuple[str, ...]
    """Tests files without a rule, by display path."""
    unreadable: tuple[tuple[str, str], ...] = field(default=())
    """(display path, reason) of rule files that cannot be read."""


def read_sources(root: Path) -> Sources:
    """The rule files below root (or root itself, a rule file), their bytes and tests digests,
    and the tests files without a rule, from one walk of the folder."""
    if root.is_file():
        found = [root]
        tests_files: set[Path] = set()
    elif root.is_dir():
        found, tests_files = _walk(root)
    else:
        raise RuleLoadError("no such rules directory", path=str(root))
    rules: list[Source] = []
    unreadable: list[tuple[str, str]] = []
    for path, shown in zip(found, display_paths(found)):
        tests = tests_path_for(path)
        try:
            raw = path.read_bytes()
            has_tests = tests in tests_files if tests_files or root.is_dir() else tests.exists()
            tests_sha = hashlib.sha256(tests.read_bytes()).hexdigest() if has_tests else None
        except OSError as err:
            unreadable.append((shown, f"cannot read: {err.strerror}"))
            continue
        rules.append(Source(path, shown, raw, tests_sha))
    names = set(found)
    orphans = sorted(
        (t for t in tests_files if t.with_name(t.name[: -len(TESTS_SUFFIX)] + ".yml") not in names), key=_order
    )
    return Sources(root, tuple(rules), tuple(display_paths(orphans)), tuple(unreadable))


def _walk(root: Path) -> tuple[list[Path], set[Path]]:
    """Rule files (sorted as ``rule_files`` sorts them) and tests files below root."""
    rules: list[Path] = []
    tests: set[Path] = set()
    folders = [root]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):  # as rglob: symlinked folders are not entered
                    folders.append(folder / entry.name)
                elif entry.name.endswith(TESTS_SUFFIX):
                    tests.add(folder / entry.name)
                elif entry.name.endswith(".yml") and entry.is_file():
                    rules.append(folder / entry.name)
    rules.sort(key=_order)
    return rules, tests


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def display_paths(paths: list[Path]) -> list[str]:
    """``display_path`` of many files, resolving each folder once instead of each file."""
    cwd = Path.cwd().resolve()
    folders: dict[Path, Path | None] = {}
    out = []
    for path in paths:
        if path.is_symlink():
            out.append(display_path(path))
            continue
        parent = path.parent
        if parent not in folders:
            try:
                folders[parent] = parent.resolve().relative_to(cwd)
            except ValueError:
                folders[parent] = None
        shown = folders[parent]
        out.append(str(shown / path.name) if shown is not None else str(path))
    return out
