"""Guarded YAML reading: one place that turns untrusted bytes into plain data."""

from __future__ import annotations

from typing import Any

import yaml

from compiler.errors import RuleLoadError

try:  # the C loader parses about ten times faster; same safe semantics
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_NODES = 200_000
"""Upper bound on the expanded size of a document: refuses alias bombs before anything walks them."""
MAX_DEPTH = 64


def _check_size(data: Any, path: str) -> None:
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise RuleLoadError(
                f"YAML document expands to more than {MAX_NODES} nodes (alias bomb?)", path=path
            )
        if depth > MAX_DEPTH:
            raise RuleLoadError(f"YAML document nested deeper than {MAX_DEPTH} levels", path=path)
        if isinstance(node, dict):
            for key, value in node.items():
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)


def load_yaml(raw: bytes, path: str) -> Any:
    """Parse one YAML document from bytes, refusing non-UTF-8, multi-documents and bombs."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RuleLoadError(f"not UTF-8 text (byte {err.start})", path=path) from err
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise RuleLoadError(f"invalid YAML: {where}{err.problem}", path=path) from err
    except (yaml.YAMLError, RecursionError) as err:
        raise RuleLoadError(f"invalid YAML: {err}", path=path) from err
    if len(docs) != 1:
        raise RuleLoadError(f"expected one YAML document, found {len(docs)}", path=path)
    _check_size(docs[0], path)
    return docs[0]
