"""The logsource axis: every logsource detc knows, and the one place a platform's cells are looked up.

Logsources × platforms is a matrix. This package is its platform-free side, one module per family
(``cloudtrail.py``, ``windows.py``): what a raw record is, how Sigma field names resolve on it, the
conditions each logsource implies, how to recognise and to change a record. Each platform package
holds the other side, one *cell* per family it supports (``backends/<platform>/<family>/``:
``pipeline.py``, ``shaper.py``, ``storage.py``), listed in its ``CELLS``. A rule whose logsource
has no cell on a platform is unsupported there, with the one reason :func:`cell_for` gives.

Adding a logsource: a module here defining ``FAMILY`` and ``LOGSOURCES`` (and, optionally,
``UNDEFINED``: logsources it knows it cannot define, with the reason), its name in ``MODULES``,
then one cell per platform that should compile it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, TypeVar

from compiler.errors import ShapeError, UnsupportedFeature
from compiler.logsources.model import Family, Logsource, Variant, dotted_values, leaves

__all__ = [
    "FAMILIES", "LOGSOURCES", "Family", "Logsource", "Variant", "cell_for", "describe", "dotted_values",
    "find", "leaves", "recognise", "record_cell", "require",
]

MODULES: tuple[str, ...] = ("cloudtrail", "windows")
"""The families, one module each in this package."""

C = TypeVar("C")


def _load() -> tuple[dict[str, Family], tuple[Logsource, ...], dict[tuple[str, str | None, str | None], str]]:
    families: dict[str, Family] = {}
    sources: list[Logsource] = []
    undefined: dict[tuple[str, str | None, str | None], str] = {}
    for name in MODULES:
        module = importlib.import_module(f"compiler.logsources.{name}")
        families[module.FAMILY.name] = module.FAMILY
        sources.extend(module.LOGSOURCES)
        undefined.update(getattr(module, "UNDEFINED", {}))
    return families, tuple(sources), undefined


FAMILIES, LOGSOURCES, _UNDEFINED = _load()

_BY_KEY: dict[tuple[str, str | None, str | None], Logsource] = {
    (s.product, s.category, s.service): s for s in LOGSOURCES
}


def _parts(logsource: Any) -> tuple[str | None, str | None, str | None]:
    """(product, category, service) of a pySigma ``SigmaLogSource`` or a rule's ``logsource`` mapping."""
    if isinstance(logsource, Mapping):
        get = logsource.get
        return get("product"), get("category"), get("service")
    return logsource.product, logsource.category, logsource.service


def describe(logsource: Any) -> str:
    """``product/category/service`` as a rule writes it, for messages."""
    product, category, service = _parts(logsource)
    return "/".join(str(p) for p in (product, category, service) if p) or "(none)"


def find(logsource: Any) -> Logsource | None:
    """The logsource a rule's ``logsource`` names: exactly, else by its category, else by its service."""
    product, category, service = _parts(logsource)
    if product is None:
        return None
    for key in ((product, category, service), (product, category, None), (product, None, service)):
        if key[1] is None and key[2] is None:
            continue
        found = _BY_KEY.get(key)
        if found is not None:
            return found
    return None


def require(logsource: Any, *, target: str | None = None) -> Logsource:
    """The logsource a rule names, or ``unsupported`` when detc has no definition of it."""
    found = find(logsource)
    if found is None:
        product, category, service = _parts(logsource)
        reason = _UNDEFINED.get((str(product), category, service))
        if reason is not None:
            raise UnsupportedFeature(f"logsource {describe(logsource)}: {reason}", target=target)
        raise UnsupportedFeature(
            f"logsource {describe(logsource)}: detc has no definition of it "
            f"(families: {', '.join(FAMILIES)}; see compiler/logsources/)",
            target=target,
        )
    return found


def cell_for(cells: Mapping[str, C], logsource: Any, *, target: str) -> C:
    """A platform's cell for a rule's logsource: the one place where a missing cell becomes a reason."""
    source = require(logsource, target=target)
    cell = cells.get(source.family.name)
    if cell is None:
        raise UnsupportedFeature(
            f"logsource {source.name}: {target} has no cell for {source.family.name} logsources "
            f"(its cells: {', '.join(cells) or 'none'})",
            target=target,
        )
    return cell


def recognise(record: Any) -> Family | None:
    """The family a raw record belongs to (the first that recognises it)."""
    return next((f for f in FAMILIES.values() if f.recognises(record)), None)


def record_cell(cells: Mapping[str, C], record: Any, logsource: Any = None, *, target: str) -> C:
    """The cell that shapes a raw record: that of the rule's logsource when given, else that of the
    family that recognises the record."""
    if logsource is not None:
        family = require(logsource, target=target).family
    else:
        found = recognise(record)
        if found is None:
            raise ShapeError(
                f"not a raw record of any logsource detc knows (families: {', '.join(FAMILIES)})", target=target
            )
        family = found
    cell = cells.get(family.name)
    if cell is None:
        raise ShapeError(f"{target} has no cell for {family.name} records", target=target)
    return cell
