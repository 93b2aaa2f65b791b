"""Whether a build's output folder already holds what the build would make, without compiling:
the build's key (from the inputs' fingerprints), what the cache recorded for that key (the digest
of every file it made, and of the event files it read), and the output folder's digests, read in a
thread of their own while a build compiles. The record's layout is this module's alone: the
pipeline writes it with ``record_build``, the CLI asks ``unchanged``."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from compiler.cache import Cache
from compiler.fingerprint import build_key, events_unchanged
from compiler.outputs import digests
from compiler.paths import Sources
from compiler.paths import all_clients as all_clients_in
from compiler.profile import DEFAULT_PROFILE

NAMESPACE = "build"


def build_keys(
    cache: Cache, rules: Sources, target: Sequence[str] | None, clients: Sequence[str] | None,
    all_clients: bool, clients_dir: Path,
) -> dict[str, str]:
    """Each requested build's key (profile name to key), computed without importing pySigma;
    empty when the cache is off or a profile is missing (the full path reports that)."""
    if cache.root is None:
        return {}
    selection = list(target) if target else None
    if not all_clients and not clients:
        return {DEFAULT_PROFILE.name: build_key(rules, selection, DEFAULT_PROFILE.name, "")}
    names = all_clients_in(clients_dir) if all_clients else list(dict.fromkeys(clients or []))
    if not names:
        return {}
    keys: dict[str, str] = {}
    for name in names:
        path = clients_dir / f"{name}.yml"
        if not path.is_file():
            return {}
        keys[name] = build_key(rules, selection, name, hashlib.sha256(path.read_bytes()).hexdigest())
    return keys


def record_build(cache: Cache, key: str, files: Mapping[str, str], events: Mapping[str, str | None]) -> None:
    """Note what the build of ``key`` made (each file's digest) and the event files it read."""
    cache.put_json(NAMESPACE, key, {"files": dict(files), "events": dict(events)})


class OutputTree:
    """An output folder's current digests, read once per build: from its file record where the
    files' metadata allows, in a thread of its own while the build compiles."""

    def __init__(self, cache: Cache, root: Path, preserve: Sequence[str]) -> None:
        from compiler.filestate import FileRecord

        self.root, self.preserve = root, preserve
        self.record = FileRecord(cache, root)
        self._digests: dict[str, str] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._digests is None and self._thread is None:
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()

    def _read(self) -> None:
        self._digests = digests(self.root, self.preserve, self.record)

    def digests(self) -> dict[str, str]:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._digests is None:
            self._read()
        assert self._digests is not None
        return self._digests


def unchanged(cache: Cache, key: str, tree: OutputTree) -> int | None:
    """The number of files when the output folder holds exactly what the cached build made
    (every file's digest compared); None when it does not or nothing is cached."""
    entry: Any = cache.get_json(NAMESPACE, key)
    if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict):
        return None
    if not events_unchanged(entry.get("events", {})):
        return None
    expected = entry["files"]
    if tree.digests() != expected:
        return None
    return len(expected)


def save_records(inputs: Any, trees: Mapping[str, OutputTree]) -> None:
    """Keep what was learnt of the rule files and the output folders for the next build."""
    inputs.save()
    for one in trees.values():
        one.digests()  # never leave a reading thread behind
        one.record.save()
