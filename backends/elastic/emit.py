"""Elastic artifacts: a detection-rules TOML file per rule and ``rules.ndjson`` for Kibana's import.

One model per rule (``rule_model``) in the field names of Elastic's detection engine, serialised
twice: as TOML in the detection-rules layout (``[metadata]``, ``[rule]``, ``[[rule.threat]]``,
``[rule.investigation_fields]``) and as Kibana import lines, one per query language. The TOML
carries the KQL query when the rule compiles for ``kql``, else the Lucene one; the EQL variant
(an ``eql`` rule) has a TOML file of its own, ``elastic/eql/<rule>.toml``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import textwrap
import uuid
from collections.abc import Sequence
from typing import Any

from backends.elastic import toml_writer as tw
from backends.elastic.api_format import nested_normalize, query_fields, related_integrations, required_fields
from backends.elastic.cells import CELLS
from backends.elastic.target import rule_id_namespace
from compiler import attack
from compiler.errors import EmitError
from compiler.logsources import cell_for
from compiler.naming import rule_stem
from compiler.profile import DEFAULT_PROFILE, Profile
from compiler.rules import DetcRule
from compiler.target import Artifact, Compiled, Fragment, RuleResult

FRAMEWORK = "MITRE ATT&CK"
DEFAULT_INTERVAL = "5m"
LUCENE_RULE_NAMESPACE = uuid.UUID("3f5abd91-0d1c-4e9a-9b7e-6c1e2a4d8e10")
"""Namespace of the stable uuid5 rule ids of Lucene variants (the KQL variant keeps the Sigma id)."""
CLIENT_RULE_NAMESPACE = uuid.UUID("8d0f4c6e-2b7a-5e31-a9c4-51f0d3b6e7a2")
"""Namespace of the uuid5 rule ids of client builds: uuid5(this, "<client namespace>/<Sigma id>")."""
EQL_RULE_NAMESPACE = uuid.UUID("0b6f2d8e-7c41-5a9e-8f3d-2e9c6a1b4d57")
"""Namespace of the stable uuid5 rule ids of EQL variants."""
RULE_TYPES = {"eql": "eql"}
"""The detection engine's rule ``type`` per query language (``query`` for kuery and lucene)."""
NDJSON = "elastic/rules.ndjson"


def _date(value: dt.date | None) -> str | None:
    return value.strftime("%Y/%m/%d") if value else None


def threat(rule: DetcRule) -> list[dict[str, Any]]:
    """``[[rule.threat]]`` entries: per tactic, its techniques, each with its subtechniques."""
    try:
        tags = attack.resolve(str(t) for t in rule.sigma.tags)
    except attack.UnknownAttackTag as err:
        raise EmitError(str(err), path=rule.path, rule_id=rule.id) from err
    techniques = {t.id: t for t in tags.techniques}
    for sub in list(tags.techniques):  # a subtechnique is listed under its technique
        if sub.parent and sub.parent not in techniques:
            parent = attack.technique(sub.parent)
            if parent is None:
                raise EmitError(f"ATT&CK technique {sub.parent} is missing", path=rule.path, rule_id=rule.id)
            techniques[parent.id] = parent
    tactic_names = [t.shortname for t in tags.tactics]
    for tech in techniques.values():  # a technique with none of its tactics tagged brings its own
        if not set(tech.tactics) & set(tactic_names):
            tactic_names.extend(s for s in tech.tactics if s not in tactic_names)
    entries = []
    for shortname in tactic_names:
        tactic = attack.tactic(shortname)
        if tactic is None:
            raise EmitError(f"ATT&CK tactic {shortname} is missing", path=rule.path, rule_id=rule.id)
        entry: dict[str, Any] = {"framework": FRAMEWORK}
        listed = []
        for tech in techniques.values():
            if tech.parent is None and shortname in tech.tactics:
                item: dict[str, Any] = {"id": tech.id, "name": tech.name, "reference": tech.reference}
                subs = [
                    {"id": s.id, "name": s.name, "reference": s.reference}
                    for s in techniques.values()
                    if s.parent == tech.id
                ]
                if subs:
                    item["subtechnique"] = subs
                listed.append(item)
        if listed:
            entry["technique"] = listed
        entry["tactic"] = {"id": tactic.id, "name": tactic.name, "reference": tactic.reference}
        entries.append(entry)
    return entries


def elastic_rule_id(rule: DetcRule, profile: Profile) -> str:
    """The KQL variant's rule id: the Sigma id in the default build (as the seed has it), and a
    stable id of the client's own in a client build, so that clients never share an id."""
    namespace = rule_id_namespace(profile) or (
        "" if profile.name == DEFAULT_PROFILE.name else profile.name
    )
    if not namespace:
        return rule.id
    return str(uuid.uuid5(CLIENT_RULE_NAMESPACE, f"{namespace}/{rule.id}"))


