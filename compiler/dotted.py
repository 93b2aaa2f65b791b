"""Dotted field paths in nested JSON-like documents."""

from __future__ import annotations

from typing import Any


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted field in a nested document, making the objects on the way (a non-object on the
    way is replaced)."""
    parts = path.split(".")
    node = doc
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value
