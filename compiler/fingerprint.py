"""What a build's results depend on, as digests: detc's code, the installed libraries, a platform
package's code, the rule and tests files, the fixtures' event files. The cache keys its entries on
these; it knows nothing of builds itself."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from compiler import __version__
from compiler.cache import digest, key
from compiler.paths import Sources


def _treedigest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".lark", ".json", ".yml", ".toml") and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _package_dir(package: str) -> Path:
    """A package's folder, found without importing (and so without running) it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(package)
    return Path(next(iter(spec.submodule_search_locations)))


@functools.lru_cache(maxsize=None)
def package_fingerprint(package: str) -> str:
    """Hash of every source and data file of a package: any edit to its code changes it."""
    return _treedigest(_package_dir(package))


@functools.lru_cache(maxsize=None)
def environment_fingerprint() -> str:
    """detc's own compiler code, the Python version and every installed distribution's version."""
    # Installed distributions by their metadata folder names (name and version), read from the
    # import path: parsing every METADATA file would cost more than the whole cached build.
    dists = sorted(
        entry
        for folder in sys.path
        if folder and os.path.isdir(folder)
        for entry in os.listdir(folder)
        if entry.endswith((".dist-info", ".egg-info"))
    )
    return digest(__version__, sys.version_info[:2], dists, package_fingerprint("compiler"))


def target_fingerprint(obj: object) -> str:
    """Fingerprint of the platform package that defines a target or emitter."""
    package = type(obj).__module__.rsplit(".", 1)[0]
    return digest(environment_fingerprint(), package_fingerprint(package))


def build_key(sources: Sources, selection: list[str] | None, profile_name: str, profile_sha: str) -> str:
    """Everything a whole build's bytes depend on but the fixtures' event files (whose digests the
    build entry records), computed without importing any backend: rule and tests files (paths
    and bytes), all code, library versions, targets asked for, profile."""
    inputs = [(s.display, s.sha256, s.tests_sha) for s in sources.rules]
    return key(
        "build", environment_fingerprint(), package_fingerprint("backends"),
        sorted(selection) if selection else "all", profile_name, profile_sha, inputs,
        list(sources.orphans), list(sources.unreadable),
    )


def events_unchanged(events: Mapping[str, str | None]) -> bool:
    """Whether the fixture event files recorded with an entry still hold what they held."""
    return not events or file_digests(events) == events


def file_digests(paths: Iterable[str]) -> dict[str, str | None]:
    """sha256 of each file (None where it cannot be read)."""
    out: dict[str, str | None] = {}
    for name in paths:
        try:
            out[name] = hashlib.sha256(Path(name).read_bytes()).hexdigest()
        except OSError:
            out[name] = None
    return out
