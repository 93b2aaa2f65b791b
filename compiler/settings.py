"""What a client-profile value may be, by what it becomes: each kind of value named once, with the
strict pattern its platform allows, so that no profile value can break out of a query, a path or
a conf key."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """A constrained kind of text value: a pattern it must match in full and a length limit."""

    name: str
    """What the value is, as an error names it (``a Splunk index name``)."""
    pattern: str
    rule: str
    """The pattern in words, for the error line."""
    max_len: int = 255
    empty_ok: bool = False

    def problem(self, value: object) -> str | None:
        """Why the value is not of this kind (None: it is)."""
        if not isinstance(value, str):
            return f"must be {self.name}, not {type(value).__name__}"
        if value == "" and self.empty_ok:
            return None
        if len(value) > self.max_len:
            return f"{_shown(value)} is not {self.name}: longer than {self.max_len} characters"
        if not re.fullmatch(self.pattern, value) or ".." in value:
            return f"{_shown(value)} is not {self.name} ({self.rule})"
        return None


@dataclass(frozen=True)
class IntRange:
    """An integer setting with bounds."""

    low: int
    high: int

    def problem(self, value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be an integer"
        if not self.low <= value <= self.high:
            return f"{value} is out of range ({self.low} to {self.high})"
        return None


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_SEGMENT = r"[A-Za-z_@][A-Za-z0-9_@]*"

SIGMA_FIELD = Kind(
    "a field name",
    r"[A-Za-z0-9_@][A-Za-z0-9_@-]*(?:\.[A-Za-z0-9_@][A-Za-z0-9_@-]*)*",
    "names of letters, digits, '_', '@' or '-', joined by '.'",
)
"""A raw field name as Sigma rules write it (CloudTrail keys: ``requestParameters.bucketName``)."""

ECS_FIELD = Kind(
    "an Elasticsearch field name", rf"{_SEGMENT}(?:\.{_SEGMENT})*",
    "names of letters, digits, '_' or '@', joined by '.'",
)
"""A field of an Elastic document, written bare in KQL and Lucene (``aws.cloudtrail.user_identity.arn``)."""

SPL_FIELD = Kind(
    "a Splunk field name", rf"{_SEGMENT}(?:\{{\}})?(?:\.{_SEGMENT}(?:\{{\}})?)*",
    "names of letters, digits, '_' or '@', each optionally followed by '{}', joined by '.'",
)
"""A search-time field of the Splunk Add-on for AWS (``resources{}.ARN``): bare in ``| table`` and
between ``$`` in a risk message, so nothing that SPL or a token reads as syntax may appear."""

ELASTIC_INDEX = Kind(
    "an Elasticsearch index pattern",
    r"(?:[a-z0-9][a-z0-9_-]*:)?[a-z0-9*.][a-z0-9._+*-]*",
    "lowercase letters, digits, '.', '_', '-', '+' and '*', not starting with '-', '_' or '+', "
    "optionally after 'cluster:'",
)
"""Elasticsearch's index name rules (Create index API, path parameters: lowercase; no ``\\ / ? " < > |``,
space, comma or ``#``; not starting with ``-``, ``_`` or ``+``; at most 255 bytes), with ``*``."""

SPLUNK_INDEX = Kind(
    "a Splunk index name", r"[a-z0-9*][a-z0-9_*-]*",
    "lowercase letters, digits, '_', '-' and '*', starting with a letter, digit or '*'", max_len=80,
)
"""indexes.conf.spec: index names hold lowercase letters, digits, underscores and hyphens and begin
with a letter or digit; ``*`` as a search allows."""

SPLUNK_APP = Kind(
    "a Splunk app name", r"[A-Za-z][A-Za-z0-9_.-]*",
    "a letter, then letters, digits, '.', '_' or '-'; no '..'", max_len=80,
)
"""The folder name of an app under ``$SPLUNK_HOME/etc/apps`` (app.conf ``id``): never a path."""

SPLUNK_TOKEN = Kind(
    "a Splunk Enterprise Security name", r"[a-z][a-z0-9_]*", "lowercase letters, digits and '_'", max_len=64,
)
"""Risk object types (``user``, ``system``, ``other`` and custom ones) and security domains
(``access``, ``endpoint``, ``network``, ``threat``, ``identity``, ``audit``)."""

NAMESPACE = Kind(
    "a rule-id namespace", r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    "letters, digits, '.', '_' and '-', starting with a letter or digit", max_len=64, empty_ok=True,
)

EVENT_BUS = Kind(
    "an EventBridge event bus name or ARN",
    r"(?:arn:aws[a-z-]*:events:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:event-bus/)?[A-Za-z0-9._-]+",
    "letters, digits, '.', '_' and '-', or an event-bus ARN", max_len=256,
)
"""EventBridge PutRule ``EventBusName``: ``(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus/)?[/\\.\\-_A-Za-z0-9]+``
(API Reference), without ``/`` (partner buses aside) so that the name is never a path."""

SNS_TOPIC_ARN = Kind(
    "an SNS topic ARN", r"arn:aws[a-z-]*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?",
    "arn:aws:sns:REGION:ACCOUNT:TOPIC", max_len=400, empty_ok=True,
)
"""SNS CreateTopic: topic names are letters, digits, ``-`` and ``_`` (``.fifo`` for FIFO topics)."""

RULE_NAME_PREFIX = Kind(
    "an EventBridge rule name prefix", r"[A-Za-z0-9._-]*", "letters, digits, '.', '_' and '-'", max_len=32,
    empty_ok=True,
)
"""EventBridge rule names are ``[\\.\\-_A-Za-z0-9]+`` (PutRule ``Name``); the prefix starts each one."""
