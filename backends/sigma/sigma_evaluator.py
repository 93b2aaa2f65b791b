"""The Sigma reference evaluator: Sigma semantics applied to raw records of the rule's logsource.

This is the arbiter of what a rule means. It walks pySigma's condition tree (no second parser)
and compiles each node once into a closure. A record is read through the logsource layer
(``compiler.logsources``): the logsource's own conditions must hold (a process_creation rule sees
only process creation events), and Sigma field names resolve as that logsource defines them. Semantics, from the Sigma specification
(https://sigmahq.io/sigma-specification/): strings match case-insensitively unless ``|cased``;
``*`` and ``?`` are wildcards and ``\\`` escapes them; lists are OR, ``|all`` is AND; ``null``
is "absent or null"; ``|exists`` is presence, "be it empty or null"; a ``not`` over a field
match is true when the field is absent. Numbers compare as the strings Sigma writes them
(``22`` matches ``22`` and ``"22"``, never ``"022"``). Dotted field names reach into nested
objects, and any element of an array may match.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from compiler.errors import UnsupportedFeature
from compiler.logsources import Logsource, dotted_values, leaves, require

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]
ValuePredicate = Callable[[Any], bool]

def _present(record: Any, path: str) -> bool:
    """Whether the path leads anywhere, to JSON null or an empty array included."""
    return _reaches(record, path.split("."))


def _reaches(node: Any, parts: list[str]) -> bool:
    if not parts:
        return True
    if isinstance(node, list):
        return any(_reaches(item, parts) for item in node)
    if not isinstance(node, Mapping):
        return False
    return any(
        ".".join(parts[:cut]) in node and _reaches(node[".".join(parts[:cut])], parts[cut:])
        for cut in range(len(parts), 0, -1)
    )


def _as_text(value: Any) -> str | None:
    """The string form a value is compared as; objects have none."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _string_regex_source(value: SigmaString) -> tuple[str, int]:
    """A whole-value regex for a Sigma string, and its flags: wildcards become ``.*``/``.``, the rest
    is literal."""
    parts: list[str] = []
    for part in value.s:
        if part == SpecialChars.WILDCARD_MULTI:
            parts.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            parts.append(".")
        elif isinstance(part, str):
            parts.append(re.escape(part))
        else:
            raise UnsupportedFeature(f"placeholder %{getattr(part, 'name', part)}% is not resolved")
    flags = re.DOTALL
    if not isinstance(value, SigmaCasedString):
        flags |= re.IGNORECASE
    return "".join(parts), flags


def _string_matcher(value: SigmaString) -> ValuePredicate:
    # The regex text is made (and a placeholder refused) now; it is compiled on first use, so that
    # checking a rule at build time, which never runs the predicate, compiles no regex.
    source, flags = _string_regex_source(value)
    compiled: list[re.Pattern[str]] = []
    # A value without wildcards is compared, not searched: equal text (cased), or equal ASCII text
    # up to case (where Python's IGNORECASE and lower() agree); other text goes to the regex. A
    # list of 100,000 values then costs no regex compilation per value.
    literal = value.s[0] if len(value.s) == 1 and isinstance(value.s[0], str) else ("" if not value.s else None)
    cased = not flags & re.IGNORECASE
    folded = literal.lower() if literal is not None and literal.isascii() else None

    def match(candidate: Any) -> bool:
        text = _as_text(candidate)
        if text is None:
            return False
        if literal is not None and cased:
            return text == literal
        if folded is not None and text.isascii():
            return text.lower() == folded
        if not compiled:
            compiled.append(re.compile(source, flags))
        return compiled[0].fullmatch(text) is not None

    return match


def _number_matcher(value: SigmaNumber) -> ValuePredicate:
    # Sigma compares values as strings (specification, "Value types"): 22 matches the JSON number
    # 22 (22.0 is the same JSON number) and the string "22", never "022" or " 22".
    target = float(value.number)
    text = str(value.number)

    def match(candidate: Any) -> bool:
        if isinstance(candidate, bool):
            return False
        if isinstance(candidate, (int, float)):
            return float(candidate) == target
        return isinstance(candidate, str) and candidate == text

    return match


def _bool_matcher(value: SigmaBool) -> ValuePredicate:
    want = value.boolean

    def match(candidate: Any) -> bool:
        if isinstance(candidate, bool):
            return candidate is want
        return isinstance(candidate, str) and candidate.lower() == ("true" if want else "false")

    return match


def _regex_matcher(value: SigmaRegularExpression) -> ValuePredicate:
    flags = 0
    for flag in value.flags:
        flags |= {
            SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
            SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
            SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
        }[flag]
    pattern = re.compile(value.regexp.to_plain(), flags)

    def match(candidate: Any) -> bool:
        text = _as_text(candidate)
        # Sigma regular expressions are unanchored (PCRE "search" semantics).
        return text is not None and pattern.search(text) is not None

    return match


