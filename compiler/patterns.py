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
    """Whether ``text`` satisfies a Sigma string or regex value (case ignored).

    A Sigma string is decided without a regex where its length settles it or both sides are ASCII:
    Python's case-insensitive matching pairs one character with one (no multi-character folding),
    so a value of n literal characters and ``?``s fits only texts of n characters or, with a ``*``,
    more; and on ASCII it folds exactly the letters ``str.lower`` does. (A long value list would
    otherwise compile one regex per value, beyond ``re``'s cache.)"""
    if isinstance(value, SigmaString):
        settled = _fits_without_regex(value, text)
        if settled is not None:
            return settled
        try:
            return re.fullmatch(sigma_string_pattern(value, re.escape), text, re.IGNORECASE | re.DOTALL) is not None
        except UnresolvedPlaceholder:
            return False
    if isinstance(value, SigmaRegularExpression):
        return re.search(value.regexp.to_plain(), text, python_regex_flags(value) | re.IGNORECASE) is not None
    return False


def _fits_without_regex(value: SigmaString, text: str) -> bool | None:
    """``value_fits`` of a Sigma string where lengths or ASCII settle it; None where only the regex can."""
    fixed, open_ended = 0, False
    for part in value.s:
        if isinstance(part, str):
            fixed += len(part)
        elif part == SpecialChars.WILDCARD_SINGLE:
            fixed += 1
        elif part == SpecialChars.WILDCARD_MULTI:
            open_ended = True
        else:
            return None  # a placeholder: the regex path refuses it
    if len(text) < fixed or (len(text) > fixed and not open_ended):
        return False
    literal = "".join(part for part in value.s if isinstance(part, str))
    if open_ended or len(literal) != fixed or not (literal.isascii() and text.isascii()):
        return None
    return literal.lower() == text.lower()


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
