"""What a logsource is, whatever the platform: its raw records, its field names, its own conditions.

A *family* knows the raw form of its records (a CloudTrail record, a Windows event as evtx_dump writes
it): how Sigma field names resolve on one (``view``), how to recognise one, how to set a field in one.
A *logsource* is what a Sigma rule names (``product``/``category``/``service``): a family plus the
*variants* of record it covers, each with the conditions that pick it out (Sysmon EventID 1 on the
Sysmon channel) and the names its fields go by there (Security 4688 writes ``Image`` as
``NewProcessName``). Platforms never appear here: each platform has one *cell* per family.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Record = Mapping[str, Any]


def dotted_values(node: Any, path: str) -> list[Any]:
    """Every value at a dotted path; arrays on the way fan out, a literal dotted key also counts."""
    out: list[Any] = []
    _collect(node, path.split("."), out)
    return out


def _collect(node: Any, parts: list[str], out: list[Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, parts, out)
        return
    if not parts:
        out.append(node)
        return
    if not isinstance(node, Mapping):
        return
    # Try the longest literal key first so that "a.b" stored flat is found as well as nested.
    for cut in range(len(parts), 0, -1):
        key = ".".join(parts[:cut])
        if key in node:
            _collect(node[key], parts[cut:], out)


def leaves(values: list[Any]) -> Iterator[Any]:
    """The scalars of a value list, arrays inside it flattened."""
    for value in values:
        if isinstance(value, list):
            yield from leaves(value)
        else:
            yield value


def _equal(have: Any, want: Any) -> bool:
    """A condition value against a record value: numbers as numbers (evtx_dump writes EventID as an
    integer, other tools as text), text case-insensitively as Sigma compares it."""
    if isinstance(want, int) and not isinstance(want, bool):
        try:
            return not isinstance(have, bool) and int(str(have).strip()) == want
        except ValueError:
            return False
    return isinstance(have, str) and have.casefold() == str(want).casefold()


class Family:
    """The raw records of one family of logsources (one cell per platform serves them all)."""

    name: str
    description: str

    def view(self, record: Record) -> Mapping[str, Any]:
        """The record as Sigma field names see it (a mapping read with dotted paths)."""
        raise NotImplementedError

    def recognises(self, record: Any) -> bool:
        """Whether a value is a raw record of this family."""
        raise NotImplementedError

    def set_field(self, record: Record, name: str, value: Any) -> dict[str, Any]:
        """A copy of the record with a Sigma field set to a value."""
        raise NotImplementedError

    def complete(self, record: Record) -> dict[str, Any]:
        """A copy of a record with what every record of its kind carries besides the logsource's own
        conditions (a Windows channel's provider), for records built from nothing (generated events)."""
        return dict(record)

    def can_hold(self, record: Record, name: str, value: Any) -> bool:
        """Whether the record (its kind: a Windows channel) can hold the value in that field: a field
        its source always writes in one form (Sysmon's ``Hashes``, ``User``) holds nothing else."""
        return True

    def fits(self, record: Record, name: str, value: Any) -> list[Any]:
        """Values of that field's form that hold the text of a value the record cannot hold (a Sysmon
        ``User`` without its domain: ``DOMAIN\\value``, ``value\\user``), for a generator to try."""
        return []


@dataclass(frozen=True, kw_only=True)
class Variant:
    """One kind of raw record a logsource covers."""

    conditions: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    """Sigma field name → the values it may hold (any of them); every field must hold one."""
    renames: Mapping[str, str] = field(default_factory=dict)
    """Sigma field name → the name this kind of record stores it under."""

    def holds(self, view: Mapping[str, Any]) -> bool:
        return all(
            any(_equal(have, want) for have in leaves(dotted_values(view, name)) for want in wanted)
            for name, wanted in self.conditions.items()
        )


UNCONDITIONAL = Variant()


@dataclass(frozen=True, kw_only=True)
class Logsource:
    """A logsource a Sigma rule names, as records of one family."""

    family: Family
    product: str
    category: str | None = None
    service: str | None = None
    variants: tuple[Variant, ...] = (UNCONDITIONAL,)
    """The kinds of record it covers (OR); the first that holds decides the field names."""
    description: str = ""

    @property
    def name(self) -> str:
        """``product/category`` or ``product/service``: how reports and errors name it."""
        return "/".join(p for p in (self.product, self.category or self.service) if p)

    def variant(self, view: Mapping[str, Any]) -> Variant | None:
        return next((v for v in self.variants if v.holds(view)), None)

    def admits(self, record: Record) -> bool:
        """Whether a record is one of this logsource's (its implied conditions hold)."""
        if self.variants == (UNCONDITIONAL,):
            return True
        return self.variant(self.family.view(record)) is not None

    def admitted_view(self, record: Record) -> Mapping[str, Any] | None:
        """The record under the Sigma field names rules of this logsource use, or None when the
        logsource's own conditions do not hold on it."""
        view = self.family.view(record)
        if self.variants == (UNCONDITIONAL,):
            return view
        chosen = self.variant(view)
        if chosen is None:
            return None
        if not chosen.renames:
            return view
        renamed = dict(view)
        for sigma_name, stored in chosen.renames.items():
            renamed.pop(sigma_name, None)
            if stored in view:
                renamed[sigma_name] = view[stored]
        return renamed

    def view(self, record: Record) -> Mapping[str, Any]:
        """The record under the Sigma field names (the family's names where no variant holds)."""
        admitted = self.admitted_view(record)
        return self.family.view(record) if admitted is None else admitted

    def field_values(self, record: Record, name: str) -> list[Any]:
        """Every value a Sigma field name has on a record of this logsource."""
        return dotted_values(self.view(record), name)

    def set_field(self, record: Record, name: str, value: Any) -> dict[str, Any]:
        """A copy of the record with a Sigma field set, under the name its kind of record uses."""
        chosen = self.variant(self.family.view(record)) if self.variants != (UNCONDITIONAL,) else None
        stored = chosen.renames.get(name, name) if chosen else name
        return self.family.set_field(record, stored, value)
