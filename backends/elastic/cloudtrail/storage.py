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


PACKAGE = "aws"
INTEGRATION = "cloudtrail"
"""The Fleet package and its policy template (integration) that write this data stream."""
PACKAGE_VERSION = "^2.0.0"
"""detection-rules' ``find_least_compatible_version``: the first release of the package's latest major
that installs on the current stack. At the integration commit the corpus holds (0046748f,
packages/aws/changelog.yml) the package is 2.24.1, and its major 2 began with 2.0.0 (Kibana ^8.x)."""


def storage(settings: Mapping[str, Any], logsource: Any = None) -> dict[str, Any]:
    """The index patterns rules search, from the target's settings (a client may name its own); every
    CloudTrail logsource is the one data stream."""
    return {"index": list(settings.get("index") or DEFAULT_INDEX)}


def eql_event_category(logsource: Any) -> str:
    """The EQL event category of CloudTrail rules: ``any``. The ingest pipeline sets
    ``event.category`` only for some calls (``iam``, ``authentication``, ``configuration`` …, by
    event name), so no category covers every record a CloudTrail rule may match."""
    return "any"
