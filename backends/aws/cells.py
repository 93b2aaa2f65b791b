"""EventBridge's cells: one per logsource family whose events reach an event bus (see compiler/logsources)."""

from __future__ import annotations

from types import ModuleType

from backends.aws import cloudtrail

CELLS: dict[str, ModuleType] = {"cloudtrail": cloudtrail}
"""Family name → cell package (``pipeline``, ``shaper``, ``storage``)."""
