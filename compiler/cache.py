"""A content-addressed cache: what a result depends on is hashed into its key.

Entries live in one SQLite file (``.detc-cache/cache.sqlite3``): a large build keeps one entry
per rule, and thousands of small files would cost more to create than the entries save. Values
are JSON, never pickles (a cache may be restored from an untrusted CI run), and a cache that
cannot be read or written only costs time: it is a miss, never a wrong result.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import sqlite3
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from compiler import __version__
from compiler.jsonio import compact
from compiler.paths import Sources

DEFAULT_DIR = Path(".detc-cache")
DB_NAME = "cache.sqlite3"
SCHEMA = 2
"""Bumped whenever the layout of an entry changes: older entries are then never found."""


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def key(*parts: Any) -> str:
    return _digest(SCHEMA, *parts)


def encode(value: Any) -> str:
    """An entry's JSON text (orjson; the standard library for what orjson refuses, such as an
    integer beyond 64 bits)."""
    return compact(value).decode("utf-8")


def _tree_digest(root: Path) -> str:
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
    return _tree_digest(_package_dir(package))


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
    return _digest(__version__, sys.version_info[:2], dists, package_fingerprint("compiler"))


def target_fingerprint(obj: object) -> str:
    """Fingerprint of the platform package that defines a target or emitter."""
    package = type(obj).__module__.rsplit(".", 1)[0]
    return _digest(environment_fingerprint(), package_fingerprint(package))


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    # A rollback journal writes each page once (a write-ahead log writes it twice, to the log and
    # then to the file), truncated rather than deleted after each transaction (creating a file is
    # slow on some file systems); and losing a cache's last writes in a power cut costs a rebuild,
    # never a wrong result (a damaged file is started afresh, see _connect).
    db.execute("PRAGMA journal_mode=TRUNCATE")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(
        "CREATE TABLE IF NOT EXISTS entry (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
        "PRIMARY KEY (kind, key)) WITHOUT ROWID"
    )
    db.execute("SELECT count(*) FROM entry WHERE kind = ''").fetchone()  # a damaged file fails here
    return db


class Cache:
    """JSON values by kind and key in one SQLite file. A disabled cache (``root=None``) stores
    nothing and finds nothing."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _connect(self, create: bool = True) -> sqlite3.Connection | None:
        """The database (created on first write: reading a cache that does not exist finds nothing)."""
        if self.root is None or self._broken:
            return None
        if self._db is None:
            path = self.root / DB_NAME
            if not create and not path.exists():
                return None
            try:
                self._db = _open(path)
            except sqlite3.DatabaseError:
                # Not a database (or damaged): a cache is only ever a copy, so start it afresh.
                try:
                    for leftover in (path, path.with_name(path.name + "-journal")):
                        leftover.unlink(missing_ok=True)
                    self._db = _open(path)
                except (OSError, sqlite3.Error):
                    self._broken = True
                    return None
            except OSError:
                self._broken = True  # cannot be created here: run as if there were no cache
                return None
        return self._db

    def get_many(self, kind: str, keys: Iterable[str]) -> dict[str, Any]:
        """The entries found among keys (a miss is simply absent)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Any] = {}
        db = self._connect(create=False)
        if db is not None:
            try:
                for start in range(0, len(wanted), 500):
                    chunk = wanted[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    for name, value in db.execute(
                        f"SELECT key, value FROM entry WHERE kind = ? AND key IN ({marks})", (kind, *chunk)
                    ):
                        try:
                            found[name] = orjson.loads(value)
                        except (orjson.JSONDecodeError, TypeError):
                            continue
            except sqlite3.Error:
                self._broken = True
                found = {}
        return found

    def get_json(self, kind: str, name: str) -> Any | None:
        return self.get_many(kind, [name]).get(name)

    def put_many(self, kind: str, values: Mapping[str, Any]) -> None:
        """Store entries in one transaction (a failure loses them all, and only costs time)."""
        self.put_texts(kind, {name: encode(value) for name, value in values.items()})

    def put_texts(self, kind: str, texts: Mapping[str, str]) -> None:
        """Store entries given as their JSON text."""
        db = self._connect()
        if db is None or not texts:
            return
        rows = [(kind, name, text) for name, text in texts.items()]
        try:
            with db:
                db.execute("BEGIN")
                db.executemany("INSERT OR REPLACE INTO entry (kind, key, value) VALUES (?, ?, ?)", rows)
        except sqlite3.Error:
            self._broken = True

    def put_json(self, kind: str, name: str, value: Any) -> None:
        self.put_many(kind, {name: value})

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


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
