"""The fields Elastic's detection-rules adds when it renders a rule for Kibana (``to_api_format``).

elastic/detection-rules ``detection_rules/rule.py`` (``TOMLRuleContents.to_api_format`` and
``_post_dict_conversion``) and ``rule_formatter.py`` (``nested_normalize``), read at
2678662942 of the search index (detection-rules main, 2026): every string but ``query`` and the
Markdown fields (``note``, ``setup``) has its lines stripped and joined with single spaces (the
TOML's hard wrapping undone); for a query rule in a language other than Lucene whose metadata
names an integration, ``related_integrations`` lists each package/integration the query's
``data_stream.dataset``/``event.dataset`` values name, with ``^<least compatible version>``; and
``required_fields`` lists each field the query reads, sorted by name, with its type and whether
ECS defines it.
"""

from __future__ import annotations

from typing import Any

from lark import Tree

from backends.elastic.index_mapping import field_spec

MARKDOWN_FIELDS = frozenset({"note", "setup"})
"""BaseRuleData fields typed ``definitions.Markdown``: their whitespace is kept."""
DATASET_FIELDS = ("data_stream.dataset", "event.dataset")
ECS_FIELDSETS = frozenset({
    "agent", "as", "client", "cloud", "code_signature", "container", "data_stream", "destination", "device", "dll",
    "dns", "ecs", "elf", "email", "error", "event", "faas", "file", "geo", "group", "hash", "host", "http",
    "interface", "log", "macho", "network", "observer", "orchestrator", "organization", "os", "package", "pe",
    "process", "registry", "related", "risk", "rule", "server", "service", "source", "threat", "tls", "url",
    "user", "user_agent", "vlan", "volume", "vulnerability", "x509",
})
"""ECS's field sets (ECS Field Reference, 8.x), with the base fields below: a name in one of them is
an ECS field; the integration's own fields live under ``aws.``."""
ECS_BASE = frozenset({"@timestamp", "labels", "message", "tags"})


def cleanup_whitespace(value: str) -> str:
    """detection-rules' ``cleanup_whitespace``: strip every line and join them with one space."""
    return " ".join(line.strip() for line in value.strip().splitlines())


def nested_normalize(value: Any, keep: bool = False) -> Any:
    """detection-rules' ``nested_normalize`` on a rule's API dict (``query`` untouched, Markdown kept)."""
    if isinstance(value, str):
        return value if keep else cleanup_whitespace(value)
    if isinstance(value, list):
        return [nested_normalize(v) for v in value]
    if isinstance(value, dict):
        return {
            k: v if k == "query" else nested_normalize(v, keep=k in MARKDOWN_FIELDS)
            for k, v in value.items()
        }
    return value


def is_ecs(name: str) -> bool:
    return name in ECS_BASE or name.split(".", 1)[0] in ECS_FIELDSETS


def query_fields(query: str) -> tuple[list[str], list[str]]:
    """The field names a KQL query reads (first use order) and the dataset values it pins."""
    from backends.elastic.kql_evaluator import KqlLiteral, parse

    names: list[str] = []
    datasets: list[str] = []

    def walk(node: Any, field: str | None) -> None:
        if not isinstance(node, Tree):
            return
        if node.data in ("field_query", "range_query"):
            field = KqlLiteral(node.children[0].children[0]).text
            if field not in names:
                names.append(field)
        if node.data == "value" and field in DATASET_FIELDS:
            datasets.append(KqlLiteral(node.children[0]).text)
        for child in node.children:
            walk(child, field)

    walk(parse(query), None)
    return names, datasets


def required_fields(query: str) -> list[dict[str, Any]]:
    """Each field the query reads: its name, its type in the data stream and whether ECS defines it."""
    names, _ = query_fields(query)
    return sorted(
        ({"name": n, "type": field_spec(n).type, "ecs": is_ecs(n)} for n in names), key=lambda f: f["name"]
    )


def related_integrations(query: str, integrations: list[str], package: str, integration: str,
                         version: str) -> list[dict[str, Any]]:
    """The cell's package/integration when the query pins its dataset and the rule's metadata names
    an integration (detection-rules adds none without one)."""
    if not integrations:
        return []
    _, datasets = query_fields(query)
    wanted = f"{package}.{integration}"
    if wanted not in datasets:
        return []
    return [{"package": package, "integration": integration, "version": version}]
