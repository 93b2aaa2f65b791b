"""Sigma conditions as a ``| where`` expression, for what the search command cannot say exactly.

The search command has no escape for ``*`` (Search Manual, "Backslashes") and only ``*`` as a
wildcard, and upstream's ``| regex``/``| rex`` forms are exact only as a top-level conjunct. Rules
with a literal ``*``, Sigma's one-character ``?``, a regular expression or ``|cased`` are therefore
written as one eval expression (Search Reference, "where" and "Evaluation functions"):

* a string ``f: v`` → ``(isnotnull('f') AND match('f', "(?is)^…$"))`` — PCRE anchored to the whole
  value, case-insensitive as Sigma is (``|cased`` drops the ``i``), ``*`` and ``?`` across line
  breaks too (``s``), each literal character escaped; ``match`` on a multivalue field is true
  when any value matches;
* ``|re`` → the same with the rule's regex unanchored and its flags as ``(?ims)``;
* ``null``/``|exists`` → ``isnull``/``isnotnull``; ``|cidr`` → ``cidrmatch``; numbers compare
  with ``==``/``<``/``>``; ``|fieldref`` → ``lower('f') == lower('g')``.

Every test is guarded by ``isnotnull`` so that a missing field gives false, never null: under NOT
it then matches, as ``not f: v`` does in Sigma (a null under NOT would stay null and ``where``
would drop the event).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
)
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaFieldReference,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
)

from backends.splunk.spl_backend import KEYWORDS_REASON
from compiler.patterns import UnresolvedPlaceholder, sigma_string_pattern

_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


def spl_string(text: str) -> str:
    """A double-quoted SPL string: backslash and double quote escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pcre_literal(text: str) -> str:
    """PCRE matching exactly ``text``: ASCII punctuation backslash-escaped, control and other
    non-printing characters as ``\\xhh``/``\\x{hhhh}``, everything else as itself."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch.isalnum() and ch.isascii() or ch == " " or ch == "_":
            out.append(ch)
        elif ch.isascii() and ch.isprintable():
            out.append("\\" + ch)
        elif not ch.isprintable() or ch.isspace():
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\x{{{code:04x}}}")
        else:
            out.append(ch)
    return "".join(out)


def sigma_string_pcre(value: SigmaString) -> str:
    """The Sigma string as an anchored PCRE body: ``*`` → ``.*``, ``?`` → ``.``."""
    try:
        return "^" + sigma_string_pattern(value, pcre_literal) + "$"
    except UnresolvedPlaceholder as err:
        raise SigmaFeatureNotSupportedByBackendError(str(err)) from err


class SplWhereBackend(TextQueryBackend):
    """Sigma → the expression of a Splunk ``| where`` command (eval syntax)."""

    name: ClassVar[str] = "detc Splunk where expression"
    formats: ClassVar[dict[str, str]] = {"default": "eval expression"}
    requires_pipeline: ClassVar[bool] = True

    precedence: ClassVar[tuple[type[ConditionNOT], type[ConditionAND], type[ConditionOR]]] = (
        ConditionNOT,
        ConditionAND,
        ConditionOR,
    )
    group_expression: ClassVar[str] = "({expr})"
    token_separator: str = " "  # an instance variable upstream (TextQueryBackend)
    or_token: ClassVar[str] = "OR"
    and_token: ClassVar[str] = "AND"
    not_token: ClassVar[str] = "NOT"
    eq_token: ClassVar[str] = "=="
    str_quote: ClassVar[str] = '"'
    escape_char: ClassVar[str] = "\\"

    field_null_expression: ClassVar[str] = "isnull({field})"
    field_exists_expression: ClassVar[str] = "isnotnull({field})"
    field_not_exists_expression: ClassVar[str] = "isnull({field})"
    explicit_not_exists_expression: ClassVar[bool] = True

    def escape_and_quote_field(self, field_name: str) -> str:
        """Single-quoted, as eval names a field that has dots or braces."""
        return "'" + field_name.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def _guarded(self, field: str, test: str) -> str:
        return f"(isnotnull({field}) AND {test})"

    def _match(self, cond: ConditionFieldEqualsValueExpression, regex: str) -> str:
        field = self.escape_and_quote_field(cond.field)
        return self._guarded(field, f"match({field}, {spl_string(regex)})")

    def convert_condition_field_eq_val_str(self, cond: Any, state: ConversionState) -> str:
        return self._match(cond, "(?is)" + sigma_string_pcre(cond.value))

    def convert_condition_field_eq_val_str_case_sensitive(self, cond: Any, state: ConversionState) -> str:
        value = cond.value
        if isinstance(value, SigmaCasedString):
            plain = SigmaString()
            plain.s = value.s
            value = plain
        return self._match(cond, "(?s)" + sigma_string_pcre(value))

    def convert_condition_field_eq_val_re(self, cond: Any, state: ConversionState) -> str:
        regex: SigmaRegularExpression = cond.value
        flags = "".join(sorted(_FLAGS[f] for f in regex.flags))
        text = regex.regexp.to_plain() if hasattr(regex.regexp, "to_plain") else str(regex.regexp)
        return self._match(cond, (f"(?{flags})" if flags else "") + text)

    def convert_condition_field_eq_val_num(self, cond: Any, state: ConversionState) -> str:
        number: SigmaNumber = cond.value
        return self._match(cond, "^" + pcre_literal(str(number.number)) + "$")

    def convert_condition_field_eq_val_bool(self, cond: Any, state: ConversionState) -> str:
        value: SigmaBool = cond.value
        return self._match(cond, "(?i)^" + ("true" if value.boolean else "false") + "$")

    def convert_condition_field_eq_val_cidr(self, cond: Any, state: ConversionState) -> str:
        cidr: SigmaCIDRExpression = cond.value
        field = self.escape_and_quote_field(cond.field)
        return self._guarded(field, f"cidrmatch({spl_string(str(cidr.network))}, {field})")

    def convert_condition_field_compare_op_val(self, cond: Any, state: ConversionState) -> str:
        compare: SigmaCompareExpression = cond.value
        operator = {
            SigmaCompareExpression.CompareOperators.LT: "<",
            SigmaCompareExpression.CompareOperators.LTE: "<=",
            SigmaCompareExpression.CompareOperators.GT: ">",
            SigmaCompareExpression.CompareOperators.GTE: ">=",
        }[compare.op]
        field = self.escape_and_quote_field(cond.field)
        return self._guarded(field, f"{field} {operator} {compare.number.number}")

    def convert_condition_field_eq_field(self, cond: Any, state: ConversionState) -> str:
        """``f|fieldref: g``: both fields present and equal ignoring case, as Sigma compares values
        (eval's ``==`` is case-sensitive, so both sides are lower-cased)."""
        ref: SigmaFieldReference = cond.value
        if ref.starts_with or ref.ends_with:
            raise SigmaFeatureNotSupportedByBackendError("field reference with startswith/endswith: not supported")
        left, right = self.escape_and_quote_field(cond.field), self.escape_and_quote_field(ref.field)
        return f"(isnotnull({left}) AND isnotnull({right}) AND lower({left}) == lower({right}))"

    def convert_condition_val_str(self, cond: Any, state: ConversionState) -> str:
        raise SigmaFeatureNotSupportedByBackendError(KEYWORDS_REASON, source=getattr(cond, "source", None))

    convert_condition_val_num = convert_condition_val_str
    convert_condition_val_re = convert_condition_val_str

    def finalize_query_default(self, rule: Any, query: str, index: int, state: ConversionState) -> str:
        return query
