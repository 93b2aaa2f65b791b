"""detc's pySigma backend for EventBridge: conversion returns formulas, never text.

The pattern builder (pattern.py) turns the formula into one JSON structure, serialized once.
Field names arrive already placed under ``detail.`` by the pipeline; the backend never renames.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
)
from sigma.conversion.base import Backend
from sigma.conversion.state import ConversionState
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaNumber,
    SigmaString,
    SpecialChars,
)

from backends.aws.formula import (
    Absent,
    And,
    AnyValue,
    Cidr,
    Equals,
    Formula,
    Lit,
    Not,
    NullOrAbsent,
    Numeric,
    Or,
    Prefix,
    Present,
    Suffix,
    Test,
    Wildcard,
)
from compiler.errors import UnsupportedFeature

TARGET = "eventbridge"


def unsupported(construct: str, why: str) -> UnsupportedFeature:
    return UnsupportedFeature(f"{construct}: {why}", target=TARGET)


def _wildcard_escape(text: str) -> str:
    # EventBridge wildcards: a literal * is \* and a literal \ is \\ (event-ruler README, "Wildcard matching").
    return text.replace("\\", "\\\\").replace("*", "\\*")


def string_test(value: SigmaString, ignore_case: bool) -> Test:
    """Map a Sigma string with wildcards onto the narrowest EventBridge string operator."""
    parts: list[Any] = []
    for part in value.s:
        if part == SpecialChars.WILDCARD_SINGLE:
            raise unsupported("single-character wildcard '?'", "EventBridge wildcards have only '*'")
        if not isinstance(part, (str, SpecialChars)):
            raise unsupported(f"placeholder %{getattr(part, 'name', part)}%", "placeholders must be resolved first")
        if part == SpecialChars.WILDCARD_MULTI and parts and parts[-1] == SpecialChars.WILDCARD_MULTI:
            continue  # '**' means '*'; AWS rejects consecutive wildcards
        parts.append(part)
    star = SpecialChars.WILDCARD_MULTI
    texts = [p for p in parts if isinstance(p, str)]
    if not any(p == star for p in parts):
        return Equals("".join(texts), ignore_case)
    if parts == [star]:
        return AnyValue()
    if len(parts) == 2 and parts[0] == star:
        return Suffix(parts[1], ignore_case)
    if len(parts) == 2 and parts[1] == star:
        return Prefix(parts[0], ignore_case)
    pattern = "".join("*" if p == star else _wildcard_escape(p) for p in parts)
    return Wildcard(pattern, ignore_case)


_COMPARE = {
    CompareOperators.LT: "<",
    CompareOperators.LTE: "<=",
    CompareOperators.GT: ">",
    CompareOperators.GTE: ">=",
}


class EventBridgeBackend(Backend):
    """Sigma condition trees to detc formulas (see formula.py)."""

    name: ClassVar[str] = "detc AWS EventBridge event pattern"
    formats: ClassVar[dict[str, str]] = {"default": "detc formula, rendered by backends.aws.pattern"}
    explicit_not_exists_expression: ClassVar[bool] = True

    @staticmethod
    def _path(cond: ConditionFieldEqualsValueExpression) -> tuple[str, ...]:
        return tuple(cond.field.split("."))

    def _lit(self, cond: ConditionFieldEqualsValueExpression, test: Test) -> Lit:
        return Lit(self._path(cond), test)

    def convert_condition_as_in_expression(self, cond: ConditionOR | ConditionAND, state: ConversionState) -> Any:
        return self.convert_condition_or(cond, state)  # type: ignore[arg-type]  # in-expressions are off

    def convert_condition_or(self, cond: ConditionOR, state: ConversionState) -> Formula:
        return Or(tuple(self.convert_condition(a, state) for a in cond.args))  # type: ignore[arg-type]

    def convert_condition_and(self, cond: ConditionAND, state: ConversionState) -> Formula:
        return And(tuple(self.convert_condition(a, state) for a in cond.args))  # type: ignore[arg-type]

    def convert_condition_not(self, cond: ConditionNOT, state: ConversionState) -> Formula:
        return Not(self.convert_condition(cond.args[0], state))  # type: ignore[arg-type]

    def convert_condition_field_eq_val_str(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Formula:
        # Sigma strings match case-insensitively (Sigma specification, "String values").
        return self._lit(cond, string_test(cond.value, ignore_case=True))

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Formula:
        return self._lit(cond, string_test(cond.value, ignore_case=False))

    def convert_condition_field_eq_val_num(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Formula:
        value: SigmaNumber = cond.value
        return self._lit(cond, Equals(value.number))

    def convert_condition_field_eq_val_bool(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Formula:
        value: SigmaBool = cond.value
        return self._lit(cond, Equals(value.boolean))

    def convert_condition_field_eq_val_cidr(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Formula:
        value: SigmaCIDRExpression = cond.value
        return self._lit(cond, Cidr(str(value.network)))

    def convert_condition_field_compare_op_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Formula:
        value: SigmaCompareExpression = cond.value
        number = value.number.number
        if value.op == CompareOperators.NEQ:
            return Or((self._lit(cond, Numeric((("<", number),))), self._lit(cond, Numeric(((">", number),)))))
        return self._lit(cond, Numeric(((_COMPARE[value.op], number),)))

    def convert_condition_field_eq_val_null(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Formula:
        return self._lit(cond, NullOrAbsent())

    def convert_condition_field_exists(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Formula:
        return self._lit(cond, Present())

    def convert_condition_field_not_exists(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Formula:
        return self._lit(cond, Absent())

    def convert_condition_field_eq_val_re(self, cond: Any, state: ConversionState) -> Any:
        raise unsupported("regular expression (|re)", "EventBridge event patterns have no regular-expression operator")

    def convert_condition_field_eq_val_timestamp_part(self, cond: Any, state: ConversionState) -> Any:
        raise unsupported("timestamp part modifier", "EventBridge cannot take parts of a timestamp")

    def convert_condition_field_eq_field(self, cond: Any, state: ConversionState) -> Any:
        raise unsupported("field reference (|fieldref)", "EventBridge compares fields only with constants")

    def convert_condition_field_eq_query_expr(self, cond: Any, state: ConversionState) -> Any:
        raise unsupported("query expression", "EventBridge has no embedded query syntax")

    def convert_condition_query_expr(self, cond: Any, state: ConversionState) -> Any:
        raise unsupported("query expression", "EventBridge has no embedded query syntax")

    def convert_condition_val_str(self, cond: Any, state: ConversionState) -> Any:
        raise unsupported("keyword (free-text search)", "an event pattern must name the field it matches")

    def convert_condition_val_num(self, cond: Any, state: ConversionState) -> Any:
        raise unsupported("keyword (free-text search)", "an event pattern must name the field it matches")

    def convert_condition_val_re(self, cond: Any, state: ConversionState) -> Any:
        raise unsupported("keyword regular expression", "EventBridge has no regex and no free-text search")

    def _no_correlation(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("correlation rule", "an event pattern matches one event at a time")

    convert_correlation_event_count_rule = _no_correlation
    convert_correlation_value_count_rule = _no_correlation
    convert_correlation_value_sum_rule = _no_correlation
    convert_correlation_value_avg_rule = _no_correlation
    convert_correlation_value_percentile_rule = _no_correlation
    convert_correlation_value_median_rule = _no_correlation
    convert_correlation_temporal_rule = _no_correlation
    convert_correlation_temporal_ordered_rule = _no_correlation
    convert_correlation_extended_temporal_rule = _no_correlation
    convert_correlation_extended_temporal_ordered_rule = _no_correlation

    def finalize_query_default(self, rule: SigmaRule, query: Any, index: int, state: ConversionState) -> Any:
        return query


def rule_formula(backend: EventBridgeBackend, rule: SigmaRule) -> Formula:
    """One formula for a rule; several conditions of one rule are alternatives."""
    formulas = backend.convert_rule(rule)
    if not formulas:
        raise unsupported("empty detection", "nothing is left to match after processing")
    return formulas[0] if len(formulas) == 1 else Or(tuple(formulas))

