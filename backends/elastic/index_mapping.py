"""The field types of the ``logs-aws.cloudtrail-*`` data stream, as Elasticsearch stores them.

This is platform state, not the Sigma-to-ECS mapping: it says how a field *behaves* in a query
(keyword terms, ip/CIDR, booleans, dates, flattened objects whose leaves are keywords, values
longer than ``ignore_above`` that are not indexed). Both evaluators read it; the backends never do.
Source: the data stream's field definitions in Elastic's AWS integration (elastic/integrations
``packages/aws/data_stream/cloudtrail/fields/fields.yml`` @ 0b97ab02df57b57303b67e48840bb75dfe5c4738 and
``base-fields.yml`` @ 7a59b0b8a7a00a8795c8f645c472515dc81e66f8); a corpus test checks it against them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

FieldType = Literal["keyword", "constant_keyword", "ip", "boolean", "date", "long", "flattened", "geo_point", "text"]

KEYWORD_IGNORE_ABOVE = 1024
"""elastic-package gives keyword fields ``ignore_above: 1024`` unless the field says otherwise."""


@dataclass(frozen=True)
class PatternAnalyzer:
    """An Elasticsearch ``pattern`` analyzer: the text split on a Java regular expression that matches
    the separators (zero-length tokens dropped), then lower-cased; no stop words (the analyzer's
    defaults: ``lowercase: true``, ``stopwords: _none_``; Elasticsearch reference, "Pattern analyzer")."""

    name: str
    pattern: str
    """The separator pattern as the index template writes it (Java syntax)."""
    token: str
    """The same split in Python's syntax: the class of the characters that make up tokens (Java's
    ``\\w`` is ASCII ``[a-zA-Z0-9_]`` unless the UNICODE_CHARACTER_CLASS flag is set, so every other
    character separates)."""
    _runs: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_runs", re.compile(self.token + "+"))

    def tokens(self, text: str) -> tuple[str, ...]:
        """The terms Elasticsearch indexes for a text, in position order."""
        return _tokens(self._runs, text)


@lru_cache(maxsize=512)
def _tokens(runs: re.Pattern[str], text: str) -> tuple[str, ...]:
    # Tokens first, then lower-cased (Lucene's LowerCaseFilter runs after the tokenizer).
    return tuple(t.lower() for t in runs.findall(text))


@dataclass(frozen=True)
class FieldSpec:
    type: FieldType
    ignore_above: int | None = None
    analyzer: PatternAnalyzer | None = None
    """For a ``text`` field, the analyzer its mapping names when detc models it (None: the
    ``standard`` analyzer, which detc's evaluators do not run)."""


_TYPED: dict[str, FieldSpec] = {
    "@timestamp": FieldSpec("date"),
    "event.created": FieldSpec("date"),
    "event.ingested": FieldSpec("date"),
    "aws.cloudtrail.user_identity.session_context.creation_date": FieldSpec("date"),
    "data_stream.type": FieldSpec("constant_keyword"),
    "data_stream.dataset": FieldSpec("constant_keyword"),
    "data_stream.namespace": FieldSpec("constant_keyword"),
    "event.module": FieldSpec("constant_keyword"),
    "event.dataset": FieldSpec("constant_keyword"),
    "source.ip": FieldSpec("ip"),
    "source.as.number": FieldSpec("long"),
    "source.geo.location": FieldSpec("geo_point"),
    "aws.cloudtrail.read_only": FieldSpec("boolean"),
    "aws.cloudtrail.console_login.additional_eventdata.mobile_version": FieldSpec("boolean"),
    "aws.cloudtrail.console_login.additional_eventdata.mfa_used": FieldSpec("boolean"),
    # fields.yml gives these two ignore_above 8191: longer strings are kept in _source only.
    "aws.cloudtrail.request_parameters": FieldSpec("keyword", 8191),
    "aws.cloudtrail.response_elements": FieldSpec("keyword", 8191),
    "aws.cloudtrail.additional_eventdata": FieldSpec("keyword", KEYWORD_IGNORE_ABOVE),
    "aws.cloudtrail.service_event_details": FieldSpec("keyword", KEYWORD_IGNORE_ABOVE),
}

FLATTENED_ROOTS: tuple[str, ...] = (
    "aws.cloudtrail.flattened.request_parameters",
    "aws.cloudtrail.flattened.response_elements",
    "aws.cloudtrail.flattened.additional_eventdata",
    "aws.cloudtrail.flattened.service_event_details",
    "aws.cloudtrail.flattened.digest",
    "aws.cloudtrail.flattened.insight_details",
)
"""``flattened`` fields: the whole object is indexed as keyword leaves (numbers as their text)."""


def typed(name: str) -> FieldSpec | None:
    """The type this data stream gives a field explicitly (None: a plain keyword, or not its field)."""
    spec = _TYPED.get(name)
    if spec is not None:
        return spec
    for root in FLATTENED_ROOTS:
        if name == root or name.startswith(root + "."):
            return FieldSpec("flattened")
    return None


def field_spec(name: str) -> FieldSpec:
    """The type of a field; strings elsewhere are keywords (ECS and the integration's default)."""
    return typed(name) or FieldSpec("keyword", KEYWORD_IGNORE_ABOVE)


def flattened_root(name: str) -> str | None:
    """The flattened field a name lies in, if any."""
    for root in FLATTENED_ROOTS:
        if name == root or name.startswith(root + "."):
            return root
    return None
