"""A content-addressed cache: what a compilation depends on is hashed into its key."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from compiler import __version__
from compiler.paths import display_path, orphan_tests_files, rule_files, tests_path_for

DEFAULT_DIR = Path(".detc-cache")


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


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


def build_key(root: Path, selection: list[str] | None, profile_name: str, profile_sha: str) -> str:
    """Everything a whole build's bytes depend on, computed without importing any backend:
    rule and tests files (paths and bytes), all code, library versions, targets asked for, profile."""
    inputs = []
    for path in rule_files(root):
        tests = tests_path_for(path)
        inputs.append(
            (
                display_path(path),
                hashlib.sha256(path.read_bytes()).hexdigest(),
                hashlib.sha256(tests.read_bytes()).hexdigest() if tests.exists() else None,
            )
        )
    orphans = [display_path(p) for p in orphan_tests_files(root)]
    return _digest(
        "build", environment_fingerprint(), package_fingerprint("backends"),
        sorted(selection) if selection else "all", profile_name, profile_sha, inputs, orphans,
    )


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
