"""Splunk × CloudTrail: the processing pipeline for CloudTrail as the Splunk Add-on for AWS presents it to a search.

Facts modelled here, from the add-on's ``default/props.conf`` stanza ``[aws:cloudtrail]``
(Splunk_TA_aws; read from a public copy: skykid17/smartlp @ 05f23bd336699c8e8a5072b32185ea1171db656e,
``rag/repos/splunk_repo/Splunk_TA_aws/default/props.conf``):

- ``KV_MODE = json``: fields are extracted at search time by Splunk's JSON extraction, which names
  a nested value by its dotted path and an array by ``{}`` (the add-on itself refers to
  ``'resources{}.ARN'`` and ``'requestParameters.instancesSet.items{}.imageId'``). A Sigma rule
  names CloudTrail fields by their dotted JSON path without array markers, so every known array
  along a path gets its ``{}`` here.
- ``EVAL-errorCode = coalesce('errorCode', if(like('responseElements.ConsoleLogin', "Failure"),
  "failure", "success"), "success")``: a calculated field that shadows the extracted one, so in
  Splunk *every* CloudTrail event has an errorCode — ``success`` for a call without one (this is
  why Splunk's security_content searches filter ``errorCode=success``), ``failure`` for a failed
  console sign-in. ``NOT errorCode=*`` therefore never matches; Sigma's "no errorCode" is
  rewritten to the values the add-on fills in (:class:`AddonErrorCode`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sigma.conditions import ConditionAND, ConditionOR
from sigma.exceptions import SigmaTransformationError
from sigma.modifiers import SigmaExistsModifier
from sigma.processing.conditions import IncludeFieldCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddConditionTransformation,
    FieldMappingTransformation,
)
from sigma.processing.transformations.base import (
    DetectionItemTransformation,
    PreprocessingTransformation,
    StringValueTransformation,
)
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import (
    SigmaExists,
    SigmaNull,
    SigmaRegularExpression,
    SigmaString,
    SpecialChars,
)

from backends.splunk.backend import CAVEATS_STATE
from backends.splunk.cloudtrail.storage import SOURCETYPE
from compiler.patterns import detection_items, python_regex_flags

ERROR_CODE = "errorCode"
CONSOLE_LOGIN = "responseElements.ConsoleLogin"
FILLED_SUCCESS = "success"
FILLED_FAILURE = "failure"
CALCULATED_FIELDS = frozenset({ERROR_CODE, "msg"})
"""Fields the add-on calculates at search time (props.conf ``EVAL-errorCode``, ``EVAL-msg``): a
where-form search decides them in ``| where``, never in its base search."""

ARRAY_FIELDS: Mapping[str, str] = {
    # CloudTrail record contents: ``resources`` is the one top-level array of objects.
    "resources.ARN": "resources{}.ARN",
    "resources.accountId": "resources{}.accountId",
    "resources.type": "resources{}.type",
    # Arrays inside requestParameters / responseElements that SigmaHQ's AWS rules and the
    # add-on's own props.conf name (EC2's ``*.items`` lists, ECS task definitions, Lambda layers).
    "requestParameters.containerDefinitions.command": "requestParameters.containerDefinitions{}.command{}",
    "requestParameters.containerDefinitions.image": "requestParameters.containerDefinitions{}.image",
    "requestParameters.containerDefinitions.name": "requestParameters.containerDefinitions{}.name",
    "requestParameters.layers": "requestParameters.layers{}",
    "requestParameters.instancesSet.items.instanceId": "requestParameters.instancesSet.items{}.instanceId",
    "requestParameters.instancesSet.items.imageId": "requestParameters.instancesSet.items{}.imageId",
    "responseElements.instancesSet.items.instanceId": "responseElements.instancesSet.items{}.instanceId",
    "requestParameters.ipPermissions.items.ipRanges.items.cidrIp": "requestParameters.ipPermissions.items{}.ipRanges.items{}.cidrIp",
    "requestParameters.ipPermissions.items.fromPort": "requestParameters.ipPermissions.items{}.fromPort",
    "requestParameters.ipPermissions.items.toPort": "requestParameters.ipPermissions.items{}.toPort",
    "requestParameters.ipPermissions.items.ipProtocol": "requestParameters.ipPermissions.items{}.ipProtocol",
}
"""Sigma (dotted JSON path) → Splunk JSON-extraction name, for paths that cross an array."""

OBJECT_FIELDS: tuple[str, ...] = (
    "userIdentity",
    "userIdentity.sessionContext",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "resources",
    "serviceEventDetails",
    "tlsDetails",
)
"""CloudTrail members that hold JSON objects: Splunk's JSON extraction makes fields of their
leaves only (``requestParameters.bucketName``), never of the object itself."""

INVESTIGATION_FIELDS: Mapping[str, str] = {
    "eventTime": "_time",  # the event time Splunk parsed (props.conf TIME_PREFIX eventTime)
    "userIdentity.userName": "userName",  # props.conf EVAL-userName: the user, or the session issuer's
    # Whole objects are no field (KV_MODE=json extracts leaves): every leaf of the object.
    "requestParameters": "requestParameters.*",
    "responseElements": "responseElements.*",
}
"""A rule's ``fields:`` (raw CloudTrail names) for the ``| table`` of a search, where the add-on's
name is not the query mapping's (arrays get their ``{}`` from :data:`ARRAY_FIELDS`)."""


