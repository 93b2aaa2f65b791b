"""Target ``spl``: Splunk searches over CloudTrail as the Splunk Add-on for AWS indexes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sigma.exceptions import (
    SigmaError,
    SigmaFeatureNotSupportedByBackendError,
    SigmaTransformationError,
)
from sigma.types import Placeholder, SigmaString, SpecialChars

from compiler.errors import CompileError, UnsupportedFeature
from compiler.profile import Profile
from compiler.rules import DetcRule
from compiler.target import Compiled, Matcher

from backends.splunk.backend import SplBackend
from backends.splunk.evaluator import compile_search
from backends.splunk.pipeline import CAVEATS_STATE, SOURCETYPE, spl_cloudtrail
from backends.splunk.shaper import shape_record

NAME = "spl"

DEFAULTS: Mapping[str, Any] = {
    "index": "aws",
    "risk_object_field": "userIdentity.arn",
    "risk_object_type": "user",
    "security_domain": "threat",
    "dispatch_app": "SplunkEnterpriseSecuritySuite",
}
"""Per-deployment settings; an MSSP client profile overrides them under ``targets: spl:``."""


def _value_caveats(rule: Any) -> list[str]:
    """Sigma value constructs that Splunk's search command widens, found before conversion;
    unresolved placeholders are refused here."""
    caveats: list[str] = []

    def visit(detection: Any) -> None:
        for item in detection.detection_items:
            if hasattr(item, "detection_items"):
                visit(item)
                continue
            for value in item.value:
                if not isinstance(value, SigmaString):
                    continue
                for part in value.s:
                    if isinstance(part, Placeholder):
                        # |expand needs a value list from the deployment; detc has none to give
                        raise UnsupportedFeature(f"placeholder %{part.name}% is not resolved", target=NAME)
                if SpecialChars.WILDCARD_SINGLE in value.s:
                    caveats.append(
                        f"{item.field or 'keyword'}: Sigma's '?' (one character) becomes Splunk's '*' "
                        "(any run of characters); the search is wider"
                    )
                if any(isinstance(p, str) and "*" in p for p in value.s):
                    caveats.append(
                        f"{item.field or 'keyword'}: a literal '*' cannot be escaped in a Splunk search "
                        "(Search Manual, Backslashes); it acts as a wildcard, so the search is wider"
                    )

    for detection in rule.detection.detections.values():
        visit(detection)
    return list(dict.fromkeys(caveats))


class SplTarget:
    name = NAME
    description = (
        "Splunk SPL: searches over sourcetype aws:cloudtrail (Splunk Add-on for AWS), "
        "ES correlation searches in savedsearches.conf"
    )

    settings = DEFAULTS

    def deployment(self, profile: Profile) -> dict[str, Any]:
        """This deployment's settings: the defaults under the client's ``targets.spl``."""
        return profile.settings(NAME, DEFAULTS)

    def compile(self, rule: DetcRule, profile: Profile) -> Compiled:
        settings = self.deployment(profile)
        sigma = rule.fresh_sigma()
        caveats = _value_caveats(sigma)
        pipeline = spl_cloudtrail(
            str(settings["index"]),
            table_extra=(str(settings["risk_object_field"]),),
        ) + profile.mapping_pipeline(NAME)
        backend = SplBackend(pipeline)
        backend.reset_deferred_state()
        try:
            queries = backend.convert_rule(sigma)
        except (SigmaTransformationError, SigmaFeatureNotSupportedByBackendError) as err:
            raise UnsupportedFeature(_first_line(err), target=NAME) from err
        except NotImplementedError as err:  # upstream's answer to |cased and similar
            raise UnsupportedFeature(f"{err}", target=NAME) from err
        except SigmaError as err:
            raise CompileError(_first_line(err), target=NAME) from err
        finally:
            backend.reset_deferred_state()
        if len(queries) != 1 or not isinstance(queries[0], str):
            raise CompileError(f"expected one search, the backend gave {len(queries)}", target=NAME)
        caveats.extend(backend.last_processing_pipeline.state.get(CAVEATS_STATE, []))
        return Compiled(
            target=NAME,
            query=queries[0],
            caveats=tuple(dict.fromkeys(caveats)),
            details={
                "index": settings["index"],
                "sourcetype": SOURCETYPE,
                "risk_object_field": settings["risk_object_field"],
                "risk_object_type": settings["risk_object_type"],
                "security_domain": settings["security_domain"],
                "dispatch_app": settings["dispatch_app"],
            },
        )

    def shape(self, record: Mapping[str, Any], profile: Profile) -> Mapping[str, tuple[str, ...]]:
        return shape_record(record, index=str(self.deployment(profile)["index"]))

    def evaluator(self, query: str) -> Matcher:
        return compile_search(query)


def _first_line(err: Exception) -> str:
    # SigmaError's str() appends " in <rule location>"; the detc error line names the file already.
    text = str(err.args[0]) if isinstance(err, SigmaError) and err.args else str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__
