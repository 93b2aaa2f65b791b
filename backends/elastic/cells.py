"""Elastic's cells: one per logsource family it stores (see compiler/logsources)."""

from __future__ import annotations

from types import ModuleType

from backends.elastic import cloudtrail, index_mapping, windows
from backends.elastic.index_mapping import FieldSpec
from backends.elastic.windows import index_mapping as windows_mapping

CELLS: dict[str, ModuleType] = {"cloudtrail": cloudtrail, "windows": windows}
"""Family name → cell package (``pipeline``, ``shaper``, ``storage``)."""


def field_spec(name: str) -> FieldSpec:
    """A field's type in the data streams the cells store: each cell's mapping types its own fields
    (no field name is typed differently by two of them, a test checks), strings are keywords elsewhere."""
    return index_mapping.typed(name) or windows_mapping.typed(name) or index_mapping.field_spec(name)
