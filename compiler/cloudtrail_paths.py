"""What is known of a CloudTrail path's shape: which of its segments hold arrays, what its value is.

Platform-free facts about the raw record, for the targets that must know them: Splunk's JSON
extraction names every array on a path with ``{}``, EventBridge's ``exists`` and ``anything-but``
read leaves and array elements differently from Sigma. The table,
``compiler/data/cloudtrail_paths.json``, is made by ``tools/cloudtrail_paths.py`` from every real
CloudTrail record in the corpus (its ``sources`` key names each repository and commit); the few
paths rules use that no record holds come from the AWS API references (``DOCUMENTED``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).resolve().parent / "data" / "cloudtrail_paths.json"


@dataclass(frozen=True)
class PathShape:
    """``arrays``: indexes of the path's segments whose value is a JSON array (the last segment
    included when the path itself holds an array); ``kinds``: what was found at its end, from
    ``object``, ``array``, ``scalar`` and ``null``."""

    arrays: tuple[int, ...]
    kinds: frozenset[str]

    @property
    def scalar(self) -> bool:
        """Whether every value seen at the path was a string, number, boolean or null."""
        return bool(self.kinds) and self.kinds <= {"scalar", "null"}

    @property
    def crosses_array(self) -> bool:
        return bool(self.arrays)


DOCUMENTED: dict[str, PathShape] = {
    # ECS RegisterTaskDefinition: containerDefinitions is a list of ContainerDefinition, whose
    # command is a list of strings and image and name strings (Amazon ECS API Reference,
    # API_RegisterTaskDefinition.html, API_ContainerDefinition.html).
    "requestParameters.containerDefinitions": PathShape((1,), frozenset({"array", "object"})),
    "requestParameters.containerDefinitions.command": PathShape((1, 2), frozenset({"array", "scalar"})),
    "requestParameters.containerDefinitions.image": PathShape((1,), frozenset({"scalar"})),
    "requestParameters.containerDefinitions.name": PathShape((1,), frozenset({"scalar"})),
    # GuardDuty UpdateDetector: Enable is a boolean (Amazon GuardDuty API Reference, API_UpdateDetector.html).
    "requestParameters.enable": PathShape((), frozenset({"scalar"})),
}


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TABLE.read_text("utf-8"))["paths"]
    return data


def shape(path: str) -> PathShape | None:
    """The path's shape, or None when no record and no API reference tells it."""
    if path in DOCUMENTED:
        return DOCUMENTED[path]
    entry = _table().get(path)
    if entry is None:
        return None
    return PathShape(tuple(entry["arrays"]), frozenset(entry["kinds"]))


def object_valued(path: str) -> bool:
    """Whether the path was seen holding a JSON object (or an array of objects)."""
    known = shape(path)
    return known is not None and "object" in known.kinds
