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
from backends.elastic.errors import ElasticUnsupported
from backends.elastic.windows import index_mapping, storage
from backends.elastic.windows.caveats import caveats
from backends.elastic.windows.pipeline import BACKEND_OPTIONS, processing_pipeline
from backends.elastic.windows.shaper import shape as shape_event
from compiler.errors import EvaluationError, UnsupportedFeature
from compiler.patterns import detection_items
from compiler.target import Compiled, Matcher

LANGUAGES = {"kql": "kuery", "lucene": "lucene"}

class WindowsCell:
    """Windows rules on Elastic, for both targets (the way ``targets.py`` drives a cell)."""

    family = "windows"

    @staticmethod
    def _backend(target: str, extra: ProcessingPipeline | None) -> TextQueryBackend:
        pipeline = processing_pipeline()
        if target == "lucene":
            pipeline = pipeline + lucene_case_folding()
        if extra is not None:
            pipeline = pipeline + extra
        if target == "kql":
            return KqlBackend(processing_pipeline=pipeline, **BACKEND_OPTIONS)
        return DetcLuceneBackend(processing_pipeline=pipeline, **BACKEND_OPTIONS)

    def compile(
        self, rule: Callable[[], SigmaRule], target: str, *, extra: ProcessingPipeline | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Compiled:
        """Compile for ``kql`` or ``lucene``; ``rule`` makes a fresh pySigma rule (pipelines rewrite
        rules in place)."""
        first = rule()
        try:
            queries = [str(q) for q in self._backend(target, extra).convert_rule(rule())]
        except (ElasticUnsupported, SigmaFeatureNotSupportedByBackendError, SigmaPlaceholderError) as err:
            raise UnsupportedFeature(_message(err), target=target) from err
        except NotImplementedError as err:
            raise UnsupportedFeature(str(err), target=target) from err
        except SigmaError as err:
            if isinstance(err.__cause__, ElasticUnsupported):
                raise UnsupportedFeature(_message(err.__cause__), target=target) from err
            raise
        if not queries:
            raise UnsupportedFeature("the rule has no condition to convert", target=target)
        return Compiled(
            target=target,
            query=queries[0] if len(queries) == 1 else _join(target, queries),
            caveats=caveats(first, target),
            details={**storage.storage(settings or {}, first.logsource), "language": LANGUAGES[target]},
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
