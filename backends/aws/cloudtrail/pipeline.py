"""EventBridge × CloudTrail: where CloudTrail fields live in an EventBridge event (the record is ``detail``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import AddFieldnamePrefixTransformation


def processing_pipeline(settings: Mapping[str, Any]) -> ProcessingPipeline:
    """CloudTrail record fields to their path in the event EventBridge delivers.

    EventBridge wraps the CloudTrail record unchanged as ``detail`` (User Guide, "Events delivered via
    CloudTrail": awsdocs/amazon-eventbridge-user-guide ``doc_source/event-types.md`` @ 86f30ac3), so a field
    ``x.y`` is ``detail.x.y``.
    """
    items = [
        ProcessingItem(
            AddFieldnamePrefixTransformation("detail."),
            identifier="eventbridge_cloudtrail_detail",
        )
    ]
    return ProcessingPipeline(name="EventBridge: CloudTrail record under detail", priority=20, items=items)
