"""Build profiles: the default build, and one per MSSP client."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compiler.dotted import set_path

if TYPE_CHECKING:
    from sigma.processing.pipeline import ProcessingPipeline


@dataclass(frozen=True, kw_only=True)
class Exclusion:
    """Field/value pairs that must never alert, for some rules or all of them."""

    field: str
    """A Sigma field name of the rule's logsource, as rules use (set through the logsource layer in generated cases)."""
    values: tuple[str, ...]
    """Literal values: wildcards and backslashes in them mean themselves."""
    rules: tuple[str, ...] | None = None
    """Rule ids the exclusion applies to; None for every rule."""
    logsources: tuple[str, ...] = ()
    """Logsource patterns (as ``select``'s) of the rules it applies to; empty for every logsource."""
    reason: str = ""

    def applies_to(self, rule_id: str, logsource: Any) -> bool:
        """Whether a rule (its id and pySigma ``SigmaLogSource``) carries this exclusion."""
        return (self.rules is None or rule_id in self.rules) and (
            not self.logsources or logsource_matches(logsource, self.logsources)
        )


def logsource_matches(logsource: Any, patterns: Sequence[str]) -> bool:
    """Whether a logsource (``product``, ``service``, ``category`` attributes) matches one of the
    patterns ``product/service/category``, each part an ``fnmatch`` pattern, trailing parts optional
    (``windows/*/process_creation``, ``aws/cloudtrail``, ``windows``)."""
    parts = [logsource.product or "", logsource.service or "", logsource.category or ""]
    return any(
        all(fnmatch.fnmatchcase(have, want) for have, want in zip(parts, pattern.split("/"), strict=False))
        for pattern in patterns
    )


@dataclass(frozen=True, kw_only=True)
class Selector:
    ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    logsources: tuple[str, ...] = ()
    """``product/service`` or ``product/service/category`` with ``*`` allowed for a part."""

    @property
    def empty(self) -> bool:
        return not (self.ids or self.tags or self.levels or self.statuses or self.logsources)


@dataclass(frozen=True, kw_only=True)
class RuleOverride:
    level: str | None = None
    risk_score: int | None = None


@dataclass(frozen=True, kw_only=True)
class Profile:
    """Settings that vary per deployment; the default profile is the plain build."""

    name: str = "default"
    description: str = ""
    target_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per-target settings (index names, Splunk index, EventBridge bus ...) over each target's defaults."""
    field_mappings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per target: the platform's field name to the name this client stores it under."""
    schedule: Mapping[str, str] = field(default_factory=dict)
    """Schedule override for every rule (interval, lookback)."""
    include: Selector = Selector()
    exclude: Selector = Selector()
    overrides: Mapping[str, RuleOverride] = field(default_factory=dict)
    exclusions: tuple[Exclusion, ...] = ()
    sha256: str = ""
    """Hash of the profile file; empty for the default profile."""

    def target_key(self, target: str) -> str:
        """Everything this profile says about one target, as a stable text: equal keys compile alike,
        so a backend built for one key serves every rule compiled under it."""
        return json.dumps(
            [self.target_settings.get(target, {}), self.field_mappings.get(target, {})], sort_keys=True, default=str
        )

    def settings(self, target: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        merged = dict(defaults)
        merged.update(self.target_settings.get(target, {}))
        return merged

    def mapping_pipeline(self, target: str) -> ProcessingPipeline:
        """The client's field renames for one target, applied after the target's own mapping."""
        from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
        from sigma.processing.transformations import FieldMappingTransformation

        # pySigma's mapping type: a None key maps fields without a name, a list value maps to several
        mapping: dict[str | None, str | list[str]] = {
            name: new for name, new in self.field_mappings.get(target, {}).items()
        }
        items = (
            [ProcessingItem(FieldMappingTransformation(mapping), identifier=f"detc_client_{self.name}_fields")]
            if mapping
            else []
        )
        return ProcessingPipeline(name=f"detc client {self.name}", priority=900, items=items)

    def rename_fields(self, target: str, document: Any) -> Any:
        """The client's field renames applied to a shaped document (nested or flat dotted keys), once
        and all at the same time, as pySigma's ``FieldMappingTransformation`` renames a rule's fields:
        with ``{a: b, b: c}`` the value of ``a`` ends under ``b`` and the value of ``b`` under ``c``.
        The test runner is the one caller; a target's ``shape`` never renames."""
        mapping = self.field_mappings.get(target, {})
        if not mapping or not isinstance(document, dict):
            return document
        doc = _deep_copy(document)
        moved: list[tuple[str, Any, bool]] = []
        for source, dest in mapping.items():
            if source in doc:  # flat documents (Splunk) keep dotted names as literal keys
                moved.append((dest, doc.pop(source), True))
                continue
            found, value = _pop_path(doc, source)
            if found:
                moved.append((dest, value, False))
        for dest, value, flat in moved:
            if flat:
                doc[dest] = value
            else:
                set_path(doc, dest, value)
        return doc


def _deep_copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _deep_copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_deep_copy(v) for v in node]
    return node


def _pop_path(doc: dict[str, Any], path: str) -> tuple[bool, Any]:
    if path in doc:
        return True, doc.pop(path)
    head, _, rest = path.partition(".")
    child = doc.get(head)
    if rest and isinstance(child, dict):
        return _pop_path(child, rest)
    return False, None


DEFAULT_PROFILE = Profile()
