"""What files held when detc last read them, known again from their metadata.

Like git's index, a record keeps each file's size, modification time and sha256. A file whose
size and modification time are as recorded holds what it held, so an unchanged build neither
reads its rule files to hash them nor reads the output tree to compare it. A file modified less
than ``SETTLE_NS`` before it was read is not recorded ("racily clean", in git's words): a second
change within the same clock tick could leave its metadata as it was, so it is read again next time.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compiler.cache import Cache

SETTLE_NS = 1_000_000_000
"""How long before its reading a file must have last changed for its record to be trusted."""


class FileRecord:
    """Digests of the files below one folder, by relative path, as the cache last saw them."""

    KIND = "files"

    def __init__(self, cache: Cache | None, folder: Path) -> None:
        self.cache = cache if cache is not None and cache.root is not None else None
        self.key = str(folder.resolve())
        self.entries: dict[str, list[int | str]] = {}
        self.changed = False
        if self.cache is not None:
            found = self.cache.get_json(self.KIND, self.key)
            if isinstance(found, dict):
                self.entries = {k: v for k, v in found.items() if isinstance(v, list) and len(v) == 3}

    def digest(self, rel: str, stat: os.stat_result) -> str | None:
        """The recorded digest of a file, if its metadata says it did not change since."""
        entry = self.entries.get(rel)
        if entry is not None and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
            return str(entry[2])
        return None

    def note(self, rel: str, stat: os.stat_result, sha: str, read_ns: int) -> None:
        """Record a file's digest as read at ``read_ns`` (unless it changed just before)."""
        if read_ns - stat.st_mtime_ns < SETTLE_NS:
            if self.entries.pop(rel, None) is not None:
                self.changed = True
            return
        entry: list[int | str] = [stat.st_size, stat.st_mtime_ns, sha]
        if self.entries.get(rel) != entry:
            self.entries[rel] = entry
            self.changed = True

    def forget_all_but(self, kept: Iterable[str]) -> None:
        keep = set(kept)
        for rel in [r for r in self.entries if r not in keep]:
            del self.entries[rel]
            self.changed = True

    def save(self) -> None:
        if self.cache is not None and self.changed:
            self.cache.put_json(self.KIND, self.key, self.entries)
            self.changed = False

    def sha_of(self, path: str | Path, rel: str, stat: os.stat_result | None = None) -> tuple[str, bytes | None]:
        """A file's digest, from the record when its metadata (``stat``, if the caller has it)
        allows, else by reading it (then its bytes come along)."""
        stat = stat or os.stat(path)
        known = self.digest(rel, stat)
        if known is not None:
            return known, None
        read_ns = time.time_ns()
        with open(path, "rb") as handle:
            data = handle.read()
        sha = hashlib.sha256(data).hexdigest()
        if os.stat(path).st_mtime_ns == stat.st_mtime_ns:  # not changed while being read
            self.note(rel, stat, sha, read_ns)
        return sha, data
