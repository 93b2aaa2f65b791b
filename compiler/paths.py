"""Where rules, tests files and profiles are: file-system facts only, cheap to import."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.errors import RuleLoadError, shown

if TYPE_CHECKING:
    from compiler.filestate import FileRecord

TESTS_SUFFIX = ".tests.yml"
RULE_SUFFIXES = (".yml", ".yaml")
"""Rule files end in either; the tests file of ``X.yml`` or ``X.yaml`` is ``X.tests.yml`` or ``X.tests.yaml``."""
TESTS_SUFFIXES = (TESTS_SUFFIX, ".tests.yaml")
CLIENTS_DIR = Path("clients")


def all_clients(clients_dir: Path = CLIENTS_DIR) -> list[str]:
    """The names of the client profiles in a folder, sorted."""
    return sorted(p.stem for p in clients_dir.glob("*.yml")) if clients_dir.is_dir() else []


def rule_base(name: str) -> str:
    """A rule or tests file's name without its suffix (``x.tests.yaml`` and ``x.yml``: ``x``)."""
    for suffix in (*TESTS_SUFFIXES, *RULE_SUFFIXES):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_tests_name(name: str) -> bool:
    return name.endswith(TESTS_SUFFIXES)


def is_rule_name(name: str) -> bool:
    return name.endswith(RULE_SUFFIXES) and not is_tests_name(name)


def tests_path_for(rule_path: Path) -> Path:
    """The tests file beside a rule: ``X.tests.yml``, else ``X.tests.yaml`` when only that exists."""
    base = rule_base(rule_path.name)
    first = rule_path.with_name(base + TESTS_SUFFIX)
    if not first.exists():
        other = rule_path.with_name(base + TESTS_SUFFIXES[1])
        if other.exists():
            return other
    return first


def rule_files(root: Path) -> list[Path]:
    """Rule files below root, sorted, without fixture files."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise RuleLoadError("no such rules directory", path=str(root))
    return [f.path for f in scan(root).rules]


def _order(path: Path) -> tuple[str, ...]:
    return path.parts  # the order of PurePosixPath comparisons, without their cost


def orphan_tests_files(root: Path) -> list[str]:
    """Tests files below root with no rule file beside them, as errors name them."""
    if not root.is_dir():
        return []
    return display_paths(scan(root).orphans())


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
    skipped: tuple[tuple[str, str], ...] = field(default=())
    """(display path, reason) of entries named like rule files that are not regular files: a
    warning each, never a silent skip."""


def read_sources(root: Path, record: FileRecord | None = None) -> Sources:
    """The rule files below root (or root itself, a rule file), their digests and tests digests,
    and the tests files without a rule, from one walk of the folder. With a record, files whose
    metadata is as recorded are not read."""
    skipped: list[tuple[str, str]] = []
    unreadable: list[tuple[str, str]] = []
    if root.is_file():
        found = [_File(root, os.stat(root), root.is_symlink())]
        beside = tests_path_for(root)
        tests_files = {str(beside): _File(beside, os.stat(beside), beside.is_symlink())} if beside.is_file() else {}
        orphans: list[Path] = []
    elif root.is_dir():
        walked = scan(root)
        found, tests_files, skipped, orphans = walked.rules, walked.tests, walked.skipped, walked.orphans()
        unreadable.extend(walked.bad_names)
    else:
        raise RuleLoadError("no such rules directory", path=str(root))
    rules: list[Source] = []
    for one, display in zip(found, display_paths([f.path for f in found], [f.symlink for f in found]), strict=True):
        name = str(one.path)
        base = name[: len(name) - len(one.path.name)] + rule_base(one.path.name)
        tests = tests_files.get(base + TESTS_SUFFIX) or tests_files.get(base + TESTS_SUFFIXES[1])
        try:
            if record is None:
                raw: bytes | None = one.path.read_bytes()
                sha = hashlib.sha256(raw).hexdigest()
                tests_sha = hashlib.sha256(tests.path.read_bytes()).hexdigest() if tests else None
            else:
                sha, raw = record.sha_of(name, name, one.stat)
                tests_sha = record.sha_of(str(tests.path), str(tests.path), tests.stat)[0] if tests else None
        except OSError as err:
            unreadable.append((display, f"cannot read: {err.strerror}"))
            continue
        rules.append(Source(one.path, display, sha, tests_sha, raw))
    if record is not None:
        record.forget_all_but([str(f.path) for f in found] + list(tests_files))
    return Sources(root, tuple(rules), tuple(display_paths(orphans)), tuple(unreadable), tuple(skipped))


@dataclass(frozen=True)
class _File:
    path: Path
    stat: os.stat_result
    symlink: bool


@dataclass(frozen=True)
class Scan:
    """One walk of a rules folder: rule files (sorted as paths sort), tests files (by path), entries
    named like rule files that are not regular files (display path, why: a warning each), and
    rule files whose names are not UTF-8 (display path, why: an error each)."""

    rules: list[_File]
    tests: dict[str, _File]
    skipped: list[tuple[str, str]]
    bad_names: list[tuple[str, str]]

    def orphans(self) -> list[Path]:
        """Tests files with no rule file beside them."""
        have = set()
        for one in self.rules:
            text = str(one.path)
            have.add(text[: len(text) - len(one.path.name)] + rule_base(one.path.name))
        return sorted(
            (t.path for key, t in self.tests.items() if key[: len(key) - len(t.path.name)] + rule_base(t.path.name) not in have),
            key=_order,
        )


def _why_not_regular(path: Path, symlink: bool) -> str:
    """Why an entry named like a rule file is not read as one."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "a symbolic link that loops; not read"
        if symlink and err.errno == errno.ENOENT:
            return "a broken symbolic link; not read"
        return f"cannot read: {err.strerror}"
    if stat.S_ISDIR(mode):
        return "a folder named like a rule file; its contents are read as any folder's" if not symlink else (
            "a symbolic link to a folder; not entered")
    if stat.S_ISFIFO(mode):
        return "a FIFO, not a regular file; not read"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file; not read"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file; not read"
    return "not a regular file; not read"


