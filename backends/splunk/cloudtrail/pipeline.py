"""Splunk × CloudTrail: the processing pipeline for CloudTrail as the Splunk Add-on for AWS presents it to a search.

Facts modelled here, from the add-on's ``default/props.conf`` stanza ``[aws:cloudtrail]``
(Splunk_TA_aws; read from a public copy: skykid17/smartlp @ 05f23bd336699c8e8a5072b32185ea1171db656e,
``rag/repos/splunk_repo/Splunk_TA_aws/default/props.conf``):

- ``KV_MODE = json``: fields are extracted at search time by Splunk's JSON extraction, which names
  a nested value by its dotted path and an array by ``{}`` (the add-on itself refers to
  ``'resources{}.ARN'`` and ``'requestParameters.instancesSet.items{}.imageId'``). A Sigma rule
  names CloudTrail fields by their dotted JSON path without array markers, so every array along a
  path gets its ``{}`` here, as the real records in the corpus show them (compiler.cloudtrail_paths);
  a path no record shows is refused, since the wrong name would match nothing.
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
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddConditionTransformation,
)
from sigma.processing.transformations.base import (
    DetectionItemTransformation,
    FieldMappingTransformationBase,
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

from backends.splunk.cloudtrail.storage import storage
from backends.splunk.spl_backend import add_caveat
from compiler.cloudtrail_paths import shape
from compiler.patterns import detection_items, python_regex_flags

ERROR_CODE = "errorCode"
CONSOLE_LOGIN = "responseElements.ConsoleLogin"
FILLED_SUCCESS = "success"
FILLED_FAILURE = "failure"
CALCULATED_FIELDS = frozenset({ERROR_CODE, "msg"})
"""Fields the add-on calculates at search time (props.conf ``EVAL-errorCode``, ``EVAL-msg``): a
where-form search decides them in ``| where``, never in its base search."""

def splunk_names(path: str) -> list[str] | None:
    """The add-on's JSON-extraction names of a CloudTrail path: ``{}`` after every segment that holds
    an array (``resources{}.ARN``, ``requestParameters.ipPermissions.items{}.ipRanges.items{}.cidrIp``),
    one name for each way real records hold it (S3's ``requestParameters.host`` is a list in some
    records and a string in others: ``requestParameters.host{}`` and ``requestParameters.host``), from
    compiler.cloudtrail_paths; None for a path no record shows."""
    known = shape(path)
    if known is None:
        return None
    names = []
    for arrays in known.leaf_arrays or (known.arrays,):
        parts = path.split(".")
        for index in arrays:
            parts[index] += "{}"
        names.append(".".join(parts))
    return sorted(set(names))

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
name is not the query mapping's (arrays get their ``{}`` from :func:`splunk_names`)."""


