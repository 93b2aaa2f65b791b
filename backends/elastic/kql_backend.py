"""Kibana Query Language (KQL, "kuery") as a pySigma text backend.

The syntax is Kibana's kuery grammar (kbn-es-query ``kuery/grammar/grammar.peggy``): ``not`` binds
tighter than ``and``, which binds tighter than ``or``; a quoted value is exact and can hold no
wildcard; an unquoted value may hold ``*`` and escapes ``\\ ( ) : < > " * { }`` and the keywords
``or``/``and``/``not``; its ends are trimmed. KQL has no single-character wildcard and no regular
expressions, and on keyword fields it matches case-sensitively (Kibana issues 55378, 134143).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, TypeGuard

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
)
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaCompareExpression,
    SigmaNull,
    SigmaString,
    SpecialChars,
)

from backends.elastic.phrase import SigmaPhrase
from compiler.patterns import condition_value

_SPECIAL = set('\\():<>"*{}')
_WHITESPACE_ESCAPES = {"\t": "\\t", "\r": "\\r", "\n": "\\n"}
# Kuery's Keyword rule: Space "or"/"and" Space, or "not" Space anywhere (even inside "cannot ").
_KEYWORD = re.compile(r"(?i)(?<=[ \u00a0])(?:or|and)(?=[ \u00a0])|not(?=[ \u00a0])")
_TRIMMED = frozenset(" \t\n\x0b\x0c\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | {
    chr(c) for c in range(0x2000, 0x200B)
}
"""JavaScript's String.prototype.trim set: kuery trims unquoted literals with it."""


_PLAIN_QUOTED = re.compile(r'[^\\"\t\r\n]*')


def quote_kql(text: str) -> str:
    """A quoted KQL value: only ``\\`` and ``"`` need escaping; control whitespace is spelled out."""
    if _PLAIN_QUOTED.fullmatch(text):
        return '"' + text + '"'
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        else:
            out.append(_WHITESPACE_ESCAPES.get(ch, ch))
    return '"' + "".join(out) + '"'


def _escape_keyword(match: re.Match[str]) -> str:
    word = match.group(0)
    if word[0] in "nN":  # kuery reads \not as \n (a newline) and "ot": spell the n as \u006e
        return f"\\u{ord(word[0]):04x}" + word[1:]
    return "\\" + word


_UNQUOTED_TABLE = str.maketrans({**_WHITESPACE_ESCAPES, **{ch: "\\" + ch for ch in _SPECIAL}})
_FIELD_TABLE = str.maketrans({ch: "\\" + ch for ch in _SPECIAL})


def _escape_unquoted_text(text: str) -> str:
    return _KEYWORD.sub(_escape_keyword, text.translate(_UNQUOTED_TABLE))


