"""Where CloudTrail fields live in an EventBridge event: the whole record is ``detail``."""

from __future__ import annotations

from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import AddFieldnamePrefixTransformation


def _cloudtrail() -> LogsourceCondition:
    # a condition belongs to one pipeline (pySigma refuses to share it), so make one per use
    return LogsourceCondition(product="aws", service="cloudtrail")


def eventbridge_cloudtrail() -> ProcessingPipeline:
    """CloudTrail record fields to their path in the event EventBridge delivers.

    EventBridge wraps the CloudTrail record unchanged as ``detail`` (User Guide, "Events delivered via
    CloudTrail": awsdocs/amazon-eventbridge-user-guide ``doc_source/event-types.md`` @ 86f30ac3), so a field
    ``x.y`` is ``detail.x.y``.
    """
    items = [
        ProcessingItem(
            AddFieldnamePrefixTransformation("detail."),
            identifier="eventbridge_cloudtrail_detail",
            rule_conditions=[_cloudtrail()],
        )
    ]
    return ProcessingPipeline(name="EventBridge: CloudTrail record under detail", priority=20, items=items)