def rule_model(
    rule: DetcRule, compiled: Compiled, rule_id: str | None = None, profile: Profile | None = None,
    threats: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The detection engine's fields for one rule and one query, in detection-rules' key order
    (``threats``: the rule's ``threat(rule)``, when the caller has it already)."""
    sigma = rule.sigma
    meta = rule.meta
    fields: dict[str, Any] = {
        "author": [a.strip() for a in (sigma.author or "").split(",") if a.strip()],
        "description": sigma.description or "",
    }
    if sigma.falsepositives:
        fields["false_positives"] = list(sigma.falsepositives)
    fields["from"] = meta.schedule.lookback
    fields["index"] = list(compiled.details["index"])
    if meta.schedule.interval != DEFAULT_INTERVAL:
        fields["interval"] = meta.schedule.interval
    fields["language"] = compiled.details["language"]
    if meta.license:
        fields["license"] = meta.license
    fields["name"] = rule.title
    if meta.note:
        fields["note"] = meta.note
    if sigma.references:
        fields["references"] = list(sigma.references)
    fields["risk_score"] = meta.risk_score
    fields["rule_id"] = rule_id or rule.id
    if meta.setup:
        fields["setup"] = meta.setup
    fields["severity"] = rule.severity
    if meta.elastic_tags:
        fields["tags"] = list(meta.elastic_tags)
    if meta.timestamp_override:
        fields["timestamp_override"] = meta.timestamp_override
    fields["type"] = RULE_TYPES.get(compiled.details["language"], "query")
    fields["query"] = compiled.query + "\n"
    threats = threat(rule) if threats is None else threats
    if threats:
        fields["threat"] = threats
    if sigma.fields:  # Sigma names as the cell stores them, renamed where the client stores a field under its own name
        renames = profile.field_mappings.get(compiled.target, {}) if profile else {}
        cell = cell_for(CELLS, sigma.logsource, target=compiled.target)
        stored = cell.pipeline.investigation_fields(sigma.fields, sigma.logsource)
        fields["investigation_fields"] = {"field_names": [renames.get(f, f) for f in stored]}
    return fields


def metadata(rule: DetcRule) -> dict[str, Any]:
    created = _date(rule.sigma.date)
    out: dict[str, Any] = {}
    if created:
        out["creation_date"] = created
    if rule.meta.integration:
        out["integration"] = list(rule.meta.integration)
    out["maturity"] = rule.meta.maturity
    updated = _date(rule.sigma.modified) or created
    if updated:
        out["updated_date"] = updated
    return out


# --- TOML ---------------------------------------------------------------------------------------

_PROSE = {"description": True, "note": False, "setup": False}
"""Fields written triple-quoted, and whether a newline follows the opening quotes (house style)."""


def _rule_table(model: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ``[rule]`` scalars as text, and the values they parse to."""
    lines = []
    parsed: dict[str, Any] = {}
    for key, value in model.items():
        if key in ("query", "threat", "investigation_fields"):
            continue
        if key in _PROSE:
            lines.append(f"{key} = {tw.multiline(value, leading_newline=_PROSE[key])}\n")
            parsed[key] = value
        elif key == "false_positives":
            items = []
            stored = []
            for fp in value:
                if "\n" in fp:
                    items.append(f"{tw.INDENT}{tw.indented_block(fp)},\n")
                    stored.append(tw.indented_value(fp))
                else:
                    items.append(f"{tw.INDENT}{tw.basic(fp)},\n")
                    stored.append(fp)
            lines.append("false_positives = [\n" + "".join(items) + "]\n")
            parsed[key] = stored
        else:
            lines.append(tw.table({key: value}))
            parsed[key] = value
    return "".join(lines), parsed


def _threat_text(threats: list[dict[str, Any]]) -> str:
    out = []
    for entry in threats:
        out.append("[[rule.threat]]\n" + tw.table({"framework": entry["framework"]}))
        for tech in entry.get("technique", []):
            out.append("[[rule.threat.technique]]\n" + tw.table({k: tech[k] for k in ("id", "name", "reference")}) + "\n")
            for sub in tech.get("subtechnique", []):
                out.append("[[rule.threat.technique.subtechnique]]\n" + tw.table(sub) + "\n")
        out.append("[rule.threat.tactic]\n" + tw.table(entry["tactic"]) + "\n")
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def _comment(line: str) -> str:
    """One line as TOML comment lines of at most 118 characters (caveats repeat from rule to rule)."""
    return "\n".join("# " + part for part in textwrap.wrap(line, 116, break_long_words=False, break_on_hyphens=False))


def _header(rule: DetcRule, compiled: Compiled) -> str:
    """Comments naming the source and the query's documented limits; they are not rule fields."""
    lines = [f"Generated by detc from {rule.path} (Sigma id {rule.id}, target {compiled.target}); do not edit."]
    lines += [f"Caveat: {c}" for c in compiled.caveats]
    return "\n".join(_comment(line) for line in lines if line.strip()) + "\n"


def toml_document(rule: DetcRule, model: dict[str, Any], compiled: Compiled) -> bytes:
    meta = metadata(rule)
    body, parsed_rule = _rule_table(model)
    header = _header(rule, compiled)
    text = header + "[metadata]\n" + tw.table(meta) + "\n[rule]\n" + body
    query_block = tw.literal_block(model["query"])
    text += "\nquery = " + query_block + "\n\n\n"
    parsed_rule["query"] = model["query"]
    if "threat" in model:
        text += _threat_text(model["threat"])
        parsed_rule["threat"] = model["threat"]
    if "investigation_fields" in model:
        text += "[rule.investigation_fields]\n" + tw.table(model["investigation_fields"])
        parsed_rule["investigation_fields"] = model["investigation_fields"]
    text = text.rstrip("\n") + "\n"
    tw.check(text, {"metadata": meta, "rule": parsed_rule}, f"{rule.path}: TOML", literals=(query_block,), comments=(header,))
    return text.encode("utf-8")


# --- Kibana import (NDJSON) -----------------------------------------------------------------------


def kibana_rule(rule: DetcRule, model: dict[str, Any], target: str, compiled: Compiled) -> dict[str, Any]:
    """One rule object of Kibana's detection rule import (``_import``), imported disabled: the rule
    as detection-rules' ``to_api_format`` renders its TOML (prose unwrapped; for KQL the
    ``related_integrations`` and ``required_fields`` it derives for KQL and EQL), plus what an import needs."""
    out: dict[str, Any] = nested_normalize(dict(model))  # a dict normalizes to a dict
    if target in ("kql", "eql"):
        storage = cell_for(CELLS, rule.sigma.logsource, target=target).storage
        names, datasets = query_fields(compiled.query, model["language"])  # one walk of the query the syntax check parsed
        related = related_integrations(
            datasets, list(rule.meta.integration), storage.PACKAGE, storage.INTEGRATION, storage.PACKAGE_VERSION,
        )
        if related:
            out["related_integrations"] = related
        out["required_fields"] = required_fields(names)
    for entry in out.get("threat", []):
        entry.setdefault("technique", [])
    out["query"] = model["query"].rstrip("\n")
    out["interval"] = rule.meta.schedule.interval
    out["enabled"] = False
    out["version"] = 1
    out["meta"] = {
        "detc": {"source": rule.path, "sigma_id": rule.id, "target": target, "caveats": list(compiled.caveats)}
    }
    if target == "lucene":
        out["rule_id"] = str(uuid.uuid5(LUCENE_RULE_NAMESPACE, model["rule_id"]))
        out["name"] = f"{rule.title} (Lucene)"
    return out


class ElasticEmitter:
    name = "elastic"
    targets = ("kql", "lucene", "eql")

    def fragment(self, result: RuleResult, profile: Profile) -> Fragment | None:
        """The rule's TOML file and its Kibana import lines (one per query language)."""
        rule = result.rule
        rule_id = elastic_rule_id(rule, profile)
        variants = [t for t in self.targets if t in result.compiled]
        if not variants:
            return None
        threats = threat(rule)
        models = {t: rule_model(rule, result.compiled[t], rule_id, profile, threats) for t in variants}
        if "eql" in models:  # a rule of its own beside the primary one: its own id and name
            models["eql"]["rule_id"] = str(uuid.uuid5(EQL_RULE_NAMESPACE, rule_id))
            models["eql"]["name"] = f"{rule.title} (EQL)"
        primary = "kql" if "kql" in models else "lucene" if "lucene" in models else None
        toml_path = f"elastic/{rule_stem(rule.path)}.toml"
        eql_path = f"elastic/eql/{rule_stem(rule.path)}.toml"
        files = {}
        if primary is not None:
            files[toml_path] = toml_document(rule, models[primary], result.compiled[primary]).decode("utf-8")
        if "eql" in models:
            files[eql_path] = toml_document(rule, models["eql"], result.compiled["eql"]).decode("utf-8")
        lines = [
            json.dumps(kibana_rule(rule, models[t], t, result.compiled[t]), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            for t in variants
        ]
        return Fragment(
            rule_id=rule.id,
            rule_path=rule.path,
            files=files,
            parts={NDJSON: lines},
            targets={
                **({toml_path: (primary,)} if primary is not None else {}),
                **({eql_path: ("eql",)} if "eql" in models else {}),
                NDJSON: tuple(variants),
            },
        )

    def assemble(self, fragments: Sequence[Fragment], profile: Profile) -> list[Artifact]:
        """``rules.ndjson``: every rule's import lines, in rule order."""
        artifacts: list[Artifact] = []
        carried = [f for f in fragments if f.parts.get(NDJSON)]
        if carried:
            lines = [line for f in carried for line in f.parts[NDJSON]]
            targets = {t for f in carried for t in f.targets[NDJSON]}
            artifacts.append(
                Artifact(
                    path=NDJSON,
                    data=("\n".join(lines) + "\n").encode("utf-8"),
                    rules=tuple(f.rule_id for f in carried),
                    targets=tuple(t for t in self.targets if t in targets),
                )
            )
        return artifacts
