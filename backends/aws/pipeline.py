"""Where CloudTrail fields live in an EventBridge event: the whole record is ``detail``."""

from __future__ import annotations

from collections.abc import Mapping

from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import AddFieldnamePrefixTransformation, FieldMappingTransformation


def _cloudtrail() -> LogsourceCondition:
    # a condition belongs to one pipeline (pySigma refuses to share it), so make one per use
    return LogsourceCondition(product="aws", service="cloudtrail")


def eventbridge_cloudtrail(extra_mapping: Mapping[str, str] | None = None) -> ProcessingPipeline:
    """CloudTrail record fields to their path in the event EventBridge delivers.

    EventBridge wraps the CloudTrail record unchanged as ``detail`` (User Guide, "Events delivered via
    CloudTrail"; see ../shared/corpus/eventbridge/), so a field ``x.y`` is ``detail.x.y``.
    ``extra_mapping`` renames fields first (a profile's per-client mapping).
    """
    items = []
    if extra_mapping:
        items.append(
            ProcessingItem(
                FieldMappingTransformation(dict(extra_mapping)),
                identifier="detc_profile_mapping",
                rule_conditions=[_cloudtrail()],
            )
        )
    items.append(
        ProcessingItem(
            AddFieldnamePrefixTransformation("detail."),
            identifier="eventbridge_cloudtrail_detail",
            rule_conditions=[_cloudtrail()],
        )
    )
    return ProcessingPipeline(name="EventBridge: CloudTrail record under detail", priority=20, items=items)
