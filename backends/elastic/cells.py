"""Elastic's cells: one per logsource family it stores (see compiler/logsources)."""

from __future__ import annotations

from types import ModuleType

from backends.elastic import cloudtrail

CELLS: dict[str, ModuleType] = {"cloudtrail": cloudtrail}
"""Family name → cell package (``pipeline``, ``shaper``, ``storage``)."""