def _cidr_matcher(value: SigmaCIDRExpression) -> ValuePredicate:
    network = value.network

    def match(candidate: Any) -> bool:
        if not isinstance(candidate, str):
            return False
        try:
            address = ipaddress.ip_address(candidate.strip())
        except ValueError:
            return False
        return address.version == network.version and address in network

    return match


_COMPARE: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _compare_matcher(value: SigmaCompareExpression) -> ValuePredicate:
    op = _COMPARE[value.op]
    bound = float(value.number.number)

    def match(candidate: Any) -> bool:
        number = _as_number(candidate)
        return number is not None and op(number, bound)

    return match


def value_matcher(value: Any) -> ValuePredicate:
    """A predicate over one scalar event value for one Sigma value."""
    if isinstance(value, SigmaString):
        return _string_matcher(value)
    if isinstance(value, SigmaBool):
        return _bool_matcher(value)
    if isinstance(value, SigmaNumber) and type(value) is SigmaNumber:
        return _number_matcher(value)
    if isinstance(value, SigmaRegularExpression):
        return _regex_matcher(value)
    if isinstance(value, SigmaCIDRExpression):
        return _cidr_matcher(value)
    if isinstance(value, SigmaCompareExpression):
        return _compare_matcher(value)
    if isinstance(value, SigmaExpansion):
        alternatives = [value_matcher(v) for v in value.values]
        return lambda candidate: any(m(candidate) for m in alternatives)
    raise UnsupportedFeature(f"value type {type(value).__name__} is not supported by the reference evaluator")


def _field_predicate(node: ConditionFieldEqualsValueExpression) -> Predicate:
    path = node.field
    value = node.value
    if isinstance(value, SigmaNull):
        return lambda rec: all(v is None for v in leaves(dotted_values(rec, path)))
    if isinstance(value, SigmaExists):
        # Presence, "be it empty or null" (Sigma specification, modifier ``exists``).
        want = value.exists
        return lambda rec: _present(rec, path) is want
    if isinstance(value, SigmaFieldReference):
        other = value.field

        def same(rec: Record) -> bool:
            left = [t for t in map(_as_text, leaves(dotted_values(rec, path))) if t is not None]
            right = {t.lower() for t in map(_as_text, leaves(dotted_values(rec, other))) if t is not None}
            return any(t.lower() in right for t in left)

        return same
    match = value_matcher(value)
    return lambda rec: any(match(v) for v in leaves(dotted_values(rec, path)))


def _keyword_predicate(node: ConditionValueExpression) -> Predicate:
    value = node.value
    if isinstance(value, SigmaString):
        # A keyword is free text: it may stand anywhere inside any string value of the event.
        inner = SigmaString()
        inner.s = (SpecialChars.WILDCARD_MULTI, *value.s, SpecialChars.WILDCARD_MULTI)
        if isinstance(value, SigmaCasedString):
            inner = SigmaCasedString.from_sigma_string(inner)
        match = value_matcher(inner)
    else:
        match = value_matcher(value)
    return lambda rec: any(match(v) for v in _all_scalars(rec))


def _all_scalars(node: Any) -> Iterator[Any]:
    if isinstance(node, Mapping):
        for value in node.values():
            yield from _all_scalars(value)
    elif isinstance(node, list):
        for value in node:
            yield from _all_scalars(value)
    elif node is not None:
        yield node


def compile_condition(node: Any) -> Predicate:
    """Compile a pySigma condition tree into one predicate over records."""
    if isinstance(node, ConditionAND):
        parts = [compile_condition(a) for a in node.args]
        return lambda rec: all(p(rec) for p in parts)
    if isinstance(node, ConditionOR):
        parts = [compile_condition(a) for a in node.args]
        return lambda rec: any(p(rec) for p in parts)
    if isinstance(node, ConditionNOT):
        inner = compile_condition(node.args[0])
        return lambda rec: not inner(rec)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _field_predicate(node)
    if isinstance(node, ConditionValueExpression):
        return _keyword_predicate(node)
    if node is None:
        # pySigma drops detections emptied by processing; an empty condition matches nothing.
        return lambda rec: False
    raise UnsupportedFeature(f"condition element {type(node).__name__} is not supported")


def rule_predicate(rule: SigmaRule) -> Predicate:
    """One predicate over raw records of the rule's logsource: true when the logsource's own
    conditions and any of the rule's conditions hold."""
    return logsource_predicate(require(rule.logsource), conditions_predicate([c.parsed for c in rule.detection.parsed_condition]))


def logsource_predicate(source: Logsource, predicate: Predicate) -> Predicate:
    """A predicate over Sigma-named views made one over raw records of a logsource."""

    def holds(record: Record) -> bool:
        view = source.admitted_view(record)
        return view is not None and predicate(view)

    return holds


def conditions_predicate(trees: Sequence[Any]) -> Predicate:
    """One predicate for parsed condition trees: true when any of them holds."""
    conditions = [compile_condition(tree) for tree in trees]
    return lambda rec: any(c(rec) for c in conditions)
