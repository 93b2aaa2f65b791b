"""Lucene query_string: pySigma's upstream ``LuceneBackend`` with the ECS pipeline and case folding.

The upstream backend (pySigma-backend-elasticsearch) has no case option: its terms are exact,
and keyword fields compare case-sensitively. Sigma matches case-insensitively, so a pipeline
step rewrites every string on a keyword field that holds a letter into a Lucene regular
expression spelling each letter both ways (``/[Kk][Mm][Ss]\\.amazonaws\\.com/``), and every Sigma
``|re`` into Lucene's anchored dialect. The backend itself is upstream's, plus one template:
a regex without a field (a Sigma keyword) searches the default fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from sigma.backends.elasticsearch.elasticsearch_lucene import LuceneBackend
from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionOR
from sigma.conversion.state import ConversionState
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations.base import ValueTransformation
from sigma.types import (
    SigmaCasedString,
    SigmaExpansion,
    SigmaRegularExpression,
    SigmaString,
    SigmaType,
    SpecialChars,
)

from backends.elastic.errors import ElasticUnsupported
from backends.elastic.lucene_regex import (
    LuceneRegexError,
    has_letters,
    sigma_regex_to_lucene,
    sigma_string_regex,
)
from backends.elastic.phrase import SigmaPhrase
from compiler.patterns import EqualityStrings, condition_value

NOT_FOLDED_FIELDS: frozenset[str] = frozenset({"source.ip", "aws.cloudtrail.read_only", "data_stream.dataset"})
"""Fields left exact: ip and boolean fields take no regex; the dataset name is detc's own constant."""


def _needs_regex(text: str) -> bool:
    """Tabs, newlines and control characters: upstream leaves them unescaped, and query_string
    would split the term there; inside a regex they are plain characters."""
    return any((ch.isspace() and ch != " ") or not ch.isprintable() for ch in text)


class DetcLuceneBackend(EqualityStrings, LuceneBackend):
    """Upstream LuceneBackend; a keyword regex goes to the default fields like a keyword term."""

    unbound_value_re_expression: ClassVar[str] = "/{value}/"
    field_not_exists_expression: ClassVar[str] = "(NOT _exists_:{field})"
    """Grouped (upstream groups ``null`` this way, not ``|exists: false``): in ``a OR NOT b`` Lucene
    makes NOT a prohibited clause of the whole group (a AND NOT b), and ``NOT NOT b`` is no query;
    Elasticsearch gives a group of its own a match-all, so ``a OR (NOT b)`` means what Sigma means."""
    add_escaped: ClassVar[str] = LuceneBackend.add_escaped + "'"
    """Upstream's escapes plus the apostrophe: Lucene takes it plain, but luqum's lexer (and with
    it every tool built on luqum) does not; a backslash before any character is valid Lucene."""

    def convert_condition_field_eq_expansion(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Any:
        """The OR of an expansion's values (``|windash``), grouped: ``f:(a OR b)``, or ``(f:/a/ OR
        f:/b/)`` where the values make no such list (regexes: case-folded values). Upstream (2.1.1)
        converts the expansion's own condition in that case, which has no operands (an
        AttributeError); and its precedence, which ranks OR above AND (Lucene's is the other way
        round), left the OR ungrouped inside an AND (``compare_precedence``)."""
        expansion = condition_value(cond, SigmaExpansion)
        alternatives = ConditionOR([ConditionFieldEqualsValueExpression(cond.field, v) for v in expansion.values], cond.source)
        if self.decide_convert_condition_as_in_expression(alternatives, state):
            return self.convert_condition_as_in_expression(alternatives, state)
        if len(expansion.values) == 1:
            return self.convert_condition(alternatives.args[0], state)
        return self.convert_condition_group(alternatives, state)

    def compare_precedence(self, outer: Any, inner: Any) -> bool:
        """An expansion groups itself (``convert_condition_field_eq_expansion``)."""
        if isinstance(inner, ConditionFieldEqualsValueExpression) and isinstance(inner.value, SigmaExpansion):
            return True
        result: bool = super().compare_precedence(outer, inner)
        return result
    def convert_value_str(self, s: SigmaString, state: Any) -> str:
        """A phrase on an analysed text field as query_string's ``"…"`` (only ``\\`` and ``"`` are
        escaped inside it: Lucene's QueryParser reads every other character of a quoted term as it is)."""
        if isinstance(s, SigmaPhrase):
            return '"' + re.sub(r'([\\"])', r"\\\1", s.text) + '"'
        text: str = super().convert_value_str(s, state)
        return text


class LuceneRegularExpression(SigmaRegularExpression):
    """A regex already written in Lucene's dialect (by ``lucene_regex``, which refuses what Lucene
    cannot say). pySigma checks a regex by compiling it with Python's ``re``; that dialect is not
    this one, and the check cost more than the rest of the conversion."""

    def compile(self) -> None:
        return None


@dataclass
class LuceneCaseFolding(ValueTransformation):
    """Sigma strings on keyword fields → case-insensitive Lucene regexes; Sigma regexes → Lucene's.

    A ``|windash`` value is one ``SigmaExpansion`` holding its variants (``-x``, ``/x``, en dash, em
    dash, horizontal bar); pySigma hands it over whole, so each variant is folded here, or it would
    stay an exact, case-sensitive term."""

    def apply_value(self, field: str | None, val: SigmaType) -> SigmaType | Iterable[SigmaType] | None:
        if isinstance(val, SigmaExpansion):
            folded = [self.apply_value(field, v) for v in val.values]
            if all(f is None for f in folded):
                return None
            return SigmaExpansion([v if f is None else f for v, f in zip(val.values, folded, strict=True)])  # type: ignore[misc]
        if isinstance(val, SigmaPhrase):  # analysed by the text field's analyzer, which lower-cases
            return None
        if isinstance(val, SigmaCasedString):  # |cased: Lucene terms are exact already
            plain = SigmaString()
            plain.s = val.s
            return plain
        if field in NOT_FOLDED_FIELDS:
            return None
        try:
            if isinstance(val, SigmaRegularExpression):
                regex, _ = sigma_regex_to_lucene(val)
                return LuceneRegularExpression(regex)
            if isinstance(val, SigmaString):
                if field is None:  # a keyword is free text: contained anywhere in a value
                    wrapped = SigmaString()
                    wrapped.s = [SpecialChars.WILDCARD_MULTI, *val.s, SpecialChars.WILDCARD_MULTI]
                    val = wrapped
                text = "".join(p for p in val.s if isinstance(p, str))
                if not has_letters(text) and not _needs_regex(text):
                    return None
                return LuceneRegularExpression(sigma_string_regex(val))
        except LuceneRegexError as err:
            raise ElasticUnsupported(f"{field or 'keyword'}: {err}") from err
        return None


def lucene_case_folding() -> ProcessingPipeline:
    """Runs after the ECS mapping, so it sees the ECS field names."""
    return ProcessingPipeline(
        name="detc: case-insensitive Lucene regexes",
        priority=50,
        items=[ProcessingItem(identifier="detc_lucene_case_folding", transformation=LuceneCaseFolding())],
    )