def investigation_fields(names: Sequence[str]) -> list[str]:
    """A rule's ``fields:`` as the add-on's field names."""
    return [INVESTIGATION_FIELDS.get(name) or ",".join(splunk_names(name) or [name]) for name in names]


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
class JsonNullAsText(DetectionItemTransformation):
    """Sigma's ``f: null`` (absent or JSON null) as ``NOT f=* OR f="null"``: Splunk's JSON extraction
    gives a field present as JSON null the text ``null`` (KV_MODE=json, as the shaper models it), so
    ``NOT f=*`` alone would miss it. The text ``null`` itself cannot be told apart: stated as a caveat."""

    def apply_detection_item(
        self, detection_item: SigmaDetectionItem
    ) -> SigmaDetection | SigmaDetectionItem | None:
        name = detection_item.field
        if name in (None, ERROR_CODE) or not any(isinstance(v, SigmaNull) for v in detection_item.value):
            return None
        add_caveat(
            self,
            f"{name}: null also matches the text 'null' in any letter form, which Splunk's JSON extraction gives a "
            "field present as JSON null, so the search is wider (under NOT it also leaves out a record holding "
            "that text)",
        )
        others = [v for v in detection_item.value if not isinstance(v, SigmaNull)]
        items: list[SigmaDetectionItem | SigmaDetection] = [
            SigmaDetectionItem(name, [], [SigmaNull()]),
            SigmaDetectionItem(name, [], [SigmaString("null")]),
        ]
        if others:
            items.append(SigmaDetectionItem(name, list(detection_item.modifiers), others))
        return SigmaDetection(items, item_linking=ConditionOR)


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
                add_caveat(
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
        # takes "failure" only where the record says ConsoleLogin=Failure; "success" otherwise. A
        # record whose errorCode is JSON null keeps the text "null" the JSON extraction gives it
        # (coalesce takes the first non-null), so that text counts as no errorCode too.
        add_caveat(
            self,
            "errorCode: null also matches the text 'null' in any letter form, which Splunk's JSON extraction gives "
            "an errorCode present as JSON null, so the search is wider (under NOT it also leaves out a record "
            "holding that text)",
        )
        return SigmaDetection(
            [
                SigmaDetectionItem(ERROR_CODE, [], [SigmaString(FILLED_SUCCESS)]),
                SigmaDetectionItem(ERROR_CODE, [], [SigmaString("null")]),
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
        name = detection_item.field
        known = shape(name) if name else None
        objects_only = known is not None and "object" in known.kinds and "scalar" not in known.kinds
        if name not in OBJECT_FIELDS and not objects_only:
            return None
        raise SigmaTransformationError(
            f"{detection_item.field}: a CloudTrail JSON object is not a Splunk field; the add-on's "
            "JSON extraction (KV_MODE=json) makes fields of its leaves only, e.g. "
            f"{detection_item.field}.<name>",
            source=detection_item.source,
        )


@dataclass
class UnknownPathFailure(DetectionItemTransformation):
    """Refuse a field no CloudTrail record shows: whether it crosses an array decides its Splunk name
    (``a{}.b`` or ``a.b``), and the wrong name matches nothing, silently. Refuse too a test of absence
    on a path records hold in several shapes: the test is made on each name, and absence of one is
    not absence of the field."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> None:
        name = detection_item.field
        if name is None or name in (ERROR_CODE, CONSOLE_LOGIN):
            return None
        names = splunk_names(name)
        absent = any(isinstance(v, SigmaNull) or isinstance(v, SigmaExists) and not v.exists
                     for v in detection_item.value)
        if names is not None and len(names) > 1 and absent:
            raise SigmaTransformationError(
                f"{name}: absence where records hold it in {len(names)} shapes ({', '.join(names)}): each is its "
                "own Splunk field and the test is made on each of them, so absence would need all of them absent",
                source=detection_item.source,
            )
        if names is not None:
            return None
        raise SigmaTransformationError(
            f"{name}: no CloudTrail record or API reference detc knows shows this path, so whether it "
            "crosses an array (which Splunk's JSON extraction names with {}) is unknown",
            source=detection_item.source,
        )


@dataclass
class ArrayNames(FieldMappingTransformationBase):
    """Sigma's dotted CloudTrail paths to the add-on's JSON-extraction names (``{}`` on arrays)."""

    def apply_field_name(self, field: str | None) -> str | list[str] | None:
        if field is None:
            return None
        names = splunk_names(field)
        if names is None or names == [field]:
            return None
        return names[0] if len(names) == 1 else names  # several: pySigma ORs the test over them


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
    stored = storage(settings)
    table_extra = (str(settings["risk_object_field"]),)
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
            ),
            ProcessingItem(
                identifier="spl_error_code",
                transformation=AddonErrorCode(),
            ),
            ProcessingItem(
                identifier="spl_json_null",
                transformation=JsonNullAsText(),
            ),
            ProcessingItem(
                identifier="spl_literal_asterisk",
                transformation=LiteralAsteriskAsWildcard(),
            ),
            ProcessingItem(
                identifier="spl_unknown_paths",
                transformation=UnknownPathFailure(),
            ),
            ProcessingItem(
                identifier="spl_array_fields",
                transformation=ArrayNames(),
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
                    {"index": stored["index"], "sourcetype": stored["sourcetype"]}, name="detc_spl_index"
                ),
            ),
        ],
    )
    if where:
        skipped = {"spl_literal_asterisk", "spl_index_sourcetype"}
        pipeline.items = [item for item in pipeline.items if item.identifier not in skipped]
    return pipeline