class KqlBackend(TextQueryBackend):
    """Sigma → KQL for Kibana's query bar, detection rules and saved searches."""

    name: ClassVar[str] = "detc Kibana KQL"
    formats: ClassVar[dict[str, str]] = {"default": "Plain KQL query text"}
    requires_pipeline: ClassVar[bool] = True

    precedence: ClassVar[tuple[type[ConditionItem], type[ConditionItem], type[ConditionItem]]] = (
        ConditionNOT,
        ConditionAND,
        ConditionOR,
    )
    group_expression: ClassVar[str] = "({expr})"
    token_separator: str = " "
    or_token: ClassVar[str] = "or"
    and_token: ClassVar[str] = "and"
    not_token: ClassVar[str] = "not"
    eq_token: ClassVar[str] = ": "

    str_quote: ClassVar[str] = '"'
    escape_char: ClassVar[str] = "\\"
    wildcard_multi: ClassVar[str] = "*"
    wildcard_single: ClassVar[str | None] = None
    bool_values: ClassVar[dict[bool, str | None]] = {True: "true", False: "false"}

    eq_expression: ClassVar[str] = "{field}: {value}"
    case_sensitive_match_expression: ClassVar[str] = "{field}: {value}"
    cidr_expression: ClassVar[str] = '{field}: "{value}"'
    """Quoted: an IPv6 block holds ``:``, which ends an unquoted kuery literal (grammar.peggy,
    SpecialCharacter); a quoted value on an ip field is the same term query, CIDR included."""
    compare_op_expression: ClassVar[str] = "{field} {operator} {value}"
    compare_operators: ClassVar[dict[CompareOperators, str]] = {
        SigmaCompareExpression.CompareOperators.LT: "<",
        SigmaCompareExpression.CompareOperators.LTE: "<=",
        SigmaCompareExpression.CompareOperators.GT: ">",
        SigmaCompareExpression.CompareOperators.GTE: ">=",
    }
    field_null_expression: ClassVar[str] = "not {field}: *"
    field_exists_expression: ClassVar[str] = "{field}: *"
    field_not_exists_expression: ClassVar[str] = "not {field}: *"

    convert_or_as_in: ClassVar[bool] = True
    convert_and_as_in: ClassVar[bool] = False
    in_expressions_allow_wildcards: ClassVar[bool] = True
    field_in_list_expression: ClassVar[str] = "{field}{op}({list})"
    or_in_operator: ClassVar[str] = ": "
    list_separator: ClassVar[str] = " or "

    unbound_value_str_expression: ClassVar[str] = "{value}"
    unbound_value_num_expression: ClassVar[str] = "{value}"

    top_level_and: ClassVar[str] = "\n    and "
    """The top-level conjunction is laid out one clause per line, as Elastic's own rules are."""

    def escape_and_quote_field(self, field_name: str) -> str:
        if field_name in self.backend_options.get("wildcard_fields", ()):
            return field_name  # a field-name pattern kuery expands (``winlog.event_data.param*``)
        if any(ch.isspace() for ch in field_name):
            return quote_kql(field_name)
        return field_name.translate(_FIELD_TABLE)

    def convert_value_str(self, s: SigmaString, state: ConversionState) -> str:
        if s.contains_placeholder():
            raise SigmaFeatureNotSupportedByBackendError("unresolved placeholder: KQL needs concrete values")
        if isinstance(s, SigmaPhrase):  # quoted: Kibana sends match_phrase on a text field
            return quote_kql(s.text)
        if not s.contains_special():
            return quote_kql("".join(str(p) for p in s.s))
        parts: list[str] = []
        for part in s.s:
            if part == SpecialChars.WILDCARD_MULTI:
                parts.append("*")
            elif part == SpecialChars.WILDCARD_SINGLE:
                raise SigmaFeatureNotSupportedByBackendError(
                    "single-character wildcard '?': KQL has only '*'"
                )
            elif isinstance(part, Placeholder):  # pragma: no cover - refused above
                raise SigmaFeatureNotSupportedByBackendError("unresolved placeholder")
            else:
                parts.append(_escape_unquoted_text(str(part)))
        text = "".join(parts)
        first, last = s.s[0], s.s[-1]  # kuery trims after unescaping, so \t at an edge is lost too
        if (isinstance(first, str) and first[:1] in _TRIMMED) or (isinstance(last, str) and last[-1:] in _TRIMMED):
            raise SigmaFeatureNotSupportedByBackendError(
                "leading or trailing whitespace next to a wildcard: KQL trims unquoted values"
            )
        return text

    def convert_condition_field_eq_val_str(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Any:
        """``field: value`` for every string: KQL has one match operator, with the wildcards written
        in the value (upstream's dispatcher picks the same template, after building and compiling a
        regex of the value that KQL never uses)."""
        return self.eq_expression.format(
            field=self.escape_and_quote_field(cond.field), value=self.convert_value_str(condition_value(cond, SigmaString), state)
        )

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        return self.case_sensitive_match_expression.format(
            field=self.escape_and_quote_field(cond.field), value=self.convert_value_str(condition_value(cond, SigmaString), state)
        )

    def convert_condition_group(self, cond: Any, state: ConversionState) -> Any:
        """``field: (a or b)`` is already one clause: no parentheses around it."""
        if isinstance(cond, ConditionOR) and self.decide_convert_condition_as_in_expression(cond, state):
            return self.convert_condition(cond, state)
        return super().convert_condition_group(cond, state)

    def convert_condition_val_str(self, cond: Any, state: ConversionState) -> Any:
        """A Sigma keyword is free text found anywhere in a value: ``*text*`` over all fields."""
        wrapped = SigmaString()
        wrapped.s = [SpecialChars.WILDCARD_MULTI, *cond.value.s, SpecialChars.WILDCARD_MULTI]
        return self.convert_value_str(wrapped, state)

    def convert_condition_field_eq_val_re(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Any:
        raise SigmaFeatureNotSupportedByBackendError("regular expression: KQL has no regex syntax")

    def convert_condition_field_eq_field(self, cond: Any, state: ConversionState) -> Any:
        raise SigmaFeatureNotSupportedByBackendError("field reference: KQL compares fields to literals only")

    @staticmethod
    def _is_null(cond: ConditionItem | Any) -> TypeGuard[ConditionFieldEqualsValueExpression]:
        return isinstance(cond, ConditionFieldEqualsValueExpression) and isinstance(cond.value, SigmaNull)

    def convert_condition_not(self, cond: ConditionNOT, state: ConversionState) -> Any:
        arg = cond.args[0]
        if self._is_null(arg):  # not (not field: *) is field: *
            return self.field_exists_expression.format(field=self.escape_and_quote_field(arg.field))
        inner = self.convert_condition(arg, state)
        if isinstance(inner, str) and inner[:4].lower() == f"{self.not_token} ":
            # KQL's grammar has no "not not" (a NOT, or an exists: false, under NOT): group it
            return f"{self.not_token} ({inner})"
        return super().convert_condition_not(cond, state)

    def convert_condition_and(self, cond: ConditionAND, state: ConversionState) -> Any:
        if cond.parent is None:
            parts = self._top_level_parts(cond, state)
            if parts:
                return self.top_level_and.join(parts)
        return super().convert_condition_and(cond, state)

    def _top_level_parts(self, cond: ConditionAND, state: ConversionState) -> list[str] | None:
        parts: list[str] = []
        for arg in cond.args:
            if isinstance(arg, ConditionAND):
                sub = self._top_level_parts(arg, state)
                if sub is None:
                    return None
                parts.extend(sub)
                continue
            text = (
                self.convert_condition(arg, state)
                if self.compare_precedence(cond, arg)
                else self.convert_condition_group(arg, state)
            )
            if not isinstance(text, str):
                return None
            parts.append(text)
        return parts
