"""Documented differences between Sigma semantics and what the Elastic queries can do, per rule."""

from __future__ import annotations

from collections.abc import Callable, Collection

from sigma.rule import SigmaDetectionItem, SigmaRule
from sigma.types import SigmaCasedString, SigmaExists, SigmaNull, SigmaRegularExpression, SigmaString

from backends.elastic.index_mapping import FieldSpec, field_spec
from backends.elastic.lucene_regex import has_letters
from compiler.patterns import detection_items, item_values, value_fits

KQL_CASE = (
    "case: Kibana KQL matches keyword fields case-sensitively and has no case-insensitive syntax "
    "(Kibana issues 55378, 134143; Kibana's caseInsensitive query option is not part of the query text). "
    "String values match only in the case the rule writes them, where Sigma matches any case; "
    "CloudTrail writes eventSource, eventName and userIdentity.type in canonical case."
)
USER_NAME = (
    "user.name: the integration stores userIdentity.userName there, but for assumed-role records it "
    "holds the session issuer's name instead, and newer integration versions keep only the local part "
    "of e-mail-shaped user names."
)
OBJECT_TEXT = (
    "whole-object text: requestParameters/responseElements/additionalEventData/serviceEventDetails "
    "are matched on the integration's Java Map.toString() text ({key=value, ...}, key order unspecified, "
    "not JSON), and values longer than the field's ignore_above (8191 characters for request and "
    "response, 1024 otherwise) are not indexed."
)
ASCII_CLASSES = (
    r"regex classes: \d, \w and \s are translated to their ASCII sets ([0-9], [A-Za-z0-9_], whitespace); "
    "Python's Unicode classes are wider."
)
_WHOLE_OBJECTS = {"requestParameters", "responseElements", "additionalEventData", "serviceEventDetails"}


def _all_items(rule: SigmaRule) -> list[SigmaDetectionItem]:
    return detection_items(rule)


def _common(items: list[SigmaDetectionItem], rule: SigmaRule) -> list[str]:
    fields = {i.field for i in items}
    out = []
    if "userIdentity.userName" in fields:
        out.append(USER_NAME)
    if fields & _WHOLE_OBJECTS:
        out.append(OBJECT_TEXT)
    return out


def kql_caveats(rule: SigmaRule) -> tuple[str, ...]:
    """Caveats of the KQL query for a rule (before the pipeline rewrites it)."""
    items = _all_items(rule)
    folded = any(
        isinstance(v, SigmaString)
        and not isinstance(v, SigmaCasedString)
        and has_letters("".join(p for p in v.s if isinstance(p, str)))
        for i in items
        for v in item_values(i)
    )
    return tuple(([KQL_CASE] if folded else []) + _common(items, rule))


def lucene_caveats(rule: SigmaRule) -> tuple[str, ...]:
    """Caveats of the Lucene (and the EQL) query for a rule (before the pipeline rewrites it): both
    write Sigma regexes in Lucene's dialect."""
    items = _all_items(rule)
    out = _common(items, rule)
    if any(
        isinstance(v, SigmaRegularExpression) and any(k in v.regexp.to_plain() for k in (r"\d", r"\w", r"\s", r"\D", r"\W", r"\S"))
        for i in items
        for v in item_values(i)
    ):
        out.append(ASCII_CLASSES)
    return tuple(out)


def _plain(value: object) -> str | None:
    return "".join(p for p in value.s if isinstance(p, str)) if isinstance(value, SigmaString) else None


def ingest_caveats(rule: SigmaRule) -> list[str]:
    """What the integration's ingest pipeline drops, where the rule depends on it: its painless
    script removes every null and empty-string value before indexing (elastic/integrations
    packages/aws/data_stream/cloudtrail/elasticsearch/ingest_pipeline/default.yml, "drop null/empty
    values"). Read on the rule as written (Sigma field names)."""
    out = []
    for item in detection_items(rule):
        for value in item_values(item):
            if isinstance(value, SigmaString) and not value.s:
                out.append(
                    f"{item.field}: '': Elastic's ingest pipeline drops empty strings, so no stored document holds "
                    f"'' in {item.field}; this test matches none (under NOT: every document)"
                )
            elif isinstance(value, SigmaString) and value_fits(value, ""):
                out.append(
                    f"{item.field}: {str(value)!r} also matches '' in Sigma; Elastic's ingest pipeline drops empty "
                    f"strings, so a record whose {item.field} is '' is not found by it"
                )
            elif isinstance(value, SigmaNull):
                out.append(
                    f"{item.field}: null also matches a record whose {item.field} is '' (Elastic's ingest pipeline "
                    "drops empty strings and nulls before indexing)"
                )
            elif isinstance(value, SigmaExists):
                out.append(
                    f"{item.field}|exists: a field present as JSON null or '' is dropped at ingest, so Elastic sees "
                    "it absent where Sigma sees it present"
                )
    return list(dict.fromkeys(out))


def ignore_above_caveat(
    mapped: SigmaRule, types: Callable[[str], FieldSpec] = field_spec, example: str = "a padded userAgent or ARN",
    constant: Collection[str] = (),
) -> list[str]:
    """Keyword fields the rule matches a value on whose mapping stops indexing long values
    (``ignore_above``, from the data stream's field definitions): a longer value is not indexed, so
    the document is seen as lacking the field. Read on the rule after the pipeline (ECS names)."""
    limits: dict[str, int] = {}
    for item in detection_items(mapped):
        if not item.field or not any(isinstance(v, (SigmaString, SigmaRegularExpression)) for v in item_values(item)):
            continue
        if item.field in constant:  # a field whose stored values are short constants (a channel name)
            continue
        spec = types(item.field)
        if spec.ignore_above is not None:
            limits[item.field] = spec.ignore_above
    if not limits:
        return []
    listed = ", ".join(f"{name} ({limit})" for name, limit in sorted(limits.items()))
    return [
        f"ignore_above: values longer than the mapping's limit in characters are not indexed in {listed}; "
        f"an event holding a longer value ({example}) is seen as lacking the field and "
        "escapes a match on it"
    ]


eql_caveats = lucene_caveats
"""EQL's ``regex`` is Lucene's dialect too, and its case folding is exact: the same caveats."""
