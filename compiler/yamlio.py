"""Guarded YAML reading: one place that turns untrusted bytes into plain data."""

from __future__ import annotations

from typing import Any

import yaml

from compiler.errors import RuleLoadError

try:  # the C loader parses about ten times faster; same safe semantics
    _Loader: type = yaml.CSafeLoader
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper


def dump_yaml(data: Any, **options: Any) -> str:
    """YAML text of plain data with the safe dumper (libyaml's, like the loader)."""
    return yaml.dump(data, Dumper=_Dumper, **options)


def read_yaml_text(text: str) -> Any:
    """Plain data of YAML text detc wrote itself (no guards needed)."""
    return yaml.load(text, Loader=_Loader)

MAX_NODES = 200_000
"""Upper bound on the expanded size of a document: refuses alias bombs before anything walks them."""
MAX_DEPTH = 64
MAX_BYTES = 4 * 1024 * 1024
"""A rule or tests file larger than this is refused before parsing."""
MAX_STRING = 256 * 1024
"""No single value in a rule or fixture may be longer than this many characters."""


def _check_size(data: Any, path: str, what: str = "YAML document") -> None:
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise RuleLoadError(
                f"{what} expands to more than {MAX_NODES} nodes" + (" (alias bomb?)" if what.startswith("YAML") else ""),
                path=path,
            )
        if depth > MAX_DEPTH:
            raise RuleLoadError(f"{what} nested deeper than {MAX_DEPTH} levels", path=path)
        if isinstance(node, str) and len(node) > MAX_STRING:
            raise RuleLoadError(
                f"a value of {len(node)} characters exceeds the limit of {MAX_STRING}", path=path
            )
        if isinstance(node, dict):
            for key, value in node.items():
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)


def check_plain(data: Any, path: str) -> None:
    """Refuse plain data (from YAML or JSON) nested deeper than ``MAX_DEPTH``, larger than
    ``MAX_NODES`` or holding a string longer than ``MAX_STRING``, without recursing."""
    _check_size(data, path, "the JSON document")


def _max_depth_events(text: str) -> int:
    """Nesting depth from the parser's event stream, which (unlike composing) does not recurse."""
    depth = deepest = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return deepest


def _could_be_deep(text: str) -> bool:
    """Cheap bound: depth cannot exceed the bracket count plus the deepest indentation."""
    brackets = text.count("[") + text.count("{")
    indent = max((len(line) - len(line.lstrip(" ")) for line in text.splitlines()), default=0)
    return brackets + indent > MAX_DEPTH


def load_yaml(raw: bytes, path: str) -> Any:
    """Parse one YAML document from bytes, refusing non-UTF-8, multi-documents and bombs."""
    if len(raw) > MAX_BYTES:
        raise RuleLoadError(f"file of {len(raw)} bytes exceeds the limit of {MAX_BYTES}", path=path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RuleLoadError(f"not UTF-8 text (byte {err.start})", path=path) from err
    try:
        # libyaml's composer recurses per nesting level and crashes the process on very deep
        # documents, so depth is measured on the flat event stream first when it could be large.
        if _could_be_deep(text) and _max_depth_events(text) > MAX_DEPTH:
            raise RuleLoadError(f"YAML document nested deeper than {MAX_DEPTH} levels", path=path)
        docs = list(yaml.load_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as err:
        if "nesting depth" in str(err.problem):
            # PyYAML 6.0.4's scanner refuses deep nesting by itself (at a depth above ours)
            raise RuleLoadError(f"YAML document nested deeper than {MAX_DEPTH} levels", path=path) from err
        mark = err.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise RuleLoadError(f"invalid YAML: {where}{err.problem}", path=path) from err
    except (yaml.YAMLError, RecursionError) as err:
        raise RuleLoadError(f"invalid YAML: {err}", path=path) from err
    if len(docs) != 1:
        raise RuleLoadError(f"expected one YAML document, found {len(docs)}", path=path)
    if len(text) > MAX_STRING or "&" in text:
        # Only anchors (&) let a document expand beyond its own size, and only a text longer than
        # MAX_STRING can hold a value that long; any other document is within every limit here
        # (its depth was bounded above).
        _check_size(docs[0], path)
    return docs[0]
