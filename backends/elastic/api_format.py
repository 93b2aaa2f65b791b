"""The fields Elastic's detection-rules adds when it renders a rule for Kibana (``to_api_format``).

elastic/detection-rules ``detection_rules/rule.py`` (``TOMLRuleContents.to_api_format`` and
``_post_dict_conversion``) and ``rule_formatter.py`` (``nested_normalize``), read at
2678662942 of the search index (detection-rules main, 2026): every string but ``query`` and the
Markdown fields (``note``, ``setup``) has its lines stripped and joined with single spaces (the
TOML's hard wrapping undone); for a query or EQL rule in a language other than Lucene whose
metadata names an integration, ``related_integrations`` lists each package/integration the query's
``data_stream.dataset``/``event.dataset`` values name, with ``^<least compatible version>``; and
``required_fields`` lists each field the query reads, sorted by name, with its type and whether
ECS defines it.
"""

from __future__ import annotations

from typing import Any

from lark import Token, Tree

from backends.elastic.index_mapping import field_spec
from compiler.parse_tree import subtree, token

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


def query_fields(query: str, language: str = "kuery") -> tuple[list[str], list[str]]:
    """The field names a KQL (or EQL) query reads (first use order) and the dataset values it pins."""
    if language == "eql":
        return eql_query_fields(query)
    from backends.elastic.kql_evaluator import KqlLiteral, parse

    names: list[str] = []
    datasets: list[str] = []

    def walk(node: Tree[Token] | Token, field: str | None) -> None:
        if not isinstance(node, Tree):
            return
        if node.data in ("field_query", "range_query"):
            field = KqlLiteral(token(subtree(node.children[0]).children[0])).text
            if field not in names:
                names.append(field)
        if node.data == "value" and field in DATASET_FIELDS:
            datasets.append(KqlLiteral(token(node.children[0])).text)
        for child in node.children:
            walk(child, field)

    walk(parse(query), None)
    return names, datasets


def eql_query_fields(query: str) -> tuple[list[str], list[str]]:
    """The field names an EQL query reads (first use order) and the dataset values its ``:``,
    ``==``, ``like`` or ``in`` tests on a dataset field name (detection-rules reads both from the
    query's AST: ``EQLValidator.unique_fields``, the dataset comparisons)."""
    from backends.elastic.eql_evaluator import field_name, is_field, parse, string_value

    names: list[str] = []
    datasets: list[str] = []

    def walk(node: Any) -> None:
        if not isinstance(node, Tree):
            return
        if is_field(node):
            name = field_name(node)
            if name not in names:
                names.append(name)
            return
        subject = node.children[0] if node.children else None
        if node.data in ("string_predicate", "comparison", "in_set") and isinstance(subject, Tree) and is_field(subject) and field_name(subject) in DATASET_FIELDS:
            datasets.extend(
                string_value(str(leaf))
                for leaf in node.scan_values(lambda v: getattr(v, "type", "") in ("DQ_STRING", "RAW_TQ_STRING"))
            )
        for child in node.children:
            walk(child)

    walk(parse(query))
    return names, datasets


def required_fields(names: list[str]) -> list[dict[str, Any]]:
    """Each field a query reads (``query_fields``): its name, its type in the data stream and whether ECS defines it."""
    return sorted(
        ({"name": n, "type": field_spec(n).type, "ecs": is_ecs(n)} for n in names), key=lambda f: f["name"]
    )


def related_integrations(datasets: list[str], integrations: list[str], package: str, integration: str,
                         version: str) -> list[dict[str, Any]]:
    """The cell's package/integration when the query pins its dataset (``datasets``, from
    ``query_fields``) and the rule's metadata names an integration (detection-rules adds none without one)."""
    if not integrations:
        return []
    wanted = f"{package}.{integration}"
    if wanted not in datasets:
        return []
    return [{"package": package, "integration": integration, "version": version}]
