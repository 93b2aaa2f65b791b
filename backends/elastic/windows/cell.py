"""The Elastic cell for Windows: compile a Windows Sigma rule for ``kql`` or ``lucene``, shape a raw
event into the stored document, and evaluate a compiled query on it with the Windows field types.

Not yet registered with the targets: it is called the way the targets call the CloudTrail mapping,
and wired in once the shared logsource layer (``compiler/logsources/windows.py``) and its cell
registry land.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sigma.conversion.base import TextQueryBackend
from sigma.exceptions import SigmaError, SigmaFeatureNotSupportedByBackendError, SigmaPlaceholderError
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule
from sigma.types import SigmaCasedString, SigmaString

from backends.elastic.caveats import ASCII_CLASSES
from backends.elastic.kql_backend import KqlBackend
from backends.elastic.lucene_backend import DetcLuceneBackend, lucene_case_folding
from backends.elastic.lucene_regex import has_letters
from backends.elastic.pipeline import ElasticUnsupported
from backends.elastic.windows import index_mapping, storage
from backends.elastic.windows.pipeline import WILDCARD_FIELDS, Part, parts
from backends.elastic.windows.shaper import shape as shape_event
from compiler.errors import EvaluationError, UnsupportedFeature
from compiler.patterns import detection_items
from compiler.target import Compiled, Matcher

LANGUAGES = {"kql": "kuery", "lucene": "lucene"}

KQL_CASE = (
    "case: Kibana KQL matches keyword fields case-sensitively and has no case-insensitive syntax "
    "(Kibana issues 55378, 134143). Windows writes the same path or name in varying case "
    "(C:\\Windows\\System32\\CMD.EXE, cmd.exe): string values match only in the case the rule writes them, "
    "where Sigma matches any case."
)
IGNORE_ABOVE = (
    "ignore_above: the integrations index keyword values up to 1,024 characters; a longer value "
    "(a long command line, script path or registry data) is kept in _source but no query matches it."
)


def is_windows(rule: SigmaRule) -> bool:
    return rule.logsource.product == "windows"


def _has_folded_strings(rule: SigmaRule) -> bool:
    return any(
        isinstance(v, SigmaString)
        and not isinstance(v, SigmaCasedString)
        and has_letters("".join(p for p in v.s if isinstance(p, str)))
        for i in detection_items(rule)
        for v in i.value
    )


def caveats(rule: SigmaRule, target: str) -> tuple[str, ...]:
    """What the query for a Windows rule cannot hold exactly, on this target."""
    out: list[str] = []
    if target == "kql" and _has_folded_strings(rule):
        out.append(KQL_CASE)
    if target == "lucene" and any(
        any(k in getattr(v, "regexp", SigmaString("")).to_plain() for k in (r"\d", r"\w", r"\s", r"\D", r"\W", r"\S"))
        for i in detection_items(rule)
        for v in i.value
        if hasattr(v, "regexp")
    ):
        out.append(ASCII_CLASSES)
    out.append(IGNORE_ABOVE)
    return tuple(out)


class WindowsKqlBackend(KqlBackend):
    """KQL with the wildcard field names the Windows mapping uses (``winlog.event_data.param*``)."""

    def escape_and_quote_field(self, field_name: str) -> str:
        if field_name in WILDCARD_FIELDS:
            return field_name
        return super().escape_and_quote_field(field_name)


class WindowsCell:
    """Windows rules on Elastic: one instance serves both targets."""

    family = "windows"

    @staticmethod
    def pipeline(part: Part, target: str, extra: ProcessingPipeline | None = None) -> ProcessingPipeline:
        """Fields, then Lucene's case folding, then the logsource condition, then a client's renames."""
        pipeline = part.fields()
        if target == "lucene":
            pipeline = pipeline + lucene_case_folding()
        pipeline = pipeline + part.condition()
        return pipeline + extra if extra is not None else pipeline

    @staticmethod
    def _backend(target: str, pipeline: ProcessingPipeline) -> TextQueryBackend:
        if target == "kql":
            return WindowsKqlBackend(processing_pipeline=pipeline)
        return DetcLuceneBackend(processing_pipeline=pipeline)

    def compile(
        self, rule: Callable[[], SigmaRule], target: str, *, extra: ProcessingPipeline | None = None,
        index_overrides: Mapping[str, list[str]] | None = None,
    ) -> Compiled:
        """Compile for ``kql`` or ``lucene``; ``rule`` makes a fresh pySigma rule (pipelines rewrite
        rules in place), one per data stream the logsource's events go through."""
        texts: list[str] = []
        streams: list[str] = []
        try:
            first = rule()
            for part in parts(first):
                sigma = rule()
                queries = self._backend(target, self.pipeline(part, target, extra)).convert_rule(sigma)
                converted = [str(q) for q in queries]
                if not converted:
                    raise UnsupportedFeature("the rule has no condition to convert", target=target)
                texts.append(converted[0] if len(converted) == 1 else _join(target, converted))
                streams.append(part.stream.name)
        except (ElasticUnsupported, SigmaFeatureNotSupportedByBackendError, SigmaPlaceholderError) as err:
            raise UnsupportedFeature(_message(err), target=target) from err
        except NotImplementedError as err:
            raise UnsupportedFeature(str(err), target=target) from err
        except SigmaError as err:
            if isinstance(err.__cause__, ElasticUnsupported):
                raise UnsupportedFeature(_message(err.__cause__), target=target) from err
            raise
        index: list[str] = []
        for stream in streams:
            index.extend(p for p in storage.index_patterns(stream, index_overrides) if p not in index)
        return Compiled(
            target=target,
            query=texts[0] if len(texts) == 1 else _join(target, texts),
            caveats=caveats(first, target),
            details={"index": index, "language": LANGUAGES[target], "data_streams": streams},
        )

    def shape(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return shape_event(raw)

    def evaluator(self, query: str, target: str) -> Matcher:
        try:
            if target == "kql":
                from backends.elastic import kql_evaluator

                return kql_evaluator.evaluator(query, index_mapping.field_spec)
            from backends.elastic import lucene_evaluator

            return lucene_evaluator.evaluator(query, index_mapping.field_spec)
        except EvaluationError as err:
            raise err.located(target=target) from None


def _join(target: str, texts: list[str]) -> str:
    joiner = " or " if target == "kql" else " OR "
    return joiner.join(f"({t})" for t in texts)


def _message(err: Exception) -> str:
    text = ValueError.__str__(err) if isinstance(err, SigmaError) else str(err)
    return (text.splitlines() or [""])[0]
