"""A Sigma string as a regular expression, in whatever regex dialect a backend writes.

Backends that must state Sigma's wildcards as a regex (Lucene's case folding, Splunk's
``| where match()``) differ only in how they write one literal run of characters; the walk
over the string's parts is this one. (The reference evaluator keeps its own, on purpose: it is
the independent judge of what these produce.)
"""

from __future__ import annotations

from collections.abc import Callable

from sigma.types import SigmaString, SpecialChars


class UnresolvedPlaceholder(ValueError):
    """The string still holds an ``|expand`` placeholder; no value list was given for it."""


def sigma_string_pattern(
    value: SigmaString, literal: Callable[[str], str], *, multi: str = ".*", single: str = "."
) -> str:
    """``*`` → ``multi``, ``?`` → ``single``, every other run through ``literal``."""
    out: list[str] = []
    for part in value.s:
        if part == SpecialChars.WILDCARD_MULTI:
            out.append(multi)
        elif part == SpecialChars.WILDCARD_SINGLE:
            out.append(single)
        elif isinstance(part, str):
            out.append(literal(part))
        else:
            raise UnresolvedPlaceholder(f"placeholder %{part.name}% is not resolved")
    return "".join(out)
