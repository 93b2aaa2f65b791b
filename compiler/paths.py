"""Where rules, tests files and profiles are: file-system facts only, cheap to import."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.errors import RuleLoadError

if TYPE_CHECKING:
    from compiler.filestate import FileRecord

TESTS_SUFFIX = ".tests.yml"
CLIENTS_DIR = Path("clients")


def all_clients(clients_dir: Path = CLIENTS_DIR) -> list[str]:
    """The names of the client profiles in a folder, sorted."""
    return sorted(p.stem for p in clients_dir.glob("*.yml")) if clients_dir.is_dir() else []


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


def orphan_tests_files(root: Path) -> list[str]:
    """Tests files below root with no rule file beside them, as errors name them."""
    if not root.is_dir():
        return []
    return _orphans(*_walk(root))


def _orphans(rules: list[_File], tests_files: dict[str, _File]) -> list[str]:
    names = {str(f.path) for f in rules}
    orphans = [t.path for key, t in tests_files.items() if key[: -len(TESTS_SUFFIX)] + ".yml" not in names]
    return display_paths(sorted(orphans, key=_order))


def orphan_errors(displays: Iterable[str]) -> list[RuleLoadError]:
    """The problem each tests file without a rule is (by display path)."""
    return [RuleLoadError("tests file without a rule beside it", path=shown) for shown in displays]


@dataclass(frozen=True)
class Source:
    """One rule file as a build reads it: its path, how errors name it, its digest, the digest of
    its tests file (None without one), and its bytes when they were read (None when the digest
    came from a file record: ``read`` gives them)."""

    path: Path
    display: str
    sha256: str
    tests_sha: str | None
    raw: bytes | None = None

    def read(self) -> "Source":
        """This source with its bytes (read now if they were not), digest checked against them."""
        if self.raw is not None:
            return self
        raw = self.path.read_bytes()
        return Source(self.path, self.display, hashlib.sha256(raw).hexdigest(), self.tests_sha, raw)


@dataclass(frozen=True)
class Sources:
    """Every rule file below a root, read once per build (for the build's key and for the build)."""

    root: Path
    rules: tuple[Source, ...]
    orphans: tuple[str, ...]
    """Tests files without a rule, by display path."""
    unreadable: tuple[tuple[str, str], ...] = field(default=())
    """(display path, reason) of rule files that cannot be read."""


def read_sources(root: Path, record: FileRecord | None = None) -> Sources:
    """The rule files below root (or root itself, a rule file), their digests and tests digests,
    and the tests files without a rule, from one walk of the folder. With a record, files whose
    metadata is as recorded are not read."""
    if root.is_file():
        found = [_File(root, os.stat(root), root.is_symlink())]
        tests = tests_path_for(root)
        tests_files = {str(tests): _File(tests, os.stat(tests), tests.is_symlink())} if tests.is_file() else {}
    elif root.is_dir():
        found, tests_files = _walk(root)
    else:
        raise RuleLoadError("no such rules directory", path=str(root))
    rules: list[Source] = []
    unreadable: list[tuple[str, str]] = []
    for one, shown in zip(found, display_paths([f.path for f in found], [f.symlink for f in found]), strict=True):
        name = str(one.path)
        tests = tests_files.get(name[: -len(".yml")] + TESTS_SUFFIX)
        try:
            if record is None:
                raw: bytes | None = one.path.read_bytes()
                sha = hashlib.sha256(raw).hexdigest()
                tests_sha = hashlib.sha256(tests.path.read_bytes()).hexdigest() if tests else None
            else:
                sha, raw = record.sha_of(name, name, one.stat)
                tests_sha = record.sha_of(str(tests.path), str(tests.path), tests.stat)[0] if tests else None
        except OSError as err:
            unreadable.append((shown, f"cannot read: {err.strerror}"))
            continue
        rules.append(Source(one.path, shown, sha, tests_sha, raw))
    if record is not None:
        record.forget_all_but([str(f.path) for f in found] + list(tests_files))
    return Sources(root, tuple(rules), tuple(_orphans(found, tests_files)), tuple(unreadable))


@dataclass(frozen=True)
class _File:
    path: Path
    stat: os.stat_result
    symlink: bool


def _walk(root: Path) -> tuple[list[_File], dict[str, _File]]:
    """Rule files (sorted as ``rule_files`` sorts them) and tests files (by path) below root."""
    rules: list[_File] = []
    tests: dict[str, _File] = {}
    folders = [root]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):  # as rglob: symlinked folders are not entered
                    folders.append(folder / name)
                elif not name.endswith(".yml"):
                    continue
                elif name.endswith(TESTS_SUFFIX):
                    path = folder / name
                    tests[str(path)] = _File(path, entry.stat(), entry.is_symlink())
                elif entry.is_file():
                    rules.append(_File(folder / name, entry.stat(), entry.is_symlink()))
    rules.sort(key=lambda f: _order(f.path))
    return rules, tests


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def display_paths(paths: list[Path], symlinks: list[bool] | None = None) -> list[str]:
    """``display_path`` of many files, resolving each folder once instead of each file
    (``symlinks``: which of them are symbolic links, when the caller knows)."""
    cwd = Path.cwd().resolve()
    folders: dict[Path, str | None] = {}
    out = []
    for i, path in enumerate(paths):
        if symlinks[i] if symlinks is not None else os.path.islink(path):
            out.append(display_path(path))
            continue
        parent = path.parent
        if parent not in folders:
            try:
                folders[parent] = str(parent.resolve().relative_to(cwd))
            except ValueError:
                folders[parent] = None
        shown = folders[parent]
        if shown is None:
            out.append(str(path))
        else:
            out.append(path.name if shown == "." else f"{shown}/{path.name}")
    return out
