"""Dotted field paths in nested JSON-like documents."""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()
"""As a value to set: remove the field (and the objects its removal leaves empty)."""


def set_path(doc: dict[str, Any], path: str, value: Any, arrays: Collection[str] = ()) -> None:
    """Set a dotted field in a nested document, in place, making the objects on the way (a
    non-object on the way is replaced); ``ABSENT`` removes it. A step of the path named in ``arrays``
    (``"resources"``) is a JSON array: the path goes on in its first element (made if needed)."""
    _set(doc, path.split("."), value, "", arrays)


def _set(node: dict[str, Any], parts: list[str], value: Any, prefix: str, arrays: Collection[str]) -> None:
    key = parts[0]
    if len(parts) == 1:
        if value is ABSENT:
            node.pop(key, None)
        else:
            node[key] = copy.deepcopy(value)
        return
    path = prefix + key
    child = node.get(key)
    if path in arrays:
        if not (isinstance(child, list) and child and isinstance(child[0], dict)):
            if value is ABSENT:
                return
            child = [{}]
            node[key] = child
        inner = child[0]
    else:
        if not isinstance(child, dict):
            if value is ABSENT:
                return
            child = {}
            node[key] = child
        inner = child
    _set(inner, parts[1:], value, path + ".", arrays)
    if value is ABSENT and not inner:
        del node[key]
