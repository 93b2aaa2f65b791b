"""A content-addressed cache: what a result depends on is hashed into its key.

Entries live in one SQLite file (``.detc-cache/cache.sqlite3``): a large build keeps one entry
per rule, and thousands of small files would cost more to create than the entries save. Values
are JSON, never pickles (a cache may be restored from an untrusted CI run), and a cache that
cannot be read or written only costs time: it is a miss, never a wrong result.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from compiler.jsonio import compact

DEFAULT_DIR = Path(".detc-cache")
DB_NAME = "cache.sqlite3"
SCHEMA = 2
"""Bumped whenever the layout of an entry changes: older entries are then never found."""


def digest(*parts: Any) -> str:
    """sha256 of the parts as canonical JSON (other values as their text)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def key(*parts: Any) -> str:
    """An entry's key: the digest of what its value depends on, under this cache's schema."""
    return digest(SCHEMA, *parts)


def encode(value: Any) -> str:
    """An entry's JSON text (orjson; the standard library for what orjson refuses, such as an
    integer beyond 64 bits)."""
    return compact(value).decode("utf-8")


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
