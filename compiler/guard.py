"""Where detc may write: an output folder is new, empty or detc's own, and never holds what a user owns."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from compiler.errors import UsageError

MANIFEST_HEAD = b'{\n  "detc_version": '
"""How every manifest.json detc writes begins (sorted keys, two-space indent: ``build.dumps``)."""
PACKAGE_HEAD = b'{\n  "client": '
"""How every ``NAME.package.json`` detc writes begins."""


def _starts_with(path: Path, head: bytes) -> bool:
    try:
        if not path.is_file():
            return False
        with open(path, "rb") as handle:
            return handle.read(len(head)) == head
    except OSError:
        return False


def is_detc_output(folder: Path) -> bool:
    """Whether a folder holds a manifest.json that detc wrote."""
    return _starts_with(folder / "manifest.json", MANIFEST_HEAD)


def is_detc_packages(folder: Path) -> bool:
    """Whether a folder holds at least one package manifest that detc wrote."""
    try:
        return any(_starts_with(p, PACKAGE_HEAD) for p in folder.glob("*.package.json"))
    except OSError:
        return False


def repository_root(start: Path) -> Path | None:
    """The git work tree holding ``start`` (the nearest folder upwards with a ``.git``), if any."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _shown(path: Path) -> str:
    return repr(os.fsdecode(path)) if _needs_quotes(os.fsdecode(path)) else os.fsdecode(path)


def _needs_quotes(text: str) -> bool:
    return any(not ch.isprintable() for ch in text) or text != text.strip()


def check_output(
    output: Path, *, protected: Sequence[tuple[str, Path]], owned: str = "build", contents: bool = True,
    preserved: Sequence[str] = (),
) -> None:
    """Refuse (``UsageError``, one line) to write ``output`` unless it is missing, empty or detc's
    own (``owned``: ``build`` for a build's folder, ``package`` for a package folder), and whenever
    it is or holds one of the ``protected`` paths (what, path), a repository (``.git``) or the
    current repository root. ``contents=False`` checks the place alone (a folder that only holds
    the one detc writes, as ``--output`` holds ``clients/NAME``); entries named in ``preserved`` are
    never written, so they do not count against emptiness."""
    shown = _shown(output)
    if output.is_symlink() and not output.exists():
        raise UsageError(f"--output {shown}: a broken symbolic link, not a folder")
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {shown}: not a folder (refusing to replace a file)")
    where = output.resolve()
    cwd_repo = repository_root(Path.cwd().resolve())
    guarded = [(what, path.resolve()) for what, path in protected if path.exists()]
    if cwd_repo is not None:
        guarded.append(("the repository root", cwd_repo))
    for what, path in guarded:
        if path == where or where in path.parents:
            held = "is" if path == where else "holds"
            raise UsageError(f"--output {shown}: refusing to write there: it {held} {what} ({_shown(path)})")
    if (where / ".git").exists():
        raise UsageError(f"--output {shown}: refusing to write there: it holds a repository (.git)")
    if not contents or not where.is_dir():
        return
    try:
        with os.scandir(where) as entries:
            empty = all(entry.name in preserved for entry in entries)
    except OSError as err:
        raise UsageError(f"--output {shown}: cannot read the folder: {err.strerror}") from err
    if empty:
        return
    if owned == "build" and is_detc_output(where):
        return
    if owned == "package" and is_detc_packages(where):
        return
    kind = "manifest.json" if owned == "build" else "NAME.package.json"
    raise UsageError(
        f"--output {shown}: refusing to write there: the folder is not empty and holds no detc {kind} "
        "(give a new or empty folder, or one detc wrote)"
    )
