"""Documented differences between Sigma semantics and what the Elastic queries can do, per rule."""

from __future__ import annotations

from sigma.rule import SigmaDetectionItem, SigmaRule
from sigma.types import SigmaCasedString, SigmaRegularExpression, SigmaString

from backends.elastic.lucene_regex import has_letters
from compiler.patterns import detection_items, tests_text

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
EMPTY_VALUES = (
    "empty values: the integration's ingest pipeline drops empty strings (and nulls) before indexing "
    "(its script removing null and empty values), so a field holding \"\" is absent in Elastic, "
    "where Sigma sees an empty string."
)
_WHOLE_OBJECTS = {"requestParameters", "responseElements", "additionalEventData", "serviceEventDetails"}


def _all_items(rule: SigmaRule) -> list[SigmaDetectionItem]:
    return detection_items(rule)


def _common(items: list[SigmaDetectionItem], rule: SigmaRule) -> list[str]:
    fields = {i.field for i in items}
    out = []
    if tests_text(rule, ""):
        out.append(EMPTY_VALUES)
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
        for v in i.value
    )
    return tuple(([KQL_CASE] if folded else []) + _common(items, rule))


def lucene_caveats(rule: SigmaRule) -> tuple[str, ...]:
    """Caveats of the Lucene query for a rule (before the pipeline rewrites it)."""
    items = _all_items(rule)
    out = _common(items, rule)
    if any(
        isinstance(v, SigmaRegularExpression) and any(k in v.regexp.to_plain() for k in (r"\d", r"\w", r"\s", r"\D", r"\W", r"\S"))
        for i in items
        for v in i.value
    ):
        out.append(ASCII_CLASSES)
    return tuple(out)
