"""Target ``spl``: Splunk searches; what depends on the logsource comes from its cell (``backends.splunk.cells``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sigma.exceptions import (
    SigmaError,
    SigmaFeatureNotSupportedByBackendError,
    SigmaTransformationError,
)
from sigma.types import (
    Placeholder,
    SigmaCasedString,
    SigmaFieldReference,
    SigmaRegularExpression,
    SigmaString,
    SpecialChars,
)

from backends.splunk.cells import CELLS
from backends.splunk.cloudtrail.storage import DEFAULT_INDEX
from backends.splunk.spl_backend import CAVEATS_STATE, SplBackend
from backends.splunk.spl_where_backend import SplWhereBackend, spl_string
from backends.splunk.windows.storage import DEFAULTS as WINDOWS_DEFAULTS
from backends.splunk.windows.storage import SETTING_KINDS as WINDOWS_SETTING_KINDS
from compiler.errors import CompileError, UnsupportedFeature, reason_of
from compiler.logsources import cell_for, record_cell
from compiler.patterns import detection_items, item_values, value_fits
from compiler.profile import Profile
from compiler.rules import DetcRule
from compiler.settings import SPL_FIELD, SPLUNK_APP, SPLUNK_INDEX, SPLUNK_TOKEN
from compiler.target import BackendCache, Compiled, Matcher

NAME = "spl"

DEFAULTS: Mapping[str, Any] = {
    "index": DEFAULT_INDEX,
    "risk_object_field": "userIdentity.arn",
    "risk_object_type": "user",
    "security_domain": "threat",
    "dispatch_app": "SplunkEnterpriseSecuritySuite",
    **WINDOWS_DEFAULTS,
}
"""Per-deployment settings; an MSSP client profile overrides them under ``targets: spl:``."""
SETTING_KINDS: Mapping[str, Any] = {
    "index": SPLUNK_INDEX,
    "risk_object_field": SPL_FIELD,
    "risk_object_type": SPLUNK_TOKEN,
    "security_domain": SPLUNK_TOKEN,
    "dispatch_app": SPLUNK_APP,
    **WINDOWS_SETTING_KINDS,
}
"""What each setting is, checked when a profile loads (the values land in searches and conf keys)."""


def _values(rule: Any) -> list[Any]:
    """Every value of every detection item of the rule."""
    return [value for item in detection_items(rule) for value in item_values(item)]


def _check_placeholders(rule: Any) -> None:
    for value in _values(rule):
        if isinstance(value, SigmaString):
            for part in value.s:
                if isinstance(part, Placeholder):
                    # |expand needs a value list from the deployment; detc has none to give
                    raise UnsupportedFeature(f"placeholder %{part.name}% is not resolved", target=NAME)


def needs_where(rule: Any) -> bool:
    """Constructs the search command cannot state exactly: a literal ``*`` (no escape exists),
    Sigma's ``?`` (the search has only ``*``), a regular expression (upstream's ``| regex``/``| rex``
    forms hold only as a top-level conjunct), ``|cased`` (search terms ignore case), ``|fieldref``
    (the search command compares fields with literals only; upstream's ``| where f=g`` compares case
    and cannot stand under OR) and keywords (a search term matches whole segments; a cell may state
    a keyword as a test on ``_raw``)."""
    if any(item.field is None for item in detection_items(rule)):
        return True
    for value in _values(rule):
        if isinstance(value, (SigmaRegularExpression, SigmaCasedString, SigmaFieldReference)):
            return True
        if isinstance(value, SigmaString) and (
            SpecialChars.WILDCARD_SINGLE in value.s or any(isinstance(p, str) and "*" in p for p in value.s)
        ):
            return True
    return False


def _prefilter(rule: Any, calculated: frozenset[str]) -> list[str]:
    """Search terms for the base search of a where-form rule: the top-level, positive conjuncts
    that are plain strings (or lists of them) on one field, which the search command states exactly.
    They only narrow what ``| where`` reads; ``| where`` still decides. Read after conversion, so
    field names are the mapped ones."""
    from sigma.conditions import (
        ConditionAND,
        ConditionFieldEqualsValueExpression,
        ConditionOR,
    )

    def term(node: Any) -> tuple[str, str] | None:
        """(field, ``field="value"``) for a plain string test the search command states exactly."""
        if not isinstance(node, ConditionFieldEqualsValueExpression) or node.field in calculated:
            return None
        if not node.field or not SplBackend.field_quote_pattern.match(node.field):
            return None
        value = node.value
        if type(value) is not SigmaString:
            return None
        parts = [part for part in value.s if isinstance(part, str)]
        if len(parts) != len(value.s):  # a wildcard (or an unresolved placeholder)
            return None
        text = "".join(parts)  # literal parts only (to_plain() would write a literal '?' as '\\?')
        if not text or "*" in text or text != text.strip() or not text.isprintable():
            return None
        return node.field, f"{node.field}={spl_string(text)}"

    def conjuncts(node: Any) -> list[Any]:
        if isinstance(node, (ConditionAND, ConditionOR)) and len(node.args) == 1:
            return conjuncts(node.args[0])
        if isinstance(node, ConditionAND):
            return [c for arg in node.args for c in conjuncts(arg)]
        return [node]

    terms: list[str] = []
    for condition in rule.detection.parsed_condition:
        for node in conjuncts(condition.parsed):
            found = [term(a) for a in node.args] if isinstance(node, ConditionOR) else [term(node)]
            if not all(found) or len({f[0] for f in found if f}) != 1:
                continue  # not a plain test, or an OR across fields
            rendered = [f[1] for f in found if f]
            terms.append(rendered[0] if len(rendered) == 1 else "(" + " OR ".join(rendered) + ")")
    return terms


def _json_null_text(rule: Any) -> list[str]:
    """A value the text ``null`` satisfies (``*``, ``n*``) also finds a field present as JSON null,
    which Splunk's JSON extraction gives that text, where Sigma's value needs one: a wider search.
    (``null`` itself, and errorCode, are rewritten by the pipeline with their own statement.)"""
    return [
        f"{item.field}: {str(value)!r} also matches a field present as JSON null, which Splunk's JSON extraction "
        "gives the text null, so the search is wider (under NOT it also leaves out such a record)"
        for item in detection_items(rule)
        if item.field and item.field != "errorCode"
        for value in item_values(item)
        if isinstance(value, (SigmaString, SigmaRegularExpression)) and value_fits(value, "null")
    ]


class SplTarget:
    name = NAME
    description = (
        "Splunk SPL: searches over sourcetype aws:cloudtrail (Splunk Add-on for AWS) and XmlWinEventLog "
        "(Splunk Add-ons for Microsoft Windows and Sysmon), ES correlation searches in savedsearches.conf"
    )

    settings = DEFAULTS
    setting_kinds = SETTING_KINDS
    field_kind = SPL_FIELD

    def deployment(self, profile: Profile) -> dict[str, Any]:
        """This deployment's settings: the defaults under the client's ``targets.spl``."""
        return profile.settings(NAME, DEFAULTS)

    def compile(self, rule: DetcRule, profile: Profile) -> Compiled:
        cell = cell_for(CELLS, rule.sigma.logsource, target=NAME)
        settings = self.deployment(profile)
        sigma = rule.fresh_sigma()
        _check_placeholders(sigma)
        where = needs_where(sigma)
        backend = self._backend_for(profile, cell, where)
        try:
            queries = backend.convert_rule(sigma)
        except (SigmaTransformationError, SigmaFeatureNotSupportedByBackendError) as err:
            raise UnsupportedFeature(reason_of(err), target=NAME) from err
        except NotImplementedError as err:  # upstream's answer to |cased and similar
            raise UnsupportedFeature(f"{err}", target=NAME) from err
        except SigmaError as err:
            raise CompileError(reason_of(err), target=NAME) from err
        if len(queries) != 1 or not isinstance(queries[0], str):
            raise CompileError(f"expected one search, the backend gave {len(queries)}", target=NAME)
        query = queries[0]
        storage = cell.storage.storage(settings)
        if where:
            base = " ".join(
                [cell.storage.search_head(sigma.logsource, settings), *_prefilter(sigma, cell.pipeline.CALCULATED_FIELDS)]
            )
            query = f"{base}\n| where {query}"
            if sigma.fields:
                query += " | table " + ",".join(sigma.fields)
        caveats = list(backend.last_processing_pipeline.state.get(CAVEATS_STATE, []))
        caveats += _json_null_text(rule.sigma)
        return Compiled(
            target=NAME,
            query=query,
            caveats=tuple(dict.fromkeys(caveats)),
            details={
                "risk_object_field": settings["risk_object_field"],
                "risk_object_type": settings["risk_object_type"],
                "security_domain": settings["security_domain"],
                "dispatch_app": settings["dispatch_app"],
                **storage,  # a cell may name its own risk object (Windows: the host)
            },
        )

    def _backend_for(self, profile: Profile, cell: Any, where: bool) -> SplBackend | SplWhereBackend:
        """One backend per profile, cell and form, reused for every rule (pySigma resets pipeline
        state per rule, as sigma-cli relies on when it converts a collection with one backend)."""
        def make() -> SplBackend | SplWhereBackend:
            pipeline = cell.pipeline.processing_pipeline(self.deployment(profile), where=where) + profile.mapping_pipeline(
                NAME
            )
            return SplWhereBackend(pipeline) if where else SplBackend(pipeline)

        return self._backends.get((profile.target_key(NAME), cell.__name__, where), make)

    @functools.cached_property
    def _backends(self) -> BackendCache[SplBackend | SplWhereBackend]:
        return BackendCache()

    def shape(self, record: Mapping[str, Any], profile: Profile, logsource: Any = None) -> Mapping[str, tuple[str, ...]]:
        cell = record_cell(CELLS, record, logsource, target=NAME)
        document: Mapping[str, tuple[str, ...]] = cell.shaper.shape(record, self.deployment(profile))
        return document

    def evaluator(self, query: str) -> Matcher:
        from backends.splunk.spl_evaluator import evaluator  # a build never evaluates: loaded on demand

        return evaluator(query)

    def check_syntax(self, query: str) -> None:
        from backends.splunk.spl_evaluator import parse

        parse(query)
