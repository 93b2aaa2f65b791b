"""Helpers the backends share for reading Sigma values: a Sigma string as a regular expression in
whatever dialect a backend writes, a regex value's flags, and a rule's detection items.

Backends that must state Sigma's wildcards as a regex (Lucene's case folding, Splunk's
``| where match()``) differ only in how they write one literal run of characters; the walk
over the string's parts is this one. (The reference evaluator keeps its own, on purpose: it is
the independent judge of what these produce.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import (
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaType,
    SpecialChars,
)

_Value = TypeVar("_Value", bound=SigmaType)


def condition_value(cond: ConditionFieldEqualsValueExpression, kind: type[_Value]) -> _Value:
    """A field condition's value as the type pySigma's backend dispatched on: it picks the
    ``convert_condition_field_eq_val_*`` method by ``isinstance`` of the value (``_str`` for a
    ``SigmaString``, ``_num`` for a ``SigmaNumber``, ...), so in that method this only reads the value
    with its type. A value of another type there is a bug in the dispatch: TypeError."""
    value = cond.value
    if not isinstance(value, kind):
        raise TypeError(f"{type(value).__name__} where pySigma dispatches a {kind.__name__}")
    return value


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


def python_regex_flags(value: SigmaRegularExpression) -> int:
    """The ``re`` flags of a Sigma ``|re`` value's ``|i``/``|m``/``|s`` modifiers."""
    flags = 0
    for flag in value.flags:
        flags |= _RE_FLAGS[flag]
    return flags


_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
    SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
    SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
}


def detection_items(rule: SigmaRule) -> list[SigmaDetectionItem]:
    """Every detection item of a rule, nested detections flattened, in rule order."""
    out: list[SigmaDetectionItem] = []

    def visit(detection: SigmaDetection) -> None:
        for item in detection.detection_items:
            if isinstance(item, SigmaDetection):
                visit(item)
            else:
                out.append(item)

    for detection in rule.detection.detections.values():
        visit(detection)
    return out


def value_fits(value: Any, text: str) -> bool:
    """Whether ``text`` satisfies a Sigma string or regex value (case ignored)."""
    try:
        if isinstance(value, SigmaString):
            # Each literal character and each ``?`` takes one character of the text (case folding
            # with re.IGNORECASE maps one character to one): a value needing more than the text has
            # cannot fit, and no pattern is compiled for it (the callers ask about '' and 'null').
            if sum(len(p) if isinstance(p, str) else p == SpecialChars.WILDCARD_SINGLE for p in value.s) > len(text):
                return False
            return re.fullmatch(sigma_string_pattern(value, re.escape), text, re.IGNORECASE | re.DOTALL) is not None
    except UnresolvedPlaceholder:
        return False
    if isinstance(value, SigmaRegularExpression):
        return re.search(value.regexp.to_plain(), text, python_regex_flags(value) | re.IGNORECASE) is not None
    return False


_VALUE_TEMPLATES = ("startswith_expression", "endswith_expression", "contains_expression", "wildcard_match_expression")


class EqualityStrings:
    """For a pySigma text backend whose string matches all take ``eq_expression`` (it sets none of
    the startswith, endswith, contains or wildcard templates, as upstream's Lucene and Splunk
    backends do): upstream's dispatcher comes to that template too, after building and compiling a
    regex of every value for the templates the backend does not have, a quarter of a conversion.
    Where any of those templates is set, or ``eq_expression`` takes the regex, upstream's own
    dispatcher runs (tests/test_patterns.py holds the two to the same output)."""

    def convert_condition_field_eq_val_str(self, cond: Any, state: Any) -> Any:
        backend: Any = self
        if "{regex}" in backend.eq_expression or any(getattr(backend, t, None) is not None for t in _VALUE_TEMPLATES):
            # the mixin's next class in the MRO is the pySigma backend, which mypy cannot see from here
            return super().convert_condition_field_eq_val_str(cond, state)  # type: ignore[misc]
        return backend.eq_expression.format(
            field=backend.escape_and_quote_field(cond.field), value=backend.convert_value_str(cond.value, state), backend=self
        )