def investigation_fields(names: Sequence[str]) -> list[str]:
    """A rule's ``fields:`` as the add-on's field names."""
    return [INVESTIGATION_FIELDS.get(name) or ARRAY_FIELDS.get(name) or name for name in names]


def _add_caveat(transformation: Any, text: str) -> None:
    pipeline = getattr(transformation, "_pipeline", None)
    if pipeline is not None:
        caveats = pipeline.state.setdefault(CAVEATS_STATE, [])
        if text not in caveats:
            caveats.append(text)


def matches_filled_value(value: Any) -> bool:
    """Whether a Sigma errorCode value also matches the add-on's filled-in success/failure: a
    string as a whole value (case-insensitive), a regex searched with its own flags."""
    filled = (FILLED_SUCCESS, FILLED_FAILURE)
    if isinstance(value, SigmaRegularExpression):
        try:
            pattern = re.compile(value.regexp.to_plain(), python_regex_flags(value))
        except re.error:
            return True  # cannot tell: treat as matching, the cautious answer
        return any(pattern.search(text) for text in filled)
    if isinstance(value, SigmaString):
        return any(filled_value_pattern(value).fullmatch(text) for text in filled)
    return False


def filled_value_pattern(value: SigmaString) -> re.Pattern[str]:
    """The Sigma string as a case-insensitive regex, to test it against the add-on's filled values."""
    return re.compile(str(value.to_regex().regexp), re.IGNORECASE | re.DOTALL)


def negated_values(rule: Any) -> list[tuple[str | None, Any]]:
    """(field, value) of every value the condition negates (under an odd number of NOTs)."""
    from sigma.conditions import ConditionItem, ConditionNOT

    out: list[tuple[str | None, Any]] = []

    def walk(node: Any, negated: bool) -> None:
        if isinstance(node, ConditionNOT):
            negated = not negated
        if isinstance(node, ConditionItem):
            for arg in node.args:
                walk(arg, negated)
        elif negated and hasattr(node, "value"):
            out.append((getattr(node, "field", None), node.value))

    for condition in rule.detection.parsed_condition:
        walk(condition.parsed, False)
    return out


@dataclass
class NegatedFilledErrorCode(PreprocessingTransformation):
    """An errorCode value that also matches the add-on's filled-in value widens the search; under
    NOT that would exclude calls the rule keeps, so it is refused there."""

    def apply(self, rule: Any) -> None:
        super().apply(rule)
        if not isinstance(rule, SigmaRule) or not any(
            getattr(item, "field", None) == ERROR_CODE for item in detection_items(rule)
        ):
            return  # no errorCode test at all: nothing to look for under NOT
        for name, value in negated_values(rule):
            if name == ERROR_CODE and matches_filled_value(value):
                raise SigmaTransformationError(
                    f"errorCode value {str(value)!r} under NOT would also exclude the calls without an errorCode, "
                    "for which the add-on fills in 'success'/'failure'"
                )


@dataclass
class AddonErrorCode(DetectionItemTransformation):
    """Rewrite Sigma's "no errorCode" to what the add-on's ``EVAL-errorCode`` leaves in Splunk."""

    def apply_detection_item(
        self, detection_item: SigmaDetectionItem
    ) -> SigmaDetection | SigmaDetectionItem | None:
        if detection_item.field != ERROR_CODE:
            return None
        values = detection_item.value
        absent = any(isinstance(v, SigmaNull) for v in values) or any(
            isinstance(v, SigmaExists) and not v.exists for v in values
        )
        # A lone "*" is Sigma's "has any errorCode": the same as exists: true.
        present = any(isinstance(v, SigmaExists) and v.exists for v in values) or any(
            isinstance(v, SigmaString) and list(v.s) == [SpecialChars.WILDCARD_MULTI] for v in values
        )
        if present:
            raise SigmaTransformationError(
                "errorCode|exists: true (or errorCode: '*'): the Splunk Add-on for AWS fills errorCode on every "
                "CloudTrail event (EVAL-errorCode), so Splunk cannot tell a record that had one"
            )
        for value in values:
            if matches_filled_value(value):
                _add_caveat(
                    self,
                    f"errorCode value {str(value)!r} also matches the 'success'/'failure' the add-on "
                    "fills in for calls that had no errorCode, so the search is wider",
                )
        if not absent:
            return None
        if len(values) != 1 or detection_item.modifiers and not all(
            m is SigmaExistsModifier for m in detection_item.modifiers
        ):
            raise SigmaTransformationError(
                "errorCode: null combined with other values or modifiers is not supported on spl"
            )
        # coalesce('errorCode', if(like(ConsoleLogin, "Failure"), "failure", "success"), "success")
        # takes "failure" only where the record says ConsoleLogin=Failure; "success" otherwise.
        return SigmaDetection(
            [
                SigmaDetectionItem(ERROR_CODE, [], [SigmaString(FILLED_SUCCESS)]),
                SigmaDetection(
                    [
                        SigmaDetectionItem(ERROR_CODE, [], [SigmaString(FILLED_FAILURE)]),
                        SigmaDetectionItem(CONSOLE_LOGIN, [], [SigmaString("Failure")]),
                    ],
                    item_linking=ConditionAND,
                ),
            ],
            item_linking=ConditionOR,
        )


