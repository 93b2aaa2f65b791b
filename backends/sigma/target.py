"""Target ``sigma``: the reference semantics every platform target is measured against."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import orjson
import yaml
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from backends.sigma.sigma_evaluator import compile_condition, conditions_predicate, logsource_predicate, rule_predicate
from compiler.errors import EvaluationError, UnsupportedFeature
from compiler.logsources import describe, find, require
from compiler.profile import Profile
from compiler.rules import DetcRule
from compiler.target import Compiled, Matcher
from compiler.yamlio import dump_yaml, read_yaml_text

_LOGSOURCE_KEYS = ("category", "product", "service", "definition")


def _json_exact(node: Any) -> bool:
    """Whether JSON holds the value exactly: string keys, and only JSON's own scalar types (a
    YAML date, a non-string key or a non-finite number would come back as something else)."""
    if isinstance(node, dict):
        return all(isinstance(k, str) and _json_exact(v) for k, v in node.items())
    if isinstance(node, list):
        return all(_json_exact(v) for v in node)
    if isinstance(node, float):
        return math.isfinite(node)
    if isinstance(node, int) and not isinstance(node, bool):
        return -(2**63) <= node < 2**64  # what orjson writes
    return node is None or isinstance(node, (str, bool))


def detection_text(body: dict[str, Any]) -> str:
    """The reference's "query": the logsource and detection as written, as JSON (exact, and far
    quicker to write than YAML) or, for what JSON cannot hold exactly, as YAML."""
    if _json_exact(body):
        return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode("utf-8")
    text = dump_yaml(body, sort_keys=False, allow_unicode=True, width=1000)
    if not text.isascii() and read_yaml_text(text) != body:
        # PyYAML writes some characters raw that its reader then changes (NEL, U+2028 in a
        # quoted scalar are folded as line breaks): escape everything outside ASCII instead.
        text = dump_yaml(body, sort_keys=False, allow_unicode=False, width=1000)
    return text


class SigmaTarget:
    name = "sigma"
    settings: dict[str, object] = {}
    description = "Sigma reference evaluator: Sigma semantics on the raw records of every logsource detc knows (the arbiter)"

    def compile(self, rule: DetcRule, profile: Profile) -> Compiled:
        # The reference reads raw records through the logsource layer: it serves every logsource
        # the layer defines, and only those.
        require(rule.sigma.logsource, target=self.name)
        try:
            # Refuses what the reference cannot evaluate, at compile time. The reference only reads
            # the rule (no pipeline rewrites it), so it needs no private copy.
            conditions_predicate(rule.conditions)
        except UnsupportedFeature as err:
            raise err.located(target=self.name) from None
        # The rule as written (or as a client profile rewrote it), not SigmaRule.to_dict(): pySigma
        # writes a literal backslash unescaped there, so "a\\\\b" would come back as "a\\b".
        data = rule.data
        logsource = {k: v for k, v in data["logsource"].items() if k in _LOGSOURCE_KEYS}
        body = {"logsource": logsource, "detection": data["detection"]}
        return Compiled(target=self.name, query=detection_text(body))

    def shape(self, record: Mapping[str, Any], profile: Profile, logsource: Any = None) -> Mapping[str, Any]:
        return record  # the reference reads the raw record as its source wrote it

    def evaluator(self, query: str) -> Matcher:
        body = self._body(query)
        try:
            rule = SigmaRule.from_dict({"title": "compiled", **body})
        except (ValueError, SigmaError, TypeError) as err:
            raise EvaluationError(f"cannot parse Sigma detection: {err}", target=self.name) from err
        if find(rule.logsource) is None:
            raise EvaluationError(f"logsource {describe(rule.logsource)}: detc has no definition of it", target=self.name)
        return rule_predicate(rule)

    def leaf_predicate(self, node: Any) -> Matcher:
        """The reference's verdict on one condition node (a field test or keyword) over a record's
        view: what the event generator, fixture coverage and the caveat allowance read leaf by leaf."""
        return compile_condition(node)

    def records_predicate(self, rule: DetcRule) -> Matcher:
        """The reference's verdict on raw records of the rule's logsource (as ``evaluator`` gives it
        for the compiled query), from the conditions parsed at load."""
        return logsource_predicate(require(rule.sigma.logsource), conditions_predicate(rule.conditions))

    def check_syntax(self, query: str) -> None:
        """The reference's query is the rule's own detection (parsed by pySigma when the rule
        loaded): reading the document back is all its syntax."""
        self._body(query)

    def _body(self, query: str) -> dict[str, Any]:
        try:
            body = json.loads(query) if query.startswith("{") else read_yaml_text(query)
        except (ValueError, yaml.YAMLError) as err:
            raise EvaluationError(f"cannot parse Sigma detection: {err}", target=self.name) from err
        if not isinstance(body, dict) or "detection" not in body:
            raise EvaluationError("a Sigma detection is a mapping with a detection", target=self.name)
        return body
