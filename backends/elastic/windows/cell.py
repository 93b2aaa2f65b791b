"""Windows rules on Elastic before the shared logsource layer defines the Windows family.

The targets (``backends.elastic.targets``) reach a cell through ``compiler.logsources.cell_for``, which
needs the family; until ``compiler/logsources/windows.py`` lands, this drives the same parts the same
way (the cell's pipeline, the platform's backends and ``convert``, the cell's caveats and storage) so the
cell is tested whole. It goes when ``"windows"`` joins ``backends.elastic.cells.CELLS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sigma.conversion.base import TextQueryBackend
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule

from backends.elastic.targets import KqlTarget, LuceneTarget, convert
from backends.elastic.windows import pipeline, shaper, storage
from compiler.target import Compiled, Matcher

TARGETS = {"kql": KqlTarget(), "lucene": LuceneTarget()}


class WindowsCell:
    """The Windows cell driven as the Elastic targets drive a registered cell."""

    @staticmethod
    def _backend(target: str, extra: ProcessingPipeline | None) -> TextQueryBackend:
        platform = TARGETS[target]
        combined = pipeline.processing_pipeline({})
        lucene_folding = platform.extra_pipeline()
        if lucene_folding is not None:
            combined = combined + lucene_folding
        if extra is not None:
            combined = combined + extra
        return platform.backend(combined, **pipeline.BACKEND_OPTIONS)

    def compile(
        self, rule: Callable[[], SigmaRule], target: str, *, extra: ProcessingPipeline | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Compiled:
        """Compile for ``kql`` or ``lucene``; ``rule`` makes a fresh pySigma rule (pipelines rewrite
        rules in place)."""
        first = rule()
        platform = TARGETS[target]
        query = convert(self._backend(target, extra), rule(), target, platform.or_token)
        return Compiled(
            target=target,
            query=query,
            caveats=pipeline.caveats(first, target),
            details={**storage.storage(settings or {}, first.logsource), "language": platform.language},
        )

    def shape(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return shaper.shape(raw)

    def evaluator(self, query: str, target: str) -> Matcher:
        return TARGETS[target].evaluator(query)
