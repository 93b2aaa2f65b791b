"""Build profiles: the default build, and later one per MSSP client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Profile:
    """Settings that vary per deployment; the default profile is the plain build."""

    name: str = "default"
    target_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per-target settings (index names, Splunk index, EventBridge bus ...) over each target's defaults."""
    field_mappings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per-target extra field mappings layered over the target's pipeline."""

    def settings(self, target: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        merged = dict(defaults)
        merged.update(self.target_settings.get(target, {}))
        return merged


DEFAULT_PROFILE = Profile()
