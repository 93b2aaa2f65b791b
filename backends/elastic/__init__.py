"""Elastic: targets ``kql`` (detc's KQL backend) and ``lucene`` (upstream LuceneBackend) on the ECS
documents Elastic's integrations store, and the ``output/elastic/`` emitter. ``CELLS``: the
logsource families it stores (one folder each)."""

from backends.elastic.cells import CELLS
from backends.elastic.emit import ElasticEmitter
from backends.elastic.targets import KqlTarget, LuceneTarget

TARGETS = [KqlTarget(), LuceneTarget()]
EMITTERS = [ElasticEmitter()]
__all__ = ["CELLS", "EMITTERS", "TARGETS"]
