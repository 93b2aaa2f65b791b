"""Write a generated tree atomically, and compare a fresh build with what is on disk."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.errors import EmitError
from compiler.naming import check_relative

if TYPE_CHECKING:
    from compiler.filestate import FileRecord

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False where unavailable."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _owned_entries(root: Path, preserve: Sequence[str]) -> list[tuple[str, os.DirEntry[str]]]:
    """(relative path, directory entry) of every owned file under root, sorted (symlinked
    folders are not entered; a symlink to a file counts as the file)."""
    found: list[tuple[str, os.DirEntry[str]]] = []
    if not root.is_dir():
        return found
    folders: list[tuple[str, str]] = [(os.fspath(root), "")]
    while folders:
        folder, rel_folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if not rel_folder and entry.name in preserve:
                    continue
                rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, rel))
                elif entry.is_file():
                    found.append((rel, entry))
    found.sort(key=lambda item: item[0])
    return found


def existing_files(root: Path, preserve: Sequence[str] = ()) -> dict[str, bytes]:
    """Files currently under root that a build owns (everything but the preserved top-level
    entries), by relative path in sorted order."""
    found: dict[str, bytes] = {}
    for rel, entry in _owned_entries(root, preserve):
        with open(entry.path, "rb") as handle:
            found[rel] = handle.read()
    return found


def digests(root: Path, preserve: Sequence[str] = (), record: FileRecord | None = None) -> dict[str, str]:
    """sha256 of every file under root that a build owns; with a record, files whose metadata is
    as recorded are not read."""
    if record is None:
        return {rel: hashlib.sha256(data).hexdigest() for rel, data in existing_files(root, preserve).items()}
    found = {rel: record.sha_of(entry.path, rel, entry.stat())[0] for rel, entry in _owned_entries(root, preserve)}
    record.forget_all_but(found)
    return found


@dataclass(frozen=True)
class Drift:
    stale: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not (self.stale or self.missing or self.extra)

    def lines(self) -> list[str]:
        return (
            [f"stale: {p}" for p in self.stale]
            + [f"missing: {p}" for p in self.missing]
            + [f"extra: {p}" for p in self.extra]
        )


def compare(
    root: Path, files: Mapping[str, bytes], preserve: Sequence[str] = (), current: Mapping[str, str] | None = None,
    wanted: Mapping[str, str] | None = None,
) -> Drift:
    """What differs between root and files; ``current`` and ``wanted``: root's and the files'
    digests, when known already."""
    have = digests(root, preserve) if current is None else current
    want = wanted if wanted is not None else {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}
    return Drift(
        stale=tuple(sorted(p for p in want if p in have and have[p] != want[p])),
        missing=tuple(sorted(p for p in want if p not in have)),
        extra=tuple(sorted(p for p in have if p not in want)),
    )


def write_tree(
    root: Path, files: Mapping[str, bytes], preserve: Sequence[str] = (), *,
    current: Mapping[str, str] | None = None, record: FileRecord | None = None,
    wanted: Mapping[str, str] | None = None, abort: Callable[[], None] | None = None,
) -> bool:
    """Replace the owned content of root with files, all at once: readers see old or new, never a
    mix. Returns False, writing nothing, when root already holds exactly these files.

    The new tree is staged beside root, then swapped in with an atomic exchange; if the process
    dies before the swap, root is untouched. Files that did not change, and preserved entries,
    are hard-linked into the stage from the current tree (where links work): creating a file
    costs far more than linking one, and a one-rule change leaves most files as they were.
    ``current`` is root's digests and ``wanted`` the files' when the caller has them; ``record``
    learns the new tree. ``abort`` is called just before the swap: when it raises (the user
    interrupted the build), the stage is removed and root is left untouched.
    """
    for rel in files:
        check_relative(rel)
    have = digests(root, preserve, record) if current is None else current
    want = dict(wanted) if wanted is not None else {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}
    if have == want:
        return False
    root = root.resolve() if root.exists() else root.absolute()
    root.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(root)
    stage = root.parent / f".{root.name}.detc-stage-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    try:
        stage.mkdir()
        if root.is_dir():
            for entry in sorted(root.iterdir()):
                if entry.name in preserve:
                    shutil.copytree(entry, stage / entry.name, copy_function=_link_or_copy, symlinks=True)
        made: set[Path] = set()
        for rel, data in sorted(files.items()):
            target = stage / rel
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            if have.get(rel) == want[rel] and _link(root / rel, target):
                continue
            with open(target, "wb") as handle:
                handle.write(data)
        _flush_to_disk(stage)  # the staged tree is on disk before it replaces the old one
        if abort is not None:
            abort()
        if not root.exists():
            os.rename(stage, root)
        elif not _exchange(stage, root):
            # No atomic exchange here: two renames, with a backup kept until the second one lands.
            backup = root.parent / f".{root.name}.detc-old-{os.getpid()}"
            os.rename(root, backup)
            os.rename(stage, root)
            stage = backup
    except OSError as err:
        raise EmitError(f"cannot write {root}: {err.strerror or err}") from err
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    if record is not None:
        _learn(record, root, want)
    return True


def _learn(record: FileRecord, root: Path, want: Mapping[str, str]) -> None:
    """Record the tree just written: linked files keep their old metadata (trusted); files written
    now are too fresh to trust (``FileRecord.note`` leaves them out until a later read)."""
    now = time.time_ns()
    for rel, sha in want.items():
        try:
            stat = os.stat(root / rel)
        except OSError:
            continue
        record.note(rel, stat, sha, now)
    record.forget_all_but(want)


def _link(source: Path, target: Path) -> bool:
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


def _flush_to_disk(stage: Path) -> None:
    """One syncfs of the file system holding the stage (Linux), instead of an fsync per file;
    elsewhere an fsync per file."""
    if sys.platform.startswith("linux"):
        fd = os.open(stage, os.O_RDONLY)
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.syncfs(fd) == 0:
                return
        except (OSError, AttributeError):
            pass
        finally:
            os.close(fd)
    for path in stage.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _remove_abandoned(root: Path) -> None:
    """Delete staging trees left beside root by builds that were killed before their swap."""
    for leftover in root.parent.glob(f".{root.name}.detc-*-*"):
        pid = leftover.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_files(directory: Path, files: Mapping[str, bytes]) -> None:
    """Write a few files into a directory, each atomically (temp file, fsync, rename)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for rel, data in sorted(files.items()):
            check_relative(rel)
            target = directory / rel
            temp = target.with_name(f".{target.name}.detc-tmp-{os.getpid()}")
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
    except OSError as err:
        raise EmitError(f"cannot write {directory}: {err.strerror or err}") from err
