"""Elastic: targets ``kql`` (detc's KQL backend) and ``lucene`` (upstream LuceneBackend) on the
Elastic AWS CloudTrail integration's ECS documents, and the ``output/elastic/`` emitter."""

from backends.elastic.emit import ElasticEmitter
from backends.elastic.targets import KqlTarget, LuceneTarget

TARGETS = [KqlTarget(), LuceneTarget()]
EMITTERS = [ElasticEmitter()]
