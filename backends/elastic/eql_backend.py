"""Elasticsearch EQL: pySigma's upstream ``EqlBackend`` (pySigma-backend-elasticsearch), fixed
where it means something other than Sigma.

Each fix is pinned by a test in ``tests/test_eql_backend.py``; upstream 2.1.1 wrote:

* ``|re`` as ``f regex~ "<Python regex>"``: case-insensitive where Sigma's ``|re`` is not, and in
  Python's unanchored dialect where Elasticsearch reads Lucene's anchored one. detc writes
  ``f regex "<Lucene regex>"`` (``lucene_regex``: ``.*`` added where Sigma is unanchored, ``(?i)``
  folded into ``[Kk]`` classes, refused where Lucene cannot say it).
* a Sigma literal ``*`` or ``?`` (``\\*``) into a ``:`` pattern, where Elasticsearch has no escape
  for them (EQL's optimizer turns every ``*``/``?`` of a ``:`` string into a wildcard:
  ``Optimizer.ReplaceWildcards``). detc writes such a value as a case-insensitive regex, as it does
  a wildcard value holding U+0001 (the unescaped escape character of the LIKE pattern
  Elasticsearch makes of it, ``StringUtils.toLikePattern``).
* ``|cased`` with wildcards as ``f == "Delete*"``, a literal asterisk (``==`` has no wildcards,
  EQL syntax reference); detc writes ``like`` (case-sensitive wildcards) or ``regex``.
* tab, newline and carriage return as a backslash before the raw character, which no EQL parser
  reads; detc writes ``\\t``, ``\\n``, ``\\r``.
* ``|exists``: not implemented; detc writes ``?f != null`` / ``?f == null``.
* booleans and numbers with ``:``, which compares strings only (``f:true``); detc writes
  ``f == true`` on a boolean field, and the number's text with ``:`` on keyword fields.
* IP-looking and empty values with ``==`` (case-sensitive: ``2001:DB8::1`` would miss
  ``2001:db8::1``); detc writes ``:``.
* Sigma keywords as a bare string (``any where "foo"``), which EQL rejects (a string is not a
  condition); EQL has no free-text search, so detc refuses them.
* field names quoted only when they start with a digit or hold a space (``a.b-c`` unquoted is
  ``a.b - c``); detc quotes every part that is not an identifier, and keywords.
* operator precedence declared as NOT, OR, AND; EQL's is NOT, AND, OR (syntax reference).

Values not written with ``:`` are the exceptions above; everything else is ``:`` (case-insensitive
with ``*``/``?`` wildcards, lists as ``f : ("a", "b*")``), as Elastic's own prebuilt rules write.
``:`` and ``regex~`` fold ASCII letters only (Elasticsearch's ``AutomatonQueries.
toCaseInsensitiveChar``: "For now we only work with ASCII characters"), so a value holding a
letter outside ASCII is written as a regex spelling that letter both ways.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from sigma.backends.elasticsearch.elasticsearch_eql import EqlBackend
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations.base import DetectionItemTransformation
from sigma.rule import SigmaDetectionItem, SigmaRule
from sigma.types import SigmaBool, SigmaCasedString, SigmaNull, SigmaNumber, SigmaRegularExpression, SigmaString

from backends.elastic.errors import ElasticUnsupported
from backends.elastic.lucene_regex import LuceneRegexError, sigma_regex_to_lucene, sigma_string_regex
from backends.elastic.phrase import SigmaPhrase
from compiler.patterns import UnresolvedPlaceholder, condition_value, sigma_string_pattern

BOOLEAN_FIELDS: frozenset[str] = frozenset({"aws.cloudtrail.read_only"})
"""Fields the data stream maps as ``boolean``: ``:`` compares strings only, so these take ``==``
with ``true``/``false`` (the rest of the cell's string fields are keywords)."""

EQL_KEYWORDS = frozenset(
    {"and", "any", "by", "const", "false", "in", "join", "like", "macro", "maxspan", "not", "null", "of",
     "or", "regex", "runs", "sample", "sequence", "true", "until", "where", "with"}
)
"""Words of EQL's grammar (Elasticsearch's EqlBase.g4 and the ``eql`` package's ``eql.g``):
quoted when a field name part spells one."""
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPE_TABLE = str.maketrans(_STRING_ESCAPES)


def _escaped(text: str) -> str:
    return text.translate(_ESCAPE_TABLE)


def eql_string(text: str) -> str:
    """A double-quoted EQL string holding exactly ``text`` (the escapes of the EQL syntax
    reference; other characters stand for themselves inside the quotes)."""
    return '"' + _escaped(text) + '"'


def eql_field(name: str) -> str:
    """A field name as EQL reads it: dotted parts, each quoted in backticks unless it is a plain
    identifier that is no keyword. A backtick or line break in a name has no spelling the ``eql``
    parser accepts (it lacks Elasticsearch's doubled backtick)."""
    out = []
    for part in name.split("."):
        if _IDENTIFIER.match(part) and part.lower() not in EQL_KEYWORDS:
            out.append(part)
        elif part and not any(ch in part for ch in "`\r\n"):
            out.append(f"`{part}`")
        else:
            raise ElasticUnsupported(f"field name {name!r} cannot be written in EQL")
    return ".".join(out)


def _plain_text(value: SigmaString) -> str | None:
    """The string's text when it holds no wildcard or placeholder."""
    if any(not isinstance(p, str) for p in value.s):
        return None
    return "".join(p for p in value.s if isinstance(p, str))


def _colon_pattern(value: SigmaString) -> str | None:
    """The value as a ``:`` pattern (Sigma's wildcards as EQL's), or None where ``:`` cannot say
    it: a literal ``*``/``?`` (no escape exists) or a letter outside ASCII (not folded)."""
    literal = "".join(p for p in value.s if isinstance(p, str))
    if "*" in literal or "?" in literal or (
        not literal.isascii() and any(not ch.isascii() and ch.lower() != ch.upper() for ch in literal)
    ):
        return None
    if "\x01" in literal and value.contains_special():
        return None  # U+0001 is the escape of the LIKE pattern Elasticsearch makes of a wildcard value
    try:
        return '"' + sigma_string_pattern(value, _escaped, multi="*", single="?") + '"'
    except UnresolvedPlaceholder as err:
        raise ElasticUnsupported(str(err)) from err


class DetcEqlBackend(EqlBackend):
    """Upstream EqlBackend with Sigma's semantics; queries are the condition alone (the target
    puts the event category in front)."""

    # upstream annotates its precedence tuple as condition instances; it holds their classes, as here
    precedence: ClassVar[tuple[type[ConditionItem], type[ConditionItem], type[ConditionItem]]] = (  # type: ignore[assignment]
        ConditionNOT,
        ConditionAND,
        ConditionOR,
    )
    field_exists_expression: ClassVar[str] = "?{field} != null"
    field_not_exists_expression: ClassVar[str] = "?{field} == null"
    field_in_list_expression: ClassVar[str] = "{field} : ({list})"

    def escape_and_quote_field(self, field_name: str) -> str:
        return eql_field(field_name)

    # --- strings ---------------------------------------------------------------------------------

    def _string(self, field: str, value: SigmaString, cased: bool) -> str:
        name = eql_field(field)
        if field in self._booleans():
            return self._boolean(field, name, _plain_text(value), cased)
        try:
            if not cased:
                pattern = _colon_pattern(value)
                if pattern is not None:
                    return f"{name} : {pattern}"
                return f"{name} regex {eql_string(sigma_string_regex(value))}"
            text = _plain_text(value)
            if text is not None:
                return f"{name} == {eql_string(text)}"
            literal = "".join(p for p in value.s if isinstance(p, str))
            pattern = _colon_pattern(value)
            if "*" not in literal and "?" not in literal and pattern is not None:
                return f"{name} like {pattern}"
            return f"{name} regex {eql_string(sigma_string_regex(value, fold=False))}"
        except LuceneRegexError as err:
            raise ElasticUnsupported(f"{field}: {err}") from err

    @staticmethod
    def _boolean(field: str, name: str, text: str | None, cased: bool) -> str:
        if text is not None and (text if cased else text.lower()) in ("true", "false"):
            return f"{name} == {text.lower()}"
        raise ElasticUnsupported(f"{field} is a boolean field: it holds only true or false")

    def convert_condition_field_eq_val_str(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Any:
        return self._string(cond.field, condition_value(cond, SigmaString), cased=False)

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        return self._string(cond.field, condition_value(cond, SigmaString), cased=True)

    def _booleans(self) -> frozenset[str]:
        """Boolean fields: CloudTrail's, and those the cell names (backend option ``boolean_fields``)."""
        return BOOLEAN_FIELDS | frozenset(self.backend_options.get("boolean_fields", ()))

    def _numeric(self, field: str | None) -> bool:
        """A number field the cell names (backend option ``numeric_fields``): ``:`` compares strings only."""
        return field in self.backend_options.get("numeric_fields", ())

    def convert_condition_field_eq_val_num(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Any:
        """Sigma compares a number as its text; keyword fields hold text, number fields compare with ``==``."""
        if cond.field in self._booleans():
            raise ElasticUnsupported(f"{cond.field} is a boolean field: it holds only true or false")
        if self._numeric(cond.field):
            return f"{eql_field(cond.field)} == {cond.value}"
        return f"{eql_field(cond.field)} : {eql_string(str(cond.value))}"

    def convert_condition_field_eq_val_bool(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Any:
        text = "true" if condition_value(cond, SigmaBool).boolean else "false"
        if cond.field in self._booleans():
            return f"{eql_field(cond.field)} == {text}"
        return f"{eql_field(cond.field)} : {eql_string(text)}"

    def convert_condition_field_eq_val_re(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Any:
        try:
            regex, _ascii_classes = sigma_regex_to_lucene(condition_value(cond, SigmaRegularExpression))
        except LuceneRegexError as err:
            raise ElasticUnsupported(f"{cond.field}: {err}") from err
        return f"{eql_field(cond.field)} regex {eql_string(regex)}"

    # --- lists: one ``:`` over the values where every value is a ``:`` pattern -------------------

    def decide_convert_condition_as_in_expression(self, cond: ConditionOR | ConditionAND, state: ConversionState) -> bool:
        if not super().decide_convert_condition_as_in_expression(cond, state):
            return False
        # upstream's decision above admits only field conditions as the arguments
        args: list[ConditionFieldEqualsValueExpression] = cond.args  # type: ignore[assignment]
        if args[0].field in self._booleans() or self._numeric(args[0].field):
            return False
        return all(
            isinstance(a.value, SigmaNumber)
            or (not isinstance(a.value, SigmaCasedString) and _safe_pattern(a.value) is not None)
            for a in args
        )

    def convert_condition_as_in_expression(self, cond: ConditionOR | ConditionAND, state: ConversionState) -> Any:
        # called only where decide_convert_condition_as_in_expression said yes: field conditions only
        args: list[ConditionFieldEqualsValueExpression] = cond.args  # type: ignore[assignment]
        values = [
            eql_string(str(a.value)) if isinstance(a.value, SigmaNumber) else _colon_pattern(condition_value(a, SigmaString))
            for a in args
        ]
        return self.field_in_list_expression.format(field=eql_field(args[0].field), list=", ".join(map(str, values)))

    # --- what EQL cannot say ---------------------------------------------------------------------

    def convert_condition_not(self, cond: ConditionNOT, state: ConversionState) -> Any:
        inner = cond.args[0]
        if isinstance(inner, ConditionFieldEqualsValueExpression) and isinstance(inner.value, SigmaNull):
            return f"?{eql_field(inner.field)} != null"  # upstream writes the field unquoted here
        return super(EqlBackend, self).convert_condition_not(cond, state)

    def convert_condition_field_eq_field(self, cond: Any, state: ConversionState) -> Any:
        raise SigmaFeatureNotSupportedByBackendError("field reference: EQL compares fields to literals only")

    def _keyword(self, cond: ConditionValueExpression, state: ConversionState) -> Any:
        raise SigmaFeatureNotSupportedByBackendError(
            "keyword (a value without a field): Elasticsearch EQL has no free-text search"
        )

    convert_condition_val_str = _keyword
    convert_condition_val_num = _keyword
    convert_condition_val_re = _keyword

    def finalize_query_default(self, rule: SigmaRule, query: str, index: int, state: ConversionState) -> str:
        return query


def _safe_pattern(value: Any) -> str | None:
    """The ``:`` pattern of a list member, or None where the member needs another form."""
    if not isinstance(value, SigmaString):
        return None
    try:
        return _colon_pattern(value)
    except ElasticUnsupported:
        return None


FLATTENED_REASON = (
    "Elasticsearch EQL cannot query fields of type flattened (its verifier: Cannot use field [...] with "
    "unsupported type [flattened]; elastic/elasticsearch#101985)"
)


TEXT_REASON = (
    "EQL searches do not support text fields (the Elasticsearch EQL syntax reference, Limitations: "
    "\"Text fields are not supported\"); Kibana KQL and Lucene match it as a phrase"
)


@dataclass
class EqlFieldCheck(DetectionItemTransformation):
    """Refuse fields inside the cell's ``flattened`` fields (EQL's verifier rejects that type) and the
    analysed ``text`` fields the cell matches as phrases (EQL does not search text)."""

    roots: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    """Field-name patterns the cell maps to (``winlog.event_data.param*``): EQL names one field each."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> SigmaDetectionItem | None:
        name = detection_item.field
        if name is not None and any(name == r or name.startswith(r + ".") for r in self.roots):
            raise ElasticUnsupported(f"field {name!r}: {FLATTENED_REASON}", source=detection_item.source)
        if any(isinstance(v, SigmaPhrase) for v in detection_item.value):
            raise ElasticUnsupported(f"field {name!r}: {TEXT_REASON}", source=detection_item.source)
        if name in self.patterns:
            raise ElasticUnsupported(
                f"field {name!r}: a field-name pattern, and EQL has none (each condition names one field)",
                source=detection_item.source,
            )
        return None


def eql_field_check(flattened_roots: tuple[str, ...], patterns: tuple[str, ...] = ()) -> ProcessingPipeline:
    """Runs after the cell's mapping (priority 20), on the names the data stream stores."""
    return ProcessingPipeline(
        name="detc: fields Elasticsearch EQL can query",
        priority=50,
        items=[
            ProcessingItem(
                identifier="detc_eql_field_check",
                transformation=EqlFieldCheck(tuple(flattened_roots), tuple(patterns)),
            )
        ],
    )
