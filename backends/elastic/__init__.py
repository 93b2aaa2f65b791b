"""Elastic: targets ``kql`` (detc's KQL backend), ``lucene`` (upstream LuceneBackend) and ``eql``
(upstream EqlBackend) on the ECS documents Elastic's integrations store, and the ``output/elastic/`` emitter. ``CELLS``: the
logsource families it stores (one folder each)."""

from backends.elastic.cells import CELLS
from backends.elastic.emit import ElasticEmitter
from backends.elastic.target import EqlTarget, KqlTarget, LuceneTarget

TARGETS = [KqlTarget(), LuceneTarget(), EqlTarget()]
EMITTERS = [ElasticEmitter()]
__all__ = ["CELLS", "EMITTERS", "TARGETS"]
