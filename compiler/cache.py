"""A content-addressed cache: what a compilation depends on is hashed into its key."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import sys
from pathlib import Path
from typing import Any

from compiler import __version__

DEFAULT_DIR = Path(".detc-cache")
_DEPENDENCIES = ("pysigma", "pysigma-backend-elasticsearch", "pysigma-backend-splunk", "pyyaml", "lark", "luqum")


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def package_fingerprint(package: str) -> str:
    """Hash of every source and data file of a package: any edit to its code changes it."""
    module = sys.modules.get(package) or __import__(package, fromlist=["_"])
    root = Path(module.__file__ or "").parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".lark", ".json", ".yml", ".toml") and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def environment_fingerprint() -> str:
    """detc's own code and the versions of the libraries that shape its output."""
    versions = []
    for dist in _DEPENDENCIES:
        try:
            versions.append((dist, importlib.metadata.version(dist)))
        except importlib.metadata.PackageNotFoundError:
            versions.append((dist, None))
    return _digest(__version__, sys.version_info[:2], versions, package_fingerprint("compiler"))


def target_fingerprint(obj: object) -> str:
    """Fingerprint of the platform package that defines a target or emitter."""
    package = type(obj).__module__.rsplit(".", 1)[0]
    return _digest(environment_fingerprint(), package_fingerprint(package))


class Cache:
    """JSON entries and content-addressed blobs under one directory (never pickles: a cache may be
    restored from an untrusted CI run). A disabled cache stores nothing and finds nothing."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, name: str) -> Path:
        assert self.root is not None
        return self.root / kind / name[:2] / name

    def _read(self, kind: str, name: str) -> bytes | None:
        if self.root is None:
            return None
        try:
            return self._path(kind, name).read_bytes()
        except OSError:
            return None

    def _write(self, kind: str, name: str, data: bytes) -> None:
        if self.root is None:
            return
        path = self._path(kind, name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{path.name}.{os.getpid()}")
            temp.write_bytes(data)
            os.replace(temp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time

    def get_json(self, kind: str, key: str) -> Any | None:
        raw = self._read(kind, key)
        try:
            value = json.loads(raw) if raw is not None else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put_json(self, kind: str, key: str, value: Any) -> None:
        self._write(kind, key, json.dumps(value, sort_keys=True).encode())

    def get_files(self, key: str) -> dict[str, bytes] | None:
        """A whole build's files, if every blob is present and intact."""
        index = self.get_json("build", key)
        if not isinstance(index, dict):
            return None
        files: dict[str, bytes] = {}
        for path, digest in index.items():
            blob = self._read("blob", digest)
            if blob is None or hashlib.sha256(blob).hexdigest() != digest:
                self.hits -= 1
                self.misses += 1
                return None
            files[path] = blob
        return files

    def put_files(self, key: str, files: dict[str, bytes]) -> None:
        index = {}
        for path, data in files.items():
            digest = hashlib.sha256(data).hexdigest()
            self._write("blob", digest, data)
            index[path] = digest
        self.put_json("build", key, index)


def key(*parts: Any) -> str:
    return _digest(*parts)
