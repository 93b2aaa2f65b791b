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
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations.base import ValueTransformation
from sigma.types import (
    SigmaCasedString,
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
from compiler.patterns import EqualityStrings

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
    """Sigma strings on keyword fields → case-insensitive Lucene regexes; Sigma regexes → Lucene's."""

    def apply_value(self, field: str | None, val: SigmaType) -> SigmaType | Iterable[SigmaType] | None:
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