@dataclass
class ObjectFieldFailure(DetectionItemTransformation):
    """Refuse a detection on a whole CloudTrail JSON object, naming the field."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> None:
        raise SigmaTransformationError(
            f"{detection_item.field}: a CloudTrail JSON object is not a Splunk field; the add-on's "
            "JSON extraction (KV_MODE=json) makes fields of its leaves only, e.g. "
            f"{detection_item.field}.<name>",
            source=detection_item.source,
        )


@dataclass
class LiteralAsteriskAsWildcard(StringValueTransformation):
    """A literal ``*`` becomes Splunk's wildcard: no escape for it exists in a search.

    Search Manual, "Backslashes": "SPL uses the asterisk ( * ) as a wildcard character. The
    backslash symbol can't be used to escape the asterisk in search strings." Upstream writes
    ``\\*``, which Splunk reads as a literal backslash followed by a wildcard, so ``a*b`` would not
    even match itself; as a wildcard it matches itself and more (the target reports the caveat).
    """

    def apply_string_value(self, field: str | None, val: SigmaString) -> SigmaString | None:
        if not any(isinstance(p, str) and "*" in p for p in val.s):
            return None
        parts: list[Any] = []
        for part in val.s:
            if isinstance(part, str) and "*" in part:
                pieces = part.split("*")
                for i, piece in enumerate(pieces):
                    if i:
                        parts.append(SpecialChars.WILDCARD_MULTI)
                    if piece:
                        parts.append(piece)
            else:
                parts.append(part)
        widened = SigmaString()
        widened.s = list(parts)
        return widened


@dataclass
class InvestigationFields(PreprocessingTransformation):
    """Rename a rule's ``fields:`` (only those, never detection fields) to Splunk names."""

    extra: tuple[str, ...] = ()

    def apply(self, rule: Any) -> None:
        super().apply(rule)
        if isinstance(rule, SigmaRule) and rule.fields:
            renamed = [INVESTIGATION_FIELDS.get(name, name) for name in rule.fields]
            renamed.extend(name for name in self.extra if name not in renamed)
            rule.fields = list(dict.fromkeys(renamed))



def processing_pipeline(settings: Mapping[str, Any], *, where: bool = False) -> ProcessingPipeline:
    """CloudTrail rules as searches over the add-on's ``aws:cloudtrail`` events in the settings'
    ``index``; the ``risk_object_field`` joins the table. With ``where``, for the where-expression
    backend: literal ``*`` stays literal, and index and sourcetype are left to the base search the
    target writes."""
    index = str(settings["index"])
    table_extra = (str(settings["risk_object_field"]),)
    mapping = dict(ARRAY_FIELDS)
    pipeline = ProcessingPipeline(
        name="detc spl: AWS CloudTrail via the Splunk Add-on for AWS",
        priority=20,
        items=[
            ProcessingItem(
                identifier="spl_negated_error_code",
                transformation=NegatedFilledErrorCode(),
            ),
            ProcessingItem(
                identifier="spl_object_fields",
                transformation=ObjectFieldFailure(),
                field_name_conditions=[IncludeFieldCondition(fields=list(OBJECT_FIELDS))],
            ),
            ProcessingItem(
                identifier="spl_error_code",
                transformation=AddonErrorCode(),
            ),
            ProcessingItem(
                identifier="spl_literal_asterisk",
                transformation=LiteralAsteriskAsWildcard(),
            ),
            ProcessingItem(
                identifier="spl_array_fields",
                transformation=FieldMappingTransformation(dict(mapping)),
            ),
            ProcessingItem(
                identifier="spl_investigation_fields",
                transformation=InvestigationFields(extra=table_extra),
            ),
            ProcessingItem(
                identifier="spl_index_sourcetype",
                # A fixed name keeps the rewritten condition text the same for every rule with the
                # same condition, so pySigma's parse cache serves it (a random one never repeats).
                transformation=AddConditionTransformation(
                    {"index": index, "sourcetype": SOURCETYPE}, name="detc_spl_index"
                ),
            ),
        ],
    )
    if where:
        skipped = {"spl_literal_asterisk", "spl_index_sourcetype"}
        pipeline.items = [item for item in pipeline.items if item.identifier not in skipped]
    return pipeline
