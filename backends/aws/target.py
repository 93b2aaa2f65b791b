"""Target ``eventbridge``: Sigma rules as EventBridge event patterns on the CloudTrail event stream."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from backends.aws.cells import CELLS
from backends.aws.eventbridge_backend import EventBridgeBackend, rule_formula, unsupported
from backends.aws.formula import nnf
from backends.aws.pattern import DOCS, PatternBuilder
from compiler.errors import UsageError
from compiler.jsonio import dumps
from compiler.logsources import cell_for, record_cell
from compiler.profile import Profile
from compiler.rules import DetcRule
from compiler.settings import EVENT_BUS, RULE_NAME_PREFIX, SIGMA_FIELD, SNS_TOPIC_ARN, IntRange
from compiler.target import BackendCache, Compiled, Matcher

NAME = "eventbridge"
DEFAULTS: Mapping[str, Any] = {
    "event_bus": "default",
    "alert_topic_arn": "",
    "name_prefix": "detc-",
    "max_pattern_chars": 2048,
    "strict_case": False,
}
"""``max_pattern_chars``: EventBridge's "Event pattern size" quota, 2,048 characters by default and
adjustable (User Guide, quotas); PutRule accepts at most 4,096 (API Reference, EventPattern).
``strict_case``: refuse, instead of caveat, constructs EventBridge can only match case-sensitively."""
PATTERN_MAX = 4096
SETTING_KINDS: Mapping[str, Any] = {
    "event_bus": EVENT_BUS,
    "alert_topic_arn": SNS_TOPIC_ARN,
    "name_prefix": RULE_NAME_PREFIX,
    "max_pattern_chars": IntRange(1, PATTERN_MAX),
}
"""What each setting is, checked when a profile loads (the values land in templates and rule names)."""


def pattern_text(pattern: Mapping[str, Any]) -> str:
    """The one text form of a pattern: sorted keys, two-space indent (detc's JSON form, without
    the final newline)."""
    return dumps(pattern).decode("utf-8")[:-1]


def compact(pattern: Mapping[str, Any]) -> str:
    """The form CloudFormation and Terraform's jsonencode submit; the size quota counts these characters."""
    return json.dumps(pattern, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def deployment(profile: Profile) -> dict[str, Any]:
    """This deployment's settings: the defaults under the client's ``targets.eventbridge``. The one
    place they are derived: a compilation carries them (``Compiled.deployment``), the emitter reads
    them from there for a rule, and from here for the templates every rule shares."""
    return profile.settings(NAME, DEFAULTS)


class EventBridgeTarget:
    name = NAME
    settings = DEFAULTS
    setting_kinds = SETTING_KINDS
    field_kind = SIGMA_FIELD
    description = "AWS EventBridge event pattern on the CloudTrail event stream (real time, no SIEM)"

    def compile(self, rule: DetcRule, profile: Profile) -> Compiled:
        settings = deployment(profile)
        limit = int(settings["max_pattern_chars"])
        if not 1 <= limit <= PATTERN_MAX:
            raise unsupported("max_pattern_chars", f"must be 1..{PATTERN_MAX} ({DOCS['put_rule']})")
        cell = cell_for(CELLS, rule.sigma.logsource, target=NAME)
        sigma = rule.fresh_sigma()
        formula = nnf(rule_formula(self._backend_for(profile, cell), sigma))
        delivery = cell.storage.plan(formula)
        if not delivery.detail_types:
            raise unsupported("eventType", "the rule admits no eventType that CloudTrail delivers to EventBridge")
        envelope: dict[str, Any] = {"detail-type": list(delivery.detail_types)}
        if delivery.sources:
            envelope["source"] = list(delivery.sources)
        builder = PatternBuilder(strict_case=bool(settings["strict_case"]))
        pattern = builder.render(builder.build(formula), envelope)
        size = len(compact(pattern))
        if size > limit:
            raise unsupported(
                "pattern size",
                f"{size} characters exceed the event pattern size quota of {limit} ({DOCS['quota']})",
            )
        details = {
            **cell.storage.storage(settings),
            "rule_state": delivery.rule_state,
            "source": list(delivery.sources or ()),
            "detail_types": list(delivery.detail_types),
            "delivery_requirements": list(delivery.requirements),
            "deploy_regions": delivery.regions,
            "pattern_chars": size,
        }
        return Compiled(
            target=NAME, query=pattern_text(pattern), caveats=tuple(sorted(builder.caveats)), details=details,
            deployment=settings,
        )

    def _backend_for(self, profile: Profile, cell: Any) -> EventBridgeBackend:
        """One backend per profile and cell, reused for every rule (pySigma resets pipeline state per rule)."""
        def make() -> EventBridgeBackend:
            pipeline = cell.pipeline.processing_pipeline(deployment(profile))
            return EventBridgeBackend(pipeline + profile.mapping_pipeline(NAME))

        return self._backends.get((profile.target_key(NAME), cell.__name__), make)

    @functools.cached_property
    def _backends(self) -> BackendCache[EventBridgeBackend]:
        return BackendCache()

    def shape(self, record: Mapping[str, Any], profile: Profile, logsource: Any = None) -> dict[str, Any]:
        cell = record_cell(CELLS, record, logsource, target=NAME)
        document: dict[str, Any] = cell.shaper.shape(record, deployment(profile))
        return document

    def evaluator(self, query: str) -> Matcher:
        from backends.aws import eventbridge_evaluator  # a build never evaluates: loaded on demand

        return eventbridge_evaluator.evaluator(query)

    def check_syntax(self, query: str) -> None:
        from backends.aws.eventbridge_evaluator import parse

        parse(query)

    def live_client(self) -> Any:
        """A boto3 EventBridge client for ``detc test --live``; refuses clearly without credentials."""
        try:
            import boto3
        except ImportError as err:
            raise UsageError("--live needs boto3: pip install 'detc[live]'") from err
        session = boto3.Session()
        if session.get_credentials() is None:
            raise UsageError("--live needs AWS credentials (environment, shared config or an instance role)")
        return session.client("events", region_name=session.region_name or "us-east-1")

    def live_evaluator(self, query: str, client: Any) -> Matcher:
        """AWS's own verdict through TestEventPattern, for the same pattern text and shaped event."""
        from backends.aws.live import aws_matches

        return lambda document: aws_matches(query, json.dumps(document), client)
