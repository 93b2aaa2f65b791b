"""Targets ``kql``, ``lucene`` and ``eql``: Sigma rules as queries on the documents Elastic's integrations store.

The language parts (backends, evaluators) are the platform's; what depends on the logsource (field
mapping, shaper, index) comes from the cell for the rule's logsource family (``backends.elastic.cells``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from sigma.conversion.base import TextQueryBackend
from sigma.exceptions import SigmaError, SigmaFeatureNotSupportedByBackendError, SigmaPlaceholderError
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule

from backends.elastic.cells import CELLS, field_spec
from backends.elastic.cloudtrail.storage import DEFAULT_INDEX
from backends.elastic.eql_backend import DetcEqlBackend, eql_field_check
from backends.elastic.errors import ElasticUnsupported
from backends.elastic.kql_backend import KqlBackend
from backends.elastic.lucene_backend import DetcLuceneBackend, lucene_case_folding
from compiler.errors import EvaluationError, UnsupportedFeature, reason_of
from compiler.logsources import cell_for, record_cell
from compiler.profile import Profile
from compiler.rules import DetcRule
from compiler.settings import ECS_FIELD, ELASTIC_INDEX, NAMESPACE
from compiler.target import BackendCache, Compiled, Matcher

DEFAULTS: Mapping[str, Any] = {"index": list(DEFAULT_INDEX), "windows_index": []}
"""Per-target settings a client profile may override: the index patterns CloudTrail rules search
(``index``) and those Windows rules search (``windows_index``; empty: each data stream's patterns as
Elastic's own Windows rules write them, see ``backends/elastic/windows/storage.py``)."""
KQL_DEFAULTS: Mapping[str, Any] = {**DEFAULTS, "rule_id_namespace": ""}
"""``rule_id_namespace``: the name the Elastic rule ids of a client build are derived from
(default: the client's name), so two clients' rules never collide in one Kibana; it governs every
variant (KQL, Lucene, EQL)."""


def rule_id_namespace(profile: Profile) -> str:
    """The client's ``targets.kql.rule_id_namespace`` over its default: derived here only, for the
    emitter that names every variant's rule."""
    return str(profile.settings("kql", KQL_DEFAULTS)["rule_id_namespace"])


class _ElasticTarget:
    """What the Elastic targets share: the cell lookup, backend reuse, error mapping."""

    name: ClassVar[str]
    description: ClassVar[str]
    language: ClassVar[str]
    """Kibana's name for the query language (detection rule ``language``)."""
    or_token: ClassVar[str]
    settings: ClassVar[Mapping[str, Any]] = DEFAULTS
    setting_kinds: ClassVar[Mapping[str, Any]] = {"index": ELASTIC_INDEX, "windows_index": ELASTIC_INDEX}
    field_kind = ECS_FIELD

    def backend(self, pipeline: ProcessingPipeline, **options: Any) -> TextQueryBackend:
        raise NotImplementedError

    def extra_pipeline(self, cell: Any) -> ProcessingPipeline | None:
        """Processing this language adds after the cell's pipeline."""
        return None

    def compile(self, rule: DetcRule, profile: Profile) -> Compiled:
        cell = cell_for(CELLS, rule.sigma.logsource, target=self.name)
        with unsupported_as(self.name):
            # the cell's pipeline is the same for every Elastic language and profile: applied once
            # per rule, its result copied for each language
            sigma = rule.prepared_sigma(f"elastic:{cell.__name__}", cell_pipeline(cell).apply)
        condition = convert(self._backend_for(profile, cell), sigma, self.name, self.or_token)
        caveats = cell.pipeline.caveats(rule.sigma, self.name, sigma)  # the rule as written, and as mapped
        query = self._query(condition, cell, rule)
        settings = profile.settings(self.name, self.settings)
        return Compiled(
            target=self.name,
            query=query,
            caveats=caveats,
            details={**cell.storage.storage(settings, rule.sigma.logsource), "language": self.language},
        )

    def _query(self, condition: str, cell: Any, rule: DetcRule) -> str:
        """The query text around the converted condition."""
        return condition

    def shape(self, record: Mapping[str, Any], profile: Profile, logsource: Any = None) -> Any:
        cell = record_cell(CELLS, record, logsource, target=self.name)
        return cell.shaper.shape(record, profile.settings(self.name, self.settings))

    def _backend_for(self, profile: Profile, cell: Any) -> TextQueryBackend:
        """One backend per profile and cell, reused for every rule: pySigma resets a pipeline's state
        for each rule it applies to (sigma-cli converts a whole collection with one backend too)."""
        def make() -> TextQueryBackend:
            # the cell's own pipeline was applied by ``compile`` (``cell_pipeline``)
            pipeline = self.extra_pipeline(cell) or ProcessingPipeline()
            options = getattr(cell.pipeline, "BACKEND_OPTIONS", {})
            return self.backend(pipeline + profile.mapping_pipeline(self.name), **options)

        return self._backends.get((profile.target_key(self.name), cell.__name__), make)

    @functools.cached_property
    def _backends(self) -> BackendCache[TextQueryBackend]:
        return BackendCache()

    evaluator_module: ClassVar[str]
    """The language's evaluator (``backends.elastic.<language>_evaluator``: ``parse`` and ``evaluator``),
    imported on first use: a build only checks syntax, and never loads what evaluation needs besides."""

    def _language(self) -> Any:
        return importlib.import_module(self.evaluator_module)

    def evaluator(self, query: str) -> Matcher:
        try:
            matcher: Matcher = self._language().evaluator(query, field_spec)
        except EvaluationError as err:
            raise err.located(target=self.name) from None
        return matcher

    def check_syntax(self, query: str) -> None:
        """The build's check that the language's grammar parses the query (for EQL, the grammar of
        Elastic's eql package; its evaluator adds the package's full Elasticsearch-syntax check)."""
        try:
            self._language().parse(query)
        except EvaluationError as err:
            raise err.located(target=self.name) from None


@functools.cache
def cell_pipeline(cell: Any) -> ProcessingPipeline:
    """A cell's pipeline (field mapping onto the documents its integration stores), which reads no
    setting of a target or profile: one for every Elastic language."""
    pipeline: ProcessingPipeline = cell.pipeline.processing_pipeline({})
    return pipeline


@contextlib.contextmanager
def unsupported_as(target: str) -> Iterator[None]:
    """What the documents cannot answer, raised while a rule is mapped or converted, as ``unsupported``."""
    try:
        yield
    except (ElasticUnsupported, SigmaFeatureNotSupportedByBackendError) as err:
        raise UnsupportedFeature(reason_of(err), target=target) from err
    except SigmaPlaceholderError as err:
        raise UnsupportedFeature(f"unresolved placeholder: {reason_of(err)}", target=target) from err
    except NotImplementedError as err:
        raise UnsupportedFeature(str(err), target=target) from err
    except SigmaError as err:
        if isinstance(err.__cause__, ElasticUnsupported):
            raise UnsupportedFeature(reason_of(err.__cause__), target=target) from err
        raise


def convert(backend: TextQueryBackend, sigma: SigmaRule, target: str, or_token: str) -> str:
    """A rule's query text from a backend, with what the documents cannot answer as ``unsupported``."""
    with unsupported_as(target):
        queries = backend.convert_rule(sigma)
    texts = [str(q) for q in queries]
    if not texts:
        raise UnsupportedFeature("the rule has no condition to convert", target=target)
    return texts[0] if len(texts) == 1 else f" {or_token} ".join(f"({t})" for t in texts)


class KqlTarget(_ElasticTarget):
    name = "kql"
    description = "Kibana KQL (kuery) on the ECS documents Elastic's integrations store"
    language = "kuery"
    or_token = "or"
    settings = KQL_DEFAULTS
    setting_kinds = {"index": ELASTIC_INDEX, "windows_index": ELASTIC_INDEX, "rule_id_namespace": NAMESPACE}
    evaluator_module = "backends.elastic.kql_evaluator"

    def backend(self, pipeline: ProcessingPipeline, **options: Any) -> TextQueryBackend:
        return KqlBackend(pipeline, **options)  # pipeline positional: upstream's __new__ types **kwargs as dicts


class LuceneTarget(_ElasticTarget):
    name = "lucene"
    description = "Elasticsearch Lucene query_string (upstream pySigma LuceneBackend) on the same documents"
    language = "lucene"
    or_token = "OR"
    evaluator_module = "backends.elastic.lucene_evaluator"

    def backend(self, pipeline: ProcessingPipeline, **options: Any) -> TextQueryBackend:
        return DetcLuceneBackend(pipeline, **options)  # pipeline positional: upstream's __new__ types **kwargs as dicts

    def extra_pipeline(self, cell: Any) -> ProcessingPipeline | None:
        return lucene_case_folding()


class EqlTarget(_ElasticTarget):
    name = "eql"
    description = "Elasticsearch EQL (upstream pySigma EqlBackend, fixed for Sigma semantics) on the same documents"
    language = "eql"
    or_token = "or"
    evaluator_module = "backends.elastic.eql_evaluator"

    def backend(self, pipeline: ProcessingPipeline, **options: Any) -> TextQueryBackend:
        return DetcEqlBackend(pipeline, **options)  # pipeline positional: upstream's __new__ types **kwargs as dicts

    def extra_pipeline(self, cell: Any) -> ProcessingPipeline | None:
        return eql_field_check(
            getattr(cell.pipeline, "FLATTENED_ROOTS", ()), tuple(sorted(getattr(cell.pipeline, "WILDCARD_FIELDS", ())))
        )

    def _query(self, condition: str, cell: Any, rule: DetcRule) -> str:
        """``<category> where <condition>``: the EQL event category the cell gives the rule's
        logsource (its ``storage.eql_event_category``), else ``any``, which matches every event."""
        category = getattr(cell.storage, "eql_event_category", None)
        return f"{category(rule.sigma.logsource) if category else 'any'} where {condition}"
