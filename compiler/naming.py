"""File names derived from rules: always one safe path segment."""

from __future__ import annotations

import re

from compiler.errors import EmitError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(text: str, fallback: str = "rule") -> str:
    """A file-name-safe form of text: no separators, no dot-dot, never empty."""
    cleaned = _UNSAFE.sub("_", text).strip("._-")[:120]
    return cleaned or fallback


def rule_stem(rule_path: str) -> str:
    """The artifact stem of a rule: its file name without .yml (or .yaml), made safe."""
    name = rule_path.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".yml", ".yaml"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return slug(name)


def check_relative(path: str) -> str:
    """Refuse artifact paths that could leave the output directory."""
    if (
        not path
        or "\x00" in path
        or "\\" in path
        or path.startswith("/")
        or any(part in ("", ".", "..") for part in path.split("/"))
    ):
        raise EmitError(f"unsafe artifact path {path!r}")
    return path