def scan(root: Path) -> Scan:
    """Rule files (sorted as ``rule_files`` sorts them), tests files (by path), and what is named
    like a rule file but cannot be one, below root."""
    rules: list[_File] = []
    tests: dict[str, _File] = {}
    skipped: list[tuple[str, str]] = []
    bad: list[tuple[str, str]] = []
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError as err:
            skipped.append((shown(os.fsdecode(folder)), f"cannot read the folder: {err.strerror}"))
            continue
        for entry in listed:
            name = entry.name
            named = name.endswith(RULE_SUFFIXES)
            if entry.is_dir(follow_symlinks=False):  # as rglob: symlinked folders are not entered
                folders.append(folder / name)
                if named:
                    skipped.append((_display_in(folder, name), _why_not_regular(folder / name, False)))
                continue
            if not named:
                continue
            path = folder / name
            try:
                regular = entry.is_file() and stat.S_ISREG(entry.stat().st_mode)
            except OSError:
                regular = False
            if not regular:
                skipped.append((_display_in(folder, name), _why_not_regular(path, entry.is_symlink())))
                continue
            if not _utf8(name):
                bad.append((_display_in(folder, name), "the file name is not UTF-8; rename it"))
                continue
            if is_tests_name(name):
                tests[str(path)] = _File(path, entry.stat(), entry.is_symlink())
            else:
                rules.append(_File(path, entry.stat(), entry.is_symlink()))
    rules.sort(key=lambda f: _order(f.path))
    skipped.sort()
    bad.sort()
    return Scan(rules, tests, skipped, bad)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _display_in(folder: Path, name: str) -> str:
    """How messages name an entry of a folder, without resolving the entry itself (a symbolic
    link that loops cannot be resolved)."""
    base = display_path(folder)
    return shown(name if base == "." else f"{base}/{name}")


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, RuntimeError, OSError):  # outside the cwd, or a symbolic link that loops
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
