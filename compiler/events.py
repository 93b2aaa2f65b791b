"""Read raw events from files: JSON (one object, or several written back to back), NDJSON/JSONL, EVTX.

SigmaHQ keeps its regression samples as EVTX files, with the same events rendered as evtx_dump JSON
beside them; some of those JSON files hold several pretty-printed objects one after the other (not
an array, not one per line), so JSON is read object by object. EVTX is read with the ``evtx``
package (Python bindings of the Rust ``evtx`` parser, omerbenamram/pyevtx-rs), which renders each
record in the same JSON form.
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any, TypedDict, cast

from compiler.errors import RuleLoadError
from compiler.yamlio import MAX_BYTES, MAX_DEPTH, check_plain

MAX_EVENT_BYTES = MAX_BYTES
"""An event file larger than this (4 MiB, as a rule or tests file) is refused before it is read."""

KINDS = ("json", "ndjson", "jsonl", "evtx")
"""The sample types SigmaHQ's info.yml names, which are also the event file suffixes read here."""


def kind_of(path: Path) -> str:
    """The kind a file's suffix names; anything else is read as JSON."""
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in KINDS else "json"


def json_objects(text: str) -> list[Any]:
    """Every JSON value in a text, written back to back (whitespace between them allowed)."""
    decoder = json.JSONDecoder()
    out: list[Any] = []
    at = 0
    length = len(text)
    while True:
        while at < length and text[at].isspace():
            at += 1
        if at == length:
            return out
        value, at = decoder.raw_decode(text, at)
        out.append(value)


def read_events(path: Path, kind: str | None = None, *, shown: str | None = None) -> list[Any]:
    """The events in a file, in file order; a RuleLoadError naming the file when it cannot be read,
    is not a regular file (a FIFO or a device is never waited on), is larger than
    ``MAX_EVENT_BYTES`` or nests deeper than ``MAX_DEPTH``."""
    shown = shown or str(path)
    kind = kind or kind_of(path)
    if kind not in KINDS:
        raise RuleLoadError(f"{shown}: unknown event file type {kind!r} (known: {', '.join(KINDS)})")
    raw = _read_regular(path, shown)
    if kind == "evtx":
        events = _evtx(raw, shown)
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise RuleLoadError(f"{shown} is not UTF-8: {err}") from err
        try:
            if kind in ("ndjson", "jsonl"):
                events = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                events = json_objects(text)
        except RecursionError as err:
            raise RuleLoadError(f"{shown}: the JSON document nested deeper than {MAX_DEPTH} levels") from err
        except ValueError as err:  # json.JSONDecodeError, or an integer too long to convert
            raise RuleLoadError(f"{shown} is not {kind.upper()}: {err}") from err
    for event in events:
        try:
            check_plain(event, "")
        except RuleLoadError as err:
            raise RuleLoadError(f"{shown}: {err.message}") from err
    return events


def _read_regular(path: Path, shown: str) -> bytes:
    """A regular file's bytes, at most ``MAX_EVENT_BYTES``, opened without blocking."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise RuleLoadError(f"cannot read {shown}: {err.strerror}") from err
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RuleLoadError(f"{shown} is not a regular file")
        if info.st_size > MAX_EVENT_BYTES:
            raise RuleLoadError(f"{shown} has {info.st_size} bytes, more than the limit of {MAX_EVENT_BYTES}")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_EVENT_BYTES + 1)
    except OSError as err:
        raise RuleLoadError(f"cannot read {shown}: {err.strerror}") from err
    finally:
        os.close(fd)
    if len(raw) > MAX_EVENT_BYTES:  # it grew while it was read
        raise RuleLoadError(f"{shown} has more than {MAX_EVENT_BYTES} bytes")
    return raw


class EvtxRecord(TypedDict):
    """One record as ``PyEvtxParser.records_json()`` yields it (its stub says only ``Any | None``)."""

    event_record_id: int
    timestamp: str
    data: str
    """The record rendered as evtx_dump JSON text."""


def _evtx(raw: bytes, shown: str) -> list[Any]:
    """The records of an EVTX file, parsed from the bytes already read (bounded, from a regular file)."""
    try:
        from evtx import PyEvtxParser
    except ImportError as err:  # a declared dependency; say so rather than fail obscurely
        raise RuleLoadError("reading EVTX needs the 'evtx' package: pip install evtx") from err
    try:
        parser = PyEvtxParser(io.BytesIO(raw))
        return [json.loads(cast(EvtxRecord, record)["data"]) for record in parser.records_json()]
    except (OSError, RuntimeError, ValueError) as err:
        raise RuleLoadError(f"{shown} is not EVTX: {err}") from err
