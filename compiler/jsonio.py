"""detc's JSON: orjson writes it (the standard library's indenting encoder is pure Python, and a
large rule set's manifest is megabytes); what orjson refuses (an integer beyond 64 bits) falls back
to the standard library, written in the same form."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def _encode(obj: Any, option: int, indent: int | None, default: Callable[[Any], Any] | None = None) -> bytes:
    try:
        return orjson.dumps(obj, option=option, default=default)
    except (orjson.JSONEncodeError, TypeError):
        separators = None if indent else (",", ":")
        text = json.dumps(obj, sort_keys=True, indent=indent, separators=separators, ensure_ascii=False, default=default)
        return text.encode("utf-8")


def dumps(obj: Any) -> bytes:
    """The one JSON form detc writes as a file: sorted keys, two-space indent, trailing newline."""
    return _encode(obj, _PRETTY, 2) + b"\n"


def compact(obj: Any) -> bytes:
    """Canonical JSON on one line (sorted keys, no spaces): cache entries and the digests of shares."""
    return _encode(obj, orjson.OPT_SORT_KEYS, None)


def plain_value(obj: Any) -> Any:
    """The value as JSON gives it back: tuples as lists, other values (dates, paths) as text."""
    return orjson.loads(_encode(obj, orjson.OPT_SORT_KEYS, None, default=str))
