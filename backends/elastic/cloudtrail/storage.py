"""Where Elastic keeps CloudTrail records: the AWS integration's ``cloudtrail`` data stream.

elastic/integrations ``packages/aws/data_stream/cloudtrail`` (fields/base-fields.yml: constant
``data_stream.dataset: aws.cloudtrail``); Fleet names the backing indices
``logs-aws.cloudtrail-<namespace>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DATASET_FIELD = "data_stream.dataset"
DATASET = "aws.cloudtrail"
DEFAULT_INDEX = ("logs-aws.cloudtrail-*",)
DATA_STREAM = {"type": "logs", "dataset": DATASET, "namespace": "default"}
"""Constant keywords of the data stream (base-fields.yml); every stored document carries them."""


def storage(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The index patterns rules search, from the target's settings (a client may name its own)."""
    return {"index": list(settings.get("index") or DEFAULT_INDEX)}
