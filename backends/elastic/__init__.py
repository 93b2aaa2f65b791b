"""Elastic: targets ``kql`` (detc's KQL backend), ``lucene`` (upstream LuceneBackend) and ``eql``
(upstream EqlBackend) on the Elastic AWS CloudTrail integration's ECS documents, and the
``output/elastic/`` emitter."""

from backends.elastic.emit import ElasticEmitter
from backends.elastic.targets import EqlTarget, KqlTarget, LuceneTarget

TARGETS = [KqlTarget(), LuceneTarget(), EqlTarget()]
EMITTERS = [ElasticEmitter()]
