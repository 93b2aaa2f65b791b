"""The intermediate form between Sigma and an event pattern: boolean formulas over field tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

Scalar = Union[str, int, float, bool]
Path = tuple[str, ...]


@dataclass(frozen=True)
class Equals:
    value: Scalar
    ignore_case: bool = False


@dataclass(frozen=True)
class Prefix:
    text: str
    ignore_case: bool = False


@dataclass(frozen=True)
class Suffix:
    text: str
    ignore_case: bool = False


@dataclass(frozen=True)
class Wildcard:
    pattern: str
    """In EventBridge syntax already: ``*`` is the wildcard, ``\\*`` and ``\\\\`` are literal."""
    ignore_case: bool = False


@dataclass(frozen=True)
class Numeric:
    ops: tuple[tuple[str, int | float], ...]
    """EventBridge operator/number pairs, e.g. ((">", 0), ("<=", 5))."""


@dataclass(frozen=True)
class Cidr:
    network: str


@dataclass(frozen=True)
class Present:
    """Sigma ``|exists: true``: the field is there, be it empty or null."""


@dataclass(frozen=True)
class AnyValue:
    """Sigma ``f: '*'``: the field holds a value (JSON null is none)."""


@dataclass(frozen=True)
class Absent:
    """Sigma ``|exists: false``: the field is not there (JSON null is there)."""


@dataclass(frozen=True)
class NullOrAbsent:
    """Sigma ``null``: absent, or present as JSON null."""


Test = Union[Equals, Prefix, Suffix, Wildcard, Numeric, Cidr, Present, AnyValue, Absent, NullOrAbsent]


@dataclass(frozen=True)
class Lit:
    path: Path
    test: Test
    negated: bool = False


@dataclass(frozen=True)
class And:
    args: tuple["Formula", ...]


@dataclass(frozen=True)
class Or:
    args: tuple["Formula", ...]


@dataclass(frozen=True)
class Not:
    arg: "Formula"


Formula = Union[Lit, And, Or, Not]


def nnf(f: Formula, negate: bool = False) -> Formula:
    """Push every NOT down to the literals with De Morgan's laws."""
    if isinstance(f, Not):
        return nnf(f.arg, not negate)
    if isinstance(f, Lit):
        return Lit(f.path, f.test, f.negated != negate)
    args = tuple(nnf(a, negate) for a in f.args)
    if isinstance(f, And):
        return Or(args) if negate else And(args)
    return And(args) if negate else Or(args)


def conjuncts(f: Formula) -> tuple[Formula, ...]:
    """The top-level AND terms of a formula in negation normal form."""
    return tuple(a for arg in f.args for a in conjuncts(arg)) if isinstance(f, And) else (f,)


def disjuncts(f: Formula) -> tuple[Formula, ...]:
    return tuple(a for arg in f.args for a in disjuncts(arg)) if isinstance(f, Or) else (f,)


def pinned_values(f: Formula, path: Path) -> tuple[Scalar, ...] | None:
    """Values a field must equal for the formula to hold, if a top-level AND term pins it to a list."""
    for term in conjuncts(f):
        alternatives = disjuncts(term)
        if all(
            isinstance(a, Lit) and a.path == path and not a.negated and isinstance(a.test, Equals)
            for a in alternatives
        ):
            return tuple(a.test.value for a in alternatives)  # type: ignore[union-attr]
    return None
